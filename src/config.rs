//! Process options shared by the subcommands, with their documented defaults.

use std::path::PathBuf;

use crate::lake::StoreOptions;

/// Default lake location when none is given.
pub const DEFAULT_LAKE: &str = "./data/lake";
/// Default address the Postgres server listens on.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5433";

/// What the engine needs to open a lake.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Lake root: a path, `file://`, `s3://bucket/prefix` or `memory://`.
    pub lake: String,
    /// S3 connection options (fall back to `AWS_*` variables).
    pub store: StoreOptions,
    /// DataFusion target partitions (default: number of cores).
    pub target_partitions: Option<usize>,
    /// Memory pool limit in bytes for query execution (default: unlimited).
    pub memory_limit: Option<usize>,
    /// Directory whose `views/` and `reports/` add to or override the embedded SQL files.
    pub sql_dir: Option<PathBuf>,
}

impl EngineConfig {
    /// A config for `lake` with every other option at its default.
    pub fn new(lake: impl Into<String>) -> Self {
        EngineConfig {
            lake: lake.into(),
            store: StoreOptions::default(),
            target_partitions: None,
            memory_limit: None,
            sql_dir: None,
        }
    }
}
