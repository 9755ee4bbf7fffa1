//! The lake: Delta Lake tables on an object store.
//!
//! - [`store`]: an object store from a lake URL (path, `file://`, `s3://`, `memory://`).
//! - [`schema`]: the schema of every table, defined once.
//! - [`writer`]: sorted, zstd, partitioned appends as atomic Delta commits.
//! - [`provider`]: a DataFusion table that always reads the newest Delta snapshot.
//! - [`staged`]: a large append written file by file and committed once (or not at all).
//! - [`rewrite`]: a whole table replaced by queries' answers, streamed, in one commit.
//! - [`compact`]: rewriting each partition's small files into few large ones (Delta `OPTIMIZE`).

pub mod compact;
pub mod provider;
pub mod rewrite;
pub mod schema;
pub mod staged;
pub mod store;
pub mod writer;

pub use store::{Lake, StoreOptions};
pub use writer::LakeWriter;
