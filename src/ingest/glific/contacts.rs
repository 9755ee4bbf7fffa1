//! Glific `contacts` to `contacts` (one row per contact, upserted) and `contact_events`.
//!
//! | Glific column                         | chatlake                                              |
//! |---------------------------------------|-------------------------------------------------------|
//! | `phone`                               | `contact_id` (without `+`), `wa_id` (when all digits)  |
//! | `name`, `language` (a label, e.g. `English`) | `name`, `language`                             |
//! | `status` (valid, invalid, blocked, processing, failed) | `provider_status`: valid, invalid, blocked; NULL for processing and failed |
//! | `optin_time`, `optout_time`           | `optin_at`, `optout_at`; `optin_status` = `opted_out` when `optout_time` is later than `optin_time` (or alone), else `opted_in` when `optin_time` is set, else `none`; `contact_events` `opted_in` (`method` = `contact_optin_method`) and `opted_out` at those times |
//! | `inserted_at`                         | `created_at`, and a `contact_events` `created` row     |
//! | `updated_at`                          | `updated_at` (else `inserted_at`): the upsert keeps a stored row updated later |
//! | `id`                                  | the version key ([`super::latest`])                    |
//!
//! Dropped: `provider_status` (Glific's BSP session state, a moment's value), `last_message_at`,
//! `fields`, `raw_fields`, `settings`, `groups`, `tags`, `group_labels`, `contact_type`, the
//! staff columns (`user_name`, `user_role`, `last_login_*`, `is_restricted_user`), `bq_*`.

use super::Target;
use super::row::{Row, RowError, contact_of_phone};
use crate::ingest::whatsapp::rows::ContactEventRow;
use crate::ingest::whatsapp::rows::ContactRow;

/// What one `contacts` row gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// The snapshot row.
    pub contact: ContactRow,
    /// Its created / opted-in / opted-out events.
    pub events: Vec<ContactEventRow>,
}

/// Maps one row; returns its `id`, `updated_at` and rows.
pub fn map(row: &Row, target: &Target) -> Result<(String, Option<i64>, Mapped), RowError> {
    let id = row.required_id("id")?;
    let phone = row.required_text("phone")?;
    let (contact_id, wa_id) = contact_of_phone(&phone);
    let inserted = row.local_time("inserted_at")?;
    let updated = row.local_time("updated_at")?;
    let created_at = inserted
        .or(updated)
        .ok_or_else(|| RowError::column("inserted_at", "is empty, and so is updated_at"))?;
    let optin_at = row.local_time("optin_time")?;
    let optout_at = row.local_time("optout_time")?;
    let optin_status = match (optin_at, optout_at) {
        (_, Some(out)) if optin_at.is_none_or(|i| out > i) => "opted_out",
        (Some(_), _) => "opted_in",
        _ => "none",
    };
    let provider_status = match row.text("status")?.as_deref() {
        Some(s @ ("valid" | "invalid" | "blocked")) => Some(s.to_string()),
        None | Some("processing" | "failed") => None,
        Some(other) => {
            return Err(RowError::column(
                "status",
                format!(
                    "'{other}' is not a Glific contact status (valid, invalid, blocked, processing, failed)"
                ),
            ));
        }
    };
    let event = |ts: i64, event_type: &'static str, method: Option<String>| ContactEventRow {
        tenant_id: target.tenant_id.clone(),
        channel_id: target.channel_id.clone(),
        contact_id: contact_id.clone(),
        ts,
        event_type,
        method,
        key: None,
        value: None,
    };
    let mut events = vec![event(created_at, "created", None)];
    if let Some(at) = optin_at {
        events.push(event(at, "opted_in", row.text("contact_optin_method")?));
    }
    if let Some(at) = optout_at {
        events.push(event(at, "opted_out", None));
    }
    let contact = ContactRow {
        tenant_id: target.tenant_id.clone(),
        channel_id: target.channel_id.clone(),
        contact_id: contact_id.clone(),
        wa_id,
        name: row.text("name")?,
        language: row.text("language")?,
        provider_status,
        optin_status: Some(optin_status.to_string()),
        optin_at,
        optout_at,
        created_at,
        updated_at: updated.unwrap_or(created_at).max(created_at),
        bsuid: None,
    };
    Ok((id, updated, Mapped { contact, events }))
}
