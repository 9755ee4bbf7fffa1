//! The ingest listener of `chatlake serve --ingest-listen ADDR --wal-dir DIR`.
//!
//! It lives here, beside the WAL and the flusher it drives, rather than under DESIGN.md's
//! `src/http/`: that module is planned for the console and query API, which share nothing with
//! ingest but axum; the webhook endpoints will join this router.
//!
//! | request                       | answer                                                                  |
//! |-------------------------------|-------------------------------------------------------------------------|
//! | `POST /v1/ingest/{table}`     | body: NDJSON rows of `table`; `Authorization: Bearer <token>`: `CHATLAKE_INGEST_TOKEN` or a tenant's ingest token ([`super::tokens`]) |
//! | - some or all rows good       | `200 {"accepted", "rejected", "rejects": [{"line", "column", "reason"}]}`, sent only after the accepted rows are fsynced in the WAL; a row of a tenant the token may not write is a reject |
//! | - every row bad               | `422` with the same body (nothing written)                               |
//! | - no rows                     | `400 {"error"}`                                                          |
//! | - no or a wrong token         | `401 {"error"}` (tokens compared in constant time)                       |
//! | - unknown table               | `404 {"error"}`; a derived table (`message_outcomes`): `400 {"error"}`  |
//! | - body over `--ingest-max-body` | `413 {"error"}`                                                        |
//! | - body not received in time   | `408 {"error"}` ([`BODY_TIMEOUT`]); headers: the connection is closed after [`HEADER_TIMEOUT`] |
//! | - WAL full or a disk error    | `503 {"error"}` with `Retry-After`; nothing acknowledged                 |
//! | `GET /healthz`                | `200 {"status": "ready", "wal": {...backlog}, "flusher": {...}}`; `503` while the WAL is full |
//! | `GET`/`POST /webhooks/whatsapp`, `/webhooks/messenger`, `/webhooks/instagram` | Meta's handshake and signed bodies: [`crate::ingest::whatsapp::receiver`] |
//!
//! A `401`, `404` or derived-table `400` reads and drops a small body first ([`DRAIN_LIMIT`]) so
//! the keep-alive connection stays usable; `413`, `408` and an unreadable body answer with
//! `Connection: close`.
//!
//! HTTP/1.1 with keep-alive, on hyper's connection driver (for its header read timeout) with
//! axum routes, at most [`MAX_CONNECTIONS`] connections. On shutdown the listener stops
//! accepting, open requests finish (up to [`SHUTDOWN_GRACE`]), then the flusher makes its final
//! flush. A row is validated on accept (the same [`Decoder`] as the file import; one kept per
//! table between requests, small bodies decoded on the request's task) and again by the
//! flusher, which decodes the WAL's lines with the `ingested_at` fixed here.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::error::{Error, Result};
use crate::ingest::commit::Ingester;
use crate::ingest::decode::{DecodeOptions, Decoded, Decoder};
use crate::ingest::flusher::{FlushOptions, Flusher, StatusHandle};
use crate::ingest::tokens::{IngestAuth, foreign_rows};
use crate::ingest::wal::{AppendError, Wal, WalOptions};
use crate::ingest::whatsapp::receiver::{ReceiverState, WebhookSecrets};
use crate::lake::Lake;
use crate::lake::schema::TableDef;

/// Default bound of a request body.
pub const DEFAULT_MAX_BODY: u64 = 16 << 20;
/// A request body must arrive within this time.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once; more are closed on accept.
pub const MAX_CONNECTIONS: usize = 1024;
pub use crate::http::listener::{HEADER_TIMEOUT, SHUTDOWN_GRACE};

/// Everything the ingest listener needs.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The write-ahead log.
    pub wal: WalOptions,
    /// The bearer tokens clients may send.
    pub auth: IngestAuth,
    /// Largest request body, in bytes.
    pub max_body: u64,
    /// The flusher's trigger.
    pub flush: FlushOptions,
    /// Time allowed to receive a request body.
    pub body_timeout: Duration,
    /// The Meta app's verify token and secret (`/webhooks/whatsapp`).
    pub webhooks: WebhookSecrets,
}

