"""Command line: generate lakes, run the query set in every engine, check answers, report."""

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

from . import engines as eng
from . import lake as lakes
from . import normalise, report
from .queries import BY_NAME, QUERIES

REPO = Path(__file__).resolve().parents[2]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="benches/run_peers.py",
        description="chatlake vs DuckDB and ClickHouse (chDB) on the same Delta lake, and wire "
                    "throughput vs PostgreSQL. See benches/README.md.")
    p.add_argument("--scales", default="10M",
                   help="comma-separated message counts, e.g. 1M,3M,10M,30M (default 10M)")
    p.add_argument("--queries", default="all",
                   help=f"comma-separated subset of: {', '.join(BY_NAME)} (default all)")
    p.add_argument("--engines", default=",".join(eng.ENGINES),
                   help=f"comma-separated subset of {', '.join(eng.ENGINES)} (default all)")
    p.add_argument("--runs", type=int, default=5, help="timed runs per query and engine (median; default 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    p.add_argument("--timeout", type=float, default=1800,
                   help="seconds for one engine's warm-up + runs of one query (default 1800)")
    p.add_argument("--lakes", default="/tmp/bench-lakes",
                   help="where lakes are generated, one per scale, reused when present (default /tmp/bench-lakes)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--wire", choices=("auto", "yes", "no"), default="auto",
                   help="wire throughput vs PostgreSQL (auto: on the largest scale when all engines run)")
    p.add_argument("--wire-rows", type=int, default=1_000_000, help="rows of the wire result (default 1M)")
    p.add_argument("--wire-only", action="store_true", help="only the wire throughput part")
    p.add_argument("--memory-limit-mb", type=int,
                   help="pass --memory-limit-mb to chatlake serve (the pgwire engine)")
    p.add_argument("--target-partitions", type=int, help="chatlake's --target-partitions")
    p.add_argument("--json", help="also write every measurement to this JSON file")
    p.add_argument("--markdown", help="also write the tables to this file")
    p.add_argument("--variants", action="store_true",
                   help="also run the peers' alternative formulations (e.g. duckdb:asof), answer-checked")
    p.add_argument("--keep-going", action="store_true",
                   help="finish every query after an answer mismatch (the run still fails)")
    p.add_argument("--check-only", action="store_true",
                   help="answers only (CI): one untimed-warm-up-free run per engine, no wire part, "
                        "every query even after a mismatch; fails when answers differ or an engine "
                        "gives none. Timings are printed but mean nothing")
    p.add_argument("--binary", default=os.environ.get("CHATLAKE_BIN"),
                   help="the chatlake binary (default $CHATLAKE_BIN, else target/release/chatlake)")
    args = p.parse_args(argv)
    args.binary = args.binary or str(REPO / "target" / "release" / "chatlake")
    if args.check_only:
        args.runs, args.warmup, args.wire, args.keep_going = 1, 0, "no", True
        if args.wire_only:
            p.error("--check-only and --wire-only exclude each other")
    args.scales = [lakes.parse_scale(s) for s in args.scales.split(",") if s.strip()]
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in args.engines:
        if e not in eng.ENGINES:
            p.error(f"unknown engine {e!r}")
    if args.queries == "all":
        args.queries = [q.name for q in QUERIES]
    else:
        args.queries = [q.strip() for q in args.queries.split(",") if q.strip()]
        for q in args.queries:
            if q not in BY_NAME:
                p.error(f"unknown query {q!r}; known: {', '.join(BY_NAME)}")
    return args


def machine():
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    from importlib.metadata import version  # not importing the engines keeps this process small
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem, 1),
            "os": platform.platform(), "python": platform.python_version(),
            "duckdb": version("duckdb"), "chdb": version("chdb"),
            "load_average": os.getloadavg()}


def chatlake_version(binary):
    try:
        return subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    except OSError as e:
        raise SystemExit(f"cannot run the chatlake binary {binary}: {e} (set CHATLAKE_BIN or --binary)")


