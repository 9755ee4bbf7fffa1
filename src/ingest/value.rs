//! One input value to one typed cell of a lake column, or the reason it cannot be one.
//!
//! | column type   | accepted input                                                                      |
//! |---------------|-------------------------------------------------------------------------------------|
//! | text          | a string; an integer (JSON ids written as numbers) becomes its decimal text          |
//! | boolean       | `true`/`false`; as text `true`, `false`, `t`, `f`, `1`, `0`, `yes`, `no` (any case)   |
//! | integer       | an integer, or its decimal text (BigQuery's JSON writes INT64 as text); out of range is an error |
//! | float         | a number or its text                                                                 |
//! | timestamp     | RFC 3339 with an offset (`2026-10-01T09:30:00+05:30`, `...Z`), also with a space for `T` and a ` UTC` suffix; epoch seconds or milliseconds (number or digits; magnitudes of 10^11 and more are milliseconds); a timestamp without a zone is an error unless the load names a zone (`--assume-tz`) |
//!
//! NULL is `null` (JSON), an empty field (CSV) or a missing column. Timestamps are stored as
//! microseconds since the epoch, UTC.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A value as read from the input, before it is checked against a column type.
#[derive(Debug, Clone, PartialEq)]
pub enum Input<'a> {
    /// JSON `null`, an empty CSV field.
    Null,
    /// A JSON boolean.
    Bool(bool),
    /// A JSON integer.
    Int(i64),
    /// A JSON integer above `i64::MAX`.
    BigInt(u64),
    /// A JSON number with a fraction or exponent.
    Float(f64),
    /// A JSON string or a CSV field.
    Text(Cow<'a, str>),
    /// A timestamp already typed by the source (Parquet), µs since the epoch, UTC.
    Micros(i64),
    /// A JSON object or array (never valid for a lake column).
    Nested(&'static str),
}

impl Input<'_> {
    /// What the value is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Input::Null => "null",
            Input::Bool(_) => "a boolean",
            Input::Int(_) | Input::BigInt(_) => "an integer",
            Input::Float(_) => "a number",
            Input::Text(_) => "a string",
            Input::Micros(_) => "a timestamp",
            Input::Nested(kind) => kind,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Input<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(InputVisitor)
    }
}

struct InputVisitor;

impl<'de> Visitor<'de> for InputVisitor {
    type Value = Input<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Input::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Input::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Input::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Input::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Input::BigInt(v), Input::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Input::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Input::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Input::Text(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Input::Text(Cow::Owned(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Input::Nested("an object"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Input::Nested("an array"))
    }
}

/// A JSON object's members in input order (keys borrowed where the line has no escapes).
#[derive(Debug, Default)]
pub struct JsonRow<'a>(pub Vec<(Cow<'a, str>, Input<'a>)>);

impl<'de> serde::Deserialize<'de> for JsonRow<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RowVisitor)
    }
}

struct RowVisitor;

struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a column name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> Visitor<'de> for RowVisitor {
    type Value = JsonRow<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object (one row per line)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some((Key(key), value)) = map.next_entry::<Key<'de>, Input<'de>>()? {
            members.push((key, value));
        }
        Ok(JsonRow(members))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom("a row must be a JSON object, not an array"))
    }
}

/// Text of a text column.
pub fn to_text<'a>(value: Input<'a>) -> Result<Option<Cow<'a, str>>, String> {
    match value {
        Input::Null => Ok(None),
        Input::Text(s) => Ok(Some(s)),
        Input::Int(i) => Ok(Some(Cow::Owned(i.to_string()))),
        Input::BigInt(i) => Ok(Some(Cow::Owned(i.to_string()))),
        other => Err(format!("expected a string, got {}", other.kind())),
    }
}

