//! Many bodies to checked batches of every table they feed, the same way for the file import
//! and the live receiver's flusher.
//!
//! | step | what |
//! |------|------|
//! | [`parse_bodies`] | every body through its platform's parser ([`Platform::parse`]: WhatsApp, Messenger, Instagram) with one set of [`Routes`]; bodies that are not JSON objects are set aside with their reason |
//! | [`alias::resolve`] | every row of a WhatsApp user's business-scoped user id gets the `contact_id` of the user's first sighting (a `contact_events` link for a new one) |
//! | [`Collected::decode`] | each table's rows serialised to NDJSON and decoded by [`Decoder`]: the same checks and derived columns as any ingest (`country_code`, `calling_code`, `error_bucket`, `author_type`, `is_template`, `source`, `ingested_at`); a row the decoder refuses is skipped with its reason (its body stays in `webhook_bodies`); `webhook_bodies` and `webhook_unrouted` rows, whose every value is the parser's own, are built into Arrow directly |
//! | [`merge_contacts`] | profiles of one contact merged (earliest `created_at`, latest `updated_at`, the latest name and `wa_id`), then completed from the stored `contacts` row: its `language`, provider and opt-in columns, an earlier `created_at`, and its `name`/`wa_id` when the body has none, so that the upsert does not blank what other sources wrote |
//!
//! | [`watermark::resolve`] | Messenger reads and deliveries naming no message: statuses of the outbound messages they cover, stored or in the same bodies |
//!
//! [`expand`] runs parsing and decoding on the blocking pool, a large input split over the machine's
//! cores (at least [`PARALLEL_MIN_BODIES`] bodies a part). Natural-key de-duplication (a
//! redelivered body adds nothing) is the commit's
//! ([`crate::ingest::commit`]), as for every other input.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::TimestampMicrosecondType;
use datafusion::prelude::SessionContext;

use super::alias::{self, Links};
use super::route::Routes;
use super::rows::{
    AnalyticsRow, BodyRow, ContactEventRow, ContactRow, ConversationRow, MessageRow, StatusRow,
    UnroutedRow,
};
use crate::error::{Error, Result};
use crate::ingest::decode::{DecodeOptions, Decoded, Decoder};
use crate::ingest::dedup::strings;
use crate::ingest::messenger::rows::{CommentReplyRow, CommentRow, Watermark};
use crate::ingest::messenger::watermark;
use crate::ingest::webhook::Platform;
use crate::lake::schema::{self, TableDef};

/// One body to expand.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The platform whose parser reads it.
    pub platform: Platform,
    /// The raw JSON text.
    pub raw: String,
    /// When it was received (µs since the epoch, UTC).
    pub received_at: i64,
    /// Where it came from, for messages: `FILE:LINE`, or the WAL segment.
    pub origin: String,
}

/// The rows of many bodies, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    /// Inbound messages.
    pub messages: Vec<MessageRow>,
    /// Status callbacks.
    pub statuses: Vec<StatusRow>,
    /// Reported conversations.
    pub conversations: Vec<ConversationRow>,
    /// Contact profiles (merge with [`merge_contacts`] before decoding them).
    pub contacts: Vec<ContactRow>,
    /// The bodies.
    pub bodies: Vec<BodyRow>,
    /// What no channel takes.
    pub unrouted: Vec<UnroutedRow>,
    /// Facebook/Instagram comments.
    pub comments: Vec<CommentRow>,
    /// The page's public replies to comments.
    pub comment_replies: Vec<CommentReplyRow>,
    /// Messenger referrals.
    pub analytics_events: Vec<AnalyticsRow>,
    /// Messenger opt-ins and opt-outs, links of business-scoped user ids.
    pub contact_events: Vec<ContactEventRow>,
    /// Messenger receipts naming no message ([`watermark::resolve`]).
    pub watermarks: Vec<Watermark>,
    /// Events that gave no row or a NULL, as `ORIGIN: reason`.
    pub skipped: Vec<String>,
    /// Bodies that are not JSON objects: `(index in the input, reason)`.
    pub bad: Vec<(usize, String)>,
}

