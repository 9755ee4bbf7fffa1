//! Messenger `read` and `delivery` events name no message, only a watermark: "every message
//! sent to this user up to this time". They become `message_statuses` rows of the outbound
//! messages they cover:
//!
//! | covered                                          | why                                          |
//! |--------------------------------------------------|----------------------------------------------|
//! | outbound messages of the same tenant, channel and contact, sent at or before the watermark and at most [`LOOKBACK_DAYS`] days before it | a page can message a user for 24 hours after the user wrote (7 days with the human-agent tag): older messages were answered by earlier receipts |
//! | stored in the lake, or in the same batch of bodies (an echo and its read arriving together) | |
//! | not already holding a status of that kind (`read`, `delivered`) in the lake | a later receipt repeats the earlier ones; re-reading the same body finds its own rows |
//!
//! Each message gets one row per status, at the earliest receipt time covering it.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{RecordBatch, StringArray, TimestampMicrosecondArray};
use datafusion::prelude::SessionContext;

use super::rows::Watermark;
use crate::error::Result;
use crate::ingest::dedup::strings;
use crate::ingest::whatsapp::rows::{MessageRow, StatusRow};

/// How far before a watermark messages are looked for.
pub const LOOKBACK_DAYS: i64 = 7;
const LOOKBACK_MICROS: i64 = LOOKBACK_DAYS * 86_400_000_000;

/// An outbound message of a batch of bodies (an echo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    tenant_id: String,
    channel_id: String,
    contact_id: String,
    message_id: String,
    ts: i64,
}

/// The outbound messages among `messages`.
pub fn sent(messages: &[MessageRow]) -> Vec<Sent> {
    messages
        .iter()
        .filter(|m| m.direction == "outbound")
        .map(|m| Sent {
            tenant_id: m.tenant_id.clone(),
            channel_id: m.channel_id.clone(),
            contact_id: m.contact_id.clone(),
            message_id: m.message_id.clone(),
            ts: m.ts,
        })
        .collect()
}

/// Whether a message of `(tenant, channel, contact)` sent at `ts` is covered by `w`.
fn covers(w: &Watermark, tenant: &str, channel: &str, contact: &str, ts: i64) -> bool {
    w.tenant_id == tenant
        && w.channel_id == channel
        && w.contact_id == contact
        && ts <= w.watermark
        && ts > w.watermark - LOOKBACK_MICROS
}

/// The status rows `watermarks` give over the lake `ctx` reads and the batch's own `sent`
/// messages; see the module docs.
pub async fn resolve(
    ctx: &SessionContext,
    watermarks: &[Watermark],
    sent: &[Sent],
) -> Result<Vec<StatusRow>> {
    // (tenant, message, status) -> (channel, earliest receipt time).
    let mut found: BTreeMap<(String, String, &'static str), (String, i64)> = BTreeMap::new();
    let mut add = |w: &Watermark, message_id: &str| {
        let key = (w.tenant_id.clone(), message_id.to_string(), w.status);
        let at = found
            .entry(key)
            .or_insert_with(|| (w.channel_id.clone(), w.ts));
        at.1 = at.1.min(w.ts);
    };
    for w in watermarks {
        for s in sent {
            if covers(w, &s.tenant_id, &s.channel_id, &s.contact_id, s.ts) {
                add(w, &s.message_id);
            }
        }
    }
    let marks = RecordBatch::try_from_iter([
        (
            "i",
            Arc::new(StringArray::from_iter_values(
                (0..watermarks.len()).map(|i| i.to_string()),
            )) as _,
        ),
        (
            "tenant_id",
            Arc::new(StringArray::from_iter_values(
                watermarks.iter().map(|w| w.tenant_id.as_str()),
            )) as _,
        ),
        (
            "channel_id",
            Arc::new(StringArray::from_iter_values(
                watermarks.iter().map(|w| w.channel_id.as_str()),
            )) as _,
        ),
        (
            "contact_id",
            Arc::new(StringArray::from_iter_values(
                watermarks.iter().map(|w| w.contact_id.as_str()),
            )) as _,
        ),
        (
            "status",
            Arc::new(StringArray::from_iter_values(
                watermarks.iter().map(|w| w.status),
            )) as _,
        ),
        (
            "upto",
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(watermarks.iter().map(|w| w.watermark))
                    .with_timezone("UTC"),
            ) as _,
        ),
        (
            "since",
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(
                    watermarks.iter().map(|w| w.watermark - LOOKBACK_MICROS),
                )
                .with_timezone("UTC"),
            ) as _,
        ),
    ])?;
    let since = watermarks.iter().map(|w| w.watermark).min().unwrap_or(0) - LOOKBACK_MICROS;
    let upto = watermarks.iter().map(|w| w.watermark).max().unwrap_or(0);
    let day = |micros: i64| {
        chrono::DateTime::from_timestamp_micros(micros)
            .map(|t| t.date_naive().to_string())
            .unwrap_or_else(|| "1970-01-01".into())
    };
    let local = SessionContext::new();
    local.register_batch("watermarks", marks)?;
    local.register_table("messages", ctx.table_provider("messages").await?)?;
    local.register_table(
        "message_statuses",
        ctx.table_provider("message_statuses").await?,
    )?;
    let query = format!(
        "SELECT w.i, m.message_id FROM messages m JOIN watermarks w \
         ON m.tenant_id = w.tenant_id AND m.channel_id = w.channel_id AND m.contact_id = w.contact_id \
         WHERE m.direction = 'outbound' AND m.ts <= w.upto AND m.ts > w.since \
         AND m.dt BETWEEN DATE '{from}' AND DATE '{to}' \
         AND NOT EXISTS (SELECT 1 FROM message_statuses s WHERE s.tenant_id = m.tenant_id \
         AND s.message_id = m.message_id AND s.status = w.status AND s.dt >= DATE '{from}')",
        from = day(since),
        to = day(upto),
    );
    let batches = local.sql(&query).await?.collect().await?;
    for batch in &batches {
        let (i, message) = (strings(batch, "i")?, strings(batch, "message_id")?);
        for (i, message) in i.into_iter().zip(message) {
            let (Some(i), Some(message)) = (i, message) else {
                continue;
            };
            if let Some(w) = i.parse::<usize>().ok().and_then(|i| watermarks.get(i)) {
                add(w, &message);
            }
        }
    }
    Ok(found
        .into_iter()
        .map(
            |((tenant_id, message_id, status), (channel_id, ts))| StatusRow {
                tenant_id,
                channel_id,
                message_id,
                status: status.to_string(),
                ts,
                ..StatusRow::default()
            },
        )
        .collect())
}
