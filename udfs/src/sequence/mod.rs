//! `sequence_match(pattern, ts, cond1, ..., condN) -> BOOLEAN` and
//! `sequence_count(pattern, ts, cond1, ..., condN) -> BIGINT` (SPEC 5.5): ClickHouse
//! `sequenceMatch` / `sequenceCount` exactly (reference 7.3, AggregateFunctionSequenceMatch.h).
//!
//! | module | job |
//! |---|---|
//! | `pattern` | parsing the pattern (`(?N)`, `.`, `.*`, `(?t op S)`) once per call |
//! | `matcher` | ClickHouse's automaton match and backtracking match (with its quirks) |
//! | `sequence_func` | the UDAF: [`SequenceFunc`], `sequence_match` or `sequence_count` by its [`Sequence`] |
//!
//! | case | behaviour |
//! |---|---|
//! | results | `sequence_match`: `BOOLEAN`; `sequence_count`: `BIGINT` (ClickHouse UInt64), non-overlapping matches, each scan resuming after the previous match |
//! | `pattern` | constant string, parsed at planning; a bad token, an event number outside 1..=N, or a time token not after an event is a plan error naming the position |
//! | time tokens `(?t op S)` | `S` whole seconds for `TIMESTAMP`/`DATE` ts (compared in µs), the integer's own unit for integer ts; time since the previous matched row |
//! | anchoring | implicit leading `.*`; not anchored at the end |
//! | rows | only rows with at least one true condition are kept; others are dropped (unlike `window_funnel` strict_order) |
//! | a condition the pattern names never true | false / 0 without matching |
//! | NULL `ts` or condition | the row is skipped (ClickHouse's `Null` combinator) |
//! | empty group | match of an empty sequence (true only for patterns such as `''` or `.*`), count 0 |
//! | ties (equal `ts`) | ClickHouse sorts with an unstable sort, so its order is undefined; here rows are sorted by `(ts, condition mask)`: deterministic, but ClickHouse may differ on ties |
//! | conditions | 2..=32 `BOOLEAN`s, as ClickHouse (`sequenceMatch` needs at least 3 arguments) |
//! | complexity | O(n log n) sort + O(n × pattern) automaton; backtracking is capped at 1,000,000 steps per attempt (an execution error, ClickHouse's `TOO_SLOW`) |

mod matcher;
mod pattern;
mod sequence_func;

pub use sequence_func::{Sequence, SequenceFunc};

use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::function::AccumulatorArgs;

use crate::events::{TsKind, check_conditions, const_string};
use pattern::Pattern;

/// Plan-time check of `(pattern, ts, cond1, ..., condN)`.
fn check_args(func: &str, arg_fields: &[FieldRef]) -> Result<()> {
    if arg_fields.len() < 4 {
        return plan_err!(
            "{func} needs (pattern, ts, cond1, cond2, ..., condN) with 2 to 32 conditions, got {} arguments",
            arg_fields.len()
        );
    }
    let pattern = arg_fields[0].data_type();
    if !matches!(
        pattern,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) {
        return plan_err!("{func}: pattern must be a string, got {pattern}");
    }
    TsKind::of(func, arg_fields[1].data_type())?;
    let conditions: Vec<DataType> = arg_fields[2..]
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    check_conditions(func, &conditions, 2)
}

/// The parsed constant pattern of one call.
fn pattern(func: &str, args: &AccumulatorArgs) -> Result<Pattern> {
    let Some(ts_field) = args.expr_fields.get(1) else {
        return plan_err!("{func} needs a timestamp argument");
    };
    let kind = TsKind::of(func, ts_field.data_type())?;
    let text = const_string(args, 0, func, "pattern")?;
    Pattern::parse(func, &text, args.exprs.len().saturating_sub(2), kind)
}

/// Sorts one group's rows by time (ties by mask) and whether the pattern can match at all.
fn prepare(pattern: &Pattern, events: &mut [crate::events::Event]) -> bool {
    let met = events.iter().fold(0u32, |acc, e| acc | e.1);
    if met & pattern.conditions != pattern.conditions {
        return false;
    }
    if !events.is_sorted() {
        events.sort_unstable();
    }
    true
}
