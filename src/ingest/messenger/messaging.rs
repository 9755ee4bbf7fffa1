//! One `entry[].messaging[]` event of a Messenger or Instagram body to rows. Times are the
//! event's `timestamp` (epoch milliseconds).
//!
//! | event                                  | row                                           | `msg_type`, `interaction_id`, `body_text` |
//! |----------------------------------------|-----------------------------------------------|-------------------------------------------|
//! | `message` from a user                  | `messages`, `inbound`, contact = `sender.id`   | see below                                 |
//! | `message` with `is_echo: true` (the page's own message) | `messages`, `outbound`, contact = `recipient.id`, `author_type` `agent` (no `app_id`, or Meta's Page Inbox app 263902037430900) else `api`, `author_id` = `app_id` | see below |
//! | `message` with `is_deleted: true` (Instagram: the user unsent it) | none; noted                  |                                           |
//! | `postback` (a button of a template or of the persistent menu) | `messages`, `inbound`; id `postback.mid`, else `postback:` + sender + `:` + timestamp | `button`, `payload`, `title` |
//! | `delivery` with `mids`                 | `message_statuses` `delivered`, one per mid, `ts` = the event's timestamp (else `watermark`) |   |
//! | `read` with `mid` (Instagram)          | `message_statuses` `read` of that message      |                                           |
//! | `read` / `delivery` with only a `watermark` (Messenger) | a [`Watermark`]: resolved against the stored outbound messages of the contact ([`crate::ingest::whatsapp::expand`]) |  |
//! | `reaction` (`message_reactions`)        | `messages`, `inbound`, msg_type `reaction`; id `reaction:` + sender + `:` + timestamp (a reaction has no mid); `context_message_id` = `reaction.mid` (the message reacted to) | `reaction`, no interaction id, `reaction.emoji` (else `reaction.reaction`); NULL when `action` is `unreact` (as a removed WhatsApp reaction) |
//! | `referral` alone (`messaging_referrals`: a user already in the thread opens it again from an ad, an m.me link, the chat plugin) | `analytics_events`: category `referral`, action = `source` lower-cased (`ads`, `shortlink`, `customer_chat_plugin`, ...), label = `ad_id` for an ad, else `ref` | SPEC gives `referral_source_*` to messages only, and this event is no message: it is kept as the custom event a dashboard can count |
//! | `optin` (`messaging_optins`)           | `contact_events` `opted_in`, or `opted_out` when `notification_messages_status` is `STOP_NOTIFICATIONS`; `method` = `optin.type` (`notification_messages`, `one_time_notif_req`; `plugin` when absent: the Send to Messenger plugin), `key`/`value` = `payload` (else `ref`) and its value | an opt-in of a checkbox-plugin user known only by `user_ref` (no PSID yet) is no row; noted |
//! | anything else (`policy_enforcement`, handover, `message_edit`, ...) | none; noted as an unknown event kind (the body stays in `webhook_bodies`) | |
//!
//! A message's type and text:
//!
//! | content                                | `msg_type`     | `interaction_id`        | `body_text`            |
//! |----------------------------------------|----------------|-------------------------|------------------------|
//! | `quick_reply`                          | interactive    | `quick_reply.payload`   | `text` (the reply's title) |
//! | `attachments[0].type` image (a `sticker_id` in its payload: sticker), audio, video, file (document), location | same | | `text`, else the attachment's `title` |
//! | another attachment type (`share`, `story_mention`, `ig_reel`, `template`, `fallback`, ...) | unsupported | | `attachment: TYPE` |
//! | `text` only                            | text           |                         | `text`                 |
//! | `is_unsupported: true`, or nothing     | unsupported    |                         | NULL                   |
//!
//! `context_message_id` is `reply_to.mid`; `referral` with `source = ADS` (click-to-Messenger
//! ads) gives `referral_source_type = 'ad'`, `referral_source_id = ad_id`.

use serde_json::Value;

use super::rows::Watermark;
use crate::ingest::whatsapp::rows::{AnalyticsRow, ContactEventRow, MessageRow, StatusRow};
use crate::ingest::whatsapp::{array, text};

/// The app id Meta's Page Inbox (a person answering in Meta Business Suite) sends echoes with.
pub const PAGE_INBOX_APP_ID: &str = "263902037430900";

/// The rows of one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A message (inbound, or an echo of the page's own).
    Message(Box<MessageRow>),
    /// Delivery or read receipts naming their messages.
    Statuses(Vec<StatusRow>),
    /// A receipt naming only a time.
    Watermark(Watermark),
    /// A referral of a user already in the conversation.
    Analytics(AnalyticsRow),
    /// An opt-in or opt-out.
    ContactEvent(ContactEventRow),
}

