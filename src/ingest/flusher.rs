//! The flusher: WAL segments to Delta commits, exactly once, then derivation, then deletion.
//!
//! | step        | what                                                                                       |
//! |-------------|--------------------------------------------------------------------------------------------|
//! | trigger     | every `interval` (default 2 s), or when the open segment reaches the row trigger (default 100,000 rows), or at once on start (what the WAL replayed) and on shutdown |
//! | seal        | [`Wal::seal`]: the open segment is sealed; the sealed segments not yet released are split into groups |
//! | group       | a prefix of the sealed segments in sequence order (at most [`GROUP_MAX_BYTES`]); its version is the sequence number of its last segment |
//! | commit      | per table of the group: decode the records (one [`Decoder`] for all of them, each row with the `ingested_at` fixed on accept, into batches of up to `import::CHUNK_ROWS` rows: a few files per flush, not one per request), [`Ingester::commit`] with `Txn { app_id: chatlake-wal-<id>, version }` |
//! | webhooks    | records of a [`Platform::wal_table`] hold one raw WhatsApp, Messenger or Instagram body each: they are parsed and routed ([`crate::ingest::whatsapp::expand`]) into batches of `webhook_bodies`, `webhook_unrouted`, `messages`, `message_statuses`, `conversations`, `comments` and `contacts`, committed with the group's other batches of those tables under the same transaction id |
//! | derive      | [`Ingester::refresh_derived`] for the contacts every commit of the group touched (a full refresh when a `channels` row changed or past `import::FULL_REFRESH_CONTACTS`, as `chatlake ingest` does) |
//! | release     | the group's segments are deleted ([`Wal::release`])                                       |
//! | failure     | any step failing (object store down): the same group is retried with exponential backoff (250 ms doubling, at most [`MAX_BACKOFF`]); the API keeps acknowledging into the WAL up to its bound |
//!
//! Why exactly once: a table that records version `v` for the application holds every row of
//! the segments up to `v` (a group always covers every unreleased segment up to its last one,
//! and a failed group is retried as the same group, never widened). A commit retried after a
//! failure or a crash carries the same or a lower version and is skipped. After a restart the
//! boundaries of the group that was in flight are unknown, so the replayed segments are flushed
//! one segment per group: versions only grow, and each table skips what it already holds.
//!
//! A record that no longer decodes (it was validated on accept, so only a change of the
//! validation rules does this) is not retried for ever: its lines go to
//! `<wal dir>/dead-letter/` with the reason, and an error is logged.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::array::RecordBatch;
use futures::FutureExt;

use crate::error::{Error, Result};
use crate::ingest::commit::{Ingester, Touched, Txn};
use crate::ingest::decode::{DecodeOptions, Decoder};
use crate::ingest::wal::{Record, Sealed, Wal};
use crate::ingest::webhook::Platform;
use crate::lake::schema::TableDef;

/// A group holds at most this many bytes of segments (unless one segment alone is larger).
pub const GROUP_MAX_BYTES: u64 = 256 << 20;
/// The longest wait between two attempts at a failing group.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The first wait after a failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Attempts at each group in the final flush on shutdown (what fails stays in the WAL).
const SHUTDOWN_ATTEMPTS: u32 = 3;

/// How often the flusher runs.
#[derive(Debug, Clone)]
pub struct FlushOptions {
    /// Flush at least this often.
    pub interval: Duration,
}

impl Default for FlushOptions {
    fn default() -> Self {
        FlushOptions {
            interval: Duration::from_secs(2),
        }
    }
}

/// What the flusher has done, for `/healthz`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FlushStatus {
    /// Groups committed (and released) since start.
    pub groups: u64,
    /// Rows read from the WAL and committed since start (before de-duplication).
    pub rows: u64,
    /// When the last group was committed (µs since the epoch).
    pub last_success_at: Option<i64>,
    /// The last failure, while the flusher is retrying; cleared by a success.
    pub last_error: Option<String>,
    /// Failed attempts in a row.
    pub consecutive_failures: u32,
}

/// Shared handle on the flusher's [`FlushStatus`].
pub type StatusHandle = Arc<Mutex<FlushStatus>>;

