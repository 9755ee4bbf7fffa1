"""Real Postgres drivers against `chatlake serve`: psycopg 3, psycopg2, SQLAlchemy 2.0 and 1.4
(`inspect()`, what Superset uses), asyncpg (params, pool) — each the way it talks to a server
(captured in shared/reference/clients.md).

Expected values come from the lake's schema (src/lake/schema.rs: types and nullability), from
PostgreSQL's documented behaviour, or from a plain query on the same connection computed a
different way — never pasted from chatlake's output.
"""

import asyncio
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from needs import missing, require_module

HERE = Path(__file__).parent
# Every view the server lists: the product's sql/views files (`NNN_name.sql` creates `name`)
# plus the one conftest adds.
EXPECTED_VIEWS = sorted([f.stem.split("_", 1)[1] for f in (HERE.parent.parent / "sql" / "views")
                         .glob("*.sql")] + ["tenant_messages"])


def dsn(server, driver="postgresql"):
    return f"{driver}://analyst@{server['host']}:{server['port']}/chatlake"


# ---------------------------------------------------------------- psycopg 3


def test_psycopg3_parameters_bind_like_postgres(conn):
    # psycopg 3 binds a small Python int as int2 and a str as unknown (OID 0): the server
    # must compare int2 with the int4 column and infer the text type.
    total = conn.execute("SELECT count(*) FROM messages WHERE calling_code = 57").fetchone()[0]
    bound = conn.execute("SELECT count(*) FROM messages WHERE calling_code = %s", [57]).fetchone()[0]
    assert bound == total
    direction = conn.execute("SELECT min(direction) FROM messages").fetchone()[0]
    n = conn.execute("SELECT count(*) FROM messages WHERE direction = %s", [direction]).fetchone()[0]
    assert n == conn.execute(f"SELECT count(*) FROM messages WHERE direction = '{direction}'"
                             ).fetchone()[0]
    assert conn.execute("SELECT %s || 'x'", ["a"]).fetchone()[0] == "ax"
    when = datetime.datetime(2026, 10, 1, tzinfo=datetime.timezone.utc)
    later = conn.execute("SELECT count(*) FROM messages WHERE ts >= %s", [when]).fetchone()[0]
    assert later == conn.execute(
        "SELECT count(*) FROM messages WHERE ts >= '2026-10-01 00:00:00+00'").fetchone()[0]


def test_psycopg3_binary_results_decode_to_python_types(conn):
    with conn.cursor(binary=True) as cur:
        cur.execute("SELECT ts, is_template, calling_code, message_id FROM messages "
                    "WHERE calling_code IS NOT NULL ORDER BY message_id LIMIT 1")
        ts, is_template, calling_code, message_id = cur.fetchone()
    assert isinstance(ts, datetime.datetime) and ts.tzinfo is not None
    assert isinstance(is_template, bool)
    assert isinstance(calling_code, int)
    assert isinstance(message_id, str)
    # The same row in text format gives the same values.
    row = conn.execute("SELECT ts, is_template, calling_code FROM messages "
                       "WHERE message_id = %s", [message_id]).fetchone()
    assert row == (ts, is_template, calling_code)


def test_psycopg3_named_cursor_streams_all_rows(conn):
    total = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    seen = 0
    with conn.transaction():
        with conn.cursor("ssc") as cur:
            cur.itersize = 1000
            cur.execute("SELECT message_id FROM messages WHERE ts > %s",
                        [datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)])
            assert [d.name for d in cur.description] == ["message_id"]
            first = cur.fetchmany(10)
            assert len(first) == 10
            seen = len(first) + sum(1 for _ in cur)
    assert seen == total


def test_psycopg3_executemany_and_prepared_statements(conn):
    with conn.cursor() as cur:
        cur.executemany("SELECT %s::int8 * 2", [(1,), (2,), (3,)], returning=True)
        results = []
        while True:
            results.append(cur.fetchone()[0])
            if not cur.nextset():
                break
    assert results == [2, 4, 6]
    # Past prepare_threshold (5) psycopg names the statement and sends Bind only.
    for i in range(8):
        assert conn.execute("SELECT %s::int8 + 1", [i], prepare=None).fetchone()[0] == i + 1
    conn.execute("DEALLOCATE ALL")
    assert conn.execute("SELECT 1").fetchone()[0] == 1


