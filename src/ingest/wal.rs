//! The write-ahead log of the ingest listener: rows are durable here before the `200`.
//!
//! | what            | how                                                                                 |
//! |-----------------|-------------------------------------------------------------------------------------|
//! | directory       | `--wal-dir`: `LOCK` (flock, one server per directory), `wal-id` (random id, written once), `released` (highest segment ever deleted), segments `wal-<20-digit seq>.log` |
//! | segment         | 8-byte header `CLWAL` + version, then records; sequence numbers only grow, across restarts too |
//! | record          | `u32 len` (LE), `u32 crc32` of the length bytes and the payload, payload            |
//! | payload         | `u8` version 1, `u16` table name length, table name, `i64` ingested_at (µs UTC), `u32` rows, the accepted NDJSON lines |
//! | group commit    | one writer thread owns the open segment: it takes every append queued, writes them in one `write`, calls `fdatasync` once, then answers each caller; nothing is acknowledged before its fsync |
//! | failure         | a failed write or fsync fails every append of the group (nothing acknowledged); the segment is cut back to its last good length and abandoned, the next append opens a new one |
//! | backlog bound   | the bytes of every segment not yet released, plus the group being written, stay under `max_backlog_bytes`; past it an append fails with [`AppendError::Full`] |
//! | rotation        | a segment past `segment_bytes` is sealed before the next group; [`Wal::seal`] seals the open segment on demand (the flusher's trigger) |
//! | release         | [`Wal::release`] deletes segments after the lake holds their rows; `released` keeps the sequence number growing when every segment is gone |
//! | replay          | [`Wal::open`] reads every segment in order and checks each record's CRC; from the first bad or incomplete record on, the rest of the segment is cut off (a torn tail: its fsync never completed, so no caller was acknowledged) and reported in [`Replayed`]; replayed segments are sealed |
//!
//! The Delta application id of the lake commits made from this WAL is `chatlake-wal-<wal id>`
//! ([`Wal::app_id`]), and a commit's version is the sequence number of the last segment it
//! covers: a new WAL directory starts a new application, so its versions may start again at 1.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::error::{Error, Result};

/// First bytes of every segment file: `CLWAL`, two zero bytes, format version 1.
const SEGMENT_MAGIC: [u8; 8] = *b"CLWAL\x00\x00\x01";
/// Bytes before a record's payload: length and CRC.
const FRAME_HEADER: usize = 8;
/// Version byte at the start of every payload.
const PAYLOAD_VERSION: u8 = 1;
/// Largest payload a record may have.
const MAX_PAYLOAD: usize = 1 << 30;
/// Stop gathering a group past this many bytes (the rest waits for the next fsync).
const GROUP_MAX_BYTES: usize = 32 << 20;
/// The lock file.
const LOCK_FILE: &str = "LOCK";
/// The file holding the WAL id.
const ID_FILE: &str = "wal-id";
/// The file holding the highest sequence number ever released.
const RELEASED_FILE: &str = "released";

/// Where the WAL lives and its bounds.
#[derive(Debug, Clone)]
pub struct WalOptions {
    /// The WAL directory (created when missing).
    pub dir: PathBuf,
    /// Appends fail with [`AppendError::Full`] once the unreleased segments hold this many bytes.
    pub max_backlog_bytes: u64,
    /// A segment past this size is sealed and a new one started.
    pub segment_bytes: u64,
    /// [`Wal::flush_wanted`] fires when the open segment holds this many rows.
    pub notify_rows: u64,
}

impl WalOptions {
    /// Options for `dir` with a 1 GiB backlog bound, 64 MiB segments and a 100,000-row trigger.
    pub fn new(dir: impl Into<PathBuf>) -> WalOptions {
        WalOptions {
            dir: dir.into(),
            max_backlog_bytes: 1 << 30,
            segment_bytes: 64 << 20,
            notify_rows: 100_000,
        }
    }
}

/// One record read back from a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Sequence number of the segment holding it.
    pub segment: u64,
    /// The lake table the rows are for.
    pub table: String,
    /// When the request was accepted (µs since the epoch, UTC): the rows' `ingested_at`.
    pub ingested_at: i64,
    /// Number of rows (NDJSON lines) in `lines`.
    pub rows: u32,
    /// The accepted NDJSON lines, `\n`-separated.
    pub lines: Vec<u8>,
}

/// A sealed segment: complete, immutable, waiting for the lake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Its sequence number.
    pub seq: u64,
    /// Its file.
    pub path: PathBuf,
    /// Valid bytes in it.
    pub bytes: u64,
    /// Records in it.
    pub records: u64,
    /// Rows in it.
    pub rows: u64,
}