/// What one group's flush did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupFlushed {
    /// The group's version (its last segment's sequence number).
    pub version: u64,
    /// Segments released.
    pub segments: usize,
    /// Rows read from the segments.
    pub rows: u64,
    /// Rows the lake's commits wrote.
    pub written: u64,
    /// Rows dropped as natural-key duplicates.
    pub duplicates: u64,
    /// Tables whose commit was skipped because they already held the version.
    pub already_committed: usize,
    /// Rows that no longer decode, moved to the dead-letter directory.
    pub dead_letter_rows: u64,
}

/// Turns the WAL into lake commits; see the module docs.
#[derive(Debug)]
pub struct Flusher {
    wal: Arc<Wal>,
    ingester: Ingester,
    options: FlushOptions,
    status: StatusHandle,
    app_id: String,
    /// Segments up to this one were replayed on open: flushed one per group.
    replayed_upto: u64,
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

impl Flusher {
    /// A flusher of `wal` writing through `ingester`.
    pub fn new(wal: Arc<Wal>, ingester: Ingester, options: FlushOptions) -> Flusher {
        let app_id = wal.app_id();
        let replayed_upto = wal.replayed().last_seq;
        Flusher {
            wal,
            ingester,
            options,
            status: StatusHandle::default(),
            app_id,
            replayed_upto,
        }
    }

    /// The status handle (`/healthz` reads it).
    pub fn status(&self) -> StatusHandle {
        self.status.clone()
    }

    fn set_status(&self, update: impl FnOnce(&mut FlushStatus)) {
        let mut status = self
            .status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        update(&mut status);
    }

