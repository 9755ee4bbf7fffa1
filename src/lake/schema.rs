//! The schema of every lake table, defined once (SPEC section 3, plus the derived
//! `message_outcomes`, which the engine writes itself: [`TableDef::derived`]).
//!
//! | table                | partitioned by `dt` | sort key                                        |
//! |----------------------|---------------------|-------------------------------------------------|
//! | tenants              | no                  | tenant_id                                       |
//! | channels             | no                  | tenant_id, channel_id                           |
//! | contacts             | no                  | tenant_id, channel_id, contact_id               |
//! | every fact table     | yes (UTC date of ts)| tenant_id, channel_id, contact_id, ts (if any)  |
//! | comment_replies      | yes                 | tenant_id, channel_id, ts                        |
//! | webhook_bodies, webhook_unrouted | yes (UTC date of `ts`: the body's earliest event time, else its receipt) | tenant_id, ts |
//!
//! Decisions where Delta Lake cannot hold the spec's Arrow type: Delta has no unsigned
//! integers, so `calling_code` is stored as `Int32` (the type `phone_calling_code` returns).
//! Timestamps are `Timestamp(Microsecond, "UTC")`; identifiers are `Utf8`. The partition column
//! `dt` is a Delta `date` partition column: it is not stored inside the Parquet files, it lives in
//! the directory name `dt=YYYY-MM-DD` and the commit log, and reads back as `Date32`.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Name of the partition column of every fact table.
pub const PARTITION_COLUMN: &str = "dt";

/// One lake table: its name, Arrow schema (without `dt`), and layout.
#[derive(Debug, Clone)]
pub struct TableDef {
    /// Table name, also the directory under the lake root.
    pub name: &'static str,
    /// The columns a writer supplies (the partition column `dt` is derived from `time_column`).
    pub schema: SchemaRef,
    /// The event-time column whose UTC date becomes `dt`; `None` for unpartitioned dimension tables.
    pub time_column: Option<&'static str>,
    /// Columns data files are sorted by, in order (those of `tenant_id, channel_id, contact_id, ts` that exist).
    pub sort_key: &'static [&'static str],
    /// One-line description, shown in the README and as the table comment.
    pub description: &'static str,
    /// Written by the engine from the other tables ([`crate::engine::derived`]) rather than by
    /// ingest; a refresh rebuilds it whole.
    pub derived: bool,
}

impl TableDef {
    /// Whether the table is partitioned by `dt`.
    pub fn is_partitioned(&self) -> bool {
        self.time_column.is_some()
    }

    /// The schema as stored in Delta: the writer's columns plus `dt DATE` for fact tables.
    pub fn delta_schema(&self) -> SchemaRef {
        if !self.is_partitioned() {
            return self.schema.clone();
        }
        let mut fields: Vec<Arc<Field>> = self.schema.fields().iter().cloned().collect();
        fields.push(Arc::new(Field::new(
            PARTITION_COLUMN,
            DataType::Date32,
            false,
        )));
        Arc::new(Schema::new(fields))
    }
}

fn utf8(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

fn ts(name: &str, nullable: bool) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        nullable,
    )
}

fn boolean(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Boolean, nullable)
}

fn int32(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Int32, nullable)
}

fn schema(fields: Vec<Field>) -> SchemaRef {
    Arc::new(Schema::new(fields))
}

const FACT_SORT: &[&str] = &["tenant_id", "channel_id", "contact_id", "ts"];

