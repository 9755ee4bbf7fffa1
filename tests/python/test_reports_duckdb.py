"""Every report of SPEC 6 against a second formulation in DuckDB, reading the same Delta lake.

The tests are split by dashboard family:

- test_reports_duckdb_stella.py: stella_users, stella_active_users, stella_active_users_total,
  stella_analytics, stella_comment_replies, stella_comment_details, stella_whatsapp_messages,
  stella_whatsapp_conversations (also on a 2023 lake where the free tier is live, and one
  where two numbers share a WABA);
- test_reports_duckdb_glific.py: glific_daily_contacts, glific_daily_conversations,
  glific_most_active_hour, glific_summary, glific_monthly;
- test_reports_duckdb_turn.py: turn_goals, turn_behaviours, turn_audience,
  turn_audience_total, turn_countries, turn_activity_heatmap, turn_message_volume,
  turn_chat_states, turn_authors, turn_top_authors;
- test_reports_duckdb_campaigns.py: push_results, push_failures, push_retry_audience,
  template_campaigns, template_funnel, template_sessions.

Conventions. The expected side (tests/python/duckref.py plus each test's query) is written from
the spec (SPEC 4 and 6, reference 5.3, 6, 10 and 11.7) in DuckDB's dialect with its own time-zone
handling (ICU `timezone()`), never from chatlake's SQL, and never by pasting chatlake's output.
Billing conversations, which need a state machine, come from a small Python model of the CBP
rules (duckref.cbp_conversations) for the numbers without webhook conversations, and from the
webhook `conversations` table for the others. Each test compares full row sets. The default
range is the last 14 local days of the lake in Asia/Kolkata; most tests run again on one
channel with the zone left to its default (the channel's, else its tenant's; Europe/London
changes clocks inside the range), some in other zones (UTC, Pacific/Kiritimati,
America/Sao_Paulo). Report arguments are literals in the SQL text: table-function arguments
cannot be bind parameters ($1) yet. The server runs this checkout's sql/ files (conftest.py
passes them with --sql-dir), so the tests check the repository's reports, not the binary's.

Every report has an independent formulation; what the tests cannot pin down exactly:
- turn_countries and turn_top_authors are "top N": the spec does not order ties, so the tests
  accept any order of ties at the cut and check that nothing left out beats what was kept;
- push_results' percentages are checked as 100 * count / recipients to the rounding, and its
  identities (the four read/interact buckets partition sent_success; sent_success + sent_fail =
  recipients) for every campaign;
- the fixture lake (October 2026) is in the per-message-pricing era, so the free tier is only
  exercised on the generated 2023 lake.
"""

import psycopg
import pytest


def test_bad_range_is_sqlstate_22023(conn):
    with pytest.raises(psycopg.Error) as err:
        conn.execute("SELECT * FROM stella_users('2026-10-03', '2026-10-01')")
    assert "invalid report parameter" in str(err.value)
    assert err.value.sqlstate == "22023"


def test_every_report_is_checked():
    # A report added under sql/reports/ needs its DuckDB test in one of the family modules.
    import pathlib

    here = pathlib.Path(__file__).parent
    tested = "".join(p.read_text() for p in here.glob("test_reports_duckdb_*.py"))
    reports = sorted(p.stem for p in (here.parents[1] / "sql" / "reports").glob("*.sql"))
    assert len(reports) >= 29
    untested = [r for r in reports if f"FROM {r}(" not in tested]
    assert untested == []
