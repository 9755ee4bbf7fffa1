//! The views of `sql/views/` over a lake of a few hand-written rows, each answer computed by hand
//! from the view's documented definition (the comments beside each input say why a row is what
//! it is). The fixture-lake `.slt` files check the same views at scale against second
//! formulations; these pin the rules themselves: ties, first-of, overrides, windows.
//!
//! Tenant `t1` (channel `c1`, meta_cloud) carries the message, status, flow and event rows;
//! tenant `t2` (channel `c2`, gupshup: no webhook conversations) the derived conversations.

mod common;

use std::sync::Arc;

use chatlake::config::EngineConfig;
use chatlake::engine::Engine;
use chatlake::lake::{Lake, LakeWriter, StoreOptions, schema};
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionContext;

/// One input row: `(column, value as text)`; other columns are NULL (or false / the row's `ts`
/// where the schema forbids NULL).
type Row<'a> = &'a [(&'a str, &'a str)];

/// A batch of `table` from text rows, each value cast to its column's type.
fn batch(table: &str, rows: &[Row]) -> RecordBatch {
    let def = schema::table(table).expect("a lake table");
    let columns: Vec<ArrayRef> = def
        .schema
        .fields()
        .iter()
        .map(|field| {
            let text: StringArray = rows
                .iter()
                .map(|row| {
                    let given = row.iter().find(|(name, _)| name == field.name());
                    match (given, field.is_nullable(), field.data_type()) {
                        (Some((_, v)), _, _) => Some(v.to_string()),
                        (None, true, _) => None,
                        (None, false, DataType::Boolean) => Some("false".into()),
                        (None, false, DataType::Timestamp(..)) => row
                            .iter()
                            .find(|(name, _)| *name == "ts")
                            .map(|(_, v)| v.to_string()),
                        (None, false, _) => panic!("{table}: no value for {}", field.name()),
                    }
                })
                .collect();
            cast(&text, field.data_type()).expect("castable value")
        })
        .collect();
    RecordBatch::try_new(Arc::clone(&def.schema), columns).expect("batch")
}

