//! Shared plumbing of the event-buffering aggregates (`window_funnel`, `sequence_match`,
//! `sequence_count`; the buffer and accumulator also serve `wa_conversations`): decoding `(ts, cond1..condN)` arguments into `(ts, bitmask)` rows,
//! buffering them per group, and the `List` partial state that lets DataFusion merge them.
//!
//! | module | job |
//! |---|---|
//! | `mod.rs` (this) | [`Event`], [`TsKind`], argument checks, batch decoding into `(ts, mask)` rows |
//! | [`buffer`] | [`buffer::GroupedEvents`]: one flat buffer for all groups, grouped by a counting sort on emit |
//! | [`accumulator`] | [`accumulator::EventsGroupsAccumulator`], generic over a [`accumulator::BufferedAggregate`] (or the simpler [`accumulator::EventsEval`]) |
//!
//! Conventions shared by every function built on this module:
//!
//! | case | behaviour |
//! |---|---|
//! | row with `ts` or any condition NULL | skipped, as ClickHouse's `Null` combinator does |
//! | `ts` type | any `TIMESTAMP` (compared in UTC microseconds), `DATE` (midnight UTC), or an integer (compared as is) |
//! | durations (`window`, `(?t op S)`) | seconds for timestamps and dates; the integer's own unit for integer `ts` |
//! | conditions | `BOOLEAN` (or untyped `NULL`), 1 bit each of a `u32` mask: at most 32 |
//! | partial state | two parallel lists per group: `ts: List<Int64>`, `mask: List<UInt32>` |
//! | input order | irrelevant: rows are buffered and sorted at evaluation |

pub(crate) mod accumulator;
pub(crate) mod buffer;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, Int64Type, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::utils::format_state_name;
use datafusion::physical_expr::expressions::Literal;

/// One buffered row: its timestamp (UTC µs, or the raw integer) and the bitmask of its true
/// conditions (bit `i` = condition `i + 1`).
pub(crate) type Event = (i64, u32);

/// Most conditions a function accepts (one bit each of a `u32`).
pub(crate) const MAX_CONDITIONS: usize = 32;

/// How the `ts` argument is compared, which fixes the unit of durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TsKind {
    /// A timestamp or date, compared in UTC microseconds; durations are seconds.
    Micros,
    /// An integer, compared as is; durations are in the same unit.
    Integer,
}

impl TsKind {
    /// The kind of a `ts` argument type, or a plan error naming `func`.
    pub(crate) fn of(func: &str, data_type: &DataType) -> Result<Self> {
        match data_type {
            DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => Ok(Self::Micros),
            d if d.is_integer() => Ok(Self::Integer),
            other => plan_err!(
                "{func}: the timestamp argument must be a TIMESTAMP, DATE or integer, got {other}"
            ),
        }
    }

    /// `seconds` in the comparison unit (µs for timestamps), or an error on overflow.
    pub(crate) fn scale_seconds(self, func: &str, seconds: i64) -> Result<i64> {
        match self {
            Self::Integer => Ok(seconds),
            Self::Micros => match seconds.checked_mul(1_000_000) {
                Some(v) => Ok(v),
                None => plan_err!("{func}: duration of {seconds} seconds is too large"),
            },
        }
    }
}

/// Plan-time check of the condition arguments `types`: 1..=32 (or `min..=32`) booleans.
pub(crate) fn check_conditions(func: &str, types: &[DataType], min: usize) -> Result<()> {
    if types.len() < min {
        return plan_err!(
            "{func} needs at least {min} condition argument{}, got {}",
            if min == 1 { "" } else { "s" },
            types.len()
        );
    }
    if types.len() > MAX_CONDITIONS {
        return plan_err!(
            "{func} accepts at most {MAX_CONDITIONS} conditions, got {}",
            types.len()
        );
    }
    for (i, t) in types.iter().enumerate() {
        if !matches!(t, DataType::Boolean | DataType::Null) {
            return plan_err!(
                "{func}: condition {} must be BOOLEAN, got {t} (write e.g. `x = 1`)",
                i + 1
            );
        }
    }
    Ok(())
}

/// The value of argument `idx` if it is a constant (a literal after constant folding).
pub(crate) fn literal_arg<'a>(args: &'a AccumulatorArgs, idx: usize) -> Option<&'a ScalarValue> {
    args.exprs
        .get(idx)
        .and_then(|e| e.as_ref().downcast_ref::<Literal>())
        .map(Literal::value)
}

