//! Appending to lake tables: every flush is one atomic Delta commit per table.
//!
//! What a flush does, per table:
//! 1. concatenates the buffered batches (checked against the table's schema on `write`);
//! 2. derives `dt` (UTC date of the table's time column) for partitioned tables;
//! 3. sorts rows by the table's sort key (`tenant_id, channel_id, contact_id, ts` where present);
//! 4. writes zstd Parquet with page-level statistics (column and offset index) and the
//!    `sorting_columns` footer, one file per `dt` partition, and commits the Add actions
//!    atomically. With an application transaction id, a flush retried after a crash is
//!    recognised by its `txn` action and commits once.
//!
//! Memory: buffered rows per table are bounded by [`LakeWriter::with_flush_rows`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Date32Array, RecordBatch, TimestampMicrosecondArray};
use arrow::compute::{SortColumn, concat_batches, lexsort_to_indices, take_record_batch};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::execution::context::SessionState;
use deltalake::delta_datafusion::DeltaSessionContext;
use deltalake::kernel::Transaction;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, StructType};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::SortingColumn;
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use super::schema::{self, PARTITION_COLUMN, TableDef};
use super::store::{Lake, delta_err};
use crate::error::{Error, Result};

/// Microseconds in one day, to turn a UTC timestamp into its `dt` date.
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Rows buffered per table before a flush happens on its own.
pub const DEFAULT_FLUSH_ROWS: usize = 500_000;

/// Rows per Parquet row group: small enough for statistics to prune, large enough for scans.
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Buffers batches per table and commits them to the lake.
pub struct LakeWriter {
    lake: Lake,
    tables: HashMap<&'static str, DeltaTable>,
    buffers: BTreeMap<&'static str, Vec<RecordBatch>>,
    buffered_rows: HashMap<&'static str, usize>,
    flush_rows: usize,
    commits: u64,
    /// A single-partition session for delta-rs's write plan: with more partitions DataFusion
    /// repartitions the input round-robin and the sorted rows arrive at the file interleaved.
    write_session: Arc<SessionState>,
}

impl std::fmt::Debug for LakeWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LakeWriter")
            .field("lake", &self.lake.root().as_str())
            .field("buffered_rows", &self.buffered_rows)
            .field("commits", &self.commits)
            .finish()
    }
}

impl LakeWriter {
    /// A writer into `lake` that flushes a table once it buffers [`DEFAULT_FLUSH_ROWS`] rows.
    pub fn new(lake: Lake) -> Self {
        LakeWriter {
            lake,
            tables: HashMap::new(),
            buffers: BTreeMap::new(),
            buffered_rows: HashMap::new(),
            flush_rows: DEFAULT_FLUSH_ROWS,
            commits: 0,
            write_session: Arc::new(single_partition_write_session()),
        }
    }

    /// Sets how many rows a table buffers before it is flushed on its own.
    pub fn with_flush_rows(mut self, rows: usize) -> Self {
        self.flush_rows = rows.max(1);
        self
    }

    /// The lake this writer writes to.
    pub fn lake(&self) -> &Lake {
        &self.lake
    }

    /// Number of Delta commits made so far.
    pub fn commits(&self) -> u64 {
        self.commits
    }

    /// Buffers a batch for `table`; it must have exactly the table's columns and types.
    /// Flushes the table on its own when its buffer is full.
    pub async fn write(&mut self, table: &str, batch: RecordBatch) -> Result<()> {
        let def = lookup(table)?;
        check_schema(def, &batch)?;
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let rows = self.buffered_rows.entry(def.name).or_default();
        *rows += batch.num_rows();
        let full = *rows >= self.flush_rows;
        self.buffers.entry(def.name).or_default().push(batch);
        if full {
            self.flush_table(def, None).await?;
        }
        Ok(())
    }

    /// Commits everything buffered: one atomic Delta commit per table with rows.
    pub async fn flush(&mut self) -> Result<()> {
        let names: Vec<&'static str> = self.buffers.keys().copied().collect();
        for name in names {
            let def = lookup(name)?;
            self.flush_table(def, None).await?;
        }
        Ok(())
    }

