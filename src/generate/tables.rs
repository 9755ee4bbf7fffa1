//! The rows of every lake table, each declared once as a typed struct whose fields are the
//! table's columns, and the buffers that turn them into Arrow batches.
//!
//! A [`TableBuf`] is built from the table's schema in `crate::lake::schema` (so the batches
//! always carry exactly that schema) and serialises rows into it by column name with arrow's
//! serde support (`arrow::json`'s `Decoder::serialize`, strict: a field the schema lacks is an
//! error). At construction the row struct's fields are checked against the schema's columns: a
//! schema change the generator does not know about is an error, not a misaligned or silently
//! incomplete batch. Rows borrow their strings, so a row allocates nothing.

use arrow::datatypes::SchemaRef;
use arrow::json::ReaderBuilder;
use arrow::json::reader::Decoder;
use arrow::record_batch::RecordBatch;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::lake::schema::table;

/// Where finished batches go: the table name and the batch.
pub(crate) type Sink<'a> = dyn FnMut(&'static str, RecordBatch) -> Result<()> + 'a;

/// A row of one lake table: its fields are the table's columns (by name, as in
/// `crate::lake::schema`), its `TABLE` the table.
pub(crate) trait LakeRow: Serialize + Default {
    /// The table the row belongs to.
    const TABLE: &'static str;

    /// Appends the row to `t`, the buffer of [`Self::TABLE`](LakeRow::TABLE).
    fn append(&self, t: &mut TableBuf) {
        t.push(self);
    }
}

/// The field names of `R`, sorted (from a default row serialised as a map).
fn field_names<R: LakeRow>() -> Result<Vec<String>> {
    match serde_json::to_value(R::default()) {
        Ok(serde_json::Value::Object(map)) => {
            let mut names: Vec<String> = map.keys().cloned().collect();
            names.sort();
            Ok(names)
        }
        Ok(other) => Err(Error::Config(format!(
            "generator: a '{}' row is not a struct: {other}",
            R::TABLE
        ))),
        Err(e) => Err(Error::Config(format!(
            "generator: a '{}' row does not serialise: {e}",
            R::TABLE
        ))),
    }
}

/// The rows of one table not yet handed out, plus its schema.
pub(crate) struct TableBuf {
    /// Table name.
    pub name: &'static str,
    schema: SchemaRef,
    decoder: Decoder,
    /// The first row that failed to serialise (reported by the next `finish`).
    error: Option<Error>,
    /// Rows handed out in finished batches so far.
    pub total: u64,
}

/// Rows a buffer makes room for up front.
const CAP: usize = 8192;

impl TableBuf {
    /// The buffer of `R`'s table, whose schema must have exactly `R`'s fields as columns.
    pub fn of<R: LakeRow>() -> Result<Self> {
        let name = R::TABLE;
        let def = table(name).ok_or_else(|| {
            Error::Config(format!("generator: no table '{name}' in the lake schema"))
        })?;
        // Rows are matched to columns by name: the two name sets must be equal.
        let mut columns: Vec<&str> = def
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        columns.sort_unstable();
        let fields = field_names::<R>()?;
        if fields != columns {
            return Err(Error::Config(format!(
                "generator: the schema of '{name}' changed: lake has {columns:?}, generator writes {fields:?}"
            )));
        }
        let decoder = ReaderBuilder::new(def.schema.clone())
            .with_strict_mode(true)
            // Only a capacity hint here: `serialize` buffers any number of rows, and batches
            // are cut by `drain`.
            .with_batch_size(CAP)
            .build_decoder()?;
        Ok(TableBuf {
            name,
            schema: def.schema.clone(),
            decoder,
            error: None,
            total: 0,
        })
    }

    /// Appends one row (an error is kept for the next [`finish`](Self::finish)).
    fn push(&mut self, row: &impl Serialize) {
        if let Err(e) = self.decoder.serialize(std::slice::from_ref(row))
            && self.error.is_none()
        {
            self.error = Some(Error::Config(format!(
                "generator: a '{}' row: {e}",
                self.name
            )));
        }
    }

    /// Rows buffered.
    pub fn len(&self) -> usize {
        self.decoder.len()
    }

    /// The buffered rows as a batch (empties the buffer).
    pub fn finish(&mut self) -> Result<RecordBatch> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let batch = match self.decoder.flush()? {
            Some(batch) => batch,
            None => RecordBatch::new_empty(self.schema.clone()),
        };
        self.total += batch.num_rows() as u64;
        Ok(batch)
    }

    /// Sends the buffered rows to `sink` if there are at least `min_rows` of them (and any).
    pub fn drain(&mut self, min_rows: usize, sink: &mut Sink<'_>) -> Result<()> {
        let rows = self.len();
        if self.error.is_some() || (rows > 0 && rows >= min_rows) {
            let batch = self.finish()?;
            sink(self.name, batch)?;
        }
        Ok(())
    }
}

