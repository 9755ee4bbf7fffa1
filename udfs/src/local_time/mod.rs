//! Local-time functions (SPEC 5.1): calendar fields and boundaries of an instant in an IANA zone.
//!
//! | function | result | meaning |
//! |---|---|---|
//! | [`local_date(ts, tz)`](LocalDateFunc) | `DATE` | calendar date of `ts` on a wall clock in `tz` |
//! | [`local_hour(ts, tz)`](LocalHourFunc) | `INT` | hour 0-23 of `ts` on a wall clock in `tz` |
//! | [`local_dow(ts, tz)`](LocalDowFunc) | `INT` | ISO day of week, 1 = Monday ... 7 = Sunday |
//! | [`local_trunc(unit, ts, tz)`](LocalTruncFunc) | `TIMESTAMPTZ` | UTC instant of the local `hour`/`day`/`week`/`month`/`quarter`/`year` boundary at or before `ts` (weeks start Monday) |
//! | [`local_day_start(date, tz)`](LocalDayStartFunc) | `TIMESTAMPTZ` | UTC instant of local midnight of `date` |
//!
//! Semantics shared by all of them:
//!
//! | case | behaviour |
//! |---|---|
//! | NULL in any argument | NULL result for that row |
//! | `ts` type | `TIMESTAMP` of any unit, with or without a zone; a zone-less timestamp is UTC; strings are cast to timestamps |
//! | `tz` type | `Utf8`, `LargeUtf8` or `Utf8View`; an IANA name such as `Asia/Kolkata` (30/45-minute offsets are exact) |
//! | result timestamps | `Timestamp(Microsecond, "UTC")` |
//! | DST, 23/25-hour days | offsets come from the tz database (chrono-tz) per instant, so a day is as long as the zone makes it |
//! | local boundary does not exist (DST gap) | the first instant of the local period, i.e. the moment the clocks jump |
//! | local boundary occurs twice (DST overlap) | the earlier instant; for `hour` the occurrence with `ts`'s own offset |
//! | unknown zone, constant | planning error `unknown time zone 'Mars/Olympus'` |
//! | unknown zone, in data | execution error with the same message |
//! | unknown `local_trunc` unit | planning error (constant) or execution error (data) |
//! | complexity | O(rows); a constant zone is parsed once per batch, a zone column once per distinct run |

mod local_day_start;
mod local_trunc;
mod wall_clock;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray, TimestampMicrosecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use chrono::{
    DateTime, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone as _, Timelike,
};
use chrono_tz::Tz;
use datafusion::common::types::{NativeType, logical_date, logical_string};
use datafusion::common::utils::take_function_args;
use datafusion::common::{Result, ScalarValue, exec_datafusion_err, exec_err, plan_err};
use datafusion::logical_expr::{
    Coercion, ColumnarValue, DocSection, ScalarFunctionArgs, ScalarUDF, TypeSignatureClass,
};

pub use local_day_start::LocalDayStartFunc;
pub use local_trunc::LocalTruncFunc;
pub use wall_clock::{LocalDateFunc, LocalDowFunc, LocalHourFunc};

/// Documentation section of every local-time function.
pub(crate) const DOC_SECTION: DocSection = DocSection {
    include: true,
    label: "Local Time Functions",
    description: Some("Calendar fields and boundaries of instants in an IANA time zone."),
};

/// Days from 0001-01-01 (CE day 1) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

make_udf_function!(
    ScalarUDF,
    local_date_udf,
    "local_date",
    LocalDateFunc::new()
);
make_udf_function!(
    ScalarUDF,
    local_hour_udf,
    "local_hour",
    LocalHourFunc::new()
);
make_udf_function!(ScalarUDF, local_dow_udf, "local_dow", LocalDowFunc::new());
make_udf_function!(
    ScalarUDF,
    local_trunc_udf,
    "local_trunc",
    LocalTruncFunc::new()
);
make_udf_function!(
    ScalarUDF,
    local_day_start_udf,
    "local_day_start",
    LocalDayStartFunc::new()
);

/// Every local-time UDF.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        local_date_udf(),
        local_hour_udf(),
        local_dow_udf(),
        local_trunc_udf(),
        local_day_start_udf(),
    ]
}

/// Coercion of a `ts` argument: any timestamp, or a string cast to a timestamp.
pub(crate) fn ts_coercion() -> Coercion {
    Coercion::new_implicit(
        TypeSignatureClass::Timestamp,
        vec![TypeSignatureClass::Native(logical_string())],
        NativeType::Timestamp(TimeUnit::Microsecond, None),
    )
}

/// Coercion of a `date` argument: a date, or a string or timestamp cast to a date.
pub(crate) fn date_coercion() -> Coercion {
    Coercion::new_implicit(
        TypeSignatureClass::Native(logical_date()),
        vec![
            TypeSignatureClass::Native(logical_string()),
            TypeSignatureClass::Timestamp,
        ],
        NativeType::Date,
    )
}

/// Coercion of a string argument (`tz`, `unit`): any string type, kept as is.
pub(crate) fn string_coercion() -> Coercion {
    Coercion::new_exact(TypeSignatureClass::Native(logical_string()))
}