    /// Flushes on every trigger until `shutdown` resolves, then makes a final flush (a few
    /// attempts; what still fails stays in the WAL for the next start).
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if self.drain(Some(&mut shutdown)).await.is_err() {
                // The shutdown came while backing off.
                break;
            }
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = self.wal.flush_wanted() => {}
                () = tokio::time::sleep(self.options.interval) => {}
            }
        }
        match self.flush_all(SHUTDOWN_ATTEMPTS).await {
            Ok(flushed) => {
                let rows: u64 = flushed.iter().map(|g| g.rows).sum();
                if rows > 0 {
                    eprintln!("flushed {rows} rows from the write-ahead log on shutdown");
                }
            }
            Err(e) => {
                let backlog = self.wal.backlog();
                eprintln!(
                    "the final flush failed ({}); {} rows stay in the write-ahead log {} for the next start",
                    crate::error::report(&e),
                    backlog.rows,
                    self.wal.dir().display()
                );
            }
        }
    }

    /// Seals and flushes everything the WAL holds now, trying each group at most `attempts`
    /// times (backing off between attempts).
    pub async fn flush_all(&mut self, attempts: u32) -> Result<Vec<GroupFlushed>> {
        let mut done = Vec::new();
        for group in self.groups().await? {
            let mut backoff = FIRST_BACKOFF;
            let mut attempt = 1;
            loop {
                match self.flush_group(&group).await {
                    Ok(flushed) => {
                        done.push(flushed);
                        break;
                    }
                    Err(e) if attempt >= attempts.max(1) => return Err(e),
                    Err(_) => {
                        attempt += 1;
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
        }
        Ok(done)
    }

    /// Seals and flushes everything, retrying each group until it succeeds; `Err(())` when
    /// `shutdown` resolved during a backoff.
    async fn drain<F: Future<Output = ()>>(
        &mut self,
        mut shutdown: Option<&mut std::pin::Pin<&mut F>>,
    ) -> std::result::Result<(), ()> {
        let groups = loop {
            match self.groups().await {
                Ok(groups) => break groups,
                Err(e) => {
                    tracing::error!("sealing the write-ahead log: {}", crate::error::report(&e));
                    self.backoff(FIRST_BACKOFF, shutdown.as_deref_mut()).await?;
                }
            }
        };
        for group in groups {
            let mut backoff = FIRST_BACKOFF;
            loop {
                match self.flush_group(&group).await {
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(
                            "flushing the write-ahead log (segments up to {}) failed, retrying in {:.1}s: {}",
                            group.last().map_or(0, |s| s.seq),
                            backoff.as_secs_f64(),
                            crate::error::report(&e)
                        );
                        self.backoff(backoff, shutdown.as_deref_mut()).await?;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
        }
        Ok(())
    }

    async fn backoff<F: Future<Output = ()>>(
        &self,
        wait: Duration,
        shutdown: Option<&mut std::pin::Pin<&mut F>>,
    ) -> std::result::Result<(), ()> {
        match shutdown {
            Some(shutdown) => tokio::select! {
                biased;
                () = shutdown => Err(()),
                () = tokio::time::sleep(wait) => Ok(()),
            },
            None => {
                tokio::time::sleep(wait).await;
                Ok(())
            }
        }
    }

    /// Seals the WAL and splits the sealed segments into groups (see the module docs).
    async fn groups(&mut self) -> Result<Vec<Vec<Sealed>>> {
        let sealed = self.wal.seal().await?;
        let mut groups: Vec<Vec<Sealed>> = Vec::new();
        let mut current: Vec<Sealed> = Vec::new();
        let mut bytes = 0;
        for segment in sealed {
            if segment.seq <= self.replayed_upto {
                groups.push(vec![segment]);
                continue;
            }
            if !current.is_empty() && bytes + segment.bytes > GROUP_MAX_BYTES {
                groups.push(std::mem::take(&mut current));
                bytes = 0;
            }
            bytes += segment.bytes;
            current.push(segment);
        }
        if !current.is_empty() {
            groups.push(current);
        }
        Ok(groups)
    }

    /// Commits one group, derives, releases its segments.
    async fn flush_group(&mut self, group: &[Sealed]) -> Result<GroupFlushed> {
        let Some(last) = group.last() else {
            return Ok(GroupFlushed::default());
        };
        let version = last.seq;
        // A library panicking mid-flush (delta-rs 1.1.3 aborts an upload it already shut down
        // when closing a Parquet file fails on S3) must not end the flusher: it is a failed
        // attempt like any other, retried from the WAL.
        let result = std::panic::AssertUnwindSafe(self.try_flush_group(group, version))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                Err(Error::Panicked {
                    task: "flushing the write-ahead log",
                    message: crate::error::panic_message(panic.as_ref()),
                })
            });
        match &result {
            Ok(flushed) => self.set_status(|s| {
                s.groups += 1;
                s.rows += flushed.rows;
                s.last_success_at = Some(now_micros());
                s.last_error = None;
                s.consecutive_failures = 0;
            }),
            Err(e) => self.set_status(|s| {
                s.last_error = Some(crate::error::report(e));
                s.consecutive_failures += 1;
            }),
        }
        result
    }

    async fn try_flush_group(&mut self, group: &[Sealed], version: u64) -> Result<GroupFlushed> {
        let txn_version = i64::try_from(version)
            .map_err(|_| Error::Config(format!("WAL sequence number {version} is too large")))?;
        let segments = group.to_vec();
        let records = tokio::task::spawn_blocking(move || -> Result<Vec<Record>> {
            let mut records = Vec::new();
            for segment in &segments {
                records.extend(Wal::read_segment(segment)?);
            }
            Ok(records)
        })
        .await
        .map_err(|e| Error::Config(format!("reading the WAL: {e}")))??;

        let mut flushed = GroupFlushed {
            version,
            segments: group.len(),
            rows: records.iter().map(|r| u64::from(r.rows)).sum(),
            ..GroupFlushed::default()
        };
        let mut by_table: BTreeMap<String, Vec<Record>> = BTreeMap::new();
        for record in records {
            by_table
                .entry(record.table.clone())
                .or_default()
                .push(record);
        }
        let mut touched = Touched::new();
        let mut channels_changed = false;
        // Table -> the batches to commit into it: webhook bodies expand into several tables.
        let mut to_commit: BTreeMap<&'static str, (&'static TableDef, Vec<RecordBatch>)> =
            BTreeMap::new();
        let webhook_records: Vec<(Platform, Record)> = Platform::ALL
            .into_iter()
            .flat_map(|p| {
                by_table
                    .remove(p.wal_table())
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |r| (p, r))
            })
            .collect();
        if !webhook_records.is_empty() {
            let (batches, dead) = self.expand_webhooks(webhook_records).await?;
            flushed.dead_letter_rows += dead;
            for (def, batch) in batches {
                to_commit
                    .entry(def.name)
                    .or_insert((def, Vec::new()))
                    .1
                    .push(batch);
            }
        }
        for (name, records) in by_table {
            let Some(def) = crate::lake::schema::table(&name) else {
                let rows: u64 = records.iter().map(|r| u64::from(r.rows)).sum();
                for record in &records {
                    self.dead_letter(record, &format!("unknown table '{name}'"))?;
                }
                flushed.dead_letter_rows += rows;
                continue;
            };
            let dir = self.wal.dir().to_path_buf();
            let (batches, dead) =
                tokio::task::spawn_blocking(move || decode_records(def, &records, &dir))
                    .await
                    .map_err(|e| Error::Config(format!("decoding WAL records: {e}")))??;
            flushed.dead_letter_rows += dead;
            to_commit
                .entry(def.name)
                .or_insert((def, Vec::new()))
                .1
                .extend(batches);
        }
        for (def, batches) in to_commit.into_values() {
            let outcome = self
                .ingester
                .commit(
                    def,
                    batches,
                    Some(Txn {
                        app_id: self.app_id.clone(),
                        version: txn_version,
                    }),
                )
                .await?;
            flushed.written += outcome.written;
            flushed.duplicates += outcome.duplicates;
            if outcome.already_committed {
                flushed.already_committed += 1;
            }
            channels_changed |= outcome.channels_changed;
            touched.extend(outcome.touched);
        }
        // As `chatlake ingest` does: a changed channel (or very many contacts) re-derives all.
        if channels_changed || touched.len() > crate::ingest::import::FULL_REFRESH_CONTACTS {
            let mut writer = crate::lake::LakeWriter::new(self.ingester.lake().clone());
            crate::engine::derived::refresh(&mut writer).await?;
        } else if !touched.is_empty() {
            self.ingester.refresh_derived(&touched).await?;
        }
        let wal = self.wal.clone();
        let segments = group.to_vec();
        tokio::task::spawn_blocking(move || wal.release(&segments))
            .await
            .map_err(|e| Error::Config(format!("releasing WAL segments: {e}")))??;
        Ok(flushed)
    }

    fn dead_letter(&self, record: &Record, reason: &str) -> Result<()> {
        write_dead_letter(self.wal.dir(), record, reason)
    }

    /// The batches of webhook bodies (one per record, [`Platform::wal_table`]) for every
    /// table they feed, and the rows dead-lettered (bodies that no longer parse). Their
    /// `ingested_at` is the latest receipt time of the records, the same on every retry.
    async fn expand_webhooks(
        &self,
        records: Vec<(Platform, Record)>,
    ) -> Result<(Vec<(&'static TableDef, RecordBatch)>, u64)> {
        use crate::ingest::whatsapp::expand::{Incoming, contacts_batch, expand};
        let ingested_at = records
            .iter()
            .map(|(_, r)| r.ingested_at)
            .max()
            .unwrap_or(0);
        let mut dead = 0;
        let mut bodies = Vec::with_capacity(records.len());
        let mut kept = Vec::with_capacity(records.len());
        for (platform, record) in records {
            match std::str::from_utf8(&record.lines) {
                Ok(raw) => {
                    bodies.push(Incoming {
                        platform,
                        raw: raw.to_string(),
                        received_at: record.ingested_at,
                        origin: format!("WAL segment {}", record.segment),
                    });
                    kept.push(record);
                }
                Err(e) => {
                    self.dead_letter(&record, &format!("a webhook body that is not UTF-8: {e}"))?;
                    dead += 1;
                }
            }
        }
        let ctx = self.ingester.session();
        let mut expansion = expand(ctx, bodies, ingested_at).await?;
        for (i, why, _) in &expansion.bad {
            if let Some(record) = kept.get(*i) {
                self.dead_letter(record, why)?;
                dead += 1;
            }
        }
        let contacts = std::mem::take(&mut expansion.contacts);
        let mut batches = expansion.batches;
        batches.extend(contacts_batch(ctx, contacts, ingested_at, &mut expansion.skipped).await?);
        if !expansion.skipped.is_empty() {
            tracing::warn!(
                "webhook bodies: {} events gave no row or a NULL (the bodies are kept in webhook_bodies); first: {}",
                expansion.skipped.len(),
                expansion.skipped[0]
            );
        }
        Ok((batches, dead))
    }
}

/// Decodes the records of one table; what no longer decodes goes to the dead-letter directory.
/// Returns the batches and the number of dead-lettered rows.
fn decode_records(
    def: &'static TableDef,
    records: &[Record],
    wal_dir: &std::path::Path,
) -> Result<(Vec<RecordBatch>, u64)> {
    let mut dead = 0;
    let mut decoder = match Decoder::new(def, DecodeOptions::default(), 0) {
        Ok(decoder) => decoder,
        Err(e) => {
            for record in records {
                write_dead_letter(wal_dir, record, &crate::error::report(&e))?;
                dead += u64::from(record.rows);
            }
            return Ok((Vec::new(), dead));
        }
    };
    let mut batches = Vec::new();
    // The records whose good rows the decoder holds (dead-lettered if they cannot be a batch).
    let mut held: Vec<&Record> = Vec::new();
    let mut finish =
        |decoder: &mut Decoder, held: &mut Vec<&Record>, dead: &mut u64| -> Result<()> {
            match decoder.finish() {
                Ok(decoded) if decoded.batch.num_rows() > 0 => batches.push(decoded.batch),
                Ok(_) => {}
                Err(e) => {
                    for record in held.iter() {
                        write_dead_letter(wal_dir, record, &crate::error::report(&e))?;
                        *dead += u64::from(record.rows);
                    }
                }
            }
            held.clear();
            Ok(())
        };
    for record in records {
        // One decoder for every record: their rows become a few large batches, not a file each.
        decoder.reuse(record.ingested_at);
        for (i, line) in record.lines.split(|b| *b == b'\n').enumerate() {
            decoder.push_json(i as u64 + 1, line);
        }
        let rejects = decoder.take_rejects();
        if !rejects.is_empty() {
            let reasons: Vec<String> = rejects
                .iter()
                .map(|r| format!("line {}: {}", r.line, r.reason))
                .collect();
            let lines: Vec<u8> = rejects
                .iter()
                .flat_map(|r| r.raw.bytes().chain(std::iter::once(b'\n')))
                .collect();
            let rejected = Record {
                lines,
                rows: u32::try_from(rejects.len()).unwrap_or(u32::MAX),
                ..record.clone()
            };
            write_dead_letter(wal_dir, &rejected, &reasons.join("; "))?;
            dead += rejects.len() as u64;
        }
        held.push(record);
        if decoder.buffered_rows() >= crate::ingest::import::CHUNK_ROWS {
            finish(&mut decoder, &mut held, &mut dead)?;
        }
    }
    finish(&mut decoder, &mut held, &mut dead)?;
    Ok((batches, dead))
}

/// Keeps rows that can no longer be committed in `<wal dir>/dead-letter/`, with the reason.
fn write_dead_letter(wal_dir: &std::path::Path, record: &Record, reason: &str) -> Result<()> {
    let dir = wal_dir.join("dead-letter");
    std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
        context: format!("creating {}", dir.display()),
        source,
    })?;
    let stem = format!(
        "{}-{:020}-{}",
        record.table, record.segment, record.ingested_at
    );
    let write = |name: String, contents: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, contents).map_err(|source| Error::Io {
            context: format!("writing {}", path.display()),
            source,
        })
    };
    write(format!("{stem}.ndjson"), &record.lines)?;
    write(
        format!("{stem}.reason.txt"),
        format!("{reason}\n").as_bytes(),
    )?;
    tracing::error!(
        "{} rows of table {} from WAL segment {} no longer decode ({reason}): kept in {}",
        record.rows,
        record.table,
        record.segment,
        dir.display()
    );
    Ok(())
}
