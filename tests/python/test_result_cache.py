"""The exact result cache and shared work (issue 24) through the real server: `chatlake serve`
with pgwire and the console's query API over a lake of its own, committed to by `chatlake
ingest` while the server runs.

Hits, misses, bypasses and shared waits are read from `chatlake_cache_stats()`, never from
timing. Answers are checked against DuckDB over the same lake (the formulation of
test_reports_duckdb_stella.py, written from the spec), read again after every commit, so a
cached answer that went stale would differ.
"""

import json
import threading

import pytest

import duckref
from conftest import REPORT_TZ, connect, generate
from duckref import days_cte, rows
from test_query_api import query, start_console

LAKE_ARGS = ["--tenants", "3", "--contacts", "600", "--days", "20", "--seed", "5"]


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    path = tmp_path_factory.mktemp("cache-lake")
    generate(path, *LAKE_ARGS)
    return path


@pytest.fixture(scope="module")
def console(lake, sql_dir):
    proc, pg, url = start_console(lake, sql_dir, "--result-cache-mb", "64")
    yield {"url": url, "pg": {"host": "127.0.0.1", "port": pg}}
    proc.terminate()
    proc.wait(timeout=30)


def duck_of(lake):
    """The lake as it is now, in DuckDB."""
    return duckref.load(lake)


def stats(conn):
    cur = conn.execute("SELECT * FROM chatlake_cache_stats()")
    names = [d.name for d in cur.description]
    return dict(zip(names, cur.fetchone()))


def delta(before, after):
    return {k: after[k] - before[k] for k in ("hits", "misses", "bypasses", "shared_waits")}


def stella_users_sql(lo, hi):
    return (f"SELECT day, user_messages, new_users FROM stella_users('{lo}', '{hi}', NULL, "
            f"'{REPORT_TZ}') ORDER BY day")


def stella_users_duck(duck, lo, hi, tenant=None):
    """stella_users over all channels in REPORT_TZ, by DuckDB (optionally one tenant's rows)."""
    only = "TRUE" if tenant is None else f"tenant_id = '{tenant}'"
    return rows(duck.execute(f"""
        WITH {days_cte(lo, hi)},
        um AS (SELECT ldate(ts, '{REPORT_TZ}') AS day, count(*) AS n FROM messages
               WHERE direction = 'inbound' AND msg_type <> 'system' AND {only} GROUP BY 1),
        firsts AS (SELECT ldate(min(ts), '{REPORT_TZ}') AS day FROM messages
                   WHERE direction = 'inbound' AND msg_type <> 'system' AND {only}
                   GROUP BY tenant_id, channel_id, contact_id),
        nu AS (SELECT day, count(*) AS n FROM firsts GROUP BY day)
        SELECT days.day, coalesce(um.n, 0), coalesce(nu.n, 0)
        FROM days LEFT JOIN um USING (day) LEFT JOIN nu USING (day)"""))


def ingest(lake, table, path):
    import subprocess

    from conftest import _binary
    subprocess.run([_binary(), "ingest", "--lake", str(lake), "--table", table, str(path)],
                   check=True, capture_output=True)


