//! The pgwire handlers of one connection: startup (trust authentication and the startup
//! parameters), the simple query protocol and the extended query protocol.
//!
//! | Phase | Behaviour |
//! |---|---|
//! | `SSLRequest` / `GSSENCRequest` | answered `N` by pgwire (no TLS configured); the client goes on in plain text |
//! | startup | any user, any database, no password; settings in the startup packet (`application_name`, `client_encoding`, `DateStyle`, `TimeZone`, `extra_float_digits`, `options=-c k=v`) applied, bad values ignored; `ParameterStatus` for every reported setting (`server_version` = `16.6 (chatlake …)`, `DateStyle` = `ISO, MDY`, …); `BackendKeyData` |
//! | simple query | each statement in turn; rows stream as DataFusion produces batches |
//! | `Parse` | planned right away: parameter types and result columns known for `Describe`; several statements are `42601` |
//! | `Bind` / `Execute` | values decoded by [`super::params`]; rows streamed straight to the socket (`max_rows` honoured with `PortalSuspended`) |
//!
//! Errors leave the connection usable: a failed statement is reported with its SQLSTATE and
//! the client can go on (after `Sync` in the extended protocol).

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use futures::{Sink, SinkExt, StreamExt};
use pgwire::api::auth::{
    ServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::cancel::CancelHandler;
use pgwire::api::copy::send_copy_out_response;
use pgwire::api::portal::{Portal, PortalExecutionState};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler, send_execution_response};
use pgwire::api::results::{FieldInfo, Response, Tag};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::{Entry, PortalStore};
use pgwire::api::{
    ClientInfo, ClientPortalStore, DEFAULT_NAME, ErrorHandler, METADATA_DATABASE, METADATA_USER,
    PgWireConnectionState, PgWireServerHandlers, PidSecretKeyGenerator,
    RandomPidSecretKeyGenerator, Type,
};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::extendedquery::{Execute, PortalSuspended};
use pgwire::messages::response::EmptyQueryResponse;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use super::cancel::{CancelRegistry, Registration};
use super::error::{code, user_error};
use super::execute::{self, Prepared};
use super::functions::{register_backend_pid, register_setting_functions, register_user};
use super::session::Session;

/// Everything pgwire needs to serve one connection.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    handler: Arc<Handler>,
}

impl Connection {
    /// Handlers for a connection served by `session`; `pids` numbers the connections.
    pub fn new(
        session: Session,
        pids: Arc<RandomPidSecretKeyGenerator>,
        cancels: CancelRegistry,
    ) -> Self {
        let session = Arc::new(session);
        register_setting_functions(session.context(), Arc::downgrade(&session));
        Connection {
            handler: Arc::new(Handler {
                parser: Arc::new(StatementParser {
                    session: session.clone(),
                }),
                session,
                pids,
                cancels,
                registration: Mutex::new(None),
            }),
        }
    }
}

impl PgWireServerHandlers for Connection {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.handler.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.handler.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.handler.clone()
    }

    fn error_handler(&self) -> Arc<impl ErrorHandler> {
        Arc::new(LogErrors)
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        Arc::new(self.handler.cancels.clone())
    }
}

/// The connection's handler for every protocol phase.
#[derive(Debug)]
pub(crate) struct Handler {
    session: Arc<Session>,
    parser: Arc<StatementParser>,
    pids: Arc<RandomPidSecretKeyGenerator>,
    /// Where cancel requests find connections.
    cancels: CancelRegistry,
    /// This connection's entry in `cancels` (set at startup, removed when it closes).
    registration: Mutex<Option<Registration>>,
}

/// Logs every error sent to a client, at debug level (they are the client's business).
#[derive(Debug)]
struct LogErrors;

impl ErrorHandler for LogErrors {
    fn on_error<C>(&self, client: &C, error: &mut PgWireError)
    where
        C: ClientInfo,
    {
        tracing::debug!(
            peer = %client.socket_addr(),
            sqlstate = error.code(),
            "query failed: {error}"
        );
    }
}

/// The parameters sent to the client once it is authenticated.
struct StartupParameters(Vec<(String, String)>);

impl ServerParameterProvider for StartupParameters {
    fn server_parameters<C>(&self, _client: &C) -> Option<HashMap<String, String>>
    where
        C: ClientInfo,
    {
        Some(self.0.iter().cloned().collect())
    }
}

