//! `most_active_hour(ts, tz) -> INT` (SPEC 5.8): the local hour (0-23) in which most rows fall.
//!
//! | case | behaviour |
//! |---|---|
//! | result | argmax of the 24-bin histogram of `local_hour(ts, tz)` over the group |
//! | ties | the lowest hour wins |
//! | empty group, or only NULL `ts`/`tz` | NULL |
//! | `tz` | any IANA zone, DST-correct; a constant or a column (e.g. each tenant's zone); an unknown zone is an error naming it |
//! | partial states | 24 counts per group, merged by addition (order-insensitive) |
//! | complexity | O(rows); the zone offset is looked up once per UTC hour in which it does not change |

use std::sync::{Arc, OnceLock};

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int32Array, Int64Array, ListArray};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use chrono_tz::Tz;
use datafusion::common::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    AggregateUDFImpl, ColumnarValue, DocSection, Documentation, GroupsAccumulator, Signature,
    Volatility,
};

use crate::args::{check_arity, coerce_text, coerce_timestamp, filter_passes, timestamps};
use crate::groups::{PerGroup, VecGroups, through_groups_accumulator};
use crate::local_time::{Zones, local_naive};

const HOURS: usize = 24;
const MICROS_PER_HOUR: i64 = 3_600_000_000;

/// Documentation section of the activity functions.
const DOC_SECTION: DocSection = DocSection {
    include: true,
    label: "Activity Functions",
    description: Some("Aggregates over the local-time distribution of events."),
};

declare_udf! {
    /// `most_active_hour(ts, tz)`: see the [module docs](self).
    MostActiveHourFunc, "most_active_hour",
    Signature::user_defined(Volatility::Immutable)
}

fn counts_field(name: &str) -> FieldRef {
    Arc::new(Field::new(
        format!("{name}[hour_counts]"),
        DataType::List(Arc::new(Field::new_list_field(DataType::Int64, false))),
        true,
    ))
}

impl AggregateUDFImpl for MostActiveHourFunc {
    fn name(&self) -> &str {
        "most_active_hour"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name(), arg_types, 2, "ts, tz")?;
        Ok(vec![
            coerce_timestamp(self.name(), "ts", &arg_types[0])?,
            coerce_text(self.name(), "tz", &arg_types[1])?,
        ])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![counts_field(args.name)])
    }

    through_groups_accumulator!();

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(VecGroups::boxed(HourHistograms))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                "Aggregate: the local hour (0-23, in time zone tz) in which most of the group's \
                 timestamps fall. Ties go to the lowest hour; NULL for an empty group.",
                "most_active_hour(ts, tz)",
            )
            .with_sql_example(
                "```sql\n> SELECT tenant_id, most_active_hour(ts, 'Asia/Kolkata') FROM messages\n  WHERE direction = 'inbound' GROUP BY tenant_id;\n```",
            )
            .with_argument("ts", "Timestamp of the event.")
            .with_argument("tz", "IANA time zone name (constant or column).")
            .build()
        }))
    }
}

/// Finds the local hour of instants, reusing the zone offset within a UTC hour when the offset
/// is the same at both ends of that hour (zones change offset at most once an hour).
#[derive(Default)]
struct HourFinder {
    cached: Option<(Tz, i64, i64)>,
}

impl HourFinder {
    fn hour(&mut self, tz: Tz, micros: i64) -> Result<usize> {
        let utc_hour = micros.div_euclid(MICROS_PER_HOUR);
        let offset_micros = match self.cached {
            Some((zone, hour, offset)) if zone == tz && hour == utc_hour => offset,
            _ => {
                let start = utc_hour * MICROS_PER_HOUR;
                let (_, at_start) = local_naive(tz, start)?;
                let (_, at_end) = local_naive(tz, start + MICROS_PER_HOUR - 1)?;
                if at_start == at_end {
                    let offset = i64::from(at_start) * 1_000_000;
                    self.cached = Some((tz, utc_hour, offset));
                    offset
                } else {
                    let (_, exact) = local_naive(tz, micros)?;
                    i64::from(exact) * 1_000_000
                }
            }
        };
        let local_hours = (micros + offset_micros).div_euclid(MICROS_PER_HOUR);
        Ok(local_hours.rem_euclid(HOURS as i64) as usize)
    }
}

