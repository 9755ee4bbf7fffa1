//! `chatlake ingest --lake URL --format whatsapp-webhook|messenger-webhook|instagram-webhook
//! FILES`: bodies a logging proxy kept, one JSON body per line, into every table they feed.
//! The format names the platform whose parser reads every line ([`Platform`]).
//!
//! | what              | how                                                                        |
//! |-------------------|----------------------------------------------------------------------------|
//! | input             | files (`.gz`/`.zst` decompressed as for every import) or standard input; one body per line, blank lines skipped |
//! | a bad line        | not UTF-8, not JSON, or JSON that is not an object: `FILE:LINE: reason`; without `--reject-file` nothing is committed and the command fails (as every import); with it the line goes there and the rest loads |
//! | routing           | `metadata.phone_number_id` (Messenger, Instagram: `entry[].id` as `page_id`) through the `channels` table as it is when the import starts; what no channel takes goes to `webhook_unrouted`, counted |
//! | rows              | [`super::expand`]: the parser's rows, checked and completed by the decoder; profiles merged with the stored contacts once, at the end |
//! | `received_at`     | the import's start time (a proxy's file does not say when Meta sent a body) |
//! | duplicates        | dropped by each table's natural key, against the lake and inside the load: loading a file twice adds nothing |
//! | commits           | one Delta commit per table, `webhook_bodies` last: a body in `webhook_bodies` has its rows committed |
//! | derived tables    | re-derived for the contacts the messages and callbacks touched, as `chatlake ingest` does |

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::alias::Links;
use super::expand::{Expansion, Incoming, contacts_batch, expand_linked};
use super::rows::ContactRow;
use crate::error::{Error, Result};
use crate::ingest::commit::{CommitOutcome, Ingester, Load};
use crate::ingest::decode::Reject;
use crate::ingest::import::{
    Format, LISTED_REJECTS, RejectSink, open, progress_bar, refresh_after, resolve_inputs,
};
use crate::ingest::webhook::Platform;
use crate::lake::Lake;

/// Bodies parsed per chunk.
pub const CHUNK_BODIES: usize = 20_000;

/// What to import.
#[derive(Debug, Clone)]
pub struct WebhookImport {
    /// The platform the bodies are from.
    pub platform: Platform,
    /// Input files; empty or `-` = standard input.
    pub files: Vec<PathBuf>,
    /// Where bad lines go (else a bad line fails the load).
    pub reject_file: Option<PathBuf>,
    /// Show a progress bar.
    pub progress: bool,
}

/// Rows written into one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCount {
    /// Rows written (contacts: inserted or updated).
    pub written: u64,
    /// Rows dropped as natural-key duplicates.
    pub duplicates: u64,
}

/// What a webhook import did.
#[derive(Debug, Clone, Default)]
pub struct WebhookSummary {
    /// Bodies read (non-blank lines), bad ones included.
    pub bodies: u64,
    /// Bad lines.
    pub rejected: u64,
    /// `webhook_unrouted` rows made (before de-duplication).
    pub unrouted: u64,
    /// Events that gave no row or a NULL.
    pub skipped: u64,
    /// The first few of them, as `FILE:LINE: reason`.
    pub skipped_listed: Vec<String>,
    /// Per table.
    pub tables: BTreeMap<&'static str, TableCount>,
    /// Contacts whose derived rows were re-derived.
    pub contacts_refreshed: usize,
    /// Time taken, refresh included.
    pub elapsed: Duration,
    /// Of which parsing, routing and decoding the bodies (on the blocking pool; the reading of
    /// the next chunk overlaps it).
    pub parsing: Duration,
    /// Of which re-deriving the derived rows after the commits.
    pub refreshing: Duration,
}

/// Bodies of one chunk of one input.
struct Chunk {
    source: String,
    bodies: Vec<Incoming>,
    lines: Vec<u64>,
    rejects: Vec<Reject>,
}

