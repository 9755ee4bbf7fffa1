"""Campaign reports — Stella Push Panel and Botmaker template metrics (SPEC 6, reference 10.2
and 10.5) — against a second formulation in DuckDB over the same lake (tests/python/duckref.py;
conventions in test_reports_duckdb.py).

Shared definitions, written once below as DuckDB CTEs from the spec:
- each recipient counts once, by its latest attempt in the campaign;
- success = accepted by the API with a message, and not failed without a delivery or read
  (reference 10.2; any delivered/read/played callback overrides a failure, SPEC 4);
- a reply (SPEC 4 message_response) = the first inbound of the contact after the message quoting
  it (context_message_id), else the first inbound after it within 24 h with no outbound
  template to the contact in between;
- the error of a failed recipient = its synchronous reject code/reason, else its first failed
  callback's code/title.
"""

import pytest
from conftest import REPORT_TZ

from duckref import call_args, rows

LATEST = """latest AS (
    SELECT * FROM campaign_recipients
    QUALIFY row_number() OVER (PARTITION BY tenant_id, campaign_id, contact_id
                               ORDER BY attempt DESC) = 1)"""

# Per outbound message: its callbacks (SPEC 4 message_delivery, rebuilt).
CALLBACKS = """cb AS (
    SELECT tenant_id, message_id,
           min(ts) FILTER (WHERE status IN ('sent', 'delivered', 'read', 'played')) AS sent_at,
           min(ts) FILTER (WHERE status IN ('delivered', 'read', 'played')) AS delivered_at,
           min(ts) FILTER (WHERE status = 'read') AS read_at,
           bool_or(status = 'failed') AS failed,
           arg_min(error_code, ts) FILTER (WHERE status = 'failed') AS error_code,
           arg_min(error_title, ts) FILTER (WHERE status = 'failed') AS error_title
    FROM message_statuses GROUP BY tenant_id, message_id)"""

# Every recipient (latest attempt) of every campaign, with its outcome.
OUTCOME = f"""{LATEST}, {CALLBACKS},
sends AS (
    SELECT l.tenant_id, l.campaign_id, l.contact_id, l.send_result, l.processed_at,
           m.message_id, m.channel_id AS msg_channel, m.ts AS msg_ts,
           cb.sent_at, cb.delivered_at, cb.read_at,
           l.send_result = 'accepted' AND m.message_id IS NOT NULL
               AND NOT (coalesce(cb.failed, false) AND cb.delivered_at IS NULL) AS success,
           coalesce(l.reject_code, cb.error_code) AS error_code,
           coalesce(l.reject_reason, cb.error_title) AS error_title
    FROM latest l
    LEFT JOIN messages m ON m.tenant_id = l.tenant_id AND m.message_id = l.message_id
    LEFT JOIN cb ON cb.tenant_id = l.tenant_id AND cb.message_id = l.message_id),
outcome AS (
    SELECT s.*,
        coalesce(
            (SELECT min(i.ts) FROM messages i
             WHERE i.direction = 'inbound' AND i.tenant_id = s.tenant_id
               AND i.channel_id = s.msg_channel AND i.contact_id = s.contact_id
               AND i.context_message_id = s.message_id AND i.ts > s.msg_ts),
            (SELECT min(i.ts) FROM messages i
             WHERE i.direction = 'inbound' AND i.tenant_id = s.tenant_id
               AND i.channel_id = s.msg_channel AND i.contact_id = s.contact_id
               AND i.ts > s.msg_ts AND i.ts <= s.msg_ts + INTERVAL 24 HOUR
               AND NOT EXISTS (
                   SELECT 1 FROM messages t
                   WHERE t.direction = 'outbound' AND t.is_template
                     AND t.tenant_id = s.tenant_id AND t.channel_id = s.msg_channel
                     AND t.contact_id = s.contact_id AND t.ts > s.msg_ts AND t.ts <= i.ts))
        ) AS replied_at
    FROM sends s)"""


