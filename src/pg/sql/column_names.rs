//! Output column names as PostgreSQL gives them.
//!
//! DataFusion names an unaliased expression after its plan (`count(*)`, `Int64(7) / Int64(2)`);
//! PostgreSQL names it by `FigureColname` (parse_target.c), and BI tools and ORMs key results
//! on those names. Before planning, every unaliased item of every `SELECT` list (subqueries
//! and CTEs included, so `SELECT * FROM (SELECT count(*) ...)` says `count` too) gets
//! PostgreSQL's name as an alias:
//!
//! | Item | Name |
//! |---|---|
//! | a column, `t.col`, `(col)`, `rec.field` | the column or field (left as DataFusion names it) |
//! | a function call `f(...)`, `count(*)`, `coalesce`, `nullif`, `greatest`, window calls | the function's name, lower case: `count`, `coalesce`, ... |
//! | `EXTRACT`, `POSITION`, `SUBSTRING` (`SUBSTR`), `OVERLAY`, `CEIL`, `FLOOR`, `x AT TIME ZONE z` | `extract`, `position`, `substring` (`substr`), `overlay`, `ceil`, `floor`, `timezone` |
//! | `TRIM(...)` | `btrim`, `ltrim` (`LEADING`), `rtrim` (`TRAILING`) |
//! | `x::type`, `CAST(x AS type)` | `x`'s name when it has one, else the type's name (`'1'::int` → `int4`, `1::numeric` → `numeric`) |
//! | `DATE '...'`, `INTERVAL '...'`, `TIMESTAMPTZ '...'` | `date`, `interval`, `timestamptz` |
//! | `CASE ... ELSE e END` | `e`'s name when it has one, else `case` |
//! | `EXISTS (...)`, `ARRAY[...]`/`ARRAY(...)`, `ROW(...)`/`(a, b)` | `exists`, `array`, `row` |
//! | `(SELECT x ...)` | the subquery's first column's name |
//! | anything else: operators, literals, `IS NULL`, `LIKE`, ... | `?column?` |
//!
//! PostgreSQL allows two result columns of one name; DataFusion's projections do not. A name
//! already used in the same list gets [`DUPLICATE_MARK`] and a number appended, which
//! [`wire_name`] takes off again when the result is described to the client: `SELECT 1, 2` is
//! two `?column?` columns, as in PostgreSQL, and `SELECT x, x FROM t` plans.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    AccessExpr, DataType, Expr, Ident, Query, SelectItem, SetExpr, Statement, TrimWhereField,
    VisitMut, VisitorMut,
};

/// Separates a result column's name from the number that keeps it unique inside the plan.
/// A private-use character: no client writes it in a name.
pub const DUPLICATE_MARK: char = '\u{E000}';

/// The name the client sees for a result column named `planned` in the plan.
pub fn wire_name(planned: &str) -> &str {
    planned
        .split_once(DUPLICATE_MARK)
        .map_or(planned, |(name, _)| name)
}

/// Names the unaliased select items of `statement` (every query in it) as PostgreSQL does.
pub fn name_columns(statement: &mut Statement) {
    let _ = statement.visit(&mut Namer);
}

struct Namer;

impl VisitorMut for Namer {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        name_set_expr(&mut query.body);
        ControlFlow::Continue(())
    }
}

/// Names the items of each `SELECT` of a set expression (`UNION` arms too: PostgreSQL takes
/// the left arm's names, and DataFusion does the same).
fn name_set_expr(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => name_items(&mut select.projection),
        SetExpr::SetOperation { left, right, .. } => {
            name_set_expr(left);
            name_set_expr(right);
        }
        // Nested queries are visited by the visitor itself.
        _ => {}
    }
}

fn name_items(items: &mut [SelectItem]) {
    let mut used: HashSet<String> = HashSet::new();
    for item in items.iter_mut() {
        match item {
            SelectItem::UnnamedExpr(expr) => {
                let (name, planned_by_datafusion) = match bare_column(expr) {
                    Some(column) => (column, true),
                    None => (figure(expr).0.unwrap_or_else(|| "?column?".into()), false),
                };
                let unique = unique_name(&name, &mut used);
                if planned_by_datafusion && unique == name {
                    // DataFusion names a column reference by the column already.
                    continue;
                }
                *item = SelectItem::ExprWithAlias {
                    expr: expr.clone(),
                    alias: Ident::with_quote('"', unique),
                };
            }
            SelectItem::ExprWithAlias { alias, .. } => {
                let name = alias_name(alias);
                let unique = unique_name(&name, &mut used);
                if unique != name {
                    *alias = Ident::with_quote('"', unique);
                }
            }
            // The columns a wildcard expands to are not known here; they keep their names.
            _ => {}
        }
    }
}

