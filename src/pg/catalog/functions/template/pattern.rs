//! PostgreSQL's date/time template patterns (`YYYY-MM-DD HH24:MI:SS`), split into the fields
//! and literal text that `to_char` writes and `to_date`/`to_timestamp` read.
//!
//! Keywords are matched longest first at each position, as PostgreSQL does (`HH24` before
//! `HH`, `MONTH` before `MON` before `MM`); text in double quotes is literal (`\"` a quote
//! inside it), a backslash makes the next character literal, and any other character is
//! literal. Modifiers: `FM` (fill mode: no padding) and `FX`/`TM` (accepted, no effect here)
//! before a field, `TH`/`th` (ordinal suffix) after a numeric field.

/// How the letters of a name (month, day, meridiem, era, Roman month) are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Case {
    /// `MONTH`: `DECEMBER`.
    Upper,
    /// `Month`: `December`.
    Title,
    /// `month`: `december`.
    Lower,
}

/// One field of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    /// `HH`, `HH12`: hour of the half day, 01-12.
    Hour12,
    /// `HH24`: hour of the day, 00-23.
    Hour24,
    /// `MI`: minute, 00-59.
    Minute,
    /// `SS`: second, 00-59.
    Second,
    /// `MS` (3), `US` (6), `FF1`…`FF6`: that many digits of the fraction of a second.
    Fraction(u8),
    /// `SSSS`, `SSSSS`: seconds past midnight.
    SecondsOfDay,
    /// `AM`, `PM`, `am`, `pm` (`dots`: `A.M.`, `p.m.`).
    Meridiem { case: Case, dots: bool },
    /// `Y,YYY`: year with a comma.
    YearComma,
    /// `YYYY` (4), `YYY` (3), `YY` (2), `Y` (1): the year or its last digits.
    Year(u8),
    /// `IYYY`, `IYY`, `IY`, `I`: the ISO 8601 week-numbering year or its last digits.
    IsoYear(u8),
    /// `BC`, `AD`, `bc`, `ad` (`dots`: `B.C.`, `a.d.`).
    Era { case: Case, dots: bool },
    /// `MONTH`, `Month`, `month`: full month name, padded to 9 characters.
    MonthName(Case),
    /// `MON`, `Mon`, `mon`: abbreviated month name.
    MonthAbbrev(Case),
    /// `MM`: month number, 01-12.
    Month,
    /// `DAY`, `Day`, `day`: full day name, padded to 9 characters.
    DayName(Case),
    /// `DY`, `Dy`, `dy`: abbreviated day name.
    DayAbbrev(Case),
    /// `DDD`: day of the year, 001-366.
    DayOfYear,
    /// `IDDD`: day of the ISO 8601 week-numbering year, 001-371.
    IsoDayOfYear,
    /// `DD`: day of the month, 01-31.
    DayOfMonth,
    /// `D`: day of the week, Sunday (1) to Saturday (7).
    DayOfWeek,
    /// `ID`: ISO 8601 day of the week, Monday (1) to Sunday (7).
    IsoDayOfWeek,
    /// `W`: week of the month, 1-5 (days 1-7 are week 1).
    WeekOfMonth,
    /// `WW`: week of the year, 1-53 (days 1-7 of the year are week 1).
    WeekOfYear,
    /// `IW`: ISO 8601 week of the year, 01-53.
    IsoWeek,
    /// `CC`: century (2001-2100 is the 21st).
    Century,
    /// `J`: Julian day (days since 24 November 4714 BC, noon).
    JulianDay,
    /// `Q`: quarter, 1-4.
    Quarter,
    /// `RM`, `rm`: month in Roman numerals, padded to 4 characters.
    RomanMonth(Case),
    /// `TZ`, `tz`: the zone's abbreviation (empty for a `timestamp` without zone).
    ZoneAbbrev(Case),
    /// `TZH`: the zone's offset hours, signed (`+05`).
    ZoneHours,
    /// `TZM`: the zone's offset minutes (`30`).
    ZoneMinutes,
    /// `OF`: the zone's offset, `+05:30`, or `+01` when it is whole hours.
    ZoneOffset,
}

/// A field with its modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Token {
    /// The field.
    pub field: Field,
    /// `FM`: no padding (no leading zeros, no trailing blanks).
    pub fill_mode: bool,
    /// `TH` / `th`: the ordinal suffix after the number, in that case.
    pub ordinal: Option<Case>,
}

/// A piece of a template: a field, or text written (and skipped when reading) as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Piece {
    /// A field.
    Field(Token),
    /// Literal text.
    Literal(String),
}

