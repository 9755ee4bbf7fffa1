//! `chatlake ingest --lake URL --format glific --tenant T DIR`: a Glific export into the lake.
//!
//! | step           | what                                                                       |
//! |----------------|----------------------------------------------------------------------------|
//! | where to       | the tenant's channel: its only one, else its one with `integration = 'glific'`; none, or several without one marked, is an error saying what to add |
//! | time zone      | `--assume-tz`, else the channel's `tz`, else the tenant's (`tenants`); none is an error |
//! | read           | every export file ([`super::files`]), `flows` first (their names label the flow events) |
//! | map            | each row by its table's module; of several versions of an `id` the latest `updated_at` ([`super::latest`]) |
//! | check          | the rows of each lake table through [`crate::ingest::decode::Decoder`] (the checks and derived columns of every ingest) |
//! | a bad row      | `FILE:LINE: column C: reason` (Parquet: the row number); without `--reject-file` nothing is committed and the command fails, as every import; with it, it goes there and the rest loads |
//! | commit         | one Delta commit per lake table; natural keys drop what the lake has (a second import of the same export adds nothing; `contacts` are upserted, a stored row updated later kept) |
//! | derived tables | re-derived for the contacts the commits touched, as `chatlake ingest` does |
//!
//! The latest version of every row is held in memory until the commit (a few hundred bytes a
//! message).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use chrono_tz::Tz;
use datafusion::prelude::{SessionContext, col, lit};
use serde::Serialize;

use super::files::{self, ExportFile};
use super::latest::{Latest, Origin};
use super::row::{Row, RowError};
use super::rows::{FlowEventRow, MessageRow};
use super::{Table, Target, contacts, conversations, flow_contexts, flow_results, flows, messages};
use crate::error::{Error, Result};
use crate::ingest::commit::{CommitOutcome, Ingester};
use crate::ingest::decode::Reject;
use crate::ingest::dedup::strings;
use crate::ingest::import::{RejectSink, progress_bar, refresh_after};
use crate::ingest::whatsapp::expand::decode_serialized;
use crate::ingest::whatsapp::import::TableCount;
use crate::ingest::whatsapp::rows::{AnalyticsRow, ContactEventRow};
use crate::ingest::whatsapp::rows::{ContactRow, ConversationRow, StatusRow};
use crate::lake::Lake;
use crate::lake::schema::TableDef;

