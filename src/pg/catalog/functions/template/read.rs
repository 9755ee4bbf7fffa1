//! `to_date`'s and `to_timestamp`'s side of templates: text read field by field, as
//! PostgreSQL reads it.
//!
//! | Template piece | Reads |
//! |---|---|
//! | a number field (`YYYY`, `MM`, `DD`, `HH24` …) | its digits: as many as the field's width when another field follows directly (`YYYYMMDD`), else all the digits there are (a sign for years) |
//! | `Month`/`Mon`, `Day`/`Dy`, `AM`/`PM`, `BC`/`AD` | the name, in any case |
//! | `TZH`, `TZM`, `OF` | a signed offset (`to_timestamp` only) |
//! | literal text | one input character per template character; blanks in the template skip any blanks in the input |
//!
//! Fields not in the template take their first value (year 1, January, day 1, midnight);
//! `DDD` with a year gives the date by day of year. What cannot be read is an error naming the
//! field and the text (`22007`), a value out of its range names the field (`22008`).

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use super::pattern::{Field, Piece};
use super::render::{DAYS, MONTHS};

/// What a read can fail with: the SQLSTATE class and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ReadError {
    /// `22007`: the text does not match the template.
    Format(String),
    /// `22008`: a field is out of range (month 13, February 30).
    Range(String),
}

/// The fields a template read, before they are put together.
#[derive(Debug, Default)]
struct Parts {
    year: Option<i64>,
    bc: bool,
    month: Option<u32>,
    day: Option<u32>,
    day_of_year: Option<u32>,
    hour: Option<u32>,
    twelve_hour: bool,
    pm: Option<bool>,
    minute: u32,
    second: u32,
    nanos: u32,
    seconds_of_day: Option<u32>,
    julian: Option<i64>,
    offset_sign: i32,
    offset_hours: Option<i32>,
    offset_minutes: i32,
}

/// A read date and time; `offset_seconds` is set when the text carried a UTC offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ReadMoment {
    /// The wall-clock date and time.
    pub local: NaiveDateTime,
    /// Seconds east of UTC, when the text said (`TZH`, `OF`).
    pub offset_seconds: Option<i32>,
}

/// The width of a number field when it must stop before a directly following field.
fn width(field: Field) -> usize {
    match field {
        Field::Year(n) | Field::IsoYear(n) => n as usize,
        Field::YearComma => 5,
        Field::Fraction(n) => n as usize,
        Field::DayOfYear | Field::IsoDayOfYear => 3,
        Field::SecondsOfDay => 5,
        Field::JulianDay => 7,
        Field::DayOfWeek
        | Field::IsoDayOfWeek
        | Field::WeekOfMonth
        | Field::Quarter
        | Field::ZoneHours => 2,
        _ => 2,
    }
}

fn field_name(field: Field) -> &'static str {
    match field {
        Field::Hour12 => "HH12",
        Field::Hour24 => "HH24",
        Field::Minute => "MI",
        Field::Second => "SS",
        Field::Fraction(_) => "US",
        Field::SecondsOfDay => "SSSS",
        Field::Meridiem { .. } => "AM",
        Field::YearComma => "Y,YYY",
        Field::Year(_) => "YYYY",
        Field::IsoYear(_) => "IYYY",
        Field::Era { .. } => "BC",
        Field::MonthName(_) => "Month",
        Field::MonthAbbrev(_) => "Mon",
        Field::Month => "MM",
        Field::DayName(_) => "Day",
        Field::DayAbbrev(_) => "Dy",
        Field::DayOfYear => "DDD",
        Field::IsoDayOfYear => "IDDD",
        Field::DayOfMonth => "DD",
        Field::DayOfWeek => "D",
        Field::IsoDayOfWeek => "ID",
        Field::WeekOfMonth => "W",
        Field::WeekOfYear => "WW",
        Field::IsoWeek => "IW",
        Field::Century => "CC",
        Field::JulianDay => "J",
        Field::Quarter => "Q",
        Field::RomanMonth(_) => "RM",
        Field::ZoneAbbrev(_) => "TZ",
        Field::ZoneHours => "TZH",
        Field::ZoneMinutes => "TZM",
        Field::ZoneOffset => "OF",
    }
}

struct Cursor<'a> {
    rest: &'a str,
}

