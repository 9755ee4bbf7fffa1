//! Result rows as JSON arrays, one record batch at a time, from the same values and text forms
//! pgwire sends (`crate::pg::wire::encode`).
//!
//! | Postgres type | JSON |
//! |---|---|
//! | `smallint`, `integer`, `bigint` | number; a `bigint` outside ±2^53 (not exact in a double) as a string |
//! | `real`, `double precision` | number (shortest round-trip form); `NaN`, `Infinity`, `-Infinity` as strings |
//! | `boolean` | `true` / `false` |
//! | `numeric` | string (`"12.50"`: exact) |
//! | `date` | `"YYYY-MM-DD"` |
//! | `timestamp with time zone` | RFC 3339 in the request's `TimeZone`: `"2026-10-01T12:00:00.5+02:00"` |
//! | `timestamp without time zone` | `"YYYY-MM-DD HH:MM:SS[.ffffff]"` |
//! | `text`, `bytea`, `time`, `interval`, anything else | string: pgwire's text form |
//! | arrays | JSON arrays of the elements |
//! | NULL | `null` |

use arrow::record_batch::RecordBatch;
use bytes::BytesMut;
use pgwire::error::PgWireResult;

use crate::pg::error::{code, user_error};
use crate::pg::wire::encode::{Column, OutputOptions, ResultColumns};
use crate::pg::wire::types::Encoding;

/// The largest integer a double holds exactly.
const MAX_EXACT: i64 = 1 << 53;

/// Appends the rows of `batch` to `out` as JSON arrays separated by commas; `first` says
/// whether no row was written before (no leading comma).
pub(crate) fn write_rows(
    columns: &ResultColumns,
    batch: &RecordBatch,
    output: &OutputOptions,
    first: bool,
    out: &mut String,
) -> PgWireResult<()> {
    let arrays = columns.wire_arrays(batch)?;
    let readers = arrays
        .iter()
        .zip(columns.column_types())
        .map(|(array, ty)| {
            Column::new(array.as_ref(), &ty.encoding).map(|column| (column, &ty.encoding))
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(|e| user_error(code::INTERNAL_ERROR, e))?;
    let mut scratch = BytesMut::new();
    for row in 0..batch.num_rows() {
        if row > 0 || !first {
            out.push(',');
        }
        out.push('[');
        for (i, (column, encoding)) in readers.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_value(column, encoding, row, output, &mut scratch, out)
                .map_err(|e| user_error(code::DATA_EXCEPTION, e))?;
        }
        out.push(']');
    }
    Ok(())
}

/// Appends the JSON form of the value at `row` of `column`.
fn write_value(
    column: &Column<'_>,
    encoding: &Encoding,
    row: usize,
    output: &OutputOptions,
    scratch: &mut BytesMut,
    out: &mut String,
) -> Result<(), String> {
    if column.is_null(row) {
        out.push_str("null");
        return Ok(());
    }
    if let Encoding::Array(element) = encoding {
        let (elements, range) = column
            .elements(row)
            .ok_or_else(|| "an array column without list values".to_string())??;
        out.push('[');
        for (n, index) in range.enumerate() {
            if n > 0 {
                out.push(',');
            }
            write_value(elements, &element.encoding, index, output, scratch, out)?;
        }
        out.push(']');
        return Ok(());
    }
    scratch.clear();
    column.text(row, scratch, output)?;
    let text = std::str::from_utf8(scratch).map_err(|e| e.to_string())?;
    match encoding {
        Encoding::Bool => out.push_str(if text == "t" { "true" } else { "false" }),
        Encoding::Int2 | Encoding::Int4 => out.push_str(text),
        Encoding::Int8 => match text.parse::<i64>() {
            Ok(n) if (-MAX_EXACT..=MAX_EXACT).contains(&n) => out.push_str(text),
            _ => push_string(text, out),
        },
        Encoding::Float4 | Encoding::Float8 => {
            if matches!(text, "NaN" | "Infinity" | "-Infinity") {
                push_string(text, out);
            } else {
                out.push_str(text);
            }
        }
        Encoding::TimestampTz => push_string(&rfc3339(text), out),
        _ => push_string(text, out),
    }
    Ok(())
}

/// `2026-10-01 12:00:00.5+02` (PostgreSQL's ISO output) as RFC 3339:
/// `2026-10-01T12:00:00.5+02:00`. A `BC` date or a form not recognised is returned as is.
fn rfc3339(text: &str) -> String {
    if text.ends_with(" BC") {
        return text.to_string();
    }
    let Some((date, time)) = text.split_once(' ') else {
        return text.to_string();
    };
    // The offset starts at the last sign after the time of day (`12:00:00+05:30`).
    let Some(sign) = time.rfind(['+', '-']) else {
        return text.to_string();
    };
    let (clock, offset) = time.split_at(sign);
    let parts: Vec<&str> = offset[1..].split(':').collect();
    let offset = match parts.as_slice() {
        [hours] => format!("{}{hours}:00", &offset[..1]),
        [hours, minutes] => format!("{}{hours}:{minutes}", &offset[..1]),
        // Seconds in an offset (historical zones) have no RFC 3339 form: keep them.
        _ => offset.to_string(),
    };
    format!("{date}T{clock}{offset}")
}

/// Appends `text` as a JSON string.
fn push_string(text: &str, out: &mut String) {
    // Serializing a &str cannot fail.
    out.push_str(&serde_json::to_string(text).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn postgres_timestamptz_text_becomes_rfc3339() {
        assert_eq!(
            rfc3339("2026-10-01 12:00:00+02"),
            "2026-10-01T12:00:00+02:00"
        );
        assert_eq!(
            rfc3339("2026-10-01 12:00:00.123456-03:30"),
            "2026-10-01T12:00:00.123456-03:30"
        );
        assert_eq!(
            rfc3339("0044-03-15 12:00:00+00 BC"),
            "0044-03-15 12:00:00+00 BC"
        );
    }
}
