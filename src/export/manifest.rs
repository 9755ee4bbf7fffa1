//! `manifest.json`: what a destination holds, so that the next run can export only what changed.
//!
//! ```json
//! {
//!   "chatlake_export": 1,
//!   "lake": "s3://lake/prod/",
//!   "format": "parquet", "compression": "zstd", "layout": "daily", "tenants": null,
//!   "updated_at": "2026-11-02T03:00:00Z",
//!   "tables": {
//!     "messages": {
//!       "delta_version": 41,
//!       "bigquery_schema": "_schemas/messages.bigquery.json",
//!       "arrow_schema": "_schemas/messages.arrow.json",
//!       "days": [
//!         { "day": "2026-10-01", "delta_version": 40, "source_files": "9f2c...", "rows": 51234,
//!           "files": [ { "path": "messages_20261001.parquet", "rows": 51234, "bytes": 2304123,
//!                        "sha256": "4be1..." } ] }
//!       ]
//!     }
//!   }
//! }
//! ```
//!
//! | field | meaning |
//! |---|---|
//! | `tables.T.delta_version` | the lake version of T the whole table was last brought up to |
//! | `days[].day` | the UTC day (`dt`), `null` for a dimension table (one entry) |
//! | `days[].delta_version` | the version of T the day's files were read at |
//! | `days[].source_files` | a digest of the Delta data files of the day at that version (a fast "nothing happened" test) |
//! | `days[].files` | every file of the day: complete when listed (the manifest is written after them) |
//! | `superseded` | files an earlier export with other settings listed (a `--full` rerun with new ones): deleted when the run ends, unless listed again; absent when none |
//!
//! Invariant: a file listed here is complete and has the listed size and checksum. The manifest
//! is replaced whole (an atomic put) after files are written, and before a listed day is
//! rewritten its entry is taken out first.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::destination::Destination;
use super::format::{Compression, FileFormat};
use super::layout::{Layout, MANIFEST};
use crate::error::{Error, Result};

/// Version of the manifest's shape.
pub const MANIFEST_VERSION: u32 = 1;

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Version of this shape ([`MANIFEST_VERSION`]).
    pub chatlake_export: u32,
    /// The lake exported.
    pub lake: String,
    /// File format of every data file.
    pub format: FileFormat,
    /// Their compression.
    pub compression: Compression,
    /// Their layout.
    pub layout: Layout,
    /// The tenants exported, `None` for all.
    pub tenants: Option<Vec<String>>,
    /// When the manifest was last written (RFC 3339, UTC).
    pub updated_at: String,
    /// Per table.
    pub tables: BTreeMap<String, TableEntry>,
    /// Files (data and schema files) of an earlier export with other settings, to be deleted
    /// once this export's run ends, unless it lists them again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub superseded: Vec<String>,
}

/// One table of the manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableEntry {
    /// The lake version every day of the table is up to date with (`None` until a run
    /// finishes the table).
    pub delta_version: Option<u64>,
    /// The BigQuery schema file.
    pub bigquery_schema: String,
    /// The Arrow schema file.
    pub arrow_schema: String,
    /// The days exported, in order (`day: null` first: a dimension table).
    pub days: Vec<DayEntry>,
}

/// One day (or a dimension table whole) of the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayEntry {
    /// The UTC day, `None` for a dimension table.
    pub day: Option<NaiveDate>,
    /// The lake version the files were read at.
    pub delta_version: u64,
    /// Digest of the set of Delta data files of the day at that version.
    pub source_files: String,
    /// Rows in the day's files.
    pub rows: u64,
    /// The files.
    pub files: Vec<FileEntry>,
}

/// One data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the destination root.
    pub path: String,
    /// Rows.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

impl Manifest {
    /// An empty manifest for an export of these settings.
    pub fn new(
        lake: String,
        format: FileFormat,
        compression: Compression,
        layout: Layout,
        tenants: Option<Vec<String>>,
    ) -> Manifest {
        Manifest {
            chatlake_export: MANIFEST_VERSION,
            lake,
            format,
            compression,
            layout,
            tenants,
            updated_at: String::new(),
            tables: BTreeMap::new(),
            superseded: Vec::new(),
        }
    }

