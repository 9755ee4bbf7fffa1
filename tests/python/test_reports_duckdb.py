"""Reports against a second formulation in DuckDB, reading the same Delta lake.

The expected side is written from the spec (SPEC 6, domain 10) in DuckDB's dialect, with its
own time-zone handling (ICU `timezone()`), never from chatlake's SQL. Report arguments are literals in the SQL text: table-function
arguments cannot be bind parameters ($1) yet. The range is the last 14
local days of the lake in Asia/Kolkata.
"""

import datetime

import duckdb
import pytest
from deltalake import DeltaTable

TZ = "Asia/Kolkata"


@pytest.fixture(scope="module")
def duck(lake_dir):
    con = duckdb.connect()
    for table in ["messages", "message_statuses", "campaign_recipients", "analytics_events",
                  "comments"]:
        con.register(table, DeltaTable(str(lake_dir / table)).to_pyarrow_table())
    con.execute(f"SET TimeZone = 'UTC'")
    return con


@pytest.fixture(scope="module")
def window(duck):
    last = duck.execute(
        f"SELECT max(CAST(timezone('{TZ}', ts) AS DATE)) FROM messages").fetchone()[0]
    return last - datetime.timedelta(days=13), last


def rows(cur):
    return sorted(tuple(r) for r in cur.fetchall())


def test_stella_users_matches_duckdb(duck, conn, window):
    lo, hi = window
    expected = rows(duck.execute(f"""
        WITH days AS (SELECT CAST(d AS DATE) AS day FROM range(DATE '{lo}', DATE '{hi}' + 1, INTERVAL 1 DAY) t(d)),
        um AS (SELECT CAST(timezone('{TZ}', ts) AS DATE) AS day, count(*) AS n FROM messages
               WHERE direction = 'inbound' AND msg_type <> 'system' GROUP BY 1),
        firsts AS (SELECT CAST(timezone('{TZ}', min(ts)) AS DATE) AS day FROM messages
                   WHERE direction = 'inbound' GROUP BY tenant_id, channel_id, contact_id),
        nu AS (SELECT day, count(*) AS n FROM firsts GROUP BY day)
        SELECT days.day, coalesce(um.n, 0), coalesce(nu.n, 0)
        FROM days LEFT JOIN um USING (day) LEFT JOIN nu USING (day)"""))
    got = rows(conn.execute(
        f"SELECT day, user_messages, new_users FROM stella_users('{lo}', '{hi}', NULL, '{TZ}')"))
    assert len(got) == 14
    assert got == expected


def test_glific_most_active_hour_matches_duckdb(duck, conn, window):
    lo, hi = window
    expected = rows(duck.execute(f"""
        WITH m AS (SELECT direction, hour(timezone('{TZ}', ts)) AS h FROM messages
                   WHERE CAST(timezone('{TZ}', ts) AS DATE) BETWEEN DATE '{lo}' AND DATE '{hi}')
        SELECT h.h, count(*) FILTER (WHERE m.direction = 'inbound'),
               count(*) FILTER (WHERE m.direction = 'outbound')
        FROM range(24) h(h) LEFT JOIN m ON m.h = h.h GROUP BY h.h"""))
    got = rows(conn.execute(
        f"SELECT hour, inbound, outbound FROM glific_most_active_hour('{lo}', '{hi}', NULL, '{TZ}')"))
    assert got == expected


def test_turn_activity_heatmap_matches_duckdb(duck, conn, window):
    lo, hi = window
    expected = rows(duck.execute(f"""
        WITH m AS (SELECT isodow(timezone('{TZ}', ts)) AS dow, hour(timezone('{TZ}', ts)) AS h
                   FROM messages WHERE direction = 'inbound' AND msg_type <> 'system'
                   AND CAST(timezone('{TZ}', ts) AS DATE) BETWEEN DATE '{lo}' AND DATE '{hi}')
        SELECT d.d, h.h, count(m.dow) FROM range(1, 8) d(d) CROSS JOIN range(24) h(h)
        LEFT JOIN m ON m.dow = d.d AND m.h = h.h GROUP BY d.d, h.h"""))
    got = rows(conn.execute(
        f"SELECT dow, hour, messages FROM turn_activity_heatmap('{lo}', '{hi}', NULL, '{TZ}')"))
    assert len(got) == 168
    assert got == expected


def test_push_results_matches_duckdb_and_obeys_its_identities(duck, conn):
    expected = rows(duck.execute("""
        WITH latest AS (SELECT * FROM campaign_recipients
                        QUALIFY row_number() OVER (PARTITION BY tenant_id, campaign_id, contact_id
                                                   ORDER BY attempt DESC) = 1),
        st AS (SELECT message_id, bool_or(status = 'read') AS rd,
                      bool_or(status IN ('delivered', 'read', 'played')) AS dl,
                      bool_or(status = 'failed') AS fl
               FROM message_statuses GROUP BY message_id),
        o AS (SELECT l.campaign_id,
                     l.send_result = 'accepted' AND l.message_id IS NOT NULL
                       AND NOT (coalesce(st.fl, false) AND NOT coalesce(st.dl, false)) AS ok,
                     coalesce(st.rd, false) AS rd
              FROM latest l LEFT JOIN st USING (message_id))
        SELECT campaign_id, count(*), count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok),
               count(*) FILTER (WHERE ok AND rd)
        FROM o GROUP BY campaign_id"""))
    got_full = conn.execute("SELECT * FROM push_results()").fetchall()
    got = sorted((r[0], r[3], r[8], r[9], r[4] + r[5]) for r in got_full)
    assert len(got) > 5
    assert got == expected
    for r in got_full:
        recipients, ri, ro, io, nri, ok, fail = r[3:10]
        assert ri + ro + io + nri == ok
        assert ok + fail == recipients


def test_bad_range_is_sqlstate_22023(conn):
    import psycopg

    with pytest.raises(psycopg.Error) as err:
        conn.execute("SELECT * FROM stella_users('2026-10-03', '2026-10-01')")
    assert "invalid report parameter" in str(err.value)
    assert err.value.sqlstate == "22023"
