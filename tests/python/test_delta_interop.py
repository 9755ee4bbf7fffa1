"""The lake is a real Delta lake: an independent reader (delta-rs's Python package, with
DuckDB for the arithmetic) reads what chatlake wrote, and gets the answers chatlake serves.

Expected values come from the independent reader, never from chatlake itself.
"""

import duckdb
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

TABLES = [
    "tenants", "channels", "messages", "message_statuses", "contacts", "contact_events",
    "flow_events", "campaigns", "campaign_recipients", "analytics_events", "comments",
    "chat_events", "conversations",
]
DIMENSIONS = {"tenants", "channels", "contacts"}


def scalar(conn, sql, params=None):
    return conn.execute(sql, params).fetchone()[0]


@pytest.mark.parametrize("table", TABLES)
def test_row_counts_match_an_independent_delta_reader(lake_dir, conn, table):
    dt = DeltaTable(str(lake_dir / table))
    expected = dt.to_pyarrow_table().num_rows
    assert expected > 0
    assert scalar(conn, f"SELECT count(*) FROM {table}") == expected


@pytest.mark.parametrize("table", TABLES)
def test_partitioning_is_hive_dt_for_fact_tables_only(lake_dir, table):
    dt = DeltaTable(str(lake_dir / table))
    partition_columns = dt.metadata().partition_columns
    if table in DIMENSIONS:
        assert partition_columns == []
    else:
        assert partition_columns == ["dt"]
        for uri in dt.file_uris():
            parent = uri.rstrip("/").split("/")[-2]
            assert parent.startswith("dt=") and len(parent) == len("dt=YYYY-MM-DD"), uri


def test_message_aggregates_match_duckdb_over_the_delta_snapshot(lake_dir, conn):
    messages = DeltaTable(str(lake_dir / "messages")).to_pyarrow_table()
    con = duckdb.connect()
    con.register("messages", messages)
    expected = con.execute("""
        SELECT CAST(dt AS VARCHAR), direction, count(*), count(DISTINCT contact_id)
        FROM messages GROUP BY 1, 2 ORDER BY 1, 2""").fetchall()
    got = conn.execute("""
        SELECT CAST(dt AS VARCHAR), direction, count(*), count(DISTINCT contact_id)
        FROM messages GROUP BY 1, 2 ORDER BY 1, 2""").fetchall()
    assert [tuple(r) for r in got] == [tuple(r) for r in expected]


def test_status_join_matches_duckdb(lake_dir, conn):
    con = duckdb.connect()
    con.register("messages", DeltaTable(str(lake_dir / "messages")).to_pyarrow_table())
    con.register("statuses", DeltaTable(str(lake_dir / "message_statuses")).to_pyarrow_table())
    sql = """
        SELECT m.tenant_id, s.status, count(DISTINCT s.message_id)
        FROM {statuses} s JOIN messages m
          ON m.tenant_id = s.tenant_id AND m.channel_id = s.channel_id AND m.message_id = s.message_id
        GROUP BY 1, 2 ORDER BY 1, 2"""
    expected = con.execute(sql.format(statuses="statuses")).fetchall()
    got = conn.execute(sql.format(statuses="message_statuses")).fetchall()
    assert [tuple(r) for r in got] == [tuple(r) for r in expected]


def test_data_files_are_sorted_zstd_with_page_index(lake_dir):
    dt = DeltaTable(str(lake_dir / "messages"))
    uris = dt.file_uris()
    assert uris
    for uri in uris[:10]:
        path = uri.removeprefix("file://")
        meta = pq.ParquetFile(path).metadata
        column = meta.row_group(0).column(0)
        assert column.compression == "ZSTD"
        assert column.has_column_index and column.has_offset_index
        assert column.statistics is not None and column.statistics.has_min_max
        table = pq.read_table(path, columns=["tenant_id", "channel_id", "contact_id", "ts"])
        keys = list(zip(*(table.column(c).to_pylist() for c in table.column_names)))
        assert keys == sorted(keys), f"{path} is sorted by (tenant_id, channel_id, contact_id, ts)"


def test_timestamps_are_utc_microseconds(lake_dir):
    import pyarrow as pa

    dt = DeltaTable(str(lake_dir / "messages"))
    assert dt.to_pyarrow_table().schema.field("ts").type == pa.timestamp("us", tz="UTC")
    path = dt.file_uris()[0].removeprefix("file://")
    assert pq.read_schema(path).field("ts").type == pa.timestamp("us", tz="UTC")


def test_parameters_and_types_through_psycopg(conn):
    tenant = scalar(conn, "SELECT min(tenant_id) FROM tenants")
    n = scalar(conn, "SELECT count(*) FROM messages WHERE tenant_id = %s", (tenant,))
    total_by_tenant = conn.execute(
        "SELECT tenant_id, count(*) FROM messages GROUP BY 1 ORDER BY 1").fetchall()
    assert dict(total_by_tenant)[tenant] == n
    row = conn.execute("SELECT min(ts), min(dt), bool_or(is_template) FROM messages").fetchone()
    import datetime
    assert isinstance(row[0], datetime.datetime) and row[0].utcoffset() == datetime.timedelta(0)
    assert isinstance(row[1], datetime.date)
    assert row[2] is True
