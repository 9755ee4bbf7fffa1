"""Running one query in one engine: warm-up, timed runs, answer, peak memory.

Engines:
  chatlake   `chatlake sql --lake DIR --repeat 1+N --timing` (in-process DataFusion); peak RSS
             of that process.
  pgwire     `chatlake serve` (a fresh server per query) queried with psycopg 3 over loopback;
             peak RSS of the server process (its VmHWM, read through wait4 at exit).
  duckdb     Python duckdb in a worker process (worker.py) over the Parquet globs.
  chdb       chDB (embedded ClickHouse) in a worker process over the Parquet globs.

Every engine process is a child of the harness reaped with os.wait4, whose rusage carries
that one child's ru_maxrss (KiB on Linux): peak RSS per engine per query.
"""

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ENGINES = ("chatlake", "pgwire", "duckdb", "chdb")
WORKER = Path(__file__).with_name("worker.py")


@dataclass
class Result:
    engine: str
    status: str = "ok"  # ok | error | timeout
    times: list = field(default_factory=list)
    peak_rss: int | None = None  # bytes
    columns: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    error: str = ""
    note: str = ""

    @property
    def median(self):
        return statistics.median(self.times) if self.times else None

    def summary(self):
        return {"engine": self.engine, "status": self.status, "median_s": self.median,
                "times_s": self.times, "peak_rss_bytes": self.peak_rss, "rows": len(self.rows),
                "error": self.error[-2000:], "note": self.note}


@dataclass
class Child:
    returncode: int
    stdout: bytes
    stderr: bytes
    peak_rss: int
    timed_out: bool


TIME = "/usr/bin/time"


def run_child(cmd, input_bytes=None, timeout=None, env=None, cwd=None):
    """Runs `cmd` to completion; returns its output and its own peak RSS.

    Linux carries the *parent's* RSS high-water mark into a child's ru_maxrss across
    fork+exec, so wait4 straight from this (large) Python process would report at least the
    harness's own size. GNU time is a tiny intermediate parent: its %M is the command's own
    peak. Without /usr/bin/time, wait4's figure is used (an over-estimate for small queries).
    """
    import tempfile
    rss_file = None
    if os.path.exists(TIME):
        rss_file = tempfile.NamedTemporaryFile(prefix="bench-rss-", suffix=".txt", delete=False)
        rss_file.close()
        cmd = [TIME, "-f", "%M", "-o", rss_file.name, *cmd]
    try:
        child = _run(cmd, input_bytes, timeout, env, cwd)
        if rss_file:
            text = Path(rss_file.name).read_text().split()
            # GNU time writes "Command exited with non-zero status N" before %M on failure.
            if text and text[-1].isdigit():
                child.peak_rss = int(text[-1]) * 1024
    finally:
        if rss_file:
            os.unlink(rss_file.name)
    return child


def _run(cmd, input_bytes, timeout, env, cwd):
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if input_bytes is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
                            start_new_session=True)
    out, err = [], []
    readers = [threading.Thread(target=lambda s=s, b=b: b.append(s.read()), daemon=True)
               for s, b in ((proc.stdout, out), (proc.stderr, err))]
    for r in readers:
        r.start()
    if input_bytes is not None:
        proc.stdin.write(input_bytes)
        proc.stdin.close()
    timed_out = []

    def kill():
        timed_out.append(True)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill) if timeout else None
    if timer:
        timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    if timer:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    return Child(proc.returncode, out[0] if out else b"", err[0] if err else b"",
                 usage.ru_maxrss * 1024, bool(timed_out))


# --- chatlake in-process --------------------------------------------------------------------------

_RUN_LINE = re.compile(r"^run (\d+): ([0-9.]+) s$", re.M)
_TIME_LINE = re.compile(r"^time: ([0-9.]+) s$", re.M)


def _parse_csv(text):
    import csv
    import io
    table = list(csv.reader(io.StringIO(text)))
    return (table[0] if table else []), table[1:]


def run_chatlake(binary, lake, sql, runs, warmup, timeout, extra_args=()):
    """`chatlake sql`: one process runs warm-up + timed runs and prints each run's time.

    A binary older than per-run timing prints only the fastest run: then each timed sample is
    a separate process run with --repeat 2 (the faster of a cold and a warm run).
    """
    res = Result("chatlake")
    cmd = [binary, "sql", "--lake", str(lake.root), *extra_args,
           "--repeat", str(warmup + runs), "--timing", sql]
    child = run_child(cmd, timeout=timeout)
    if not _fill_chatlake(res, child):
        return res
    per_run = [float(t) for _, t in _RUN_LINE.findall(child.stderr.decode())]
    if per_run:
        res.times = per_run[warmup:]
        res.peak_rss = child.peak_rss
        return res
    # Old binary: only the fastest time. One process per sample.
    res.note = "per-process samples (binary prints only its fastest run)"
    res.peak_rss = child.peak_rss
    for _ in range(runs):
        child = run_child([binary, "sql", "--lake", str(lake.root), *extra_args,
                           "--repeat", "2", "--timing", sql], timeout=timeout)
        if not _fill_chatlake(res, child):
            return res
        res.times.append(float(_TIME_LINE.findall(child.stderr.decode())[-1]))
        res.peak_rss = max(res.peak_rss, child.peak_rss)
    return res