/// Bodies up to this size are decoded on the request's task; larger ones on the blocking pool.
const INLINE_DECODE_BYTES: usize = 64 << 10;

/// Decoders kept between requests, per table (building one costs more than decoding a row).
#[derive(Debug, Default)]
struct Decoders {
    free: std::sync::Mutex<HashMap<&'static str, Vec<Decoder>>>,
}

impl Decoders {
    /// Decodes the NDJSON `body` for `def` (lines numbered from 1) with a kept decoder.
    fn decode(&self, def: &'static TableDef, body: &[u8], ingested_at: i64) -> Result<Decoded> {
        let kept = self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_mut(def.name)
            .and_then(Vec::pop);
        let mut decoder = match kept {
            Some(mut decoder) => {
                decoder.reuse(ingested_at);
                decoder
            }
            None => Decoder::new(def, DecodeOptions::default(), ingested_at)?,
        };
        for (i, line) in body.split(|b| *b == b'\n').enumerate() {
            decoder.push_json(i as u64 + 1, line);
        }
        let decoded = decoder.finish();
        self.free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(def.name)
            .or_default()
            .push(decoder);
        decoded
    }
}

/// What the request handlers share.
#[derive(Debug)]
struct AppState {
    decoders: Arc<Decoders>,
    wal: Arc<Wal>,
    auth: IngestAuth,
    max_body: usize,
    body_timeout: Duration,
    flusher: StatusHandle,
}

/// The ingest listener, its WAL and its flusher, ready to run.
#[derive(Debug)]
pub struct IngestServer {
    listener: TcpListener,
    addr: SocketAddr,
    state: Arc<AppState>,
    webhooks: Arc<ReceiverState>,
    flusher: Flusher,
}

impl IngestServer {
    /// Opens the WAL (replaying what it holds), the ingester on `lake` and the listening socket.
    pub async fn start(config: IngestConfig, lake: Lake) -> Result<IngestServer> {
        if config.auth.is_empty() {
            return Err(Error::Config(
                "the ingest listener needs a bearer token: set CHATLAKE_INGEST_TOKEN (or --ingest-token), or give --auth-file and make per-tenant tokens with `chatlake user token add`"
                    .into(),
            ));
        }
        let max_body = usize::try_from(config.max_body).map_err(|_| {
            Error::Config(format!(
                "--ingest-max-body {} is too large",
                config.max_body
            ))
        })?;
        let wal_options = config.wal.clone();
        let wal = tokio::task::spawn_blocking(move || Wal::open(wal_options))
            .await
            .map_err(|e| Error::Config(format!("opening the write-ahead log: {e}")))??;
        let wal = Arc::new(wal);
        let ingester = Ingester::open(lake).await?;
        let flusher = Flusher::new(wal.clone(), ingester, config.flush.clone());
        let (listener, addr) =
            crate::http::listener::bind("ingest listener", config.listen).await?;
        let state = Arc::new(AppState {
            decoders: Arc::default(),
            wal,
            auth: config.auth,
            max_body,
            body_timeout: config.body_timeout,
            flusher: flusher.status(),
        });
        let webhooks = Arc::new(ReceiverState {
            wal: state.wal.clone(),
            secrets: config.webhooks,
            max_body,
            body_timeout: config.body_timeout,
        });
        Ok(IngestServer {
            listener,
            addr,
            state,
            webhooks,
            flusher,
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The write-ahead log.
    pub fn wal(&self) -> &Arc<Wal> {
        &self.state.wal
    }

    /// Serves until `shutdown` resolves: the flusher first flushes what the WAL replayed, then
    /// runs on its trigger; on shutdown, open requests finish and a final flush runs.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        let (stop_flusher, flusher_stopped) = tokio::sync::oneshot::channel::<()>();
        let http = async move {
            crate::http::listener::serve_router(
                "ingest listener",
                self.listener,
                router(self.state, self.webhooks),
                MAX_CONNECTIONS,
                shutdown,
            )
            .await;
            let _ = stop_flusher.send(());
        };
        // On this task (not spawned): the flusher's decoding runs on the blocking pool, and
        // each connection is a task of its own.
        let flusher = self.flusher.run(async move {
            let _ = flusher_stopped.await;
        });
        tokio::join!(http, flusher);
        Ok(())
    }
}

fn router(state: Arc<AppState>, webhooks: Arc<ReceiverState>) -> Router {
    Router::new()
        .route("/v1/ingest/{table}", post(ingest))
        .route("/healthz", get(healthz))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "no such endpoint: POST /v1/ingest/{table}, GET /healthz, GET or POST /webhooks/whatsapp, /webhooks/messenger, /webhooks/instagram",
            )
        })
        .with_state(state)
        .merge(crate::ingest::whatsapp::receiver::routes(webhooks))
}