impl Cursor<'_> {
    fn skip_blanks(&mut self) {
        self.rest = self.rest.trim_start();
    }

    /// Digits (with a leading sign when `signed`), at most `max` of them.
    fn digits(&mut self, max: Option<usize>, signed: bool) -> Option<(i64, usize)> {
        let bytes = self.rest.as_bytes();
        let mut i = 0;
        let negative = signed && bytes.first() == Some(&b'-');
        if signed && matches!(bytes.first(), Some(b'-' | b'+')) {
            i = 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() && max.is_none_or(|m| i - start < m) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let value: i64 = self.rest[start..i].parse().ok()?;
        self.rest = &self.rest[i..];
        Some((if negative { -value } else { value }, i - start))
    }

    /// The index of the first of `names` the input starts with (any case), consuming it.
    fn name(&mut self, names: &[&str], len: Option<usize>) -> Option<usize> {
        for (index, name) in names.iter().enumerate() {
            let name = len.map_or(*name, |n| &name[..n]);
            if self
                .rest
                .get(..name.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(name))
            {
                self.rest = &self.rest[name.len()..];
                return Some(index);
            }
        }
        None
    }
}

/// Reads `text` with the template `pieces`.
pub(super) fn read(pieces: &[Piece], text: &str) -> Result<ReadMoment, ReadError> {
    let mut parts = Parts {
        offset_sign: 1,
        ..Parts::default()
    };
    let mut cursor = Cursor { rest: text };
    for (index, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Literal(literal) => {
                for c in literal.chars() {
                    if c.is_whitespace() {
                        cursor.skip_blanks();
                    } else if let Some(next) = cursor.rest.chars().next() {
                        // A separator in the template matches any one character here, as
                        // PostgreSQL's non-FX mode does.
                        cursor.rest = &cursor.rest[next.len_utf8()..];
                    }
                }
            }
            Piece::Field(token) => {
                let field = token.field;
                // Blanks before a field are skipped, as PostgreSQL does outside FX mode.
                cursor.skip_blanks();
                let followed_by_field = matches!(pieces.get(index + 1), Some(Piece::Field(_)));
                let max = followed_by_field.then(|| width(field));
                read_field(field, &mut cursor, max, &mut parts).map_err(|e| match e {
                    ReadError::Format(_) => ReadError::Format(format!(
                        "invalid value \"{}\" for \"{}\"",
                        cursor.rest.chars().take(12).collect::<String>(),
                        field_name(field)
                    )),
                    range => range,
                })?;
                if token.ordinal.is_some() {
                    let _ = cursor.name(&["st", "nd", "rd", "th"], None);
                }
            }
        }
    }
    assemble(parts, text)
}

fn number(cursor: &mut Cursor<'_>, max: Option<usize>, signed: bool) -> Result<i64, ReadError> {
    cursor
        .digits(max, signed)
        .map(|(value, _)| value)
        .ok_or_else(|| ReadError::Format(String::new()))
}

/// A year written with fewer than four digits, as the year nearest 2020 (PostgreSQL's
/// `adjust_partial_year_to_2020`: 0-69 are 2000-2069, 70-99 1970-1999, 100-519 2100-2519,
/// 520-999 1520-1999).
fn nearest_2020(year: i64) -> i64 {
    match year {
        0..70 => year + 2000,
        70..100 => year + 1900,
        100..520 => year + 2000,
        520..1000 => year + 1000,
        _ => year,
    }
}

fn in_range(value: i64, low: i64, high: i64, field: Field) -> Result<u32, ReadError> {
    if (low..=high).contains(&value) {
        Ok(value as u32)
    } else {
        Err(ReadError::Range(format!(
            "date/time field value out of range: {value} for \"{}\"",
            field_name(field)
        )))
    }
}

