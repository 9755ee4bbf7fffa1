//! Arrow builders for every lake table, one typed row struct per table.
//!
//! A [`TableBuf`] is built from the table's schema in `crate::lake::schema` (so the batches
//! always carry exactly that schema) and checked against the column list the row struct fills;
//! a schema change that the generator does not know about is reported as an error, not as a
//! misaligned batch. Rows borrow their strings, so appending a row allocates nothing.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::lake::schema::table;

/// Where finished batches go: the table name and the batch.
pub(crate) type Sink<'a> = dyn FnMut(&'static str, RecordBatch) -> Result<()> + 'a;

enum Col {
    Str(StringBuilder),
    Bool(BooleanBuilder),
    I32(Int32Builder),
    I64(Int64Builder),
    F64(Float64Builder),
    Ts(TimestampMicrosecondBuilder),
}

impl Col {
    fn new(dt: &DataType, cap: usize) -> Result<Self> {
        Ok(match dt {
            DataType::Utf8 => Col::Str(StringBuilder::with_capacity(cap, cap * 16)),
            DataType::Boolean => Col::Bool(BooleanBuilder::with_capacity(cap)),
            DataType::Int32 => Col::I32(Int32Builder::with_capacity(cap)),
            DataType::Int64 => Col::I64(Int64Builder::with_capacity(cap)),
            DataType::Float64 => Col::F64(Float64Builder::with_capacity(cap)),
            DataType::Timestamp(TimeUnit::Microsecond, tz) => {
                let b = TimestampMicrosecondBuilder::with_capacity(cap);
                Col::Ts(match tz {
                    Some(tz) => b.with_timezone(tz.clone()),
                    None => b,
                })
            }
            other => {
                return Err(Error::Config(format!(
                    "generator: unsupported column type {other} in the lake schema"
                )));
            }
        })
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Col::Str(b) => Arc::new(b.finish()),
            Col::Bool(b) => Arc::new(b.finish()),
            Col::I32(b) => Arc::new(b.finish()),
            Col::I64(b) => Arc::new(b.finish()),
            Col::F64(b) => Arc::new(b.finish()),
            Col::Ts(b) => Arc::new(b.finish()),
        }
    }
}

/// Column builders of one table plus its schema.
pub(crate) struct TableBuf {
    /// Table name.
    pub name: &'static str,
    schema: SchemaRef,
    cols: Vec<Col>,
    rows: usize,
    /// Rows handed out in finished batches so far.
    pub total: u64,
}

const CAP: usize = 8192;

impl TableBuf {
    /// Builders for `name`, whose schema must have exactly the columns `expected`, in order.
    pub fn new(name: &'static str, expected: &[&str]) -> Result<Self> {
        let def = table(name).ok_or_else(|| {
            Error::Config(format!("generator: no table '{name}' in the lake schema"))
        })?;
        let names: Vec<&str> = def
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        if names != expected {
            return Err(Error::Config(format!(
                "generator: the schema of '{name}' changed: lake has {names:?}, generator writes {expected:?}"
            )));
        }
        let cols = def
            .schema
            .fields()
            .iter()
            .map(|f| Col::new(f.data_type(), CAP))
            .collect::<Result<Vec<_>>>()?;
        Ok(TableBuf {
            name,
            schema: def.schema.clone(),
            cols,
            rows: 0,
            total: 0,
        })
    }

