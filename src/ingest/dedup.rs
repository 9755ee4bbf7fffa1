//! Natural-key duplicates of fact rows, inside one load and against what the lake holds.
//!
//! | step | what |
//! |------|------|
//! | key of a row | the key columns of [`crate::ingest::rules`] encoded with arrow's row format (types and NULLs kept apart), hashed to 128 bits |
//! | against the lake | the first time a load meets a `dt` partition, the keys of that partition's stored rows are read (key columns only) |
//! | inside the load | a key met earlier in the load (any earlier batch) |
//! | kept | the first row of each key; later ones are dropped and counted |
//!
//! A duplicate carries its original's event time, so looking in the partitions the new rows fall
//! in finds every stored original. 128-bit hashes make a false match (a distinct row dropped)
//! about as likely as a disk returning wrong bytes: at 10^9 keys, below 10^-20.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::Arc;

use arrow::array::{
    Array, AsArray, BooleanArray, Date32Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::row::{RowConverter, SortField};
use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};
use crate::lake::schema::TableDef;

/// Microseconds in one day.
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The key set of one load; see the module docs.
pub struct Dedup {
    def: &'static TableDef,
    key_columns: Vec<String>,
    key_schema: SchemaRef,
    converter: RowConverter,
    hashers: (RandomState, RandomState),
    seen: HashSet<u128, KeyHashes>,
    /// `dt` partitions (days since the epoch; `None` for rows without a time) already read.
    partitions_read: HashSet<Option<i32>>,
}

impl std::fmt::Debug for Dedup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dedup")
            .field("table", &self.def.name)
            .field("keys", &self.seen.len())
            .finish()
    }
}

impl Dedup {
    /// A key set for `def`, keyed by `key_columns`.
    pub fn new(def: &'static TableDef, key_columns: Vec<String>) -> Result<Dedup> {
        let fields = key_columns
            .iter()
            .map(|name| {
                def.schema
                    .field_with_name(name)
                    .cloned()
                    .map_err(|_| Error::Config(format!("{}: no key column {name}", def.name)))
            })
            .collect::<Result<Vec<_>>>()?;
        let converter = RowConverter::new(
            fields
                .iter()
                .map(|f| SortField::new(f.data_type().clone()))
                .collect(),
        )?;
        Ok(Dedup {
            def,
            key_columns,
            key_schema: Arc::new(arrow::datatypes::Schema::new(fields)),
            converter,
            hashers: (RandomState::new(), RandomState::new()),
            seen: HashSet::default(),
            partitions_read: HashSet::new(),
        })
    }

    /// `batch` without the rows whose key the lake or an earlier row of the load already has,
    /// and the number dropped. `ctx` has the lake's tables registered.
    pub async fn filter(
        &mut self,
        ctx: &SessionContext,
        batch: &RecordBatch,
    ) -> Result<(RecordBatch, u64)> {
        if batch.num_rows() == 0 {
            return Ok((batch.clone(), 0));
        }
        self.read_stored_keys(ctx, batch).await?;
        let hashes = self.hashes(batch)?;
        let keep: BooleanArray = hashes.iter().map(|h| Some(self.seen.insert(*h))).collect();
        let kept = filter_record_batch(batch, &keep)?;
        let dropped = (batch.num_rows() - kept.num_rows()) as u64;
        Ok((kept, dropped))
    }

    /// The 128-bit key hash of every row of `batch`.
    fn hashes(&self, batch: &RecordBatch) -> Result<Vec<u128>> {
        let columns = self
            .key_columns
            .iter()
            .zip(self.key_schema.fields())
            .map(|(name, field)| {
                let column = batch
                    .column_by_name(name)
                    .ok_or_else(|| Error::Config(format!("{}: no column {name}", self.def.name)))?;
                Ok(cast(column, field.data_type())?)
            })
            .collect::<Result<Vec<_>>>()?;
        let rows = self.converter.convert_columns(&columns)?;
        let (a, b) = &self.hashers;
        Ok(rows
            .iter()
            .map(|row| {
                let bytes = row.as_ref();
                (u128::from(a.hash_one(bytes)) << 64) | u128::from(b.hash_one(bytes))
            })
            .collect())
    }

