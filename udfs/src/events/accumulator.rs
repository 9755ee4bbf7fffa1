//! The accumulator shared by the row-buffering aggregates (`window_funnel`, `sequence_*`,
//! `wa_conversations`): it buffers each group's rows in one flat [`GroupedEvents`] buffer and
//! hands them, grouped, to a [`BufferedAggregate`] at evaluation (one group: through
//! [`OneGroup`](crate::groups::OneGroup)).
//!
//! Functions over `(ts, cond1..condN)` rows implement the simpler [`EventsEval`] (one result
//! per group), which makes them a [`BufferedAggregate`] over [`Event`]s.

use std::fmt::Debug;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray};
use datafusion::common::Result;
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};

use super::buffer::{BufferedEvent, GroupedEvents};
use super::{DecodedBatch, Event};

/// An aggregate that buffers a group's rows and evaluates them at the end.
pub(crate) trait BufferedAggregate: Debug + Send + Sync + 'static {
    /// One buffered row (also its partial state).
    type Row: BufferedEvent + Debug + Send + Sync;

    /// Calls `push(row index, row)` for each row of `values` that takes part and passes
    /// `filter`.
    fn decode(
        &self,
        values: &[ArrayRef],
        filter: Option<&BooleanArray>,
        push: impl FnMut(usize, Self::Row),
    ) -> Result<()>;

    /// The results of the groups, in order (each group's rows in any order; they may be
    /// reordered in place).
    fn evaluate<'a>(&self, groups: impl Iterator<Item = &'a mut [Self::Row]>) -> Result<ArrayRef>;
}

/// What a function over `(ts, cond1..condN)` rows does with one group's rows.
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
}

impl<E: EventsEval> BufferedAggregate for E {
    type Row = Event;

    fn decode(
        &self,
        values: &[ArrayRef],
        filter: Option<&BooleanArray>,
        mut push: impl FnMut(usize, Event),
    ) -> Result<()> {
        let ts_idx = self.ts_index();
        let batch = DecodedBatch::new(values, ts_idx, ts_idx + 1)?;
        let keep_unmatched = self.keep_unmatched();
        for (row, (&ts, &mask)) in batch.ts.iter().zip(&batch.masks).enumerate() {
            if (mask != 0 || keep_unmatched) && batch.counts(row, filter) {
                push(row, (ts, mask));
            }
        }
        Ok(())
    }

    fn evaluate<'a>(&self, groups: impl Iterator<Item = &'a mut [Event]>) -> Result<ArrayRef> {
        let out = groups
            .map(|events| EventsEval::evaluate(self, events))
            .collect::<Result<Vec<_>>>()?;
        Ok(self.to_array(out))
    }
}

/// The accumulator of a [`BufferedAggregate`]: one flat buffer for every group.
#[derive(Debug)]
pub(crate) struct EventsGroupsAccumulator<A: BufferedAggregate> {
    aggregate: Arc<A>,
    buffer: GroupedEvents<A::Row>,
}

impl<A: BufferedAggregate> EventsGroupsAccumulator<A> {
    pub(crate) fn new(aggregate: Arc<A>) -> Self {
        Self {
            aggregate,
            buffer: GroupedEvents::default(),
        }
    }
}

impl<A: BufferedAggregate> GroupsAccumulator for EventsGroupsAccumulator<A> {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.buffer.resize(total_num_groups);
        let buffer = &mut self.buffer;
        self.aggregate.decode(values, opt_filter, |row, e| {
            buffer.push(group_indices[row], e)
        })
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let mut grouped = self.buffer.take(emit_to);
        self.aggregate.evaluate(grouped.groups_mut())
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
            self.aggregate
                .decode(values, opt_filter, |row, e| buffer.push(row, e))
        })
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.buffer.size()
    }
}
