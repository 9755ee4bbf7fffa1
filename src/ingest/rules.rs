//! What ingest checks and fills in, per table (SPEC sections 3 and 8).
//!
//! | table               | natural key                                   | on a key seen before                 |
//! |---------------------|-----------------------------------------------|--------------------------------------|
//! | tenants             | tenant_id                                     | upsert: the new row replaces it      |
//! | channels            | tenant_id, channel_id                         | upsert                               |
//! | contacts            | tenant_id, channel_id, contact_id             | upsert, unless the stored row has a later `updated_at` |
//! | campaigns           | tenant_id, channel_id, campaign_id            | upsert (start, finish and audience arrive after creation) |
//! | messages            | tenant_id, channel_id, message_id             | dropped as a duplicate               |
//! | message_statuses    | tenant_id, message_id, status, ts             | dropped                              |
//! | campaign_recipients | tenant_id, campaign_id, contact_id, attempt   | dropped                              |
//! | conversations       | tenant_id, channel_id, conversation_id        | dropped (every callback repeats it)  |
//! | comments            | tenant_id, channel_id, comment_id             | dropped                              |
//! | comment_replies     | tenant_id, channel_id, reply_id               | dropped                              |
//! | flow_events         | tenant_id, flow_run_id, event_type, node_id, ts | dropped                            |
//! | contact_events, analytics_events, chat_events | every column but `ingested_at` | dropped (no event id: an identical row is the same event) |
//! | webhook_bodies      | platform, body_sha256                         | dropped (a redelivered body)         |
//! | webhook_unrouted    | platform, body_sha256, phone_number_id        | dropped                              |
//!
//! Duplicates of a fact row are looked for in the partitions (`dt`) the new rows fall in: a
//! duplicate carries the same event time as its original. `message_outcomes` is derived by the
//! engine and cannot be ingested.
//!
//! Columns filled in when the input leaves them out (row-local; [`crate::ingest::enrich`] fills
//! the ones that need the lake):
//!
//! | column                          | tables             | value                                            |
//! |---------------------------------|--------------------|--------------------------------------------------|
//! | `contact_id`                    | messages, contacts | the `wa_id` (a required column without `wa_id` is an error) |
//! | `country_code`, `calling_code`  | messages, contacts | from `wa_id` (libphonenumber)                     |
//! | `is_template`                   | messages           | `msg_type = 'template'`                           |
//! | `author_type`                   | messages           | `contact` for inbound (outbound must say who sent it) |
//! | `error_bucket`                  | message_statuses   | from `error_code` (reference 5.4)                 |
//! | `source`                        | conversations      | `webhook` (`derived` rows belong to the engine)   |
//! | `updated_at`                    | contacts           | the ingest time                                   |
//! | `ingested_at`                   | messages, message_statuses | the ingest time (a value in the input is replaced) |

/// What a key seen before means for a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Fact table: a row whose key is already present is a duplicate and is dropped.
    Append,
    /// Dimension-like table: the new row replaces the stored one (Delta MERGE).
    Upsert,
}

/// The ingest rules of one table.
#[derive(Debug, Clone, Copy)]
pub struct TableRules {
    /// Table name.
    pub table: &'static str,
    /// Natural key columns; empty = every column but `ingested_at`.
    pub key: &'static [&'static str],
    /// Append or upsert.
    pub mode: Mode,
    /// Columns restricted to a set of values.
    pub enums: &'static [(&'static str, &'static [&'static str])],
    /// Columns holding an IANA time zone name.
    pub zones: &'static [&'static str],
}

const CONVERSATION_ORIGINS: &[&str] = &[
    "user_initiated",
    "business_initiated",
    "marketing",
    "utility",
    "authentication",
    "service",
    "referral_conversion",
];
const TEMPLATE_CATEGORIES: &[&str] = &["marketing", "utility", "authentication"];
const PRICING_MODELS: &[&str] = &["CBP", "PMP"];
const WEBHOOK_PLATFORMS: &[&str] = &["whatsapp", "messenger", "instagram"];

