//! [`ReportFunction`]: a report as a table function. A call's arguments are folded to constants
//! and checked when the query is planned; the report's SQL is planned with their literals when
//! the call is scanned (lets evaluated, the channel's zone looked up), and runs sealed in a
//! [`ReportExec`] so the outer query's optimiser leaves it alone.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use arrow::array::{Array as _, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Schema, SchemaRef};
use async_trait::async_trait;
use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DFSchema, ScalarValue, plan_datafusion_err, plan_err};
use datafusion::dataframe::DataFrame;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::SessionState;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{Expr, LogicalPlan, TableType};
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::ExecutionPlanProperties;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
    displayable,
};
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use super::substitute::{
    as_date, as_text, check_range, check_zone, date_value, literal_values, sql_literal, substitute,
};
use super::{LetDef, PARAM_ERROR_PREFIX, ParamDef, ReportDef};

/// The table function of one report (registered on every session).
#[derive(Debug)]
pub struct ReportFunction {
    report: Arc<ReportDef>,
}

impl ReportFunction {
    /// The function of `report`.
    pub fn new(report: Arc<ReportDef>) -> Self {
        ReportFunction { report }
    }
}

impl TableFunctionImpl for ReportFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> DfResult<Arc<dyn TableProvider>> {
        let report = &self.report;
        let exprs = args.exprs();
        if exprs.len() > report.params.len() {
            return plan_err!(
                "{PARAM_ERROR_PREFIX}: {} takes at most {} arguments, got {}: {}",
                report.name,
                report.params.len(),
                exprs.len(),
                report.signature()
            );
        }
        let props = args.session().execution_props();
        let context = SimplifyContext::builder()
            .with_schema(Arc::new(DFSchema::empty()))
            .with_query_execution_start_time(
                props
                    .query_execution_start_time
                    .or_else(|| Some(Utc::now())),
            )
            .build();
        let simplifier = ExprSimplifier::new(context);
        let mut values = Vec::with_capacity(report.params.len());
        for (i, param) in report.params.iter().enumerate() {
            let value = match exprs.get(i) {
                None => ScalarValue::try_from(&param.ty.data_type())?,
                Some(expr) => constant(&simplifier, expr, param, &report.name)?,
            };
            let value = if value.is_null() {
                param.default.clone()
            } else {
                value
            };
            if param.required && value.is_null() {
                return plan_err!(
                    "{PARAM_ERROR_PREFIX}: {} needs a non-NULL {}: {}",
                    report.name,
                    param.name,
                    report.signature()
                );
            }
            values.push(value);
        }
        // Explicit bounds are checked now, so a bad call fails before any planning.
        if let (Some(f), Some(t)) = (report.param("from_date"), report.param("to_date"))
            && let (Some(from), Some(to)) = (as_date(&values[f]), as_date(&values[t]))
        {
            check_range(from, to)?;
        }
        if let Some(tz) = report.param("tz").and_then(|i| as_text(&values[i])) {
            check_zone(tz)?;
        }
        // DataFusion names every call's scan `name()` and compares scans without their provider,
        // so two calls with different arguments in one query would be merged as one common
        // subexpression. The arguments in the schema metadata make the scans differ.
        let call = values
            .iter()
            .map(|v| format!("{v:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let metadata = HashMap::from([(format!("chatlake.report.{}", report.name), call)]);
        let schema = Arc::new(Schema::new_with_metadata(
            report.schema.fields().clone(),
            metadata,
        ));
        Ok(Arc::new(ReportTable {
            report: report.clone(),
            args: values,
            schema,
        }))
    }
}

fn constant(
    simplifier: &ExprSimplifier,
    expr: &Expr,
    param: &ParamDef,
    report: &str,
) -> DfResult<ScalarValue> {
    let bad = |why: String| {
        plan_datafusion_err!(
            "{PARAM_ERROR_PREFIX}: {report} argument {} ({} {}): {why}",
            param.name,
            param.name,
            param.ty.pg_name()
        )
    };
    let coerced = simplifier
        .coerce(expr.clone(), &DFSchema::empty())
        .map_err(|e| bad(e.strip_backtrace()))?;
    let folded = simplifier
        .simplify(coerced)
        .map_err(|e| bad(e.strip_backtrace()))?;
    let Expr::Literal(value, _) = folded else {
        return Err(bad(format!("must be a constant, not {expr}")));
    };
    if value.is_null() {
        return ScalarValue::try_from(&param.ty.data_type());
    }
    value.cast_to(&param.ty.data_type()).map_err(|e| {
        bad(format!(
            "cannot read {value} as {}: {}",
            param.ty.pg_name(),
            e.strip_backtrace()
        ))
    })
}

/// One call of a report: planned when the query is executed (so the channel's zone can be looked up).
#[derive(Debug)]
struct ReportTable {
    report: Arc<ReportDef>,
    args: Vec<ScalarValue>,
    /// The report's schema, with this call's arguments as metadata.
    schema: SchemaRef,
}

/// One report call as the result cache sees it: what it reads and what decides its answer.
#[derive(Debug)]
pub struct ReportCall<'a> {
    table: &'a ReportTable,
}

