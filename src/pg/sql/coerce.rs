//! Literal typing DataFusion does differently from PostgreSQL, fixed before its type coercion.
//!
//! PostgreSQL gives a quoted literal no type until its context does: `indisprimary = 'f'`
//! compares a boolean with the boolean `false` (SQLAlchemy 1.4 writes exactly that). DataFusion
//! types the literal as text and cannot compare it with a boolean. [`BooleanLiterals`] reads such
//! literals as booleans, with PostgreSQL's spellings (`t`, `true`, `yes`, `on`, `1`, … any case),
//! in comparisons (`=`, `<>`, `<`, …, `IS [NOT] DISTINCT FROM`) and `IN` lists. A literal that
//! is no boolean is an error, as in PostgreSQL (`22P02`).

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::InList;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator};
use datafusion::optimizer::AnalyzerRule;
use datafusion::prelude::SessionContext;

use crate::pg::error::InvalidBoolean;

/// Installs [`BooleanLiterals`] on `ctx`, ahead of DataFusion's type coercion, and
/// [`super::timestamp_text`] after it.
pub(crate) fn install(ctx: &SessionContext) {
    super::timestamp_text::install(ctx);
    let state = ctx.state_ref();
    let mut state = state.write();
    let mut rules = state.analyzer().rules.clone();
    if rules.iter().any(|r| r.name() == BooleanLiterals.name()) {
        return;
    }
    let at = rules
        .iter()
        .position(|r| r.name() == "type_coercion")
        .unwrap_or(0);
    rules.insert(at, Arc::new(BooleanLiterals));
    let rebuilt =
        datafusion::execution::session_state::SessionStateBuilder::new_from_existing(state.clone())
            .with_analyzer_rules(rules)
            .build();
    *state = rebuilt;
}

/// Reads text literals compared with booleans as booleans (see the module documentation).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct BooleanLiterals;

impl AnalyzerRule for BooleanLiterals {
    fn name(&self) -> &str {
        "pg_boolean_literals"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| {
            let mut schema = merge_schema(&node.inputs());
            if let LogicalPlan::TableScan(scan) = &node
                && let Ok(source) = DFSchema::try_from_qualified_schema(
                    scan.table_name.clone(),
                    &scan.source.schema(),
                )
            {
                schema.merge(&source);
            }
            node.map_expressions(|expr| expr.transform_up(|e| retype(e, &schema)))
        })
        .map(|t| t.data)
    }
}

/// `=`, `<>`, `<`, `<=`, `>`, `>=`, `IS [NOT] DISTINCT FROM`.
fn is_comparison(op: Operator) -> bool {
    matches!(
        op,
        Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom
    )
}

/// One expression with its boolean-compared text literals read as booleans.
fn retype(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let is_bool = |e: &Expr| matches!(e.get_type(schema), Ok(DataType::Boolean));
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) if is_comparison(op) => {
            if is_bool(&left) && text_literal(&right).is_some() {
                let right = Box::new(boolean(&right)?);
                return Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr {
                    left,
                    op,
                    right,
                })));
            }
            if is_bool(&right) && text_literal(&left).is_some() {
                let left = Box::new(boolean(&left)?);
                return Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr {
                    left,
                    op,
                    right,
                })));
            }
            Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr {
                left,
                op,
                right,
            })))
        }
        Expr::InList(InList {
            expr,
            list,
            negated,
        }) if is_bool(&expr) && list.iter().any(|e| text_literal(e).is_some()) => {
            let list = list
                .iter()
                .map(|e| match text_literal(e) {
                    Some(_) => boolean(e),
                    None => Ok(e.clone()),
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Transformed::yes(Expr::InList(InList {
                expr,
                list,
                negated,
            })))
        }
        other => Ok(Transformed::no(other)),
    }
}

/// The text of a string literal (`None`: not one, or NULL).
fn text_literal(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
            _,
        ) => Some(s),
        _ => None,
    }
}

/// The boolean literal a text literal spells (PostgreSQL's `boolin`: `t`/`true`/`yes`/`on`/`1`
/// and their opposites, case-insensitive, unambiguous prefixes of the words, surrounding
/// blanks ignored).
fn boolean(expr: &Expr) -> Result<Expr> {
    let text = text_literal(expr).unwrap_or_default();
    match parse_bool(text) {
        Some(value) => Ok(Expr::Literal(ScalarValue::Boolean(Some(value)), None)),
        None => Err(datafusion::common::DataFusionError::External(Box::new(
            InvalidBoolean(text.to_string()),
        ))),
    }
}

/// PostgreSQL's boolean input: `true`, `yes`, `on`, `1` (and `false`, `no`, `off`, `0`), any
/// case, a unique prefix of the word (`t`, `tr`, `y`, `n`, `of`; `o` is ambiguous).
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    let word = text.trim().to_ascii_lowercase();
    if word.is_empty() {
        return None;
    }
    let prefix_of = |full: &str, min: usize| word.len() >= min && full.starts_with(&word);
    if prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) || word == "1" {
        Some(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || word == "0" {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_boolean_spellings() {
        for t in ["t", "TRUE", " yes ", "on", "1", "tr", "y"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["f", "false", "No", "off", "0", "of", "n"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for bad in ["", "o", "2", "truth", "nope", "yess"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn text_literals_compare_with_booleans() -> Result<()> {
        let ctx = SessionContext::new();
        install(&ctx);
        ctx.sql("CREATE TABLE t (b BOOLEAN, s VARCHAR) AS VALUES (true, 'f'), (false, 'x')")
            .await?
            .collect()
            .await?;
        let count = |sql: &'static str| {
            let ctx = ctx.clone();
            async move {
                let batches = ctx.sql(sql).await?.collect().await?;
                Ok::<usize, datafusion::error::DataFusionError>(
                    batches.iter().map(|b| b.num_rows()).sum(),
                )
            }
        };
        assert_eq!(count("SELECT * FROM t WHERE b = 'f'").await?, 1);
        assert_eq!(count("SELECT * FROM t WHERE 'true' = b").await?, 1);
        assert_eq!(count("SELECT * FROM t WHERE b IN ('t', 'no')").await?, 2);
        assert_eq!(count("SELECT * FROM t WHERE b <> 'yes'").await?, 1);
        // Text columns keep comparing as text.
        assert_eq!(count("SELECT * FROM t WHERE s = 'f'").await?, 1);
        let error = count("SELECT * FROM t WHERE b = 'maybe'")
            .await
            .expect_err("'maybe' is no boolean");
        assert!(
            error
                .to_string()
                .contains("invalid input syntax for type boolean: \"maybe\""),
            "{error}"
        );
        Ok(())
    }
}