/// Parses `bodies` with `routes`; see the module docs.
pub fn parse_bodies(bodies: &[Incoming], routes: &Routes) -> Collected {
    let mut out = Collected::default();
    for (i, incoming) in bodies.iter().enumerate() {
        match incoming
            .platform
            .parse(&incoming.raw, incoming.received_at, routes)
        {
            Ok(parsed) => {
                out.messages.extend(parsed.messages);
                out.statuses.extend(parsed.statuses);
                out.conversations.extend(parsed.conversations);
                out.contacts.extend(parsed.contacts);
                out.bodies.push(parsed.body);
                out.unrouted.extend(parsed.unrouted);
                out.comments.extend(parsed.comments);
                out.comment_replies.extend(parsed.comment_replies);
                out.analytics_events.extend(parsed.analytics_events);
                out.contact_events.extend(parsed.contact_events);
                out.watermarks.extend(parsed.watermarks);
                out.skipped.extend(
                    parsed
                        .skipped
                        .into_iter()
                        .map(|why| format!("{}: {why}", incoming.origin)),
                );
            }
            Err(why) => out.bad.push((i, why)),
        }
    }
    out
}

/// Decodes the rows of one table.
fn decode_rows<T: serde::Serialize>(
    table: &'static str,
    rows: &[T],
    ingested_at: i64,
    skipped: &mut Vec<String>,
) -> Result<Option<(&'static TableDef, RecordBatch)>> {
    let Some((def, Decoded { batch, rejects, .. })) = decode_serialized(table, rows, ingested_at)?
    else {
        return Ok(None);
    };
    for reject in rejects {
        skipped.push(format!(
            "a {table} row was refused ({}): {}",
            reject.column.as_deref().unwrap_or("row"),
            reject.reason
        ));
    }
    Ok(Some((def, batch)))
}

/// Serialises `rows` (one NDJSON row of `table` each) and decodes them with [`Decoder`]: the
/// table's checks and derived columns. A refused row's [`crate::ingest::decode::Reject::line`]
/// is its 1-based index in `rows`. `None` when there are no rows.
pub(crate) fn decode_serialized<T: serde::Serialize>(
    table: &'static str,
    rows: &[T],
    ingested_at: i64,
) -> Result<Option<(&'static TableDef, Decoded)>> {
    if rows.is_empty() {
        return Ok(None);
    }
    let def =
        schema::table(table).ok_or_else(|| Error::Config(format!("internal: no table {table}")))?;
    let mut decoder = Decoder::new(def, DecodeOptions::default(), ingested_at)?;
    let mut line = Vec::with_capacity(512);
    for (i, row) in rows.iter().enumerate() {
        line.clear();
        serde_json::to_writer(&mut line, row)
            .map_err(|e| Error::Config(format!("internal: encoding a {table} row: {e}")))?;
        decoder.push_json(i as u64 + 1, &line);
    }
    Ok(Some((def, decoder.finish()?)))
}

impl Collected {
    /// Every table's rows but `contacts` as checked batches (tables without rows left out);
    /// refused rows are added to [`Collected::skipped`].
    pub fn decode(&mut self, ingested_at: i64) -> Result<Vec<(&'static TableDef, RecordBatch)>> {
        let mut skipped = Vec::new();
        let batches = [
            raw_bodies_batch(&self.bodies)?,
            raw_unrouted_batch(&self.unrouted)?,
            decode_rows("messages", &self.messages, ingested_at, &mut skipped)?,
            decode_rows(
                "message_statuses",
                &self.statuses,
                ingested_at,
                &mut skipped,
            )?,
            decode_rows(
                "conversations",
                &self.conversations,
                ingested_at,
                &mut skipped,
            )?,
            decode_rows("comments", &self.comments, ingested_at, &mut skipped)?,
            decode_rows(
                "comment_replies",
                &self.comment_replies,
                ingested_at,
                &mut skipped,
            )?,
            decode_rows(
                "analytics_events",
                &self.analytics_events,
                ingested_at,
                &mut skipped,
            )?,
            decode_rows(
                "contact_events",
                &self.contact_events,
                ingested_at,
                &mut skipped,
            )?,
        ];
        self.skipped.extend(skipped);
        Ok(batches.into_iter().flatten().collect())
    }
}

