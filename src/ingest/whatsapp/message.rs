//! One inbound `value.messages[]` object to a [`MessageRow`].
//!
//! | webhook `type`                         | `msg_type`    | `interaction_id`                   | `body_text`                                  |
//! |----------------------------------------|---------------|------------------------------------|----------------------------------------------|
//! | `text`                                 | text          |                                    | `text.body`                                  |
//! | `image`, `audio`, `video`, `sticker`   | same          |                                    | the media's `caption`                        |
//! | `document`                             | document      |                                    | `caption`, else `filename`                   |
//! | `location`                             | location      |                                    | `name` and `address`, joined by `, `          |
//! | `contacts` (shared contact cards)      | contacts      |                                    | the cards' `name.formatted_name`, joined by `, ` |
//! | `interactive` / `button_reply`         | interactive   | `button_reply.id`                  | `button_reply.title`                         |
//! | `interactive` / `list_reply`           | interactive   | `list_reply.id`                    | `list_reply.title`                           |
//! | `interactive` / `nfm_reply` (a flow)   | interactive   | `flow_token` of `response_json`    | `response_json` (the flow's answers)         |
//! | `button` (template quick reply)        | button        | `button.payload`                   | `button.text`                                |
//! | `reaction`                             | reaction      |                                    | `reaction.emoji` (NULL: reaction removed)    |
//! | `order`                                | order         |                                    | `order.text`                                 |
//! | `system`, `request_welcome`            | system        |                                    | `system.body`                                |
//! | `unsupported`                          | unsupported   |                                    | `error CODE: TITLE` of `errors[0]`           |
//! | any other (`edit`, `revoke`, new kinds)| unsupported   |                                    | `unknown type: T`                            |
//!
//! `context_message_id` is `context.id` (a reply, a quote, a button click on a template), else
//! for a reaction `reaction.message_id`. `referral_source_type`/`_id` come from `referral`
//! (click-to-WhatsApp ads and posts); a `source_type` other than `ad`/`post` is left NULL.
//! The sender is `from` (`wa_id`), else the `wa_id` the body's `contacts[]` gives for
//! `from_user_id`, else `from_user_id` alone ([`super::rows::contact_id`]); a sender with a
//! `from_user_id` then gets the `contact_id` of the user's first sighting ([`super::alias`]).

use std::collections::HashMap;

use serde_json::Value;

use super::rows::{MessageRow, contact_id};
use super::{stamp, text};

/// The message `m` as a row of `tenant_id`/`channel_id`, or why it cannot be one.
/// `wa_of_user` maps a `user_id` of the body's `contacts[]` to its `wa_id`.
pub fn message_row(
    m: &Value,
    tenant_id: &str,
    channel_id: &str,
    wa_of_user: &HashMap<String, String>,
) -> Result<MessageRow, String> {
    let id = text(m, &["id"]).ok_or("a message without an id")?;
    let ts =
        stamp(m.get("timestamp")).ok_or_else(|| format!("message {id}: no usable timestamp"))?;
    let bsuid = text(m, &["from_user_id"]);
    let wa_id = text(m, &["from"])
        .map(|w| w.trim_start_matches('+').to_string())
        .or_else(|| bsuid.and_then(|u| wa_of_user.get(u).cloned()));
    let contact = contact_id(wa_id.as_deref(), bsuid)
        .ok_or_else(|| format!("message {id}: neither from nor from_user_id names the sender"))?;
    let kind = text(m, &["type"]).unwrap_or("");
    let (msg_type, interaction_id, body_text) = classify(m, kind);
    let context_message_id = text(m, &["context", "id"])
        .or_else(|| (kind == "reaction").then(|| text(m, &["reaction", "message_id"]))?)
        .map(str::to_string);
    let referral_source_type = text(m, &["referral", "source_type"])
        .filter(|t| matches!(*t, "ad" | "post"))
        .map(str::to_string);
    Ok(MessageRow {
        tenant_id: tenant_id.to_string(),
        channel_id: channel_id.to_string(),
        message_id: id.to_string(),
        direction: "inbound",
        ts,
        contact_id: contact,
        wa_id,
        msg_type,
        interaction_id,
        context_message_id,
        referral_source_type,
        referral_source_id: text(m, &["referral", "source_id"]).map(str::to_string),
        body_text,
        author_type: None,
        author_id: None,
        bsuid: bsuid.map(str::to_string),
    })
}

/// `(msg_type, interaction_id, body_text)` of a message of webhook type `kind`.
fn classify(m: &Value, kind: &str) -> (&'static str, Option<String>, Option<String>) {
    let owned = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
    match kind {
        "text" => ("text", None, owned(text(m, &["text", "body"]))),
        "image" => ("image", None, owned(text(m, &["image", "caption"]))),
        "audio" => ("audio", None, owned(text(m, &["audio", "caption"]))),
        "video" => ("video", None, owned(text(m, &["video", "caption"]))),
        "sticker" => ("sticker", None, None),
        "document" => (
            "document",
            None,
            owned(text(m, &["document", "caption"]).or(text(m, &["document", "filename"]))),
        ),
        "location" => {
            let parts: Vec<&str> = [
                text(m, &["location", "name"]),
                text(m, &["location", "address"]),
            ]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
            (
                "location",
                None,
                (!parts.is_empty()).then(|| parts.join(", ")),
            )
        }
        "contacts" => {
            let names: Vec<&str> = m
                .get("contacts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| text(c, &["name", "formatted_name"]))
                .collect();
            (
                "contacts",
                None,
                (!names.is_empty()).then(|| names.join(", ")),
            )
        }
        "interactive" => {
            let reply = text(m, &["interactive", "type"]).unwrap_or("");
            match reply {
                "button_reply" | "list_reply" => (
                    "interactive",
                    owned(text(m, &["interactive", reply, "id"])),
                    owned(text(m, &["interactive", reply, "title"])),
                ),
                "nfm_reply" => {
                    let answers = text(m, &["interactive", "nfm_reply", "response_json"]);
                    let token = answers
                        .and_then(|a| serde_json::from_str::<Value>(a).ok())
                        .and_then(|a| text(&a, &["flow_token"]).map(str::to_string));
                    ("interactive", token, owned(answers))
                }
                _ => ("interactive", None, None),
            }
        }
        "button" => (
            "button",
            owned(text(m, &["button", "payload"])),
            owned(text(m, &["button", "text"])),
        ),
        "reaction" => ("reaction", None, owned(text(m, &["reaction", "emoji"]))),
        "order" => ("order", None, owned(text(m, &["order", "text"]))),
        "system" => ("system", None, owned(text(m, &["system", "body"]))),
        "request_welcome" => ("system", None, None),
        "unsupported" => {
            let error = m
                .get("errors")
                .and_then(Value::as_array)
                .and_then(|e| e.first());
            let described = error.map(|e| {
                let code = e.get("code").and_then(Value::as_i64);
                let title = text(e, &["title"]).or(text(e, &["message"]));
                match (code, title) {
                    (Some(c), Some(t)) => format!("error {c}: {t}"),
                    (Some(c), None) => format!("error {c}"),
                    (None, Some(t)) => format!("error: {t}"),
                    (None, None) => "error".to_string(),
                }
            });
            ("unsupported", None, described)
        }
        other => ("unsupported", None, Some(format!("unknown type: {other}"))),
    }
}
