//! `chatlake ingest`: files (or standard input) into one lake table, all or nothing.
//!
//! | input            | how it is read                                                                 |
//! |------------------|--------------------------------------------------------------------------------|
//! | format           | `--format`, else the extension: `.ndjson`/`.jsonl`/`.json` NDJSON, `.csv` CSV with a header row, `.parquet` Parquet; standard input (`-` or no file) is NDJSON unless `--format` says otherwise |
//! | compression      | `.gz` (gzip) and `.zst`/`.zstd` (zstd) after the format's extension, e.g. `messages.ndjson.gz` |
//! | bad rows         | each reported as `FILE:LINE: column C: reason`; without `--reject-file` nothing is committed, the first 20 are listed with the count and the command fails; with it, they go to that file (one JSON object per bad row: file, line, column, reason and the row as read) and the good rows load |
//! | duplicates       | dropped by the natural key, inside the load and against the lake, and counted |
//! | commit           | every file of one invocation is one Delta commit (dimension tables: one MERGE) |
//! | derived tables   | re-derived for the contacts the load touched (a full refresh past [`FULL_REFRESH_CONTACTS`]) |
//!
//! One thread reads the input and cuts it into jobs that a decoding thread per core turns into
//! rows ([`super::parallel`]); the writer takes them back in input order, a chunk of
//! [`CHUNK_ROWS`] rows at a time, so reading and parsing overlap sorting and Parquet encoding;
//! memory holds a few chunks at a time.

use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;

use super::commit::{CommitOutcome, Ingester, Touched};
use super::decode::{DecodeOptions, Decoded, Decoder, Reject};
use super::parallel::{IN_FLIGHT, Part, Splitter, Workers, merge};
use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::lake::schema::{self, TableDef};

/// Rows decoded per chunk handed to the writer.
pub const CHUNK_ROWS: usize = 200_000;

/// Past this many touched contacts a load refreshes the derived tables whole. The incremental
/// refresh holds the touched contacts' messages and callbacks in memory (20,000 contacts of a
/// generated lake: about 400,000 messages and 650,000 callbacks); past that a full refresh,
/// which streams, costs less. (Regions of more than [`super::refresh::LISTED_CONTACTS`]
/// contacts are replaced by whole partitions: a predicate naming 50,000 contacts overflowed
/// the stack.)
pub const FULL_REFRESH_CONTACTS: usize = 20_000;

/// Bad rows listed when a load fails for them.
pub const LISTED_REJECTS: usize = 20;

/// The format of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header row (RFC 4180).
    Csv,
    /// Apache Parquet.
    Parquet,
    /// WhatsApp Cloud API webhook bodies, one JSON body per line, into every table they feed
    /// (no `--table`; [`crate::ingest::whatsapp::import`]).
    WhatsappWebhook,
    /// Messenger webhook bodies (`object = "page"`), as `whatsapp-webhook`.
    MessengerWebhook,
    /// Instagram webhook bodies (`object = "instagram"`), as `whatsapp-webhook`.
    InstagramWebhook,
    /// Glific's BigQuery export tables (NDJSON or Parquet files named after their table, in a
    /// directory), into every table they feed (no `--table`; needs `--tenant`;
    /// [`crate::ingest::glific`]).
    Glific,
}

impl Format {
    /// The webhook platform of a webhook format (these load several tables, without `--table`).
    pub fn webhook_platform(self) -> Option<crate::ingest::webhook::Platform> {
        use crate::ingest::webhook::Platform;
        match self {
            Format::WhatsappWebhook => Some(Platform::Whatsapp),
            Format::MessengerWebhook => Some(Platform::Messenger),
            Format::InstagramWebhook => Some(Platform::Instagram),
            Format::Ndjson | Format::Csv | Format::Parquet | Format::Glific => None,
        }
    }
}

/// Compression of an input, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

/// What to import and how.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The table to load.
    pub table: String,
    /// Input files; empty or `-` = standard input.
    pub files: Vec<PathBuf>,
    /// The format of every input (else by extension).
    pub format: Option<Format>,
    /// Where bad rows go (else a bad row fails the load).
    pub reject_file: Option<PathBuf>,
    /// Row decoding options.
    pub options: DecodeOptions,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportSummary {
    /// The table loaded.
    pub table: String,
    /// Rows read from the inputs.
    pub rows_read: u64,
    /// Rows written.
    pub written: u64,
    /// Rows refused (written to the reject file).
    pub rejected: u64,
    /// Rows dropped as duplicates.
    pub duplicates: u64,
    /// Contacts whose derived rows were re-derived (0 for tables that derive nothing).
    pub contacts_refreshed: usize,
    /// Time taken by that re-derivation (part of `elapsed`).
    pub refresh_elapsed: Duration,
    /// Time taken, refresh included.
    pub elapsed: Duration,
}

