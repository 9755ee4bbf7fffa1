//! Decoder tests: hand-written rows, expected cells and reasons worked out by hand.

use arrow::array::AsArray;
use arrow::datatypes::{Int32Type, TimestampMicrosecondType};

use super::*;
use crate::lake::schema;

const NOW: i64 = 1_790_900_000_000_000;

fn table(name: &str) -> &'static TableDef {
    schema::table(name).expect("table")
}

fn decode(name: &str, ndjson: &str) -> Decoded {
    decode_ndjson(table(name), ndjson.as_bytes(), 1, &DecodeOptions::default(), NOW)
        .expect("decode")
}

fn text(batch: &RecordBatch, column: &str, row: usize) -> Option<String> {
    let array = batch.column_by_name(column).expect("column");
    (!array.is_null(row)).then(|| array.as_string::<i32>().value(row).to_string())
}

#[test]
fn an_inbound_message_gets_its_derived_columns() {
    // +91 98xxx is India (calling code 91); contact_id defaults to the wa_id.
    let out = decode(
        "messages",
        r#"{"tenant_id":"t1","channel_id":"c1","message_id":"m1","direction":"inbound","ts":"2026-10-01T09:30:00+05:30","wa_id":"919876543210","msg_type":"text","ingested_at":"2020-01-01T00:00:00Z"}"#,
    );
    assert!(out.rejects.is_empty(), "{:?}", out.rejects);
    let b = &out.batch;
    assert_eq!(b.num_rows(), 1);
    assert_eq!(text(b, "contact_id", 0).as_deref(), Some("919876543210"));
    assert_eq!(text(b, "country_code", 0).as_deref(), Some("IN"));
    let code = b.column_by_name("calling_code").expect("c").as_primitive::<Int32Type>();
    assert_eq!(code.value(0), 91);
    assert_eq!(text(b, "author_type", 0).as_deref(), Some("contact"));
    assert!(!b.column_by_name("is_template").expect("c").as_boolean().value(0));
    let ts = b.column_by_name("ts").expect("c").as_primitive::<TimestampMicrosecondType>();
    assert_eq!(ts.value(0), 1_790_827_200_000_000);
    let ingested = b
        .column_by_name("ingested_at")
        .expect("c")
        .as_primitive::<TimestampMicrosecondType>();
    assert_eq!(ingested.value(0), NOW, "ingest time replaces the input's");
}

#[test]
fn a_status_gets_its_error_bucket() {
    let out = decode(
        "message_statuses",
        r#"{"tenant_id":"t1","channel_id":"c1","message_id":"m1","status":"failed","ts":1790827200,"error_code":"131047"}"#,
    );
    assert!(out.rejects.is_empty(), "{:?}", out.rejects);
    assert_eq!(text(&out.batch, "error_bucket", 0).as_deref(), Some("outside_window"));
}

