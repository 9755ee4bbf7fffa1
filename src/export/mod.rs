//! Raw-data exports: the lake's tables, or any query, as files a customer's warehouse loads
//! as they are (BigQuery, Snowflake, DuckDB, Spark), to a directory or S3.
//!
//! `chatlake export --lake L --dest D` writes every table (or `--tables`), for every tenant (or
//! `--tenant`s), as Parquet, NDJSON or CSV, in BigQuery's day-sharded layout or Hive's, with a
//! manifest and schema files; run again, it writes only the days whose rows changed.
//!
//! - [`destination`]: the directory or S3 prefix written to (the lake's store options).
//! - [`sink`]: one file's upload, counted and SHA-256-hashed as it streams.
//! - [`format`]: Parquet / NDJSON / CSV writers and their compression.
//! - [`layout`]: file names (`<table>_YYYYMMDD.ext` or `<table>/dt=.../part-N.ext`).
//! - [`manifest`]: `manifest.json`: versions, files, rows, bytes, checksums.
//! - [`schema_files`]: BigQuery and Arrow schema JSON per table.
//! - [`changes`]: what changed per day, from the Delta log (compaction is not a change).
//! - [`plan`]: which days to write, skip or drop.
//! - [`rfc3339`]: timestamps as RFC 3339 text, fast, for NDJSON and CSV.
//! - [`scan`]: reading a day of a table straight from the snapshot's Parquet files.
//! - [`table`]: writing one table's days.
//! - [`query`]: `--query`: one query or report into one file.
//! - [`progress`]: the progress bar and the summary lines.
//!
//! | property | behaviour |
//! |---|---|
//! | consistency | each table is read at one Delta version, pinned when the run starts |
//! | a file | visible only when complete (multipart upload / staging file); listed in the manifest only then |
//! | a failed run | leaves the manifest listing only complete files; a rerun writes the missing days again, over any partial files, without duplicating rows |
//! | incremental | days with new, changed or deleted rows since they were exported; compaction alone is not a change |
//! | `--full` with other settings | the files the old manifest listed and the new one does not are deleted when the run ends (nothing else under the destination is touched) |
//! | memory | per day in flight (4 at a time) one batch and one file's buffers, whatever the table size |

pub mod changes;
pub mod destination;
pub mod format;
pub mod layout;
pub mod manifest;
pub mod plan;
pub mod progress;
pub mod query;
pub mod rfc3339;
pub mod scan;
pub mod schema_files;
pub mod sink;
pub mod table;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{FutureExt, StreamExt};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::lake::schema::{self, TableDef};
use changes::{Changes, Day, TableState};
use destination::Destination;
use format::Encoding;
use layout::Layout;
use manifest::{DayEntry, Manifest};
use plan::{DayRange, TablePlan};
use table::{FileSettings, TableSource};

/// The manifest is saved at least this often during a long table, so that a failure loses
/// little finished work.
const SAVE_EVERY: Duration = Duration::from_secs(10);

/// Days of a table written at the same time (each one file at a time).
const DAYS_AT_ONCE: usize = 4;

/// What an export run should do.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// Destination directory or prefix.
    pub dest: String,
    /// How to reach an S3 destination (the lake's flags; unset fields from `AWS_*`).
    pub store: crate::lake::StoreOptions,
    /// Tables to export; empty for the default set ([`default_tables`]).
    pub tables: Vec<String>,
    /// Tenants whose rows to export; empty for all.
    pub tenants: Vec<String>,
    /// Days to consider.
    pub range: DayRange,
    /// Format and compression.
    pub encoding: Encoding,
    /// File naming.
    pub layout: Layout,
    /// Size at which a file is closed and the day continues in another part.
    pub max_file_bytes: u64,
    /// Export every day again, whatever the manifest says.
    pub full: bool,
    /// Draw a progress bar.
    pub progress: bool,
}

/// What an export run did to one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableSummary {
    /// The table.
    pub table: &'static str,
    /// The Delta version exported.
    pub version: u64,
    /// Days written.
    pub days_written: u64,
    /// Days skipped: exported before and unchanged.
    pub days_skipped: u64,
    /// Of those, days whose files were only compacted.
    pub days_recompacted: u64,
    /// Days whose files were deleted (no longer in the lake).
    pub days_dropped: u64,
    /// Rows written.
    pub rows: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Files written.
    pub files: u64,
}