/// The type of every timestamp result.
pub(crate) fn utc_micros_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// Parses an IANA zone name; the error names the zone.
pub(crate) fn parse_zone(name: &str) -> Result<Tz> {
    name.parse::<Tz>()
        .map_err(|_| exec_datafusion_err!("unknown time zone '{name}'"))
}

/// The text of a constant string argument, if it is one and not NULL.
fn const_str(value: Option<&ScalarValue>) -> Option<&str> {
    match value? {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// Plan-time check of a constant zone argument: a bad literal is the caller's fault.
pub(crate) fn check_const_zone(
    scalar_arguments: &[Option<&ScalarValue>],
    idx: usize,
) -> Result<()> {
    if let Some(name) = const_str(scalar_arguments.get(idx).copied().flatten())
        && name.parse::<Tz>().is_err()
    {
        return plan_err!("unknown time zone '{name}'");
    }
    Ok(())
}

/// Plan-time check of a constant `local_trunc` unit.
pub(crate) fn check_const_unit(
    scalar_arguments: &[Option<&ScalarValue>],
    idx: usize,
) -> Result<()> {
    if let Some(name) = const_str(scalar_arguments.get(idx).copied().flatten())
        && TruncUnit::parse(name).is_none()
    {
        return plan_err!(
            "unknown local_trunc unit '{name}', expected hour, day, week, month, quarter or year"
        );
    }
    Ok(())
}

/// A string argument of one batch: one constant, or a column cast to `Utf8`.
pub(crate) enum StrArg {
    Const(Option<String>),
    Column(StringArray),
}

impl StrArg {
    pub(crate) fn new(arg: &ColumnarValue) -> Result<Self> {
        match arg {
            ColumnarValue::Scalar(s) if s.is_null() => Ok(Self::Const(None)),
            ColumnarValue::Scalar(s) => match const_str(Some(s)) {
                Some(text) => Ok(Self::Const(Some(text.to_string()))),
                None => exec_err!("expected a string argument, got {}", s.data_type()),
            },
            ColumnarValue::Array(a) => {
                let utf8 = cast(a, &DataType::Utf8)?;
                Ok(Self::Column(utf8.as_string::<i32>().clone()))
            }
        }
    }

    pub(crate) fn get(&self, row: usize) -> Option<&str> {
        match self {
            Self::Const(v) => v.as_deref(),
            Self::Column(a) => a.is_valid(row).then(|| a.value(row)),
        }
    }
}

/// The zones of one batch: a constant zone is parsed once; a zone column once per run of equal names.
pub(crate) enum Zones {
    Const(Option<Tz>),
    PerRow(Vec<Option<Tz>>),
}

impl Zones {
    pub(crate) fn new(arg: &ColumnarValue) -> Result<Self> {
        match StrArg::new(arg)? {
            StrArg::Const(None) => Ok(Self::Const(None)),
            StrArg::Const(Some(name)) => Ok(Self::Const(Some(parse_zone(&name)?))),
            StrArg::Column(names) => {
                let mut last: Option<(&str, Tz)> = None;
                let mut zones = Vec::with_capacity(names.len());
                for name in names.iter() {
                    zones.push(match name {
                        None => None,
                        Some(n) => match last {
                            Some((prev, tz)) if prev == n => Some(tz),
                            _ => {
                                let tz = parse_zone(n)?;
                                last = Some((n, tz));
                                Some(tz)
                            }
                        },
                    });
                }
                Ok(Self::PerRow(zones))
            }
        }
    }

    pub(crate) fn get(&self, row: usize) -> Option<Tz> {
        match self {
            Self::Const(tz) => *tz,
            Self::PerRow(zones) => zones.get(row).copied().flatten(),
        }
    }
}

/// The `ts` argument as an array of UTC microseconds since the epoch, `rows` long.
pub(crate) fn utc_micros(arg: &ColumnarValue, rows: usize) -> Result<TimestampMicrosecondArray> {
    let array = arg.to_array(rows)?;
    // Only the unit changes: a cast between timestamp types that keeps (or lacks) the zone keeps
    // the stored UTC value; a zone-less timestamp is taken as UTC.
    let zone = match array.data_type() {
        DataType::Timestamp(_, zone) => zone.clone(),
        _ => None,
    };
    let micros = cast(&array, &DataType::Timestamp(TimeUnit::Microsecond, zone))?;
    Ok(micros
        .as_primitive::<TimestampMicrosecondType>()
        .clone()
        .with_timezone_opt(None::<String>))
}

/// The UTC wall clock of an instant, or an error if chrono cannot represent it.
fn utc_naive(micros: i64) -> Result<NaiveDateTime> {
    DateTime::from_timestamp_micros(micros)
        .map(|d| d.naive_utc())
        .ok_or_else(|| exec_datafusion_err!("timestamp {micros} µs is out of range"))
}

/// The wall clock in `tz` at the instant `micros` (UTC µs), with its offset from UTC in seconds.
pub(crate) fn local_naive(tz: Tz, micros: i64) -> Result<(NaiveDateTime, i32)> {
    let local = tz.from_utc_datetime(&utc_naive(micros)?);
    Ok((local.naive_local(), local.offset().fix().local_minus_utc()))
}

/// Days since 1970-01-01 of a date.
pub(crate) fn date_to_days(date: NaiveDate) -> i32 {
    chrono::Datelike::num_days_from_ce(&date) - UNIX_EPOCH_DAYS_FROM_CE
}

/// The date `days` days after 1970-01-01.
pub(crate) fn days_to_date(days: i32) -> Result<NaiveDate> {
    days.checked_add(UNIX_EPOCH_DAYS_FROM_CE)
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or_else(|| exec_datafusion_err!("date {days} days from 1970-01-01 is out of range"))
}

/// The UTC instant (µs) at which the wall clock in `tz` shows `local`.
///
/// A time shown twice (DST overlap) gives the earlier instant, or the one with offset `prefer`
/// (seconds east of UTC) when given and possible. A time never shown (DST gap) gives the first
/// instant after it, the moment the clocks jump.
pub(crate) fn local_to_utc(tz: Tz, local: NaiveDateTime, prefer: Option<i32>) -> Result<i64> {
    let instant = match tz.from_local_datetime(&local) {
        LocalResult::Single(d) => d,
        LocalResult::Ambiguous(early, late) => {
            if prefer == Some(late.offset().fix().local_minus_utc()) {
                late
            } else {
                early
            }
        }
        LocalResult::None => return gap_end(tz, local),
    };
    Ok(instant.timestamp_micros())
}

/// The first instant whose wall clock in `tz` is at or after `local`, found by bisection over
/// whole seconds (zone transitions happen on whole seconds). Offsets stay within ±36 h.
fn gap_end(tz: Tz, local: NaiveDateTime) -> Result<i64> {
    let window = TimeDelta::hours(36).num_seconds();
    let at = local.and_utc().timestamp();
    let (mut lo, mut hi) = (at - window, at + window);
    let shows = |secs: i64| -> Result<NaiveDateTime> {
        Ok(local_naive(tz, secs.saturating_mul(1_000_000))?.0)
    };
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if shows(mid)? >= local {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi * 1_000_000)
}

/// Units of `local_trunc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TruncUnit {
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl TruncUnit {
    pub(crate) fn parse(name: &str) -> Option<Self> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "hour" => Self::Hour,
            "day" => Self::Day,
            "week" => Self::Week,
            "month" => Self::Month,
            "quarter" => Self::Quarter,
            "year" => Self::Year,
            _ => return None,
        })
    }

    /// The local wall clock of the start of the period containing `local`.
    pub(crate) fn start(self, local: NaiveDateTime) -> Result<NaiveDateTime> {
        use chrono::Datelike;
        let date = local.date();
        let day = match self {
            Self::Hour => {
                return local
                    .with_minute(0)
                    .and_then(|t| t.with_second(0))
                    .and_then(|t| t.with_nanosecond(0))
                    .ok_or_else(|| exec_datafusion_err!("cannot truncate {local} to the hour"));
            }
            Self::Day => Some(date),
            Self::Week => date.checked_sub_days(chrono::Days::new(u64::from(
                date.weekday().num_days_from_monday(),
            ))),
            Self::Month => date.with_day(1),
            Self::Quarter => NaiveDate::from_ymd_opt(date.year(), (date.month0() / 3) * 3 + 1, 1),
            Self::Year => NaiveDate::from_ymd_opt(date.year(), 1, 1),
        };
        day.and_then(|d| d.and_hms_opt(0, 0, 0))
            .ok_or_else(|| exec_datafusion_err!("cannot truncate {local} to the {self:?}"))
    }
}

