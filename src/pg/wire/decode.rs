//! Values of a `Bind`, decoded: each parameter's bytes (text or binary, as the client says) read
//! as its type ([`crate::pg::sql::plan::params`]).
//!
//! A value is decoded as its type, then cast to
//! the type DataFusion inferred for the placeholder when they differ (an `int2` sent for an
//! `int8` column becomes `Int64`). NULL becomes a typed NULL. A value that does not parse is
//! `22P02`; a wrong number of values is `08P01`.
//!
//! Text forms accepted beyond what Arrow parses: `t/true/yes/on/1` for booleans,
//! `2023-01-01 00:00:00+00` and `…T…Z` for timestamps, `2024-02-03 +00` for dates (pgjdbc),
//! `\x…` hex for `bytea`.

use std::sync::Arc;

use arrow::datatypes::{DataType, IntervalMonthDayNano};
use bytes::Bytes;
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use datafusion::common::ScalarValue;
use pgwire::api::Type;
use pgwire::api::portal::Format;
use pgwire::error::{PgWireError, PgWireResult};

use super::format::{self, PG_EPOCH_DAYS, PG_EPOCH_MICROS};
use super::types::{element_of, natural_type};
use crate::pg::error::{code, from_datafusion, user_error};
use crate::pg::sql::plan::params::ParamType;

/// Decodes the values of a `Bind` into scalars, in placeholder order.
pub(crate) fn decode_parameters(
    types: &[ParamType],
    values: &[Option<Bytes>],
    formats: &Format,
    time_zone: &Tz,
) -> PgWireResult<Vec<ScalarValue>> {
    if values.len() != types.len() {
        return Err(user_error(
            code::PROTOCOL_VIOLATION,
            format!(
                "bind message supplies {} parameters, but prepared statement requires {}",
                values.len(),
                types.len()
            ),
        ));
    }
    types
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, (ty, value))| {
            let binary = is_binary(formats, i);
            decode_one(ty, value.as_deref(), binary, time_zone)
        })
        .collect()
}

/// Parameter formats in `Bind`: none = all text, one = all the same, else one per parameter.
fn is_binary(formats: &Format, index: usize) -> bool {
    match formats {
        Format::UnifiedText => false,
        Format::UnifiedBinary => true,
        Format::Individual(codes) => codes.get(index).is_some_and(|c| *c == 1),
    }
}

fn decode_one(
    ty: &ParamType,
    value: Option<&[u8]>,
    binary: bool,
    time_zone: &Tz,
) -> PgWireResult<ScalarValue> {
    let target = ty.inferred.clone();
    let Some(bytes) = value else {
        let null_type = target.unwrap_or_else(|| natural_type(&ty.pg));
        return ScalarValue::try_from(&null_type).map_err(|e| from_datafusion(&e));
    };
    let scalar = if binary {
        decode_binary(&ty.pg, bytes)
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| {
            user_error(
                code::INVALID_TEXT_REPRESENTATION,
                "invalid byte sequence for encoding \"UTF8\"",
            )
        })?;
        decode_text(&ty.pg, text, target.as_ref(), time_zone)
    }
    .ok_or_else(|| invalid_input(&ty.pg, bytes, binary))?;
    match target {
        Some(target) if scalar.data_type() != target => scalar.cast_to(&target).map_err(|_| {
            user_error(
                code::INVALID_TEXT_REPRESENTATION,
                format!(
                    "invalid input for parameter of type {}: {}",
                    target,
                    display_value(bytes, binary)
                ),
            )
        }),
        _ => Ok(scalar),
    }
}

fn display_value(bytes: &[u8], binary: bool) -> String {
    if binary {
        format!("{} bytes", bytes.len())
    } else {
        format!("\"{}\"", String::from_utf8_lossy(bytes))
    }
}

fn invalid_input(ty: &Type, bytes: &[u8], binary: bool) -> PgWireError {
    user_error(
        code::INVALID_TEXT_REPRESENTATION,
        format!(
            "invalid input syntax for type {}: {}",
            ty.name(),
            display_value(bytes, binary)
        ),
    )
}

/// The element type of an array type (`_text` → `text`).
fn array_element(ty: &Type) -> Option<Type> {
    element_of(ty)
}

/// A one-dimensional array value from its elements, each decoded as `element`.
fn array_value(element: &Type, values: Vec<Option<ScalarValue>>) -> Option<ScalarValue> {
    let element_type = natural_type(element);
    let values = values
        .into_iter()
        .map(|v| match v {
            Some(v) if v.data_type() == element_type => Some(v),
            Some(v) => v.cast_to(&element_type).ok(),
            None => ScalarValue::try_from(&element_type).ok(),
        })
        .collect::<Option<Vec<_>>>()?;
    Some(ScalarValue::List(ScalarValue::new_list_nullable(
        &values,
        &element_type,
    )))
}

