"""`chatlake export`: what it writes is read back by independent readers and equals the lake.

The lake side is read by delta-rs's Python package (DeltaTable -> Arrow), the export side by
DuckDB (read_parquet / read_json / read_csv, typed from the BigQuery schema file the export
wrote), and they are compared in DuckDB row for row (EXCEPT ALL both ways: every row of each
side, with its multiplicity, is in the other). Expected values never come from chatlake.
"""

import hashlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import time

import boto3
import duckdb
import pytest
from deltalake import DeltaTable

from conftest import _binary, _free_port, wait_for_port

TABLES = ["tenants", "channels", "messages", "message_statuses", "contacts", "contact_events",
          "flow_events", "campaigns", "campaign_recipients", "analytics_events", "comments",
          "chat_events", "conversations"]
DIMENSIONS = {"tenants", "channels", "contacts"}

# BigQuery's types as DuckDB reads them (for the text formats, which carry no types).
BQ_TO_DUCKDB = {"STRING": "VARCHAR", "TIMESTAMP": "TIMESTAMPTZ", "DATE": "DATE",
                "BOOLEAN": "BOOLEAN", "INTEGER": "BIGINT", "FLOAT": "DOUBLE"}
# The lake's Arrow types as BigQuery loads them (written from BigQuery's type list).
ARROW_TO_BQ = {"string": "STRING", "timestamp[us, tz=UTC]": "TIMESTAMP", "date32[day]": "DATE",
               "bool": "BOOLEAN", "int32": "INTEGER", "int64": "INTEGER", "double": "FLOAT"}


def run(*args, check=True, env=None):
    proc = subprocess.run([_binary(), *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=600)
    if check and proc.returncode != 0:
        pytest.fail(f"chatlake {' '.join(map(str, args))} failed:\n{proc.stderr}")
    return proc


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def manifest(dest):
    return json.loads((pathlib.Path(dest) / "manifest.json").read_text())


def lake_arrow(lake, table):
    return DeltaTable(str(pathlib.Path(lake) / table)).to_pyarrow_table()


def read_export(con, dest, table, fmt, layout, files=None):
    """Registers view `exp` over the export of `table` (the files its manifest lists)."""
    m = manifest(dest)
    if files is None:
        files = [f["path"] for d in m["tables"][table]["days"] for f in d["files"]]
    paths = [str(pathlib.Path(dest) / f) for f in files]
    hive = layout == "hive" and table not in DIMENSIONS
    if fmt == "parquet":
        source = f"read_parquet({paths!r}, hive_partitioning = {str(hive).lower()})"
    else:
        schema = json.loads((pathlib.Path(dest) / m["tables"][table]["bigquery_schema"]).read_text())
        columns = {f["name"]: BQ_TO_DUCKDB[f["type"]] for f in schema}
        if fmt == "ndjson":
            source = (f"read_json({paths!r}, format = 'newline_delimited', columns = {columns!r}, "
                      f"hive_partitioning = {str(hive).lower()})")
        else:
            # RFC 4180, as BigQuery's CSV loader reads by default.
            source = (f"read_csv({paths!r}, header = true, delim = ',', quote = '\"', "
                      f"escape = '\"', columns = {columns!r}, "
                      f"hive_partitioning = {str(hive).lower()})")
    if hive:
        # The Hive layout names the day in the path only.
        source = f"(SELECT * REPLACE (CAST(dt AS DATE) AS dt) FROM {source})"
    con.execute(f"CREATE OR REPLACE VIEW exp AS SELECT * FROM {source}")


def assert_same_rows(con, columns, where="TRUE"):
    """`lake` (filtered by `where`) and `exp` hold the same rows, each as often."""
    cols = ", ".join(columns)
    lake_rows = con.execute(f"SELECT count(*) FROM lake WHERE {where}").fetchone()[0]
    exp_rows = con.execute("SELECT count(*) FROM exp").fetchone()[0]
    assert exp_rows == lake_rows
    missing = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM lake WHERE {where} "
                          f"EXCEPT ALL SELECT {cols} FROM exp)").fetchone()[0]
    extra = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM exp "
                        f"EXCEPT ALL SELECT {cols} FROM lake WHERE {where})").fetchone()[0]
    assert (missing, extra) == (0, 0)


