#!/usr/bin/env python3
"""Many analysts at once (issue 24): 40 clients opening the built-in dashboards together.

    benches/load.py [--lake DIR | --contacts 20000 --days 60] [--clients 40] [--mode repeat|distinct|both]
                    [--rounds 3] [--max-concurrent-queries N] [--work /tmp/bench-load]
                    [--pgbench-seconds N]

Starts `chatlake serve` over the lake (generated with `chatlake generate` under --work when
--lake is not given), then `--clients` threads, each with its own psycopg 3 connection as user
`analyst<i>`, open the five dashboards of sql/dashboards/*.toml in turn, --rounds times: one
dashboard open = every distinct SQL of its panels, placeholders bound as the console binds them
(`$from_date`/`$to_date` as DATE literals, `$channel_id` NULL: all channels, `$tz` 'UTC',
`$campaign_id` the tenant's newest campaign), with `chatlake.tenant` set to the client's tenant
(clients take the lake's tenants in turn).

- mode `repeat`: every open uses the default filter, month-to-date of the lake's last day (the
  same calls over and over).
- mode `distinct`: every open has its own date range (start day and length never repeat), so no
  two calls of the run are the same.

Meanwhile user `ops` runs a light query (`SELECT count(*) FROM tenants`) once a second: its
latency is the fairness figure (it waits behind the analysts' queue only one slot turn).

Prints, per mode, calls, errors, p50 / p99 latency of a call, calls/s over the run, and the
light query's p50 / max, as markdown rows; and the load average before and after. In repeat
mode a second row takes only the calls whose answer another call had already received when
they started (issue 24's "repeated calls": the first call of each computes it, and the calls
arriving while it runs wait for it). After the distinct mode, one client alone opens every
dashboard once over ranges no other call used, and the line under the table sets the mean of
those calls against issue 24's bound for distinct calls: p99 <= clients / slots x that time.
With `--pgbench-seconds N`, the repeat calls are also timed by PostgreSQL's pgbench (two C
threads driving the same number of connections, every answer computed first): a load
generator that costs the shared 2 cores far less than 40 Python threads do.

The chatlake binary: $CHATLAKE_BIN or target/release/chatlake.
"""

from __future__ import annotations

import argparse
import re
import datetime as dt
import os
import socket
import statistics
import subprocess
import threading
import time
import tomllib
from pathlib import Path

import psycopg

BIN = os.environ.get("CHATLAKE_BIN", "target/release/chatlake")
ROOT = Path(__file__).resolve().parent.parent
LIGHT = "SELECT count(*) FROM tenants"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(lake: Path, flags: list[str]) -> tuple[subprocess.Popen, int, str]:
    """`chatlake serve` over `lake`: the process, its port and its first stderr line."""
    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "--lake", str(lake), "--listen", f"127.0.0.1:{port}", *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    limits = proc.stderr.readline().strip() if proc.stderr else ""
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port, limits
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("chatlake serve did not start")


def dashboards() -> list[tuple[str, list[str]]]:
    """(name, the distinct SQL of its panels, placeholders left in) of each built-in dashboard."""
    out = []
    for path in sorted((ROOT / "sql" / "dashboards").glob("*.toml")):
        board = tomllib.loads(path.read_text())
        seen: list[str] = []
        for panel in board.get("panel", []):
            sql = panel.get("sql") or f"SELECT * FROM {panel['report']}($from_date, $to_date, $channel_id, $tz)"
            if sql not in seen:
                seen.append(sql)
        out.append((path.stem, seen))
    return out