/// One input: a display name and where its bytes come from.
pub(crate) struct Input {
    /// The name shown in messages (`<stdin>` for standard input).
    pub(crate) name: String,
    pub(crate) path: Option<PathBuf>,
    pub(crate) format: Format,
    compression: Compression,
}

/// Runs an import into `lake`.
pub async fn import(lake: Lake, request: ImportRequest) -> Result<ImportSummary> {
    let started = Instant::now();
    let def: &'static TableDef = schema::table(&request.table).ok_or_else(|| {
        let names: Vec<&str> = schema::tables()
            .iter()
            .filter(|t| !t.derived)
            .map(|t| t.name)
            .collect();
        Error::Config(format!(
            "unknown table '{}' (tables: {})",
            request.table,
            names.join(", ")
        ))
    })?;
    if let Some(format) = request
        .format
        .filter(|f| *f == Format::Glific || f.webhook_platform().is_some())
    {
        let name = clap::ValueEnum::to_possible_value(&format)
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        return Err(Error::Config(format!(
            "--format {name} loads several tables: run it without --table"
        )));
    }
    let inputs = resolve_inputs(&request.files, request.format)?;
    let ingested_at = chrono::Utc::now().timestamp_micros();
    // Fail on a derived table before anything is read.
    Decoder::new(def, request.options.clone(), ingested_at)?;
    let total_bytes: u64 = inputs
        .iter()
        .filter_map(|i| i.path.as_ref())
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = progress_bar(request.progress, total_bytes);

    let workers = Workers::start(def, &request.options, ingested_at, decode_threads())?;
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Part>(IN_FLIGHT);
    let bar_for_reader = bar.clone();
    let reader = std::thread::spawn(move || {
        for input in inputs {
            match read_input(&input, &workers, &sender, &bar_for_reader) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    let _ = sender.blocking_send(Part::Failed(e));
                    return;
                }
            }
        }
    });

    let mut ingester = Ingester::open(lake.clone()).await?;
    let mut load = Some(ingester.begin(def).await?);
    let mut rejects = RejectSink::open(request.reject_file.as_deref())?;
    let mut summary = ImportSummary {
        table: def.name.to_string(),
        ..ImportSummary::default()
    };
    let mut failure: Option<Error> = None;
    let mut parts: Vec<Decoded> = Vec::new();
    while let Some(part) = receiver.recv().await {
        let (source, ends_chunk, result) = match part {
            Part::Job {
                source,
                ends_chunk,
                result,
            } => (source, ends_chunk, result),
            Part::Failed(e) => {
                failure = Some(e);
                break;
            }
        };
        match result.await {
            Ok(Ok(decoded)) => parts.push(decoded),
            Ok(Err(e)) => {
                failure = Some(e);
                break;
            }
            Err(_) => {
                failure = Some(Error::Config("internal: a decoding thread stopped".into()));
                break;
            }
        }
        if !ends_chunk {
            continue;
        }
        let chunk = Chunk {
            source: source.to_string(),
            decoded: merge(def, std::mem::take(&mut parts))?,
        };
        summary.rows_read += chunk.decoded.rows_read;
        summary.rejected += chunk.decoded.rejects.len() as u64;
        rejects.record(&chunk.source, &chunk.decoded.rejects)?;
        if rejects.failing() {
            // Without a reject file a bad row fails the load: stop writing, keep counting.
            if let Some(load) = load.take() {
                load.abort().await?;
            }
            continue;
        }
        if let Some(load) = load.as_mut()
            && let Err(e) = ingester.add(load, chunk.decoded.batch).await
        {
            failure = Some(e);
            break;
        }
    }
    drop(receiver);
    let _ = reader.join();
    bar.finish_and_clear();
    if let Some(e) = failure {
        if let Some(load) = load.take() {
            load.abort().await?;
        }
        return Err(e);
    }
    if rejects.failing() {
        rejects.print_listed(summary.rejected);
        return Err(Error::Config(format!(
            "{} of {} rows rejected; nothing was loaded into {} (fix them, or load with --reject-file FILE to keep them aside and load the rest)",
            summary.rejected, summary.rows_read, def.name
        )));
    }
    rejects.finish()?;
    let Some(load) = load else {
        return Err(Error::Config("internal: the load was abandoned".into()));
    };
    let outcome: CommitOutcome = ingester.finish(load, None).await?;
    summary.written = outcome.written;
    summary.duplicates = outcome.duplicates;
    let refresh_started = Instant::now();
    summary.contacts_refreshed = refresh_after(&lake, &mut ingester, &outcome).await?;
    summary.refresh_elapsed = refresh_started.elapsed();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Re-derives what `outcome` changed; returns the contacts refreshed.
