//! One `value.statuses[]` object to a [`StatusRow`] and, when it reports a billing
//! conversation with its expiry, a [`ConversationRow`].
//!
//! | webhook field                         | column (`message_statuses`)     | both pricing eras                               |
//! |---------------------------------------|---------------------------------|-------------------------------------------------|
//! | `id`, `status`, `timestamp`           | `message_id`, `status`, `ts`    | `status` must be one of SPEC section 3's; another one skips the callback (the body is kept) |
//! | `conversation.id`                     | `conversation_id`               | CBP; under PMP only for free-entry-point windows |
//! | `conversation.origin.type`            | `conversation_origin`           | an unknown value is left NULL                   |
//! | `conversation.expiration_timestamp`   | `conversation_expires_at`       | documented on `sent` callbacks                  |
//! | `pricing.pricing_model`               | `pricing_model`                 | `CBP` or `PMP`, else NULL                       |
//! | `pricing.billable`                    | `pricing_billable`              | deprecated under PMP                            |
//! | `pricing.category`                    | `pricing_category`              | as sent (PMP adds `authentication_international`, `marketing_lite`) |
//! | `pricing.type`                        | `pricing_type`                  | PMP: `regular`, `free_customer_service`, `free_entry_point`, else NULL |
//! | `errors[0].code`, `.title` (`.message`) | `error_code`, `error_title`   | `error_bucket` is derived from the code on decode |
//!
//! A `conversations` row (`source = 'webhook'`) is written when the callback names the
//! conversation, its origin and its expiry: `opened_at = expires_at - 24 h`, or `- 72 h` for a
//! `referral_conversion` (free entry point) window, the fixed lengths of reference 5.3; its
//! contact is `recipient_id`, else `recipient_user_id` ([`super::rows::contact_id`]). Every
//! callback of a conversation repeats it; the natural key keeps the first.

use serde_json::Value;

use super::rows::{ConversationRow, StatusRow, contact_id};
use super::{stamp, text};

/// The `status` values of SPEC section 3 a webhook can carry.
const STATUSES: &[&str] = &["sent", "delivered", "read", "played", "failed", "deleted"];
/// `conversation.origin.type` values of both CBP versions.
const ORIGINS: &[&str] = &[
    "user_initiated",
    "business_initiated",
    "marketing",
    "utility",
    "authentication",
    "service",
    "referral_conversion",
];
/// `pricing.type` values (PMP).
const PRICING_TYPES: &[&str] = &["regular", "free_customer_service", "free_entry_point"];

/// Microseconds in one hour.
const HOUR: i64 = 3_600_000_000;

/// The rows of status `s` for `tenant_id`/`channel_id` of WABA `waba_id`, or why it gives none.
/// Values outside the lake's enums are left NULL and described in `notes`.
pub fn status_rows(
    s: &Value,
    tenant_id: &str,
    channel_id: &str,
    waba_id: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<(StatusRow, Option<ConversationRow>), String> {
    let id = text(s, &["id"]).ok_or("a status without an id")?;
    let status = text(s, &["status"]).ok_or_else(|| format!("status of {id}: no status"))?;
    if !STATUSES.contains(&status) {
        return Err(format!(
            "status of {id}: '{status}' is not one of {}",
            STATUSES.join(", ")
        ));
    }
    let ts = stamp(s.get("timestamp"))
        .ok_or_else(|| format!("status {status} of {id}: no usable timestamp"))?;
    let mut known = |field: &str, value: Option<&str>, allowed: &[&str]| -> Option<String> {
        let value = value?;
        if allowed.contains(&value) {
            Some(value.to_string())
        } else {
            notes.push(format!(
                "status {status} of {id}: {field} '{value}' is not one of {}; stored as NULL",
                allowed.join(", ")
            ));
            None
        }
    };
    let conversation_id = text(s, &["conversation", "id"]).map(str::to_string);
    let origin = known(
        "conversation.origin.type",
        text(s, &["conversation", "origin", "type"]),
        ORIGINS,
    );
    let expires_at = stamp(
        s.get("conversation")
            .and_then(|c| c.get("expiration_timestamp")),
    );
    let pricing_model = known(
        "pricing.pricing_model",
        text(s, &["pricing", "pricing_model"]),
        &["CBP", "PMP"],
    );
    let pricing_type = known("pricing.type", text(s, &["pricing", "type"]), PRICING_TYPES);
    let billable = s
        .get("pricing")
        .and_then(|p| p.get("billable"))
        .and_then(Value::as_bool);
    let error = s
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|e| e.first());
    let row = StatusRow {
        tenant_id: tenant_id.to_string(),
        channel_id: channel_id.to_string(),
        message_id: id.to_string(),
        status: status.to_string(),
        ts,
        conversation_id: conversation_id.clone(),
        conversation_origin: origin.clone(),
        conversation_expires_at: expires_at,
        pricing_model: pricing_model.clone(),
        pricing_billable: billable,
        pricing_category: text(s, &["pricing", "category"]).map(str::to_string),
        pricing_type,
        error_code: error.and_then(|e| e.get("code")).and_then(Value::as_i64),
        error_title: error
            .and_then(|e| text(e, &["title"]).or(text(e, &["message"])))
            .map(str::to_string),
    };
    let recipient_bsuid = text(s, &["recipient_user_id"]);
    let recipient = contact_id(
        text(s, &["recipient_id"]).map(|r| r.trim_start_matches('+')),
        recipient_bsuid,
    );
    let conversation = match (conversation_id, origin, expires_at, recipient) {
        (Some(conversation_id), Some(origin), Some(expires_at), Some(contact_id)) => {
            let hours = if origin == "referral_conversion" {
                72
            } else {
                24
            };
            Some(ConversationRow {
                tenant_id: tenant_id.to_string(),
                channel_id: channel_id.to_string(),
                waba_id: waba_id.map(str::to_string),
                conversation_id,
                contact_id,
                opened_at: expires_at - hours * HOUR,
                expires_at,
                origin,
                pricing_model,
                billable,
                bsuid: recipient_bsuid.map(str::to_string),
            })
        }
        _ => None,
    };
    Ok((row, conversation))
}
