"""Time to fully rendered of every console dashboard, measured in headless Chromium.

    chatlake demo &     # or: chatlake serve --lake LAKE --http-listen 127.0.0.1:8080
    python benches/console.py --url http://127.0.0.1:8080 [--runs 3] [--only glific,turn]

For each dashboard of sql/dashboards/ and two ranges, Month-to-date (the default view) and the
last 365 days ending today (the longest the picker allows), the page is loaded `--runs` times
in a fresh tab and timed from the start of navigation (`performance.now()` is 0 there) to the
moment nothing is loading any more (every panel drawn or failed; tests/python/browser.py,
checked on every animation frame). Each load runs every panel's query; with the server's result
cache on (`serve --result-cache-mb`, on by default) the first load of a view computes them and
the later loads are answered from the cache, so the table gives the first load (cold) and the
median of the later ones (warm) apart; serve with `--result-cache-mb 0` to time every load
uncached. Also prints each view's panels that failed (their count, as the page reports them). Goal (issue 25): under 1 s month-to-date and
3 s over 365 days on the demo lake. Needs Playwright for Python and Debian's /usr/bin/chromium
(the test virtualenv has both).
"""

import argparse
import datetime
import glob
import pathlib
import statistics
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))

from browser import RENDERED_JS, Browser  # noqa: E402


def time_view(browser, url):
    """One load of `url`: (seconds to rendered, panels in error, panels)."""
    page = browser.page()
    page.goto(url, wait_until="commit")
    page.wait_for_function(RENDERED_JS, timeout=600_000, polling="raf")
    ms = page.evaluate("performance.now()")
    failed = page.locator('.panel[data-state="error"]').count()
    panels = page.locator(".panel").count()
    page.close()
    return ms / 1000.0, failed, panels


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="the console, e.g. http://127.0.0.1:8080")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", help="comma-separated dashboard names")
    args = ap.parse_args()
    names = sorted(pathlib.Path(p).stem for p in glob.glob(str(REPO / "sql" / "dashboards" / "*.toml")))
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    today = datetime.date.today()
    year = f"?preset=custom&from={today - datetime.timedelta(days=364)}&to={today}"
    from playwright.sync_api import sync_playwright

    print("| dashboard | panels | month-to-date first load, then median | last 365 days first load, then median | failed panels |")
    print("|---|---:|---:|---:|---|")
    with sync_playwright() as p, Browser(p) as browser:
        # One unmeasured load (of a view not measured, so no answer of it is cached): the first
        # compiles the page's scripts and warms the server.
        time_view(browser, f"{args.url}/d/{names[0]}?preset=7d")
        for name in names:
            cells = []
            failures = []
            panels = 0
            for label, query in [("mtd", ""), ("365d", year)]:
                runs = [time_view(browser, f"{args.url}/d/{name}{query}") for _ in range(args.runs)]
                secs = [r[0] for r in runs]
                panels = runs[0][2]
                later = secs[1:] or secs
                cells.append(f"{secs[0]:.2f} s, then {statistics.median(later):.2f} s")
                if any(r[1] for r in runs):
                    failures.append(f"{label}: {max(r[1] for r in runs)}")
            print(f"| {name} | {panels} | {cells[0]} | {cells[1]} | {', '.join(failures) or '-'} |", flush=True)


if __name__ == "__main__":
    main()