/// A `tenants` row.
#[derive(Debug, Default, Serialize)]
pub(crate) struct TenantRow<'a> {
    pub tenant_id: &'a str,
    pub name: &'a str,
    pub tz: &'a str,
}
impl LakeRow for TenantRow<'_> {
    const TABLE: &'static str = "tenants";
}

/// A `channels` row.
#[derive(Debug, Default, Serialize)]
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
impl LakeRow for ChannelRow<'_> {
    const TABLE: &'static str = "channels";
}

/// A `messages` row.
#[derive(Debug, Default, Serialize)]
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
impl LakeRow for MessageRow<'_> {
    const TABLE: &'static str = "messages";
}

/// A `message_statuses` row.
#[derive(Debug, Default, Serialize)]
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
impl LakeRow for StatusRow<'_> {
    const TABLE: &'static str = "message_statuses";
}

/// A `contacts` row.
#[derive(Debug, Default, Serialize)]
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
impl LakeRow for ContactRow<'_> {
    const TABLE: &'static str = "contacts";
}

/// A `contact_events` row.
#[derive(Debug, Default, Serialize)]
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
impl LakeRow for ContactEventRow<'_> {
    const TABLE: &'static str = "contact_events";
}

/// A `flow_events` row.
#[derive(Debug, Default, Serialize)]
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
impl LakeRow for FlowEventRow<'_> {
    const TABLE: &'static str = "flow_events";
}

/// A `campaigns` row.
#[derive(Debug, Default, Serialize)]
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
impl LakeRow for CampaignRow<'_> {
    const TABLE: &'static str = "campaigns";
}

/// A `campaign_recipients` row.
#[derive(Debug, Default, Serialize)]
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
impl LakeRow for RecipientRow<'_> {
    const TABLE: &'static str = "campaign_recipients";
}

/// A `analytics_events` row.
#[derive(Debug, Default, Serialize)]
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
impl LakeRow for AnalyticsRow<'_> {
    const TABLE: &'static str = "analytics_events";
}

/// A `comments` row.
#[derive(Debug, Default, Serialize)]
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
impl LakeRow for CommentRow<'_> {
    const TABLE: &'static str = "comments";
}

/// A `chat_events` row.
#[derive(Debug, Default, Serialize)]
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
impl LakeRow for ChatEventRow<'_> {
    const TABLE: &'static str = "chat_events";
}

/// A `conversations` row.
#[derive(Debug, Default, Serialize)]
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
    /// Always `webhook`: the generator writes the platform's conversations.
    pub source: &'static str,
}
impl LakeRow for ConversationRow<'_> {
    const TABLE: &'static str = "conversations";
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
            tenants: TableBuf::of::<TenantRow>()?,
            channels: TableBuf::of::<ChannelRow>()?,
            messages: TableBuf::of::<MessageRow>()?,
            statuses: TableBuf::of::<StatusRow>()?,
            contacts: TableBuf::of::<ContactRow>()?,
            contact_events: TableBuf::of::<ContactEventRow>()?,
            flow_events: TableBuf::of::<FlowEventRow>()?,
            campaigns: TableBuf::of::<CampaignRow>()?,
            recipients: TableBuf::of::<RecipientRow>()?,
            analytics: TableBuf::of::<AnalyticsRow>()?,
            comments: TableBuf::of::<CommentRow>()?,
            chat_events: TableBuf::of::<ChatEventRow>()?,
            conversations: TableBuf::of::<ConversationRow>()?,
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

/// `batch` with every timestamp column rounded down to the whole second (see
/// [`super::GenerateConfig::whole_seconds`]).
pub(crate) fn whole_seconds(batch: &RecordBatch) -> Result<RecordBatch> {
    use arrow::array::{Array, ArrayRef, AsArray};
    use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
    const SECOND: i64 = 1_000_000;
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Timestamp(TimeUnit::Microsecond, zone) => {
                let micros = column.as_primitive::<TimestampMicrosecondType>();
                let floored: arrow::array::TimestampMicrosecondArray =
                    micros.unary(|v| v.div_euclid(SECOND) * SECOND);
                std::sync::Arc::new(floored.with_timezone_opt(zone.clone())) as ArrayRef
            }
            _ => column.clone(),
        })
        .collect();
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}
