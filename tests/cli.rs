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
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-generate");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("clean");
    }
    let out = run(&[
        "generate",
        "--lake",
        &dir.to_string_lossy(),
        "--tenants",
        "2",
        "--contacts",
        "200",
        "--days",
        "3",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("generated ") && stderr.contains(" messages"),
        "{stderr}"
    );
    assert!(stderr.contains("compacted 13 tables"), "{stderr}");
    assert!(dir.join("messages").join("_delta_log").is_dir());
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
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-compact");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("clean");
    }
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

    let out = run(&["compact", "--lake", &lake]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
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
    let out = run(&["compact", "--lake", &lake, "--table", "messages"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
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
    let out = run(&[
        "compact", "--lake", &lake, "--table", "messages", "--vacuum",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
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
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--lake",
            &lake.to_string_lossy(),
            "--listen",
            "127.0.0.1:0",
        ])
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
        rt.block_on(async {
            let engine = chatlake::engine::Engine::open(&chatlake::config::EngineConfig::new(
                lake.to_string_lossy(),
            ))
            .await
            .expect("engine");
            let ctx = engine.new_session();
            let mut out = Vec::new();
            for def in chatlake::lake::schema::tables() {
                let b = ctx
                    .sql(&format!("SELECT count(*) FROM {}", def.name))
                    .await
                    .expect("sql")
                    .collect()
                    .await
                    .expect("run");
                let n = datafusion::arrow::array::AsArray::as_primitive::<
                    datafusion::arrow::datatypes::Int64Type,
                >(b[0].column(0))
                .value(0);
                out.push((def.name, n));
            }
            out
        })
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