impl<'a> ReportCall<'a> {
    /// The report call behind `provider` (the provider of a report function's scan), if it is one.
    pub fn of(provider: &'a dyn TableProvider) -> Option<ReportCall<'a>> {
        provider
            .downcast_ref::<ReportTable>()
            .map(|table| ReportCall { table })
    }

    /// The report's name.
    pub fn name(&self) -> &str {
        &self.table.report.name
    }

    /// The plans whose tables this call reads and whose functions it calls: the body and the
    /// lets (planned at start-up), and the channel-zone lookup when the call consults it.
    pub fn reads(&self) -> Vec<&'a LogicalPlan> {
        let report = &self.table.report;
        let mut plans: Vec<&LogicalPlan> = report.reads.iter().collect();
        if let Some(zone) = &report.zone_reads
            && self.consults_zone()
        {
            plans.push(zone);
        }
        plans
    }

    /// Whether this call looks its zone up from its channel (no `tz` given, a `channel_id` given).
    fn consults_zone(&self) -> bool {
        let report = &self.table.report;
        let given = |name: &str| {
            report
                .param(name)
                .and_then(|i| as_text(&self.table.args[i]))
                .is_some()
        };
        report.has_range() && !given("tz") && given("channel_id")
    }

    /// The call with every parameter resolved as it would run now (default range from today in
    /// its zone, the channel's zone looked up): `name(param = literal, ...)`, parameters in
    /// name order. With the versions of the tables of [`ReportCall::reads`], it decides the
    /// answer (lets are computed from exactly these).
    pub async fn resolved(&self, state: &SessionState) -> DfResult<String> {
        let literals = self.table.literals(state).await?;
        let mut pairs: Vec<(String, String)> = literals.into_iter().collect();
        pairs.sort();
        let args: Vec<String> = pairs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        Ok(format!("{}({})", self.name(), args.join(", ")))
    }
}

impl ReportTable {
    /// The SQL of this call, with every parameter replaced by a literal.
    async fn resolved_sql(&self, state: &SessionState) -> DfResult<String> {
        let mut values = self.literals(state).await?;
        evaluate_lets(&self.report, state, &mut values).await?;
        Ok(substitute(&self.report.sql, &values))
    }

