//! The pgwire handlers of one connection: startup (trust authentication and the startup
//! parameters), the simple query protocol and the extended query protocol.
//!
//! | Phase | Behaviour |
//! |---|---|
//! | `SSLRequest` / `GSSENCRequest` | answered by pgwire: `S` for TLS when a certificate is configured, else `N`; `N` for GSS |
//! | authentication | with an auth file, SCRAM-SHA-256 by [`super::login`]; without one, any user (trust) |
//! | startup | any database; settings in the startup packet (`application_name`, `client_encoding`, `DateStyle`, `TimeZone`, `extra_float_digits`, `options=-c k=v`) applied, bad values ignored; `ParameterStatus` for every reported setting (`server_version` = `16.6 (chatlake …)`, `DateStyle` = `ISO, MDY`, …); `BackendKeyData` |
//! | simple query | each statement in turn; rows stream as DataFusion produces batches |
//! | `Parse` | planned right away: parameter types and result columns known for `Describe`; several statements are `42601` |
//! | `Bind` / `Execute` | values decoded by [`super::decode`]; rows streamed straight to the socket by [`super::portal`] (`max_rows` honoured with `PortalSuspended`) |
//!
//! Errors leave the connection usable: a failed statement is reported with its SQLSTATE and
//! the client can go on (after `Sync` in the extended protocol).

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::auth::{
    ServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::cancel::CancelHandler;
use pgwire::api::portal::Portal;
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{FieldInfo, Response};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{
    ClientInfo, ClientPortalStore, ErrorHandler, METADATA_DATABASE, METADATA_USER,
    PgWireConnectionState, PgWireServerHandlers, PidSecretKeyGenerator,
    RandomPidSecretKeyGenerator, Type,
};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::extendedquery::Execute;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use super::cancel::{CancelRegistry, Registration};
use super::decode::decode_parameters;
use super::login::{ConnectionLog, Login, LoginState, Step};
use super::portal;
use crate::auth::User;
use crate::pg::catalog::functions::{
    register_backend_pid, register_setting_functions, register_user,
};
use crate::pg::session::Session;
use crate::pg::sql::plan::{self, Prepared};
use crate::pg::sql::run;

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
        login: Arc<Login>,
        log: Arc<ConnectionLog>,
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
                login,
                login_state: Mutex::default(),
                log,
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
    /// How clients log in (shared by the server's connections).
    login: Arc<Login>,
    /// This connection's progress through the login.
    login_state: Mutex<LoginState>,
    /// This connection attempt's log line.
    log: Arc<ConnectionLog>,
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
        match message {
            PgWireFrontendMessage::Startup(startup) => {
                protocol_negotiation(client, &startup).await?;
                save_startup_parameters_to_metadata(client, &startup);
                match self.login.begin(&*client, &self.login_state, &self.log)? {
                    Some(request) => {
                        client.set_state(PgWireConnectionState::AuthenticationInProgress);
                        client
                            .send(PgWireBackendMessage::Authentication(request))
                            .await?;
                        Ok(())
                    }
                    None => {
                        self.log.outcome("ok (trust)");
                        self.start_session(client, None).await
                    }
                }
            }
            PgWireFrontendMessage::PasswordMessageFamily(message)
                if self.login.with_passwords() =>
            {
                match self
                    .login
                    .next(&*client, message, &self.login_state, &self.log)
                    .await?
                {
                    Step::Send(next) => {
                        client
                            .send(PgWireBackendMessage::Authentication(next))
                            .await?;
                        Ok(())
                    }
                    Step::Done(last, user) => {
                        client
                            .send(PgWireBackendMessage::Authentication(last))
                            .await?;
                        self.start_session(client, Some(user)).await
                    }
                }
            }
            // Trust authentication: no password or SASL messages are expected.
            _ => Ok(()),
        }
    }
}

impl Handler {
    /// Sets up the session of a client that has logged in (`user`: `None` under trust
    /// authentication) and tells it so: process id and cancel key, the settings of its
    /// startup packet, `AuthenticationOk`, `ParameterStatus`es, `ReadyForQuery`.
    async fn start_session<C>(&self, client: &mut C, user: Option<Arc<User>>) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (pid, secret_key) = self.pids.generate(&*client);
        client.set_pid_and_secret_key(pid, secret_key.clone());
        let registration = self
            .cancels
            .register(pid, secret_key, self.session.canceler());
        *self
            .registration
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(registration);
        // Under trust authentication (`user` is None, loopback only) the session keeps the
        // scope it was built with: all tenants. The client's own startup settings (applied
        // next) override the user's defaults, as a role's defaults do in PostgreSQL.
        if let Some(user) = &user {
            self.session
                .apply_user(user)
                .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
        }
        apply_startup_parameters(&self.session, client.metadata());
        register_backend_pid(self.session.context(), pid);
        self.session.set_backend_pid(pid);
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
        run::run_simple(&self.session, client, query).await
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
        plan::parse_one(&self.session, sql, types).await
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
        let prepared = &portal.statement.statement;
        let params = decode_parameters(
            prepared.params(),
            &portal.parameters,
            &portal.parameter_format,
            &self.session.output_options().time_zone,
        )?;
        let response = run::run(
            &self.session,
            client,
            prepared,
            params,
            &portal.result_column_format,
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
        portal::execute(self, client, message).await
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
