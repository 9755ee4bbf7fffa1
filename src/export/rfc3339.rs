//! Timestamp columns as RFC 3339 text for NDJSON and CSV, written digit by digit: the same
//! text as chrono's `%Y-%m-%dT%H:%M:%S%.6f%:z` (`2026-10-01T09:30:00.000001+00:00`; without
//! the offset for a timestamp without a zone), several times faster than formatting through a
//! pattern per value, which was the largest cost of a text export.
//!
//! Only microsecond timestamps in UTC (every lake timestamp) or without a zone, years 0 to
//! 9999, are converted; any other column is left to the writer's own formatting.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::buffer::{Buffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit, TimestampMicrosecondType};

use crate::error::Result;

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// 0000-01-01 and 10000-01-01 as microseconds since 1970-01-01: the years written with 4 digits.
const FIRST_MICROS: i64 = -719_528 * MICROS_PER_DAY;
const END_MICROS: i64 = 2_932_897 * MICROS_PER_DAY;

/// `batch` with its UTC (or zone-less) microsecond timestamp columns as RFC 3339 strings.
pub fn timestamps_as_text(batch: &RecordBatch) -> Result<RecordBatch> {
    let schema = batch.schema();
    if !schema.fields().iter().any(|f| convertible(f.data_type())) {
        return Ok(batch.clone());
    }
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        let text = match field.data_type() {
            DataType::Timestamp(TimeUnit::Microsecond, zone) if convertible(field.data_type()) => {
                format_column(column, zone.is_some())
            }
            _ => None,
        };
        match text {
            Some(text) => {
                fields.push(Field::new(
                    field.name(),
                    DataType::Utf8,
                    field.is_nullable(),
                ));
                columns.push(text);
            }
            None => {
                fields.push(field.as_ref().clone());
                columns.push(column.clone());
            }
        }
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
        columns,
    )?)
}

fn convertible(data_type: &DataType) -> bool {
    match data_type {
        DataType::Timestamp(TimeUnit::Microsecond, None) => true,
        DataType::Timestamp(TimeUnit::Microsecond, Some(zone)) => {
            matches!(zone.as_ref(), "UTC" | "+00:00" | "Z")
        }
        _ => false,
    }
}

/// The column as text, `None` when a value falls outside years 0 to 9999.
fn format_column(column: &ArrayRef, offset: bool) -> Option<ArrayRef> {
    let values = column.as_primitive::<TimestampMicrosecondType>();
    let width = if offset { 32 } else { 26 };
    let mut text: Vec<u8> = Vec::with_capacity(values.len() * width);
    let mut offsets: Vec<i32> = Vec::with_capacity(values.len() + 1);
    offsets.push(0);
    for i in 0..values.len() {
        if values.is_valid(i) {
            let micros = values.value(i);
            if !(FIRST_MICROS..END_MICROS).contains(&micros) {
                return None;
            }
            write_timestamp(&mut text, micros, offset);
        }
        offsets.push(i32::try_from(text.len()).ok()?);
    }
    let array = StringArray::try_new(
        OffsetBuffer::new(offsets.into()),
        Buffer::from_vec(text),
        values.nulls().cloned(),
    )
    .ok()?;
    Some(Arc::new(array))
}

/// Appends `YYYY-MM-DDTHH:MM:SS.ffffff` (and `+00:00` with `offset`) for `micros` since the epoch.
fn write_timestamp(out: &mut Vec<u8>, micros: i64, offset: bool) {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let of_day = micros.rem_euclid(MICROS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let seconds = of_day / 1_000_000;
    let fraction = of_day % 1_000_000;
    let mut buf = *b"0000-00-00T00:00:00.000000+00:00";
    pair(&mut buf, 0, year / 100);
    pair(&mut buf, 2, year % 100);
    pair(&mut buf, 5, month);
    pair(&mut buf, 8, day);
    pair(&mut buf, 11, seconds / 3600);
    pair(&mut buf, 14, seconds / 60 % 60);
    pair(&mut buf, 17, seconds % 60);
    pair(&mut buf, 20, fraction / 10_000);
    pair(&mut buf, 22, fraction / 100 % 100);
    pair(&mut buf, 24, fraction % 100);
    out.extend_from_slice(if offset { &buf[..] } else { &buf[..26] });
}

/// Writes `value` (0 to 99) as two digits at `at` (few operations: this runs per value, and
/// unoptimised in dev builds).
fn pair(buf: &mut [u8; 32], at: usize, value: i64) {
    buf[at] = b'0' + (value / 10) as u8;
    buf[at + 1] = b'0' + (value % 10) as u8;
}

/// (year, month, day) of `days` since 1970-01-01 in the proleptic Gregorian calendar (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::TimestampMicrosecondArray;
    use chrono::DateTime;

    /// chrono's formatting of the same instant: the reference.
    fn chrono_text(micros: i64, offset: bool) -> String {
        let t = DateTime::from_timestamp_micros(micros).expect("in range");
        if offset {
            t.format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string()
        } else {
            t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
        }
    }

    #[test]
    fn every_kind_of_instant_is_written_as_chrono_writes_it() {
        let mut instants = vec![
            0,
            -1,
            1_790_847_000_000_001,
            951_782_400_000_000, // 2000-02-29T00:00:00Z, a leap day of a century year
            -62_135_596_800_000_000, // 0001-01-01
            FIRST_MICROS,
            END_MICROS - 1,
        ];
        // ~2.8k instants 348 years either side of 1970, ~92 days apart (an odd number of
        // microseconds: every field of the time moves).
        let mut t = -11_000_000_000_000_000;
        while t < 11_000_000_000_000_000 {
            instants.push(t);
            t += 7_919_000_123_457;
        }
        for offset in [true, false] {
            for micros in &instants {
                let mut out = Vec::new();
                write_timestamp(&mut out, *micros, offset);
                assert_eq!(
                    String::from_utf8(out).expect("ascii"),
                    chrono_text(*micros, offset),
                    "{micros}"
                );
            }
        }
    }

    #[test]
    fn utc_columns_become_text_with_their_nulls_and_others_stay() {
        let utc = TimestampMicrosecondArray::from(vec![Some(1_790_847_000_000_001), None])
            .with_timezone("UTC");
        let far = TimestampMicrosecondArray::from(vec![Some(END_MICROS), None]);
        let paris =
            TimestampMicrosecondArray::from(vec![Some(0), None]).with_timezone("Europe/Paris");
        let batch = RecordBatch::try_from_iter([
            ("utc", Arc::new(utc) as ArrayRef),
            ("far", Arc::new(far) as ArrayRef),
            ("paris", Arc::new(paris) as ArrayRef),
        ])
        .expect("batch");
        let out = timestamps_as_text(&batch).expect("text");
        let text = out.column(0).as_string::<i32>();
        assert_eq!(text.value(0), "2026-10-01T09:30:00.000001+00:00");
        assert!(text.is_null(1));
        // Year 10000 and a zone other than UTC are left to the writer.
        assert_eq!(out.column(1).data_type(), batch.column(1).data_type());
        assert_eq!(out.column(2).data_type(), batch.column(2).data_type());
    }
}
