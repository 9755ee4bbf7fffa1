//! `to_char`, `to_date` and `to_timestamp` with PostgreSQL's template patterns
//! (`to_char(ts, 'YYYY-MM-DD HH24:MI')`, `to_date('07 Dec 2026', 'DD Mon YYYY')`), replacing
//! DataFusion's functions of those names, which take chrono's `%Y-%m-%d` patterns.
//!
//! | Call | Answer |
//! |---|---|
//! | `to_char(timestamptz, text)` | the instant in the session's `TimeZone` (the `session_zone` rule labels it), written with the template; `TZ`/`OF` give that zone |
//! | `to_char(timestamp, text)`, `to_char(date, text)` | the wall time written with the template; `TZ` is empty, `OF` `+00` |
//! | `to_date(text, text)` | the date the template reads from the text |
//! | `to_timestamp(text, text)` | the `timestamptz` the template reads, a wall time in the session's `TimeZone` unless the text carries an offset (`TZH:TZM`, `OF`) |
//! | a template containing `%` | DataFusion's chrono-pattern function, as before (a `%` is rare in PostgreSQL templates, where it would be literal text) |
//! | one argument (`to_timestamp(0)`, `to_date('2026-12-07')`) | DataFusion's function |
//!
//! Templates: [`pattern`] (every field of PostgreSQL 15's "Template Patterns for Date/Time
//! Formatting", `FM` and `TH` modifiers, quoted text); writing: [`render`]; reading: [`read`].
//! Not supported: `to_char` of numbers and intervals (DataFusion's signature refuses them:
//! `42883`) and `TZ` in the input of `to_timestamp` (`22007`). Text that does not match its
//! template is `22007` naming the field; a value out of range (`2026-02-30`) is `22008`.

mod pattern;
mod read;
mod render;

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Builder, Int64Array, StringArray, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field as ArrowField, FieldRef, TimeUnit};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetName, Tz};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature,
};

use super::SECTION;
use crate::pg::error::{CodedError, code};
use crate::pg::session::parse_time_zone;
use crate::pg::wire::format::local_to_utc_micros;
use pattern::Piece;
use read::{ReadError, ReadMoment};
use render::{Moment, Zone};

/// Which of the three functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Char,
    Date,
    Timestamp,
}

/// `to_char`, `to_date` or `to_timestamp` with PostgreSQL templates, DataFusion's function
/// of the same name behind it for chrono patterns and other signatures (see the module docs).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct TemplateFunction {
    kind: Kind,
    datafusion: Arc<ScalarUDF>,
    documentation: Documentation,
}

impl TemplateFunction {
    /// The function of `kind` over DataFusion's own (`datafusion`), for the session `config`.
    fn new(kind: Kind, datafusion: Arc<ScalarUDF>) -> Self {
        let (description, syntax, example) = match kind {
            Kind::Char => (
                "A date or time written with a PostgreSQL template pattern (YYYY, MM, DD, HH24, MI, SS, Month, Dy, IW, Q, TZ ...; FM and TH modifiers); a timestamptz is written in the session time zone. A pattern with % is a chrono pattern.",
                "to_char(value, template)",
                "```sql\nSELECT to_char(TIMESTAMPTZ '2026-12-07 15:04:05+00', 'FMDay, DDth Mon YYYY HH24:MI');\n-- Monday, 07th Dec 2026 15:04\n```",
            ),
            Kind::Date => (
                "The date a PostgreSQL template pattern reads from text (YYYY-MM-DD, DD Mon YYYY, YYYYMMDD ...). A pattern with % is a chrono pattern.",
                "to_date(text, template)",
                "```sql\nSELECT to_date('07 Dec 2026', 'DD Mon YYYY');\n-- 2026-12-07\n```",
            ),
            Kind::Timestamp => (
                "The timestamptz a PostgreSQL template pattern reads from text, in the session time zone unless the text has an offset (TZH:TZM); with one argument, DataFusion's to_timestamp (epoch seconds or ISO text). A pattern with % is a chrono pattern.",
                "to_timestamp(text, template)",
                "```sql\nSELECT to_timestamp('2026-12-07 15:04', 'YYYY-MM-DD HH24:MI');\n```",
            ),
        };
        TemplateFunction {
            kind,
            datafusion,
            documentation: Documentation::builder(SECTION, description, syntax)
                .with_sql_example(example)
                .build(),
        }
    }

