//! `arg_min(value, key)` and `arg_max(value, key)`: the value on the row with the least (greatest)
//! key, as DuckDB's `arg_min`/`arg_max` and ClickHouse's `argMin`/`argMax`.
//!
//! They replace `first_value(value ORDER BY key)` in grouped queries: DataFusion's ordered
//! `first_value` keeps one boxed accumulator per group for non-primitive values, which made the
//! `message_delivery` view (six of them over millions of statuses) twice as slow as its `min`s.
//!
//! | case | behaviour |
//! |---|---|
//! | `value` | any type; the result has its type; a NULL value on the winning row is the result |
//! | `key` | a timestamp, date or integer; rows with a NULL key are skipped |
//! | ties on the key | the least value wins (NULL after any value), so the result does not depend on row order or partitioning |
//! | empty group, or only NULL keys | NULL |
//! | `FILTER (WHERE ...)` | honoured (rows outside the filter are skipped) |
//! | partial states | `(value, key)` per group, merged with the same rule |
//! | cost | O(rows) comparisons of 64-bit keys; a value is copied only when its row becomes the group's best |

use std::cmp::Ordering;
use std::sync::{Arc, OnceLock};

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, new_empty_array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    AggregateUDFImpl, DocSection, Documentation, GroupsAccumulator, Signature, Volatility,
};

use crate::args::{check_arity, filter_passes};
use crate::groups::{PerGroup, VecGroups, through_groups_accumulator};

/// Documentation section of the selection aggregates.
const DOC_SECTION: DocSection = DocSection {
    include: true,
    label: "Selection Functions",
    description: Some("Aggregates that pick a value by the order of another column."),
};

/// Which end of the key order wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Extreme {
    /// The least key (`arg_min`).
    Min,
    /// The greatest key (`arg_max`).
    Max,
}

impl Extreme {
    /// Whether `candidate` beats the current best key `best`.
    fn beats(self, candidate: i64, best: i64) -> bool {
        match self {
            Extreme::Min => candidate < best,
            Extreme::Max => candidate > best,
        }
    }
}

/// `arg_min` / `arg_max`: see the [module docs](self).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArgExtremeFunc {
    extreme: Extreme,
    signature: Signature,
}