def test_psycopg3_list_parameter_for_any(conn):
    # psycopg 3 sends a list of str as an untyped text array ('{r,v}'): `= ANY(%s)` reads it as
    # an array of the column's type (pgcli's completion queries do this).
    kinds = conn.execute("SELECT count(*) FROM pg_catalog.pg_class WHERE relkind = ANY(%s)",
                         [["r", "v"]]).fetchone()[0]
    assert kinds == conn.execute(
        "SELECT count(*) FROM pg_catalog.pg_class WHERE relkind IN ('r', 'v')").fetchone()[0]
    codes = conn.execute("SELECT count(*) FROM messages WHERE calling_code = ANY(%s)",
                         [[57, 1]]).fetchone()[0]
    assert codes == conn.execute(
        "SELECT count(*) FROM messages WHERE calling_code IN (57, 1)").fetchone()[0]


def test_row_description_names_table_columns(conn):
    # RowDescription's table OID and column number match pg_attribute for plain column
    # references (pgJDBC and GUI editors use them); computed columns have 0, as in PostgreSQL.
    expected = dict(((name, (rel, num)) for rel, num, name in conn.execute(
        "SELECT a.attrelid, a.attnum, a.attname FROM pg_catalog.pg_attribute a "
        "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid WHERE c.relname = 'messages'")))
    for binary in (False, True):
        cur = conn.cursor(binary=binary)
        cur.execute("SELECT m.message_id, m.ts AS sent, calling_code + 1 FROM messages m "
                    "WHERE direction = %s LIMIT 1", ["inbound"])
        result = cur.pgresult
        origins = [(result.ftable(i), result.ftablecol(i)) for i in range(result.nfields)]
        assert origins == [expected["message_id"], expected["ts"], (0, 0)]


def test_report_arguments_bind_as_parameters(conn):
    # `SELECT * FROM report($1, $2)` over the extended protocol (psycopg 3 binds server-side):
    # the same rows as the literal call, with date objects, untyped strings, and as a prepared
    # statement reused with other values.
    first, last = conn.execute("SELECT min(dt), max(dt) FROM messages").fetchone()
    start, end = first + datetime.timedelta(days=3), first + datetime.timedelta(days=9)

    def literal(a, b):
        return conn.execute(f"SELECT * FROM stella_users('{a}', '{b}') ORDER BY 1").fetchall()

    expected = literal(start, end)
    assert len(expected) == 7  # one row per day (sql/reports/stella_users.sql)
    assert conn.execute("SELECT * FROM stella_users(%s, %s) ORDER BY 1",
                        [start, end]).fetchall() == expected
    assert conn.execute("SELECT * FROM stella_users(%s, %s) ORDER BY 1",
                        [str(start), str(end)]).fetchall() == expected
    # Bound report arguments mix with other parameters; NULL is the parameter's default.
    day = conn.execute("SELECT day, user_messages FROM stella_users(%s, %s, NULL, %s) "
                       "WHERE day = %s", [start, end, "UTC", start]).fetchall()
    assert day == [(r[0], r[1]) for r in expected if r[0] == start]
    # Past psycopg's prepare_threshold the named statement is reused with new values.
    for offset in range(7):
        a = first + datetime.timedelta(days=offset)
        got = conn.execute("SELECT * FROM stella_users(%s, %s) ORDER BY 1", [a, a],
                           prepare=None).fetchall()
        assert got == literal(a, a)
    # A bad argument is the report's error (to_date before from_date: 22023).
    import psycopg

    with pytest.raises(psycopg.errors.InvalidParameterValue):
        conn.execute("SELECT * FROM stella_users(%s, %s)", [end, start])


def test_psycopg3_errors_carry_sqlstates(conn):
    import psycopg

    with pytest.raises(psycopg.errors.UndefinedTable):
        conn.execute("SELECT * FROM no_such_table")
    with pytest.raises(psycopg.errors.SyntaxError):
        conn.execute("SELEC 1")
    assert conn.execute("SELECT 1").fetchone()[0] == 1