/// A constant string argument, or a plan error naming `func` and `what`.
pub(crate) fn const_string(
    args: &AccumulatorArgs,
    idx: usize,
    func: &str,
    what: &str,
) -> Result<String> {
    match literal_arg(args, idx) {
        Some(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)),
        ) => Ok(s.clone()),
        Some(v) if v.is_null() => plan_err!("{func}: {what} must not be NULL"),
        Some(v) => plan_err!("{func}: {what} must be a string, got {}", v.data_type()),
        None => plan_err!("{func}: {what} must be a constant string"),
    }
}

/// The state fields shared by the event-buffering aggregates.
pub(crate) fn state_fields(name: &str) -> Vec<FieldRef> {
    vec![
        Arc::new(Field::new_list(
            format_state_name(name, "ts"),
            Field::new_list_field(DataType::Int64, false),
            true,
        )),
        Arc::new(Field::new_list(
            format_state_name(name, "mask"),
            Field::new_list_field(DataType::UInt32, false),
            true,
        )),
    ]
}

/// One batch of input decoded into rows: timestamps, condition masks and which rows count.
pub(crate) struct DecodedBatch {
    /// Timestamps (UTC µs or the raw integer).
    pub ts: ScalarBuffer<i64>,
    /// Bit `i` set when condition `i + 1` is true.
    pub masks: Vec<u32>,
    /// Rows with a NULL `ts` or condition (skipped).
    pub nulls: Option<NullBuffer>,
}

impl DecodedBatch {
    /// Decodes `values[ts_idx]` and the conditions `values[cond_start..]`.
    pub(crate) fn new(values: &[ArrayRef], ts_idx: usize, cond_start: usize) -> Result<Self> {
        let Some(ts_array) = values.get(ts_idx) else {
            return exec_err!("missing timestamp argument");
        };
        let ts = timestamps(ts_array)?;
        let rows = ts_array.len();
        let mut nulls = ts_array.logical_nulls();
        let mut masks = vec![0u32; rows];
        for (bit, cond) in values.iter().skip(cond_start).enumerate() {
            if cond.data_type() == &DataType::Null {
                nulls = Some(NullBuffer::new_null(rows));
                continue;
            }
            let Some(cond) = cond.as_boolean_opt() else {
                return exec_err!("condition {} is not BOOLEAN", bit + 1);
            };
            nulls = NullBuffer::union(nulls.as_ref(), cond.logical_nulls().as_ref());
            for row in cond.values().set_indices() {
                masks[row] |= 1 << bit;
            }
        }
        Ok(Self { ts, masks, nulls })
    }

    /// Whether `row` counts: not NULL and passing the FILTER clause if any.
    #[inline]
    pub(crate) fn counts(&self, row: usize, filter: Option<&BooleanArray>) -> bool {
        self.nulls.as_ref().is_none_or(|n| n.is_valid(row))
            && filter.is_none_or(|f| f.is_valid(row) && f.value(row))
    }
}

/// A `ts` column as `i64`: timestamps and dates in UTC microseconds, integers as they are.
fn timestamps(array: &ArrayRef) -> Result<ScalarBuffer<i64>> {
    match array.data_type() {
        DataType::Timestamp(_, zone) => {
            // Changing only the unit (and keeping the zone) keeps the stored UTC value.
            let micros = cast(
                array,
                &DataType::Timestamp(TimeUnit::Microsecond, zone.clone()),
            )?;
            Ok(micros
                .as_primitive::<TimestampMicrosecondType>()
                .values()
                .clone())
        }
        DataType::Date32 | DataType::Date64 => {
            let micros = cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            Ok(micros
                .as_primitive::<TimestampMicrosecondType>()
                .values()
                .clone())
        }
        DataType::Int64 => Ok(array.as_primitive::<Int64Type>().values().clone()),
        d if d.is_integer() => {
            let ints = cast(array, &DataType::Int64)?;
            Ok(ints.as_primitive::<Int64Type>().values().clone())
        }
        DataType::Null => Ok(ScalarBuffer::from(vec![0i64; array.len()])),
        other => exec_err!("unsupported timestamp type {other}"),
    }
}
