//! The accumulator plumbing every chatlake aggregate shares: an aggregate is written once, as a
//! [`GroupsAccumulator`] (the state of many groups in flat buffers, what a `GROUP BY` uses), and
//! [`OneGroup`] serves that same code as the single-group [`Accumulator`] DataFusion also asks
//! for (an aggregate without `GROUP BY`, an aggregate over a window frame).
//!
//! | piece | for |
//! |---|---|
//! | [`through_groups_accumulator!`] | every aggregate's `accumulator` and `groups_accumulator_supported`: it implements only `create_groups_accumulator` |
//! | [`PerGroup`] + [`VecGroups`] | aggregates whose state is one value per group (a histogram, a bitset, a best row): the `GroupsAccumulator` around a `Vec` of them (growth, `EmitTo`, filters, `convert_to_state`, size) is written once |
//! | `events::accumulator` | aggregates that buffer each group's rows until evaluation |
//!
//! | case | behaviour of [`OneGroup`] |
//! |---|---|
//! | `update_batch`, `merge_batch` | every row goes to group 0 (no `FILTER`: DataFusion filters before a plain accumulator) |
//! | no rows at all | group 0 exists from the start (an empty update with the argument types), so `evaluate` gives the aggregate's empty-group result |
//! | `evaluate` | does not consume the group: a growing window frame evaluates after every row |
//! | `state` | group 0's partial state, one scalar per state column; the group is kept |
//! | cost | `evaluate` and `state` go through the partial state once (serialise, merge back): O(state) on top of the aggregate's own work |

use std::fmt;
use std::sync::Mutex;

use arrow::array::{ArrayRef, BooleanArray, new_empty_array};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};

/// A [`GroupsAccumulator`] used as the [`Accumulator`] of one group: see the [module docs](self).
pub(crate) struct OneGroup {
    /// The aggregate's accumulator. `Accumulator` must be `Sync`, a `GroupsAccumulator` need
    /// not: the mutex makes it so, and every call but `size` reaches it through `&mut self`
    /// (`Mutex::get_mut`, no locking).
    groups: Mutex<Box<dyn GroupsAccumulator>>,
    /// Group indices of the last batch: all 0.
    zeros: Vec<usize>,
}

impl fmt::Debug for OneGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneGroup").finish_non_exhaustive()
    }
}

impl OneGroup {
    /// `groups` as the accumulator of one group of a call with `args`.
    pub(crate) fn boxed(
        groups: Box<dyn GroupsAccumulator>,
        args: &AccumulatorArgs,
    ) -> Result<Box<dyn Accumulator>> {
        let mut one = Self {
            groups: Mutex::new(groups),
            zeros: Vec::new(),
        };
        // Group 0 exists even if no row ever comes.
        let empty: Vec<ArrayRef> = args
            .expr_fields
            .iter()
            .map(|f| new_empty_array(f.data_type()))
            .collect();
        one.inner().update_batch(&empty, &[], None, 1)?;
        Ok(Box::new(one))
    }

    /// The accumulator, without locking.
    fn inner(&mut self) -> &mut dyn GroupsAccumulator {
        match self.groups.get_mut() {
            Ok(groups) => groups.as_mut(),
            Err(poisoned) => poisoned.into_inner().as_mut(),
        }
    }

    /// Group 0's partial state, leaving the group in place.
    fn peek_state(&mut self) -> Result<Vec<ArrayRef>> {
        let inner = self.inner();
        let state = inner.state(EmitTo::All)?;
        inner.merge_batch(&state, &[0], 1)?;
        Ok(state)
    }
}

/// The first `rows` entries of `buf`, all 0.
fn zeros(buf: &mut Vec<usize>, rows: usize) -> &[usize] {
    buf.resize(rows, 0);
    &buf[..rows]
}

