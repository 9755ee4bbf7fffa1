//! `POST /v1/query` and `POST /v1/query/{query_id}/cancel`: one SQL statement per request, run
//! the way a pgwire connection runs it, its rows streamed as JSON or as an Arrow IPC stream.
//!
//! Request body (JSON): `{"sql": "...", "params": [...], "settings": {"TimeZone": "...",
//! "chatlake.tenant": "..."}, "query_id": "...", "timeout_ms": 5000}`; only `sql` is required.
//!
//! | Step | As over pgwire |
//! |---|---|
//! | session | a fresh one per request ([`crate::pg::server::connection_session`]): pg_catalog, reports, SQL rewrites; the logged-in user's tenant grant, `memory_limit` and `statement_timeout` |
//! | `settings` | each applied as `SET name = value` (`22023`, `42501` … as `SET` answers) |
//! | `timeout_ms` | `SET statement_timeout` for this request (`57014` when it passes) |
//! | `sql` | one statement (`42601` for none or several); a query (`SELECT`, `WITH`, `VALUES`, `EXPLAIN`, report calls); session and transaction statements are refused (`0A000`): use `settings` |
//! | `params` | bound to `$1 … $n` as text-format `Bind` values: strings as they are, numbers and booleans as their JSON text, `null` as NULL, arrays as `{…}` literals |
//! | `query_id` | the running query can be canceled with `POST /v1/query/{query_id}/cancel` by the same user (it then fails with `57014`); an id already running is refused (`42710`) |
//!
//! # Answer framing
//!
//! The statement is planned and its first batch awaited before the status is sent, so a bad
//! statement, a cancel or a timeout before the first rows get a plain error answer
//! ([`super::error`]). Then:
//!
//! - JSON (default): `200`, `Content-Type: application/json`, chunked:
//!   `{"columns":[{"name","type"}...],"rows":[[...],...],"row_count":N,"elapsed_ms":F}`, rows
//!   written as the batches come ([`super::json`] for the value forms). An error after the
//!   rows started (a cancel, a timeout, a failing expression) ends the same object with an
//!   `"error":{"message","sqlstate"}` member after `elapsed_ms`: the body stays valid JSON, and a
//!   client must check for `error` before trusting `row_count`.
//! - `Accept: application/vnd.apache.arrow.stream`: `200` with an Arrow IPC stream, one
//!   record batch per DataFusion batch (columns cast to the Arrow type of their Postgres type,
//!   the same values as the JSON). An error after the first batch aborts the body before the
//!   end-of-stream marker, so the client's reader fails instead of seeing a short result.
//!
//! A result is never held whole: each batch is encoded when it arrives and the next one is
//! pulled only when the socket has taken the previous chunk.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::ipc::writer::StreamWriter;
use arrow::record_batch::RecordBatch;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use datafusion::common::ScalarValue;
use datafusion::execution::SendableRecordBatchStream;
use futures::{Stream, StreamExt};
use pgwire::api::portal::Format;
use serde::Deserialize;

use super::ConsoleState;
use super::error::{ApiError, json_response};
use super::login::Viewer;
use crate::pg::catalog::routines::type_name;
use crate::pg::error::code;
use crate::pg::session::Session;
use crate::pg::sql::plan::{PlannedQuery, Prepared, prepare};
use crate::pg::sql::run::start;
use crate::pg::sql::statement;
use crate::pg::wire::cancel::Canceler;
use crate::pg::wire::decode::decode_parameters;
use crate::pg::wire::encode::{OutputOptions, ResultColumns};
use crate::pg::wire::types::Encoding;

/// The media type of an Arrow IPC stream.
pub const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";

/// The body of `POST /v1/query`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryRequest {
    /// One SQL statement.
    pub sql: String,
    /// Values of `$1 … $n`.
    #[serde(default)]
    pub params: Vec<serde_json::Value>,
    /// Settings for this request, applied as `SET name = value`.
    #[serde(default)]
    pub settings: BTreeMap<String, serde_json::Value>,
    /// A client-chosen id to cancel the query by.
    #[serde(default)]
    pub query_id: Option<String>,
    /// `statement_timeout` of this request, in milliseconds.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

