#!/usr/bin/env python3
"""File import throughput: `chatlake ingest` against DuckDB writing Parquet from the same file.

    benches/ingest_import.py [--rows 10000000] [--work /tmp/bench-ingest] [--formats ndjson,csv]
        [--replicate-from DIR --source-rows N] [--zstd]

1. Makes the input once: `chatlake generate --messages N` into a scratch lake, then DuckDB
   reads the lake's `messages` Delta snapshot (deltalake's file list) and writes it as
   `messages.ndjson` and `messages.csv` (timestamps as RFC 3339 with `Z`), every column but
   `ingested_at` (ingest sets it).
2. For each format, in the same run: `chatlake ingest --table messages` into an empty lake
   (validation, derived columns, de-duplication against the lake, sorted zstd Parquet, one
   Delta commit, then the derived tables' refresh), and DuckDB's
   `COPY (SELECT * FROM read_json(...)) TO '...parquet' (FORMAT parquet)` (or read_csv).
   Wall time and peak RSS of each process (its own rusage, from wait4).
3. Prints one markdown row per format: rows/s of both, the ratio, peak RSS of both. chatlake's
   time is also given without the derivation step (its summary line says how long that took:
   "derived rows refreshed for N contacts in S s").

The chatlake binary: $CHATLAKE_BIN or target/release/chatlake.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_measured(cmd: list[str]) -> tuple[float, int, str]:
    """Runs cmd; returns (seconds, its own peak RSS in MiB, stderr)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr = proc.stderr.read() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{stderr}")
    return elapsed, usage.ru_maxrss // 1024, stderr


def replicate_inputs(source: Path, copies: int, work: Path, compress: bool) -> Path:
    """`copies` copies of the `messages` rows in `source` (a directory made by make_inputs), each
    copy's `message_id` suffixed `-<copy>` (a new natural key) and otherwise the same text, as
    NDJSON and CSV: a large input without generating a large lake (the disk may not hold one).
    zstd-compressed (the `zstd` command, level 3) when `compress`."""
    inputs = work / "inputs"
    suffix = ".zst" if compress else ""
    done = inputs / f".complete-x{copies}{suffix}"
    if done.exists():
        return inputs
    shutil.rmtree(work, ignore_errors=True)
    inputs.mkdir(parents=True)

    def ndjson(line: str, k: int) -> str:
        head, sep, rest = line.partition('"message_id":"')
        ident, quote, tail = rest.partition('"')
        return f"{head}{sep}{ident}-{k}{quote}{tail}"

    def csv(line: str, k: int) -> str:
        tenant, channel, ident, rest = line.split(",", 3)
        return f"{tenant},{channel},{ident}-{k},{rest}"

    for name, edit, header in (("messages.ndjson", ndjson, False), ("messages.csv", csv, True)):
        target = inputs / (name + suffix)
        with open(target, "wb") as out:
            sink = subprocess.Popen(["zstd", "-q", "-3", "-c"], stdin=subprocess.PIPE, stdout=out) if compress else None
            write = sink.stdin.write if sink else out.write
            with open(source / name, encoding="utf-8") as f:
                lines = f.readlines()
            if header:
                write(lines[0].encode())
                lines = lines[1:]
            for k in range(copies):
                write("".join(edit(line, k) for line in lines).encode())
            if sink:
                sink.stdin.close()
                sink.wait()
    done.touch()
    return inputs


