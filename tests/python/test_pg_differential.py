"""PostgreSQL as the oracle for SQL semantics: the same few hundred expressions and small
queries (tests/python/pg_cases.py) answered by PostgreSQL 15 and by chatlake, compared as
the client sees them: column names and every value in the server's text format, or the
SQLSTATE of the error (simple query protocol, libpq's raw results through psycopg's `pq`).

A case that differs must be listed with its reason in the README's "Known differences"
table (`| pattern | reason |`, patterns are globs over case ids); a listed pattern that no
longer matches any differing case fails the test too, so the list stays true.

Report the differences of a run: `python tests/python/test_pg_differential.py CHATLAKE_DSN PG_DSN`.
"""

import fnmatch
import pathlib
import re
import sys

import pytest

import pg_cases
from needs import require_module

REPO = pathlib.Path(__file__).resolve().parents[2]
README = REPO / "README.md"


def answer(pgconn, zone, sql):
    """('rows', names, rows) or ('error', sqlstate) for `sql` with TimeZone `zone`."""
    from psycopg import pq

    pgconn.exec_(f"SET TimeZone = '{zone}'".encode())
    res = pgconn.exec_(sql.encode())
    if res.status == pq.ExecStatus.TUPLES_OK:
        names = [res.fname(i).decode() for i in range(res.nfields)]
        rows = [tuple(None if res.get_value(r, c) is None else res.get_value(r, c).decode()
                      for c in range(res.nfields)) for r in range(res.ntuples)]
        return ("rows", names, rows)
    if res.status == pq.ExecStatus.COMMAND_OK:
        return ("ok",)
    state = res.error_field(pq.DiagnosticField.SQLSTATE)
    return ("error", state.decode() if state else "?")


def differences(chatlake_conn, pg_conn):
    """{case id: (sql, ours, postgres)} for every case whose answers differ."""
    out = {}
    for case_id, zone, sql in pg_cases.cases():
        ours = answer(chatlake_conn.pgconn, zone, sql)
        theirs = answer(pg_conn.pgconn, zone, sql)
        if ours != theirs:
            out[case_id] = (f"SET TimeZone = '{zone}'; {sql}", ours, theirs)
    return out


def known_differences():
    """{pattern: reason} from the README's "Known differences" table (one or more
    backticked patterns in the first cell of a row)."""
    text = README.read_text()
    section = text.split("### Known differences", 1)
    assert len(section) == 2, "README.md has no '### Known differences' section"
    body = section[1].split("\n#", 1)[0]
    known = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        for pattern in re.findall(r"`([^`]+)`", cells[0]):
            known[pattern] = cells[1]
    assert known, "the Known differences table is empty or unreadable"
    return known


@pytest.fixture(scope="module")
def postgres():
    sys.path.insert(0, str(REPO))
    import tempfile

    from benches.peers.wire import Postgres

    # Under the system temp directory, not pytest's (mode 0700): run as root, the cluster
    # belongs to the `postgres` user, which must reach its directory.
    pg = Postgres(tempfile.gettempdir(), log=print)
    try:
        yield pg
    finally:
        pg.stop()


def test_chatlake_answers_as_postgres_does_or_the_difference_is_listed(server, postgres):
    import psycopg

    with psycopg.connect(host=server["host"], port=server["port"], user="chatlake",
                         dbname="chatlake", autocommit=True) as ours, \
            psycopg.connect(postgres.dsn(), autocommit=True) as theirs:
        found = differences(ours, theirs)
    cases = pg_cases.cases()
    assert len(cases) >= 300, len(cases)
    assert len({c[0] for c in cases}) == len(cases), "case ids must be unique"
    known = known_differences()
    unlisted = {case: d for case, d in found.items()
                if not any(fnmatch.fnmatchcase(case, p) for p in known)}
    stale = [p for p in known if not any(fnmatch.fnmatchcase(case, p) for case in found)]
    report = "\n".join(f"{case}: {sql}\n  chatlake:   {ours}\n  postgresql: {theirs}"
                       for case, (sql, ours, theirs) in sorted(unlisted.items()))
    assert not unlisted, f"{len(unlisted)} differences not in README's Known differences:\n{report}"
    assert not stale, f"listed in Known differences but no longer different: {stale}"
    # Not vacuous: most cases agree.
    assert len(found) < len(cases) // 2, f"{len(found)} of {len(cases)} cases differ"


def test_unquoted_table_function_names_fold_to_lower_case(conn):
    """Superset upper-cases a report call when it applies its row limit; PostgreSQL folds
    unquoted names, so the call must answer as the lower-case one does."""
    lower = conn.execute("SELECT * FROM glific_most_active_hour('2026-01-01', '2026-12-31') "
                         "ORDER BY 1").fetchall()
    upper = conn.execute("SELECT * FROM GLIFIC_MOST_ACTIVE_HOUR('2026-01-01', '2026-12-31') "
                         "ORDER BY 1 LIMIT 1001").fetchall()
    assert lower and upper == lower


REPORTS = pathlib.Path(__file__).resolve().parents[2] / "sql" / "reports"


def report_call(conn, path):
    """`SELECT * FROM report(args)` with arguments for its declared parameters: a year for the
    dates, the lake's first campaign or post for the one that needs it."""
    params = [line.split()[2] for line in path.read_text().splitlines() if line.startswith("-- param:")]
    values = {"from_date": "'2026-01-01'", "to_date": "'2026-12-31'", "channel_id": "NULL",
              "tz": "'Asia/Kolkata'"}
    if "campaign_id" in params:
        values["campaign_id"] = "'{}'".format(
            conn.execute("SELECT min(campaign_id) FROM campaigns").fetchone()[0])
    if "post_id" in params:
        values["post_id"] = "'{}'".format(
            conn.execute("SELECT min(post_id) FROM comments").fetchone()[0])
    args = ", ".join(values[p] for p in params)
    return f"SELECT * FROM {path.stem}({args})"


