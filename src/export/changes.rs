//! What changed in a Delta table, per day, from its log: the lake side of an incremental export.
//!
//! Two sources, cheapest first:
//!
//! 1. [`TableState`]: at the version being exported, the set of data files of each day
//!    (partition `dt`), as a digest. A day whose digest equals the one in the manifest has not
//!    been touched at all.
//! 2. [`Changes`]: the commits after the manifest's versions, `_delta_log/NNN.json` read one by
//!    one. An `add` or `remove` with `dataChange: true` changes its day; one with
//!    `dataChange: false` (compaction, Delta `OPTIMIZE`: the same rows in other files) does
//!    not. A `metaData` action (schema change) changes every day.
//!
//! | case | a day is changed when |
//! |---|---|
//! | digest equal | never |
//! | digest differs, commits readable | a commit after the day's exported version has a data-changing action on it |
//! | digest differs, a commit is gone (log cleaned up after a checkpoint) | always (cannot tell a compaction from new rows) |
//!
//! A `remove` without partition values is placed by its path (`dt=YYYY-MM-DD/`); one that
//! cannot be placed changes every day.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use deltalake::DeltaTable;
use object_store::ObjectStoreExt;
use object_store::path::Path;
use sha2::{Digest, Sha256};

use super::scan::DataFile;
use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::lake::schema::PARTITION_COLUMN;

/// A day of a table (`None`: the whole of a dimension table).
pub type Day = Option<NaiveDate>;

/// A table at one version: its days and the digest of each day's data files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableState {
    /// The Delta version.
    pub version: u64,
    /// Digest of each day's data files.
    pub days: BTreeMap<Day, String>,
}

impl TableState {
    /// The state of the loaded snapshot of `table` (named `name`), whose data files by day
    /// are `files` ([`snapshot_files`](super::scan::snapshot_files)).
    pub fn of(
        name: &str,
        table: &DeltaTable,
        files: &BTreeMap<Day, Vec<DataFile>>,
    ) -> Result<TableState> {
        let version = table.version().ok_or_else(|| {
            Error::Config(format!("export: table '{name}' has no committed version"))
        })?;
        let days = files
            .iter()
            .map(|(day, files)| {
                let paths: Vec<String> = files.iter().map(|f| f.log_path.clone()).collect();
                (*day, digest(&paths))
            })
            .collect();
        Ok(TableState { version, days })
    }
}

/// A digest of a set of file paths (sorted).
pub fn digest(sorted_paths: &[String]) -> String {
    let mut hasher = Sha256::new();
    for path in sorted_paths {
        hasher.update(path.as_bytes());
        hasher.update(b"\n");
    }
    crate::ingest::whatsapp::hex(&hasher.finalize()[..16])
}

/// The data-changing commits of a table after some version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Commits read: those after this version ...
    pub after: u64,
    /// ... up to and including this one.
    pub through: u64,
    /// Whether every commit in the range could be read.
    pub complete: bool,
    /// The last version with a data-changing action on each day.
    pub last_change: HashMap<Day, u64>,
    /// The last version that changed every day (a schema change, an unplaceable remove).
    pub last_change_all: Option<u64>,
}

impl Changes {
    /// Whether `day`, exported at version `since`, has changed since.
    pub fn changed_since(&self, day: Day, since: u64) -> bool {
        // A version past the ones read: the lake was written anew since.
        if !self.complete || since < self.after || since > self.through {
            return true;
        }
        let after = |v: &u64| *v > since;
        self.last_change.get(&day).is_some_and(after)
            || self.last_change_all.as_ref().is_some_and(after)
    }

