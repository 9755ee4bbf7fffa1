//! What an export shows while it runs (a bar on a terminal: days done of the days to write,
//! the table and day at hand, rows so far) and the lines it prints at the end.

use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::ProgressBar;

use super::changes::Day;
use super::{ExportSummary, day_label};

/// The progress of a run; hidden when not on a terminal.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    rows: AtomicU64,
}

impl Progress {
    /// A bar over `days` days to write (hidden unless `show`).
    pub fn new(show: bool, days: u64) -> Progress {
        Progress {
            bar: crate::progress::bar(
                show,
                days,
                "exporting {bar:40.cyan/blue} {pos}/{len} days {msg} ({elapsed}, eta {eta})",
            ),
            rows: AtomicU64::new(0),
        }
    }

    /// Now writing `table`'s `day`.
    pub fn table_day(&self, table: &str, day: Day) {
        self.bar.set_message(format!(
            "{table} {} ({} rows)",
            day_label(day),
            self.rows.load(Ordering::Relaxed)
        ));
    }

    /// `rows` more rows written.
    pub fn rows(&self, rows: u64) {
        self.rows.fetch_add(rows, Ordering::Relaxed);
    }

    /// A day finished.
    pub fn day_done(&self) {
        self.bar.inc(1);
    }

    /// The run finished: the bar goes.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// The run failed: the bar goes, the error is printed after.
    pub fn abandon(&self) {
        self.bar.abandon();
    }
}

/// The summary: one line per table that did anything, then the totals line.
pub fn summary_lines(summary: &ExportSummary) -> Vec<String> {
    let mut lines = Vec::new();
    for t in &summary.tables {
        let mut parts = vec![format!("{} days written ({} rows)", t.days_written, t.rows)];
        if t.days_skipped > 0 {
            let compacted = if t.days_recompacted > 0 {
                format!(", {} of them only compacted", t.days_recompacted)
            } else {
                String::new()
            };
            parts.push(format!(
                "{} skipped (unchanged since exported{compacted})",
                t.days_skipped
            ));
        }
        if t.days_dropped > 0 {
            parts.push(format!(
                "{} dropped (no longer in the lake)",
                t.days_dropped
            ));
        }
        lines.push(format!(
            "  {:<20} v{:<6} {}",
            t.table,
            t.version,
            parts.join(", ")
        ));
    }
    if summary.superseded_deleted > 0 {
        lines.push(format!(
            "  deleted {} files of the previous export (other settings) that this one does not list",
            summary.superseded_deleted
        ));
    }
    let secs = summary.elapsed.as_secs_f64().max(1e-9);
    lines.push(format!(
        "exported {} tables to {} in {secs:.1}s: {} days written, {} days skipped, {} rows, {} bytes ({:.0} rows/s)",
        summary.tables.len(),
        summary.dest,
        summary.days_written(),
        summary.days_skipped(),
        summary.rows(),
        summary.bytes(),
        summary.rows() as f64 / secs,
    ));
    lines
}
