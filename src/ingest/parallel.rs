//! Decoding an import on every core: one reader cuts the input into jobs of whole rows, worker
//! threads decode them, and the writer gets the results back in input order.
//!
//! | stage   | thread                 | what                                                                 |
//! |---------|------------------------|----------------------------------------------------------------------|
//! | read    | the reader (one)       | reads (and decompresses) the input, cuts it into [`JOB_ROWS`]-row jobs: NDJSON as raw lines with the number of the first, CSV as parsed records with their line numbers, Parquet as Arrow batches |
//! | decode  | [`Workers`] (one per core) | a [`Decoder`] each, kept for the whole import: a job's rows to a batch plus its rejects |
//! | order   | the writer's task      | receives one [`Part`] per job in input order and awaits its result   |
//!
//! Jobs never cross a chunk boundary: a chunk is the rows of [`super::import::CHUNK_ROWS`]
//! non-blank input lines (CSV: records; Parquet: whole 8,192-row batches until at least that
//! many rows), the same rows in the same order as a single decoder would give, so the writer's
//! batches and everything derived from them (duplicates kept, `in_csw` across batches, reject
//! order) do not depend on how many workers there are. Memory holds the jobs in flight: at
//! most [`IN_FLIGHT`] of them.

use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use arrow::array::RecordBatch;
use arrow::compute::concat_batches;
use tokio::sync::{mpsc, oneshot};

use super::decode::{DecodeOptions, Decoded, Decoder};
use crate::error::{Error, Result};
use crate::lake::schema::TableDef;

/// Rows (non-blank lines, records) per decoding job.
pub const JOB_ROWS: usize = 20_000;

/// Jobs read ahead of the writer (queued, being decoded, or decoded and waiting).
pub const IN_FLIGHT: usize = 16;

/// Rows of one job, as the reader cut them.
pub enum Payload {
    /// NDJSON lines (`\n`-separated, as read), the first numbered `first_line`.
    Ndjson {
        /// The lines.
        bytes: Vec<u8>,
        /// Number of the first line.
        first_line: u64,
    },
    /// CSV records.
    Csv(CsvRecords),
    /// Arrow batches of a Parquet input, the first row numbered `first_row`.
    Arrow {
        /// The batches.
        batches: Vec<RecordBatch>,
        /// Number of the first row.
        first_row: u64,
    },
}

/// CSV records in one buffer: the fields' text back to back and where each ends.
#[derive(Debug, Default)]
pub struct CsvRecords {
    /// The header's column names.
    pub names: Arc<Vec<String>>,
    text: String,
    field_ends: Vec<usize>,
    /// Per record: its line and the index of its last field end + 1 in `field_ends`.
    records: Vec<(u64, usize)>,
}

impl CsvRecords {
    /// An empty set of records under the header `names`.
    pub fn new(names: Arc<Vec<String>>) -> CsvRecords {
        CsvRecords {
            names,
            ..CsvRecords::default()
        }
    }

    /// Adds a record read at `line`.
    pub fn push(&mut self, line: u64, record: &csv::StringRecord) {
        for field in record.iter() {
            self.text.push_str(field);
            self.field_ends.push(self.text.len());
        }
        self.records.push((line, self.field_ends.len()));
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Each record: its line and its fields.
    fn iter(&self) -> impl Iterator<Item = (u64, Vec<&str>)> + '_ {
        let mut first_field = 0;
        self.records.iter().map(move |&(line, end)| {
            let mut start = if first_field == 0 {
                0
            } else {
                self.field_ends[first_field - 1]
            };
            let fields = self.field_ends[first_field..end]
                .iter()
                .map(|&stop| {
                    let field = &self.text[start..stop];
                    start = stop;
                    field
                })
                .collect();
            first_field = end;
            (line, fields)
        })
    }
}

/// Decodes one job with `decoder` (whose buffers are empty); the rows and rejects of the job.
pub fn decode_job(decoder: &mut Decoder, payload: &Payload) -> Result<Decoded> {
    match payload {
        Payload::Ndjson { bytes, first_line } => {
            for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
                decoder.push_json(first_line + i as u64, line);
            }
        }
        Payload::Csv(records) => {
            let names = records.names.as_slice();
            for (line, fields) in records.iter() {
                if fields.len() != names.len() {
                    // A record with the wrong field count is bad as a whole.
                    let reason = format!(
                        "the record has {} fields, the header {}",
                        fields.len(),
                        names.len()
                    );
                    decoder.push_bad(line, reason, fields.join(","));
                } else {
                    decoder.push_fields(line, names, fields.iter().copied());
                }
            }
        }
        Payload::Arrow { batches, first_row } => {
            let mut number = *first_row;
            for batch in batches {
                for row in 0..batch.num_rows() {
                    decoder.push_arrow_row(number, batch, row);
                    number += 1;
                }
            }
        }
    }
    decoder.finish()
}