/// The `webhook_bodies` batch of `rows`, built directly: every value is the parser's own (a
/// raw body escaped into NDJSON and decoded back cost a third of the parsing time).
fn raw_bodies_batch(rows: &[BodyRow]) -> Result<Option<(&'static TableDef, RecordBatch)>> {
    raw_batch("webhook_bodies", rows, |rows| {
        vec![
            optional_text(rows.iter().map(|r| r.tenant_id.as_deref())),
            text(rows.iter().map(|r| r.platform)),
            text(rows.iter().map(|r| r.body_sha256.as_str())),
            micros(rows.iter().map(|r| Some(r.ts))),
            micros(rows.iter().map(|r| Some(r.received_at))),
            optional_text(rows.iter().map(|r| r.phone_number_id.as_deref())),
            text(rows.iter().map(|r| r.body.as_str())),
        ]
    })
}

/// The `webhook_unrouted` batch of `rows`, built directly (see [`raw_bodies_batch`]).
fn raw_unrouted_batch(rows: &[UnroutedRow]) -> Result<Option<(&'static TableDef, RecordBatch)>> {
    raw_batch("webhook_unrouted", rows, |rows| {
        vec![
            optional_text(rows.iter().map(|r| r.tenant_id.as_deref())),
            text(rows.iter().map(|r| r.platform)),
            text(rows.iter().map(|r| r.body_sha256.as_str())),
            optional_text(rows.iter().map(|r| r.phone_number_id.as_deref())),
            text(rows.iter().map(|r| r.reason.as_str())),
            micros(rows.iter().map(|r| Some(r.ts))),
            micros(rows.iter().map(|r| Some(r.received_at))),
            text(rows.iter().map(|r| r.body.as_str())),
        ]
    })
}

/// The batch of lake table `table` whose columns `columns` builds from `rows` (in the
/// schema's order); `None` for no rows.
fn raw_batch<R>(
    table: &str,
    rows: &[R],
    columns: impl FnOnce(&[R]) -> Vec<ArrayRef>,
) -> Result<Option<(&'static TableDef, RecordBatch)>> {
    if rows.is_empty() {
        return Ok(None);
    }
    let def =
        schema::table(table).ok_or_else(|| Error::Config(format!("internal: no table {table}")))?;
    let batch = RecordBatch::try_new(def.schema.clone(), columns(rows))?;
    Ok(Some((def, batch)))
}

/// A text column without nulls.
fn text<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

/// A text column with nulls.
fn optional_text<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter(values))
}

/// A UTC microsecond timestamp column.
fn micros(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from_iter(values).with_timezone("UTC"))
}

/// Decodes merged contact rows ([`merge_contacts`]); refused rows go to `skipped`.
pub fn decode_contacts(
    rows: &[ContactRow],
    ingested_at: i64,
    skipped: &mut Vec<String>,
) -> Result<Option<(&'static TableDef, RecordBatch)>> {
    decode_rows("contacts", rows, ingested_at, skipped)
}

/// A contact's key.
type Key = (String, String, String);

