"""Stella reports (SPEC 6 "Stella dashboard", reference 10.1) against a second formulation in
DuckDB over the same lake (tests/python/duckref.py; conventions in test_reports_duckdb.py).

Each test runs the report over the last 14 local days in Asia/Kolkata for all channels, and
again for one channel with the zone left to its default (the channel's, else its tenant's;
Europe/London changes clocks inside the range). stella_whatsapp_conversations also runs on a
second lake from May-June 2023, where the free tier (CBP v1, then v2 from 2023-06-01) and its
1000-per-WABA-per-month cap are live.
"""

import pytest
from conftest import REPORT_TZ, connect, generate, serve

import duckref
from duckref import call_args, days_cte, in_range, rows, where_channel, zone

# (channel_id, tz argument): all channels in Kolkata; one WhatsApp number in its default zone.
CASES = [(None, REPORT_TZ), ("thames-energy-wa-1", None)]
# Comments live on Facebook and Instagram pages.
COMMENT_CASES = [(None, REPORT_TZ), ("loja-verde-ig-1", None)]


@pytest.mark.parametrize("channel_id,tz,days", [(*c, 14) for c in CASES] + [(None, REPORT_TZ, 32)])
def test_stella_users(duck, conn, channel_id, tz, days):
    # User Messages = inbound messages that are not `system`; New Users = contacts whose first
    # user action ever (all history, on that channel; a system notice is not one) falls on the
    # day. The 32-day case covers a contact whose only inbound is a system notice.
    lo, hi = duckref.last_days(duck, REPORT_TZ, days)
    z = zone(duck, channel_id, tz)
    expected = rows(duck.execute(f"""
        WITH {days_cte(lo, hi)},
        um AS (SELECT ldate(ts, '{z}') AS day, count(*) AS n FROM messages
               WHERE direction = 'inbound' AND msg_type <> 'system' AND {where_channel(channel_id)}
               GROUP BY 1),
        firsts AS (SELECT ldate(min(ts), '{z}') AS day FROM messages
                   WHERE direction = 'inbound' AND msg_type <> 'system'
                     AND {where_channel(channel_id)}
                   GROUP BY tenant_id, channel_id, contact_id),
        nu AS (SELECT day, count(*) AS n FROM firsts GROUP BY day)
        SELECT days.day, coalesce(um.n, 0), coalesce(nu.n, 0)
        FROM days LEFT JOIN um USING (day) LEFT JOIN nu USING (day)"""))
    args = call_args(lo, hi, channel_id, tz)
    got = rows(conn.execute(f"SELECT day, user_messages, new_users FROM stella_users({args})"))
    assert len(got) == days and sum(r[2] for r in got) > 0
    assert got == expected
    # A new user of a day is an active user of that day.
    active = dict(conn.execute(f"SELECT day, active_users FROM stella_active_users({args})"))
    assert all(new <= active[day] for day, _, new in got)


