//! Glific `messages` to `messages` and, for outbound messages, `message_statuses`.
//!
//! | Glific column                  | chatlake                                                      |
//! |--------------------------------|---------------------------------------------------------------|
//! | `id`                           | `message_id` (and the version key)                            |
//! | `flow` (`inbound`/`outbound`)  | `direction`                                                   |
//! | `inserted_at`                  | `ts`                                                          |
//! | `contact_phone`                | `contact_id` (without `+`), `wa_id` (when all digits)          |
//! | `type`                         | `msg_type`: text, image, audio, video, document, sticker, location as they are; contact → contacts; hsm → template; quick_reply, list, location_request_message, poll, whatsapp_form_response → interactive; anything else → unsupported |
//! | `is_hsm` (or `type = hsm`)     | `is_template`                                                 |
//! | `template_uuid`                | `template_name` (Glific exports no template name)              |
//! | `message_broadcast_id`, else `flow_broadcast_id` | `campaign_id`; the sender is then `broadcast`  |
//! | `flow_uuid`, else `flow_id`    | `flow_id`; a flow's message (no broadcast) has `author_type = flow` |
//! | `user_phone`                   | otherwise an agent's message: `author_type = agent`, `author_id` = the phone; none of these: `automation` |
//! | `context_message_id`           | `context_message_id`                                          |
//! | `body`                         | `body_text`                                                   |
//! | `bsp_status`, else `status`; `sent_at`, `updated_at` | outbound only, `message_statuses` ([`statuses`]) |
//! | `errors` (JSON)                | `error_code` / `error_title` of the `failed` status: `payload.payload.code`/`reason` (Gupshup), else `code`/`title`/`message` |
//!
//! Dropped: `uuid`, `sender_phone`, `receiver_phone`, `contact_name`, `user_name`, `media_url`,
//! `gcs_url`, `tags_label`, `flow_label`, `flow_name`, `longitude`, `latitude`,
//! `interactive_template_id`, `group_message_id`, `media_id`, `profile_id`, `group_id`,
//! `group_name`, `bq_*`.

use serde_json::Value;

use super::Target;
use super::row::{Row, RowError, contact_of_phone};
use super::rows::MessageRow;
use crate::ingest::whatsapp::rows::StatusRow;

/// What one `messages` row gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// The message.
    pub message: MessageRow,
    /// Its statuses (outbound only).
    pub statuses: Vec<StatusRow>,
}

/// Maps one row; returns its `id`, `updated_at` and rows.
pub fn map(row: &Row, target: &Target) -> Result<(String, Option<i64>, Mapped), RowError> {
    let id = row.required_id("id")?;
    let direction = match row.required_text("flow")?.as_str() {
        d @ ("inbound" | "outbound") => d.to_string(),
        other => {
            return Err(RowError::column(
                "flow",
                format!("'{other}' is neither inbound nor outbound"),
            ));
        }
    };
    let ts = row.required_time("inserted_at")?;
    let updated_at = row.local_time("updated_at")?;
    let (contact_id, wa_id) = contact_of_phone(&row.required_text("contact_phone")?);
    let glific_type = row.required_text("type")?;
    let is_template = row.boolean("is_hsm")?.unwrap_or(false) || glific_type == "hsm";
    let flow_id = match row.text("flow_uuid")? {
        Some(uuid) => Some(uuid),
        None => row.text("flow_id")?,
    };
    let campaign_id = match row.id("message_broadcast_id")? {
        Some(id) => Some(id),
        None => row.id("flow_broadcast_id")?,
    };
    let user_phone = row.text("user_phone")?;
    let (author_type, author_id) = if direction == "inbound" {
        ("contact", None)
    } else if campaign_id.is_some() {
        ("broadcast", campaign_id.clone())
    } else if flow_id.is_some() {
        ("flow", flow_id.clone())
    } else if user_phone.is_some() {
        ("agent", user_phone)
    } else {
        ("automation", None)
    };
    let message = MessageRow {
        tenant_id: target.tenant_id.clone(),
        channel_id: target.channel_id.clone(),
        message_id: id.clone(),
        direction,
        ts,
        contact_id,
        wa_id,
        msg_type: msg_type(&glific_type, is_template),
        is_template,
        template_name: row.text("template_uuid")?,
        author_type,
        author_id,
        flow_id,
        campaign_id,
        context_message_id: row.id("context_message_id")?,
        body_text: row.text("body")?,
    };
    let statuses = if message.direction == "outbound" {
        statuses(row, target, &id, updated_at.unwrap_or(ts))?
    } else {
        Vec::new()
    };
    Ok((id, updated_at, Mapped { message, statuses }))
}

/// SPEC section 3's `msg_type` of a Glific `type`.
fn msg_type(glific: &str, is_template: bool) -> &'static str {
    if is_template {
        return "template";
    }
    match glific {
        "text" => "text",
        "image" => "image",
        "audio" => "audio",
        "video" => "video",
        "document" => "document",
        "sticker" => "sticker",
        "location" => "location",
        "contact" => "contacts",
        "hsm" => "template",
        "quick_reply" | "list" | "location_request_message" | "poll" | "whatsapp_form_response" => {
            "interactive"
        }
        _ => "unsupported",
    }
}

