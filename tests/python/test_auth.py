"""Passwords and TLS with real clients: `chatlake serve --auth-file` (SCRAM-SHA-256) with and
without TLS, and with `--require-tls`, driven by psql, psycopg 3, psycopg2, asyncpg,
node-postgres and pgJDBC.

A test CA and a server certificate for `localhost` / 127.0.0.1 are made here with the
`openssl` command; a second, unrelated CA shows that `verify-full` really verifies. The SCRAM
verifier in the auth file is recomputed here from PostgreSQL's definition (RFC 5802/7677:
PBKDF2-HMAC-SHA-256, HMAC "Client Key"/"Server Key", SHA-256) with hashlib and hmac.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import time
import tomllib
from pathlib import Path

import pytest

from conftest import _binary, _free_port
from needs import missing, require_module

HERE = Path(__file__).parent
ALICE = ("alice", "wonder land")   # a password with a space
BOB = ("bob", "b0b-the-builder")
BAD_PASSWORD = "password authentication failed for user"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(directory, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
            "-out", f"{name}.crt", cwd=directory)
    return directory / f"{name}.crt"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """{ca, other_ca, cert, key}: a CA, an unrelated CA, and a server certificate by the first."""
    d = tmp_path_factory.mktemp("pki")
    ca = make_ca(d, "test-ca")
    other = make_ca(d, "other-ca")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr", cwd=d)
    (d / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "test-ca.crt", "-CAkey", "test-ca.key",
            "-CAcreateserial", "-days", "2", "-sha256", "-extfile", "san.ext",
            "-out", "server.crt", cwd=d)
    return {"ca": ca, "other_ca": other, "cert": d / "server.crt", "key": d / "server.key"}


def user_add(auth_file, name, password, *grant):
    out = subprocess.run([_binary(), "user", "add", name, "--auth-file", str(auth_file),
                          "--password-stdin", *grant],
                         input=password + "\n", capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


@pytest.fixture(scope="module")
def auth_file(tmp_path_factory):
    f = tmp_path_factory.mktemp("auth") / "users.toml"
    user_add(f, *ALICE, "--tenant", "t_1", "--tenant", "t_2")
    user_add(f, *BOB, "--all-tenants")
    return f


def start(lake_dir, sql_dir, log, *flags):
    port = _free_port()
    proc = subprocess.Popen([_binary(), "serve", "--lake", str(lake_dir), "--sql-dir",
                             str(sql_dir), "--listen", f"127.0.0.1:{port}", *flags],
                            stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    deadline = time.time() + 120
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                pytest.fail("chatlake serve exited: " + Path(log).read_text())
            if time.time() > deadline:
                proc.kill()
                pytest.fail("chatlake serve did not start in 120 s")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def secure(lake_dir, sql_dir, auth_file, pki, tmp_path_factory):
    """A server with passwords and optional TLS: {port, log}."""
    log = tmp_path_factory.mktemp("log") / "serve.log"
    proc, port = start(lake_dir, sql_dir, log, "--auth-file", str(auth_file),
                       "--tls-cert", str(pki["cert"]), "--tls-key", str(pki["key"]))
    yield {"port": port, "log": log}
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def tls_only(lake_dir, sql_dir, auth_file, pki, tmp_path_factory):
    """A server with passwords and --require-tls: {port, log}."""
    log = tmp_path_factory.mktemp("log") / "serve.log"
    proc, port = start(lake_dir, sql_dir, log, "--auth-file", str(auth_file),
                       "--tls-cert", str(pki["cert"]), "--tls-key", str(pki["key"]),
                       "--require-tls")
    yield {"port": port, "log": log}
    proc.terminate()
    proc.wait(timeout=30)


# ---------------------------------------------------------------- the auth file


def test_the_auth_file_holds_postgres_scram_verifiers_and_no_password(auth_file):
    text = auth_file.read_text()
    assert ALICE[1] not in text and BOB[1] not in text
    users = tomllib.loads(text)["users"]
    assert users["alice"]["tenants"] == ["t_1", "t_2"]
    assert users["bob"]["all_tenants"] is True
    for name, password in [ALICE, BOB]:
        verifier = users[name]["password"]
        # SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
        method, params, keys = verifier.split("$")
        assert method == "SCRAM-SHA-256"
        iterations, salt = params.split(":")
        stored_key, server_key = keys.split(":")
        assert int(iterations) == 4096
        assert len(base64.b64decode(salt)) == 16
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt),
                                     int(iterations))
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        assert base64.b64decode(stored_key) == hashlib.sha256(client_key).digest()
        assert base64.b64decode(server_key) == hmac.new(salted, b"Server Key", "sha256").digest()
    # Two users, two salts.
    salts = {users[n]["password"].split("$")[1].split(":")[1] for n in users}
    assert len(salts) == 2


def test_serve_without_an_auth_file_refuses_every_address_but_loopback(lake_dir):
    out = subprocess.run([_binary(), "serve", "--lake", str(lake_dir), "--listen", "0.0.0.0:0"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert out.stderr.strip().count("\n") == 0, out.stderr
    assert "refusing to listen on 0.0.0.0:0 without --auth-file" in out.stderr


# ---------------------------------------------------------------- psql


def psql(port, user, password, sql="SELECT 41 + 1", host="127.0.0.1", **params):
    conninfo = " ".join([f"host={host}", f"port={port}", f"user={user}", "dbname=chatlake",
                         "connect_timeout=10"] + [f"{k}={v}" for k, v in params.items()])
    env = {**os.environ, "PGPASSWORD": password}
    env.pop("PGSERVICE", None)
    return subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", conninfo,
                           "-c", sql], capture_output=True, text=True, env=env, timeout=60)


def test_psql_logs_in_with_scram_plain_and_over_verified_tls(secure, pki):
    out = psql(secure["port"], *ALICE, sslmode="disable")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "42"
    out = psql(secure["port"], *BOB, host="localhost", sslmode="verify-full",
               sslrootcert=pki["ca"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "42"
    # verify-full against a CA that did not sign the certificate: refused by psql.
    out = psql(secure["port"], *BOB, host="localhost", sslmode="verify-full",
               sslrootcert=pki["other_ca"])
    assert out.returncode != 0
    assert "certificate verify failed" in out.stderr, out.stderr


def test_psql_wrong_password_and_unknown_user_get_the_same_answer(secure):
    wrong = psql(secure["port"], "alice", "not it", sslmode="disable")
    unknown = psql(secure["port"], "mallory", "not it", sslmode="disable")
    assert wrong.returncode != 0 and unknown.returncode != 0
    assert f'{BAD_PASSWORD} "alice"' in wrong.stderr
    assert f'{BAD_PASSWORD} "mallory"' in unknown.stderr
    assert wrong.stderr.replace("alice", "X") == unknown.stderr.replace("mallory", "X")


# ---------------------------------------------------------------- psycopg 3


def test_psycopg3_scram_plus_over_tls_with_verify_full(secure, pki):
    import psycopg

    with psycopg.connect(host="localhost", port=secure["port"], user=ALICE[0],
                         password=ALICE[1], dbname="chatlake", sslmode="verify-full",
                         sslrootcert=str(pki["ca"]), channel_binding="require",
                         autocommit=True) as conn:
        # channel_binding=require: libpq accepts only SCRAM-SHA-256-PLUS.
        assert conn.pgconn.ssl_in_use
        assert conn.execute("SELECT 41 + 1").fetchone()[0] == 42


def test_psycopg3_direct_tls_of_postgres_17_clients(secure, pki):
    import psycopg

    if psycopg.pq.version() < 170000:
        missing(f"libpq {psycopg.pq.version()} has no sslnegotiation=direct")
    with psycopg.connect(host="localhost", port=secure["port"], user=BOB[0], password=BOB[1],
                         dbname="chatlake", sslmode="verify-full", sslnegotiation="direct",
                         sslrootcert=str(pki["ca"]), autocommit=True) as conn:
        assert conn.pgconn.ssl_in_use
        assert conn.execute("SELECT 41 + 1").fetchone()[0] == 42


@pytest.mark.parametrize("user,password", [("alice", "Wonder land"), ("mallory", ALICE[1]),
                                           ("nobody", "x")])
def test_psycopg3_bad_logins_are_28p01(secure, user, password):
    import psycopg

    with pytest.raises(psycopg.OperationalError) as e:
        psycopg.connect(host="127.0.0.1", port=secure["port"], user=user, password=password,
                        dbname="chatlake", sslmode="disable")
    assert f'{BAD_PASSWORD} "{user}"' in str(e.value)


# ---------------------------------------------------------------- psycopg2


def test_psycopg2_over_verified_tls_and_bad_password(secure, pki):
    psycopg2 = require_module("psycopg2")
    conn = psycopg2.connect(host="localhost", port=secure["port"], user=ALICE[0],
                            password=ALICE[1], dbname="chatlake", sslmode="verify-full",
                            sslrootcert=str(pki["ca"]))
    try:
        cur = conn.cursor()
        cur.execute("SELECT 41 + 1")
        assert cur.fetchone()[0] == 42
    finally:
        conn.close()
    with pytest.raises(psycopg2.OperationalError) as e:
        psycopg2.connect(host="127.0.0.1", port=secure["port"], user="alice", password="nope",
                         dbname="chatlake", sslmode="disable")
    assert f'{BAD_PASSWORD} "alice"' in str(e.value)


# ---------------------------------------------------------------- asyncpg


def test_asyncpg_scram_plain_and_tls_and_empty_password(secure, pki):
    asyncpg = require_module("asyncpg")
    import ssl

    async def run():
        conn = await asyncpg.connect(host="127.0.0.1", port=secure["port"], user=BOB[0],
                                     password=BOB[1], database="chatlake", ssl=False)
        plain = await conn.fetchval("SELECT 41 + 1")
        await conn.close()
        context = ssl.create_default_context(cafile=str(pki["ca"]))
        conn = await asyncpg.connect(host="localhost", port=secure["port"], user=BOB[0],
                                     password=BOB[1], database="chatlake", ssl=context)
        tls = await conn.fetchval("SELECT 41 + 1")
        await conn.close()
        errors = []
        for user, password in [("bob", ""), ("bob", "wrong"), ("mallory", "wrong")]:
            try:
                await asyncpg.connect(host="127.0.0.1", port=secure["port"], user=user,
                                      password=password, database="chatlake", ssl=False)
                errors.append(None)
            except asyncpg.PostgresError as e:
                errors.append((e.sqlstate, str(e)))
        return plain, tls, errors

    plain, tls, errors = asyncio.run(run())
    assert (plain, tls) == (42, 42)
    assert errors == [("28P01", f'{BAD_PASSWORD} "bob"'), ("28P01", f'{BAD_PASSWORD} "bob"'),
                      ("28P01", f'{BAD_PASSWORD} "mallory"')]


# ---------------------------------------------------------------- node-postgres


def node(port, user, password, ca=None):
    node_path = os.environ.get("CHATLAKE_NODE_PATH")
    if not node_path:
        missing("CHATLAKE_NODE_PATH not set (scripts/test installs pg)")
    args = ["node", str(HERE.parent / "node" / "auth_client.js"), str(port), user, password]
    if ca:
        args.append(str(ca))
    out = subprocess.run(args, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "NODE_PATH": node_path})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_node_postgres_scram_plain_tls_and_bad_password(secure, pki):
    assert node(secure["port"], *ALICE) == {"value": 42, "tls": False}
    assert node(secure["port"], *ALICE, ca=pki["ca"]) == {"value": 42, "tls": True}
    bad = node(secure["port"], "alice", "nope")
    assert bad["error_code"] == "28P01"
    assert bad["error_message"] == f'{BAD_PASSWORD} "alice"'


# ---------------------------------------------------------------- pgJDBC


def jdbc(port, user, password, tmp_path, ca=None):
    jar = os.environ.get("CHATLAKE_PGJDBC_JAR", "/usr/share/java/postgresql.jar")
    if not os.path.exists(jar):
        missing("pgJDBC not installed (scripts/test installs libpostgresql-jdbc-java)")
    classes = tmp_path / "classes"
    if not (classes / "JdbcAuth.class").exists():
        subprocess.run(["javac", "-cp", jar, "-d", str(classes),
                        str(HERE.parent / "java" / "JdbcAuth.java")], check=True,
                       capture_output=True, timeout=300)
    args = ["java", "-cp", f"{jar}:{classes}", "JdbcAuth", str(port), user, password]
    if ca:
        args.append(str(ca))
    out = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)


def test_pgjdbc_scram_plain_and_verified_tls_and_bad_password(secure, pki, tmp_path):
    assert jdbc(secure["port"], *BOB, tmp_path) == {"value": "42"}
    assert jdbc(secure["port"], *BOB, tmp_path, ca=pki["ca"]) == {"value": "42"}
    bad = jdbc(secure["port"], "mallory", "nope", tmp_path)
    assert bad["sqlstate"] == "28P01"
    assert f'{BAD_PASSWORD} "mallory"' in bad["message"]


# ---------------------------------------------------------------- --require-tls


def test_require_tls_refuses_plain_connections_and_serves_tls(tls_only, pki):
    import psycopg

    out = psql(tls_only["port"], *ALICE, sslmode="disable")
    assert out.returncode != 0
    assert "connection requires TLS" in out.stderr, out.stderr
    with pytest.raises(psycopg.OperationalError) as e:
        psycopg.connect(host="127.0.0.1", port=tls_only["port"], user=ALICE[0],
                        password=ALICE[1], dbname="chatlake", sslmode="disable")
    assert "connection requires TLS" in str(e.value)
    # The same client with TLS gets in.
    out = psql(tls_only["port"], *ALICE, host="localhost", sslmode="verify-full",
               sslrootcert=pki["ca"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "42"


# ---------------------------------------------------------------- the connection log


def test_every_connection_attempt_is_logged_once(secure, pki):
    before = secure["log"].read_text().count("connection attempt")
    assert psql(secure["port"], *ALICE, host="localhost", sslmode="verify-full",
                sslrootcert=pki["ca"]).returncode == 0
    assert psql(secure["port"], "alice", "wrong", sslmode="disable").returncode != 0
    assert psql(secure["port"], "mallory", "wrong", sslmode="disable").returncode != 0
    time.sleep(0.5)
    lines = [line for line in secure["log"].read_text().splitlines()
             if "connection attempt" in line][before:]
    assert len(lines) == 3, lines
    ok, wrong, unknown = lines
    assert "INFO" in ok and 'user=alice' in ok and "tls=yes" in ok and 'outcome="ok"' in ok
    assert "peer=127.0.0.1:" in ok
    assert 'user=alice' in wrong and "tls=no" in wrong and 'outcome="bad password"' in wrong
    assert 'user=mallory' in unknown and 'outcome="unknown user"' in unknown
    # A time stamp opens each line (tracing's default format).
    assert ok[:4].isdigit() and "T" in ok[:20]


# ---------------------------------------------------------------- tenant isolation


def test_a_tenant_user_sees_exactly_her_tenants_rows_as_duckdb_counts_them(lake_dir, sql_dir,
                                                                           tmp_path):
    """A user granted one tenant, logged in with SCRAM: every table's count equals DuckDB's count
    of that tenant's rows in the same Delta tables, whatever the query says about other
    tenants; an all-tenants user sees every row and may narrow to any tenant."""
    import psycopg
    import duckref

    duck = duckref.load(lake_dir)
    tenants = [r[0] for r in duck.execute("SELECT tenant_id FROM tenants ORDER BY 1").fetchall()]
    assert len(tenants) >= 2, tenants
    mine, other = tenants[0], tenants[1]
    users = tmp_path / "users.toml"
    user_add(users, "carol", "carol's pw", "--tenant", mine)
    user_add(users, "root", "root pw", "--all-tenants")
    proc, port = start(lake_dir, sql_dir, tmp_path / "serve.log", "--auth-file", str(users))
    try:
        def connect(user, password):
            return psycopg.connect(host="127.0.0.1", port=port, user=user, password=password,
                                   dbname="chatlake", autocommit=True)

        def duck_count(table, tenant=None):
            where = "" if tenant is None else f" WHERE tenant_id = '{tenant}'"
            return duck.execute(f"SELECT count(*) FROM {table}{where}").fetchone()[0]

        with connect("carol", "carol's pw") as carol:
            for table in duckref.TABLES:
                got = carol.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                assert got == duck_count(table, mine), table
            want = duck_count("messages", mine)
            assert want > 0 and duck_count("messages", other) > 0
            # Asking for the other tenant's rows outright, or around a filter, changes nothing.
            assert carol.execute("SELECT count(*) FROM messages WHERE tenant_id = %s",
                                 [other]).fetchone()[0] == 0
            assert carol.execute("SELECT count(*) FROM messages WHERE tenant_id = %s OR true",
                                 [other]).fetchone()[0] == want
            assert [r[0] for r in carol.execute(
                "SELECT DISTINCT tenant_id FROM messages UNION SELECT tenant_id FROM contacts"
            ).fetchall()] == [mine]
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                carol.execute(f"SET chatlake.tenant = '{other}'")
        with connect("root", "root pw") as root:
            assert root.execute("SELECT count(*) FROM messages").fetchone()[0] == \
                duck_count("messages")
            root.execute(f"SET chatlake.tenant = '{other}'")
            assert root.execute("SELECT count(*) FROM messages").fetchone()[0] == \
                duck_count("messages", other)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