#[test]
fn every_kind_of_bad_row_names_its_line_column_and_reason() {
    let good = r#"{"tenant_id":"t1","channel_id":"c1","message_id":"ok","direction":"outbound","ts":"2026-10-01T04:00:00Z","contact_id":"k","msg_type":"template","author_type":"api"}"#;
    let input = [
        good,
        // 2: wrong type
        r#"{"tenant_id":"t1","channel_id":"c1","message_id":"m2","direction":"inbound","ts":"2026-10-01T04:00:00Z","contact_id":"k","msg_type":"text","is_template":"perhaps"}"#,
        // 3: missing required column
        r#"{"tenant_id":"t1","message_id":"m3","direction":"inbound","ts":"2026-10-01T04:00:00Z","contact_id":"k","msg_type":"text"}"#,
        // 4: bad enum
        r#"{"tenant_id":"t1","channel_id":"c1","message_id":"m4","direction":"sideways","ts":"2026-10-01T04:00:00Z","contact_id":"k","msg_type":"text"}"#,
        // 5: timestamp without a zone
        r#"{"tenant_id":"t1","channel_id":"c1","message_id":"m5","direction":"inbound","ts":"2026-10-01 04:00:00","contact_id":"k","msg_type":"text"}"#,
        // 6: unknown column
        r#"{"tenant_id":"t1","channel_id":"c1","message_id":"m6","direction":"inbound","ts":"2026-10-01T04:00:00Z","contact_id":"k","msg_type":"text","colour":"red"}"#,
        // 7: not JSON
        r#"{"tenant_id": "t1", "#,
        "",
        // 9: no contact_id and no wa_id
        r#"{"tenant_id":"t1","channel_id":"c1","message_id":"m9","direction":"inbound","ts":"2026-10-01T04:00:00Z","msg_type":"text"}"#,
        // 10: outbound without author_type
        r#"{"tenant_id":"t1","channel_id":"c1","message_id":"m10","direction":"outbound","ts":"2026-10-01T04:00:00Z","contact_id":"k","msg_type":"text"}"#,
    ]
    .join("\n");
    let out = decode("messages", &input);
    assert_eq!(out.rows_read, 9, "the blank line is not a row");
    assert_eq!(out.batch.num_rows(), 1);
    let got: Vec<String> = out.rejects.iter().map(|r| r.describe("f.ndjson")).collect();
    let want_prefixes = [
        "f.ndjson:2: column is_template: expected a boolean, got 'perhaps'",
        "f.ndjson:3: column channel_id: required in messages",
        "f.ndjson:4: column direction: 'sideways' is not one of inbound, outbound",
        "f.ndjson:5: column ts: '2026-10-01 04:00:00' has no time zone",
        "f.ndjson:6: column colour: unknown column colour",
        "f.ndjson:7: invalid JSON",
        "f.ndjson:9: column contact_id: required in messages (give contact_id, or wa_id",
        "f.ndjson:10: column author_type: required for outbound messages",
    ];
    assert_eq!(got.len(), want_prefixes.len(), "{got:#?}");
    for (g, w) in got.iter().zip(want_prefixes) {
        assert!(g.starts_with(w), "got {g}\nwant {w}...");
    }
    assert_eq!(out.rejects[3].raw, input.lines().nth(4).expect("line 5"));
}

#[test]
fn unknown_columns_can_be_ignored_and_zones_assumed() {
    let options = DecodeOptions {
        assume_tz: Some("Asia/Kolkata".parse().expect("tz")),
        ignore_unknown: true,
    };
    let line = r#"{"tenant_id":"t1","ts":"2026-10-01 09:30:00","category":"goal","action":"started","extra":1}"#;
    let out = decode_ndjson(table("analytics_events"), line.as_bytes(), 1, &options, NOW)
        .expect("decode");
    assert!(out.rejects.is_empty(), "{:?}", out.rejects);
    let ts = out
        .batch
        .column_by_name("ts")
        .expect("c")
        .as_primitive::<TimestampMicrosecondType>();
    assert_eq!(ts.value(0), 1_790_827_200_000_000);
}

#[test]
fn csv_fields_empty_is_null_and_zones_are_checked() {
    let mut decoder = Decoder::new(table("tenants"), DecodeOptions::default(), NOW).expect("decoder");
    let names = vec!["tenant_id".to_string(), "name".to_string(), "tz".to_string()];
    decoder.push_fields(2, &names, ["t1", "", "Asia/Kolkata"].into_iter());
    decoder.push_fields(3, &names, ["t2", "Two", "Mars/Olympus"].into_iter());
    let out = decoder.finish().expect("finish");
    assert_eq!(out.batch.num_rows(), 1);
    assert_eq!(text(&out.batch, "name", 0), None);
    assert_eq!(out.rejects.len(), 1);
    assert_eq!(
        out.rejects[0].describe("t.csv"),
        "t.csv:3: column tz: 'Mars/Olympus' is not an IANA time zone (e.g. Asia/Kolkata)"
    );
    assert_eq!(out.rejects[0].raw, "t2,Two,Mars/Olympus");
}

#[test]
fn derived_tables_cannot_be_ingested() {
    let err = Decoder::new(table("message_outcomes"), DecodeOptions::default(), NOW)
        .expect_err("derived");
    assert!(err.to_string().contains("derived"), "{err}");
}
