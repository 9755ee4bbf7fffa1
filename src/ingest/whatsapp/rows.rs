//! The rows a WhatsApp webhook body gives, one struct per lake table, before validation.
//!
//! Each struct serialises (serde) to one NDJSON row of its table, which
//! [`crate::ingest::decode::Decoder`] then checks and completes like any other input row:
//! `country_code`/`calling_code` from `wa_id` (conversations: from a phone-number
//! `contact_id`), `is_template = false` and `author_type = 'contact'` for inbound messages,
//! `error_bucket` from `error_code`, `source = 'webhook'` for conversations, `ingested_at`.
//! Timestamps are held as µs since the epoch (UTC) and written as RFC 3339 text.

use serde::Serialize;

/// Writes µs since the epoch as RFC 3339 text (`2024-05-29T16:26:40Z`).
pub(crate) fn micros_text<S: serde::Serializer>(micros: &i64, out: S) -> Result<S::Ok, S::Error> {
    match chrono::DateTime::from_timestamp_micros(*micros) {
        Some(t) => out.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        None => out.serialize_none(),
    }
}

fn opt_micros_text<S: serde::Serializer>(micros: &Option<i64>, out: S) -> Result<S::Ok, S::Error> {
    match micros {
        Some(m) => micros_text(m, out),
        None => out.serialize_none(),
    }
}

/// One inbound message (`messages`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MessageRow {
    /// Routed tenant.
    pub tenant_id: String,
    /// Routed channel.
    pub channel_id: String,
    /// `messages[].id` (the `wamid`).
    pub message_id: String,
    /// `inbound`; WhatsApp webhooks report the business's own messages as statuses only, a
    /// Messenger/Instagram echo is `outbound`.
    pub direction: &'static str,
    /// `messages[].timestamp`.
    #[serde(serialize_with = "micros_text")]
    pub ts: i64,
    /// See [`contact_id`].
    pub contact_id: String,
    /// `messages[].from`: NULL for a username-only user.
    pub wa_id: Option<String>,
    /// SPEC section 3's `msg_type` (the webhook's `type`, unknown ones `unsupported`).
    pub msg_type: &'static str,
    /// The button payload, list row id or button reply id, the flow token of a flow reply.
    pub interaction_id: Option<String>,
    /// `context.id`, else the message a reaction is about.
    pub context_message_id: Option<String>,
    /// `referral.source_type` when it is `ad` or `post`.
    pub referral_source_type: Option<String>,
    /// `referral.source_id` (the ad or post id).
    pub referral_source_id: Option<String>,
    /// The text of the message (see the module docs of [`super::message`]).
    pub body_text: Option<String>,
    /// Who sent an outbound message (left out for inbound ones: the decoder writes `contact`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_type: Option<&'static str>,
    /// The sending app of an outbound message (left out when unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    /// `messages[].from_user_id`: the business-scoped user id, which [`super::alias`] resolves
    /// to the user's `contact_id` (not a column).
    #[serde(skip)]
    pub bsuid: Option<String>,
}

/// One status callback (`message_statuses`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatusRow {
    /// Routed tenant.
    pub tenant_id: String,
    /// Routed channel.
    pub channel_id: String,
    /// `statuses[].id`: the business's outbound message.
    pub message_id: String,
    /// `sent|delivered|read|played|failed|deleted`.
    pub status: String,
    /// `statuses[].timestamp`.
    #[serde(serialize_with = "micros_text")]
    pub ts: i64,
    /// `conversation.id`.
    pub conversation_id: Option<String>,
    /// `conversation.origin.type`.
    pub conversation_origin: Option<String>,
    /// `conversation.expiration_timestamp`.
    #[serde(serialize_with = "opt_micros_text")]
    pub conversation_expires_at: Option<i64>,
    /// `pricing.pricing_model` (`CBP|PMP`).
    pub pricing_model: Option<String>,
    /// `pricing.billable` (deprecated under PMP).
    pub pricing_billable: Option<bool>,
    /// `pricing.category`.
    pub pricing_category: Option<String>,
    /// `pricing.type` (PMP).
    pub pricing_type: Option<String>,
    /// `errors[0].code`.
    pub error_code: Option<i64>,
    /// `errors[0].title` (else its `message`).
    pub error_title: Option<String>,
}

/// One billing conversation a status reported (`conversations`, `source = 'webhook'`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConversationRow {
    /// Routed tenant.
    pub tenant_id: String,
    /// Routed channel.
    pub channel_id: String,
    /// `entry[].id`: the WhatsApp Business Account.
    pub waba_id: Option<String>,
    /// `conversation.id`.
    pub conversation_id: String,
    /// The recipient (see [`contact_id`]).
    pub contact_id: String,
    /// `expires_at` minus the conversation's fixed length (24 h; 72 h for `referral_conversion`).
    #[serde(serialize_with = "micros_text")]
    pub opened_at: i64,
    /// `conversation.expiration_timestamp`.
    #[serde(serialize_with = "micros_text")]
    pub expires_at: i64,
    /// `conversation.origin.type`.
    pub origin: String,
    /// `pricing.pricing_model`.
    pub pricing_model: Option<String>,
    /// `pricing.billable`.
    pub billable: Option<bool>,
    /// `recipient_user_id` (see [`MessageRow::bsuid`]).
    #[serde(skip)]
    pub bsuid: Option<String>,
}