/// A boolean column's value.
pub fn to_bool(value: &Input<'_>) -> Result<Option<bool>, String> {
    match value {
        Input::Null => Ok(None),
        Input::Bool(b) => Ok(Some(*b)),
        Input::Int(0) => Ok(Some(false)),
        Input::Int(1) => Ok(Some(true)),
        Input::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "1" | "yes" | "y" => Ok(Some(true)),
            "false" | "f" | "0" | "no" | "n" => Ok(Some(false)),
            _ => Err(format!("expected a boolean, got '{s}'")),
        },
        other => Err(format!("expected a boolean, got {}", other.kind())),
    }
}

/// An integer column's value, checked against `[min, max]`.
pub fn to_int(value: &Input<'_>, min: i64, max: i64) -> Result<Option<i64>, String> {
    let v = match value {
        Input::Null => return Ok(None),
        Input::Int(i) => *i,
        Input::Float(f) if f.fract() == 0.0 && f.is_finite() && f.abs() < 9.0e15 => *f as i64,
        Input::Text(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("expected an integer, got '{s}'"))?,
        Input::BigInt(i) => return Err(format!("{i} is out of range [{min}, {max}]")),
        other => return Err(format!("expected an integer, got {}", other.kind())),
    };
    if v < min || v > max {
        return Err(format!("{v} is out of range [{min}, {max}]"));
    }
    Ok(Some(v))
}

/// A float column's value.
pub fn to_float(value: &Input<'_>) -> Result<Option<f64>, String> {
    match value {
        Input::Null => Ok(None),
        Input::Int(i) => Ok(Some(*i as f64)),
        Input::BigInt(i) => Ok(Some(*i as f64)),
        Input::Float(f) => Ok(Some(*f)),
        Input::Text(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Some)
            .ok_or_else(|| format!("expected a number, got '{s}'")),
        other => Err(format!("expected a number, got {}", other.kind())),
    }
}

/// Epoch values at or above this magnitude are milliseconds (10^11 s is the year 5138,
/// 10^11 ms is March 1973).
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// A timestamp column's value, µs since the epoch (UTC).
pub fn to_micros(value: &Input<'_>, assume_tz: Option<Tz>) -> Result<Option<i64>, String> {
    match value {
        Input::Null => Ok(None),
        Input::Micros(m) => Ok(Some(*m)),
        Input::Int(i) => epoch_micros(*i as f64).map(Some),
        Input::Float(f) => epoch_micros(*f).map(Some),
        Input::Text(s) => parse_timestamp(s.trim(), assume_tz).map(Some),
        other => Err(format!("expected a timestamp, got {}", other.kind())),
    }
}

/// Epoch seconds (or milliseconds, by magnitude) to microseconds.
fn epoch_micros(value: f64) -> Result<i64, String> {
    if !value.is_finite() {
        return Err("expected a timestamp, got a non-finite number".into());
    }
    let micros = if value.abs() >= MILLIS_THRESHOLD as f64 {
        value * 1_000.0
    } else {
        value * 1_000_000.0
    };
    // Year 1 to 9999 in microseconds.
    if !(-62_135_596_800e6..=253_402_300_799e6).contains(&micros) {
        return Err(format!("epoch value {value} is out of range"));
    }
    Ok(micros.round() as i64)
}