/// The queries running now that carry a `query_id`: (user, id) → their cancel switch.
#[derive(Debug, Default, Clone)]
pub(crate) struct Running {
    queries: Arc<Mutex<HashMap<(String, String), Canceler>>>,
}

/// Keeps a query in [`Running`] until dropped (when its answer has been sent or dropped).
#[derive(Debug)]
struct RunningQuery {
    running: Running,
    key: (String, String),
}

impl Drop for RunningQuery {
    fn drop(&mut self) {
        self.running.lock().remove(&self.key);
    }
}

impl Running {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Canceler>> {
        self.queries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records query `id` of `user`; `None` when one of that id runs already.
    fn register(&self, user: &str, id: &str, canceler: &Canceler) -> Option<RunningQuery> {
        let key = (user.to_string(), id.to_string());
        let mut queries = self.lock();
        if queries.contains_key(&key) {
            return None;
        }
        queries.insert(key.clone(), canceler.clone());
        Some(RunningQuery {
            running: self.clone(),
            key,
        })
    }

    /// Cancels query `id` of `user`; whether it was running.
    fn cancel(&self, user: &str, id: &str) -> bool {
        match self.lock().get(&(user.to_string(), id.to_string())) {
            Some(canceler) => {
                canceler.cancel();
                true
            }
            None => false,
        }
    }
}

/// `POST /v1/query/{query_id}/cancel`.
pub(crate) async fn cancel(
    State(state): State<Arc<ConsoleState>>,
    Extension(viewer): Extension<Viewer>,
    Path(query_id): Path<String>,
) -> Response {
    if state.running.cancel(viewer.name(), &query_id) {
        json_response(StatusCode::OK, &serde_json::json!({ "canceled": true }))
    } else {
        let error = ApiError::new(
            code::UNDEFINED_OBJECT,
            format!("no running query with id \"{query_id}\""),
        );
        json_response(StatusCode::NOT_FOUND, &error.body())
    }
}

/// `POST /v1/query`.
pub(crate) async fn query(
    State(state): State<Arc<ConsoleState>>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let request: QueryRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return ApiError::new(
                code::PROTOCOL_VIOLATION,
                format!("the request body is not a query request: {e}"),
            )
            .into_response();
        }
    };
    let arrow = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(ARROW_STREAM));
    match run(&state, &viewer, request, arrow, started).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// Everything a started query's answer needs.
struct Started {
    columns: ResultColumns,
    batches: SendableRecordBatchStream,
    first: Option<RecordBatch>,
    output: OutputOptions,
    /// Held until the answer ends: the session and the query's registration.
    guard: (Arc<Session>, Option<RunningQuery>),
    started: Instant,
}

async fn run(
    state: &ConsoleState,
    viewer: &Viewer,
    request: QueryRequest,
    arrow: bool,
    started: Instant,
) -> Result<Response, ApiError> {
    let session = Arc::new(state.session(viewer)?);
    for (name, value) in &request.settings {
        session.set(name, &setting_text(value))?;
    }
    if let Some(ms) = request.timeout_ms {
        session.set("statement_timeout", &ms.to_string())?;
    }
    let query = plan(&session, &request.sql).await?;
    let values = request
        .params
        .iter()
        .map(param_text)
        .collect::<Result<Vec<_>, ApiError>>()?;
    let params: Vec<ScalarValue> = decode_parameters(
        &query.params,
        &values,
        &Format::UnifiedText,
        &session.output_options().time_zone,
    )?;
    let registration = match &request.query_id {
        None => None,
        Some(id) => Some(
            state
                .running
                .register(viewer.name(), id, session.canceler())
                .ok_or_else(|| {
                    ApiError::new(
                        code::DUPLICATE_OBJECT,
                        format!("a query with id \"{id}\" is already running"),
                    )
                })?,
        ),
    };
    let columns = query
        .columns
        .clone()
        .unwrap_or_else(|| ResultColumns::new(std::iter::empty::<&Field>()));
    let mut batches = start(&session, &query, params, true).await?;
    // The first batch before the status: an early failure is a plain error answer.
    let first = match batches.next().await {
        None => None,
        Some(Ok(batch)) => Some(batch),
        Some(Err(e)) => return Err(ApiError::from(&e)),
    };
    let output = session.output_options();
    let started = Started {
        columns,
        batches,
        first,
        output,
        guard: (session, registration),
        started,
    };
    Ok(if arrow {
        arrow_answer(started)?
    } else {
        json_answer(started)
    })
}