/// An epoch time in µs from a number or a string of digits: seconds below 10^11 (before the
/// year 5138), milliseconds from there (Meta sends both: `timestamp` of messaging events in
/// ms, `created_time` and `entry[].time` of changes in seconds).
pub fn epoch(v: Option<&Value>) -> Option<i64> {
    let n = match v? {
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    match n {
        0..100_000_000_000 => Some(n * 1_000_000),
        100_000_000_000..100_000_000_000_000 => Some(n * 1_000),
        _ => None,
    }
}

/// An id member that may be a string or a number.
pub(super) fn id_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The rows of messaging event `e` of `tenant_id`/`channel_id`, or why it gives none.
pub fn event_rows(e: &Value, tenant_id: &str, channel_id: &str) -> Result<Event, String> {
    let sender = id_of(e.get("sender").and_then(|s| s.get("id")));
    let recipient = id_of(e.get("recipient").and_then(|s| s.get("id")));
    let ts = epoch(e.get("timestamp"));
    if let Some(m) = e.get("message") {
        return message(m, e, tenant_id, channel_id, sender, recipient, ts).map(Event::Message);
    }
    if let Some(p) = e.get("postback") {
        let sender = sender.ok_or("a postback without sender.id")?;
        let ts = ts.ok_or_else(|| format!("a postback of {sender}: no usable timestamp"))?;
        let id = text(p, &["mid"]).map_or_else(
            || format!("postback:{sender}:{}", ts / 1_000),
            str::to_string,
        );
        let (referral_source_type, referral_source_id) = referral(p.get("referral"));
        return Ok(Event::Message(Box::new(MessageRow {
            tenant_id: tenant_id.to_string(),
            channel_id: channel_id.to_string(),
            message_id: id,
            direction: "inbound",
            ts,
            contact_id: sender,
            msg_type: "button",
            interaction_id: owned(text(p, &["payload"])),
            body_text: owned(text(p, &["title"])),
            referral_source_type,
            referral_source_id,
            ..MessageRow::default()
        })));
    }
    if let Some(r) = e.get("reaction") {
        return reaction(r, tenant_id, channel_id, sender, ts);
    }
    if let Some(r) = e.get("referral") {
        let sender = sender.ok_or("a referral without sender.id")?;
        let ts = ts.ok_or_else(|| format!("a referral of {sender}: no usable timestamp"))?;
        let source = text(r, &["source"])
            .unwrap_or("unknown")
            .to_ascii_lowercase();
        let label = if source == "ads" {
            id_of(r.get("ad_id"))
        } else {
            owned(text(r, &["ref"]))
        };
        return Ok(Event::Analytics(AnalyticsRow {
            tenant_id: tenant_id.to_string(),
            channel_id: channel_id.to_string(),
            contact_id: sender,
            ts,
            category: "referral",
            action: source,
            label,
            value: None,
        }));
    }
    if let Some(o) = e.get("optin") {
        return optin(o, tenant_id, channel_id, sender, ts);
    }
    for (member, status) in [("delivery", "delivered"), ("read", "read")] {
        let Some(receipt) = e.get(member) else {
            continue;
        };
        let watermark = epoch(receipt.get("watermark"));
        let at = ts
            .or(watermark)
            .ok_or_else(|| format!("a {member} without timestamp or watermark"))?;
        let mut mids: Vec<&str> = array(receipt, "mids")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        mids.extend(text(receipt, &["mid"]));
        if !mids.is_empty() {
            return Ok(Event::Statuses(
                mids.into_iter()
                    .map(|mid| StatusRow {
                        tenant_id: tenant_id.to_string(),
                        channel_id: channel_id.to_string(),
                        message_id: mid.to_string(),
                        status: status.to_string(),
                        ts: at,
                        ..StatusRow::default()
                    })
                    .collect(),
            ));
        }
        let contact = sender.ok_or_else(|| format!("a {member} without sender.id"))?;
        let watermark =
            watermark.ok_or_else(|| format!("a {member} of {contact} names no message"))?;
        return Ok(Event::Watermark(Watermark {
            tenant_id: tenant_id.to_string(),
            channel_id: channel_id.to_string(),
            contact_id: contact,
            status,
            watermark,
            ts: at,
        }));
    }
    let kind = e
        .as_object()
        .and_then(|o| {
            o.keys()
                .find(|k| !matches!(k.as_str(), "sender" | "recipient" | "timestamp"))
        })
        .map_or("(none)", String::as_str);
    Err(format!("unknown event kind: {kind}"))
}

/// The row of `reaction` member `r` of an event of `sender` at `ts`; see the module docs.
fn reaction(
    r: &Value,
    tenant_id: &str,
    channel_id: &str,
    sender: Option<String>,
    ts: Option<i64>,
) -> Result<Event, String> {
    let sender = sender.ok_or("a reaction without sender.id")?;
    let ts = ts.ok_or_else(|| format!("a reaction of {sender}: no usable timestamp"))?;
    let removed = text(r, &["action"]) == Some("unreact");
    Ok(Event::Message(Box::new(MessageRow {
        tenant_id: tenant_id.to_string(),
        channel_id: channel_id.to_string(),
        message_id: format!("reaction:{sender}:{}", ts / 1_000),
        direction: "inbound",
        ts,
        contact_id: sender,
        msg_type: "reaction",
        context_message_id: owned(text(r, &["mid"])),
        body_text: if removed {
            None
        } else {
            owned(text(r, &["emoji"]).or(text(r, &["reaction"])))
        },
        ..MessageRow::default()
    })))
}

/// The row of `optin` member `o` of an event of `sender` at `ts`; see the module docs.
fn optin(
    o: &Value,
    tenant_id: &str,
    channel_id: &str,
    sender: Option<String>,
    ts: Option<i64>,
) -> Result<Event, String> {
    let sender = sender.ok_or_else(|| match text(o, &["user_ref"]) {
        Some(r) => format!("an optin of user_ref {r} only (no PSID yet)"),
        None => "an optin without sender.id".to_string(),
    })?;
    let ts = ts.ok_or_else(|| format!("an optin of {sender}: no usable timestamp"))?;
    let stopped = text(o, &["notification_messages_status"]) == Some("STOP_NOTIFICATIONS");
    let (key, value) = match (text(o, &["payload"]), text(o, &["ref"])) {
        (Some(p), _) => (Some("payload"), Some(p)),
        (None, Some(r)) => (Some("ref"), Some(r)),
        (None, None) => (None, None),
    };
    Ok(Event::ContactEvent(ContactEventRow {
        tenant_id: tenant_id.to_string(),
        channel_id: channel_id.to_string(),
        contact_id: sender,
        ts,
        event_type: if stopped { "opted_out" } else { "opted_in" },
        method: Some(text(o, &["type"]).unwrap_or("plugin").to_string()),
        key: key.map(str::to_string),
        value: value.map(str::to_string),
    }))
}

/// A non-empty string, owned.
fn owned(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

/// `(referral_source_type, referral_source_id)` of a `referral` object: an ad when `source` is
/// `ADS`.
fn referral(r: Option<&Value>) -> (Option<String>, Option<String>) {
    match r {
        Some(r) if text(r, &["source"]).is_some_and(|s| s.eq_ignore_ascii_case("ADS")) => {
            (Some("ad".to_string()), id_of(r.get("ad_id")))
        }
        _ => (None, None),
    }
}

/// The row of `message` member `m` of event `e`.
fn message(
    m: &Value,
    e: &Value,
    tenant_id: &str,
    channel_id: &str,
    sender: Option<String>,
    recipient: Option<String>,
    ts: Option<i64>,
) -> Result<Box<MessageRow>, String> {
    let id = text(m, &["mid"]).ok_or("a message without a mid")?;
    let ts = ts.ok_or_else(|| format!("message {id}: no usable timestamp"))?;
    if m.get("is_deleted").and_then(Value::as_bool) == Some(true) {
        return Err(format!("message {id} was deleted by its sender (no row)"));
    }
    let echo = m.get("is_echo").and_then(Value::as_bool) == Some(true);
    let contact = if echo { recipient } else { sender };
    let contact = contact.ok_or_else(|| {
        format!(
            "message {id}: no {}.id names the user",
            if echo { "recipient" } else { "sender" }
        )
    })?;
    let (msg_type, interaction_id, body_text) = classify(m);
    let app_id = id_of(m.get("app_id"));
    let (referral_source_type, referral_source_id) =
        referral(m.get("referral").or(e.get("referral")));
    Ok(Box::new(MessageRow {
        tenant_id: tenant_id.to_string(),
        channel_id: channel_id.to_string(),
        message_id: id.to_string(),
        direction: if echo { "outbound" } else { "inbound" },
        ts,
        contact_id: contact,
        wa_id: None,
        msg_type,
        interaction_id,
        context_message_id: owned(text(m, &["reply_to", "mid"])),
        referral_source_type,
        referral_source_id,
        body_text,
        author_type: echo.then_some(match app_id.as_deref() {
            None | Some(PAGE_INBOX_APP_ID) => "agent",
            Some(_) => "api",
        }),
        author_id: if echo { app_id } else { None },
        bsuid: None,
    }))
}

/// `(msg_type, interaction_id, body_text)` of message `m`; see the module docs.
fn classify(m: &Value) -> (&'static str, Option<String>, Option<String>) {
    let said = owned(text(m, &["text"]));
    if let Some(payload) = text(m, &["quick_reply", "payload"]) {
        return ("interactive", owned(Some(payload)), said);
    }
    if let Some(first) = array(m, "attachments").first() {
        let kind = text(first, &["type"]).unwrap_or("");
        let title = || said.clone().or_else(|| owned(text(first, &["title"])));
        let sticker = first
            .get("payload")
            .is_some_and(|p| p.get("sticker_id").is_some());
        return match kind {
            "image" if sticker => ("sticker", None, title()),
            "image" => ("image", None, title()),
            "audio" => ("audio", None, title()),
            "video" => ("video", None, title()),
            "file" => ("document", None, title()),
            "location" => ("location", None, title()),
            other => ("unsupported", None, Some(format!("attachment: {other}"))),
        };
    }
    if m.get("is_unsupported").and_then(Value::as_bool) == Some(true) {
        return ("unsupported", None, None);
    }
    match said {
        Some(said) => ("text", None, Some(said)),
        None => ("unsupported", None, None),
    }
}