#[async_trait]
impl StartupHandler for Handler {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let PgWireFrontendMessage::Startup(startup) = message else {
            // Trust authentication: no password or SASL messages are expected.
            return Ok(());
        };
        protocol_negotiation(client, &startup).await?;
        save_startup_parameters_to_metadata(client, &startup);
        let (pid, secret_key) = self.pids.generate(&*client);
        client.set_pid_and_secret_key(pid, secret_key.clone());
        let registration = self
            .cancels
            .register(pid, secret_key, self.session.canceler());
        *self
            .registration
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(registration);
        apply_startup_parameters(&self.session, client.metadata());
        register_backend_pid(self.session.context(), pid);
        let user = client
            .metadata()
            .get(METADATA_USER)
            .cloned()
            .unwrap_or_default();
        register_user(self.session.context(), &user);
        tracing::debug!(
            peer = %client.socket_addr(),
            user = client.metadata().get(METADATA_USER).map(String::as_str).unwrap_or(""),
            database = client.metadata().get(METADATA_DATABASE).map(String::as_str).unwrap_or(""),
            pid,
            "connection started"
        );
        finish_authentication(
            client,
            &StartupParameters(self.session.startup_parameters()),
        )
        .await
    }
}

/// Applies the settings a client sent in its startup packet.
fn apply_startup_parameters(session: &Session, parameters: &HashMap<String, String>) {
    for (name, value) in parameters {
        match name.as_str() {
            METADATA_USER => session.set_user(value),
            METADATA_DATABASE | "replication" => {}
            "options" => {
                for (name, value) in command_line_options(value) {
                    session.set_from_startup(&name, &value);
                }
            }
            _ => session.set_from_startup(name, value),
        }
    }
}

/// The `-c name=value` / `--name=value` settings of libpq's `options` (`PGOPTIONS`).
fn command_line_options(options: &str) -> Vec<(String, String)> {
    let mut settings = Vec::new();
    let mut words = options.split_whitespace();
    while let Some(word) = words.next() {
        let assignment = if word == "-c" {
            words.next()
        } else {
            word.strip_prefix("-c").or_else(|| word.strip_prefix("--"))
        };
        if let Some((name, value)) = assignment.and_then(|a| a.split_once('=')) {
            settings.push((name.replace('-', "_"), value.to_string()));
        }
    }
    settings
}

#[async_trait]
impl SimpleQueryHandler for Handler {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        execute::run_simple(&self.session, client, query).await
    }
}

/// Parses and plans the statement of an extended-protocol `Parse`.
#[derive(Debug)]
pub(crate) struct StatementParser {
    session: Arc<Session>,
}

#[async_trait]
impl QueryParser for StatementParser {
    type Statement = Prepared;

    async fn parse_sql<C>(
        &self,
        _client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        execute::parse_one(&self.session, sql, types).await
    }

    fn get_parameter_types(&self, statement: &Prepared) -> PgWireResult<Vec<Type>> {
        Ok(statement.parameter_types())
    }

    fn get_result_schema(
        &self,
        statement: &Prepared,
        column_format: Option<&pgwire::api::portal::Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        Ok(statement
            .field_infos(column_format.unwrap_or(&pgwire::api::portal::Format::UnifiedText)))
    }
}

#[async_trait]
impl ExtendedQueryHandler for Handler {
    type Statement = Prepared;
    type QueryParser = StatementParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let response = execute::run(
            &self.session,
            client,
            &portal.statement.statement,
            &portal.parameters,
            (&portal.parameter_format, &portal.result_column_format),
        )
        .await?;
        // A declared cursor is also a protocol portal: psycopg describes it (`Describe P`)
        // to learn its columns before fetching.
        if let Prepared::Declare { name, query, .. } = &portal.statement.statement {
            let statement =
                StoredStatement::new(name.clone(), Prepared::Query(query.clone()), Vec::new());
            client
                .portal_store()
                .put_portal(Arc::new(Portal::new_cursor(
                    name.clone(),
                    Arc::new(statement),
                )));
        }
        Ok(response)
    }

    /// Like pgwire's default, but rows go straight from DataFusion's stream to the socket
    /// (pgwire's default collects all rows of an unlimited `Execute` first).
    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
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
            match ExtendedQueryHandler::do_query(self, client, &portal, max_rows).await? {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_options() {
        assert_eq!(
            command_line_options(
                "-c search_path=sales  -cstatement_timeout=5s --application-name=x"
            ),
            vec![
                ("search_path".to_string(), "sales".to_string()),
                ("statement_timeout".to_string(), "5s".to_string()),
                ("application_name".to_string(), "x".to_string()),
            ]
        );
    }
}
