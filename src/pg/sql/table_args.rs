//! Parameters in table-function arguments: `SELECT * FROM stella_users($1, $2)` over the
//! extended protocol.
//!
//! DataFusion calls a table function while planning, with constant arguments, so a statement
//! whose table-function arguments hold placeholders cannot be planned once at `Parse`:
//!
//! | Step | What happens |
//! |---|---|
//! | `Parse` | those placeholders are typed from the function's declaration (a report's `date`/`text`/`bigint`/`boolean` parameters; `bigint` for `generate_series`; `text` for other table functions) unless the client declared a type; the statement is planned with typed NULLs in their place (or, if the function refuses NULL, sample values: today, `''`, `0`, `false`) for its result columns and the other placeholders' types |
//! | `Execute` | the bound values are written into the table-function arguments as literals and the statement is planned again, then run with the other values bound as usual |

use std::ops::ControlFlow;
use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    Expr as SqlExpr, FunctionArg, FunctionArgExpr, TableFactor, Value, Visit, VisitMut, Visitor,
    VisitorMut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::engine::reports::{ParamType as ReportParam, ReportDef};

/// A placeholder found in a table-function argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableArg {
    /// Its number (`$3` → 3).
    pub number: usize,
    /// The table function's name (lower case, unqualified).
    pub function: String,
    /// The report parameter it is passed as, if the function is a report.
    pub report_param: Option<ReportParam>,
}

/// The placeholders inside the arguments of table functions in `statement`.
pub(crate) fn find(statement: &DfStatement, reports: &[Arc<ReportDef>]) -> Vec<TableArg> {
    struct Finder<'a> {
        reports: &'a [Arc<ReportDef>],
        found: Vec<TableArg>,
    }
    impl Visitor for Finder<'_> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            let TableFactor::Table {
                name,
                args: Some(args),
                ..
            } = factor
            else {
                return ControlFlow::Continue(());
            };
            let function = name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(|i| i.value.to_ascii_lowercase())
                .unwrap_or_default();
            let report = self.reports.iter().find(|r| r.name == function);
            for (position, arg) in args.args.iter().enumerate() {
                let expr = match arg {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
                    | FunctionArg::Named {
                        arg: FunctionArgExpr::Expr(e),
                        ..
                    }
                    | FunctionArg::ExprNamed {
                        arg: FunctionArgExpr::Expr(e),
                        ..
                    } => e,
                    _ => continue,
                };
                let report_param = report.and_then(|r| r.params.get(position)).map(|p| p.ty);
                for number in placeholders(expr) {
                    self.found.push(TableArg {
                        number,
                        function: function.clone(),
                        report_param,
                    });
                }
            }
            ControlFlow::Continue(())
        }
    }
    let DfStatement::Statement(sql) = statement else {
        return Vec::new();
    };
    let mut finder = Finder {
        reports,
        found: Vec::new(),
    };
    let _ = sql.visit(&mut finder);
    finder.found
}

/// The numbers of the placeholders in `expr`.
fn placeholders(expr: &SqlExpr) -> Vec<usize> {
    struct Numbers(Vec<usize>);
    impl Visitor for Numbers {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &SqlExpr) -> ControlFlow<()> {
            if let SqlExpr::Value(v) = expr
                && let Value::Placeholder(id) = &v.value
                && let Some(n) = id.strip_prefix('$').and_then(|n| n.parse().ok())
            {
                self.0.push(n);
            }
            ControlFlow::Continue(())
        }
    }
    let mut numbers = Numbers(Vec::new());
    let _ = expr.visit(&mut numbers);
    numbers.0
}

/// The Arrow type a table-function placeholder is read as: the report parameter's type;
/// `bigint` for `generate_series` and `range`; else `text`.
pub(crate) fn data_type(arg: &TableArg) -> DataType {
    match arg.report_param {
        Some(param) => param.data_type(),
        None if matches!(arg.function.as_str(), "generate_series" | "range") => DataType::Int64,
        None => DataType::Utf8,
    }
}