/// Accepts connections until `shutdown`, then lets open requests finish.
/// A JSON answer.
pub(crate) fn json(status: StatusCode, body: &impl serde::Serialize) -> Response {
    crate::http::error::json_response(status, body)
}

/// A JSON error body.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json(status, &serde_json::json!({ "error": message.into() }))
}

/// Compares without stopping at the first difference (the length is not secret).
/// One rejected line in a response.
#[derive(Debug, serde::Serialize)]
struct RejectJson {
    line: u64,
    column: Option<String>,
    reason: String,
}

/// The answer to an ingest request.
#[derive(Debug, serde::Serialize)]
struct IngestJson {
    accepted: u64,
    rejected: u64,
    rejects: Vec<RejectJson>,
}

pub(crate) fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// The non-blank lines of `body` not rejected, joined with `\n`, and how many there are.
fn accepted_lines(body: &[u8], rejected: &HashSet<u64>) -> (Vec<u8>, u64) {
    let mut out = Vec::with_capacity(body.len());
    let mut rows = 0;
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        let number = i as u64 + 1;
        if line.trim_ascii().is_empty() || rejected.contains(&number) {
            continue;
        }
        if rows > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(line);
        rows += 1;
    }
    (out, rows)
}

/// A request refused before its body was read has the body read and dropped up to this size,
/// so the client's keep-alive connection stays usable; a larger one closes the connection.
const DRAIN_LIMIT: usize = 64 << 10;
/// How long a refused request's body may take to arrive before the connection is closed.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// `response` with `Connection: close`: the body was not read, so the connection cannot carry
/// another request and the client learns it before sending one.
pub(crate) fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// `response`, after reading and dropping a small `body` (see [`DRAIN_LIMIT`]).
async fn refuse(body: Body, response: Response) -> Response {
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, axum::body::to_bytes(body, DRAIN_LIMIT)).await;
    response
}

