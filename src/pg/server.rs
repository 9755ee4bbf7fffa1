//! The accept loop, after tokio-rs/mini-redis `server.rs`.
//!
//! | Concern | Behaviour |
//! |---|---|
//! | connections | one task each, with its own DataFusion session from the [`SessionFactory`] |
//! | security | [`ServerOptions::security`]: trust or SCRAM passwords, TLS (see [`crate::auth`] and `wire::login`); a bad certificate or auth file fails [`serve_with_options`] before it accepts anything |
//! | connection log | one info line per attempt under the target `chatlake::connections`: peer, user, TLS, outcome |
//! | limit | [`ServerOptions::max_connections`] (default 100) held by a semaphore; a client over the limit gets `FATAL 53300 sorry, too many clients already` (after its `SSLRequest` is answered `N` and its startup packet read, as PostgreSQL does) and is closed |
//! | accept errors | aborted/reset handshakes are skipped; other errors back off 1, 2, 4 … 64 s, then [`serve`] fails |
//! | shutdown | when the `shutdown` future resolves: stop accepting, wait up to [`ServerOptions::shutdown_grace`] for open connections to end, then drop them |

use std::future::Future;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use datafusion::prelude::SessionContext;
use pgwire::api::RandomPidSecretKeyGenerator;
use pgwire::error::ErrorInfo;
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::startup::SecretKey;
use pgwire::tokio::process_socket;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::catalog;
use super::catalog::functions::{register_catalog_functions, register_pg_functions};
use super::error::code;
use super::session::Session;
use super::wire::cancel::CancelRegistry;
use super::wire::handler::Connection;
use super::wire::login::{ConnectionLog, Login};
use crate::auth::Security;
use crate::engine::Engine;
use crate::engine::tenant::TenantScope;
use crate::error::{Error, Result};

/// Builds the DataFusion session of a new connection.
pub type SessionFactory = Arc<dyn Fn() -> SessionContext + Send + Sync>;

/// Knobs of the Postgres server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Connections served at once; more are refused with SQLSTATE `53300`.
    pub max_connections: usize,
    /// How long open connections may go on after shutdown starts before they are dropped.
    pub shutdown_grace: Duration,
    /// Authentication and TLS (default: trust, plain TCP).
    pub security: Security,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_connections: 100,
            shutdown_grace: Duration::from_secs(5),
            security: Security::default(),
        }
    }
}

/// Serves the Postgres protocol on `listener`, each connection with its own session from
/// `engine` (its reports attached, for the catalog and for bound report arguments), until
/// `shutdown` resolves (see the module docs for limits and shutdown).
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    serve_secure(listener, engine, Security::default(), shutdown).await
}

/// Like [`serve`], with passwords and/or TLS. With users, a session starts with no tenant at all
/// and gets its user's grant once the password is checked (so a session that somehow skipped
/// the login would see nothing); without them (trust, loopback only) every session sees every
/// tenant.
pub async fn serve_secure(
    listener: TcpListener,
    engine: Arc<Engine>,
    security: Security,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    let scope = if security.users.is_some() {
        TenantScope::only(Vec::<String>::new())
    } else {
        TenantScope::All
    };
    let options = ServerOptions {
        security,
        ..ServerOptions::default()
    };
    serve_with_options(listener, engine_sessions(engine, scope), options, shutdown).await
}

/// Sessions of `engine` that see only the rows of `scope`'s tenants (the reports attached, as
/// [`serve`] does); a password login then sets the user's own grant. Only Rust code chooses the
/// scope: no client message reaches it.
pub fn engine_sessions(engine: Arc<Engine>, scope: TenantScope) -> SessionFactory {
    Arc::new(move || {
        let ctx = engine.new_scoped_session(scope.clone());
        super::catalog::routines::attach_reports(&ctx, engine.reports());
        ctx
    })
}

/// Like [`serve`], with sessions built by `sessions` (tests serve a hand-made table this way).
pub async fn serve_with(
    listener: TcpListener,
    sessions: SessionFactory,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    serve_with_options(listener, sessions, ServerOptions::default(), shutdown).await
}