    /// The literal of every parameter of this call (the range and zone resolved).
    async fn literals(&self, state: &SessionState) -> DfResult<HashMap<String, String>> {
        let report = &self.report;
        let mut args = self.args.clone();
        if !report.has_range() {
            return Ok(literal_values(
                report,
                &args,
                NaiveDate::default(),
                NaiveDate::default(),
                "UTC",
            ));
        }
        let explicit_tz = report
            .param("tz")
            .and_then(|i| as_text(&args[i]).map(str::to_string));
        let tz = match explicit_tz {
            Some(tz) => tz,
            None => {
                let channel = report
                    .param("channel_id")
                    .and_then(|i| as_text(&args[i]).map(str::to_string));
                match channel {
                    Some(channel) => channel_zone(state, &channel)
                        .await?
                        .unwrap_or_else(|| "UTC".to_string()),
                    None => "UTC".to_string(),
                }
            }
        };
        check_zone(&tz)?;
        let zone = chrono_tz::Tz::from_str(&tz)
            .map_err(|_| plan_datafusion_err!("{PARAM_ERROR_PREFIX}: unknown time zone '{tz}'"))?;
        let now: DateTime<Utc> = state
            .execution_props()
            .query_execution_start_time
            .unwrap_or_else(Utc::now);
        let today = now.with_timezone(&zone).date_naive();
        let (fi, ti) = match (report.param("from_date"), report.param("to_date")) {
            (Some(f), Some(t)) => (f, t),
            _ => return plan_err!("internal: range report without from_date/to_date"),
        };
        let to = as_date(&args[ti]).unwrap_or(today);
        let from = as_date(&args[fi]).unwrap_or_else(|| to.with_day0(0).unwrap_or(to));
        check_range(from, to)?;
        args[fi] = date_value(from);
        args[ti] = date_value(to);
        if let Some(i) = report.param("tz") {
            args[i] = ScalarValue::Utf8(Some(tz.clone()));
        }
        Ok(literal_values(report, &args, from, to, &tz))
    }
}

/// The query of a channel's zone (see [`channel_zone`]).
pub(super) fn zone_sql(channel: &str) -> String {
    format!(
        "SELECT COALESCE(c.tz, t.tz) AS tz FROM channels c LEFT JOIN tenants t \
         ON t.tenant_id = c.tenant_id WHERE c.channel_id = {} LIMIT 1",
        sql_literal(&ScalarValue::Utf8(Some(channel.to_string())))
    )
}

/// The zone of a channel: `channels.tz`, else its tenant's `tz`; `None` for an unknown channel.
async fn channel_zone(state: &SessionState, channel: &str) -> DfResult<Option<String>> {
    let ctx = SessionContext::new_with_state(state.clone());
    let batches = ctx.sql(&zone_sql(channel)).await?.collect().await?;
    for batch in batches {
        if batch.num_rows() > 0 {
            let column = arrow::compute::cast(batch.column(0), &DataType::Utf8)?;
            let strings = column
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .ok_or_else(|| DataFusionError::Internal("zone is not a string".into()))?;
            if strings.is_valid(0) {
                return Ok(Some(strings.value(0).to_string()));
            }
        }
    }
    Ok(None)
}

#[async_trait]
impl TableProvider for ReportTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let caller = state
            .as_any()
            .downcast_ref::<SessionState>()
            .ok_or_else(|| {
                DataFusionError::Internal("report scan outside a SessionState".into())
            })?;
        // A report's answer does not depend on the caller's TimeZone: its local-time logic
        // takes the zone as a parameter ($tz), and its other calendar arithmetic is UTC's
        // (crate::engine::session_zone applies to the caller's own SQL only).
        let mut state = caller.clone();
        state.config_mut().options_mut().execution.time_zone = None;
        let state = &state;
        let sql = self.resolved_sql(state).await?;
        let plan = state.create_logical_plan(&sql).await.map_err(|e| {
            DataFusionError::Plan(format!(
                "report {} ({}): {}",
                self.report.name,
                self.report.origin,
                e.strip_backtrace()
            ))
        })?;
        let mut df = DataFrame::new(state.clone(), plan);
        if let Some(projection) = projection {
            let schema = self.report.schema.clone();
            let names: Vec<&str> = projection
                .iter()
                .map(|&i| schema.field(i).name().as_str())
                .collect();
            df = df.select_columns(&names)?;
        }
        let inner = df.create_physical_plan().await?;
        let schema = match projection {
            Some(projection) => Arc::new(self.schema.project(projection)?),
            None => self.schema.clone(),
        };
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            inner.output_partitioning().clone(),
            inner.pipeline_behavior(),
            inner.boundedness(),
        ));
        Ok(Arc::new(ReportExec {
            name: self.report.name.clone(),
            inner,
            schema,
            properties,
        }))
    }
}

