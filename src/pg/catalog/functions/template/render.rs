//! `to_char`'s side of templates: a moment written field by field, as PostgreSQL writes it.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

use super::pattern::{Case, Field, Piece, Token};

/// English month names (PostgreSQL's `to_char` is not localised without `TM`).
pub(super) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// English day names, Sunday first.
pub(super) const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

const ROMAN_MONTHS: [&str; 12] = [
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
];

/// The zone a moment was written in: its UTC offset and abbreviation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Zone {
    /// Seconds east of UTC.
    pub offset_seconds: i32,
    /// The abbreviation (`IST`, `CET`, `-03`).
    pub abbreviation: String,
}

/// A wall-clock date and time, with its zone for a `timestamptz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Moment {
    /// The calendar date.
    pub date: NaiveDate,
    /// The time of day (nanosecond precision).
    pub time: NaiveTime,
    /// The zone, or `None` for a `timestamp` or `date`.
    pub zone: Option<Zone>,
}

/// `moment` written with the template `pieces`.
pub(super) fn render(pieces: &[Piece], moment: &Moment) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Field(token) => render_field(token, moment, &mut out),
        }
    }
    out
}

fn cased(text: &str, case: Case) -> String {
    match case {
        Case::Upper => text.to_ascii_uppercase(),
        Case::Lower => text.to_ascii_lowercase(),
        Case::Title => text.to_string(),
    }
}

/// A number, zero-padded to `width` unless in fill mode (negative numbers keep their sign in
/// front of the padding, as C's `%0*d` does).
fn number(out: &mut String, value: i64, width: usize, fill_mode: bool) {
    if fill_mode {
        let _ = write!(out, "{value}");
    } else if value < 0 {
        let _ = write!(out, "-{:0width$}", -value, width = width.saturating_sub(1));
    } else {
        let _ = write!(out, "{value:0width$}");
    }
}

/// English ordinal suffix of `value`: `st`, `nd`, `rd`, `th`.
fn ordinal_suffix(value: i64) -> &'static str {
    let value = value.abs();
    if (11..=13).contains(&(value % 100)) {
        return "th";
    }
    match value % 10 {
        1 => "st",
        2 => "nd",
        3 => "rd",
        _ => "th",
    }
}

/// A name padded to 9 characters with blanks unless in fill mode.
fn name(out: &mut String, text: &str, case: Case, pad: usize, fill_mode: bool) {
    let text = cased(text, case);
    if fill_mode {
        out.push_str(&text);
    } else {
        let _ = write!(out, "{text:<pad$}");
    }
}

/// A two-way marker (`AM`/`PM`, `AD`/`BC`): `names` are the first and second plainly, then
/// with dots; written in upper case unless the pattern was lower case.
fn marker(out: &mut String, names: [&str; 4], second: bool, dots: bool, case: Case) {
    let name = names[usize::from(second) + 2 * usize::from(dots)];
    let case = if case == Case::Lower {
        Case::Lower
    } else {
        Case::Upper
    };
    out.push_str(&cased(name, case));
}

/// The days since 4714-11-24 BC (proleptic Gregorian), PostgreSQL's `J`.
fn julian_day(date: NaiveDate) -> i64 {
    // 2000-01-01 is Julian day 2451545.
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    2_451_545 + (date - epoch).num_days()
}

/// The ISO 8601 week-numbering year's day: (ISO week - 1) * 7 + ISO weekday.
fn iso_day_of_year(date: NaiveDate) -> i64 {
    let week = date.iso_week().week() as i64;
    (week - 1) * 7 + date.weekday().number_from_monday() as i64
}

/// The year as PostgreSQL counts it for output: no year 0, 1 BC is year 1 with era BC.
fn year_of_era(year: i32) -> i64 {
    if year <= 0 {
        1 - year as i64
    } else {
        year as i64
    }
}

