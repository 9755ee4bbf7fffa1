"""Wire throughput: rows/s of a ~1M-row result, chatlake serve vs PostgreSQL 15, same rows.

The rows: the newest whole days of `messages` holding at least --wire-rows rows (9 columns:
text, timestamptz, boolean, integer). chatlake serves them from the lake
(`SELECT ... FROM messages WHERE dt >= D`); PostgreSQL from a table loaded with the same rows
(DuckDB exports them to CSV, psql \\copy loads them, VACUUM ANALYZE, warm cache).

PostgreSQL: Debian's postgresql-15 (installed with apt-get when missing), initdb into a temp
directory, started with pg_ctl on a free loopback port (as the `postgres` user when the
harness runs as root), stopped and removed at the end.

Clients, each a warm-up then --runs timed runs (median), the two servers taking turns run by
run so that the machine's load falls on both alike: psycopg 3 text (`fetchall`), psycopg 3
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


class _Side:
    """One server as the clients see it: its DSN, psql arguments, query, and open psycopg
    connection (kept for all of psycopg's runs, as an application would)."""

    def __init__(self, name, dsn, psql_args, sql, backend_pid_sql):
        import psycopg

        self.name, self.dsn, self.psql_args, self.sql = name, dsn, psql_args, sql
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.backend = self.conn.execute("SELECT pg_backend_pid()").fetchone()[0] if backend_pid_sql else None
        fields = dict(part.split("=", 1) for part in dsn.split())
        self.uri = f"postgresql://{fields['user']}@{fields['host']}:{fields['port']}/{fields['dbname']}"
        self.checksum = None


def _psycopg(binary):
    def once(side):
        cur = side.conn.cursor(binary=binary)
        cur.execute(side.sql)
        rows = cur.fetchall()
        if not binary and side.checksum is None:
            side.checksum = _checksum(rows)
        return len(rows)
    return once


def _polars(engine):
    def once(side):
        import polars as pl

        return pl.read_database_uri(side.sql, side.uri, engine=engine).height
    return once


def _psql(command):
    def once(side):
        args = command(side.sql)
        done = subprocess.run(["psql", "-X", "-q", *side.psql_args, *args], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PGCONNECT_TIMEOUT": "10"})
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip()[:300])
        return None
    return once


CLIENTS = (
    ("psycopg text", _psycopg(False)),
    ("psycopg binary", _psycopg(True)),
    ("polars connectorx", _polars("connectorx")),
    ("polars adbc", _polars("adbc")),
    ("psql", _psql(lambda sql: ["-At", "-c", sql])),
    ("psql \\copy", _psql(lambda sql: ["-c", f"\\copy ({sql}) to '/dev/null'"])),
)


def _measure(sides, runs, warmup, log):
    """Every client against every server, the servers taking turns run by run (chatlake, then
    PostgreSQL, then chatlake ...), so a change in the machine's load falls on both alike.
    Returns one measurement per (server, client) and the row count psycopg read per server."""
    out = []
    rows = {}
    for client, once in CLIENTS:
        times = {side.name: [] for side in sides}
        failed = {}
        seen = {}
        for i in range(warmup + runs):
            for side in sides:
                if side.name in failed:
                    continue
                started = time.perf_counter()
                try:
                    n = once(side)
                except Exception as e:  # a client that cannot read a server is a result, not a crash
                    failed[side.name] = str(e)[:300]
                    log(f"  wire {side.name:<10} {client:<15} failed: {failed[side.name]}")
                    continue
                took = time.perf_counter() - started
                if n is not None:
                    seen.setdefault(side.name, n)
                if i >= warmup:
                    times[side.name].append(took)
        for side in sides:
            if client == "psycopg text":
                rows[side.name] = seen.get(side.name)
            out.append({"server": side.name, "client": client, "times_s": times[side.name],
                        "status": "error" if side.name in failed else "ok",
                        "rows_seen": seen.get(side.name)})
    for m in out:
        n = rows.get(m["server"])
        m["rows"] = n
        if m["status"] == "ok" and m.pop("rows_seen") not in (None, n):
            m["status"] = "wrong row count"
            log(f"  wire {m['server']:<10} {m['client']:<15} read a different number of rows than psycopg")
        m.pop("rows_seen", None)
        if m["status"] != "ok":
            continue
        m["median_s"] = statistics.median(m["times_s"])
        m["rows_per_s"] = n / m["median_s"]
        log(f"  wire {m['server']:<10} {m['client']:<15} {m['median_s']:.3f} s, {m['rows_per_s']:,.0f} rows/s")
    return out, rows


def run(binary, lake, rows_wanted, runs, warmup, log):
    day, expected = _pick_days(lake, rows_wanted)
    log(f"wire: messages with dt >= {day}: {expected:,} rows")
    where = f"dt >= DATE '{day}'"
    ours_sql = f"SELECT {', '.join(COLUMNS)} FROM messages WHERE {where}"
    pg_sql = f"SELECT {', '.join(COLUMNS)} FROM wire_rows"
    server = ChatlakeServer(binary, lake)
    pg = None
    sides = []
    try:
        pg = Postgres(lake.root.parent, log)
        csv_path = pg.dir / "rows.csv"
        _export_csv(lake, day, csv_path)
        shutil.chown(csv_path, "postgres", "postgres") if os.geteuid() == 0 else None
        cols = ", ".join(f"{c} {t}" for c, t in zip(COLUMNS, PG_TYPES))
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *pg.psql_args()]
        subprocess.run(psql + ["-c", f"CREATE TABLE wire_rows ({cols})"], check=True)
        subprocess.run(psql + ["-c", f"\\copy wire_rows FROM '{csv_path}' (FORMAT csv)"], check=True)
        subprocess.run(psql + ["-c", "VACUUM ANALYZE wire_rows"], check=True)
        csv_path.unlink()
        version = subprocess.run(psql + ["-At", "-c", "SHOW server_version"], capture_output=True,
                                 text=True).stdout.strip()
        sides = [
            _Side("chatlake", server.dsn(),
                  ["-h", "127.0.0.1", "-p", str(server.port), "-U", "chatlake", "chatlake"],
                  ours_sql, backend_pid_sql=False),
            _Side("postgresql", pg.dsn(), pg.psql_args(), pg_sql, backend_pid_sql=True),
        ]
        measurements, rows = _measure(sides, runs, warmup, log)
        peaks = {"chatlake": server.vm_hwm(), "postgresql": read_vm_hwm(sides[1].backend)}
    finally:
        for side in sides:
            side.conn.close()
        server.stop()
        if pg is not None:
            pg.stop()
    for m in measurements:
        m["server_peak_bytes"] = peaks[m["server"]]
    our_sum, their_sum = sides[0].checksum, sides[1].checksum
    ok = rows["chatlake"] == rows["postgresql"] == expected and our_sum == their_sum
    if not ok:
        log(f"WIRE ANSWER MISMATCH: chatlake {rows['chatlake']} rows (digest {our_sum}), "
            f"PostgreSQL {rows['postgresql']} rows (digest {their_sum}), expected {expected:,}")
    return {"rows": expected, "columns": len(COLUMNS), "from_day": str(day), "postgresql": version,
            "chatlake_sql": ours_sql, "postgresql_sql": pg_sql, "answers_ok": ok,
            "digest": our_sum, "measurements": measurements}