/// A scalar result when every argument was a scalar, else the array.
/// The kernel of the `(ts, tz)` functions: `field` of each row's local wall-clock time, NULL
/// where `ts` or `tz` is NULL, collected into the array type `A`.
pub(crate) fn map_local_time<A, T>(
    name: &str,
    args: &ScalarFunctionArgs,
    field: impl Fn(NaiveDateTime) -> Option<T>,
) -> Result<ColumnarValue>
where
    A: FromIterator<Option<T>> + Array + 'static,
{
    let [ts, tz] = take_function_args(name, &args.args)?;
    let rows = batch_rows(&args.args, args.number_rows);
    let micros = utc_micros(ts, rows)?;
    let zones = Zones::new(tz)?;
    let result = (0..rows)
        .map(|row| match (micros.is_valid(row), zones.get(row)) {
            (true, Some(tz)) => local_naive(tz, micros.value(row)).map(|(t, _)| field(t)),
            _ => Ok(None),
        })
        .collect::<Result<A>>()?;
    finish(&args.args, Arc::new(result))
}

pub(crate) fn finish(args: &[ColumnarValue], result: ArrayRef) -> Result<ColumnarValue> {
    if args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &result, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(result))
    }
}

/// Rows to compute: one when every argument is a scalar, else the batch size.
pub(crate) fn batch_rows(args: &[ColumnarValue], number_rows: usize) -> usize {
    if args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
        1
    } else {
        number_rows
    }
}