    /// Rows buffered.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// The buffered rows as a batch (empties the builders).
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let arrays: Vec<ArrayRef> = self.cols.iter_mut().map(Col::finish).collect();
        self.total += self.rows as u64;
        self.rows = 0;
        Ok(RecordBatch::try_new(self.schema.clone(), arrays)?)
    }

    /// Sends the buffered rows to `sink` if there are at least `min_rows` of them (and any).
    pub fn drain(&mut self, min_rows: usize, sink: &mut Sink<'_>) -> Result<()> {
        if self.rows > 0 && self.rows >= min_rows {
            let batch = self.finish()?;
            sink(self.name, batch)?;
        }
        Ok(())
    }

    fn s(&mut self, i: usize, v: &str) {
        if let Col::Str(b) = &mut self.cols[i] {
            b.append_value(v);
        }
    }
    fn os(&mut self, i: usize, v: Option<&str>) {
        if let Col::Str(b) = &mut self.cols[i] {
            b.append_option(v);
        }
    }
    fn ob(&mut self, i: usize, v: Option<bool>) {
        if let Col::Bool(b) = &mut self.cols[i] {
            b.append_option(v);
        }
    }
    fn oi32(&mut self, i: usize, v: Option<i32>) {
        if let Col::I32(b) = &mut self.cols[i] {
            b.append_option(v);
        }
    }
    fn oi64(&mut self, i: usize, v: Option<i64>) {
        if let Col::I64(b) = &mut self.cols[i] {
            b.append_option(v);
        }
    }
    fn of64(&mut self, i: usize, v: Option<f64>) {
        if let Col::F64(b) = &mut self.cols[i] {
            b.append_option(v);
        }
    }
    fn ots(&mut self, i: usize, v: Option<i64>) {
        if let Col::Ts(b) = &mut self.cols[i] {
            b.append_option(v);
        }
    }
    fn ts(&mut self, i: usize, v: i64) {
        self.ots(i, Some(v));
    }
    fn b(&mut self, i: usize, v: bool) {
        self.ob(i, Some(v));
    }
    fn i32(&mut self, i: usize, v: i32) {
        self.oi32(i, Some(v));
    }
    fn end(&mut self) {
        self.rows += 1;
    }
}

/// Column order of `tenants`.
pub(crate) const TENANT_COLS: [&str; 3] = ["tenant_id", "name", "tz"];
/// A `tenants` row.
pub(crate) struct TenantRow<'a> {
    pub tenant_id: &'a str,
    pub name: &'a str,
    pub tz: &'a str,
}
impl TenantRow<'_> {
    /// Appends the row.
    pub fn append(&self, t: &mut TableBuf) {
        t.s(0, self.tenant_id);
        t.os(1, Some(self.name));
        t.s(2, self.tz);
        t.end();
    }
}

/// Column order of `channels`.
pub(crate) const CHANNEL_COLS: [&str; 9] = [
    "tenant_id",
    "channel_id",
    "channel_type",
    "integration",
    "waba_id",
    "phone_number_id",
    "display_phone",
    "page_id",
    "tz",
];
/// A `channels` row.
pub(crate) struct ChannelRow<'a> {
    pub tenant_id: &'a str,
    pub channel_id: &'a str,
    pub channel_type: &'a str,
    pub integration: Option<&'a str>,
    pub waba_id: Option<&'a str>,
    pub phone_number_id: Option<&'a str>,
    pub display_phone: Option<&'a str>,
    pub page_id: Option<&'a str>,
    pub tz: Option<&'a str>,
}
impl ChannelRow<'_> {
    /// Appends the row.
    pub fn append(&self, t: &mut TableBuf) {
        t.s(0, self.tenant_id);
        t.s(1, self.channel_id);
        t.s(2, self.channel_type);
        t.os(3, self.integration);
        t.os(4, self.waba_id);
        t.os(5, self.phone_number_id);
        t.os(6, self.display_phone);
        t.os(7, self.page_id);
        t.os(8, self.tz);
        t.end();
    }
}

