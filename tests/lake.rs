//! The lake as a user meets it: new commits seen without a restart, pruning on `dt`,
//! deterministic generation, and clear errors for a broken lake.

mod common;

use std::sync::Arc;

use chatlake::config::EngineConfig;
use chatlake::engine::Engine;
use chatlake::engine::derived::{refresh_conversations, refresh_message_outcomes};
use chatlake::lake::{Lake, LakeWriter, StoreOptions, schema};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::prelude::SessionContext;

/// The first value of `sql`'s answer, an integer.
async fn query_i64(ctx: &SessionContext, sql: &str) -> i64 {
    let row = query_row(ctx, sql).await;
    row[0]
        .parse()
        .unwrap_or_else(|e| panic!("{sql}: {} is not an integer: {e}", row[0]))
}

async fn query_err(ctx: &SessionContext, sql: &str) -> String {
    match ctx.sql(sql).await {
        Err(e) => e.to_string(),
        Ok(df) => match df.collect().await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{sql} should have failed"),
        },
    }
}

/// The engine over the lake at `dir`.
async fn open_engine(dir: &std::path::Path) -> Engine {
    Engine::open(&EngineConfig::new(dir.to_string_lossy()))
        .await
        .expect("open")
}

/// Copies the fixture lake so a test can damage or extend its copy.
async fn copy_fixture(name: &str) -> std::path::PathBuf {
    let src = common::fixture_lake().await;
    let dst = common::cli::fresh_path(&format!("lake-{name}"));
    copy_dir(&src, &dst);
    dst
}

/// The files directly in `dir` whose name ends in `.{extension}`.
fn files_with_extension(dir: &std::path::Path, extension: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == extension))
        .collect()
}

fn copy_dir(src: &std::path::Path, dst: &std::path::Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for entry in std::fs::read_dir(src).expect("read_dir") {
        let entry = entry.expect("entry");
        let to = dst.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).expect("copy");
        }
    }
}

/// A one-row batch of `messages` for tenant `t_test`, at `ts_micros`.
fn one_message(message_id: &str, ts_micros: i64) -> RecordBatch {
    one_row(
        "messages",
        &[
            ("tenant_id", "t_test"),
            ("channel_id", "c_test"),
            ("message_id", message_id),
            ("direction", "inbound"),
            ("contact_id", "k_test"),
            ("msg_type", "text"),
            ("author_type", "contact"),
        ],
        ts_micros,
    )
}

/// A one-row batch of `table`: the string columns named in `text` get those values, every
/// timestamp column `ts_micros`, every boolean false, every other column null.
fn one_row(table: &str, text: &[(&str, &str)], ts_micros: i64) -> RecordBatch {
    use datafusion::arrow::array::{
        ArrayRef, BooleanArray, StringArray, TimestampMicrosecondArray, new_null_array,
    };
    use datafusion::arrow::datatypes::DataType;
    let def = schema::table(table).expect("a lake table");
    let columns: Vec<ArrayRef> = def
        .schema
        .fields()
        .iter()
        .map(|f| -> ArrayRef {
            let given = text.iter().find(|(name, _)| name == f.name());
            match (f.data_type(), given) {
                (DataType::Utf8, Some((_, value))) => Arc::new(StringArray::from(vec![*value])),
                (DataType::Timestamp(_, _), _) => {
                    Arc::new(TimestampMicrosecondArray::from(vec![ts_micros]).with_timezone("UTC"))
                }
                (DataType::Boolean, given) => Arc::new(BooleanArray::from(vec![
                    given.is_some_and(|(_, v)| *v == "true"),
                ])),
                (data_type, _) => new_null_array(data_type, 1),
            }
        })
        .collect();
    RecordBatch::try_new(def.schema.clone(), columns).expect("batch")
}