pub(crate) async fn refresh_after(
    lake: &Lake,
    ingester: &mut Ingester,
    outcome: &CommitOutcome,
) -> Result<usize> {
    let touched: &Touched = &outcome.touched;
    if outcome.channels_changed || touched.len() > FULL_REFRESH_CONTACTS {
        let mut writer = crate::lake::LakeWriter::new(lake.clone());
        crate::engine::derived::refresh(&mut writer).await?;
        return Ok(touched.len());
    }
    if touched.is_empty() {
        return Ok(0);
    }
    ingester.refresh_derived(touched).await?;
    Ok(touched.len())
}

/// Decoded rows of one chunk and the input they came from.
struct Chunk {
    source: String,
    decoded: Decoded,
}

/// The inputs of `request` with their format and compression.
pub(crate) fn resolve_inputs(files: &[PathBuf], format: Option<Format>) -> Result<Vec<Input>> {
    let stdin = |format: Option<Format>| Input {
        name: "<stdin>".into(),
        path: None,
        format: format.unwrap_or(Format::Ndjson),
        compression: Compression::None,
    };
    if files.is_empty() {
        return Ok(vec![stdin(format)]);
    }
    files
        .iter()
        .map(|path| {
            if path.as_os_str() == "-" {
                return Ok(stdin(format));
            }
            let name = path.display().to_string();
            let lower = name.to_ascii_lowercase();
            let (stem, compression) = if let Some(s) = lower.strip_suffix(".gz") {
                (s.to_string(), Compression::Gzip)
            } else if let Some(s) = lower.strip_suffix(".zst").or(lower.strip_suffix(".zstd")) {
                (s.to_string(), Compression::Zstd)
            } else {
                (lower.clone(), Compression::None)
            };
            let by_extension =
                if stem.ends_with(".ndjson") || stem.ends_with(".jsonl") || stem.ends_with(".json")
                {
                    Some(Format::Ndjson)
                } else if stem.ends_with(".csv") {
                    Some(Format::Csv)
                } else if stem.ends_with(".parquet") {
                    Some(Format::Parquet)
                } else {
                    None
                };
            let format = format.or(by_extension).ok_or_else(|| {
                Error::Config(format!(
                    "{name}: cannot tell the format from the name (use --format ndjson|csv|parquet)"
                ))
            })?;
            if !path.is_file() {
                return Err(Error::Config(format!("{name}: no such file")));
            }
            Ok(Input {
                name,
                path: Some(path.clone()),
                format,
                compression,
            })
        })
        .collect()
}

/// Counts bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    bar: indicatif::ProgressBar,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// The decompressed byte stream of `input`.
pub(crate) fn open(input: &Input, bar: &indicatif::ProgressBar) -> Result<Box<dyn Read + Send>> {
    let raw: Box<dyn Read + Send> = match &input.path {
        Some(path) => Box::new(std::fs::File::open(path).map_err(|source| Error::Io {
            context: format!("opening {}", input.name),
            source,
        })?),
        None => Box::new(std::io::stdin()),
    };
    let counted = Counting {
        inner: raw,
        bar: bar.clone(),
    };
    Ok(match input.compression {
        Compression::None => Box::new(counted),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(counted))),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(counted).map_err(
            |source| Error::Io {
                context: format!("reading {} as zstd", input.name),
                source,
            },
        )?),
    })
}

