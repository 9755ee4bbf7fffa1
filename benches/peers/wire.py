"""Wire throughput: rows/s of a ~1M-row result, chatlake serve vs PostgreSQL 15, same rows.

The rows: the newest whole days of `messages` holding at least --wire-rows rows (9 columns:
text, timestamptz, boolean, integer). chatlake serves them from the lake
(`SELECT ... FROM messages WHERE dt >= D`); PostgreSQL from a table loaded with the same rows
(DuckDB exports them to CSV, psql \\copy loads them, VACUUM ANALYZE, warm cache).

PostgreSQL: Debian's postgresql-15 (installed with apt-get when missing), initdb into a temp
directory, started with pg_ctl on a free loopback port (as the `postgres` user when the
harness runs as root), stopped and removed at the end.

Clients, each a warm-up then --runs timed runs (median): psycopg 3 text (`fetchall`), psycopg 3
binary (`cursor(binary=True)`), polars with connectorx (`COPY … TO STDOUT WITH BINARY`) and
with ADBC (`COPY … (FORMAT binary)`), both into a polars DataFrame, psql (`psql -At -c`,
output to /dev/null) and psql COPY (`\\copy (query) to /dev/null`). Server peak memory: VmHWM of chatlake serve, and of the
PostgreSQL backend serving the connection.
"""

import datetime
import hashlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from .engines import ChatlakeServer, free_port, read_vm_hwm

COLUMNS = ("message_id", "tenant_id", "channel_id", "contact_id", "direction", "ts", "msg_type",
           "is_template", "calling_code")
PG_TYPES = ("text", "text", "text", "text", "text", "timestamptz", "text", "boolean", "integer")
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _pick_days(lake, rows_wanted):
    """The first day D such that messages with dt >= D number at least rows_wanted."""
    import duckdb

    con = duckdb.connect()
    per_day = con.execute(
        f"SELECT dt, count(*) FROM read_parquet('{lake.glob('messages')}', hive_partitioning = true) "
        "GROUP BY dt ORDER BY dt DESC").fetchall()
    total = 0
    for day, n in per_day:
        total += n
        if total >= rows_wanted:
            return day, total
    return per_day[-1][0], total


def _export_csv(lake, day, path):
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        f"COPY (SELECT {', '.join(COLUMNS)} FROM read_parquet('{lake.glob('messages')}', hive_partitioning = true) "
        f"WHERE dt >= DATE '{day}') TO '{path}' (FORMAT csv, HEADER false)")


def _ensure_postgres(log):
    if (PG_BIN / "initdb").exists():
        return
    log("PostgreSQL 15 not found: sudo apt-get install -y postgresql")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "install", "-y", "postgresql"], check=True)