/// What [`Wal::open`] found in the directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Segments holding records (all sealed now, waiting for the flusher).
    pub segments: u64,
    /// Records in them.
    pub records: u64,
    /// Rows in them.
    pub rows: u64,
    /// Bytes cut off: torn tails (never acknowledged) or corrupt records.
    pub dropped_bytes: u64,
    /// The highest sequence number replayed (0 when the WAL was empty).
    pub last_seq: u64,
}

/// What waits in the WAL for the lake.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Backlog {
    /// Segments not yet released (sealed and open).
    pub segments: u64,
    /// Records in them.
    pub records: u64,
    /// Rows in them.
    pub rows: u64,
    /// Bytes in them.
    pub bytes: u64,
    /// `ingested_at` of the oldest record (µs since the epoch), if any.
    pub oldest_ingested_at: Option<i64>,
    /// The bound on `bytes` ([`WalOptions::max_backlog_bytes`]).
    pub max_bytes: u64,
}

/// Why an append was not acknowledged. Nothing of a failed append is acknowledged; its bytes
/// may still reach the disk (and then the lake), once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// The backlog bound is reached: the lake is not keeping up (or is down).
    #[error(
        "the write-ahead log is full ({backlog} bytes wait for the lake, limit {limit}): retry later"
    )]
    Full {
        /// Bytes waiting.
        backlog: u64,
        /// The bound.
        limit: u64,
    },
    /// Writing or syncing the segment failed (a full disk, an I/O error).
    #[error("writing the write-ahead log failed: {0}")]
    Io(String),
    /// The record cannot be framed (a table name or body beyond the format's limits).
    #[error("the record is too large for the write-ahead log: {0}")]
    TooLarge(String),
    /// The WAL was closed.
    #[error("the write-ahead log is closed")]
    Closed,
}

/// A request to the writer thread.
enum Request {
    /// Append one framed record.
    Append {
        frame: Vec<u8>,
        rows: u32,
        ingested_at: i64,
        done: oneshot::Sender<Result<(), AppendError>>,
    },
    /// Seal the open segment and list every sealed one.
    Seal { done: oneshot::Sender<Vec<Sealed>> },
}

/// One segment not yet released.
#[derive(Debug, Clone)]
struct SegmentInfo {
    path: PathBuf,
    bytes: u64,
    records: u64,
    rows: u64,
    oldest: Option<i64>,
    sealed: bool,
}

/// State shared by the writer thread and the handles.
#[derive(Debug, Default)]
struct State {
    segments: BTreeMap<u64, SegmentInfo>,
}

impl State {
    fn bytes(&self) -> u64 {
        self.segments.values().map(|s| s.bytes).sum()
    }
}

#[derive(Debug)]
struct Shared {
    dir: PathBuf,
    options: WalOptions,
    state: Mutex<State>,
    flush_wanted: Notify,
    fsyncs: AtomicU64,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain counters behind: keep going with them.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The write-ahead log; see the module docs. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Wal {
    shared: Arc<Shared>,
    tx: Option<mpsc::UnboundedSender<Request>>,
    writer: Option<JoinHandle<()>>,
    id: String,
    replayed: Replayed,
    /// Held (and flocked) for the life of the WAL.
    _lock: File,
}

fn io_error(context: impl Into<String>, source: std::io::Error) -> Error {
    Error::Io {
        context: context.into(),
        source,
    }
}

/// The file of segment `seq` in `dir`.
pub fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("wal-{seq:020}.log"))
}

/// The sequence number of a segment file name, if it is one.
fn segment_seq(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("wal-")?.strip_suffix(".log")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes `contents` to `dir/name` atomically and durably (temporary file, fsync, rename,
/// directory fsync).
fn write_durably(dir: &Path, name: &str, contents: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let mut file = File::create(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name))?;
    sync_dir(dir)
}

/// 128 random bits as hex, from the standard library's OS-seeded hasher keys.
fn random_id() -> String {
    let mut id = String::with_capacity(32);
    for salt in 0..2u64 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(salt);
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        hasher.write_u32(std::process::id());
        id.push_str(&format!("{:016x}", hasher.finish()));
    }
    id
}