/// One row per contact, completed from the stored `contacts` rows `ctx` reads; see the module docs.
pub async fn merge_contacts(
    ctx: &SessionContext,
    rows: Vec<ContactRow>,
) -> Result<Vec<ContactRow>> {
    let mut merged: Vec<ContactRow> = Vec::new();
    let mut at: HashMap<Key, usize> = HashMap::new();
    for row in rows {
        let key = (
            row.tenant_id.clone(),
            row.channel_id.clone(),
            row.contact_id.clone(),
        );
        match at.get(&key) {
            None => {
                at.insert(key, merged.len());
                merged.push(row);
            }
            Some(&i) => {
                let old = &mut merged[i];
                old.created_at = old.created_at.min(row.created_at);
                if row.updated_at >= old.updated_at {
                    old.updated_at = row.updated_at;
                    old.name = row.name.or(old.name.take());
                    old.wa_id = row.wa_id.or(old.wa_id.take());
                } else {
                    old.name = old.name.take().or(row.name);
                    old.wa_id = old.wa_id.take().or(row.wa_id);
                }
            }
        }
    }
    if merged.is_empty() {
        return Ok(merged);
    }
    let keys = RecordBatch::try_from_iter([
        (
            "tenant_id",
            text(merged.iter().map(|r| r.tenant_id.as_str())),
        ),
        (
            "channel_id",
            text(merged.iter().map(|r| r.channel_id.as_str())),
        ),
        (
            "contact_id",
            text(merged.iter().map(|r| r.contact_id.as_str())),
        ),
    ])?;
    let local = SessionContext::new();
    local.register_batch("webhook_contacts", keys)?;
    local.register_table("contacts", ctx.table_provider("contacts").await?)?;
    let stored = local
        .sql(
            "SELECT c.tenant_id, c.channel_id, c.contact_id, c.wa_id, c.name, c.language, \
             c.provider_status, c.optin_status, c.optin_at, c.optout_at, c.created_at \
             FROM contacts c JOIN webhook_contacts k ON c.tenant_id = k.tenant_id \
             AND c.channel_id = k.channel_id AND c.contact_id = k.contact_id",
        )
        .await?
        .collect()
        .await?;
    for batch in &stored {
        let text = |name: &str| strings(batch, name);
        let (t, c, k) = (text("tenant_id")?, text("channel_id")?, text("contact_id")?);
        let (wa, name, language) = (text("wa_id")?, text("name")?, text("language")?);
        let (provider, optin) = (text("provider_status")?, text("optin_status")?);
        let micros = |i: usize| {
            batch
                .column(i)
                .as_primitive::<TimestampMicrosecondType>()
                .clone()
        };
        let (optin_at, optout_at, created_at) = (micros(8), micros(9), micros(10));
        let get = |a: &arrow::array::TimestampMicrosecondArray, row: usize| {
            use arrow::array::Array;
            (!a.is_null(row)).then(|| a.value(row))
        };
        for row in 0..batch.num_rows() {
            let key = (
                t[row].clone().unwrap_or_default(),
                c[row].clone().unwrap_or_default(),
                k[row].clone().unwrap_or_default(),
            );
            let Some(&i) = at.get(&key) else { continue };
            let ours = &mut merged[i];
            ours.wa_id = ours.wa_id.take().or(wa[row].clone());
            ours.name = ours.name.take().or(name[row].clone());
            ours.language = language[row].clone();
            ours.provider_status = provider[row].clone();
            ours.optin_status = optin[row].clone();
            ours.optin_at = get(&optin_at, row);
            ours.optout_at = get(&optout_at, row);
            if let Some(created) = get(&created_at, row) {
                ours.created_at = ours.created_at.min(created);
            }
        }
    }
    Ok(merged)
}