    /// Whether a call with these arguments takes a PostgreSQL template (not DataFusion's path).
    fn is_template_call(&self, argument_count: usize, pattern: Option<&ScalarValue>) -> bool {
        argument_count == 2
            && !pattern
                .and_then(scalar_text)
                .is_some_and(|p| p.contains('%'))
    }
}

/// The functions of this module, over the DataFusion functions they replace.
pub(super) fn functions(config: &ConfigOptions) -> Vec<ScalarUDF> {
    use datafusion::functions::datetime;
    [
        (Kind::Char, datetime::to_char()),
        (Kind::Date, datetime::to_date()),
        (Kind::Timestamp, datetime::to_timestamp(config)),
    ]
    .into_iter()
    .map(|(kind, datafusion)| ScalarUDF::new_from_impl(TemplateFunction::new(kind, datafusion)))
    .collect()
}

fn scalar_text(value: &ScalarValue) -> Option<&str> {
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s.as_str()),
        _ => None,
    }
}

fn coded(code: &'static str, message: String) -> DataFusionError {
    DataFusionError::External(Box::new(CodedError::new(code, message)))
}

fn read_error(error: ReadError) -> DataFusionError {
    match error {
        ReadError::Format(message) => coded(code::INVALID_DATETIME_FORMAT, message),
        ReadError::Range(message) => coded(code::DATETIME_FIELD_OVERFLOW, message),
    }
}

impl ScalarUDFImpl for TemplateFunction {
    fn name(&self) -> &str {
        self.datafusion.name()
    }

    fn signature(&self) -> &Signature {
        self.datafusion.signature()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.datafusion.coerce_types(arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match self.kind {
            Kind::Char => Ok(DataType::Utf8),
            Kind::Date => Ok(DataType::Date32),
            Kind::Timestamp if arg_types.len() == 2 => Ok(timestamptz()),
            Kind::Timestamp => self.datafusion.return_type(arg_types),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let pattern = args.scalar_arguments.get(1).copied().flatten();
        if self.kind == Kind::Timestamp && self.is_template_call(args.arg_fields.len(), pattern) {
            return Ok(Arc::new(ArrowField::new(self.name(), timestamptz(), true)));
        }
        self.datafusion.return_field_from_args(args)
    }

    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        let datafusion = self.datafusion.inner().with_updated_config(config)?;
        Some(ScalarUDF::new_from_impl(TemplateFunction::new(
            self.kind,
            Arc::new(datafusion),
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let pattern = match args.args.get(1) {
            Some(ColumnarValue::Scalar(value)) => Some(value.clone()),
            _ => None,
        };
        if !self.is_template_call(args.args.len(), pattern.as_ref()) {
            return self.datafusion.invoke_with_args(args);
        }
        let rows = args.number_rows;
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let session_zone = args.config_options.execution.time_zone.clone();
        let result = match self.kind {
            Kind::Char => to_char(&arrays[0], &arrays[1])?,
            Kind::Date => to_date(&arrays[0], &arrays[1])?,
            Kind::Timestamp => to_timestamp(&arrays[0], &arrays[1], session_zone.as_deref())?,
        };
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &result, 0,
            )?))
        } else {
            debug_assert_eq!(result.len(), rows);
            Ok(ColumnarValue::Array(result))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.documentation)
    }
}

/// The type `to_timestamp(text, template)` returns: the lake's `timestamptz`.
fn timestamptz() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The templates of a column of patterns, parsed once per distinct pattern in a row.
struct Templates {
    patterns: StringArray,
    last: Option<(usize, Vec<Piece>)>,
}

impl Templates {
    fn new(patterns: &ArrayRef) -> Result<Self> {
        let patterns = arrow::compute::cast(patterns, &DataType::Utf8)?;
        Ok(Templates {
            patterns: patterns.as_string::<i32>().clone(),
            last: None,
        })
    }

    /// The template of `row`, or `None` for a NULL pattern.
    fn get(&mut self, row: usize) -> Option<&[Piece]> {
        if self.patterns.is_null(row) {
            return None;
        }
        let text = self.patterns.value(row);
        let reuse = self
            .last
            .as_ref()
            .is_some_and(|(at, _)| self.patterns.value(*at) == text);
        if !reuse {
            self.last = Some((row, pattern::parse(text)));
        }
        self.last.as_ref().map(|(_, pieces)| pieces.as_slice())
    }
}