/// Column order of `messages`.
pub(crate) const MESSAGE_COLS: [&str; 24] = [
    "tenant_id",
    "channel_id",
    "message_id",
    "direction",
    "ts",
    "contact_id",
    "wa_id",
    "msg_type",
    "interaction_id",
    "is_template",
    "template_name",
    "template_category",
    "author_type",
    "author_id",
    "flow_id",
    "campaign_id",
    "context_message_id",
    "referral_source_type",
    "referral_source_id",
    "in_csw",
    "country_code",
    "calling_code",
    "body_text",
    "ingested_at",
];
/// A `messages` row.
pub(crate) struct MessageRow<'a> {
    pub tenant_id: &'a str,
    pub channel_id: &'a str,
    pub message_id: &'a str,
    pub direction: &'static str,
    pub ts: i64,
    pub contact_id: &'a str,
    pub wa_id: Option<&'a str>,
    pub msg_type: &'static str,
    pub interaction_id: Option<&'a str>,
    pub is_template: bool,
    pub template_name: Option<&'a str>,
    pub template_category: Option<&'static str>,
    pub author_type: &'static str,
    pub author_id: Option<&'a str>,
    pub flow_id: Option<&'a str>,
    pub campaign_id: Option<&'a str>,
    pub context_message_id: Option<&'a str>,
    pub referral_source_type: Option<&'static str>,
    pub referral_source_id: Option<&'a str>,
    pub in_csw: Option<bool>,
    pub country_code: Option<&'static str>,
    pub calling_code: Option<i32>,
    pub body_text: Option<&'a str>,
    pub ingested_at: i64,
}
impl MessageRow<'_> {
    /// Appends the row.
    pub fn append(&self, t: &mut TableBuf) {
        t.s(0, self.tenant_id);
        t.s(1, self.channel_id);
        t.s(2, self.message_id);
        t.s(3, self.direction);
        t.ts(4, self.ts);
        t.s(5, self.contact_id);
        t.os(6, self.wa_id);
        t.s(7, self.msg_type);
        t.os(8, self.interaction_id);
        t.b(9, self.is_template);
        t.os(10, self.template_name);
        t.os(11, self.template_category);
        t.s(12, self.author_type);
        t.os(13, self.author_id);
        t.os(14, self.flow_id);
        t.os(15, self.campaign_id);
        t.os(16, self.context_message_id);
        t.os(17, self.referral_source_type);
        t.os(18, self.referral_source_id);
        t.ob(19, self.in_csw);
        t.os(20, self.country_code);
        t.oi32(21, self.calling_code);
        t.os(22, self.body_text);
        t.ts(23, self.ingested_at);
        t.end();
    }
}

/// Column order of `message_statuses`.
pub(crate) const STATUS_COLS: [&str; 16] = [
    "tenant_id",
    "channel_id",
    "message_id",
    "status",
    "ts",
    "conversation_id",
    "conversation_origin",
    "conversation_expires_at",
    "pricing_model",
    "pricing_billable",
    "pricing_category",
    "pricing_type",
    "error_code",
    "error_title",
    "error_bucket",
    "ingested_at",
];
/// A `message_statuses` row.
pub(crate) struct StatusRow<'a> {
    pub tenant_id: &'a str,
    pub channel_id: &'a str,
    pub message_id: &'a str,
    pub status: &'static str,
    pub ts: i64,
    pub conversation_id: Option<&'a str>,
    pub conversation_origin: Option<&'static str>,
    pub conversation_expires_at: Option<i64>,
    pub pricing_model: Option<&'static str>,
    pub pricing_billable: Option<bool>,
    pub pricing_category: Option<&'static str>,
    pub pricing_type: Option<&'static str>,
    pub error_code: Option<i32>,
    pub error_title: Option<&'static str>,
    pub error_bucket: Option<&'static str>,
    pub ingested_at: i64,
}
impl StatusRow<'_> {
    /// Appends the row.
    pub fn append(&self, t: &mut TableBuf) {
        t.s(0, self.tenant_id);
        t.s(1, self.channel_id);
        t.s(2, self.message_id);
        t.s(3, self.status);
        t.ts(4, self.ts);
        t.os(5, self.conversation_id);
        t.os(6, self.conversation_origin);
        t.ots(7, self.conversation_expires_at);
        t.os(8, self.pricing_model);
        t.ob(9, self.pricing_billable);
        t.os(10, self.pricing_category);
        t.os(11, self.pricing_type);
        t.oi32(12, self.error_code);
        t.os(13, self.error_title);
        t.os(14, self.error_bucket);
        t.ts(15, self.ingested_at);
        t.end();
    }
}

