"""Fixtures for the Python-side tests: a lake written by the chatlake binary, served by it.

CHATLAKE_BIN names the binary (scripts/test sets it). The lake is generated once per test
session into a temporary directory and served on a free loopback port. The server gets
`--sql-dir` with this checkout's sql/views and sql/reports (they override the files embedded
in the binary by name), so the report tests run the repository's .sql files even with a
binary built from an older tree.
"""

import os
import pathlib
import shutil
import socket
import subprocess
import time

import pytest

LAKE_ARGS = ["--tenants", "3", "--contacts", "2000", "--days", "30", "--seed", "11"]


def _binary():
    path = os.environ.get("CHATLAKE_BIN")
    if not path or not os.path.exists(path):
        pytest.fail("set CHATLAKE_BIN to the chatlake binary (scripts/test does)")
    return path


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def lake_dir(tmp_path_factory):
    lake = tmp_path_factory.mktemp("lake")
    generate(lake, *LAKE_ARGS)
    return lake


# A view served next to the tables (clients list and describe views differently).
VIEW_SQL = ("CREATE VIEW tenant_messages AS "
            "SELECT tenant_id, count(*) AS n FROM messages GROUP BY tenant_id")


REPO_SQL = pathlib.Path(__file__).resolve().parents[2] / "sql"


@pytest.fixture(scope="session")
def sql_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("sql")
    for sub in ["views", "reports"]:
        shutil.copytree(REPO_SQL / sub, root / sub)
    (root / "views" / "900_tenant_messages.sql").write_text(VIEW_SQL)
    return root


def wait_for_port(port, proc, what, seconds):
    """Waits until something listens on 127.0.0.1:`port`; fails the test (and kills `proc`)
    if `proc` exits first or `seconds` pass."""
    deadline = time.time() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None:
                stderr = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"{what} exited: {stderr}")
            if time.time() > deadline:
                proc.kill()
                pytest.fail(f"{what} did not start in {seconds} s")
            time.sleep(0.2)


def serve(lake, sql_dir):
    """Start `chatlake serve` on a free loopback port; yields {host, port}; stops it after."""
    port = _free_port()
    proc = subprocess.Popen([_binary(), "serve", "--lake", str(lake), "--listen",
                             f"127.0.0.1:{port}", "--sql-dir", str(sql_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_port(port, proc, "chatlake serve", 120)
    try:
        yield {"host": "127.0.0.1", "port": port}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def generate(lake, *args):
    subprocess.run([_binary(), "generate", "--lake", str(lake), *args], check=True,
                   capture_output=True)


def connect(server):
    import psycopg

    return psycopg.connect(host=server["host"], port=server["port"], user="chatlake",
                           dbname="chatlake", autocommit=True)


@pytest.fixture(scope="session")
def server(lake_dir, sql_dir):
    yield from serve(lake_dir, sql_dir)


@pytest.fixture()
def conn(server):
    with connect(server) as c:
        yield c


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL 15 cluster (benches/peers/wire.py's), the oracle of the
    differential tests."""
    import sys
    import tempfile

    sys.path.insert(0, str(REPO_SQL.parent))
    from benches.peers.wire import Postgres

    # Under the system temp directory, not pytest's (mode 0700): run as root, the cluster
    # belongs to the `postgres` user, which must reach its directory.
    pg = Postgres(tempfile.gettempdir(), log=print)
    try:
        yield pg
    finally:
        pg.stop()


# ---- the expected side of the report tests (test_reports_duckdb*.py) ----

REPORT_TZ = "Asia/Kolkata"


@pytest.fixture(scope="session")
def duck(lake_dir):
    """The fixture lake in DuckDB (tests/python/duckref.py)."""
    import duckref

    con = duckref.load(lake_dir)
    yield con
    con.close()


@pytest.fixture(scope="session")
def window(duck):
    """The last 14 local days of the lake in Asia/Kolkata: (first, last)."""
    import duckref

    return duckref.last_days(duck, REPORT_TZ, 14)