/// The statuses of an outbound message's latest version, last updated at `updated_at`:
///
/// | `bsp_status`, else `status`            | rows                                                   |
/// |----------------------------------------|--------------------------------------------------------|
/// | enqueued                               | `accepted` at `updated_at`                              |
/// | sent                                   | `sent` at `sent_at` (else `updated_at`)                 |
/// | delivered / reached, read / seen, played, deleted | `sent` at `sent_at` (when set), then `delivered`, `read`, `played`, `deleted` at `updated_at` |
/// | error, contact_opt_out                 | `sent` at `sent_at` (when set), then `failed` at `updated_at` with the error of `errors` |
/// | received, NULL                         | none                                                   |
///
/// Glific keeps the latest state only: a message read keeps no trace of its `delivered` time
/// (`message_delivery` counts `read` as delivered).
fn statuses(
    row: &Row,
    target: &Target,
    message_id: &str,
    updated_at: i64,
) -> Result<Vec<StatusRow>, RowError> {
    let (column, state) = match row.text("bsp_status")? {
        Some(s) => ("bsp_status", s),
        None => match row.text("status")? {
            Some(s) => ("status", s),
            None => return Ok(Vec::new()),
        },
    };
    let last = match state.as_str() {
        "enqueued" => "accepted",
        "sent" => "sent",
        "delivered" | "reached" => "delivered",
        "read" | "seen" => "read",
        "played" => "played",
        "deleted" => "deleted",
        "error" | "contact_opt_out" => "failed",
        "received" => return Ok(Vec::new()),
        other => {
            return Err(RowError::column(
                column,
                format!("'{other}' is not a Glific message status"),
            ));
        }
    };
    let status = |status: &str, ts: i64| StatusRow {
        tenant_id: target.tenant_id.clone(),
        channel_id: target.channel_id.clone(),
        message_id: message_id.to_string(),
        status: status.to_string(),
        ts,
        ..StatusRow::default()
    };
    let sent_at = row.local_time("sent_at")?;
    let mut out = Vec::new();
    match (last, sent_at) {
        ("accepted", _) => out.push(status("accepted", updated_at)),
        ("sent", at) => out.push(status("sent", at.unwrap_or(updated_at))),
        (last, at) => {
            if let Some(at) = at {
                out.push(status("sent", at));
            }
            let mut final_row = status(last, updated_at);
            if last == "failed" {
                let (code, title) = error_of(row.text("errors")?.as_deref(), &state);
                final_row.error_code = code;
                final_row.error_title = title;
            }
            out.push(final_row);
        }
    }
    Ok(out)
}

/// The code and title of Glific's `errors` JSON (`{}` or NULL: none; text that is not JSON:
/// the title). `contact_opt_out` without an error says so.
fn error_of(errors: Option<&str>, state: &str) -> (Option<i64>, Option<String>) {
    let fallback = (state == "contact_opt_out").then(|| "contact opted out".to_string());
    let Some(text) = errors
        .map(str::trim)
        .filter(|t| !t.is_empty() && *t != "{}")
    else {
        return (None, fallback);
    };
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return (None, Some(text.to_string()));
    };
    let at = |path: &[&str]| {
        let mut v = &value;
        for key in path {
            v = v.get(key)?;
        }
        Some(v)
    };
    let code = [
        &["payload", "payload", "code"][..],
        &["code"],
        &["payload", "code"],
        &["error", "code"],
    ]
    .iter()
    .find_map(|p| {
        at(p).and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
    });
    let title = [
        &["payload", "payload", "reason"][..],
        &["title"],
        &["message"],
        &["reason"],
        &["error", "message"],
    ]
    .iter()
    .find_map(|p| at(p).and_then(Value::as_str).map(str::to_string))
    .or(fallback)
    .or_else(|| Some(text.to_string()));
    (code, title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gupshup_and_meta_errors_give_code_and_title() {
        let gupshup = r#"{"payload":{"payload":{"code":1002,"reason":"Number does not exist"},"type":"failed"}}"#;
        assert_eq!(
            error_of(Some(gupshup), "error"),
            (Some(1002), Some("Number does not exist".into()))
        );
        assert_eq!(
            error_of(
                Some(r#"{"code":"131026","title":"Message undeliverable"}"#),
                "error"
            ),
            (Some(131026), Some("Message undeliverable".into()))
        );
        assert_eq!(error_of(Some("{}"), "error"), (None, None));
        assert_eq!(
            error_of(None, "contact_opt_out"),
            (None, Some("contact opted out".into()))
        );
        assert_eq!(error_of(Some("boom"), "error"), (None, Some("boom".into())));
    }

    #[test]
    fn types_map_to_spec_types() {
        assert_eq!(msg_type("contact", false), "contacts");
        assert_eq!(msg_type("quick_reply", false), "interactive");
        assert_eq!(msg_type("text", true), "template");
        assert_eq!(msg_type("hsm", false), "template");
        assert_eq!(msg_type("wa_new_thing", false), "unsupported");
    }
}