@pytest.mark.parametrize("channel_id,tz", CASES)
def test_stella_active_users(duck, conn, window, channel_id, tz):
    # Daily Active Users = distinct contacts with a user action (inbound, not system) that day;
    # Comment Active Users = distinct contacts who commented that day.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    expected = rows(duck.execute(f"""
        WITH {days_cte(lo, hi)},
        a AS (SELECT ldate(ts, '{z}') AS day, count(DISTINCT contact_id) AS n FROM messages
              WHERE direction = 'inbound' AND msg_type <> 'system' AND {where_channel(channel_id)}
              GROUP BY 1),
        c AS (SELECT ldate(ts, '{z}') AS day, count(DISTINCT contact_id) AS n FROM comments
              WHERE {where_channel(channel_id)} GROUP BY 1)
        SELECT days.day, coalesce(a.n, 0), coalesce(c.n, 0)
        FROM days LEFT JOIN a USING (day) LEFT JOIN c USING (day)"""))
    got = rows(conn.execute(
        "SELECT day, active_users, comment_active_users "
        f"FROM stella_active_users({call_args(lo, hi, channel_id, tz)})"))
    assert len(got) == 14 and sum(r[1] for r in got) > 0
    if channel_id is None:
        assert sum(r[2] for r in got) > 0
    assert got == expected


@pytest.mark.parametrize("channel_id,tz", CASES)
def test_stella_active_users_total(duck, conn, window, channel_id, tz):
    # Active Users (period) = distinct contacts with a user action in the range, not the sum
    # of the daily bars.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    expected = duck.execute(f"""
        SELECT count(DISTINCT contact_id) FROM messages
        WHERE direction = 'inbound' AND msg_type <> 'system' AND {where_channel(channel_id)}
          AND {in_range(lo, hi, z)}""").fetchone()[0]
    daily_sum = sum(r[0] for r in conn.execute(
        f"SELECT active_users FROM stella_active_users({call_args(lo, hi, channel_id, tz)})"))
    got = conn.execute(
        f"SELECT * FROM stella_active_users_total({call_args(lo, hi, channel_id, tz)})").fetchall()
    assert got == [(expected,)]
    assert 0 < expected < daily_sum


@pytest.mark.parametrize("channel_id,tz", CASES)
def test_stella_analytics(duck, conn, window, channel_id, tz):
    # Analytics = custom events per local day and (category, action, label); a series, so every
    # (category, action, label) seen in the range gets every day, zeros included.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    expected = rows(duck.execute(f"""
        WITH {days_cte(lo, hi)},
        ev AS (SELECT ldate(ts, '{z}') AS day, category, action, label FROM analytics_events
               WHERE {where_channel(channel_id)} AND {in_range(lo, hi, z)}),
        keys AS (SELECT DISTINCT category, action, label FROM ev)
        SELECT days.day, k.category, k.action, k.label,
               (SELECT count(*) FROM ev WHERE ev.day = days.day AND ev.category = k.category
                  AND ev.action = k.action AND ev.label IS NOT DISTINCT FROM k.label)
        FROM days CROSS JOIN keys k"""))
    got = rows(conn.execute(
        "SELECT day, category, action, label, events "
        f"FROM stella_analytics({call_args(lo, hi, channel_id, tz)})"))
    assert sum(r[4] for r in got) > 0 and any(r[4] == 0 for r in got)
    assert got == expected


@pytest.mark.parametrize("channel_id,tz", COMMENT_CASES)
def test_stella_comment_replies(duck, conn, window, channel_id, tz):
    # Comment Reply = per post, comments received in the range, matched and unmatched.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    expected = rows(duck.execute(f"""
        SELECT post_id, count(*), count(*) FILTER (WHERE matched),
               count(*) FILTER (WHERE NOT matched)
        FROM comments WHERE {where_channel(channel_id)} AND {in_range(lo, hi, z)}
        GROUP BY post_id"""))
    got = rows(conn.execute(
        "SELECT post_id, comments, matched, unmatched "
        f"FROM stella_comment_replies({call_args(lo, hi, channel_id, tz)})"))
    assert len(got) > 1 and any(r[2] for r in got) and any(r[3] for r in got)
    assert got == expected


@pytest.mark.parametrize("channel_id,tz", COMMENT_CASES)
def test_stella_comment_details(duck, conn, window, channel_id, tz):
    # Comment details of one post: its comments in the range (the busiest post of the range).
    lo, hi = window
    z = zone(duck, channel_id, tz)
    post = duck.execute(f"""
        SELECT post_id FROM comments WHERE {where_channel(channel_id)} AND {in_range(lo, hi, z)}
        GROUP BY post_id ORDER BY count(*) DESC, post_id LIMIT 1""").fetchone()[0]
    expected = rows(duck.execute(f"""
        SELECT comment_id, contact_id, utc_ts(ts), text, matched FROM comments
        WHERE post_id = '{post}' AND {where_channel(channel_id)} AND {in_range(lo, hi, z)}"""))
    got_ordered = conn.execute(
        "SELECT comment_id, contact_id, ts, text, matched "
        f"FROM stella_comment_details('{post}', {call_args(lo, hi, channel_id, tz)})").fetchall()
    assert len(got_ordered) > 1
    assert rows(got_ordered) == expected
    # Newest first.
    assert [r[2] for r in got_ordered] == sorted((r[2] for r in got_ordered), reverse=True)


@pytest.mark.parametrize("channel_id,tz", CASES)
def test_stella_whatsapp_messages(duck, conn, window, channel_id, tz):
    # Outbound messages of WhatsApp numbers by integration, contact country and number:
    # sent / delivered = a sent-or-later / delivered-or-later callback; of the sent ones,
    # notification = templates outside the customer-service window, customer support = inside.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    expected = rows(duck.execute(f"""
        WITH st AS (SELECT tenant_id, message_id,
                           bool_or(status IN ('sent', 'delivered', 'read', 'played')) AS sent,
                           bool_or(status IN ('delivered', 'read', 'played')) AS delivered
                    FROM message_statuses GROUP BY ALL),
        m AS (SELECT c.integration, m.country_code, c.display_phone, m.is_template, m.in_csw,
                     coalesce(st.sent, false) AS sent, coalesce(st.delivered, false) AS delivered
              FROM messages m JOIN channels c USING (tenant_id, channel_id)
              LEFT JOIN st USING (tenant_id, message_id)
              WHERE m.direction = 'outbound' AND c.channel_type = 'whatsapp'
                AND {where_channel(channel_id, 'm.channel_id')} AND {in_range(lo, hi, z, 'm.ts')})
        SELECT integration, country_code, display_phone, count(*) FILTER (WHERE sent),
               count(*) FILTER (WHERE delivered),
               count(*) FILTER (WHERE sent AND is_template AND in_csw IS NOT TRUE),
               count(*) FILTER (WHERE sent AND in_csw)
        FROM m GROUP BY ALL"""))
    got = rows(conn.execute(
        "SELECT integration, country_code, display_phone, messages_sent, messages_delivered, "
        "notification_messages, customer_support_messages "
        f"FROM stella_whatsapp_messages({call_args(lo, hi, channel_id, tz)})"))
    assert got and all(r[5] + r[6] <= r[3] for r in got)
    assert sum(r[5] for r in got) > 0 and sum(r[6] for r in got) > 0
    if channel_id is None:
        assert {r[0] for r in got} == {"360dialog", "meta_cloud", "twilio"}
    assert got == expected


def expected_wa_conversations(duck, lo, hi, channel_id, z):
    """Conversations opened per local day, classified as Stella's bars (reference 5.3, 10.1)."""
    duckref.register_conversations(duck)
    return rows(duck.execute(f"""
        WITH {days_cte(lo, hi)},
        ranked AS (
            SELECT *,
                   CASE WHEN opened_at < TIMESTAMPTZ '2023-06-01 00:00:00+00'
                             THEN origin <> 'referral_conversion'       -- CBP v1: all but FEP
                        WHEN opened_at < TIMESTAMPTZ '2024-11-01 00:00:00+00'
                             THEN origin = 'service'                    -- CBP v2: service only
                        ELSE false END AS eligible,
                   -- the free tier counts per WABA and UTC calendar month, every channel of it
                   row_number() OVER (PARTITION BY waba_id,
                                      date_trunc('month', timezone('UTC', opened_at)),
                                      (CASE WHEN opened_at < TIMESTAMPTZ '2023-06-01 00:00:00+00'
                                                 THEN origin <> 'referral_conversion'
                                            WHEN opened_at < TIMESTAMPTZ '2024-11-01 00:00:00+00'
                                                 THEN origin = 'service'
                                            ELSE false END)
                                      ORDER BY opened_at) AS n
            FROM conv),
        cls AS (
            SELECT ldate(opened_at, '{z}') AS day, origin,
                   origin = 'referral_conversion' AS fep, eligible AND n <= 1000 AS free_tier,
                   billable IS NOT FALSE AS billable
            FROM ranked WHERE {where_channel(channel_id)} AND {in_range(lo, hi, z, 'opened_at')}),
        counts AS (
            SELECT day,
                   count(*) FILTER (WHERE origin IN ('business_initiated', 'marketing', 'utility',
                                                     'authentication')) AS bi,
                   count(*) FILTER (WHERE origin IN ('user_initiated', 'service',
                                                     'referral_conversion')) AS ui,
                   count(*) FILTER (WHERE free_tier) AS ft,
                   count(*) FILTER (WHERE fep) AS fep,
                   count(*) FILTER (WHERE NOT fep AND NOT free_tier AND billable) AS paid
            FROM cls GROUP BY day)
        SELECT days.day, coalesce(bi, 0), coalesce(ui, 0), coalesce(ft, 0), coalesce(fep, 0),
               coalesce(paid, 0)
        FROM days LEFT JOIN counts USING (day)"""))


