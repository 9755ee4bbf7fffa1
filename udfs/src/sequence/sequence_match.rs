//! `sequence_match(pattern, ts, cond1, ..., condN) -> BOOLEAN`.

use std::sync::{Arc, OnceLock};

use arrow::array::{ArrayRef, BooleanArray};
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

const NAME: &str = "sequence_match";

/// `sequence_match`: see the [module docs](super).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SequenceMatchFunc {
    signature: Signature,
}

impl Default for SequenceMatchFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl SequenceMatchFunc {
    /// A new `sequence_match`.
    pub fn new() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// Evaluation of one `sequence_match` call.
#[derive(Debug)]
struct Match(Pattern);

impl EventsEval for Match {
    type Output = bool;

    fn ts_index(&self) -> usize {
        1
    }

    fn keep_unmatched(&self) -> bool {
        false
    }

    fn evaluate(&self, events: &mut [Event]) -> Result<bool> {
        if !prepare(&self.0, events) {
            return Ok(false);
        }
        self.0.matches(events)
    }

    fn to_array(&self, values: Vec<bool>) -> ArrayRef {
        Arc::new(BooleanArray::from(values))
    }

    fn to_scalar(&self, value: bool) -> ScalarValue {
        ScalarValue::Boolean(Some(value))
    }
}

impl AggregateUDFImpl for SequenceMatchFunc {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn return_field(&self, arg_fields: &[FieldRef]) -> Result<FieldRef> {
        check_args(NAME, arg_fields)?;
        Ok(Arc::new(Field::new(NAME, DataType::Boolean, true)))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(EventsAccumulator::new(Arc::new(Match(pattern(
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
        Ok(Box::new(EventsGroupsAccumulator::new(Arc::new(Match(
            pattern(NAME, &args)?,
        )))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                "Whether one group's rows, in time order, contain a sequence matching a pattern: \
                 ClickHouse `sequenceMatch` exactly. Only rows with a true condition take part. \
                 Pattern tokens: (?N) a row where condN is true, . any row, .* any rows, \
                 (?t<=S) (also <, >=, >, ==) seconds since the previous matched row. \
                 The pattern is not anchored.",
                "sequence_match(pattern, ts, cond1, cond2[, ..., cond32])",
            )
            .with_sql_example(
                "```sql\n> SELECT contact_id, sequence_match('(?1)(?t<=3600)(?2)', ts,\n         direction = 'outbound', direction = 'inbound') AS replied_within_an_hour\n  FROM messages GROUP BY contact_id;\n```",
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
