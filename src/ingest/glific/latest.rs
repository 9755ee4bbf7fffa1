//! Of several versions of a Glific row, the one with the latest `updated_at`.
//!
//! Glific's sync re-inserts an updated row as a new version with the same `id`, and its
//! de-duplication job removes the older versions only after three hours (reference 1.1): an
//! export may hold several. Per `id` the version with the latest `updated_at` is kept; on equal
//! `updated_at` the one read last; a version without `updated_at` loses to any that has one.

use std::collections::HashMap;
use std::sync::Arc;

/// Where a row was read: file and 1-based line (Parquet: row number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file's name as given.
    pub file: Arc<str>,
    /// 1-based line (row) number.
    pub line: u64,
}

/// One kept version.
#[derive(Debug, Clone)]
struct Version<T> {
    updated_at: Option<i64>,
    origin: Origin,
    value: T,
}

/// The latest version of each row of one table.
#[derive(Debug, Clone)]
pub struct Latest<T> {
    rows: HashMap<String, Version<T>>,
    superseded: u64,
}

impl<T> Default for Latest<T> {
    fn default() -> Self {
        Latest {
            rows: HashMap::new(),
            superseded: 0,
        }
    }
}

impl<T> Latest<T> {
    /// Offers version `value` of row `id`, last updated at `updated_at` (µs, UTC).
    pub fn offer(&mut self, id: String, updated_at: Option<i64>, origin: Origin, value: T) {
        let version = Version {
            updated_at,
            origin,
            value,
        };
        match self.rows.get_mut(&id) {
            None => {
                self.rows.insert(id, version);
            }
            Some(kept) => {
                self.superseded += 1;
                if version.updated_at >= kept.updated_at {
                    *kept = version;
                }
            }
        }
    }

    /// Versions dropped for a later one.
    pub fn superseded(&self) -> u64 {
        self.superseded
    }

    /// The kept values with their origin, in input order (file, line).
    pub fn into_values(self) -> Vec<(Origin, T)> {
        let mut kept: Vec<(Origin, T)> = self
            .rows
            .into_values()
            .map(|v| (v.origin, v.value))
            .collect();
        kept.sort_by(|a, b| (&a.0.file, a.0.line).cmp(&(&b.0.file, b.0.line)));
        kept
    }

    /// Whether no row was offered.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The kept value of `id`.
    pub fn get(&self, id: &str) -> Option<&T> {
        self.rows.get(id).map(|v| &v.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u64) -> Origin {
        Origin {
            file: "messages.json".into(),
            line,
        }
    }

    #[test]
    fn the_latest_updated_at_wins_whatever_the_order() {
        let mut latest = Latest::default();
        latest.offer("1".into(), Some(20), at(1), "read");
        latest.offer("1".into(), Some(10), at(2), "delivered");
        latest.offer("2".into(), None, at(3), "undated");
        latest.offer("2".into(), Some(5), at(4), "dated");
        latest.offer("3".into(), Some(7), at(5), "first");
        latest.offer("3".into(), Some(7), at(6), "read last");
        assert_eq!(latest.superseded(), 3);
        let kept: Vec<&str> = latest.into_values().into_iter().map(|(_, v)| v).collect();
        assert_eq!(kept, ["read", "dated", "read last"]);
    }
}
