//! Writing record batches as one file of the chosen format, streamed onto an [`Upload`].
//!
//! | format | types as written | compression (default first) | extension |
//! |---|---|---|---|
//! | Parquet | Arrow types as they are: `TIMESTAMP` µs UTC, `DATE`, `BOOLEAN`, nulls | zstd, snappy, none (inside the file) | `.parquet` |
//! | NDJSON | one object per line; timestamps RFC 3339 in UTC (`2026-10-01T09:30:00.000000+00:00`), dates `YYYY-MM-DD`, booleans, explicit `null`s | gzip, zstd, none (the whole file) | `.json`, `.json.gz`, `.json.zst` |
//! | CSV | a header line, RFC 4180 quoting (fields with `,` `"` or line breaks quoted, `"` doubled), null = empty field; times and dates as in NDJSON | gzip, zstd, none | `.csv`, `.csv.gz`, `.csv.zst` |
//!
//! Gzip and zstd are what BigQuery, Snowflake, DuckDB and Spark read without being told; Parquet
//! with gzip is left out (the Parquet codecs built in are zstd and snappy). String columns are
//! written as `Utf8` (DataFusion may read them as `Utf8View`), so every file of a table has
//! one schema.
//!
//! Memory: one batch of text at a time (compressed as it goes), one row group for Parquet.

use std::io::Write;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use bytes::Bytes;
use parquet::arrow::AsyncArrowWriter;
use parquet::basic::{Compression as ParquetCodec, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::sink::{Upload, Written};
use crate::error::{Error, Result};

/// File format of an export.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// Apache Parquet (typed, compressed columns; BigQuery, Snowflake, Spark, DuckDB).
    Parquet,
    /// Newline-delimited JSON, one object per row.
    Ndjson,
    /// Comma-separated values with a header line.
    Csv,
}

/// Compression of the exported files.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Zstandard.
    Zstd,
    /// Snappy (Parquet only).
    Snappy,
    /// Gzip (NDJSON and CSV only).
    Gzip,
    /// No compression.
    None,
}

/// Timestamps with a zone, in NDJSON and CSV: RFC 3339, microseconds, the offset written out.
pub(crate) const TIMESTAMP_TZ_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6f%:z";
/// Timestamps without a zone (query exports only): ISO 8601 without an offset.
const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6f";
/// Rows of a Parquet row group: what a file being written holds in memory (the writer's default,
/// a million rows of a wide table, would be hundreds of MiB).
const ROW_GROUP_ROWS: usize = 128 * 1024;
/// Gzip level: fast, within a few per cent of the default's size on these rows.
const GZIP_LEVEL: u32 = 3;
/// Zstandard level of NDJSON and CSV files.
const ZSTD_LEVEL: i32 = 3;

/// A format with its compression, checked to go together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    /// The file format.
    pub format: FileFormat,
    /// The compression.
    pub compression: Compression,
}

impl Encoding {
    /// `format` with `compression` (its default when `None`); an error for a pair no reader
    /// expects (snappy text, gzip Parquet).
    pub fn new(format: FileFormat, compression: Option<Compression>) -> Result<Encoding> {
        let compression = compression.unwrap_or(match format {
            FileFormat::Parquet => Compression::Zstd,
            FileFormat::Ndjson | FileFormat::Csv => Compression::Gzip,
        });
        match (format, compression) {
            (FileFormat::Parquet, Compression::Gzip) => Err(Error::Config(
                "--compression gzip is for ndjson and csv; Parquet files compress with zstd (default) or snappy".into(),
            )),
            (FileFormat::Ndjson | FileFormat::Csv, Compression::Snappy) => Err(Error::Config(
                "--compression snappy is for parquet; ndjson and csv compress with gzip (default) or zstd".into(),
            )),
            _ => Ok(Encoding {
                format,
                compression,
            }),
        }
    }