/// Column order of `contacts`.
pub(crate) const CONTACT_COLS: [&str; 14] = [
    "tenant_id",
    "channel_id",
    "contact_id",
    "wa_id",
    "name",
    "language",
    "country_code",
    "calling_code",
    "created_at",
    "provider_status",
    "optin_status",
    "optin_at",
    "optout_at",
    "updated_at",
];
/// A `contacts` row.
pub(crate) struct ContactRow<'a> {
    pub tenant_id: &'a str,
    pub channel_id: &'a str,
    pub contact_id: &'a str,
    pub wa_id: Option<&'a str>,
    pub name: Option<&'a str>,
    pub language: Option<&'a str>,
    pub country_code: Option<&'static str>,
    pub calling_code: Option<i32>,
    pub created_at: i64,
    pub provider_status: Option<&'static str>,
    pub optin_status: Option<&'static str>,
    pub optin_at: Option<i64>,
    pub optout_at: Option<i64>,
    pub updated_at: i64,
}
impl ContactRow<'_> {
    /// Appends the row.
    pub fn append(&self, t: &mut TableBuf) {
        t.s(0, self.tenant_id);
        t.s(1, self.channel_id);
        t.s(2, self.contact_id);
        t.os(3, self.wa_id);
        t.os(4, self.name);
        t.os(5, self.language);
        t.os(6, self.country_code);
        t.oi32(7, self.calling_code);
        t.ts(8, self.created_at);
        t.os(9, self.provider_status);
        t.os(10, self.optin_status);
        t.ots(11, self.optin_at);
        t.ots(12, self.optout_at);
        t.ts(13, self.updated_at);
        t.end();
    }
}

/// Column order of `contact_events`.
pub(crate) const CONTACT_EVENT_COLS: [&str; 8] = [
    "tenant_id",
    "channel_id",
    "contact_id",
    "ts",
    "event_type",
    "method",
    "key",
    "value",
];
/// A `contact_events` row.
pub(crate) struct ContactEventRow<'a> {
    pub tenant_id: &'a str,
    pub channel_id: &'a str,
    pub contact_id: &'a str,
    pub ts: i64,
    pub event_type: &'static str,
    pub method: Option<&'static str>,
    pub key: Option<&'static str>,
    pub value: Option<&'a str>,
}
impl ContactEventRow<'_> {
    /// Appends the row.
    pub fn append(&self, t: &mut TableBuf) {
        t.s(0, self.tenant_id);
        t.os(1, Some(self.channel_id));
        t.s(2, self.contact_id);
        t.ts(3, self.ts);
        t.s(4, self.event_type);
        t.os(5, self.method);
        t.os(6, self.key);
        t.os(7, self.value);
        t.end();
    }
}

/// Column order of `flow_events`.
pub(crate) const FLOW_EVENT_COLS: [&str; 11] = [
    "tenant_id",
    "channel_id",
    "flow_id",
    "flow_name",
    "flow_run_id",
    "contact_id",
    "ts",
    "event_type",
    "node_id",
    "trigger",
    "campaign_id",
];
/// A `flow_events` row.
pub(crate) struct FlowEventRow<'a> {
    pub tenant_id: &'a str,
    pub channel_id: &'a str,
    pub flow_id: &'a str,
    pub flow_name: &'a str,
    pub flow_run_id: &'a str,
    pub contact_id: &'a str,
    pub ts: i64,
    pub event_type: &'static str,
    pub node_id: Option<&'a str>,
    pub trigger: Option<&'static str>,
    pub campaign_id: Option<&'a str>,
}
impl FlowEventRow<'_> {
    /// Appends the row.
    pub fn append(&self, t: &mut TableBuf) {
        t.s(0, self.tenant_id);
        t.os(1, Some(self.channel_id));
        t.s(2, self.flow_id);
        t.os(3, Some(self.flow_name));
        t.s(4, self.flow_run_id);
        t.s(5, self.contact_id);
        t.ts(6, self.ts);
        t.s(7, self.event_type);
        t.os(8, self.node_id);
        t.os(9, self.trigger);
        t.os(10, self.campaign_id);
        t.end();
    }
}

