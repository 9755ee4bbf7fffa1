//! Who is asking: the console's login page, session cookies, and the gate in front of every
//! other route.
//!
//! | Server started | Requests |
//! |---|---|
//! | without an auth file (loopback only) | every request is the anonymous viewer, who sees every tenant (as pgwire's trust authentication) |
//! | with `--auth-file` | `GET /login` shows a form; `POST /login` (form fields `user`, `password`, optional `next`) checks the password against the user's SCRAM-SHA-256 verifier in the same [`AuthStore`] pgwire uses, then sets the cookie [`COOKIE`] and redirects to `next` (a local path) or `/`; a wrong password or an unknown user gets the form again with `401` (same answer for both); `POST /logout` forgets the cookie |
//! | with `--auth-file`, no valid cookie | `/v1/*` answers `401 {"error": {"sqlstate": "28000"}}`; pages redirect (`303`) to `/login?next=…`; the page files under `/assets/` (scripts, styles, ECharts: no data) are served, so the login page has its stylesheet |
//!
//! The cookie holds a random 32-byte token (hex), `HttpOnly`, `SameSite=Strict`, `Path=/`,
//! expiring after [`SESSION_LIFETIME`]; the server keeps token → user in memory (a restart logs
//! everyone out). The user's tenant grant, `memory_limit` and `statement_timeout` apply to every
//! query the session runs, read from the auth file in force at each request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::ConsoleState;
use super::assets::{Page, escape};
use super::error::ApiError;
use crate::auth::{AuthStore, User};

/// The session cookie's name.
pub const COOKIE: &str = "chatlake_session";
/// How long a login lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The user a request runs as.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// No auth file: every tenant, as pgwire's trust authentication.
    Anonymous,
    /// Logged in as this user of the auth file.
    User(Arc<User>),
}

impl Viewer {
    /// The name queries are registered under (empty for the anonymous viewer).
    pub fn name(&self) -> &str {
        match self {
            Viewer::Anonymous => "",
            Viewer::User(user) => &user.name,
        }
    }
}

/// Logged-in sessions: cookie token → user name and expiry.
#[derive(Debug, Default)]
pub(crate) struct Logins {
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

impl Logins {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Instant)>> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new session of `user`: its cookie token.
    fn open(&self, user: &str) -> String {
        let bytes: [u8; 32] = rand::random();
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut tokens = self.lock();
        let now = Instant::now();
        tokens.retain(|_, (_, expires)| *expires > now);
        tokens.insert(token.clone(), (user.to_string(), now + SESSION_LIFETIME));
        token
    }

    /// The user of a live session `token`.
    fn user(&self, token: &str) -> Option<String> {
        let tokens = self.lock();
        let (user, expires) = tokens.get(token)?;
        (*expires > Instant::now()).then(|| user.clone())
    }

    fn close(&self, token: &str) {
        self.lock().remove(token);
    }
}

/// The value of cookie [`COOKIE`] in `headers`.
fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then(|| value.to_string())
        })
}

/// The gate: resolves the request's [`Viewer`] (stored in the request's extensions) or
/// refuses it (see the module table). `/login` and `/logout` pass through.
pub(crate) async fn gate(
    State(state): State<Arc<ConsoleState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(store) = &state.users else {
        request.extensions_mut().insert(Viewer::Anonymous);
        return next.run(request).await;
    };
    let path = request.uri().path();
    // The page files hold no data (the login page needs its stylesheet before a login).
    if path == "/login" || path == "/logout" || path.starts_with("/assets/") {
        return next.run(request).await;
    }
    let user = session_token(request.headers())
        .and_then(|token| state.logins.user(&token))
        .and_then(|name| store.current().user(&name).cloned());
    match user {
        Some(user) => {
            request
                .extensions_mut()
                .insert(Viewer::User(Arc::new(user)));
            next.run(request).await
        }
        None if path.starts_with("/v1/") => ApiError::not_logged_in().into_response(),
        None => {
            let target = request
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string();
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("next", &target)
                .finish();
            Redirect::to(&format!("/login?{query}")).into_response()
        }
    }
}

/// `GET /login`.
pub(crate) async fn login_page(request: Request) -> Response {
    let next = request
        .uri()
        .query()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "next")
                .map(|(_, v)| v.to_string())
        })
        .unwrap_or_else(|| "/".into());
    Html(form(&next, None)).into_response()
}

/// `POST /login` (form fields `user`, `password`, `next`).
pub(crate) async fn login(State(state): State<Arc<ConsoleState>>, body: Bytes) -> Response {
    let fields: HashMap<String, String> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let (user, password, next) = (field("user"), field("password"), local_path(&field("next")));
    let Some(store) = &state.users else {
        return Redirect::to(&next).into_response();
    };
    if !password_matches(store, &user, &password) {
        tracing::info!(target: crate::pg::CONNECTION_LOG, user = %user, outcome = "bad password", "console login");
        let page = form(
            &next,
            Some(&format!(
                "password authentication failed for user \"{user}\""
            )),
        );
        return (StatusCode::UNAUTHORIZED, Html(page)).into_response();
    }
    tracing::info!(target: crate::pg::CONNECTION_LOG, user = %user, outcome = "ok", "console login");
    let token = state.logins.open(&user);
    let cookie = format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_LIFETIME.as_secs()
    );
    let mut response = Redirect::to(&next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST /logout`: forgets the session and clears the cookie.
pub(crate) async fn logout(State(state): State<Arc<ConsoleState>>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        state.logins.close(&token);
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("chatlake_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    response
}

/// Whether `password` is `user`'s. An unknown name is checked against a mock verifier, so
/// that both failures take the same time.
fn password_matches(store: &AuthStore, user: &str, password: &str) -> bool {
    let lookup = store.verifier(user);
    lookup.verifier.matches(password) && lookup.user.is_some()
}

/// `next` when it is a path of this server, else `/` (no redirect elsewhere).
fn local_path(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/".into()
    }
}

/// The login page: the form, with an error line.
fn form(next: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        r#"<main class="login"><form method="post" action="/login">
<h1>chatlake</h1>{error}
<label>User <input name="user" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<input type="hidden" name="next" value="{}">
<button type="submit">Log in</button>
</form></main>"#,
        escape(next)
    );
    Page {
        title: "Log in",
        script: None,
        charts: false,
        body: body.into(),
    }
    .html()
}
