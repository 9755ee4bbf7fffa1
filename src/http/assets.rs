//! The console's pages and their files, from `src/http/assets/` (see its README).
//!
//! Every page is the one skeleton `page.html` with its title, scripts and body filled in
//! ([`Page`]): the pages' content is built by their scripts.
//!
//! | Route | Page |
//! |---|---|
//! | `GET /` | "Dashboards", `index.js` |
//! | `GET /d/{name}` | "Dashboard", ECharts and `dashboard.js` (`404` for a dashboard that does not exist) |
//! | `GET /play` | "SQL playground", ECharts and `play.js` |
//! | `GET /login` | "Log in", the form ([`super::login`]), no script |
//! | `GET /assets/{path}` | the file `path`, with a `Content-Type` from its extension |
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

/// A console page: `page.html` with its title, scripts and body.
#[derive(Debug, Clone)]
pub(crate) struct Page<'a> {
    /// The title, before ` · chatlake` (plain text: it is escaped).
    pub title: &'a str,
    /// The page's module script under `/assets/`, if it has one.
    pub script: Option<&'a str>,
    /// Whether the page draws charts (the vendored ECharts is loaded before its script).
    pub charts: bool,
    /// The body, as HTML (its text already escaped with [`escape`]).
    pub body: Cow<'a, str>,
}

/// The body of the pages their script builds: the element it fills.
const APP_BODY: &str =
    "<div id=\"app\"></div>\n<noscript>The chatlake console needs JavaScript.</noscript>";

impl<'a> Page<'a> {
    /// A page whose content `script` builds in `<div id="app">`.
    pub(crate) fn app(title: &'a str, script: &'a str, charts: bool) -> Page<'a> {
        Page {
            title,
            script: Some(script),
            charts,
            body: Cow::Borrowed(APP_BODY),
        }
    }

    /// The page's HTML: `page.html` filled in (the body last, so nothing in it is read as a
    /// placeholder).
    pub(crate) fn html(&self) -> String {
        let skeleton = asset("page.html").unwrap_or_default();
        let skeleton = String::from_utf8_lossy(&skeleton);
        let mut scripts = String::new();
        if self.charts {
            scripts.push_str("  <script src=\"/assets/vendor/echarts.min.js\"></script>\n");
        }
        if let Some(script) = self.script {
            scripts.push_str(&format!(
                "  <script type=\"module\" src=\"/assets/{}\"></script>\n",
                escape(script)
            ));
        }
        skeleton
            .replace("{{title}}", &escape(self.title))
            .replace("{{scripts}}\n", &scripts)
            .replace("{{body}}", &self.body)
    }

    /// The page as an answer.
    pub(crate) fn response(&self) -> Response {
        let mut response = self.html().into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type("page.html")),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }
}

/// `text` safe inside HTML text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `GET /`.
pub(crate) async fn index() -> Response {
    Page::app("Dashboards", "index.js", false).response()
}

/// `GET /play`.
pub(crate) async fn play() -> Response {
    Page::app("SQL playground", "play.js", true).response()
}

/// `GET /d/{name}`.
pub(crate) async fn dashboard(
    State(state): State<Arc<ConsoleState>>,
    Path(name): Path<String>,
) -> Response {
    if state.dashboards().iter().any(|d| d.name == name) {
        Page::app("Dashboard", "dashboard.js", true).response()
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
    fn pages_fill_the_one_skeleton() {
        let html = Page::app("SQL playground", "play.js", true).html();
        assert!(html.starts_with("<!doctype html>"), "{html}");
        assert!(
            html.contains("<title>SQL playground · chatlake</title>"),
            "{html}"
        );
        let echarts = html.find("/assets/vendor/echarts.min.js").expect("echarts");
        let script = html
            .find("src=\"/assets/play.js\"")
            .expect("the page script");
        assert!(echarts < script, "ECharts loads before the page's script");
        assert!(html.contains("<div id=\"app\"></div>"), "{html}");
        assert!(!html.contains("{{"), "every placeholder is filled: {html}");
        let index = Page::app("Dashboards", "index.js", false).html();
        assert!(!index.contains("echarts"), "{index}");
    }

    #[test]
    fn a_body_is_not_read_for_placeholders() {
        let page = Page {
            title: "<Log in>",
            script: None,
            charts: false,
            body: Cow::Borrowed("<p>{{title}}</p>"),
        };
        let html = page.html();
        assert!(
            html.contains("<title>&lt;Log in&gt; · chatlake</title>"),
            "{html}"
        );
        assert!(html.contains("<p>{{title}}</p>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
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