/// Column order of `campaigns`.
pub(crate) const CAMPAIGN_COLS: [&str; 14] = [
    "tenant_id",
    "channel_id",
    "campaign_id",
    "name",
    "kind",
    "template_name",
    "template_category",
    "flow_id",
    "parent_campaign_id",
    "created_at",
    "scheduled_at",
    "started_at",
    "finished_at",
    "audience_size",
];
/// A `campaigns` row.
pub(crate) struct CampaignRow<'a> {
    pub tenant_id: &'a str,
    pub channel_id: &'a str,
    pub campaign_id: &'a str,
    pub name: &'a str,
    pub kind: &'static str,
    pub template_name: Option<&'a str>,
    pub template_category: Option<&'static str>,
    pub flow_id: Option<&'a str>,
    pub parent_campaign_id: Option<&'a str>,
    pub created_at: i64,
    pub scheduled_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub audience_size: Option<i64>,
}
impl CampaignRow<'_> {
    /// Appends the row.
    pub fn append(&self, t: &mut TableBuf) {
        t.s(0, self.tenant_id);
        t.s(1, self.channel_id);
        t.s(2, self.campaign_id);
        t.os(3, Some(self.name));
        t.s(4, self.kind);
        t.os(5, self.template_name);
        t.os(6, self.template_category);
        t.os(7, self.flow_id);
        t.os(8, self.parent_campaign_id);
        t.ts(9, self.created_at);
        t.ots(10, self.scheduled_at);
        t.ots(11, self.started_at);
        t.ots(12, self.finished_at);
        t.oi64(13, self.audience_size);
        t.end();
    }
}

/// Column order of `campaign_recipients`.
pub(crate) const RECIPIENT_COLS: [&str; 10] = [
    "tenant_id",
    "campaign_id",
    "contact_id",
    "attempt",
    "message_id",
    "queued_at",
    "processed_at",
    "send_result",
    "reject_code",
    "reject_reason",
];
/// A `campaign_recipients` row.
pub(crate) struct RecipientRow<'a> {
    pub tenant_id: &'a str,
    pub campaign_id: &'a str,
    pub contact_id: &'a str,
    pub attempt: i32,
    pub message_id: Option<&'a str>,
    pub queued_at: i64,
    pub processed_at: i64,
    pub send_result: &'static str,
    pub reject_code: Option<i32>,
    pub reject_reason: Option<&'static str>,
}
impl RecipientRow<'_> {
    /// Appends the row.
    pub fn append(&self, t: &mut TableBuf) {
        t.s(0, self.tenant_id);
        t.s(1, self.campaign_id);
        t.s(2, self.contact_id);
        t.i32(3, self.attempt);
        t.os(4, self.message_id);
        t.ts(5, self.queued_at);
        t.ts(6, self.processed_at);
        t.s(7, self.send_result);
        t.oi32(8, self.reject_code);
        t.os(9, self.reject_reason);
        t.end();
    }
}

