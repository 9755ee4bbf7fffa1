//! The console's pages and their files, from `src/http/assets/` (see its README).
//!
//! | Route | File |
//! |---|---|
//! | `GET /` | `index.html` |
//! | `GET /d/{name}` | `dashboard.html` (`404` for a dashboard that does not exist) |
//! | `GET /play` | `play.html` |
//! | `GET /assets/{path}` | `path`, with a `Content-Type` from its extension |
//!
//! The files are embedded by `build.rs` ([`EMBEDDED`]), so a release binary serves them without
//! the source tree. A debug build reads `src/http/assets/` of its checkout from disk first, so
//! the pages can be edited without rebuilding. Paths with `..`, a leading `/` or a backslash
//! are refused (`404`), as is the folder's `README.md`.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::ConsoleState;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_console.rs"));
}

/// The files of `src/http/assets/` compiled into the binary: (relative path, bytes).
pub const EMBEDDED: &[(&str, &[u8])] = embedded::ASSETS;

/// The dashboard files of `sql/dashboards/` compiled into the binary: (file name, text).
pub const EMBEDDED_DASHBOARDS: &[(&str, &str)] = embedded::DASHBOARDS;

/// The file at `path` (relative to `src/http/assets/`), if there is one.
pub fn asset(path: &str) -> Option<Cow<'static, [u8]>> {
    if path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path
            .split('/')
            .any(|part| part == ".." || part == "." || part.is_empty())
        || path == "README.md"
    {
        return None;
    }
    #[cfg(debug_assertions)]
    {
        let on_disk = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/http/assets")
            .join(path);
        if let Ok(bytes) = std::fs::read(on_disk) {
            return Some(Cow::Owned(bytes));
        }
    }
    EMBEDDED
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, bytes)| Cow::Borrowed(*bytes))
}

/// The `Content-Type` of a file named `path`.
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
    match extension.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ if path.ends_with("LICENSE") || path.ends_with("NOTICE") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The answer serving file `path`, or `404`.
fn serve(path: &str) -> Response {
    match asset(path) {
        Some(bytes) => {
            let mut response = bytes.into_owned().into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(path)),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("no such file: {path}\n"),
        )
            .into_response(),
    }
}

/// `GET /`.
pub(crate) async fn index() -> Response {
    serve("index.html")
}

/// `GET /play`.
pub(crate) async fn play() -> Response {
    serve("play.html")
}

/// `GET /d/{name}`.
pub(crate) async fn dashboard(
    State(state): State<Arc<ConsoleState>>,
    Path(name): Path<String>,
) -> Response {
    if state.dashboards().iter().any(|d| d.name == name) {
        serve("dashboard.html")
    } else {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("no dashboard named \"{name}\"\n"),
        )
            .into_response()
    }
}

/// `GET /assets/{*path}`.
pub(crate) async fn file(Path(path): Path<String>) -> Response {
    serve(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_folder_are_refused() {
        for path in [
            "../Cargo.toml",
            "/etc/passwd",
            "a/../../x",
            "a\\b",
            "",
            "README.md",
            "a//b",
        ] {
            assert!(asset(path).is_none(), "{path}");
        }
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(
            content_type("vendor/echarts.min.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("console.CSS"), "text/css; charset=utf-8");
        assert_eq!(
            content_type("vendor/ECHARTS-LICENSE"),
            "text/plain; charset=utf-8"
        );
    }
}