impl Accumulator for OneGroup {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let rows = values.first().map_or(0, |v| v.len());
        let group_indices = zeros(&mut self.zeros, rows);
        let inner = match self.groups.get_mut() {
            Ok(groups) => groups,
            Err(poisoned) => poisoned.into_inner(),
        };
        inner.update_batch(values, group_indices, None, 1)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let state = self.peek_state()?;
        let inner = self.inner();
        let result = inner.evaluate(EmitTo::All)?;
        inner.merge_batch(&state, &[0], 1)?;
        ScalarValue::try_from_array(&result, 0)
    }

    fn size(&self) -> usize {
        let groups = match self.groups.lock() {
            Ok(groups) => groups.size(),
            Err(poisoned) => poisoned.into_inner().size(),
        };
        size_of_val(self) + groups + self.zeros.capacity() * size_of::<usize>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.peek_state()?
            .iter()
            .map(|column| ScalarValue::try_from_array(column, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let rows = states.first().map_or(0, |s| s.len());
        let group_indices = zeros(&mut self.zeros, rows);
        let inner = match self.groups.get_mut() {
            Ok(groups) => groups,
            Err(poisoned) => poisoned.into_inner(),
        };
        inner.merge_batch(states, group_indices, 1)
    }
}

/// An aggregate whose state is one [`Group`](PerGroup::Group) value per group: what it does
/// with rows, states and results; [`VecGroups`] does the rest.
pub(crate) trait PerGroup: Send + 'static {
    /// One group's state.
    type Group: Clone + Send;

    /// The state of a group that has seen no row.
    fn empty(&self) -> Result<Self::Group>;

    /// Folds each row of `values` that passes `filter` into `groups[group_indices[row]]`;
    /// returns the change in heap bytes the groups hold (0 for fixed-size states).
    fn update(
        &self,
        groups: &mut [Self::Group],
        values: &[ArrayRef],
        group_indices: &[usize],
        filter: Option<&BooleanArray>,
    ) -> Result<isize>;

    /// Merges each row of the partial `states` into `groups[group_indices[row]]`; returns the
    /// change in heap bytes.
    fn merge(
        &self,
        groups: &mut [Self::Group],
        states: &[ArrayRef],
        group_indices: &[usize],
    ) -> Result<isize>;

    /// The results of `groups`, in order.
    fn evaluate(&self, groups: &[Self::Group]) -> Result<ArrayRef>;

    /// The partial states of `groups`, in order.
    fn state(&self, groups: &[Self::Group]) -> Result<Vec<ArrayRef>>;

    /// Heap bytes held by one group (for the size of the groups handed out).
    fn heap_size(&self, _group: &Self::Group) -> usize {
        0
    }

    /// Each row of `values` as its own partial state (rows the filter drops: an empty group's).
    /// Aggregates with a cheaper form override it.
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let rows = values.first().map_or(0, |v| v.len());
        let mut groups = vec![self.empty()?; rows];
        let indices: Vec<usize> = (0..rows).collect();
        self.update(&mut groups, values, &indices, filter)?;
        self.state(&groups)
    }
}

/// The [`GroupsAccumulator`] of a [`PerGroup`] aggregate: its groups in one `Vec`.
pub(crate) struct VecGroups<A: PerGroup> {
    aggregate: A,
    groups: Vec<A::Group>,
    /// Heap bytes held by the groups (kept up to date so `size` is O(1)).
    heap_bytes: usize,
}

impl<A: PerGroup> VecGroups<A> {
    /// The accumulator of `aggregate`, boxed for `create_groups_accumulator`.
    pub(crate) fn boxed(aggregate: A) -> Box<dyn GroupsAccumulator> {
        Box::new(Self {
            aggregate,
            groups: Vec::new(),
            heap_bytes: 0,
        })
    }

    fn grow(&mut self, total_num_groups: usize) -> Result<()> {
        if self.groups.len() < total_num_groups {
            let empty = self.aggregate.empty()?;
            self.groups.resize(total_num_groups, empty);
        }
        Ok(())
    }

    /// Takes the groups `emit_to` names, updating the heap count.
    fn take(&mut self, emit_to: EmitTo) -> Vec<A::Group> {
        let groups = emit_to.take_needed(&mut self.groups);
        let released: usize = groups.iter().map(|g| self.aggregate.heap_size(g)).sum();
        self.heap_bytes = self.heap_bytes.saturating_sub(released);
        groups
    }
}

impl<A: PerGroup> GroupsAccumulator for VecGroups<A> {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.grow(total_num_groups)?;
        let delta = self
            .aggregate
            .update(&mut self.groups, values, group_indices, opt_filter)?;
        self.heap_bytes = self.heap_bytes.saturating_add_signed(delta);
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = self.take(emit_to);
        self.aggregate.evaluate(&groups)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = self.take(emit_to);
        self.aggregate.state(&groups)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.grow(total_num_groups)?;
        let delta = self
            .aggregate
            .merge(&mut self.groups, values, group_indices)?;
        self.heap_bytes = self.heap_bytes.saturating_add_signed(delta);
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        self.aggregate.convert_to_state(values, opt_filter)
    }

    fn size(&self) -> usize {
        self.groups.capacity() * size_of::<A::Group>() + self.heap_bytes
    }
}

/// Writes the `accumulator` and `groups_accumulator_supported` methods of an `AggregateUDFImpl`
/// whose only accumulator is its `create_groups_accumulator` (see the [module docs](self)).
macro_rules! through_groups_accumulator {
    () => {
        fn accumulator(
            &self,
            args: ::datafusion::logical_expr::function::AccumulatorArgs,
        ) -> ::datafusion::common::Result<Box<dyn ::datafusion::logical_expr::Accumulator>> {
            $crate::groups::OneGroup::boxed(self.create_groups_accumulator(args.clone())?, &args)
        }

        fn groups_accumulator_supported(
            &self,
            _args: ::datafusion::logical_expr::function::AccumulatorArgs,
        ) -> bool {
            true
        }
    };
}
pub(crate) use through_groups_accumulator;