WA_CONV_COLUMNS = "day, business_initiated, user_initiated, free_tier, free_entry_point, paid"


@pytest.mark.parametrize("channel_id,tz", CASES + [("loja-verde-wa-1", None)])
def test_stella_whatsapp_conversations(duck, conn, window, channel_id, tz):
    # Conversations opened per local day (webhook-reported, else rebuilt by the CBP model for
    # numbers without webhook data, e.g. loja-verde-wa-1 on twilio): business- / user-initiated
    # by origin, free entry point, free tier (none after 2024-10: service is free for all), paid.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    expected = expected_wa_conversations(duck, lo, hi, channel_id, z)
    got = rows(conn.execute(
        f"SELECT {WA_CONV_COLUMNS} FROM stella_whatsapp_conversations("
        f"{call_args(lo, hi, channel_id, tz)})"))
    assert len(got) == 14 and sum(r[1] + r[2] for r in got) > 0
    if channel_id is None:
        assert all(sum(r[i] for r in got) > 0 for i in (1, 2, 4, 5))
    assert got == expected


# ---- the same report on a lake of the CBP era, where the free tier is live ----

OLD_LAKE_ARGS = ["--tenants", "3", "--contacts", "3000", "--days", "40", "--end-date",
                 "2023-06-10", "--seed", "11"]