/// What [`expand`] gives.
#[derive(Debug, Default)]
pub struct Expansion {
    /// Checked batches of every table but `contacts`.
    pub batches: Vec<(&'static TableDef, RecordBatch)>,
    /// Contact profiles, not yet merged ([`contacts_batch`]).
    pub contacts: Vec<ContactRow>,
    /// Bodies that are not JSON objects: `(index in the input, reason, the raw text)`.
    pub bad: Vec<(usize, String, String)>,
    /// Events that gave no row or a NULL, as `ORIGIN: reason`.
    pub skipped: Vec<String>,
    /// Bodies parsed.
    pub bodies: u64,
    /// `webhook_unrouted` rows.
    pub unrouted: u64,
}

/// Parses and decodes `bodies` (on the blocking pool, split over the machine's cores when
/// there are many) with the routes of the `channels` table `ctx` reads; `ingested_at` fills
/// the `ingested_at` columns.
pub async fn expand(
    ctx: &SessionContext,
    bodies: Vec<Incoming>,
    ingested_at: i64,
) -> Result<Expansion> {
    expand_linked(ctx, bodies, ingested_at, &mut Links::default()).await
}

/// [`expand`], with the BSUID links of earlier calls of the same run (not yet committed, as
/// the earlier chunks of one file import) in `links`, to which this call adds its own.
pub async fn expand_linked(
    ctx: &SessionContext,
    bodies: Vec<Incoming>,
    ingested_at: i64,
    links: &mut Links,
) -> Result<Expansion> {
    let routes = Arc::new(Routes::load(ctx).await?);
    let parts = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(bodies.len().div_ceil(PARALLEL_MIN_BODIES))
        .max(1);
    let per_part = bodies.len().div_ceil(parts).max(1);
    let mut tasks = Vec::with_capacity(parts);
    let mut rest = bodies;
    let mut offset = 0;
    while !rest.is_empty() {
        let tail = rest.split_off(per_part.min(rest.len()));
        let part = std::mem::replace(&mut rest, tail);
        let routes = routes.clone();
        let first = offset;
        offset += part.len();
        tasks.push(tokio::task::spawn_blocking(move || {
            parse_part(&part, &routes, first)
        }));
    }
    let mut parsed = Vec::with_capacity(tasks.len());
    let mut bad = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (collected, part_bad) = task
            .await
            .map_err(|e| Error::Config(format!("parsing webhook bodies: {e}")))?;
        parsed.push(collected);
        bad.push(part_bad);
    }
    alias::resolve(ctx, &mut parsed, links).await?;
    let tasks: Vec<_> = parsed
        .into_iter()
        .zip(bad)
        .map(|(collected, bad)| {
            tokio::task::spawn_blocking(move || decode_part(collected, bad, ingested_at))
        })
        .collect();
    let mut out = Expansion::default();
    let (mut watermarks, mut sent) = (Vec::new(), Vec::new());
    for task in tasks {
        let (part, marks, echoes) = task
            .await
            .map_err(|e| Error::Config(format!("decoding webhook rows: {e}")))??;
        watermarks.extend(marks);
        sent.extend(echoes);
        out.batches.extend(part.batches);
        out.contacts.extend(part.contacts);
        out.bad.extend(part.bad);
        out.skipped.extend(part.skipped);
        out.bodies += part.bodies;
        out.unrouted += part.unrouted;
    }
    if !watermarks.is_empty() {
        let receipts = watermark::resolve(ctx, &watermarks, &sent).await?;
        out.batches.extend(decode_rows(
            "message_statuses",
            &receipts,
            ingested_at,
            &mut out.skipped,
        )?);
    }
    Ok(out)
}

/// Below this many bodies per core, one thread parses them all.
pub const PARALLEL_MIN_BODIES: usize = 2_000;

/// A body that is not a JSON object: `(index in the input, reason, the raw text)`.
type Bad = (usize, String, String);

/// [`expand`]'s parsing of one part of the bodies, whose first is body `first` of the input.
fn parse_part(bodies: &[Incoming], routes: &Routes, first: usize) -> (Collected, Vec<Bad>) {
    let mut collected = parse_bodies(bodies, routes);
    let bad = std::mem::take(&mut collected.bad)
        .into_iter()
        .map(|(i, why)| (first + i, why, bodies[i].raw.clone()))
        .collect();
    (collected, bad)
}

/// [`expand`]'s decoding of one part's rows; with the part's Messenger watermarks and outbound
/// messages, which [`expand`] resolves over every part.
fn decode_part(
    mut collected: Collected,
    bad: Vec<Bad>,
    ingested_at: i64,
) -> Result<(Expansion, Vec<Watermark>, Vec<watermark::Sent>)> {
    let sent = watermark::sent(&collected.messages);
    let batches = collected.decode(ingested_at)?;
    let expansion = Expansion {
        batches,
        contacts: std::mem::take(&mut collected.contacts),
        bad,
        skipped: collected.skipped,
        bodies: collected.bodies.len() as u64,
        unrouted: collected.unrouted.len() as u64,
    };
    Ok((expansion, collected.watermarks, sent))
}

/// The `contacts` batch of `rows`: merged ([`merge_contacts`]) and decoded; refused rows go to
/// `skipped`.
pub async fn contacts_batch(
    ctx: &SessionContext,
    rows: Vec<ContactRow>,
    ingested_at: i64,
    skipped: &mut Vec<String>,
) -> Result<Option<(&'static TableDef, RecordBatch)>> {
    if rows.is_empty() {
        return Ok(None);
    }
    let merged = merge_contacts(ctx, rows).await?;
    decode_contacts(&merged, ingested_at, skipped)
}