/// What an export run did.
#[derive(Debug, Clone, Default)]
pub struct ExportSummary {
    /// The destination root.
    pub dest: String,
    /// Per table, in export order.
    pub tables: Vec<TableSummary>,
    /// Files of an earlier export with other settings deleted (after a `--full` rerun).
    pub superseded_deleted: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl ExportSummary {
    /// Days written, over every table.
    pub fn days_written(&self) -> u64 {
        self.tables.iter().map(|t| t.days_written).sum()
    }

    /// Days skipped, over every table.
    pub fn days_skipped(&self) -> u64 {
        self.tables.iter().map(|t| t.days_skipped).sum()
    }

    /// Rows written, over every table.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }

    /// Bytes written, over every table.
    pub fn bytes(&self) -> u64 {
        self.tables.iter().map(|t| t.bytes).sum()
    }
}

/// The tables exported when none are named: the tables of SPEC section 3 (not the webhook
/// bodies kept for replay, nor the derived `message_outcomes`, which the engine rebuilds, nor
/// `comment_replies`, ours beside the spec's: `--tables comment_replies` exports it).
pub fn default_tables() -> Vec<&'static TableDef> {
    schema::tables()
        .iter()
        .filter(|t| !t.derived && !t.name.starts_with("webhook_") && t.name != "comment_replies")
        .collect()
}