fn read_field(
    field: Field,
    cursor: &mut Cursor<'_>,
    max: Option<usize>,
    parts: &mut Parts,
) -> Result<(), ReadError> {
    let missing = || ReadError::Format(String::new());
    match field {
        Field::Year(n) => {
            let value = number(cursor, max, n == 4)?;
            parts.year = Some(if n == 4 { value } else { nearest_2020(value) });
        }
        Field::YearComma => {
            let thousands = number(cursor, None, false)?;
            if !cursor.rest.starts_with(',') {
                return Err(missing());
            }
            cursor.rest = &cursor.rest[1..];
            let rest = number(cursor, Some(3), false)?;
            parts.year = Some(thousands * 1000 + rest);
        }
        Field::IsoYear(_) => {
            parts.year = Some(number(cursor, max, true)?);
        }
        Field::Era { dots, .. } => {
            let names: &[&str] = if dots {
                &["B.C.", "A.D."]
            } else {
                &["BC", "AD"]
            };
            parts.bc = cursor.name(names, None).ok_or_else(missing)? == 0;
        }
        Field::Month => parts.month = Some(in_range(number(cursor, max, false)?, 1, 12, field)?),
        Field::MonthName(_) => {
            parts.month = Some(cursor.name(&MONTHS, None).ok_or_else(missing)? as u32 + 1)
        }
        Field::MonthAbbrev(_) => {
            parts.month = Some(cursor.name(&MONTHS, Some(3)).ok_or_else(missing)? as u32 + 1)
        }
        Field::RomanMonth(_) => {
            // Longest first so XII is not read as X.
            const BY_LENGTH: [(&str, u32); 12] = [
                ("VIII", 8),
                ("III", 3),
                ("VII", 7),
                ("XII", 12),
                ("II", 2),
                ("IV", 4),
                ("VI", 6),
                ("IX", 9),
                ("XI", 11),
                ("I", 1),
                ("V", 5),
                ("X", 10),
            ];
            let names: Vec<&str> = BY_LENGTH.iter().map(|(n, _)| *n).collect();
            let index = cursor.name(&names, None).ok_or_else(missing)?;
            parts.month = Some(BY_LENGTH[index].1);
        }
        Field::DayName(_) => {
            cursor.name(&DAYS, None).ok_or_else(missing)?;
        }
        Field::DayAbbrev(_) => {
            cursor.name(&DAYS, Some(3)).ok_or_else(missing)?;
        }
        Field::DayOfMonth => parts.day = Some(in_range(number(cursor, max, false)?, 1, 31, field)?),
        Field::DayOfYear => {
            parts.day_of_year = Some(in_range(number(cursor, max, false)?, 1, 366, field)?)
        }
        Field::Hour24 => parts.hour = Some(in_range(number(cursor, max, false)?, 0, 24, field)?),
        Field::Hour12 => {
            parts.hour = Some(in_range(number(cursor, max, false)?, 1, 12, field)?);
            parts.twelve_hour = true;
        }
        Field::Minute => parts.minute = in_range(number(cursor, max, false)?, 0, 59, field)?,
        Field::Second => parts.second = in_range(number(cursor, max, false)?, 0, 60, field)?,
        Field::Fraction(n) => {
            let (value, digits) = cursor
                .digits(max.or(Some(n as usize)), false)
                .ok_or_else(missing)?;
            parts.nanos = (value * 10_i64.pow(9 - digits as u32)) as u32;
        }
        Field::SecondsOfDay => {
            parts.seconds_of_day = Some(in_range(number(cursor, max, false)?, 0, 86_399, field)?)
        }
        Field::Meridiem { dots, .. } => {
            let names: &[&str] = if dots {
                &["A.M.", "P.M."]
            } else {
                &["AM", "PM"]
            };
            parts.pm = Some(cursor.name(names, None).ok_or_else(missing)? == 1);
        }
        Field::JulianDay => parts.julian = Some(number(cursor, max, false)?),
        Field::ZoneHours => {
            let sign = cursor.rest.starts_with('-');
            let value = number(cursor, max, true)?;
            parts.offset_sign = if sign { -1 } else { 1 };
            parts.offset_hours = Some(value.abs() as i32);
        }
        Field::ZoneMinutes => {
            parts.offset_minutes = in_range(number(cursor, max, false)?, 0, 59, field)? as i32
        }
        Field::ZoneOffset => {
            let sign = cursor.rest.starts_with('-');
            let hours = number(cursor, Some(2), true)?;
            parts.offset_sign = if sign { -1 } else { 1 };
            parts.offset_hours = Some(hours.abs() as i32);
            if cursor.rest.starts_with(':') {
                cursor.rest = &cursor.rest[1..];
                parts.offset_minutes = number(cursor, Some(2), false)? as i32;
            }
        }
        // Read and not used for the date, as PostgreSQL does when a full date is given.
        Field::DayOfWeek
        | Field::IsoDayOfWeek
        | Field::WeekOfMonth
        | Field::WeekOfYear
        | Field::IsoWeek
        | Field::IsoDayOfYear
        | Field::Century
        | Field::Quarter => {
            number(cursor, max, false)?;
        }
        Field::ZoneAbbrev(_) => {
            return Err(ReadError::Format(
                "\"TZ\" is not supported in the input of to_timestamp/to_date".into(),
            ));
        }
    }
    Ok(())
}