const MESSAGES: &[Row] = &[
    // t1/k1: m1 in, m2 out (answered explicitly by m4), m3 out at 23:59:59 (answered implicitly
    // by m4, one second later), m4 in the next UTC day quoting m2.
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m1"),
        ("direction", "inbound"),
        ("ts", "2026-10-01T10:00:00Z"),
        ("contact_id", "k1"),
        ("msg_type", "text"),
        ("author_type", "contact"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m2"),
        ("direction", "outbound"),
        ("ts", "2026-10-01T11:00:00Z"),
        ("contact_id", "k1"),
        ("msg_type", "text"),
        ("author_type", "agent"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m3"),
        ("direction", "outbound"),
        ("ts", "2026-10-01T23:59:59Z"),
        ("contact_id", "k1"),
        ("msg_type", "text"),
        ("author_type", "agent"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m4"),
        ("direction", "inbound"),
        ("ts", "2026-10-02T00:00:00Z"),
        ("contact_id", "k1"),
        ("msg_type", "text"),
        ("author_type", "contact"),
        ("context_message_id", "m2"),
    ],
    // t1/k2: m5 template (its only later inbound, m7, comes 24.5 h later: no reply), m6
    // free-form (m7 is 23.5 h later, but the template m8 comes first and takes the reply).
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m5"),
        ("direction", "outbound"),
        ("ts", "2026-10-02T05:00:00Z"),
        ("contact_id", "k2"),
        ("msg_type", "template"),
        ("author_type", "campaign"),
        ("is_template", "true"),
        ("template_name", "promo"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m6"),
        ("direction", "outbound"),
        ("ts", "2026-10-02T06:00:00Z"),
        ("contact_id", "k2"),
        ("msg_type", "text"),
        ("author_type", "agent"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m8"),
        ("direction", "outbound"),
        ("ts", "2026-10-03T05:00:00Z"),
        ("contact_id", "k2"),
        ("msg_type", "template"),
        ("author_type", "campaign"),
        ("is_template", "true"),
        ("template_name", "reminder"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m7"),
        ("direction", "inbound"),
        ("ts", "2026-10-03T05:30:00Z"),
        ("contact_id", "k2"),
        ("msg_type", "button"),
        ("author_type", "contact"),
    ],
    // t2/k3 on a gupshup number: the conversations are derived (see derived_conversations).
    &[
        ("tenant_id", "t2"),
        ("channel_id", "c2"),
        ("message_id", "m9"),
        ("direction", "inbound"),
        ("ts", "2026-10-01T08:00:00Z"),
        ("contact_id", "k3"),
        ("msg_type", "text"),
        ("author_type", "contact"),
    ],
    &[
        ("tenant_id", "t2"),
        ("channel_id", "c2"),
        ("message_id", "m10"),
        ("direction", "outbound"),
        ("ts", "2026-10-01T09:00:00Z"),
        ("contact_id", "k3"),
        ("msg_type", "text"),
        ("author_type", "agent"),
    ],
    &[
        ("tenant_id", "t2"),
        ("channel_id", "c2"),
        ("message_id", "m11"),
        ("direction", "outbound"),
        ("ts", "2026-10-01T12:00:00Z"),
        ("contact_id", "k3"),
        ("msg_type", "template"),
        ("author_type", "campaign"),
        ("is_template", "true"),
        ("template_name", "promo"),
        ("template_category", "marketing"),
    ],
    &[
        ("tenant_id", "t2"),
        ("channel_id", "c2"),
        ("message_id", "m12"),
        ("direction", "outbound"),
        ("ts", "2026-10-01T13:00:00Z"),
        ("contact_id", "k3"),
        ("msg_type", "text"),
        ("author_type", "agent"),
    ],
    &[
        ("tenant_id", "t2"),
        ("channel_id", "c2"),
        ("message_id", "m13"),
        ("direction", "outbound"),
        ("ts", "2026-10-02T11:00:00Z"),
        ("contact_id", "k3"),
        ("msg_type", "template"),
        ("author_type", "campaign"),
        ("is_template", "true"),
        ("template_name", "promo"),
        ("template_category", "marketing"),
    ],
    &[
        ("tenant_id", "t2"),
        ("channel_id", "c2"),
        ("message_id", "m14"),
        ("direction", "outbound"),
        ("ts", "2026-10-02T13:00:00Z"),
        ("contact_id", "k3"),
        ("msg_type", "template"),
        ("author_type", "campaign"),
        ("is_template", "true"),
        ("template_name", "otp"),
        ("template_category", "utility"),
    ],
];

const STATUSES: &[Row] = &[
    // m2: sent, delivered, read (listed out of order: the view takes the first of each).
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m2"),
        ("status", "read"),
        ("ts", "2026-10-01T11:05:00Z"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m2"),
        ("status", "sent"),
        ("ts", "2026-10-01T11:00:05Z"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m2"),
        ("status", "delivered"),
        ("ts", "2026-10-01T11:00:10Z"),
    ],
    // m3: failed only (two failures: the first one's error counts).
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m3"),
        ("status", "failed"),
        ("ts", "2026-10-02T00:00:20Z"),
        ("error_code", "131000"),
        ("error_title", "Something went wrong"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m3"),
        ("status", "failed"),
        ("ts", "2026-10-02T00:00:10Z"),
        ("error_code", "131026"),
        ("error_title", "Message undeliverable"),
    ],
    // m5: sent, failed, then delivered: a delivery overrides the failure; the error stays.
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m5"),
        ("status", "sent"),
        ("ts", "2026-10-02T05:00:01Z"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m5"),
        ("status", "failed"),
        ("ts", "2026-10-02T05:00:02Z"),
        ("error_code", "131049"),
        ("error_title", "Healthy ecosystem"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m5"),
        ("status", "delivered"),
        ("ts", "2026-10-02T05:00:03Z"),
    ],
    // m6: no callback at all (accepted). m8: delivered.
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("message_id", "m8"),
        ("status", "delivered"),
        ("ts", "2026-10-03T05:00:02Z"),
    ],
    // t2: m10, m11, m14 delivered, m13 read (implies delivery); m12 never delivered.
    &[
        ("tenant_id", "t2"),
        ("channel_id", "c2"),
        ("message_id", "m10"),
        ("status", "delivered"),
        ("ts", "2026-10-01T09:00:02Z"),
    ],
    &[
        ("tenant_id", "t2"),
        ("channel_id", "c2"),
        ("message_id", "m11"),
        ("status", "delivered"),
        ("ts", "2026-10-01T12:00:02Z"),
    ],
    &[
        ("tenant_id", "t2"),
        ("channel_id", "c2"),
        ("message_id", "m13"),
        ("status", "read"),
        ("ts", "2026-10-02T11:00:09Z"),
    ],
    &[
        ("tenant_id", "t2"),
        ("channel_id", "c2"),
        ("message_id", "m14"),
        ("status", "delivered"),
        ("ts", "2026-10-02T13:00:02Z"),
    ],
];

const CHANNELS: &[Row] = &[
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("channel_type", "whatsapp"),
        ("integration", "meta_cloud"),
        ("waba_id", "w1"),
    ],
    &[
        ("tenant_id", "t2"),
        ("channel_id", "c2"),
        ("channel_type", "whatsapp"),
        ("integration", "gupshup"),
        ("waba_id", "w2"),
    ],
];

const FLOW_EVENTS: &[Row] = &[
    // r1: started (with trigger and campaign), a node, completed.
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("flow_id", "f1"),
        ("flow_run_id", "r1"),
        ("contact_id", "k1"),
        ("ts", "2026-10-01T10:00:00Z"),
        ("event_type", "started"),
        ("trigger", "keyword"),
        ("campaign_id", "cmp1"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("flow_id", "f1"),
        ("flow_run_id", "r1"),
        ("contact_id", "k1"),
        ("ts", "2026-10-01T10:01:00Z"),
        ("event_type", "node"),
        ("node_id", "n1"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("flow_id", "f1"),
        ("flow_run_id", "r1"),
        ("contact_id", "k1"),
        ("ts", "2026-10-01T10:05:00Z"),
        ("event_type", "completed"),
    ],
    // r2: its start is before the data (a node first), then expired.
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("flow_id", "f1"),
        ("flow_run_id", "r2"),
        ("contact_id", "k2"),
        ("ts", "2026-10-01T09:00:00Z"),
        ("event_type", "node"),
        ("node_id", "n2"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("flow_id", "f1"),
        ("flow_run_id", "r2"),
        ("contact_id", "k2"),
        ("ts", "2026-10-01T12:00:00Z"),
        ("event_type", "expired"),
    ],
    // r3: started, still active.
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("flow_id", "f2"),
        ("flow_run_id", "r3"),
        ("contact_id", "k1"),
        ("ts", "2026-10-01T13:00:00Z"),
        ("event_type", "started"),
        ("trigger", "api"),
    ],
    // r4: two ends: the first (killed) is the end.
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("flow_id", "f2"),
        ("flow_run_id", "r4"),
        ("contact_id", "k2"),
        ("ts", "2026-10-01T14:00:00Z"),
        ("event_type", "started"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("flow_id", "f2"),
        ("flow_run_id", "r4"),
        ("contact_id", "k2"),
        ("ts", "2026-10-01T14:20:00Z"),
        ("event_type", "errored"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("flow_id", "f2"),
        ("flow_run_id", "r4"),
        ("contact_id", "k2"),
        ("ts", "2026-10-01T14:10:00Z"),
        ("event_type", "killed"),
    ],
];

const ANALYTICS: &[Row] = &[
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("contact_id", "k1"),
        ("ts", "2026-10-01T10:02:00Z"),
        ("category", "campaign"),
        ("action", "click"),
        ("label", "cmp1"),
    ],
    // No contact: not an event of anyone, left out of events_v.
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("ts", "2026-10-01T10:03:00Z"),
        ("category", "web"),
        ("action", "visit"),
    ],
];

const COMMENTS: &[Row] = &[
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("post_id", "p1"),
        ("comment_id", "cm1"),
        ("contact_id", "k1"),
        ("ts", "2026-10-01T15:00:00Z"),
        ("text", "hi"),
        ("matched", "true"),
    ],
    &[
        ("tenant_id", "t1"),
        ("channel_id", "c1"),
        ("post_id", "p1"),
        ("comment_id", "cm2"),
        ("ts", "2026-10-01T15:01:00Z"),
        ("text", "anon"),
    ],
];

const CONTACT_EVENTS: &[Row] = &[&[
    ("tenant_id", "t1"),
    ("channel_id", "c1"),
    ("contact_id", "k1"),
    ("ts", "2026-10-01T09:30:00Z"),
    ("event_type", "opted_in"),
    ("method", "keyword"),
]];

const CHAT_EVENTS: &[Row] = &[&[
    ("tenant_id", "t1"),
    ("channel_id", "c1"),
    ("chat_id", "ch1"),
    ("contact_id", "k2"),
    ("ts", "2026-10-02T06:30:00Z"),
    ("event", "assigned"),
    ("actor_type", "agent"),
]];

/// A session over a fresh lake holding the rows above.
async fn session(name: &str) -> SessionContext {
    let dir = common::cli::fresh_dir(&format!("views-{name}"));
    let url = dir.to_string_lossy().to_string();
    let mut writer = LakeWriter::new(Lake::open(&url, &StoreOptions::default()).expect("lake"));
    writer.create_missing_tables().await.expect("create tables");
    for (table, rows) in [
        ("channels", CHANNELS),
        ("messages", MESSAGES),
        ("message_statuses", STATUSES),
        ("flow_events", FLOW_EVENTS),
        ("analytics_events", ANALYTICS),
        ("comments", COMMENTS),
        ("contact_events", CONTACT_EVENTS),
        ("chat_events", CHAT_EVENTS),
    ] {
        writer
            .write(table, batch(table, rows))
            .await
            .expect("write");
    }
    writer.flush().await.expect("flush");
    Engine::open(&EngineConfig::new(url))
        .await
        .expect("open")
        .new_session()
}

/// Every row of `sql`'s answer, each value as text (`NULL` for null).
async fn rows(ctx: &SessionContext, sql: &str) -> Vec<Vec<String>> {
    let batches = common::collect(ctx, sql).await;
    let options = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for b in &batches {
        let formatters: Vec<_> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formatter"))
            .collect();
        for row in 0..b.num_rows() {
            out.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    out
}

/// `expected` as owned rows, for comparing with [`rows`].
fn table(expected: &[&[&str]]) -> Vec<Vec<String>> {
    expected
        .iter()
        .map(|r| r.iter().map(|v| v.to_string()).collect())
        .collect()
}

#[tokio::test]
async fn daily_contact_activity_counts_each_utc_day() {
    let ctx = session("daily").await;
    // k1: m1 in, m2 and m3 out on 10-01 (m3 at 23:59:59 is still 10-01); m4 in at 00:00 10-02.
    // k2: m5, m6 out on 10-02; m8 out and m7 in on 10-03. k3 (t2): m9 in and m10-m12 out on
    // 10-01, m13, m14 out on 10-02 (undelivered m12 is still a message).
    let got = rows(
        &ctx,
        "SELECT tenant_id, contact_id, CAST(activity_date AS VARCHAR), inbound_count, outbound_count \
         FROM daily_contact_activity ORDER BY 1, 2, 3",
    )
    .await;
    assert_eq!(
        got,
        table(&[
            &["t1", "k1", "2026-10-01", "1", "2"],
            &["t1", "k1", "2026-10-02", "1", "0"],
            &["t1", "k2", "2026-10-02", "0", "2"],
            &["t1", "k2", "2026-10-03", "1", "1"],
            &["t2", "k3", "2026-10-01", "1", "3"],
            &["t2", "k3", "2026-10-02", "0", "2"],
        ])
    );
}

#[tokio::test]
async fn message_delivery_takes_firsts_and_lets_a_delivery_override_a_failure() {
    let ctx = session("delivery").await;
    let got = rows(
        &ctx,
        "SELECT message_id, sent_at, delivered_at, read_at, failed_at, final_status, error_code, error_title \
         FROM message_delivery WHERE tenant_id = 't1' ORDER BY message_id",
    )
    .await;
    assert_eq!(
        got,
        table(&[
            // sent_at: the first of sent/delivered/read; delivered_at: of delivered/read.
            &[
                "m2",
                "2026-10-01T11:00:05Z",
                "2026-10-01T11:00:10Z",
                "2026-10-01T11:05:00Z",
                "NULL",
                "read",
                "NULL",
                "NULL"
            ],
            // The earlier of two failures gives failed_at and the error.
            &[
                "m3",
                "NULL",
                "NULL",
                "NULL",
                "2026-10-02T00:00:10Z",
                "failed",
                "131026",
                "Message undeliverable"
            ],
            &[
                "m5",
                "2026-10-02T05:00:01Z",
                "2026-10-02T05:00:03Z",
                "NULL",
                "2026-10-02T05:00:02Z",
                "delivered",
                "131049",
                "Healthy ecosystem"
            ],
            &[
                "m6", "NULL", "NULL", "NULL", "NULL", "accepted", "NULL", "NULL"
            ],
            &[
                "m8",
                "2026-10-03T05:00:02Z",
                "2026-10-03T05:00:02Z",
                "NULL",
                "NULL",
                "delivered",
                "NULL",
                "NULL"
            ],
        ])
    );
}

#[tokio::test]
async fn message_response_finds_explicit_then_implicit_replies() {
    let ctx = session("response").await;
    let got = rows(
        &ctx,
        "SELECT message_id, replied_at, reply_kind FROM message_response \
         WHERE tenant_id = 't1' ORDER BY message_id",
    )
    .await;
    assert_eq!(
        got,
        table(&[
            // m4 quotes m2: explicit.
            &["m2", "2026-10-02T00:00:00Z", "explicit"],
            // m4 is the first inbound after m3, 1 s later, no template between: implicit.
            &["m3", "2026-10-02T00:00:00Z", "implicit"],
            // m7 comes 24.5 h after m5: too late.
            &["m5", "NULL", "NULL"],
            // m7 is 23.5 h after m6, but the template m8 comes before it.
            &["m6", "NULL", "NULL"],
            &["m8", "2026-10-03T05:30:00Z", "implicit"],
        ])
    );
}

#[tokio::test]
async fn flow_runs_start_end_and_reason() {
    let ctx = session("flows").await;
    let got = rows(
        &ctx,
        "SELECT flow_run_id, flow_id, contact_id, started_at, ended_at, end_reason, \"trigger\", campaign_id \
         FROM flow_runs ORDER BY flow_run_id",
    )
    .await;
    assert_eq!(
        got,
        table(&[
            &[
                "r1",
                "f1",
                "k1",
                "2026-10-01T10:00:00Z",
                "2026-10-01T10:05:00Z",
                "completed",
                "keyword",
                "cmp1"
            ],
            // No `started` event: the first event is the start, and no trigger is known.
            &[
                "r2",
                "f1",
                "k2",
                "2026-10-01T09:00:00Z",
                "2026-10-01T12:00:00Z",
                "expired",
                "NULL",
                "NULL"
            ],
            &[
                "r3",
                "f2",
                "k1",
                "2026-10-01T13:00:00Z",
                "NULL",
                "NULL",
                "api",
                "NULL"
            ],
            // Of two end events, the first.
            &[
                "r4",
                "f2",
                "k2",
                "2026-10-01T14:00:00Z",
                "2026-10-01T14:10:00Z",
                "killed",
                "NULL",
                "NULL"
            ],
        ])
    );
}

#[tokio::test]
async fn events_v_lists_every_fact_of_a_contact() {
    let ctx = session("events").await;
    let got = rows(
        &ctx,
        "SELECT contact_id, ts, event, detail FROM events_v WHERE tenant_id = 't1' \
         ORDER BY ts, event, detail",
    )
    .await;
    assert_eq!(
        got,
        table(&[
            &["k2", "2026-10-01T09:00:00Z", "flow_node", "f1"],
            &["k1", "2026-10-01T09:30:00Z", "contact_opted_in", "keyword"],
            &["k1", "2026-10-01T10:00:00Z", "flow_started", "f1"],
            &["k1", "2026-10-01T10:00:00Z", "message_received", "text"],
            &["k1", "2026-10-01T10:01:00Z", "flow_node", "f1"],
            // The analytics event without a contact (10:03) is left out.
            &["k1", "2026-10-01T10:02:00Z", "campaign:click", "cmp1"],
            &["k1", "2026-10-01T10:05:00Z", "flow_completed", "f1"],
            &["k1", "2026-10-01T11:00:00Z", "message_sent", "text"],
            // Statuses take their message's contact; failures carry the error code.
            &["k1", "2026-10-01T11:00:05Z", "message_sent", "NULL"],
            &["k1", "2026-10-01T11:00:10Z", "message_delivered", "NULL"],
            &["k1", "2026-10-01T11:05:00Z", "message_read", "NULL"],
            &["k2", "2026-10-01T12:00:00Z", "flow_expired", "f1"],
            &["k1", "2026-10-01T13:00:00Z", "flow_started", "f2"],
            &["k2", "2026-10-01T14:00:00Z", "flow_started", "f2"],
            &["k2", "2026-10-01T14:10:00Z", "flow_killed", "f2"],
            &["k2", "2026-10-01T14:20:00Z", "flow_errored", "f2"],
            // The comment without a contact (15:01) is left out.
            &["k1", "2026-10-01T15:00:00Z", "comment", "p1"],
            &["k1", "2026-10-01T23:59:59Z", "message_sent", "text"],
            &["k1", "2026-10-02T00:00:00Z", "message_received", "text"],
            &["k1", "2026-10-02T00:00:10Z", "message_failed", "131026"],
            &["k1", "2026-10-02T00:00:20Z", "message_failed", "131000"],
            // An outbound template's detail is the template name.
            &["k2", "2026-10-02T05:00:00Z", "message_sent", "promo"],
            &["k2", "2026-10-02T05:00:01Z", "message_sent", "NULL"],
            &["k2", "2026-10-02T05:00:02Z", "message_failed", "131049"],
            &["k2", "2026-10-02T05:00:03Z", "message_delivered", "NULL"],
            &["k2", "2026-10-02T06:00:00Z", "message_sent", "text"],
            &["k2", "2026-10-02T06:30:00Z", "chat_assigned", "agent"],
            &["k2", "2026-10-03T05:00:00Z", "message_sent", "reminder"],
            &["k2", "2026-10-03T05:00:02Z", "message_delivered", "NULL"],
            &["k2", "2026-10-03T05:30:00Z", "message_received", "button"],
        ])
    );
}

#[tokio::test]
async fn derived_conversations_follow_the_cbp_v2_rules_on_numbers_without_webhooks() {
    let ctx = session("derived").await;
    let got = rows(
        &ctx,
        "SELECT tenant_id, channel_id, waba_id, contact_id, opened_at, expires_at, origin, billable, source \
         FROM derived_conversations ORDER BY opened_at",
    )
    .await;
    // Only c2 (gupshup) is derived; c1 is meta_cloud. m9 (in, 08:00) opens the service window;
    // m10 (free-form, delivered, 09:00) opens `service` for 24 h, free from 2024-11-01; m11
    // (marketing, 12:00) opens `marketing`; m12 was never delivered; m13 (marketing, 10-02
    // 11:00) rides in the open marketing one (until 12:00); m14 (utility, 13:00) opens `utility`.
    assert_eq!(
        got,
        table(&[
            &[
                "t2",
                "c2",
                "w2",
                "k3",
                "2026-10-01T09:00:00Z",
                "2026-10-02T09:00:00Z",
                "service",
                "false",
                "derived"
            ],
            &[
                "t2",
                "c2",
                "w2",
                "k3",
                "2026-10-01T12:00:00Z",
                "2026-10-02T12:00:00Z",
                "marketing",
                "true",
                "derived"
            ],
            &[
                "t2",
                "c2",
                "w2",
                "k3",
                "2026-10-02T13:00:00Z",
                "2026-10-03T13:00:00Z",
                "utility",
                "true",
                "derived"
            ],
        ])
    );
    // One id per conversation.
    let ids = rows(
        &ctx,
        "SELECT count(DISTINCT conversation_id), count(conversation_id) FROM derived_conversations",
    )
    .await;
    assert_eq!(ids, table(&[&["3", "3"]]));
}
