//! Which days of a table a run exports, keeps or drops: the manifest against the lake.
//!
//! | day is ... | with `--full` | incremental |
//! |---|---|---|
//! | in the lake, not in the manifest | export (new) | export (new; also a day a failed run did not finish) |
//! | in both, same data files | export | skip |
//! | in both, files differ | export | export if [`Changes`] has a data change since the day's version, else skip (compaction) and record the new files |
//! | in the manifest, not in the lake | drop its files | drop its files |
//!
//! Only days inside `--from`/`--to` are considered (a dimension table always is).

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::changes::{Changes, Day, TableState};
use super::manifest::TableEntry;

/// Why a day is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Not in the manifest.
    New,
    /// Its rows changed since it was exported.
    Changed,
    /// `--full`.
    Full,
}

/// What to do with one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TablePlan {
    /// Days to write, in order.
    pub export: Vec<(Day, Reason)>,
    /// Days already exported and unchanged.
    pub skip: Vec<Day>,
    /// Days whose data files changed without their rows changing (compaction): skipped, their
    /// manifest entries get the new file digest and version.
    pub recompacted: Vec<Day>,
    /// Days in the manifest that no longer have rows in the lake: their files go.
    pub drop: Vec<Day>,
}

/// The inclusive day range of a run (`None`: open).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayRange {
    /// First day.
    pub from: Option<NaiveDate>,
    /// Last day.
    pub to: Option<NaiveDate>,
}

impl DayRange {
    /// Whether `day` is in the range (a dimension table always is).
    pub fn contains(&self, day: Day) -> bool {
        let Some(day) = day else {
            return true;
        };
        self.from.is_none_or(|f| day >= f) && self.to.is_none_or(|t| day <= t)
    }
}

/// The oldest version from which the log must be read to decide `entry`'s days against
/// `state`, `None` when no day needs it (nothing listed, or every listed day's files are the
/// same).
pub fn log_needed_after(
    entry: Option<&TableEntry>,
    state: &TableState,
    range: DayRange,
) -> Option<u64> {
    entry?
        .days
        .iter()
        .filter(|d| range.contains(d.day))
        .filter(|d| state.days.get(&d.day) != Some(&d.source_files))
        .map(|d| d.delta_version)
        .min()
}

/// The plan of one table; `changes` are the commits read after [`log_needed_after`].
pub fn plan_table(
    entry: Option<&TableEntry>,
    state: &TableState,
    changes: Option<&Changes>,
    range: DayRange,
    full: bool,
) -> TablePlan {
    let mut plan = TablePlan::default();
    let listed: BTreeSet<Day> = entry
        .map(|e| e.days.iter().map(|d| d.day).collect())
        .unwrap_or_default();
    for (day, files) in state.days.iter().filter(|(d, _)| range.contains(**d)) {
        let Some(done) = entry.and_then(|e| e.day(*day)) else {
            plan.export
                .push((*day, if full { Reason::Full } else { Reason::New }));
            continue;
        };
        if full {
            plan.export.push((*day, Reason::Full));
        } else if &done.source_files == files {
            plan.skip.push(*day);
        } else if changes.is_none_or(|c| c.changed_since(*day, done.delta_version)) {
            plan.export.push((*day, Reason::Changed));
        } else {
            plan.recompacted.push(*day);
        }
    }
    for day in listed.into_iter().filter(|d| range.contains(*d)) {
        if !state.days.contains_key(&day) {
            plan.drop.push(day);
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::manifest::DayEntry;

    fn d(text: &str) -> Day {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
    }

    fn listed(day: &str, version: u64, files: &str) -> DayEntry {
        DayEntry {
            day: d(day),
            delta_version: version,
            source_files: files.into(),
            rows: 1,
            files: Vec::new(),
        }
    }

    fn state(version: u64, days: &[(&str, &str)]) -> TableState {
        TableState {
            version,
            days: days
                .iter()
                .map(|(day, f)| (d(day), f.to_string()))
                .collect(),
        }
    }

    #[test]
    fn new_changed_compacted_unchanged_and_vanished_days() {
        let entry = TableEntry {
            days: vec![
                listed("2026-10-01", 3, "a"),
                listed("2026-10-02", 3, "b"),
                listed("2026-10-03", 3, "c"),
                listed("2026-10-04", 3, "e"),
            ],
            ..TableEntry::default()
        };
        // 10-01 untouched, 10-02 appended to at v4, 10-03 compacted at v5, 10-04 deleted at
        // v6, 10-05 new.
        let now = state(
            6,
            &[
                ("2026-10-01", "a"),
                ("2026-10-02", "b2"),
                ("2026-10-03", "c2"),
                ("2026-10-05", "f"),
            ],
        );
        let range = DayRange::default();
        assert_eq!(log_needed_after(Some(&entry), &now, range), Some(3));
        let mut changes = Changes {
            after: 3,
            through: 6,
            complete: true,
            ..Changes::default()
        };
        changes.last_change.insert(d("2026-10-02"), 4);
        changes.last_change.insert(d("2026-10-04"), 6);
        let plan = plan_table(Some(&entry), &now, Some(&changes), range, false);
        assert_eq!(
            plan.export,
            vec![
                (d("2026-10-02"), Reason::Changed),
                (d("2026-10-05"), Reason::New)
            ]
        );
        assert_eq!(plan.skip, vec![d("2026-10-01")]);
        assert_eq!(plan.recompacted, vec![d("2026-10-03")]);
        assert_eq!(plan.drop, vec![d("2026-10-04")]);

        let full = plan_table(Some(&entry), &now, None, range, true);
        assert_eq!(full.export.len(), 4);
        assert!(full.export.iter().all(|(_, r)| *r != Reason::Changed));
    }

    #[test]
    fn the_range_limits_fact_days_but_not_dimensions() {
        let now = state(1, &[("2026-10-01", "a"), ("2026-10-02", "b")]);
        let range = DayRange {
            from: d("2026-10-02"),
            to: d("2026-10-02"),
        };
        let plan = plan_table(None, &now, None, range, false);
        assert_eq!(plan.export, vec![(d("2026-10-02"), Reason::New)]);
        assert!(range.contains(None));
    }

    #[test]
    fn without_a_readable_log_a_differing_day_is_exported() {
        let entry = TableEntry {
            days: vec![listed("2026-10-01", 3, "a")],
            ..TableEntry::default()
        };
        let now = state(9, &[("2026-10-01", "a2")]);
        let changes = Changes {
            after: 3,
            through: 9,
            complete: false,
            ..Changes::default()
        };
        let plan = plan_table(
            Some(&entry),
            &now,
            Some(&changes),
            DayRange::default(),
            false,
        );
        assert_eq!(plan.export, vec![(d("2026-10-01"), Reason::Changed)]);
    }
}