/// The elements of a one-dimensional array literal in PostgreSQL's text form:
/// `{a,"b c",NULL,"d\"e"}` → `a`, `b c`, NULL, `d"e`. Multi-dimensional arrays: `None`.
fn parse_array_text(text: &str) -> Option<Vec<Option<String>>> {
    let text = text.trim();
    // An explicit lower bound (`[1:3]={…}`) changes nothing for a one-dimensional value.
    let text = match text.strip_prefix('[') {
        Some(rest) => rest.split_once('=')?.1.trim_start(),
        None => text,
    };
    let inner = text.strip_prefix('{')?.strip_suffix('}')?;
    let mut elements = Vec::new();
    if inner.trim().is_empty() {
        return Some(elements);
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        let quoted = chars.next_if_eq(&'"').is_some();
        if quoted {
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            elements.push(Some(value));
        } else {
            let mut escaped = false;
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                chars.next();
                match c {
                    '{' | '}' | '"' => return None,
                    '\\' => {
                        value.push(chars.next()?);
                        escaped = true;
                    }
                    c => value.push(c),
                }
            }
            let value = value.trim_end().to_string();
            if value.is_empty() {
                return None;
            }
            elements.push((escaped || !value.eq_ignore_ascii_case("null")).then_some(value));
        }
        match chars.next() {
            None => return Some(elements),
            Some(',') => continue,
            Some(_) => return None,
        }
    }
}

/// A one-dimensional array in PostgreSQL's binary form: dimensions, null flag, element OID,
/// then per dimension its length and lower bound, then each element as length (-1: NULL) and
/// bytes.
fn parse_array_binary(element: &Type, bytes: &[u8]) -> Option<ScalarValue> {
    let mut at = 0usize;
    let int = |bytes: &[u8], at: &mut usize| -> Option<i32> {
        let value = i32::from_be_bytes(bytes.get(*at..*at + 4)?.try_into().ok()?);
        *at += 4;
        Some(value)
    };
    let dimensions = int(bytes, &mut at)?;
    let _has_nulls = int(bytes, &mut at)?;
    let _element_oid = int(bytes, &mut at)?;
    let mut values = Vec::new();
    match dimensions {
        0 => {}
        1 => {
            let length = int(bytes, &mut at)?;
            let _lower_bound = int(bytes, &mut at)?;
            for _ in 0..length {
                let size = int(bytes, &mut at)?;
                if size < 0 {
                    values.push(None);
                    continue;
                }
                let start = at;
                let end = start.checked_add(usize::try_from(size).ok()?)?;
                let value = decode_binary(element, bytes.get(start..end)?)?;
                at = end;
                values.push(Some(value));
            }
            if at != bytes.len() {
                return None;
            }
        }
        _ => return None,
    }
    array_value(element, values)
}

fn timestamptz(micros: i64) -> ScalarValue {
    ScalarValue::TimestampMicrosecond(Some(micros), Some(Arc::from("UTC")))
}