/// Column order of `analytics_events`.
pub(crate) const ANALYTICS_COLS: [&str; 8] = [
    "tenant_id",
    "channel_id",
    "contact_id",
    "ts",
    "category",
    "action",
    "label",
    "value",
];
/// An `analytics_events` row.
pub(crate) struct AnalyticsRow<'a> {
    pub tenant_id: &'a str,
    pub channel_id: &'a str,
    pub contact_id: &'a str,
    pub ts: i64,
    pub category: &'static str,
    pub action: &'a str,
    pub label: Option<&'a str>,
    pub value: Option<f64>,
}
impl AnalyticsRow<'_> {
    /// Appends the row.
    pub fn append(&self, t: &mut TableBuf) {
        t.s(0, self.tenant_id);
        t.os(1, Some(self.channel_id));
        t.os(2, Some(self.contact_id));
        t.ts(3, self.ts);
        t.s(4, self.category);
        t.s(5, self.action);
        t.os(6, self.label);
        t.of64(7, self.value);
        t.end();
    }
}

/// Column order of `comments`.
pub(crate) const COMMENT_COLS: [&str; 10] = [
    "tenant_id",
    "channel_id",
    "post_id",
    "comment_id",
    "contact_id",
    "ts",
    "text",
    "matched",
    "reply_kind",
    "replied_at",
];
/// A `comments` row.
pub(crate) struct CommentRow<'a> {
    pub tenant_id: &'a str,
    pub channel_id: &'a str,
    pub post_id: &'a str,
    pub comment_id: &'a str,
    pub contact_id: Option<&'a str>,
    pub ts: i64,
    pub text: &'static str,
    pub matched: bool,
    pub reply_kind: &'static str,
    pub replied_at: Option<i64>,
}
impl CommentRow<'_> {
    /// Appends the row.
    pub fn append(&self, t: &mut TableBuf) {
        t.s(0, self.tenant_id);
        t.s(1, self.channel_id);
        t.s(2, self.post_id);
        t.s(3, self.comment_id);
        t.os(4, self.contact_id);
        t.ts(5, self.ts);
        t.os(6, Some(self.text));
        t.b(7, self.matched);
        t.os(8, Some(self.reply_kind));
        t.ots(9, self.replied_at);
        t.end();
    }
}

/// Column order of `chat_events`.
pub(crate) const CHAT_EVENT_COLS: [&str; 8] = [
    "tenant_id",
    "channel_id",
    "chat_id",
    "contact_id",
    "ts",
    "event",
    "actor_type",
    "actor_id",
];
/// A `chat_events` row.
pub(crate) struct ChatEventRow<'a> {
    pub tenant_id: &'a str,
    pub channel_id: &'a str,
    pub chat_id: &'a str,
    pub contact_id: &'a str,
    pub ts: i64,
    pub event: &'static str,
    pub actor_type: &'static str,
    pub actor_id: Option<&'a str>,
}
impl ChatEventRow<'_> {
    /// Appends the row.
    pub fn append(&self, t: &mut TableBuf) {
        t.s(0, self.tenant_id);
        t.s(1, self.channel_id);
        t.s(2, self.chat_id);
        t.s(3, self.contact_id);
        t.ts(4, self.ts);
        t.s(5, self.event);
        t.os(6, Some(self.actor_type));
        t.os(7, self.actor_id);
        t.end();
    }
}

/// Column order of `conversations`.
pub(crate) const CONVERSATION_COLS: [&str; 12] = [
    "tenant_id",
    "channel_id",
    "waba_id",
    "conversation_id",
    "contact_id",
    "opened_at",
    "expires_at",
    "origin",
    "pricing_model",
    "billable",
    "country_code",
    "source",
];
/// A `conversations` row.
pub(crate) struct ConversationRow<'a> {
    pub tenant_id: &'a str,
    pub channel_id: &'a str,
    pub waba_id: Option<&'a str>,
    pub conversation_id: &'a str,
    pub contact_id: &'a str,
    pub opened_at: i64,
    pub expires_at: i64,
    pub origin: &'static str,
    pub pricing_model: &'static str,
    pub billable: bool,
    pub country_code: Option<&'static str>,
}
impl ConversationRow<'_> {
    /// Appends the row (`source` is always `webhook`: these are the platform's conversations).
    pub fn append(&self, t: &mut TableBuf) {
        t.s(0, self.tenant_id);
        t.s(1, self.channel_id);
        t.os(2, self.waba_id);
        t.s(3, self.conversation_id);
        t.s(4, self.contact_id);
        t.ts(5, self.opened_at);
        t.ts(6, self.expires_at);
        t.s(7, self.origin);
        t.os(8, Some(self.pricing_model));
        t.b(9, self.billable);
        t.os(10, self.country_code);
        t.s(11, "webhook");
        t.end();
    }
}

