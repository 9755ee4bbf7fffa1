//! [`TenantGuardExec`]: the top of a tenant-filtered scan, which the query's own filters and
//! expressions cannot be pushed below.
//!
//! DataFusion's physical optimiser pushes filters and projections down the plan, through
//! `FilterExec`, into the Parquet scan, where they would be evaluated on every row read, other
//! tenants' rows included (an error there is a side channel: see `scoped.rs`). The guard passes
//! its child's rows on unchanged and
//!
//! | optimisation | through the guard |
//! |---|---|
//! | filter push-down, first phase (the query's `WHERE`, join `ON` filters) | refused: they run above, on the tenant's rows |
//! | filter push-down, second phase (dynamic filters DataFusion builds from join build sides, `TopK`) | let through when every filter is a `DynamicFilterPhysicalExpr` (bounds and hash look-ups over the data already filtered: they cannot fail) |
//! | projection push-down (expressions computed in the scan) | refused (the default of `ExecutionPlan`) |
//! | statistics | its child's, made inexact: the join planner can size inputs, but no answer (`count(*)`, `min`, `max`) is ever taken from statistics that count other tenants' rows; they are never shown to a tenant-limited session (`EXPLAIN VERBOSE`, `ANALYZE` and statistics are refused there) |
//!
//! Ordering and partitioning are its child's.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Statistics, plan_err};
use datafusion::error::Result as DfResult;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::DynamicFilterPhysicalExpr;
use datafusion::physical_plan::filter_pushdown::{
    ChildFilterDescription, FilterDescription, FilterPushdownPhase,
};
use datafusion::physical_plan::statistics::{ChildStats, StatisticsArgs};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};

/// The top of a tenant-filtered scan (see the module docs).
#[derive(Debug)]
pub struct TenantGuardExec {
    input: Arc<dyn ExecutionPlan>,
}

impl TenantGuardExec {
    /// A guard over `input` (the filtered scan).
    pub fn new(input: Arc<dyn ExecutionPlan>) -> Self {
        TenantGuardExec { input }
    }
}

impl DisplayAs for TenantGuardExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "TenantGuardExec")
    }
}

impl ExecutionPlan for TenantGuardExec {
    fn name(&self) -> &str {
        "TenantGuardExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        match (children.pop(), children.is_empty()) {
            (Some(input), true) => Ok(Arc::new(TenantGuardExec::new(input))),
            _ => plan_err!("TenantGuardExec takes exactly one child"),
        }
    }

    fn child_stats_requests(&self, partition: Option<usize>) -> Vec<ChildStats> {
        vec![ChildStats::At(partition)]
    }

    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> DfResult<Arc<Statistics>> {
        match input_stats {
            [child] => Ok(Arc::new(child.as_ref().clone().to_inexact())),
            _ => Ok(Arc::new(Statistics::new_unknown(&self.schema()))),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        self.input.execute(partition, context)
    }

    fn gather_filters_for_pushdown(
        &self,
        phase: FilterPushdownPhase,
        parent_filters: Vec<Arc<dyn PhysicalExpr>>,
        _config: &ConfigOptions,
    ) -> DfResult<FilterDescription> {
        let dynamic_only = parent_filters
            .iter()
            .all(|f| f.downcast_ref::<DynamicFilterPhysicalExpr>().is_some());
        if phase == FilterPushdownPhase::Post && dynamic_only {
            let child = ChildFilterDescription::from_child(&parent_filters, &self.input)?;
            return Ok(FilterDescription::new().with_child(child));
        }
        Ok(FilterDescription::all_unsupported(
            &parent_filters,
            &self.children(),
        ))
    }
}
