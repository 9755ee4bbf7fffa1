//! Live-lake maintenance: compaction of crowded partitions while queries run. Every query, before,
//! during and after the compaction and the vacuum, answers the same counts; the crowded
//! partitions end up with fewer files, and the vacuum deletes the removed files once they are
//! older than the retention (which must outlast the longest query: with a retention of zero, a
//! query that planned before the compaction could find its files gone).

mod common;

use std::time::Duration;

use chatlake::config::EngineConfig;
use chatlake::engine::Engine;
use chatlake::ingest::maintenance::{Maintenance, round};
use chatlake::lake::{Lake, StoreOptions};

const COUNTS: &str = "SELECT (SELECT count(*) FROM messages) AS m, \
     (SELECT count(*) FROM message_statuses) AS s, \
     (SELECT count(DISTINCT message_id) FROM messages WHERE direction = 'outbound') AS o, \
     (SELECT count(*) FROM conversations) AS c, \
     (SELECT count(*) FROM contact_events) AS e";

async fn counts(engine: &Engine) -> String {
    let batches = engine
        .new_session()
        .sql(COUNTS)
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    arrow::util::pretty::pretty_format_batches(&batches)
        .expect("format")
        .to_string()
}

async fn files(lake: &Lake, table: &str) -> usize {
    lake.load_table(table)
        .await
        .expect("table")
        .get_file_uris()
        .expect("files")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_during_compaction_and_vacuum_all_see_the_same_rows() {
    let dir = common::cli::fresh_path("maintenance-lake");
    let url = dir.to_string_lossy().to_string();
    // Many flushes: each adds one file per partition it touches (as ingest flushes do).
    let lake = Lake::open(&url, &StoreOptions::default()).expect("lake");
    let mut writer = chatlake::lake::LakeWriter::new(lake.clone()).with_flush_rows(100);
    writer.create_missing_tables().await.expect("tables");
    let mut cfg = common::fixture_config();
    cfg.contacts = 1_000;
    cfg.days = 10;
    // Two generator runs (two seeds) into the same lake: every partition they write holds at
    // least two files, one per run's commit (the counts below need no distinct rows).
    for seed in [7, 8] {
        cfg.seed = seed;
        chatlake::generate::generate(&mut writer, &cfg)
            .await
            .expect("generate");
        writer.flush().await.expect("flush");
    }
    chatlake::engine::derived::refresh(&mut writer)
        .await
        .expect("derive");
    let mut before_files = std::collections::HashMap::new();
    for def in chatlake::lake::schema::tables() {
        before_files.insert(def.name, files(&lake, def.name).await);
    }

    let engine = Engine::open(&EngineConfig::new(url.clone()))
        .await
        .expect("engine");
    let expected = counts(&engine).await;

    // Queries run back to back through both maintenance rounds below, until told to stop.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let querying = {
        let engine = engine.clone();
        let expected = expected.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut answered = 0;
            let started = std::time::Instant::now();
            while !stop.load(std::sync::atomic::Ordering::SeqCst)
                && started.elapsed() < Duration::from_secs(60)
            {
                assert_eq!(
                    counts(&engine).await,
                    expected,
                    "a query during maintenance"
                );
                answered += 1;
            }
            answered
        })
    };
    // The retention must outlast the longest query (the module's rule): a query that planned
    // on the snapshot before a compaction still reads the files it removed. Each query here
    // takes well under a second; RETENTION keeps removed files for 3 s.
    const RETENTION: Duration = Duration::from_secs(3);
    let config = Maintenance {
        min_files: 2,
        retention: RETENTION,
        ..Maintenance::default()
    };
    // Round 1 compacts; the files it removed are younger than the retention and stay.
    let done = round(&lake, &config).await.expect("maintenance round");
    assert!(done.failed.is_empty(), "{:?}", done.failed);
    assert!(
        !done.compacted.is_empty(),
        "something was crowded: {done:?}"
    );
    for (table, partitions, before, after) in &done.compacted {
        assert!(
            *partitions > 0 && after < before,
            "{table}: {before} -> {after}"
        );
        assert_eq!(
            *before as usize, before_files[table],
            "{table}: files before"
        );
        assert_eq!(
            files(&lake, table).await,
            *after as usize,
            "{table}: files after"
        );
    }
    // Round 2, past the retention and with the queries still running, vacuums them.
    tokio::time::sleep(RETENTION + Duration::from_millis(500)).await;
    let vacuumed = round(&lake, &config).await.expect("second round");
    assert!(vacuumed.failed.is_empty(), "{:?}", vacuumed.failed);
    assert!(
        vacuumed.files_deleted > 0,
        "the vacuum deleted the removed files"
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let answered = querying.await.expect("queries");
    assert!(answered > 0);
    assert_eq!(counts(&engine).await, expected, "after the vacuum");
}
