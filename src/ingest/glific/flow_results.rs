//! Glific `flow_results` (the answers a run saved, as JSON) to `analytics_events`, one row per
//! result key: `category = 'flow_result'`, `action = '<flow name>/<key>'`, `label` = the
//! result's `category` (else its `input`), `value` = the input when it is a number, at the
//! row's `inserted_at` (stable across versions, so a later version adds only its new keys).
//!
//! | Glific column                   | chatlake                                          |
//! |---------------------------------|---------------------------------------------------|
//! | `results` (`{"key": {"input": .., "category": ..}, ..}`) | one row per key            |
//! | `name` (the flow), else the `flows` name of `uuid` | the first part of `action`     |
//! | `contact_phone`                 | `contact_id` (without `+`)                         |
//! | `inserted_at`                   | `ts`                                              |
//! | `id`                            | the version key                                   |
//!
//! Runs themselves come from `flow_contexts` ([`super::flow_contexts`]). Dropped:
//! `flow_version`, `flow_context_id`, `contact_name`, `profile_id`, `bq_*`.

use std::collections::HashMap;

use serde_json::Value;

use super::Target;
use super::row::{Row, RowError, contact_of_phone};
use crate::ingest::whatsapp::rows::AnalyticsRow;

/// Maps one row with the flow names of `flows`; returns its `id`, `updated_at` and rows.
pub fn map(
    row: &Row,
    target: &Target,
    flows: &HashMap<String, String>,
) -> Result<(String, Option<i64>, Vec<AnalyticsRow>), RowError> {
    let id = row.required_id("id")?;
    let uuid = row.required_text("uuid")?;
    let flow = match row.text("name")? {
        Some(name) => name,
        None => flows.get(&uuid).cloned().unwrap_or(uuid),
    };
    let contact_id = contact_of_phone(&row.required_text("contact_phone")?).0;
    let ts = row.required_time("inserted_at")?;
    let text = row.required_text("results")?;
    let results: Value = serde_json::from_str(&text)
        .map_err(|e| RowError::column("results", format!("not JSON: {e}")))?;
    let Some(results) = results.as_object() else {
        return Err(RowError::column("results", "not a JSON object"));
    };
    let mut rows = Vec::with_capacity(results.len());
    for (key, result) in results {
        let field = |name: &str| match result.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let input = match result {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => field("input"),
        };
        rows.push(AnalyticsRow {
            tenant_id: target.tenant_id.clone(),
            channel_id: target.channel_id.clone(),
            contact_id: contact_id.clone(),
            ts,
            category: "flow_result",
            action: format!("{flow}/{key}"),
            label: field("category").or(input.clone()),
            value: input
                .and_then(|i| i.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite()),
        });
    }
    Ok((id, row.local_time("updated_at")?, rows))
}
