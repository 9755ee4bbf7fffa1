//! Glific `message_conversations` (its BSP's billing events, reference 1.2 and 1.5) to
//! `conversations` (`source = 'webhook'`: the platform reported them). The tenant's channel
//! should have `integration = 'glific'`, so that `all_conversations` takes these rather than
//! deriving its own (`sql/views/055_derived_conversations.sql`).
//!
//! | Glific column                 | chatlake                                                       |
//! |-------------------------------|----------------------------------------------------------------|
//! | `conversation_uuid`, else `conversation_id`, else `id` | `conversation_id`                      |
//! | `phone`, else the payload's `references.destination` | `contact_id` (without `+`)              |
//! | `inserted_at`                 | `opened_at`; `expires_at` = 24 h later (72 h for `referral_conversion`) |
//! | `deduction_type` (the billing category) | `origin`: marketing, utility, authentication (also `authentication_international`), service as they are (any case); UIC / user_initiated → user_initiated; BIC / business_initiated → business_initiated; FEP / free_entry_point / referral_conversion → referral_conversion; anything else is a bad row |
//! | `is_billable`, else the payload's `deductions.billable` | `billable`                         |
//! | the payload's `deductions.model` | `pricing_model` (`CBP`/`PMP`)                               |
//! | `id`                          | the version key                                                |
//!
//! Dropped: `message_id`, the rest of `payload`, `bq_*`.

use serde_json::Value;

use super::Target;
use super::row::{Row, RowError, contact_of_phone};
use crate::ingest::whatsapp::rows::ConversationRow;

/// Microseconds in an hour.
const HOUR: i64 = 3_600_000_000;

/// Maps one row; returns its `id`, `updated_at` and row.
pub fn map(row: &Row, target: &Target) -> Result<(String, Option<i64>, ConversationRow), RowError> {
    let id = row.required_id("id")?;
    let payload: Option<Value> = row
        .text("payload")?
        .and_then(|text| serde_json::from_str(&text).ok());
    let from_payload = |path: &[&str]| {
        let mut v = payload.as_ref()?;
        for key in path {
            v = v.get(key)?;
        }
        Some(v.clone())
    };
    let conversation_id = match row.text("conversation_uuid")? {
        Some(uuid) => uuid,
        None => row.id("conversation_id")?.unwrap_or_else(|| id.clone()),
    };
    let phone = match row.text("phone")? {
        Some(phone) => phone,
        None => from_payload(&["references", "destination"])
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| {
                RowError::column("phone", "is empty, and the payload names no destination")
            })?,
    };
    let deduction = row.required_text("deduction_type")?;
    let origin = origin_of(&deduction).ok_or_else(|| {
        RowError::column(
            "deduction_type",
            format!("'{deduction}' is not a billing category (marketing, utility, authentication, service, UIC, BIC, FEP)"),
        )
    })?;
    let opened_at = row.required_time("inserted_at")?;
    let hours = if origin == "referral_conversion" {
        72
    } else {
        24
    };
    let billable = match row.boolean("is_billable")? {
        Some(b) => Some(b),
        None => from_payload(&["deductions", "billable"]).and_then(|v| v.as_bool()),
    };
    let pricing_model = from_payload(&["deductions", "model"])
        .and_then(|v| v.as_str().map(str::to_ascii_uppercase))
        .filter(|m| m == "CBP" || m == "PMP");
    let row_out = ConversationRow {
        tenant_id: target.tenant_id.clone(),
        channel_id: target.channel_id.clone(),
        waba_id: None,
        conversation_id,
        contact_id: contact_of_phone(&phone).0,
        opened_at,
        expires_at: opened_at + hours * HOUR,
        origin: origin.to_string(),
        pricing_model,
        billable,
        bsuid: None,
    };
    Ok((id, row.local_time("updated_at")?, row_out))
}

/// The conversation origin of a Gupshup billing category.
fn origin_of(deduction: &str) -> Option<&'static str> {
    Some(match deduction.trim().to_ascii_lowercase().as_str() {
        "marketing" => "marketing",
        "utility" => "utility",
        "authentication" | "authentication_international" => "authentication",
        "service" => "service",
        "uic" | "user_initiated" => "user_initiated",
        "bic" | "business_initiated" => "business_initiated",
        "fep" | "free_entry_point" | "referral_conversion" => "referral_conversion",
        _ => return None,
    })
}
