//! `chatlake ingest` as a platform's engineer runs it: the sample files of `data/sample` into a
//! fresh lake, every kind of bad row named by line and reason, all or nothing without a reject
//! file, exactly once when a file comes twice or overlaps an earlier one. Expected values are
//! worked out by hand from the sample files (their comments in README's "Importing files").

mod common;

use common::cli::{chatlake, ok, sample, sql};

use std::path::{Path, PathBuf};
use std::process::Output;

fn fresh_lake(name: &str) -> PathBuf {
    common::cli::fresh_path(&format!("ingest-{name}"))
}

fn ingest(lake: &Path, table: &str, files: &[&Path], extra: &[&str]) -> Output {
    common::cli::ingest_files(lake, "--table", table, files, extra)
}

/// Loads every sample file, dimensions first.
fn load_samples(lake: &Path) {
    for (table, file) in [
        ("tenants", "tenants.csv"),
        ("channels", "channels.ndjson"),
        ("contacts", "contacts.csv"),
        ("campaigns", "campaigns.ndjson"),
        ("messages", "messages.ndjson"),
        ("message_statuses", "message_statuses.ndjson"),
        ("analytics_events", "analytics_events.csv"),
        ("contact_events", "contact_events.ndjson"),
        ("flow_events", "flow_events.ndjson"),
        ("campaign_recipients", "campaign_recipients.csv"),
        ("comments", "comments.ndjson"),
        ("chat_events", "chat_events.ndjson"),
        ("conversations", "conversations.ndjson"),
    ] {
        ok(&ingest(lake, table, &[&sample(file)], &[]));
    }
}

#[test]
fn the_sample_files_load_with_their_derived_columns() {
    let lake = fresh_lake("samples");
    load_samples(&lake);
    // messages.ndjson: 7 lines, the last repeats m1.
    let rows = sql(
        &lake,
        "SELECT message_id, contact_id, country_code, calling_code, author_type, is_template, \
         template_category, in_csw FROM messages ORDER BY message_id",
    );
    assert_eq!(
        rows,
        vec![
            // inbound: author contact, in_csw NULL
            "m1,919876543210,IN,91,contact,false,,",
            // 1 minute after m1: inside the customer-service window
            "m2,919876543210,IN,91,flow,false,,true",
            // the campaign's category; Ben had not written
            "m3,447400123456,GB,44,broadcast,true,marketing,false",
            "m4,447400123456,GB,44,contact,false,,",
            // no campaign id: the category of the campaign using the same template
            "m5,12025550123,US,1,api,true,marketing,false",
            // 24 h 55 min after Asha's last message: the window has closed
            "m6,919876543210,IN,91,agent,false,,false",
        ]
    );
    assert_eq!(
        sql(
            &lake,
            "SELECT count(*), count(DISTINCT ingested_at) FROM message_statuses"
        ),
        vec!["9,1"]
    );
    assert_eq!(
        sql(
            &lake,
            "SELECT error_bucket FROM message_statuses WHERE status = 'failed'"
        ),
        vec!["frequency_capping"]
    );
    assert_eq!(
        sql(
            &lake,
            "SELECT contact_id, country_code, created_at FROM contacts ORDER BY contact_id"
        ),
        vec![
            "12025550123,US,2026-10-01T05:00:00Z",
            "447400123456,GB,2026-10-01T09:00:00Z",
            "919876543210,IN,2026-10-01T08:00:00Z",
        ]
    );
    // The derived outcomes follow the load: one row per outbound message (m2, m3, m5, m6).
    assert_eq!(
        sql(
            &lake,
            "SELECT message_id, final_status, error_code, reply_kind, replied_at, contact_wrote_before \
             FROM message_outcomes ORDER BY message_id"
        ),
        vec![
            "m2,read,,,,true",
            "m3,delivered,,explicit,2026-10-01T10:30:00Z,false",
            "m5,failed,131049,,,false",
            "m6,delivered,,,,true",
        ]
    );
    assert_eq!(
        sql(&lake, "SELECT count(*), sum(value) FROM analytics_events"),
        vec!["3,1.5"]
    );
    // One sample file per other table: every line a row (no key repeats), but conversations.ndjson
    // sends conv-1 twice.
    assert_eq!(
        sql(
            &lake,
            "SELECT (SELECT count(*) FROM contact_events) AS a, (SELECT count(*) FROM flow_events) AS b, \
             (SELECT count(*) FROM campaign_recipients) AS c, (SELECT count(*) FROM comments) AS d, \
             (SELECT count(*) FROM chat_events) AS e"
        ),
        vec!["3,3,2,2,3"]
    );
    assert_eq!(
        sql(
            &lake,
            "SELECT conversation_id, contact_id, country_code, origin, billable \
             FROM conversations WHERE source = 'webhook'"
        ),
        vec!["conv-1,919811112222,IN,marketing,true"]
    );
    assert_eq!(
        sql(
            &lake,
            "SELECT flow_run_id, min(ts), max(ts) FROM flow_events GROUP BY flow_run_id"
        ),
        vec!["run-1,2026-10-01T08:05:01Z,2026-10-01T08:09:00Z"]
    );
}

