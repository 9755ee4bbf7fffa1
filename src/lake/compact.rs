//! Compaction: rewrites the small data files of each `dt` partition into few large ones.
//!
//! Every flush of the writer (an ingest micro-batch, a generator chunk) adds one file per
//! partition it touches, so a day that received rows in several flushes has several files,
//! most of them tiny. Each file costs an open and a footer read per scan; compaction is Delta's
//! `OPTIMIZE` (bin-packing, delta-rs): per partition, the files below the target size are read
//! and written again as files of up to the target size, with the writer's Parquet settings
//! (zstd, page statistics, row groups), in one commit per table that removes the old files and
//! adds the new ones with `dataChange = false`.
//!
//! | property | behaviour |
//! |---|---|
//! | rows | unchanged: every reader (Spark, DuckDB, delta-rs) sees the same rows before and after |
//! | concurrency | a commit conflicting with a concurrent append fails that table's compaction, not the append; run it again |
//! | old files | stay on storage, removed from the snapshot (time travel still reads them); with `vacuum`, the files removed by any commit are deleted at once (Delta `VACUUM` with zero retention: only for a lake nobody is reading, such as a fresh or benchmark lake) |
//! | partitions with one file | left alone |

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use super::schema::{self, TableDef};
use super::store::{Lake, delta_err};
use super::writer::writer_properties;
use crate::error::{Error, Result};

/// Default size of a compacted file.
pub const DEFAULT_TARGET_BYTES: u64 = 512 * 1024 * 1024;

/// [`DEFAULT_TARGET_BYTES`] as the non-zero size [`compact_table`] takes.
pub const DEFAULT_TARGET: NonZeroU64 = match NonZeroU64::new(DEFAULT_TARGET_BYTES) {
    Some(bytes) => bytes,
    None => NonZeroU64::MIN,
};

/// What compaction did to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCompaction {
    /// The table.
    pub table: &'static str,
    /// Data files in the snapshot before.
    pub files_before: u64,
    /// Data files in the snapshot after.
    pub files_after: u64,
    /// Partitions that were rewritten.
    pub partitions_rewritten: u64,
    /// Removed files deleted from storage (`vacuum` only).
    pub files_deleted: u64,
}

/// What compaction did to a lake.
#[derive(Debug, Clone, Default)]
pub struct CompactSummary {
    /// One entry per table, in the order compacted.
    pub tables: Vec<TableCompaction>,
    /// Wall time.
    pub elapsed: Duration,
}

impl CompactSummary {
    /// Data files before, over every table.
    pub fn files_before(&self) -> u64 {
        self.tables.iter().map(|t| t.files_before).sum()
    }

    /// Data files after, over every table.
    pub fn files_after(&self) -> u64 {
        self.tables.iter().map(|t| t.files_after).sum()
    }

    /// Partitions rewritten, over every table.
    pub fn partitions_rewritten(&self) -> u64 {
        self.tables.iter().map(|t| t.partitions_rewritten).sum()
    }

    /// Removed files deleted from storage, over every table.
    pub fn files_deleted(&self) -> u64 {
        self.tables.iter().map(|t| t.files_deleted).sum()
    }
}

/// The tables to compact: those named (every lake table when none is), each checked to be ours.
pub fn select_tables(names: &[String]) -> Result<Vec<&'static TableDef>> {
    if names.is_empty() {
        return Ok(schema::tables().iter().collect());
    }
    names
        .iter()
        .map(|name| {
            schema::table(name).ok_or_else(|| {
                Error::Config(format!(
                    "compact: '{name}' is not a lake table (tables: {})",
                    schema::tables()
                        .iter()
                        .map(|t| t.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
        })
        .collect()
}

/// Compacts one table of `lake`, then deletes every removed file when `vacuum`; a table that
/// does not exist yet is skipped (`None`).
pub async fn compact_table(
    lake: &Lake,
    def: &'static TableDef,
    target_bytes: NonZeroU64,
    vacuum: bool,
) -> Result<Option<TableCompaction>> {
    let Some(table) = lake.try_load_table(def.name).await? else {
        return Ok(None);
    };
    let files_before = table
        .snapshot()
        .map_err(|e| delta_err(def.name, e))?
        .log_data()
        .num_files() as u64;
    let (table, metrics) = table
        .optimize()
        .with_target_size(target_bytes)
        .with_writer_properties(writer_properties(def))
        .await
        .map_err(|e| delta_err(def.name, e))?;
    let files_deleted = if vacuum {
        let (_, deleted) = table
            .vacuum()
            .with_retention_period(chrono::Duration::zero())
            .with_enforce_retention_duration(false)
            .await
            .map_err(|e| delta_err(def.name, e))?;
        deleted.files_deleted.len() as u64
    } else {
        0
    };
    Ok(Some(TableCompaction {
        table: def.name,
        files_before,
        files_after: files_before + metrics.num_files_added - metrics.num_files_removed,
        partitions_rewritten: metrics.partitions_optimized,
        files_deleted,
    }))
}

/// Compacts (and with `vacuum`, vacuums) `tables` of `lake` one after the other, calling `done`
/// after each.
pub async fn compact(
    lake: &Lake,
    tables: &[&'static TableDef],
    target_bytes: NonZeroU64,
    vacuum: bool,
    mut done: impl FnMut(&TableCompaction),
) -> Result<CompactSummary> {
    let started = Instant::now();
    let mut summary = CompactSummary::default();
    for def in tables {
        if let Some(result) = compact_table(lake, def, target_bytes, vacuum).await? {
            done(&result);
            summary.tables.push(result);
        }
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}
