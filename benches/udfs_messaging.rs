//! Criterion benches for the messaging functions of `chatlake-udfs`: phones, local time,
//! `most_active_hour`, `session_id`, `wa_conversations` and `wa_pricing`, each over a realistic
//! in-memory batch set (200k messages of 10k contacts over 60 days, 2 partitions).
//!
//! Run: `cargo bench --bench udfs_messaging` (figures in `benches/RESULTS.md`).

use std::hint::black_box;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::runtime::Runtime;

const MESSAGES: usize = 200_000;
const CONTACTS: usize = 10_000;
const DAYS: i64 = 60;
const MICROS_PER_SECOND: i64 = 1_000_000;
/// 2026-09-01T00:00:00Z.
const START: i64 = 20_697 * 86_400 * MICROS_PER_SECOND;

/// Calling codes and national-number lengths of a mix of markets, for realistic `wa_id`s.
const MARKETS: [(&str, &str, usize); 6] = [
    ("91", "98", 8),
    ("55", "119", 8),
    ("234", "80", 8),
    ("44", "74", 8),
    ("1", "345", 7),
    ("62", "812", 8),
];

fn messages() -> RecordBatch {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let phones: Vec<String> = (0..CONTACTS)
        .map(|_| {
            let (cc, prefix, digits) = MARKETS[rng.random_range(0..MARKETS.len())];
            let rest: String = (0..digits)
                .map(|_| char::from(b'0' + rng.random_range(0..10_u8)))
                .collect();
            format!("{cc}{prefix}{rest}")
        })
        .collect();
    let mut contact = Vec::with_capacity(MESSAGES);
    let mut wa_id = Vec::with_capacity(MESSAGES);
    let mut ts = Vec::with_capacity(MESSAGES);
    let mut direction = Vec::with_capacity(MESSAGES);
    let mut delivered = Vec::with_capacity(MESSAGES);
    let mut is_template = Vec::with_capacity(MESSAGES);
    let mut category: Vec<Option<&str>> = Vec::with_capacity(MESSAGES);
    let mut referral = Vec::with_capacity(MESSAGES);
    for _ in 0..MESSAGES {
        let c = rng.random_range(0..CONTACTS);
        contact.push(format!("contact-{c}"));
        wa_id.push(phones[c].clone());
        ts.push(START + rng.random_range(0..DAYS * 86_400) * MICROS_PER_SECOND);
        let inbound = rng.random_bool(0.4);
        direction.push(if inbound { "inbound" } else { "outbound" });
        delivered.push(inbound || rng.random_bool(0.95));
        let template = !inbound && rng.random_bool(0.3);
        is_template.push(template);
        category.push(
            template.then(|| ["marketing", "utility", "authentication"][rng.random_range(0..3)]),
        );
        referral.push(inbound && rng.random_bool(0.02));
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("contact_id", DataType::Utf8, false),
        Field::new("wa_id", DataType::Utf8, false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("direction", DataType::Utf8, false),
        Field::new("delivered", DataType::Boolean, false),
        Field::new("is_template", DataType::Boolean, false),
        Field::new("template_category", DataType::Utf8, true),
        Field::new("is_referral", DataType::Boolean, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(contact)),
        Arc::new(StringArray::from(wa_id)),
        Arc::new(TimestampMicrosecondArray::from(ts).with_timezone("UTC")),
        Arc::new(StringArray::from(direction)),
        Arc::new(BooleanArray::from(delivered)),
        Arc::new(BooleanArray::from(is_template)),
        Arc::new(StringArray::from(category)),
        Arc::new(BooleanArray::from(referral)),
    ];
    RecordBatch::try_new(schema, columns).unwrap_or_else(|e| panic!("bench data: {e}"))
}

fn session(batch: &RecordBatch) -> SessionContext {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    chatlake_udfs::register_all(&ctx);
    let parts: Vec<Vec<RecordBatch>> = (0..2)
        .map(|p| {
            let half = batch.num_rows() / 2;
            vec![batch.slice(p * half, half)]
        })
        .collect();
    let table =
        MemTable::try_new(batch.schema(), parts).unwrap_or_else(|e| panic!("memtable: {e}"));
    ctx.register_table("messages", Arc::new(table))
        .unwrap_or_else(|e| panic!("register: {e}"));
    ctx
}

/// The queries, each reduced to one row so the bench measures the function, not the output.
const QUERIES: [(&str, &str); 7] = [
    (
        "phone_country/200k_rows_10k_distinct",
        "SELECT count(DISTINCT phone_country(wa_id)) FROM messages",
    ),
    (
        "phone_calling_code/200k_rows_10k_distinct",
        "SELECT sum(phone_calling_code(wa_id)) FROM messages",
    ),
    (
        "local_hour/200k_rows_new_york",
        "SELECT sum(local_hour(ts, 'America/New_York')) FROM messages",
    ),
    (
        "most_active_hour/10k_contacts",
        "SELECT sum(h) FROM (SELECT most_active_hour(ts, 'Asia/Kolkata') AS h FROM messages GROUP BY contact_id)",
    ),
    (
        "session_id/10k_contacts_30min",
        "SELECT max(s) FROM (SELECT session_id(ts, 1800) OVER (PARTITION BY contact_id ORDER BY ts) AS s FROM messages)",
    ),
    (
        "wa_conversations/10k_contacts",
        "SELECT sum(cardinality(c)) FROM (SELECT wa_conversations('cbp_2023', ts, direction, delivered, is_template, template_category, is_referral) AS c FROM messages GROUP BY contact_id)",
    ),
    (
        "wa_pricing/10k_contacts",
        "SELECT count(p['type']) FROM (SELECT wa_pricing('pmp_2025', ts, direction, delivered, is_template, template_category, is_referral) OVER (PARTITION BY contact_id) AS p FROM messages)",
    ),
];

fn bench_functions(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap_or_else(|e| panic!("tokio: {e}"));
    let batch = messages();
    let ctx = session(&batch);
    let mut group = c.benchmark_group("udfs_messaging");
    group.sample_size(10);
    for (name, sql) in QUERIES {
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let rows = ctx
                        .sql(sql)
                        .await
                        .unwrap_or_else(|e| panic!("{name}: {e}"))
                        .collect()
                        .await
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    black_box(rows)
                })
            })
        });
    }
    group.finish();

    // Parsing cost without the cache: 1000 distinct numbers.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let numbers: Vec<String> = (0..1000)
        .map(|_| format!("9198{:08}", rng.random_range(0..100_000_000_u32)))
        .collect();
    c.bench_function("phone_lookup/1000_distinct_uncached", |b| {
        b.iter(|| {
            for n in &numbers {
                black_box(chatlake_udfs::phone::lookup(n));
            }
        })
    });
}

criterion_group!(benches, bench_functions);
criterion_main!(benches);