/// One job's place in the input order.
pub enum Part {
    /// A job sent to the workers: its input, whether it ends a chunk, and its result to come.
    Job {
        /// The input's display name.
        source: Arc<str>,
        /// The last job of a chunk.
        ends_chunk: bool,
        /// The decoded rows, once a worker has them.
        result: oneshot::Receiver<Result<Decoded>>,
    },
    /// The input cannot be read further (the load fails with this error).
    Failed(Error),
}

type Work = (Payload, oneshot::Sender<Result<Decoded>>);

/// Decoding threads sharing one job queue.
pub struct Workers {
    queue: Option<SyncSender<Work>>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// `count` threads (at least one), each with its own decoder of `def`.
    pub fn start(
        def: &'static TableDef,
        options: &DecodeOptions,
        ingested_at: i64,
        count: usize,
    ) -> Result<Workers> {
        let (queue, jobs) = sync_channel::<Work>(count.max(1));
        let jobs: Arc<Mutex<Receiver<Work>>> = Arc::new(Mutex::new(jobs));
        let mut threads = Vec::new();
        for n in 0..count.max(1) {
            let mut decoder = Decoder::new(def, options.clone(), ingested_at)?;
            let jobs = jobs.clone();
            let thread = std::thread::Builder::new()
                .name(format!("ingest-decode-{n}"))
                .spawn(move || {
                    loop {
                        let next = jobs
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .recv();
                        let Ok((payload, done)) = next else {
                            return;
                        };
                        let _ = done.send(decode_job(&mut decoder, &payload));
                    }
                })
                .map_err(|source| Error::Io {
                    context: "starting a decoding thread".into(),
                    source,
                })?;
            threads.push(thread);
        }
        Ok(Workers {
            queue: Some(queue),
            threads,
        })
    }

    /// Queues `payload`; its result comes on the receiver. Blocks while every worker is busy
    /// and the queue is full.
    pub fn submit(&self, payload: Payload) -> Result<oneshot::Receiver<Result<Decoded>>> {
        let (done, result) = oneshot::channel();
        self.queue
            .as_ref()
            .ok_or_else(|| Error::Config("internal: the decoding threads stopped".into()))?
            .send((payload, done))
            .map_err(|_| Error::Config("internal: the decoding threads stopped".into()))?;
        Ok(result)
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.queue.take();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Cuts inputs into jobs, submits them and sends their [`Part`]s, in order, to the writer.
pub struct Splitter<'a> {
    workers: &'a Workers,
    parts: &'a mpsc::Sender<Part>,
    source: Arc<str>,
    /// Rows of the current chunk in jobs already sent.
    chunk_rows: usize,
    chunk_limit: usize,
}

impl<'a> Splitter<'a> {
    /// A splitter for the input named `source`; chunks end after `chunk_limit` rows.
    pub fn new(
        workers: &'a Workers,
        parts: &'a mpsc::Sender<Part>,
        source: &str,
        chunk_limit: usize,
    ) -> Splitter<'a> {
        Splitter {
            workers,
            parts,
            source: Arc::from(source),
            chunk_rows: 0,
            chunk_limit,
        }
    }

    /// Sends one job of `rows` rows (ending a chunk when the chunk is full or `last`).
    /// `Ok(false)`: the writer stopped listening.
    fn send(&mut self, payload: Payload, rows: usize, last: bool) -> Result<bool> {
        self.chunk_rows += rows;
        let ends_chunk = last || self.chunk_rows >= self.chunk_limit;
        if ends_chunk {
            self.chunk_rows = 0;
        }
        let result = self.workers.submit(payload)?;
        Ok(self
            .parts
            .blocking_send(Part::Job {
                source: self.source.clone(),
                ends_chunk,
                result,
            })
            .is_ok())
    }

    /// Rows a job may still take before the chunk is full.
    fn room(&self) -> usize {
        JOB_ROWS.min(self.chunk_limit - self.chunk_rows)
    }

