//! `GET /v1/scope[?tenant=T]`: what the dashboard filters offer the user, read with the user's
//! tenant grant (so a user sees only their tenants and channels).
//!
//! `{"tenants": [{"tenant_id", "name", "timezone"}], "channels": [{"channel_id", "tenant_id",
//! "name", "platform", "timezone"}], "data_until": "YYYY-MM-DD" | null}`: a channel's `name` is
//! its display phone number, else its page id, else its id; `platform` its `channel_type`;
//! `timezone` its own, else its tenant's. `data_until` is the newest `dt` in `messages` (of
//! tenant `T` when given, else of every tenant the user sees); `null` when there is none.

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use axum::Extension;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::ConsoleState;
use super::error::{ApiError, json_response};
use super::login::Viewer;
use crate::pg::session::Session;

const TENANTS: &str = "SELECT tenant_id, name, tz AS timezone FROM tenants ORDER BY tenant_id";
const CHANNELS: &str = "SELECT c.channel_id, c.tenant_id, \
     coalesce(c.display_phone, c.page_id, c.channel_id) AS name, c.channel_type AS platform, \
     coalesce(c.tz, t.tz) AS timezone \
     FROM channels c LEFT JOIN tenants t ON t.tenant_id = c.tenant_id \
     ORDER BY c.tenant_id, c.channel_id";
const DATA_UNTIL: &str = "SELECT CAST(max(dt) AS VARCHAR) AS data_until FROM messages";

/// `GET /v1/scope`.
pub(crate) async fn scope(
    State(state): State<Arc<ConsoleState>>,
    Extension(viewer): Extension<Viewer>,
    request: Request,
) -> Response {
    let tenant = request.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "tenant")
            .map(|(_, v)| v.to_string())
    });
    match describe(&state, &viewer, tenant.as_deref()).await {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(e) => e.into_response(),
    }
}

async fn describe(
    state: &ConsoleState,
    viewer: &Viewer,
    tenant: Option<&str>,
) -> Result<Value, ApiError> {
    let session = state.session(viewer)?;
    let tenants = rows(&session, TENANTS).await?;
    let channels = rows(&session, CHANNELS).await?;
    if let Some(tenant) = tenant {
        session.set(crate::pg::session::TENANT_SETTING, tenant)?;
    }
    let data_until = rows(&session, DATA_UNTIL)
        .await?
        .into_iter()
        .next()
        .and_then(|mut row| row.remove("data_until"))
        .unwrap_or(Value::Null);
    Ok(json!({ "tenants": tenants, "channels": channels, "data_until": data_until }))
}

/// The rows of `sql` as objects of strings (or nulls).
async fn rows(session: &Session, sql: &str) -> Result<Vec<Map<String, Value>>, ApiError> {
    let batches = session
        .context()
        .sql(sql)
        .await
        .map_err(|e| ApiError::from(&e))?
        .collect()
        .await
        .map_err(|e| ApiError::from(&e))?;
    let mut out = Vec::new();
    for batch in &batches {
        let schema = batch.schema();
        let columns = batch
            .columns()
            .iter()
            .map(|c| arrow::compute::cast(c, &DataType::Utf8))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ApiError::from(&datafusion::error::DataFusionError::from(e)))?;
        for row in 0..batch.num_rows() {
            let mut object = Map::new();
            for (field, column) in schema.fields().iter().zip(&columns) {
                let strings = column.as_string::<i32>();
                let value = if strings.is_null(row) {
                    Value::Null
                } else {
                    Value::String(strings.value(row).to_string())
                };
                object.insert(field.name().clone(), value);
            }
            out.push(object);
        }
    }
    Ok(out)
}
