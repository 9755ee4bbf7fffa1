//! Glific's BigQuery export tables (reference 1.1, 1.2 and Appendix A) into the lake:
//! `chatlake ingest --lake URL --format glific --tenant T DIR`.
//!
//! An export is one organisation's dataset, so every row goes to one tenant and its Glific
//! channel ([`import`] says which). Glific writes every DATETIME in the organisation's local
//! time: it is converted to UTC with the zone of `--assume-tz`, else the channel's `tz`, else
//! the tenant's ([`row`]). Glific re-inserts updated rows as new versions of the same `id`: of
//! several, the latest `updated_at` is kept ([`latest`]).
//!
//! | module              | job                                                                      |
//! |---------------------|--------------------------------------------------------------------------|
//! | [`files`]           | the export's files, the table each holds, their rows (NDJSON or Parquet)  |
//! | [`row`]             | one exported row's columns read as BigQuery exports them, local times to UTC |
//! | [`latest`]          | the latest version of each `id`                                          |
//! | [`rows`]            | the lake rows with no struct in [`crate::ingest::whatsapp::rows`]        |
//! | [`contacts`]        | `contacts` → `contacts`, `contact_events`                                |
//! | [`messages`]        | `messages` → `messages`, `message_statuses`                              |
//! | [`conversations`]   | `message_conversations` → `conversations`                                |
//! | [`flows`]           | `flows` → flow names                                                     |
//! | [`flow_contexts`]   | `flow_contexts` → `flow_events`                                          |
//! | [`flow_results`]    | `flow_results` → `analytics_events`                                      |
//! | [`import`]          | the command: read, map, check, commit (one Delta commit per table), refresh |
//!
//! Each table module's docs give its column mapping and what it drops; the README has them all.

pub mod contacts;
pub mod conversations;
pub mod files;
pub mod flow_contexts;
pub mod flow_results;
pub mod flows;
pub mod import;
pub mod latest;
pub mod messages;
pub mod row;
pub mod rows;

/// The tenant and channel every row of the export goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `--tenant`.
    pub tenant_id: String,
    /// The tenant's Glific channel.
    pub channel_id: String,
}

/// A Glific export table the import reads, in reading order (flow names first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Table {
    /// `flows`.
    Flows,
    /// `contacts`.
    Contacts,
    /// `messages`.
    Messages,
    /// `message_conversations`.
    MessageConversations,
    /// `flow_contexts`.
    FlowContexts,
    /// `flow_results`.
    FlowResults,
}

impl Table {
    /// Every table, in reading order.
    pub const ALL: [Table; 6] = [
        Table::Flows,
        Table::Contacts,
        Table::Messages,
        Table::MessageConversations,
        Table::FlowContexts,
        Table::FlowResults,
    ];

    /// Glific's name of the table.
    pub fn name(self) -> &'static str {
        match self {
            Table::Flows => "flows",
            Table::Contacts => "contacts",
            Table::Messages => "messages",
            Table::MessageConversations => "message_conversations",
            Table::FlowContexts => "flow_contexts",
            Table::FlowResults => "flow_results",
        }
    }

    /// The table named `name`.
    pub fn named(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }
}