/// `name`, or `name` + [`DUPLICATE_MARK`] + a number when `used` has it; recorded in `used`.
fn unique_name(name: &str, used: &mut HashSet<String>) -> String {
    let mut candidate = name.to_string();
    let mut n = 1;
    while !used.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{name}{DUPLICATE_MARK}{n}");
    }
    candidate
}

/// An identifier as a name: unquoted ones fold to lower case.
fn alias_name(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// The column name of a plain column reference (`col`, `t.col`, `(col)`).
fn bare_column(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(ident) => Some(alias_name(ident)),
        Expr::CompoundIdentifier(parts) => parts.last().map(alias_name),
        Expr::Nested(inner) => bare_column(inner),
        _ => None,
    }
}

/// PostgreSQL's `FigureColnameInternal`: a name and its strength (2: a real name, 1: a type
/// or `case`, 0: none).
fn figure(expr: &Expr) -> (Option<String>, u8) {
    let named = |name: &str| (Some(name.to_string()), 2);
    match expr {
        Expr::Identifier(ident) => (Some(alias_name(ident)), 2),
        Expr::CompoundIdentifier(parts) => match parts.last() {
            Some(last) => (Some(alias_name(last)), 2),
            None => (None, 0),
        },
        Expr::CompoundFieldAccess { root, access_chain } => match access_chain.last() {
            Some(AccessExpr::Dot(Expr::Identifier(field))) => (Some(alias_name(field)), 2),
            _ => figure(root),
        },
        Expr::Nested(inner) | Expr::Collate { expr: inner, .. } => figure(inner),
        Expr::Function(function) => match function.name.0.last().and_then(|p| p.as_ident()) {
            Some(ident) => (Some(alias_name(ident)), 2),
            None => (None, 0),
        },
        Expr::Cast {
            expr, data_type, ..
        } => match figure(expr) {
            (name, 2) => (name, 2),
            _ => (Some(type_name(data_type)), 1),
        },
        Expr::TypedString(typed) => (Some(type_name(&typed.data_type)), 1),
        Expr::Interval(_) => (Some("interval".into()), 1),
        Expr::Case { else_result, .. } => {
            match else_result.as_deref().map(figure).unwrap_or((None, 0)) {
                (name, 2) => (name, 2),
                _ => (Some("case".into()), 1),
            }
        }
        Expr::Extract { .. } => named("extract"),
        Expr::Position { .. } => named("position"),
        Expr::Substring { shorthand, .. } => named(if *shorthand { "substr" } else { "substring" }),
        Expr::Overlay { .. } => named("overlay"),
        Expr::Ceil { .. } => named("ceil"),
        Expr::Floor { .. } => named("floor"),
        Expr::AtTimeZone { .. } => named("timezone"),
        Expr::Trim { trim_where, .. } => match trim_where {
            Some(TrimWhereField::Leading) => named("ltrim"),
            Some(TrimWhereField::Trailing) => named("rtrim"),
            _ => named("btrim"),
        },
        Expr::Exists { .. } => named("exists"),
        Expr::Array(_) => named("array"),
        Expr::Tuple(_) => named("row"),
        Expr::Subquery(query) => match query.body.as_ref() {
            SetExpr::Select(select) => match select.projection.first() {
                Some(SelectItem::ExprWithAlias { alias, .. }) => {
                    (Some(wire_name(&alias_name(alias)).to_string()), 2)
                }
                Some(SelectItem::UnnamedExpr(inner)) => figure(inner),
                _ => (None, 0),
            },
            _ => (None, 0),
        },
        _ => (None, 0),
    }
}

