//! The `chatlake` binary as a person runs it: one clear error line and a non-zero exit for bad
//! input, a summary line from `generate`, and a server that psql can query and Ctrl-C stops.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_chatlake");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run chatlake")
}

fn assert_clean_failure(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {stderr}");
    assert!(
        stderr.contains(expected),
        "expected '{expected}' in: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one error line: {stderr}");
}

#[test]
fn serving_a_path_without_a_lake_fails_clearly() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-empty");
    let out = run(&[
        "serve",
        "--lake",
        &dir.to_string_lossy(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_clean_failure(&out, "no chatlake lake at");
}

#[test]
fn an_unsupported_lake_url_fails_clearly() {
    let out = run(&[
        "serve",
        "--lake",
        "ftp://example/lake",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_clean_failure(&out, "unsupported scheme 'ftp'");
}

#[test]
fn a_port_in_use_fails_clearly() {
    let lake = common::fixture_lake_blocking();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = run(&[
        "serve",
        "--lake",
        &lake.to_string_lossy(),
        "--listen",
        &addr,
    ]);
    assert_clean_failure(&out, &format!("cannot listen on {addr}"));
}

#[test]
fn generate_prints_a_summary() {
    let dir = common::cli::fresh_path("cli-generate");
    let stderr = common::cli::ok(&run(&[
        "generate",
        "--lake",
        &dir.to_string_lossy(),
        "--tenants",
        "2",
        "--contacts",
        "200",
        "--days",
        "3",
    ]));
    assert!(
        stderr.contains("generated ") && stderr.contains(" messages"),
        "{stderr}"
    );
    assert!(stderr.contains("message_outcomes"), "{stderr}");
    // SPEC 3's 13 tables, comment_replies, webhook_bodies, webhook_unrouted, message_outcomes.
    assert!(stderr.contains("compacted 17 tables"), "{stderr}");
    assert!(dir.join("messages").join("_delta_log").is_dir());
}

#[test]
fn a_lake_without_its_derived_table_says_to_refresh_and_refresh_builds_it() {
    let dir = common::cli::fresh_path("cli-refresh");
    let lake = dir.to_string_lossy().to_string();
    let generated = run(&[
        "generate",
        "--lake",
        &lake,
        "--tenants",
        "1",
        "--contacts",
        "100",
        "--days",
        "2",
    ]);
    assert!(generated.status.success());
    // As a lake written before message_outcomes existed.
    std::fs::remove_dir_all(dir.join("message_outcomes")).expect("drop the derived table");
    let count = "SELECT (SELECT count(*) FROM message_outcomes) \
                 = (SELECT count(*) FROM messages WHERE direction = 'outbound') AS complete";
    assert_clean_failure(
        &run(&["sql", "--lake", &lake, count]),
        "it is derived from the other tables; build it with `chatlake refresh --lake",
    );

    let refreshed = run(&["refresh", "--lake", &lake]);
    let stderr = String::from_utf8_lossy(&refreshed.stderr);
    assert!(refreshed.status.success(), "{stderr}");
    assert!(stderr.contains("refreshed the derived tables"), "{stderr}");
    let out = run(&["sql", "--lake", &lake, count]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "complete\ntrue\n");
}

/// `(files before, files after, partitions rewritten)` from `compact`'s summary line.
fn compact_counts(stderr: &str) -> (u64, u64, u64) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("compacted "))
        .unwrap_or_else(|| panic!("no summary line: {stderr}"));
    // compacted <tables> tables of <url> in <s>.<s>s: <before> data files -> <after> (<n>
    // partitions rewritten)[; vacuum deleted <m> removed files]
    let line = line.split(';').next().unwrap_or(line);
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    let n = numbers.len();
    assert!(n >= 3, "{line}");
    (numbers[n - 3], numbers[n - 2], numbers[n - 1])
}

/// Rows and a checksum of every table we compare across the compaction.
const FINGERPRINT: &str = "SELECT \
    (SELECT count(*) FROM messages) AS messages, \
    (SELECT count(DISTINCT message_id) FROM messages) AS message_ids, \
    (SELECT sum(CAST(to_unixtime(ts) AS BIGINT)) FROM messages) AS message_seconds, \
    (SELECT count(*) FROM message_statuses) AS statuses, \
    (SELECT count(*) FROM flow_events) AS flow_events, \
    (SELECT count(*) FROM contacts) AS contacts, \
    (SELECT * FROM (SELECT count(*) FROM stella_users(DATE '2026-10-20', DATE '2026-10-31'))) AS report_rows";

#[test]
fn compact_merges_the_files_of_appended_batches_and_keeps_every_row() {
    let dir = common::cli::fresh_path("cli-compact");
    let lake = dir.to_string_lossy().to_string();
    // Two appends (two seeds) leave two files in most day partitions, as ingest batches do.
    for seed in ["1", "2"] {
        let out = run(&[
            "generate",
            "--lake",
            &lake,
            "--tenants",
            "2",
            "--contacts",
            "300",
            "--days",
            "5",
            "--seed",
            seed,
            "--no-compact",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("compacted"), "--no-compact: {stderr}");
    }
    let before = run(&["sql", "--lake", &lake, FINGERPRINT]);
    assert!(
        before.status.success(),
        "{}",
        String::from_utf8_lossy(&before.stderr)
    );

    let stderr = common::cli::ok(&run(&["compact", "--lake", &lake]));
    let (files_before, files_after, rewritten) = compact_counts(&stderr);
    assert!(rewritten > 0, "{stderr}");
    assert!(files_after < files_before, "{stderr}");

    let after = run(&["sql", "--lake", &lake, FINGERPRINT]);
    assert_eq!(
        String::from_utf8_lossy(&after.stdout),
        String::from_utf8_lossy(&before.stdout),
        "rows changed by the compaction"
    );

    // A second run finds nothing to merge: one file per partition already.
    let stderr = common::cli::ok(&run(&["compact", "--lake", &lake, "--table", "messages"]));
    let (again_before, again_after, again_rewritten) = compact_counts(&stderr);
    let again_after = usize::try_from(again_after).expect("file count");
    assert_eq!(
        (again_before as usize, again_rewritten),
        (again_after, 0),
        "{stderr}"
    );
    assert!(stderr.contains("compacted 1 tables"), "{stderr}");

    // --vacuum deletes the files the compaction removed: what stays on disk is the snapshot.
    let parquet_files = |table: &str| {
        let mut n = 0;
        let mut dirs = vec![dir.join(table)];
        while let Some(d) = dirs.pop() {
            for entry in std::fs::read_dir(&d).expect("read table dir").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "parquet") {
                    n += 1;
                }
            }
        }
        n
    };
    assert!(
        parquet_files("messages") > again_after,
        "removed files are still on disk"
    );
    let stderr = common::cli::ok(&run(&[
        "compact", "--lake", &lake, "--table", "messages", "--vacuum",
    ]));
    assert!(stderr.contains("vacuum deleted "), "{stderr}");
    assert_eq!(parquet_files("messages"), again_after, "{stderr}");
    let vacuumed = run(&["sql", "--lake", &lake, FINGERPRINT]);
    assert_eq!(
        String::from_utf8_lossy(&vacuumed.stdout),
        String::from_utf8_lossy(&before.stdout),
        "rows changed by the vacuum"
    );

    let out = run(&["compact", "--lake", &lake, "--table", "nope"]);
    assert_clean_failure(&out, "compact: 'nope' is not a lake table");
}

fn psql(port: u16, sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-X",
            "-A",
            "-t",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "chatlake",
            "-d",
            "chatlake",
            "-c",
            sql,
        ])
        .output()
        .expect("psql (Debian postgresql-client) must be installed; scripts/test installs it");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn serve_answers_psql_on_every_table_and_stops_on_sigterm() {
    let lake = common::fixture_lake_blocking();
    let mut child = common::serve::serve_command(&lake.to_string_lossy())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    // The banner on stderr names the address: "... serving <lake> on 127.0.0.1:PORT (ready ...".
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(120);
    let port: u16 = loop {
        assert!(Instant::now() < deadline, "server did not start");
        let line = lines.next().expect("server exited early").expect("read");
        if let Some(rest) = line.split(" on 127.0.0.1:").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .and_then(|p| p.parse().ok())
                .expect("port");
        }
    };

    let engine_counts = {
        let rt = tokio::runtime::Runtime::new().expect("rt");
        rt.block_on(common::table_counts(&chatlake::config::EngineConfig::new(
            lake.to_string_lossy(),
        )))
    };
    for (table, expected) in engine_counts {
        let got = psql(port, &format!("SELECT count(*) FROM {table}"));
        assert_eq!(got, expected.to_string(), "count of {table} over psql");
    }
    assert_eq!(psql(port, "SELECT 1 + 1"), "2");

    let pid = child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "graceful shutdown exits 0, got {status}");
            break;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `chatlake sql --memory-limit-mb`: a sort larger than the limit spills to disk and still