static TABLES: LazyLock<Vec<TableDef>> = LazyLock::new(|| {
    vec![
        TableDef {
            name: "tenants",
            schema: schema(vec![
                utf8("tenant_id", false),
                utf8("name", true),
                utf8("tz", false),
            ]),
            time_column: None,
            sort_key: &["tenant_id"],
            description: "Tenants (organisations) and their IANA time zone",
            derived: false,
        },
        TableDef {
            name: "channels",
            schema: schema(vec![
                utf8("tenant_id", false),
                utf8("channel_id", false),
                utf8("channel_type", false),
                utf8("integration", true),
                utf8("waba_id", true),
                utf8("phone_number_id", true),
                utf8("display_phone", true),
                utf8("page_id", true),
                utf8("tz", true),
            ]),
            time_column: None,
            sort_key: &["tenant_id", "channel_id"],
            description: "Channels (WhatsApp numbers, pages, web chats) of each tenant",
            derived: false,
        },
        TableDef {
            name: "messages",
            schema: schema(vec![
                utf8("tenant_id", false),
                utf8("channel_id", false),
                utf8("message_id", false),
                utf8("direction", false),
                ts("ts", false),
                utf8("contact_id", false),
                utf8("wa_id", true),
                utf8("msg_type", false),
                utf8("interaction_id", true),
                boolean("is_template", false),
                utf8("template_name", true),
                utf8("template_category", true),
                utf8("author_type", false),
                utf8("author_id", true),
                utf8("flow_id", true),
                utf8("campaign_id", true),
                utf8("context_message_id", true),
                utf8("referral_source_type", true),
                utf8("referral_source_id", true),
                boolean("in_csw", true),
                utf8("country_code", true),
                int32("calling_code", true),
                utf8("body_text", true),
                ts("ingested_at", false),
            ]),
            time_column: Some("ts"),
            sort_key: FACT_SORT,
            description: "One row per message, inbound and outbound",
            derived: false,
        },
        TableDef {
            name: "message_statuses",
            schema: schema(vec![
                utf8("tenant_id", false),
                utf8("channel_id", false),
                utf8("message_id", false),
                utf8("status", false),
                ts("ts", false),
                utf8("conversation_id", true),
                utf8("conversation_origin", true),
                ts("conversation_expires_at", true),
                utf8("pricing_model", true),
                boolean("pricing_billable", true),
                utf8("pricing_category", true),
                utf8("pricing_type", true),
                int32("error_code", true),
                utf8("error_title", true),
                utf8("error_bucket", true),
                ts("ingested_at", false),
            ]),
            time_column: Some("ts"),
            sort_key: &["tenant_id", "channel_id", "message_id", "ts"],
            description: "One row per delivery status callback (out of order, duplicated, never overwritten)",
            derived: false,
        },
        TableDef {
            name: "contacts",
            schema: schema(vec![
                utf8("tenant_id", false),
                utf8("channel_id", false),
                utf8("contact_id", false),
                utf8("wa_id", true),
                utf8("name", true),
                utf8("language", true),
                utf8("country_code", true),
                int32("calling_code", true),
                ts("created_at", false),
                utf8("provider_status", true),
                utf8("optin_status", true),
                ts("optin_at", true),
                ts("optout_at", true),
                ts("updated_at", false),
            ]),
            time_column: None,
            sort_key: &["tenant_id", "channel_id", "contact_id"],
            description: "Contacts snapshot: identity, language, country, opt-in state",
            derived: false,
        },
        TableDef {
            name: "contact_events",
            schema: schema(vec![
                utf8("tenant_id", false),
                utf8("channel_id", true),
                utf8("contact_id", false),
                ts("ts", false),
                utf8("event_type", false),
                utf8("method", true),
                utf8("key", true),
                utf8("value", true),
            ]),
            time_column: Some("ts"),
            sort_key: FACT_SORT,
            description: "Contact lifecycle events: created, opted in/out, validity, blocks, field updates",
            derived: false,
        },
        TableDef {
            name: "flow_events",
            schema: schema(vec![
                utf8("tenant_id", false),
                utf8("channel_id", true),
                utf8("flow_id", false),
                utf8("flow_name", true),
                utf8("flow_run_id", false),
                utf8("contact_id", false),
                ts("ts", false),
                utf8("event_type", false),
                utf8("node_id", true),
                utf8("trigger", true),
                utf8("campaign_id", true),
            ]),
            time_column: Some("ts"),
            sort_key: FACT_SORT,
            description: "Flow (bot) run events: started, node entered, completed, killed, expired, errored",
            derived: false,
        },
        TableDef {
            name: "campaigns",
            schema: schema(vec![
                utf8("tenant_id", false),
                utf8("channel_id", false),
                utf8("campaign_id", false),
                utf8("name", true),
                utf8("kind", false),
                utf8("template_name", true),
                utf8("template_category", true),
                utf8("flow_id", true),
                utf8("parent_campaign_id", true),
                ts("created_at", false),
                ts("scheduled_at", true),
                ts("started_at", true),
                ts("finished_at", true),
                Field::new("audience_size", DataType::Int64, true),
            ]),
            time_column: Some("created_at"),
            sort_key: &["tenant_id", "channel_id", "campaign_id"],
            description: "Pushes, broadcasts, template campaigns and reminders",
            derived: false,
        },
        TableDef {
            name: "campaign_recipients",
            schema: schema(vec![
                utf8("tenant_id", false),
                utf8("campaign_id", false),
                utf8("contact_id", false),
                int32("attempt", false),
                utf8("message_id", true),
                ts("queued_at", true),
                ts("processed_at", true),
                utf8("send_result", false),
                int32("reject_code", true),
                utf8("reject_reason", true),
            ]),
            time_column: Some("queued_at"),
            sort_key: &["tenant_id", "campaign_id", "contact_id", "attempt"],
            description: "One row per campaign recipient per attempt, with the send result",
            derived: false,
        },
        TableDef {
            name: "analytics_events",
            schema: schema(vec![
                utf8("tenant_id", false),
                utf8("channel_id", true),
                utf8("contact_id", true),
                ts("ts", false),
                utf8("category", false),
                utf8("action", false),
                utf8("label", true),
                Field::new("value", DataType::Float64, true),
            ]),
            time_column: Some("ts"),
            sort_key: FACT_SORT,
            description: "Custom analytics events: stored actions, goals, tracked behaviours",
            derived: false,
        },
        TableDef {
            name: "comments",
            schema: schema(vec![
                utf8("tenant_id", false),
                utf8("channel_id", false),
                utf8("post_id", false),
                utf8("comment_id", false),
                utf8("contact_id", true),
                ts("ts", false),
                utf8("text", true),
                boolean("matched", false),
                utf8("reply_kind", true),
                ts("replied_at", true),
            ]),
            time_column: Some("ts"),
            sort_key: FACT_SORT,
            description: "Facebook/Instagram comments and the comment-to-reply outcome",
            derived: false,
        },
        TableDef {
            name: "comment_replies",
            schema: schema(vec![
                utf8("tenant_id", false),
                utf8("channel_id", false),
                utf8("comment_id", false),
                utf8("reply_id", false),
                utf8("post_id", true),
                utf8("reply_kind", false),
                ts("ts", false),
                utf8("text", true),
            ]),
            time_column: Some("ts"),
            sort_key: &["tenant_id", "channel_id", "ts"],
            description: "The page's (account's) replies to Facebook/Instagram comments: a comment with a reply counts as matched in the comment reports",
            derived: false,
        },
        TableDef {
            name: "chat_events",
            schema: schema(vec![
                utf8("tenant_id", false),
                utf8("channel_id", false),
                utf8("chat_id", false),
                utf8("contact_id", false),
                ts("ts", false),
                utf8("event", false),
                utf8("actor_type", true),
                utf8("actor_id", true),
            ]),
            time_column: Some("ts"),
            sort_key: FACT_SORT,
            description: "Inbox chat state changes: opened, reopened, closed, assigned",
            derived: false,
        },
        TableDef {
            name: "conversations",
            schema: schema(vec![
                utf8("tenant_id", false),
                utf8("channel_id", false),
                utf8("waba_id", true),
                utf8("conversation_id", false),
                utf8("contact_id", false),
                ts("opened_at", false),
                ts("expires_at", false),
                utf8("origin", false),
                utf8("pricing_model", true),
                boolean("billable", true),
                utf8("country_code", true),
                utf8("source", false),
            ]),
            time_column: Some("opened_at"),
            sort_key: &["tenant_id", "channel_id", "contact_id", "opened_at"],
            description: "Billing conversations: as the platform's webhooks reported them (source webhook), or derived with wa_conversations for numbers without webhook data (source derived)",
            derived: false,
        },
        TableDef {
            name: "webhook_bodies",
            schema: schema(vec![
                utf8("tenant_id", true),
                utf8("platform", false),
                utf8("body_sha256", false),
                ts("ts", false),
                ts("received_at", false),
                utf8("phone_number_id", true),
                utf8("body", false),
            ]),
            time_column: Some("ts"),
            sort_key: &["tenant_id", "ts"],
            description: "Every webhook body as it arrived (raw JSON), so rows can be re-derived after a parser fix; tenant_id is NULL unless all of the body routes to one tenant",
            derived: false,
        },
        TableDef {
            name: "webhook_unrouted",
            schema: schema(vec![
                utf8("tenant_id", true),
                utf8("platform", false),
                utf8("body_sha256", false),
                utf8("phone_number_id", true),
                utf8("reason", false),
                ts("ts", false),
                ts("received_at", false),
                utf8("body", false),
            ]),
            time_column: Some("ts"),
            sort_key: &["tenant_id", "ts"],
            description: "Webhook bodies (or parts of them) for a phone number or page no channels row has, kept whole with the reason; tenant_id is always NULL",
            derived: false,
        },
        TableDef {
            name: "message_outcomes",
            schema: schema(vec![
                utf8("tenant_id", false),
                utf8("channel_id", false),
                utf8("message_id", false),
                utf8("contact_id", false),
                ts("ts", false),
                boolean("is_template", false),
                utf8("template_name", true),
                utf8("campaign_id", true),
                ts("sent_at", true),
                ts("delivered_at", true),
                ts("read_at", true),
                ts("failed_at", true),
                utf8("final_status", false),
                int32("error_code", true),
                utf8("error_title", true),
                ts("replied_at", true),
                utf8("reply_kind", true),
                boolean("contact_wrote_before", false),
            ]),
            time_column: Some("ts"),
            sort_key: FACT_SORT,
            description: "Derived, one row per outbound message: its delivery timeline, final status and first error (message_delivery), its reply (message_response), and whether the contact had written before; rebuilt from messages and message_statuses on every refresh",
            derived: true,
        },
    ]
});

/// Tables added after lakes were first written: a lake without them reads them as empty
/// (ingest creates them on first use), rather than failing to open.
pub const ADDED_LATER: &[&str] = &["webhook_bodies", "webhook_unrouted", "comment_replies"];

/// Every lake table, in a stable order (dimensions first).
pub fn tables() -> &'static [TableDef] {
    &TABLES
}

/// The table of that name, if it is one of ours.
pub fn table(name: &str) -> Option<&'static TableDef> {
    TABLES.iter().find(|t| t.name == name)
}
