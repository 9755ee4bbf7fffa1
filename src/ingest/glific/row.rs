//! One row of a Glific export table, read the way `bq extract` writes it, and why a row is bad.
//!
//! | BigQuery type | as exported                                                     | read as                         |
//! |---------------|-----------------------------------------------------------------|---------------------------------|
//! | INTEGER       | NDJSON: a string of digits (BigQuery quotes INT64) or a number; Parquet: INT64 | text ([`Row::id`]), for ids  |
//! | STRING        | a string (a number is taken as its text)                        | text; `""` is NULL              |
//! | BOOLEAN       | `true`/`false` (or their text)                                  | bool                            |
//! | DATETIME      | `YYYY-MM-DD HH:MM:SS[.ffffff]` or with a `T`; Parquet: a timestamp without zone | the organisation's local wall-clock time, converted to UTC with [`Row::zone`] ([`crate::ingest::value::parse_timestamp`]: an ambiguous time at a DST change is the earlier instant; a time that does not exist is an error) |
//!
//! A missing member and `null` are NULL.

use chrono_tz::Tz;
use serde_json::{Map, Value};

use crate::ingest::value::parse_timestamp;

/// Why a row cannot be imported: the column at fault (when one is) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The Glific column.
    pub column: Option<String>,
    /// Why.
    pub reason: String,
}

impl RowError {
    /// A problem with `column`.
    pub fn column(column: &str, reason: impl Into<String>) -> RowError {
        RowError {
            column: Some(column.to_string()),
            reason: reason.into(),
        }
    }
}

/// One exported row and the organisation's time zone.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    members: &'a Map<String, Value>,
    zone: Tz,
}

impl<'a> Row<'a> {
    /// `value` as a row; an error unless it is a JSON object.
    pub fn new(value: &'a Value, zone: Tz) -> Result<Row<'a>, RowError> {
        match value.as_object() {
            Some(members) => Ok(Row { members, zone }),
            None => Err(RowError {
                column: None,
                reason: "not a row: the JSON is not an object".into(),
            }),
        }
    }

    /// The organisation's zone, in which every DATETIME is written.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The raw value of `column` (`None` when missing or `null`).
    pub fn value(&self, column: &str) -> Option<&'a Value> {
        self.members.get(column).filter(|v| !v.is_null())
    }

    /// A STRING column: text, a number's or boolean's text; `""` and NULL are `None`.
    pub fn text(&self, column: &str) -> Result<Option<String>, RowError> {
        match self.value(column) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(RowError::column(
                column,
                "expected text, got an array or object",
            )),
        }
    }

    /// A STRING column that must have a value.
    pub fn required_text(&self, column: &str) -> Result<String, RowError> {
        self.text(column)?
            .ok_or_else(|| RowError::column(column, "is empty (the column is REQUIRED)"))
    }

    /// An INTEGER id column as text (`"42"`), `None` when NULL; anything but an integer is an
    /// error.
    pub fn id(&self, column: &str) -> Result<Option<String>, RowError> {
        let text = match self.value(column) {
            None => return Ok(None),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(other) => {
                return Err(RowError::column(
                    column,
                    format!("expected an integer, got {other}"),
                ));
            }
        };
        if text.is_empty() {
            return Ok(None);
        }
        let digits = text.strip_prefix('-').unwrap_or(&text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RowError::column(
                column,
                format!("expected an integer, got '{text}'"),
            ));
        }
        Ok(Some(text))
    }

    /// An INTEGER id column that must have a value.
    pub fn required_id(&self, column: &str) -> Result<String, RowError> {
        self.id(column)?
            .ok_or_else(|| RowError::column(column, "is empty (the column is REQUIRED)"))
    }

    /// A BOOLEAN column.
    pub fn boolean(&self, column: &str) -> Result<Option<bool>, RowError> {
        match self.value(column) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                "" => Ok(None),
                _ => Err(RowError::column(
                    column,
                    format!("expected true or false, got '{s}'"),
                )),
            },
            Some(other) => Err(RowError::column(
                column,
                format!("expected true or false, got {other}"),
            )),
        }
    }

    /// A DATETIME column (organisation-local) as µs since the epoch, UTC.
    pub fn local_time(&self, column: &str) -> Result<Option<i64>, RowError> {
        let Some(text) = self.text(column)? else {
            return Ok(None);
        };
        parse_timestamp(text.trim(), Some(self.zone))
            .map(Some)
            .map_err(|why| RowError::column(column, why))
    }

    /// A DATETIME column that must have a value.
    pub fn required_time(&self, column: &str) -> Result<i64, RowError> {
        self.local_time(column)?
            .ok_or_else(|| RowError::column(column, "is empty (a time is needed)"))
    }
}

/// A phone number as chatlake names contacts: without `+` and spaces. `wa_id` is the same
/// when it is all digits (Glific's simulator numbers, `9876543210_1`, are not).
pub fn contact_of_phone(phone: &str) -> (String, Option<String>) {
    let id: String = phone
        .trim()
        .trim_start_matches('+')
        .chars()
        .filter(|c| *c != ' ')
        .collect();
    let wa_id = (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.clone());
    (id, wa_id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn zone() -> Tz {
        "Asia/Kolkata".parse().unwrap()
    }

    #[test]
    fn datetimes_are_local_to_the_organisation() {
        let value = serde_json::json!({
            "a": "2026-03-01 00:10:00", "b": "2026-03-01T00:10:00.500000", "c": null, "d": "x"
        });
        let row = Row::new(&value, zone()).unwrap();
        // 00:10 at +05:30 is 18:40 UTC the day before: 2026-02-28T18:40:00Z.
        let expected = chrono::DateTime::parse_from_rfc3339("2026-02-28T18:40:00Z")
            .unwrap()
            .timestamp_micros();
        assert_eq!(row.local_time("a").unwrap(), Some(expected));
        assert_eq!(row.local_time("b").unwrap(), Some(expected + 500_000));
        assert_eq!(row.local_time("c").unwrap(), None);
        assert_eq!(row.local_time("missing").unwrap(), None);
        assert_eq!(
            row.local_time("d").unwrap_err().column.as_deref(),
            Some("d")
        );
    }

    #[test]
    fn ids_are_integers_written_as_numbers_or_text() {
        let value = serde_json::json!({"a": 42, "b": "43", "c": "4x", "d": 1.5, "e": ""});
        let row = Row::new(&value, zone()).unwrap();
        assert_eq!(row.id("a").unwrap().as_deref(), Some("42"));
        assert_eq!(row.id("b").unwrap().as_deref(), Some("43"));
        assert!(row.id("c").is_err());
        assert!(row.id("d").is_err());
        assert_eq!(row.id("e").unwrap(), None);
        assert!(row.required_id("e").is_err());
    }

    #[test]
    fn phones_become_contact_ids() {
        assert_eq!(
            contact_of_phone("+91 98765 43210"),
            ("919876543210".into(), Some("919876543210".into()))
        );
        assert_eq!(
            contact_of_phone("9876543210_1"),
            ("9876543210_1".into(), None)
        );
    }
}
