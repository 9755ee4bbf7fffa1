//! `retention(cond1, ..., condN) -> BOOLEAN[]` (SPEC 5.4): ClickHouse `retention` exactly
//! (reference 7.2, AggregateFunctionRetention.h).
//!
//! | case | behaviour |
//! |---|---|
//! | result | `List<Boolean>` of length N: `r[1] = any(cond1)`, `r[i] = any(cond1) AND any(condi)` |
//! | conditions | 2..=32 `BOOLEAN`s, as ClickHouse (which rejects a single condition); else a plan error |
//! | NULL condition | the row is skipped (ClickHouse's `Null` combinator) |
//! | empty group | all false |
//! | order, time, ties | irrelevant: the state is the set of conditions true on any row |
//! | partial state | one `UInt32` bitset per group; merge is a bitwise OR |
//! | complexity | O(rows × N) bit operations, O(groups) memory |

use std::sync::{Arc, OnceLock};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBufferBuilder, ListArray, UInt32Array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, FieldRef, UInt32Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, Signature, Volatility,
};

use crate::events::check_conditions;
use crate::funnel::DOC_SECTION;

const NAME: &str = "retention";

/// `retention`: see the [module docs](self).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RetentionFunc {
    signature: Signature,
}

impl Default for RetentionFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl RetentionFunc {
    /// A new `retention`.
    pub fn new() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

fn item_field() -> FieldRef {
    Arc::new(Field::new_list_field(DataType::Boolean, true))
}

/// The true conditions of each row as a bitset, and which rows count (no NULL, FILTER passed).
fn row_bits(values: &[ArrayRef]) -> Result<(Vec<u32>, Option<NullBuffer>)> {
    let rows = values.first().map_or(0, |v| v.len());
    let mut bits = vec![0u32; rows];
    let mut nulls: Option<NullBuffer> = None;
    for (bit, cond) in values.iter().enumerate() {
        if cond.data_type() == &DataType::Null {
            nulls = Some(NullBuffer::new_null(rows));
            continue;
        }
        let Some(cond) = cond.as_boolean_opt() else {
            return exec_err!("{NAME}: condition {} is not BOOLEAN", bit + 1);
        };
        nulls = NullBuffer::union(nulls.as_ref(), cond.logical_nulls().as_ref());
        for row in cond.values().set_indices() {
            bits[row] |= 1 << bit;
        }
    }
    Ok((bits, nulls))
}

fn counts(nulls: Option<&NullBuffer>, filter: Option<&BooleanArray>, row: usize) -> bool {
    nulls.is_none_or(|n| n.is_valid(row)) && crate::args::filter_passes(filter, row)
}

/// The result lists of `sets` (one per group) for `n` conditions.
fn results(sets: &[u32], n: usize) -> ArrayRef {
    let mut values = BooleanBufferBuilder::new(sets.len() * n);
    for &set in sets {
        let first = set & 1 != 0;
        values.append(first);
        for i in 1..n {
            values.append(first && set & (1 << i) != 0);
        }
    }
    Arc::new(ListArray::new(
        item_field(),
        OffsetBuffer::from_lengths(std::iter::repeat_n(n, sets.len())),
        Arc::new(BooleanArray::new(values.finish(), None)),
        None,
    ))
}

impl AggregateUDFImpl for RetentionFunc {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(item_field()))
    }

    fn return_field(&self, arg_fields: &[FieldRef]) -> Result<FieldRef> {
        let types: Vec<DataType> = arg_fields.iter().map(|f| f.data_type().clone()).collect();
        check_conditions(NAME, &types, 2)?;
        Ok(Arc::new(Field::new(
            NAME,
            DataType::List(item_field()),
            true,
        )))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(RetentionAccumulator {
            set: 0,
            n: args.exprs.len(),
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "set"),
            DataType::UInt32,
            true,
        ))])
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(RetentionGroups {
            sets: Vec::new(),
            n: args.exprs.len(),
        }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                "Cohort retention flags of one group: ClickHouse `retention` exactly. Element 1 is \
                 whether cond1 was true on any row; element i is whether cond1 AND condi were each \
                 true on some row. Row order and time are ignored; rows with a NULL condition are skipped.",
                "retention(cond1, cond2[, ..., cond32])",
            )
            .with_sql_example(
                "```sql\n> SELECT sum(CASE WHEN r[2] THEN 1 ELSE 0 END) AS day1_retained FROM (\n    SELECT contact_id, retention(dt = DATE '2026-10-01', dt = DATE '2026-10-02') AS r\n    FROM messages GROUP BY contact_id);\n```",
            )
            .with_argument(
                "cond1, ..., condN",
                "2 to 32 BOOLEAN conditions; cond1 defines the cohort.",
            )
            .build()
        }))
    }
}

/// One group's condition set.
#[derive(Debug)]
struct RetentionAccumulator {
    set: u32,
    n: usize,
}

impl Accumulator for RetentionAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let (bits, nulls) = row_bits(values)?;
        for (row, b) in bits.iter().enumerate() {
            if counts(nulls.as_ref(), None, row) {
                self.set |= b;
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        ScalarValue::try_from_array(&results(&[self.set], self.n), 0)
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::UInt32(Some(self.set))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(sets) = states
            .first()
            .and_then(|s| s.as_primitive_opt::<UInt32Type>())
        else {
            return exec_err!("{NAME}: state must be one UInt32 column");
        };
        for set in sets.iter().flatten() {
            self.set |= set;
        }
        Ok(())
    }
}

/// Condition sets of all groups.
#[derive(Debug)]
struct RetentionGroups {
    sets: Vec<u32>,
    n: usize,
}

impl GroupsAccumulator for RetentionGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.sets.resize(total_num_groups, 0);
        let (bits, nulls) = row_bits(values)?;
        for (row, (&g, &b)) in group_indices.iter().zip(&bits).enumerate() {
            if b != 0 && counts(nulls.as_ref(), opt_filter, row) {
                self.sets[g] |= b;
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(results(&emit_to.take_needed(&mut self.sets), self.n))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![Arc::new(UInt32Array::from(
            emit_to.take_needed(&mut self.sets),
        ))])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.sets.resize(total_num_groups, 0);
        let Some(sets) = values
            .first()
            .and_then(|s| s.as_primitive_opt::<UInt32Type>())
        else {
            return exec_err!("{NAME}: state must be one UInt32 column");
        };
        for (&g, set) in group_indices.iter().zip(sets.iter()) {
            self.sets[g] |= set.unwrap_or(0);
        }
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let (bits, nulls) = row_bits(values)?;
        let sets: UInt32Array = bits
            .iter()
            .enumerate()
            .map(|(row, &b)| {
                if counts(nulls.as_ref(), opt_filter, row) {
                    b
                } else {
                    0
                }
            })
            .collect::<Vec<_>>()
            .into();
        Ok(vec![Arc::new(sets)])
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.sets.capacity() * size_of::<u32>()
    }
}