fn decode_binary(ty: &Type, bytes: &[u8]) -> Option<ScalarValue> {
    fn array<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
        bytes.try_into().ok()
    }
    if let Some(element) = array_element(ty) {
        return parse_array_binary(&element, bytes);
    }
    let value = match *ty {
        Type::BOOL => ScalarValue::Boolean(Some(array::<1>(bytes)?[0] != 0)),
        Type::INT2 => ScalarValue::Int16(Some(i16::from_be_bytes(array(bytes)?))),
        Type::INT4 => ScalarValue::Int32(Some(i32::from_be_bytes(array(bytes)?))),
        Type::INT8 => ScalarValue::Int64(Some(i64::from_be_bytes(array(bytes)?))),
        Type::OID => ScalarValue::Int64(Some(i64::from(u32::from_be_bytes(array(bytes)?)))),
        Type::FLOAT4 => ScalarValue::Float32(Some(f32::from_be_bytes(array(bytes)?))),
        Type::FLOAT8 => ScalarValue::Float64(Some(f64::from_be_bytes(array(bytes)?))),
        Type::NUMERIC => decimal(&format::numeric_from_binary(bytes).ok()?)?,
        Type::BYTEA => ScalarValue::Binary(Some(bytes.to_vec())),
        Type::DATE => ScalarValue::Date32(Some(
            i32::from_be_bytes(array(bytes)?).checked_add(PG_EPOCH_DAYS)?,
        )),
        Type::TIME => ScalarValue::Time64Microsecond(Some(i64::from_be_bytes(array(bytes)?))),
        Type::TIMESTAMP => ScalarValue::TimestampMicrosecond(
            Some(i64::from_be_bytes(array(bytes)?).checked_add(PG_EPOCH_MICROS)?),
            None,
        ),
        Type::TIMESTAMPTZ => {
            timestamptz(i64::from_be_bytes(array(bytes)?).checked_add(PG_EPOCH_MICROS)?)
        }
        Type::INTERVAL => {
            let raw: [u8; 16] = array(bytes)?;
            let micros = i64::from_be_bytes(raw[0..8].try_into().ok()?);
            let days = i32::from_be_bytes(raw[8..12].try_into().ok()?);
            let months = i32::from_be_bytes(raw[12..16].try_into().ok()?);
            ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(
                months,
                days,
                micros.checked_mul(1_000)?,
            )))
        }
        Type::UUID => {
            let b: [u8; 16] = array(bytes)?;
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            ScalarValue::Utf8(Some(format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            )))
        }
        Type::JSONB => ScalarValue::Utf8(Some(
            String::from_utf8(bytes.strip_prefix(&[1])?.to_vec()).ok()?,
        )),
        // text, varchar, name, bpchar, json, unknown …: the bytes are the UTF-8 text.
        _ => ScalarValue::Utf8(Some(String::from_utf8(bytes.to_vec()).ok()?)),
    };
    Some(value)
}

fn decode_text(
    ty: &Type,
    text: &str,
    target: Option<&DataType>,
    time_zone: &Tz,
) -> Option<ScalarValue> {
    let trimmed = text.trim();
    if let Some(element) = array_element(ty) {
        let element_target = match target {
            Some(DataType::List(field)) => Some(field.data_type().clone()),
            _ => None,
        };
        let values = parse_array_text(text)?
            .into_iter()
            .map(|v| match v {
                Some(v) => decode_text(&element, &v, element_target.as_ref(), time_zone).map(Some),
                None => Some(None),
            })
            .collect::<Option<Vec<_>>>()?;
        return array_value(&element, values);
    }
    let parsed = match *ty {
        Type::BOOL => parse_bool(trimmed).map(|b| ScalarValue::Boolean(Some(b))),
        Type::INT2 => trimmed.parse().ok().map(|v| ScalarValue::Int16(Some(v))),
        Type::INT4 => trimmed.parse().ok().map(|v| ScalarValue::Int32(Some(v))),
        Type::INT8 | Type::OID => trimmed.parse().ok().map(|v| ScalarValue::Int64(Some(v))),
        Type::FLOAT4 => parse_float(trimmed).map(|v| ScalarValue::Float32(Some(v as f32))),
        Type::FLOAT8 => parse_float(trimmed).map(|v| ScalarValue::Float64(Some(v))),
        Type::NUMERIC => {
            decimal(trimmed).or_else(|| parse_float(trimmed).map(|v| ScalarValue::Float64(Some(v))))
        }
        Type::BYTEA => parse_bytea(text).map(|b| ScalarValue::Binary(Some(b))),
        Type::DATE => parse_date_time(trimmed)
            .map(|(local, _)| ScalarValue::Date32(Some(days_from_unix_epoch(local.date())))),
        Type::TIME => NaiveTime::parse_from_str(trimmed, "%H:%M:%S%.f")
            .or_else(|_| NaiveTime::parse_from_str(trimmed, "%H:%M"))
            .ok()
            .map(|t| {
                ScalarValue::Time64Microsecond(Some(
                    (t - NaiveTime::MIN).num_microseconds().unwrap_or_default(),
                ))
            }),
        Type::TIMESTAMP => parse_date_time(trimmed).map(|(local, _)| {
            ScalarValue::TimestampMicrosecond(Some(local.and_utc().timestamp_micros()), None)
        }),
        Type::TIMESTAMPTZ => parse_date_time(trimmed).and_then(|(local, offset)| match offset {
            Some(seconds) => Some(timestamptz(
                local.and_utc().timestamp_micros() - i64::from(seconds) * 1_000_000,
            )),
            None => format::local_to_utc_micros(local, time_zone).map(timestamptz),
        }),
        _ => Some(ScalarValue::Utf8(Some(text.to_string()))),
    };
    // Fall back on Arrow's parser for the type DataFusion expects (intervals, odd layouts).
    parsed.or_else(|| {
        let target = target.cloned().unwrap_or_else(|| natural_type(ty));
        ScalarValue::try_from_string(trimmed.to_string(), &target).ok()
    })
}

