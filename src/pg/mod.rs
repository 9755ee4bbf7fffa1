//! The Postgres wire-protocol front end: psql, drivers and BI tools talk to the engine through
//! it (built on the `pgwire` crate).
//!
//! Each connection gets its own DataFusion session (its own `SET`s) over the engine's shared
//! tables and functions; results stream from DataFusion to the socket batch by batch.
//!
//! - [`server`]: the accept loop: connection limit, graceful shutdown ([`serve`]).
//! - `handler`: the pgwire handlers of one connection: startup, simple and extended protocol.
//! - `execute`: planning and running statements; session and transaction commands.
//! - `statement`: SQL text → commands (what is answered here, what DataFusion runs).
//! - `session`: per-connection settings (`SET`/`SHOW`, `TimeZone`, …).
//! - `params`: parameter types and decoding of bound values.
//! - `origin`: the table OID and column number of plain column references (`RowDescription`).
//! - `table_args`: placeholders in table-function arguments (`stella_users($1, $2)`), planned at execution.
//! - `types`, `encode`, `format`: Arrow → Postgres types, `DataRow` encoding, value renderings.
//! - [`error`]: DataFusion errors → SQLSTATE ([`sqlstate`]).
//! - `coerce`: quoted literals compared with booleans read as booleans (`indisprimary = 'f'`).
//! - `cancel`: `CancelRequest`s and `statement_timeout` stop the running statement (`57014`).
//! - `copy`: `COPY (query) TO STDOUT` in text and CSV.
//! - [`catalog`]: `pg_catalog` and the Postgres-flavoured `information_schema`.
//! - [`routines`]: chatlake's SQL functions and reports in `pg_proc` (`\df`).
//! - `rewrite`: SQL rewrites for client catalog queries (`::regclass`, `information_schema`, …).
//! - `functions`: `version()`, `current_database()`, `current_schema()`, `pg_backend_pid()`.
//!
//! What works today, and what does not yet:
//!
//! | Area | Status |
//! |---|---|
//! | startup | trust authentication for any user and database; `SSLRequest` answered `N` |
//! | simple protocol | multi-statement strings; empty and comment-only queries → `EmptyQueryResponse` |
//! | extended protocol | typed and untyped parameters (types inferred by DataFusion; `LIMIT`/`OFFSET` → int8, `= ANY($1)` → an array, `$1::oid[]` → `oid[]`), one-dimensional array parameters (text and binary), placeholders in table-function arguments (`stella_users($1, $2)`: typed from the report, planned at execution), text and binary formats, `max_rows` / `PortalSuspended`; `RowDescription` names the table OID and column number of plain column references |
//! | types | bool, int2/4/8, float4/8, numeric, text, bytea, date, time, timestamp(tz), interval, one-dimensional arrays; anything else as text |
//! | session | `SET`/`RESET`/`SHOW`/`DISCARD ALL`, `current_setting()`/`set_config()`; `BEGIN`/`COMMIT`/`ROLLBACK`/savepoints accepted (no isolation) |
//! | catalog | `pg_catalog` (70 tables, `datafusion-pg-catalog`) and a Postgres-flavoured `information_schema`; psql `\d` family and `\df` (chatlake's functions and reports in `pg_proc`), pgcli completion, SQLAlchemy `inspect()` (keys and indexes: empty), pgJDBC `DatabaseMetaData` |
//! | `COPY (query) TO STDOUT` | text and CSV, `HEADER`, `DELIMITER`, `NULL`, `QUOTE`; streamed |
//! | cancel | `CancelRequest` and `statement_timeout` drop the running stream (`57014`) |
//! | cursors | `DECLARE`/`FETCH`/`MOVE`/`CLOSE`, forward-only, streamed |
//! | refused | DDL and DML (`42501`): the catalog is shared by all connections |
//! | not yet | TLS, passwords, `COPY … FROM STDIN`, binary COPY, backward cursors |

mod cancel;
pub mod catalog;
mod coerce;
mod copy;
mod encode;
pub mod error;
mod execute;
mod format;
mod functions;
mod handler;
mod origin;
mod params;
mod rewrite;
pub mod routines;
pub mod server;
mod session;
mod statement;
mod table_args;
mod types;

pub use cancel::CancelRegistry;
pub use error::{InvalidBoolean, QueryCanceled, StatementTimeout, code, sqlstate};
pub use functions::{register_backend_pid, register_pg_functions, version_string};
/// Splits and classifies a client's query string the way the server does before planning
/// (the SQL entry point, for the fuzz target in `fuzz/`): the number of statements, or the
/// SQLSTATE of the error a client would get.
#[doc(hidden)]
pub fn parse_statements(sql: &str) -> std::result::Result<usize, &'static str> {
    statement::parse(sql)
        .map(|commands| commands.len())
        .map_err(|e| sqlstate(&e))
}

pub use server::{ServerOptions, SessionFactory, serve, serve_with, serve_with_options};
pub use session::{PG_VERSION, server_version};
