//! The funnel level of one group's rows: ClickHouse `windowFunnel`'s two evaluation
//! algorithms (AggregateFunctionWindowFunnel.cpp), over `(ts, mask)` rows.
//!
//! ClickHouse stores one entry `(ts, i)` per true condition `i` of a row (plus `(ts, 0)` for a
//! row matching nothing under `strict_order`) and stable-sorts entries by `(ts, i)`. Here a
//! row stays one `(ts, mask)` pair: rows are sorted by `(ts, mask)` and each run of equal
//! timestamps is expanded in condition order, which yields the same entry sequence without
//! materialising it.

use std::ops::ControlFlow;

use arrow::array::{ArrayRef, Int32Array};
use datafusion::common::Result;
use std::sync::Arc;

use super::mode::Modes;
use crate::events::Event;
use crate::events::accumulator::EventsEval;

/// One `window_funnel` call: its window, number of steps and options.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Funnel {
    /// Window in timestamp units (µs for timestamps).
    pub window: i64,
    /// Number of steps (conditions), 1..=32.
    pub steps: u32,
    /// Options.
    pub modes: Modes,
}

impl EventsEval for Funnel {
    type Output = i32;

    fn ts_index(&self) -> usize {
        2
    }

    fn keep_unmatched(&self) -> bool {
        self.modes.strict_order
    }

    fn evaluate(&self, events: &mut [Event]) -> Result<i32> {
        Ok(i32::from(self.level(events)))
    }

    fn to_array(&self, values: Vec<i32>) -> ArrayRef {
        Arc::new(Int32Array::from(values))
    }
}

impl Funnel {
    /// The furthest step reached by `rows` (reordered in place).
    pub(crate) fn level(&self, rows: &mut [Event]) -> u8 {
        if rows.is_empty() {
            return 0;
        }
        if !self.modes.strict_order && self.steps == 1 {
            return 1;
        }
        if !rows.is_sorted() {
            rows.sort_unstable();
        }
        if self.modes.strict_once {
            self.level_strict_once(rows)
        } else {
            let mut scan = Scan::new(self);
            match for_each_entry(rows, |ts, ev| scan.step(ts, ev)) {
                ControlFlow::Break(level) => level,
                ControlFlow::Continue(()) => scan.highest(),
            }
        }
    }

    /// `ts` is within the window opened at `first`.
    #[inline]
    fn in_window(&self, first: i64, ts: i64) -> bool {
        i128::from(ts) <= i128::from(first) + i128::from(self.window)
    }

    /// ClickHouse's `getEventLevelStrictOnce`: every chain is tracked so that one row (one
    /// unique id) is used at most once per chain.
    fn level_strict_once(&self, rows: &[Event]) -> u8 {
        let strict_order = self.modes.strict_order;
        // Entries (ts, condition index, row id); rows are already sorted, ids follow that order.
        let mut entries: Vec<(i64, u8, u32)> = Vec::with_capacity(rows.len());
        for (id, &(ts, mask)) in rows.iter().enumerate() {
            let id = u32::try_from(id).unwrap_or(u32::MAX);
            if mask == 0 {
                entries.push((ts, 0, id));
            }
            for_each_bit(mask, |bit| entries.push((ts, bit + 1, id)));
        }
        entries.sort_unstable();
        let steps = self.steps as usize;
        let mut chains: Vec<Vec<Chain>> = vec![Vec::new(); steps];
        let highest = |chains: &[Vec<Chain>]| {
            chains
                .iter()
                .rposition(|c| !c.is_empty())
                .map_or(0, |i| i as u8 + 1)
        };
        let mut has_first = false;
        for &(ts, ev, id) in &entries {
            if ev == 0 {
                if strict_order && has_first {
                    break;
                }
                continue;
            }
            let k = usize::from(ev - 1);
            if k == 0 {
                let mut chain = Chain {
                    first: ts,
                    last: ts,
                    path: [0; 32],
                };
                chain.path[0] = id;
                chains[0].push(chain);
                has_first = true;
            } else if self.modes.strict_deduplication && !chains[k].is_empty() {
                return highest(&chains);
            } else if strict_order && has_first && chains[k - 1].is_empty() {
                if self.modes.allow_reentry {
                    continue;
                }
                if let Some(unreached) = chains.iter().position(Vec::is_empty) {
                    return unreached as u8;
                }
            } else if !chains[k - 1].is_empty() {
                let (lower, upper) = chains.split_at_mut(k);
                let (prev, next) = (&mut lower[k - 1], &mut upper[0]);
                let mut i = 0;
                while i < prev.len() {
                    let chain = prev[i];
                    let mut matched = self.in_window(chain.first, ts);
                    if !matched && prev.len() > 1 {
                        // Out of the window for good (later entries are not earlier): drop it,
                        // but keep at least one chain so the level stays reached.
                        prev.remove(i);
                        continue;
                    }
                    matched = matched && chain.path[..k].iter().all(|&p| p != id);
                    if matched && self.modes.strict_increase {
                        matched = chain.last < ts;
                    }
                    if matched {
                        let mut extended = Chain {
                            first: chain.first,
                            last: ts,
                            path: chain.path,
                        };
                        extended.path[k] = id;
                        next.push(extended);
                        if k + 1 == steps {
                            return self.steps as u8;
                        }
                    }
                    i += 1;
                }
            }
        }
        highest(&chains)
    }
}

