//! Argument handling shared by the aggregate and window functions: type coercion with errors
//! that name the function and argument, constant arguments, timestamps as UTC microseconds and
//! durations given as seconds or an INTERVAL.
//!
//! | argument kind | accepted types | coerced to |
//! |---|---|---|
//! | timestamp | `TIMESTAMP` of any unit, with or without a zone; strings; NULL | `Timestamp(µs)` keeping the zone (a zone-less value is UTC) |
//! | duration | integers (seconds) or any INTERVAL without months | `Int64` seconds, or the interval as is |
//! | condition | `BOOLEAN`, integers (non-zero is true), NULL (false) | `Boolean` |
//! | text | `Utf8`, `LargeUtf8`, `Utf8View`, NULL | `Utf8` |
//! | per-row text ([`coerce_text_column`]) | the same | kept as is (read through [`TextColumn`], no copy); NULL and dictionaries to `Utf8` |

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, LargeStringArray, StringArray, StringViewArray,
    TimestampMicrosecondArray,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Literal;

/// Microseconds in one second.
pub(crate) const MICROS_PER_SECOND: i64 = 1_000_000;

/// Checks the number of arguments of `function`.
pub(crate) fn check_arity(
    function: &str,
    types: &[DataType],
    expected: usize,
    syntax: &str,
) -> Result<()> {
    if types.len() != expected {
        return plan_err!(
            "{function} takes {expected} arguments ({syntax}), got {}",
            types.len()
        );
    }
    Ok(())
}

/// Coercion of a timestamp argument.
pub(crate) fn coerce_timestamp(function: &str, name: &str, dt: &DataType) -> Result<DataType> {
    match dt {
        DataType::Timestamp(_, zone) => {
            Ok(DataType::Timestamp(TimeUnit::Microsecond, zone.clone()))
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
            Ok(DataType::Timestamp(TimeUnit::Microsecond, None))
        }
        other => plan_err!("{function}: argument {name} must be a timestamp, got {other}"),
    }
}

/// Coercion of a duration argument: integer seconds or an INTERVAL.
pub(crate) fn coerce_duration(function: &str, name: &str, dt: &DataType) -> Result<DataType> {
    match dt {
        dt if dt.is_integer() => Ok(DataType::Int64),
        DataType::Null => Ok(DataType::Int64),
        DataType::Interval(_) => Ok(dt.clone()),
        other => plan_err!(
            "{function}: argument {name} must be a number of seconds or an INTERVAL, got {other}"
        ),
    }
}

/// Coercion of a condition argument.
pub(crate) fn coerce_condition(function: &str, name: &str, dt: &DataType) -> Result<DataType> {
    match dt {
        DataType::Boolean | DataType::Null => Ok(DataType::Boolean),
        dt if dt.is_integer() => Ok(DataType::Boolean),
        other => plan_err!("{function}: argument {name} must be a boolean, got {other}"),
    }
}

/// Coercion of a text argument.
pub(crate) fn coerce_text(function: &str, name: &str, dt: &DataType) -> Result<DataType> {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
            Ok(DataType::Utf8)
        }
        DataType::Dictionary(_, value) if value.is_string() => Ok(DataType::Utf8),
        other => plan_err!("{function}: argument {name} must be text, got {other}"),
    }
}

/// Coerces a per-row text argument: `Utf8`, `LargeUtf8` and `Utf8View` are kept as they are
/// (no cast of every row; read them with [`TextColumn`]), NULL and dictionaries become `Utf8`.
pub(crate) fn coerce_text_column(function: &str, name: &str, dt: &DataType) -> Result<DataType> {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok(dt.clone()),
        other => coerce_text(function, name, other),
    }
}

/// A text argument coerced by [`coerce_text_column`], read row by row without copying.
pub(crate) enum TextColumn<'a> {
    /// `Utf8`.
    Utf8(&'a StringArray),
    /// `LargeUtf8`.
    Large(&'a LargeStringArray),
    /// `Utf8View`, what DataFusion reads Parquet strings as.
    View(&'a StringViewArray),
}

impl<'a> TextColumn<'a> {
    /// The column of `array`; an error for a type [`coerce_text_column`] does not produce.
    pub(crate) fn of(array: &'a ArrayRef) -> Result<Self> {
        Ok(match array.data_type() {
            DataType::Utf8 => Self::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => Self::Large(array.as_string::<i64>()),
            DataType::Utf8View => Self::View(array.as_string_view()),
            other => return exec_err!("expected a text array, got {other}"),
        })
    }

    /// The text of row `row`, `None` when it is NULL.
    #[inline]
    pub(crate) fn get(&self, row: usize) -> Option<&'a str> {
        match self {
            Self::Utf8(a) => a.is_valid(row).then(|| a.value(row)),
            Self::Large(a) => a.is_valid(row).then(|| a.value(row)),
            Self::View(a) => a.is_valid(row).then(|| a.value(row)),
        }
    }
}

/// The value of a constant argument, or `None` when the expression is not a literal.
pub(crate) fn literal_value(expr: &Arc<dyn PhysicalExpr>) -> Option<&ScalarValue> {
    expr.downcast_ref::<Literal>().map(Literal::value)
}

/// The text of a constant text argument; an error naming the argument otherwise.
pub(crate) fn constant_text(
    function: &str,
    name: &str,
    expr: &Arc<dyn PhysicalExpr>,
) -> Result<String> {
    match literal_value(expr) {
        Some(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)),
        ) => Ok(s.clone()),
        Some(v) if v.is_null() => plan_err!("{function}: argument {name} must not be NULL"),
        Some(v) => plan_err!(
            "{function}: argument {name} must be text, got {}",
            v.data_type()
        ),
        None => plan_err!("{function}: argument {name} must be a constant"),
    }
}

