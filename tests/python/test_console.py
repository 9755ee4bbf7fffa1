"""The web console in a real browser: every dashboard of sql/dashboards/, the playground.

`chatlake serve --http-listen` on a generated lake whose newest day is today (tomorrow in UTC,
so "today" has data in every zone), driven by Debian's headless Chromium through Playwright
(tests/python/browser.py). For each dashboard, with its default filters and with custom ones
(another tenant and channel, a custom range): no console error, every panel drawn without an
error box, and each panel's rows equal to what the same SQL answers over pgwire (psycopg, with
the panel's tenant and zone): the number shown by a number panel and every cell of a table panel
are read back from the DOM (`data-value`) and compared; a chart panel's row count is. A panel
may be empty only when pgwire has no row for it either, and every panel must show rows in at
least one of the views. The SQL a panel shows is checked against the dashboard file with the
filters bound as literals, computed here from the URL and /v1/scope.
"""

import csv
import datetime
import decimal
import glob
import io
import os
import pathlib
import shutil
import subprocess
import sys
import tomllib
import urllib.parse
import zoneinfo

import psycopg
import pytest

from browser import Browser, rendered
from conftest import _binary, _free_port, generate, wait_for_port

playwright_api = pytest.importorskip("playwright.sync_api")

REPO = pathlib.Path(__file__).resolve().parents[2]
DASHBOARDS = sorted(pathlib.Path(p).stem for p in glob.glob(str(REPO / "sql" / "dashboards" / "*.toml")))

# UTC tomorrow: the newest local day of every zone has data.
END = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=1)
LAKE_ARGS = ["--tenants", "2", "--contacts", "6000", "--days", "75", "--seed", "25",
             "--end-date", END.isoformat()]


# ---- fixtures ----

