//! Status callbacks of one outbound message, as the platform sends them.
//!
//! | behaviour | rate |
//! |---|---|
//! | `accepted` (BSP pre-state) | every message on `gupshup` / `twilio` channels |
//! | `sent` | 0.3-2.5 s after the message; missing for 1 % |
//! | `delivered` | seconds after `sent` (85 %), minutes (12 %), hours (3 %); never for 0.5 % (phone off) |
//! | `read` | when the contact saw it and has read receipts on; `delivered` skipped for 5 % of reads that happened together with delivery |
//! | `played` | 85 % of read voice notes |
//! | `failed` | with the error code, title and bucket; preceded by `sent` for a quarter of 131026; 0.2 % are later `delivered` after all (multi-device) |
//! | repeats | 2 % of callbacks arrive twice, the repeat 1-4 s later (distinct natural key, also in whole seconds) |
//! | arrival order | `ingested_at` = `ts` + a delay (median 0.6 s, tail of minutes); 8 % of `delivered` arrive after their `read` |
//! | conversation | webhook channels: id and origin on `sent` and on the first of `delivered`/`read` (Meta's status reference), `conversation_expires_at` on `sent` only |
//! | pricing | on the same callbacks; CBP: model, billable, category; PMP: model, billable, category, type |

use super::billing::Billing;
use super::clock::SEC;
use super::errors::{error_bucket, error_title};
use super::ids;
use super::rng::Rand;
use super::tables::{LakeRow, StatusRow, TableBuf};
use super::world::ChannelType;

/// What happened to an outbound message.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome {
    /// It failed with `code` at `at`.
    Failed {
        /// Error code.
        code: i32,
        /// A `sent` came first.
        sent_first: bool,
        /// When it failed.
        at: i64,
        /// Delivered later on another device.
        late_delivery: Option<i64>,
    },
    /// It reached the phone.
    Delivered {
        /// `sent` instant, `None` if that callback never came.
        sent_at: Option<i64>,
        /// Delivery instant.
        delivered_at: i64,
        /// When the contact saw it, if they did.
        seen_at: Option<i64>,
    },
    /// Sent, never delivered (yet).
    SentOnly {
        /// `sent` instant.
        sent_at: i64,
    },
}

/// A delay between an event and its ingestion.
pub(crate) fn ingest_delay(rng: &mut Rand) -> i64 {
    let u = rng.f64();
    let secs = if u < 0.90 {
        rng.lognormal(0.6, 0.8)
    } else if u < 0.99 {
        rng.lognormal(20.0, 1.0)
    } else {
        rng.lognormal(15.0 * 60.0, 0.8)
    };
    (secs * SEC as f64) as i64 + 1
}

/// Everything needed to write the status rows of one message.
pub(crate) struct StatusInput<'a> {
    /// `tenant_id`.
    pub tenant_id: &'a str,
    /// `channel_id`.
    pub channel_id: &'a str,
    /// The message id.
    pub message_id: &'a str,
    /// Channel type.
    pub ctype: ChannelType,
    /// BSP that reports `accepted`.
    pub reports_accepted: bool,
    /// Message instant.
    pub ts: i64,
    /// What happened.
    pub outcome: Outcome,
    /// Billing fields (webhook channels only).
    pub billing: Option<Billing>,
    /// The contact has read receipts on.
    pub read_receipts: bool,
    /// A voice note (gets `played`).
    pub audio: bool,
    /// Rows at or after this instant are not written.
    pub horizon: i64,
}

struct Emit<'a, 'b> {
    input: &'b StatusInput<'a>,
    conv_id: &'b str,
    rows: &'b mut TableBuf,
}

impl Emit<'_, '_> {
    fn row(&mut self, rng: &mut Rand, status: &'static str, ts: i64, ingested_at: Option<i64>) {
        self.row_billed(
            rng,
            status,
            ts,
            ingested_at,
            matches!(status, "sent" | "delivered"),
        );
    }

