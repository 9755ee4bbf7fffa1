//! `GET /v1/catalog`: what the playground lists beside its editor.
//!
//! `{"tables": [{"name", "kind": "table"|"view", "columns": [{"name", "type"}]}],
//! "functions": [{"name", "description"}], "reports": [{"name", "description",
//! "params": ["from_date date", ...], "columns": [{"name", "type"}]}]}`: the tables and views
//! of the schema `public` (lake tables, derived tables, the views of `sql/views`), chatlake's
//! SQL functions as `pg_proc` lists them (`\df`), and the reports. Types are the Postgres type
//! names pgwire reports for those columns.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use datafusion::datasource::TableType;
use serde_json::{Value, json};

use super::ConsoleState;
use super::error::{ApiError, json_response};
use super::login::Viewer;
use crate::engine::{CATALOG, SCHEMA};
use crate::pg::catalog::routines::{Returns, routines, type_name};
use crate::pg::error::code;
use crate::pg::wire::types::column_type;

/// `GET /v1/catalog`.
pub(crate) async fn catalog(
    State(state): State<Arc<ConsoleState>>,
    Extension(viewer): Extension<Viewer>,
) -> Response {
    match describe(&state, &viewer).await {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(e) => e.into_response(),
    }
}

async fn describe(state: &ConsoleState, viewer: &Viewer) -> Result<Value, ApiError> {
    let session = state.session(viewer)?;
    let ctx = session.context();
    let schema = ctx
        .catalog(CATALOG)
        .and_then(|catalog| catalog.schema(SCHEMA))
        .ok_or_else(|| ApiError::new(code::INTERNAL_ERROR, "the engine has no public schema"))?;
    let mut names = schema.table_names();
    names.sort();
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let Ok(Some(table)) = schema.table(&name).await else {
            continue;
        };
        let kind = match table.table_type() {
            TableType::View => "view",
            _ => "table",
        };
        tables.push(json!({
            "name": name,
            "kind": kind,
            "columns": columns(&table.schema()),
        }));
    }
    let all = routines(&ctx.state());
    let functions: Vec<Value> = all
        .iter()
        .filter(|r| matches!(r.returns, Returns::Value(_)))
        .map(
            |r| json!({ "name": r.name, "description": r.description.clone().unwrap_or_default() }),
        )
        .collect();
    let reports: Vec<Value> = state
        .engine
        .reports()
        .iter()
        .map(|report| {
            json!({
                "name": report.name,
                "description": report.description,
                "params": report
                    .params
                    .iter()
                    .map(|p| format!("{} {}", p.name, p.ty.pg_name()))
                    .collect::<Vec<_>>(),
                "columns": columns(&report.schema),
            })
        })
        .collect();
    Ok(json!({ "tables": tables, "functions": functions, "reports": reports }))
}

/// `[{"name", "type"}]` of `schema`, with pgwire's type names.
fn columns(schema: &SchemaRef) -> Vec<Value> {
    schema
        .fields()
        .iter()
        .map(|f| json!({ "name": f.name(), "type": type_name(&column_type(f.data_type()).pg) }))
        .collect()
}