def campaigns_with(duck, condition):
    return [r[0] for r in duck.execute(f"""
        WITH {OUTCOME}
        SELECT campaign_id FROM outcome GROUP BY campaign_id HAVING {condition}
        ORDER BY count(*) DESC, campaign_id""").fetchall()]


def campaign_choice(duck, which, condition, column="campaign_id"):
    """For a report run over all campaigns (`which` "all") or the first campaign whose outcome
    rows satisfy `condition` ("one"): the DuckDB filter on `column` and the report's argument."""
    if which == "all":
        return "TRUE", "NULL"
    campaign = campaigns_with(duck, condition)[0]
    return f"{column} = '{campaign}'", f"'{campaign}'"


def test_push_results_matches_duckdb_and_obeys_its_identities(duck, conn):
    # Push Panel (reference 10.2): per campaign, recipients, the read x interacted buckets of
    # the successful sends, success and failure; interacted = an inbound quoting the message
    # (reply or button) or an analytics event (category 'campaign', label = the campaign) of
    # the contact.
    expected = rows(duck.execute(f"""
        WITH {OUTCOME},
        o AS (SELECT campaign_id, success, read_at IS NOT NULL AS rd,
                     EXISTS (SELECT 1 FROM messages i WHERE i.direction = 'inbound'
                             AND i.tenant_id = outcome.tenant_id
                             AND i.context_message_id = outcome.message_id)
                     OR EXISTS (SELECT 1 FROM analytics_events e
                                WHERE e.tenant_id = outcome.tenant_id AND e.category = 'campaign'
                                  AND e.label = outcome.campaign_id
                                  AND e.contact_id = outcome.contact_id) AS ia
              FROM outcome)
        SELECT campaign_id, count(*),
               count(*) FILTER (WHERE success AND rd AND ia),
               count(*) FILTER (WHERE success AND rd AND NOT ia),
               count(*) FILTER (WHERE success AND NOT rd AND ia),
               count(*) FILTER (WHERE success AND NOT rd AND NOT ia),
               count(*) FILTER (WHERE success), count(*) FILTER (WHERE NOT success)
        FROM o GROUP BY campaign_id"""))
    cur = conn.execute("SELECT * FROM push_results()")
    names = [c.name for c in cur.description]
    got_full = [dict(zip(names, r)) for r in cur.fetchall()]
    counts = ["recipients", "read_and_interacted", "read_only", "interacted_only",
              "not_read_or_interacted", "sent_success", "sent_fail"]
    got = rows([(r["campaign_id"], *(r[c] for c in counts)) for r in got_full])
    assert len(got) > 5
    assert got == expected
    assert any(r[2] for r in got) and any(r[4] for r in got) and any(r[7] for r in got)
    for r in got_full:
        # The four buckets partition sent_success; success + fail = recipients (SPEC 6).
        assert (r["read_and_interacted"] + r["read_only"] + r["interacted_only"]
                + r["not_read_or_interacted"]) == r["sent_success"]
        assert r["sent_success"] + r["sent_fail"] == r["recipients"]
        for c in counts[1:]:
            assert float(r["pct_" + c]) == pytest.approx(100 * r[c] / r["recipients"], abs=0.005)


def test_push_results_of_one_campaign(duck, conn):
    # A campaign argument narrows the panel to that campaign, with its own start and finish.
    campaign = campaigns_with(duck, "count(*) FILTER (WHERE NOT success) > 0")[0]
    start, finish, recipients = duck.execute(f"""
        SELECT utc_ts(c.started_at),
               utc_ts(coalesce(c.finished_at, (SELECT max(processed_at) FROM campaign_recipients r
                                               WHERE r.tenant_id = c.tenant_id
                                                 AND r.campaign_id = c.campaign_id))),
               (SELECT count(DISTINCT contact_id) FROM campaign_recipients r
                WHERE r.tenant_id = c.tenant_id AND r.campaign_id = c.campaign_id)
        FROM campaigns c WHERE campaign_id = '{campaign}'""").fetchone()
    got = rows(conn.execute("SELECT campaign_id, start_at, finish_at, recipients "
                            f"FROM push_results('{campaign}')"))
    assert got == [(campaign, start, finish, recipients)]