def write_ndjson(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def a_whatsapp_channel(duck):
    """(tenant_id, channel_id) of a channel with inbound messages."""
    return duck.execute("SELECT tenant_id, channel_id FROM messages WHERE direction = 'inbound' "
                        "GROUP BY ALL ORDER BY count(*) DESC LIMIT 1").fetchone()


def test_a_report_is_cached_until_a_table_it_reads_changes(console, lake, tmp_path):
    duck = duck_of(lake)
    lo, hi = duckref.last_days(duck, REPORT_TZ, 14)
    sql = stella_users_sql(lo, hi)
    with connect(console["pg"]) as conn:
        before = stats(conn)
        first = conn.execute(sql).fetchall()
        second = conn.execute(sql).fetchall()
        assert delta(before, stats(conn)) == {"hits": 1, "misses": 1, "bypasses": 1,
                                              "shared_waits": 0}
        assert rows(first) == rows(second) == stella_users_duck(duck, lo, hi)

        # A commit to a table the report does not read: still a hit, same answer.
        tenant, channel = a_whatsapp_channel(duck)
        comment = {"tenant_id": tenant, "channel_id": channel, "post_id": "post-cache",
                   "comment_id": "cm-cache-1", "ts": f"{hi}T06:00:00Z", "text": "hello",
                   "matched": False, "reply_kind": "none"}
        ingest(lake, "comments", write_ndjson(tmp_path / "comments.ndjson", [comment]))
        assert duck_of(lake).execute(
            "SELECT count(*) FROM comments WHERE comment_id = 'cm-cache-1'").fetchone() == (1,)
        before = stats(conn)
        assert conn.execute(sql).fetchall() == first
        assert delta(before, stats(conn))["hits"] == 1

        # A commit to messages: three new inbound messages at local noon of the last day.
        new = [{"tenant_id": tenant, "channel_id": channel, "message_id": f"m-cache-{i}",
                "direction": "inbound", "ts": f"{hi}T06:30:0{i}Z", "wa_id": f"91999000000{i}",
                "msg_type": "text", "body_text": "new"} for i in range(3)]
        ingest(lake, "messages", write_ndjson(tmp_path / "messages.ndjson", new))
        before = stats(conn)
        third = conn.execute(sql).fetchall()
        assert delta(before, stats(conn)) == {"hits": 0, "misses": 1, "bypasses": 1,
                                              "shared_waits": 0}
        # By hand: the last day has three more user messages, every other day is unchanged.
        last = {r[0]: r for r in first}[hi]
        assert {r[0]: r for r in third}[hi][1] == last[1] + 3
        assert [r for r in third if r[0] != hi] == [r for r in first if r[0] != hi]
        # And the whole answer is what DuckDB computes over the lake as it is now.
        assert rows(third) == stella_users_duck(duck_of(lake), lo, hi)
        # The new answer is the one cached now.
        assert conn.execute(sql).fetchall() == third


def test_two_tenants_and_two_time_zones_never_share_an_entry(console, lake):
    duck = duck_of(lake)
    tenants = [t for (t,) in duck.execute("SELECT tenant_id FROM tenants ORDER BY 1").fetchall()]
    lo, hi = duckref.last_days(duck, REPORT_TZ, 7)
    sql = stella_users_sql(lo, hi)
    answers = {}
    with connect(console["pg"]) as a, connect(console["pg"]) as b:
        a.execute(f"SET chatlake.tenant = '{tenants[0]}'")
        b.execute(f"SET chatlake.tenant = '{tenants[1]}'")
        before = stats(a)
        answers["a"] = a.execute(sql).fetchall()
        assert a.execute(sql).fetchall() == answers["a"]
        answers["b"] = b.execute(sql).fetchall()
        assert delta(before, stats(a))["misses"] == 2 and delta(before, stats(a))["hits"] == 1
    assert rows(answers["a"]) == stella_users_duck(duck, lo, hi, tenants[0])
    assert rows(answers["b"]) == stella_users_duck(duck, lo, hi, tenants[1])
    assert answers["a"] != answers["b"]

    # `::date` of a timestamptz is the session zone's date.
    by_day = "SELECT CAST(ts AS DATE) AS day, count(*) FROM messages GROUP BY 1 ORDER BY 1"
    with connect(console["pg"]) as utc, connect(console["pg"]) as kolkata:
        utc.execute("SET TimeZone = 'UTC'")
        kolkata.execute(f"SET TimeZone = '{REPORT_TZ}'")
        before = stats(utc)
        in_utc = utc.execute(by_day).fetchall()
        assert utc.execute(by_day).fetchall() == in_utc
        in_kolkata = kolkata.execute(by_day).fetchall()
        assert delta(before, stats(utc))["misses"] == 2 and delta(before, stats(utc))["hits"] == 1
    for got, zone in [(in_utc, "UTC"), (in_kolkata, REPORT_TZ)]:
        assert rows(got) == rows(duck.execute(
            f"SELECT ldate(ts, '{zone}') AS day, count(*) FROM messages GROUP BY 1"))
    assert in_utc != in_kolkata


def test_now_bypasses_and_explain_says_what_would_happen(console):
    volatile = "SELECT count(*) FROM messages WHERE ts < now()"
    plain = "SELECT channel_id, count(*) FROM messages GROUP BY 1 ORDER BY 1"
    with connect(console["pg"]) as conn:
        before = stats(conn)
        assert conn.execute(volatile).fetchone() == conn.execute(volatile).fetchone()
        # Two bypasses, and the stats query's own.
        assert delta(before, stats(conn)) == {"hits": 0, "misses": 0, "bypasses": 3,
                                              "shared_waits": 0}

        def note(sql):
            found = [r[1] for r in conn.execute(f"EXPLAIN {sql}").fetchall()
                     if r[0] == "result_cache"]
            assert len(found) == 1, found
            return found[0]

        assert note(volatile).startswith("not cached: now()")
        assert note("SELECT * FROM pg_catalog.pg_class").startswith("not cached:")
        assert note(plain).startswith("miss")
        conn.execute(plain).fetchall()
        assert note(plain).startswith("hit")


def test_ten_identical_concurrent_calls_run_the_plan_once(console, lake):
    duck = duck_of(lake)
    lo, hi = duckref.last_days(duck, REPORT_TZ, 10)
    sql = stella_users_sql(lo, hi)
    barrier = threading.Barrier(10)
    answers, errors = [None] * 10, []

    def call(i):
        try:
            with connect(console["pg"]) as conn:
                barrier.wait(timeout=60)
                answers[i] = conn.execute(sql).fetchall()
        except Exception as e:  # reported below, with the others
            errors.append(e)

    with connect(console["pg"]) as conn:
        before = stats(conn)
        threads = [threading.Thread(target=call, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        after = stats(conn)
    assert not errors, errors
    change = delta(before, after)
    # One execution; the nine others waited for it or, arriving after it, hit its entry.
    assert change["misses"] == 1, change
    assert change["hits"] + change["shared_waits"] == 9, change
    assert all(a == answers[0] for a in answers)
    assert rows(answers[0]) == stella_users_duck(duck, lo, hi)


def test_the_console_api_shares_the_cache_with_pgwire(console, lake):
    duck = duck_of(lake)
    lo, hi = duckref.last_days(duck, REPORT_TZ, 5)
    sql = stella_users_sql(lo, hi)
    with connect(console["pg"]) as conn:
        over_pg = conn.execute(sql).fetchall()
        before = stats(conn)
        answer = query(console["url"], sql)
        after = stats(conn)
    assert answer.status == 200, answer.body
    assert delta(before, after)["hits"] == 1 and delta(before, after)["misses"] == 0
    assert [[str(r[0]), r[1], r[2]] for r in over_pg] == answer.json()["rows"]