/// Decoding threads: one per core.
fn decode_threads() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// Reads one input and cuts it into decoding jobs, a chunk every [`CHUNK_ROWS`] rows.
/// `Ok(false)`: the writer stopped listening.
fn read_input(
    input: &Input,
    workers: &Workers,
    parts: &tokio::sync::mpsc::Sender<Part>,
    bar: &indicatif::ProgressBar,
) -> Result<bool> {
    let io_error = |source| Error::Io {
        context: format!("reading {}", input.name),
        source,
    };
    let mut splitter = Splitter::new(workers, parts, &input.name, CHUNK_ROWS);
    match input.format {
        Format::Ndjson => splitter.ndjson(open(input, bar)?, io_error),
        Format::Csv => splitter.csv(open(input, bar)?, &input.name),
        Format::WhatsappWebhook
        | Format::MessengerWebhook
        | Format::InstagramWebhook
        | Format::Glific => Err(Error::Config(
            "internal: webhook bodies and Glific exports are read by their own imports".into(),
        )),
        Format::Parquet => splitter.arrow(parquet_batches(input, bar)?),
    }
}

/// The record batches of a Parquet `input` (read whole: Parquet's footer is at its end).
pub(crate) fn parquet_batches(
    input: &Input,
    bar: &indicatif::ProgressBar,
) -> Result<impl Iterator<Item = Result<RecordBatch>> + use<>> {
    let mut bytes = Vec::new();
    open(input, bar)?
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Io {
            context: format!("reading {}", input.name),
            source,
        })?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        bytes::Bytes::from(bytes),
    )
    .map_err(|e| Error::Config(format!("{}: not a Parquet file: {e}", input.name)))?
    .with_batch_size(8192)
    .build()
    .map_err(|e| Error::Config(format!("{}: {e}", input.name)))?;
    let name = input.name.clone();
    Ok(
        reader.map(move |batch: std::result::Result<RecordBatch, _>| {
            batch.map_err(|e| Error::Config(format!("{name}: {e}")))
        }),
    )
}

/// Where bad rows go: the reject file, or a list kept to print when the load fails.
pub(crate) struct RejectSink {
    file: Option<(PathBuf, std::io::BufWriter<std::fs::File>)>,
    pub(crate) listed: Vec<String>,
    count: u64,
}

impl RejectSink {
    pub(crate) fn open(path: Option<&Path>) -> Result<RejectSink> {
        let file = match path {
            Some(path) => {
                let file = std::fs::File::create(path).map_err(|source| Error::Io {
                    context: format!("creating the reject file {}", path.display()),
                    source,
                })?;
                Some((path.to_path_buf(), std::io::BufWriter::new(file)))
            }
            None => None,
        };
        Ok(RejectSink {
            file,
            listed: Vec::new(),
            count: 0,
        })
    }

    /// Whether bad rows fail the load (no reject file) and one was seen.
    pub(crate) fn failing(&self) -> bool {
        self.file.is_none() && self.count > 0
    }

    /// Prints the listed bad rows to stderr, then how many of `total` were not listed.
    pub(crate) fn print_listed(&self, total: u64) {
        for line in &self.listed {
            eprintln!("{line}");
        }
        let more = total.saturating_sub(self.listed.len() as u64);
        if more > 0 {
            eprintln!("... and {more} more");
        }
    }

    pub(crate) fn record(&mut self, source: &str, rejects: &[Reject]) -> Result<()> {
        for reject in rejects {
            self.count += 1;
            if self.listed.len() < LISTED_REJECTS {
                self.listed.push(reject.describe(source));
            }
            if let Some((path, out)) = &mut self.file {
                let line = serde_json::json!({
                    "file": source,
                    "line": reject.line,
                    "column": reject.column,
                    "reason": reject.reason,
                    "row": reject.raw,
                });
                writeln!(out, "{line}").map_err(|source| Error::Io {
                    context: format!("writing the reject file {}", path.display()),
                    source,
                })?;
            }
        }
        Ok(())
    }

    pub(crate) fn finish(&mut self) -> Result<()> {
        if let Some((path, out)) = &mut self.file {
            out.flush().map_err(|source| Error::Io {
                context: format!("writing the reject file {}", path.display()),
                source,
            })?;
        }
        Ok(())
    }
}

pub(crate) fn progress_bar(show: bool, total: u64) -> indicatif::ProgressBar {
    crate::progress::bar(
        show,
        total,
        "ingesting {bar:40.cyan/blue} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    )
}