/// Like [`serve_with`], with explicit [`ServerOptions`].
pub async fn serve_with_options(
    listener: TcpListener,
    sessions: SessionFactory,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    const MAX_BACKOFF: Duration = Duration::from_secs(64);
    let login = Arc::new(Login::new(&options.security)?);
    let tls = options.security.tls.clone();
    let limit = Arc::new(Semaphore::new(options.max_connections));
    let pids = Arc::new(RandomPidSecretKeyGenerator::default());
    let cancels = CancelRegistry::default();
    let mut connections = JoinSet::new();
    let mut backoff = Duration::from_secs(1);
    tokio::pin!(shutdown);

    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(ended) = connections.join_next(), if !connections.is_empty() => {
                if let Err(e) = ended
                    && e.is_panic()
                {
                    tracing::error!("a connection task panicked: {e}");
                }
                continue;
            }
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((socket, peer)) => {
                backoff = Duration::from_secs(1);
                match limit.clone().try_acquire_owned() {
                    Ok(permit) => {
                        let connection = serve_connection(
                            socket,
                            peer,
                            Shared {
                                sessions: sessions.clone(),
                                pids: pids.clone(),
                                cancels: cancels.clone(),
                                login: login.clone(),
                                tls: tls.as_ref().map(|t| t.acceptor()),
                            },
                            permit,
                        );
                        connections.spawn(connection);
                    }
                    Err(_) => {
                        tracing::warn!(%peer, "refusing connection: {} already open", options.max_connections);
                        ConnectionLog::new(peer).outcome("refused: too many connections");
                        connections.spawn(refuse(socket, cancels.clone()));
                    }
                }
            }
            Err(e) if is_per_connection(&e) => {
                tracing::debug!("accept: {e}");
            }
            Err(source) => {
                if backoff > MAX_BACKOFF {
                    return Err(Error::Io {
                        context: "accepting Postgres connections".into(),
                        source,
                    });
                }
                tracing::warn!("accept failed, retrying in {backoff:?}: {source}");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff *= 2;
            }
        }
    }

    drop(listener);
    if !connections.is_empty() {
        tracing::info!(
            "shutting down: waiting up to {:?} for {} connection(s)",
            options.shutdown_grace,
            connections.len()
        );
    }
    let drained = tokio::time::timeout(options.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::info!("dropping {} connection(s)", connections.len());
        connections.shutdown().await;
    }
    Ok(())
}

/// Accept errors that concern one client only (the listener is fine).
fn is_per_connection(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::ConnectionAborted
            | ErrorKind::ConnectionReset
            | ErrorKind::Interrupted
            | ErrorKind::WouldBlock
    )
}

/// What every connection task gets from the server.
struct Shared {
    sessions: SessionFactory,
    pids: Arc<RandomPidSecretKeyGenerator>,
    cancels: CancelRegistry,
    login: Arc<Login>,
    tls: Option<pgwire::tokio::TlsAcceptor>,
}

async fn serve_connection(
    socket: TcpStream,
    peer: SocketAddr,
    shared: Shared,
    _permit: OwnedSemaphorePermit,
) {
    let log = Arc::new(ConnectionLog::new(peer));
    let connection = Connection::new(
        connection_session(&shared.sessions),
        shared.pids,
        shared.cancels,
        shared.login,
        log.clone(),
    );
    match process_socket(socket, shared.tls, connection).await {
        Ok(()) => {
            log.outcome("closed before logging in");
            tracing::debug!(%peer, "connection closed");
        }
        Err(e) => {
            log.outcome(&format!("failed: {e}"));
            tracing::debug!(%peer, "connection ended: {e}");
        }
    }
}

/// A new session from `sessions` with what every Postgres client finds in it: `pg_catalog`,
/// the catalog and compatibility functions, the literal coercions. The console's query API
/// (`crate::http`) starts each request's session here too.
pub(crate) fn connection_session(sessions: &SessionFactory) -> Session {
    let ctx = sessions();
    if let Err(e) = catalog::install(&ctx) {
        tracing::warn!("pg_catalog unavailable on this session: {e}");
    }
    super::sql::coerce::install(&ctx);
    register_pg_functions(&ctx);
    register_catalog_functions(&ctx);
    Session::new(ctx)
}

const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;
const CANCEL_REQUEST: u32 = 80_877_102;

/// Tells a client over the connection limit so, the way PostgreSQL does: refuse TLS, read
/// the startup packet, send `FATAL 53300`, close. A cancel request is still carried out.
async fn refuse(mut socket: TcpStream, cancels: CancelRegistry) {
    let exchange = async {
        loop {
            let mut header = [0u8; 8];
            socket.read_exact(&mut header).await?;
            let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
            let request = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
            if length == 8 && (request == SSL_REQUEST || request == GSSENC_REQUEST) {
                socket.write_all(b"N").await?;
                continue;
            }
            if request == CANCEL_REQUEST {
                // Cancels still work when every slot is taken (that is when they matter).
                let mut key = [0u8; 8];
                socket.read_exact(&mut key).await?;
                let pid = i32::from_be_bytes([key[0], key[1], key[2], key[3]]);
                let secret = i32::from_be_bytes([key[4], key[5], key[6], key[7]]);
                cancels.cancel(pid, &SecretKey::I32(secret));
                return Ok(());
            }
            let rest = (length as usize).saturating_sub(8).min(10_000);
            let mut body = vec![0u8; rest];
            socket.read_exact(&mut body).await?;
            break;
        }
        let mut message = BytesMut::new();
        let error = ErrorInfo::new(
            "FATAL".to_string(),
            code::TOO_MANY_CONNECTIONS.to_string(),
            "sorry, too many clients already".to_string(),
        );
        PgWireBackendMessage::ErrorResponse(error.into())
            .encode(&mut message)
            .map_err(std::io::Error::other)?;
        socket.write_all(&message).await?;
        socket.shutdown().await
    };
    if let Ok(Err(e)) = tokio::time::timeout(Duration::from_secs(5), exchange).await {
        tracing::debug!("refusing a connection: {e}");
    }
}