static RULES: &[TableRules] = &[
    TableRules {
        table: "tenants",
        key: &["tenant_id"],
        mode: Mode::Upsert,
        enums: &[],
        zones: &["tz"],
    },
    TableRules {
        table: "channels",
        key: &["tenant_id", "channel_id"],
        mode: Mode::Upsert,
        enums: &[(
            "channel_type",
            &[
                "whatsapp",
                "messenger",
                "instagram",
                "webchat",
                "telegram",
                "wechat",
                "slack",
            ],
        )],
        zones: &["tz"],
    },
    TableRules {
        table: "contacts",
        key: &["tenant_id", "channel_id", "contact_id"],
        mode: Mode::Upsert,
        enums: &[
            ("provider_status", &["valid", "invalid", "blocked"]),
            ("optin_status", &["opted_in", "opted_out", "none"]),
        ],
        zones: &[],
    },
    TableRules {
        table: "campaigns",
        key: &["tenant_id", "channel_id", "campaign_id"],
        mode: Mode::Upsert,
        enums: &[
            (
                "kind",
                &[
                    "push",
                    "broadcast",
                    "flow_broadcast",
                    "template_campaign",
                    "reminder",
                ],
            ),
            ("template_category", TEMPLATE_CATEGORIES),
        ],
        zones: &[],
    },
    TableRules {
        table: "messages",
        key: &["tenant_id", "channel_id", "message_id"],
        mode: Mode::Append,
        enums: &[
            ("direction", &["inbound", "outbound"]),
            (
                "msg_type",
                &[
                    "text",
                    "image",
                    "audio",
                    "video",
                    "document",
                    "sticker",
                    "location",
                    "contacts",
                    "interactive",
                    "button",
                    "reaction",
                    "order",
                    "template",
                    "system",
                    "unsupported",
                ],
            ),
            ("template_category", TEMPLATE_CATEGORIES),
            (
                "author_type",
                &[
                    "contact",
                    "flow",
                    "agent",
                    "api",
                    "broadcast",
                    "reminder",
                    "automation",
                    "system",
                ],
            ),
            ("referral_source_type", &["ad", "post"]),
        ],
        zones: &[],
    },
    TableRules {
        table: "message_statuses",
        key: &["tenant_id", "message_id", "status", "ts"],
        mode: Mode::Append,
        enums: &[
            (
                "status",
                &[
                    "accepted",
                    "sent",
                    "delivered",
                    "read",
                    "played",
                    "failed",
                    "deleted",
                ],
            ),
            ("conversation_origin", CONVERSATION_ORIGINS),
            ("pricing_model", PRICING_MODELS),
            (
                "pricing_type",
                &["regular", "free_customer_service", "free_entry_point"],
            ),
        ],
        zones: &[],
    },
    TableRules {
        table: "contact_events",
        key: &[],
        mode: Mode::Append,
        enums: &[(
            "event_type",
            &[
                "created",
                "opted_in",
                "opted_out",
                "marked_valid",
                "marked_invalid",
                "blocked",
                "unblocked",
                "field_updated",
            ],
        )],
        zones: &[],
    },
    TableRules {
        table: "flow_events",
        key: &["tenant_id", "flow_run_id", "event_type", "node_id", "ts"],
        mode: Mode::Append,
        enums: &[
            (
                "event_type",
                &[
                    "started",
                    "node_entered",
                    "completed",
                    "killed",
                    "expired",
                    "errored",
                ],
            ),
            (
                "trigger",
                &[
                    "keyword",
                    "broadcast",
                    "api",
                    "flow",
                    "schedule",
                    "reminder",
                ],
            ),
        ],
        zones: &[],
    },
    TableRules {
        table: "campaign_recipients",
        key: &["tenant_id", "campaign_id", "contact_id", "attempt"],
        mode: Mode::Append,
        enums: &[("send_result", &["accepted", "rejected"])],
        zones: &[],
    },
    TableRules {
        table: "analytics_events",
        key: &[],
        mode: Mode::Append,
        enums: &[],
        zones: &[],
    },
    TableRules {
        table: "comments",
        key: &["tenant_id", "channel_id", "comment_id"],
        mode: Mode::Append,
        enums: &[("reply_kind", &["public", "private", "both", "none"])],
        zones: &[],
    },
    TableRules {
        table: "comment_replies",
        key: &["tenant_id", "channel_id", "reply_id"],
        mode: Mode::Append,
        enums: &[("reply_kind", &["public", "private"])],
        zones: &[],
    },
    TableRules {
        table: "chat_events",
        key: &[],
        mode: Mode::Append,
        enums: &[
            ("event", &["opened", "reopened", "closed", "assigned"]),
            ("actor_type", &["system", "agent", "automation"]),
        ],
        zones: &[],
    },
    TableRules {
        table: "conversations",
        key: &["tenant_id", "channel_id", "conversation_id"],
        mode: Mode::Append,
        enums: &[
            ("origin", CONVERSATION_ORIGINS),
            ("pricing_model", PRICING_MODELS),
            ("source", &["webhook"]),
        ],
        zones: &[],
    },
    TableRules {
        table: "webhook_bodies",
        key: &["platform", "body_sha256"],
        mode: Mode::Append,
        enums: &[("platform", WEBHOOK_PLATFORMS)],
        zones: &[],
    },
    TableRules {
        table: "webhook_unrouted",
        key: &["platform", "body_sha256", "phone_number_id"],
        mode: Mode::Append,
        enums: &[("platform", WEBHOOK_PLATFORMS)],
        zones: &[],
    },
];

/// The rules of `table`, if it can be ingested (every lake table but the derived ones).
pub fn rules(table: &str) -> Option<&'static TableRules> {
    RULES.iter().find(|r| r.table == table)
}

impl TableRules {
    /// The allowed values of `column`, if it is an enum column.
    pub fn allowed(&self, column: &str) -> Option<&'static [&'static str]> {
        self.enums
            .iter()
            .find(|(name, _)| *name == column)
            .map(|(_, values)| *values)
    }

    /// The natural key columns: [`TableRules::key`], or every column of `schema` but
    /// `ingested_at` when the table has no key of its own.
    pub fn key_columns(&self, schema: &arrow::datatypes::Schema) -> Vec<String> {
        if self.key.is_empty() {
            schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .filter(|n| n != "ingested_at")
                .collect()
        } else {
            self.key.iter().map(|k| k.to_string()).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::schema;

    #[test]
    fn every_ingestible_table_has_rules_naming_real_columns() {
        for def in schema::tables() {
            let Some(rules) = rules(def.name) else {
                assert!(def.derived, "{} has no ingest rules", def.name);
                continue;
            };
            assert!(!def.derived, "{} is derived yet ingestible", def.name);
            let names: Vec<&str> = rules
                .key
                .iter()
                .copied()
                .chain(rules.enums.iter().map(|(c, _)| *c))
                .chain(rules.zones.iter().copied())
                .collect();
            for column in names {
                assert!(
                    def.schema.index_of(column).is_ok(),
                    "{}.{column} is not a column",
                    def.name
                );
            }
        }
    }
}