/// The builders of every table.
pub(crate) struct Out {
    /// `tenants`.
    pub tenants: TableBuf,
    /// `channels`.
    pub channels: TableBuf,
    /// `messages`.
    pub messages: TableBuf,
    /// `message_statuses`.
    pub statuses: TableBuf,
    /// `contacts`.
    pub contacts: TableBuf,
    /// `contact_events`.
    pub contact_events: TableBuf,
    /// `flow_events`.
    pub flow_events: TableBuf,
    /// `campaigns`.
    pub campaigns: TableBuf,
    /// `campaign_recipients`.
    pub recipients: TableBuf,
    /// `analytics_events`.
    pub analytics: TableBuf,
    /// `comments`.
    pub comments: TableBuf,
    /// `chat_events`.
    pub chat_events: TableBuf,
    /// `conversations`.
    pub conversations: TableBuf,
}

impl Out {
    /// Empty builders for every table, checked against the lake schema.
    pub fn new() -> Result<Self> {
        Ok(Out {
            tenants: TableBuf::new("tenants", &TENANT_COLS)?,
            channels: TableBuf::new("channels", &CHANNEL_COLS)?,
            messages: TableBuf::new("messages", &MESSAGE_COLS)?,
            statuses: TableBuf::new("message_statuses", &STATUS_COLS)?,
            contacts: TableBuf::new("contacts", &CONTACT_COLS)?,
            contact_events: TableBuf::new("contact_events", &CONTACT_EVENT_COLS)?,
            flow_events: TableBuf::new("flow_events", &FLOW_EVENT_COLS)?,
            campaigns: TableBuf::new("campaigns", &CAMPAIGN_COLS)?,
            recipients: TableBuf::new("campaign_recipients", &RECIPIENT_COLS)?,
            analytics: TableBuf::new("analytics_events", &ANALYTICS_COLS)?,
            comments: TableBuf::new("comments", &COMMENT_COLS)?,
            chat_events: TableBuf::new("chat_events", &CHAT_EVENT_COLS)?,
            conversations: TableBuf::new("conversations", &CONVERSATION_COLS)?,
        })
    }

    fn all(&mut self) -> [&mut TableBuf; 13] {
        [
            &mut self.tenants,
            &mut self.channels,
            &mut self.messages,
            &mut self.statuses,
            &mut self.contacts,
            &mut self.contact_events,
            &mut self.flow_events,
            &mut self.campaigns,
            &mut self.recipients,
            &mut self.analytics,
            &mut self.comments,
            &mut self.chat_events,
            &mut self.conversations,
        ]
    }

    /// Sends every table holding at least `min_rows` rows to `sink` (0 = everything left).
    pub fn drain(&mut self, min_rows: usize, sink: &mut Sink<'_>) -> Result<()> {
        for t in self.all() {
            t.drain(min_rows.max(1), sink)?;
        }
        Ok(())
    }

    /// Rows produced per table (finished and still buffered), in the lake's table order.
    pub fn counts(&mut self) -> Vec<(&'static str, u64)> {
        let mut v: Vec<(&'static str, u64)> = self
            .all()
            .iter()
            .map(|t| (t.name, t.total + t.len() as u64))
            .collect();
        let order: Vec<&str> = crate::lake::schema::tables()
            .iter()
            .map(|t| t.name)
            .collect();
        v.sort_by_key(|(n, _)| order.iter().position(|o| o == n).unwrap_or(usize::MAX));
        v
    }
}