/// A zone named by an Arrow timestamp type: a tz database name or a fixed offset.
enum ArrowZone {
    Named(Tz),
    Fixed(FixedOffset),
}

impl ArrowZone {
    fn parse(name: &str) -> Result<ArrowZone> {
        if let Some(tz) = parse_time_zone(name) {
            return Ok(ArrowZone::Named(tz));
        }
        fixed_offset(name).map(ArrowZone::Fixed).ok_or_else(|| {
            coded(
                code::INVALID_PARAMETER_VALUE,
                format!("unknown time zone \"{name}\""),
            )
        })
    }

    /// The wall time and zone of the UTC instant `utc`.
    fn moment(&self, utc: NaiveDateTime) -> Moment {
        let (local, offset_seconds, abbreviation) = match self {
            ArrowZone::Named(tz) => {
                let at = tz.from_utc_datetime(&utc);
                let offset = at.offset();
                let seconds = offset.fix().local_minus_utc();
                let abbreviation = offset
                    .abbreviation()
                    .map(str::to_string)
                    .unwrap_or_else(|| offset_text(seconds));
                (at.naive_local(), seconds, abbreviation)
            }
            ArrowZone::Fixed(offset) => {
                let at = offset.from_utc_datetime(&utc);
                let seconds = offset.local_minus_utc();
                (at.naive_local(), seconds, offset_text(seconds))
            }
        };
        Moment {
            date: local.date(),
            time: local.time(),
            zone: Some(Zone {
                offset_seconds,
                abbreviation,
            }),
        }
    }
}

/// A fixed offset as Arrow types carry it: `+05:30`, `+0530`, `+05`, `-03`.
fn fixed_offset(name: &str) -> Option<FixedOffset> {
    let (sign, digits) = match name.as_bytes().first()? {
        b'+' => (1, &name[1..]),
        b'-' => (-1, &name[1..]),
        _ => return None,
    };
    let digits = digits.replace(':', "");
    if !(digits.len() == 2 || digits.len() == 4) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = match &digits[2..] {
        "" => 0,
        minutes => minutes.parse().ok()?,
    };
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// `+05:30` / `-03`: PostgreSQL's name for a zone without an abbreviation.
fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let (hours, minutes) = (seconds.abs() / 3600, seconds.abs() % 3600 / 60);
    if minutes == 0 {
        format!("{sign}{hours:02}")
    } else {
        format!("{sign}{hours:02}:{minutes:02}")
    }
}

/// The UTC date-time of a timestamp value in `unit`.
fn utc_of(value: i64, unit: TimeUnit) -> Option<NaiveDateTime> {
    let at = match unit {
        TimeUnit::Second => DateTime::<Utc>::from_timestamp(value, 0),
        TimeUnit::Millisecond => DateTime::<Utc>::from_timestamp_millis(value),
        TimeUnit::Microsecond => DateTime::<Utc>::from_timestamp_micros(value),
        TimeUnit::Nanosecond => Some(DateTime::<Utc>::from_timestamp_nanos(value)),
    };
    at.map(|at| at.naive_utc())
}