/// Calls `each(row, hour)` for every row with a non-NULL timestamp and zone.
fn for_each_hour(values: &[ArrayRef], mut each: impl FnMut(usize, usize)) -> Result<()> {
    let ts = timestamps(&values[0])?;
    let zones = Zones::new(&ColumnarValue::Array(Arc::clone(&values[1])))?;
    let mut finder = HourFinder::default();
    for row in 0..ts.len() {
        if ts.is_null(row) {
            continue;
        }
        if let Some(tz) = zones.get(row) {
            each(row, finder.hour(tz, ts.value(row))?);
        }
    }
    Ok(())
}

/// The winning hour of a histogram: the lowest of the most frequent, NULL if empty.
fn argmax(counts: &[i64; HOURS]) -> Option<i32> {
    let mut best: Option<(usize, i64)> = None;
    for (hour, &count) in counts.iter().enumerate() {
        if count > 0 && best.is_none_or(|(_, c)| count > c) {
            best = Some((hour, count));
        }
    }
    best.map(|(hour, _)| hour as i32)
}

/// Adds the counts of a serialized state row into `counts`.
fn add_state(counts: &mut [i64; HOURS], state: &ArrayRef) {
    let state = state.as_primitive::<Int64Type>();
    for (hour, value) in state.iter().take(HOURS).enumerate() {
        counts[hour] += value.unwrap_or(0);
    }
}

/// Serializes histograms as a list array of 24 counts each.
fn histograms_to_list(histograms: &[[i64; HOURS]]) -> ArrayRef {
    let values: Int64Array = histograms.iter().flatten().copied().collect();
    let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(HOURS, histograms.len()));
    Arc::new(ListArray::new(
        Arc::new(Field::new_list_field(DataType::Int64, false)),
        offsets,
        Arc::new(values),
        None,
    ))
}

/// The aggregate: one 24-count histogram per group.
#[derive(Debug)]
struct HourHistograms;

impl PerGroup for HourHistograms {
    type Group = [i64; HOURS];

    fn empty(&self) -> Result<[i64; HOURS]> {
        Ok([0; HOURS])
    }

    fn update(
        &self,
        counts: &mut [[i64; HOURS]],
        values: &[ArrayRef],
        group_indices: &[usize],
        filter: Option<&BooleanArray>,
    ) -> Result<isize> {
        for_each_hour(values, |row, hour| {
            if filter_passes(filter, row) {
                counts[group_indices[row]][hour] += 1;
            }
        })?;
        Ok(0)
    }

    fn merge(
        &self,
        counts: &mut [[i64; HOURS]],
        states: &[ArrayRef],
        group_indices: &[usize],
    ) -> Result<isize> {
        let lists = states[0].as_list::<i32>();
        for (row, &group) in group_indices.iter().enumerate() {
            if lists.is_valid(row) {
                add_state(&mut counts[group], &lists.value(row));
            }
        }
        Ok(0)
    }

    fn evaluate(&self, counts: &[[i64; HOURS]]) -> Result<ArrayRef> {
        let winners: Int32Array = counts.iter().map(argmax).collect();
        Ok(Arc::new(winners))
    }

    fn state(&self, counts: &[[i64; HOURS]]) -> Result<Vec<ArrayRef>> {
        Ok(vec![histograms_to_list(counts)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_the_lowest_hour_and_empty_is_null() {
        let mut counts = [0; HOURS];
        assert_eq!(argmax(&counts), None);
        counts[9] = 3;
        counts[4] = 3;
        counts[20] = 2;
        assert_eq!(argmax(&counts), Some(4));
    }

    #[test]
    fn hour_finder_crosses_a_dst_change() {
        // 2026-03-08 07:00Z is 03:00 EDT in New York (clocks jumped at 07:00Z from 02:00 EST);
        // 06:59:59Z is 01:59:59 EST.
        let tz: Tz = "America/New_York".parse().unwrap_or(Tz::UTC);
        let mut finder = HourFinder::default();
        let at = |h: i64, s: i64| (20_520 * 24 + h) * MICROS_PER_HOUR + s * 1_000_000;
        assert_eq!(finder.hour(tz, at(6, 3599)).ok(), Some(1));
        assert_eq!(finder.hour(tz, at(7, 0)).ok(), Some(3));
    }
}
