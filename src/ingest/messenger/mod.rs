//! Messenger (`object = "page"`) and Instagram (`object = "instagram"`) webhooks to lake rows.
//! Body storage, routing, decoding, the file import and the receiver are the WhatsApp ones
//! ([`crate::ingest::whatsapp`]), chosen by [`Platform`].
//!
//! | module         | job                                                                   |
//! |----------------|-----------------------------------------------------------------------|
//! | [`rows`]       | the `comments` and `comment_replies` rows and the read/delivery watermark |
//! | [`messaging`]  | an `entry[].messaging[]` event: messages, echoes, postbacks, reactions, receipts, referrals, opt-ins |
//! | [`comments`]   | an `entry[].changes[]`: page `feed` and Instagram `comments` to `comments` and `comment_replies` |
//! | [`watermark`]  | Messenger receipts naming no message to the statuses of the messages they cover |
//!
//! [`parse`] reads one body:
//!
//! | part of the body                                   | goes to                                        |
//! |----------------------------------------------------|------------------------------------------------|
//! | the whole body, always                             | `webhook_bodies` (`platform` `messenger`/`instagram`, `phone_number_id` = the first `entry[].id`, `ts` = the earliest event time (an event's `timestamp` or `created_time`, else its entry's `time`), else the receipt time) |
//! | an `entry[]` whose `id` is the `page_id` of one `channels` row of that `channel_type` | its `messaging[]` ([`messaging`]) and `changes[]` ([`comments`]) in that channel |
//! | an entry whose id no such channel has, or two have; a body whose `object` is not the platform's | `webhook_unrouted` (raw body, the entry id, reason), one row per id |
//! | - the page's own public reply to a comment          | `comment_replies` ([`comments`])               |
//! | `standby[]` (handover protocol), unknown event kinds and change fields | no row; noted and counted (the body stays in `webhook_bodies`) |
//! | unknown members                                    | ignored                                        |
//!
//! Messenger users have no phone number: `contact_id` is the page-scoped (PSID) or
//! Instagram-scoped (IGSID) user id, `wa_id` is NULL, and no `contacts` row is written (the
//! webhooks carry no profile).

pub mod comments;
pub mod messaging;
pub mod rows;
pub mod watermark;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use serde_json::Value;

use crate::ingest::webhook::Platform;
use crate::ingest::whatsapp::route::{Route, Routes};
use crate::ingest::whatsapp::{Parsed, array, sha256_hex, text};
use comments::{Change, change_row};
use messaging::{Event, epoch, event_rows, id_of};

/// Parses one raw body of `platform` (Messenger or Instagram) received at `received_at` (µs),
/// routing its entries with `routes`. Fails only when `raw` is not a JSON object; see the
/// module docs.
pub fn parse(
    platform: Platform,
    raw: &str,
    received_at: i64,
    routes: &Routes,
) -> Result<Parsed, String> {
    let value: Value = serde_json::from_str(raw).map_err(|e| format!("invalid JSON: {e}"))?;
    if !value.is_object() {
        return Err("not a webhook body: the JSON is not an object".to_string());
    }
    let mut out = Parsed::default();
    let mut unrouted: Vec<(Option<String>, String)> = Vec::new();
    let mut tenants = BTreeSet::new();
    let mut first_id: Option<String> = None;
    let mut earliest: Option<i64> = None;
    let object = platform.object();
    let entries = match text(&value, &["object"]) {
        Some(o) if o == object => array(&value, "entry"),
        other => {
            unrouted.push((
                None,
                match other {
                    Some(o) => format!("object is '{o}', not {object}"),
                    None => format!("the body has no object member (expected {object})"),
                },
            ));
            &[]
        }
    };
    for entry in entries {
        let entry_time = epoch(entry.get("time"));
        // Event times count whether or not the entry is routed: a redelivered body then falls
        // in the same `dt` partition, where its duplicate is looked for.
        let times = array(entry, "messaging")
            .iter()
            .map(|e| epoch(e.get("timestamp")).or(entry_time))
            .chain(array(entry, "changes").iter().map(|c| {
                c.get("value")
                    .and_then(|v| epoch(v.get("created_time")))
                    .or(entry_time)
            }))
            .flatten();
        earliest = times.fold(earliest, |at, t| Some(at.map_or(t, |a: i64| a.min(t))));
        let Some(owner) = id_of(entry.get("id")) else {
            unrouted.push((None, "an entry without id".into()));
            continue;
        };
        if first_id.is_none() {
            first_id = Some(owner.clone());
        }
        let kind = platform.name();
        let (tenant_id, channel_id) = match routes.route_page(kind, &owner) {
            Route::Unknown => {
                unrouted.push((
                    Some(owner.clone()),
                    format!("page_id {owner} is in no {kind} channels row"),
                ));
                continue;
            }
            Route::Ambiguous(n) => {
                unrouted.push((
                    Some(owner.clone()),
                    format!(
                        "page_id {owner} is in {n} {kind} channels rows: the tenant is unclear"
                    ),
                ));
                continue;
            }
            Route::Channel {
                tenant_id,
                channel_id,
            } => (tenant_id, channel_id),
        };
        tenants.insert(tenant_id.to_string());
        for e in array(entry, "messaging") {
            match event_rows(e, tenant_id, channel_id) {
                Ok(Event::Message(row)) => out.messages.push(*row),
                Ok(Event::Statuses(rows)) => out.statuses.extend(rows),
                Ok(Event::Watermark(w)) => out.watermarks.push(w),
                Ok(Event::Analytics(row)) => out.analytics_events.push(row),
                Ok(Event::ContactEvent(row)) => out.contact_events.push(row),
                Err(why) => out.skipped.push(why),
            }
        }
        for c in array(entry, "changes") {
            match change_row(platform, c, &owner, entry_time, tenant_id, channel_id) {
                Ok(Change::Comment(row)) => out.comments.push(*row),
                Ok(Change::Reply(row)) => out.comment_replies.push(*row),
                Ok(Change::Ignored(why)) | Err(why) => out.skipped.push(why),
            }
        }
        if !array(entry, "standby").is_empty() {
            out.skipped.push(format!(
                "unknown event kind: {} standby events (handover protocol)",
                array(entry, "standby").len()
            ));
        }
    }
    let ts = earliest.unwrap_or(received_at);
    let sha = sha256_hex(raw.as_bytes());
    out.finish(
        platform.name(),
        raw,
        sha,
        received_at,
        ts,
        unrouted,
        tenants,
        first_id,
    );
    Ok(out)
}
