//! Timestamps cast to text print as PostgreSQL prints them.
//!
//! DataFusion casts a timestamp to text in ISO 8601 form, `2026-10-02T01:45:30+05:30`, in the
//! zone of the value's type (UTC for the lake's columns). PostgreSQL prints
//! `2026-10-02 01:45:30+05:30` in the session's `TimeZone`, as results are printed. The
//! analyzer rule [`TimestampText`] (after type coercion, so implicit casts count too) replaces
//! every cast of a timestamp to a string type with [`PgTimestampText`]:
//!
//! | Expression | PostgreSQL's text |
//! |---|---|
//! | `ts::text`, `CAST(ts AS varchar)` over `timestamptz` | `2026-10-02 01:45:30.5+05:30`: the session zone, the offset as `+05:30` / `-05` / `+00`, fraction only when not zero |
//! | the same over `timestamp` (no zone) | `2026-10-02 01:45:30` |

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use bytes::BytesMut;
use chrono_tz::Tz;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{
    Cast, ColumnarValue, Documentation, Expr, ExprSchemable, LogicalPlan, ScalarFunctionArgs,
    ScalarUDF, ScalarUDFImpl, Signature, TryCast, Volatility,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::prelude::SessionContext;

use crate::pg::session::parse_time_zone;
use crate::pg::wire::format::{timestamp_text, timestamptz_text};

/// Registers [`PgTimestampText`] and appends [`TimestampText`] to `ctx`'s analyzer rules.
pub(crate) fn install(ctx: &SessionContext) {
    let udf = Arc::new(ScalarUDF::from(PgTimestampText::new()));
    ctx.register_udf(udf.as_ref().clone());
    ctx.add_analyzer_rule(Arc::new(TimestampText { udf }));
}

/// Replaces casts of timestamps to text (see the module docs).
#[derive(Debug)]
pub(crate) struct TimestampText {
    udf: Arc<ScalarUDF>,
}

impl AnalyzerRule for TimestampText {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| {
            let schema = match node.inputs().as_slice() {
                [] => node.schema().as_ref().clone(),
                inputs => merge_schema(inputs),
            };
            node.map_expressions(|expr| expr.transform_up(|e| self.rewrite(e, &schema)))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "chatlake_timestamp_text"
    }
}

impl TimestampText {
    fn rewrite(&self, expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
        let (inner, target) = match &expr {
            Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) => {
                (expr.as_ref(), field.data_type().clone())
            }
            _ => return Ok(Transformed::no(expr)),
        };
        let is_text = matches!(
            target,
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
        );
        if !is_text || !matches!(inner.get_type(schema), Ok(DataType::Timestamp(..))) {
            return Ok(Transformed::no(expr));
        }
        let call = Expr::ScalarFunction(ScalarFunction::new_udf(
            self.udf.clone(),
            vec![inner.clone()],
        ));
        Ok(Transformed::yes(if target == DataType::Utf8 {
            call
        } else {
            Expr::Cast(Cast::new(Box::new(call), target))
        }))
    }
}

/// `_pg_timestamp_text(ts)`: a timestamp as PostgreSQL's text output (see the module docs).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct PgTimestampText {
    signature: Signature,
    documentation: Documentation,
}

impl PgTimestampText {
    fn new() -> Self {
        PgTimestampText {
            signature: Signature::any(1, Volatility::Stable),
            documentation: Documentation::builder(
                crate::pg::catalog::functions::SECTION,
                "A timestamp as PostgreSQL prints it: a space before the time, a timestamptz in the session's TimeZone with its offset. What ts::text runs.",
                "_pg_timestamp_text(ts)",
            )
            .with_sql_example(
                "```sql\nSET TimeZone = 'Asia/Kolkata';\nSELECT TIMESTAMPTZ '2026-10-01 20:15:30+00'::text;\n-- 2026-10-02 01:45:30+05:30\n```",
            )
            .build(),
        }
    }
}

impl ScalarUDFImpl for PgTimestampText {
    fn name(&self) -> &str {
        "_pg_timestamp_text"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args.first(), Some(ColumnarValue::Scalar(_)));
        let values = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(values) = values.first() else {
            return Err(DataFusionError::Plan(
                "_pg_timestamp_text() takes one timestamp".into(),
            ));
        };
        let zone = match values.data_type() {
            DataType::Timestamp(_, None) => None,
            DataType::Timestamp(_, Some(_)) => Some(
                args.config_options
                    .execution
                    .time_zone
                    .as_deref()
                    .and_then(parse_time_zone)
                    .unwrap_or(Tz::UTC),
            ),
            other => {
                return Err(DataFusionError::Plan(format!(
                    "_pg_timestamp_text() takes a timestamp, not {other}"
                )));
            }
        };
        let micros = cast(
            values,
            &DataType::Timestamp(TimeUnit::Microsecond, zone.map(|_| Arc::from("UTC"))),
        )?;
        let micros = micros.as_primitive::<TimestampMicrosecondType>();
        let mut out = StringBuilder::with_capacity(micros.len(), micros.len() * 32);
        let mut text = BytesMut::with_capacity(40);
        for value in micros.iter() {
            let Some(value) = value else {
                out.append_null();
                continue;
            };
            text.clear();
            match &zone {
                Some(zone) => timestamptz_text(value, zone, &mut text),
                None => timestamp_text(value, &mut text),
            }
            .map_err(DataFusionError::Execution)?;
            out.append_value(String::from_utf8_lossy(&text));
        }
        let result: ArrayRef = Arc::new(out.finish());
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?)
        } else {
            ColumnarValue::Array(result)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.documentation)
    }
}
