//! WhatsApp Cloud API webhooks (`object = "whatsapp_business_account"`, also what 360dialog
//! forwards) to lake rows: the parser, routing, and the two ways bodies arrive.
//!
//! | module        | job                                                                              |
//! |---------------|----------------------------------------------------------------------------------|
//! | [`rows`]      | one struct per table a body feeds, and the `contact_id` of a WhatsApp user        |
//! | [`alias`]     | a user's business-scoped user id (BSUID) to one `contact_id` over all bodies, whatever the order of phone-number and username-only sightings |
//! | [`message`]   | an inbound message (every type of SPEC section 3) to a `messages` row              |
//! | [`status`]    | a status callback to a `message_statuses` row and its `conversations` row          |
//! | [`route`]     | `metadata.phone_number_id` to the tenant and channel of the `channels` row having it |
//! | [`expand`]    | many bodies to decoded batches per table (validation and derived columns of [`crate::ingest::decode`]), contacts merged with the stored ones |
//! | [`import`]    | `chatlake ingest --format whatsapp-webhook FILES`                                  |
//! | [`receiver`]  | `GET`/`POST /webhooks/whatsapp` on the ingest listener                            |
//!
//! [`parse`] reads one body (reference 5.4):
//!
//! | part of the body                                   | goes to                                        |
//! |----------------------------------------------------|------------------------------------------------|
//! | the whole body, always                             | `webhook_bodies` (raw text, SHA-256, `ts` = the earliest message or status `timestamp` of its `messages` changes, routed or not, else the receipt time) |
//! | `entry[].changes[]` with `field = "messages"` whose phone number a channel has | the rows below, in that channel |
//! | - `value.messages[]`                               | `messages` (inbound)                           |
//! | - `value.contacts[]` (profiles)                    | `contacts` (upserted)                          |
//! | - `value.statuses[]`                               | `message_statuses`, and `conversations` when a conversation with its expiry is given |
//! | such a change whose phone number no channel has, or two channels have; a body whose `object` is not `whatsapp_business_account` | `webhook_unrouted` (raw body, phone number id, reason), one row per phone number |
//! | changes of other fields (`message_template_status_update`, `account_update`, ...), unknown members | ignored (the body stays in `webhook_bodies`) |
//! | an event that cannot be a row (no id, no timestamp, an unknown `status`) | skipped, with a note saying why ([`Parsed::skipped`]) |
//!
//! Only text that is not JSON, or JSON that is not an object, is refused as a whole.

pub mod alias;
pub mod expand;
pub mod import;
pub mod message;
pub mod receiver;
pub mod route;
pub mod rows;
pub mod status;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;
use sha2::{Digest, Sha256};

use route::{Route, Routes};
use rows::{BodyRow, ContactRow, ConversationRow, MessageRow, StatusRow, UnroutedRow, contact_id};

/// The `object` of a WhatsApp Cloud API body.
pub const OBJECT: &str = "whatsapp_business_account";
/// The `platform` of this source's `webhook_bodies` and `webhook_unrouted` rows.
pub const PLATFORM: &str = "whatsapp";

/// The rows of one body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// Inbound messages.
    pub messages: Vec<MessageRow>,
    /// Status callbacks.
    pub statuses: Vec<StatusRow>,
    /// Conversations the callbacks reported.
    pub conversations: Vec<ConversationRow>,
    /// Contact profiles (the columns webhooks do not carry are NULL until [`expand`] merges
    /// them with the stored row).
    pub contacts: Vec<ContactRow>,
    /// The body itself.
    pub body: BodyRow,
    /// Parts of the body no channel takes.
    pub unrouted: Vec<UnroutedRow>,
    /// Facebook/Instagram comments (Messenger and Instagram bodies).
    pub comments: Vec<crate::ingest::messenger::rows::CommentRow>,
    /// The page's (account's) public replies to comments.
    pub comment_replies: Vec<crate::ingest::messenger::rows::CommentReplyRow>,
    /// Messenger referrals of users already in the conversation.
    pub analytics_events: Vec<rows::AnalyticsRow>,
    /// Messenger opt-ins and opt-outs.
    pub contact_events: Vec<rows::ContactEventRow>,
    /// Messenger reads and deliveries naming no message, only a time up to which everything
    /// was read or delivered (resolved against the stored messages by [`expand`]).
    pub watermarks: Vec<crate::ingest::messenger::rows::Watermark>,
    /// Events that gave no row, and values stored as NULL, each with the reason.
    pub skipped: Vec<String>,
}

