//! Running prepared statements for one connection: queries start on DataFusion and their
//! rows stream to the client as batches come (stopped by a cancel request or
//! `statement_timeout`); `COPY … TO STDOUT` streams `CopyData`; `DECLARE` opens a cursor;
//! session statements go to [`super::commands`].
//!
//! Bound values arrive decoded (`wire::decode`); rows leave through `wire::encode`.

use std::fmt::Debug;

use datafusion::common::{ParamValues, ScalarValue};
use datafusion::error::Result as DFResult;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use futures::{Sink, StreamExt, stream};
use pgwire::api::portal::Format;
use pgwire::api::results::{CopyResponse, QueryResponse, Response, Tag};
use pgwire::api::{ClientInfo, Type};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::CopyData;

use super::admit::{admit, with_slot};
use super::commands::run_command;
use super::plan::{PlannedQuery, Prepared, plan_statement, prepare};
use super::statement;
use super::table_args;
use crate::engine::result_cache::{self, Sharing};
use crate::pg::error::{code, from_datafusion, user_error};
use crate::pg::session::{Cursor, Session};
use crate::pg::wire::cancel::{Interrupt, interruptible};
use crate::pg::wire::copy::CopyOptions;
use crate::pg::wire::copy_rows::CopyEncoder;
use crate::pg::wire::encode::row_stream;

/// Runs the statements of a simple-protocol query string, in order, stopping at the first
/// error (which is the last response). Row results stream when the responses are sent.
pub(crate) async fn run_simple<C>(
    session: &Session,
    client: &mut C,
    sql: &str,
) -> PgWireResult<Vec<Response>>
where
    C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let commands = statement::parse(sql).map_err(|e| from_datafusion(&e))?;
    if commands.is_empty() {
        return Ok(vec![Response::EmptyQuery]);
    }
    let mut responses = Vec::with_capacity(commands.len());
    for command in commands {
        let result = match prepare(session, command, &[]).await {
            Ok(prepared) => run(session, client, &prepared, Vec::new(), &Format::UnifiedText).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(response) => responses.push(response),
            Err(e) => {
                responses.push(Response::Error(Box::new(e.into())));
                break;
            }
        }
    }
    Ok(responses)
}

/// Runs a prepared statement with `params`, the bound values (decoded by `wire::decode`),
/// writing result columns in `format`.
pub(crate) async fn run<C>(
    session: &Session,
    client: &mut C,
    prepared: &Prepared,
    params: Vec<ScalarValue>,
    format: &Format,
) -> PgWireResult<Response>
where
    C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    match prepared {
        Prepared::Query(query) => run_query(session, query, params, format).await,
        Prepared::Copy(query, options) => run_copy(session, query, params, options).await,
        Prepared::Declare { name, query, hold } => {
            let Some(columns) = &query.columns else {
                return Err(user_error(
                    code::SYNTAX_ERROR,
                    "a cursor needs a query that returns rows",
                ));
            };
            // Fetches come and go: a cursor has no statement_timeout, only cancels.
            let batches = start(session, query, params, false).await?;
            let encoder = columns.encoder(&Format::UnifiedText, session.output_options());
            let cursor = Cursor {
                columns: columns.clone(),
                rows: tokio::sync::Mutex::new(row_stream(batches, encoder).boxed()),
                hold: *hold,
            };
            session.open_cursor(name, cursor)?;
            Ok(Response::Execution(Tag::new("DECLARE CURSOR")))
        }
        Prepared::Command { command, columns } => {
            run_command(session, client, command, columns.as_ref(), format).await
        }
    }
}

async fn run_query(
    session: &Session,
    query: &PlannedQuery,
    params: Vec<ScalarValue>,
    format: &Format,
) -> PgWireResult<Response> {
    let Some(columns) = &query.columns else {
        start(session, query, params, true).await?;
        return Ok(Response::Execution(Tag::new(query.tag)));
    };
    let batches = start(session, query, params, true).await?;
    let encoder = columns.encoder(format, session.output_options());
    let mut response = QueryResponse::new(encoder.fields(), row_stream(batches, encoder));
    response.set_command_tag(query.tag);
    Ok(Response::Query(response))
}

