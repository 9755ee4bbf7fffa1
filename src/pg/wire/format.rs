//! Postgres renderings of single values: the text forms a PostgreSQL 16 server prints, and
//! the binary forms that need more than a byte swap (`numeric`).
//!
//! | Type | Text form (what PostgreSQL prints with default settings) |
//! |---|---|
//! | `float4`/`float8` | shortest round-trip digits; exponent form below 1e-4 or from 1e6 (`float4`) / 1e15 (`float8`): `1e+20`, `1.5e-05`; `NaN`, `Infinity`, `-Infinity`; `extra_float_digits` ≤ 0 rounds to 6/15 + n significant digits |
//! | `date` | `2026-01-02`; years before 1 as `0001-01-01 BC` |
//! | `time` | `03:04:05`, fraction trimmed: `03:04:05.12` |
//! | `timestamp` | `2026-01-02 03:04:05.123456` |
//! | `timestamptz` | in the session time zone with its offset: `2026-01-02 03:04:05+00`, `… 08:34:05+05:30` |
//! | `interval` | `IntervalStyle = postgres`: `1 year 2 mons -3 days +04:05:06.5`, zero is `00:00:00` |
//! | `bytea` | hex: `\x0a0b` |
//! | arrays | `{1,2,NULL}`; elements quoted when empty, `NULL`, or containing `"{},\` or white space |

use std::fmt::Write as _;

use bytes::{BufMut, BytesMut};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::Tz;

/// Microseconds from 1970-01-01 (Unix) to 2000-01-01 (the Postgres epoch).
pub(crate) const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// Days from 1970-01-01 to 2000-01-01.
pub(crate) const PG_EPOCH_DAYS: i32 = 10_957;

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_HOUR: i64 = 3_600 * MICROS_PER_SECOND;

macro_rules! float_text_fn {
    ($(#[$doc:meta])* $name:ident, $t:ty, $digits:expr) => {
        $(#[$doc])*
        pub(crate) fn $name(v: $t, extra_float_digits: i32, out: &mut BytesMut) {
            if v.is_nan() {
                out.put_slice(b"NaN");
                return;
            }
            if v.is_infinite() {
                out.put_slice(if v > 0.0 { b"Infinity" } else { b"-Infinity" });
                return;
            }
            if extra_float_digits > 0 {
                // Shortest digits that read back to the same value (what PostgreSQL 12+ prints).
                let scientific = format!("{v:e}");
                let (mantissa, exponent) = split_exponent(&scientific);
                if (-4..$digits).contains(&exponent) {
                    let _ = write!(out, "{v}");
                } else {
                    write_scientific(out, mantissa, exponent);
                }
            } else {
                // `%.{digits + extra_float_digits}g`, as PostgreSQL 11 and earlier printed.
                let precision = ($digits + extra_float_digits).max(1);
                let scientific = format!("{:.*e}", (precision - 1) as usize, v);
                let (mantissa, exponent) = split_exponent(&scientific);
                if exponent < -4 || exponent >= precision {
                    write_scientific(out, trim_fraction_zeros(mantissa), exponent);
                } else {
                    let decimals = (precision - 1 - exponent).max(0) as usize;
                    let fixed = format!("{:.*}", decimals, v);
                    out.put_slice(trim_fraction_zeros(&fixed).as_bytes());
                }
            }
        }
    };
}

float_text_fn!(
    /// Writes a `float8` the way PostgreSQL prints it.
    float8_text,
    f64,
    15
);
float_text_fn!(
    /// Writes a `float4` the way PostgreSQL prints it.
    float4_text,
    f32,
    6
);

/// Splits Rust's `{:e}` output (`-1.5e-5`) into mantissa and exponent.
fn split_exponent(s: &str) -> (&str, i32) {
    match s.split_once('e') {
        Some((mantissa, exponent)) => (mantissa, exponent.parse().unwrap_or(0)),
        None => (s, 0),
    }
}

fn write_scientific(out: &mut BytesMut, mantissa: &str, exponent: i32) {
    let sign = if exponent < 0 { '-' } else { '+' };
    let _ = write!(out, "{mantissa}e{sign}{:02}", exponent.unsigned_abs());
}

fn trim_fraction_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Writes a `date` given as days since 1970-01-01.
pub(crate) fn date_text(days: i32, out: &mut BytesMut) -> Result<(), String> {
    let date = NaiveDate::from_num_days_from_ce_opt(days.saturating_add(719_163))
        .ok_or_else(|| format!("date out of range: {days} days from 1970-01-01"))?;
    let bc = write_date(date, out);
    if bc {
        out.put_slice(b" BC");
    }
    Ok(())
}

/// Writes `YYYY-MM-DD`; returns whether the year is BC (the caller appends ` BC` at the end).
fn write_date(date: NaiveDate, out: &mut BytesMut) -> bool {
    let year = date.year();
    let (year, bc) = if year > 0 {
        (year, false)
    } else {
        (1 - year, true)
    };
    let _ = write!(out, "{year:04}-{:02}-{:02}", date.month(), date.day());
    bc
}

/// Writes `HH:MM:SS[.ffffff]`, with the fraction's trailing zeros trimmed.
fn write_time(hours: i64, minutes: i64, seconds: i64, micros: i64, out: &mut BytesMut) {
    let _ = write!(out, "{hours:02}:{minutes:02}:{seconds:02}");
    write_fraction(micros, out);
}

fn write_fraction(micros: i64, out: &mut BytesMut) {
    if micros != 0 {
        let digits = format!("{:06}", micros.unsigned_abs());
        let _ = write!(out, ".{}", digits.trim_end_matches('0'));
    }
}

/// Writes a `time` given as microseconds since midnight.
pub(crate) fn time_text(micros: i64, out: &mut BytesMut) {
    let seconds = micros.div_euclid(MICROS_PER_SECOND);
    write_time(
        seconds / 3_600,
        seconds / 60 % 60,
        seconds % 60,
        micros.rem_euclid(MICROS_PER_SECOND),
        out,
    );
}

fn write_date_time(local: NaiveDateTime, out: &mut BytesMut) -> bool {
    let bc = write_date(local.date(), out);
    out.put_u8(b' ');
    write_time(
        i64::from(local.hour()),
        i64::from(local.minute()),
        i64::from(local.second()),
        i64::from(local.nanosecond() / 1_000),
        out,
    );
    bc
}

fn utc_from_micros(micros: i64) -> Result<DateTime<chrono::Utc>, String> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| format!("timestamp out of range: {micros} µs from 1970-01-01"))
}

