//! The web console of `chatlake serve --http-listen ADDR` (and `chatlake demo`): dashboard
//! pages, the SQL playground and the JSON/Arrow query API, served by the same process and the
//! same [`Engine`] as pgwire.
//!
//! | Route | Answer | Module |
//! |---|---|---|
//! | `GET /`, `GET /d/{name}`, `GET /play`, `GET /assets/{path}` | the pages and their files | [`assets`] |
//! | `GET /login`, `POST /login`, `POST /logout` | the login form and session cookie (with `--auth-file`) | [`login`] |
//! | `POST /v1/query` | one statement's columns and rows, JSON or Arrow IPC, streamed | [`query`] |
//! | `POST /v1/query/{query_id}/cancel` | cancels a running query of the same user | [`query`] |
//! | `GET /v1/catalog` | tables, views, functions, reports | [`catalog`] |
//! | `GET /v1/dashboards`, `GET /v1/dashboards/{name}` | the dashboards of `sql/dashboards/` | [`dashboards`] |
//! | `GET /v1/scope` | tenants, channels and newest data day the user sees | [`scope`] |
//!
//! Errors are `{"error": {"message", "sqlstate"}}` ([`error`]). Every request runs as a
//! [`login::Viewer`]: anonymous (all tenants) without an auth file, which the command line
//! allows on loopback addresses only, else the logged-in user with their tenant grant.
//! Connections are served by [`listener`], shared with the ingest listener.

pub mod assets;
mod catalog;
pub mod dashboards;
pub mod error;
mod json;
pub(crate) mod listener;
pub mod login;
pub mod query;
mod scope;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::auth::AuthStore;
use crate::engine::Engine;
use crate::engine::tenant::TenantScope;
use crate::error::Result;
use crate::pg::SessionFactory;
use crate::pg::error::code;
use crate::pg::session::Session;
use dashboards::Dashboard;
use error::{ApiError, json_response};
use login::{Logins, Viewer};

/// Connections the console serves at once.
pub const MAX_CONNECTIONS: usize = 256;

/// What the console's handlers share.
pub(crate) struct ConsoleState {
    engine: Arc<Engine>,
    sessions: SessionFactory,
    users: Option<Arc<AuthStore>>,
    logins: Logins,
    running: query::Running,
    dashboards: Vec<Dashboard>,
}

impl ConsoleState {
    /// A fresh session for one request of `viewer`, set up as a pgwire connection of the same
    /// user would be.
    fn session(&self, viewer: &Viewer) -> std::result::Result<Session, ApiError> {
        let session = crate::pg::server::connection_session(&self.sessions);
        let name = match viewer {
            Viewer::Anonymous => "chatlake",
            Viewer::User(user) => {
                session.apply_user(user).map_err(|e| ApiError::from(&e))?;
                &user.name
            }
        };
        session.set_user(name);
        crate::pg::catalog::functions::register_user(session.context(), name);
        Ok(session)
    }

    /// The dashboards loaded at start-up.
    fn dashboards(&self) -> &[Dashboard] {
        &self.dashboards
    }
}

/// The console, bound and ready to run.
pub struct Console {
    listener: TcpListener,
    addr: SocketAddr,
    state: Arc<ConsoleState>,
}

impl Console {
    /// Binds `listen` and loads the dashboards ([`dashboards::shipped`]), checked against
    /// `engine` (a bad dashboard file fails here, naming it). With `users` (the auth file) the
    /// console asks for a login; without, every request sees every tenant (the caller allows
    /// that on loopback addresses only).
    pub async fn start(
        listen: SocketAddr,
        engine: Arc<Engine>,
        users: Option<Arc<AuthStore>>,
    ) -> Result<Console> {
        let scope = if users.is_some() {
            TenantScope::only(Vec::<String>::new())
        } else {
            TenantScope::All
        };
        let sessions = crate::pg::engine_sessions(engine.clone(), scope);
        let dashboards = dashboards::load(&dashboards::shipped()?, &engine).await?;
        let (listener, addr) = listener::bind("console", listen).await?;
        Ok(Console {
            listener,
            addr,
            state: Arc::new(ConsoleState {
                engine,
                sessions,
                users,
                logins: Logins::default(),
                running: query::Running::default(),
                dashboards,
            }),
        })
    }

    /// The address the console listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` resolves; open requests then get [`listener::SHUTDOWN_GRACE`].
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        listener::serve_router(
            "console",
            self.listener,
            router(self.state),
            MAX_CONNECTIONS,
            shutdown,
        )
        .await;
    }
}

fn router(state: Arc<ConsoleState>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/play", get(assets::play))
        .route("/d/{name}", get(assets::dashboard))
        .route("/assets/{*path}", get(assets::file))
        .route("/login", get(login::login_page).post(login::login))
        .route("/logout", post(login::logout))
        .route("/v1/query", post(query::query))
        .route("/v1/query/{query_id}/cancel", post(query::cancel))
        .route("/v1/catalog", get(catalog::catalog))
        .route("/v1/dashboards", get(list_dashboards))
        .route("/v1/dashboards/{name}", get(dashboard))
        .route("/v1/scope", get(scope::scope))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            login::gate,
        ))
        .with_state(state)
}

/// `GET /v1/dashboards`: `[{"name", "title", "description"}]`.
async fn list_dashboards(State(state): State<Arc<ConsoleState>>) -> Response {
    let list: Vec<serde_json::Value> = state
        .dashboards()
        .iter()
        .map(|d| serde_json::json!({ "name": d.name, "title": d.title, "description": d.description }))
        .collect();
    json_response(StatusCode::OK, &list)
}

/// `GET /v1/dashboards/{name}`: the parsed dashboard ([`Dashboard`]).
async fn dashboard(State(state): State<Arc<ConsoleState>>, Path(name): Path<String>) -> Response {
    match state.dashboards().iter().find(|d| d.name == name) {
        Some(dashboard) => json_response(StatusCode::OK, dashboard),
        None => json_response(
            StatusCode::NOT_FOUND,
            &ApiError::new(
                code::UNDEFINED_OBJECT,
                format!("no dashboard named \"{name}\""),
            )
            .body(),
        ),
    }
}

async fn not_found(uri: Uri) -> Response {
    let error = ApiError::new(
        code::UNDEFINED_OBJECT,
        format!("no such page or endpoint: {}", uri.path()),
    );
    if uri.path().starts_with("/v1/") {
        json_response(StatusCode::NOT_FOUND, &error.body())
    } else {
        (StatusCode::NOT_FOUND, error.message).into_response()
    }
}
