//! `window_funnel(window, mode, ts, cond1, ..., condN) -> INT` (SPEC 5.3): ClickHouse
//! `windowFunnel` exactly (reference 7.1, AggregateFunctionWindowFunnel.cpp).
//!
//! | module | job |
//! |---|---|
//! | [`mode`] | parsing the `mode` string into [`Modes`] |
//! | `level` | the two ClickHouse evaluation algorithms over one group's `(ts, mask)` rows |
//! | `window_funnel` | the UDAF: argument checks, constant `window`/`mode`, accumulators, docs |
//!
//! | case | behaviour |
//! |---|---|
//! | result | `INT` (Int32): the furthest step reached, 0..=N; ClickHouse's UInt8 widened to the SQL `INT` of SPEC 5.3 |
//! | `window` | constant; integer seconds or a fixed `INTERVAL` (no months); inclusive, measured from the chain's first step; negative is an error |
//! | `ts` | `TIMESTAMP` of any unit/zone (compared in UTC µs), `DATE` (midnight UTC); an integer `ts` is compared as is and the window is an integer in its unit (ClickHouse's UInt timestamps) |
//! | `mode` | constant string: `''` or a comma-separated subset of `strict_order, strict_deduplication, strict_increase, strict_once, allow_reentry`; whitespace and case ignored; `strict` rejected; `allow_reentry` needs `strict_order` |
//! | conditions | 1..=32 `BOOLEAN`s; more, fewer or another type is a plan error |
//! | NULL `ts` or condition | the row is skipped (ClickHouse's `Null` combinator) |
//! | empty group, or no step 1 | 0 |
//! | ties (equal `ts`) | entries ordered by `(ts, condition index)`, as ClickHouse's stable sort: deterministic |
//! | row matching several conditions | one entry per condition (so one row can be steps 1 and 2, unless `strict_once`) |
//! | input order, partitions | irrelevant: rows are buffered per group and sorted at evaluation; partial states merge as lists |
//! | complexity | O(n log n) per group (O(n) when rows arrive sorted); `strict_once` tracks every chain (worst case quadratic, as ClickHouse) |

pub mod mode;

mod level;
mod window_funnel;

pub use mode::Modes;
pub use window_funnel::WindowFunnelFunc;

use datafusion::logical_expr::DocSection;

/// Documentation section of the funnel, retention and sequence functions.
pub(crate) const DOC_SECTION: DocSection = DocSection {
    include: true,
    label: "Funnel and Sequence Functions",
    description: Some(
        "ClickHouse-compatible behavioural analytics: funnels, retention and event sequences.",
    ),
};

#[cfg(test)]
mod tests;
