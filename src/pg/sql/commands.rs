//! Session and transaction statements, answered from the connection's state: `BEGIN`/`COMMIT`,
//! `SET`/`RESET`/`SHOW`/`DISCARD` (changed reported settings go to the client as
//! `ParameterStatus`), and the cursor statements `FETCH`/`MOVE`/`CLOSE`.

use std::fmt::Debug;
use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use futures::{Sink, SinkExt, StreamExt, stream};
use pgwire::api::ClientInfo;
use pgwire::api::portal::Format;
use pgwire::api::results::{QueryResponse, Response, Tag};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::response::TransactionStatus;
use pgwire::messages::startup::ParameterStatus;

use super::plan::SHOW_ALL_COLUMNS;
use super::statement::Command;
use crate::pg::error::{code, user_error};
use crate::pg::session::{Cursor, Session};
use crate::pg::wire::encode::ResultColumns;
/// Runs session or transaction statement `command` (`columns`: what `SHOW`/`FETCH` return).
pub(crate) async fn run_command<C>(
    session: &Session,
    client: &mut C,
    command: &Command,
    columns: Option<&ResultColumns>,
    format: &Format,
) -> PgWireResult<Response>
where
    C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let response = match command {
        Command::Begin(tag) => Response::TransactionStart(Tag::new(tag)),
        Command::Commit => {
            // COMMIT of a failed transaction rolls it back, and says so.
            session.end_transaction();
            let tag = if client.transaction_status() == TransactionStatus::Error {
                "ROLLBACK"
            } else {
                "COMMIT"
            };
            Response::TransactionEnd(Tag::new(tag))
        }
        Command::Rollback => {
            session.end_transaction();
            Response::TransactionEnd(Tag::new("ROLLBACK"))
        }
        Command::NoOp(tag) => Response::Execution(Tag::new(tag)),
        Command::Set(assignments) => {
            for (name, value) in assignments {
                if let Some(reported) = session.set(name, value)? {
                    report(client, reported).await?;
                }
            }
            Response::Execution(Tag::new("SET"))
        }
        Command::Reset(Some(name)) => {
            if let Some(reported) = session.reset(name) {
                report(client, reported).await?;
            }
            Response::Execution(Tag::new("RESET"))
        }
        Command::Reset(None) | Command::Discard => {
            for reported in session.reset_all() {
                report(client, reported).await?;
            }
            let tag = if matches!(command, Command::Discard) {
                "DISCARD ALL"
            } else {
                "RESET"
            };
            Response::Execution(Tag::new(tag))
        }
        Command::Show(name) => {
            let rows: Vec<Vec<String>> = match name {
                Some(name) => {
                    let (_, value) = session.get(name).ok_or_else(|| {
                        user_error(
                            code::UNDEFINED_OBJECT,
                            format!("unrecognized configuration parameter \"{name}\""),
                        )
                    })?;
                    vec![vec![value]]
                }
                None => session
                    .all()
                    .into_iter()
                    .map(|(name, value)| vec![name, value, String::new()])
                    .collect(),
            };
            let columns = columns
                .cloned()
                .unwrap_or_else(|| ResultColumns::text(&SHOW_ALL_COLUMNS));
            text_rows(session, &columns, rows, format, "SHOW")?
        }
        Command::Fetch { name, count, skip } => {
            let cursor = session.cursor(name)?;
            let Some(count) = *count else {
                return fetch(&cursor, usize::MAX, *skip, format, session).await;
            };
            if count == u64::MAX {
                return Err(user_error(
                    code::OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "cursor can only scan forward",
                ));
            }
            return fetch(
                &cursor,
                usize::try_from(count).unwrap_or(usize::MAX),
                *skip,
                format,
                session,
            )
            .await;
        }
        Command::Close(name) => {
            session.close_cursor(name.as_deref())?;
            Response::Execution(Tag::new(if name.is_some() {
                "CLOSE CURSOR"
            } else {
                "CLOSE CURSOR ALL"
            }))
        }
        Command::Query(_) | Command::CopyOut { .. } | Command::Declare { .. } => {
            return Err(user_error(
                code::INTERNAL_ERROR,
                "query reached the command runner unplanned",
            ));
        }
    };
    Ok(response)
}

/// `FETCH`: up to `count` rows of `cursor` (`skip`: `MOVE`, counted but not sent).
async fn fetch(
    cursor: &Cursor,
    count: usize,
    skip: bool,
    format: &Format,
    session: &Session,
) -> PgWireResult<Response> {
    let mut rows = Vec::new();
    let mut moved = 0usize;
    {
        let mut stream = cursor.rows.lock().await;
        while moved < count {
            match stream.next().await {
                Some(row) => {
                    let row = row?;
                    moved += 1;
                    if !skip {
                        rows.push(Ok(row));
                    }
                }
                None => break,
            }
        }
    }
    if skip {
        return Ok(Response::Execution(Tag::new("MOVE").with_rows(moved)));
    }
    // Rows were encoded as text when the cursor was declared.
    let _ = format;
    let encoder = cursor
        .columns
        .encoder(&Format::UnifiedText, session.output_options());
    let mut response = QueryResponse::new(encoder.fields(), stream::iter(rows));
    response.set_command_tag("FETCH");
    Ok(Response::Query(response))
}

/// Sends a changed setting to the client (`ParameterStatus`).
async fn report<C>(client: &mut C, (name, value): (String, String)) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    client
        .feed(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
            name, value,
        )))
        .await?;
    Ok(())
}

/// A small result computed here (not by DataFusion): rows of text values.
fn text_rows(
    session: &Session,
    columns: &ResultColumns,
    rows: Vec<Vec<String>>,
    format: &Format,
    tag: &str,
) -> PgWireResult<Response> {
    let fields: Vec<Field> = (0..columns.column_count())
        .map(|i| Field::new(format!("c{i}"), DataType::Utf8, true))
        .collect();
    let arrays: Vec<ArrayRef> = (0..columns.column_count())
        .map(|i| {
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|row| row.get(i).map_or("", String::as_str)),
            )) as ArrayRef
        })
        .collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| user_error(code::INTERNAL_ERROR, e.to_string()))?;
    let encoder = columns.encoder(format, session.output_options());
    let rows = encoder.encode(&batch)?;
    let mut response = QueryResponse::new(encoder.fields(), stream::iter(rows.into_iter().map(Ok)));
    response.set_command_tag(tag);
    Ok(Response::Query(response))
}
