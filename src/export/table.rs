//! Exporting one table: the days of its plan, each streamed from a pinned Delta snapshot into
//! as many files as the size limit asks for.
//!
//! Per day: the day's Parquet files of the snapshot read straight ([`SnapshotScan`]: no query
//! planned per day), filtered to the tenants, batch by batch, written as they come; memory
//! holds a batch and the file's buffers, never a day or a table. After the day's files are complete, files of the day left by an earlier
//! run (more parts, another format, a failed run) are deleted.

use std::collections::BTreeMap;

use arrow::datatypes::SchemaRef;
use futures::StreamExt;

use super::changes::Day;
use super::destination::Destination;
use super::format::{Encoding, FileWriter, plain_schema};
use super::layout::Layout;
use super::manifest::FileEntry;
use super::scan::{DataFile, SnapshotScan};
use crate::error::{Error, Result};
use crate::lake::schema::{PARTITION_COLUMN, TableDef};

/// Near a file's size limit, batches are written in slices of at most this many rows
/// (zero-copy), so that a file closes close to its limit whatever the batch size; far from it
/// a batch is written whole (every write has a cost of its own).
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
#[derive(Debug)]
pub struct TableSource {
    def: &'static TableDef,
    scan: SnapshotScan,
    schema: SchemaRef,
}

impl TableSource {
    /// The snapshot of `table` (loaded at the version being exported; its data files by day
    /// `files`), the rows of `tenants` only when given; `keep_dt` keeps the partition column in
    /// the files.
    pub async fn new(
        def: &'static TableDef,
        table: &deltalake::DeltaTable,
        files: BTreeMap<Day, Vec<DataFile>>,
        keep_dt: bool,
        tenants: Option<&[String]>,
    ) -> Result<TableSource> {
        // The columns as the engine shows the table (partition column last), `dt` dropped for
        // the Hive layout.
        let provider = table.table_provider().await.map_err(Error::DataFusion)?;
        let full = provider.schema();
        let fields: Vec<_> = full
            .fields()
            .iter()
            .filter(|f| keep_dt || !def.is_partitioned() || f.name() != PARTITION_COLUMN)
            .cloned()
            .collect();
        let schema = plain_schema(&arrow::datatypes::Schema::new_with_metadata(
            fields,
            full.metadata().clone(),
        ));
        let scan = SnapshotScan::new(def.name, table, files, schema.clone(), tenants)?;
        Ok(TableSource { def, scan, schema })
    }

    /// The schema of the exported files.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
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
        let mut stream = self.scan.day(day);
        let mut files = Vec::new();
        let mut open: Option<(String, FileWriter)> = None;
        let outcome: Result<()> = async {
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                // An upper bound of what the batch adds to a file: its size in memory.
                let whole = batch.get_array_memory_size() as u64;
                let mut offset = 0;
                while offset < batch.num_rows() {
                    let size = open.as_ref().map_or(0, |(_, writer)| writer.size());
                    let rows = if offset == 0 && size + whole < settings.max_file_bytes {
                        batch.num_rows()
                    } else {
                        SLICE_ROWS.min(batch.num_rows() - offset)
                    };
                    let slice = batch.slice(offset, rows);
                    self.write_slice(&slice, day, dest, settings, &mut open, &mut files)
                        .await?;
                    on_rows(rows as u64);
                    offset += rows;
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