def run_query(args, lake, query):
    """Every engine on one query; returns ({engine: Result}, check text, ok).

    ok is False when answers differ, and, with --check-only, also when an engine gave no
    answer (an error or timeout would otherwise leave nothing checked)."""
    results = {}
    extra_sql, extra_serve = [], []
    if args.target_partitions:
        extra_sql += ["--target-partitions", str(args.target_partitions)]
        extra_serve += ["--target-partitions", str(args.target_partitions)]
    if args.memory_limit_mb:
        extra_serve += ["--memory-limit-mb", str(args.memory_limit_mb)]
    labels = list(args.engines)
    if args.variants:
        labels += [v for v in query.variants if v.split(":")[0] in args.engines]
    for engine in labels:
        started = time.perf_counter()
        if ":" in engine:
            r = eng.run_peer(engine.split(":")[0], lake, query.variants[engine], args.runs, args.warmup,
                             args.timeout, lakes.TABLES)
            r.engine = engine
        elif engine == "chatlake":
            r = eng.run_chatlake(args.binary, lake, query.chatlake, args.runs, args.warmup, args.timeout, extra_sql)
        elif engine == "pgwire":
            r = eng.run_pgwire(args.binary, lake, query.chatlake, args.runs, args.warmup, args.timeout, extra_serve)
        else:
            r = eng.run_peer(engine, lake, getattr(query, engine), args.runs, args.warmup, args.timeout,
                             lakes.TABLES)
        results[engine] = r
        detail = (f"median {r.median:.3f} s, peak {r.peak_rss / 2**20:,.0f} MiB, {len(r.rows)} rows"
                  if r.status == "ok" else f"{r.status}: {r.error.splitlines()[-1] if r.error else ''}")
        log(f"  {query.name:<28} {engine:<9} {detail}  ({time.perf_counter() - started:.0f} s)")
    # Answers: every engine against the first that answered.
    answered = [e for e in labels if results[e].status == "ok"]
    failed = [e for e in labels if results[e].status != "ok"]
    if args.check_only and failed:
        for e in failed:
            log(f"NO ANSWER from {e} in {query.name}: {results[e].status}\n{results[e].error}")
        return results, "NO ANSWER: " + ", ".join(failed), False
    if len(answered) < 2:
        return results, ("only " + ", ".join(answered) if answered else "no answers"), True
    ref = answered[0]
    ref_rows = normalise.rows(results[ref].rows, query.float_digits)
    mismatches = []
    for e in answered[1:]:
        rows = normalise.rows(results[e].rows, query.float_digits)
        if rows != ref_rows:
            mismatches.append(e)
            log(f"ANSWER MISMATCH in {query.name}: {ref} vs {e}\n"
                + normalise.diff(ref, ref_rows, e, rows))
    if mismatches:
        return results, "MISMATCH: " + ", ".join(mismatches), False
    text = f"same ({len(ref_rows)} rows)"
    if failed:
        text += "; " + ", ".join(f"{e} {results[e].status}" for e in failed)
    return results, text, True


def main(argv=None):
    args = parse_args(argv)
    version = chatlake_version(args.binary)
    info = {"machine": machine(), "chatlake": version, "binary": args.binary,
            "command": " ".join(shlex.quote(a) for a in sys.argv),
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "runs": args.runs, "warmup": args.warmup}
    log(f"{version} ({args.binary}); {info['machine']['cpus']} CPUs, load {info['machine']['load_average']}")
    records, sections, all_ok = [], [], True
    scale_labels = [lakes.scale_label(s) for s in args.scales]
    built = {}
    for messages in args.scales:
        label = lakes.scale_label(messages)
        lake = lakes.generate(args.binary, Path(args.lakes) / f"m{label}", messages, args.seed, log)
        files = lakes.check_snapshot(lake)
        log(f"lake {lake.root}: globs match the Delta snapshots ({sum(files.values())} files)")
        built[messages] = lake
        if args.wire_only:
            continue
        rows = []
        for name in args.queries:
            results, check, ok = run_query(args, lake, BY_NAME[name])
            all_ok &= ok
            rows.append((name, {e: r.summary() for e, r in results.items()}, check))
            for e, r in results.items():
                records.append({"scale": label, "query": name, **r.summary(), "answers": check})
            if not ok and not args.keep_going:
                break
        columns = list(args.engines) + sorted({e for _, res, _ in rows for e in res} - set(args.engines))
        sections.append(report.query_table(label, rows, columns))
        if not all_ok and not args.keep_going:
            break
    if len(args.scales) > 1 and records:
        sections.append(report.scaling_table(records, scale_labels, list(dict.fromkeys(r["engine"] for r in records))))
    wire = None
    want_wire = args.wire == "yes" or args.wire_only or (
        args.wire == "auto" and set(args.engines) == set(eng.ENGINES) and args.queries == [q.name for q in QUERIES])
    if want_wire and all_ok:
        from . import wire as wiremod
        lake = built[max(built)]
        wire = wiremod.run(args.binary, lake, args.wire_rows, args.runs, args.warmup, log)
        sections.append(report.wire_table(wire))
        all_ok &= wire["answers_ok"]
    header = [f"Command: `{info['command']}`", f"chatlake: {version} (`{args.binary}`)",
              f"Machine: {info['machine']['cpus']} CPUs ({info['machine']['cpu']}), "
              f"{info['machine']['memory_gib']} GiB, {info['machine']['os']}; "
              f"DuckDB {info['machine']['duckdb']}, chDB {info['machine']['chdb']}; "
              f"load average at start {tuple(round(x, 2) for x in info['machine']['load_average'])}",
              f"Median of {args.runs} runs after {args.warmup} warm-up run(s); times in seconds; "
              "peak RSS in MiB (chatlake: the `chatlake sql` process; pgwire: the server; peers: "
              "the Python worker process, interpreter included)."]
    text = "\n".join(header) + "\n\n" + "\n\n".join(sections)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps({**info, "records": records, "wire": wire}, indent=1, default=str))
    if not all_ok:
        log("FAILED: answers differ between engines, or an engine gave none (see above)")
        return 1
    if args.check_only:
        log(f"answers agree: {len(args.queries)} queries x {', '.join(args.engines)}")
    return 0
