//! The accept loop of chatlake's HTTP listeners (the console and the ingest listener): axum
//! routes on hyper's HTTP/1.1 connection driver, for its header read timeout.
//!
//! | Concern | Behaviour |
//! |---|---|
//! | connections | one task each, keep-alive; at most `max_connections` open, a new one past that is closed on accept |
//! | slow clients | headers must arrive within [`HEADER_TIMEOUT`] (also bounds an idle keep-alive connection) |
//! | accept errors | logged, retried after 100 ms (out of file descriptors and the like) |
//! | bind | [`bind`]: the error names the listener and the address |
//! | shutdown | when `shutdown` resolves: stop accepting, let open requests finish (up to [`SHUTDOWN_GRACE`]), then drop them |

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::error::{Error, Result};

/// A request's headers must arrive within this time (also bounds an idle keep-alive connection).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long open requests may take to finish on shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Listens on `listen`; returns the listener and the address it got (port 0 picks one). `what`
/// names the listener in the error (`console`, `ingest listener`, `Postgres`).
pub async fn bind(what: &str, listen: SocketAddr) -> Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| Error::Io {
            context: format!("{what}: cannot listen on {listen}"),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Io {
        context: format!("{what}: reading the listening address"),
        source,
    })?;
    Ok((listener, addr))
}

/// Serves `app` on `listener` until `shutdown` resolves (see the module docs); `name` labels
/// the log lines (`ingest listener`, `console`).
pub(crate) async fn serve_router(
    name: &'static str,
    listener: TcpListener,
    app: Router,
    max_connections: usize,
    shutdown: impl Future<Output = ()>,
) {
    let limit = Arc::new(Semaphore::new(max_connections));
    let (closing, closing_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!("{name}: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            tracing::warn!("{name}: {max_connections} connections open, closing a new one");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let mut closing = closing_rx.clone();
        connections.spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .keep_alive(true);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                served = conn.as_mut() => {
                    if let Err(e) = served {
                        tracing::debug!("{name} connection: {e}");
                    }
                }
                () = async { let _ = closing.wait_for(|c| *c).await; } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.as_mut().await;
                }
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("{name}: closing connections still open after {SHUTDOWN_GRACE:?}");
        connections.shutdown().await;
    }
}
