//! The portal loop of the extended protocol's `Execute`: like pgwire's default, but rows go
//! straight from DataFusion's stream to the socket (pgwire's default collects all rows of an
//! unlimited `Execute` first).
//!
//! | Portal state | `Execute` with `max_rows` = n (0: all) |
//! |---|---|
//! | not started | the statement runs ([`ExtendedQueryHandler::do_query`]); rows are then sent as below, other results at once |
//! | suspended (rows left) | up to n rows, then `PortalSuspended`; or, when the rows end, `CommandComplete` with the count sent |
//! | finished | `CommandComplete` `SELECT 0` |

use std::fmt::Debug;

use futures::{Sink, SinkExt, StreamExt};
use pgwire::api::copy::send_copy_out_response;
use pgwire::api::portal::PortalExecutionState;
use pgwire::api::query::{ExtendedQueryHandler, send_execution_response};
use pgwire::api::results::{Response, Tag};
use pgwire::api::store::{Entry, PortalStore};
use pgwire::api::{ClientInfo, ClientPortalStore, DEFAULT_NAME, PgWireConnectionState};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::extendedquery::{Execute, PortalSuspended};
use pgwire::messages::response::EmptyQueryResponse;

use crate::pg::error::{code, user_error};
use crate::pg::sql::plan::Prepared;

/// Runs `Execute` `message` for `handler`'s connection.
pub(crate) async fn execute<H, C>(handler: &H, client: &mut C, message: Execute) -> PgWireResult<()>
where
    H: ExtendedQueryHandler<Statement = Prepared>,
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore<Statement = Prepared>,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
        return Err(PgWireError::NotReadyForQuery);
    }
    let mut transaction_status = client.transaction_status();
    client.set_state(PgWireConnectionState::QueryInProgress);

    let portal_name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
    let max_rows = usize::try_from(message.max_rows).unwrap_or(0);
    let portal = match client.portal_store().get_portal(portal_name) {
        Some(Entry::Value(portal)) => portal,
        Some(Entry::Empty) => {
            client
                .feed(PgWireBackendMessage::EmptyQueryResponse(
                    EmptyQueryResponse::new(),
                ))
                .await?;
            client.set_state(PgWireConnectionState::ReadyForQuery);
            return Ok(());
        }
        None => return Err(PgWireError::PortalNotFound(portal_name.to_owned())),
    };

    let state = portal.state();
    let mut state = state.lock().await;
    if matches!(*state, PortalExecutionState::Initial) {
        match ExtendedQueryHandler::do_query(handler, client, &portal, max_rows).await? {
            Response::Query(rows) => *state = PortalExecutionState::Suspended(rows),
            Response::EmptyQuery => {
                client
                    .feed(PgWireBackendMessage::EmptyQueryResponse(
                        EmptyQueryResponse::new(),
                    ))
                    .await?;
            }
            Response::Execution(tag) => send_execution_response(client, tag).await?,
            Response::TransactionStart(tag) => {
                send_execution_response(client, tag).await?;
                transaction_status = transaction_status.to_in_transaction_state();
            }
            Response::TransactionEnd(tag) => {
                send_execution_response(client, tag).await?;
                transaction_status = transaction_status.to_idle_state();
                client.portal_store().rm_portal(DEFAULT_NAME);
            }
            Response::Error(error) => {
                client
                    .feed(PgWireBackendMessage::ErrorResponse((*error).into()))
                    .await?;
                transaction_status = transaction_status.to_error_state();
            }
            Response::CopyOut(copy) => send_copy_out_response(client, copy).await?,
            Response::CopyIn(_) | Response::CopyBoth(_) => {
                return Err(user_error(
                    code::FEATURE_NOT_SUPPORTED,
                    "COPY FROM is not supported",
                ));
            }
        }
    }

    match &mut *state {
        PortalExecutionState::Suspended(response) => {
            let tag = response.command_tag().to_owned();
            let rows = response.data_rows();
            let mut sent = 0usize;
            let mut exhausted = false;
            while max_rows == 0 || sent < max_rows {
                match rows.next().await {
                    Some(row) => {
                        client.feed(PgWireBackendMessage::DataRow(row?)).await?;
                        sent += 1;
                    }
                    None => {
                        exhausted = true;
                        break;
                    }
                }
            }
            if exhausted {
                *state = PortalExecutionState::Finished;
                client
                    .send(PgWireBackendMessage::CommandComplete(
                        Tag::new(&tag).with_rows(sent).into(),
                    ))
                    .await?;
            } else {
                client
                    .send(PgWireBackendMessage::PortalSuspended(PortalSuspended::new()))
                    .await?;
            }
        }
        PortalExecutionState::Finished => {
            // A portal run to completion has no rows left.
            client
                .send(PgWireBackendMessage::CommandComplete(
                    Tag::new("SELECT").with_rows(0).into(),
                ))
                .await?;
        }
        PortalExecutionState::Initial => {}
    }

    if !matches!(client.state(), PgWireConnectionState::CopyInProgress(_)) {
        client.set_state(PgWireConnectionState::ReadyForQuery);
        client.set_transaction_status(transaction_status);
    }
    Ok(())
}