/// returns the right answer (6,000,000 rows, 48 MB of values ranked in descending order: rank 1 is the largest).
#[test]
fn sql_with_a_memory_limit_spills_instead_of_failing() {
    let query = "SELECT count(*) AS n, min(v) AS lo, max(v) AS hi, \
                 sum(CASE WHEN r = 1 THEN v END) AS first \
                 FROM (SELECT value AS v, row_number() OVER (ORDER BY value DESC) AS r \
                       FROM generate_series(1, 6000000))";
    let out = run(&[
        "sql",
        "--memory-limit-mb",
        "32",
        "--target-partitions",
        "1",
        query,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "query under a 32 MiB limit failed: {stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.trim(), "n,lo,hi,first\n6000000,1,6000000,6000000");

    let explain = format!("EXPLAIN ANALYZE {query}");
    let out = run(&[
        "sql",
        "--memory-limit-mb",
        "32",
        "--target-partitions",
        "1",
        &explain,
    ]);
    let plan = String::from_utf8_lossy(&out.stdout);
    let spilled = plan.split("spill_count=").skip(1).any(|rest| {
        rest.chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() && c != '0')
    });
    assert!(spilled, "the sort should have spilled to disk: {plan}");
}

/// A `--sql-dir` holding `reports/<name>.sql` for each `(name, sql)`, under the test's own
/// directory (recreated on every run).
fn sql_dir(test: &str, reports: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = common::cli::fresh_path(test);
    std::fs::create_dir_all(dir.join("reports")).expect("reports dir");
    for (name, sql) in reports {
        std::fs::write(dir.join("reports").join(format!("{name}.sql")), sql).expect("write");
    }
    dir
}

/// `chatlake sql --lake <fixture> --sql-dir <dir> <query>`.
fn sql_with_dir(dir: &std::path::Path, query: &str) -> Output {
    let lake = common::fixture_lake_blocking();
    run(&[
        "sql",
        "--lake",
        &lake.to_string_lossy(),
        "--sql-dir",
        &dir.to_string_lossy(),
        query,
    ])
}

/// The CSV rows of a successful `chatlake sql`, header first.
fn csv_rows(out: &Output) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "query failed: {stderr}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A report's lets: each runs once per call with the arguments (and the lets above it)
/// substituted, and its answer is used as a literal. The same facts asked with plain
/// subqueries, without any report, are the expected values.
#[test]
fn a_report_let_is_computed_per_call_from_the_arguments() {
    let report = "\
-- The first day a tenant has messages, and how many it had that day.
-- param: tenant_id text required
-- let: first_day date = SELECT min(dt) FROM messages WHERE tenant_id = $tenant_id
-- let: first_day_messages bigint = SELECT count(*) FROM messages WHERE tenant_id = $tenant_id AND dt = $first_day
SELECT CAST($first_day AS VARCHAR) AS first_day, $first_day_messages AS messages
";
    let dir = sql_dir("cli-sql-dir-let", &[("tenant_first_day", report)]);
    let tenant = {
        let out = sql_with_dir(&dir, "SELECT min(tenant_id) FROM messages");
        csv_rows(&out)[1].clone()
    };
    let expected = csv_rows(&sql_with_dir(
        &dir,
        &format!(
            "WITH f AS (SELECT min(dt) AS d FROM messages WHERE tenant_id = '{tenant}') \
             SELECT CAST(f.d AS VARCHAR) AS first_day, count(m.message_id) AS messages \
             FROM f LEFT JOIN messages m ON m.tenant_id = '{tenant}' AND m.dt = f.d \
             GROUP BY f.d"
        ),
    ));
    let got = csv_rows(&sql_with_dir(
        &dir,
        &format!("SELECT * FROM tenant_first_day('{tenant}')"),
    ));
    assert_eq!(got, expected);
    let (day, count) = got[1].split_once(',').expect("two columns");
    assert!(day.starts_with("2026-"), "a day of the fixture: {day}");
    assert!(count.parse::<i64>().expect("a count") > 0);

    // No such tenant: min() over no rows is NULL, and no day matches a NULL day.
    let got = csv_rows(&sql_with_dir(
        &dir,
        "SELECT first_day IS NULL AS no_day, messages FROM tenant_first_day('nobody')",
    ));
    assert_eq!(got, ["no_day,messages", "true,0"]);
}

/// A let whose query answers several rows fails the call, naming the report and the let.
#[test]
fn a_let_with_more_than_one_row_fails_the_call() {
    let report = "\
-- param: tenant_id text
-- let: any_tenant text = SELECT tenant_id FROM tenants
SELECT $any_tenant AS tenant_id
";
    let dir = sql_dir("cli-sql-dir-let-rows", &[("several", report)]);
    let out = sql_with_dir(&dir, "SELECT * FROM several()");
    assert_clean_failure(&out, "let any_tenant: the query returned 3 rows");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("report several"), "{stderr}");
}