@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """A lake, served over pgwire and the console: {pg: (host, port), url}."""
    if not os.path.exists("/usr/bin/chromium"):
        pytest.fail("Debian's chromium is missing (scripts/test installs it)")
    lake = tmp_path_factory.mktemp("console-lake")
    generate(lake, *LAKE_ARGS)
    sql = tmp_path_factory.mktemp("console-sql")
    for sub in ["views", "reports", "dashboards"]:
        shutil.copytree(REPO / "sql" / sub, sql / sub)
    pg_port, http_port = _free_port(), _free_port()
    proc = subprocess.Popen([_binary(), "serve", "--lake", str(lake),
                             "--listen", f"127.0.0.1:{pg_port}",
                             "--http-listen", f"127.0.0.1:{http_port}",
                             "--sql-dir", str(sql)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_port(pg_port, proc, "chatlake serve (pgwire)", 120)
    wait_for_port(http_port, proc, "chatlake serve (console)", 120)
    try:
        yield {"pg": ("127.0.0.1", pg_port), "url": f"http://127.0.0.1:{http_port}"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(console):
    with playwright_api.sync_playwright() as p:
        with Browser(p) as b:
            yield b


@pytest.fixture(scope="module")
def scope(browser, console):
    page = browser.page()
    answer = page.request.get(console["url"] + "/v1/scope")
    assert answer.ok, answer.text()
    page.close()
    return answer.json()


def pg(console, tenant, tz):
    conn = psycopg.connect(host=console["pg"][0], port=console["pg"][1], user="chatlake",
                           dbname="chatlake", autocommit=True)
    conn.execute(f"SET chatlake.tenant = '{tenant}'")
    conn.execute(f"SET TimeZone = '{tz}'")
    return conn


# ---- the expected side ----

def dashboard_file(name):
    return tomllib.loads((REPO / "sql" / "dashboards" / f"{name}.toml").read_text())


def literal(value):
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


def bind(sql, f):
    """The panel SQL with the filters as literals, as the contract says the browser binds them."""
    values = {"from_date": f"DATE '{f['from']}'" if f.get("from") else "NULL",
              "to_date": f"DATE '{f['to']}'" if f.get("to") else "NULL",
              "channel_id": literal(f.get("channel")), "campaign_id": literal(f.get("campaign")),
              "tenant_id": literal(f.get("tenant")), "tz": literal(f.get("tz"))}
    for name in sorted(values, key=len, reverse=True):
        sql = sql.replace("$" + name, values[name])
    return sql


def panel_sql(panel):
    if "sql" in panel:
        return panel["sql"]
    return f"SELECT * FROM {panel['report']}($from_date, $to_date, $channel_id, $tz)"


def default_channel(scope, tenant):
    """The tenant's first WhatsApp channel, else its first (the page's pre-selection)."""
    chans = [c for c in scope["channels"] if c["tenant_id"] == tenant]
    wa = [c for c in chans if c["platform"] == "whatsapp"]
    return (wa or chans)[0]


def month_to_date(tz):
    today = datetime.datetime.now(zoneinfo.ZoneInfo(tz)).date()
    return today.replace(day=1).isoformat(), today.isoformat()


def same(shown, expected):
    """Whether a JSON value of the API equals a psycopg value."""
    if expected is None or shown is None:
        return shown is None and expected is None
    if isinstance(expected, bool):
        return shown is expected
    if isinstance(expected, int):
        return not isinstance(shown, bool) and int(shown) == expected
    if isinstance(expected, float):
        return abs(float(shown) - expected) <= 1e-9 * max(1.0, abs(expected))
    if isinstance(expected, decimal.Decimal):
        return decimal.Decimal(str(shown)) == expected
    if isinstance(expected, datetime.datetime):
        got = datetime.datetime.fromisoformat(str(shown).replace(" ", "T"))
        if expected.tzinfo is None:
            return got.replace(tzinfo=None) == expected
        return got.tzinfo is not None and got == expected
    if isinstance(expected, datetime.date):
        return shown == expected.isoformat()
    if isinstance(expected, (list, tuple)):
        return len(shown) == len(expected) and all(same(a, b) for a, b in zip(shown, expected))
    return shown == expected


def drawable(panel, columns, rows):
    """Whether a chart has something to draw: a value column with a number other than 0 (the
    page shows "nothing to draw" otherwise)."""
    names = [panel["value"]] if panel["chart"] == "heatmap" else panel.get("y", [])
    idx = [columns.index(n) for n in names if n in columns]
    return any(r[i] is not None and float(r[i]) != 0 for r in rows for i in idx)


def has_data(panel, columns, rows):
    """What a panel must show on a lake with data: a number, table rows, a drawable chart."""
    if not rows:
        return False
    if panel["chart"] == "number":
        return rows[0][columns.index(panel["value"])] is not None
    if panel["chart"] == "table":
        return True
    return drawable(panel, columns, rows)


# ---- reading the page ----

PANELS_JS = """() => [...document.querySelectorAll('.panel')].map(p => ({
  title: p.dataset.title, chart: p.dataset.chart, state: p.dataset.state, sql: p.dataset.sql,
  description: p.dataset.description, rows: p.dataset.rows === undefined ? null : Number(p.dataset.rows),
  error: (p.querySelector('.error') || {}).textContent || null,
  number: p.querySelector('.number') ? JSON.parse(p.querySelector('.number').dataset.value) : undefined,
  numberColumn: p.querySelector('.number') ? p.querySelector('.number').dataset.column : null,
  header: [...p.querySelectorAll('table.rows thead th')].map(th => th.firstChild.textContent),
  cells: [...p.querySelectorAll('table.rows tbody tr')].map(tr => [...tr.children].map(td => JSON.parse(td.dataset.value))),
  canvas: !!p.querySelector('.chart canvas'),
}))"""


def open_dashboard(browser, console, name, query=""):
    page = browser.page()
    page.goto(f"{console['url']}/d/{name}{query}")
    rendered(page)
    return page


def filters_of(page):
    """The filters the page settled on, from its URL (the page writes them there)."""
    q = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
    return {k: v[0] for k, v in q.items()}


def check_panels(page, console, name, expected_filters):
    """Compares every panel with pgwire; returns {title: whether it has data} for the check
    that every panel shows data in some view."""
    assert page.errors == [], f"{name}: errors in the browser: {page.errors}"
    spec = dashboard_file(name)
    panels = page.evaluate(PANELS_JS)
    assert [p["title"] for p in panels] == [p["title"] for p in spec["panel"]]
    f = expected_filters
    counts = {}
    with pg(console, f["tenant"], f["tz"]) as conn:
        for shown, panel in zip(panels, spec["panel"]):
            where = f"{name} / {shown['title']}"
            assert shown["state"] in ("ok", "empty"), f"{where}: {shown['state']} {shown['error']}"
            assert shown["sql"] == bind(panel_sql(panel), f), where
            assert shown["description"], f"{where}: no description (tooltip)"
            cur = conn.execute(shown["sql"])
            rows = cur.fetchall()
            columns = [d.name for d in cur.description]
            counts[shown["title"]] = has_data(panel, columns, rows)
            assert shown["rows"] == len(rows), where
            nothing = not rows or (panel["chart"] not in ("number", "table") and not drawable(panel, columns, rows))
            assert shown["state"] == ("empty" if nothing else "ok"), where
            if nothing:
                continue
            if panel["chart"] == "number":
                assert shown["numberColumn"] == panel["value"], where
                expected = rows[0][columns.index(panel["value"])]
                assert same(shown["number"], expected), f"{where}: {shown['number']!r} != {expected!r}"
            elif panel["chart"] == "table":
                assert shown["header"] == columns, where
                assert len(shown["cells"]) == len(rows), where
                for i, (got, want) in enumerate(zip(shown["cells"], rows)):
                    assert all(same(a, b) for a, b in zip(got, want)) and len(got) == len(want), \
                        f"{where}: row {i}: {got!r} != {want!r}"
            else:
                assert shown["canvas"], f"{where}: no chart drawn"
    return counts


def expected_defaults(scope, name, campaign=None):
    spec = dashboard_file(name)
    tenant = scope["tenants"][0]["tenant_id"]
    f = {"tenant": tenant}
    channel = default_channel(scope, tenant)
    tenant_tz = scope["tenants"][0]["timezone"]
    if "channel" in spec["filters"]:
        f["channel"] = channel["channel_id"]
        f["tz"] = channel["timezone"] or tenant_tz
    else:
        f["tz"] = tenant_tz
    if "range" in spec["filters"]:
        f["from"], f["to"] = month_to_date(f["tz"])
    if "campaign" in spec["filters"]:
        f["campaign"] = campaign
    return f


def channel_campaigns(console, name, tenant, channel, tz):
    """The channel's campaigns (of the dashboard's `campaign_kinds` when it lists some), newest
    start first, each as (id, first local day, last local day) in `tz`, computed here in Python
    from the raw timestamps: a campaign runs from its start (started_at, else scheduled_at,
    else created_at) to its end (finished_at, else its start)."""
    kinds = dashboard_file(name).get("campaign_kinds") or []
    kind_filter = f" AND kind IN ({', '.join(literal(k) for k in kinds)})" if kinds else ""
    with pg(console, tenant, "UTC") as conn:
        rows = conn.execute("SELECT campaign_id, created_at, scheduled_at, started_at, finished_at "
                            "FROM campaigns WHERE channel_id = %s" + kind_filter, [channel]).fetchall()
    zone = zoneinfo.ZoneInfo(tz)
    spans = []
    for cid, created, scheduled, started, finished in rows:
        began = started or scheduled or created
        ended = finished or began
        spans.append((began, cid, began.astimezone(zone).date(), ended.astimezone(zone).date()))
    spans.sort(key=lambda s: (-s[0].timestamp(), s[1]))
    return [(cid, first, last) for _, cid, first, last in spans]


def period_campaigns(console, name, tenant, channel, tz, first_day, last_day):
    """What the picker offers for a period: the campaigns whose span overlaps it, newest first;
    when none does, the newest one that started before it."""
    every = channel_campaigns(console, name, tenant, channel, tz)
    first_day, last_day = datetime.date.fromisoformat(first_day), datetime.date.fromisoformat(last_day)
    overlapping = [c for c, first, last in every if first <= last_day and last >= first_day]
    if overlapping:
        return overlapping
    return [c for c, first, _ in every if first < first_day][:1]


def preselected_campaign(console, name, f):
    """The campaign the page pre-selects for filters `f`: the first the picker offers."""
    if "range" not in dashboard_file(name)["filters"]:
        offered = [c for c, _, _ in channel_campaigns(console, name, f["tenant"], f["channel"], f["tz"])]
    else:
        offered = period_campaigns(console, name, f["tenant"], f["channel"], f["tz"], f["from"], f["to"])
    return offered[0] if offered else None


def custom_view(scope, console, name):
    """A channel other than the default, of the last tenant if it has one that fits (a
    Messenger or Instagram one for the Stella dashboard, whose comment panels need one; else a
    WhatsApp one, with a campaign when the dashboard has that filter), the range 40 days ending
    two days before the lake's end, zone UTC."""
    spec = dashboard_file(name)
    default = default_channel(scope, scope["tenants"][0]["tenant_id"])["channel_id"]
    platforms = ("messenger", "instagram") if name == "stella" else ("whatsapp",)
    tenants = {t["tenant_id"]: t for t in scope["tenants"]}
    candidates = sorted((c for c in scope["channels"]
                         if c["platform"] in platforms and c["channel_id"] != default),
                        key=lambda c: c["tenant_id"] != scope["tenants"][-1]["tenant_id"])
    to = END - datetime.timedelta(days=2)
    first = to - datetime.timedelta(days=39)
    if "campaign" in spec["filters"]:
        candidates = [c for c in candidates
                      if period_campaigns(console, name, c["tenant_id"], c["channel_id"], "UTC",
                                          first.isoformat(), to.isoformat())]
    assert candidates, f"{name}: no channel for a custom view"
    channel = candidates[0]
    tenant = tenants[channel["tenant_id"]]
    f = {"tenant": tenant["tenant_id"], "channel": channel["channel_id"], "tz": "UTC"}
    f["from"], f["to"] = first.isoformat(), to.isoformat()
    q = {"tenant": f["tenant"], "channel": f["channel"]}
    if "range" in spec["filters"]:
        q.update(preset="custom", **{"from": f["from"], "to": f["to"]})
    else:
        del f["from"], f["to"]
    if "tz" in spec["filters"]:
        q["tz"] = "UTC"
    else:
        f["tz"] = channel["timezone"] or tenant["timezone"]
    if "campaign" in spec["filters"]:
        f["campaign"] = preselected_campaign(console, name, f)
    return f, "?" + urllib.parse.urlencode(q)


# ---- tests ----

@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_default_and_custom_filters(browser, console, scope, name):
    defaults = expected_defaults(scope, name)
    if "campaign" in dashboard_file(name)["filters"]:
        defaults["campaign"] = preselected_campaign(console, name, defaults)
    page = open_dashboard(browser, console, name)
    url = filters_of(page)
    assert url.get("tenant") == defaults["tenant"] and url.get("channel") == defaults.get("channel")
    seen = check_panels(page, console, name, defaults)
    page.close()

    custom, query = custom_view(scope, console, name)
    page = open_dashboard(browser, console, name, query)
    seen_custom = check_panels(page, console, name, custom)
    page.close()

    no_data = [t for t in seen if not seen[t] and not seen_custom[t]]
    assert no_data == [], f"{name}: panels empty in every view of a lake with data: {no_data}"


def test_filters_live_in_the_url_and_the_range_is_capped(browser, console, scope):
    page = open_dashboard(browser, console, "glific")
    page.select_option("select[name=preset]", "7d")
    rendered(page)
    f = filters_of(page)
    assert f["preset"] == "7d"
    tz = f["tz"]
    today = datetime.datetime.now(zoneinfo.ZoneInfo(tz)).date()
    sql = page.evaluate("document.querySelector('.panel').dataset.sql")
    assert f"DATE '{(today - datetime.timedelta(days=6)).isoformat()}'" in sql
    assert f"DATE '{today.isoformat()}'" in sql
    # Reloading the URL gives the same view.
    page.goto(page.url)
    rendered(page)
    assert page.evaluate("document.querySelector('.panel').dataset.sql") == sql
    # A custom range over 365 days is cut to its last 365.
    page.goto(f"{console['url']}/d/glific?preset=custom&from=2024-01-01&to=2026-06-30")
    rendered(page)
    f = filters_of(page)
    assert (f["from"], f["to"]) == ("2025-07-01", "2026-06-30")
    assert "limited to 365 days" in page.inner_text("main")
    assert page.errors == []
    page.close()


def test_a_range_after_the_data_says_so(browser, console, scope):
    tenant = scope["tenants"][0]["tenant_id"]
    page = browser.page()
    answer = page.request.get(f"{console['url']}/v1/scope?tenant={tenant}")
    assert answer.ok, answer.text()
    until = answer.json()["data_until"]
    with pg(console, tenant, "UTC") as conn:
        assert until == conn.execute("SELECT CAST(max(dt) AS VARCHAR) FROM messages").fetchone()[0]
    start = datetime.date.fromisoformat(until) + datetime.timedelta(days=5)
    end = start + datetime.timedelta(days=4)
    page.goto(f"{console['url']}/d/turn?preset=custom&from={start}&to={end}&tenant={tenant}")
    rendered(page)
    banner = page.locator("[data-no-data-after]")
    assert banner.get_attribute("data-no-data-after") == until
    assert f"No data after {until}" in banner.inner_text()
    assert page.locator(".panel").count() == 0
    assert page.errors == []
    page.close()


def campaign_options(page):
    """The campaign picker's options as (value, label)."""
    return page.eval_on_selector_all("select[name=campaign] option", "os => os.map(o => [o.value, o.textContent])")


def test_the_campaign_picker_follows_the_period(browser, console, scope):
    """Botmaker's campaign picker lists the campaigns that ran in the chosen period (their span
    of local days overlaps it), newest first; a period with none offers the newest earlier one;
    a campaign named by a shared URL stays selected even outside the period."""
    f, query = custom_view(scope, console, "botmaker")
    page = open_dashboard(browser, console, "botmaker", query)
    offered = campaign_options(page)
    expected = period_campaigns(console, "botmaker", f["tenant"], f["channel"], "UTC", f["from"], f["to"])
    assert [v for v, _ in offered] == expected and len(expected) > 1
    every = [c for c, _, _ in channel_campaigns(console, "botmaker", f["tenant"], f["channel"], "UTC")]
    assert set(every) - set(expected), "the period should leave some campaigns of the channel out"
    assert filters_of(page)["campaign"] == expected[0]

    # A week after the data: no campaign ran; the newest earlier one is offered, labelled.
    later_from, later_to = END + datetime.timedelta(days=5), END + datetime.timedelta(days=11)
    page.goto(f"{console['url']}/d/botmaker?tenant={f['tenant']}&channel={f['channel']}&tz=UTC"
              f"&preset=custom&from={later_from}&to={later_to}")
    rendered(page)
    offered = campaign_options(page)
    assert [v for v, _ in offered] == [every[0]]
    assert "(before this period)" in offered[0][1]

    # A shared link naming an old campaign keeps it, labelled, on top of the period's list.
    old = every[-1]
    assert old not in expected
    page.goto(f"{console['url']}/d/botmaker{query}&campaign={old}")
    rendered(page)
    offered = campaign_options(page)
    assert [v for v, _ in offered] == [old] + expected
    assert "(outside this period)" in offered[0][1]
    assert filters_of(page)["campaign"] == old
    assert page.errors == []
    page.close()


def test_panel_sql_button_and_csv_download(browser, console, scope):
    page = open_dashboard(browser, console, "turn")
    panel = page.locator(".panel", has_text="Top authors")
    sql = panel.get_attribute("data-sql")
    panel.get_by_role("button", name="SQL").click()
    assert page.locator("dialog pre").inner_text() == sql
    page.locator("dialog").get_by_role("button", name="Close").click()
    with page.expect_download() as info:
        panel.get_by_role("button", name="CSV").click()
    text = pathlib.Path(info.value.path()).read_text()
    got = list(csv.reader(io.StringIO(text)))
    f = filters_of(page)
    with pg(console, f["tenant"], f["tz"]) as conn:
        cur = conn.execute(sql)
        rows = cur.fetchall()
        assert got[0] == [d.name for d in cur.description]
    assert [["" if v is None else str(v) for v in r] for r in rows] == got[1:]
    assert page.errors == []
    page.close()


def run_in_playground(page, sql, button="Run"):
    page.fill("textarea.editor", sql)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_function("document.querySelector('.results').dataset.state !== 'running'"
                           " && document.querySelector('.results').dataset.state !== undefined")


def test_playground_runs_a_query_and_shows_its_rows(browser, console):
    page = browser.page()
    page.goto(console["url"] + "/play")
    rendered(page)
    assert page.locator(".sidebar summary", has_text="messages").count() >= 1
    sql = "SELECT channel_id, channel_type, tz FROM channels ORDER BY channel_id"
    run_in_playground(page, sql)
    assert page.locator(".results").get_attribute("data-state") == "ok"
    cells = page.evaluate("[...document.querySelectorAll('.results tbody tr')]"
                          ".map(tr => [...tr.children].map(td => JSON.parse(td.dataset.value)))")
    with psycopg.connect(host=console["pg"][0], port=console["pg"][1], user="chatlake",
                         dbname="chatlake", autocommit=True) as conn:
        rows = conn.execute(sql).fetchall()
    assert cells == [list(r) for r in rows]
    assert f"{len(rows)} rows" in page.inner_text(".status")
    # Ctrl-Enter runs too, and EXPLAIN ANALYZE shows a plan.
    page.fill("textarea.editor", "SELECT count(*) AS n FROM messages")
    page.press("textarea.editor", "Control+Enter")
    page.wait_for_function("document.querySelector('.results').dataset.rows === '1'")
    run_in_playground(page, "SELECT direction, count(*) AS n FROM messages GROUP BY direction",
                      button="EXPLAIN ANALYZE")
    assert page.locator(".results").get_attribute("data-state") == "ok"
    plan = page.inner_text(".results")
    assert "AggregateExec" in plan and "output_rows" in plan, plan
    assert page.errors == []
    page.close()


def test_playground_shows_the_sqlstate_of_a_bad_query(browser, console):
    page = browser.page()
    page.goto(console["url"] + "/play")
    rendered(page)
    for sql in ["SELECT * FROM no_such_table", "SELEC 1", "SELECT no_such_function(1)"]:
        with psycopg.connect(host=console["pg"][0], port=console["pg"][1], user="chatlake",
                             dbname="chatlake", autocommit=True) as conn:
            with pytest.raises(psycopg.Error) as err:
                conn.execute(sql)
        expected = err.value.sqlstate
        run_in_playground(page, sql)
        results = page.locator(".results")
        assert results.get_attribute("data-state") == "error", sql
        assert results.get_attribute("data-sqlstate") == expected, sql
        assert expected in page.inner_text(".results .error")
    # A failed request logs a console error of the browser's own ("Failed to load resource"):
    # that is the 400 answered on purpose, anything else is not.
    assert [e for e in page.errors if "status of 400" not in e] == []
    page.close()


def test_playground_cancel(browser, console):
    page = browser.page()
    page.goto(console["url"] + "/play")
    rendered(page)
    page.fill("textarea.editor", "SELECT count(*) FROM messages a CROSS JOIN messages b WHERE a.ts < b.ts")
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function("document.querySelector('.results').dataset.state === 'running'")
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_function("document.querySelector('.results').dataset.state === 'error'", timeout=30_000)
    assert page.locator(".results").get_attribute("data-sqlstate") == "57014"
    page.close()


def test_index_lists_every_dashboard(browser, console):
    page = browser.page()
    page.goto(console["url"] + "/")
    rendered(page)
    names = page.evaluate("[...document.querySelectorAll('[data-dashboard]')].map(a => a.dataset.dashboard)")
    assert sorted(names) == DASHBOARDS
    assert page.locator("a[href='/play']").count() >= 1
    assert page.errors == []
    page.close()


def test_screenshots_script(console, tmp_path):
    """scripts/screenshots against this server: a 1440x900 PNG per dashboard and the playground
    (kept as the test's artefacts in its temporary directory)."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "screenshots"), "--url", console["url"],
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    shots = sorted(p.name for p in tmp_path.glob("*.png"))
    assert shots == sorted([f"{n}.png" for n in DASHBOARDS] + ["play.png", "index.png"])
    for p in tmp_path.glob("*.png"):
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert (width, height) == (1440, 900), p.name
