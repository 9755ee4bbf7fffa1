//! [`GroupedEvents`]: the rows of every group in one flat buffer.
//!
//! Shared by every aggregate that buffers a group's rows and evaluates them at the end
//! (`window_funnel`, `sequence_*`, `wa_conversations`): a row is anything that converts to and
//! from a `(timestamp, 32-bit code)` pair ([`BufferedEvent`]), which is also its partial state.
//!
//! Appending is a push onto two vectors (group index, event), with no per-group allocation,
//! which matters for `GROUP BY contact` with millions of groups. Emitting groups them by a
//! counting sort on the group index (O(rows + groups)), giving each group a contiguous slice
//! that the function sorts by time and evaluates in place.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, ListArray, UInt32Array};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Int64Type, UInt32Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::EmitTo;

use super::Event;

/// A buffered row, stored in the partial state as a timestamp and a 32-bit code.
pub(crate) trait BufferedEvent: Copy + Default {
    /// The row as `(timestamp, code)`.
    fn to_parts(self) -> (i64, u32);
    /// The row stored as `(ts, code)`; an error for a code no row produces (a corrupt state).
    fn from_parts(ts: i64, code: u32) -> Result<Self>;
}

impl BufferedEvent for Event {
    fn to_parts(self) -> (i64, u32) {
        self
    }

    fn from_parts(ts: i64, code: u32) -> Result<Self> {
        Ok((ts, code))
    }
}

/// Rows of all groups, in arrival order.
#[derive(Debug)]
pub(crate) struct GroupedEvents<E = Event> {
    groups: Vec<u32>,
    events: Vec<E>,
    num_groups: usize,
}

impl<E> Default for GroupedEvents<E> {
    fn default() -> Self {
        Self {
            groups: Vec::new(),
            events: Vec::new(),
            num_groups: 0,
        }
    }
}

/// The rows of some groups, contiguous per group: group `g` is `events[offsets[g]..offsets[g + 1]]`.
pub(crate) struct Grouped<E = Event> {
    pub offsets: Vec<usize>,
    pub events: Vec<E>,
}

impl<E: BufferedEvent> Grouped<E> {
    /// The rows of each group in turn.
    pub(crate) fn groups_mut(&mut self) -> impl Iterator<Item = &mut [E]> {
        let mut rest: &mut [E] = &mut self.events;
        self.offsets.windows(2).map(move |w| {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(w[1] - w[0]);
            rest = tail;
            head
        })
    }

    /// The state columns `(ts: List<Int64>, code: List<UInt32>)`, one row per group.
    pub(crate) fn to_state(&self) -> Result<Vec<ArrayRef>> {
        let offsets = self
            .offsets
            .iter()
            .map(|&o| i32::try_from(o))
            .collect::<std::result::Result<Vec<i32>, _>>();
        let Ok(offsets) = offsets else {
            return exec_err!("event buffer state exceeds 2^31 rows");
        };
        let offsets = OffsetBuffer::new(offsets.into());
        let ts: Int64Array = self
            .events
            .iter()
            .map(|e| e.to_parts().0)
            .collect::<Vec<_>>()
            .into();
        let masks: UInt32Array = self
            .events
            .iter()
            .map(|e| e.to_parts().1)
            .collect::<Vec<_>>()
            .into();
        Ok(vec![
            Arc::new(ListArray::new(
                Arc::new(Field::new_list_field(DataType::Int64, false)),
                offsets.clone(),
                Arc::new(ts),
                None,
            )),
            Arc::new(ListArray::new(
                Arc::new(Field::new_list_field(DataType::UInt32, false)),
                offsets,
                Arc::new(masks),
                None,
            )),
        ])
    }
}

impl<E: BufferedEvent> GroupedEvents<E> {
    /// Makes room for `total_num_groups` groups.
    pub(crate) fn resize(&mut self, total_num_groups: usize) {
        self.num_groups = self.num_groups.max(total_num_groups);
    }

    /// Appends one row of group `group`.
    #[inline]
    pub(crate) fn push(&mut self, group: usize, event: E) {
        // Group indices are dense and below `num_groups`, which fits a u32 for any real query;
        // saturating keeps a wild index from aliasing a real group.
        self.groups.push(u32::try_from(group).unwrap_or(u32::MAX));
        self.events.push(event);
    }