    /// Adds the actions of commit `version` (the text of `_delta_log/<version>.json`).
    pub fn add_commit(&mut self, version: u64, text: &str, partitioned: bool) -> Result<()> {
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let action: serde_json::Value = serde_json::from_str(line).map_err(|e| {
                Error::Config(format!(
                    "export: commit {version} of the Delta log, line {}: {e}",
                    n + 1
                ))
            })?;
            if action.get("metaData").is_some() {
                self.last_change_all = Some(version);
                continue;
            }
            let Some(file) = action.get("add").or_else(|| action.get("remove")) else {
                continue;
            };
            // dataChange is required by the protocol; a writer that leaves it out is taken at
            // its most cautious.
            let data_change = file
                .get("dataChange")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(true);
            if !data_change {
                continue;
            }
            if !partitioned {
                self.last_change.insert(None, version);
                continue;
            }
            let from_values = file
                .get("partitionValues")
                .and_then(|v| v.get(PARTITION_COLUMN))
                .and_then(serde_json::Value::as_str)
                .and_then(|text| parse_day(Some(text)));
            let from_path = || {
                let path = file.get("path")?.as_str()?;
                let decoded = Path::from_url_path(path).ok()?;
                decoded.parts().find_map(|part| {
                    parse_day(part.as_ref().strip_prefix(&format!("{PARTITION_COLUMN}=")))
                })
            };
            match from_values.or_else(from_path) {
                Some(day) => {
                    self.last_change.insert(Some(day), version);
                }
                None => self.last_change_all = Some(version),
            }
        }
        Ok(())
    }

    /// Reads the commits of `table` (at `table_url` in `lake`) after `after` through `through`.
    pub async fn read(
        lake: &Lake,
        table: &str,
        partitioned: bool,
        after: u64,
        through: u64,
    ) -> Result<Changes> {
        let mut changes = Changes {
            after,
            through,
            complete: true,
            ..Changes::default()
        };
        let table_url = lake.table_url(table)?;
        let log = Path::from_url_path(table_url.path())
            .map_err(|e| Error::Config(format!("export: table path {table_url}: {e}")))?
            .clone()
            .join("_delta_log");
        let store = lake.object_store();
        for version in after + 1..=through {
            let path = log.clone().join(format!("{version:020}.json").as_str());
            let got = match store.get(&path).await {
                Ok(got) => got,
                Err(object_store::Error::NotFound { .. }) => {
                    changes.complete = false;
                    break;
                }
                Err(e) => {
                    return Err(Error::LakeUnreachable {
                        location: format!("{table_url}_delta_log/{version:020}.json"),
                        source: Box::new(e),
                    });
                }
            };
            let bytes = got.bytes().await.map_err(|e| Error::LakeUnreachable {
                location: format!("{table_url}_delta_log/{version:020}.json"),
                source: Box::new(e),
            })?;
            changes.add_commit(version, &String::from_utf8_lossy(&bytes), partitioned)?;
        }
        Ok(changes)
    }
}

/// `YYYY-MM-DD` as a date.
pub(crate) fn parse_day(text: Option<&str>) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text?, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        parse_day(Some(text))
    }

    #[test]
    fn compaction_is_not_a_change_and_appends_are() {
        let mut c = Changes {
            after: 4,
            through: 6,
            complete: true,
            ..Changes::default()
        };
        // Version 5: an append to 2026-10-02. Version 6: OPTIMIZE of 2026-10-01.
        c.add_commit(
            5,
            r#"{"commitInfo":{"operation":"WRITE"}}
{"add":{"path":"dt=2026-10-02/a.parquet","partitionValues":{"dt":"2026-10-02"},"dataChange":true,"size":1}}"#,
            true,
        )
        .expect("commit 5");
        c.add_commit(
            6,
            r#"{"remove":{"path":"dt=2026-10-01/b.parquet","partitionValues":{"dt":"2026-10-01"},"dataChange":false}}
{"remove":{"path":"dt=2026-10-01/c.parquet","dataChange":false}}
{"add":{"path":"dt=2026-10-01/d.parquet","partitionValues":{"dt":"2026-10-01"},"dataChange":false,"size":2}}"#,
            true,
        )
        .expect("commit 6");
        assert!(c.changed_since(day("2026-10-02"), 4));
        assert!(!c.changed_since(day("2026-10-02"), 5));
        assert!(!c.changed_since(day("2026-10-01"), 4));
        // Exported before the commits read: cannot tell.
        assert!(c.changed_since(day("2026-10-01"), 3));
    }

    #[test]
    fn removes_are_placed_by_path_and_schema_changes_change_everything() {
        let mut c = Changes {
            after: 0,
            through: 2,
            complete: true,
            ..Changes::default()
        };
        c.add_commit(
            1,
            r#"{"remove":{"path":"dt%3D2026-10-03/x.parquet","dataChange":true}}"#,
            true,
        )
        .expect("commit 1");
        assert!(c.changed_since(day("2026-10-03"), 0));
        assert!(!c.changed_since(day("2026-10-04"), 0));
        c.add_commit(2, r#"{"metaData":{"id":"x"}}"#, true)
            .expect("commit 2");
        assert!(c.changed_since(day("2026-10-04"), 1));
        let incomplete = Changes {
            complete: false,
            ..Changes::default()
        };
        assert!(incomplete.changed_since(None, 0));
    }

    #[test]
    fn a_bad_log_line_names_its_commit() {
        let err = Changes::default()
            .add_commit(9, "{\"add\":", true)
            .expect_err("bad json");
        assert!(err.to_string().contains("commit 9"), "{err}");
    }
}