@pytest.mark.parametrize("which", ["all", "one"])
def test_push_failures(duck, conn, which):
    # Sent Fail reasons: the failed recipients by error code and title.
    only, arg = campaign_choice(duck, which, "count(DISTINCT error_code) FILTER (WHERE NOT success) > 1")
    expected = rows(duck.execute(f"""
        WITH {OUTCOME}
        SELECT error_code, error_title, count(*) FROM outcome WHERE NOT success AND {only}
        GROUP BY ALL"""))
    got = rows(conn.execute(f"SELECT error_code, error_title, recipients FROM push_failures({arg})"))
    assert len(got) > 1
    assert got == expected


@pytest.mark.parametrize("which", ["all", "one"])
def test_push_retry_audience(duck, conn, which):
    # Create retry audience: the failed recipients, with their number and error.
    only, arg = campaign_choice(duck, which, "count(*) FILTER (WHERE NOT success) > 1", "o.campaign_id")
    expected = rows(duck.execute(f"""
        WITH {OUTCOME}
        SELECT o.contact_id, k.wa_id, o.error_code FROM outcome o
        JOIN campaigns c USING (tenant_id, campaign_id)
        LEFT JOIN contacts k ON k.tenant_id = o.tenant_id AND k.channel_id = c.channel_id
                            AND k.contact_id = o.contact_id
        WHERE NOT o.success AND {only}"""))
    got = rows(conn.execute(f"SELECT contact_id, wa_id, error_code FROM push_retry_audience({arg})"))
    assert len(got) > 1 and all(r[1] for r in got)
    assert got == expected


def expected_template_campaigns(duck, lo, hi, channel_id, z):
    """Botmaker per-campaign metrics (reference 10.5) of the campaigns with a template that
    started (else were scheduled, else created) in the range."""
    ch = "TRUE" if channel_id is None else f"c.channel_id = '{channel_id}'"
    return rows(duck.execute(f"""
        WITH {OUTCOME},
        firsts AS (SELECT tenant_id, channel_id, contact_id, min(ts) AS first_in FROM messages
                   WHERE direction = 'inbound' GROUP BY ALL),
        per AS (
            SELECT o.*, c.template_name,
                   f.first_in IS NOT NULL AND f.first_in < o.msg_ts AS seen_before
            FROM outcome o JOIN campaigns c USING (tenant_id, campaign_id)
            LEFT JOIN firsts f ON f.tenant_id = o.tenant_id AND f.channel_id = o.msg_channel
                              AND f.contact_id = o.contact_id
            WHERE c.template_name IS NOT NULL AND {ch}
              AND ldate(coalesce(c.started_at, c.scheduled_at, c.created_at), '{z}')
                  BETWEEN DATE '{lo}' AND DATE '{hi}')
        SELECT campaign_id, template_name, count(*),
               count(*) FILTER (WHERE send_result = 'accepted'),
               count(sent_at), count(delivered_at), count(read_at),
               count(*) FILTER (WHERE NOT success), count(replied_at),
               count(replied_at) FILTER (WHERE NOT seen_before),
               count(replied_at) FILTER (WHERE seen_before)
        FROM per GROUP BY ALL"""))


@pytest.mark.parametrize("channel_id,tz", [(None, REPORT_TZ), ("loja-verde-wa-1", None)])
def test_template_campaigns(duck, conn, channel_id, tz):
    # Per campaign started in the range: sends, accepted, sent/delivered/read callbacks, failed,
    # replied, and the replied recipients split into new and returning contacts (an inbound
    # before the template was sent). The range: the lake's whole last month, local dates.
    import duckref

    z = tz or duckref.channel_zone(duck, channel_id)
    lo, hi = "2026-10-01", "2026-10-31"
    expected = expected_template_campaigns(duck, lo, hi, channel_id, z)
    got = rows(conn.execute(
        "SELECT campaign_id, template_name, sends, accepted, sent, delivered, read, failed, "
        "replied, new_users, returning_users "
        f"FROM template_campaigns({call_args(lo, hi, channel_id, tz)})"))
    assert len(got) > 2
    assert any(r[9] for r in got) and any(r[10] for r in got)
    assert got == expected


