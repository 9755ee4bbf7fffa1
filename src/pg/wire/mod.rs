//! The wire layer: the Postgres protocol as pgwire hands it to us, and the conversions between
//! protocol bytes and Arrow values. Requests go down into [`super::sql`]; nothing in `sql`
//! calls [`handler`] or [`portal`].
//!
//! | File | Job |
//! |---|---|
//! | [`handler`] | pgwire's handlers of one connection: startup, simple and extended protocol |
//! | [`login`] | SCRAM-SHA-256 password authentication, TLS required or not, the connection log |
//! | [`portal`] | the `Execute` loop: rows streamed to the socket, `max_rows` / `PortalSuspended` |
//! | [`decode`] | `Bind` values → Arrow scalars (text and binary) |
//! | [`types`] | Arrow ⇄ Postgres types, and what `information_schema` says of each type |
//! | [`encode`] | record batches → `DataRow`s (text and binary), result column descriptions |
//! | [`format`] | value renderings PostgreSQL's way (dates, intervals, floats, arrays …) |
//! | [`copy`] | `COPY … TO STDOUT`: the statement and its options |
//! | [`copy_rows`] | record batches → COPY data (text, CSV, binary), straight from Arrow |
//! | [`render`] | one column of a batch → its values' bytes, back to back (shared by `encode` and `copy_rows`) |
//! | [`cancel`] | `CancelRequest`s and `statement_timeout` stop the running statement (`57014`) |
//!
//! `decode`, `types`, `encode`, `render`, `format`, `copy`, `copy_rows` and `cancel` are leaves: they depend on no
//! other part of `pg` but [`super::error`] (and `decode` on the parameter types of
//! `sql::plan::params`). `sql::run` uses `encode`, `copy`, `copy_rows` and `cancel` to build the responses
//! it returns.

pub(crate) mod cancel;
pub(crate) mod copy;
pub(crate) mod copy_rows;
pub(crate) mod decode;
pub(crate) mod encode;
pub(crate) mod format;
pub(crate) mod handler;
pub(crate) mod login;
pub(crate) mod portal;
pub(crate) mod render;
pub(crate) mod types;