def quote(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def bind(sql: str, start: dt.date, end: dt.date, campaign: str | None) -> str:
    values = {
        "$from_date": f"DATE '{start}'",
        "$to_date": f"DATE '{end}'",
        "$channel_id": "NULL",
        "$tz": "'UTC'",
        "$campaign_id": quote(campaign),
    }
    for name in sorted(values, key=len, reverse=True):
        sql = sql.replace(name, values[name])
    return sql


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run_mode(port: int, mode: str, clients: int, rounds: int, boards, tenants, campaigns,
             last_day: dt.date) -> dict:
    latencies: list[float] = []
    # Latencies of the calls whose answer some client had already received when they started
    # (the repeats of issue 24's "repeated calls" goal), and the keys answered so far.
    repeats: list[float] = []
    answered: set[tuple[str, str]] = set()
    errors: list[str] = []
    light: list[float] = []
    lock = threading.Lock()
    done = threading.Event()
    opens_per_client = rounds * len(boards)

    def analyst(i: int) -> None:
        tenant = tenants[i % len(tenants)]
        with psycopg.connect(host="127.0.0.1", port=port, user=f"analyst{i}", dbname="chatlake",
                             autocommit=True) as conn:
            conn.execute(f"SET chatlake.tenant = {quote(tenant)}")
            for n in range(opens_per_client):
                _, statements = boards[n % len(boards)]
                if mode == "repeat":
                    start, end = last_day.replace(day=1), last_day
                else:
                    # Call index -> (start offset, length): never the same pair twice.
                    k = i * opens_per_client + n
                    start = last_day - dt.timedelta(days=50 - k % 50)
                    end = start + dt.timedelta(days=3 + k // 50)
                for sql in statements:
                    bound = bind(sql, start, end, campaigns.get(tenant))
                    with lock:
                        repeated = (tenant, bound) in answered
                    t0 = time.perf_counter()
                    try:
                        conn.execute(bound).fetchall()
                        with lock:
                            latencies.append(time.perf_counter() - t0)
                            if repeated:
                                repeats.append(latencies[-1])
                            answered.add((tenant, bound))
                    except psycopg.Error as e:
                        with lock:
                            errors.append(f"{e.sqlstate}: {str(e).splitlines()[0]} [{bound[:80]}]")

    def ops() -> None:
        with psycopg.connect(host="127.0.0.1", port=port, user="ops", dbname="chatlake",
                             autocommit=True) as conn:
            while not done.wait(1.0):
                t0 = time.perf_counter()
                conn.execute(LIGHT).fetchall()
                light.append(time.perf_counter() - t0)

    watcher = threading.Thread(target=ops)
    threads = [threading.Thread(target=analyst, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    done.set()
    watcher.join()
    return {
        "mode": mode, "calls": len(latencies), "errors": errors, "elapsed": elapsed,
        "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
        "rate": len(latencies) / elapsed, "light_p50": percentile(light, 50),
        "light_max": max(light) if light else float("nan"), "light_n": len(light),
        "repeats": len(repeats), "repeat_p50": percentile(repeats, 50),
        "repeat_p99": percentile(repeats, 99),
    }


def single_call_seconds(port: int, boards, tenant: str, campaign: str | None, last_day: dt.date) -> float:
    """The mean time of a call alone: one client opens every dashboard once, each over 30 days
    starting about 100 days before the lake's last day, a range no other call of the run uses
    (distinct ranges start in the last 50 days), so nothing is answered from the cache."""
    times = []
    with psycopg.connect(host="127.0.0.1", port=port, user="single", dbname="chatlake",
                         autocommit=True) as conn:
        conn.execute(f"SET chatlake.tenant = {quote(tenant)}")
        for k, (_, statements) in enumerate(boards):
            start = last_day - dt.timedelta(days=100 - k)
            for sql in statements:
                t0 = time.perf_counter()
                conn.execute(bind(sql, start, start + dt.timedelta(days=29), campaign)).fetchall()
                times.append(time.perf_counter() - t0)
    return sum(times) / len(times)


PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"


def pgbench_repeat(port: int, boards, tenants, campaigns, last_day: dt.date, clients: int,
                   seconds: int, work: Path) -> dict:
    """The repeat mode's calls timed by pgbench (C, two threads) instead of Python threads: each
    of `clients` connections runs, back to back, one of the repeat mode's (tenant, call) pairs
    at random (`SET chatlake.tenant` and the call: one pgbench transaction). Every call is run
    once first, so every answer is already computed: this times repeated calls only."""
    calls = [(t, " ".join(bind(sql, last_day.replace(day=1), last_day, campaigns.get(t)).split()))
             for t in tenants for _, statements in boards for sql in statements]
    with psycopg.connect(host="127.0.0.1", port=port, user="warm", dbname="chatlake",
                         autocommit=True) as conn:
        for tenant, sql in calls:
            conn.execute(f"SET chatlake.tenant = {quote(tenant)}")
            conn.execute(sql).fetchall()
    script = [f"\\set k random(0, {len(calls) - 1})"]
    for i, (tenant, sql) in enumerate(calls):
        branch = "\\if" if i == 0 else "\\elif"
        script += [f"{branch} :k = {i}",
                   f"SET chatlake.tenant = {quote(tenant)};", f"{sql};"]
    script.append("\\endif")
    work.mkdir(parents=True, exist_ok=True)
    (work / "repeat.pgbench").write_text("\n".join(script) + "\n")
    for old in work.glob("pgbench_log*"):
        old.unlink()
    subprocess.run([PGBENCH, "-h", "127.0.0.1", "-p", str(port), "-U", "pgbench", "-n",
                    "-c", str(clients), "-j", "2", "-T", str(seconds), "-l",
                    f"--log-prefix={work / 'pgbench_log'}", "-f", str(work / "repeat.pgbench"),
                    "chatlake"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Log lines: client_id transaction_no time_us script_no time_epoch time_us_part.
    latencies = [int(line.split()[2]) / 1000 for log in work.glob("pgbench_log*")
                 for line in log.read_text().splitlines()]
    return {"calls": len(latencies), "rate": len(latencies) / seconds,
            "p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", type=Path)
    parser.add_argument("--contacts", type=int, default=20000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mode", choices=["repeat", "distinct", "both"], default="both")
    parser.add_argument("--max-concurrent-queries", type=int)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-load"))
    parser.add_argument("--pgbench-seconds", type=int, default=0,
                        help="also time the repeat calls with pgbench for this many seconds")
    args = parser.parse_args()

    lake = args.lake
    if lake is None:
        lake = args.work / f"lake-c{args.contacts}-d{args.days}"
        if not (lake / "tenants").exists():
            args.work.mkdir(parents=True, exist_ok=True)
            subprocess.run([BIN, "generate", "--lake", str(lake), "--contacts", str(args.contacts),
                            "--days", str(args.days)], check=True)
    flags = []
    if args.max_concurrent_queries:
        flags += ["--max-concurrent-queries", str(args.max_concurrent_queries)]
    proc, port, limits = serve(lake, flags)
    try:
        with psycopg.connect(host="127.0.0.1", port=port, user="setup", dbname="chatlake",
                             autocommit=True) as conn:
            tenants = [r[0] for r in conn.execute("SELECT tenant_id FROM tenants ORDER BY tenant_id")]
            campaigns = dict(conn.execute(
                "SELECT tenant_id, first_value(campaign_id ORDER BY created_at DESC) "
                "FROM campaigns GROUP BY tenant_id"
            ).fetchall())
            last_day = conn.execute("SELECT max(CAST(ts AS DATE)) FROM messages").fetchone()[0]
        boards = dashboards()
        print(f"server: {limits}")
        print(f"lake: {lake}; {len(tenants)} tenants; last day {last_day}; "
              f"{args.clients} clients x {args.rounds} rounds x {len(boards)} dashboards "
              f"({sum(len(s) for _, s in boards)} calls per round)")
        print(f"load average before: {os.getloadavg()}")
        modes = ["repeat", "distinct"] if args.mode == "both" else [args.mode]
        print("| mode | calls | errors | p50 | p99 | calls/s | light query p50 / max (n) |")
        print("|---|---:|---:|---:|---:|---:|---|")
        notes = []
        for mode in modes:
            r = run_mode(port, mode, args.clients, args.rounds, boards, tenants, campaigns, last_day)
            print(f"| {mode} | {r['calls']} | {len(r['errors'])} | {r['p50'] * 1000:.0f} ms | "
                  f"{r['p99'] * 1000:.0f} ms | {r['rate']:.1f} | "
                  f"{r['light_p50'] * 1000:.0f} / {r['light_max'] * 1000:.0f} ms ({r['light_n']}) |",
                  flush=True)
            if mode == "repeat" and r["repeats"]:
                print(f"| repeat, answer already given to another call | {r['repeats']} | | "
                      f"{r['repeat_p50'] * 1000:.0f} ms | {r['repeat_p99'] * 1000:.0f} ms | | |", flush=True)
            if mode == "distinct":
                single = single_call_seconds(port, boards, tenants[0], campaigns.get(tenants[0]), last_day)
                found = re.search(r"(\d+) queries at once", limits)
                slots = int(found.group(1)) if found else 1
                notes.append(f"distinct goal: p99 <= clients / slots x single call = {args.clients} / {slots} x "
                             f"{single * 1000:.0f} ms = {args.clients / slots * single * 1000:.0f} ms; "
                             f"measured p99 {r['p99'] * 1000:.0f} ms")
            for e in sorted(set(r["errors"]))[:5]:
                print(f"    error: {e}")
        for n in notes:
            print(n)
        if args.pgbench_seconds:
            r = pgbench_repeat(port, boards, tenants, campaigns, last_day, args.clients,
                               args.pgbench_seconds, args.work)
            print(f"pgbench, repeat calls (every answer already computed), {args.clients} clients, "
                  f"{args.pgbench_seconds} s: {r['calls']} calls, {r['rate']:.0f} calls/s, "
                  f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms")
        print(f"load average after: {os.getloadavg()}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