    /// Appends the rows of state lists `(ts, code)` row `i` to group `group_indices[i]`.
    pub(crate) fn merge_state(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[usize],
    ) -> Result<()> {
        let [ts, masks] = states else {
            return exec_err!("event state must have 2 columns, got {}", states.len());
        };
        let (Some(ts), Some(masks)) = (ts.as_list_opt::<i32>(), masks.as_list_opt::<i32>()) else {
            return exec_err!("event state columns must be lists");
        };
        let ts_values = ts.values().as_primitive::<Int64Type>().values();
        let mask_values = masks.values().as_primitive::<UInt32Type>().values();
        let (ts_off, mask_off) = (ts.value_offsets(), masks.value_offsets());
        for (row, &group) in group_indices.iter().enumerate() {
            if ts.is_null(row) {
                continue;
            }
            let (start, end) = (ts_off[row] as usize, ts_off[row + 1] as usize);
            let mstart = mask_off[row] as usize;
            if mask_off[row + 1] as usize - mstart != end - start {
                return exec_err!("event state lists differ in length");
            }
            for i in 0..end - start {
                let event = E::from_parts(ts_values[start + i], mask_values[mstart + i])?;
                self.push(group, event);
            }
        }
        Ok(())
    }

    /// `GroupsAccumulator::merge_batch`: makes room for `total_num_groups` groups and appends
    /// the state rows to their groups.
    pub(crate) fn merge_groups(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        self.merge_state(states, group_indices)
    }

    /// `GroupsAccumulator::convert_to_state`: each of `rows` input rows as a group of its own;
    /// `fill` pushes the rows that take part.
    pub(crate) fn state_of_rows(
        rows: usize,
        fill: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<Vec<ArrayRef>> {
        let mut buffer = Self::default();
        buffer.resize(rows);
        fill(&mut buffer)?;
        buffer.take(EmitTo::All).to_state()
    }

    /// Removes and groups the rows of the groups `emit_to` names; later groups are renumbered
    /// from 0 as DataFusion expects.
    pub(crate) fn take(&mut self, emit_to: EmitTo) -> Grouped<E> {
        let n = match emit_to {
            EmitTo::All => self.num_groups,
            EmitTo::First(n) => n.min(self.num_groups),
        };
        let (groups, events) = match emit_to {
            EmitTo::All => {
                self.num_groups = 0;
                (
                    std::mem::take(&mut self.groups),
                    std::mem::take(&mut self.events),
                )
            }
            EmitTo::First(_) => {
                let limit = n as u32;
                let mut taken_groups = Vec::new();
                let mut taken_events = Vec::new();
                let mut kept = 0;
                for i in 0..self.groups.len() {
                    let (g, e) = (self.groups[i], self.events[i]);
                    if g < limit {
                        taken_groups.push(g);
                        taken_events.push(e);
                    } else {
                        self.groups[kept] = g - limit;
                        self.events[kept] = e;
                        kept += 1;
                    }
                }
                self.groups.truncate(kept);
                self.events.truncate(kept);
                self.num_groups -= n;
                (taken_groups, taken_events)
            }
        };
        group_by_counting_sort(n, &groups, &events)
    }

    /// Bytes held.
    pub(crate) fn size(&self) -> usize {
        self.groups.capacity() * size_of::<u32>() + self.events.capacity() * size_of::<E>()
    }
}

/// Groups `events` by `groups` (each below `n`, others dropped), keeping arrival order within a group.
fn group_by_counting_sort<E: BufferedEvent>(n: usize, groups: &[u32], events: &[E]) -> Grouped<E> {
    let (offsets, order) = group_order(n, groups);
    Grouped {
        offsets,
        events: order.iter().map(|&row| events[row]).collect(),
    }
}

/// Row indices grouped by group, by a counting sort (O(rows + n)): group `g`'s rows are
/// `order[offsets[g]..offsets[g + 1]]`, in arrival order; rows of a group `>= n` are dropped.
pub(crate) fn group_order(n: usize, groups: &[u32]) -> (Vec<usize>, Vec<usize>) {
    let mut offsets = vec![0usize; n + 1];
    for &g in groups {
        if let Some(slot) = offsets.get_mut(g as usize + 1) {
            *slot += 1;
        }
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut cursor = offsets.clone();
    let mut order = vec![0usize; offsets[n]];
    for (row, &g) in groups.iter().enumerate() {
        if let Some(pos) = cursor.get_mut(g as usize).filter(|_| (g as usize) < n) {
            order[*pos] = row;
            *pos += 1;
        }
    }
    (offsets, order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_first_renumbers_the_rest() {
        let mut b = GroupedEvents::default();
        b.resize(3);
        b.push(2, (5, 1));
        b.push(0, (1, 1));
        b.push(1, (3, 2));
        b.push(0, (2, 4));
        let mut first = b.take(EmitTo::First(1));
        let got: Vec<Vec<Event>> = first.groups_mut().map(|g| g.to_vec()).collect();
        assert_eq!(got, vec![vec![(1, 1), (2, 4)]]);
        let mut rest = b.take(EmitTo::All);
        let got: Vec<Vec<Event>> = rest.groups_mut().map(|g| g.to_vec()).collect();
        assert_eq!(got, vec![vec![(3, 2)], vec![(5, 1)]]);
    }
}