    /// Appends `batches` to `table` in one commit carrying the application transaction
    /// `(app_id, version)`; if the table already records that version (or a later one) for
    /// `app_id`, nothing is written and `false` is returned.
    pub async fn append_once(
        &mut self,
        table: &str,
        batches: Vec<RecordBatch>,
        app_id: &str,
        version: i64,
    ) -> Result<bool> {
        let def = lookup(table)?;
        for batch in &batches {
            check_schema(def, batch)?;
        }
        self.flush_table(def, None).await?;
        let delta = self.table(def).await?;
        let seen = match delta.snapshot() {
            Ok(state) => state
                .transaction_version(delta.log_store().as_ref(), app_id)
                .await
                .map_err(|e| delta_err(def.name, e))?,
            Err(_) => None,
        };
        if seen.is_some_and(|v| v >= version) {
            return Ok(false);
        }
        self.buffers.insert(def.name, batches);
        self.flush_table(def, Some(Transaction::new(app_id, version)))
            .await?;
        Ok(true)
    }

    /// Replaces the rows of `table` that match `predicate` (SQL, e.g. `source = 'derived'`;
    /// `None`: every row) with `batches`, in one atomic commit: a reader sees the old rows or
    /// the new ones, never neither. Every new row must match `predicate` too. With no new rows,
    /// the matching rows are deleted (one commit, none when nothing matches). Returns the rows
    /// written.
    pub async fn replace_where(
        &mut self,
        table: &str,
        batches: Vec<RecordBatch>,
        predicate: Option<&str>,
    ) -> Result<u64> {
        let def = lookup(table)?;
        for batch in &batches {
            check_schema(def, batch)?;
        }
        self.flush_table(def, None).await?;
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        let delta = self.table(def).await?.clone();
        let replaced = if rows == 0 {
            let mut delete = delta
                .delete()
                .with_session_state(self.write_session.clone())
                .with_writer_properties(writer_properties(def));
            if let Some(predicate) = predicate {
                delete = delete.with_predicate(predicate.to_string());
            }
            let (table, _metrics) = delete.await.map_err(|e| delta_err(def.name, e))?;
            table
        } else {
            let batch = prepare(def, &batches)?;
            drop(batches);
            let mut builder = delta
                .write(vec![batch])
                .with_save_mode(SaveMode::Overwrite)
                .with_session_state(self.write_session.clone())
                .with_writer_properties(writer_properties(def))
                .with_target_file_size(std::num::NonZeroU64::new(512 * 1024 * 1024));
            if let Some(predicate) = predicate {
                builder = builder.with_replace_where(predicate.to_string());
            }
            if def.is_partitioned() {
                builder = builder.with_partition_columns([PARTITION_COLUMN]);
            }
            builder.await.map_err(|e| delta_err(def.name, e))?
        };
        self.tables.insert(def.name, replaced);
        self.commits += 1;
        Ok(rows as u64)
    }

    /// Forgets the loaded state of `table`, after another writer committed to it: the next
    /// write loads it afresh.
    pub fn forget(&mut self, table: &str) {
        self.tables.remove(table);
    }

    /// Creates every table of the schema that does not exist yet (empty), so that readers
    /// find all tables even before data arrives.
    pub async fn create_missing_tables(&mut self) -> Result<()> {
        for def in schema::tables() {
            self.table(def).await?;
        }
        Ok(())
    }

    /// The loaded Delta table for `def`, created empty if it does not exist.
    async fn table(&mut self, def: &'static TableDef) -> Result<&mut DeltaTable> {
        if !self.tables.contains_key(def.name) {
            let delta = match self.lake.try_load_table(def.name).await? {
                Some(t) => t,
                None => create_table(&self.lake, def).await?,
            };
            self.tables.insert(def.name, delta);
        }
        self.tables
            .get_mut(def.name)
            .ok_or_else(|| Error::Config(format!("table {} vanished", def.name)))
    }

