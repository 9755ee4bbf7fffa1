"""Glific reports (SPEC 6 "Glific analytics page", reference 10.3, canonical definitions)
against a second formulation in DuckDB over the same lake (tests/python/duckref.py;
conventions in test_reports_duckdb.py). Conversations are the webhook-reported ones plus, for
numbers without webhook data, those of duckref's CBP model.
"""

import pytest
from conftest import REPORT_TZ

import duckref
from duckref import call_args, days_cte, in_range, rows, where_channel, zone

CASES = [(None, REPORT_TZ), ("thames-energy-wa-1", None)]


# flow_runs (SPEC 4), rebuilt: a run starts at its `started` event (else its first event) and
# ends at its first completed/killed/expired/errored event, which is its end reason.
RUNS = """runs AS (
    SELECT tenant_id, flow_run_id, any_value(channel_id) AS channel_id,
           coalesce(min(ts) FILTER (WHERE event_type = 'started'), min(ts)) AS started_at,
           min(ts) FILTER (WHERE event_type IN ('completed', 'killed', 'expired', 'errored'))
               AS ended_at,
           arg_min(event_type, ts) FILTER (WHERE event_type IN ('completed', 'killed',
                                                                'expired', 'errored'))
               AS end_reason
    FROM flow_events GROUP BY tenant_id, flow_run_id)"""


@pytest.mark.parametrize("channel_id,tz", CASES + [(None, "UTC")])
def test_glific_daily_contacts(duck, conn, window, channel_id, tz):
    # Daily contacts = contacts created per local day (tz UTC is Glific's own chart).
    lo, hi = window
    z = zone(duck, channel_id, tz)
    expected = rows(duck.execute(f"""
        WITH {days_cte(lo, hi)},
        c AS (SELECT ldate(created_at, '{z}') AS day, count(*) AS n FROM contacts
              WHERE {where_channel(channel_id)} GROUP BY 1)
        SELECT days.day, coalesce(c.n, 0) FROM days LEFT JOIN c USING (day)"""))
    got = rows(conn.execute(
        f"SELECT day, contacts FROM glific_daily_contacts({call_args(lo, hi, channel_id, tz)})"))
    assert len(got) == 14 and sum(r[1] for r in got) > 0
    assert got == expected


@pytest.mark.parametrize("channel_id,tz", CASES + [("loja-verde-wa-1", None), (None, "UTC")])
def test_glific_daily_conversations(duck, conn, window, channel_id, tz):
    # Daily conversations = billing conversations opened per local day: webhook-reported, and
    # rebuilt from the messages for numbers without webhook data (loja-verde-wa-1, twilio).
    lo, hi = window
    z = zone(duck, channel_id, tz)
    duckref.register_conversations(duck)
    expected = rows(duck.execute(f"""
        WITH {days_cte(lo, hi)},
        c AS (SELECT ldate(opened_at, '{z}') AS day, count(*) AS n FROM conv
              WHERE {where_channel(channel_id)} GROUP BY 1)
        SELECT days.day, coalesce(c.n, 0) FROM days LEFT JOIN c USING (day)"""))
    got = rows(conn.execute(
        "SELECT day, conversations "
        f"FROM glific_daily_conversations({call_args(lo, hi, channel_id, tz)})"))
    assert len(got) == 14 and sum(r[1] for r in got) > 0
    assert got == expected