/// `to_char(values, patterns)` row by row.
fn to_char(values: &ArrayRef, patterns: &ArrayRef) -> Result<ArrayRef> {
    let mut templates = Templates::new(patterns)?;
    let mut out = StringBuilder::with_capacity(values.len(), values.len() * 16);
    let moment_of: Box<dyn Fn(usize) -> Option<Moment>> = match values.data_type() {
        DataType::Timestamp(unit, zone) => {
            let unit = *unit;
            let zone = zone.as_deref().map(ArrowZone::parse).transpose()?;
            // The stored instants, reinterpreted (a cast to a zone-less type would shift them
            // to wall times).
            let raw = Int64Array::from(
                values
                    .to_data()
                    .into_builder()
                    .data_type(DataType::Int64)
                    .build()?,
            );
            Box::new(move |row| {
                let utc = utc_of(raw.value(row), unit)?;
                Some(match &zone {
                    Some(zone) => zone.moment(utc),
                    None => Moment {
                        date: utc.date(),
                        time: utc.time(),
                        zone: None,
                    },
                })
            })
        }
        DataType::Date32 | DataType::Date64 => {
            let days = arrow::compute::cast(values, &DataType::Date32)?;
            let days = days.as_primitive::<arrow::datatypes::Date32Type>().clone();
            Box::new(move |row| {
                let date = NaiveDate::from_num_days_from_ce_opt(days.value(row) + 719_163)?;
                Some(Moment {
                    date,
                    time: chrono::NaiveTime::MIN,
                    zone: None,
                })
            })
        }
        other => {
            return Err(coded(
                code::FEATURE_NOT_SUPPORTED,
                format!("to_char of {other} is not supported: only dates and timestamps"),
            ));
        }
    };
    for row in 0..values.len() {
        let pieces = templates.get(row);
        match (values.is_null(row), pieces) {
            (false, Some(pieces)) => match moment_of(row) {
                Some(moment) => out.append_value(render::render(pieces, &moment)),
                None => out.append_null(),
            },
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// Reads every row of `texts` with its template (NULL in, NULL out).
fn read_rows(
    texts: &ArrayRef,
    patterns: &ArrayRef,
    mut each: impl FnMut(Option<ReadMoment>) -> Result<()>,
) -> Result<()> {
    let mut templates = Templates::new(patterns)?;
    let texts = arrow::compute::cast(texts, &DataType::Utf8)?;
    let texts = texts.as_string::<i32>();
    for row in 0..texts.len() {
        match templates.get(row) {
            Some(pieces) if !texts.is_null(row) => each(Some(
                read::read(pieces, texts.value(row)).map_err(read_error)?,
            ))?,
            _ => each(None)?,
        }
    }
    Ok(())
}

/// `to_date(texts, patterns)`.
fn to_date(texts: &ArrayRef, patterns: &ArrayRef) -> Result<ArrayRef> {
    let mut out = Date32Builder::with_capacity(texts.len());
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    read_rows(texts, patterns, |moment| {
        match moment {
            Some(moment) => out.append_value((moment.local.date() - epoch).num_days() as i32),
            None => out.append_null(),
        }
        Ok(())
    })?;
    Ok(Arc::new(out.finish()))
}

/// `to_timestamp(texts, patterns)`: wall times in `session_zone` (UTC without one) unless the
/// text gave an offset.
fn to_timestamp(
    texts: &ArrayRef,
    patterns: &ArrayRef,
    session_zone: Option<&str>,
) -> Result<ArrayRef> {
    let zone = ArrowZone::parse(session_zone.unwrap_or("UTC"))?;
    let mut out = TimestampMicrosecondBuilder::with_capacity(texts.len()).with_timezone("UTC");
    read_rows(texts, patterns, |moment| {
        let Some(moment) = moment else {
            out.append_null();
            return Ok(());
        };
        let utc = match moment.offset_seconds {
            Some(offset) => moment.local - chrono::Duration::seconds(offset as i64),
            None => zone.to_utc(moment.local).ok_or_else(|| {
                coded(
                    code::DATETIME_FIELD_OVERFLOW,
                    format!("timestamp out of range: \"{}\"", moment.local),
                )
            })?,
        };
        out.append_value(utc.and_utc().timestamp_micros());
        Ok(())
    })?;
    Ok(Arc::new(out.finish()))
}

impl ArrowZone {
    /// The UTC time of the wall time `local` here, by PostgreSQL's rule for repeated and
    /// skipped hours ([`local_to_utc_micros`]).
    fn to_utc(&self, local: NaiveDateTime) -> Option<NaiveDateTime> {
        match self {
            ArrowZone::Fixed(offset) => {
                Some(local - chrono::Duration::seconds(offset.local_minus_utc() as i64))
            }
            ArrowZone::Named(tz) => local_to_utc_micros(local, tz)
                .and_then(DateTime::<Utc>::from_timestamp_micros)
                .map(|at| at.naive_utc()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_offsets_as_arrow_writes_them() {
        let east = |text: &str| fixed_offset(text).map(|o| o.local_minus_utc());
        assert_eq!(east("+00"), Some(0));
        assert_eq!(east("+05:30"), Some(19_800));
        assert_eq!(east("+0530"), Some(19_800));
        assert_eq!(east("-03"), Some(-10_800));
        assert_eq!(east("UTC"), None);
        assert_eq!(east("+5"), None);
    }
}
