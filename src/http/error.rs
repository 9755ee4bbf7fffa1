//! The console API's error answers: `{"error": {"message", "sqlstate"}}` with the SQLSTATE and
//! message pgwire sends for the same failure, and an HTTP status from the SQLSTATE's class.
//!
//! | SQLSTATE | HTTP status |
//! |---|---|
//! | `28000`, `28P01` (not logged in, bad password) | 401 |
//! | `42501` (tenant not granted, statement refused) | 403 |
//! | `XX000`, `58…` (internal, I/O) | 500 |
//! | anything else: syntax, undefined table or function, bad parameter, `57014` canceled or timed out, `53200` memory limit | 400 |

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pgwire::error::PgWireError;

use crate::pg::error::code;

/// A failed API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The SQLSTATE, as pgwire would send it.
    pub sqlstate: String,
    /// The message, as pgwire would send it.
    pub message: String,
}

impl ApiError {
    /// An error with `sqlstate` and `message`.
    pub fn new(sqlstate: &str, message: impl Into<String>) -> Self {
        ApiError {
            sqlstate: sqlstate.to_string(),
            message: message.into(),
        }
    }

    /// 401: no session cookie or an expired one.
    pub fn not_logged_in() -> Self {
        ApiError::new(
            code::INVALID_AUTHORIZATION,
            "not logged in: POST /login with user and password first",
        )
    }

    /// The HTTP status of this error (see the module table).
    pub fn status(&self) -> StatusCode {
        match self.sqlstate.as_str() {
            s if s.starts_with("28") => StatusCode::UNAUTHORIZED,
            code::INSUFFICIENT_PRIVILEGE => StatusCode::FORBIDDEN,
            s if s.starts_with("XX") || s.starts_with("58") => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The JSON body: `{"error": {"message", "sqlstate"}}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "error": { "message": self.message, "sqlstate": self.sqlstate }
        })
    }
}

impl From<PgWireError> for ApiError {
    fn from(error: PgWireError) -> Self {
        match error {
            PgWireError::UserError(info) => ApiError::new(&info.code, info.message),
            other => ApiError::new(code::INTERNAL_ERROR, other.to_string()),
        }
    }
}

impl From<&datafusion::error::DataFusionError> for ApiError {
    fn from(error: &datafusion::error::DataFusionError) -> Self {
        crate::pg::error::from_datafusion(error).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status(), &self.body())
    }
}

/// A JSON answer with `status`.
pub fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!("encoding a JSON answer: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