fn frame_crc(len: &[u8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(len);
    hasher.update(payload);
    hasher.finalize()
}

/// Frames one record: length, CRC, payload.
pub fn encode_record(
    table: &str,
    ingested_at: i64,
    rows: u32,
    lines: &[u8],
) -> Result<Vec<u8>, AppendError> {
    let name_len = u16::try_from(table.len())
        .map_err(|_| AppendError::TooLarge(format!("table name of {} bytes", table.len())))?;
    let payload_len = 1 + 2 + table.len() + 8 + 4 + lines.len();
    if payload_len > MAX_PAYLOAD {
        return Err(AppendError::TooLarge(format!(
            "{payload_len} bytes (at most {MAX_PAYLOAD})"
        )));
    }
    let len = u32::try_from(payload_len)
        .map_err(|_| AppendError::TooLarge(format!("{payload_len} bytes")))?;
    let mut frame = Vec::with_capacity(FRAME_HEADER + payload_len);
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(&[0; 4]);
    frame.push(PAYLOAD_VERSION);
    frame.extend_from_slice(&name_len.to_le_bytes());
    frame.extend_from_slice(table.as_bytes());
    frame.extend_from_slice(&ingested_at.to_le_bytes());
    frame.extend_from_slice(&rows.to_le_bytes());
    frame.extend_from_slice(lines);
    let crc = frame_crc(&frame[0..4], &frame[FRAME_HEADER..]);
    frame[4..8].copy_from_slice(&crc.to_le_bytes());
    Ok(frame)
}

/// What reading one segment gave.
#[derive(Debug)]
struct Scan {
    records: Vec<Record>,
    /// Bytes up to the end of the last good record (the header alone when none is).
    valid_len: u64,
    /// Why the scan stopped before the end of the file, if it did.
    stopped: Option<String>,
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn read_i64(b: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn decode_payload(segment: u64, payload: &[u8]) -> Option<Record> {
    if *payload.first()? != PAYLOAD_VERSION {
        return None;
    }
    let name_len = usize::from(read_u16(payload, 1)?);
    let name_end = 3 + name_len;
    let table = std::str::from_utf8(payload.get(3..name_end)?).ok()?;
    let ingested_at = read_i64(payload, name_end)?;
    let rows = read_u32(payload, name_end + 8)?;
    let lines = payload.get(name_end + 12..)?;
    Some(Record {
        segment,
        table: table.to_string(),
        ingested_at,
        rows,
        lines: lines.to_vec(),
    })
}

/// Reads the records of one segment's bytes, up to the first bad one.
fn scan(segment: u64, bytes: &[u8]) -> Scan {
    if bytes.len() < SEGMENT_MAGIC.len() || bytes[..SEGMENT_MAGIC.len()] != SEGMENT_MAGIC {
        return Scan {
            records: Vec::new(),
            valid_len: 0,
            stopped: Some("no segment header".into()),
        };
    }
    let mut records = Vec::new();
    let mut pos = SEGMENT_MAGIC.len();
    let stopped = loop {
        if pos == bytes.len() {
            break None;
        }
        let Some(len) = read_u32(bytes, pos) else {
            break Some(format!("incomplete record header at byte {pos}"));
        };
        let Some(crc) = read_u32(bytes, pos + 4) else {
            break Some(format!("incomplete record header at byte {pos}"));
        };
        let start = pos + FRAME_HEADER;
        let Some(payload) = usize::try_from(len)
            .ok()
            .and_then(|len| bytes.get(start..start.checked_add(len)?))
        else {
            break Some(format!(
                "record at byte {pos} runs past the end of the file"
            ));
        };
        if frame_crc(&bytes[pos..pos + 4], payload) != crc {
            break Some(format!("CRC mismatch in the record at byte {pos}"));
        }
        let Some(record) = decode_payload(segment, payload) else {
            break Some(format!("malformed record at byte {pos}"));
        };
        records.push(record);
        pos = start + payload.len();
    };
    Scan {
        records,
        valid_len: pos as u64,
        stopped,
    }
}

fn info_of(path: PathBuf, scan: &Scan) -> SegmentInfo {
    SegmentInfo {
        path,
        bytes: scan.valid_len,
        records: scan.records.len() as u64,
        rows: scan.records.iter().map(|r| u64::from(r.rows)).sum(),
        oldest: scan.records.iter().map(|r| r.ingested_at).min(),
        sealed: true,
    }
}

impl Wal {
    /// Opens (or creates) the WAL in `options.dir`: takes the directory's lock, reads or writes
    /// the WAL id, replays the segments (cutting off torn tails) and starts the writer thread.
    /// Blocking: call it before serving or from `spawn_blocking`.
    pub fn open(options: WalOptions) -> Result<Wal> {
        let dir = options.dir.clone();
        std::fs::create_dir_all(&dir)
            .map_err(|e| io_error(format!("creating the WAL directory {}", dir.display()), e))?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))
            .map_err(|e| io_error(format!("opening {}", dir.join(LOCK_FILE).display()), e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Config(format!(
                    "the WAL directory {} is in use by another chatlake server (its LOCK file is held)",
                    dir.display()
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(io_error(format!("locking {}", dir.display()), e));
            }
        }
        let id = Self::read_or_create_id(&dir)?;
        let released = match std::fs::read_to_string(dir.join(RELEASED_FILE)) {
            Ok(text) => text.trim().parse::<u64>().map_err(|_| {
                Error::Config(format!(
                    "{} does not hold a sequence number: '{}'",
                    dir.join(RELEASED_FILE).display(),
                    text.trim()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => {
                return Err(io_error(
                    format!("reading {}", dir.join(RELEASED_FILE).display()),
                    e,
                ));
            }
        };

        let mut seqs = Vec::new();
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| io_error(format!("listing {}", dir.display()), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error(format!("listing {}", dir.display()), e))?;
            if let Some(seq) = entry.file_name().to_str().and_then(segment_seq) {
                seqs.push(seq);
            }
        }
        seqs.sort_unstable();

        let mut state = State::default();
        let mut replayed = Replayed::default();
        let mut max_seq = released;
        for seq in seqs {
            max_seq = max_seq.max(seq);
            let path = segment_path(&dir, seq);
            let bytes = std::fs::read(&path)
                .map_err(|e| io_error(format!("reading {}", path.display()), e))?;
            let scan = scan(seq, &bytes);
            if let Some(why) = &scan.stopped {
                let dropped = bytes.len() as u64 - scan.valid_len;
                replayed.dropped_bytes += dropped;
                tracing::warn!(
                    "WAL segment {}: {why}; cutting off its last {dropped} bytes (a write whose fsync never completed was never acknowledged)",
                    path.display()
                );
            }
            if scan.records.is_empty() {
                std::fs::remove_file(&path)
                    .map_err(|e| io_error(format!("removing {}", path.display()), e))?;
                continue;
            }
            if scan.stopped.is_some() {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| io_error(format!("opening {}", path.display()), e))?;
                file.set_len(scan.valid_len)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| io_error(format!("truncating {}", path.display()), e))?;
            }
            replayed.segments += 1;
            replayed.records += scan.records.len() as u64;
            replayed.rows += scan.records.iter().map(|r| u64::from(r.rows)).sum::<u64>();
            replayed.last_seq = seq;
            state.segments.insert(seq, info_of(path, &scan));
        }
        sync_dir(&dir).map_err(|e| io_error(format!("syncing {}", dir.display()), e))?;

        let shared = Arc::new(Shared {
            dir: dir.clone(),
            options,
            state: Mutex::new(state),
            flush_wanted: Notify::new(),
            fsyncs: AtomicU64::new(0),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = Writer {
            shared: shared.clone(),
            open: None,
            next_seq: max_seq + 1,
        };
        let handle = std::thread::Builder::new()
            .name("chatlake-wal".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| io_error("starting the WAL writer thread", e))?;
        Ok(Wal {
            shared,
            tx: Some(tx),
            writer: Some(handle),
            id,
            replayed,
            _lock: lock,
        })
    }

    fn read_or_create_id(dir: &Path) -> Result<String> {
        let path = dir.join(ID_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let id = text.trim();
                if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                    return Err(Error::Config(format!(
                        "{} does not hold a WAL id: '{id}'",
                        path.display()
                    )));
                }
                Ok(id.to_string())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let id = random_id();
                write_durably(dir, ID_FILE, format!("{id}\n").as_bytes())
                    .map_err(|e| io_error(format!("writing {}", path.display()), e))?;
                Ok(id)
            }
            Err(e) => Err(io_error(format!("reading {}", path.display()), e)),
        }
    }

    /// The WAL's id, written in its directory when it was created.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The Delta application id of the commits made from this WAL: `chatlake-wal-<id>`.
    pub fn app_id(&self) -> String {
        format!("chatlake-wal-{}", self.id)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// What [`Wal::open`] replayed.
    pub fn replayed(&self) -> &Replayed {
        &self.replayed
    }

    /// How many fsyncs the writer has made (group commit makes this lower than the appends).
    pub fn fsyncs(&self) -> u64 {
        self.shared.fsyncs.load(Ordering::Relaxed)
    }

    /// What waits for the lake.
    pub fn backlog(&self) -> Backlog {
        let state = self.shared.state();
        Backlog {
            segments: state.segments.len() as u64,
            records: state.segments.values().map(|s| s.records).sum(),
            rows: state.segments.values().map(|s| s.rows).sum(),
            bytes: state.bytes(),
            oldest_ingested_at: state.segments.values().filter_map(|s| s.oldest).min(),
            max_bytes: self.shared.options.max_backlog_bytes,
        }
    }

    /// Appends one record and resolves once it is fsynced (with the other appends queued
    /// beside it). `lines` are the accepted NDJSON lines of `table`, `rows` of them.
    pub async fn append(
        &self,
        table: &str,
        ingested_at: i64,
        rows: u32,
        lines: &[u8],
    ) -> Result<(), AppendError> {
        let frame = encode_record(table, ingested_at, rows, lines)?;
        let (done, answer) = oneshot::channel();
        let tx = self.tx.as_ref().ok_or(AppendError::Closed)?;
        tx.send(Request::Append {
            frame,
            rows,
            ingested_at,
            done,
        })
        .map_err(|_| AppendError::Closed)?;
        answer.await.map_err(|_| AppendError::Closed)?
    }

    /// Seals the open segment (when it holds records) and lists every sealed segment not yet
    /// released, oldest first.
    pub async fn seal(&self) -> Result<Vec<Sealed>> {
        let (done, answer) = oneshot::channel();
        let closed = || Error::Config("the write-ahead log is closed".into());
        let tx = self.tx.as_ref().ok_or_else(closed)?;
        tx.send(Request::Seal { done }).map_err(|_| closed())?;
        answer.await.map_err(|_| closed())
    }

    /// The records of a sealed segment, in order (up to a bad record, if one is there).
    /// Blocking: call it from `spawn_blocking`.
    pub fn read_segment(sealed: &Sealed) -> Result<Vec<Record>> {
        let bytes = std::fs::read(&sealed.path)
            .map_err(|e| io_error(format!("reading {}", sealed.path.display()), e))?;
        let scan = scan(sealed.seq, &bytes);
        if let Some(why) = scan.stopped {
            tracing::error!(
                "WAL segment {}: {why}; reading the {} records before it",
                sealed.path.display(),
                scan.records.len()
            );
        }
        Ok(scan.records)
    }

    /// Deletes segments whose rows the lake holds. Blocking (a few file deletions and fsyncs).
    pub fn release(&self, segments: &[Sealed]) -> Result<()> {
        let Some(max) = segments.iter().map(|s| s.seq).max() else {
            return Ok(());
        };
        let dir = &self.shared.dir;
        let previous = std::fs::read_to_string(dir.join(RELEASED_FILE))
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if max > previous {
            // First: a WAL whose every segment is gone must still number the next one higher.
            self.record_released(max, segments)?;
        }
        self.remove_segments(segments.iter())?;
        sync_dir(dir).map_err(|e| io_error(format!("syncing {}", dir.display()), e))
    }

    /// Writes `max` to the `released` file. On a full disk the segments being released make
    /// the room: first all but the newest are deleted, then the newest (its rows are in the lake)
    /// is cut back to its header, which keeps its sequence number on disk until the file is
    /// written.
    fn record_released(&self, max: u64, segments: &[Sealed]) -> Result<()> {
        let dir = &self.shared.dir;
        let write = || write_durably(dir, RELEASED_FILE, format!("{max}\n").as_bytes());
        let failed = |e| io_error(format!("writing {}", dir.join(RELEASED_FILE).display()), e);
        let full = |e: &std::io::Error| e.kind() == std::io::ErrorKind::StorageFull;
        match write() {
            Err(e) if full(&e) => {}
            other => return other.map_err(failed),
        }
        tracing::warn!("the WAL disk is full: making room from the segments up to {max} first");
        self.remove_segments(segments.iter().filter(|s| s.seq != max))?;
        match write() {
            Err(e) if full(&e) => {}
            other => return other.map_err(failed),
        }
        if let Some(newest) = segments.iter().find(|s| s.seq == max) {
            let cut = OpenOptions::new()
                .write(true)
                .open(&newest.path)
                .and_then(|f| {
                    f.set_len(SEGMENT_MAGIC.len() as u64)?;
                    f.sync_all()
                });
            match cut {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(io_error(
                        format!("cutting back {}", newest.path.display()),
                        e,
                    ));
                }
            }
        }
        write().map_err(failed)
    }

    /// Deletes `segments` and forgets them.
    fn remove_segments<'a>(&self, segments: impl Iterator<Item = &'a Sealed>) -> Result<()> {
        for segment in segments {
            match std::fs::remove_file(&segment.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(io_error(format!("removing {}", segment.path.display()), e));
                }
            }
            self.shared.state().segments.remove(&segment.seq);
        }
        Ok(())
    }

    /// Resolves when the open segment has reached the row trigger ([`WalOptions::notify_rows`]).
    pub async fn flush_wanted(&self) {
        self.shared.flush_wanted.notified().await;
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        // Closing the channel ends the writer once it has answered what is queued.
        self.tx = None;
        if let Some(handle) = self.writer.take() {
            let _ = handle.join();
        }
    }
}

/// The open segment, owned by the writer thread.
struct OpenSegment {
    seq: u64,
    file: File,
    len: u64,
    rows: u64,
    notified: bool,
}

/// One append waiting for the group's fsync.
struct Pending {
    frame: Vec<u8>,
    rows: u32,
    ingested_at: i64,
    done: oneshot::Sender<Result<(), AppendError>>,
}

struct Writer {
    shared: Arc<Shared>,
    open: Option<OpenSegment>,
    next_seq: u64,
}

impl Writer {
    fn run(mut self, mut rx: mpsc::UnboundedReceiver<Request>) {
        while let Some(first) = rx.blocking_recv() {
            let mut requests = vec![first];
            let mut bytes = 0usize;
            while bytes < GROUP_MAX_BYTES {
                match rx.try_recv() {
                    Ok(request) => {
                        if let Request::Append { frame, .. } = &request {
                            bytes += frame.len();
                        }
                        requests.push(request);
                    }
                    Err(_) => break,
                }
            }
            let mut group = Vec::new();
            for request in requests {
                match request {
                    Request::Append {
                        frame,
                        rows,
                        ingested_at,
                        done,
                    } => group.push(Pending {
                        frame,
                        rows,
                        ingested_at,
                        done,
                    }),
                    Request::Seal { done } => {
                        // Appends queued before the seal belong to the sealed segment.
                        self.commit(std::mem::take(&mut group));
                        self.seal_open();
                        let _ = done.send(self.sealed());
                    }
                }
            }
            self.commit(group);
        }
    }

    /// Marks the open segment sealed; the next append starts a new one.
    fn seal_open(&mut self) {
        if let Some(open) = self.open.take() {
            let mut state = self.shared.state();
            if let Some(info) = state.segments.get_mut(&open.seq) {
                info.sealed = true;
            }
        }
    }

    fn sealed(&self) -> Vec<Sealed> {
        let state = self.shared.state();
        state
            .segments
            .iter()
            .filter(|(_, info)| info.sealed)
            .map(|(seq, info)| Sealed {
                seq: *seq,
                path: info.path.clone(),
                bytes: info.bytes,
                records: info.records,
                rows: info.rows,
            })
            .collect()
    }

    /// Creates the next segment: header written and synced, directory synced.
    fn create_segment(&mut self) -> std::io::Result<()> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let path = segment_path(&self.shared.dir, seq);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        let created = file
            .write_all(&SEGMENT_MAGIC)
            .and_then(|()| file.sync_data())
            .and_then(|()| sync_dir(&self.shared.dir));
        if let Err(e) = created {
            drop(file);
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        self.shared.state().segments.insert(
            seq,
            SegmentInfo {
                path,
                bytes: SEGMENT_MAGIC.len() as u64,
                records: 0,
                rows: 0,
                oldest: None,
                sealed: false,
            },
        );
        self.open = Some(OpenSegment {
            seq,
            file,
            len: SEGMENT_MAGIC.len() as u64,
            rows: 0,
            notified: false,
        });
        Ok(())
    }

    /// Writes `group` with one write and one fsync, then answers each append.
    fn commit(&mut self, group: Vec<Pending>) {
        if group.is_empty() {
            return;
        }
        // The backlog bound: refuse what does not fit, keep the order of the rest.
        let limit = self.shared.options.max_backlog_bytes;
        let mut backlog = self.shared.state().bytes();
        let mut accepted = Vec::with_capacity(group.len());
        for pending in group {
            let len = pending.frame.len() as u64;
            if backlog + len > limit {
                let _ = pending.done.send(Err(AppendError::Full { backlog, limit }));
            } else {
                backlog += len;
                accepted.push(pending);
            }
        }
        if accepted.is_empty() {
            return;
        }
        if self
            .open
            .as_ref()
            .is_some_and(|open| open.len >= self.shared.options.segment_bytes)
        {
            self.seal_open();
        }
        if self.open.is_none()
            && let Err(e) = self.create_segment()
        {
            let error = AppendError::Io(format!("creating a segment: {e}"));
            for pending in accepted {
                let _ = pending.done.send(Err(error.clone()));
            }
            return;
        }
        let Some(open) = self.open.as_mut() else {
            return;
        };
        let mut buffer = Vec::with_capacity(accepted.iter().map(|p| p.frame.len()).sum());
        for pending in &accepted {
            buffer.extend_from_slice(&pending.frame);
        }
        let written = open
            .file
            .write_all(&buffer)
            .and_then(|()| open.file.sync_data());
        match written {
            Ok(()) => {
                self.shared.fsyncs.fetch_add(1, Ordering::Relaxed);
                open.len += buffer.len() as u64;
                let rows: u64 = accepted.iter().map(|p| u64::from(p.rows)).sum();
                open.rows += rows;
                {
                    let mut state = self.shared.state();
                    if let Some(info) = state.segments.get_mut(&open.seq) {
                        info.bytes = open.len;
                        info.records += accepted.len() as u64;
                        info.rows += rows;
                        let oldest = accepted.iter().map(|p| p.ingested_at).min();
                        info.oldest = match (info.oldest, oldest) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                    }
                }
                if !open.notified && open.rows >= self.shared.options.notify_rows {
                    open.notified = true;
                    self.shared.flush_wanted.notify_one();
                }
                for pending in accepted {
                    let _ = pending.done.send(Ok(()));
                }
            }
            Err(e) => {
                // Nothing of this group is acknowledged. Cut the segment back to its last good
                // length (best effort: replay cuts off whatever is left) and stop writing to it:
                // after a failed fsync the kernel may have dropped the dirty pages.
                let _ = open.file.set_len(open.len);
                let _ = open.file.sync_data();
                tracing::error!(
                    "WAL write to segment {} failed: {e}; {} appends not acknowledged",
                    open.seq,
                    accepted.len()
                );
                let error = AppendError::Io(e.to_string());
                for pending in accepted {
                    let _ = pending.done.send(Err(error.clone()));
                }
                self.seal_open();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn options(dir: &Path) -> WalOptions {
        WalOptions::new(dir)
    }

    fn line(i: usize) -> Vec<u8> {
        format!("{{\"n\":{i}}}").into_bytes()
    }

    async fn all_records(wal: &Wal) -> Vec<Record> {
        let mut records = Vec::new();
        for sealed in wal.seal().await.unwrap() {
            records.extend(Wal::read_segment(&sealed).unwrap());
        }
        records
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_share_fsyncs_and_are_all_durable() {
        let dir = tempfile::tempdir().unwrap();
        let wal = Arc::new(Wal::open(options(dir.path())).unwrap());
        let n = 500;
        let appends = (0..n).map(|i| {
            let wal = wal.clone();
            async move { wal.append("analytics_events", i as i64, 1, &line(i)).await }
        });
        let results = futures::future::join_all(appends).await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let fsyncs = wal.fsyncs();
        assert!(
            fsyncs >= 1 && fsyncs < n as u64 / 2,
            "{fsyncs} fsyncs for {n} appends"
        );
        assert_eq!(wal.backlog().records, n as u64);
        drop(wal);

        // Every acknowledged append is there after reopening, each once.
        let wal = Wal::open(options(dir.path())).unwrap();
        assert_eq!(wal.replayed().records, n as u64);
        let mut seen: Vec<i64> = all_records(&wal)
            .await
            .iter()
            .map(|r| r.ingested_at)
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..n as i64).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn replay_gives_records_in_append_order_across_segments() {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = options(dir.path());
        opts.segment_bytes = 64; // about one record per segment
        {
            let wal = Wal::open(opts.clone()).unwrap();
            for i in 0..10 {
                let table = if i % 2 == 0 {
                    "messages"
                } else {
                    "analytics_events"
                };
                wal.append(table, i, 1, &line(i as usize)).await.unwrap();
            }
        }
        let wal = Wal::open(opts).unwrap();
        assert!(wal.replayed().segments > 1, "{:?}", wal.replayed());
        let records = all_records(&wal).await;
        let order: Vec<i64> = records.iter().map(|r| r.ingested_at).collect();
        assert_eq!(order, (0..10).collect::<Vec<_>>());
        assert_eq!(records[0].table, "messages");
        assert_eq!(records[1].table, "analytics_events");
        assert_eq!(records[3].lines, line(3));
        assert!(records.windows(2).all(|w| w[0].segment <= w[1].segment));
    }

    /// A WAL directory holding three `messages` records (`line(0..3)`, ingested at 0, 1, 2),
    /// closed.
    async fn wal_of_three_records() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let wal = Wal::open(options(dir.path())).unwrap();
        for i in 0..3 {
            wal.append("messages", i, 1, &line(i as usize))
                .await
                .unwrap();
        }
        drop(wal);
        dir
    }

    /// The one segment file of a WAL directory.
    fn only_segment(dir: &Path) -> PathBuf {
        let mut segments: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(segment_seq)
                    .is_some()
            })
            .collect();
        assert_eq!(segments.len(), 1, "{segments:?}");
        segments.remove(0)
    }

    #[tokio::test]
    async fn a_torn_tail_is_cut_off_and_the_rest_replayed() {
        let dir = wal_of_three_records().await;
        // A crash in the middle of writing a fourth record: half of it reached the disk.
        let path = only_segment(dir.path());
        let good_len = std::fs::metadata(&path).unwrap().len();
        let frame = encode_record("messages", 3, 1, &line(3)).unwrap();
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&frame[..frame.len() / 2]).unwrap();
        drop(file);

        let wal = Wal::open(options(dir.path())).unwrap();
        assert_eq!(wal.replayed().records, 3);
        assert_eq!(wal.replayed().dropped_bytes, (frame.len() / 2) as u64);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good_len);
        let records = all_records(&wal).await;
        assert_eq!(
            records.iter().map(|r| r.ingested_at).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        // New appends go to a new segment after the replayed one.
        wal.append("messages", 4, 1, &line(4)).await.unwrap();
        let sealed = wal.seal().await.unwrap();
        assert_eq!(sealed.len(), 2);
        assert!(sealed[1].seq > sealed[0].seq);
    }

    #[tokio::test]
    async fn a_corrupt_record_stops_the_replay_of_its_segment() {
        let dir = wal_of_three_records().await;
        let path = only_segment(dir.path());
        let mut bytes = std::fs::read(&path).unwrap();
        // Flip one bit in the payload of the second record.
        let first = encode_record("messages", 0, 1, &line(0)).unwrap().len();
        let at = SEGMENT_MAGIC.len() + first + FRAME_HEADER + 5;
        bytes[at] ^= 0x10;
        std::fs::write(&path, &bytes).unwrap();

        let wal = Wal::open(options(dir.path())).unwrap();
        assert_eq!(wal.replayed().records, 1);
        assert!(wal.replayed().dropped_bytes > 0);
        let records = all_records(&wal).await;
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].lines, line(0));
    }

    #[tokio::test]
    async fn a_second_wal_on_the_same_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = Wal::open(options(dir.path())).unwrap();
        let err = Wal::open(options(dir.path())).unwrap_err().to_string();
        assert!(err.contains("in use by another chatlake server"), "{err}");
        let id = first.id().to_string();
        drop(first);
        // Released on close; the id stays the directory's.
        let again = Wal::open(options(dir.path())).unwrap();
        assert_eq!(again.id(), id);
        assert_eq!(again.app_id(), format!("chatlake-wal-{id}"));
        assert_eq!(id.len(), 32);
    }

    #[tokio::test]
    async fn the_backlog_bound_refuses_appends_until_segments_are_released() {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = options(dir.path());
        opts.max_backlog_bytes = 200;
        let wal = Wal::open(opts).unwrap();
        let body = vec![b'x'; 60];
        let mut accepted = 0;
        let err = loop {
            match wal.append("messages", 0, 1, &body).await {
                Ok(()) => accepted += 1,
                Err(e) => break e,
            }
        };
        assert!(matches!(err, AppendError::Full { .. }), "{err}");
        assert!(accepted >= 1);
        assert!(wal.backlog().bytes <= 200);
        let sealed = wal.seal().await.unwrap();
        wal.release(&sealed).unwrap();
        assert_eq!(
            wal.backlog(),
            Backlog {
                max_bytes: 200,
                ..Backlog::default()
            }
        );
        wal.append("messages", 0, 1, &body).await.unwrap();
    }

    #[tokio::test]
    async fn sequence_numbers_keep_growing_after_every_segment_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let first_seq = {
            let wal = Wal::open(options(dir.path())).unwrap();
            wal.append("messages", 0, 1, &line(0)).await.unwrap();
            let sealed = wal.seal().await.unwrap();
            wal.release(&sealed).unwrap();
            sealed[0].seq
        };
        let wal = Wal::open(options(dir.path())).unwrap();
        assert_eq!(wal.replayed().records, 0);
        wal.append("messages", 1, 1, &line(1)).await.unwrap();
        let sealed = wal.seal().await.unwrap();
        assert!(sealed[0].seq > first_seq, "{sealed:?} after {first_seq}");
    }

    #[tokio::test]
    async fn the_row_trigger_wakes_the_flusher() {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = options(dir.path());
        opts.notify_rows = 10;
        let wal = Wal::open(opts).unwrap();
        wal.append("messages", 0, 9, b"x").await.unwrap();
        let early =
            tokio::time::timeout(std::time::Duration::from_millis(50), wal.flush_wanted()).await;
        assert!(early.is_err(), "9 rows are below the trigger");
        wal.append("messages", 0, 1, b"x").await.unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), wal.flush_wanted())
            .await
            .unwrap();
    }
}