    /// NDJSON from `reader`: jobs of whole lines, numbered from 1.
    pub fn ndjson(
        &mut self,
        reader: impl Read,
        io_error: impl Fn(std::io::Error) -> Error,
    ) -> Result<bool> {
        let mut reader = BufReader::with_capacity(1 << 20, reader);
        let mut bytes: Vec<u8> = Vec::with_capacity(1 << 20);
        let mut rows = 0usize;
        let mut number = 0u64;
        let mut first_line = 1u64;
        loop {
            let start = bytes.len();
            if reader.read_until(b'\n', &mut bytes).map_err(&io_error)? == 0 {
                break;
            }
            number += 1;
            if !bytes[start..].iter().all(u8::is_ascii_whitespace) {
                rows += 1;
            }
            if rows >= self.room() {
                let capacity = bytes.capacity();
                let payload = Payload::Ndjson {
                    bytes: std::mem::replace(&mut bytes, Vec::with_capacity(capacity)),
                    first_line,
                };
                if !self.send(payload, rows, false)? {
                    return Ok(false);
                }
                rows = 0;
                first_line = number + 1;
            }
        }
        self.send(Payload::Ndjson { bytes, first_line }, rows, true)
    }

    /// CSV with a header row from `reader`: jobs of whole records.
    pub fn csv(&mut self, reader: impl Read, name: &str) -> Result<bool> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(reader);
        let names: Arc<Vec<String>> = Arc::new(
            reader
                .headers()
                .map_err(|e| Error::Config(format!("{name}: cannot read the CSV header: {e}")))?
                .iter()
                .map(|h| h.trim().to_string())
                .collect(),
        );
        let mut record = csv::StringRecord::new();
        let mut records = CsvRecords::new(names.clone());
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map_or(0, |p| p.line());
                    records.push(line, &record);
                }
                Err(e) => {
                    // The load fails: the unfinished chunk is dropped, as by a single decoder.
                    let line = e.position().map_or(0, |p| p.line());
                    return Err(Error::Config(format!("{name}:{line}: malformed CSV: {e}")));
                }
            }
            if records.len() >= self.room() {
                let rows = records.len();
                let full = std::mem::replace(&mut records, CsvRecords::new(names.clone()));
                if !self.send(Payload::Csv(full), rows, false)? {
                    return Ok(false);
                }
            }
        }
        let rows = records.len();
        self.send(Payload::Csv(records), rows, true)
    }

    /// Parquet batches: jobs of whole batches, a chunk ending on the first batch that fills it.
    pub fn arrow(&mut self, batches: impl Iterator<Item = Result<RecordBatch>>) -> Result<bool> {
        let mut job: Vec<RecordBatch> = Vec::new();
        let mut rows = 0usize;
        let mut first_row = 1u64;
        let mut number = 0u64;
        for batch in batches {
            let batch = batch?;
            number += batch.num_rows() as u64;
            rows += batch.num_rows();
            job.push(batch);
            if rows >= self.room() {
                let payload = Payload::Arrow {
                    batches: std::mem::take(&mut job),
                    first_row,
                };
                if !self.send(payload, rows, false)? {
                    return Ok(false);
                }
                rows = 0;
                first_row = number + 1;
            }
        }
        self.send(
            Payload::Arrow {
                batches: job,
                first_row,
            },
            rows,
            true,
        )
    }
}

/// The decoded jobs of one chunk as one [`Decoded`] (batches concatenated, rejects in order).
pub fn merge(def: &TableDef, parts: Vec<Decoded>) -> Result<Decoded> {
    let mut parts = parts;
    if parts.len() == 1
        && let Some(only) = parts.pop()
    {
        return Ok(only);
    }
    let batches: Vec<&RecordBatch> = parts.iter().map(|p| &p.batch).collect();
    let batch = concat_batches(&def.schema, batches)?;
    let mut rejects = Vec::new();
    let mut rows_read = 0;
    for part in parts {
        rows_read += part.rows_read;
        rejects.extend(part.rejects);
    }
    Ok(Decoded {
        batch,
        rejects,
        rows_read,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn csv_records_give_back_their_fields_and_lines() {
        let mut records = CsvRecords::new(Arc::new(vec!["a".into(), "b".into()]));
        records.push(2, &csv::StringRecord::from(vec!["x", ""]));
        records.push(3, &csv::StringRecord::from(vec!["", "yz", "w"]));
        records.push(5, &csv::StringRecord::from(vec!["q"]));
        let got: Vec<(u64, Vec<&str>)> = records.iter().collect();
        assert_eq!(
            got,
            vec![(2, vec!["x", ""]), (3, vec!["", "yz", "w"]), (5, vec!["q"])]
        );
    }
}
