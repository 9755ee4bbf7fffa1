"""`chatlake ingest` of every format and compression, read back by independent readers.

The same rows are written by DuckDB as NDJSON, CSV and Parquet, gzip- and zstd-compressed;
each file is loaded into a fresh lake with `chatlake ingest`, and delta-rs's Python reader
(an independent Delta reader) reads the lake back. Expected rows come from DuckDB reading the
input, never from chatlake.
"""

import os
import subprocess

import duckdb
import pytest
from deltalake import DeltaTable

# Hand-written rows of analytics_events: timestamps in several offsets, a NULL label, a float.
ROWS = """
SELECT * FROM (VALUES
  ('acme', 'wa-main', 'k1', TIMESTAMPTZ '2026-10-01 08:05:30+00', 'goal', 'started', 'signup', NULL),
  ('acme', 'wa-main', 'k1', TIMESTAMPTZ '2026-10-01 14:39:00+05:30', 'goal', 'completed', 'signup', 1.5),
  ('acme', 'wa-main', 'k2', TIMESTAMPTZ '2026-10-02 23:59:59.25+00', 'menu', 'click', NULL, -2.0),
  ('beta', NULL, NULL, TIMESTAMPTZ '2026-10-03 00:00:00+00', 'behaviour', 'opened', 'app', 0.0)
) t(tenant_id, channel_id, contact_id, ts, category, action, label, value)
"""

FORMATS = [
    ("ndjson", "json", None),
    ("ndjson.gz", "json", "gzip"),
    ("ndjson.zst", "json", "zstd"),
    ("csv", "csv", None),
    ("csv.gz", "csv", "gzip"),
    ("parquet", "parquet", None),
]


def binary():
    path = os.environ.get("CHATLAKE_BIN")
    if not path or not os.path.exists(path):
        pytest.fail("set CHATLAKE_BIN to the chatlake binary (scripts/test does)")
    return path


def expected_rows():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rows = con.execute(f"""
        SELECT tenant_id, channel_id, contact_id, epoch_us(ts), category, action, label, value
        FROM ({ROWS}) ORDER BY ALL""").fetchall()
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("suffix,kind,compression", FORMATS)
def test_each_format_loads_the_same_rows(tmp_path, suffix, kind, compression):
    source = tmp_path / f"events.{suffix}"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    options = {"json": "FORMAT json", "csv": "FORMAT csv, HEADER", "parquet": "FORMAT parquet"}[kind]
    if compression:
        options += f", COMPRESSION {compression}"
    # Timestamps as RFC 3339 text with an offset in the text formats, typed in Parquet.
    select = ROWS if kind == "parquet" else f"""
        SELECT * REPLACE (strftime(ts, '%Y-%m-%dT%H:%M:%S.%f+00:00') AS ts) FROM ({ROWS})"""
    con.execute(f"COPY ({select}) TO '{source}' ({options})")

    lake = tmp_path / "lake"
    out = subprocess.run(
        [binary(), "ingest", "--lake", str(lake), "--table", "analytics_events", str(source)],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "4 rows read, 4 written, 0 rejected, 0 duplicates dropped" in out.stderr, out.stderr

    table = DeltaTable(str(lake / "analytics_events")).to_pyarrow_table()
    got = duckdb.connect()
    got.register("t", table)
    rows = got.execute("""
        SELECT tenant_id, channel_id, contact_id, epoch_us(ts), category, action, label, value
        FROM t ORDER BY ALL""").fetchall()
    assert [tuple(r) for r in rows] == expected_rows()
    # dt is the UTC date of ts (Hive partition directories).
    days = got.execute("SELECT DISTINCT CAST(dt AS VARCHAR) FROM t ORDER BY 1").fetchall()
    assert [d[0] for d in days] == ["2026-10-01", "2026-10-02", "2026-10-03"]

    # The same file again adds nothing.
    again = subprocess.run(
        [binary(), "ingest", "--lake", str(lake), "--table", "analytics_events", str(source)],
        capture_output=True, text=True, timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert "4 rows read, 0 written, 0 rejected, 4 duplicates dropped" in again.stderr
    assert DeltaTable(str(lake / "analytics_events")).to_pyarrow_table().num_rows == 4
