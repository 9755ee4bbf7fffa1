//! Glific `flows`: the name of each flow, by uuid, for the `flow_name` of the flow events
//! whose own row has none ([`super::flow_contexts`], [`super::flow_results`]). Nothing of it
//! is stored by itself: chatlake has no table of flow definitions.
//!
//! Dropped: `keywords`, `status`, `revision`, `tag`, `inserted_at`, `bq_*`.

use super::row::{Row, RowError};

/// One flow: its uuid and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// `uuid`.
    pub uuid: String,
    /// `name`.
    pub name: String,
}

/// Maps one row; returns its `id`, `updated_at` and flow.
pub fn map(row: &Row) -> Result<(String, Option<i64>, Flow), RowError> {
    let id = row.required_id("id")?;
    let flow = Flow {
        uuid: row.required_text("uuid")?,
        name: row.required_text("name")?,
    };
    Ok((id, row.local_time("updated_at")?, flow))
}