def make_inputs(binary: str, rows: int, work: Path) -> Path:
    import duckdb
    from deltalake import DeltaTable

    inputs = work / "inputs"
    done = inputs / f".complete-{rows}"
    if done.exists():
        return inputs
    shutil.rmtree(work, ignore_errors=True)
    inputs.mkdir(parents=True)
    lake = work / "source-lake"
    print(f"generating {rows} messages ...", file=sys.stderr)
    subprocess.run(
        [binary, "generate", "--lake", str(lake), "--messages", str(rows),
         "--contacts", str(max(rows // 20, 1000)), "--days", "120", "--seed", "42"],
        check=True,
    )
    files = DeltaTable(str(lake / "messages")).file_uris()
    con = duckdb.connect()
    listing = ", ".join(f"'{f}'" for f in files)
    con.execute(f"CREATE VIEW m AS SELECT * EXCLUDE (ingested_at) FROM read_parquet([{listing}], hive_partitioning = false)")
    columns = [r[0] for r in con.execute("DESCRIBE m").fetchall()]
    select = ", ".join(
        f"strftime({c}, '%Y-%m-%dT%H:%M:%S.%fZ') AS {c}" if c == "ts" else c for c in columns
    )
    con.execute(f"COPY (SELECT {select} FROM m) TO '{inputs / 'messages.ndjson'}' (FORMAT json)")
    con.execute(f"COPY (SELECT {select} FROM m) TO '{inputs / 'messages.csv'}' (FORMAT csv, HEADER)")
    done.touch()
    shutil.rmtree(lake, ignore_errors=True)
    return inputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-ingest"))
    parser.add_argument("--formats", default="ndjson,csv")
    parser.add_argument(
        "--replicate-from", type=Path,
        help="make the input from an earlier run's inputs/ (e.g. /tmp/bench-ingest/inputs of a 1M run): "
             "--rows / its rows copies, each with its own message ids, instead of generating a lake",
    )
    parser.add_argument("--source-rows", type=int, default=1_000_000, help="rows of --replicate-from")
    parser.add_argument("--zstd", action="store_true", help="zstd-compress the inputs (both tools read them compressed)")
    args = parser.parse_args()
    binary = os.environ.get("CHATLAKE_BIN", str(ROOT / "target/release/chatlake"))
    if args.replicate_from:
        inputs = replicate_inputs(args.replicate_from, args.rows // args.source_rows, args.work, args.zstd)
    else:
        inputs = make_inputs(binary, args.rows, args.work)
    suffix = ".zst" if args.zstd else ""

    import duckdb  # noqa: F401  (checked early: the comparison needs it)

    print("| format | rows | chatlake s | chatlake rows/s | of which derived refresh s | chatlake s without it | rows/s without it | DuckDB s | DuckDB rows/s | DuckDB / chatlake time (without refresh) | chatlake peak RSS MiB | DuckDB peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for fmt in args.formats.split(","):
        source = inputs / f"messages.{fmt}{suffix}"
        lake = args.work / f"lake-{fmt}"
        shutil.rmtree(lake, ignore_errors=True)
        out = args.work / f"duckdb-{fmt}.parquet"
        out.unlink(missing_ok=True)
        reader = "read_json" if fmt == "ndjson" else "read_csv"
        # Each tool's output is removed once measured: the disk may not hold both at 10M rows.
        duck_s, duck_rss, _ = run_measured([
            sys.executable, "-c",
            "import duckdb,sys; duckdb.connect().execute(sys.argv[1])",
            f"COPY (SELECT * FROM {reader}('{source}')) TO '{out}' (FORMAT parquet)",
        ])
        out.unlink(missing_ok=True)
        ours_s, ours_rss, stderr = run_measured(
            [binary, "ingest", "--lake", str(lake), "--table", "messages", str(source)]
        )
        shutil.rmtree(lake, ignore_errors=True)
        summary = [line for line in stderr.splitlines() if line.startswith("ingested")]
        print(f"chatlake: {summary[-1] if summary else stderr.strip()}", file=sys.stderr)
        read = re.search(r"(\d+) rows read", summary[-1] if summary else "")
        rows = int(read.group(1)) if read else args.rows
        refresh = re.search(r"refreshed for \d+ contacts in ([0-9.]+)s", summary[-1] if summary else "")
        refresh_s = float(refresh.group(1)) if refresh else 0.0
        load_s = ours_s - refresh_s
        print(
            f"| {fmt}{suffix} | {rows:,} | {ours_s:.1f} | {rows / ours_s:,.0f} | {refresh_s:.1f} | "
            f"{load_s:.1f} | {rows / load_s:,.0f} | {duck_s:.1f} | "
            f"{rows / duck_s:,.0f} | {duck_s / ours_s:.2f} ({duck_s / load_s:.2f}) | {ours_rss} | {duck_rss} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