    /// Every file this manifest lists: data files, schema files and those it supersedes,
    /// sorted, without repeats.
    pub fn listed_files(&self) -> Vec<String> {
        let mut files: Vec<String> = self
            .tables
            .values()
            .flat_map(|t| {
                let data = t
                    .days
                    .iter()
                    .flat_map(|d| d.files.iter().map(|f| f.path.clone()));
                [t.bigquery_schema.clone(), t.arrow_schema.clone()]
                    .into_iter()
                    .filter(|path| !path.is_empty())
                    .chain(data)
            })
            .chain(self.superseded.iter().cloned())
            .collect();
        files.sort();
        files.dedup();
        files
    }

    /// Deletes the [`superseded`](Manifest::superseded) files this manifest does not list
    /// again, then forgets them; returns how many were deleted. Only files an earlier manifest
    /// listed are touched, nothing else under the destination.
    pub async fn delete_superseded(&mut self, dest: &Destination) -> Result<u64> {
        if self.superseded.is_empty() {
            return Ok(0);
        }
        let superseded = std::mem::take(&mut self.superseded);
        let listed = self.listed_files();
        let mut deleted = 0;
        for rel in superseded
            .iter()
            .filter(|rel| listed.binary_search(rel).is_err())
        {
            if let Err(e) = dest.delete(rel).await {
                // Kept for the next run to try again.
                self.superseded = superseded;
                return Err(e);
            }
            deleted += 1;
        }
        Ok(deleted)
    }

    /// The manifest at `dest`, `None` when there is none.
    pub async fn read(dest: &Destination) -> Result<Option<Manifest>> {
        let Some(bytes) = dest.read(MANIFEST).await? else {
            return Ok(None);
        };
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
            Error::Config(format!(
                "{} is not a chatlake export manifest ({e}); export to an empty destination or remove it",
                dest.url(MANIFEST)
            ))
        })?;
        if manifest.chatlake_export != MANIFEST_VERSION {
            return Err(Error::Config(format!(
                "{} has manifest version {} (this chatlake writes {MANIFEST_VERSION}); use --full to export again",
                dest.url(MANIFEST),
                manifest.chatlake_export
            )));
        }
        Ok(Some(manifest))
    }

    /// Writes the manifest to `dest`, replacing the one there at once.
    pub async fn write(&mut self, dest: &Destination) -> Result<()> {
        self.updated_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Config(format!("export: cannot serialise the manifest: {e}")))?;
        bytes.push(b'\n');
        dest.put_atomic(MANIFEST, Bytes::from(bytes)).await
    }

    /// Why an incremental run with `other`'s settings cannot add to this manifest, if it cannot
    /// (files of two formats, layouts or tenant sets would mix).
    pub fn mismatch(&self, other: &Manifest) -> Option<String> {
        let mut differences = Vec::new();
        if self.format != other.format {
            differences.push(format!("format {:?}", self.format));
        }
        if self.compression != other.compression {
            differences.push(format!("compression {:?}", self.compression));
        }
        if self.layout != other.layout {
            differences.push(format!("layout {:?}", self.layout));
        }
        if self.tenants != other.tenants {
            differences.push(match &self.tenants {
                Some(t) => format!("tenants {}", t.join(",")),
                None => "all tenants".to_string(),
            });
        }
        if self.lake != other.lake {
            differences.push(format!("lake {}", self.lake));
        }
        (!differences.is_empty()).then(|| differences.join(", ").to_lowercase())
    }

    /// Rows over every file listed.
    pub fn rows(&self) -> u64 {
        self.tables
            .values()
            .flat_map(|t| &t.days)
            .map(|d| d.rows)
            .sum()
    }
}

impl TableEntry {
    /// The entry of `day`, if listed.
    pub fn day(&self, day: Option<NaiveDate>) -> Option<&DayEntry> {
        self.days.iter().find(|d| d.day == day)
    }