impl Parsed {
    /// Completes the rows of a body of `platform` whose event times start at `ts`: one
    /// `webhook_unrouted` row per id of `unrouted` (`(id, reason)`, in body order, the first
    /// reason of an id kept), and the `webhook_bodies` row, whose tenant is the one tenant of
    /// `tenants` when nothing is unrouted. Shared by every platform's parser.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn finish(
        &mut self,
        platform: &'static str,
        raw: &str,
        sha: String,
        received_at: i64,
        ts: i64,
        unrouted: Vec<(Option<String>, String)>,
        tenants: BTreeSet<String>,
        first_id: Option<String>,
    ) {
        let mut seen = BTreeSet::new();
        for (id, reason) in unrouted {
            if seen.insert(id.clone()) {
                self.unrouted.push(UnroutedRow {
                    tenant_id: None,
                    platform,
                    body_sha256: sha.clone(),
                    phone_number_id: id,
                    reason,
                    ts,
                    received_at,
                    body: raw.to_string(),
                });
            }
        }
        self.body = BodyRow {
            // A tenant sees the raw body only when all of it is its own.
            tenant_id: (tenants.len() == 1 && self.unrouted.is_empty())
                .then(|| tenants.into_iter().next())
                .flatten(),
            platform,
            body_sha256: sha,
            ts,
            received_at,
            phone_number_id: first_id,
            body: raw.to_string(),
        };
    }
}