/// `names` as lake tables (the default set when empty); an unknown name is an error listing
/// the tables.
pub fn select_tables(names: &[String]) -> Result<Vec<&'static TableDef>> {
    if names.is_empty() {
        return Ok(default_tables());
    }
    let mut out: Vec<&'static TableDef> = Vec::new();
    for name in names {
        let def = schema::table(name.trim()).ok_or_else(|| {
            Error::Config(format!(
                "export: '{name}' is not a lake table (tables: {})",
                schema::tables()
                    .iter()
                    .map(|t| t.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        if !out.iter().any(|t| t.name == def.name) {
            out.push(def);
        }
    }
    Ok(out)
}

/// One table, loaded and planned.
struct Planned {
    def: &'static TableDef,
    table: deltalake::DeltaTable,
    files: BTreeMap<Day, Vec<scan::DataFile>>,
    state: TableState,
    plan: TablePlan,
}

/// Runs an export of `engine`'s lake; see the module docs.
pub async fn export(engine: &Engine, request: &ExportRequest) -> Result<ExportSummary> {
    let started = Instant::now();
    let lake = engine.lake();
    let dest = Destination::open(&request.dest, &request.store)?;
    let tables = select_tables(&request.tables)?;
    let tenants = normalised_tenants(&request.tenants);
    let wanted = Manifest::new(
        lake.root().to_string(),
        request.encoding.format,
        request.encoding.compression,
        request.layout,
        tenants.clone(),
    );
    let mut manifest = match Manifest::read(&dest).await? {
        Some(old) => match old.mismatch(&wanted) {
            None => old,
            Some(_) if request.full => {
                // Settings changed: start over. The old export's files (tables not exported now
                // included) are superseded: deleted once this run ends, unless written again
                // under the same names. Recorded first, so that a run that stops midway leaves
                // them to the next one rather than forgotten.
                let mut fresh = wanted.clone();
                fresh.superseded = old.listed_files();
                fresh.write(&dest).await?;
                fresh
            }
            Some(difference) => {
                return Err(Error::Config(format!(
                    "{} holds an export with other settings ({difference}); export there with the same settings, use --full to export everything again with these, or choose another --dest",
                    dest.url(layout::MANIFEST)
                )));
            }
        },
        None => wanted.clone(),
    };

    // Plan every table first: the progress bar knows the days, and nothing is written for a
    // run that cannot start.
    let mut planned = Vec::new();
    for def in &tables {
        let table = lake.load_table(def.name).await?;
        let files = scan::snapshot_files(def.name, &table, def.is_partitioned())?;
        let state = TableState::of(def.name, &table, &files)?;
        let entry = manifest.tables.get(def.name);
        let changes = match plan::log_needed_after(entry, &state, request.range) {
            Some(after) if !request.full && after < state.version => Some(
                Changes::read(lake, def.name, def.is_partitioned(), after, state.version).await?,
            ),
            _ => None,
        };
        let plan = plan::plan_table(entry, &state, changes.as_ref(), request.range, request.full);
        planned.push(Planned {
            def,
            table,
            files,
            state,
            plan,
        });
    }

    let total_days: u64 = planned.iter().map(|p| p.plan.export.len() as u64).sum();
    let progress = Arc::new(progress::Progress::new(request.progress, total_days));
    let settings = FileSettings {
        encoding: request.encoding,
        layout: request.layout,
        max_file_bytes: request.max_file_bytes.max(1),
    };
    let mut summary = ExportSummary {
        dest: dest.root().to_string(),
        ..ExportSummary::default()
    };
    for p in planned {
        let done = export_table(
            &dest,
            &mut manifest,
            p,
            tenants.as_deref(),
            &settings,
            &progress,
        )
        .await;
        match done {
            Ok(table_summary) => summary.tables.push(table_summary),
            Err(e) => {
                progress.abandon();
                return Err(e);
            }
        }
    }
    summary.superseded_deleted = manifest.delete_superseded(&dest).await?;
    if summary.superseded_deleted > 0 {
        manifest.write(&dest).await?;
    }
    progress.finish();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Tenant ids sorted and de-duplicated, `None` for all.
fn normalised_tenants(tenants: &[String]) -> Option<Vec<String>> {
    let mut t: Vec<String> = tenants
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    t.sort();
    t.dedup();
    (!t.is_empty()).then_some(t)
}

async fn export_table(
    dest: &Destination,
    manifest: &mut Manifest,
    p: Planned,
    tenants: Option<&[String]>,
    settings: &FileSettings,
    progress: &Arc<progress::Progress>,
) -> Result<TableSummary> {
    let Planned {
        def,
        table,
        files,
        state,
        plan,
    } = p;
    let mut summary = TableSummary {
        table: def.name,
        version: state.version,
        days_skipped: (plan.skip.len() + plan.recompacted.len()) as u64,
        days_recompacted: plan.recompacted.len() as u64,
        days_dropped: plan.drop.len() as u64,
        ..TableSummary::default()
    };
    let keep_dt = settings.layout.keeps_dt_column();
    let source = Arc::new(TableSource::new(def, &table, files, keep_dt, tenants).await?);
    write_schema_files(dest, def.name, source.schema()).await?;

    // Before anything is rewritten, the days about to change leave the manifest: a listed
    // file is always complete.
    let entry = manifest.tables.entry(def.name.to_string()).or_default();
    entry.bigquery_schema = layout::bigquery_schema_file(def.name);
    entry.arrow_schema = layout::arrow_schema_file(def.name);
    let mut taken_out = false;
    for day in plan
        .export
        .iter()
        .map(|(d, _)| *d)
        .chain(plan.drop.iter().copied())
    {
        taken_out |= entry.remove_day(day).is_some();
    }
    for day in &plan.recompacted {
        if let (Some(mut listed), Some(files)) = (entry.remove_day(*day), state.days.get(day)) {
            listed.delta_version = state.version;
            listed.source_files = files.clone();
            entry.set_day(listed);
        }
    }
    if taken_out || !plan.recompacted.is_empty() {
        manifest.write(dest).await?;
    }

    let mut existing = if plan.export.is_empty() && plan.drop.is_empty() {
        Default::default()
    } else {
        table::existing_files(dest, def, settings.layout).await?
    };
    let mut saved = Instant::now();
    // A few days at once, each its own task (the cores share the decoding, encoding and
    // compression); results come back in day order. Dropping `writes` (an error) cancels the
    // days still running: their files are aborted, none appears.
    let mut writes = futures::stream::iter(plan.export.iter().map(|(day, _reason)| {
        let (day, source, dest, settings) = (*day, source.clone(), dest.clone(), *settings);
        let progress = progress.clone();
        let (task, handle) = async move {
            progress.table_day(def.name, day);
            let files = source
                .write_day(day, &dest, &settings, |rows| progress.rows(rows))
                .await;
            (day, files)
        }
        .remote_handle();
        tokio::spawn(task);
        handle
    }))
    .buffered(DAYS_AT_ONCE);
    while let Some((day, files)) = writes.next().await {
        let files = files?;
        let written: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        for stale in existing.remove(&day).unwrap_or_default() {
            if !written.contains(&stale.as_str()) {
                dest.delete(&stale).await?;
            }
        }
        let rows: u64 = files.iter().map(|f| f.rows).sum();
        summary.days_written += 1;
        summary.rows += rows;
        summary.bytes += files.iter().map(|f| f.bytes).sum::<u64>();
        summary.files += files.len() as u64;
        let entry = manifest.tables.entry(def.name.to_string()).or_default();
        entry.set_day(DayEntry {
            day,
            delta_version: state.version,
            source_files: state.days.get(&day).cloned().unwrap_or_default(),
            rows,
            files,
        });
        progress.day_done();
        if saved.elapsed() >= SAVE_EVERY {
            manifest.write(dest).await?;
            saved = Instant::now();
        }
    }
    for day in &plan.drop {
        for stale in existing.remove(day).unwrap_or_default() {
            dest.delete(&stale).await?;
        }
    }
    let entry = manifest.tables.entry(def.name.to_string()).or_default();
    entry.delta_version = Some(state.version);
    manifest.write(dest).await?;
    Ok(summary)
}

async fn write_schema_files(
    dest: &Destination,
    table: &str,
    schema: &arrow::datatypes::SchemaRef,
) -> Result<()> {
    let json = |value: serde_json::Value| -> Result<Bytes> {
        let mut bytes = serde_json::to_vec_pretty(&value)
            .map_err(|e| Error::Config(format!("export: schema of {table}: {e}")))?;
        bytes.push(b'\n');
        Ok(Bytes::from(bytes))
    };
    let bigquery = json(schema_files::bigquery_schema(schema)?)?;
    dest.put_atomic(&layout::bigquery_schema_file(table), bigquery)
        .await?;
    let arrow = json(schema_files::arrow_schema(schema))?;
    dest.put_atomic(&layout::arrow_schema_file(table), arrow)
        .await
}

/// A day for messages: `YYYY-MM-DD`, or `all` for a dimension table.
pub fn day_label(day: Day) -> String {
    day.map_or_else(|| "all".to_string(), |d| d.format("%Y-%m-%d").to_string())
}