/// What to import.
#[derive(Debug, Clone)]
pub struct GlificImport {
    /// Export directories (or single files).
    pub paths: Vec<PathBuf>,
    /// The tenant the export is for.
    pub tenant: String,
    /// The organisation's zone, overriding the channel's and the tenant's.
    pub assume_tz: Option<Tz>,
    /// Where bad rows go (else a bad row fails the import).
    pub reject_file: Option<PathBuf>,
    /// Show a progress bar.
    pub progress: bool,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct GlificSummary {
    /// The channel written to.
    pub channel_id: String,
    /// The zone the local times were read in.
    pub zone: String,
    /// Rows read per Glific table (bad ones included).
    pub rows_read: BTreeMap<&'static str, u64>,
    /// Older versions of a row dropped for a later `updated_at`.
    pub superseded: u64,
    /// Bad rows.
    pub rejected: u64,
    /// Files not read, with why.
    pub ignored: Vec<String>,
    /// Things worth knowing (a channel not marked `glific` while conversations were imported).
    pub notes: Vec<String>,
    /// Per lake table.
    pub tables: BTreeMap<&'static str, TableCount>,
    /// Contacts whose derived rows were re-derived.
    pub contacts_refreshed: usize,
    /// Time taken, refresh included.
    pub elapsed: Duration,
}

/// The latest version of every row read, per Glific table.
#[derive(Default)]
struct Collected {
    flows: Latest<flows::Flow>,
    contacts: Latest<contacts::Mapped>,
    messages: Latest<messages::Mapped>,
    conversations: Latest<ConversationRow>,
    flow_contexts: Latest<Vec<FlowEventRow>>,
    flow_results: Latest<Vec<AnalyticsRow>>,
    /// uuid → name, once the `flows` files are read.
    flow_names: HashMap<String, String>,
    rows_read: BTreeMap<&'static str, u64>,
    /// Bad rows: the file and the reject.
    bad: Vec<(Arc<str>, Reject)>,
}

/// Runs the import into `lake`; see the module docs.
pub async fn import(lake: Lake, request: GlificImport) -> Result<GlificSummary> {
    let started = Instant::now();
    let export = files::find(&request.paths)?;
    if export.files.is_empty() {
        return Err(Error::Config(format!(
            "no Glific export table in {} (files named after their table: {}; .json or .parquet)",
            request
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            Table::ALL.map(Table::name).join(", ")
        )));
    }
    let mut ingester = Ingester::open(lake.clone()).await?;
    let (target, integration) = channel_of(ingester.session(), &request.tenant).await?;
    let zone = match request.assume_tz {
        Some(zone) => zone,
        None => zone_of(ingester.session(), &target).await?,
    };
    let mut summary = GlificSummary {
        channel_id: target.channel_id.clone(),
        zone: zone.name().to_string(),
        ignored: export.ignored,
        ..GlificSummary::default()
    };
    let total: u64 = export
        .files
        .iter()
        .filter_map(|f| f.input.path.as_ref())
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = progress_bar(request.progress, total);
    let reading_target = target.clone();
    let reading_bar = bar.clone();
    let collected = tokio::task::spawn_blocking(move || {
        read_all(export.files, &reading_target, zone, &reading_bar)
    })
    .await
    .map_err(|e| Error::Config(format!("reading the Glific export: {e}")))??;
    bar.finish_and_clear();
    summary.rows_read = collected.rows_read.clone();
    summary.superseded = [
        collected.flows.superseded(),
        collected.contacts.superseded(),
        collected.messages.superseded(),
        collected.conversations.superseded(),
        collected.flow_contexts.superseded(),
        collected.flow_results.superseded(),
    ]
    .iter()
    .sum();
    if !collected.conversations.is_empty() && integration.as_deref() != Some("glific") {
        summary.notes.push(format!(
            "channel {} has integration {}: all_conversations also derives conversations for it; set its integration to 'glific' to count Glific's (message_conversations) only",
            target.channel_id,
            integration.as_deref().unwrap_or("NULL")
        ));
    }

    let ingested_at = chrono::Utc::now().timestamp_micros();
    let mut bad = collected.bad.clone();
    let batches = lake_batches(collected, ingested_at, &mut bad)?;
    bad.sort_by(|a, b| (&a.0, a.1.line).cmp(&(&b.0, b.1.line)));
    let mut rejects = RejectSink::open(request.reject_file.as_deref())?;
    for (file, reject) in &bad {
        rejects.record(file, std::slice::from_ref(reject))?;
    }
    summary.rejected = bad.len() as u64;
    if rejects.failing() {
        rejects.print_listed(summary.rejected);
        return Err(Error::Config(format!(
            "{} of {} rows of the Glific export rejected; nothing was loaded (fix them, or load with --reject-file FILE to keep them aside and load the rest)",
            summary.rejected,
            summary.rows_read.values().sum::<u64>()
        )));
    }
    rejects.finish()?;

    let mut total = CommitOutcome::default();
    for (def, batch) in batches {
        let mut load = ingester.begin(def).await?;
        ingester.add(&mut load, batch).await?;
        let outcome = ingester.finish(load, None).await?;
        summary.tables.insert(
            def.name,
            TableCount {
                written: outcome.written,
                duplicates: outcome.duplicates,
            },
        );
        total.touched.extend(outcome.touched);
        total.channels_changed |= outcome.channels_changed;
    }
    summary.contacts_refreshed = refresh_after(&lake, &mut ingester, &total).await?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Reads and maps every file (`flows` first: [`Table::ALL`] order).
fn read_all(
    files: Vec<ExportFile>,
    target: &Target,
    zone: Tz,
    bar: &indicatif::ProgressBar,
) -> Result<Collected> {
    let mut out = Collected::default();
    let mut names_ready = false;
    for file in files {
        if file.table != Table::Flows && !names_ready {
            out.flow_names = std::mem::take(&mut out.flows)
                .into_values()
                .into_iter()
                .map(|(_, f)| (f.uuid, f.name))
                .collect();
            names_ready = true;
        }
        let source: Arc<str> = file.input.name.as_str().into();
        let table = file.table;
        files::read_rows(&file.input, bar, |line, raw, parsed| {
            *out.rows_read.entry(table.name()).or_default() += 1;
            let origin = Origin {
                file: source.clone(),
                line,
            };
            let result = parsed
                .map_err(|reason| RowError {
                    column: None,
                    reason,
                })
                .and_then(|value| {
                    let row = Row::new(&value, zone)?;
                    out.offer(table, &row, target, origin)
                });
            if let Err(e) = result {
                out.bad.push((
                    source.clone(),
                    Reject {
                        line,
                        column: e.column,
                        reason: e.reason,
                        raw: raw.to_string(),
                    },
                ));
            }
        })?;
    }
    Ok(out)
}

impl Collected {
    /// Maps `row` of `table` and keeps it if it is the latest version so far.
    fn offer(
        &mut self,
        table: Table,
        row: &Row,
        target: &Target,
        origin: Origin,
    ) -> std::result::Result<(), RowError> {
        match table {
            Table::Flows => {
                let (id, updated, flow) = flows::map(row)?;
                self.flows.offer(id, updated, origin, flow);
            }
            Table::Contacts => {
                let (id, updated, mapped) = contacts::map(row, target)?;
                self.contacts.offer(id, updated, origin, mapped);
            }
            Table::Messages => {
                let (id, updated, mapped) = messages::map(row, target)?;
                self.messages.offer(id, updated, origin, mapped);
            }
            Table::MessageConversations => {
                let (id, updated, mapped) = conversations::map(row, target)?;
                self.conversations.offer(id, updated, origin, mapped);
            }
            Table::FlowContexts => {
                let (id, updated, events) = flow_contexts::map(row, target, &self.flow_names)?;
                self.flow_contexts.offer(id, updated, origin, events);
            }
            Table::FlowResults => {
                let (id, updated, rows) = flow_results::map(row, target, &self.flow_names)?;
                self.flow_results.offer(id, updated, origin, rows);
            }
        }
        Ok(())
    }
}

/// The checked batches of every lake table the kept rows feed, in commit order; rows the
/// decoder refuses go to `bad` with the file and line they came from.
fn lake_batches(
    collected: Collected,
    ingested_at: i64,
    bad: &mut Vec<(Arc<str>, Reject)>,
) -> Result<Vec<(&'static TableDef, RecordBatch)>> {
    let mut contact_rows: Vec<(Origin, ContactRow)> = Vec::new();
    let mut contact_events: Vec<(Origin, ContactEventRow)> = Vec::new();
    for (origin, mapped) in collected.contacts.into_values() {
        contact_events.extend(mapped.events.into_iter().map(|e| (origin.clone(), e)));
        contact_rows.push((origin, mapped.contact));
    }
    let mut message_rows: Vec<(Origin, MessageRow)> = Vec::new();
    let mut status_rows: Vec<(Origin, StatusRow)> = Vec::new();
    for (origin, mapped) in collected.messages.into_values() {
        status_rows.extend(mapped.statuses.into_iter().map(|s| (origin.clone(), s)));
        message_rows.push((origin, mapped.message));
    }
    let flow_rows: Vec<(Origin, FlowEventRow)> = spread(collected.flow_contexts.into_values());
    let result_rows: Vec<(Origin, AnalyticsRow)> = spread(collected.flow_results.into_values());
    let batches = [
        checked("contacts", contact_rows, ingested_at, bad)?,
        checked("contact_events", contact_events, ingested_at, bad)?,
        checked("messages", message_rows, ingested_at, bad)?,
        checked("message_statuses", status_rows, ingested_at, bad)?,
        checked(
            "conversations",
            collected.conversations.into_values(),
            ingested_at,
            bad,
        )?,
        checked("flow_events", flow_rows, ingested_at, bad)?,
        checked("analytics_events", result_rows, ingested_at, bad)?,
    ];
    Ok(batches.into_iter().flatten().collect())
}

/// One `(origin, row)` per row of each kept version.
fn spread<T>(latest: Vec<(Origin, Vec<T>)>) -> Vec<(Origin, T)> {
    latest
        .into_iter()
        .flat_map(|(origin, rows)| rows.into_iter().map(move |r| (origin.clone(), r)))
        .collect()
}

/// Decodes `rows` of `table`; a refused row goes to `bad` at its origin.
fn checked<T: Serialize>(
    table: &'static str,
    rows: Vec<(Origin, T)>,
    ingested_at: i64,
    bad: &mut Vec<(Arc<str>, Reject)>,
) -> Result<Option<(&'static TableDef, RecordBatch)>> {
    let (origins, values): (Vec<Origin>, Vec<T>) = rows.into_iter().unzip();
    let Some((def, decoded)) = decode_serialized(table, &values, ingested_at)? else {
        return Ok(None);
    };
    for reject in decoded.rejects {
        let Some(origin) = origins.get(reject.line.saturating_sub(1) as usize) else {
            continue;
        };
        bad.push((
            origin.file.clone(),
            Reject {
                line: origin.line,
                reason: format!("its {table} row: {}", reject.reason),
                ..reject
            },
        ));
    }
    Ok(Some((def, decoded.batch)))
}

/// The tenant's Glific channel and its `integration`; see the module docs.
async fn channel_of(ctx: &SessionContext, tenant: &str) -> Result<(Target, Option<String>)> {
    let batches = ctx
        .table("channels")
        .await?
        .filter(col("tenant_id").eq(lit(tenant)))?
        .select_columns(&["channel_id", "integration"])?
        .collect()
        .await?;
    let mut channels: Vec<(String, Option<String>)> = Vec::new();
    for batch in &batches {
        for (id, integration) in strings(batch, "channel_id")?
            .into_iter()
            .zip(strings(batch, "integration")?)
        {
            if let Some(id) = id {
                channels.push((id, integration));
            }
        }
    }
    channels.sort();
    let marked: Vec<&(String, Option<String>)> = channels
        .iter()
        .filter(|(_, i)| i.as_deref() == Some("glific"))
        .collect();
    let (channel_id, integration) = match (channels.as_slice(), marked.as_slice()) {
        ([], _) => {
            return Err(Error::Config(format!(
                "tenant '{tenant}' has no channels row: add its Glific number first, e.g. \
                 {{\"tenant_id\":\"{tenant}\",\"channel_id\":\"glific\",\"channel_type\":\"whatsapp\",\"integration\":\"glific\",\"display_phone\":\"+91...\"}} \
                 with chatlake ingest --table channels"
            )));
        }
        ([only], _) => only.clone(),
        (_, [only]) => (*only).clone(),
        (many, _) => {
            return Err(Error::Config(format!(
                "tenant '{tenant}' has {} channels ({}) and not exactly one with integration 'glific': mark the one the export is of",
                many.len(),
                many.iter()
                    .map(|(c, _)| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };
    Ok((
        Target {
            tenant_id: tenant.to_string(),
            channel_id,
        },
        integration,
    ))
}

/// The zone of the channel, else of the tenant; see the module docs.
async fn zone_of(ctx: &SessionContext, target: &Target) -> Result<Tz> {
    let lookups = [
        (
            "channels",
            col("tenant_id")
                .eq(lit(target.tenant_id.as_str()))
                .and(col("channel_id").eq(lit(target.channel_id.as_str()))),
        ),
        (
            "tenants",
            col("tenant_id").eq(lit(target.tenant_id.as_str())),
        ),
    ];
    for (table, filter) in lookups {
        let batches = ctx
            .table(table)
            .await?
            .filter(filter)?
            .select_columns(&["tz"])?
            .collect()
            .await?;
        let zone = batches
            .iter()
            .map(|b| strings(b, "tz"))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .flatten()
            .next();
        if let Some(zone) = zone {
            return zone.parse::<Tz>().map_err(|_| {
                Error::Config(format!(
                    "{table}: the tz of tenant '{}' is '{zone}', not an IANA zone",
                    target.tenant_id
                ))
            });
        }
    }
    Err(Error::Config(format!(
        "no time zone for tenant '{}' (Glific's times are the organisation's local time): add its tenants row, or give --assume-tz ZONE",
        target.tenant_id
    )))
}
