//! Exporting one table: the days of its plan, each streamed from a pinned Delta snapshot into
//! as many files as the size limit asks for.
//!
//! Per day: a DataFusion scan of the snapshot filtered to the day (partition pruning: only that
//! day's files are opened) and to the tenants (the engine's [`TenantScoped`] filter), read
//! batch by batch and written as it comes; memory holds a batch and the file's buffers, never
//! a day or a table. After the day's files are complete, files of the day left by an earlier
//! run (more parts, another format, a failed run) are deleted.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion::prelude::{SessionContext, col, lit};
use datafusion::scalar::ScalarValue;
use futures::StreamExt;

use super::changes::Day;
use super::destination::Destination;
use super::format::{Encoding, FileWriter, conform, plain_schema};
use super::layout::Layout;
use super::manifest::FileEntry;
use crate::engine::tenant::TenantScoped;
use crate::error::{Error, Result};
use crate::lake::schema::{PARTITION_COLUMN, TableDef};

/// Batches are written in slices of at most this many rows (zero-copy), so that a file closes
/// close to its size limit whatever the scan's batch size.
const SLICE_ROWS: usize = 512;

/// How every file of a run is written.
#[derive(Debug, Clone, Copy)]
pub struct FileSettings {
    /// Format and compression.
    pub encoding: Encoding,
    /// Naming.
    pub layout: Layout,
    /// A file is closed once it reaches this size, and the day goes on in a next part.
    pub max_file_bytes: u64,
}

/// One table's snapshot, ready to be read day by day.
pub struct TableSource {
    def: &'static TableDef,
    ctx: SessionContext,
    provider: Arc<TenantScoped>,
    schema: SchemaRef,
}

impl std::fmt::Debug for TableSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableSource")
            .field("table", &self.def.name)
            .finish()
    }
}

impl TableSource {
    /// The snapshot of `table` (loaded at the version being exported) read through `ctx`, whose
    /// tenant scope filters the rows; `keep_dt` keeps the partition column in the files.
    pub async fn new(
        def: &'static TableDef,
        table: &deltalake::DeltaTable,
        ctx: SessionContext,
        keep_dt: bool,
    ) -> Result<TableSource> {
        let provider = table.table_provider().await.map_err(Error::DataFusion)?;
        let provider = Arc::new(TenantScoped::new(def.name, provider)?);
        let mut source = TableSource {
            def,
            ctx,
            provider,
            schema: Arc::new(arrow::datatypes::Schema::empty()),
        };
        let frame = source.frame(None, keep_dt)?;
        source.schema = plain_schema(frame.schema().as_arrow());
        Ok(source)
    }

    /// The schema of the exported files.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn frame(&self, day: Day, keep_dt: bool) -> Result<datafusion::dataframe::DataFrame> {
        let mut frame = self.ctx.read_table(self.provider.clone())?;
        if let Some(day) = day {
            let days = (day - chrono::DateTime::UNIX_EPOCH.date_naive()).num_days();
            let days = i32::try_from(days)
                .map_err(|_| Error::Config(format!("export: day {day} out of range")))?;
            frame = frame.filter(col(PARTITION_COLUMN).eq(lit(ScalarValue::Date32(Some(days)))))?;
        }
        if !keep_dt && self.def.is_partitioned() {
            frame = frame.drop_columns(&[PARTITION_COLUMN])?;
        }
        Ok(frame)
    }

    /// Writes `day`'s rows as files `settings.layout` names, returning them (none when the day
    /// has no rows for the tenants exported); `on_rows` hears of every batch written.
    pub async fn write_day(
        &self,
        day: Day,
        dest: &Destination,
        settings: &FileSettings,
        mut on_rows: impl FnMut(u64),
    ) -> Result<Vec<FileEntry>> {
        let frame = self.frame(day, settings.layout.keeps_dt_column())?;
        let mut stream = frame.execute_stream().await?;
        let mut files = Vec::new();
        let mut open: Option<(String, FileWriter)> = None;
        let outcome: Result<()> = async {
            while let Some(batch) = stream.next().await {
                let batch = conform(&batch?, &self.schema)?;
                for offset in (0..batch.num_rows()).step_by(SLICE_ROWS) {
                    let slice = batch.slice(offset, SLICE_ROWS.min(batch.num_rows() - offset));
                    self.write_slice(&slice, day, dest, settings, &mut open, &mut files)
                        .await?;
                    on_rows(slice.num_rows() as u64);
                }
            }
            if let Some((rel, writer)) = open.take() {
                files.push(finish(rel, writer).await?);
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            if let Some((_, writer)) = open.take() {
                writer.abort().await;
            }
            return Err(e);
        }
        Ok(files)
    }

    /// Writes `batch` into the open file (opening the next part first when none is), and
    /// closes the file once it is full.
    async fn write_slice(
        &self,
        batch: &arrow::array::RecordBatch,
        day: Day,
        dest: &Destination,
        settings: &FileSettings,
        open: &mut Option<(String, FileWriter)>,
        files: &mut Vec<FileEntry>,
    ) -> Result<()> {
        let ext = settings.encoding.extension();
        let (_, writer) = match open {
            Some(open) => open,
            None => {
                let rel = settings
                    .layout
                    .data_file(self.def.name, day, files.len() as u32, ext);
                let writer =
                    FileWriter::new(settings.encoding, self.schema.clone(), dest.upload(&rel))?;
                open.insert((rel, writer))
            }
        };
        writer.write(batch).await?;
        if writer.size() >= settings.max_file_bytes
            && let Some((rel, writer)) = open.take()
        {
            files.push(finish(rel, writer).await?);
        }
        Ok(())
    }
}

async fn finish(rel: String, writer: FileWriter) -> Result<FileEntry> {
    let rows = writer.rows();
    let written = writer.finish().await?;
    Ok(FileEntry {
        path: rel,
        rows,
        bytes: written.bytes,
        sha256: written.sha256,
    })
}

/// The files of `def` at `dest` by day (any format), as `layout` names them.
pub async fn existing_files(
    dest: &Destination,
    def: &TableDef,
    layout: Layout,
) -> Result<BTreeMap<Day, Vec<String>>> {
    let (dir, recursive) = layout.table_dir(def.name);
    let mut by_day: BTreeMap<Day, Vec<String>> = BTreeMap::new();
    for rel in dest.list(&dir, recursive).await? {
        if let Some(day) = layout.day_of(def.name, def.is_partitioned(), &rel) {
            by_day.entry(day).or_default().push(rel);
        }
    }
    Ok(by_day)
}
