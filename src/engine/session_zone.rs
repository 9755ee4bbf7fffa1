//! Calendar functions in the session's time zone, as PostgreSQL computes them.
//!
//! The lake stores instants (`timestamptz` columns are Arrow `Timestamp(µs, "UTC")`), and
//! DataFusion computes `date_trunc`, `date_part`/`extract`, `to_char` and casts to `date` in
//! the zone the *value's type* carries: UTC. PostgreSQL computes them in the session's
//! `TimeZone`, and every BI tool's time grain relies on it (an analyst in India wants days
//! that start at midnight in India). The pg server keeps `datafusion.execution.time_zone` equal
//! to the session's `TimeZone`; this analyzer rule then re-labels the zone of the timestamp
//! arguments of those calendar functions (a metadata-only cast: the instant is unchanged):
//!
//! | Expression over `ts timestamptz` | Computed as |
//! |---|---|
//! | `date_trunc(unit, ts)`, `date_bin(…, ts, …)` | in the session zone, the result labelled back with `ts`'s zone (same type, same instant) |
//! | `date_part(field, ts)`, `extract(field FROM ts)`, `to_char(ts, fmt)` | in the session zone |
//! | `ts::date`, `CAST(ts AS date)` | the session zone's calendar date |
//!
//! Without a zone (sessions of the engine used outside the pg server), or when the session's
//! zone is the value's zone, plans are left alone.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{Cast, Expr, ExprSchemable, LogicalPlan, TryCast};
use datafusion::optimizer::AnalyzerRule;

/// Functions whose answer depends on the zone of their timestamp argument.
const CALENDAR_FUNCTIONS: &[&str] = &["date_trunc", "date_bin", "date_part", "to_char"];

/// The analyzer rule of this module (see the module docs).
#[derive(Debug, Default)]
pub struct SessionZone;

impl AnalyzerRule for SessionZone {
    fn analyze(&self, plan: LogicalPlan, config: &ConfigOptions) -> Result<LogicalPlan> {
        let Some(zone) = config.execution.time_zone.clone() else {
            return Ok(plan);
        };
        let zone: Arc<str> = Arc::from(zone.as_str());
        plan.transform_up_with_subqueries(|node| {
            let schema = match node.inputs().as_slice() {
                [] => node.schema().as_ref().clone(),
                inputs => merge_schema(inputs),
            };
            node.map_expressions(|expr| expr.transform_up(|e| in_session_zone(e, &schema, &zone)))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "chatlake_session_zone"
    }
}

/// Whether two zone names name the same zone as far as calendars go (UTC spellings).
fn same_zone(a: &str, b: &str) -> bool {
    let utc = |z: &str| matches!(z, "UTC" | "+00:00" | "Z" | "Etc/UTC" | "+00");
    a == b || (utc(a) && utc(b))
}

/// `expr` relabelled to `zone` when it is a timestamp of another zone.
fn relabel(expr: Expr, schema: &DFSchema, zone: &Arc<str>) -> (Expr, Option<DataType>) {
    match expr.get_type(schema) {
        Ok(DataType::Timestamp(unit, Some(tz))) if !same_zone(&tz, zone) => {
            let original = DataType::Timestamp(unit, Some(tz));
            let relabelled = Expr::Cast(Cast::new(
                Box::new(expr),
                DataType::Timestamp(unit, Some(zone.clone())),
            ));
            (relabelled, Some(original))
        }
        _ => (expr, None),
    }
}

fn in_session_zone(expr: Expr, schema: &DFSchema, zone: &Arc<str>) -> Result<Transformed<Expr>> {
    match expr {
        Expr::ScalarFunction(ScalarFunction { func, args })
            if CALENDAR_FUNCTIONS.contains(&func.name()) =>
        {
            let mut changed: Option<DataType> = None;
            let args = args
                .into_iter()
                .map(|arg| {
                    let (arg, original) = relabel(arg, schema, zone);
                    changed = changed.take().or(original);
                    arg
                })
                .collect();
            let call = Expr::ScalarFunction(ScalarFunction { func, args });
            let Some(original) = changed else {
                return Ok(Transformed::no(call));
            };
            // A timestamp result (date_trunc, date_bin) keeps the type the plan expects.
            let result = match call.get_type(schema) {
                Ok(DataType::Timestamp(_, Some(_))) => {
                    Expr::Cast(Cast::new(Box::new(call), original))
                }
                _ => call,
            };
            Ok(Transformed::yes(result))
        }
        Expr::Cast(Cast { expr, field }) if is_date(field.data_type()) => {
            let (inner, original) = relabel(*expr, schema, zone);
            let cast = Expr::Cast(Cast::new_from_field(Box::new(inner), field));
            Ok(changed_if(cast, original.is_some()))
        }
        Expr::TryCast(TryCast { expr, field }) if is_date(field.data_type()) => {
            let (inner, original) = relabel(*expr, schema, zone);
            let cast = Expr::TryCast(TryCast::new_from_field(Box::new(inner), field));
            Ok(changed_if(cast, original.is_some()))
        }
        other => Ok(Transformed::no(other)),
    }
}

fn is_date(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Date32 | DataType::Date64)
}

fn changed_if(expr: Expr, changed: bool) -> Transformed<Expr> {
    if changed {
        Transformed::yes(expr)
    } else {
        Transformed::no(expr)
    }
}
