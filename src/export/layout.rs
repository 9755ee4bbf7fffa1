//! Where each exported file goes, relative to the destination root.
//!
//! | layout | fact table, day D, part N | dimension table, part N |
//! |---|---|---|
//! | `daily` (BigQuery date-sharded) | `<table>_YYYYMMDD.<ext>`, then `<table>_YYYYMMDD_N.<ext>` | `<table>.<ext>`, then `<table>_N.<ext>` |
//! | `hive` | `<table>/dt=YYYY-MM-DD/part-N.<ext>` | `<table>/part-N.<ext>` |
//!
//! A day is split into parts when a file reaches the size limit. In the daily layout a file
//! holds the `dt` column; in the Hive layout it does not (the directory names it, as Spark,
//! BigQuery's hive partitioning and DuckDB's `hive_partitioning` expect).
//!
//! Beside the data: `manifest.json` and, per table, `_schemas/<table>.bigquery.json` (for
//! `bq load --schema`) and `_schemas/<table>.arrow.json`.

use chrono::NaiveDate;

use super::format::EXTENSIONS;

/// The manifest's name.
pub const MANIFEST: &str = "manifest.json";

/// How files are named and grouped.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// `<table>_YYYYMMDD.<ext>` files side by side (BigQuery date-sharded tables).
    Daily,
    /// `<table>/dt=YYYY-MM-DD/part-N.<ext>` directories.
    Hive,
}

impl Layout {
    /// Whether the files of this layout hold the `dt` column.
    pub fn keeps_dt_column(self) -> bool {
        self == Layout::Daily
    }

    /// The path of part `part` of `table`'s `day` (`None`: a dimension table).
    pub fn data_file(self, table: &str, day: Option<NaiveDate>, part: u32, ext: &str) -> String {
        match (self, day) {
            (Layout::Daily, Some(day)) => {
                let stamp = day.format("%Y%m%d");
                if part == 0 {
                    format!("{table}_{stamp}.{ext}")
                } else {
                    format!("{table}_{stamp}_{part}.{ext}")
                }
            }
            (Layout::Daily, None) if part == 0 => format!("{table}.{ext}"),
            (Layout::Daily, None) => format!("{table}_{part}.{ext}"),
            (Layout::Hive, Some(day)) => {
                format!("{table}/dt={}/part-{part}.{ext}", day.format("%Y-%m-%d"))
            }
            (Layout::Hive, None) => format!("{table}/part-{part}.{ext}"),
        }
    }

    /// The directory to list for `table`'s files, and whether recursively.
    pub fn table_dir(self, table: &str) -> (String, bool) {
        match self {
            Layout::Daily => (String::new(), false),
            Layout::Hive => (format!("{table}/"), true),
        }
    }

    /// The day a file of `table` at `rel` belongs to (in any format this export writes):
    /// `Some(None)` for a dimension table's file, `None` for a file not of `table`.
    pub fn day_of(self, table: &str, partitioned: bool, rel: &str) -> Option<Option<NaiveDate>> {
        let stem = strip_extension(rel)?;
        match self {
            Layout::Daily => {
                let rest = stem.strip_prefix(table)?;
                if partitioned {
                    let rest = rest.strip_prefix('_')?;
                    let (stamp, part) = rest.split_once('_').unwrap_or((rest, "0"));
                    if stamp.len() != 8 || !is_number(part) {
                        return None;
                    }
                    NaiveDate::parse_from_str(stamp, "%Y%m%d").ok().map(Some)
                } else if rest.is_empty() || rest.strip_prefix('_').is_some_and(is_number) {
                    Some(None)
                } else {
                    None
                }
            }
            Layout::Hive => {
                let rest = stem.strip_prefix(table)?.strip_prefix('/')?;
                if partitioned {
                    let (dir, file) = rest.split_once('/')?;
                    if !file.strip_prefix("part-").is_some_and(is_number) {
                        return None;
                    }
                    let day = dir.strip_prefix("dt=")?;
                    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok().map(Some)
                } else {
                    rest.strip_prefix("part-")
                        .is_some_and(is_number)
                        .then_some(None)
                }
            }
        }
    }
}

/// `_schemas/<table>.bigquery.json`.
pub fn bigquery_schema_file(table: &str) -> String {
    format!("_schemas/{table}.bigquery.json")
}

/// `_schemas/<table>.arrow.json`.
pub fn arrow_schema_file(table: &str) -> String {
    format!("_schemas/{table}.arrow.json")
}

fn strip_extension(rel: &str) -> Option<&str> {
    // Longest first: `json.gz` before `json`.
    let mut extensions = EXTENSIONS.to_vec();
    extensions.sort_by_key(|e| std::cmp::Reverse(e.len()));
    extensions
        .iter()
        .find_map(|ext| rel.strip_suffix(ext)?.strip_suffix('.'))
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
    }

    #[test]
    fn names_follow_bigquery_shards_and_hive_directories() {
        let d = day("2026-10-01");
        let cases = [
            (
                Layout::Daily,
                "messages",
                d,
                0,
                "parquet",
                "messages_20261001.parquet",
            ),
            (
                Layout::Daily,
                "messages",
                d,
                2,
                "json.gz",
                "messages_20261001_2.json.gz",
            ),
            (Layout::Daily, "contacts", None, 0, "csv", "contacts.csv"),
            (Layout::Daily, "contacts", None, 1, "csv", "contacts_1.csv"),
            (
                Layout::Hive,
                "messages",
                d,
                1,
                "parquet",
                "messages/dt=2026-10-01/part-1.parquet",
            ),
            (
                Layout::Hive,
                "tenants",
                None,
                0,
                "csv.zst",
                "tenants/part-0.csv.zst",
            ),
        ];
        for (layout, table, day, part, extension, expected) in cases {
            assert_eq!(layout.data_file(table, day, part, extension), expected);
        }
    }

    #[test]
    fn files_are_recognised_by_table_without_confusing_neighbours() {
        let d = day("2026-10-01");
        for layout in [Layout::Daily, Layout::Hive] {
            for part in [0, 3] {
                for ext in EXTENSIONS {
                    let name = layout.data_file("messages", d, part, ext);
                    assert_eq!(layout.day_of("messages", true, &name), Some(d), "{name}");
                    let name = layout.data_file("contacts", None, part, ext);
                    assert_eq!(
                        layout.day_of("contacts", false, &name),
                        Some(None),
                        "{name}"
                    );
                }
            }
        }
        // Tables whose names start alike.
        let other = Layout::Daily.data_file("message_statuses", d, 0, "parquet");
        assert_eq!(Layout::Daily.day_of("messages", true, &other), None);
        let other = Layout::Daily.data_file("contact_events", d, 0, "parquet");
        assert_eq!(Layout::Daily.day_of("contacts", false, &other), None);
        let other = Layout::Daily.data_file("campaign_recipients", d, 0, "csv");
        assert_eq!(Layout::Daily.day_of("campaigns", true, &other), None);
        assert_eq!(
            Layout::Daily.day_of("messages", true, "manifest.json"),
            None
        );
        assert_eq!(
            Layout::Daily.day_of("messages", true, "messages_2026.parquet"),
            None
        );
        assert_eq!(
            Layout::Hive.day_of("messages", true, "messages/dt=2026-10-01/x.parquet"),
            None
        );
    }
}