async fn ingest(
    State(state): State<Arc<AppState>>,
    Path(table): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(grant) = state.auth.grant(&headers) else {
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token (Authorization: Bearer <CHATLAKE_INGEST_TOKEN or an ingest token>)",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return refuse(body, response).await;
    };
    let Some(def) = crate::lake::schema::table(&table) else {
        let response = error(StatusCode::NOT_FOUND, format!("unknown table '{table}'"));
        return refuse(body, response).await;
    };
    if def.derived {
        let response = error(
            StatusCode::BAD_REQUEST,
            format!("table '{table}' is derived from the other tables: chatlake writes it itself"),
        );
        return refuse(body, response).await;
    }
    let body = match read_body(&headers, body, state.max_body, state.body_timeout).await {
        Ok(body) => body,
        Err(response) => return response,
    };

    let ingested_at = chrono::Utc::now().timestamp_micros();
    let decoded = if body.len() <= INLINE_DECODE_BYTES {
        // A small body decodes in less time than a hand-off to the blocking pool takes.
        Ok(state
            .decoders
            .decode(def, &body, ingested_at)
            .map(|d| (d, body)))
    } else {
        let decoders = state.decoders.clone();
        tokio::task::spawn_blocking(move || {
            let decoded = decoders.decode(def, &body, ingested_at);
            decoded.map(|d| (d, body))
        })
        .await
    };
    let (mut decoded, body): (Decoded, Bytes) = match decoded {
        Ok(Ok(decoded)) => decoded,
        Ok(Err(e)) => return error(StatusCode::BAD_REQUEST, crate::error::report(&e)),
        Err(e) => {
            tracing::error!("decoding an ingest request: {e}");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "decoding the body failed",
            );
        }
    };
    let mut rejected: HashSet<u64> = decoded.rejects.iter().map(|r| r.line).collect();
    let foreign = foreign_rows(&grant, &decoded.batch, &body, &rejected);
    let good_rows = (decoded.batch.num_rows() - foreign.len()) as u64;
    if !foreign.is_empty() {
        rejected.extend(foreign.iter().map(|r| r.line));
        decoded.rejects.extend(foreign);
        decoded.rejects.sort_by_key(|r| r.line);
    }
    let (lines, rows) = accepted_lines(&body, &rejected);
    if rows != good_rows {
        tracing::error!(
            "ingest into {table}: {rows} lines left after the rejects, but {good_rows} rows decoded"
        );
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the accepted lines could not be told apart from the rejected ones: nothing was written",
        );
    }
    let answer = IngestJson {
        accepted: rows,
        rejected: decoded.rejects.len() as u64,
        rejects: decoded
            .rejects
            .into_iter()
            .map(|r| RejectJson {
                line: r.line,
                column: r.column,
                reason: r.reason,
            })
            .collect(),
    };
    if rows == 0 {
        if answer.rejected == 0 {
            return error(
                StatusCode::BAD_REQUEST,
                "the body holds no rows (NDJSON: one JSON object per line)",
            );
        }
        return json(StatusCode::UNPROCESSABLE_ENTITY, &answer);
    }
    let Ok(rows32) = u32::try_from(rows) else {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "too many rows in one body");
    };
    match state
        .wal
        .append(def.name, ingested_at, rows32, &lines)
        .await
    {
        Ok(()) => json(StatusCode::OK, &answer),
        Err(AppendError::TooLarge(why)) => error(StatusCode::PAYLOAD_TOO_LARGE, why),
        Err(e) => {
            let mut response = error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{e}; nothing of this request was stored"),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}

/// Reads a request body of at most `max_body` bytes within `timeout`: a declared or actual
/// length past the limit is `413`, a body too slow `408`, an unreadable one `400`, each with
/// `Connection: close` (the rest of the body was not read). Shared by the ingest and webhook
/// endpoints.
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    max_body: usize,
    timeout: Duration,
) -> std::result::Result<Bytes, Response> {
    let too_large = || {
        closing(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body is larger than the limit of {max_body} bytes (--ingest-max-body): split it"
            ),
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max_body as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, max_body)).await {
        Err(_) => Err(closing(error(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} s",
                timeout.as_secs()
            ),
        ))),
        Ok(Err(e)) if is_length_limit(&e) => Err(too_large()),
        Ok(Err(_)) => Err(closing(error(
            StatusCode::BAD_REQUEST,
            "the request body could not be read",
        ))),
        Ok(Ok(body)) => Ok(body),
    }
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let backlog = state.wal.backlog();
    let now = chrono::Utc::now().timestamp_micros();
    let oldest_age = backlog
        .oldest_ingested_at
        .map(|at| (now - at).max(0) as f64 / 1e6);
    let flusher = state
        .flusher
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let full = backlog.bytes >= backlog.max_bytes;
    let body = serde_json::json!({
        "status": if full { "wal_full" } else { "ready" },
        "wal": {
            "segments": backlog.segments,
            "records": backlog.records,
            "rows": backlog.rows,
            "bytes": backlog.bytes,
            "max_bytes": backlog.max_bytes,
            "oldest_age_seconds": oldest_age,
            "fsyncs": state.wal.fsyncs(),
        },
        "flusher": flusher,
    });
    let status = if full {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    json(status, &body)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn accepted_lines_skip_blanks_and_rejects() {
        let body = b"{\"a\":1}\n\n{\"a\":2}\r\n{\"a\":3}\n";
        let (lines, rows) = accepted_lines(body, &HashSet::from([3]));
        assert_eq!(rows, 2);
        assert_eq!(lines, b"{\"a\":1}\n{\"a\":3}".to_vec());
    }
}