/// Parses the timestamp text forms of the module table.
pub fn parse_timestamp(text: &str, assume_tz: Option<Tz>) -> Result<i64, String> {
    if text.is_empty() {
        return Err("expected a timestamp, got an empty string".into());
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let value: f64 = text
            .parse()
            .map_err(|_| format!("expected a timestamp, got '{text}'"))?;
        return epoch_micros(value);
    }
    let normalised: Cow<str> = match text.strip_suffix(" UTC").or(text.strip_suffix(" utc")) {
        Some(head) => Cow::Owned(format!("{head}Z")),
        None => Cow::Borrowed(text),
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(&normalised) {
        return Ok(t.timestamp_micros());
    }
    let spaced = normalised.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&spaced) {
        return Ok(t.timestamp_micros());
    }
    // Offsets without a colon (+0530), as some exporters write them.
    if let Ok(t) = DateTime::parse_from_str(&spaced, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Ok(t.timestamp_micros());
    }
    let naive = NaiveDateTime::parse_from_str(&spaced, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(&spaced, "%Y-%m-%dT%H:%M"))
        .map_err(|_| {
            format!("'{text}' is not a timestamp (RFC 3339 with an offset, or epoch seconds/milliseconds)")
        })?;
    let Some(zone) = assume_tz else {
        return Err(format!(
            "'{text}' has no time zone (add an offset such as Z or +05:30, or load with --assume-tz ZONE)"
        ));
    };
    match zone.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => Ok(t.timestamp_micros()),
        chrono::LocalResult::Ambiguous(early, _) => Ok(early.timestamp_micros()),
        chrono::LocalResult::None => Err(format!(
            "'{text}' does not exist in {zone} (a daylight-saving gap)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Input<'_> {
        Input::Text(Cow::Borrowed(s))
    }

    #[test]
    fn timestamps_with_offsets_and_epochs() {
        // 2026-10-01T04:00:00Z = 1790827200 s since the epoch (hand: 20362 days * 86400 + 4 h).
        let want = 1_790_827_200_000_000;
        assert_eq!(parse_timestamp("2026-10-01T04:00:00Z", None), Ok(want));
        assert_eq!(parse_timestamp("2026-10-01T09:30:00+05:30", None), Ok(want));
        assert_eq!(parse_timestamp("2026-10-01 04:00:00 UTC", None), Ok(want));
        assert_eq!(parse_timestamp("2026-10-01 09:30:00+0530", None), Ok(want));
        assert_eq!(to_micros(&Input::Int(1_790_827_200), None), Ok(Some(want)));
        assert_eq!(
            to_micros(&Input::Int(1_790_827_200_000), None),
            Ok(Some(want))
        );
        assert_eq!(to_micros(&text("1790827200"), None), Ok(Some(want)));
        assert_eq!(
            to_micros(&Input::Float(1_790_827_200.5), None),
            Ok(Some(want + 500_000))
        );
    }

    #[test]
    fn a_timestamp_without_a_zone_needs_one() {
        let err = parse_timestamp("2026-10-01 09:30:00", None).expect_err("no zone");
        assert!(err.contains("no time zone"), "{err}");
        let kolkata: Tz = "Asia/Kolkata".parse().expect("zone");
        assert_eq!(
            parse_timestamp("2026-10-01 09:30:00", Some(kolkata)),
            Ok(1_790_827_200_000_000)
        );
        assert!(parse_timestamp("yesterday", None).is_err());
    }

    #[test]
    fn numbers_and_booleans_from_text_and_json() {
        assert_eq!(to_int(&text(" 42 "), 0, 100), Ok(Some(42)));
        assert!(to_int(&text("4.5"), 0, 100).is_err());
        assert!(to_int(&Input::Int(131_026), 0, i32::MAX as i64).is_ok());
        assert!(to_int(&Input::Int(i64::from(i32::MAX) + 1), 0, i32::MAX as i64).is_err());
        assert_eq!(to_bool(&text("FALSE")), Ok(Some(false)));
        assert!(to_bool(&text("maybe")).is_err());
        assert_eq!(to_float(&text("2.5")), Ok(Some(2.5)));
        assert_eq!(
            to_text(Input::Int(919_876_543_210)).map(|t| t.map(|c| c.into_owned())),
            Ok(Some("919876543210".to_string()))
        );
        assert!(to_text(Input::Bool(true)).is_err());
    }

    #[test]
    fn json_rows_keep_members_in_order_and_nested_values_are_marked() {
        let row: JsonRow = serde_json::from_str(r#"{"a": 1, "b": {"x": [1]}, "c": "t\"x"}"#)
            .expect("parse");
        assert_eq!(row.0.len(), 3);
        assert_eq!(row.0[0], (Cow::Borrowed("a"), Input::Int(1)));
        assert_eq!(row.0[1].1, Input::Nested("an object"));
        assert_eq!(row.0[2].1, Input::Text(Cow::Owned("t\"x".into())));
        assert!(serde_json::from_str::<JsonRow>("[1, 2]").is_err());
    }
}