/// Writes a `timestamp` (no time zone) given as microseconds since 1970-01-01.
pub(crate) fn timestamp_text(micros: i64, out: &mut BytesMut) -> Result<(), String> {
    let local = utc_from_micros(micros)?.naive_utc();
    if write_date_time(local, out) {
        out.put_slice(b" BC");
    }
    Ok(())
}

/// Writes a `timestamptz` (an instant, microseconds since 1970-01-01 UTC) in the zone `tz`.
pub(crate) fn timestamptz_text(micros: i64, tz: &Tz, out: &mut BytesMut) -> Result<(), String> {
    let local = utc_from_micros(micros)?.with_timezone(tz);
    let offset = local.offset().fix().local_minus_utc();
    let bc = write_date_time(local.naive_local(), out);
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.unsigned_abs();
    let _ = write!(out, "{sign}{:02}", offset / 3_600);
    if !offset.is_multiple_of(3_600) {
        let _ = write!(out, ":{:02}", offset / 60 % 60);
        if !offset.is_multiple_of(60) {
            let _ = write!(out, ":{:02}", offset % 60);
        }
    }
    if bc {
        out.put_slice(b" BC");
    }
    Ok(())
}

/// Writes an `interval` in `IntervalStyle = postgres` (PostgreSQL's `EncodeInterval`).
pub(crate) fn interval_text(months: i32, days: i32, micros: i64, out: &mut BytesMut) {
    let mut is_zero = true;
    let mut is_before = false;
    interval_part(
        out,
        i64::from(months / 12),
        "year",
        &mut is_zero,
        &mut is_before,
    );
    interval_part(
        out,
        i64::from(months % 12),
        "mon",
        &mut is_zero,
        &mut is_before,
    );
    interval_part(out, i64::from(days), "day", &mut is_zero, &mut is_before);
    if is_zero || micros != 0 {
        let sign = if micros < 0 {
            "-"
        } else if is_before {
            "+"
        } else {
            ""
        };
        let separator = if is_zero { "" } else { " " };
        let abs = micros.unsigned_abs();
        let hours = abs / MICROS_PER_HOUR as u64;
        let minutes = abs / 60_000_000 % 60;
        let seconds = abs / 1_000_000 % 60;
        let _ = write!(out, "{separator}{sign}{hours:02}:{minutes:02}:{seconds:02}");
        write_fraction((abs % 1_000_000) as i64, out);
    }
}

