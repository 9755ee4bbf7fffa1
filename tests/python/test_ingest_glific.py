"""`chatlake ingest --format glific`: a Glific BigQuery export (tests/fixtures/glific, written by
hand in the shape of reference Appendix A) imported with the real binary, then read back with
delta-rs (an independent Delta reader) and through the Glific reports of a served lake.

The organisation (tenant `sunrise`) is in Asia/Kolkata (+05:30, no DST): every DATETIME of the
export is IST wall-clock time. The `contacts` table is given as Parquet (made here by DuckDB from
the NDJSON, DATETIMEs as timestamps without zone, as `bq extract` writes them); the rest as
NDJSON. Every expected value below is computed by hand from the fixture files; the comments show
the computation.

The fixture, in short (times IST):
  contacts  1 Asha   valid    opted in 03-02 09:00              created 03-02 08:55
            2 Bala   valid    opted in 03-03 10:00, out 03-05 12:00   created 03-03 09:50
            3 Chitra invalid  never opted in                    created 03-04 00:20 (= 03-03 18:50 UTC)
            4 Devan  valid    opted in 03-06 11:00 (the later of two versions; the older, "Dev",
                              is the file's last line)          created 03-06 10:00
            5 Esha   blocked  never opted in                    created 03-07 23:40
  messages  101 in  03-02 09:00   102 out 03-02 09:00:05 flow, two versions: delivered 09:01, read 09:05
            103 out 03-03 10:00 hsm (broadcast 7), delivered   104 in 03-03 10:02 reply to 103
            105 out 03-04 00:25 hsm, error 1002 (= 03-03 18:55 UTC)
            106 out 03-05 15:00 agent, sent   107 in 03-06 10:59   108 in 03-06 23:50
            109 in  inserted_at 2025-02-30 (no such day: the bad row, messages.json line 9)
            110 out 03-06 11:00 flow, enqueued
  conversations conv-bbb service 03-02 09:00:06, conv-aaa marketing 03-03 10:00:02,
                conv-ccc utility 04-01 00:30 (= 03-31 19:00 UTC)
  flow runs 501 Registration 03-02 09:00:01 -> completed 09:06
            502 Registration 03-03 10:02:30 -> killed 10:10
            503 Feedback     03-06 10:59:30 -> still active
            504 Feedback     03-31 23:50 -> completed 04-01 00:10 (= 03-31 18:20 -> 18:40 UTC),
                the later of two versions (the older has no completed_at)
  flow results 601 (run 501): age 27 / All Responses, district Pune / Pune; 602 (run 503): rating 5 / Good
"""

import datetime
import os
import pathlib
import shutil
import subprocess

import duckdb
import pytest
from deltalake import DeltaTable

from conftest import connect, serve

FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "glific"
TENANT = "sunrise"
CHANNEL = "glific-main"
IST = "Asia/Kolkata"


def binary():
    path = os.environ.get("CHATLAKE_BIN")
    if not path or not os.path.exists(path):
        pytest.fail("set CHATLAKE_BIN to the chatlake binary (scripts/test does)")
    return path


