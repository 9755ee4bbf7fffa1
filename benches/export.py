#!/usr/bin/env python3
"""Export throughput: `chatlake export` against DuckDB's COPY of the same lake's tables.

    benches/export.py [--messages 10000000] [--work /tmp/bench-export] [--formats parquet,ndjson]
                      [--repeat 1]

1. Generates a lake once (`chatlake generate --messages N`, kept under --work between runs).
2. For each format, in the same run, each tool in its own process:
   - chatlake: `chatlake export --full` of the default tables (every SPEC table) into an empty
     directory, daily layout (one file per table and day), Parquet zstd or NDJSON uncompressed;
   - DuckDB: for every one of those tables, `COPY (SELECT * FROM read_parquet(<the Delta
     snapshot's files>, hive_partitioning = true)) TO '<table>.<ext>'` (FORMAT parquet,
     COMPRESSION zstd / FORMAT json): what `delta_scan` reads, without its extension (which
     needs a download), one file per table.
   Wall time and peak RSS of each process (its own rusage, from wait4); with --repeat N the
   tools take turns N times and the best time of each is kept (a shared machine's load only
   ever slows a run down).
3. Then chatlake's incremental rerun on the unchanged lake (reads manifest and Delta logs only).
4. Prints one markdown row per format: rows (all tables), rows/s of both, the time ratio, peak RSS.

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
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_import import run_measured  # noqa: E402  (the same measurement as the ingest bench)

TABLES = ["tenants", "channels", "messages", "message_statuses", "contacts", "contact_events",
          "flow_events", "campaigns", "campaign_recipients", "analytics_events", "comments",
          "chat_events", "conversations"]


def make_lake(binary: str, messages: int, work: Path) -> Path:
    lake = work / "lake"
    done = work / f".complete-{messages}"
    if done.exists():
        return lake
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    print(f"generating {messages} messages ...", file=sys.stderr)
    subprocess.run(
        [binary, "generate", "--lake", str(lake), "--messages", str(messages),
         "--contacts", str(max(messages // 20, 1000)), "--days", "120", "--seed", "42"],
        check=True,
    )
    done.touch()
    return lake


DUCKDB_SCRIPT = """
import sys, duckdb
from deltalake import DeltaTable
lake, out, fmt = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
for table in sys.argv[4:]:
    files = DeltaTable(f"{lake}/{table}").file_uris()
    options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT json"
    ext = "parquet" if fmt == "parquet" else "json"
    con.execute(f"COPY (SELECT * FROM read_parquet({files!r}, hive_partitioning = true)) "
                f"TO '{out}/{table}.{ext}' ({options})")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-export"))
    parser.add_argument("--formats", default="parquet,ndjson")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each tool per format; the best time of each is reported")
    args = parser.parse_args()
    binary = os.environ.get("CHATLAKE_BIN", str(ROOT / "target/release/chatlake"))
    lake = make_lake(binary, args.messages, args.work)

    print("| format | rows (13 tables) | chatlake s | chatlake rows/s | DuckDB s | DuckDB rows/s | "
          "DuckDB / chatlake time | chatlake peak RSS MiB | DuckDB peak RSS MiB | chatlake rerun, nothing changed s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for fmt in args.formats.split(","):
        ours = args.work / f"chatlake-{fmt}"
        duck = args.work / f"duckdb-{fmt}"
        for d in (ours, duck):
            shutil.rmtree(d, ignore_errors=True)
        compression = "zstd" if fmt == "parquet" else "none"
        cmd = [binary, "export", "--lake", str(lake), "--dest", str(ours), "--format", fmt,
               "--compression", compression]
        duck_s = ours_s = float("inf")
        duck_rss = ours_rss = 0
        # The tools take turns, --repeat times: the best time of each (on a shared machine the
        # others' load only ever slows a run down), the highest peak RSS.
        for _ in range(args.repeat):
            # Each tool's output is removed once measured: the disk may not hold both at 10M rows.
            duck.mkdir(parents=True, exist_ok=True)
            s, rss, _ = run_measured(
                [sys.executable, "-c", DUCKDB_SCRIPT, str(lake), str(duck), fmt, *TABLES])
            duck_s, duck_rss = min(duck_s, s), max(duck_rss, rss)
            shutil.rmtree(duck, ignore_errors=True)
            s, rss, stderr = run_measured(cmd + ["--full"])
            ours_s, ours_rss = min(ours_s, s), max(ours_rss, rss)
            rerun_s, _, _ = run_measured(cmd)
            shutil.rmtree(ours, ignore_errors=True)
        summary = stderr.strip().splitlines()[-1] if stderr.strip() else ""
        print(f"chatlake: {summary}", file=sys.stderr)
        found = re.search(r"days skipped, (\d+) rows", summary)
        rows = int(found.group(1)) if found else 0
        print(
            f"| {fmt} | {rows:,} | {ours_s:.1f} | {rows / ours_s:,.0f} | {duck_s:.1f} | "
            f"{rows / duck_s:,.0f} | {duck_s / ours_s:.2f} | {ours_rss} | {duck_rss} | {rerun_s:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