fn interval_part(
    out: &mut BytesMut,
    value: i64,
    unit: &str,
    is_zero: &mut bool,
    is_before: &mut bool,
) {
    if value == 0 {
        return;
    }
    let separator = if *is_zero { "" } else { " " };
    let plus = if *is_before && value > 0 { "+" } else { "" };
    let plural = if value != 1 { "s" } else { "" };
    let _ = write!(out, "{separator}{plus}{value} {unit}{plural}");
    *is_before = value < 0;
    *is_zero = false;
}

/// Writes `bytea` in hex output format (`\x0a0b`).
pub(crate) fn bytea_text(bytes: &[u8], out: &mut BytesMut) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(2 + bytes.len() * 2);
    out.put_slice(b"\\x");
    for b in bytes {
        out.put_u8(HEX[usize::from(b >> 4)]);
        out.put_u8(HEX[usize::from(b & 0x0f)]);
    }
}

/// Writes one array element's text, quoting it as `array_out` does when needed.
pub(crate) fn array_element_text(element: &[u8], out: &mut BytesMut) {
    let needs_quotes = element.is_empty()
        || element.eq_ignore_ascii_case(b"NULL")
        || element.iter().any(|b| {
            matches!(
                b,
                b'"' | b'{' | b'}' | b',' | b'\\' | b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c
            )
        });
    if !needs_quotes {
        out.put_slice(element);
        return;
    }
    out.put_u8(b'"');
    for &b in element {
        if b == b'"' || b == b'\\' {
            out.put_u8(b'\\');
        }
        out.put_u8(b);
    }
    out.put_u8(b'"');
}

/// Writes the binary `numeric` form of a decimal string such as `-123.4500`.
///
/// Layout: digit count, weight (of the first base-10000 digit), sign, display scale, then the
/// base-10000 digits with leading and trailing zero digits dropped.
pub(crate) fn numeric_binary(decimal: &str, out: &mut BytesMut) -> Result<(), String> {
    const POSITIVE: u16 = 0x0000;
    const NEGATIVE: u16 = 0x4000;
    const NAN: u16 = 0xC000;
    let text = decimal.trim();
    if text.eq_ignore_ascii_case("nan") {
        out.put_i16(0);
        out.put_i16(0);
        out.put_u16(NAN);
        out.put_u16(0);
        return Ok(());
    }
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (integer.is_empty() && fraction.is_empty()) || !all_digits(integer) || !all_digits(fraction)
    {
        return Err(format!("not a decimal number: {decimal:?}"));
    }
    let scale =
        u16::try_from(fraction.len()).map_err(|_| format!("numeric scale too large: {decimal}"))?;
    let integer = integer.trim_start_matches('0');
    let mut digits = String::with_capacity(integer.len() + fraction.len() + 6);
    digits.extend(std::iter::repeat_n('0', (4 - integer.len() % 4) % 4));
    digits.push_str(integer);
    let integer_groups = digits.len() / 4;
    digits.push_str(fraction);
    digits.extend(std::iter::repeat_n('0', (4 - fraction.len() % 4) % 4));

    let mut groups: Vec<i16> = digits
        .as_bytes()
        .chunks(4)
        .map(|chunk| {
            chunk
                .iter()
                .fold(0i16, |acc, d| acc * 10 + i16::from(d - b'0'))
        })
        .collect();
    let mut weight = integer_groups as i64 - 1;
    let leading = groups.iter().take_while(|g| **g == 0).count();
    groups.drain(..leading);
    weight -= leading as i64;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    let (weight, sign) = if groups.is_empty() {
        (0, POSITIVE)
    } else if negative {
        (weight, NEGATIVE)
    } else {
        (weight, POSITIVE)
    };
    let count = i16::try_from(groups.len()).map_err(|_| format!("numeric too long: {decimal}"))?;
    let weight = i16::try_from(weight).map_err(|_| format!("numeric out of range: {decimal}"))?;
    out.put_i16(count);
    out.put_i16(weight);
    out.put_u16(sign);
    out.put_u16(scale);
    for group in groups {
        out.put_i16(group);
    }
    Ok(())
}

