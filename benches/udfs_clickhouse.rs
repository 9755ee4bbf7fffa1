//! Benchmarks of the ClickHouse-compatible aggregates (`window_funnel`, `retention`,
//! `sequence_match`, `sequence_count`) as analysts call them: `GROUP BY contact` over a
//! realistic in-memory table, one partition (per-core throughput), with `count(*)` as the
//! baseline cost of scanning and grouping alone. Prints the best of 10 runs per query.
//!
//! Run: `cargo bench --bench udfs_clickhouse` (add a name, e.g. `-- window_funnel`, to pick).
//! Under `cargo test --all-targets` (no `--bench` flag) each query runs once, as a smoke test.
//!
//! A plain harness rather than criterion: criterion's dependencies turn on serde's `alloc`
//! feature, which changes the feature set of the whole test build and so rebuilds DataFusion
//! (about 30 minutes on the team's 2-core machines) for every checkout.

use std::sync::Arc;

use arrow::array::{Int32Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

const CONTACTS: usize = 10_000;
const EVENTS_PER_CONTACT: usize = 20;
const ROWS: usize = CONTACTS * EVENTS_PER_CONTACT;

/// `events(contact_id, ts, ev)`: per contact 20 events over a week in time order (as lake files
/// are sorted), `ev` a step 1..=6 (5 and 6 are not funnel steps).
fn events_table() -> Arc<MemTable> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let schema = Arc::new(Schema::new(vec![
        Field::new("contact_id", DataType::Utf8, false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("ev", DataType::Int32, false),
    ]));
    let mut contact = Vec::with_capacity(ROWS);
    let mut ts = Vec::with_capacity(ROWS);
    let mut ev = Vec::with_capacity(ROWS);
    let start = 1_790_000_000_000_000i64;
    for c in 0..CONTACTS {
        let mut t = start + rng.random_range(0..86_400_000_000i64);
        for _ in 0..EVENTS_PER_CONTACT {
            t += rng.random_range(1..30_000_000_000i64);
            contact.push(format!("contact-{c:06}"));
            ts.push(t);
            ev.push(rng.random_range(1..=6));
        }
    }
    let mut batches = Vec::new();
    for start in (0..ROWS).step_by(8192) {
        let end = (start + 8192).min(ROWS);
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(contact[start..end].to_vec())),
                Arc::new(
                    TimestampMicrosecondArray::from(ts[start..end].to_vec()).with_timezone("UTC"),
                ),
                Arc::new(Int32Array::from(ev[start..end].to_vec())),
            ],
        )
        .expect("bench batch");
        batches.push(batch);
    }
    Arc::new(MemTable::try_new(schema, vec![batches]).expect("bench table"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benchmarking = args.iter().any(|a| a == "--bench");
    let filter: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let runs = if benchmarking { 10 } else { 1 };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1));
    chatlake_udfs::register_all(&ctx);
    ctx.register_table("events", events_table())
        .expect("register events");
    let queries = [
        ("baseline_count", "count(*)"),
        (
            "window_funnel",
            "window_funnel(86400, '', ts, ev = 1, ev = 2, ev = 3, ev = 4)",
        ),
        (
            "window_funnel_strict_order",
            "window_funnel(86400, 'strict_order', ts, ev = 1, ev = 2, ev = 3, ev = 4)",
        ),
        (
            "window_funnel_strict_once",
            "window_funnel(86400, 'strict_once', ts, ev = 1, ev = 2, ev = 3, ev = 4)",
        ),
        ("retention", "retention(ev = 1, ev = 2, ev = 3, ev = 4)"),
        (
            "sequence_match",
            "sequence_match('(?1).*(?2)', ts, ev = 1, ev = 2, ev = 3)",
        ),
        (
            "sequence_match_time",
            "sequence_match('(?1).*(?2)(?t<=3600)(?3)', ts, ev = 1, ev = 2, ev = 3)",
        ),
        (
            "sequence_count",
            "sequence_count('(?1).*(?2)', ts, ev = 1, ev = 2, ev = 3)",
        ),
    ];
    println!(
        "GROUP BY contact_id over {ROWS} rows, {CONTACTS} contacts, 1 partition, best of {runs}"
    );
    for (name, aggregate) in queries {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let sql = format!("SELECT contact_id, {aggregate} FROM events GROUP BY contact_id");
        let mut best = Duration::MAX;
        for _ in 0..runs {
            let started = Instant::now();
            let rows = runtime.block_on(async {
                let batches = ctx
                    .sql(&sql)
                    .await
                    .expect("plan")
                    .collect()
                    .await
                    .expect("run");
                batches.iter().map(RecordBatch::num_rows).sum::<usize>()
            });
            best = best.min(started.elapsed());
            assert_eq!(rows, CONTACTS);
        }
        println!(
            "{name:<28} {:>8.2} ms  {:>7.1} M rows/s",
            best.as_secs_f64() * 1e3,
            ROWS as f64 / best.as_secs_f64() / 1e6
        );
    }
}