class Postgres:
    """A throwaway PostgreSQL 15 cluster on a free loopback port."""

    def __init__(self, base, log):
        _ensure_postgres(log)
        self.dir = Path(tempfile.mkdtemp(prefix="bench-pg-", dir=base))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_user = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        subprocess.run(self.as_user + [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                                       "--auth=trust", "-E", "UTF8", "--locale=C"],
                       check=True, stdout=subprocess.DEVNULL)
        opts = (f"-c port={self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir} "
                "-c shared_buffers=512MB -c fsync=off -c synchronous_commit=off")
        subprocess.run(self.as_user + [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts,
                                       "-l", str(self.dir / "log"), "-w", "start"],
                       check=True, stdout=subprocess.DEVNULL)

    def dsn(self):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def psql_args(self):
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "postgres"]

    def stop(self):
        subprocess.run(self.as_user + [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"],
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


def _checksum(rows):
    """Order-independent digest of the rows as psycopg returned them (timestamps in UTC): the
    sum modulo 2**128 of each row's 128-bit hash, a multiset hash. Unlike an XOR, a row that
    comes twice adds its hash twice instead of cancelling out, so duplicated or dropped pairs
    of rows change the digest."""
    digest = 0
    for r in rows:
        text = "|".join(v.astimezone(datetime.timezone.utc).isoformat()
                        if isinstance(v, datetime.datetime) else str(v) for v in r)
        digest += int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "little")
    return f"{digest % (1 << 128):032x}"


def _measure(name, server, dsn, psql_args, sql, runs, warmup, log, backend_pid_sql=True):
    import psycopg

    out = []
    checksum = None
    with psycopg.connect(dsn, autocommit=True) as conn:
        backend = None
        if backend_pid_sql:
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        for client, binary in (("psycopg text", False), ("psycopg binary", True)):
            times, n = [], 0
            for i in range(warmup + runs):
                started = time.perf_counter()
                cur = conn.cursor(binary=binary)
                cur.execute(sql)
                rows = cur.fetchall()
                took = time.perf_counter() - started
                n = len(rows)
                if i == 0 and client == "psycopg text":
                    checksum = _checksum(rows)
                del rows
                if i >= warmup:
                    times.append(took)
            out.append({"client": client, "times_s": times})
        hwm = read_vm_hwm(backend) if backend else None
    out.extend(_measure_dataframes(name, dsn, sql, runs, warmup, log))
    for client, command in (("psql", ["-At", "-c", sql]),
                            ("psql \\copy", ["-c", f"\\copy ({sql}) to '/dev/null'"])):
        times, status = [], "ok"
        for i in range(warmup + runs):
            started = time.perf_counter()
            done = subprocess.run(["psql", "-X", "-q", *psql_args, *command], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True,
                                  env={**os.environ, "PGCONNECT_TIMEOUT": "10"})
            took = time.perf_counter() - started
            if done.returncode != 0:
                status = "error"
                log(f"  wire {name:<10} {client:<15} failed: {done.stderr.strip()[:300]}")
                break
            if i >= warmup:
                times.append(took)
        out.append({"client": client, "times_s": times, "status": status})
    for m in out:
        m["server"] = name
        m["rows"] = n
        m.setdefault("status", "ok")
        if m["status"] == "ok" and m.pop("rows_seen", n) != n:
            m["status"] = "wrong row count"
            log(f"  wire {name:<10} {m['client']:<15} read a different number of rows than psycopg")
        if m["status"] != "ok":
            continue
        m["median_s"] = statistics.median(m["times_s"])
        m["rows_per_s"] = n / m["median_s"]
        log(f"  wire {name:<10} {m['client']:<15} {m['median_s']:.3f} s, {m['rows_per_s']:,.0f} rows/s")
    return out, checksum, n, hwm


def _measure_dataframes(name, dsn, sql, runs, warmup, log):
    """polars.read_database_uri with connectorx and with ADBC: both pull binary COPY."""
    import polars as pl

    fields = dict(part.split("=", 1) for part in dsn.split())
    uri = f"postgresql://{fields['user']}@{fields['host']}:{fields['port']}/{fields['dbname']}"
    out = []
    for client, engine in (("polars connectorx", "connectorx"), ("polars adbc", "adbc")):
        times, status, n = [], "ok", None
        for i in range(warmup + runs):
            started = time.perf_counter()
            try:
                frame = pl.read_database_uri(sql, uri, engine=engine)
            except Exception as e:  # a client that cannot read the server is a result, not a crash
                status = "error"
                log(f"  wire {name:<10} {client:<15} failed: {str(e)[:300]}")
                break
            took = time.perf_counter() - started
            n = frame.height
            del frame
            if i >= warmup:
                times.append(took)
        out.append({"client": client, "times_s": times, "status": status, "rows_seen": n})
    return out


def run(binary, lake, rows_wanted, runs, warmup, log):
    day, expected = _pick_days(lake, rows_wanted)
    log(f"wire: messages with dt >= {day}: {expected:,} rows")
    where = f"dt >= DATE '{day}'"
    ours_sql = f"SELECT {', '.join(COLUMNS)} FROM messages WHERE {where}"
    pg_sql = f"SELECT {', '.join(COLUMNS)} FROM wire_rows"
    measurements = []
    # chatlake
    server = ChatlakeServer(binary, lake)
    try:
        ours, our_sum, our_rows, _ = _measure(
            "chatlake", server, server.dsn(),
            ["-h", "127.0.0.1", "-p", str(server.port), "-U", "chatlake", "chatlake"],
            ours_sql, runs, warmup, log, backend_pid_sql=False)
        our_peak = server.vm_hwm()
    finally:
        server.stop()
    for m in ours:
        m["server_peak_bytes"] = our_peak
    # PostgreSQL
    pg = Postgres(lake.root.parent, log)
    try:
        csv_path = pg.dir / "rows.csv"
        _export_csv(lake, day, csv_path)
        shutil.chown(csv_path, "postgres", "postgres") if os.geteuid() == 0 else None
        cols = ", ".join(f"{c} {t}" for c, t in zip(COLUMNS, PG_TYPES))
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *pg.psql_args()]
        subprocess.run(psql + ["-c", f"CREATE TABLE wire_rows ({cols})"], check=True)
        subprocess.run(psql + ["-c", f"\\copy wire_rows FROM '{csv_path}' (FORMAT csv)"], check=True)
        subprocess.run(psql + ["-c", "VACUUM ANALYZE wire_rows"], check=True)
        csv_path.unlink()
        theirs, their_sum, their_rows, pg_peak = _measure("postgresql", pg, pg.dsn(), pg.psql_args(),
                                                          pg_sql, runs, warmup, log)
        version = subprocess.run(psql + ["-At", "-c", "SHOW server_version"], capture_output=True,
                                 text=True).stdout.strip()
    finally:
        pg.stop()
    for m in theirs:
        m["server_peak_bytes"] = pg_peak
    measurements = ours + theirs
    ok = our_rows == their_rows == expected and our_sum == their_sum
    if not ok:
        log(f"WIRE ANSWER MISMATCH: chatlake {our_rows:,} rows (digest {our_sum}), "
            f"PostgreSQL {their_rows:,} rows (digest {their_sum}), expected {expected:,}")
    return {"rows": expected, "columns": len(COLUMNS), "from_day": str(day), "postgresql": version,
            "chatlake_sql": ours_sql, "postgresql_sql": pg_sql, "answers_ok": ok,
            "digest": our_sum, "measurements": measurements}