    /// Reads the keys of the stored rows of every partition `batch` falls in that the load has
    /// not read yet.
    async fn read_stored_keys(&mut self, ctx: &SessionContext, batch: &RecordBatch) -> Result<()> {
        let Some(time_column) = self.def.time_column else {
            return Ok(());
        };
        let days = partition_days(batch, time_column)?;
        let new: Vec<Option<i32>> = days
            .into_iter()
            .filter(|d| self.partitions_read.insert(*d))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        let mut conditions: Vec<String> = new
            .iter()
            .flatten()
            .map(|day| format!("DATE '{}'", day_text(*day)))
            .collect::<Vec<_>>()
            .chunks(500)
            .map(|days| format!("dt IN ({})", days.join(", ")))
            .collect();
        if new.contains(&None) {
            conditions.push("dt IS NULL".into());
        }
        let columns: Vec<String> = self
            .key_columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect();
        let query = format!(
            "SELECT {} FROM \"{}\" WHERE {}",
            columns.join(", "),
            self.def.name,
            conditions.join(" OR ")
        );
        let stored = ctx.sql(&query).await?.collect().await?;
        for stored_batch in &stored {
            let renamed = RecordBatch::try_new(
                self.key_schema.clone(),
                stored_batch
                    .columns()
                    .iter()
                    .zip(self.key_schema.fields())
                    .map(|(c, f)| cast(c, f.data_type()))
                    .collect::<std::result::Result<Vec<_>, _>>()?,
            )?;
            let hashes = self.hashes(&renamed)?;
            self.seen.extend(hashes);
        }
        Ok(())
    }
}

/// Hashing for the key set: its members are already keyed 128-bit hashes, so their low half
/// is used as is (the set needs no second pass of SipHash over them).
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyHashes;

impl BuildHasher for KeyHashes {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(0)
    }
}

/// The [`Hasher`] of [`KeyHashes`].
#[derive(Debug, Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, value: u128) {
        self.0 ^= value as u64;
    }
}

/// The distinct `dt` days (days since the epoch) of `batch`'s rows.
pub fn partition_days(batch: &RecordBatch, time_column: &str) -> Result<Vec<Option<i32>>> {
    let times = batch
        .column_by_name(time_column)
        .and_then(|c| c.as_any().downcast_ref::<TimestampMicrosecondArray>())
        .ok_or_else(|| Error::Config(format!("time column {time_column} is not a timestamp")))?;
    let mut days: Vec<Option<i32>> = times
        .iter()
        .map(|t| t.map(|micros| micros.div_euclid(MICROS_PER_DAY) as i32))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    days.sort();
    Ok(days)
}

/// `YYYY-MM-DD` of a day number.
pub fn day_text(day: i32) -> String {
    let date = Date32Array::from(vec![day]);
    date.value_as_date(0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A text column of `batch` (any string type) as a `StringArray`.
pub fn utf8(batch: &RecordBatch, name: &str) -> Result<StringArray> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| Error::Config(format!("no column {name}")))?;
    Ok(cast(column, &DataType::Utf8)?.as_string::<i32>().clone())
}

/// The strings of a text column of `batch` (any string type), row by row.
pub fn strings(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| Error::Config(format!("no column {name}")))?;
    let text = cast(column, &DataType::Utf8)?;
    Ok(text
        .as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_print_as_dates() {
        // 2026-10-01T00:00:00Z is 1_790_812_800 s after the epoch = 20727 days of 86400 s.
        assert_eq!(day_text(20727), "2026-10-01");
        assert_eq!(day_text(0), "1970-01-01");
    }
}
