//! Glific `flow_contexts` (one row per flow run) to `flow_events`.
//!
//! | Glific column                        | chatlake                                             |
//! |--------------------------------------|------------------------------------------------------|
//! | `id`                                 | `flow_run_id` (and the version key)                  |
//! | `flow_uuid`, else `flow_id`          | `flow_id`                                            |
//! | `flow_name`, else the `flows` name   | `flow_name`                                          |
//! | `contact_phone`                      | `contact_id` (without `+`)                            |
//! | `inserted_at`                        | a `started` event                                    |
//! | `completed_at` (set when the run completed or was killed) | a `killed` event when `is_killed`, else `completed` |
//! | `message_broadcast_id`, else `flow_broadcast_id` | `campaign_id` of the `started` event, `trigger = broadcast` |
//! | `parent_id` (started from another flow) | `trigger = flow`                                  |
//!
//! Dropped: `node_uuid`, `contact_id` (Glific's), `results` (see [`super::flow_results`]),
//! `recent_inbound`, `recent_outbound`, `status`, `is_background_flow`, `is_await_result`,
//! `wakeup_at`, `reason`, `profile_id`, `wa_group_*`, `bq_*`.

use std::collections::HashMap;

use super::Target;
use super::row::{Row, RowError, contact_of_phone};
use super::rows::FlowEventRow;

/// Maps one row with the flow names of `flows` (uuid → name); returns its `id`, `updated_at`
/// and events.
pub fn map(
    row: &Row,
    target: &Target,
    flows: &HashMap<String, String>,
) -> Result<(String, Option<i64>, Vec<FlowEventRow>), RowError> {
    let id = row.required_id("id")?;
    let flow_id = match row.text("flow_uuid")? {
        Some(uuid) => uuid,
        None => row
            .text("flow_id")?
            .ok_or_else(|| RowError::column("flow_uuid", "is empty, and so is flow_id"))?,
    };
    let flow_name = match row.text("flow_name")? {
        Some(name) => Some(name),
        None => flows.get(&flow_id).cloned(),
    };
    let contact_id = contact_of_phone(&row.required_text("contact_phone")?).0;
    let started_at = row.required_time("inserted_at")?;
    let campaign_id = match row.id("message_broadcast_id")? {
        Some(id) => Some(id),
        None => row.id("flow_broadcast_id")?,
    };
    let trigger = if campaign_id.is_some() {
        Some("broadcast")
    } else if row.id("parent_id")?.is_some() {
        Some("flow")
    } else {
        None
    };
    let event = |ts: i64, event_type: &'static str| FlowEventRow {
        tenant_id: target.tenant_id.clone(),
        channel_id: target.channel_id.clone(),
        flow_id: flow_id.clone(),
        flow_name: flow_name.clone(),
        flow_run_id: id.clone(),
        contact_id: contact_id.clone(),
        ts,
        event_type,
        trigger: None,
        campaign_id: None,
    };
    let mut events = vec![FlowEventRow {
        trigger,
        campaign_id,
        ..event(started_at, "started")
    }];
    if let Some(ended) = row.local_time("completed_at")? {
        let killed = row.boolean("is_killed")?.unwrap_or(false);
        events.push(event(ended, if killed { "killed" } else { "completed" }));
    }
    Ok((id, row.local_time("updated_at")?, events))
}
