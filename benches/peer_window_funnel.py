"""Peer benchmark: a 4-step window_funnel per contact in chatlake vs ClickHouse windowFunnel (chDB).

One Parquet file of 10M events (500k contacts x 20 events, sorted by contact then time, as lake
files are; ts a microsecond UTC timestamp, ev a step 1..6). Both engines run the same query, the
step distribution of a 1-day funnel, reading the same file in-process; the best of 3 runs is
reported and the answers must agree.

    CHATLAKE_BIN=target/release/chatlake python benches/peer_window_funnel.py [--events N]

Needs numpy, pyarrow and chdb (tests/python/requirements.txt's venv).
"""

import argparse
import csv
import io
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

STEPS = "ev = 1, ev = 2, ev = 3, ev = 4"
OURS = ("SELECT level, count(*) AS contacts FROM (SELECT contact_id, "
        f"window_funnel(86400, '', ts, {STEPS}) AS level FROM events GROUP BY contact_id) "
        "GROUP BY level ORDER BY level")
THEIRS = ("SELECT level, count() AS contacts FROM (SELECT contact_id, "
          f"windowFunnel(86400)(toDateTime(ts), {STEPS}) AS level FROM file('{{path}}', Parquet) "
          "GROUP BY contact_id) GROUP BY level ORDER BY level")


def write_events(path, events, contacts, seed=7):
    rng = np.random.default_rng(seed)
    per = events // contacts
    contact = np.repeat(np.arange(contacts, dtype=np.int64), per)
    start = 1_790_000_000_000_000 + rng.integers(0, 86_400_000_000, contacts, dtype=np.int64)
    gaps = rng.integers(1_000_000, 30 * 60_000_000, (contacts, per), dtype=np.int64)
    ts = (start[:, None] + np.cumsum(gaps, axis=1)).reshape(-1)
    ev = rng.integers(1, 7, contacts * per, dtype=np.int32)
    table = pa.table({
        "contact_id": contact,
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "ev": ev,
    })
    pq.write_table(table, path, row_group_size=1_000_000)
    return contacts * per


def run_chatlake(binary, path, repeat):
    out = subprocess.run([binary, "sql", "--repeat", str(repeat), "--parquet", f"events={path}", OURS],
                         capture_output=True, text=True, check=True)
    seconds = float(out.stderr.strip().split("time:")[1].split()[0])
    rows = [tuple(r) for r in list(csv.reader(io.StringIO(out.stdout)))[1:]]
    return seconds, rows


def run_chdb(path, repeat):
    import chdb

    best, rows = None, None
    for _ in range(repeat):
        started = time.perf_counter()
        data = chdb.query(THEIRS.format(path=path), "CSV").data()
        took = time.perf_counter() - started
        best = took if best is None else min(best, took)
        rows = [tuple(r) for r in csv.reader(io.StringIO(data))]
    return best, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--contacts", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    binary = os.environ.get("CHATLAKE_BIN", "target/release/chatlake")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "events.parquet")
        rows = write_events(path, args.events, args.contacts)
        print(f"{rows:,} events, {args.contacts:,} contacts, {os.path.getsize(path) / 1e6:.0f} MB Parquet")
        ours, our_rows = run_chatlake(binary, path, args.repeat)
        theirs, their_rows = run_chdb(path, args.repeat)
        print(f"levels (level, contacts): {our_rows}")
        if our_rows != their_rows:
            print(f"MISMATCH: ClickHouse gives {their_rows}", file=sys.stderr)
            sys.exit(1)
        print(f"chatlake window_funnel:   {ours:.3f} s ({rows / ours / 1e6:.1f} M events/s)")
        print(f"chDB windowFunnel:        {theirs:.3f} s ({rows / theirs / 1e6:.1f} M events/s)")
        print(f"ratio chatlake / chDB:    {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
