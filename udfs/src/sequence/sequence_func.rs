//! `sequence_match(pattern, ts, cond1, ..., condN) -> BOOLEAN` and
//! `sequence_count(pattern, ts, cond1, ..., condN) -> BIGINT`: one UDAF type, two results.

use std::sync::{Arc, OnceLock};

use arrow::array::{ArrayRef, BooleanArray, Int64Array};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};

use super::pattern::Pattern;
use super::{check_args, pattern, prepare};
use crate::events::Event;
use crate::events::accumulator::{EventsEval, EventsGroupsAccumulator};
use crate::events::state_fields;
use crate::funnel::DOC_SECTION;
use crate::groups::through_groups_accumulator;

/// Which of the two functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sequence {
    /// `sequence_match`: whether the pattern matches.
    Match,
    /// `sequence_count`: how many non-overlapping matches.
    Count,
}

impl Sequence {
    fn name(self) -> &'static str {
        match self {
            Sequence::Match => "sequence_match",
            Sequence::Count => "sequence_count",
        }
    }

    fn return_type(self) -> DataType {
        match self {
            Sequence::Match => DataType::Boolean,
            Sequence::Count => DataType::Int64,
        }
    }
}

/// `sequence_match` / `sequence_count`: see the [module docs](super).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SequenceFunc {
    sequence: Sequence,
    signature: Signature,
}

impl SequenceFunc {
    /// A new `sequence_match` (`Sequence::Match`) or `sequence_count` (`Sequence::Count`).
    pub fn new(sequence: Sequence) -> Self {
        Self {
            sequence,
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// Evaluation of one call: the function and its parsed pattern.
#[derive(Debug)]
struct Eval(Sequence, Pattern);

impl EventsEval for Eval {
    /// Matches found (`sequence_match` stops at the first).
    type Output = i64;

    fn ts_index(&self) -> usize {
        1
    }

    fn keep_unmatched(&self) -> bool {
        false
    }

    fn evaluate(&self, events: &mut [Event]) -> Result<i64> {
        if !prepare(&self.1, events) {
            return Ok(0);
        }
        match self.0 {
            Sequence::Match => self.1.matches(events).map(i64::from),
            Sequence::Count => self.1.count(events),
        }
    }

    fn to_array(&self, values: Vec<i64>) -> ArrayRef {
        match self.0 {
            Sequence::Match => Arc::new(
                values
                    .iter()
                    .map(|&v| Some(v > 0))
                    .collect::<BooleanArray>(),
            ),
            Sequence::Count => Arc::new(Int64Array::from(values)),
        }
    }
}

impl AggregateUDFImpl for SequenceFunc {
    fn name(&self) -> &str {
        self.sequence.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.sequence.return_type())
    }

    fn return_field(&self, arg_fields: &[FieldRef]) -> Result<FieldRef> {
        check_args(self.name(), arg_fields)?;
        Ok(Arc::new(Field::new(
            self.name(),
            self.sequence.return_type(),
            true,
        )))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(args.name))
    }

    through_groups_accumulator!();

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        let pattern = pattern(self.name(), &args)?;
        Ok(Box::new(EventsGroupsAccumulator::new(Arc::new(Eval(
            self.sequence,
            pattern,
        )))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static MATCH_DOC: OnceLock<Documentation> = OnceLock::new();
        static COUNT_DOC: OnceLock<Documentation> = OnceLock::new();
        let (cell, description, example) = match self.sequence {
            Sequence::Match => (
                &MATCH_DOC,
                "Whether one group's rows, in time order, contain a sequence matching a pattern: \
                 ClickHouse `sequenceMatch` exactly. Only rows with a true condition take part. \
                 Pattern tokens: (?N) a row where condN is true, . any row, .* any rows, \
                 (?t<=S) (also <, >=, >, ==) seconds since the previous matched row. \
                 The pattern is not anchored.",
                "```sql\n> SELECT contact_id, sequence_match('(?1)(?t<=3600)(?2)', ts,\n         direction = 'outbound', direction = 'inbound') AS replied_within_an_hour\n  FROM messages GROUP BY contact_id;\n```",
            ),
            Sequence::Count => (
                &COUNT_DOC,
                "How many non-overlapping times one group's rows, in time order, match a pattern: \
                 ClickHouse `sequenceCount` exactly. Each search resumes after the previous match. \
                 Only rows with a true condition take part; pattern syntax as sequence_match.",
                "```sql\n> SELECT contact_id, sequence_count('(?1).*(?2)', ts,\n         direction = 'outbound', direction = 'inbound') AS answered_pushes\n  FROM messages GROUP BY contact_id;\n```",
            ),
        };
        let name = self.name();
        Some(cell.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                description,
                format!("{name}(pattern, ts, cond1, cond2[, ..., cond32])"),
            )
            .with_sql_example(example)
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
