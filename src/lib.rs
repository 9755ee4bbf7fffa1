//! chatlake: an analytics engine for conversational messaging.
//!
//! Data flows one way: the generator (and later ingest) writes the lake, the engine reads
//! it, the Postgres front end only talks to the engine.
//!
//! - [`lake`]: Delta Lake tables on an object store: schemas, writes, the table provider.
//! - [`engine`]: `Engine`/`build_session`: DataFusion sessions over the lake, functions, SQL files.
//! - [`pg`]: the Postgres wire-protocol server.
//! - [`http`]: the web console: dashboard pages, SQL playground, JSON/Arrow query API.
//! - [`auth`]: users (auth file, SCRAM verifiers, tenant grants) and TLS for the server.
//! - [`export`]: the lake's tables (or a query) as Parquet, NDJSON or CSV files for a
//!   customer's warehouse, incrementally, to a directory or S3.
//! - [`generate`]: seeded synthetic data for demos, tests and benchmarks.
//! - [`progress`]: progress bars of long command-line work.
//! - [`cli`], [`app`], [`config`]: the command line and what each subcommand does.
//! - [`error`]: the error type and its reporting.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod export;
pub mod generate;
pub mod http;
pub mod ingest;
pub mod lake;
pub mod pg;
pub mod progress;