def chatlake(*args):
    return subprocess.run([binary(), *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def utc(text):
    """An ISO UTC time in µs since the epoch (timestamps are read back with epoch_us)."""
    t = datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1_000_000


def rows(lake, table, columns, where="true"):
    """The lake table's rows as tuples (delta-rs reads it, DuckDB sorts it)."""
    path = lake / table
    if not (path / "_delta_log").exists():
        return []
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("t", DeltaTable(str(path)).to_pyarrow_table())
    return con.execute(f"SELECT {columns} FROM t WHERE {where} ORDER BY ALL").fetchall()


def counts(lake):
    tables = ["contacts", "contact_events", "messages", "message_statuses", "conversations",
              "flow_events", "analytics_events"]
    return {t: len(rows(lake, t, "1")) for t in tables}


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """The fixture with `contacts` as Parquet instead of NDJSON."""
    out = tmp_path_factory.mktemp("glific_export")
    for f in FIXTURE.glob("*.json"):
        shutil.copy(f, out / f.name)
    con = duckdb.connect()
    con.execute(f"""
        COPY (SELECT * REPLACE (CAST(id AS BIGINT) AS id,
                                CAST(optin_time AS TIMESTAMP) AS optin_time,
                                CAST(optout_time AS TIMESTAMP) AS optout_time,
                                CAST(inserted_at AS TIMESTAMP) AS inserted_at,
                                CAST(updated_at AS TIMESTAMP) AS updated_at)
              FROM read_json('{out / "contacts.json"}', format = 'newline_delimited',
                             columns = {{id: 'VARCHAR', bq_uuid: 'VARCHAR', bq_inserted_at: 'VARCHAR',
                                        name: 'VARCHAR', phone: 'VARCHAR', provider_status: 'VARCHAR',
                                        status: 'VARCHAR', language: 'VARCHAR',
                                        contact_optin_method: 'VARCHAR', optin_time: 'VARCHAR',
                                        optout_time: 'VARCHAR', inserted_at: 'VARCHAR',
                                        updated_at: 'VARCHAR',
                                        fields: 'STRUCT(label VARCHAR, value VARCHAR, type VARCHAR, inserted_at VARCHAR)[]',
                                        groups: 'STRUCT(label VARCHAR)[]', contact_type: 'VARCHAR'}}))
        TO '{out / "contacts.parquet"}' (FORMAT parquet)""")
    (out / "contacts.json").unlink()
    return out


@pytest.fixture(scope="module")
def imported(tmp_path_factory, export):
    """The lake: tenant and channel rows, then the export: first without a reject file (it
    fails on the bad row), then with one, then the same export again."""
    lake = tmp_path_factory.mktemp("glific_lake")
    setup = tmp_path_factory.mktemp("glific_setup")
    (setup / "tenants.ndjson").write_text(
        f'{{"tenant_id":"{TENANT}","name":"Sunrise NGO","tz":"{IST}"}}\n')
    (setup / "channels.ndjson").write_text(
        f'{{"tenant_id":"{TENANT}","channel_id":"{CHANNEL}","channel_type":"whatsapp",'
        '"integration":"glific","display_phone":"+919100000000"}\n')
    for table in ["tenants", "channels"]:
        out = chatlake("ingest", "--lake", lake, "--table", table, setup / f"{table}.ndjson")
        assert out.returncode == 0, out.stderr

    failed = chatlake("ingest", "--lake", lake, "--format", "glific", "--tenant", TENANT, export)
    after_failure = counts(lake)
    rejects = setup / "rejects.ndjson"
    first = chatlake("ingest", "--lake", lake, "--format", "glific", "--tenant", TENANT,
                     "--reject-file", rejects, export)
    assert first.returncode == 0, first.stderr
    after_first = counts(lake)
    again = chatlake("ingest", "--lake", lake, "--format", "glific", "--tenant", TENANT,
                     "--reject-file", setup / "rejects2.ndjson", export)
    assert again.returncode == 0, again.stderr
    return {"lake": lake, "failed": failed, "after_failure": after_failure, "first": first,
            "after_first": after_first, "again": again, "after_again": counts(lake),
            "rejects": rejects}


def test_a_bad_row_is_named_by_file_and_line_and_fails_the_import(imported):
    failed = imported["failed"]
    assert failed.returncode != 0
    # messages.json line 9 (id 109) has inserted_at 2025-02-30: February has no 30th.
    assert "messages.json:9: column inserted_at:" in failed.stderr, failed.stderr
    assert "nothing was loaded" in failed.stderr
    assert all(n == 0 for n in imported["after_failure"].values()), imported["after_failure"]


def test_with_a_reject_file_the_bad_row_goes_there_and_the_rest_loads(imported):
    import json

    lines = imported["rejects"].read_text().splitlines()
    assert len(lines) == 1
    reject = json.loads(lines[0])
    assert reject["file"].endswith("messages.json")
    assert (reject["line"], reject["column"]) == (9, "inserted_at")
    assert json.loads(reject["row"])["id"] == "109"


def test_what_the_first_import_wrote(imported):
    assert imported["after_first"] == {
        "contacts": 5,            # ids 1..5 (id 4 twice: one version kept)
        "contact_events": 5 + 3 + 1,  # created x5; opted_in: 1, 2, 4; opted_out: 2
        "messages": 9,            # 101..110 but 109 (rejected); 102 twice: one kept
        # 102: sent, read; 103: sent, delivered; 105: failed; 106: sent; 110: accepted
        "message_statuses": 7,
        "conversations": 3,       # conv-aaa, conv-bbb, conv-ccc
        "flow_events": 4 + 3,     # started x4 (501..504); ended: 501, 502, 504
        "analytics_events": 3,    # age, district (601); rating (602)
    }


def test_a_second_import_of_the_same_export_adds_nothing(imported):
    assert imported["after_again"] == imported["after_first"]
    # Every fact table reports what it dropped as duplicates, and writes nothing.
    stderr = imported["again"].stderr
    for table, n in [("messages", 9), ("message_statuses", 7), ("conversations", 3),
                     ("flow_events", 7), ("analytics_events", 3), ("contact_events", 9)]:
        assert f"{table} +0 ({n} duplicates)" in stderr, stderr


def test_local_times_land_on_the_right_utc_instant_and_day(imported):
    lake = imported["lake"]
    # Message 105 was inserted at 2025-03-04 00:25:00 IST = 2025-03-03 18:55:00 UTC: the UTC day
    # (and partition) is the 3rd, the local day the 4th.
    assert rows(lake, "messages", "epoch_us(ts), CAST(dt AS VARCHAR)", "message_id = '105'") == [
        (utc("2025-03-03T18:55:00"), "2025-03-03")]
    # Contact 3 was created at 2025-03-04 00:20 IST = 2025-03-03 18:50 UTC.
    assert rows(lake, "contacts", "epoch_us(created_at)", "contact_id = '919800000003'") == [
        (utc("2025-03-03T18:50:00"),)]
    # conv-ccc opened 2025-04-01 00:30 IST = 2025-03-31 19:00 UTC, expiring 24 h later.
    assert rows(lake, "conversations", "epoch_us(opened_at), epoch_us(expires_at), origin, billable, pricing_model",
                "conversation_id = 'conv-ccc'") == [
        (utc("2025-03-31T19:00:00"), utc("2025-04-01T19:00:00"), "utility", True, "CBP")]


def test_of_several_versions_the_latest_updated_at_is_kept(imported):
    lake = imported["lake"]
    # Message 102: the version updated at 09:05 (read) wins over the one of 09:01 (delivered):
    # statuses sent at sent_at 09:00:06 IST = 03:30:06 UTC and read at 09:05 IST = 03:35 UTC,
    # and no delivered.
    assert rows(lake, "message_statuses", "status, epoch_us(ts)", "message_id = '102'") == [
        ("read", utc("2025-03-02T03:35:00")), ("sent", utc("2025-03-02T03:30:06"))]
    # Contact 4: the version of 11:00 ("Devan", opted in) wins over the one of 10:00 ("Dev")
    # although the older one is read last.
    assert rows(lake, "contacts", "name, optin_status, epoch_us(optin_at), epoch_us(updated_at)",
                "contact_id = '919800000004'") == [
        ("Devan", "opted_in", utc("2025-03-06T05:30:00"), utc("2025-03-06T05:30:00"))]
    # Run 504: the version with completed_at (updated 04-01 00:10) wins.
    assert rows(lake, "flow_events", "event_type, epoch_us(ts), flow_name", "flow_run_id = '504'") == [
        ("completed", utc("2025-03-31T18:40:00"), "Feedback"),
        ("started", utc("2025-03-31T18:20:00"), "Feedback")]


def test_mapped_columns(imported):
    lake = imported["lake"]
    assert rows(lake, "messages",
                "message_id, direction, msg_type, is_template, author_type, author_id, flow_id, "
                "campaign_id, context_message_id, country_code") == [
        ("101", "inbound", "text", False, "contact", None, None, None, None, "IN"),
        ("102", "outbound", "text", False, "flow", "f1-uuid", "f1-uuid", None, None, "IN"),
        ("103", "outbound", "template", True, "broadcast", "7", None, "7", None, "IN"),
        ("104", "inbound", "interactive", False, "contact", None, None, None, "103", "IN"),
        ("105", "outbound", "template", True, "automation", None, None, None, None, "IN"),
        ("106", "outbound", "text", False, "agent", "919100000099", None, None, None, "IN"),
        ("107", "inbound", "text", False, "contact", None, None, None, None, "IN"),
        ("108", "inbound", "image", False, "contact", None, None, None, None, "IN"),
        ("110", "outbound", "interactive", False, "flow", "f2-uuid", "f2-uuid", None, None, "IN"),
    ]
    assert rows(lake, "message_statuses", "status, error_code, error_title",
                "message_id = '105'") == [("failed", 1002, "Number Does Not Exists On WhatsApp")]
    assert rows(lake, "contacts", "contact_id, name, provider_status, optin_status, language") == [
        ("919800000001", "Asha", "valid", "opted_in", "English"),
        ("919800000002", "Bala", "valid", "opted_out", "Hindi"),
        ("919800000003", "Chitra", "invalid", "none", "English"),
        ("919800000004", "Devan", "valid", "opted_in", "English"),
        ("919800000005", "Esha", "blocked", "none", "English"),
    ]
    # Run 503's row has no flow_name: it comes from flows.json (f2-uuid = Feedback).
    assert rows(lake, "flow_events", "flow_run_id, event_type, flow_name, \"trigger\", campaign_id",
                "event_type = 'started'") == [
        ("501", "started", "Registration", None, None),
        ("502", "started", "Registration", "broadcast", "7"),
        ("503", "started", "Feedback", None, None),
        ("504", "started", "Feedback", None, None),
    ]
    assert rows(lake, "analytics_events", "contact_id, category, action, label, value") == [
        ("919800000001", "flow_result", "Registration/age", "All Responses", 27.0),
        ("919800000001", "flow_result", "Registration/district", "Pune", None),
        ("919800000004", "flow_result", "Feedback/rating", "Good", 5.0),
    ]


@pytest.fixture(scope="module")
def glific_conn(imported, sql_dir):
    for server in serve(imported["lake"], sql_dir):
        with connect(server) as c:
            yield c


def report(conn, sql):
    return [tuple(r) for r in conn.execute(sql).fetchall()]


SUMMARY = ["inbound", "outbound", "hsm", "errors", "conversations", "contacts_in_flows",
           "flows_started", "flows_completed", "opted_in", "opted_out", "non_opted",
           "valid_contacts", "invalid_contacts", "optins_in_range", "optouts_in_range"]


@pytest.mark.parametrize("tz,expected", [
    (IST, {
        "inbound": 4,            # 101, 104, 107, 108 (109 was rejected)
        "outbound": 5,           # 102, 103, 105, 106, 110
        "hsm": 2,                # 103, 105
        "errors": 1,             # 105 failed (no delivery after it)
        "conversations": 2,      # conv-bbb (03-02), conv-aaa (03-03); conv-ccc opened 04-01 IST
        "contacts_in_flows": 1,  # 503 started in March and still active
        "flows_started": 4,      # 501, 502, 503, 504 (03-31 23:50 IST)
        "flows_completed": 1,    # 501; 502 was killed; 504 completed 04-01 00:10 IST
        "opted_in": 2,           # Asha, Devan
        "opted_out": 1,          # Bala (opted out after opting in)
        "non_opted": 2,          # Chitra, Esha
        "valid_contacts": 3,     # Asha, Bala, Devan
        "invalid_contacts": 1,   # Chitra (Esha is blocked)
        "optins_in_range": 3,    # Asha 03-02, Bala 03-03, Devan 03-06
        "optouts_in_range": 1,   # Bala 03-05
    }),
    ("UTC", {
        # In UTC days, March is 2025-03-01 00:00Z .. 2025-04-01 00:00Z: conv-ccc (03-31 19:00Z)
        # and run 504's completion (03-31 18:40Z) fall inside it; nothing else moves out.
        "inbound": 4, "outbound": 5, "hsm": 2, "errors": 1, "conversations": 3,
        "contacts_in_flows": 1, "flows_started": 4, "flows_completed": 2, "opted_in": 2,
        "opted_out": 1, "non_opted": 2, "valid_contacts": 3, "invalid_contacts": 1,
        "optins_in_range": 3, "optouts_in_range": 1,
    }),
])
def test_glific_summary_over_march(glific_conn, tz, expected):
    got = report(glific_conn, f"SELECT {', '.join(SUMMARY)} FROM glific_summary("
                              f"'2025-03-01', '2025-03-31', NULL, '{tz}')")
    assert got == [tuple(expected[c] for c in SUMMARY)]


def test_glific_daily_contacts_by_local_day(glific_conn):
    # Created (IST): Asha 03-02, Bala 03-03, Chitra 03-04 00:20, Devan 03-06, Esha 03-07 23:40.
    got = report(glific_conn, "SELECT CAST(day AS VARCHAR), contacts FROM glific_daily_contacts("
                              f"'2025-03-01', '2025-03-08', NULL, '{IST}')")
    assert got == [("2025-03-01", 0), ("2025-03-02", 1), ("2025-03-03", 1), ("2025-03-04", 1),
                   ("2025-03-05", 0), ("2025-03-06", 1), ("2025-03-07", 1), ("2025-03-08", 0)]
    # In UTC Chitra was created on the 3rd (18:50Z); Esha's 23:40 IST is 18:10Z, still the 7th.
    got = report(glific_conn, "SELECT CAST(day AS VARCHAR), contacts FROM glific_daily_contacts("
                              "'2025-03-01', '2025-03-08', NULL, 'UTC')")
    assert got == [("2025-03-01", 0), ("2025-03-02", 1), ("2025-03-03", 2), ("2025-03-04", 0),
                   ("2025-03-05", 0), ("2025-03-06", 1), ("2025-03-07", 1), ("2025-03-08", 0)]


def test_glific_daily_conversations(glific_conn):
    # conv-bbb 03-02, conv-aaa 03-03, conv-ccc 04-01 00:30 IST (03-31 19:00 UTC).
    got = report(glific_conn, "SELECT CAST(day AS VARCHAR), conversations FROM "
                              f"glific_daily_conversations('2025-03-30', '2025-04-02', NULL, '{IST}')")
    assert got == [("2025-03-30", 0), ("2025-03-31", 0), ("2025-04-01", 1), ("2025-04-02", 0)]
    got = report(glific_conn, "SELECT CAST(day AS VARCHAR), conversations FROM "
                              "glific_daily_conversations('2025-03-30', '2025-04-02', NULL, 'UTC')")
    assert got == [("2025-03-30", 0), ("2025-03-31", 1), ("2025-04-01", 0), ("2025-04-02", 0)]
    got = report(glific_conn, "SELECT sum(conversations) FROM glific_daily_conversations("
                              f"'2025-03-01', '2025-03-31', NULL, '{IST}')")
    assert got == [(2,)]


def test_glific_most_active_hour_in_local_hours(glific_conn):
    # IST hours: 101 in 09:00, 102 out 09:00; 103 out 10:00, 104 in 10:02, 107 in 10:59;
    # 105 out 00:25; 106 out 15:00; 108 in 23:50; 110 out 11:00.
    expected = {h: (0, 0) for h in range(24)}
    expected.update({0: (0, 1), 9: (1, 1), 10: (2, 1), 11: (0, 1), 15: (0, 1), 23: (1, 0)})
    got = report(glific_conn, "SELECT hour, inbound, outbound FROM glific_most_active_hour("
                              f"'2025-03-01', '2025-03-31', NULL, '{IST}')")
    assert got == [(h, *expected[h]) for h in range(24)]
    # The same in UTC hours (5:30 earlier): 101, 102 03:30; 103, 104 04:30; 107 05:29, 110 05:30;
    # 106 09:30; 105 18:55 (the 3rd), 108 18:20.
    expected = {h: (0, 0) for h in range(24)}
    expected.update({3: (1, 1), 4: (1, 1), 5: (1, 1), 9: (0, 1), 18: (1, 1)})
    got = report(glific_conn, "SELECT hour, inbound, outbound FROM glific_most_active_hour("
                              "'2025-03-01', '2025-03-31', NULL, 'UTC')")
    assert got == [(h, *expected[h]) for h in range(24)]


def test_glific_monthly(glific_conn):
    # IST: March: conv-bbb, conv-aaa; runs started 501..504; completed 501.
    #      April: conv-ccc; run 504 completed 04-01 00:10.
    got = report(glific_conn, "SELECT CAST(month AS VARCHAR), conversations, flows_started, "
                              f"flows_completed FROM glific_monthly('2025-03-01', '2025-04-30', NULL, '{IST}')")
    assert got == [("2025-03-01", 2, 4, 1), ("2025-04-01", 1, 0, 1)]
    # UTC: conv-ccc (03-31 19:00Z) and 504's completion (03-31 18:40Z) are in March.
    got = report(glific_conn, "SELECT CAST(month AS VARCHAR), conversations, flows_started, "
                              "flows_completed FROM glific_monthly('2025-03-01', '2025-04-30', NULL, 'UTC')")
    assert got == [("2025-03-01", 3, 4, 2), ("2025-04-01", 0, 0, 0)]
