//! Accumulators shared by the event-buffering aggregates: they buffer `(ts, mask)` rows and
//! hand each group's rows to an [`EventsEval`] at evaluation.

use std::fmt::Debug;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};

use super::buffer::{GroupedEvents, single_state};
use super::{DecodedBatch, Event};

/// What a function does with one group's buffered rows.
pub(crate) trait EventsEval: Debug + Send + Sync + 'static {
    /// The result of one group.
    type Output: Copy + Default + Send;

    /// Position of the `ts` argument; the conditions follow it.
    fn ts_index(&self) -> usize;

    /// Whether a row with no true condition is kept (else it is dropped on arrival).
    fn keep_unmatched(&self) -> bool;

    /// The result for the rows of one group (any order; the slice may be reordered).
    fn evaluate(&self, events: &mut [Event]) -> Result<Self::Output>;

    /// The results of many groups as an array.
    fn to_array(&self, values: Vec<Self::Output>) -> ArrayRef;

    /// One result as a scalar.
    fn to_scalar(&self, value: Self::Output) -> ScalarValue;
}

/// Appends the counting rows of one batch to `push(row, event)`.
fn for_each_row(
    eval: &impl EventsEval,
    values: &[ArrayRef],
    filter: Option<&BooleanArray>,
    mut push: impl FnMut(usize, Event),
) -> Result<()> {
    let ts_idx = eval.ts_index();
    let batch = DecodedBatch::new(values, ts_idx, ts_idx + 1)?;
    let keep_unmatched = eval.keep_unmatched();
    for (row, (&ts, &mask)) in batch.ts.iter().zip(&batch.masks).enumerate() {
        if (mask != 0 || keep_unmatched) && batch.counts(row, filter) {
            push(row, (ts, mask));
        }
    }
    Ok(())
}

/// The per-group accumulator (no GROUP BY, window use).
#[derive(Debug)]
pub(crate) struct EventsAccumulator<E: EventsEval> {
    eval: Arc<E>,
    events: Vec<Event>,
}

impl<E: EventsEval> EventsAccumulator<E> {
    pub(crate) fn new(eval: Arc<E>) -> Self {
        Self {
            eval,
            events: Vec::new(),
        }
    }
}

impl<E: EventsEval> Accumulator for EventsAccumulator<E> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let events = &mut self.events;
        for_each_row(self.eval.as_ref(), values, None, |_, e| events.push(e))
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let out = self.eval.evaluate(&mut self.events)?;
        Ok(self.eval.to_scalar(out))
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.events.capacity() * size_of::<Event>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        single_state(&self.events)?
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let mut buffer = GroupedEvents::default();
        let rows = states.first().map_or(0, |s| s.len());
        buffer.resize(1);
        buffer.merge_state(states, &vec![0; rows])?;
        let mut grouped = buffer.take(EmitTo::All);
        self.events.append(&mut grouped.events);
        Ok(())
    }
}

/// The many-groups accumulator: one flat buffer for every group.
#[derive(Debug)]
pub(crate) struct EventsGroupsAccumulator<E: EventsEval> {
    eval: Arc<E>,
    buffer: GroupedEvents,
}

impl<E: EventsEval> EventsGroupsAccumulator<E> {
    pub(crate) fn new(eval: Arc<E>) -> Self {
        Self {
            eval,
            buffer: GroupedEvents::default(),
        }
    }
}

impl<E: EventsEval> GroupsAccumulator for EventsGroupsAccumulator<E> {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.buffer.resize(total_num_groups);
        let buffer = &mut self.buffer;
        for_each_row(self.eval.as_ref(), values, opt_filter, |row, e| {
            buffer.push(group_indices[row], e)
        })
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let mut grouped = self.buffer.take(emit_to);
        let out = grouped
            .groups_mut()
            .map(|events| self.eval.evaluate(events))
            .collect::<Result<Vec<_>>>()?;
        Ok(self.eval.to_array(out))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        self.buffer.take(emit_to).to_state()
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.buffer
            .merge_groups(values, group_indices, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let rows = values.first().map_or(0, |v| v.len());
        GroupedEvents::state_of_rows(rows, |buffer| {
            for_each_row(self.eval.as_ref(), values, opt_filter, |row, e| {
                buffer.push(row, e)
            })
        })
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.buffer.size()
    }
}
