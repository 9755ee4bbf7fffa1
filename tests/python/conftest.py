"""Fixtures for the Python-side tests: a lake written by the chatlake binary, served by it.

CHATLAKE_BIN names the binary (scripts/test sets it). The lake is generated once per test
session into a temporary directory and served on a free loopback port.
"""

import os
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
    subprocess.run([_binary(), "generate", "--lake", str(lake), *LAKE_ARGS], check=True,
                   capture_output=True)
    return lake


# A view served next to the tables (clients list and describe views differently).
VIEW_SQL = ("CREATE VIEW tenant_messages AS "
            "SELECT tenant_id, count(*) AS n FROM messages GROUP BY tenant_id")


@pytest.fixture(scope="session")
def sql_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("sql")
    (root / "views").mkdir()
    (root / "views" / "900_tenant_messages.sql").write_text(VIEW_SQL)
    return root


@pytest.fixture(scope="session")
def server(lake_dir, sql_dir):
    port = _free_port()
    proc = subprocess.Popen([_binary(), "serve", "--lake", str(lake_dir), "--listen",
                             f"127.0.0.1:{port}", "--sql-dir", str(sql_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("chatlake serve exited: " + proc.stderr.read().decode())
            if time.time() > deadline:
                proc.kill()
                pytest.fail("chatlake serve did not start in 120 s")
            time.sleep(0.2)
    yield {"host": "127.0.0.1", "port": port}
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture()
def conn(server):
    import psycopg

    with psycopg.connect(host=server["host"], port=server["port"], user="chatlake",
                         dbname="chatlake", autocommit=True) as c:
        yield c