/// A report file in `--sql-dir` is callable with positional, optional arguments, and one with
/// an embedded report's name replaces it.
#[test]
fn a_report_file_in_sql_dir_adds_or_overrides_a_report() {
    let added = "\
-- Messages of one direction in a range of UTC days.
-- param: direction text default 'inbound'
-- param: from_day date default '2000-01-01'
-- param: to_day date default '2100-01-01'
SELECT count(*) AS messages FROM messages
WHERE direction = $direction AND dt BETWEEN $from_day AND $to_day
";
    let overriding = "\
-- Overridden: one row, whatever the range.
-- param: from_date date
-- param: to_date date
SELECT 'mine' AS source
";
    let dir = sql_dir(
        "cli-sql-dir-add",
        &[("direction_messages", added), ("stella_users", overriding)],
    );
    let count = |where_clause: &str| {
        let out = sql_with_dir(
            &dir,
            &format!("SELECT count(*) AS messages FROM messages WHERE {where_clause}"),
        );
        csv_rows(&out)
    };
    assert_eq!(
        csv_rows(&sql_with_dir(&dir, "SELECT * FROM direction_messages()")),
        count("direction = 'inbound'")
    );
    assert_eq!(
        csv_rows(&sql_with_dir(
            &dir,
            "SELECT * FROM direction_messages('outbound', '2026-10-01')"
        )),
        count("direction = 'outbound' AND dt >= DATE '2026-10-01'")
    );
    assert_eq!(
        csv_rows(&sql_with_dir(&dir, "SELECT * FROM stella_users()")),
        ["source", "mine"]
    );
}

