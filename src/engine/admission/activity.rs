//! `chatlake_activity()`: the statements running and waiting for a slot, one row each, like
//! PostgreSQL's `pg_stat_activity` for the queries of the lake.
//!
//! | Column | Type | Meaning |
//! |---|---|---|
//! | `pid` | int | the connection's backend process id (`pg_backend_pid()`); NULL for the console's query API |
//! | `session_id` | text | the session (one per connection, one per query API request) |
//! | `usename` | text | the user |
//! | `tenant` | text | the session's tenant scope (`*`: all tenants), as `SHOW chatlake.tenant` |
//! | `state` | text | `running` or `queued` |
//! | `query` | text | the statement |
//! | `queued_at` | timestamptz | when it asked for a slot |
//! | `started_at` | timestamptz | when it got one (NULL while queued) |
//! | `wait_ms` | double | how long it waited for a slot (so far, while queued) |
//! | `ahead` | bigint | statements the fair queue serves before it (NULL when running) |
//!
//! A session that sees every tenant sees every row; any other sees only its own user's rows
//! (decided by the scope of the session calling it, so after `SET chatlake.tenant` too).
//! Statements that need no slot (catalog queries, this function) are not listed.

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use arrow::array::{
    ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableFunctionImpl, TableProvider};
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::prelude::SessionContext;

use super::{Activity, Admission};
use crate::engine::computed::{ComputedRows, ComputedTable};
use crate::engine::tenant;

/// The function's name.
pub const NAME: &str = "chatlake_activity";

/// `chatlake_activity()` of one session, whose user it knows.
#[derive(Debug)]
pub struct ActivityFunction {
    user: String,
}

/// Registers `chatlake_activity()` on `ctx` for a session logged in as `user`.
pub fn register(ctx: &SessionContext, user: &str) {
    ctx.register_udtf(
        NAME,
        Arc::new(ActivityFunction {
            user: user.to_string(),
        }),
    );
}

impl TableFunctionImpl for ActivityFunction {
    fn call(&self, args: &[Expr]) -> Result<Arc<dyn TableProvider>> {
        if !args.is_empty() {
            return datafusion::common::plan_err!("{NAME}() takes no arguments");
        }
        Ok(Arc::new(ComputedTable(ActivityTable {
            user: self.user.clone(),
        })))
    }
}

/// The rows of `chatlake_activity()`, read when the scan is planned.
#[derive(Debug)]
struct ActivityTable {
    user: String,
}

fn schema() -> SchemaRef {
    let timestamp = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("pid", DataType::Int32, true),
        Field::new("session_id", DataType::Utf8, false),
        Field::new("usename", DataType::Utf8, false),
        Field::new("tenant", DataType::Utf8, false),
        Field::new("state", DataType::Utf8, false),
        Field::new("query", DataType::Utf8, false),
        Field::new("queued_at", timestamp.clone(), false),
        Field::new("started_at", timestamp, true),
        Field::new("wait_ms", DataType::Float64, false),
        Field::new("ahead", DataType::Int64, true),
    ]))
}

fn micros(at: std::time::SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn batch(rows: &[Activity]) -> Result<RecordBatch> {
    let text = |f: &dyn Fn(&Activity) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from_iter(rows.iter().map(|a| a.statement.pid))),
        text(&|a| &a.statement.session),
        text(&|a| &a.statement.owner.user),
        text(&|a| &a.statement.owner.tenant),
        text(&|a| a.state.as_str()),
        text(&|a| &a.statement.query),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(rows.iter().map(|a| micros(a.queued_at)))
                .with_timezone("UTC"),
        ),
        Arc::new(
            TimestampMicrosecondArray::from_iter(rows.iter().map(|a| a.started_at.map(micros)))
                .with_timezone("UTC"),
        ),
        Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|a| a.waited.as_secs_f64() * 1000.0),
        )),
        Arc::new(Int64Array::from_iter(
            rows.iter()
                .map(|a| a.ahead.map(|n| i64::try_from(n).unwrap_or(i64::MAX))),
        )),
    ];
    Ok(RecordBatch::try_new(schema(), columns)?)
}

#[async_trait]
impl ComputedRows for ActivityTable {
    fn schema(&self) -> SchemaRef {
        schema()
    }

    async fn batches(&self, state: &dyn Session) -> Result<Vec<RecordBatch>> {
        // A session built without a scope (by Rust code, not the servers) sees all tenants,
        // as `pg::session::Session` takes it.
        let sees_all = tenant::scope_of(state).is_none_or(|scope| scope.is_all());
        let rows: Vec<Activity> = state
            .config()
            .get_extension::<Admission>()
            .map(|admission| admission.activity())
            .unwrap_or_default()
            .into_iter()
            .filter(|a| sees_all || a.statement.owner.user == self.user)
            .collect();
        Ok(vec![batch(&rows)?])
    }
}
