"""Turn.io Insights reports (SPEC 6 "Turn.io Insights", reference 10.4) against a second
formulation in DuckDB over the same lake (tests/python/duckref.py; conventions in
test_reports_duckdb.py).

The top-N reports (turn_countries, turn_top_authors) are checked as "a top N": the spec does not
order ties, so the test accepts any tie order at the cut and checks the rows and that nothing
left out beats what was kept.
"""

import pytest
from conftest import REPORT_TZ

import duckref
from duckref import call_args, days_cte, in_range, rows, where_channel, zone

CASES = [(None, REPORT_TZ), ("thames-energy-wa-1", None)]

# Turn's names for outbound author types (reference 10.4); other types keep their own name.
TURN_NAMES = {"flow": "Stack", "agent": "Coach", "reminder": "Reminders", "api": "API",
              "automation": "Automation"}


def user_messages(lo, hi, z, channel_id):
    """Turn's users are contacts sending messages: inbound, not `system`, in the range."""
    return (f"SELECT * FROM messages WHERE direction = 'inbound' AND msg_type <> 'system' "
            f"AND {where_channel(channel_id)} AND {in_range(lo, hi, z)}")


def assert_top_n(got, full, n):
    """`got` is a top-n of `full` [(key..., count)] by count, ties at the cut in any order."""
    assert len(got) == min(n, len(full))
    assert set(got) <= set(full)
    if got:
        cut = min(r[-1] for r in got)
        assert all(r[-1] <= cut for r in full if r not in got)
        # The reported order is by count, largest first.
        assert [r[-1] for r in got] == sorted((r[-1] for r in got), reverse=True)


