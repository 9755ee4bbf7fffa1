//! The Postgres wire-protocol front end: psql, drivers and BI tools talk to the engine through
//! it (built on the `pgwire` crate).
//!
//! Each connection gets its own DataFusion session (its own `SET`s) over the engine's shared
//! tables and functions; results stream from DataFusion to the socket batch by batch.
//!
//! Three layers, data flowing one way: [`wire`] (the protocol) → [`sql`] (meaning and planning
//! of statements) → the engine (DataFusion and `crate::engine`). [`catalog`] is what clients
//! introspect; `session` is the per-connection state every layer reads.
//!
//! Calls go one way too, with one exception left: `sql::run` and `sql::plan` build their
//! pgwire responses and result descriptions with wire's leaf modules (`encode`, `copy`,
//! `cancel`, `types`), which call nothing back; no module imports one that imports it.
//!
//! ```text
//! pg/
//!   mod.rs  server.rs (accept loop)  session.rs (settings, cursors)  error.rs (SQLSTATEs)
//!   wire/     handler, portal (the Execute loop), decode (Bind), types, encode, format, copy, cancel
//!   sql/      statement, rewrite, plan (+ params: parameter types), run, commands, coerce, origin, table_args
//!   catalog/  pg_catalog provider, pg_proc (+ routines), information_schema, functions/ (one file per group)
//! ```
//!
//! - [`server`]: the accept loop: connection limit, graceful shutdown ([`serve`]); also the
//!   session every connection starts with (`server::connection_session`), which the web
//!   console's query API (`crate::http`) builds for each request before planning and running
//!   its statement through [`sql`] as a connection would.
//! - `session`: per-connection settings (`SET`/`SHOW`, `TimeZone`, …) and cursors.
//! - [`error`]: the one SQLSTATE table ([`sqlstate`]) and the error values the front end sends.
//! - [`wire`], [`sql`], [`catalog`]: see each module's map.
//!
//! What works today, and what does not yet:
//!
//! | Area | Status |
//! |---|---|
//! | startup | trust authentication for any user on loopback; with an auth file SCRAM-SHA-256 (`-PLUS` over TLS), `28P01` for a wrong password or unknown user; TLS after `SSLRequest` or direct (ALPN `postgresql`) with a certificate |
//! | simple protocol | multi-statement strings; empty and comment-only queries → `EmptyQueryResponse` |
//! | extended protocol | typed and untyped parameters (types inferred by DataFusion; `LIMIT`/`OFFSET` → int8, `= ANY($1)` → an array, `$1::oid[]` → `oid[]`), one-dimensional array parameters (text and binary), placeholders in table-function arguments (`stella_users($1, $2)`: typed from the report, planned at execution), text and binary formats, `max_rows` / `PortalSuspended`; `RowDescription` names the table OID and column number of plain column references |
//! | types | bool, int2/4/8, float4/8, numeric, text, bytea, date, time, timestamp(tz), interval, one-dimensional arrays; anything else as text |
//! | session | `SET`/`RESET`/`SHOW`/`DISCARD ALL`, `current_setting()`/`set_config()`; `BEGIN`/`COMMIT`/`ROLLBACK`/savepoints accepted (no isolation) |
//! | catalog | `pg_catalog` (70 tables, `datafusion-pg-catalog`) and a Postgres-flavoured `information_schema`; psql `\d` family and `\df` (chatlake's functions and reports in `pg_proc`), pgcli completion, SQLAlchemy `inspect()` (keys and indexes: empty), pgJDBC `DatabaseMetaData` |
//! | `COPY (query) TO STDOUT` | text and CSV, `HEADER`, `DELIMITER`, `NULL`, `QUOTE`; streamed |
//! | cancel | `CancelRequest` and `statement_timeout` drop the running stream (`57014`) |
//! | cursors | `DECLARE`/`FETCH`/`MOVE`/`CLOSE`, forward-only, streamed |
//! | refused | DDL and DML (`42501`): the catalog is shared by all connections |
//! | tenants | each session reads only its tenants' rows (`crate::engine::tenant`): all of them under trust authentication, the user's grant after a password login; `SET`/`RESET`/`SHOW chatlake.tenant` narrow within the grant (`42501` outside it); a tenant-limited session may not `EXPLAIN ANALYZE` or set `datafusion.explain.*` (`42501`); [`engine_sessions`] builds a server's sessions with a fixed scope |
//! | not yet | `COPY … FROM STDIN`, binary COPY, backward cursors |

pub mod catalog;
pub mod error;
pub mod server;
pub(crate) mod session;
pub(crate) mod sql;
pub(crate) mod wire;

pub use catalog::functions::{register_backend_pid, register_pg_functions, version_string};
pub use error::{InvalidBoolean, QueryCanceled, StatementTimeout, code, sqlstate};
pub use wire::cancel::CancelRegistry;
/// Splits and classifies a client's query string the way the server does before planning
/// (the SQL entry point, for the fuzz target in `fuzz/`): the number of statements, or the
/// SQLSTATE of the error a client would get.
#[doc(hidden)]
pub fn parse_statements(sql: &str) -> std::result::Result<usize, &'static str> {
    sql::statement::parse(sql)
        .map(|commands| commands.len())
        .map_err(|e| sqlstate(&e))
}

pub use server::{
    ServerOptions, SessionFactory, engine_sessions, serve, serve_secure, serve_with,
    serve_with_options,
};
pub use wire::login::{CONNECTION_LOG, ConnectionLog};

/// Parses a `statement_timeout` value the way `SET statement_timeout` does: `None` when it is
/// not one, `Some(None)` for 0 (no timeout).
pub fn parse_statement_timeout(value: &str) -> Option<Option<std::time::Duration>> {
    wire::cancel::parse_timeout(value)
}
pub use session::{PG_VERSION, server_version};