    async fn flush_table(
        &mut self,
        def: &'static TableDef,
        txn: Option<Transaction>,
    ) -> Result<()> {
        let batches = self.buffers.remove(def.name).unwrap_or_default();
        self.buffered_rows.remove(def.name);
        if batches.is_empty() {
            return Ok(());
        }
        let batch = prepare(def, &batches)?;
        drop(batches);
        let delta = self.table(def).await?.clone();
        let mut commit = CommitProperties::default();
        if let Some(txn) = txn {
            commit = commit.with_application_transaction(txn);
        }
        let mut builder = delta
            .write(vec![batch])
            .with_save_mode(SaveMode::Append)
            .with_session_state(self.write_session.clone())
            .with_writer_properties(writer_properties(def))
            .with_commit_properties(commit)
            .with_target_file_size(std::num::NonZeroU64::new(512 * 1024 * 1024));
        if def.is_partitioned() {
            builder = builder.with_partition_columns([PARTITION_COLUMN]);
        }
        let written = builder.await.map_err(|e| delta_err(def.name, e))?;
        self.tables.insert(def.name, written);
        self.commits += 1;
        Ok(())
    }
}

/// delta-rs's own session (its planner handles the write plan's custom nodes) with one
/// target partition, so the sorted input reaches each partition's file in order.
fn single_partition_write_session() -> SessionState {
    let overrides = std::collections::HashMap::from([(
        "datafusion.execution.target_partitions".to_string(),
        "1".to_string(),
    )]);
    DeltaSessionContext::new_with_session_overrides(&overrides)
        .unwrap_or_default()
        .state()
}

fn lookup(table: &str) -> Result<&'static TableDef> {
    schema::table(table).ok_or_else(|| Error::Config(format!("unknown table '{table}'")))
}

/// Checks that `batch` has the table's columns, in order, with the table's types.
fn check_schema(def: &TableDef, batch: &RecordBatch) -> Result<()> {
    let want = def.schema.fields();
    let got = batch.schema();
    if got.fields().len() != want.len() {
        return Err(Error::Config(format!(
            "table '{}' has {} columns, the batch has {}",
            def.name,
            want.len(),
            got.fields().len()
        )));
    }
    for (w, g) in want.iter().zip(got.fields()) {
        if w.name() != g.name() || w.data_type() != g.data_type() {
            return Err(Error::Config(format!(
                "table '{}': expected column {} {}, the batch has {} {}",
                def.name,
                w.name(),
                w.data_type(),
                g.name(),
                g.data_type()
            )));
        }
        if !w.is_nullable()
            && batch
                .column_by_name(w.name())
                .is_some_and(|c| c.null_count() > 0)
        {
            return Err(Error::Config(format!(
                "table '{}': column {} must not be null",
                def.name,
                w.name()
            )));
        }
    }
    Ok(())
}

