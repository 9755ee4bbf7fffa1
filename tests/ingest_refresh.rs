//! Incremental derivation equals a full refresh: the last day of a generated lake is taken out,
//! then streamed back in 20 shuffled chunks (callbacks before their messages, replies before the
//! messages they answer, late callbacks of the day before), each chunk committed through the
//! ingest path and followed by the incremental refresh of the contacts it touched (every other
//! chunk with the region replaced by whole partitions rather than by named contacts). The stored
//! derived rows must then equal, row for row (`EXCEPT ALL` both ways), what a from-scratch
//! `refresh` of the same lake stores.

mod common;

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::{cast, concat_batches};
use chatlake::engine::derived;
use chatlake::ingest::commit::{Ingester, Touched};
use chatlake::lake::schema;
use chatlake::lake::{Lake, LakeWriter, StoreOptions};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use rand::SeedableRng;
use rand::seq::SliceRandom;

const LAST_DAY: &str = "2026-10-31";

/// Every row of `table` in the lake, in the table's own column types (no `dt`).
async fn rows(ingester: &Ingester, table: &str, filter: &str) -> RecordBatch {
    let def = schema::table(table).expect("table");
    let columns: Vec<String> = def
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let batches = ingester
        .session()
        .sql(&format!(
            "SELECT {} FROM {table} WHERE {filter}",
            columns.join(", ")
        ))
        .await
        .expect("plan")
        .collect()
        .await
        .expect("rows");
    let typed: Vec<RecordBatch> = batches
        .iter()
        .map(|b| {
            let cols = def
                .schema
                .fields()
                .iter()
                .zip(b.columns())
                .map(|(f, c)| cast(c, f.data_type()).expect("cast"))
                .collect();
            RecordBatch::try_new(def.schema.clone(), cols).expect("batch")
        })
        .collect();
    concat_batches(&def.schema, &typed).expect("concat")
}

/// Rows of `a` not in `b`, counted with multiplicity.
async fn except_all(a: &RecordBatch, b: &RecordBatch) -> usize {
    let ctx = SessionContext::new();
    for (name, batch) in [("a", a), ("b", b)] {
        let table = MemTable::try_new(batch.schema(), vec![vec![batch.clone()]]).expect("mem");
        ctx.register_table(name, Arc::new(table)).expect("register");
    }
    ctx.sql("SELECT * FROM a EXCEPT ALL SELECT * FROM b")
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run")
        .iter()
        .map(|b| b.num_rows())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_a_day_in_chunks_keeps_the_derived_tables_equal_to_a_full_refresh() {
    let dir = common::cli::fresh_path("ingest-refresh-lake");
    let url = dir.to_string_lossy().to_string();
    let mut cfg = common::fixture_config();
    cfg.contacts = 1_500;
    cfg.days = 20;
    common::write_lake(&url, &StoreOptions::default(), &cfg).await;
    let lake = Lake::open(&url, &StoreOptions::default()).expect("lake");

    // Take the last day's messages and callbacks out, and re-derive without them.
    let ingester = Ingester::open(lake.clone()).await.expect("ingester");
    let day = format!("dt = DATE '{LAST_DAY}'");
    let messages = rows(&ingester, "messages", &day).await;
    let statuses = rows(&ingester, "message_statuses", &day).await;
    assert!(
        messages.num_rows() > 300,
        "a real day: {}",
        messages.num_rows()
    );
    // Late callbacks: the day's statuses include some of messages sent the day before.
    let late = ingester
        .session()
        .sql(&format!(
            "SELECT count(*) AS n FROM message_statuses s JOIN messages m \
             ON s.tenant_id = m.tenant_id AND s.message_id = m.message_id \
             WHERE s.dt = DATE '{LAST_DAY}' AND m.dt < DATE '{LAST_DAY}'"
        ))
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    let late =
        arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(late[0].column(0))
            .value(0);
    assert!(late > 0, "the day has late callbacks of earlier messages");
    let mut writer = LakeWriter::new(lake.clone());
    for table in ["messages", "message_statuses"] {
        writer
            .replace_where(table, vec![], Some(&format!("dt = '{LAST_DAY}'")))
            .await
            .expect("delete the day");
    }
    derived::refresh(&mut writer)
        .await
        .expect("refresh without the day");

    // 20 chunks of shuffled rows of both tables.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20);
    let mut order: Vec<(bool, usize)> = (0..messages.num_rows())
        .map(|i| (true, i))
        .chain((0..statuses.num_rows()).map(|i| (false, i)))
        .collect();
    order.shuffle(&mut rng);
    let chunk = order.len().div_ceil(20);
    let mut ingester = ingester;
    for (n, part) in order.chunks(chunk).enumerate() {
        let pick = |want: bool| -> arrow::array::UInt32Array {
            part.iter()
                .filter(|(is_message, _)| *is_message == want)
                .map(|(_, i)| *i as u32)
                .collect()
        };
        let mut touched = Touched::new();
        for (table, source, indices) in [
            ("messages", &messages, pick(true)),
            ("message_statuses", &statuses, pick(false)),
        ] {
            let batch = arrow::compute::take_record_batch(source, &indices).expect("take");
            let def = schema::table(table).expect("table");
            let outcome = ingester
                .commit(def, vec![batch], None)
                .await
                .expect("commit");
            assert_eq!(outcome.duplicates, 0, "chunk {n}: nothing is a duplicate");
            touched.extend(outcome.touched);
        }
        if n % 2 == 0 {
            ingester
                .refresh_derived(&touched)
                .await
                .expect("incremental refresh");
        } else {
            // Every other chunk replaces whole partitions instead of naming the contacts.
            chatlake::ingest::refresh::refresh_contacts_listing(&lake, &touched, 0)
                .await
                .expect("incremental refresh by partitions");
        }
    }
    assert_eq!(
        rows(&ingester, "messages", &day).await.num_rows(),
        messages.num_rows(),
        "every message is back once"
    );

    // The stored derived rows, then a from-scratch refresh of the same lake.
    let incremental_conversations = rows(&ingester, "conversations", "source = 'derived'").await;
    let incremental_outcomes = rows(&ingester, "message_outcomes", "true").await;
    derived::refresh(&mut LakeWriter::new(lake.clone()))
        .await
        .expect("full refresh");
    let full_conversations = rows(&ingester, "conversations", "source = 'derived'").await;
    let full_outcomes = rows(&ingester, "message_outcomes", "true").await;
    assert!(full_outcomes.num_rows() > 1_000);
    assert!(full_conversations.num_rows() > 100);
    for (name, a, b) in [
        (
            "conversations",
            &incremental_conversations,
            &full_conversations,
        ),
        ("message_outcomes", &incremental_outcomes, &full_outcomes),
    ] {
        assert_eq!(
            except_all(a, b).await,
            0,
            "{name}: incremental rows not in the full refresh"
        );
        assert_eq!(
            except_all(b, a).await,
            0,
            "{name}: full-refresh rows missing incrementally"
        );
    }
}