def _fill_chatlake(res, child):
    if child.timed_out:
        res.status, res.error = "timeout", "killed after the timeout"
        return False
    if child.returncode != 0:
        res.status, res.error = "error", child.stderr.decode(errors="replace").strip()
        return False
    res.columns, res.rows = _parse_csv(child.stdout.decode())
    return True


# --- chatlake over pgwire -------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChatlakeServer:
    """`chatlake serve` on a free loopback port; stop() returns its peak RSS."""

    def __init__(self, binary, lake, extra_args=()):
        self.port = free_port()
        self.log = open(Path(lake.root).parent / f".serve-{self.port}.log", "w+b")
        self.proc = subprocess.Popen([binary, "serve", "--lake", str(lake.root), *extra_args,
                                      "--listen", f"127.0.0.1:{self.port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"chatlake serve exited: {self.log.read().decode(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("chatlake serve did not listen within 120 s")
                time.sleep(0.05)

    def dsn(self):
        return f"host=127.0.0.1 port={self.port} user=chatlake dbname=chatlake"

    def vm_hwm(self):
        return read_vm_hwm(self.proc.pid)

    def stop(self):
        if self.proc.returncode is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                _, status, usage = _wait4_timeout(self.proc.pid, 30)
            except TimeoutError:
                os.killpg(self.proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(self.proc.pid, 0)
            self.proc.returncode = os.waitstatus_to_exitcode(status)
            self.peak_rss = usage.ru_maxrss * 1024
        self.log.close()
        os.unlink(self.log.name)
        return self.peak_rss


def _wait4_timeout(pid, seconds):
    deadline = time.monotonic() + seconds
    while True:
        got, status, usage = os.wait4(pid, os.WNOHANG)
        if got:
            return got, status, usage
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.05)


def read_vm_hwm(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def run_pgwire(binary, lake, sql, runs, warmup, timeout, extra_args=()):
    """A fresh `chatlake serve` per query (so its peak RSS is this query's), psycopg text."""
    import psycopg

    res = Result("pgwire")
    server = ChatlakeServer(binary, lake, extra_args)
    try:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute(f"SET statement_timeout = {int(timeout * 1000)}")
            for i in range(warmup + runs):
                started = time.perf_counter()
                cur = conn.execute(sql)
                rows = cur.fetchall()
                took = time.perf_counter() - started
                if i >= warmup:
                    res.times.append(took)
            res.columns = [d.name for d in cur.description]
            res.rows = rows
    except psycopg.errors.QueryCanceled as e:
        res.status, res.error = "timeout", str(e)
    except psycopg.Error as e:
        res.status, res.error = "error", f"{type(e).__name__}: {e}"
    finally:
        res.peak_rss = server.stop()
    return res


# --- peers in a worker process ----------------------------------------------------------------------

def peer_sql(engine, sql, lake, partitioned):
    """Replaces `{table}` by the engine's Parquet reader over the table's glob."""
    def reader(m):
        table = m.group(1)
        if table not in partitioned:
            return m.group(0)
        glob = lake.glob(table)
        if engine == "duckdb":
            hive = "true" if partitioned[table] else "false"
            return f"read_parquet('{glob}', hive_partitioning = {hive})"
        return f"file('{glob}', Parquet)"

    text = re.sub(r"\{(\w+)\}", reader, sql)
    if engine == "chdb":
        # Hive dt= directories as a Date column; SQL-standard NULLs for outer-join misses.
        text += "\nSETTINGS use_hive_partitioning = 1, join_use_nulls = 1"
    return text


def run_peer(engine, lake, sql, runs, warmup, timeout, partitioned):
    res = Result(engine)
    job = {"engine": engine, "sql": peer_sql(engine, sql, lake, partitioned),
           "runs": runs, "warmup": warmup}
    child = run_child([sys.executable, str(WORKER)], json.dumps(job).encode(), timeout=timeout)
    res.peak_rss = child.peak_rss
    if child.timed_out:
        res.status, res.error = "timeout", "killed after the timeout"
    elif child.returncode != 0:
        err = child.stderr.decode(errors="replace").strip()
        res.status, res.error = "error", err[-3000:]
    else:
        out = json.loads(child.stdout)
        res.columns, res.rows, res.times = out["columns"], out["rows"], out["times"]
    return res