    /// The file name extension, without the leading dot (`parquet`, `json.gz`, `csv.zst` ...).
    pub fn extension(&self) -> &'static str {
        match (self.format, self.compression) {
            (FileFormat::Parquet, _) => "parquet",
            (FileFormat::Ndjson, Compression::Gzip) => "json.gz",
            (FileFormat::Ndjson, Compression::Zstd) => "json.zst",
            (FileFormat::Ndjson, _) => "json",
            (FileFormat::Csv, Compression::Gzip) => "csv.gz",
            (FileFormat::Csv, Compression::Zstd) => "csv.zst",
            (FileFormat::Csv, _) => "csv",
        }
    }
}

/// Every extension an export may write (to recognise its files when cleaning up).
pub const EXTENSIONS: &[&str] = &[
    "parquet", "json", "json.gz", "json.zst", "csv", "csv.gz", "csv.zst",
];

/// `schema` with view string and binary types as their plain forms (`Utf8View` as `Utf8`).
pub fn plain_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let data_type = match f.data_type() {
                DataType::Utf8View => DataType::Utf8,
                DataType::BinaryView => DataType::Binary,
                other => other.clone(),
            };
            f.as_ref().clone().with_data_type(data_type)
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `batch` with the columns of `schema` (by position), cast where the types differ.
pub fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if batch.schema().fields() == schema.fields() {
        return Ok(batch.clone());
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| {
            if column.data_type() == field.data_type() {
                Ok(column.clone())
            } else {
                arrow::compute::cast(column, field.data_type())
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// One file being written; see the module docs.
pub struct FileWriter {
    inner: Inner,
    rows: u64,
}

enum Inner {
    Parquet(Box<AsyncArrowWriter<Upload>>),
    Text(Box<TextWriter>),
}

impl std::fmt::Debug for FileWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWriter")
            .field("rows", &self.rows)
            .finish()
    }
}

impl FileWriter {
    /// A writer of `encoding` for batches of `schema` onto `upload`.
    pub fn new(encoding: Encoding, schema: SchemaRef, upload: Upload) -> Result<FileWriter> {
        let inner = match encoding.format {
            FileFormat::Parquet => {
                let codec = match encoding.compression {
                    Compression::Zstd => ParquetCodec::ZSTD(ZstdLevel::default()),
                    Compression::Snappy => ParquetCodec::SNAPPY,
                    _ => ParquetCodec::UNCOMPRESSED,
                };
                let props = WriterProperties::builder()
                    .set_compression(codec)
                    .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                    .build();
                let writer = AsyncArrowWriter::try_new(upload, schema, Some(props))
                    .map_err(parquet_error)?;
                Inner::Parquet(Box::new(writer))
            }
            FileFormat::Ndjson | FileFormat::Csv => {
                Inner::Text(Box::new(TextWriter::new(encoding, schema, upload)?))
            }
        };
        Ok(FileWriter { inner, rows: 0 })
    }

    /// Appends `batch` (of the writer's schema).
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        match &mut self.inner {
            Inner::Parquet(writer) => writer.write(batch).await.map_err(parquet_error),
            Inner::Text(writer) => writer.write(batch).await,
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Bytes of the file so far, counting what is buffered: what decides when a file is full.
    /// For Parquet the row group in progress counts at its size in memory (before
    /// compression): an upper bound, so a file ends at or below the limit give or take a batch.
    pub fn size(&self) -> u64 {
        match &self.inner {
            Inner::Parquet(writer) => (writer.bytes_written() + writer.memory_size()) as u64,
            Inner::Text(writer) => writer.upload.bytes(),
        }
    }

    /// Finishes the file and completes its upload.
    pub async fn finish(self) -> Result<Written> {
        match self.inner {
            Inner::Parquet(mut writer) => {
                writer.finish().await.map_err(parquet_error)?;
                Ok(writer.into_inner().written())
            }
            Inner::Text(writer) => writer.finish().await,
        }
    }

    /// Drops the file: its upload is aborted and nothing appears.
    pub async fn abort(self) {
        match self.inner {
            Inner::Parquet(writer) => writer.into_inner().abort().await,
            Inner::Text(writer) => writer.upload.abort().await,
        }
    }
}

fn parquet_error(e: parquet::errors::ParquetError) -> Error {
    // A store error inside the Parquet writer comes back out whole, naming the file.
    match e {
        parquet::errors::ParquetError::External(inner) => match inner.downcast::<Error>() {
            Ok(ours) => *ours,
            Err(other) => Error::DataFusion(datafusion::error::DataFusionError::External(other)),
        },
        other => Error::DataFusion(datafusion::error::DataFusionError::ParquetError(Box::new(
            other,
        ))),
    }
}

/// NDJSON or CSV, compressed as it goes.
struct TextWriter {
    format: FileFormat,
    schema: SchemaRef,
    compressor: Compressor,
    upload: Upload,
    header_written: bool,
}

enum Compressor {
    None(Vec<u8>),
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
}

impl Compressor {
    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Compressor::None(buf) => buf,
            Compressor::Gzip(encoder) => encoder,
            Compressor::Zstd(encoder) => encoder,
        }
    }

    /// The compressed bytes produced so far, taken out; the next ones go to a buffer of the
    /// same capacity (not grown again from nothing).
    fn take(&mut self) -> Vec<u8> {
        let buf = match self {
            Compressor::None(buf) => buf,
            Compressor::Gzip(encoder) => encoder.get_mut(),
            Compressor::Zstd(encoder) => encoder.get_mut(),
        };
        let capacity = buf.capacity();
        std::mem::replace(buf, Vec::with_capacity(capacity))
    }

    /// The last compressed bytes (trailers).
    fn finish(self) -> std::io::Result<Vec<u8>> {
        match self {
            Compressor::None(buf) => Ok(buf),
            Compressor::Gzip(encoder) => encoder.finish(),
            Compressor::Zstd(encoder) => encoder.finish(),
        }
    }
}

