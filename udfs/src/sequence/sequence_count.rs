//! `sequence_count(pattern, ts, cond1, ..., condN) -> BIGINT`.

use std::sync::{Arc, OnceLock};

use arrow::array::{ArrayRef, Int64Array};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};

use super::pattern::Pattern;
use super::{check_args, pattern, prepare};
use crate::events::Event;
use crate::events::accumulator::{EventsAccumulator, EventsEval, EventsGroupsAccumulator};
use crate::events::state_fields;
use crate::funnel::DOC_SECTION;

const NAME: &str = "sequence_count";

/// `sequence_count`: see the [module docs](super).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SequenceCountFunc {
    signature: Signature,
}

impl Default for SequenceCountFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl SequenceCountFunc {
    /// A new `sequence_count`.
    pub fn new() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// Evaluation of one `sequence_count` call.
#[derive(Debug)]
struct Count(Pattern);

impl EventsEval for Count {
    type Output = i64;

    fn ts_index(&self) -> usize {
        1
    }

    fn keep_unmatched(&self) -> bool {
        false
    }

    fn evaluate(&self, events: &mut [Event]) -> Result<i64> {
        if !prepare(&self.0, events) {
            return Ok(0);
        }
        self.0.count(events)
    }

    fn to_array(&self, values: Vec<i64>) -> ArrayRef {
        Arc::new(Int64Array::from(values))
    }

    fn to_scalar(&self, value: i64) -> ScalarValue {
        ScalarValue::Int64(Some(value))
    }
}

impl AggregateUDFImpl for SequenceCountFunc {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn return_field(&self, arg_fields: &[FieldRef]) -> Result<FieldRef> {
        check_args(NAME, arg_fields)?;
        Ok(Arc::new(Field::new(NAME, DataType::Int64, true)))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(EventsAccumulator::new(Arc::new(Count(pattern(
            NAME, &args,
        )?)))))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(args.name))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(EventsGroupsAccumulator::new(Arc::new(Count(
            pattern(NAME, &args)?,
        )))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                "How many non-overlapping times one group's rows, in time order, match a pattern: \
                 ClickHouse `sequenceCount` exactly. Each search resumes after the previous match. \
                 Only rows with a true condition take part; pattern syntax as sequence_match.",
                "sequence_count(pattern, ts, cond1, cond2[, ..., cond32])",
            )
            .with_sql_example(
                "```sql\n> SELECT contact_id, sequence_count('(?1).*(?2)', ts,\n         direction = 'outbound', direction = 'inbound') AS answered_pushes\n  FROM messages GROUP BY contact_id;\n```",
            )
            .with_argument("pattern", "Constant pattern string.")
            .with_argument(
                "ts",
                "TIMESTAMP (any unit or zone), DATE, or an integer (time tokens then in its unit).",
            )
            .with_argument("cond1, ..., condN", "2 to 32 BOOLEAN event conditions.")
            .build()
        }))
    }
}