/// One contact profile (`contacts`, upserted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ContactRow {
    /// Routed tenant.
    pub tenant_id: String,
    /// Routed channel.
    pub channel_id: String,
    /// See [`contact_id`].
    pub contact_id: String,
    /// `contacts[].wa_id`.
    pub wa_id: Option<String>,
    /// `contacts[].profile.name`.
    pub name: Option<String>,
    /// Kept from the stored row (webhooks do not carry it).
    pub language: Option<String>,
    /// Kept from the stored row.
    pub provider_status: Option<String>,
    /// Kept from the stored row.
    pub optin_status: Option<String>,
    /// Kept from the stored row.
    #[serde(serialize_with = "opt_micros_text")]
    pub optin_at: Option<i64>,
    /// Kept from the stored row.
    #[serde(serialize_with = "opt_micros_text")]
    pub optout_at: Option<i64>,
    /// The earliest time the contact was seen: its first message in the body (else the body's
    /// time), or the stored row's when earlier.
    #[serde(serialize_with = "micros_text")]
    pub created_at: i64,
    /// When the profile was observed: the contact's latest message in the body (else the
    /// body's time). The upsert keeps a stored row with a later `updated_at`.
    #[serde(serialize_with = "micros_text")]
    pub updated_at: i64,
    /// `contacts[].user_id` (see [`MessageRow::bsuid`]).
    #[serde(skip)]
    pub bsuid: Option<String>,
}

/// One contact event (`contact_events`): a Messenger opt-in or opt-out, or the link between a
/// WhatsApp user's business-scoped user id and the `contact_id` the lake gave the user
/// ([`super::alias`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ContactEventRow {
    /// Routed tenant.
    pub tenant_id: String,
    /// Routed channel.
    pub channel_id: String,
    /// The contact.
    pub contact_id: String,
    /// When it happened (the event's or the message's time).
    #[serde(serialize_with = "micros_text")]
    pub ts: i64,
    /// `opted_in`, `opted_out` or `field_updated`.
    pub event_type: &'static str,
    /// How: the opt-in's `type`, or `webhook` for a link.
    pub method: Option<String>,
    /// The field: the opt-in's `payload`/`ref`, or `bsuid`.
    pub key: Option<String>,
    /// Its value.
    pub value: Option<String>,
}

/// One custom event (`analytics_events`): a Messenger `referral` of a user already in the
/// conversation ([`crate::ingest::messenger::messaging`]), a saved Glific flow result.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AnalyticsRow {
    /// The tenant.
    pub tenant_id: String,
    /// The channel.
    pub channel_id: String,
    /// The contact.
    pub contact_id: String,
    /// When.
    #[serde(serialize_with = "micros_text")]
    pub ts: i64,
    /// `referral`, `flow_result`.
    pub category: &'static str,
    /// Messenger: `referral.source` lower-cased (`ads`, `shortlink`, ...); Glific: `<flow
    /// name>/<result key>`.
    pub action: String,
    /// Messenger: `referral.ad_id` for an ad, else `referral.ref`; Glific: the result's
    /// category, else its input.
    pub label: Option<String>,
    /// Glific: the input when it is a number.
    pub value: Option<f64>,
}

/// One body as it arrived (`webhook_bodies`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BodyRow {
    /// The tenant when every part of the body goes to that one tenant (nothing unrouted), else
    /// NULL.
    pub tenant_id: Option<String>,
    /// `whatsapp`, `messenger` or `instagram` ([`crate::ingest::webhook::Platform::name`]).
    pub platform: &'static str,
    /// Lower-case hex SHA-256 of the raw body: with `platform`, the natural key.
    pub body_sha256: String,
    /// The earliest message or status time in the body, else `received_at`.
    #[serde(serialize_with = "micros_text")]
    pub ts: i64,
    /// When the body was received (the WAL's accept time; for a file: the import's time).
    #[serde(serialize_with = "micros_text")]
    pub received_at: i64,
    /// The first `metadata.phone_number_id` of the body (Messenger, Instagram: the first
    /// `entry[].id`, the page or Instagram account).
    pub phone_number_id: Option<String>,
    /// The raw JSON text, byte for byte.
    pub body: String,
}

/// A body, or a part of it, no channel takes (`webhook_unrouted`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnroutedRow {
    /// Always NULL: nobody's tenant (only sessions that see every tenant read it).
    pub tenant_id: Option<String>,
    /// As in [`BodyRow`].
    pub platform: &'static str,
    /// As in [`BodyRow`].
    pub body_sha256: String,
    /// The phone number id (page id, Instagram account id) no channel has (NULL when the body
    /// names none).
    pub phone_number_id: Option<String>,
    /// Why it was not routed.
    pub reason: String,
    /// As in [`BodyRow`].
    #[serde(serialize_with = "micros_text")]
    pub ts: i64,
    /// As in [`BodyRow`].
    #[serde(serialize_with = "micros_text")]
    pub received_at: i64,
    /// The raw JSON text.
    pub body: String,
}

/// Prefix of the `contact_id` of a user known only by a business-scoped user id.
pub const BSUID_PREFIX: &str = "bsuid:";

/// The `contact_id` of a WhatsApp user as one body shows it: the `wa_id` (digits, no `+`) when
/// known, as every other source of chatlake names contacts; else `bsuid:` + the business-scoped
/// user id (reference 5.5), stable for the user within the business. `None` when neither is
/// known. A user with a business-scoped user id then gets the `contact_id` its first sighting
/// gave, over all bodies ([`super::alias`]).
pub fn contact_id(wa_id: Option<&str>, bsuid: Option<&str>) -> Option<String> {
    match (wa_id, bsuid) {
        (Some(wa), _) => Some(wa.to_string()),
        (None, Some(user)) => Some(format!("{BSUID_PREFIX}{user}")),
        (None, None) => None,
    }
}