impl TextWriter {
    fn new(encoding: Encoding, schema: SchemaRef, upload: Upload) -> Result<TextWriter> {
        let compressor = match encoding.compression {
            Compression::Gzip => Compressor::Gzip(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::new(GZIP_LEVEL),
            )),
            Compression::Zstd => Compressor::Zstd(
                zstd::stream::write::Encoder::new(Vec::new(), ZSTD_LEVEL).map_err(|e| {
                    Error::Io {
                        context: "export: starting zstd compression".into(),
                        source: e,
                    }
                })?,
            ),
            Compression::None | Compression::Snappy => Compressor::None(Vec::new()),
        };
        Ok(TextWriter {
            format: encoding.format,
            schema,
            compressor,
            upload,
            header_written: false,
        })
    }

    async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        // The same text as the writers' timestamp formats, written faster.
        let batch = &super::rfc3339::timestamps_as_text(batch)?;
        let out = self.compressor.writer();
        match self.format {
            FileFormat::Csv => {
                let mut writer = arrow::csv::WriterBuilder::new()
                    .with_header(!self.header_written)
                    .with_timestamp_tz_format(TIMESTAMP_TZ_FORMAT.into())
                    .with_timestamp_format(TIMESTAMP_FORMAT.into())
                    .build(out);
                writer.write(batch)?;
                self.header_written = true;
            }
            _ => {
                let mut writer = arrow::json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .with_timestamp_tz_format(TIMESTAMP_TZ_FORMAT.into())
                    .with_timestamp_format(TIMESTAMP_FORMAT.into())
                    .build::<_, arrow::json::writer::LineDelimited>(out);
                writer.write(batch)?;
                writer.finish()?;
            }
        }
        let bytes = self.compressor.take();
        self.upload.put(Bytes::from(bytes)).await
    }

    async fn finish(mut self) -> Result<Written> {
        if self.format == FileFormat::Csv && !self.header_written {
            // A CSV file without rows still names its columns.
            self.write(&RecordBatch::new_empty(self.schema.clone()))
                .await?;
        }
        let tail = self.compressor.finish().map_err(|e| Error::Io {
            context: "export: finishing compression".into(),
            source: e,
        })?;
        self.upload.put(Bytes::from(tail)).await?;
        self.upload.complete().await?;
        Ok(self.upload.written())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{BooleanArray, Date32Array, StringArray, TimestampMicrosecondArray};
    use object_store::memory::InMemory;
    use object_store::path::Path;
    use object_store::{ObjectStore, ObjectStoreExt};

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("s", DataType::Utf8, true),
            Field::new(
                "ts",
                DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
            Field::new("d", DataType::Date32, true),
            Field::new("b", DataType::Boolean, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("a,\"b\"\nc"), None])),
                // 2026-10-01T09:30:00.000001Z and 1970-01-01T00:00:00Z
                Arc::new(
                    TimestampMicrosecondArray::from(vec![1_790_847_000_000_001, 0])
                        .with_timezone("UTC"),
                ),
                Arc::new(Date32Array::from(vec![Some(20_362), None])),
                Arc::new(BooleanArray::from(vec![Some(true), None])),
            ],
        )
        .expect("batch")
    }

    async fn written(format: FileFormat, compression: Compression) -> (Written, Vec<u8>) {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let path = Path::from("f");
        let upload = Upload::new(store.clone(), path.clone(), "memory:///f".into());
        let b = batch();
        let encoding = Encoding::new(format, Some(compression)).expect("encoding");
        let mut writer = FileWriter::new(encoding, b.schema(), upload).expect("writer");
        writer.write(&b).await.expect("write");
        writer.write(&b).await.expect("write");
        assert_eq!(writer.rows(), 4);
        let w = writer.finish().await.expect("finish");
        let bytes = store
            .get(&path)
            .await
            .expect("get")
            .bytes()
            .await
            .expect("bytes");
        assert_eq!(w.bytes, bytes.len() as u64);
        (w, bytes.to_vec())
    }

    #[tokio::test]
    async fn csv_has_one_header_rfc4180_quoting_and_rfc3339_utc_times() {
        let (_, bytes) = written(FileFormat::Csv, Compression::None).await;
        let row = "\"a,\"\"b\"\"\nc\",2026-10-01T09:30:00.000001+00:00,2025-10-01,true\n";
        let null_row = ",1970-01-01T00:00:00.000000+00:00,,\n";
        let expected = format!("s,ts,d,b\n{row}{null_row}{row}{null_row}");
        assert_eq!(String::from_utf8(bytes).expect("utf8"), expected);
    }

    #[tokio::test]
    async fn ndjson_writes_explicit_nulls_and_gzip_decompresses_to_it() {
        let (_, plain) = written(FileFormat::Ndjson, Compression::None).await;
        let text = String::from_utf8(plain.clone()).expect("utf8");
        let first = text.lines().next().expect("a line");
        assert_eq!(
            first,
            r#"{"s":"a,\"b\"\nc","ts":"2026-10-01T09:30:00.000001+00:00","d":"2025-10-01","b":true}"#
        );
        assert_eq!(
            text.lines().nth(1),
            Some(r#"{"s":null,"ts":"1970-01-01T00:00:00.000000+00:00","d":null,"b":null}"#)
        );
        let (_, gz) = written(FileFormat::Ndjson, Compression::Gzip).await;
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out)
            .expect("gunzip");
        assert_eq!(out, plain);
        let (_, zst) = written(FileFormat::Ndjson, Compression::Zstd).await;
        assert_eq!(zstd::decode_all(&zst[..]).expect("unzstd"), plain);
    }

    #[tokio::test]
    async fn parquet_reads_back_with_the_same_schema_and_rows() {
        let (_, bytes) = written(FileFormat::Parquet, Compression::Zstd).await;
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            Bytes::from(bytes),
        )
        .expect("parquet")
        .build()
        .expect("reader");
        let batches: Vec<RecordBatch> =
            reader.collect::<std::result::Result<_, _>>().expect("read");
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, 4);
        assert_eq!(batches[0].schema().fields(), batch().schema().fields());
    }

    #[test]
    fn pairs_no_reader_expects_are_refused() {
        assert!(Encoding::new(FileFormat::Parquet, Some(Compression::Gzip)).is_err());
        assert!(Encoding::new(FileFormat::Csv, Some(Compression::Snappy)).is_err());
        assert_eq!(
            Encoding::new(FileFormat::Csv, None)
                .expect("default")
                .extension(),
            "csv.gz"
        );
        assert_eq!(
            Encoding::new(FileFormat::Parquet, None)
                .expect("default")
                .compression,
            Compression::Zstd
        );
    }
}
