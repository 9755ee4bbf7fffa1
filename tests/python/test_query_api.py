"""The console's query API (`chatlake serve --http-listen`, `POST /v1/query`) against pgwire on
the same server: column types and values as psycopg decodes them over pgwire, the same
SQLSTATEs and messages, cancellation and timeouts, a million rows streamed in bounded
memory, Arrow IPC read back with pyarrow, and logins with an auth file.

The expected side is never this API's own output: types come from the OIDs psycopg receives
over pgwire (named as PostgreSQL's `format_type` names them), values from psycopg's decoding
of pgwire's wire format, errors from the `ErrorResponse` psycopg raises.
"""

import datetime
import decimal
import json
import math
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import _binary, _free_port, connect, wait_for_port
from test_auth import user_add

# PostgreSQL's `format_type` names of the type names psycopg knows OIDs by.
FORMAT_TYPE = {
    "int2": "smallint", "int4": "integer", "int8": "bigint", "float4": "real",
    "float8": "double precision", "numeric": "numeric", "text": "text", "bool": "boolean",
    "date": "date", "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone", "interval": "interval",
    "text[]": "text[]", "int8[]": "bigint[]",
}


def start_console(lake, sql_dir, *flags, stdout=subprocess.DEVNULL):
    """`chatlake serve --http-listen` on free ports: (process, pg port, console base URL)."""
    pg, http = _free_port(), _free_port()
    proc = subprocess.Popen([_binary(), "serve", "--lake", str(lake), "--sql-dir", str(sql_dir),
                             "--listen", f"127.0.0.1:{pg}", "--http-listen", f"127.0.0.1:{http}",
                             *flags],
                            stdout=stdout, stderr=subprocess.PIPE)
    wait_for_port(http, proc, "chatlake serve --http-listen", 120)
    return proc, pg, f"http://127.0.0.1:{http}"


@pytest.fixture(scope="module")
def console(lake_dir, sql_dir, tmp_path_factory):
    printed = tmp_path_factory.mktemp("console") / "stdout.txt"
    with open(printed, "w") as out:
        proc, pg, url = start_console(lake_dir, sql_dir, stdout=out)
    yield {"url": url, "pg": {"host": "127.0.0.1", "port": pg}, "pid": proc.pid,
           "stdout": printed}
    proc.terminate()
    proc.wait(timeout=30)


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


def request(url, path, body=None, headers=None, method=None):
    """One HTTP request; any status is an answer (no exception for 4xx/5xx)."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url + path, data=data, headers=headers or {}, method=method)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=300) as r:
            return Answer(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Answer(e.code, e.headers, e.read())


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def query(url, sql, headers=None, **fields):
    return request(url, "/v1/query", {"sql": sql, **fields}, headers)


def over_pgwire(server, sql, time_zone="UTC"):
    """(type names, row values, raw text of each value) of `sql` over pgwire with psycopg."""
    import psycopg
    with connect(server) as c:
        c.execute(f"SET TimeZone = '{time_zone}'")
        cur = c.execute(sql)
        types = []
        for d in cur.description:
            info = psycopg.adapters.types.get(d.type_code)
            name = info.name + ("[]" if d.type_code == info.array_oid else "")
            types.append(FORMAT_TYPE[name])
        rows = cur.fetchall()
        text = c.cursor(row_factory=psycopg.rows.tuple_row)
        text.adapters.register_loader("interval", psycopg.types.string.TextLoader)
        raw = text.execute(sql).fetchall()
    return types, rows, raw


EVERY_KIND = """
SELECT CAST(7 AS SMALLINT) AS i2, CAST(-8 AS INT) AS i4, CAST(42 AS BIGINT) AS i8,
       CAST(9007199254740993 AS BIGINT) AS big, CAST(1.5 AS REAL) AS f4,
       CAST(0.1 AS DOUBLE) AS f8, CAST('NaN' AS DOUBLE) AS nan,
       CAST('-Infinity' AS DOUBLE) AS neg_inf, CAST(12.50 AS NUMERIC(10, 2)) AS num,
       'héllo "q" \\ end' AS t, true AS b, CAST(NULL AS INT) AS n, DATE '2026-10-01' AS d,
       TIMESTAMPTZ '2026-10-01 10:00:00.5+00' AS tz,
       TIMESTAMP '2026-10-01 10:00:00.123456' AS ts, INTERVAL '1 day 2 hours' AS iv,
       make_array('a', NULL, 'c') AS arr, make_array(1, 2) AS iarr
