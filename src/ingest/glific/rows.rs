//! The lake rows a Glific export gives that [`crate::ingest::whatsapp::rows`] has no struct
//! for (contacts, contact events, analytics events, statuses and conversations use those). Each serialises to one NDJSON row of
//! its table, which [`crate::ingest::decode::Decoder`] checks and completes (`country_code`,
//! `calling_code`, `in_csw` at commit, `ingested_at`). Times are µs since the epoch, UTC.

use serde::Serialize;

use crate::ingest::whatsapp::rows::micros_text;

/// One message, either direction (`messages`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MessageRow {
    /// The tenant imported into.
    pub tenant_id: String,
    /// The tenant's Glific channel.
    pub channel_id: String,
    /// Glific's `messages.id`.
    pub message_id: String,
    /// `inbound` or `outbound` (Glific's `flow`).
    pub direction: String,
    /// `inserted_at`.
    #[serde(serialize_with = "micros_text")]
    pub ts: i64,
    /// `contact_phone` without `+`.
    pub contact_id: String,
    /// The same when it is a phone number.
    pub wa_id: Option<String>,
    /// SPEC section 3's type ([`super::messages`]).
    pub msg_type: &'static str,
    /// `is_hsm`, or `type = 'hsm'`.
    pub is_template: bool,
    /// `template_uuid` (Glific exports no template name).
    pub template_name: Option<String>,
    /// Who sent an outbound message ([`super::messages`]); `contact` for inbound.
    pub author_type: &'static str,
    /// The agent's phone, the flow or the broadcast.
    pub author_id: Option<String>,
    /// `flow_uuid`, else `flow_id`.
    pub flow_id: Option<String>,
    /// `message_broadcast_id`, else `flow_broadcast_id`.
    pub campaign_id: Option<String>,
    /// `context_message_id`: the Glific id of the message replied to.
    pub context_message_id: Option<String>,
    /// `body`.
    pub body_text: Option<String>,
}

/// One flow run event (`flow_events`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FlowEventRow {
    /// The tenant.
    pub tenant_id: String,
    /// The channel.
    pub channel_id: String,
    /// The flow's uuid.
    pub flow_id: String,
    /// The flow's name.
    pub flow_name: Option<String>,
    /// Glific's `flow_contexts.id`.
    pub flow_run_id: String,
    /// The contact.
    pub contact_id: String,
    /// When.
    #[serde(serialize_with = "micros_text")]
    pub ts: i64,
    /// `started`, `completed` or `killed`.
    pub event_type: &'static str,
    /// `broadcast` or `flow` (started from another flow), on `started` rows.
    pub trigger: Option<&'static str>,
    /// The broadcast, on `started` rows.
    pub campaign_id: Option<String>,
}