impl ArgExtremeFunc {
    /// A new `arg_min` (`Extreme::Min`) or `arg_max` (`Extreme::Max`).
    pub fn new(extreme: Extreme) -> Self {
        Self {
            extreme,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// Coercion of the key: kept when it is a timestamp or date, integers to `Int64`.
fn coerce_key(function: &str, dt: &DataType) -> Result<DataType> {
    match dt {
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 | DataType::Int64 => {
            Ok(dt.clone())
        }
        DataType::Null => Ok(DataType::Int64),
        dt if dt.is_integer() => Ok(DataType::Int64),
        other => {
            plan_err!("{function}: argument key must be a timestamp, date or integer, got {other}")
        }
    }
}

/// The key column as 64-bit integers that order like the keys (timestamps in their unit, dates
/// in days).
fn keys_of(array: &ArrayRef) -> Result<Int64Array> {
    Ok(cast(array, &DataType::Int64)?
        .as_primitive::<Int64Type>()
        .clone())
}

/// Orders two values for ties: the lesser wins, NULL after any value.
fn tie_order(candidate: &ScalarValue, best: &ScalarValue) -> Ordering {
    match (candidate.is_null(), best.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => candidate.partial_cmp(best).unwrap_or(Ordering::Equal),
    }
}

/// The best `(key, value)` of one group.
#[derive(Debug, Clone)]
struct Best {
    key: Option<i64>,
    value: ScalarValue,
}

impl Best {
    fn empty(value_type: &DataType) -> Result<Self> {
        Ok(Self {
            key: None,
            value: ScalarValue::try_from(value_type)?,
        })
    }

    /// Offers row `row` of `values` with key `key`; keeps it if it wins. Returns the change in
    /// the heap bytes held (the new value's less the replaced one's).
    fn offer(
        &mut self,
        extreme: Extreme,
        key: i64,
        values: &ArrayRef,
        row: usize,
    ) -> Result<isize> {
        let candidate = match self.key {
            Some(best) if extreme.beats(best, key) => return Ok(0),
            Some(best) if best == key => {
                let candidate = ScalarValue::try_from_array(values, row)?;
                if tie_order(&candidate, &self.value) != Ordering::Less {
                    return Ok(0);
                }
                candidate
            }
            _ => ScalarValue::try_from_array(values, row)?,
        };
        let delta = heap_size(&candidate) as isize - heap_size(&self.value) as isize;
        self.key = Some(key);
        self.value = candidate;
        Ok(delta)
    }
}

/// Bytes a value holds beyond its own `ScalarValue` slot.
fn heap_size(value: &ScalarValue) -> usize {
    value.size() - size_of::<ScalarValue>()
}

/// Offers every row that passes `filter` and has a key (`group_of(row)` names the row's group);
/// returns the change in heap bytes held.
fn offer_rows(
    extreme: Extreme,
    groups: &mut [Best],
    values: &ArrayRef,
    keys: &Int64Array,
    filter: Option<&BooleanArray>,
    group_of: impl Fn(usize) -> usize,
) -> Result<isize> {
    let mut delta = 0;
    for row in 0..keys.len() {
        if keys.is_valid(row) && filter_passes(filter, row) {
            delta += groups[group_of(row)].offer(extreme, keys.value(row), values, row)?;
        }
    }
    Ok(delta)
}

/// The values of `groups` as one array of `value_type`.
fn values_array(groups: &[Best], value_type: &DataType) -> Result<ArrayRef> {
    if groups.is_empty() {
        return Ok(new_empty_array(value_type));
    }
    ScalarValue::iter_to_array(groups.iter().map(|g| g.value.clone()))
}

/// The keys of `groups` (NULL for a group without one).
fn keys_array(groups: &[Best]) -> ArrayRef {
    Arc::new(groups.iter().map(|g| g.key).collect::<Int64Array>())
}

impl AggregateUDFImpl for ArgExtremeFunc {
    fn name(&self) -> &str {
        match self.extreme {
            Extreme::Min => "arg_min",
            Extreme::Max => "arg_max",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name(), arg_types, 2, "value, key")?;
        Ok(vec![
            arg_types[0].clone(),
            coerce_key(self.name(), &arg_types[1])?,
        ])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format!("{}[value]", args.name),
                args.return_field.data_type().clone(),
                true,
            )),
            Arc::new(Field::new(
                format!("{}[key]", args.name),
                DataType::Int64,
                true,
            )),
        ])
    }

    through_groups_accumulator!();

    fn create_groups_accumulator(
        &self,
        acc_args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(VecGroups::boxed(ArgExtreme {
            extreme: self.extreme,
            value_type: acc_args.return_field.data_type().clone(),
        }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static MIN_DOC: OnceLock<Documentation> = OnceLock::new();
        static MAX_DOC: OnceLock<Documentation> = OnceLock::new();
        let (cell, which, least) = match self.extreme {
            Extreme::Min => (&MIN_DOC, "arg_min", "least"),
            Extreme::Max => (&MAX_DOC, "arg_max", "greatest"),
        };
        Some(cell.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                format!(
                    "Aggregate: the value on the row with the {least} key (rows with a NULL key \
                     are skipped; on a tie the least value wins). NULL for an empty group. \
                     A fast `first_value(value ORDER BY key)`."
                ),
                format!("{which}(value, key)"),
            )
            .with_sql_example(format!(
                "```sql\n> SELECT message_id, {which}(status, ts) FROM message_statuses GROUP BY message_id;\n```"
            ))
            .with_argument("value", "The value to return (any type).")
            .with_argument("key", "What to order by: a timestamp, date or integer.")
            .build()
        }))
    }
}

/// One call: which end wins and the value type; one best `(key, value)` per group.
#[derive(Debug)]
struct ArgExtreme {
    extreme: Extreme,
    value_type: DataType,
}

impl PerGroup for ArgExtreme {
    type Group = Best;

    fn empty(&self) -> Result<Best> {
        Best::empty(&self.value_type)
    }

    fn update(
        &self,
        groups: &mut [Best],
        values: &[ArrayRef],
        group_indices: &[usize],
        filter: Option<&BooleanArray>,
    ) -> Result<isize> {
        let keys = keys_of(&values[1])?;
        offer_rows(self.extreme, groups, &values[0], &keys, filter, |row| {
            group_indices[row]
        })
    }

    /// A state row is a `(value, key)` row like an input row.
    fn merge(
        &self,
        groups: &mut [Best],
        states: &[ArrayRef],
        group_indices: &[usize],
    ) -> Result<isize> {
        self.update(groups, states, group_indices, None)
    }

    fn evaluate(&self, groups: &[Best]) -> Result<ArrayRef> {
        values_array(groups, &self.value_type)
    }

    fn state(&self, groups: &[Best]) -> Result<Vec<ArrayRef>> {
        Ok(vec![
            values_array(groups, &self.value_type)?,
            keys_array(groups),
        ])
    }

    fn heap_size(&self, group: &Best) -> usize {
        heap_size(&group.value)
    }