def assert_exported(lake, dest, table, fmt, layout, where="TRUE"):
    """The export of `table` at `dest` holds the lake table's rows (those matching `where`), each
    as often; returns the DuckDB connection with views `lake` and `exp`."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    arrow = lake_arrow(lake, table)
    con.register("lake", arrow)
    read_export(con, dest, table, fmt, layout)
    assert_same_rows(con, arrow.schema.names, where)
    return con


def duck_types(con, relation):
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


@pytest.mark.parametrize("fmt", ["parquet", "ndjson", "csv"])
@pytest.mark.parametrize("layout", ["daily", "hive"])
def test_round_trip_every_table_row_for_row_with_types(lake_dir, tmp_path, fmt, layout):
    dest = tmp_path / "out"
    # A small file size: days of the large tables come in several parts.
    run("export", "--lake", lake_dir, "--dest", dest, "--format", fmt, "--layout", layout,
        "--max-file-size", "8KiB")
    m = manifest(dest)
    assert (m["format"], m["layout"]) == (fmt, layout)
    assert sorted(m["tables"]) == sorted(TABLES)
    listed = set()
    parts = 0
    for table in TABLES:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        arrow = lake_arrow(lake_dir, table)
        con.register("lake", arrow)
        read_export(con, dest, table, fmt, layout)
        assert_same_rows(con, arrow.schema.names)

        # Types: Parquet carries them (DuckDB reads the same types from both sides); the text
        # formats are typed by the BigQuery schema file, checked against the lake's schema.
        if fmt == "parquet":
            assert duck_types(con, "exp") == duck_types(con, "lake")
        schema = json.loads((dest / m["tables"][table]["bigquery_schema"]).read_text())
        expected = [{"name": f.name, "type": ARROW_TO_BQ[str(f.type)],
                     "mode": "NULLABLE" if f.nullable else "REQUIRED"}
                    for f in arrow.schema if not (layout == "hive" and f.name == "dt")]
        assert schema == expected

        for day in m["tables"][table]["days"]:
            assert day["rows"] == sum(f["rows"] for f in day["files"])
            parts += len(day["files"]) > 1
            for f in day["files"]:
                path = dest / f["path"]
                assert path.stat().st_size == f["bytes"]
                assert sha256(path) == f["sha256"]
                listed.add(f["path"])
                if layout == "daily" and day["day"]:
                    assert f["path"].startswith(f"{table}_{day['day'].replace('-', '')}")
                elif layout == "hive" and day["day"]:
                    assert f["path"].startswith(f"{table}/dt={day['day']}/part-")
    on_disk = {str(p.relative_to(dest)) for p in dest.rglob("*")
               if p.is_file() and p.parts[len(dest.parts)] != "_schemas" and p.name != "manifest.json"}
    assert on_disk == listed
    assert parts > 0, "8 KiB files split some day into parts"


def test_text_formats_write_rfc3339_utc_and_csv_quoting(lake_dir, tmp_path):
    dest = tmp_path / "csv"
    run("export", "--lake", lake_dir, "--dest", dest, "--format", "csv", "--compression", "none",
        "--tables", "messages")
    first = sorted(dest.glob("messages_*.csv"))[0]
    header = first.read_text().splitlines()[0]
    assert header == ",".join(lake_arrow(lake_dir, "messages").schema.names)
    con = duckdb.connect()
    # Every ts is RFC 3339 with an explicit UTC offset.
    bad = con.execute(f"""SELECT count(*) FROM read_csv('{first}', header = true, all_varchar = true)
                          WHERE NOT regexp_full_match(ts, '\\d{{4}}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{{6}}\\+00:00')
                       """).fetchone()[0]
    assert bad == 0


@pytest.mark.parametrize("fmt", ["parquet", "ndjson", "csv"])
@pytest.mark.parametrize("layout", ["daily", "hive"])
def test_tenant_export_holds_that_tenant_and_all_of_it(lake_dir, tmp_path, fmt, layout):
    con = duckdb.connect()
    con.register("tenants", lake_arrow(lake_dir, "tenants"))
    tenant = con.execute("SELECT min(tenant_id) FROM tenants").fetchone()[0]
    dest = tmp_path / "one"
    run("export", "--lake", lake_dir, "--dest", dest, "--tenant", tenant, "--format", fmt,
        "--layout", layout)
    assert manifest(dest)["tenants"] == [tenant]
    for table in TABLES:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        arrow = lake_arrow(lake_dir, table)
        con.register("lake", arrow)
        read_export(con, dest, table, fmt, layout)
        assert_same_rows(con, arrow.schema.names, where=f"tenant_id = '{tenant}'")


def test_query_export_streams_a_query_into_one_file(lake_dir, tmp_path):
    out = tmp_path / "by_tenant.csv"
    sql = "SELECT tenant_id, direction, count(*) AS n FROM messages GROUP BY 1, 2"
    proc = run("export", "--lake", lake_dir, "--query", sql, "--dest", out)
    assert "sha256" in proc.stderr
    con = duckdb.connect()
    con.register("messages", lake_arrow(lake_dir, "messages"))
    expected = con.execute(sql + " ORDER BY 1, 2").fetchall()
    got = con.execute(f"SELECT * FROM read_csv('{out}', header = true) ORDER BY 1, 2").fetchall()
    assert got == expected


def generate_small(lake):
    run("generate", "--lake", lake, "--tenants", "2", "--contacts", "600", "--days", "12",
        "--seed", "5", "--no-compact")


def ingest_events(lake, tmp_path, name, tenant, day, n):
    rows = [{"tenant_id": tenant, "ts": f"{day}T{10 + i % 10:02d}:00:00Z", "category": "goal",
             "action": "started", "label": f"{name}-{i}", "value": float(i)} for i in range(n)]
    path = tmp_path / f"{name}.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run("ingest", "--lake", lake, "--table", "analytics_events", path)


def entries(m):
    return {(t, d["day"]): d for t, table in m["tables"].items() for d in table["days"]}


def test_incremental_rewrites_only_the_changed_day_not_the_compacted_one(tmp_path):
    lake = tmp_path / "lake"
    generate_small(lake)
    con = duckdb.connect()
    con.register("tenants", lake_arrow(lake, "tenants"))
    tenant = con.execute("SELECT min(tenant_id) FROM tenants").fetchone()[0]
    compacted_day, changed_day = "2026-10-25", "2026-10-27"
    # A second file on the day that will be compacted.
    ingest_events(lake, tmp_path, "early", tenant, compacted_day, 3)

    dest = tmp_path / "out"
    run("export", "--lake", lake, "--dest", dest, "--layout", "hive", "--format", "ndjson")
    before = manifest(dest)

    ingest_events(lake, tmp_path, "late", tenant, changed_day, 4)
    run("compact", "--lake", lake, "--table", "analytics_events")
    # The compaction really rewrote the other day, as a rewrite without data change.
    log = DeltaTable(str(lake / "analytics_events")).history(1)[0]
    assert log["operation"] == "OPTIMIZE"

    proc = run("export", "--lake", lake, "--dest", dest, "--layout", "hive", "--format", "ndjson")
    after = manifest(dest)
    assert "1 days written" in proc.stderr.splitlines()[-1]
    old, new = entries(before), entries(after)
    assert old.keys() == new.keys()
    changed = [k for k in new if new[k]["files"] != old[k]["files"]]
    assert changed == [("analytics_events", changed_day)]
    assert new[("analytics_events", changed_day)]["rows"] == old[("analytics_events", changed_day)]["rows"] + 4
    # The compacted day keeps its files; only the record of its lake files moved on.
    assert new[("analytics_events", compacted_day)]["files"] == old[("analytics_events", compacted_day)]["files"]
    assert new[("analytics_events", compacted_day)]["source_files"] != old[("analytics_events", compacted_day)]["source_files"]

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    arrow = lake_arrow(lake, "analytics_events")
    con.register("lake", arrow)
    read_export(con, dest, "analytics_events", "ndjson", "hive")
    assert_same_rows(con, arrow.schema.names)

    # --full writes every day again; other settings on the same destination need it.
    proc = run("export", "--lake", lake, "--dest", dest, "--layout", "hive", "--format", "csv",
               check=False)
    assert proc.returncode != 0 and "--full" in proc.stderr
    run("export", "--lake", lake, "--dest", dest, "--layout", "hive", "--format", "ndjson", "--full")
    assert sum(len(t["days"]) for t in manifest(dest)["tables"].values()) == len(new)


def test_a_failure_midway_lists_only_complete_files_and_a_rerun_finishes_without_duplicates(tmp_path):
    lake = tmp_path / "lake"
    generate_small(lake)
    dest = tmp_path / "out"
    # A file where the directory of one day of messages must go: that day cannot be written.
    days = sorted(p.name for p in (lake / "messages").glob("dt=*"))
    blocked = dest / "messages" / days[len(days) // 2]
    blocked.parent.mkdir(parents=True)
    blocked.write_text("in the way")
    proc = run("export", "--lake", lake, "--dest", dest, "--layout", "hive", check=False)
    assert proc.returncode != 0
    assert f"messages/{days[len(days) // 2]}/part-0.parquet" in proc.stderr, proc.stderr
    assert "panicked" not in proc.stderr
    m = manifest(dest)
    for (table, day), entry in entries(m).items():
        for f in entry["files"]:
            assert sha256(dest / f["path"]) == f["sha256"], (table, day)
    assert not any(t == "messages" and d == days[len(days) // 2][3:] for t, d in entries(m))

    blocked.unlink()
    run("export", "--lake", lake, "--dest", dest, "--layout", "hive")
    for table in TABLES:
        con = duckdb.connect()
        arrow = lake_arrow(lake, table)
        con.register("lake", arrow)
        read_export(con, dest, table, "parquet", "hive")
        assert_same_rows(con, arrow.schema.names)
        # Reading every file on disk (not only the listed ones) gives no duplicates either.
        on_disk = sorted(str(p.relative_to(dest)) for p in (dest / table).rglob("*.parquet"))
        read_export(con, dest, table, "parquet", "hive", files=on_disk)
        assert_same_rows(con, arrow.schema.names)


@pytest.fixture()
def moto(tmp_path):
    program = shutil.which("moto_server") or os.path.join(os.path.dirname(os.sys.executable), "moto_server")
    port = _free_port()
    proc = subprocess.Popen([program, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc, "moto_server", 30)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait()


S3_ENV = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
          "AWS_REGION": "us-east-1"}


def s3_client(endpoint):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def s3_keys(s3, bucket, prefix):
    """The keys under `prefix/`, relative to it."""
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        keys += [obj["Key"].removeprefix(prefix + "/") for obj in page.get("Contents", [])]
    return set(keys)


def download(s3, bucket, prefix, local):
    """Copies every object under `prefix/` to the directory `local`."""
    for key in s3_keys(s3, bucket, prefix):
        target = local / key
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, f"{prefix}/{key}", str(target))
    return local


def listed_files(m):
    """Every file a manifest lists: data and schema files."""
    files = {f["path"] for d in entries(m).values() for f in d["files"]}
    for table in m["tables"].values():
        files |= {table["bigquery_schema"], table["arrow_schema"]}
    return files


def test_export_to_s3_reads_back_from_the_bucket(lake_dir, tmp_path, moto):
    s3 = s3_client(moto)
    s3.create_bucket(Bucket="exports")
    env = S3_ENV
    run("export", "--lake", lake_dir, "--dest", "s3://exports/acme/raw", "--s3-endpoint", moto,
        "--format", "ndjson", "--tables", "messages,tenants", env=env)
    local = download(s3, "exports", "acme/raw", tmp_path / "copy")
    m = manifest(local)
    assert m["format"] == "ndjson" and sorted(m["tables"]) == ["messages", "tenants"]
    for table in ["messages", "tenants"]:
        for day in m["tables"][table]["days"]:
            for f in day["files"]:
                assert sha256(local / f["path"]) == f["sha256"]
        assert_exported(lake_dir, local, table, "ndjson", "daily")
    # A second run finds the manifest in the bucket and has nothing to do.
    proc = run("export", "--lake", lake_dir, "--dest", "s3://exports/acme/raw", "--s3-endpoint",
               moto, "--format", "ndjson", "--tables", "messages,tenants", env=env)
    assert "0 days written" in proc.stderr.splitlines()[-1]


def test_s3_incremental_rerun_rewrites_only_the_changed_day(tmp_path, moto):
    """Incremental on S3: the second run reads its manifest from the bucket, rewrites only the
    day that got new rows, and the bucket then holds exactly the manifest's files, which read
    back as the lake."""
    s3 = s3_client(moto)
    s3.create_bucket(Bucket="exports")
    lake = tmp_path / "lake"
    generate_small(lake)
    con = duckdb.connect()
    con.register("tenants", lake_arrow(lake, "tenants"))
    tenant = con.execute("SELECT min(tenant_id) FROM tenants").fetchone()[0]
    args = ["export", "--lake", lake, "--dest", "s3://exports/inc", "--s3-endpoint", moto,
            "--layout", "hive", "--format", "csv", "--tables", "analytics_events,tenants"]
    run(*args, env=S3_ENV)
    before = manifest(download(s3, "exports", "inc", tmp_path / "before"))

    changed_day = "2026-10-27"
    ingest_events(lake, tmp_path, "late", tenant, changed_day, 5)
    proc = run(*args, env=S3_ENV)
    assert "1 days written" in proc.stderr.splitlines()[-1]
    local = download(s3, "exports", "inc", tmp_path / "after")
    after = manifest(local)
    old, new = entries(before), entries(after)
    assert old.keys() == new.keys()
    assert [k for k in new if new[k]["files"] != old[k]["files"]] == [("analytics_events", changed_day)]
    assert new[("analytics_events", changed_day)]["rows"] == old[("analytics_events", changed_day)]["rows"] + 5
    assert s3_keys(s3, "exports", "inc") == listed_files(after) | {"manifest.json"}
    for day in new.values():
        for f in day["files"]:
            assert sha256(local / f["path"]) == f["sha256"]
    assert_exported(lake, local, "analytics_events", "csv", "hive")


def test_s3_export_killed_midway_lists_only_complete_files_and_a_rerun_finishes_it(
        lake_dir, tmp_path, moto):
    s3 = s3_client(moto)
    s3.create_bucket(Bucket="exports")
    # Small files: many uploads, so that the process is still running when the first appear.
    cmd = [_binary(), "export", "--lake", str(lake_dir), "--dest", "s3://exports/k",
           "--s3-endpoint", moto, "--format", "csv", "--max-file-size", "4KiB"]
    proc = subprocess.Popen(cmd, env=S3_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    data = set()
    while not data and time.monotonic() < deadline and proc.poll() is None:
        data = {k for k in s3_keys(s3, "exports", "k")
                if k != "manifest.json" and not k.startswith("_schemas/")}
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert data, "files appeared before the kill"
    assert proc.returncode == -signal.SIGKILL, "the export was still running when killed"

    # Stopped midway: whatever the manifest lists (if one was written) is there, complete.
    stopped = download(s3, "exports", "k", tmp_path / "stopped")
    if (stopped / "manifest.json").exists():
        for entry in entries(manifest(stopped)).values():
            for f in entry["files"]:
                assert sha256(stopped / f["path"]) == f["sha256"]
                assert (stopped / f["path"]).stat().st_size == f["bytes"]

    run(*cmd[1:], env=S3_ENV)
    done = download(s3, "exports", "k", tmp_path / "done")
    m = manifest(done)
    # The bucket holds exactly what the manifest lists, each file with its checksum ...
    assert s3_keys(s3, "exports", "k") == listed_files(m) | {"manifest.json"}
    for entry in entries(m).values():
        for f in entry["files"]:
            assert sha256(done / f["path"]) == f["sha256"]
    # ... and every table's rows once: nothing lost, nothing twice.
    for table in TABLES:
        assert_exported(lake_dir, done, table, "csv", "daily")


@pytest.mark.parametrize("where", ["local", "s3"])
def test_full_rerun_with_other_settings_deletes_the_old_files_and_nothing_else(
        lake_dir, tmp_path, request, where):
    if where == "s3":
        s3 = s3_client(request.getfixturevalue("moto"))
        s3.create_bucket(Bucket="exports")
        dest, flags, env = "s3://exports/acme", ["--s3-endpoint", s3.meta.endpoint_url], S3_ENV

        def put(key, text):
            s3.put_object(Bucket="exports", Key=f"acme/{key}", Body=text)

        def on_dest():
            return download(s3, "exports", "acme", tmp_path / f"copy-{time.monotonic_ns()}")
    else:
        dest, flags, env = tmp_path / "out", [], None

        def put(key, text):
            (dest / key).parent.mkdir(parents=True, exist_ok=True)
            (dest / key).write_text(text)

        def on_dest():
            return dest

    def files(root):
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}

    run("export", "--lake", lake_dir, "--dest", dest, *flags, "--layout", "daily", "--format", "csv",
        "--tables", "messages,tenants", env=env)
    old = listed_files(manifest(on_dest()))
    # Files that are not the export's: a rerun leaves them, even one named like an export file.
    put("notes.txt", "mine")
    put("archive/messages_20261001.csv.gz", "mine too")

    proc = run("export", "--lake", lake_dir, "--dest", dest, *flags, "--layout", "hive",
               "--format", "parquet", "--tables", "messages", "--full", env=env)
    root = on_dest()
    m = manifest(root)
    assert "superseded" not in m
    new = listed_files(m)
    assert files(root) == new | {"manifest.json", "notes.txt", "archive/messages_20261001.csv.gz"}
    # Only messages' schema files keep their names (written again); the rest of the old
    # export (tenants' schema files included) is gone.
    assert old & new == {"_schemas/messages.bigquery.json", "_schemas/messages.arrow.json"}
    assert f"deleted {len(old - new)} files of the previous export" in proc.stderr

    assert_exported(lake_dir, root, "messages", "parquet", "hive")


def test_old_files_of_a_full_rerun_stopped_midway_go_with_the_run_that_finishes_it(lake_dir, tmp_path):
    dest = tmp_path / "out"
    run("export", "--lake", lake_dir, "--dest", dest, "--format", "csv", "--tables", "messages")
    old = listed_files(manifest(dest))
    # The new settings' run fails on one day (a file where its directory must go).
    days = sorted(p.name for p in (lake_dir / "messages").glob("dt=*"))
    blocked = dest / "messages" / days[len(days) // 2]
    blocked.parent.mkdir(parents=True)
    blocked.write_text("in the way")
    args = ["export", "--lake", lake_dir, "--dest", dest, "--layout", "hive", "--tables", "messages"]
    proc = run(*args, "--full", check=False)
    assert proc.returncode != 0 and "panicked" not in proc.stderr
    # The manifest has the new settings and still knows the old files, which are still there.
    m = manifest(dest)
    assert m["layout"] == "hive" and set(m["superseded"]) == old
    assert all((dest / f).exists() for f in old)

    blocked.unlink()
    run(*args)  # the same settings now: no --full needed
    m = manifest(dest)
    assert "superseded" not in m
    on_disk = {str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()}
    assert on_disk == listed_files(m) | {"manifest.json"}


@pytest.mark.parametrize("fmt,compression,ext,codec", [
    ("parquet", "snappy", "parquet", "SNAPPY"),
    ("parquet", "none", "parquet", "UNCOMPRESSED"),
    ("ndjson", "zstd", "json.zst", None),
    ("ndjson", "none", "json", None),
    ("csv", "zstd", "csv.zst", None),
])
def test_every_compression_round_trips(lake_dir, tmp_path, fmt, compression, ext, codec):
    dest = tmp_path / "out"
    run("export", "--lake", lake_dir, "--dest", dest, "--format", fmt, "--compression", compression,
        "--tables", "messages,contacts")
    m = manifest(dest)
    for table in ["messages", "contacts"]:
        paths = [f["path"] for d in m["tables"][table]["days"] for f in d["files"]]
        assert paths and all(p.endswith("." + ext) for p in paths)
        con = assert_exported(lake_dir, dest, table, fmt, "daily")
        if codec:
            # The codec as DuckDB reads it from the files' metadata.
            files = [str(dest / p) for p in paths]
            codecs = {r[0] for r in con.execute(
                f"SELECT DISTINCT compression FROM parquet_metadata({files!r})").fetchall()}
            assert codecs == {codec}


@pytest.mark.parametrize("name", ["by_day.parquet", "by_day.json.gz", "by_day.csv.zst"])
def test_query_export_takes_its_format_from_the_file_name(lake_dir, tmp_path, name):
    out = tmp_path / name
    sql = "SELECT dt, tenant_id, count(*) AS n, min(ts) AS first_ts FROM messages GROUP BY 1, 2"
    run("export", "--lake", lake_dir, "--query", sql, "--dest", out)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("messages", lake_arrow(lake_dir, "messages"))
    # Instants compared as microseconds since the epoch.
    expected = con.execute("SELECT dt, tenant_id, count(*), epoch_us(min(ts)) FROM messages "
                           "GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
    if name.endswith(".parquet"):
        source = f"read_parquet('{out}')"
        assert con.execute(f"SELECT first_ts FROM {source} LIMIT 1").description[0][1] == "TIMESTAMP WITH TIME ZONE"
    elif ".json" in name:
        source = f"read_json('{out}', format = 'newline_delimited')"
    else:
        source = f"read_csv('{out}', header = true)"
    got = con.execute(f"SELECT CAST(dt AS DATE), tenant_id, CAST(n AS BIGINT), "
                      f"epoch_us(CAST(first_ts AS TIMESTAMPTZ)) FROM {source} ORDER BY 1, 2").fetchall()
    assert got == expected