/// `statement` with the placeholders `args` replaced by what `value` gives for each number
/// (`None`: left alone).
pub(crate) fn substitute(
    statement: &DfStatement,
    value: impl Fn(usize) -> Option<SqlExpr>,
) -> DfStatement {
    struct Replace<F>(F);
    impl<F: Fn(usize) -> Option<SqlExpr>> VisitorMut for Replace<F> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table {
                args: Some(args), ..
            } = factor
            {
                for arg in &mut args.args {
                    if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
                    | FunctionArg::Named {
                        arg: FunctionArgExpr::Expr(e),
                        ..
                    }
                    | FunctionArg::ExprNamed {
                        arg: FunctionArgExpr::Expr(e),
                        ..
                    } = arg
                    {
                        let _ = e.visit(&mut ReplaceIn(&self.0));
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    struct ReplaceIn<'a, F>(&'a F);
    impl<F: Fn(usize) -> Option<SqlExpr>> VisitorMut for ReplaceIn<'_, F> {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut SqlExpr) -> ControlFlow<()> {
            if let SqlExpr::Value(v) = expr
                && let Value::Placeholder(id) = &v.value
                && let Some(n) = id.strip_prefix('$').and_then(|n| n.parse::<usize>().ok())
                && let Some(replacement) = (self.0)(n)
            {
                *expr = replacement;
            }
            ControlFlow::Continue(())
        }
    }
    let mut statement = statement.clone();
    if let DfStatement::Statement(sql) = &mut statement {
        let _ = sql.visit(&mut Replace(value));
    }
    statement
}

/// A typed NULL of `ty` (`CAST(NULL AS date)`).
pub(crate) fn typed_null(ty: &DataType) -> Option<SqlExpr> {
    parse_expr(&format!("CAST(NULL AS {})", sql_type(ty)))
}

/// A harmless non-NULL value of `ty`, for planning a call whose parameter is required.
pub(crate) fn sample(ty: &DataType) -> Option<SqlExpr> {
    let value = match ty {
        DataType::Date32 => "CURRENT_DATE",
        DataType::Int64 => "CAST(0 AS BIGINT)",
        DataType::Boolean => "false",
        _ => "''",
    };
    parse_expr(value)
}

/// The bound `value` as an SQL literal.
pub(crate) fn literal(value: &ScalarValue) -> Option<SqlExpr> {
    if value.is_null() {
        return typed_null(&value.data_type());
    }
    datafusion::sql::unparser::expr_to_sql(&datafusion::logical_expr::Expr::Literal(
        value.clone(),
        None,
    ))
    .ok()
}

fn sql_type(ty: &DataType) -> &'static str {
    match ty {
        DataType::Date32 => "DATE",
        DataType::Int64 => "BIGINT",
        DataType::Boolean => "BOOLEAN",
        _ => "VARCHAR",
    }
}

fn parse_expr(sql: &str) -> Option<SqlExpr> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .ok()?
        .parse_expr()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(sql: &str) -> DfStatement {
        let parsed = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .ok()
            .and_then(|mut s| s.pop())
            .expect("one statement");
        DfStatement::Statement(Box::new(parsed))
    }

    #[test]
    fn finds_and_replaces_table_function_placeholders() {
        let s = statement(
            "SELECT * FROM stella_users($1, CAST($2 AS date)) WHERE users > $3 \
             UNION ALL SELECT * FROM generate_series($4, 3)",
        );
        let found: Vec<usize> = find(&s, &[]).into_iter().map(|a| a.number).collect();
        assert_eq!(found, vec![1, 2, 4]);
        let replaced = substitute(&s, |n| {
            (n != 3).then(|| parse_expr(&format!("{}", n * 10)).expect("a number"))
        });
        let text = replaced.to_string();
        assert!(
            text.contains("stella_users(10, CAST(20 AS DATE))"),
            "{text}"
        );
        assert!(text.contains("users > $3"), "{text}");
        assert!(text.contains("generate_series(40, 3)"), "{text}");
    }

    #[test]
    fn literals() {
        let date = literal(&ScalarValue::Date32(Some(20_000))).expect("a date");
        assert!(date.to_string().contains("2024-10-04"), "{date}");
        let text = literal(&ScalarValue::from("it's")).expect("text");
        assert_eq!(text.to_string(), "'it''s'");
        let null = literal(&ScalarValue::Int64(None)).expect("null");
        assert_eq!(null.to_string(), "CAST(NULL AS BIGINT)");
    }
}