/// A row as `(column, value as text)` pairs, for [`one_row`].
type TextRow = Vec<(&'static str, String)>;

/// Writes each `(table, row, time)` with [`one_row`], then flushes.
async fn write_rows(writer: &mut LakeWriter, rows: &[(&str, &TextRow, i64)]) {
    for (table, row, ts) in rows {
        let text: Vec<(&str, &str)> = row.iter().map(|(k, v)| (*k, v.as_str())).collect();
        writer
            .write(table, one_row(table, &text, *ts))
            .await
            .expect("write");
    }
    writer.flush().await.expect("flush");
}

#[tokio::test]
async fn a_running_engine_sees_new_commits_without_restart() {
    let dir = copy_fixture("new-commits").await;
    let engine = open_engine(&dir).await;
    let ctx = engine.new_session();
    let before = query_i64(&ctx, "SELECT count(*) FROM messages").await;

    // Another writer (here: another LakeWriter on the same directory) commits two rows.
    let lake = Lake::open(&dir.to_string_lossy(), &StoreOptions::default()).expect("lake");
    let mut writer = LakeWriter::new(lake);
    // 2026-11-05T10:00:00Z, outside the fixture's range: a new dt partition.
    let ts = 1_793_872_800_000_000;
    writer
        .write("messages", one_message("m_new_1", ts))
        .await
        .expect("write");
    writer
        .write("messages", one_message("m_new_2", ts + 1))
        .await
        .expect("write");
    writer.flush().await.expect("flush");

    let after = query_i64(&ctx, "SELECT count(*) FROM messages").await;
    assert_eq!(after, before + 2);
    let new_day = query_i64(
        &ctx,
        "SELECT count(*) FROM messages WHERE dt = DATE '2026-11-05'",
    )
    .await;
    assert_eq!(new_day, 2);
}

/// The first row of `sql`'s answer, every value as text.
async fn query_row(ctx: &SessionContext, sql: &str) -> Vec<String> {
    use datafusion::arrow::util::display::array_value_to_string;
    let batches = common::collect(ctx, sql).await;
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .unwrap_or_else(|| panic!("{sql}: no rows"));
    batch
        .columns()
        .iter()
        .map(|c| array_value_to_string(c, 0).expect("displayable"))
        .collect()
}

#[tokio::test]
async fn derived_conversations_are_stored_and_a_refresh_follows_new_messages() {
    let dir = copy_fixture("derived-refresh").await;
    let engine = open_engine(&dir).await;
    let ctx = engine.new_session();
    let stored = "SELECT count(*) FROM conversations WHERE source = 'derived'";
    let webhook = "SELECT count(*) FROM conversations WHERE source = 'webhook'";
    // The generated lake stores what the view derives live (the full comparison is in
    // tests/slt/views/all_conversations.slt).
    let derived_before = query_i64(&ctx, stored).await;
    assert!(derived_before > 0);
    assert_eq!(
        derived_before,
        query_i64(&ctx, "SELECT count(*) FROM derived_conversations").await
    );
    let webhook_before = query_i64(&ctx, webhook).await;

    // An existing contact of a number without webhook conversation data writes in on
    // 2030-01-01T00:00:00Z, years after its last message; an hour later the business answers
    // free-form and the answer is delivered. Under PMP rules that opens one service
    // conversation at the answer's time, for 24 h, free (service, after 2024-11-01).
    let key = query_row(
        &ctx,
        "SELECT m.tenant_id, m.channel_id, m.contact_id FROM messages m JOIN channels c \
         USING (tenant_id, channel_id) WHERE c.channel_type = 'whatsapp' \
         AND c.integration NOT IN ('meta_cloud', '360dialog') \
         ORDER BY m.tenant_id, m.channel_id, m.contact_id LIMIT 1",
    )
    .await;
    let (tenant, channel, contact) = (key[0].as_str(), key[1].as_str(), key[2].as_str());
    let hour = 3_600_000_000;
    let t = 1_893_456_000_000_000;
    let message = |id: &str, direction: &str, author: &str| -> Vec<(&'static str, String)> {
        [
            ("tenant_id", tenant),
            ("channel_id", channel),
            ("contact_id", contact),
            ("message_id", id),
            ("direction", direction),
            ("msg_type", "text"),
            ("author_type", author),
        ]
        .map(|(k, v)| (k, v.to_string()))
        .to_vec()
    };
    let inbound = message("m_refresh_in", "inbound", "contact");
    let answer = message("m_refresh_out", "outbound", "bot");
    let delivered = vec![
        ("tenant_id", tenant.to_string()),
        ("channel_id", channel.to_string()),
        ("message_id", "m_refresh_out".to_string()),
        ("status", "delivered".to_string()),
    ];
    let lake = Lake::open(&dir.to_string_lossy(), &StoreOptions::default()).expect("lake");
    let mut writer = LakeWriter::new(lake);
    write_rows(
        &mut writer,
        &[
            ("messages", &inbound, t),
            ("messages", &answer, t + hour),
            ("message_statuses", &delivered, t + hour + 5_000_000),
        ],
    )
    .await;
    // Not refreshed yet: the stored rows are those of the last refresh.
    assert_eq!(query_i64(&ctx, stored).await, derived_before);

    let refreshed = refresh_conversations(&mut writer).await.expect("refresh");
    assert_eq!(refreshed, derived_before as u64 + 1);
    assert_eq!(query_i64(&ctx, stored).await, derived_before + 1);
    assert_eq!(query_i64(&ctx, webhook).await, webhook_before);
    let new = query_row(
        &ctx,
        &format!(
            "SELECT origin, CAST(opened_at AS VARCHAR), CAST(expires_at AS VARCHAR), billable, \
             CAST(count(*) OVER () AS VARCHAR) FROM all_conversations \
             WHERE channel_id = '{channel}' AND contact_id = '{contact}' \
             AND opened_at >= TIMESTAMP '2030-01-01T00:00:00Z'"
        ),
    )
    .await;
    assert_eq!(
        new,
        [
            "service",
            "2030-01-01T01:00:00Z",
            "2030-01-02T01:00:00Z",
            "false",
            "1"
        ]
    );

    // A second refresh replaces the derived rows rather than adding to them.
    refresh_conversations(&mut writer).await.expect("refresh");
    assert_eq!(query_i64(&ctx, stored).await, derived_before + 1);
    assert_eq!(query_i64(&ctx, webhook).await, webhook_before);
}

#[tokio::test]
async fn message_outcomes_are_stored_and_a_refresh_follows_new_callbacks_and_replies() {
    let dir = copy_fixture("outcomes-refresh").await;
    let engine = open_engine(&dir).await;
    let ctx = engine.new_session();
    // One stored row per outbound message (the row-for-row comparison with the live views is
    // in tests/slt/views/message_outcomes.slt).
    let stored = "SELECT count(*) FROM message_outcomes";
    let before = query_i64(&ctx, stored).await;
    assert!(before > 0);
    assert_eq!(
        before,
        query_i64(
            &ctx,
            "SELECT count(*) FROM messages WHERE direction = 'outbound'"
        )
        .await
    );

    // A contact that has written before gets a template on 2030-01-01T00:00:00Z. Callbacks:
    // sent at +1 s, failed at +2 s, delivered at +3 s (a delivery overrides the failure). The
    // contact writes at +10 min (no quote: an implicit reply) and quotes the template at +5 h
    // (the explicit reply, which wins over the implicit one).
    let key = query_row(
        &ctx,
        "SELECT tenant_id, channel_id, contact_id FROM messages WHERE direction = 'inbound' \
         ORDER BY tenant_id, channel_id, contact_id LIMIT 1",
    )
    .await;
    let (tenant, channel, contact) = (key[0].as_str(), key[1].as_str(), key[2].as_str());
    let second = 1_000_000;
    let t = 1_893_456_000_000_000;
    let message = |id: &str, direction: &str, extra: &[(&'static str, &str)]| {
        let mut row: Vec<(&'static str, String)> = [
            ("tenant_id", tenant),
            ("channel_id", channel),
            ("contact_id", contact),
            ("message_id", id),
            ("direction", direction),
            ("msg_type", "text"),
            (
                "author_type",
                if direction == "inbound" {
                    "contact"
                } else {
                    "broadcast"
                },
            ),
        ]
        .map(|(k, v)| (k, v.to_string()))
        .to_vec();
        row.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        row
    };
    let status = |status: &str| -> Vec<(&'static str, String)> {
        [
            ("tenant_id", tenant),
            ("channel_id", channel),
            ("message_id", "m_outcome_tpl"),
            ("status", status),
        ]
        .map(|(k, v)| (k, v.to_string()))
        .to_vec()
    };
    let template = message(
        "m_outcome_tpl",
        "outbound",
        &[("is_template", "true"), ("template_name", "promo")],
    );
    let unquoted = message("m_outcome_in1", "inbound", &[]);
    let quoting = message(
        "m_outcome_in2",
        "inbound",
        &[("context_message_id", "m_outcome_tpl")],
    );
    let lake = Lake::open(&dir.to_string_lossy(), &StoreOptions::default()).expect("lake");
    let mut writer = LakeWriter::new(lake);
    write_rows(
        &mut writer,
        &[
            ("messages", &template, t),
            ("message_statuses", &status("sent"), t + second),
            ("message_statuses", &status("failed"), t + 2 * second),
            ("message_statuses", &status("delivered"), t + 3 * second),
            ("messages", &unquoted, t + 600 * second),
            ("messages", &quoting, t + 5 * 3600 * second),
        ],
    )
    .await;
    // Not refreshed yet: the stored rows are those of the last refresh.
    assert_eq!(query_i64(&ctx, stored).await, before);

    let refreshed = refresh_message_outcomes(&mut writer)
        .await
        .expect("refresh");
    assert_eq!(refreshed, before as u64 + 1);
    assert_eq!(query_i64(&ctx, stored).await, before + 1);
    let outcome = query_row(
        &ctx,
        "SELECT final_status, CAST(sent_at AS VARCHAR), CAST(delivered_at AS VARCHAR), \
         CAST(failed_at AS VARCHAR), CAST(read_at AS VARCHAR), CAST(replied_at AS VARCHAR), \
         reply_kind, contact_wrote_before, template_name, CAST(dt AS VARCHAR) \
         FROM message_outcomes WHERE message_id = 'm_outcome_tpl'",
    )
    .await;
    assert_eq!(
        outcome,
        [
            "delivered",
            "2030-01-01T00:00:01Z",
            "2030-01-01T00:00:03Z",
            "2030-01-01T00:00:02Z",
            "",
            "2030-01-01T05:00:00Z",
            "explicit",
            "true",
            "promo",
            "2030-01-01"
        ]
    );

    // A second refresh replaces the table rather than adding to it.
    refresh_message_outcomes(&mut writer)
        .await
        .expect("refresh");
    assert_eq!(query_i64(&ctx, stored).await, before + 1);
}

#[tokio::test]
async fn an_application_transaction_commits_once() {
    let dir = copy_fixture("txn").await;
    let lake = Lake::open(&dir.to_string_lossy(), &StoreOptions::default()).expect("lake");
    let mut writer = LakeWriter::new(lake.clone());
    let ts = 1_793_872_800_000_000;
    let first = writer
        .append_once("messages", vec![one_message("m_txn", ts)], "ingest-test", 1)
        .await
        .expect("first");
    // A retry of the same flush, from a new writer as after a crash.
    let mut retry_writer = LakeWriter::new(lake);
    let retry = retry_writer
        .append_once("messages", vec![one_message("m_txn", ts)], "ingest-test", 1)
        .await
        .expect("retry");
    assert!(first);
    assert!(!retry);
    let engine = open_engine(&dir).await;
    let n = query_i64(
        &engine.new_session(),
        "SELECT count(*) FROM messages WHERE message_id = 'm_txn'",
    )
    .await;
    assert_eq!(n, 1);
}

/// Number of data files the scan of `sql` read, from EXPLAIN ANALYZE's metrics.
async fn files_scanned(ctx: &SessionContext, sql: &str) -> usize {
    let batches = common::collect(ctx, &format!("EXPLAIN ANALYZE {sql}")).await;
    let plan: String = batches
        .iter()
        .flat_map(|b| {
            let col = b.column(1).as_string::<i32>();
            (0..col.len())
                .map(|i| col.value(i).to_string())
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>()
        .join("\n");
    // delta-rs's scan reports `count_files_scanned=N` after the log's partition values and
    // file statistics have pruned the file list.
    plan.split("count_files_scanned=")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse::<usize>()
                .expect("a file count")
        })
        .sum()
}

#[tokio::test]
async fn a_filter_on_dt_reads_only_that_partition() {
    let dir = common::fixture_lake().await;
    let engine = open_engine(&dir).await;
    let ctx = engine.new_session();
    let days = query_i64(&ctx, "SELECT count(DISTINCT dt) FROM messages").await;
    assert_eq!(days, 45, "the fixture covers 45 days");
    // count(DISTINCT ...) needs the data (a plain count(*) is answered from the log's statistics).
    let all = files_scanned(&ctx, "SELECT count(DISTINCT contact_id) FROM messages").await;
    let one = files_scanned(
        &ctx,
        "SELECT count(DISTINCT contact_id) FROM messages WHERE dt = DATE '2026-10-30'",
    )
    .await;
    let on_disk =
        files_with_extension(&dir.join("messages").join("dt=2026-10-30"), "parquet").len();
    assert!(
        all >= 45,
        "a full scan reads every partition's files, got {all}"
    );
    assert_eq!(
        one, on_disk,
        "a dt filter reads only that partition's files"
    );
    // And the answer is right: the same count through a filter on ts.
    let by_dt = query_i64(
        &ctx,
        "SELECT count(*) FROM messages WHERE dt = DATE '2026-10-30'",
    )
    .await;
    let by_ts = query_i64(&ctx, "SELECT count(*) FROM messages WHERE ts >= TIMESTAMP '2026-10-30T00:00:00Z' AND ts < TIMESTAMP '2026-10-31T00:00:00Z'").await;
    assert_eq!(by_dt, by_ts);
}

#[tokio::test]
async fn same_seed_same_rows() {
    let mut cfg = common::fixture_config();
    cfg.contacts = 300;
    cfg.days = 5;
    let mut digests = Vec::new();
    for run in 0..2 {
        let dir = common::cli::fresh_path(&format!("seed-run-{run}"));
        common::write_lake(&dir.to_string_lossy(), &StoreOptions::default(), &cfg).await;
        let engine = open_engine(&dir).await;
        let ctx = engine.new_session();
        let mut digest = Vec::new();
        for def in schema::tables() {
            // Order-independent digest: every row of every table, as text, sorted.
            let rows = common::collect(&ctx, &format!("SELECT * FROM {}", def.name)).await;
            let text = datafusion::arrow::util::pretty::pretty_format_batches(&rows)
                .expect("format")
                .to_string();
            let mut lines: Vec<&str> = text.lines().collect();
            lines.sort_unstable();
            digest.push((def.name, lines.join("\n")));
        }
        digests.push(digest);
    }
    for ((table, a), (_, b)) in digests[0].iter().zip(&digests[1]) {
        assert!(
            a == b,
            "table {table} differs between two runs with the same seed"
        );
    }
}

#[tokio::test]
async fn a_corrupt_file_fails_queries_that_touch_it_and_names_it() {
    let dir = copy_fixture("corrupt-file").await;
    let part = dir.join("messages").join("dt=2026-10-30");
    let file = files_with_extension(&part, "parquet")
        .into_iter()
        .next()
        .expect("a parquet file");
    let len = std::fs::metadata(&file).expect("meta").len() as usize;
    std::fs::write(&file, vec![b'x'; len]).expect("corrupt");
    let file_name = file
        .file_name()
        .expect("name")
        .to_string_lossy()
        .to_string();

    let engine = open_engine(&dir).await;
    let ctx = engine.new_session();
    let err = query_err(
        &ctx,
        "SELECT count(*), max(body_text) FROM messages WHERE dt = DATE '2026-10-30'",
    )
    .await;
    assert!(err.contains(&file_name), "the error names the file: {err}");
    let other = query_i64(
        &ctx,
        "SELECT count(*) FROM messages WHERE dt = DATE '2026-10-29'",
    )
    .await;
    assert!(other > 0, "other partitions still answer");
}

#[tokio::test]
async fn a_corrupt_commit_is_an_error_naming_the_table() {
    let dir = copy_fixture("corrupt-log").await;
    let log = dir.join("channels").join("_delta_log");
    let first = files_with_extension(&log, "json")
        .into_iter()
        .max()
        .expect("a commit");
    std::fs::write(&first, b"{ this is not json").expect("corrupt");
    let err = Engine::open(&EngineConfig::new(dir.to_string_lossy()))
        .await
        .expect_err("corrupt log must fail");
    let text = chatlake::error::report(&err);
    assert!(text.contains("channels"), "names the table: {text}");
}

#[tokio::test]
async fn a_missing_lake_or_table_is_a_clear_error() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-lake-here");
    let err = Engine::open(&EngineConfig::new(dir.to_string_lossy()))
        .await
        .expect_err("no lake");
    assert!(err.to_string().contains("no chatlake lake at"), "{err}");

    let dir = copy_fixture("missing-table").await;
    std::fs::remove_dir_all(dir.join("comments")).expect("drop comments");
    let err = Engine::open(&EngineConfig::new(dir.to_string_lossy()))
        .await
        .expect_err("missing");
    assert!(
        err.to_string().contains("table 'comments' is missing"),
        "{err}"
    );
}

/// The number of `requests` and the first few, for a failure message.
fn brief(requests: &[common::counting_store::Request]) -> String {
    let first: Vec<_> = requests.iter().take(8).collect();
    format!("{} requests, first: {first:?}", requests.len())
}

/// The footer reads among `requests`: reads of a `.parquet` file whose range ends at the end
/// of the file (the metadata is read from the end of the file; data pages end before it).
fn footer_reads(requests: &[common::counting_store::Request]) -> Vec<String> {
    use common::counting_store::Request;
    requests
        .iter()
        .filter_map(|r| match r {
            Request::Get(path, range) if path.ends_with(".parquet") => {
                let size = std::fs::metadata(format!("/{path}"))
                    .expect("data file")
                    .len();
                range
                    .as_ref()
                    .is_none_or(|r| r.end == size || r.end == u64::MAX)
                    .then(|| path.clone())
            }
            _ => None,
        })
        .collect()
}

/// The listings of a `_delta_log/` among `requests`.
fn log_listings(requests: &[common::counting_store::Request]) -> Vec<String> {
    use common::counting_store::Request;
    requests
        .iter()
        .filter_map(|r| match r {
            Request::List(prefix) if prefix.contains("_delta_log") => Some(prefix.clone()),
            _ => None,
        })
        .collect()
}

/// Issue 23 item 4: a query against a table version already seen lists each table's
/// `_delta_log/` once (the probe for a newer version) and reads no Parquet footer again;
/// a new commit's file is the only footer read after it.
#[tokio::test]
async fn a_repeated_query_reads_no_footer_and_lists_each_log_once() {
    use common::counting_store::{CountingStore, Request};
    let dir = copy_fixture("metadata-cache").await;
    let url = dir.to_string_lossy().to_string();
    let plain = Lake::open(&url, &StoreOptions::default()).expect("lake");
    let counting = Arc::new(CountingStore::new(plain.object_store()));
    let lake = plain.with_object_store(counting.clone());
    let engine = Engine::open_lake(lake, &EngineConfig::new(url.clone()))
        .await
        .expect("open");
    let ctx = engine.new_session();
    // (From `tenants`: a query of `messages` here would warm the cache under test.)
    let tenant = query_row(&ctx, "SELECT min(tenant_id) FROM tenants").await[0].clone();
    // one_tenant_day of benches/peers, over every day so that every file of `messages` is
    // opened.
    let query = format!(
        "SELECT channel_id, direction, count(*) AS messages, count(DISTINCT contact_id) AS contacts \
         FROM messages WHERE tenant_id = '{tenant}' GROUP BY channel_id, direction \
         ORDER BY channel_id, direction"
    );
    counting.take();

    let first = common::collect(&ctx, &query).await;
    let requests = counting.take();
    // The counter sees the first query read the footers of the table's files.
    assert!(
        !footer_reads(&requests).is_empty(),
        "first query: {}",
        brief(&requests)
    );

    let second = common::collect(&ctx, &query).await;
    let requests = counting.take();
    assert_eq!(first, second);
    assert_eq!(
        footer_reads(&requests),
        Vec::<String>::new(),
        "{}",
        brief(&requests)
    );
    assert_eq!(log_listings(&requests).len(), 1, "{}", brief(&requests));
    // The scan did read data: the counter sees the second query's reads at all.
    assert!(
        requests
            .iter()
            .any(|r| matches!(r, Request::Get(p, Some(_)) if p.ends_with(".parquet"))),
        "{}",
        brief(&requests)
    );
    // No commit file of the unchanged table is read again.
    assert!(
        !requests
            .iter()
            .any(|r| matches!(r, Request::Get(p, _) if p.contains("_delta_log"))),
        "{}",
        brief(&requests)
    );

    // A new commit: the next query reads the new file's footer, and only that one.
    let mut writer = LakeWriter::new(Lake::open(&url, &StoreOptions::default()).expect("lake"));
    let row: TextRow = vec![
        ("tenant_id", tenant.clone()),
        ("channel_id", "c_test".into()),
        ("message_id", "m_cache_1".into()),
        ("direction", "inbound".into()),
        ("contact_id", "k_test".into()),
        ("msg_type", "text".into()),
        ("author_type", "contact".into()),
    ];
    // 2026-11-05T10:00:00Z, outside the fixture's range: a new dt partition.
    write_rows(&mut writer, &[("messages", &row, 1_793_872_800_000_000)]).await;
    let third = common::collect(&ctx, &query).await;
    let requests = counting.take();
    assert_ne!(first, third, "the new row is counted");
    let footers = footer_reads(&requests);
    assert_eq!(footers.len(), 1, "{}", brief(&requests));
    assert!(footers[0].contains("dt=2026-11-05"), "{footers:?}");
}