fn render_field(token: &Token, moment: &Moment, out: &mut String) {
    let Token {
        field,
        fill_mode,
        ordinal,
    } = *token;
    let date = moment.date;
    let time = moment.time;
    let numeric = |out: &mut String, value: i64, width: usize| {
        number(out, value, width, fill_mode);
        if let Some(case) = ordinal {
            out.push_str(&cased(ordinal_suffix(value), case));
        }
    };
    let last_digits = |value: i64, digits: u8| value % 10_i64.pow(digits as u32);
    match field {
        Field::Hour24 => numeric(out, time.hour() as i64, 2),
        Field::Hour12 => {
            let hour = match time.hour() % 12 {
                0 => 12,
                h => h,
            };
            numeric(out, hour as i64, 2)
        }
        Field::Minute => numeric(out, time.minute() as i64, 2),
        Field::Second => numeric(out, time.second() as i64, 2),
        Field::Fraction(digits) => {
            let nanos = time.nanosecond() as i64 % 1_000_000_000;
            let value = nanos / 10_i64.pow(9 - digits as u32);
            numeric(out, value, digits as usize)
        }
        Field::SecondsOfDay => {
            let seconds = time.num_seconds_from_midnight() as i64;
            let _ = write!(out, "{seconds}");
            if let Some(case) = ordinal {
                out.push_str(&cased(ordinal_suffix(seconds), case));
            }
        }
        Field::Meridiem { case, dots } => marker(
            out,
            ["AM", "PM", "A.M.", "P.M."],
            time.hour() >= 12,
            dots,
            case,
        ),
        Field::YearComma => {
            let year = year_of_era(date.year());
            let _ = write!(out, "{},{:03}", year / 1000, year % 1000);
        }
        Field::Year(4) => numeric(out, year_of_era(date.year()), 4),
        Field::Year(digits) => numeric(
            out,
            last_digits(year_of_era(date.year()), digits),
            digits as usize,
        ),
        Field::IsoYear(4) => numeric(out, date.iso_week().year() as i64, 4),
        Field::IsoYear(digits) => numeric(
            out,
            last_digits(date.iso_week().year() as i64, digits),
            digits as usize,
        ),
        Field::Era { case, dots } => marker(
            out,
            ["AD", "BC", "A.D.", "B.C."],
            date.year() <= 0,
            dots,
            case,
        ),
        Field::MonthName(case) => name(out, MONTHS[date.month0() as usize], case, 9, fill_mode),
        Field::MonthAbbrev(case) => {
            out.push_str(&cased(&MONTHS[date.month0() as usize][..3], case))
        }
        Field::Month => numeric(out, date.month() as i64, 2),
        Field::DayName(case) => name(
            out,
            DAYS[date.weekday().num_days_from_sunday() as usize],
            case,
            9,
            fill_mode,
        ),
        Field::DayAbbrev(case) => out.push_str(&cased(
            &DAYS[date.weekday().num_days_from_sunday() as usize][..3],
            case,
        )),
        Field::DayOfYear => numeric(out, date.ordinal() as i64, 3),
        Field::IsoDayOfYear => numeric(out, iso_day_of_year(date), 3),
        Field::DayOfMonth => numeric(out, date.day() as i64, 2),
        Field::DayOfWeek => numeric(out, date.weekday().number_from_sunday() as i64, 1),
        Field::IsoDayOfWeek => numeric(out, date.weekday().number_from_monday() as i64, 1),
        Field::WeekOfMonth => numeric(out, (date.day0() / 7 + 1) as i64, 1),
        Field::WeekOfYear => numeric(out, (date.ordinal0() / 7 + 1) as i64, 2),
        Field::IsoWeek => numeric(out, date.iso_week().week() as i64, 2),
        Field::Century => {
            let year = date.year() as i64;
            let century = if year > 0 {
                (year + 99) / 100
            } else {
                -((99 - (year - 1)) / 100)
            };
            numeric(out, century, if century >= 0 { 2 } else { 3 })
        }
        Field::JulianDay => numeric(out, julian_day(date), 1),
        Field::Quarter => numeric(out, (date.month0() / 3 + 1) as i64, 1),
        Field::RomanMonth(case) => name(
            out,
            ROMAN_MONTHS[date.month0() as usize],
            if case == Case::Lower {
                case
            } else {
                Case::Upper
            },
            4,
            fill_mode,
        ),
        Field::ZoneAbbrev(case) => {
            if let Some(zone) = &moment.zone {
                out.push_str(&cased(&zone.abbreviation, case));
            }
        }
        Field::ZoneHours => {
            let offset = moment.zone.as_ref().map_or(0, |z| z.offset_seconds);
            let sign = if offset < 0 { '-' } else { '+' };
            let hours = offset.abs() / 3600;
            if fill_mode {
                let _ = write!(out, "{sign}{hours}");
            } else {
                let _ = write!(out, "{sign}{hours:02}");
            }
        }
        Field::ZoneMinutes => {
            let offset = moment.zone.as_ref().map_or(0, |z| z.offset_seconds);
            numeric(out, (offset.abs() % 3600 / 60) as i64, 2)
        }
        Field::ZoneOffset => {
            let offset = moment.zone.as_ref().map_or(0, |z| z.offset_seconds);
            let sign = if offset < 0 { '-' } else { '+' };
            let (hours, minutes) = (offset.abs() / 3600, offset.abs() % 3600 / 60);
            if fill_mode {
                let _ = write!(out, "{sign}{hours}");
            } else {
                let _ = write!(out, "{sign}{hours:02}");
            }
            if minutes != 0 {
                let _ = write!(out, ":{minutes:02}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::pattern::parse;
    use super::*;

    fn moment(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32, micros: u32) -> Moment {
        Moment {
            date: NaiveDate::from_ymd_opt(y, m, d).expect("a valid test value"),
            time: NaiveTime::from_hms_micro_opt(h, mi, s, micros).expect("a valid test value"),
            zone: Some(Zone {
                offset_seconds: 5 * 3600 + 1800,
                abbreviation: "IST".into(),
            }),
        }
    }

    #[test]
    fn fields_as_postgresql_writes_them() {
        // Hand-checked against PostgreSQL 15's documentation of each pattern.
        let m = moment(2026, 12, 7, 15, 4, 5, 123_456);
        let text = |p: &str| render(&parse(p), &m);
        assert_eq!(text("YYYY-MM-DD HH24:MI:SS"), "2026-12-07 15:04:05");
        assert_eq!(text("HH12:MI AM"), "03:04 PM");
        assert_eq!(text("FMHH12 pm"), "3 pm");
        assert_eq!(text("Month|FMMonth|MON|mon"), "December |December|DEC|dec");
        assert_eq!(text("Day|Dy|D|ID"), "Monday   |Mon|2|1");
        assert_eq!(text("DDD IW WW W Q CC J"), "341 50 49 1 4 21 2461382");
        assert_eq!(text("FMDDth \"of\" FMMonth"), "7th of December");
        // Unquoted, `of` is the zone offset field, in PostgreSQL too.
        assert_eq!(text("FMDDth of"), "7th +05:30");
        assert_eq!(text("MS US FF2"), "123 123456 12");
        assert_eq!(text("TZ OF TZH:TZM"), "IST +05:30 +05:30");
        assert_eq!(text("Y,YYY YYY YY Y"), "2,026 026 26 6");
        assert_eq!(text("RM|FMrm"), "XII |xii");
        assert_eq!(text("SSSS"), "54245");
        assert_eq!(text("\"Week\" IW"), "Week 50");
    }

    #[test]
    fn ordinals() {
        for (n, suffix) in [
            (1, "st"),
            (2, "nd"),
            (3, "rd"),
            (4, "th"),
            (11, "th"),
            (12, "th"),
            (13, "th"),
            (21, "st"),
            (22, "nd"),
            (111, "th"),
        ] {
            assert_eq!(ordinal_suffix(n), suffix, "{n}");
        }
    }
}