@pytest.fixture(scope="module")
def cbp_lake(tmp_path_factory):
    lake = tmp_path_factory.mktemp("cbp_lake")
    generate(lake, *OLD_LAKE_ARGS)
    return lake


@pytest.fixture(scope="module")
def cbp_conn(cbp_lake, sql_dir):
    for server in serve(cbp_lake, sql_dir):
        with connect(server) as c:
            yield c


@pytest.fixture(scope="module")
def cbp_duck(cbp_lake):
    con = duckref.load(cbp_lake)
    yield con
    con.close()


@pytest.mark.parametrize("lo,hi,channel_id,tz", [
    # Across the CBP v1 -> v2 switch; May's free tier of chai-point-wa-1 runs out (> 1000).
    ("2023-05-10", "2023-06-10", None, "UTC"),
    ("2023-05-20", "2023-06-05", None, "Asia/Kolkata"),
    # One number without webhook data (its conversations are rebuilt), in its tenant's zone.
    ("2023-05-25", "2023-06-08", "loja-verde-wa-1", None),
])
def test_stella_whatsapp_conversations_free_tier(cbp_duck, cbp_conn, lo, hi, channel_id, tz):
    z = zone(cbp_duck, channel_id, tz)
    expected = expected_wa_conversations(cbp_duck, lo, hi, channel_id, z)
    got = rows(cbp_conn.execute(
        f"SELECT {WA_CONV_COLUMNS} FROM stella_whatsapp_conversations("
        f"{call_args(lo, hi, channel_id, tz)})"))
    assert sum(r[3] for r in got) > 0  # free tier
    if channel_id is None:
        assert sum(r[5] for r in got) > 0  # paid
    assert got == expected


@pytest.fixture(scope="module")
def shared_waba_lake(cbp_lake, tmp_path_factory):
    """The 2023 lake with chai-point-wa-2 moved into chai-point-wa-1's WABA (one business
    account with two numbers), in channels and in the webhook conversations."""
    import shutil

    from deltalake import DeltaTable

    lake = tmp_path_factory.mktemp("shared_waba") / "lake"
    shutil.copytree(cbp_lake, lake)
    waba = {r["channel_id"]: r["waba_id"]
            for r in DeltaTable(str(lake / "channels")).to_pyarrow_table().to_pylist()}
    for table in ["channels", "conversations"]:
        DeltaTable(str(lake / table)).update(updates={"waba_id": repr(waba["chai-point-wa-1"])},
                                             predicate="channel_id = 'chai-point-wa-2'")
    return lake


def test_stella_whatsapp_conversations_free_tier_is_per_waba(shared_waba_lake, sql_dir):
    # The free tier is the first 1000 eligible conversations per WABA and month, whichever of
    # its numbers they are on: filtering the report to one number must not rank that number's
    # conversations on their own (chai-point-wa-1 alone uses up May 2023's 1000).
    con = duckref.load(shared_waba_lake)
    lo, hi, channel_id = "2023-05-01", "2023-05-31", "chai-point-wa-2"
    z = zone(con, channel_id, None)
    expected = expected_wa_conversations(con, lo, hi, channel_id, z)
    for server in serve(shared_waba_lake, sql_dir):
        with connect(server) as c:
            got = rows(c.execute(
                f"SELECT {WA_CONV_COLUMNS} FROM stella_whatsapp_conversations("
                f"{call_args(lo, hi, channel_id, None)})"))
    con.close()
    assert sum(r[5] for r in got) > 0  # some of its May conversations are past the WABA's 1000
    assert got == expected
