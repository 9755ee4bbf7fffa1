//! Keeping a live lake fast: the server compacts partitions that collected small files and
//! vacuums what compaction removed, on its own schedule (`serve --compact-every`).
//!
//! | step | what | readers |
//! |------|------|---------|
//! | find | per fact table, the `dt` partitions holding at least [`Maintenance::min_files`] data files (every ingest flush adds one per partition it touches) | untouched |
//! | compact | Delta `OPTIMIZE` of just those partitions, one commit per table ([`crate::lake::compact`]'s writer settings) | a query planned before the commit keeps reading the old files; one planned after reads the new ones: each sees one consistent snapshot |
//! | vacuum | deletes files removed from the snapshot more than [`Maintenance::retention`] ago | a query older than the retention could miss its files: keep the retention above the longest query (`statement_timeout`) |
//!
//! A compaction that conflicts with a concurrent commit fails for that table only and is tried
//! again on the next round; ingest is never blocked by it.

use futures::FutureExt;
use std::collections::BTreeMap;
use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use deltalake::kernel::schema::partitions::{FilterValue, filter_literal};

use crate::error::Result;
use crate::lake::Lake;
use crate::lake::schema::{self, PARTITION_COLUMN};
use crate::lake::store::delta_err;
use crate::lake::writer::writer_properties;

/// The schedule and thresholds of live-lake maintenance.
#[derive(Debug, Clone)]
pub struct Maintenance {
    /// Time between two rounds.
    pub every: Duration,
    /// A partition with at least this many data files is compacted.
    pub min_files: usize,
    /// Removed files older than this are deleted.
    pub retention: Duration,
    /// Size of the compacted files.
    pub target_bytes: NonZeroU64,
}

impl Default for Maintenance {
    fn default() -> Self {
        Maintenance {
            every: Duration::from_secs(600),
            min_files: 8,
            retention: Duration::from_secs(3600),
            target_bytes: crate::lake::compact::DEFAULT_TARGET,
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    /// `(table, partitions compacted, files before, files after)` for each table compacted.
    pub compacted: Vec<(&'static str, u64, u64, u64)>,
    /// Removed files deleted by the vacuum.
    pub files_deleted: u64,
    /// Tables whose compaction failed (conflict or store error), with the error.
    pub failed: Vec<(&'static str, String)>,
}

/// One round: compaction of crowded partitions, then the vacuum.
pub async fn round(lake: &Lake, config: &Maintenance) -> Result<Round> {
    let mut round = Round::default();
    for def in schema::tables() {
        let Some(table) = lake.try_load_table(def.name).await? else {
            continue;
        };
        let mut files_per_day: BTreeMap<String, u64> = BTreeMap::new();
        let snapshot = table.snapshot().map_err(|e| delta_err(def.name, e))?;
        for file in snapshot.log_data().iter() {
            if let Some(Some(day)) = file.partition_values_map().get(PARTITION_COLUMN) {
                *files_per_day.entry(day.clone()).or_default() += 1;
            }
        }
        let crowded: Vec<&str> = files_per_day
            .iter()
            .filter(|(_, n)| **n >= config.min_files as u64)
            .map(|(day, _)| day.as_str())
            .collect();
        let before: u64 = files_per_day.values().sum();
        let table = if crowded.is_empty() {
            table
        } else {
            let filters =
                [
                    filter_literal(PARTITION_COLUMN, "in", FilterValue::Set(crowded.clone()))
                        .map_err(|e| delta_err(def.name, e))?,
                ];
            match table
                .clone()
                .optimize()
                .with_filters(&filters)
                .with_target_size(config.target_bytes)
                .with_writer_properties(writer_properties(def))
                .await
            {
                Ok((optimized, metrics)) => {
                    round.compacted.push((
                        def.name,
                        metrics.partitions_optimized,
                        before,
                        before + metrics.num_files_added - metrics.num_files_removed,
                    ));
                    optimized
                }
                Err(e) => {
                    round.failed.push((def.name, e.to_string()));
                    table
                }
            }
        };
        let retention = chrono::Duration::from_std(config.retention)
            .unwrap_or_else(|_| chrono::Duration::hours(1));
        match table
            .vacuum()
            .with_retention_period(retention)
            .with_enforce_retention_duration(false)
            .await
        {
            Ok((_, metrics)) => round.files_deleted += metrics.files_deleted.len() as u64,
            Err(e) => round.failed.push((def.name, format!("vacuum: {e}"))),
        }
    }
    Ok(round)
}

/// Runs [`round`] every `config.every` until `shutdown` resolves, logging what each did.
pub async fn run(lake: Lake, config: Maintenance, shutdown: impl Future<Output = ()>) {
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(config.every) => {}
        }
        let started = Instant::now();
        // A library panic (see the flusher) fails this round only; the next one tries again.
        let result = std::panic::AssertUnwindSafe(round(&lake, &config))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                Err(crate::error::Error::Panicked {
                    task: "compacting the lake",
                    message: crate::error::panic_message(panic.as_ref()),
                })
            });
        match result {
            Ok(done) => {
                for (table, partitions, before, after) in &done.compacted {
                    tracing::info!(table, partitions, before, after, "compacted");
                }
                for (table, error) in &done.failed {
                    tracing::warn!(table, "maintenance failed, will retry: {error}");
                }
                tracing::info!(
                    files_deleted = done.files_deleted,
                    seconds = started.elapsed().as_secs_f64(),
                    "maintenance round done"
                );
            }
            Err(e) => tracing::warn!("maintenance round failed, will retry: {e}"),
        }
    }
}