/// Keywords, longest first where one is a prefix of another. `None` marks the case-carrying
/// keywords whose case is read from the pattern text.
const KEYWORDS: &[(&str, Keyword)] = &[
    ("A.D.", Keyword::Era(true)),
    ("A.M.", Keyword::Meridiem(true)),
    ("AD", Keyword::Era(false)),
    ("AM", Keyword::Meridiem(false)),
    ("B.C.", Keyword::Era(true)),
    ("BC", Keyword::Era(false)),
    ("CC", Keyword::Plain(Field::Century)),
    ("DAY", Keyword::DayName),
    ("DDD", Keyword::Plain(Field::DayOfYear)),
    ("DD", Keyword::Plain(Field::DayOfMonth)),
    ("DY", Keyword::DayAbbrev),
    ("D", Keyword::Plain(Field::DayOfWeek)),
    ("FF1", Keyword::Plain(Field::Fraction(1))),
    ("FF2", Keyword::Plain(Field::Fraction(2))),
    ("FF3", Keyword::Plain(Field::Fraction(3))),
    ("FF4", Keyword::Plain(Field::Fraction(4))),
    ("FF5", Keyword::Plain(Field::Fraction(5))),
    ("FF6", Keyword::Plain(Field::Fraction(6))),
    ("HH24", Keyword::Plain(Field::Hour24)),
    ("HH12", Keyword::Plain(Field::Hour12)),
    ("HH", Keyword::Plain(Field::Hour12)),
    ("IDDD", Keyword::Plain(Field::IsoDayOfYear)),
    ("ID", Keyword::Plain(Field::IsoDayOfWeek)),
    ("IW", Keyword::Plain(Field::IsoWeek)),
    ("IYYY", Keyword::Plain(Field::IsoYear(4))),
    ("IYY", Keyword::Plain(Field::IsoYear(3))),
    ("IY", Keyword::Plain(Field::IsoYear(2))),
    ("I", Keyword::Plain(Field::IsoYear(1))),
    ("J", Keyword::Plain(Field::JulianDay)),
    ("MI", Keyword::Plain(Field::Minute)),
    ("MM", Keyword::Plain(Field::Month)),
    ("MONTH", Keyword::MonthName),
    ("MON", Keyword::MonthAbbrev),
    ("MS", Keyword::Plain(Field::Fraction(3))),
    ("OF", Keyword::Plain(Field::ZoneOffset)),
    ("P.M.", Keyword::Meridiem(true)),
    ("PM", Keyword::Meridiem(false)),
    ("Q", Keyword::Plain(Field::Quarter)),
    ("RM", Keyword::RomanMonth),
    ("SSSSS", Keyword::Plain(Field::SecondsOfDay)),
    ("SSSS", Keyword::Plain(Field::SecondsOfDay)),
    ("SS", Keyword::Plain(Field::Second)),
    ("TZH", Keyword::Plain(Field::ZoneHours)),
    ("TZM", Keyword::Plain(Field::ZoneMinutes)),
    ("TZ", Keyword::ZoneAbbrev),
    ("US", Keyword::Plain(Field::Fraction(6))),
    ("WW", Keyword::Plain(Field::WeekOfYear)),
    ("W", Keyword::Plain(Field::WeekOfMonth)),
    ("Y,YYY", Keyword::Plain(Field::YearComma)),
    ("YYYY", Keyword::Plain(Field::Year(4))),
    ("YYY", Keyword::Plain(Field::Year(3))),
    ("YY", Keyword::Plain(Field::Year(2))),
    ("Y", Keyword::Plain(Field::Year(1))),
];

#[derive(Debug, Clone, Copy)]
enum Keyword {
    Plain(Field),
    Meridiem(bool),
    Era(bool),
    MonthName,
    MonthAbbrev,
    DayName,
    DayAbbrev,
    RomanMonth,
    ZoneAbbrev,
}

/// The case a keyword was written in: `MONTH`, `Month` or `month` (from its first two
/// letters, as PostgreSQL reads it).
fn case_of(text: &str) -> Case {
    let mut letters = text.chars().filter(|c| c.is_ascii_alphabetic());
    match (letters.next(), letters.next()) {
        (Some(a), _) if a.is_ascii_lowercase() => Case::Lower,
        (Some(_), Some(b)) if b.is_ascii_lowercase() => Case::Title,
        _ => Case::Upper,
    }
}

/// The field of the keyword at the start of `rest`, and its length in bytes.
fn keyword_at(rest: &str) -> Option<(Field, usize)> {
    for (word, keyword) in KEYWORDS {
        let Some(candidate) = rest.get(..word.len()) else {
            continue;
        };
        if !candidate.eq_ignore_ascii_case(word) {
            continue;
        }
        let case = case_of(candidate);
        let field = match *keyword {
            Keyword::Plain(field) => field,
            Keyword::Meridiem(dots) => Field::Meridiem { case, dots },
            Keyword::Era(dots) => Field::Era { case, dots },
            Keyword::MonthName => Field::MonthName(case),
            Keyword::MonthAbbrev => Field::MonthAbbrev(case),
            Keyword::DayName => Field::DayName(case),
            Keyword::DayAbbrev => Field::DayAbbrev(case),
            Keyword::RomanMonth => Field::RomanMonth(case),
            Keyword::ZoneAbbrev => Field::ZoneAbbrev(case),
        };
        return Some((field, word.len()));
    }
    None
}