/// A constant duration argument in microseconds: integers are seconds; INTERVALs may not use
/// months (their length in seconds is not fixed). Must be positive or zero.
pub(crate) fn constant_duration_micros(
    function: &str,
    name: &str,
    expr: &Arc<dyn PhysicalExpr>,
) -> Result<i64> {
    let Some(value) = literal_value(expr) else {
        return plan_err!("{function}: argument {name} must be a constant");
    };
    let micros = duration_micros(function, name, value)?;
    if micros < 0 {
        return plan_err!("{function}: argument {name} must not be negative");
    }
    Ok(micros)
}

/// A duration value in microseconds (see [`constant_duration_micros`]).
pub(crate) fn duration_micros(function: &str, name: &str, value: &ScalarValue) -> Result<i64> {
    let overflow =
        || datafusion::common::plan_datafusion_err!("{function}: argument {name} is too large");
    match value {
        v if v.is_null() => plan_err!("{function}: argument {name} must not be NULL"),
        ScalarValue::IntervalDayTime(Some(v)) => i64::from(v.days)
            .checked_mul(86_400 * MICROS_PER_SECOND)
            .and_then(|d| d.checked_add(i64::from(v.milliseconds) * 1000))
            .ok_or_else(overflow),
        ScalarValue::IntervalMonthDayNano(Some(v)) => {
            if v.months != 0 {
                return plan_err!(
                    "{function}: argument {name} cannot be given in months (their length varies); use days"
                );
            }
            i64::from(v.days)
                .checked_mul(86_400 * MICROS_PER_SECOND)
                .and_then(|d| d.checked_add(v.nanoseconds / 1000))
                .ok_or_else(overflow)
        }
        ScalarValue::IntervalYearMonth(Some(_)) => plan_err!(
            "{function}: argument {name} cannot be given in months or years (their length varies)"
        ),
        v => match v.cast_to(&DataType::Int64)? {
            ScalarValue::Int64(Some(seconds)) => {
                seconds.checked_mul(MICROS_PER_SECOND).ok_or_else(overflow)
            }
            other => plan_err!(
                "{function}: argument {name} must be a number of seconds or an INTERVAL, got {}",
                other.data_type()
            ),
        },
    }
}

/// A timestamp argument (already coerced to `Timestamp(µs)`) as UTC microseconds.
pub(crate) fn timestamps(array: &ArrayRef) -> Result<TimestampMicrosecondArray> {
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Microsecond, _) => Ok(array
            .as_primitive::<TimestampMicrosecondType>()
            .clone()
            .with_timezone_opt(None::<String>)),
        DataType::Timestamp(_, zone) => {
            let micros = cast(
                array,
                &DataType::Timestamp(TimeUnit::Microsecond, zone.clone()),
            )?;
            Ok(micros
                .as_primitive::<TimestampMicrosecondType>()
                .clone()
                .with_timezone_opt(None::<String>))
        }
        other => exec_err!("expected a timestamp array, got {other}"),
    }
}

/// A condition argument (already coerced to `Boolean`) as a boolean array; NULL reads as false.
pub(crate) fn conditions(array: &ArrayRef) -> Result<BooleanArray> {
    match array.data_type() {
        DataType::Boolean => Ok(array.as_boolean().clone()),
        _ => {
            let cast = cast(array, &DataType::Boolean)?;
            Ok(cast.as_boolean().clone())
        }
    }
}

/// Whether row `row` of a condition array is true (NULL is false).
pub(crate) fn is_true(array: &BooleanArray, row: usize) -> bool {
    array.is_valid(row) && array.value(row)
}

/// Whether row `row` passes an aggregate's `FILTER (WHERE ...)` mask (no mask: every row).
pub(crate) fn filter_passes(filter: Option<&BooleanArray>, row: usize) -> bool {
    filter.is_none_or(|f| f.is_valid(row) && f.value(row))
}
