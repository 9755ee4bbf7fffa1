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
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};

use crate::events::check_conditions;
use crate::funnel::DOC_SECTION;
use crate::groups::{PerGroup, VecGroups, through_groups_accumulator};

const NAME: &str = "retention";

declare_udf! {
    /// `retention`: see the [module docs](self).
    RetentionFunc, "retention",
    Signature::variadic_any(Volatility::Immutable)
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

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "set"),
            DataType::UInt32,
            true,
        ))])
    }

    through_groups_accumulator!();

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(VecGroups::boxed(Retention {
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

/// One call with `n` conditions: each group's state is the set of conditions true on one of
/// its rows.
#[derive(Debug)]
struct Retention {
    n: usize,
}

impl PerGroup for Retention {
    type Group = u32;

    fn empty(&self) -> Result<u32> {
        Ok(0)
    }

    fn update(
        &self,
        sets: &mut [u32],
        values: &[ArrayRef],
        group_indices: &[usize],
        filter: Option<&BooleanArray>,
    ) -> Result<isize> {
        let (bits, nulls) = row_bits(values)?;
        for (row, (&g, &b)) in group_indices.iter().zip(&bits).enumerate() {
            if b != 0 && counts(nulls.as_ref(), filter, row) {
                sets[g] |= b;
            }
        }
        Ok(0)
    }

    fn merge(
        &self,
        sets: &mut [u32],
        states: &[ArrayRef],
        group_indices: &[usize],
    ) -> Result<isize> {
        let Some(states) = states
            .first()
            .and_then(|s| s.as_primitive_opt::<UInt32Type>())
        else {
            return exec_err!("{NAME}: state must be one UInt32 column");
        };
        for (&g, set) in group_indices.iter().zip(states.iter()) {
            sets[g] |= set.unwrap_or(0);
        }
        Ok(0)
    }

    fn evaluate(&self, sets: &[u32]) -> Result<ArrayRef> {
        Ok(results(sets, self.n))
    }

    fn state(&self, sets: &[u32]) -> Result<Vec<ArrayRef>> {
        Ok(vec![Arc::new(UInt32Array::from(sets.to_vec()))])
    }
}