/// The name PostgreSQL gives a type in a cast (`integer` → `int4`, `varchar(10)` → `varchar`,
/// `timestamp with time zone` → `timestamptz`, `pg_catalog.regclass` → `regclass`).
fn type_name(data_type: &DataType) -> String {
    let written = data_type.to_string().to_ascii_lowercase();
    let base = written
        .split(['(', '['])
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let with_zone = written.contains("with time zone") || base == "timestamptz";
    let canonical = match base.as_str() {
        "int" | "integer" | "int4" => "int4",
        "bigint" | "int8" => "int8",
        "smallint" | "int2" => "int2",
        "real" | "float4" => "float4",
        "double precision" | "double" | "float8" | "float" => "float8",
        "numeric" | "decimal" | "dec" => "numeric",
        "boolean" | "bool" => "bool",
        "character varying" | "varchar" => "varchar",
        "character" | "char" | "bpchar" => "bpchar",
        _ if base.starts_with("timestamp") => {
            if with_zone {
                "timestamptz"
            } else {
                "timestamp"
            }
        }
        _ if base.starts_with("time") => {
            if with_zone || base == "timetz" {
                "timetz"
            } else {
                "time"
            }
        }
        _ => {
            return base
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .trim_matches('"')
                .to_string();
        }
    };
    canonical.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    /// The aliases `sql`'s first select list gets, as the client will see them.
    fn names(sql: &str) -> Vec<String> {
        let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).expect(sql);
        let mut statement = statements.remove(0);
        name_columns(&mut statement);
        let Statement::Query(query) = statement else {
            panic!("{sql}: not a query");
        };
        let SetExpr::Select(select) = *query.body else {
            panic!("{sql}: not a select");
        };
        select
            .projection
            .iter()
            .map(|item| match item {
                SelectItem::ExprWithAlias { alias, .. } => wire_name(&alias.value).to_string(),
                SelectItem::UnnamedExpr(expr) => format!("({expr})"),
                other => format!("[{other}]"),
            })
            .collect()
    }

    #[test]
    fn names_follow_postgres_figure_colname() {
        // Expected names: what PostgreSQL 15 prints for the same select lists.
        for (sql, expected) in [
            (
                "SELECT count(*), sum(x), avg(x) FILTER (WHERE x > 1), x + 1 FROM t",
                vec!["count", "sum", "avg", "?column?"],
            ),
            (
                "SELECT 1, 'a', NULL, true, -1.5, x IS NULL, NOT b FROM t",
                vec![
                    "?column?", "?column?", "?column?", "?column?", "?column?", "?column?",
                    "?column?",
                ],
            ),
            (
                "SELECT ts::date, '1'::int, 1::numeric(10,2), CAST(x AS bigint), 'a'::varchar(3), 2::double precision, 'x'::timestamp with time zone",
                vec![
                    "ts",
                    "int4",
                    "numeric",
                    "x",
                    "varchar",
                    "float8",
                    "timestamptz",
                ],
            ),
            (
                "SELECT DATE '2026-01-01', INTERVAL '1 day', TIMESTAMPTZ '2026-01-01 00:00+00', TIMESTAMP '2026-01-01'",
                vec!["date", "interval", "timestamptz", "timestamp"],
            ),
            (
                "SELECT extract(hour FROM ts), position('a' IN s), substring(s FROM 1 FOR 2), substr(s, 2), trim(s), trim(LEADING 'x' FROM s), ceil(x), floor(x), ts AT TIME ZONE 'UTC'",
                vec![
                    "extract",
                    "position",
                    "substring",
                    "substr",
                    "btrim",
                    "ltrim",
                    "ceil",
                    "floor",
                    "timezone",
                ],
            ),
            (
                "SELECT CASE WHEN b THEN 1 END, CASE WHEN b THEN x ELSE y END, coalesce(x, 0), nullif(x, 0), greatest(x, y), pg_catalog.upper(s)",
                vec!["case", "y", "coalesce", "nullif", "greatest", "upper"],
            ),
            (
                "SELECT EXISTS (SELECT 1), ARRAY[1, 2], (SELECT max(x) FROM t), (SELECT x AS renamed FROM t), row_number() OVER ()",
                vec!["exists", "array", "max", "renamed", "row_number"],
            ),
            (
                "SELECT COUNT(*) AS \"N\", Upper(s) FROM t",
                vec!["N", "upper"],
            ),
        ] {
            assert_eq!(names(sql), expected, "{sql}");
        }
    }

    #[test]
    fn plain_columns_keep_their_planned_names_and_duplicates_are_told_apart() {
        assert_eq!(
            names("SELECT x, t.y, (z) FROM t"),
            vec!["(x)", "(t.y)", "((z))"]
        );
        // Two `?column?`s and a repeated column: unique in the plan, equal on the wire.
        let mut statements = Parser::parse_sql(
            &PostgreSqlDialect {},
            "SELECT 1, 2, x, x, count(*) AS x FROM t",
        )
        .expect("parse");
        name_columns(&mut statements[0]);
        let text = statements[0].to_string();
        assert_eq!(
            text,
            format!(
                "SELECT 1 AS \"?column?\", 2 AS \"?column?{m}2\", x, x AS \"x{m}2\", count(*) AS \"x{m}3\" FROM t",
                m = DUPLICATE_MARK
            )
        );
        assert_eq!(wire_name(&format!("x{DUPLICATE_MARK}3")), "x");
    }

    #[test]
    fn subqueries_and_union_arms_are_named_too() {
        let mut statements = Parser::parse_sql(
            &PostgreSqlDialect {},
            "WITH c AS (SELECT count(*) FROM t) SELECT * FROM (SELECT max(x) FROM t) s UNION ALL SELECT min(x) FROM t",
        )
        .expect("parse");
        name_columns(&mut statements[0]);
        let text = statements[0].to_string();
        for expected in [
            "count(*) AS \"count\"",
            "max(x) AS \"max\"",
            "min(x) AS \"min\"",
        ] {
            assert!(text.contains(expected), "{text}");
        }
    }
}
