"""One peer query in its own process, so the parent can read this process's peak RSS.

Reads a JSON job on stdin: {"engine": "duckdb"|"chdb", "sql": ..., "runs": N, "warmup": W};
runs the query W + N times on one connection and prints {"columns", "rows", "times"} (the N
timed runs) as JSON on stdout. Standalone on purpose: it imports only the engine it runs.
"""

import csv
import io
import json
import sys
import time


def run_duckdb(sql, runs, warmup):
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    times, rows, columns = [], [], []
    for i in range(warmup + runs):
        started = time.perf_counter()
        cur = con.execute(sql)
        rows = cur.fetchall()
        took = time.perf_counter() - started
        columns = [d[0] for d in cur.description]
        if i >= warmup:
            times.append(took)
    return columns, rows, times


def run_chdb(sql, runs, warmup):
    import chdb

    conn = chdb.connect(":memory:")
    times, data = [], ""
    for i in range(warmup + runs):
        started = time.perf_counter()
        data = conn.query(sql, "CSVWithNames").data()
        took = time.perf_counter() - started
        if i >= warmup:
            times.append(took)
    table = list(csv.reader(io.StringIO(data)))
    return (table[0] if table else []), table[1:], times


def main():
    job = json.load(sys.stdin)
    run = {"duckdb": run_duckdb, "chdb": run_chdb}[job["engine"]]
    columns, rows, times = run(job["sql"], job["runs"], job.get("warmup", 1))
    json.dump({"columns": columns, "rows": [list(r) for r in rows], "times": times},
              sys.stdout, default=str)


if __name__ == "__main__":
    main()
