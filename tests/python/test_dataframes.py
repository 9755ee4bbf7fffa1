"""Dataframe clients over binary COPY: polars (connectorx and ADBC engines) and the ADBC
PostgreSQL driver's DBAPI (issue 20, points 3 and 4).

connectorx sends `COPY (query) TO STDOUT WITH BINARY`, the ADBC driver
`COPY (query) TO STDOUT (FORMAT binary)` after its `pg_type` query. Every answer is compared
with the same SQL's rows fetched by psycopg in text format (an independent decoder of an
independent wire format); psycopg's own binary COPY parser checks the framing byte for byte.
"""

import datetime
import decimal

import pytest

from needs import require_module

# One row per value kind the lake and the reports produce, with NULLs among them.
KINDS_SQL = """
SELECT * FROM (VALUES
    (CAST(1 AS INT), CAST(42 AS SMALLINT), CAST(7 AS INT), CAST(9007199254740993 AS BIGINT), CAST(1.5 AS DOUBLE),
     CAST(0.25 AS REAL), 'text with "quotes", commas and \\ backslash', true, DATE '2026-10-05',
     TIMESTAMPTZ '2026-10-05 23:30:00+05:30', TIMESTAMP '2026-10-05 12:00:00.123456',
     CAST(12.345 AS NUMERIC(10, 3))),
    (CAST(2 AS INT), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (CAST(3 AS INT), CAST(-32768 AS SMALLINT), CAST(-2147483648 AS INT), CAST(-1 AS BIGINT), CAST(-0.0 AS DOUBLE),
     CAST(3.0e38 AS REAL), '', false, DATE '1999-12-31', TIMESTAMPTZ '1970-01-01 00:00:00+00',
     TIMESTAMP '2000-01-01 00:00:00', CAST(-0.001 AS NUMERIC(10, 3)))
) AS t(id, i2, i4, i8, f8, f4, txt, flag, day, at_tz, at_local, amount)
ORDER BY id
"""

MESSAGES_SQL = ("SELECT message_id, tenant_id, channel_id, direction, ts, msg_type, is_template, "
                "calling_code, dt FROM messages ORDER BY tenant_id, channel_id, message_id")


def dsn(server):
    return f"postgresql://chatlake@{server['host']}:{server['port']}/chatlake"


def normalise(value):
    """One spelling per value across clients: UTC datetimes, floats for decimals."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.timezone.utc)
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def psycopg_rows(conn, sql):
    return [tuple(normalise(v) for v in row) for row in conn.execute(sql).fetchall()]


def without_real(rows):
    """The rows without the REAL column (index 5): float32 is compared approximately."""
    return [r[:5] + r[6:] for r in rows]


def reals(rows):
    return [r[5] for r in rows if r[5] is not None]


def frame_rows(columns):
    """Rows of a column-major {name: list} as tuples of normalised values."""
    return [tuple(normalise(v) for v in row) for row in zip(*columns)]


def test_binary_copy_decodes_in_psycopg_like_a_query(conn):
    # psycopg parses the PGCOPY stream itself: signature, per-row field counts, lengths, NULLs.
    expected = psycopg_rows(conn, KINDS_SQL)
    with conn.cursor() as cur:
        with cur.copy(f"COPY ({KINDS_SQL}) TO STDOUT (FORMAT binary)") as copy:
            copy.set_types(["int4", "int2", "int4", "int8", "float8", "float4", "text", "bool",
                            "date", "timestamptz", "timestamp", "numeric"])
            got = [tuple(normalise(v) for v in row) for row in copy.rows()]
        # A binary COPY's tag counts its rows.
        assert cur.rowcount == 3
    assert without_real(got) == without_real(expected)
    assert reals(got) == pytest.approx(reals(expected), rel=1e-6)


def test_binary_copy_refuses_text_options_like_postgres(conn):
    import psycopg

    # What PostgreSQL 15 answers for the same statements (run by hand against Debian's 15.18).
    for option, message, sqlstate in [
        ("HEADER", "cannot specify HEADER in BINARY mode", "0A000"),
        ("DELIMITER ','", "cannot specify DELIMITER in BINARY mode", "42601"),
        ("NULL 'x'", "cannot specify NULL in BINARY mode", "42601"),
        ("QUOTE '\"'", "COPY quote available only in CSV mode", "0A000"),
    ]:
        with pytest.raises(psycopg.Error) as err:
            with conn.cursor().copy(f"COPY (SELECT 1) TO STDOUT (FORMAT binary, {option})") as copy:
                list(copy)
        assert message in str(err.value)
        assert err.value.sqlstate == sqlstate, (option, err.value.sqlstate)


def test_polars_connectorx_reads_every_kind(server, conn):
    pl = require_module("polars")
    require_module("connectorx")
    frame = pl.read_database_uri(KINDS_SQL, dsn(server), engine="connectorx")
    assert frame.columns == ["id", "i2", "i4", "i8", "f8", "f4", "txt", "flag", "day", "at_tz",
                             "at_local", "amount"]
    got = frame_rows([frame[c].to_list() for c in frame.columns])
    expected = psycopg_rows(conn, KINDS_SQL)
    # REAL travels as float32: 3.0e38 reads back as 3.0000000054977558e+38 in every client.
    assert without_real(got) == without_real(expected)
    assert reals(got) == pytest.approx(reals(expected), rel=1e-6)


def test_polars_connectorx_and_adbc_read_the_lake(server, conn):
    pl = require_module("polars")
    require_module("connectorx")
    require_module("adbc_driver_postgresql")
    expected = psycopg_rows(conn, MESSAGES_SQL)
    assert len(expected) > 1000
    for engine in ["connectorx", "adbc"]:
        frame = pl.read_database_uri(MESSAGES_SQL, dsn(server), engine=engine)
        assert frame_rows([frame[c].to_list() for c in frame.columns]) == expected, engine


def test_adbc_dbapi_fetches_arrow_with_postgres_types(server, conn):
    dbapi = require_module("adbc_driver_postgresql.dbapi")
    pa = require_module("pyarrow")
    with dbapi.connect(dsn(server)) as adbc:
        with adbc.cursor() as cur:
            cur.execute(KINDS_SQL)
            table = cur.fetch_arrow_table()
    types = dict(zip(table.column_names, table.schema.types))
    assert types["i2"] == pa.int16() and types["i4"] == pa.int32() and types["i8"] == pa.int64()
    assert types["f8"] == pa.float64() and types["f4"] == pa.float32()
    assert types["txt"] == pa.string() and types["flag"] == pa.bool_()
    assert types["day"] == pa.date32()
    assert types["at_tz"] == pa.timestamp("us", tz="UTC")
    assert types["at_local"] == pa.timestamp("us")
    got = frame_rows([table.column(c).to_pylist() for c in table.column_names])
    expected = psycopg_rows(conn, KINDS_SQL)
    # ADBC reads NUMERIC as its decimal string.
    assert [r[:5] + r[6:11] for r in got] == [r[:5] + r[6:11] for r in expected]
    assert [r[11] if r[11] is None else float(r[11]) for r in got] == [r[11] for r in expected]
    assert reals(got) == pytest.approx(reals(expected), rel=1e-6)
