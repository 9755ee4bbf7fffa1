//! `session_id(ts, gap) OVER (PARTITION BY ... [ORDER BY ts])` (SPEC 5.6): the 1-based
//! inactivity-gap session number of each row within its window partition.
//!
//! | case | behaviour |
//! |---|---|
//! | new session | the first row, and every row whose `ts` is more than `gap` after the previous row's (a gap of exactly `gap` stays in the session) |
//! | `gap` | constant; integer seconds or an INTERVAL without months; negative or NULL is an error |
//! | row order | sessions follow `ts` order even without an `ORDER BY` in the window (rows are sorted by `ts` internally; ties keep their input order and share a session) |
//! | NULL `ts` | NULL session number; the row is skipped when measuring gaps |
//! | result | `BIGINT`, numbered 1, 2, 3, ... per partition |
//! | complexity | O(n) for a partition already in `ts` order, O(n log n) otherwise |
//!
//! Equivalent SQL: `SUM(CASE WHEN prev IS NULL OR ts - prev > gap THEN 1 ELSE 0 END)
//! OVER (PARTITION BY ... ORDER BY ts ROWS UNBOUNDED PRECEDING)` with
//! `prev = LAG(ts) OVER (PARTITION BY ... ORDER BY ts)`.

use std::sync::{Arc, OnceLock};

use arrow::array::{Array, ArrayRef, Int64Array};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    DocSection, Documentation, PartitionEvaluator, Signature, Volatility, WindowUDFImpl,
};

use crate::args::{
    check_arity, coerce_duration, coerce_timestamp, constant_duration_micros, timestamps,
};

/// Documentation section of the session functions.
const DOC_SECTION: DocSection = DocSection {
    include: true,
    label: "Session Functions",
    description: Some("Inactivity-gap sessions over ordered events."),
};

declare_udf! {
    /// `session_id(ts, gap)`: see the [module docs](self).
    SessionIdFunc, "session_id",
    Signature::user_defined(Volatility::Immutable)
}

impl WindowUDFImpl for SessionIdFunc {
    fn name(&self) -> &str {
        "session_id"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name(), arg_types, 2, "ts, gap_seconds")?;
        Ok(vec![
            coerce_timestamp(self.name(), "ts", &arg_types[0])?,
            coerce_duration(self.name(), "gap", &arg_types[1])?,
        ])
    }

    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let exprs = args.input_exprs();
        if exprs.len() != 2 {
            return plan_err!(
                "session_id takes 2 arguments (ts, gap_seconds), got {}",
                exprs.len()
            );
        }
        let gap_micros = constant_duration_micros(self.name(), "gap", &exprs[1])?;
        Ok(Box::new(SessionIdEvaluator { gap_micros }))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(
            field_args.name(),
            DataType::Int64,
            true,
        )))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                "Window function: the 1-based inactivity-gap session number of each row within \
                 its partition. A new session starts at the first row and whenever ts is more \
                 than gap after the previous row's ts. Rows are taken in ts order.",
                "session_id(ts, gap) OVER (PARTITION BY key [ORDER BY ts])",
            )
            .with_sql_example(
                "```sql\n> SELECT contact_id, ts, session_id(ts, 1800) OVER (PARTITION BY contact_id ORDER BY ts)\n  FROM messages;\n```",
            )
            .with_argument("ts", "Timestamp of the event.")
            .with_argument(
                "gap",
                "Constant inactivity gap: a number of seconds or an INTERVAL such as INTERVAL '30 minutes'.",
            )
            .build()
        }))
    }
}

/// Evaluates one window partition at a time.
#[derive(Debug)]
struct SessionIdEvaluator {
    gap_micros: i64,
}

impl PartitionEvaluator for SessionIdEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let ts = timestamps(&values[0])?;
        Ok(Arc::new(session_numbers(&ts, num_rows, self.gap_micros)))
    }
}

/// Session numbers of `rows` timestamps (UTC µs) for a gap of `gap_micros`.
fn session_numbers(
    ts: &arrow::array::TimestampMicrosecondArray,
    rows: usize,
    gap_micros: i64,
) -> Int64Array {
    let values = ts.values();
    let valid = |i: usize| ts.is_valid(i);
    let mut order: Vec<usize> = (0..rows).filter(|&i| valid(i)).collect();
    if !order.windows(2).all(|w| values[w[0]] <= values[w[1]]) {
        order.sort_by_key(|&i| values[i]);
    }
    let mut out: Vec<Option<i64>> = vec![None; rows];
    let mut session = 0_i64;
    let mut previous: Option<i64> = None;
    for i in order {
        let t = values[i];
        let new_session = match previous {
            None => true,
            Some(p) => t.saturating_sub(p) > gap_micros,
        };
        if new_session {
            session += 1;
        }
        out[i] = Some(session);
        previous = Some(t);
    }
    Int64Array::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::TimestampMicrosecondArray;

    const H: i64 = 3_600_000_000;

    // The reference's worked example (section 6): messages at hours 0, 1, 10, 12, 20, 26, 40 with
    // a gap of 8 h form the sessions [0,1], [10,26], [40,40].
    #[test]
    fn reference_worked_example() {
        let hours = [0, 1, 10, 12, 20, 26, 40];
        let ts = TimestampMicrosecondArray::from(hours.iter().map(|h| h * H).collect::<Vec<_>>());
        let ids = session_numbers(&ts, hours.len(), 8 * H);
        assert_eq!(ids.values().to_vec(), vec![1, 1, 2, 2, 2, 2, 3]);
    }

    #[test]
    fn unsorted_input_and_nulls() {
        let ts = TimestampMicrosecondArray::from(vec![Some(40 * H), None, Some(0), Some(H)]);
        let ids = session_numbers(&ts, 4, 8 * H);
        assert_eq!(
            ids.iter().collect::<Vec<_>>(),
            vec![Some(2), None, Some(1), Some(1)]
        );
    }
}