/// Parses and plans the request's one statement; only queries run here.
pub(crate) async fn plan(session: &Session, sql: &str) -> Result<Arc<PlannedQuery>, ApiError> {
    let mut commands = statement::parse(sql).map_err(|e| ApiError::from(&e))?;
    if commands.len() != 1 {
        return Err(ApiError::new(
            code::SYNTAX_ERROR,
            format!(
                "/v1/query runs exactly one statement, this request has {}",
                commands.len()
            ),
        ));
    }
    match prepare(session, commands.remove(0), &[]).await? {
        Prepared::Query(query) => Ok(query),
        _ => Err(ApiError::new(
            code::FEATURE_NOT_SUPPORTED,
            "/v1/query runs queries only (SELECT, WITH, VALUES, EXPLAIN, report calls); SET, SHOW, transactions, COPY and cursors are not available: pass settings in \"settings\"",
        )),
    }
}

/// A setting's value as `SET` would get it.
fn setting_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A parameter's value as a text-format `Bind` value (`None`: NULL).
fn param_text(value: &serde_json::Value) -> Result<Option<bytes::Bytes>, ApiError> {
    use serde_json::Value;
    Ok(match value {
        Value::Null => None,
        Value::String(text) => Some(bytes::Bytes::from(text.clone())),
        Value::Bool(b) => Some(bytes::Bytes::from(if *b { "true" } else { "false" })),
        Value::Number(n) => Some(bytes::Bytes::from(n.to_string())),
        Value::Array(items) => {
            let mut literal = String::from("{");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    literal.push(',');
                }
                match item {
                    Value::Null => literal.push_str("NULL"),
                    Value::String(text) => {
                        literal.push('"');
                        literal.push_str(&text.replace('\\', "\\\\").replace('"', "\\\""));
                        literal.push('"');
                    }
                    Value::Bool(_) | Value::Number(_) => literal.push_str(&item.to_string()),
                    _ => {
                        return Err(ApiError::new(
                            code::INVALID_PARAMETER_VALUE,
                            "an array parameter holds strings, numbers, booleans or nulls",
                        ));
                    }
                }
            }
            literal.push('}');
            Some(bytes::Bytes::from(literal))
        }
        Value::Object(_) => Some(bytes::Bytes::from(value.to_string())),
    })
}

/// The batches of `started`, the first one first, ending when the query does.
fn batches_of(
    started: &mut Started,
) -> impl Stream<Item = datafusion::error::Result<RecordBatch>> + Send + 'static {
    let first = futures::stream::iter(started.first.take().map(Ok));
    let empty: SendableRecordBatchStream = Box::pin(
        datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(
            started.batches.schema(),
            futures::stream::empty(),
        ),
    );
    first.chain(std::mem::replace(&mut started.batches, empty))
}