def test_superset_sql_lab_rewrite_of_every_report(conn):
    """Superset 6.1's SQL Lab (sqlglot 28, as apache-superset 6.1.0 requires) applies its row limit by parsing the statement with sqlglot and
    printing it back, which upper-cases function names: every report call, so rewritten, answers
    as written."""
    sqlglot = require_module("sqlglot")
    reports = sorted(REPORTS.glob("*.sql"))
    assert len(reports) >= 29
    for path in reports:
        sql = report_call(conn, path)
        rewritten = sqlglot.parse_one(sql, read="postgres").limit(1001).sql(dialect="postgres")
        assert path.stem.upper() in rewritten, rewritten
        assert sorted(conn.execute(rewritten).fetchall(), key=repr) == \
            sorted(conn.execute(sql + " LIMIT 1001").fetchall(), key=repr), rewritten


LAKE_ZONES = ["Asia/Kolkata", "America/New_York", "Australia/Adelaide", "UTC"]
LAKE_EXPRESSIONS = ["date_trunc('day', ts)", "date_trunc('hour', ts)", "date_trunc('month', ts)",
                    "ts::date", "CAST(ts AS DATE)", "extract(hour FROM ts)", "extract(dow FROM ts)",
                    "date_part('day', ts)", "to_char(ts, 'YYYY-MM-DD HH24 FMDay IW TZ OF')"]


def test_calendar_functions_over_lake_columns_follow_the_session_zone(server, postgres):
    """The lake's `timestamptz` columns (Arrow timestamps labelled UTC) bucketed by day, hour,
    month, date, hour of day in the session's TimeZone: the same buckets and counts as
    PostgreSQL over a table of the same instants."""
    import psycopg

    with psycopg.connect(host=server["host"], port=server["port"], user="chatlake",
                         dbname="chatlake", autocommit=True) as ours, \
            psycopg.connect(postgres.dsn(), autocommit=True) as theirs:
        rows = ours.execute("SELECT message_id, ts FROM messages ORDER BY message_id LIMIT 200").fetchall()
        assert len(rows) == 200
        ids = ", ".join(f"'{message_id}'" for message_id, _ in rows)
        theirs.execute("CREATE TEMP TABLE lake_messages (message_id text, ts timestamptz)")
        with theirs.cursor().copy("COPY lake_messages FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        compared = 0
        for zone in LAKE_ZONES:
            for expr in LAKE_EXPRESSIONS:
                sql = f"SELECT {expr} AS v, count(*) AS n FROM {{table}} GROUP BY 1 ORDER BY 1"
                got = answer(ours.pgconn, zone, sql.format(table=f"messages WHERE message_id IN ({ids})"))
                want = answer(theirs.pgconn, zone, sql.format(table="lake_messages"))
                assert got == want, f"{zone}: {expr}\n  chatlake:   {got}\n  postgresql: {want}"
                compared += 1
        # Not vacuous: the zones put the same instants in different days.
        days = {z: answer(theirs.pgconn, z, "SELECT count(DISTINCT ts::date) FROM lake_messages")
                for z in LAKE_ZONES}
        assert compared == len(LAKE_ZONES) * len(LAKE_EXPRESSIONS)
        kolkata_hours = answer(theirs.pgconn, "Asia/Kolkata",
                               "SELECT count(*) FROM lake_messages WHERE extract(hour FROM ts) "
                               "<> extract(hour FROM ts AT TIME ZONE 'UTC')")
        assert kolkata_hours[2][0][0] == "200", (kolkata_hours, days)


def test_bound_wall_times_on_zone_change_nights_read_as_postgres_reads_them(server, postgres):
    """A `timestamptz` bound as text without an offset (psycopg sends it in `Bind`), in an hour a
    zone repeats (Berlin, 2026-10-25 02:30) or skips (New York, 2026-03-08 02:30): the same
    instant as PostgreSQL (the later of the two, the offset before the gap)."""
    import psycopg

    cases = [("Europe/Berlin", "2026-10-25 02:30:00"), ("America/New_York", "2026-03-08 02:30:00"),
             ("Australia/Adelaide", "2026-04-05 02:30:00"), ("Europe/Berlin", "2026-06-01 12:00:00")]
    with psycopg.connect(host=server["host"], port=server["port"], user="chatlake",
                         dbname="chatlake", autocommit=True) as ours, \
            psycopg.connect(postgres.dsn(), autocommit=True) as theirs:
        for zone, wall in cases:
            answers = []
            for conn in (ours, theirs):
                conn.execute(f"SET TimeZone = '{zone}'")
                row = conn.execute("SELECT extract(epoch FROM %s::timestamptz)::bigint",
                                   [wall],
                                   prepare=True).fetchone()
                answers.append(int(row[0]))
            assert answers[0] == answers[1], f"{zone} {wall}: chatlake {answers[0]}, postgresql {answers[1]}"


if __name__ == "__main__":
    import psycopg

    with psycopg.connect(sys.argv[1], autocommit=True) as a, \
            psycopg.connect(sys.argv[2], autocommit=True) as b:
        found = differences(a, b)
    for case, (sql, ours, theirs) in sorted(found.items()):
        print(f"{case}: {sql}\n  chatlake:   {ours}\n  postgresql: {theirs}")
    print(f"{len(found)} of {len(pg_cases.cases())} cases differ")
