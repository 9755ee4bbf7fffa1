"""Time every report of sql/reports over the last full month of a lake; print a markdown table.

    CHATLAKE_BIN=target/release/chatlake python benches/report_timings.py [LAKE] \
        [--runs 5] [--check-under 1.0] [--only stella_users,turn_goals] [--last-days 365]

LAKE defaults to data/demo (what `chatlake demo` generates). The month is the last calendar
month that ends on or before the lake's last `messages.dt`; `--last-days N` takes the N days
ending on that last day instead (issue 23's "365 days" figure). Each report runs as
`SELECT * FROM name(first_day, last_day)` (every column, so nothing is optimised away; all
channels, UTC; stella_comment_details on the month's busiest post) through
`chatlake sql --lake LAKE --timing`, once per process, `--runs` times; the time is the query's
own (read from stderr: planning and execution, not opening the lake). The table gives the
median and the fastest run, and the median CPU time (user + system) of the whole process
(opening the lake and writing the CSV included), which a busy machine inflates less than
the elapsed time. The campaign reports (a `campaign_id` parameter: the Push Panel
and Botmaker's per-campaign pages, SPEC 6) run on the month's largest campaign (most recipient
rows); an extra column gives their median with NULL = every campaign, which no dashboard shows
but an analyst may ask. `--check-under S` adds a column marking the reports whose median
is S seconds or more, and exits 1 if there is any.

The reports run are those embedded in the binary (rebuild after editing one, or pass
`--sql-dir DIR`, handed to the binary: DIR's views/ and reports/ override its own); the report list and parameters are read from this checkout's sql/reports
headers.
"""

import argparse
import csv
import datetime
import io
import os
import pathlib
import re
import resource
import statistics
import subprocess
import sys

REPORTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "sql" / "reports"
# `--sql-dir`: passed to every `chatlake sql` (its views/ and reports/ override the binary's).
SQL_DIR = None


def chatlake(binary, lake, query, timing=False):
    """Run one query; (CSV rows, seconds or None)."""
    rows, seconds, _ = chatlake_cpu(binary, lake, query, timing)
    return rows, seconds


def chatlake_cpu(binary, lake, query, timing=False):
    """Run one query; (CSV rows, seconds or None, CPU seconds of the whole process)."""
    cmd = [binary, "sql", "--lake", str(lake)] + (["--timing"] if timing else [])
    if SQL_DIR:
        cmd += ["--sql-dir", SQL_DIR]
    cmd.append(query)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"{query}: {proc.stderr.strip()}")
    seconds = None
    if timing:
        m = re.search(r"time: ([0-9.]+) s", proc.stderr)
        if not m:
            raise RuntimeError(f"no time on stderr for {query}: {proc.stderr!r}")
        seconds = float(m.group(1))
    return list(csv.reader(io.StringIO(proc.stdout)))[1:], seconds, cpu


def params(path):
    """The report's parameter names, in call order (`-- param: name type ...` header lines)."""
    return [m.group(1) for m in re.finditer(r"^-- param: (\w+)", path.read_text(), re.M)]


def lake_last_day(binary, lake):
    """The lake's last `messages.dt`."""
    rows, _ = chatlake(binary, lake, "SELECT CAST(max(dt) AS VARCHAR) AS last FROM messages")
    if not rows or not rows[0][0]:
        raise SystemExit(f"{lake}: no messages")
    return datetime.date.fromisoformat(rows[0][0])


def last_full_month(last):
    """The last calendar month ending on or before `last`: (first, last)."""
    if (last + datetime.timedelta(days=1)).month == last.month:
        last = last.replace(day=1) - datetime.timedelta(days=1)
    return last.replace(day=1), last


def last_days(last, days):
    """The `days` days ending on `last`: (first, last)."""
    return last - datetime.timedelta(days=days - 1), last


def call(name, names, first, last, busiest_post, campaign="NULL"):
    args = []
    for p in names:
        if p == "from_date":
            args.append(f"'{first}'")
        elif p == "to_date":
            args.append(f"'{last}'")
        elif p == "post_id":
            args.append(f"'{busiest_post}'")
        elif p == "campaign_id":
            args.append(campaign)
        elif p == "tz":
            args.append("'UTC'")
        else:
            args.append("NULL")
    return f"SELECT * FROM {name}({', '.join(args)})"