#[test]
fn loading_a_file_twice_or_an_overlapping_file_adds_only_new_rows() {
    let lake = fresh_lake("twice");
    let file = sample("message_statuses.ndjson");
    let first = ok(&ingest(&lake, "message_statuses", &[&file], &[]));
    assert!(first.contains("10 rows read, 9 written"), "{first}");
    assert!(first.contains("1 duplicates dropped"), "{first}");
    let again = ok(&ingest(&lake, "message_statuses", &[&file], &[]));
    assert!(again.contains("10 rows read, 0 written"), "{again}");
    assert!(again.contains("10 duplicates dropped"), "{again}");
    // Two known callbacks and one new one.
    let overlap = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("overlap.ndjson");
    let lines: Vec<String> = std::fs::read_to_string(&file)
        .expect("sample")
        .lines()
        .take(2)
        .map(str::to_string)
        .chain([r#"{"tenant_id":"acme","channel_id":"wa-main","message_id":"m6","status":"read","ts":"2026-10-02T09:30:00Z"}"#.to_string()])
        .collect();
    std::fs::write(&overlap, lines.join("\n")).expect("write");
    let third = ok(&ingest(&lake, "message_statuses", &[&overlap], &[]));
    assert!(third.contains("3 rows read, 1 written"), "{third}");
    assert_eq!(
        sql(&lake, "SELECT count(*) FROM message_statuses"),
        vec!["10"]
    );
}

#[test]
fn bad_rows_fail_the_load_with_file_line_and_reason_and_nothing_is_committed() {
    let lake = fresh_lake("bad");
    ok(&ingest(
        &lake,
        "messages",
        &[&sample("messages.ndjson")],
        &[],
    ));
    let bad = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bad-messages.ndjson");
    let good = r#"{"tenant_id":"acme","channel_id":"wa-main","message_id":"n1","direction":"inbound","ts":"2026-10-03T08:00:00Z","contact_id":"k","msg_type":"text"}"#;
    std::fs::write(
        &bad,
        [
            good,
            r#"{"tenant_id":"acme","channel_id":"wa-main","message_id":"n2","direction":"inbound","ts":"2026-10-03T08:00:00Z","contact_id":"k","msg_type":"text","is_template":"perhaps"}"#,
            r#"{"tenant_id":"acme","message_id":"n3","direction":"inbound","ts":"2026-10-03T08:00:00Z","contact_id":"k","msg_type":"text"}"#,
            r#"{"tenant_id":"acme","channel_id":"wa-main","message_id":"n4","direction":"sideways","ts":"2026-10-03T08:00:00Z","contact_id":"k","msg_type":"text"}"#,
            r#"{"tenant_id":"acme","channel_id":"wa-main","message_id":"n5","direction":"inbound","ts":"2026-10-03 08:00:00","contact_id":"k","msg_type":"text"}"#,
            r#"{"tenant_id":"acme","channel_id":"wa-main","message_id":"n6","direction":"inbound","ts":"2026-10-03T08:00:00Z","contact_id":"k","msg_type":"text","colour":"red"}"#,
        ]
        .join("\n"),
    )
    .expect("write");
    let out = ingest(&lake, "messages", &[&bad], &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let name = bad.display().to_string();
    for expected in [
        format!("{name}:2: column is_template: expected a boolean, got 'perhaps'"),
        format!("{name}:3: column channel_id: required in messages"),
        format!("{name}:4: column direction: 'sideways' is not one of inbound, outbound"),
        format!("{name}:5: column ts: '2026-10-03 08:00:00' has no time zone"),
        format!("{name}:6: column colour: unknown column colour"),
        "5 of 6 rows rejected; nothing was loaded into messages".to_string(),
    ] {
        assert!(
            stderr.contains(&expected),
            "missing '{expected}' in:\n{stderr}"
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        sql(&lake, "SELECT count(*) FROM messages"),
        vec!["6"],
        "all or nothing"
    );

    // With a reject file the good row loads and the bad ones are kept with their reasons.
    let rejects = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rejects.ndjson");
    let out = ingest(
        &lake,
        "messages",
        &[&bad],
        &["--reject-file", &rejects.to_string_lossy()],
    );
    let stderr = ok(&out);
    assert!(
        stderr.contains("6 rows read, 1 written, 5 rejected"),
        "{stderr}"
    );
    let kept = std::fs::read_to_string(&rejects).expect("reject file");
    let kept: Vec<serde_json::Value> = kept
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(kept.len(), 5);
    assert_eq!(kept[0]["line"], 2);
    assert_eq!(kept[0]["column"], "is_template");
    assert_eq!(
        kept[3]["reason"]
            .as_str()
            .map(|r| r.contains("no time zone")),
        Some(true)
    );
    assert!(
        kept[4]["row"]
            .as_str()
            .is_some_and(|r| r.contains("\"colour\":\"red\""))
    );
    assert_eq!(sql(&lake, "SELECT count(*) FROM messages"), vec!["7"]);
}

#[test]
fn bad_invocations_fail_with_one_clear_line() {
    let lake = fresh_lake("invocations");
    for (args, expected) in [
        (vec!["--table", "nope"], "unknown table 'nope'"),
        (
            vec!["--table", "message_outcomes"],
            "derived by chatlake from the other tables and cannot be ingested",
        ),
        (
            vec!["--table", "messages", "/no/such/file.ndjson"],
            "/no/such/file.ndjson: no such file",
        ),
        (
            vec!["--table", "messages", "--assume-tz", "Mars/Olympus"],
            "--assume-tz: 'Mars/Olympus' is not an IANA time zone",
        ),
    ] {
        let lake = lake.to_string_lossy().to_string();
        let mut all = vec!["ingest", "--lake", &lake];
        all.extend(args);
        let out = chatlake(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{all:?} should fail");
        assert!(
            stderr.contains(expected),
            "expected '{expected}' in {stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    }
}

/// `(table, line)` of each example in README's NDJSON block.
fn readme_examples() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let block = readme
        .split("<!-- ndjson-examples -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- /ndjson-examples -->").next())
        .expect("README has the NDJSON examples block");
    let mut examples = Vec::new();
    let mut table = None;
    for line in block.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            table = comment.split_whitespace().next().map(str::to_string);
        } else if line.starts_with('{') {
            examples.push((
                table.clone().expect("a table before its line"),
                line.to_string(),
            ));
        }
    }
    examples
}

#[test]
fn the_readme_has_an_example_line_of_every_table_and_each_loads() {
    let examples = readme_examples();
    let ingestable: Vec<&str> = chatlake::lake::schema::tables()
        .iter()
        .map(|t| t.name)
        .filter(|name| chatlake::ingest::rules::rules(name).is_some())
        .collect();
    let mut shown: Vec<&str> = examples.iter().map(|(t, _)| t.as_str()).collect();
    shown.sort_unstable();
    let mut expected = ingestable.clone();
    expected.sort_unstable();
    assert_eq!(shown, expected, "one README example per ingestable table");

    let lake = fresh_lake("readme");
    let dir = fresh_lake("readme-files");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for (table, line) in &examples {
        let file = dir.join(format!("{table}.ndjson"));
        std::fs::write(&file, format!("{line}\n")).expect("write example");
        let summary = ok(&ingest(&lake, table, &[&file], &[]));
        assert!(
            summary.contains("1 rows read, 1 written"),
            "{table}: {summary}"
        );
    }
    for table in &ingestable {
        let filter = if *table == "conversations" {
            " WHERE source = 'webhook'"
        } else {
            ""
        };
        assert_eq!(
            sql(&lake, &format!("SELECT count(*) FROM {table}{filter}")),
            vec!["1"],
            "{table}"
        );
    }
}