fn assemble(parts: Parts, text: &str) -> Result<ReadMoment, ReadError> {
    let out_of_range =
        || ReadError::Range(format!("date/time field value out of range: \"{text}\""));
    let date = if let Some(julian) = parts.julian {
        let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).ok_or_else(out_of_range)?;
        epoch
            .checked_add_signed(Duration::days(julian - 2_451_545))
            .ok_or_else(out_of_range)?
    } else {
        let mut year = parts.year.unwrap_or(1);
        if parts.bc {
            year = 1 - year;
        }
        let year = i32::try_from(year).map_err(|_| out_of_range())?;
        match (parts.day_of_year, parts.month, parts.day) {
            (Some(doy), None, None) => {
                NaiveDate::from_yo_opt(year, doy).ok_or_else(out_of_range)?
            }
            (_, month, day) => NaiveDate::from_ymd_opt(year, month.unwrap_or(1), day.unwrap_or(1))
                .ok_or_else(out_of_range)?,
        }
    };
    let mut hour = parts.hour.unwrap_or(0);
    if parts.twelve_hour || parts.pm.is_some() {
        let pm = parts.pm.unwrap_or(false);
        hour = match (hour % 12, pm) {
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    let (hour, minute, second) = match parts.seconds_of_day {
        Some(s) => (s / 3600, s % 3600 / 60, s % 60),
        None => (hour, parts.minute, parts.second),
    };
    let mut local = date.and_time(NaiveTime::MIN);
    local += Duration::hours(hour as i64)
        + Duration::minutes(minute as i64)
        + Duration::seconds(second as i64)
        + Duration::nanoseconds(parts.nanos as i64);
    let offset_seconds = parts
        .offset_hours
        .map(|h| parts.offset_sign * (h * 3600 + parts.offset_minutes * 60));
    Ok(ReadMoment {
        local,
        offset_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::super::pattern::parse;
    use super::*;

    fn read_text(pattern: &str, text: &str) -> Result<ReadMoment, ReadError> {
        read(&parse(pattern), text)
    }

    fn at(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .expect("a valid test value")
            .and_hms_opt(h, mi, s)
            .expect("a valid test value")
    }

    #[test]
    fn dates_as_postgresql_reads_them() {
        let date = |p: &str, t: &str| read_text(p, t).expect("a valid test value").local;
        assert_eq!(date("YYYY-MM-DD", "2026-12-07"), at(2026, 12, 7, 0, 0, 0));
        assert_eq!(date("YYYYMMDD", "20261207"), at(2026, 12, 7, 0, 0, 0));
        assert_eq!(date("DD Mon YYYY", "7 dec 2026"), at(2026, 12, 7, 0, 0, 0));
        assert_eq!(
            date("FMMonth DD, YYYY", "December 07, 2026"),
            at(2026, 12, 7, 0, 0, 0)
        );
        assert_eq!(date("YYYY-DDD", "2026-341"), at(2026, 12, 7, 0, 0, 0));
        assert_eq!(date("DD/MM/YY", "07/12/26"), at(2026, 12, 7, 0, 0, 0));
        assert_eq!(
            date("YYYY-MM-DD HH12:MI:SS PM", "2026-12-07 03:04:05 PM"),
            at(2026, 12, 7, 15, 4, 5)
        );
        assert_eq!(
            date("YYYY-MM-DD HH12 AM", "2026-12-07 12 AM"),
            at(2026, 12, 7, 0, 0, 0)
        );
        let with_offset = read_text("YYYY-MM-DD HH24:MI TZH:TZM", "2026-12-07 10:00 +05:30")
            .expect("a valid test value");
        assert_eq!(with_offset.offset_seconds, Some(5 * 3600 + 1800));
    }

    #[test]
    fn bad_text_names_the_field() {
        match read_text("YYYY-MM-DD", "2026-xx-07") {
            Err(ReadError::Format(message)) => assert!(message.contains("\"MM\""), "{message}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read_text("YYYY-MM-DD", "2026-13-07"),
            Err(ReadError::Range(_))
        ));
        assert!(matches!(
            read_text("YYYY-MM-DD", "2026-02-30"),
            Err(ReadError::Range(_))
        ));
    }
}