/// Runs the import into `lake`; see the module docs.
pub async fn import(lake: Lake, request: WebhookImport) -> Result<WebhookSummary> {
    let started = Instant::now();
    let format = match request.platform {
        Platform::Whatsapp => Format::WhatsappWebhook,
        Platform::Messenger => Format::MessengerWebhook,
        Platform::Instagram => Format::InstagramWebhook,
    };
    let inputs = resolve_inputs(&request.files, Some(format))?;
    let platform = request.platform;
    let ingested_at = chrono::Utc::now().timestamp_micros();
    let total: u64 = inputs
        .iter()
        .filter_map(|i| i.path.as_ref())
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = progress_bar(request.progress, total);
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<Chunk>>(2);
    let reader_bar = bar.clone();
    let reader = std::thread::spawn(move || {
        for input in inputs {
            if let Err(e) = read_input(platform, &input, ingested_at, &reader_bar, &sender) {
                let _ = sender.blocking_send(Err(e));
                return;
            }
        }
    });

    let mut ingester = Ingester::open(lake.clone()).await?;
    let mut loads: BTreeMap<&'static str, Load> = BTreeMap::new();
    let mut contacts: Vec<ContactRow> = Vec::new();
    // BSUID links of earlier chunks, committed only at the end.
    let mut links = Links::default();
    let mut rejects = RejectSink::open(request.reject_file.as_deref())?;
    let mut summary = WebhookSummary::default();
    let mut failure = None;
    while let Some(chunk) = receiver.recv().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        summary.bodies += (chunk.bodies.len() + chunk.rejects.len()) as u64;
        let mut bad = chunk.rejects;
        let expansion: Expansion = if rejects.failing() {
            // Without a reject file a bad line fails the load: only look for more bad lines.
            let mut e = Expansion::default();
            for (i, body) in chunk.bodies.iter().enumerate() {
                if let Err(why) = serde_json::from_str::<serde_json::Value>(&body.raw)
                    .map_err(|e| format!("invalid JSON: {e}"))
                    .and_then(|v| {
                        v.is_object()
                            .then_some(())
                            .ok_or_else(|| "not a webhook body: the JSON is not an object".into())
                    })
                {
                    e.bad.push((i, why, body.raw.clone()));
                }
            }
            e
        } else {
            let parse_started = Instant::now();
            let expanded =
                expand_linked(ingester.session(), chunk.bodies, ingested_at, &mut links).await;
            summary.parsing += parse_started.elapsed();
            match expanded {
                Ok(e) => e,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        };
        for (i, why, raw) in &expansion.bad {
            bad.push(Reject {
                line: chunk.lines.get(*i).copied().unwrap_or(0),
                column: None,
                reason: why.clone(),
                raw: raw.clone(),
            });
        }
        bad.sort_by_key(|r| r.line);
        summary.rejected += bad.len() as u64;
        rejects.record(&chunk.source, &bad)?;
        if rejects.failing() {
            for (_, load) in std::mem::take(&mut loads) {
                load.abort().await?;
            }
            continue;
        }
        summary.unrouted += expansion.unrouted;
        summary.skipped += expansion.skipped.len() as u64;
        for note in expansion.skipped {
            if summary.skipped_listed.len() < LISTED_REJECTS {
                summary.skipped_listed.push(note);
            }
        }
        contacts.extend(expansion.contacts);
        for (def, batch) in expansion.batches {
            if !loads.contains_key(def.name) {
                loads.insert(def.name, ingester.begin(def).await?);
            }
            if let Some(load) = loads.get_mut(def.name)
                && let Err(e) = ingester.add(load, batch).await
            {
                failure = Some(e);
                break;
            }
        }
        if failure.is_some() {
            break;
        }
    }
    drop(receiver);
    let _ = reader.join();
    bar.finish_and_clear();
    if let Some(e) = failure {
        for (_, load) in loads {
            load.abort().await?;
        }
        return Err(e);
    }
    if rejects.failing() {
        for line in &rejects.listed {
            eprintln!("{line}");
        }
        let more = summary.rejected.saturating_sub(rejects.listed.len() as u64);
        if more > 0 {
            eprintln!("... and {more} more");
        }
        return Err(Error::Config(format!(
            "{} of {} lines are not webhook bodies; nothing was loaded (fix them, or load with --reject-file FILE to keep them aside and load the rest)",
            summary.rejected, summary.bodies
        )));
    }
    rejects.finish()?;
    let mut notes = Vec::new();
    if let Some((def, batch)) =
        contacts_batch(ingester.session(), contacts, ingested_at, &mut notes).await?
    {
        let mut load = ingester.begin(def).await?;
        ingester.add(&mut load, batch).await?;
        loads.insert(def.name, load);
    }
    summary.skipped += notes.len() as u64;
    summary
        .skipped_listed
        .extend(notes.into_iter().take(LISTED_REJECTS));
    let total = finish_loads(&ingester, loads, &mut summary.tables).await?;
    let refresh_started = Instant::now();
    summary.contacts_refreshed = refresh_after(&lake, &mut ingester, &total).await?;
    summary.refreshing = refresh_started.elapsed();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Commits `loads`, `webhook_bodies` last (a body stored there has its rows committed), adding
/// what each wrote to `tables`; returns the contacts touched and whether a channel changed.
pub(crate) async fn finish_loads(
    ingester: &Ingester,
    mut loads: BTreeMap<&'static str, Load>,
    tables: &mut BTreeMap<&'static str, TableCount>,
) -> Result<CommitOutcome> {
    let bodies = loads.remove("webhook_bodies");
    let mut total = CommitOutcome::default();
    for (name, load) in loads
        .into_iter()
        .chain(bodies.map(|l| ("webhook_bodies", l)))
    {
        let outcome = ingester.finish(load, None).await?;
        let count = tables.entry(name).or_default();
        count.written += outcome.written;
        count.duplicates += outcome.duplicates;
        total.touched.extend(outcome.touched);
        total.channels_changed |= outcome.channels_changed;
    }
    Ok(total)
}

/// Reads one input's lines, sending a chunk every [`CHUNK_BODIES`] bodies.
fn read_input(
    platform: Platform,
    input: &crate::ingest::import::Input,
    received_at: i64,
    bar: &indicatif::ProgressBar,
    sender: &tokio::sync::mpsc::Sender<Result<Chunk>>,
) -> Result<()> {
    let mut reader = std::io::BufReader::with_capacity(1 << 20, open(input, bar)?);
    let new_chunk = || Chunk {
        source: input.name.clone(),
        bodies: Vec::new(),
        lines: Vec::new(),
        rejects: Vec::new(),
    };
    let mut chunk = new_chunk();
    let mut line = Vec::with_capacity(4096);
    let mut number = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|source| Error::Io {
                context: format!("reading {}", input.name),
                source,
            })?;
        if read == 0 {
            break;
        }
        number += 1;
        let bytes = line.strip_suffix(b"\n").unwrap_or(&line);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if bytes.trim_ascii().is_empty() {
            continue;
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                chunk.bodies.push(Incoming {
                    platform,
                    raw: text.to_string(),
                    received_at,
                    origin: format!("{}:{number}", input.name),
                });
                chunk.lines.push(number);
            }
            Err(e) => chunk.rejects.push(Reject {
                line: number,
                column: None,
                reason: format!("not UTF-8 text: {e}"),
                raw: String::from_utf8_lossy(bytes).into_owned(),
            }),
        }
        if chunk.bodies.len() + chunk.rejects.len() >= CHUNK_BODIES {
            if sender.blocking_send(Ok(chunk)).is_err() {
                return Ok(());
            }
            chunk = new_chunk();
        }
    }
    if !chunk.bodies.is_empty() || !chunk.rejects.is_empty() {
        let _ = sender.blocking_send(Ok(chunk));
    }
    Ok(())
}