/// Reads the binary `numeric` form back into a decimal string (for binary parameters).
pub(crate) fn numeric_from_binary(bytes: &[u8]) -> Result<String, String> {
    let word = |i: usize| -> Result<u16, String> {
        bytes
            .get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated numeric".to_string())
    };
    let count = usize::from(word(0)?);
    let weight = i64::from(word(2)? as i16);
    let sign = word(4)?;
    let scale = usize::from(word(6)?);
    if sign == 0xC000 {
        return Ok("NaN".to_string());
    }
    let groups = (0..count)
        .map(|i| word(8 + 2 * i).map(i64::from))
        .collect::<Result<Vec<_>, _>>()?;
    let mut integer = String::new();
    let mut fraction = String::new();
    for (i, group) in groups.iter().enumerate() {
        let position = weight - i as i64;
        if position >= 0 {
            let _ = write!(integer, "{group:04}");
        } else {
            // Zero groups between the point and the first fractional group.
            if fraction.is_empty() {
                fraction.extend(std::iter::repeat_n('0', (-position - 1) as usize * 4));
            }
            let _ = write!(fraction, "{group:04}");
        }
    }
    // Integer groups after the last stored digit are zeros.
    if weight >= groups.len() as i64 {
        integer.extend(std::iter::repeat_n(
            '0',
            (weight + 1 - groups.len() as i64) as usize * 4,
        ));
    }
    let integer = integer.trim_start_matches('0');
    fraction.truncate(scale);
    while fraction.len() < scale {
        fraction.push('0');
    }
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    out.push_str(if integer.is_empty() { "0" } else { integer });
    if scale > 0 {
        out.push('.');
        out.push_str(&fraction);
    }
    Ok(out)
}