/// A partial chain of `strict_once`: its start, its last step time and the row of each step.
#[derive(Debug, Clone, Copy)]
struct Chain {
    first: i64,
    last: i64,
    path: [u32; 32],
}

/// Calls `f` with each set bit of `mask`, lowest first.
#[inline]
fn for_each_bit(mut mask: u32, mut f: impl FnMut(u8)) {
    while mask != 0 {
        f(mask.trailing_zeros() as u8);
        mask &= mask - 1;
    }
}

/// Feeds the entries of sorted `rows` to `f` as `(ts, condition)` with condition 0 for a row
/// matching nothing, in ClickHouse's `(ts, condition)` order; stops at the first `Break`.
#[inline]
fn for_each_entry(
    rows: &[Event],
    mut f: impl FnMut(i64, u8) -> ControlFlow<u8>,
) -> ControlFlow<u8> {
    let mut i = 0;
    while i < rows.len() {
        let ts = rows[i].0;
        let mut j = i + 1;
        while j < rows.len() && rows[j].0 == ts {
            j += 1;
        }
        if j == i + 1 {
            let mask = rows[i].1;
            if mask == 0 {
                f(ts, 0)?;
            }
            let mut m = mask;
            while m != 0 {
                f(ts, m.trailing_zeros() as u8 + 1)?;
                m &= m - 1;
            }
        } else {
            // Several rows at one instant: all their entries in condition order, one per row
            // that has the condition (rows are sorted by mask, so unmatched rows come first).
            let run = &rows[i..j];
            for _ in run.iter().take_while(|r| r.1 == 0) {
                f(ts, 0)?;
            }
            let union = run.iter().fold(0u32, |acc, r| acc | r.1);
            let mut m = union;
            while m != 0 {
                let bit = m.trailing_zeros();
                for r in run {
                    if r.1 & (1 << bit) != 0 {
                        f(ts, bit as u8 + 1)?;
                    }
                }
                m &= m - 1;
            }
        }
        i = j;
    }
    ControlFlow::Continue(())
}

/// ClickHouse's `getEventLevelNonStrictOnce` as a state machine fed one entry at a time.
struct Scan<'a> {
    funnel: &'a Funnel,
    /// Bit k set when step k+1 has been reached.
    reached: u32,
    /// Start time of the chain that reached step k+1.
    first: [i64; 32],
    /// Time of step k+1 in that chain.
    last: [i64; 32],
    first_event: bool,
}

impl<'a> Scan<'a> {
    fn new(funnel: &'a Funnel) -> Self {
        Self {
            funnel,
            reached: 0,
            first: [0; 32],
            last: [0; 32],
            first_event: false,
        }
    }

    /// The highest step reached.
    fn highest(&self) -> u8 {
        (32 - self.reached.leading_zeros()) as u8
    }

    #[inline]
    fn step(&mut self, ts: i64, ev: u8) -> ControlFlow<u8> {
        let f = self.funnel;
        if ev == 0 {
            // Only stored under strict_order: a foreign row ends a started search.
            if self.first_event {
                return ControlFlow::Break(self.highest());
            }
            return ControlFlow::Continue(());
        }
        let k = usize::from(ev - 1);
        let bit = 1u32 << k;
        if k == 0 {
            // A new first step restarts the head: the latest start wins.
            self.first[0] = ts;
            self.last[0] = ts;
            self.reached |= 1;
            self.first_event = true;
        } else if f.modes.strict_deduplication && self.reached & bit != 0 {
            return ControlFlow::Break(self.highest());
        } else if f.modes.strict_order && self.first_event && self.reached & (bit >> 1) == 0 {
            if f.modes.allow_reentry {
                return ControlFlow::Continue(());
            }
            return ControlFlow::Break((!self.reached).trailing_zeros() as u8);
        } else if self.reached & (bit >> 1) != 0 {
            let first = self.first[k - 1];
            let mut ok = f.in_window(first, ts);
            if f.modes.strict_increase {
                ok = ok && self.last[k - 1] < ts;
            }
            if ok {
                self.reached |= bit;
                self.first[k] = first;
                self.last[k] = ts;
                if k + 1 == f.steps as usize {
                    return ControlFlow::Break(f.steps as u8);
                }
            }
        }
        ControlFlow::Continue(())
    }
}