@pytest.mark.parametrize("channel_id,tz", CASES)
def test_turn_goals(duck, conn, window, channel_id, tz):
    # Goals: per goal (label), distinct contacts who started / completed it in the range;
    # completion rate = completed / started.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    expected = rows(duck.execute(f"""
        SELECT label, count(DISTINCT contact_id) FILTER (WHERE action = 'started') AS s,
               count(DISTINCT contact_id) FILTER (WHERE action = 'completed') AS c
        FROM analytics_events
        WHERE category = 'goal' AND {where_channel(channel_id)} AND {in_range(lo, hi, z)}
        GROUP BY label"""))
    got = rows(conn.execute(
        "SELECT goal, started, completed, completion_rate "
        f"FROM turn_goals({call_args(lo, hi, channel_id, tz)})"))
    assert [r[:3] for r in got] == expected
    assert len(got) > 1 and all(r[1] > 0 for r in got)
    for goal, started, completed, rate in got:
        assert rate == pytest.approx(completed / started, abs=5e-5)


@pytest.mark.parametrize("channel_id,tz", CASES)
def test_turn_behaviours(duck, conn, window, channel_id, tz):
    # Tracked behaviours: per behaviour (label of category 'behaviour'), events and distinct
    # contacts in the range.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    expected = rows(duck.execute(f"""
        SELECT label, count(*), count(DISTINCT contact_id) FROM analytics_events
        WHERE category = 'behaviour' AND {where_channel(channel_id)} AND {in_range(lo, hi, z)}
        GROUP BY label"""))
    got = rows(conn.execute(
        f"SELECT behaviour, events, users FROM turn_behaviours({call_args(lo, hi, channel_id, tz)})"))
    assert len(got) > 1 and any(r[1] > r[2] for r in got)
    assert got == expected


@pytest.mark.parametrize("channel_id,tz", CASES)
def test_turn_audience(duck, conn, window, channel_id, tz):
    # Daily active users: distinct contacts sending a message per local day.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    expected = rows(duck.execute(f"""
        WITH {days_cte(lo, hi)},
        a AS (SELECT ldate(ts, '{z}') AS day, count(DISTINCT contact_id) AS n
              FROM ({user_messages(lo, hi, z, channel_id)}) GROUP BY 1)
        SELECT days.day, coalesce(a.n, 0) FROM days LEFT JOIN a USING (day)"""))
    got = rows(conn.execute(
        f"SELECT day, active_users FROM turn_audience({call_args(lo, hi, channel_id, tz)})"))
    assert len(got) == 14 and sum(r[1] for r in got) > 0
    assert got == expected


@pytest.mark.parametrize("channel_id,tz", CASES)
def test_turn_audience_total(duck, conn, window, channel_id, tz):
    # Unique users over the range, and inbound messages per active user-day
    # (inbound messages / the sum over days of the daily active users).
    lo, hi = window
    z = zone(duck, channel_id, tz)
    users, msgs, user_days = duck.execute(f"""
        SELECT count(DISTINCT contact_id), count(*),
               count(DISTINCT (contact_id, ldate(ts, '{z}')))
        FROM ({user_messages(lo, hi, z, channel_id)})""").fetchone()
    got = conn.execute(
        "SELECT unique_users, avg_messages_per_user_per_day "
        f"FROM turn_audience_total({call_args(lo, hi, channel_id, tz)})").fetchall()
    assert len(got) == 1
    assert got[0][0] == users > 0
    assert got[0][1] == pytest.approx(msgs / user_days, abs=5e-5)
    assert got[0][1] > 1


def test_turn_audience_total_without_activity_is_null(conn):
    # No active user-day: the average is undefined, not zero or an error.
    assert conn.execute("SELECT * FROM turn_audience_total('2020-01-01', '2020-01-31')"
                        ).fetchall() == [(0, None)]


@pytest.mark.parametrize("channel_id,tz", CASES)
def test_turn_countries(duck, conn, window, channel_id, tz):
    # Most active countries: the 10 countries with the most distinct contacts sending messages
    # in the range (country from the contact's number).
    lo, hi = window
    z = zone(duck, channel_id, tz)
    full = rows(duck.execute(f"""
        SELECT country_code, count(DISTINCT contact_id)
        FROM ({user_messages(lo, hi, z, channel_id)}) GROUP BY country_code"""))
    got = conn.execute(
        f"SELECT country_code, users FROM turn_countries({call_args(lo, hi, channel_id, tz)})"
    ).fetchall()
    if channel_id is None:
        assert len(full) > 10
    assert_top_n([tuple(r) for r in got], full, 10)


@pytest.mark.parametrize("channel_id,tz", CASES)
def test_turn_activity_heatmap(duck, conn, window, channel_id, tz):
    # Activity by local ISO day of week x hour: inbound user messages, 168 cells.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    expected = rows(duck.execute(f"""
        WITH m AS (SELECT isodow(timezone('{z}', ts)) AS dow, hour(timezone('{z}', ts)) AS h
                   FROM ({user_messages(lo, hi, z, channel_id)}))
        SELECT d.d, h.h, count(m.dow) FROM range(1, 8) d(d) CROSS JOIN range(24) h(h)
        LEFT JOIN m ON m.dow = d.d AND m.h = h.h GROUP BY d.d, h.h"""))
    got = rows(conn.execute(
        f"SELECT dow, hour, messages FROM turn_activity_heatmap({call_args(lo, hi, channel_id, tz)})"))
    assert len(got) == 168 and sum(r[2] for r in got) > 0
    assert got == expected


@pytest.mark.parametrize("channel_id,tz", CASES)
def test_turn_message_volume(duck, conn, window, channel_id, tz):
    # Daily sent vs received: per local day, inbound (received, every type) and outbound.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    expected = rows(duck.execute(f"""
        WITH {days_cte(lo, hi)},
        m AS (SELECT ldate(ts, '{z}') AS day, count(*) FILTER (WHERE direction = 'inbound') AS r,
                     count(*) FILTER (WHERE direction = 'outbound') AS s
              FROM messages WHERE {where_channel(channel_id)} GROUP BY 1)
        SELECT days.day, coalesce(r, 0), coalesce(s, 0) FROM days LEFT JOIN m USING (day)"""))
    got = rows(conn.execute(
        f"SELECT day, received, sent FROM turn_message_volume({call_args(lo, hi, channel_id, tz)})"))
    assert len(got) == 14 and sum(r[1] for r in got) > 0 and sum(r[2] for r in got) > 0
    assert got == expected


@pytest.mark.parametrize("channel_id,tz", CASES + [(None, "Pacific/Kiritimati")])
def test_turn_chat_states(duck, conn, window, channel_id, tz):
    # Open vs closed: per local day, chats whose latest opened/reopened/closed event before the
    # next local midnight is opened/reopened (open) or closed; chats with no such event yet are
    # in neither.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    expected = rows(duck.execute(f"""
        WITH {days_cte(lo, hi)},
        ev AS (SELECT * FROM chat_events
               WHERE event IN ('opened', 'reopened', 'closed') AND {where_channel(channel_id)}),
        state AS (
            SELECT days.day, arg_max(ev.event, ev.ts) AS last_event
            FROM days JOIN ev ON ev.ts < lmidnight(days.day + 1, '{z}')
            GROUP BY days.day, ev.tenant_id, ev.channel_id, ev.chat_id)
        SELECT days.day,
               count(state.day) FILTER (WHERE state.last_event IN ('opened', 'reopened')),
               count(state.day) FILTER (WHERE state.last_event = 'closed')
        FROM days LEFT JOIN state USING (day) GROUP BY days.day"""))
    got = rows(conn.execute(
        f"SELECT day, open, closed FROM turn_chat_states({call_args(lo, hi, channel_id, tz)})"))
    assert len(got) == 14 and all(r[1] > 0 and r[2] > 0 for r in got[:-1])
    assert got == expected


@pytest.mark.parametrize("channel_id,tz", CASES)
def test_turn_authors(duck, conn, window, channel_id, tz):
    # Message authors: outbound messages in the range by author type, in Turn's names.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    raw = duck.execute(f"""
        SELECT author_type, count(*) FROM messages
        WHERE direction = 'outbound' AND {where_channel(channel_id)} AND {in_range(lo, hi, z)}
        GROUP BY author_type""").fetchall()
    expected = sorted((TURN_NAMES.get(a, a), n) for a, n in raw)
    got = rows(conn.execute(
        f"SELECT author_type, messages FROM turn_authors({call_args(lo, hi, channel_id, tz)})"))
    assert {"Stack", "Coach"} <= {r[0] for r in got}
    assert got == expected


@pytest.mark.parametrize("channel_id,tz", CASES)
def test_turn_top_authors(duck, conn, window, channel_id, tz):
    # Top authors: the 20 (author type, author id) pairs with the most outbound messages.
    lo, hi = window
    z = zone(duck, channel_id, tz)
    raw = duck.execute(f"""
        SELECT author_type, author_id, count(*) FROM messages
        WHERE direction = 'outbound' AND {where_channel(channel_id)} AND {in_range(lo, hi, z)}
        GROUP BY author_type, author_id""").fetchall()
    full = [(TURN_NAMES.get(a, a), i, n) for a, i, n in raw]
    got = conn.execute(
        "SELECT author_type, author_id, messages "
        f"FROM turn_top_authors({call_args(lo, hi, channel_id, tz)})").fetchall()
    if channel_id is None:
        assert len(full) > 20
    assert_top_n([tuple(r) for r in got], full, 20)
