//! Reading one day of a table straight from the Parquet files of its pinned Delta snapshot:
//! no SQL planning per day, only the files of the day opened, the exported columns decoded.
//!
//! The snapshot's add actions give each day's files (the table is partitioned by `dt`); each
//! file is read with the Parquet reader, projected to the columns exported, and every batch is
//! brought to the export schema by column name:
//!
//! | column | value |
//! |---|---|
//! | `dt` (partition column) | the day, from the file's partition value (not stored in the file) |
//! | in the file | its values, cast when the file's type differs (e.g. `Utf8View`) |
//! | not in the file (added to the table later) | nulls |
//!
//! With `--tenant`, rows of other tenants are filtered out batch by batch. Memory: one batch of
//! one file at a time. Files are read in path order, so a day's rows come out in one order
//! whatever the run.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Date32Array, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use super::changes::{Day, parse_day};
use crate::engine::tenant::TENANT_COLUMN;
use crate::error::{Error, Result};
use crate::lake::schema::PARTITION_COLUMN;

/// Rows per batch read from a file.
const BATCH_ROWS: usize = 8192;

/// One data file of a snapshot.
#[derive(Debug, Clone)]
pub struct DataFile {
    /// The path as the Delta log names it (relative to the table root, decoded).
    pub log_path: String,
    /// The path in the table's store.
    store_path: Path,
    /// Size in bytes, from the add action (saves a `HEAD`).
    size: u64,
}

/// The data files of the loaded snapshot of `table` (named `name`) by day (`dt` partition; one
/// `None` entry, possibly empty, for a table not `partitioned`), each day's in path order.
pub fn snapshot_files(
    name: &str,
    table: &deltalake::DeltaTable,
    partitioned: bool,
) -> Result<BTreeMap<Day, Vec<DataFile>>> {
    let snapshot = table
        .snapshot()
        .map_err(|e| crate::lake::store::delta_err(name, e))?;
    let mut files: BTreeMap<Day, Vec<DataFile>> = BTreeMap::new();
    for file in snapshot.log_data().iter() {
        if file.deletion_vector_descriptor().is_some() {
            return Err(Error::Config(format!(
                "export: data file {} of '{name}' has a deletion vector, which export does not read (chatlake never writes one: was the table written by another engine?)",
                file.path()
            )));
        }
        let day = if partitioned {
            let values = file.partition_values_map();
            let text = values.get(PARTITION_COLUMN).cloned().flatten();
            Some(parse_day(text.as_deref()).ok_or_else(|| {
                Error::Config(format!(
                    "export: data file {} of '{name}' has no valid {PARTITION_COLUMN} partition value",
                    file.path()
                ))
            })?)
        } else {
            None
        };
        files.entry(day).or_default().push(DataFile {
            log_path: file.path().to_string(),
            store_path: file.object_store_path(),
            size: u64::try_from(file.size()).unwrap_or(0),
        });
    }
    if !partitioned {
        files.entry(None).or_default();
    }
    for day_files in files.values_mut() {
        day_files.sort_by(|a, b| a.log_path.cmp(&b.log_path));
    }
    Ok(files)
}

/// A table's snapshot, read day by day; see the module docs.
pub struct SnapshotScan {
    table: &'static str,
    store: Arc<dyn ObjectStore>,
    files: BTreeMap<Day, Vec<DataFile>>,
    schema: SchemaRef,
    tenants: Option<Arc<HashSet<String>>>,
}

impl std::fmt::Debug for SnapshotScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotScan")
            .field("table", &self.table)
            .field("days", &self.files.len())
            .finish()
    }
}

impl SnapshotScan {
    /// `files` of `table` (named `name`; from [`snapshot_files`]) to be read as `schema` (the
    /// export schema: by name, `dt` included or not); only the rows of `tenants` when given.
    pub fn new(
        name: &'static str,
        table: &deltalake::DeltaTable,
        files: BTreeMap<Day, Vec<DataFile>>,
        schema: SchemaRef,
        tenants: Option<&[String]>,
    ) -> Result<SnapshotScan> {
        if let Some(tenants) = tenants
            && schema.index_of(TENANT_COLUMN).is_err()
        {
            return Err(Error::Config(format!(
                "export: table '{name}' has no {TENANT_COLUMN} column, so --tenant {} cannot filter it",
                tenants.join(",")
            )));
        }
        Ok(SnapshotScan {
            table: name,
            store: table.log_store().object_store(None),
            files,
            schema,
            tenants: tenants.map(|t| Arc::new(t.iter().cloned().collect())),
        })
    }

    /// The rows of `day` (none for a day without files), as batches of the export schema.
    pub fn day(&self, day: Day) -> BoxStream<'static, Result<RecordBatch>> {
        let files = self.files.get(&day).cloned().unwrap_or_default();
        let reader = FileReader {
            table: self.table,
            store: self.store.clone(),
            schema: self.schema.clone(),
            day,
            tenants: self.tenants.clone(),
        };
        futures::stream::iter(files)
            .then(move |file| {
                let reader = reader.clone();
                async move { reader.open(file).await }
            })
            .try_flatten()
            .boxed()
    }
}