@pytest.mark.parametrize("channel_id,tz", CASES + [(None, "UTC")])
def test_glific_most_active_hour(duck, conn, window, channel_id, tz):
    # Most active hour = inbound and outbound messages per local hour of day, 24 rows.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    expected = rows(duck.execute(f"""
        WITH m AS (SELECT direction, hour(timezone('{z}', ts)) AS h FROM messages
                   WHERE {where_channel(channel_id)} AND {in_range(lo, hi, z)})
        SELECT h.h, count(*) FILTER (WHERE m.direction = 'inbound'),
               count(*) FILTER (WHERE m.direction = 'outbound')
        FROM range(24) h(h) LEFT JOIN m ON m.h = h.h GROUP BY h.h"""))
    got = rows(conn.execute(
        "SELECT hour, inbound, outbound "
        f"FROM glific_most_active_hour({call_args(lo, hi, channel_id, tz)})"))
    assert len(got) == 24 and sum(r[1] for r in got) > 0
    assert got == expected


SUMMARY_COLUMNS = ["inbound", "outbound", "hsm", "errors", "conversations", "contacts_in_flows",
                   "flows_started", "flows_completed", "opted_in", "opted_out", "non_opted",
                   "valid_contacts", "invalid_contacts", "optins_in_range", "optouts_in_range"]


@pytest.mark.parametrize("channel_id,tz", CASES + [("chai-point-wa-1", None)])
def test_glific_summary(duck, conn, window, channel_id, tz):
    # The summary cards (reference 10.3, canonical): messages by direction and templates (hsm)
    # in the range; errors = outbound messages in the range that failed with no delivery or
    # read after, plus campaign sends rejected in the range; conversations opened; flow runs
    # started (and still active), completed; contact states of the contacts that exist at the
    # end of the range; contacts with an opt-in / opt-out event in the range.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    ch = where_channel(channel_id)
    duckref.register_conversations(duck)
    d = duck.execute
    expected = {}
    expected["inbound"], expected["outbound"], expected["hsm"] = d(f"""
        SELECT count(*) FILTER (WHERE direction = 'inbound'),
               count(*) FILTER (WHERE direction = 'outbound'),
               count(*) FILTER (WHERE direction = 'outbound' AND is_template)
        FROM messages WHERE {ch} AND {in_range(lo, hi, z)}""").fetchone()
    failed = d(f"""
        SELECT count(*) FROM messages m
        WHERE m.direction = 'outbound' AND {where_channel(channel_id, 'm.channel_id')}
          AND {in_range(lo, hi, z, 'm.ts')}
          AND EXISTS (SELECT 1 FROM message_statuses s WHERE s.tenant_id = m.tenant_id
                      AND s.message_id = m.message_id AND s.status = 'failed')
          AND NOT EXISTS (SELECT 1 FROM message_statuses s WHERE s.tenant_id = m.tenant_id
                          AND s.message_id = m.message_id
                          AND s.status IN ('delivered', 'read', 'played'))""").fetchone()[0]
    rejected = d(f"""
        SELECT count(*) FROM campaign_recipients r JOIN campaigns c USING (tenant_id, campaign_id)
        WHERE r.send_result = 'rejected' AND {where_channel(channel_id, 'c.channel_id')}
          AND {in_range(lo, hi, z, 'coalesce(r.processed_at, r.queued_at)')}""").fetchone()[0]
    expected["errors"] = failed + rejected
    expected["conversations"] = d(
        f"SELECT count(*) FROM conv WHERE {ch} AND {in_range(lo, hi, z, 'opened_at')}"
    ).fetchone()[0]
    (expected["contacts_in_flows"], expected["flows_started"],
     expected["flows_completed"]) = d(f"""
        WITH {RUNS}
        SELECT count(*) FILTER (WHERE {in_range(lo, hi, z, 'started_at')} AND ended_at IS NULL),
               count(*) FILTER (WHERE {in_range(lo, hi, z, 'started_at')}),
               count(*) FILTER (WHERE {in_range(lo, hi, z, 'ended_at')}
                                  AND end_reason = 'completed')
        FROM runs WHERE {ch}""").fetchone()
    (expected["opted_in"], expected["opted_out"], expected["non_opted"],
     expected["valid_contacts"], expected["invalid_contacts"]) = d(f"""
        SELECT count(*) FILTER (WHERE optin_status = 'opted_in'),
               count(*) FILTER (WHERE optin_status = 'opted_out'),
               count(*) FILTER (WHERE coalesce(optin_status, 'none') = 'none'),
               count(*) FILTER (WHERE provider_status = 'valid'),
               count(*) FILTER (WHERE provider_status = 'invalid')
        FROM contacts WHERE {ch} AND ldate(created_at, '{z}') <= DATE '{hi}'""").fetchone()
    expected["optins_in_range"], expected["optouts_in_range"] = d(f"""
        SELECT count(DISTINCT contact_id) FILTER (WHERE event_type = 'opted_in'),
               count(DISTINCT contact_id) FILTER (WHERE event_type = 'opted_out')
        FROM contact_events WHERE {ch} AND {in_range(lo, hi, z)}""").fetchone()
    cur = conn.execute(f"SELECT * FROM glific_summary({call_args(lo, hi, channel_id, tz)})")
    assert [c.name for c in cur.description] == SUMMARY_COLUMNS
    got = cur.fetchall()
    assert len(got) == 1
    assert dict(zip(SUMMARY_COLUMNS, got[0])) == expected
    assert expected["inbound"] and expected["flows_started"] and expected["opted_in"]
    if channel_id is None:
        assert failed and rejected and expected["optouts_in_range"]


@pytest.mark.parametrize("lo,hi,tz", [
    # Kiritimati is UTC+14: the lake's last UTC day (October 31) is partly November 1 there.
    ("2026-10-01", "2026-11-30", "Pacific/Kiritimati"),
    ("2026-09-01", "2026-10-31", "America/Sao_Paulo"),
])
def test_glific_monthly(duck, conn, lo, hi, tz):
    # Monthly cards as a series: per local month touched by the range, conversations opened,
    # flow runs started and runs completed, inside the range.
    duckref.register_conversations(duck)
    expected = rows(duck.execute(f"""
        WITH {RUNS},
        months AS (SELECT DISTINCT CAST(date_trunc('month', d) AS DATE) AS month
                   FROM range(DATE '{lo}', DATE '{hi}' + 1, INTERVAL 1 DAY) t(d)),
        c AS (SELECT date_trunc('month', ldate(opened_at, '{tz}')) AS month, count(*) AS n
              FROM conv WHERE {in_range(lo, hi, tz, 'opened_at')} GROUP BY 1),
        s AS (SELECT date_trunc('month', ldate(started_at, '{tz}')) AS month, count(*) AS n
              FROM runs WHERE {in_range(lo, hi, tz, 'started_at')} GROUP BY 1),
        f AS (SELECT date_trunc('month', ldate(ended_at, '{tz}')) AS month, count(*) AS n
              FROM runs WHERE end_reason = 'completed' AND {in_range(lo, hi, tz, 'ended_at')}
              GROUP BY 1)
        SELECT months.month, coalesce(c.n, 0), coalesce(s.n, 0), coalesce(f.n, 0)
        FROM months LEFT JOIN c USING (month) LEFT JOIN s USING (month)
        LEFT JOIN f USING (month)"""))
    got = rows(conn.execute(
        "SELECT month, conversations, flows_started, flows_completed "
        f"FROM glific_monthly({call_args(lo, hi, None, tz)})"))
    assert len(got) == 2 and all(v > 0 for v in got[1][1:])
    if tz == "Pacific/Kiritimati":
        assert got[1][2] > 0  # runs started on the local November 1
    assert got == expected
