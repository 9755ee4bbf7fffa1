//! An in-process pgwire server on `127.0.0.1:0` and `tokio-postgres` clients of it, as the
//! wire-level tests start them.

use std::net::SocketAddr;
use std::time::Duration;

use chatlake::pg::{ServerOptions, SessionFactory, serve_with_options};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_postgres::NoTls;

/// A running server; it stops when dropped.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

/// Serves sessions of `sessions` with `options` on a free loopback port.
pub async fn start(sessions: SessionFactory, options: ServerOptions) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve_with_options(
        listener,
        sessions,
        options,
        async move {
            let _ = stopped.await;
        },
    ));
    Server { addr, _stop: stop }
}

/// A client of `server` logged in as `user` with `password`, database `chatlake`.
pub async fn connect(
    server: &Server,
    user: &str,
    password: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let mut config = tokio_postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(server.addr.port())
        .user(user)
        .password(password)
        .dbname("chatlake")
        .connect_timeout(Duration::from_secs(10));
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}