"""


def test_every_column_kind_has_pgwire_type_and_value(console):
    zone = "Asia/Kolkata"
    types, rows, raw = over_pgwire(console["pg"], EVERY_KIND, zone)
    answer = query(console["url"], EVERY_KIND, settings={"TimeZone": zone})
    assert answer.status == 200, answer.body
    body = answer.json()
    assert [c["type"] for c in body["columns"]] == types
    assert [c["name"] for c in body["columns"]] == [
        "i2", "i4", "i8", "big", "f4", "f8", "nan", "neg_inf", "num", "t", "b", "n", "d", "tz",
        "ts", "iv", "arr", "iarr"]
    assert body["row_count"] == 1 and len(body["rows"]) == 1
    got, want, text = dict(zip([c["name"] for c in body["columns"]], body["rows"][0])), \
        dict(zip([c["name"] for c in body["columns"]], rows[0])), \
        dict(zip([c["name"] for c in body["columns"]], raw[0]))
    for name in ["i2", "i4", "i8", "t", "b", "n", "arr", "iarr"]:
        assert got[name] == want[name], name
    # Past 2^53 an int8 is a string (a JSON number would lose the last digit).
    assert got["big"] == "9007199254740993" and int(got["big"]) == want["big"]
    assert got["f4"] == want["f4"] and got["f8"] == want["f8"]
    assert got["nan"] == "NaN" and math.isnan(want["nan"])
    assert got["neg_inf"] == "-Infinity" and want["neg_inf"] == float("-inf")
    assert got["num"] == "12.50" and decimal.Decimal(got["num"]) == want["num"]
    assert datetime.date.fromisoformat(got["d"]) == want["d"]
    # RFC 3339 in the session zone: the same instant, the zone's offset.
    assert got["tz"] == "2026-10-01T15:30:00.5+05:30"
    assert datetime.datetime.fromisoformat(got["tz"]) == want["tz"]
    assert got["ts"] == "2026-10-01 10:00:00.123456"
    assert datetime.datetime.fromisoformat(got["ts"]) == want["ts"]
    assert got["iv"] == text["iv"] == "1 day 02:00:00"


def test_parameters_bind_as_over_pgwire(console):
    answer = query(console["url"], "SELECT $1::bigint + 1 AS n, upper($2) AS s, $3::date AS d",
                   params=[41, "abc", "2026-10-05"])
    assert answer.status == 200, answer.body
    assert answer.json()["rows"] == [[42, "ABC", "2026-10-05"]]
    bad = query(console["url"], "SELECT $1::bigint AS n", params=["forty-two"])
    assert bad.status == 400 and bad.json()["error"]["sqlstate"] == "22P02"


@pytest.mark.parametrize("sql, sqlstate", [
    ("SELEC 1", "42601"),
    ("SELECT * FROM no_such_table", "42P01"),
    ("SELECT no_such_function(1)", "42883"),
    ("SELECT * FROM glific_summary(DATE '2025-01-01', DATE '2026-10-31', NULL, NULL)", "22023"),
])
def test_errors_carry_pgwires_sqlstate_and_message(console, sql, sqlstate):
    import psycopg
    with connect(console["pg"]) as c, pytest.raises(psycopg.Error) as raised:
        c.execute(sql)
    assert raised.value.sqlstate == sqlstate
    answer = query(console["url"], sql)
    assert answer.status == 400
    assert answer.json()["error"] == {"sqlstate": sqlstate,
                                      "message": raised.value.diag.message_primary}


def test_one_statement_per_request_and_no_session_statements(console):
    two = query(console["url"], "SELECT 1; SELECT 2")
    assert two.status == 400 and two.json()["error"]["sqlstate"] == "42601"
    set_ = query(console["url"], "SET TimeZone = 'UTC'")
    assert set_.status == 400 and set_.json()["error"]["sqlstate"] == "0A000"
    bad_zone = query(console["url"], "SELECT 1", settings={"TimeZone": "Mars/Olympus"})
    assert bad_zone.status == 400 and bad_zone.json()["error"]["sqlstate"] == "22023"
    garbage = request(console["url"], "/v1/query", b"{not json")
    assert garbage.status == 400 and garbage.json()["error"]["sqlstate"] == "08P01"


SLOW = "SELECT count(*) FROM generate_series(1, 100000000000)"


def test_cancel_stops_a_running_query_with_57014(console):
    answers = {}

    def run():
        answers["slow"] = query(console["url"], SLOW, query_id="slow-1")

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.time() + 30
    while True:
        cancel = request(console["url"], "/v1/query/slow-1/cancel", b"", method="POST")
        if cancel.status == 200 or time.time() > deadline:
            break
        time.sleep(0.1)
    assert cancel.status == 200, cancel.body
    thread.join(timeout=60)
    assert not thread.is_alive()
    slow = answers["slow"]
    assert slow.status == 400
    assert slow.json()["error"] == {"sqlstate": "57014",
                                    "message": "canceling statement due to user request"}
    # Finished: nothing left to cancel.
    again = request(console["url"], "/v1/query/slow-1/cancel", b"", method="POST")
    assert again.status == 404


def test_timeout_ms_stops_a_query_with_57014(console):
    started = time.time()
    answer = query(console["url"], SLOW, timeout_ms=300)
    assert answer.status == 400
    assert answer.json()["error"] == {"sqlstate": "57014",
                                      "message": "canceling statement due to statement timeout"}
    assert time.time() - started < 60


def high_water_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_a_million_rows_stream_in_bounded_memory(console):
    """The JSON body of these rows is ~115 MB. Held whole (the body, or the result's batches,
    ~110 MB of Arrow strings) it would raise the server's peak resident memory by more than
    that; streamed, a few 8192-row batches (~1 MB each) are in flight (measured: +3 MB in a
    debug build). The bound, 48 MB, sits far under the first and far over the second; a distinct
    count of the same rows, which must hold them all, shows the measure sees buffering."""
    sql = "SELECT value AS i, repeat('x', 100) AS pad FROM generate_series(1, 1000000)"
    warm = query(console["url"], sql.replace("1000000", "50000"))
    assert warm.status == 200
    before = high_water_kb(console["pid"])
    req = urllib.request.Request(console["url"] + "/v1/query",
                                 data=json.dumps({"sql": sql}).encode())
    size, chunks = 0, []
    with urllib.request.urlopen(req, timeout=600) as r:
        assert r.headers["Transfer-Encoding"] == "chunked"
        while chunk := r.read(1 << 20):
            size += len(chunk)
            chunks.append(chunk)
    growth_mb = (high_water_kb(console["pid"]) - before) / 1024
    body = json.loads(b"".join(chunks))
    assert size > 100 << 20
    assert body["row_count"] == 1_000_000 and len(body["rows"]) == 1_000_000
    assert body["rows"][0] == [1, "x" * 100] and body["rows"][-1] == [1_000_000, "x" * 100]
    assert "error" not in body
    assert growth_mb < 48, f"peak RSS grew by {growth_mb:.0f} MB for a {size >> 20} MB answer"
    # The measure sees buffering: counting the distinct rows must hold them all, and does.
    before = high_water_kb(console["pid"])
    distinct = query(console["url"],
                     f"SELECT count(DISTINCT pad || CAST(i AS VARCHAR)) AS n FROM ({sql})")
    assert distinct.json()["rows"] == [[1_000_000]]
    assert (high_water_kb(console["pid"]) - before) / 1024 > 48


def test_arrow_ipc_holds_the_json_rows(console):
    import pyarrow.ipc

    sql = ("SELECT value AS i, CAST(value AS DOUBLE) / 4 AS f, 'r' || CAST(value AS VARCHAR) AS s, "
           "value % 3 = 0 AS b, DATE '2026-01-01' + CAST(value % 40 AS INT) AS d, "
           "CASE WHEN value % 7 = 0 THEN NULL ELSE value END AS n "
           "FROM generate_series(1, 20000) ORDER BY i")
    as_json = query(console["url"], sql)
    assert as_json.status == 200
    as_arrow = request(console["url"], "/v1/query", {"sql": sql},
                       {"Accept": "application/vnd.apache.arrow.stream"})
    assert as_arrow.status == 200
    assert as_arrow.headers["Content-Type"] == "application/vnd.apache.arrow.stream"
    reader = pyarrow.ipc.open_stream(as_arrow.body)
    table = reader.read_all()
    assert table.column_names == [c["name"] for c in as_json.json()["columns"]]
    rows = [[v.isoformat() if isinstance(v, datetime.date) else v for v in row.values()]
            for row in table.to_pylist()]
    assert rows == as_json.json()["rows"]
    assert len(rows) == 20000


def test_an_error_after_rows_started_ends_the_json_with_an_error_member(console):
    """Division by zero at the 20000th row: the first batches (8192 rows each) are out before
    it fails, so the answer is a 200 whose JSON ends with `"error"`; the Arrow stream is cut
    short, so a reader fails rather than return a partial table."""
    import psycopg
    import pyarrow.ipc

    sql = "SELECT value, 10 / (value - 20000) AS q FROM generate_series(1, 30000)"
    with connect(console["pg"]) as c, pytest.raises(psycopg.Error) as raised:
        c.execute(sql).fetchall()
    answer = query(console["url"], sql)
    assert answer.status == 200
    body = answer.json()
    assert body["error"] == {"sqlstate": raised.value.sqlstate,
                             "message": raised.value.diag.message_primary}
    assert body["error"]["sqlstate"] == "22012"
    assert 0 < body["row_count"] == len(body["rows"]) < 30000
    with pytest.raises(Exception):
        as_arrow = request(console["url"], "/v1/query", {"sql": sql},
                           {"Accept": "application/vnd.apache.arrow.stream"})
        pyarrow.ipc.open_stream(as_arrow.body).read_all()


def test_catalog_lists_tables_views_functions_and_reports(console):
    answer = request(console["url"], "/v1/catalog")
    assert answer.status == 200
    body = answer.json()
    tables = {t["name"]: t for t in body["tables"]}
    assert tables["messages"]["kind"] == "table"
    assert tables["tenant_messages"]["kind"] == "view"
    assert {"name": "ts", "type": "timestamp with time zone"} in tables["messages"]["columns"]
    reports = {r["name"]: r for r in body["reports"]}
    assert reports["glific_daily_contacts"]["params"][:2] == ["from_date date", "to_date date"]
    assert reports["glific_daily_contacts"]["description"]
    assert any(f["name"] == "local_date" and f["description"] for f in body["functions"])


def test_scope_lists_tenants_channels_and_the_newest_day(console):
    body = request(console["url"], "/v1/scope").json()
    with connect(console["pg"]) as c:
        tenants = c.execute("SELECT tenant_id FROM tenants ORDER BY 1").fetchall()
        channels = c.execute("SELECT count(*) FROM channels").fetchone()[0]
        newest = c.execute("SELECT max(dt) FROM messages").fetchone()[0]
    assert [t["tenant_id"] for t in body["tenants"]] == [t[0] for t in tenants]
    assert len(body["channels"]) == channels
    assert body["data_until"] == newest.isoformat()


def test_pages_and_unknown_routes(console):
    assert request(console["url"], "/d/no-such-dashboard").status == 404
    missing = request(console["url"], "/v1/nothing")
    assert missing.status == 404 and missing.json()["error"]["sqlstate"] == "42704"
    assert request(console["url"], "/assets/../Cargo.toml").status == 404
    listed = request(console["url"], "/v1/dashboards").json()
    for dashboard in listed:
        full = request(console["url"], f"/v1/dashboards/{dashboard['name']}").json()
        assert full["title"] == dashboard["title"] and full["panels"]


def test_serve_prints_the_console_url_under_the_psql_line(console):
    lines = console["stdout"].read_text().splitlines()
    psql = next(i for i, line in enumerate(lines) if line.startswith("connect with:"))
    assert lines[psql + 1] == f"console:       {console['url']}/"


def test_explain_analyze_runs_for_the_playground(console):
    answer = query(console["url"], "EXPLAIN ANALYZE SELECT count(*) FROM messages")
    assert answer.status == 200, answer.body
    body = answer.json()
    assert [c["name"] for c in body["columns"]] == ["plan_type", "plan"]
    assert any("metrics" in row[1] for row in body["rows"])


def test_a_non_loopback_console_needs_an_auth_file(lake_dir):
    out = subprocess.run([_binary(), "serve", "--lake", str(lake_dir), "--listen",
                          "127.0.0.1:0", "--http-listen", "0.0.0.0:0"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "refusing to listen on 0.0.0.0:0 without --auth-file" in out.stderr


# ---- logins: an auth file with one user granted one tenant ----

CAROL = ("carol", "c4rol's secret")
DAVE = ("dave", "dave-sees-all")


@pytest.fixture(scope="module")
def tenants(console):
    with connect(console["pg"]) as c:
        return [r[0] for r in c.execute("SELECT tenant_id FROM tenants ORDER BY 1").fetchall()]


@pytest.fixture(scope="module")
def secured(lake_dir, sql_dir, tenants, tmp_path_factory):
    auth = tmp_path_factory.mktemp("console-auth") / "users.toml"
    user_add(auth, *CAROL, "--tenant", tenants[0])
    user_add(auth, *DAVE, "--all-tenants")
    proc, pg, url = start_console(lake_dir, sql_dir, "--auth-file", str(auth))
    yield {"url": url, "pg": pg}
    proc.terminate()
    proc.wait(timeout=30)


def log_in(url, user, password, next_path="/"):
    form = urllib.parse.urlencode({"user": user, "password": password, "next": next_path})
    return request(url, "/login", form.encode(),
                   {"Content-Type": "application/x-www-form-urlencoded"})


def cookie_of(answer):
    header = answer.headers["Set-Cookie"]
    return header.split(";")[0]


def test_without_a_login_the_api_answers_401_and_pages_redirect(secured):
    api = request(secured["url"], "/v1/scope")
    assert api.status == 401 and api.json()["error"]["sqlstate"] == "28000"
    assert query(secured["url"], "SELECT 1").status == 401
    page = request(secured["url"], "/play")
    assert page.status == 303 and page.headers["Location"] == "/login?next=%2Fplay"
    login_page = request(secured["url"], "/login")
    assert login_page.status == 200 and b'<form method="post" action="/login">' in login_page.body
    # The login page's stylesheet is served before a login; the data is not.
    assert request(secured["url"], "/assets/console.css").status == 200
    assert b".login" in request(secured["url"], "/assets/console.css").body


def test_a_wrong_password_or_unknown_user_is_refused(secured):
    wrong = log_in(secured["url"], CAROL[0], "not it")
    unknown = log_in(secured["url"], "mallory", CAROL[1])
    for answer in [wrong, unknown]:
        assert answer.status == 401
        assert "Set-Cookie" not in answer.headers
        assert b"password authentication failed for user" in answer.body


def test_a_login_sets_an_http_only_strict_cookie(secured):
    answer = log_in(secured["url"], *CAROL, next_path="/play")
    assert answer.status == 303 and answer.headers["Location"] == "/play"
    attributes = [a.strip() for a in answer.headers["Set-Cookie"].split(";")]
    assert attributes[0].startswith("chatlake_session=") and len(attributes[0]) == 17 + 64
    assert "HttpOnly" in attributes and "SameSite=Strict" in attributes
    assert query(secured["url"], "SELECT 1 AS one",
                 headers={"Cookie": cookie_of(answer)}).json()["rows"] == [[1]]
    # A redirect only within the server.
    elsewhere = log_in(secured["url"], *CAROL, next_path="//evil.example/")
    assert elsewhere.headers["Location"] == "/"
    # Logging out ends that session only.
    out = request(secured["url"], "/logout", b"", {"Cookie": cookie_of(elsewhere)})
    assert out.status == 303 and "Max-Age=0" in out.headers["Set-Cookie"]
    assert query(secured["url"], "SELECT 1", headers={"Cookie": cookie_of(elsewhere)}).status == 401
    assert query(secured["url"], "SELECT 1", headers={"Cookie": cookie_of(answer)}).status == 200


def test_a_user_sees_only_granted_tenants_in_a_report(secured, tenants):
    import psycopg
    carol = {"Cookie": cookie_of(log_in(secured["url"], *CAROL))}
    dave = {"Cookie": cookie_of(log_in(secured["url"], *DAVE))}
    sql = ("SELECT * FROM glific_summary(DATE '2026-01-01', DATE '2026-12-31', NULL, 'UTC')")

    def over_pgwire(user, password, tenant=None):
        with psycopg.connect(host="127.0.0.1", port=secured["pg"], user=user, password=password,
                             dbname="chatlake", autocommit=True) as c:
            if tenant:
                c.execute(f"SET chatlake.tenant = '{tenant}'")
            cur = c.execute(sql)
            return [list(r) for r in cur.fetchall()]

    as_carol = query(secured["url"], sql, headers=carol)
    assert as_carol.status == 200, as_carol.body
    carol_rows = as_carol.json()["rows"]
    # The same report over pgwire: carol's own login, and dave narrowed to carol's tenant.
    assert carol_rows == over_pgwire(*CAROL)
    assert carol_rows == over_pgwire(*DAVE, tenants[0])
    assert query(secured["url"], sql, headers=dave).json()["rows"] == over_pgwire(*DAVE)
    assert carol_rows != over_pgwire(*DAVE)
    seen = query(secured["url"], "SELECT DISTINCT tenant_id FROM messages", headers=carol)
    assert seen.json()["rows"] == [[tenants[0]]]
    other = query(secured["url"], "SELECT 1", headers=carol,
                  settings={"chatlake.tenant": tenants[1]})
    assert other.status == 403 and other.json()["error"]["sqlstate"] == "42501"
    scope = request(secured["url"], "/v1/scope", headers=carol).json()
    assert [t["tenant_id"] for t in scope["tenants"]] == [tenants[0]]