def test_template_campaigns_range_is_local(duck, conn, window):
    # The last 14 Kolkata days: only the campaigns that started in them.
    lo, hi = window
    expected = expected_template_campaigns(duck, lo, hi, None, REPORT_TZ)
    got = rows(conn.execute(f"SELECT * FROM template_campaigns({call_args(lo, hi, None, REPORT_TZ)})"))
    everything = conn.execute(
        f"SELECT count(*) FROM template_campaigns('2026-10-01', '2026-10-31', NULL, '{REPORT_TZ}')"
    ).fetchone()[0]
    assert 0 < len(got) < everything
    assert got == expected


@pytest.mark.parametrize("which", ["all", "one"])
def test_template_funnel(duck, conn, which):
    # Funnel over the successful sends (reference 10.5): sent = successful sends; delivered =
    # a delivered/read callback; read = a read callback; replied = a reply. Not forced to nest.
    only, arg = campaign_choice(duck, which, "count(replied_at) > 0 AND count(*) FILTER (WHERE NOT success) > 0")
    sent, delivered, read, replied = duck.execute(f"""
        WITH {OUTCOME}
        SELECT count(*), count(delivered_at), count(read_at), count(replied_at)
        FROM outcome WHERE success AND {only}""").fetchone()
    got = conn.execute(f"SELECT stage, recipients FROM template_funnel({arg})").fetchall()
    assert got == [("sent", sent), ("delivered", delivered), ("read", read), ("replied", replied)]
    assert sent > delivered > read > 0 and replied > 0


@pytest.mark.parametrize("which", ["all", "one"])
def test_template_sessions(duck, conn, which):
    # The session list: one row per recipient with its number, send (sent callback), channel,
    # new or returning, delivery, read, reply and error.
    only, arg = campaign_choice(duck, which, "count(replied_at) > 0 AND count(*) FILTER (WHERE NOT success) > 0", "o.campaign_id")
    expected = rows(duck.execute(f"""
        WITH {OUTCOME},
        firsts AS (SELECT tenant_id, channel_id, contact_id, min(ts) AS first_in FROM messages
                   WHERE direction = 'inbound' GROUP BY ALL)
        SELECT k.wa_id, o.contact_id, utc_ts(o.sent_at), c.channel_id,
               NOT coalesce(f.first_in < coalesce(o.msg_ts, o.processed_at), false),
               utc_ts(o.delivered_at), utc_ts(o.read_at), utc_ts(o.replied_at),
               o.error_code, o.error_title
        FROM outcome o JOIN campaigns c USING (tenant_id, campaign_id)
        LEFT JOIN contacts k ON k.tenant_id = o.tenant_id AND k.channel_id = c.channel_id
                            AND k.contact_id = o.contact_id
        LEFT JOIN firsts f ON f.tenant_id = o.tenant_id AND f.channel_id = c.channel_id
                          AND f.contact_id = o.contact_id
        WHERE {only}"""))
    cur = conn.execute(f"SELECT * FROM template_sessions({arg})")
    assert [c.name for c in cur.description] == [
        "wa_id", "contact_id", "sent_at", "channel_id", "is_new", "delivered_at", "read_at",
        "replied_at", "error_code", "error_title"]
    fetched = cur.fetchall()
    got = rows(fetched)
    assert any(r[4] for r in got) and not all(r[4] for r in got)
    assert any(r[8] is not None for r in got)
    assert got == expected
    # Newest send first, unsent ones last.
    sent = [r[2] for r in fetched]
    assert sent == sorted(sent, key=lambda t: (t is None, -(t.timestamp() if t else 0)))