/// Whether a field is a number (so `TH` may follow it).
fn is_numeric(field: Field) -> bool {
    !matches!(
        field,
        Field::Meridiem { .. }
            | Field::Era { .. }
            | Field::MonthName(_)
            | Field::MonthAbbrev(_)
            | Field::DayName(_)
            | Field::DayAbbrev(_)
            | Field::RomanMonth(_)
            | Field::ZoneAbbrev(_)
            | Field::ZoneHours
            | Field::ZoneOffset
    )
}

/// Splits `pattern` into its pieces (see the module docs). Every pattern is valid: what is
/// not a keyword is literal text.
pub(super) fn parse(pattern: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        let mut fill_mode = false;
        let mut after_modifiers = rest;
        loop {
            let prefix = after_modifiers.get(..2).map(str::to_ascii_uppercase);
            match prefix.as_deref() {
                Some("FM") => fill_mode = true,
                Some("FX") | Some("TM") => {}
                _ => break,
            }
            after_modifiers = &after_modifiers[2..];
        }
        if let Some((field, len)) = keyword_at(after_modifiers) {
            let mut after = &after_modifiers[len..];
            let mut ordinal = None;
            if is_numeric(field) {
                match after.get(..2) {
                    Some("TH") => ordinal = Some(Case::Upper),
                    Some("th") => ordinal = Some(Case::Lower),
                    _ => {}
                }
                if ordinal.is_some() {
                    after = &after[2..];
                }
            }
            if !literal.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Field(Token {
                field,
                fill_mode,
                ordinal,
            }));
            rest = after;
            continue;
        }
        if after_modifiers.len() != rest.len() && after_modifiers.is_empty() {
            // Modifiers with nothing after them are dropped, as PostgreSQL does.
            break;
        }
        let mut chars = rest.chars();
        let c = chars.next().unwrap_or_default();
        match c {
            '"' => {
                let mut inner = chars.as_str();
                loop {
                    let mut inner_chars = inner.chars();
                    match inner_chars.next() {
                        None => break,
                        Some('"') => {
                            inner = inner_chars.as_str();
                            break;
                        }
                        Some('\\') => {
                            if let Some(escaped) = inner_chars.next() {
                                literal.push(escaped);
                            }
                        }
                        Some(other) => literal.push(other),
                    }
                    inner = inner_chars.as_str();
                }
                rest = inner;
            }
            '\\' => {
                match chars.next() {
                    Some(escaped) => literal.push(escaped),
                    None => literal.push('\\'),
                }
                rest = chars.as_str();
            }
            other => {
                literal.push(other);
                rest = chars.as_str();
            }
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(field: Field) -> Piece {
        Piece::Field(Token {
            field,
            fill_mode: false,
            ordinal: None,
        })
    }

    fn lit(text: &str) -> Piece {
        Piece::Literal(text.to_string())
    }

    #[test]
    fn longest_keyword_wins() {
        assert_eq!(
            parse("YYYY-MM-DD HH24:MI:SS"),
            vec![
                field(Field::Year(4)),
                lit("-"),
                field(Field::Month),
                lit("-"),
                field(Field::DayOfMonth),
                lit(" "),
                field(Field::Hour24),
                lit(":"),
                field(Field::Minute),
                lit(":"),
                field(Field::Second),
            ]
        );
        assert_eq!(parse("Month"), vec![field(Field::MonthName(Case::Title))]);
        assert_eq!(parse("MON"), vec![field(Field::MonthAbbrev(Case::Upper))]);
        assert_eq!(parse("dy"), vec![field(Field::DayAbbrev(Case::Lower))]);
        assert_eq!(parse("DDD"), vec![field(Field::DayOfYear)]);
    }

    #[test]
    fn modifiers_and_quoted_text() {
        assert_eq!(
            parse("FMDDth \"of\" Mon"),
            vec![
                Piece::Field(Token {
                    field: Field::DayOfMonth,
                    fill_mode: true,
                    ordinal: Some(Case::Lower),
                }),
                lit(" of "),
                field(Field::MonthAbbrev(Case::Title)),
            ]
        );
        assert_eq!(parse("\\YYYY"), vec![lit("Y"), field(Field::Year(3))]);
        assert_eq!(parse("\"a\\\"b\""), vec![lit("a\"b")]);
    }

    #[test]
    fn lower_case_numeric_keywords() {
        assert_eq!(
            parse("yyyy"),
            vec![field(Field::Year(4))],
            "numeric keywords are case-insensitive"
        );
    }
}