/// Every kind of mistake in a report file fails start-up with one line naming the file and
/// the mistake, before any query runs.
#[test]
fn a_broken_report_file_fails_start_up_naming_file_and_error() {
    let cases: [(&str, &str, &str); 8] = [
        (
            "bad_sql",
            "-- param: day date\nSELEC count(*) FROM messages\n",
            "SELEC",
        ),
        (
            "bad_table",
            "SELECT count(*) FROM no_such_table\n",
            "no_such_table",
        ),
        (
            "typo",
            "-- param: day date\nSELECT count(*) FROM messages WHERE dt = $dya\n",
            "unknown parameter $dya",
        ),
        (
            "bad_type",
            "-- param: day datetime\nSELECT 1 AS one\n",
            "unknown type 'datetime'",
        ),
        (
            "let_two_columns",
            "-- let: pair bigint = SELECT 1, 2\nSELECT $pair AS x\n",
            "let pair must select one column, not 2",
        ),
        (
            "let_unknown_placeholder",
            "-- param: day date\n-- let: n bigint = SELECT count(*) FROM messages WHERE dt = $later\n\
             -- let: later date = SELECT DATE '2026-10-01'\nSELECT $n AS n\n",
            "let n: unknown parameter $later",
        ),
        (
            "let_clash",
            "-- param: day date\n-- let: day date = SELECT DATE '2026-10-01'\nSELECT $day AS d\n",
            "let day has the name of a parameter",
        ),
        (
            "let_no_query",
            "-- let: n bigint\nSELECT $n AS n\n",
            "expected '-- let: <name> <type> = SELECT ...'",
        ),
    ];
    for (name, sql, expected) in cases {
        let dir = sql_dir(&format!("cli-sql-dir-broken-{name}"), &[(name, sql)]);
        let out = sql_with_dir(&dir, "SELECT 1");
        assert_clean_failure(&out, expected);
        let file = dir.join("reports").join(format!("{name}.sql"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&*file.to_string_lossy()),
            "{name}: the error names {}: {stderr}",
            file.display()
        );
    }
}