/// Parses one raw body received at `received_at` (µs since the epoch), routing its changes with
/// `routes`. Fails only when `raw` is not a JSON object; see the module docs.
pub fn parse(raw: &str, received_at: i64, routes: &Routes) -> Result<Parsed, String> {
    let value: Value = serde_json::from_str(raw).map_err(|e| format!("invalid JSON: {e}"))?;
    if !value.is_object() {
        return Err("not a webhook body: the JSON is not an object".to_string());
    }
    let sha = sha256_hex(raw.as_bytes());
    let mut out = Parsed::default();
    // (phone number id, reason) of the parts not routed, in body order.
    let mut unrouted: Vec<(Option<String>, String)> = Vec::new();
    let mut tenants = BTreeSet::new();
    let mut first_phone: Option<String> = None;
    let mut earliest: Option<i64> = None;
    // Contacts seen: key -> (created, updated) from their messages.
    let mut contact_times: HashMap<(String, String, String), (i64, i64)> = HashMap::new();

    match text(&value, &["object"]) {
        Some(OBJECT) => {}
        other => unrouted.push((
            None,
            match other {
                Some(o) => format!("object is '{o}', not {OBJECT}"),
                None => format!("the body has no object member (expected {OBJECT})"),
            },
        )),
    }
    let entries = match text(&value, &["object"]) {
        Some(OBJECT) => array(&value, "entry"),
        _ => &[],
    };
    for entry in entries {
        let waba_id = text(entry, &["id"]);
        for change in array(entry, "changes") {
            if text(change, &["field"]) != Some("messages") {
                continue;
            }
            let Some(v) = change.get("value") else {
                continue;
            };
            // Event times count whether or not the change is routed: a redelivered body then
            // falls in the same `dt` partition, where its duplicate is looked for.
            let times = array(v, "messages")
                .iter()
                .chain(array(v, "statuses"))
                .filter_map(|e| stamp(e.get("timestamp")));
            earliest = times.fold(earliest, |at, t| Some(at.map_or(t, |a: i64| a.min(t))));
            let phone = text(v, &["metadata", "phone_number_id"]);
            if first_phone.is_none() {
                first_phone = phone.map(str::to_string);
            }
            let (tenant_id, channel_id) = match phone.map(|p| (p, routes.route(p))) {
                None => {
                    unrouted.push((
                        None,
                        "a messages change without metadata.phone_number_id".into(),
                    ));
                    continue;
                }
                Some((p, Route::Unknown)) => {
                    unrouted.push((
                        Some(p.into()),
                        format!("phone_number_id {p} is in no channels row"),
                    ));
                    continue;
                }
                Some((p, Route::Ambiguous(n))) => {
                    unrouted.push((
                        Some(p.into()),
                        format!(
                            "phone_number_id {p} is in {n} channels rows: the tenant is unclear"
                        ),
                    ));
                    continue;
                }
                Some((
                    _,
                    Route::Channel {
                        tenant_id,
                        channel_id,
                    },
                )) => (tenant_id, channel_id),
            };
            tenants.insert(tenant_id.to_string());
            let wa_of_user: HashMap<String, String> = array(v, "contacts")
                .iter()
                .filter_map(|c| {
                    Some((
                        text(c, &["user_id"])?.to_string(),
                        text(c, &["wa_id"])?.to_string(),
                    ))
                })
                .collect();
            for m in array(v, "messages") {
                match message::message_row(m, tenant_id, channel_id, &wa_of_user) {
                    Ok(row) => {
                        let key = (
                            tenant_id.to_string(),
                            channel_id.to_string(),
                            row.contact_id.clone(),
                        );
                        let times = contact_times.entry(key).or_insert((row.ts, row.ts));
                        times.0 = times.0.min(row.ts);
                        times.1 = times.1.max(row.ts);
                        out.messages.push(row);
                    }
                    Err(why) => out.skipped.push(why),
                }
            }
            for c in array(v, "contacts") {
                let wa_id = text(c, &["wa_id"]).map(|w| w.trim_start_matches('+').to_string());
                let bsuid = text(c, &["user_id"]);
                let Some(id) = contact_id(wa_id.as_deref(), bsuid) else {
                    out.skipped
                        .push("a contact profile with neither wa_id nor user_id".into());
                    continue;
                };
                out.contacts.push(ContactRow {
                    tenant_id: tenant_id.to_string(),
                    channel_id: channel_id.to_string(),
                    contact_id: id,
                    wa_id,
                    name: text(c, &["profile", "name"])
                        .or(text(c, &["profile", "username"]))
                        .map(str::to_string),
                    bsuid: bsuid.map(str::to_string),
                    ..ContactRow::default()
                });
            }
            for s in array(v, "statuses") {
                match status::status_rows(s, tenant_id, channel_id, waba_id, &mut out.skipped) {
                    Ok((row, conversation)) => {
                        out.statuses.push(row);
                        out.conversations.extend(conversation);
                    }
                    Err(why) => out.skipped.push(why),
                }
            }
        }
    }
    let ts = earliest.unwrap_or(received_at);
    for contact in &mut out.contacts {
        let key = (
            contact.tenant_id.clone(),
            contact.channel_id.clone(),
            contact.contact_id.clone(),
        );
        let (created, updated) = contact_times.get(&key).copied().unwrap_or((ts, ts));
        contact.created_at = created;
        contact.updated_at = updated;
    }
    out.finish(
        PLATFORM,
        raw,
        sha,
        received_at,
        ts,
        unrouted,
        tenants,
        first_phone,
    );
    Ok(out)
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// The string at `path` under `v` (object members), if it is one.
pub(crate) fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut at = v;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str()
}

/// The array member `key` of `v`, or nothing.
pub(crate) fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A webhook timestamp (unix seconds, as a string of digits or a number) in µs; `None` when
/// absent, not a number, or outside 1970..5138.
fn stamp(v: Option<&Value>) -> Option<i64> {
    let seconds = match v? {
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    (0..100_000_000_000)
        .contains(&seconds)
        .then(|| seconds * 1_000_000)
}