fn days_from_unix_epoch(date: NaiveDate) -> i32 {
    // 1970-01-01 is day 719163 of the common era.
    date.num_days_from_ce() - 719_163
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "t" | "true" | "y" | "yes" | "on" | "1" => Some(true),
        "f" | "false" | "n" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

fn parse_float(text: &str) -> Option<f64> {
    match text.to_ascii_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "infinity" | "+infinity" | "inf" => Some(f64::INFINITY),
        "-infinity" | "-inf" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

/// A decimal literal (`-12.340`) as a `Decimal128` keeping its scale.
fn decimal(text: &str) -> Option<ScalarValue> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if (integer.is_empty() && fraction.is_empty())
        || !integer
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let integer = integer.trim_start_matches('0');
    let digits = format!("{integer}{fraction}");
    let precision = digits.len().max(fraction.len()).max(1);
    if precision > 38 {
        return None;
    }
    let magnitude: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let value = if negative { -magnitude } else { magnitude };
    Some(ScalarValue::Decimal128(
        Some(value),
        u8::try_from(precision).ok()?,
        i8::try_from(fraction.len()).ok()?,
    ))
}

/// `\x0a0b` (hex) or the escape format (`a\\b\001`).
fn parse_bytea(text: &str) -> Option<Vec<u8>> {
    if let Some(hex) = text.strip_prefix("\\x") {
        let digits: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        if !digits.len().is_multiple_of(2) {
            return None;
        }
        return digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
            .collect();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
        } else if bytes.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let octal = std::str::from_utf8(bytes.get(i + 1..i + 4)?).ok()?;
            out.push(u8::from_str_radix(octal, 8).ok()?);
            i += 4;
        }
    }
    Some(out)
}

/// `2026-01-02[ |T]03:04:05[.ffffff][ ][Z|±HH[:MM[:SS]]]`, or a date alone (possibly with an
/// offset, as pgjdbc sends dates: `2024-02-03 +00`). Returns the local date-time and the
/// offset in seconds east of UTC, when one is given.
fn parse_date_time(text: &str) -> Option<(NaiveDateTime, Option<i32>)> {
    let (date, rest) = NaiveDate::parse_and_remainder(text, "%Y-%m-%d").ok()?;
    let rest = rest.trim_start_matches([' ', 'T', 't']);
    let (time, rest) = if rest.starts_with(|c: char| c.is_ascii_digit()) {
        NaiveTime::parse_and_remainder(rest, "%H:%M:%S%.f")
            .or_else(|_| NaiveTime::parse_and_remainder(rest, "%H:%M"))
            .ok()?
    } else {
        (NaiveTime::MIN, rest)
    };
    let offset = parse_offset(rest.trim())?;
    Some((date.and_time(time), offset))
}

