"""Peer benchmark: WhatsApp conversation windows per contact, chatlake vs DuckDB.

The workload is the CBP v1 (`cbp_2022`) rule set, the one a correct plain-SQL formulation can
express: a conversation opens at a delivered business message sent while no conversation is
open, if it is a template or the customer-service window is open (an inbound message in the
previous 24 h), as `user_initiated` inside the window and `business_initiated` outside; it
lasts a fixed 24 h, never extended. chatlake runs `wa_conversations`; DuckDB runs the fastest
correct SQL we could write: an ASOF join for the window, an ASOF join for "the next candidate
at least 24 h later", and a recursive CTE that follows those pointers from each contact's first
candidate (one iteration per conversation, not per message). Both read the same Parquet file
in-process; the best of `--repeat` runs is reported and the per-origin counts must agree.

    CHATLAKE_BIN=target/release/chatlake python benches/peer_conversations.py [--messages N]

Needs numpy, pyarrow and duckdb (tests/python/requirements.txt's venv).
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

OURS = ("SELECT c['origin'] AS origin, count(*) AS conversations FROM ("
        "SELECT unnest(wa_conversations('cbp_2022', ts, direction, delivered, is_template, "
        "template_category, false)) AS c FROM messages GROUP BY contact_id) "
        "GROUP BY 1 ORDER BY 1")

THEIRS = """
WITH RECURSIVE
ev AS (SELECT contact_id, ts, direction, delivered, is_template FROM read_parquet('{path}')),
inb AS (SELECT contact_id, ts FROM ev WHERE direction = 'inbound'),
outb AS (SELECT contact_id, ts, is_template FROM ev WHERE direction = 'outbound' AND delivered),
windowed AS (
  SELECT o.contact_id, o.ts, o.is_template,
         coalesce(o.ts < i.ts + INTERVAL 24 HOUR, false) AS in_csw
  FROM outb o ASOF LEFT JOIN inb i ON o.contact_id = i.contact_id AND o.ts >= i.ts),
cand AS (
  SELECT DISTINCT contact_id, ts, in_csw, ts + INTERVAL 24 HOUR AS due
  FROM windowed WHERE is_template OR in_csw),
nxt AS (
  SELECT c.contact_id, c.ts, c.in_csw, n.ts AS next_ts
  FROM cand c ASOF LEFT JOIN cand n ON c.contact_id = n.contact_id AND n.ts >= c.due),
chain(contact_id, ts, in_csw, next_ts) AS (
  SELECT contact_id, min(ts), arg_min(in_csw, ts), arg_min(next_ts, ts) FROM nxt GROUP BY contact_id
  UNION ALL
  SELECT n.contact_id, n.ts, n.in_csw, n.next_ts
  FROM chain c JOIN nxt n ON n.contact_id = c.contact_id AND n.ts = c.next_ts)
SELECT CASE WHEN in_csw THEN 'user_initiated' ELSE 'business_initiated' END AS origin,
       count(*) AS conversations
FROM chain GROUP BY 1 ORDER BY 1
"""


def write_messages(path, messages, contacts, seed=11):
    """`messages` rows, `contacts` contacts, sorted by contact then time (as lake files are)."""
    rng = np.random.default_rng(seed)
    per = messages // contacts
    contact = np.repeat(np.arange(contacts, dtype=np.int64), per)
    start = 1_790_000_000_000_000 + rng.integers(0, 86_400_000_000, contacts, dtype=np.int64)
    # Gaps from a minute to a day and a half, so windows open, absorb and expire.
    gaps = rng.integers(60_000_000, 36 * 3_600_000_000, (contacts, per), dtype=np.int64)
    ts = (start[:, None] + np.cumsum(gaps, axis=1)).reshape(-1)
    n = contacts * per
    inbound = rng.random(n) < 0.4
    template = ~inbound & (rng.random(n) < 0.3)
    delivered = inbound | (rng.random(n) < 0.95)
    categories = np.array(["marketing", "utility", "authentication"])
    table = pa.table({
        "contact_id": contact,
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "direction": np.where(inbound, "inbound", "outbound"),
        "delivered": delivered,
        "is_template": template,
        "template_category": pa.array(np.where(template, categories[rng.integers(0, 3, n)], None)),
    })
    pq.write_table(table, path, row_group_size=1_000_000)
    return n


def run_chatlake(binary, path, repeat):
    out = subprocess.run([binary, "sql", "--repeat", str(repeat), "--parquet", f"messages={path}", OURS],
                         capture_output=True, text=True, check=True)
    seconds = float(out.stderr.strip().split("time:")[1].split()[0])
    rows = [tuple(r) for r in list(csv.reader(io.StringIO(out.stdout)))[1:]]
    return seconds, rows


def run_duckdb(path, repeat):
    import duckdb

    con = duckdb.connect()
    best, rows = None, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = con.execute(THEIRS.format(path=path)).fetchall()
        took = time.perf_counter() - started
        best = took if best is None else min(best, took)
        rows = [(origin, str(count)) for origin, count in result]
    return best, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--contacts", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    binary = os.environ.get("CHATLAKE_BIN", "target/release/chatlake")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "messages.parquet")
        rows = write_messages(path, args.messages, args.contacts)
        print(f"{rows:,} messages, {args.contacts:,} contacts, {os.path.getsize(path) / 1e6:.0f} MB Parquet")
        ours, our_rows = run_chatlake(binary, path, args.repeat)
        theirs, their_rows = run_duckdb(path, args.repeat)
        print(f"conversations (origin, count): {our_rows}")
        if our_rows != their_rows:
            print(f"MISMATCH: DuckDB gives {their_rows}", file=sys.stderr)
            sys.exit(1)
        print(f"chatlake wa_conversations: {ours:.3f} s ({rows / ours / 1e6:.1f} M messages/s)")
        print(f"DuckDB ASOF + recursive:   {theirs:.3f} s ({rows / theirs / 1e6:.1f} M messages/s)")
        print(f"ratio DuckDB / chatlake:   {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
