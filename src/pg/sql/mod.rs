//! The SQL layer: what a client's statement means and how it runs on the connection's
//! DataFusion session. Called by [`super::wire`]; calls the engine (DataFusion, the reports of
//! `crate::engine`) and reads [`super::catalog`] and [`super::session`].
//!
//! | File | Job |
//! |---|---|
//! | [`admit`] | query slots: which statements wait for one, and how long they hold it |
//! | [`statement`] | SQL text → [`statement::Command`]s: what is answered here, what DataFusion runs |
//! | [`rewrite`] | SQL rewrites for client catalog queries (`::regclass`, `information_schema`, …) |
//! | [`column_names`] | result column names as PostgreSQL figures them (`count`, `?column?`, `int4`) |
//! | [`plan`] | planning with DataFusion: parameter types ([`plan::params`]), result columns, deferred table-function arguments |
//! | [`run`] | running a prepared statement: rows streamed, `COPY`, `DECLARE` |
//! | [`commands`] | session and transaction statements: `SET`/`SHOW`/`RESET`, `BEGIN`/`COMMIT`, `FETCH`/`CLOSE` |
//! | [`coerce`] | quoted literals compared with booleans read as booleans (`indisprimary = 'f'`) |
//! | [`origin`] | the table OID and column number of plain column references (`RowDescription`) |
//! | [`table_args`] | placeholders in table-function arguments (`stella_users($1, $2)`), planned at execution |
//! | [`timestamp_text`] | timestamps cast to text as PostgreSQL prints them (`2026-10-02 01:45:30+05:30`, session zone) |

pub(crate) mod admit;
pub(crate) mod coerce;
pub(crate) mod column_names;
pub(crate) mod commands;
pub(crate) mod origin;
pub(crate) mod plan;
pub(crate) mod rewrite;
pub(crate) mod run;
pub(crate) mod statement;
pub(crate) mod table_args;
pub(crate) mod timestamp_text;