/// Converts a local date-time of the zone `tz` to microseconds since 1970-01-01 UTC, as
/// PostgreSQL reads a `timestamptz` without offset: the later instant (the offset after the
/// change) when the local time is repeated by a change back, and a time skipped by a change
/// forward read with the offset before it (`02:30` on a spring-forward night is `03:30`).
pub(crate) fn local_to_utc_micros(local: NaiveDateTime, tz: &Tz) -> Option<i64> {
    let instant = match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => t,
        chrono::LocalResult::Ambiguous(_, later) => later,
        chrono::LocalResult::None => tz
            .from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest()?,
    };
    Some(instant.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut BytesMut)) -> String {
        let mut out = BytesMut::new();
        f(&mut out);
        String::from_utf8(out.to_vec()).unwrap_or_default()
    }

    #[test]
    fn floats_print_like_postgres() {
        // Expected strings are PostgreSQL 16's output for `SELECT x::float8` / `::float4`.
        let cases: [(f64, &str); 10] = [
            (1.0, "1"),
            (1.5, "1.5"),
            (-0.25, "-0.25"),
            (100.0, "100"),
            (0.1, "0.1"),
            (1e14, "100000000000000"),
            (1e15, "1e+15"),
            (1e20, "1e+20"),
            (0.0001, "0.0001"),
            (0.000015, "1.5e-05"),
        ];
        for (v, expected) in cases {
            assert_eq!(text(|o| float8_text(v, 1, o)), expected, "{v}");
        }
        assert_eq!(text(|o| float8_text(f64::NAN, 1, o)), "NaN");
        assert_eq!(text(|o| float8_text(f64::NEG_INFINITY, 1, o)), "-Infinity");
        assert_eq!(text(|o| float8_text(-0.0, 1, o)), "-0");
        assert_eq!(text(|o| float4_text(100000.0, 1, o)), "100000");
        assert_eq!(text(|o| float4_text(1e6, 1, o)), "1e+06");
        assert_eq!(text(|o| float4_text(0.1, 1, o)), "0.1");
        // extra_float_digits = 0: 15 significant digits, so 0.1 + 0.2 prints as 0.3.
        assert_eq!(text(|o| float8_text(0.1 + 0.2, 0, o)), "0.3");
        assert_eq!(
            text(|o| float8_text(0.1 + 0.2, 1, o)),
            "0.30000000000000004"
        );
        assert_eq!(text(|o| float8_text(1e20, 0, o)), "1e+20");
    }

    #[test]
    fn dates_and_timestamps() {
        // 2026-01-02 is day 20455 after 1970-01-01: 10957 days to 2000-01-01, then 26 years
        // with 7 leap days (9497 days) to 2026-01-01, plus one.
        assert_eq!(
            text(|o| date_text(20_455, o).unwrap_or_default()),
            "2026-01-02"
        );
        // 0001-01-01 is day 1 of the common era; 1970-01-01 is day 719163.
        assert_eq!(
            text(|o| date_text(-719_162, o).unwrap_or_default()),
            "0001-01-01"
        );
        assert_eq!(
            text(|o| date_text(-719_163, o).unwrap_or_default()),
            "0001-12-31 BC"
        );
        let micros = (20_455 * 86_400 + 3 * 3_600 + 4 * 60 + 5) * 1_000_000 + 123_456;
        assert_eq!(
            text(|o| timestamp_text(micros, o).unwrap_or_default()),
            "2026-01-02 03:04:05.123456"
        );
        assert_eq!(
            text(|o| timestamptz_text(micros - 123_456, &Tz::UTC, o).unwrap_or_default()),
            "2026-01-02 03:04:05+00"
        );
        assert_eq!(
            text(|o| timestamptz_text(micros, &Tz::Asia__Kolkata, o).unwrap_or_default()),
            "2026-01-02 08:34:05.123456+05:30"
        );
        assert_eq!(
            text(
                |o| timestamptz_text(micros - 120_000, &Tz::America__New_York, o)
                    .unwrap_or_default()
            ),
            "2026-01-01 22:04:05.003456-05"
        );
        assert_eq!(text(|o| time_text(45_296_500_000, o)), "12:34:56.5");
    }

    #[test]
    fn intervals_print_like_postgres() {
        let hms = |h: i64, m: i64, s: i64| ((h * 60 + m) * 60 + s) * 1_000_000;
        assert_eq!(text(|o| interval_text(0, 0, 0, o)), "00:00:00");
        assert_eq!(
            text(|o| interval_text(14, 3, hms(4, 5, 6) + 789_000, o)),
            "1 year 2 mons 3 days 04:05:06.789"
        );
        assert_eq!(
            text(|o| interval_text(0, -1, hms(2, 0, 0), o)),
            "-1 days +02:00:00"
        );
        assert_eq!(text(|o| interval_text(1, 1, 0, o)), "1 mon 1 day");
        assert_eq!(
            text(|o| interval_text(0, 0, -hms(27, 0, 1), o)),
            "-27:00:01"
        );
    }

    #[test]
    fn bytea_and_array_elements() {
        assert_eq!(text(|o| bytea_text(&[0x0a, 0xff], o)), "\\x0aff");
        assert_eq!(text(|o| array_element_text(b"abc", o)), "abc");
        assert_eq!(text(|o| array_element_text(b"", o)), "\"\"");
        assert_eq!(text(|o| array_element_text(b"null", o)), "\"null\"");
        assert_eq!(text(|o| array_element_text(b"a b", o)), "\"a b\"");
        assert_eq!(text(|o| array_element_text(b"a\"\\", o)), "\"a\\\"\\\\\"");
    }

    #[test]
    fn numeric_binary_round_trips() {
        // (text, expected words): digit count, weight, sign, scale, base-10000 digits.
        let cases: [(&str, &[u16]); 6] = [
            ("123.45", &[2, 0, 0, 2, 123, 4500]),
            ("0.5", &[1, 0xffff, 0, 1, 5000]),
            ("10000", &[1, 1, 0, 0, 1]),
            ("-7", &[1, 0, 0x4000, 0, 7]),
            ("0.00", &[0, 0, 0, 2]),
            ("0.00012", &[2, 0xffff, 0, 5, 1, 2000]),
        ];
        for (decimal, words) in cases {
            let mut out = BytesMut::new();
            assert!(numeric_binary(decimal, &mut out).is_ok(), "{decimal}");
            let expected: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
            assert_eq!(out.to_vec(), expected, "{decimal}");
            assert_eq!(
                numeric_from_binary(&out).unwrap_or_default(),
                decimal,
                "{decimal}"
            );
        }
        assert!(numeric_binary("1e5", &mut BytesMut::new()).is_err());
    }
}