    fn row_billed(
        &mut self,
        rng: &mut Rand,
        status: &'static str,
        ts: i64,
        ingested_at: Option<i64>,
        billed: bool,
    ) {
        if ts >= self.input.horizon {
            return;
        }
        let repeat = rng.chance(0.02);
        let ingested = ingested_at.unwrap_or_else(|| ts + ingest_delay(rng));
        self.write(status, ts, ingested, billed);
        if repeat {
            let ts2 = ts + (rng.uniform(1.0, 4.0) * SEC as f64) as i64;
            if ts2 < self.input.horizon {
                let ing2 = ts2.max(ingested) + ingest_delay(rng);
                self.write(status, ts2, ing2, billed);
            }
        }
    }

    fn write(&mut self, status: &'static str, ts: i64, ingested_at: i64, billed: bool) {
        let i = self.input;
        let failed = matches!(status, "failed");
        let code = match i.outcome {
            Outcome::Failed { code, .. } if failed => Some(code),
            _ => None,
        };
        let billing = if billed { i.billing } else { None };
        let conv = billing.and_then(|b| b.conversation);
        StatusRow {
            tenant_id: i.tenant_id,
            channel_id: i.channel_id,
            message_id: i.message_id,
            status,
            ts,
            conversation_id: conv.map(|_| self.conv_id),
            conversation_origin: conv.map(|c| c.1),
            conversation_expires_at: conv.filter(|_| status == "sent").map(|c| c.2),
            pricing_model: billing.map(|b| b.model),
            pricing_billable: billing.map(|b| b.billable),
            pricing_category: billing.map(|b| b.category),
            pricing_type: billing.and_then(|b| b.ptype),
            error_code: code,
            error_title: code.map(error_title),
            error_bucket: code.map(error_bucket),
            ingested_at,
        }
        .append(self.rows);
    }
}

/// Writes the status callbacks of one message into `rows`.
pub(crate) fn write_statuses(
    rng: &mut Rand,
    input: &StatusInput<'_>,
    conv_buf: &mut String,
    rows: &mut TableBuf,
) {
    if matches!(input.ctype, ChannelType::WebChat | ChannelType::Telegram) {
        return;
    }
    let wa = input.ctype == ChannelType::WhatsApp;
    conv_buf.clear();
    if let Some((key, _, _)) = input.billing.and_then(|b| b.conversation) {
        ids::conversation_id(conv_buf, key);
    }
    let conv_id = conv_buf.as_str();
    let mut e = Emit {
        input,
        conv_id,
        rows,
    };
    if wa && input.reports_accepted {
        let ts = input.ts + (rng.uniform(0.05, 0.3) * SEC as f64) as i64;
        e.row(rng, "accepted", ts, None);
    }
    match input.outcome {
        Outcome::Failed {
            sent_first,
            at,
            late_delivery,
            ..
        } => {
            if sent_first {
                let ts = input.ts + (rng.uniform(0.3, 1.5) * SEC as f64) as i64;
                e.row(rng, "sent", ts, None);
            }
            e.row(rng, "failed", at, None);
            if let Some(t) = late_delivery {
                e.row(rng, "delivered", t, None);
            }
        }
        Outcome::SentOnly { sent_at } => {
            if wa {
                e.row(rng, "sent", sent_at, None);
            }
        }
        Outcome::Delivered {
            sent_at,
            delivered_at,
            seen_at,
        } => {
            if wa && let Some(s) = sent_at {
                e.row(rng, "sent", s, None);
            }
            let read_at = seen_at.filter(|_| input.read_receipts);
            // Delivery and read together: Meta sometimes sends only `read`.
            let together = read_at.is_some_and(|r| r - delivered_at < 5 * SEC);
            let skip_delivered = together && rng.chance(0.05);
            let read_ingested = read_at.map(|r| r + ingest_delay(rng));
            if !skip_delivered {
                let late = match read_ingested {
                    Some(ri) if rng.chance(0.08) => {
                        Some(ri.max(delivered_at) + (rng.uniform(0.1, 5.0) * SEC as f64) as i64)
                    }
                    _ => None,
                };
                e.row(rng, "delivered", delivered_at, late);
            }
            if let (Some(r), Some(ri)) = (read_at, read_ingested) {
                e.row_billed(rng, "read", r, Some(ri), skip_delivered);
                if input.audio && rng.chance(0.85) {
                    let p = r + (rng.uniform(1.0, 40.0) * SEC as f64) as i64;
                    e.row(rng, "played", p, None);
                }
            }
        }
    }
}
