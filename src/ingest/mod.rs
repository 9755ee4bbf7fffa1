//! Ingest: real data into the lake, validated, durable before acknowledged, committed once.
//!
//! | module        | job                                                                          |
//! |---------------|------------------------------------------------------------------------------|
//! | [`rules`]     | per table: natural key, upsert or append, enum columns, derived columns       |
//! | [`value`]     | one input value (JSON, CSV text, Parquet cell) to a typed cell, or a reason   |
//! | [`decode`]    | NDJSON / CSV / Parquet rows to Arrow batches of a table, bad rows as rejects   |
//! | [`enrich`]    | derived columns that need the lake: `in_csw`, `template_category`             |
//! | [`dedup`]     | natural-key duplicates, inside a load and against what the lake holds        |
//! | [`commit`]    | [`commit::Ingester`]: enrich, dedup, write one Delta commit (txn id optional)  |
//! | [`refresh`]   | incremental re-derivation of derived tables for the contacts a commit touched |
//! | [`import`]    | `chatlake ingest`: files (and stdin), compression, reject file, progress      |
//! | [`parallel`]  | an import's decoding on every core: input cut into jobs, results in order      |
//! | [`maintenance`] | the live lake: compaction of crowded partitions and vacuum, on a schedule   |
//! | [`wal`]       | the write-ahead log: segments, CRC-framed records, group commit, replay        |
//! | [`flusher`]   | WAL -> Delta commits with transaction ids, then derivation, then WAL truncation |
//! | [`http`]      | the ingest listener: `POST /v1/ingest/{table}`, `GET /healthz`                 |
//! | [`tokens`]    | the listener's bearer tokens: the shared one, per-tenant ones of the auth file |
//! | [`whatsapp`]  | WhatsApp Cloud API webhooks: parser, routing, `--format whatsapp-webhook`, `/webhooks/whatsapp`; body storage, decoding, file import and receiver shared by every Meta platform |
//! | [`messenger`] | Messenger and Instagram webhooks: messages, echoes, postbacks, receipts, comments |
//! | [`webhook`]   | the three Meta platforms: object, parser, WAL table, format and endpoint of each |
//! | [`rederive`]  | `chatlake ingest --replay-unrouted` and `--reparse`: stored bodies through the current channels and parser |
//! | [`glific`]    | Glific's BigQuery export tables: `--format glific --tenant T DIR`             |
//!
//! Data flows one way: input -> [`decode`] -> ([`wal`] -> [`flusher`]) -> [`commit`] -> lake,
//! then [`refresh`] re-derives what the new rows change.

pub mod commit;
pub mod decode;
pub mod dedup;
pub mod enrich;
pub mod flusher;
pub mod glific;
pub mod http;
pub mod import;
pub mod maintenance;
pub mod messenger;
pub mod parallel;
pub mod rederive;
pub mod refresh;
pub mod rules;
pub mod tokens;
pub mod value;
pub mod wal;
pub mod webhook;
pub mod whatsapp;