# ---------------------------------------------------------------- psycopg2


def test_psycopg2_queries_and_named_cursor(server):
    import psycopg2

    conn = psycopg2.connect(host=server["host"], port=server["port"], user="analyst",
                            dbname="chatlake")
    try:
        cur = conn.cursor()
        # Parameters are interpolated client-side and sent as one simple query.
        cur.execute("SELECT %s::int8 + %s, %s", (40, 2, "it's"))
        assert cur.fetchone() == (42, "it's")
        cur.execute("SELECT count(*) FROM messages")
        total = cur.fetchone()[0]
        named = conn.cursor(name="ssc")  # DECLARE "ssc" CURSOR WITHOUT HOLD FOR …
        named.itersize = 500
        named.execute("SELECT message_id FROM messages")
        assert sum(1 for _ in named) == total
        named.close()
        conn.commit()
        cur.execute("SHOW TimeZone")
        assert cur.fetchone()[0] == "UTC"
    finally:
        conn.close()


# ---------------------------------------------------------------- SQLAlchemy


def inspect_summary(url):
    """What SQLAlchemy's Inspector says about the lake (same shape as sqla_inspect.py)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        insp = sqlalchemy.inspect(engine)
        columns = {c["name"]: c for c in insp.get_columns("messages", schema="public")}
        return {
            "version": sqlalchemy.__version__,
            "tables": sorted(insp.get_table_names(schema="public")),
            "views": sorted(insp.get_view_names(schema="public")),
            "schemas": sorted(insp.get_schema_names()),
            "types": {name: str(columns[name]["type"]) for name in
                      ("message_id", "ts", "is_template", "calling_code")},
            "nullable": {name: columns[name]["nullable"] for name in ("message_id", "wa_id")},
            "view_sql": insp.get_view_definition("tenant_messages", schema="public"),
        }
    finally:
        engine.dispose()


def check_inspect(summary):
    assert "messages" in summary["tables"] and "contacts" in summary["tables"]
    assert "tenant_messages" not in summary["tables"]
    assert summary["views"] == EXPECTED_VIEWS
    assert "public" in summary["schemas"]
    # src/lake/schema.rs: message_id utf8 not null, ts timestamptz, is_template boolean,
    # calling_code int32 null; as PostgreSQL types.
    assert summary["types"] == {"message_id": "TEXT", "ts": "TIMESTAMP",
                                "is_template": "BOOLEAN", "calling_code": "INTEGER"}
    assert summary["nullable"] == {"message_id": False, "wa_id": True}
    assert "GROUP BY tenant_id" in (summary["view_sql"] or "")


@pytest.mark.parametrize("driver", ["postgresql+psycopg2", "postgresql+psycopg"])
def test_sqlalchemy_2_inspect(server, driver):
    summary = inspect_summary(dsn(server, driver))
    assert summary["version"].startswith("2.")
    check_inspect(summary)


@pytest.mark.parametrize("driver", ["postgresql+psycopg2", "postgresql+psycopg"])
def test_sqlalchemy_2_keys_and_indexes_are_empty(server, driver):
    import sqlalchemy

    engine = sqlalchemy.create_engine(dsn(server, driver))
    try:
        insp = sqlalchemy.inspect(engine)
        # The lake has no keys, indexes or constraints: empty answers, not errors.
        assert insp.get_pk_constraint("messages")["constrained_columns"] == []
        assert insp.get_indexes("messages") == []
        assert insp.get_foreign_keys("messages") == []
        assert insp.get_unique_constraints("messages") == []
        assert insp.get_check_constraints("messages") == []
        # Reflecting a whole table (what Superset's "add dataset" does) runs all of them.
        table = sqlalchemy.Table("messages", sqlalchemy.MetaData(), autoload_with=engine)
        assert "message_id" in table.c and list(table.primary_key.columns) == []
        assert table.indexes == set() and table.foreign_keys == set()
    finally:
        engine.dispose()


def test_sqlalchemy_2_timestamptz_is_timezone_aware(server):
    import sqlalchemy

    engine = sqlalchemy.create_engine(dsn(server, "postgresql+psycopg2"))
    try:
        ts = sqlalchemy.inspect(engine).get_columns("messages")
        ts = next(c for c in ts if c["name"] == "ts")
        assert ts["type"].timezone is True
        with engine.connect() as c:
            n = c.execute(sqlalchemy.text("SELECT count(*) FROM messages WHERE direction = :d"),
                          {"d": "inbound"}).scalar()
            assert n == c.execute(sqlalchemy.text(
                "SELECT count(*) FROM messages WHERE direction = 'inbound'")).scalar()
    finally:
        engine.dispose()


def test_sqlalchemy_1_4_inspect(server):
    python = os.environ.get("CHATLAKE_SQLA14_PYTHON")
    if not python:
        missing("CHATLAKE_SQLA14_PYTHON not set (scripts/test sets it)")
    out = subprocess.run([python, str(HERE / "sqla_inspect.py"), dsn(server, "postgresql+psycopg2")],
                         check=True, capture_output=True, text=True, timeout=120)
    summary = json.loads(out.stdout)
    assert summary["version"].startswith("1.4.")
    check_inspect(summary)
    # SQLAlchemy 1.4's key queries differ from 2.0's (`ix.indisprimary = 'f'`, `indkey::varchar`).
    assert summary["keys"] == {"pk": [], "indexes": [], "fks": [], "unique": []}


@pytest.mark.parametrize("driver", ["postgresql+psycopg", "postgresql+psycopg2"])
def test_sqlalchemy_2_1_inspect_and_pandas_read_sql_table(server, conn, driver):
    # Today's releases: SQLAlchemy 2.1's column query puts correlated catalog subqueries inside
    # CASE (defaults, identity options, collations); pandas 3's read_sql_table reflects through it.
    python = os.environ.get("CHATLAKE_SQLA21_PYTHON")
    if not python:
        missing("CHATLAKE_SQLA21_PYTHON not set (scripts/test sets it)")
    out = subprocess.run([python, str(HERE / "sqla_inspect.py"), dsn(server, driver)],
                         check=True, capture_output=True, text=True, timeout=120)
    summary = json.loads(out.stdout)
    assert summary["version"].startswith("2.1."), summary["version"]
    check_inspect(summary)
    assert summary["keys"] == {"pk": [], "indexes": [], "fks": [], "unique": []}
    tenants = conn.execute("SELECT count(*) FROM tenants").fetchone()[0]
    assert summary["pandas"]["rows"] == tenants > 0
    assert summary["pandas"]["columns"][:1] == ["tenant_id"], summary["pandas"]


# ---------------------------------------------------------------- pgcli


def test_pgcli_completion_refresh_and_special_commands(server):
    # pgcli's own code: the completion refresher's catalog queries (schemas, tables, views,
    # columns, foreign keys, functions, types, databases) and pgspecial's backslash commands.
    pgexecute = require_module("pgcli.pgexecute")
    from pgcli.completion_refresher import CompletionRefresher
    from pgcli.pgcompleter import PGCompleter
    from pgspecial.main import PGSpecial
    from prompt_toolkit.document import Document

    executor = pgexecute.PGExecute(database="chatlake", user="analyst", password=None,
                                   host=server["host"], port=server["port"], dsn=None)
    try:
        special = PGSpecial()
        completer = PGCompleter(smart_completion=True, pgspecial=special)
        for name, refresh in CompletionRefresher.refreshers.items():
            refresh(completer, executor)  # raises on any failing query
        tables = completer.dbmetadata["tables"]["public"]
        assert {"messages", "contacts", "tenants"} <= set(tables)
        assert {"message_id", "ts", "calling_code"} <= set(tables["messages"])
        assert "tenant_messages" in completer.dbmetadata["views"]["public"]
        assert completer.dbmetadata["functions"]["pg_catalog"]  # builtins from pg_proc

        def complete(text):
            document = Document(text=text, cursor_position=len(text))
            return [c.text for c in completer.get_completions(document, None)]

        assert "messages" in complete("SELECT * FROM mess")
        assert "ts" in complete("SELECT * FROM messages WHERE t")

        def run(command):
            [(title, rows, headers, status, *_)] = list(executor.run(command, pgspecial=special))
            return headers, list(rows or [])

        headers, rows = run("\\dt")
        assert headers[:3] == ["Schema", "Name", "Type"]
        assert ("public", "messages", "table") in [tuple(r[:3]) for r in rows]
        headers, rows = run("\\d messages")
        assert headers[:2] == ["Column", "Type"]
        columns = {r[0]: r[1] for r in rows}
        assert columns["ts"] == "timestamp with time zone" and columns["calling_code"] == "integer"
        _, rows = run("\\dv")
        assert sorted(r[1] for r in rows) == EXPECTED_VIEWS
        _, rows = run("\\di")
        assert rows == []  # no indexes in the lake
    finally:
        executor.conn.close()


# ---------------------------------------------------------------- asyncpg


def test_asyncpg_fetch_with_parameters_and_pool(server):
    import asyncpg

    async def run():
        conn = await asyncpg.connect(host=server["host"], port=server["port"], user="analyst",
                                     database="chatlake")
        try:
            total = await conn.fetchval("SELECT count(*) FROM messages WHERE calling_code = 57")
            n = await conn.fetchval("SELECT count(*) FROM messages WHERE calling_code = $1", 57)
            assert n == total
            rows = await conn.fetch("SELECT message_id, ts FROM messages WHERE calling_code = $1 "
                                    "ORDER BY message_id LIMIT 3", 57)
            assert len(rows) == 3 and rows[0]["ts"].tzinfo is not None
            # LIMIT and OFFSET parameters are bigint, as in PostgreSQL: asyncpg sends ints.
            stmt = await conn.prepare("SELECT message_id FROM messages ORDER BY message_id "
                                      "LIMIT $1 OFFSET $2")
            assert [t.name for t in stmt.get_parameters()] == ["int8", "int8"]
            first = await conn.fetch("SELECT message_id FROM messages ORDER BY message_id LIMIT 3")
            page = await stmt.fetch(2, 1)
            assert [r["message_id"] for r in page] == [r["message_id"] for r in first[1:]]
            assert await conn.fetchval("SELECT $1::text || 'x'", "a") == "ax"
            # Report arguments as parameters: typed from the report (date), then bound.
            report = await conn.prepare("SELECT * FROM stella_users($1, $2) ORDER BY 1")
            assert [t.name for t in report.get_parameters()] == ["date", "date"]
            first = await conn.fetchval("SELECT min(dt) FROM messages")
            last = first + datetime.timedelta(days=2)
            assert await report.fetch(first, last) == await conn.fetch(
                f"SELECT * FROM stella_users('{first}', '{last}') ORDER BY 1")
        finally:
            await conn.close()
        pool = await asyncpg.create_pool(host=server["host"], port=server["port"],
                                         user="analyst", database="chatlake",
                                         min_size=1, max_size=2)
        try:
            for _ in range(3):
                # Release runs asyncpg's reset: pg_advisory_unlock_all(), CLOSE ALL,
                # UNLISTEN *, RESET ALL — in one simple query.
                async with pool.acquire() as c:
                    assert await c.fetchval("SELECT 41 + $1::int8", 1) == 42
        finally:
            await pool.close()

    asyncio.run(run())



def test_asyncpg_array_parameters_and_columns(server, conn):
    # Arrays other than text[]/oid[] send asyncpg into its type introspection query first.
    import asyncpg

    codes = [91, 55]
    expected_count = conn.execute("SELECT count(*) FROM messages WHERE calling_code IN (91, 55)").fetchone()[0]
    expected_ts = [r[0] for r in conn.execute("SELECT ts FROM messages ORDER BY message_id LIMIT 3")]
    assert expected_count > 0

    async def run():
        c = await asyncpg.connect(host=server["host"], port=server["port"], user="analyst",
                                  database="chatlake")
        try:
            assert await c.fetchval("SELECT count(*) FROM messages WHERE calling_code = ANY($1::int8[])",
                                    codes) == expected_count
            instants = await c.fetchval("SELECT $1::timestamptz[]", expected_ts)
            assert instants == expected_ts
            stamps = await c.fetchval("SELECT array_agg(ts ORDER BY message_id) FROM "
                                      "(SELECT message_id, ts FROM messages ORDER BY message_id LIMIT 3) t")
            assert stamps == expected_ts
            assert await c.fetchval("SELECT ARRAY[1.5, 2.5]") == [1.5, 2.5]
        finally:
            await c.close()

    asyncio.run(run())

# ---------------------------------------------------------------- node-postgres


def test_node_postgres_and_pg_cursor(server):
    node_path = os.environ.get("CHATLAKE_NODE_PATH")
    if not node_path:
        missing("CHATLAKE_NODE_PATH not set (scripts/test installs pg and pg-cursor)")
    script = HERE.parent / "node" / "pg_client.js"
    out = subprocess.run(["node", str(script), str(server["port"])], check=True,
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "NODE_PATH": node_path})
    result = json.loads(out.stdout)
    assert result["bound"] == result["literal"]
    assert result["since"] == result["since_literal"]
    assert result["named"] == [1, 2, 3]
    # int4 columns come back as JS numbers (integer literals are int8 here: cast).
    assert result["array_mode"] == [1, 2]
    assert result["cursor_rows"] == result["total"]
    assert result["after_cursor"] == 42
    assert result["error_code"] == "42P01"


# ---------------------------------------------------------------- pgJDBC


def test_pgjdbc_metadata_prepared_statements_and_fetch_size(server, tmp_path):
    jar = os.environ.get("CHATLAKE_PGJDBC_JAR", "/usr/share/java/postgresql.jar")
    if not os.path.exists(jar):
        missing("pgJDBC not installed (scripts/test installs libpostgresql-jdbc-java)")
    source = HERE.parent / "java" / "JdbcClient.java"
    subprocess.run(["javac", "-cp", jar, "-d", str(tmp_path), str(source)], check=True,
                   capture_output=True, timeout=300)
    out = subprocess.run(["java", "-cp", f"{jar}:{tmp_path}", "JdbcClient", str(server["port"])],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    assert result["product"] == "PostgreSQL"
    assert result["major"] == "16"
    assert result["schemas_has_public"] == "true"
    assert result["tables_has_messages"] == "true"
    assert result["views"] == ",".join(EXPECTED_VIEWS)
    # java.sql.Types: TIMESTAMP_WITH_TIMEZONE is 2014 in JDBC 4.2, but pgJDBC reports
    # timestamptz as TIMESTAMP (93); VARCHAR 12 for text; INTEGER 4; BIT -7 for bool.
    # NULLABLE: columnNoNulls 0, columnNullable 1 (schema.rs: message_id NOT NULL).
    assert result["col_ts"] == "timestamptz/93/0"
    assert result["col_message_id"] == "text/12/0"
    assert result["col_calling_code"] == "int4/4/1"
    assert result["col_is_template"] == "bool/-7/0"
    # The lake has no keys or indexes: getPrimaryKeys (information_schema._pg_expandarray over
    # pg_index.indkey), getIndexInfo, getImportedKeys and getExportedKeys (conkey[n]) return
    # no rows rather than failing.
    assert result["primary_keys"] == "0"
    assert result["indexes"] == "0"
    assert result["imported_keys"] == "0"
    assert result["exported_keys"] == "0"
    # sql/reports/stella_users.sql: "-- Stella dashboard, …"; one row per day of the range.
    assert result["function_type"] == "2"  # DatabaseMetaData.functionReturnsTable
    assert result["function_remarks_start"] == "Stella dashboard"
    assert result["report_days"] == "3"
    assert result["param_count"] == "1"
    assert result["prepared_matches_literal"] == "true"
    assert result["timestamp_param_ok"] == "true"
    assert result["rsmd_columns"] == "3" and result["rsmd_ts_type"] == "timestamptz"
    # ResultSetMetaData.isNullable: columnNoNulls (0) — message_id is NOT NULL in schema.rs;
    # without a table OID in RowDescription pgJDBC would answer columnNullableUnknown (2).
    assert result["rsmd_message_id_nullable"] == "0"
    assert result["rsmd_message_id_table"] == "messages"
    assert result["fetch_size_rows_match"] == "true"
    assert result["valid"] == "true"