/// The JSON answer (see the module docs for the framing).
fn json_answer(mut started: Started) -> Response {
    let columns_json: Vec<serde_json::Value> = started
        .columns
        .names()
        .iter()
        .zip(started.columns.column_types())
        .map(|(name, ty)| serde_json::json!({ "name": name, "type": type_name(&ty.pg) }))
        .collect();
    let head = format!(
        "{{\"columns\":{},\"rows\":[",
        serde_json::Value::Array(columns_json)
    );
    let batches = batches_of(&mut started);
    let Started {
        columns,
        output,
        guard,
        started,
        ..
    } = started;
    let rows = Arc::new(Mutex::new(0usize));
    let counted = rows.clone();
    let body = batches.map(move |batch| {
        let batch = batch.map_err(|e| ApiError::from(&e))?;
        let mut out = String::with_capacity(batch.num_rows() * 16 * columns.column_count().max(1));
        let mut seen = counted.lock().unwrap_or_else(PoisonError::into_inner);
        super::json::write_rows(&columns, &batch, &output, *seen == 0, &mut out)?;
        *seen += batch.num_rows();
        Ok::<_, ApiError>(Bytes::from(out))
    });
    // Stops at the first error, which becomes the closing `"error"` member.
    let failed = Arc::new(Mutex::new(None::<ApiError>));
    let failure = failed.clone();
    let body = body
        .take_while(move |item| {
            let ok = match item {
                Ok(_) => true,
                Err(e) => {
                    *failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(e.clone());
                    false
                }
            };
            futures::future::ready(ok)
        })
        .map(|item| item.map_err(|_| std::io::Error::other("unreachable")));
    let tail = futures::stream::once(async move {
        let _guard = guard;
        let count = *rows.lock().unwrap_or_else(PoisonError::into_inner);
        let mut tail = format!(
            "],\"row_count\":{count},\"elapsed_ms\":{:.3}",
            started.elapsed().as_secs_f64() * 1000.0
        );
        if let Some(error) = failed.lock().unwrap_or_else(PoisonError::into_inner).take() {
            tail.push_str(",\"error\":");
            tail.push_str(&error.body()["error"].to_string());
        }
        tail.push('}');
        Ok::<_, std::io::Error>(Bytes::from(tail))
    });
    let stream = futures::stream::once(async move { Ok(Bytes::from(head)) })
        .chain(body)
        .chain(tail);
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The Arrow IPC answer (see the module docs).
fn arrow_answer(mut started: Started) -> Result<Response, ApiError> {
    let schema = arrow_schema(&started.columns, &started.batches.schema());
    let mut writer = StreamWriter::try_new(Vec::new(), &schema)
        .map_err(|e| ApiError::new(code::INTERNAL_ERROR, e.to_string()))?;
    let head = std::mem::take(writer.get_mut());
    let batches = batches_of(&mut started);
    let Started { columns, guard, .. } = started;
    let writer = Arc::new(Mutex::new(writer));
    let finisher = writer.clone();
    let body = batches.map(move |batch| {
        let batch = batch.map_err(|e| std::io::Error::other(ApiError::from(&e).message))?;
        let arrays = columns
            .wire_arrays(&batch)
            .map_err(|e| std::io::Error::other(ApiError::from(e).message))?;
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(std::io::Error::other)?;
        let mut writer = writer.lock().unwrap_or_else(PoisonError::into_inner);
        writer.write(&batch).map_err(std::io::Error::other)?;
        Ok::<_, std::io::Error>(Bytes::from(std::mem::take(writer.get_mut())))
    });
    let tail = futures::stream::once(async move {
        let _guard = guard;
        let mut writer = finisher.lock().unwrap_or_else(PoisonError::into_inner);
        writer.finish().map_err(std::io::Error::other)?;
        Ok::<_, std::io::Error>(Bytes::from(std::mem::take(writer.get_mut())))
    });
    let stream = futures::stream::once(async move { Ok(Bytes::from(head)) })
        .chain(body)
        .chain(tail);
    let mut response = Response::new(Body::from_stream(stream));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ARROW_STREAM));
    Ok(response)
}

/// The Arrow schema of the IPC answer: each column as the Arrow type of its Postgres type
/// (display columns as DataFusion gave them).
fn arrow_schema(columns: &ResultColumns, plan: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = columns
        .names()
        .iter()
        .zip(columns.column_types())
        .zip(plan.fields())
        .map(|((name, ty), field)| {
            let data_type = if ty.encoding == Encoding::Display {
                field.data_type().clone()
            } else {
                ty.arrow.clone()
            };
            Field::new(name, data_type, true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}