/// The already optimised plan of one report call, sealed: the outer query's optimiser passes
/// treat it as a leaf, so they do not run a second time over the report's own joins (DataFusion
/// refuses to swap hash-join inputs once their dynamic filters exist).
#[derive(Debug)]
struct ReportExec {
    name: String,
    inner: Arc<dyn ExecutionPlan>,
    /// The provider's (projected) schema: the inner plan's, with the call's metadata.
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl DisplayAs for ReportExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match t {
            DisplayFormatType::TreeRender => write!(f, "report={}", self.name),
            _ => {
                writeln!(f, "ReportExec: report={}", self.name)?;
                write!(f, "{}", displayable(self.inner.as_ref()).indent(true))
            }
        }
    }
}

impl ExecutionPlan for ReportExec {
    fn name(&self) -> &str {
        "ReportExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            plan_err!("ReportExec has no children")
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let schema = self.schema.clone();
        let stream = self.inner.execute(partition, context)?;
        let tagged = schema.clone();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            stream.map(move |batch| {
                batch.and_then(|b| {
                    // The optimiser may settle on another string flavour (Utf8View) than the
                    // start-up plan: cast to the declared type where they differ.
                    let columns = b
                        .columns()
                        .iter()
                        .zip(tagged.fields())
                        .map(|(c, f)| {
                            if c.data_type() == f.data_type() {
                                Ok(c.clone())
                            } else {
                                arrow::compute::cast(c, f.data_type())
                            }
                        })
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| DataFusionError::ArrowError(Box::new(e), None))?;
                    let options = RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
                    RecordBatch::try_new_with_options(tagged.clone(), columns, &options)
                        .map_err(|e| DataFusionError::ArrowError(Box::new(e), None))
                })
            }),
        )))
    }
}

/// Runs each let of `report` in order with `values` substituted, adding its answer to `values`.
async fn evaluate_lets(
    report: &ReportDef,
    state: &SessionState,
    values: &mut HashMap<String, String>,
) -> DfResult<()> {
    let ctx = SessionContext::new_with_state(state.clone());
    for def in &report.lets {
        let failed = |e: DataFusionError| {
            DataFusionError::Plan(format!(
                "report {} ({}), let {}: {}",
                report.name,
                report.origin,
                def.name,
                e.message()
            ))
        };
        let batches = ctx
            .sql(&substitute(&def.sql, values))
            .await
            .map_err(failed)?
            .collect()
            .await
            .map_err(failed)?;
        let value = scalar_answer(&batches, def).map_err(failed)?;
        values.insert(def.name.clone(), sql_literal(&value));
    }
    Ok(())
}

/// The one value of a let's answer, cast to its type; a typed NULL when there is no row.
fn scalar_answer(batches: &[RecordBatch], def: &LetDef) -> DfResult<ScalarValue> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if rows > 1 {
        return plan_err!("the query returned {rows} rows; a let takes at most one");
    }
    let Some(batch) = batches.iter().find(|b| b.num_rows() == 1) else {
        return ScalarValue::try_from(&def.ty.data_type());
    };
    if batch.num_columns() != 1 {
        return plan_err!(
            "the query returned {} columns; a let takes one",
            batch.num_columns()
        );
    }
    ScalarValue::try_from_array(batch.column(0), 0)?
        .cast_to(&def.ty.data_type())
        .map_err(|e| {
            plan_datafusion_err!(
                "cannot read the answer as {}: {}",
                def.ty.pg_name(),
                e.message()
            )
        })
}