    /// The input rows are their own states, with the key of a row the filter drops nulled.
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let keys = keys_of(&values[1])?;
        let keys: Int64Array = (0..keys.len())
            .map(|row| (keys.is_valid(row) && filter_passes(filter, row)).then(|| keys.value(row)))
            .collect();
        Ok(vec![Arc::clone(&values[0]), Arc::new(keys)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{StringViewArray, TimestampMicrosecondArray};
    use datafusion::logical_expr::EmitTo;

    fn strings(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringViewArray::from(values.to_vec()))
    }

    fn stamps(values: &[Option<i64>]) -> ArrayRef {
        Arc::new(TimestampMicrosecondArray::from(values.to_vec()))
    }

    fn groups_acc(extreme: Extreme) -> Box<dyn GroupsAccumulator> {
        VecGroups::boxed(ArgExtreme {
            extreme,
            value_type: DataType::Utf8View,
        })
    }

    fn texts(array: &ArrayRef) -> Vec<Option<String>> {
        array
            .as_string_view()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    #[test]
    fn picks_the_value_at_the_least_and_greatest_key_per_group() -> Result<()> {
        let values = strings(&[Some("b"), Some("a"), Some("c"), Some("d")]);
        let keys = stamps(&[Some(20), Some(10), Some(30), Some(5)]);
        let groups = [0, 0, 0, 1];
        for (extreme, expected) in [(Extreme::Min, "a"), (Extreme::Max, "c")] {
            let mut acc = groups_acc(extreme);
            acc.update_batch(&[Arc::clone(&values), Arc::clone(&keys)], &groups, None, 2)?;
            let out = texts(&acc.evaluate(EmitTo::All)?);
            assert_eq!(out, vec![Some(expected.to_string()), Some("d".to_string())]);
        }
        Ok(())
    }

    #[test]
    fn null_keys_and_filtered_rows_are_skipped_and_empty_groups_are_null() -> Result<()> {
        let values = strings(&[Some("early"), Some("filtered"), Some("kept"), Some("x")]);
        let keys = stamps(&[None, Some(1), Some(9), None]);
        let filter = BooleanArray::from(vec![true, false, true, true]);
        let mut acc = groups_acc(Extreme::Min);
        acc.update_batch(&[values, keys], &[0, 0, 0, 1], Some(&filter), 2)?;
        let out = texts(&acc.evaluate(EmitTo::All)?);
        assert_eq!(out, vec![Some("kept".to_string()), None]);
        Ok(())
    }

    #[test]
    fn ties_take_the_least_value_whatever_the_row_order() -> Result<()> {
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let all = [Some("m"), None, Some("k")];
            let values = strings(&order.map(|i| all[i]));
            let keys = stamps(&[Some(7), Some(7), Some(7)]);
            let mut acc = groups_acc(Extreme::Max);
            acc.update_batch(&[values, keys], &[0, 0, 0], None, 1)?;
            let out = texts(&acc.evaluate(EmitTo::All)?);
            assert_eq!(out, vec![Some("k".to_string())], "order {order:?}");
        }
        Ok(())
    }

    #[test]
    fn partial_states_merge_like_one_pass() -> Result<()> {
        // Two partitions of the same group; the least key is in the second.
        let mut first = groups_acc(Extreme::Min);
        first.update_batch(
            &[strings(&[Some("late")]), stamps(&[Some(50)])],
            &[0],
            None,
            1,
        )?;
        let state_a = first.state(EmitTo::All)?;
        let second = groups_acc(Extreme::Min);
        let state_b = second.convert_to_state(
            &[
                strings(&[Some("early"), Some("skipped")]),
                stamps(&[Some(10), Some(1)]),
            ],
            Some(&BooleanArray::from(vec![true, false])),
        )?;
        let mut merged = groups_acc(Extreme::Min);
        merged.merge_batch(&state_a, &[0], 1)?;
        merged.merge_batch(&state_b, &[0, 0], 1)?;
        let out = texts(&merged.evaluate(EmitTo::All)?);
        assert_eq!(out, vec![Some("early".to_string())]);
        Ok(())
    }

    #[test]
    fn keys_must_be_ordered_scalars() -> Result<()> {
        let func = ArgExtremeFunc::new(Extreme::Min);
        assert!(
            func.coerce_types(&[DataType::Utf8, DataType::Int32])
                .is_ok_and(|t| t[1] == DataType::Int64)
        );
        let err = func
            .coerce_types(&[DataType::Utf8, DataType::Utf8])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("arg_min: argument key must be a timestamp"),
            "{err}"
        );
        Ok(())
    }
}
