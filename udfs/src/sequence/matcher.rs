//! Matching a [`Pattern`] against one group's rows sorted by time: ClickHouse's `dfaMatch`
//! (patterns without time tokens) and `backtrackingMatch` (with them, and for counting),
//! including their exact quirks:
//!
//! * a time token compares the *next* unconsumed row with the last matched one and consumes
//!   nothing;
//! * a failing `>`, `>=` or `==` time token skips rows forward until one satisfies it (it does
//!   not backtrack until the rows run out), while a failing `<` or `<=` backtracks at once;
//! * when the rows run out, trailing `.*`, `<`, `<=` and `>= 0` tokens match the empty rest;
//! * a match that consumed nothing still advances the count scan by one row.

use datafusion::common::{Result, exec_err};

use super::pattern::{Action, Pattern, TimeOp};
use crate::events::Event;

/// Steps allowed per match attempt before giving up (ClickHouse: `TOO_SLOW`).
pub(crate) const MAX_ITERATIONS: usize = 1_000_000;

impl Pattern {
    /// Whether the pattern matches anywhere in `events` (ClickHouse `sequenceMatch`).
    pub(crate) fn matches(&self, events: &[Event]) -> Result<bool> {
        if self.has_time {
            let mut pos = 0;
            self.backtrack(events, &mut pos)
        } else {
            Ok(self.dfa_match(events))
        }
    }

    /// Non-overlapping matches, each scan starting where the previous match ended
    /// (ClickHouse `sequenceCount`).
    pub(crate) fn count(&self, events: &[Event]) -> Result<i64> {
        let mut pos = 0;
        let mut count = 0;
        while pos < events.len() && self.backtrack(events, &mut pos)? {
            count += 1;
        }
        Ok(count)
    }

    /// Automaton simulation: all states active at once, O(rows × states).
    fn dfa_match(&self, events: &[Event]) -> bool {
        let states = self.dfa.len();
        let mut active = vec![false; states];
        let mut next = vec![false; states];
        active[0] = true;
        let mut n_active = 1;
        for &(_, mask) in events {
            if n_active == 0 || active[states - 1] {
                break;
            }
            n_active = 0;
            next.iter_mut().for_each(|s| *s = false);
            for (i, state) in self.dfa.iter().enumerate() {
                if !active[i] {
                    continue;
                }
                let advance = match state.transition {
                    None => false,
                    Some(None) => true,
                    Some(Some(bit)) => mask & (1 << bit) != 0,
                };
                if advance {
                    next[i + 1] = true;
                    n_active += 1;
                }
                if state.kleene {
                    next[i] = true;
                    n_active += 1;
                }
            }
            std::mem::swap(&mut active, &mut next);
        }
        active[states - 1]
    }

    /// One backtracking match attempt from `*pos`; on return `*pos` is where the next attempt
    /// starts.
    fn backtrack(&self, events: &[Event], pos: &mut usize) -> Result<bool> {
        let actions = &self.actions;
        let end = events.len();
        let begin = *pos;
        let (mut a, mut ev, mut base) = (0usize, begin, begin);
        let mut stack: Vec<(usize, usize, usize)> = Vec::new();
        // Pops saved choice points until one has a row left; like ClickHouse it leaves the
        // last popped position in place when none has.
        let pop = |stack: &mut Vec<(usize, usize, usize)>,
                   a: &mut usize,
                   ev: &mut usize,
                   base: &mut usize| {
            while let Some((sa, se, sb)) = stack.pop() {
                (*a, *ev, *base) = (sa, se + 1, sb);
                if *ev != end {
                    return true;
                }
            }
            false
        };
        let mut iterations = 0;
        while a < actions.len() && ev < end {
            match actions[a] {
                Action::Event(bit) => {
                    if events[ev].1 & (1 << bit) != 0 {
                        base = ev;
                        a += 1;
                        ev += 1;
                    } else if !pop(&mut stack, &mut a, &mut ev, &mut base) {
                        break;
                    }
                }
                Action::Any => {
                    base = ev;
                    a += 1;
                    ev += 1;
                }
                Action::Kleene => {
                    stack.push((a, ev, base));
                    base = ev;
                    a += 1;
                }
                Action::Time(op, span) => {
                    let (t, limit) = (
                        i128::from(events[ev].0),
                        i128::from(events[base].0) + i128::from(span),
                    );
                    let holds = match op {
                        TimeOp::Le => t <= limit,
                        TimeOp::Lt => t < limit,
                        TimeOp::Ge => t >= limit,
                        TimeOp::Gt => t > limit,
                        TimeOp::Eq => t == limit,
                    };
                    if holds {
                        stack.push((a, ev, base));
                        base = ev;
                        a += 1;
                    } else if matches!(op, TimeOp::Le | TimeOp::Lt) {
                        if !pop(&mut stack, &mut a, &mut ev, &mut base) {
                            break;
                        }
                    } else {
                        ev += 1;
                        if ev == end && !pop(&mut stack, &mut a, &mut ev, &mut base) {
                            break;
                        }
                    }
                }
            }
            iterations += 1;
            if iterations > MAX_ITERATIONS {
                return exec_err!(
                    "sequence pattern is too expensive to match: more than {MAX_ITERATIONS} steps"
                );
            }
        }
        while a < actions.len()
            && matches!(
                actions[a],
                Action::Kleene
                    | Action::Time(TimeOp::Le | TimeOp::Lt, _)
                    | Action::Time(TimeOp::Ge, 0)
            )
        {
            a += 1;
        }
        if ev == begin {
            ev += 1;
        }
        *pos = ev;
        Ok(a == actions.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::TsKind;

    fn pattern(text: &str, n: usize) -> Pattern {
        Pattern::parse("t", text, n, TsKind::Integer).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// Reference 7.3: rows (1, number 1), (2, number 3), (3, number 2).
    fn rows(with_c3: bool) -> Vec<Event> {
        let mut rows = vec![(1, 0b001), (3, 0b010)];
        if with_c3 {
            rows.insert(1, (2, 0b100));
        }
        rows
    }

    #[test]
    fn reference_vectors() {
        let m = |p: &str, c3: bool| {
            let n = if c3 { 3 } else { 2 };
            pattern(p, n).matches(&rows(c3)).ok()
        };
        assert_eq!(m("(?1)(?2)", false), Some(true));
        assert_eq!(m("(?1)(?2)", true), Some(false));
        assert_eq!(m("(?1).*(?2)", true), Some(true));
        assert_eq!(m("(?1).(?2)", true), Some(true));
        assert_eq!(m("(?1)(?t<=1)(?2)", false), Some(false));
        assert_eq!(m("(?1)(?t<=2)(?2)", false), Some(true));
        assert_eq!(m("(?1)(?t>2)(?2)", false), Some(false));
        assert_eq!(m("(?2)", false), Some(true));
        let six = [(1, 1), (2, 4), (3, 2), (4, 1), (5, 4), (6, 2)];
        assert_eq!(pattern("(?1).*(?2)", 3).count(&six).ok(), Some(2));
    }

    #[test]
    fn greater_than_skips_rows() {
        // (?t>2) skips the row at t=2 and accepts the one at t=5, which is then (?2).
        let events = [(1, 1), (2, 2), (5, 2)];
        assert_eq!(
            pattern("(?1)(?t>2)(?2)", 2).matches(&events).ok(),
            Some(true)
        );
    }
}