/// `""` → no offset; `Z`, `UTC`, `+05`, `+05:30`, `-0800`, `+05:30:15` → seconds east of UTC.
fn parse_offset(text: &str) -> Option<Option<i32>> {
    if text.is_empty() {
        return Some(None);
    }
    if text.eq_ignore_ascii_case("z") || text.eq_ignore_ascii_case("utc") {
        return Some(Some(0));
    }
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let parts: Vec<&str> = if digits.contains(':') {
        digits.split(':').collect()
    } else if digits.len() == 4 {
        vec![&digits[..2], &digits[2..]]
    } else {
        vec![digits]
    };
    let mut seconds = 0i32;
    for (part, unit) in parts.iter().zip([3_600, 60, 1]) {
        if part.is_empty() || part.len() > 2 {
            return None;
        }
        seconds += part.parse::<i32>().ok()? * unit;
    }
    if parts.len() > 3 {
        return None;
    }
    Some(Some(sign * seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{Field, TimeUnit};

    fn param(pg: Type, inferred: Option<DataType>) -> ParamType {
        ParamType { pg, inferred }
    }

    fn decode(ty: &ParamType, text: &str) -> Option<ScalarValue> {
        decode_one(ty, Some(text.as_bytes()), false, &Tz::UTC).ok()
    }

    #[test]
    fn text_values() {
        let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        // 2023-01-01 is day 19358 after 1970-01-01 (10957 to 2000, then 23 years with 6 leap days).
        let midnight = 19_358i64 * 86_400 * 1_000_000;
        assert_eq!(
            decode(
                &param(Type::TIMESTAMPTZ, Some(ts.clone())),
                "2023-01-01 00:00:00+00"
            ),
            Some(timestamptz(midnight))
        );
        assert_eq!(
            decode(
                &param(Type::TIMESTAMPTZ, Some(ts.clone())),
                "2023-01-01T05:30:00.000+05:30"
            ),
            Some(timestamptz(midnight))
        );
        assert_eq!(
            decode(&param(Type::DATE, None), "2023-01-01 +00"),
            Some(ScalarValue::Date32(Some(19_358)))
        );
        assert_eq!(
            decode(&param(Type::INT2, Some(DataType::Int64)), "7"),
            Some(ScalarValue::Int64(Some(7)))
        );
        assert_eq!(
            decode(&param(Type::BOOL, None), "TRUE"),
            Some(ScalarValue::Boolean(Some(true)))
        );
        assert_eq!(
            decode(&param(Type::NUMERIC, None), "-12.340"),
            Some(ScalarValue::Decimal128(Some(-12_340), 5, 3))
        );
        assert_eq!(
            decode(&param(Type::BYTEA, None), "\\x0aff"),
            Some(ScalarValue::Binary(Some(vec![0x0a, 0xff])))
        );
        assert!(decode(&param(Type::INT8, None), "x").is_none());
    }

    #[test]
    fn binary_values() {
        let ty = param(Type::INT8, Some(DataType::Int64));
        assert_eq!(
            decode_one(&ty, Some(&5i64.to_be_bytes()), true, &Tz::UTC).ok(),
            Some(ScalarValue::Int64(Some(5)))
        );
        let date = param(Type::DATE, None);
        assert_eq!(
            decode_one(&date, Some(&(-1i32).to_be_bytes()), true, &Tz::UTC).ok(),
            Some(ScalarValue::Date32(Some(10_956)))
        );
        assert!(decode_one(&ty, Some(&[1, 2]), true, &Tz::UTC).is_err());
        assert_eq!(
            decode_one(&ty, None, true, &Tz::UTC).ok(),
            Some(ScalarValue::Int64(None))
        );
    }

    #[test]
    fn array_literals() {
        assert_eq!(
            parse_array_text(r#"{r, p ,"a b",NULL,"NULL","x\"y",\N}"#),
            Some(vec![
                Some("r".into()),
                Some("p".into()),
                Some("a b".into()),
                None,
                Some("NULL".into()),
                Some("x\"y".into()),
                Some("N".into()),
            ])
        );
        assert_eq!(parse_array_text("{}"), Some(vec![]));
        assert_eq!(parse_array_text("[1:2]={a,b}").map(|v| v.len()), Some(2));
        assert_eq!(parse_array_text("{{1,2},{3,4}}"), None);
        assert_eq!(parse_array_text("{a,,b}"), None);
        assert_eq!(parse_array_text("a,b"), None);
        let text_array = param(
            Type::TEXT_ARRAY,
            Some(DataType::List(Arc::new(Field::new_list_field(
                DataType::Utf8,
                true,
            )))),
        );
        let value = decode(&text_array, "{r,v}").expect("a text array");
        assert_eq!(
            value,
            ScalarValue::List(ScalarValue::new_list_nullable(
                &[ScalarValue::from("r"), ScalarValue::from("v")],
                &DataType::Utf8
            ))
        );
        let ints = param(Type::INT8_ARRAY, None);
        let value = decode(&ints, "{1,NULL,3}").expect("an int8 array");
        assert_eq!(
            value,
            ScalarValue::List(ScalarValue::new_list_nullable(
                &[
                    ScalarValue::Int64(Some(1)),
                    ScalarValue::Int64(None),
                    ScalarValue::Int64(Some(3))
                ],
                &DataType::Int64
            ))
        );
        assert_eq!(decode(&ints, "{1,x}"), None);
    }

    #[test]
    fn binary_arrays() {
        // int4[] {7, NULL}: 1 dimension, has nulls, element OID 23, length 2, lower bound 1.
        let mut bytes = Vec::new();
        for v in [1_i32, 1, 23, 2, 1, 4] {
            bytes.extend(v.to_be_bytes());
        }
        bytes.extend(7_i32.to_be_bytes());
        bytes.extend((-1_i32).to_be_bytes());
        assert_eq!(
            decode_binary(&Type::INT4_ARRAY, &bytes),
            Some(ScalarValue::List(ScalarValue::new_list_nullable(
                &[ScalarValue::Int32(Some(7)), ScalarValue::Int32(None)],
                &DataType::Int32
            )))
        );
        assert_eq!(
            decode_binary(&Type::INT4_ARRAY, &bytes[..bytes.len() - 2]),
            None
        );
    }

    #[test]
    fn counts_must_match() {
        let types = [param(Type::INT8, None)];
        assert!(decode_parameters(&types, &[], &Format::UnifiedText, &Tz::UTC).is_err());
    }
}