    /// Lists `entry`, replacing the entry of its day.
    pub fn set_day(&mut self, entry: DayEntry) {
        self.remove_day(entry.day);
        let at = self.days.partition_point(|d| d.day < entry.day);
        self.days.insert(at, entry);
    }

    /// Takes out the entry of `day`, returning it.
    pub fn remove_day(&mut self, day: Option<NaiveDate>) -> Option<DayEntry> {
        let at = self.days.iter().position(|d| d.day == day)?;
        Some(self.days.remove(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(day: &str, rows: u64) -> DayEntry {
        DayEntry {
            day: NaiveDate::parse_from_str(day, "%Y-%m-%d").ok(),
            delta_version: 3,
            source_files: "x".into(),
            rows,
            files: vec![FileEntry {
                path: format!("t_{day}.parquet"),
                rows,
                bytes: 10,
                sha256: "ab".into(),
            }],
        }
    }

    #[tokio::test]
    async fn round_trips_through_the_destination_in_day_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dest =
            Destination::open(&dir.path().to_string_lossy(), &Default::default()).expect("dest");
        assert!(Manifest::read(&dest).await.expect("read").is_none());
        let mut m = Manifest::new(
            "file:///lake/".into(),
            FileFormat::Csv,
            Compression::Gzip,
            Layout::Hive,
            Some(vec!["t1".into()]),
        );
        let table = m.tables.entry("messages".into()).or_default();
        table.set_day(entry("2026-10-02", 5));
        table.set_day(entry("2026-10-01", 7));
        table.set_day(entry("2026-10-02", 6));
        let days: Vec<u64> = table.days.iter().map(|d| d.rows).collect();
        assert_eq!(days, vec![7, 6]);
        m.write(&dest).await.expect("write");
        let back = Manifest::read(&dest).await.expect("read").expect("some");
        assert_eq!(back, m);
        assert_eq!(back.rows(), 13);
        let text = std::fs::read_to_string(dir.path().join(MANIFEST)).expect("file");
        assert!(text.contains("\"day\": \"2026-10-01\""), "{text}");
        assert!(text.contains("\"layout\": \"hive\""), "{text}");
    }

    #[test]
    fn other_settings_are_a_mismatch() {
        let a = Manifest::new(
            "l".into(),
            FileFormat::Csv,
            Compression::Gzip,
            Layout::Hive,
            None,
        );
        let mut b = a.clone();
        assert_eq!(a.mismatch(&b), None);
        b.format = FileFormat::Parquet;
        b.tenants = Some(vec!["t9".into()]);
        assert_eq!(
            b.mismatch(&a).as_deref(),
            Some("format parquet, tenants t9")
        );
    }

    #[tokio::test]
    async fn superseded_files_go_unless_listed_again_and_nothing_else_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dest =
            Destination::open(&dir.path().to_string_lossy(), &Default::default()).expect("dest");
        for name in ["t_2026-10-01.parquet", "old_1.csv", "old_2.csv", "mine.txt"] {
            std::fs::write(dir.path().join(name), name).expect("write");
        }
        let mut m = Manifest::new(
            "l".into(),
            FileFormat::Parquet,
            Compression::Zstd,
            Layout::Daily,
            None,
        );
        m.tables
            .entry("t".into())
            .or_default()
            .set_day(entry("2026-10-01", 1));
        m.superseded = vec![
            "old_1.csv".into(),
            "t_2026-10-01.parquet".into(),
            "old_2.csv".into(),
            "gone_already.csv".into(),
        ];
        assert_eq!(m.delete_superseded(&dest).await.expect("delete"), 3);
        assert!(m.superseded.is_empty());
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, vec!["mine.txt", "t_2026-10-01.parquet"]);
    }

    #[tokio::test]
    async fn garbage_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(MANIFEST), "{not json").expect("write");
        let dest =
            Destination::open(&dir.path().to_string_lossy(), &Default::default()).expect("dest");
        let err = Manifest::read(&dest).await.expect_err("garbage");
        assert!(
            err.to_string().contains("not a chatlake export manifest"),
            "{err}"
        );
    }
}