def timed(binary, args, query):
    """(row count, seconds of each of the --runs runs, median CPU seconds) of one query."""
    times, cpus = [], []
    count = None
    for _ in range(max(1, args.runs)):
        out, seconds, cpu = chatlake_cpu(binary, args.lake, query, timing=True)
        count = len(out)
        times.append(seconds)
        cpus.append(cpu)
    return count, times, statistics.median(cpus)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("lake", nargs="?", default="data/demo")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--check-under", type=float, metavar="SECONDS")
    ap.add_argument("--only", help="comma-separated report names")
    ap.add_argument("--last-days", type=int, metavar="N",
                    help="the N days ending on the lake's last day instead of the last full month")
    ap.add_argument("--sql-dir", help="passed to `chatlake sql --sql-dir` (views/ and reports/)")
    args = ap.parse_args()
    global SQL_DIR
    SQL_DIR = args.sql_dir
    binary = os.environ.get("CHATLAKE_BIN")
    if not binary:
        raise SystemExit("set CHATLAKE_BIN to the chatlake binary (a release build)")
    if not pathlib.Path(args.lake).is_dir():
        raise SystemExit(f"{args.lake}: no such lake (run `cargo run --release -- demo` first)")

    lake_last = lake_last_day(binary, args.lake)
    if args.last_days:
        first, last = last_days(lake_last, args.last_days)
    else:
        first, last = last_full_month(lake_last)
    rows, _ = chatlake(binary, args.lake, f"""
        SELECT post_id FROM comments
        WHERE ts >= TIMESTAMP '{first}T00:00:00Z'
          AND ts < TIMESTAMP '{last + datetime.timedelta(days=1)}T00:00:00Z'
        GROUP BY post_id ORDER BY count(*) DESC, post_id LIMIT 1""")
    busiest_post = rows[0][0] if rows else ""
    rows, _ = chatlake(binary, args.lake, f"""
        SELECT r.campaign_id FROM campaign_recipients r
        JOIN campaigns c ON c.tenant_id = r.tenant_id AND c.campaign_id = r.campaign_id
        WHERE c.created_at >= TIMESTAMP '{first}T00:00:00Z'
          AND c.created_at < TIMESTAMP '{last + datetime.timedelta(days=1)}T00:00:00Z'
        GROUP BY r.campaign_id ORDER BY count(*) DESC, r.campaign_id LIMIT 1""")
    largest_campaign = f"'{rows[0][0]}'" if rows else "NULL"

    reports = sorted(REPORTS_DIR.glob("*.sql"))
    if args.only:
        wanted = set(args.only.split(","))
        reports = [r for r in reports if r.stem in wanted]
    print(f"Reports over {first} .. {last} (UTC), lake {args.lake}, "
          f"{args.runs} runs each (one process per run); campaign reports on "
          f"{largest_campaign}\n")
    header = ("| report | rows | median s | fastest s | CPU s | every campaign: rows, median s, "
              "CPU s |")
    rule = "|---|---:|---:|---:|---:|---:|"
    if args.check_under is not None:
        header += f" under {args.check_under:g} s |"
        rule += "---|"
    print(header)
    print(rule)
    slow = []
    for path in reports:
        names = params(path)
        count, times, cpu = timed(binary, args, call(path.stem, names, first, last, busiest_post,
                                                largest_campaign))
        median, fastest = statistics.median(times), min(times)
        every = ""
        if "campaign_id" in names:
            n, every_times, every_cpu = timed(binary, args,
                                   call(path.stem, names, first, last, busiest_post))
            every = f"{n}, {statistics.median(every_times):.3f}, {every_cpu:.2f}"
        line = f"| `{path.stem}` | {count} | {median:.3f} | {fastest:.3f} | {cpu:.2f} | {every} |"
        if args.check_under is not None:
            ok = median < args.check_under
            line += " yes |" if ok else " **no** |"
            if not ok:
                slow.append(path.stem)
        print(line, flush=True)
    if args.check_under is not None:
        print()
        if slow:
            print(f"{len(slow)} report(s) at or over {args.check_under:g} s (median): "
                  + ", ".join(slow))
            sys.exit(1)
        print(f"every report under {args.check_under:g} s (median)")


if __name__ == "__main__":
    main()