/// What reading one file of a day needs.
#[derive(Clone)]
struct FileReader {
    table: &'static str,
    store: Arc<dyn ObjectStore>,
    schema: SchemaRef,
    day: Day,
    tenants: Option<Arc<HashSet<String>>>,
}

impl FileReader {
    /// The batches of `file`, in the export schema.
    async fn open(self, file: DataFile) -> Result<BoxStream<'static, Result<RecordBatch>>> {
        let reader = StoreFile {
            store: self.store.clone(),
            path: file.store_path.clone(),
            size: file.size,
        };
        let builder = ParquetRecordBatchStreamBuilder::new(reader)
            .await
            .map_err(|e| self.error(&file, e))?;
        let file_schema = builder.schema().clone();
        let wanted: Vec<usize> = file_schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| self.schema.field_with_name(f.name()).is_ok())
            .map(|(i, _)| i)
            .collect();
        let mask = ProjectionMask::roots(builder.parquet_schema(), wanted);
        let stream = builder
            .with_projection(mask)
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| self.error(&file, e))?;
        let this = Arc::new(self);
        Ok(stream
            .map(move |batch| {
                let batch = batch.map_err(|e| this.error(&file, e))?;
                this.conform(&batch, &file)
            })
            .try_filter(|batch| futures::future::ready(batch.num_rows() > 0))
            .boxed())
    }

    /// `batch` (read from `file`) as the export schema, filtered to the tenants.
    fn conform(&self, batch: &RecordBatch, file: &DataFile) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        for field in self.schema.fields() {
            let column = match batch.column_by_name(field.name()) {
                Some(column) if column.data_type() == field.data_type() => column.clone(),
                Some(column) => arrow::compute::cast(column, field.data_type())?,
                None if field.name() == PARTITION_COLUMN && self.day.is_some() => {
                    day_column(self.day, field.data_type(), rows)?
                }
                None if field.is_nullable() => {
                    arrow::array::new_null_array(field.data_type(), rows)
                }
                None => {
                    return Err(Error::Config(format!(
                        "export: data file {} of '{}' has no column {} (required)",
                        file.log_path,
                        self.table,
                        field.name()
                    )));
                }
            };
            columns.push(column);
        }
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        match &self.tenants {
            Some(tenants) => keep_tenants(&batch, tenants),
            None => Ok(batch),
        }
    }

    fn error(&self, file: &DataFile, e: parquet::errors::ParquetError) -> Error {
        Error::Config(format!(
            "export: reading data file {} of '{}': {e}",
            file.log_path, self.table
        ))
    }
}

/// Footer bytes fetched in the first read of a file (its metadata, usually all of it).
const FOOTER_PREFETCH: usize = 64 * 1024;

/// A Parquet file in an object store, read by byte ranges.
struct StoreFile {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
}

impl AsyncFileReader for StoreFile {
    fn get_bytes(
        &mut self,
        range: std::ops::Range<u64>,
    ) -> BoxFuture<'_, parquet::errors::Result<bytes::Bytes>> {
        async move {
            self.store
                .get_range(&self.path, range)
                .await
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))
        }
        .boxed()
    }

    /// All of a row group's column chunks in one request: one open of a local file, nearby
    /// ranges coalesced on S3 (the default asks for each range alone).
    fn get_byte_ranges(
        &mut self,
        ranges: Vec<std::ops::Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<bytes::Bytes>>> {
        async move {
            self.store
                .get_ranges(&self.path, &ranges)
                .await
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .with_prefetch_hint(Some(FOOTER_PREFETCH))
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

/// `rows` times `day` as a column of `data_type` (a date).
fn day_column(day: Day, data_type: &DataType, rows: usize) -> Result<ArrayRef> {
    let days = day.map(|d| (d - chrono::DateTime::UNIX_EPOCH.date_naive()).num_days());
    let days = days
        .map(i32::try_from)
        .transpose()
        .map_err(|_| Error::Config(format!("export: day {day:?} out of range")))?;
    let column: ArrayRef = Arc::new(Date32Array::from(vec![days; rows]));
    if column.data_type() == data_type {
        Ok(column)
    } else {
        Ok(arrow::compute::cast(&column, data_type)?)
    }
}

/// The rows of `batch` whose `tenant_id` is one of `tenants`.
fn keep_tenants(batch: &RecordBatch, tenants: &HashSet<String>) -> Result<RecordBatch> {
    let column = batch
        .column_by_name(TENANT_COLUMN)
        .ok_or_else(|| Error::Config(format!("export: no {TENANT_COLUMN} column to filter")))?;
    let ids = column.as_string_opt::<i32>().ok_or_else(|| {
        Error::Config(format!(
            "export: {TENANT_COLUMN} is {}, not a string",
            column.data_type()
        ))
    })?;
    let keep: BooleanArray = ids
        .iter()
        .map(|id| Some(id.is_some_and(|id| tenants.contains(id))))
        .collect();
    if keep.true_count() == batch.num_rows() {
        return Ok(batch.clone());
    }
    Ok(arrow::compute::filter_record_batch(batch, &keep)?)
}