/// Starts `query` with `params` bound: its record batches, stopped by a cancel request or
/// (if `timed`) `statement_timeout`, once it has a query slot ([`super::admit`]; a cursor, not
/// `timed`, waits for one at its first fetch). A statement that returns no rows has run when
/// this returns.
pub(crate) async fn start(
    session: &Session,
    query: &PlannedQuery,
    params: Vec<ScalarValue>,
    timed: bool,
) -> PgWireResult<SendableRecordBatchStream> {
    let mut interrupt = if timed {
        session.interrupt()
    } else {
        session.canceler().interrupt(None)
    };
    let plan = match &query.deferred {
        // Table-function arguments bound: plan again with their values written in.
        Some(deferred) => {
            let statement = table_args::substitute(&deferred.statement, |n| {
                if deferred.numbers.contains(&n) {
                    params.get(n.wrapping_sub(1)).and_then(table_args::literal)
                } else {
                    None
                }
            });
            let declared: Vec<Option<Type>> =
                query.params.iter().map(|p| Some(p.pg.clone())).collect();
            let fresh = plan_statement(session, statement, &declared).await?;
            fresh
                .plan
                .with_param_values(ParamValues::from(params))
                .map_err(|e| from_datafusion(&e))?
        }
        None if query.params.is_empty() => query.plan.clone(),
        None => query
            .plan
            .clone()
            .with_param_values(ParamValues::from(params))
            .map_err(|e| from_datafusion(&e))?,
    };
    let ctx = session.context();
    // Answered from the result cache, or by the same query running for another client, or
    // executed here (and recorded for the others).
    // A cursor (untimed) takes a cached answer but makes no one wait on its fetches.
    let sharing = if timed {
        Sharing::Full
    } else {
        Sharing::HitsOnly
    };
    // The same interrupt stops the wait for a query slot.
    let mut waiting = interrupt.clone();
    let batches = result_cache::run(ctx, plan, sharing, interrupt.fired(), |plan| {
        execute(session, query, plan, timed, &mut waiting)
    })
    .await
    .map_err(|e| from_datafusion(&e))?;
    Ok(interruptible(batches, interrupt))
}

/// Executes `plan` of `query` for `session`: its record batches as they come. Only real
/// executions come here (a result-cache hit or a shared wait never does), so this is where an
/// execution slot is taken ([`super::admit`]; `waiting` stops the wait).
async fn execute(
    session: &Session,
    query: &PlannedQuery,
    plan: LogicalPlan,
    timed: bool,
    waiting: &mut Interrupt,
) -> DFResult<SendableRecordBatchStream> {
    let admitted = admit(session, query, &plan, timed, waiting).await?;
    let batches = session
        .context()
        .execute_logical_plan(plan)
        .await?
        .execute_stream()
        .await?;
    Ok(with_slot(batches, admitted))
}

/// Runs the query of a `COPY … TO STDOUT`, its rows streamed as `CopyData` (`wire::copy`).
async fn run_copy(
    session: &Session,
    query: &PlannedQuery,
    params: Vec<ScalarValue>,
    options: &CopyOptions,
) -> PgWireResult<Response> {
    let Some(columns) = &query.columns else {
        return Err(user_error(
            code::FEATURE_NOT_SUPPORTED,
            "COPY needs a query that returns rows",
        ));
    };
    let batches = start(session, query, params, true).await?;
    let encoder = CopyEncoder::new(columns, options.clone(), session.output_options());
    // Batch by batch; after the last, what the rows did not take (the header line or binary
    // signature of an empty result). pgwire appends binary COPY's trailer itself.
    let messages = stream::unfold(Some((batches, encoder)), |state| async move {
        let (mut batches, mut encoder) = state?;
        Some(match batches.next().await {
            Some(Ok(batch)) => {
                let messages = encoder.encode(&batch);
                (messages, Some((batches, encoder)))
            }
            Some(Err(e)) => (Err(from_datafusion(&e)), None),
            None => (Ok(encoder.finish().into_iter().collect()), None),
        })
    })
    .flat_map(|messages| {
        stream::iter(match messages {
            Ok(messages) => messages.into_iter().map(|m| Ok(CopyData::new(m))).collect(),
            Err(e) => vec![Err(e)],
        })
    });
    Ok(Response::CopyOut(CopyResponse::new(
        options.format_code(),
        columns.column_count(),
        messages,
    )))
}