/// Concatenates, derives `dt`, and sorts by the table's sort key.
pub(crate) fn prepare(def: &TableDef, batches: &[RecordBatch]) -> Result<RecordBatch> {
    let schema = def.schema.clone();
    let batch = concat_batches(&schema, batches)?;
    let sort_columns: Vec<SortColumn> = def
        .sort_key
        .iter()
        .filter_map(|name| batch.column_by_name(name))
        .map(|values| SortColumn {
            values: values.clone(),
            options: None,
        })
        .collect();
    let batch = if sort_columns.is_empty() {
        batch
    } else {
        let indices = lexsort_to_indices(&sort_columns, None)?;
        take_record_batch(&batch, &indices)?
    };
    let Some(time_column) = def.time_column else {
        return Ok(batch);
    };
    let times = batch
        .column_by_name(time_column)
        .and_then(|c| c.as_any().downcast_ref::<TimestampMicrosecondArray>())
        .ok_or_else(|| {
            Error::Config(format!(
                "table '{}': time column {time_column} is not a microsecond timestamp",
                def.name
            ))
        })?;
    let dt: Date32Array = times
        .iter()
        .map(|t| t.map(|micros| micros.div_euclid(MICROS_PER_DAY) as i32))
        .collect();
    let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
    fields.push(Arc::new(Field::new(
        PARTITION_COLUMN,
        DataType::Date32,
        times.null_count() > 0,
    )));
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.push(Arc::new(dt));
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// Parquet settings of every data file: zstd, page statistics, sorted footer.
pub(crate) fn writer_properties(def: &TableDef) -> WriterProperties {
    let sorting: Vec<SortingColumn> = def
        .sort_key
        .iter()
        .filter_map(|name| def.schema.index_of(name).ok())
        .map(|idx| SortingColumn {
            column_idx: idx as i32,
            descending: false,
            nulls_first: false,
        })
        .collect();
    let zstd = ZstdLevel::try_new(3).map_or(Compression::SNAPPY, Compression::ZSTD);
    WriterProperties::builder()
        .set_compression(zstd)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_sorting_columns(Some(sorting))
        .set_created_by(format!("chatlake {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Creates the empty Delta table for `def`.
pub(crate) async fn create_table(lake: &Lake, def: &TableDef) -> Result<DeltaTable> {
    let delta = lake.delta_table(def.name)?;
    let kernel: StructType = def.delta_schema().as_ref().try_into_kernel().map_err(|e| {
        Error::Config(format!(
            "table '{}': schema not expressible in Delta: {e}",
            def.name
        ))
    })?;
    let mut create = delta
        .create()
        .with_table_name(def.name)
        .with_comment(def.description)
        .with_columns(kernel.fields().cloned())
        .with_save_mode(SaveMode::Ignore);
    if def.is_partitioned() {
        create = create.with_partition_columns([PARTITION_COLUMN]);
    }
    create.await.map_err(|e| delta_err(def.name, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::StoreOptions;
    use arrow::array::AsArray;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    /// The sort key of one row: `(tenant_id, channel_id, contact_id, ts)`.
    type Key = (String, String, String, i64);

    /// The keys of every row of every data file of `table`, by file path.
    fn file_keys(root: &std::path::Path, table: &str) -> Vec<(String, Vec<Key>)> {
        let mut files = Vec::new();
        for partition in std::fs::read_dir(root.join(table))
            .expect("table dir")
            .flatten()
        {
            if partition.path().is_dir() {
                for file in std::fs::read_dir(partition.path())
                    .expect("partition")
                    .flatten()
                {
                    if file.path().extension().is_some_and(|e| e == "parquet") {
                        files.push(file.path());
                    }
                }
            }
        }
        let mut out = Vec::new();
        for path in files {
            let file = std::fs::File::open(&path).expect("open");
            let batches: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(file)
                .expect("parquet")
                .build()
                .expect("reader")
                .collect::<Result<_, _>>()
                .expect("read");
            let mut keys = Vec::new();
            for b in &batches {
                let text = |n: &str| {
                    b.column_by_name(n)
                        .expect("column")
                        .as_string::<i32>()
                        .clone()
                };
                let (t, c, k) = (text("tenant_id"), text("channel_id"), text("contact_id"));
                let ts = b
                    .column_by_name("ts")
                    .expect("ts")
                    .as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
                    .clone();
                for i in 0..b.num_rows() {
                    keys.push((
                        t.value(i).to_string(),
                        c.value(i).to_string(),
                        k.value(i).to_string(),
                        ts.value(i),
                    ));
                }
            }
            out.push((path.display().to_string(), keys));
        }
        out
    }

    // A multi-threaded runtime, as in the binary: with one thread the writer's streams never
    // interleave and an unsorted write would go unnoticed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_data_file_is_sorted_by_the_sort_key() {
        // Generated messages, as the generator hands them over: many batches, many days.
        let dir = tempfile::tempdir().expect("tempdir");
        let lake =
            Lake::open(&dir.path().to_string_lossy(), &StoreOptions::default()).expect("lake");
        let mut writer = LakeWriter::new(lake);
        let cfg = crate::generate::GenerateConfig {
            tenants: 3,
            contacts: 2_000,
            days: 30,
            seed: 11,
            ..Default::default()
        };
        crate::generate::generate(&mut writer, &cfg)
            .await
            .expect("generate");
        writer.flush().await.expect("flush");

        let files = file_keys(dir.path(), "messages");
        assert!(
            files.len() >= 30,
            "a file per day at least, got {}",
            files.len()
        );
        for (path, keys) in files {
            assert!(!keys.is_empty());
            assert!(
                keys.windows(2).all(|w| w[0] <= w[1]),
                "{path} is not sorted by (tenant_id, channel_id, contact_id, ts)"
            );
        }
    }
}
