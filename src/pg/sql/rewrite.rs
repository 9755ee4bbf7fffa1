//! SQL rewrites applied to client statements before DataFusion plans them, so the catalog
//! queries clients send find what they expect.
//!
//! First `datafusion-pg-catalog`'s parser runs (whole-query stubs for a few psql/pgcli catalog
//! queries DataFusion cannot plan, `= ANY(array)`, `OPERATOR(pg_catalog.~)`, `COLLATE`,
//! `pg_catalog.fn(...)` qualifiers, `'name'::regclass` → OID subqueries, …). Then ours:
//!
//! | Client writes | Planned as |
//! |---|---|
//! | `information_schema.columns` (also `tables`, `views`, `schemata`, constraint tables) | `pg_catalog._is_columns` … ([`crate::pg::catalog`]: Postgres type names) |
//! | `expr::regtype::text` (`::varchar`, `::name`) | `format_type(expr, NULL)`: the type's name, not its OID |
//! | `oids::regtype[]` | `_format_types(oids)`: the types' names (pgcli's `proargtypes::regtype[]`) |
//! | `pg_get_viewdef(oid [, pretty])` | the view's SQL text, from `pg_catalog.pg_views` |
//! | `pg_get_function_arguments(oid)`, `…_identity_arguments`, `…_result` | the text from `pg_catalog._routines` (chatlake's functions and reports) |
//! | `obj_description(oid [, catalog])` | the description from `pg_catalog.pg_description` |
//! | `ARRAY(SELECT x FROM … [ORDER BY …])` | `(SELECT array_agg(x [ORDER BY …]) FROM …)` (NULL rather than `{}` when empty) |
//! | `(SELECT x FROM pg_catalog.t WHERE … = outer.c)` in a projection | `(SELECT max(x) …)`: DataFusion needs correlated scalar subqueries aggregated; catalog lookups return at most one row |
//! | `x LIKE p ESCAPE '/'` | `x LIKE replace(p, '/', '\\')` (DataFusion knows only the backslash escape) |
//! | `unnest(a) x` in `FROM` | `unnest(a) AS x(x)`: the alias names the column, as in PostgreSQL |
//! | `generate_series(a, b) i` in `FROM` | `generate_series(a, b) AS i(i)`; with bounds computed at run time `UNNEST(generate_series(a, b)) AS i(i)` (DataFusion's table function takes literals only; Grafana's table and column pickers) |
//! | asyncpg's type introspection (`WITH RECURSIVE typeinfo_tree …`), whole | the same columns for base types and their arrays, one level of element types ([`ASYNCPG_TYPE_LOOKUP`]) |
//! | `col_description(t, n)` | `CAST(NULL AS TEXT)`, arguments unevaluated (Metabase casts `FORMAT('%I.%I', …)` to `regclass`) |
//! | `x IN (SELECT … FROM generate_series(…) i, string_to_array(current_setting('search_path'), ',') s)` | `array_has(current_schemas(false), x)` (Grafana's table picker sorts by it; DataFusion plans no `IN (subquery)` in `ORDER BY`) |
//! | `string_to_array(…) s` (and `regexp_split_to_array`, `current_schemas`, `current_setting`) in `FROM` | `(SELECT string_to_array(…) AS s) AS s`: a scalar function in `FROM` is a one-row table |
//! | `generate_subscripts(a, d)` in a projection | `unnest(generate_series(1, array_length(a, d)))` (SQLAlchemy's and pgcli's key queries) |
//! | `information_schema._pg_expandarray(a)` | `unnest(_pg_expandarray(a))`: one `(x, n)` row per element (pgJDBC's key queries) |
//! | `(expr).field` | `(expr)['field']`: a composite's field (DataFusion knows only the bracket form) |
//! | `CASE WHEN c THEN (SELECT e FROM pg_catalog.t WHERE w) [ELSE NULL] END` | `(SELECT e FROM pg_catalog.t WHERE (w) AND (c))`: DataFusion decorrelates no subquery inside `CASE` (SQLAlchemy 2.1's column query) |
//! | `typreceive != 0` (any `regproc` column `=`/`<>` the OID 0) | `typreceive != '-'`: the catalog keeps `regproc` as the printed name, `-` for none (ADBC's type query) |
//! | `GLIFIC_MOST_ACTIVE_HOUR(...)` in `FROM` | `glific_most_active_hour(...)`: unquoted table-function names fold to lower case, as every unquoted name does in PostgreSQL |

use std::ops::ControlFlow;
use std::sync::OnceLock;

use datafusion::sql::sqlparser::ast::{
    AccessExpr, BinaryOperator, DataType, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentList, FunctionArguments, GroupByExpr, Ident, ObjectName, ObjectNamePart, Query,
    SelectItem, SetExpr, Statement, Subscript, TableAlias, TableAliasColumnDef, TableFactor, Value,
    VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;

use crate::pg::catalog::{INFORMATION_SCHEMA_TABLES, PG_CATALOG, information_schema_alias};

/// The crate's compatibility parser (built once: it pre-tokenizes its stub queries).
fn compat() -> &'static PostgresCompatibilityParser {
    static PARSER: OnceLock<PostgresCompatibilityParser> = OnceLock::new();
    PARSER.get_or_init(PostgresCompatibilityParser::new)
}

/// asyncpg's type introspection (`introspection.INTRO_LOOKUP_TYPES`, run for array types it
/// has no codec for, such as `int8[]` or `timestamptz[]`), answered for the types this server
/// has: base types and their arrays. Its recursive CTE and the correlated subqueries inside
/// `CASE` (domains, composites, ranges: none here) are beyond DataFusion; the same columns come
/// from one level of element types instead. `attrtypoids` (composites only, so always NULL) is
/// a `text[]`: asyncpg decodes `text[]` natively, while an `oid[]`, described as `int4[]` here,
/// would send it into introspection again, without end.
const ASYNCPG_TYPE_LOOKUP: &str = "\
WITH ti AS (
    SELECT t.oid AS oid, ns.nspname AS ns, t.typname AS name, t.typtype AS kind,
           CAST(NULL AS oid) AS basetype, t.typelem AS elemtype, elem_t.typdelim AS elemdelim,
           CAST(NULL AS oid) AS range_subtype, CAST(NULL AS text[]) AS attrtypoids,
           CAST(NULL AS text[]) AS attrnames
    FROM pg_catalog.pg_type AS t
    INNER JOIN pg_catalog.pg_namespace ns ON ns.oid = t.typnamespace
    LEFT JOIN pg_catalog.pg_type elem_t
        ON t.typlen = -1 AND t.typelem != 0 AND t.typelem = elem_t.oid
),
typeinfo_tree AS (
    SELECT ti.*, 0 AS depth FROM ti WHERE ti.oid = any($1::oid[])
    UNION ALL
    SELECT e.*, 1 AS depth FROM ti e JOIN ti a ON e.oid = a.elemtype WHERE a.oid = any($1::oid[])
)
SELECT DISTINCT *,
    basetype::regtype::text AS basetype_name,
    elemtype::regtype::text AS elemtype_name,
    range_subtype::regtype::text AS range_subtype_name
FROM typeinfo_tree
ORDER BY depth DESC";

/// The statement to plan in place of a client's whole statement DataFusion cannot plan, when
/// one is known ([`ASYNCPG_TYPE_LOOKUP`]).
pub(crate) fn whole_statement(sql: &str) -> Option<&'static str> {
    (sql.contains("typeinfo_tree") && sql.contains("WITH RECURSIVE")).then_some(ASYNCPG_TYPE_LOOKUP)
}

/// Grafana's search-path lookup, which the crate's parser swaps for `''` (it had no
/// `current_setting`): Grafana's table picker then qualified every table and its column picker
/// found none. Statements holding it skip the crate's parser; its rewrite rules and ours still
/// apply ([`rewrite`]), and the lookup runs as written.
const GRAFANA_SEARCH_PATH: &str = "string_to_array(current_setting('search_path'),',')";

/// `sql` parsed and rewritten by the crate's compatibility parser, when it parses.
pub(crate) fn compat_parse(sql: &str) -> Option<Vec<Statement>> {
    if sql.contains(GRAFANA_SEARCH_PATH) {
        return None;
    }
    compat().parse(sql).ok()
}

/// Applies the crate's rewrite rules and ours to one statement.
pub(crate) fn rewrite(statement: Statement) -> Statement {
    ours(compat().rewrite(statement))
}

/// Applies only our rewrites (for statements the crate's parser already rewrote): result
/// column names first (from the expressions as the client wrote them), then [`Rewriter`].
pub(crate) fn ours(mut statement: Statement) -> Statement {
    super::column_names::name_columns(&mut statement);
    let mut hoister = CaseSubqueries::default();
    let _ = statement.visit(&mut hoister);
    if hoister.hoisted {
        // The crate's rules (stubs for `pg_attrdef`/`pg_sequence` lookups, …) did not see the
        // subqueries inside CASE: give them a second look now that they stand alone.
        statement = compat().rewrite(statement);
    }
    let _ = statement.visit(&mut Rewriter);
    statement
}

/// Applies [`case_catalog_subquery`] everywhere; `hoisted` says whether it changed anything.
#[derive(Default)]
struct CaseSubqueries {
    hoisted: bool,
}

impl VisitorMut for CaseSubqueries {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Some(replacement) = case_catalog_subquery(expr) {
            *expr = replacement;
            self.hoisted = true;
        }
        ControlFlow::Continue(())
    }
}

struct Rewriter;

impl VisitorMut for Rewriter {
    type Break = ();

    fn pre_visit_relation(&mut self, relation: &mut ObjectName) -> ControlFlow<()> {
        let parts: Vec<String> = relation
            .0
            .iter()
            .map(|p| match p.as_ident() {
                Some(ident) => ident.value.to_ascii_lowercase(),
                None => p.to_string(),
            })
            .collect();
        let n = parts.len();
        if n >= 2
            && parts[n - 2] == "information_schema"
            && INFORMATION_SCHEMA_TABLES.contains(&parts[n - 1].as_str())
        {
            let mut name: Vec<ObjectNamePart> = relation.0[..n - 2].to_vec();
            name.push(ObjectNamePart::Identifier(Ident::new(PG_CATALOG)));
            name.push(ObjectNamePart::Identifier(Ident::new(
                information_schema_alias(&parts[n - 1]),
            )));
            *relation = ObjectName(name);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        // Unquoted names fold to lower case, for table functions as for tables (Superset
        // upper-cases `glific_most_active_hour(...)` when it applies its row limit).
        if let TableFactor::Table {
            name,
            args: Some(_),
            ..
        } = factor
        {
            for part in name.0.iter_mut() {
                if let ObjectNamePart::Identifier(ident) = part
                    && ident.quote_style.is_none()
                {
                    ident.value = ident.value.to_lowercase();
                }
            }
        }
        scalar_function_in_from(factor);
        generate_series_in_from(factor);
        // `pg_catalog.unnest(a)` parses as a table function call; DataFusion knows only the
        // `UNNEST` table factor.
        if let Some(FromFunction {
            name: "unnest",
            args: Some(array_exprs),
            alias,
        }) = from_function(factor)
        {
            *factor = TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset: false,
                with_offset_alias: None,
                with_ordinality: false,
            };
        }
        // `unnest(a) x`: in PostgreSQL the alias also names the single column.
        let alias = match factor {
            TableFactor::UNNEST {
                alias: Some(alias),
                array_exprs,
                with_offset: false,
                with_ordinality: false,
                ..
            } if array_exprs.len() == 1 => Some(alias),
            _ => None,
        };
        if let Some(alias) = alias
            && alias.columns.is_empty()
        {
            alias.columns = vec![TableAliasColumnDef::from_name(alias.name.value.clone())];
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Some(replacement) = regtype_as_text(expr)
            .or_else(|| regproc_zero(expr))
            .or_else(|| regtype_array(expr))
            .or_else(|| viewdef(expr))
            .or_else(|| function_text(expr))
            .or_else(|| array_subquery(expr))
            .or_else(|| set_returning(expr))
            .or_else(|| field_access(expr))
            .or_else(|| in_search_path(expr))
            .or_else(|| column_comment(expr))
        {
            *expr = replacement;
        }
        if let Expr::Subquery(query) = expr {
            aggregate_catalog_lookup(query);
        }
        if let Expr::Like {
            pattern,
            escape_char,
            ..
        }
        | Expr::ILike {
            pattern,
            escape_char,
            ..
        } = expr
            && let Some(Value::SingleQuotedString(escape)) = escape_char.as_ref().map(|v| &v.value)
            && escape != "\\"
            && escape.chars().count() == 1
        {
            // DataFusion takes only `\\` as LIKE escape (SQLAlchemy uses '/'): re-escape the
            // pattern with backslashes.
            let backslash =
                || Expr::Value(Value::SingleQuotedString("\\".into()).with_empty_span());
            let doubled = Expr::Value(Value::SingleQuotedString("\\\\".into()).with_empty_span());
            let custom = Expr::Value(Value::SingleQuotedString(escape.clone()).with_empty_span());
            let escaped = call("replace", vec![(**pattern).clone(), backslash(), doubled]);
            **pattern = call("replace", vec![escaped, custom, backslash()]);
            *escape_char = None;
        }
        ControlFlow::Continue(())
    }
}

/// `col_description(table, column)` → `CAST(NULL AS TEXT)`: lake columns carry no comments
/// (the function itself answers NULL too, `catalog::functions`). Its arguments are not
/// evaluated, so Metabase's `COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', schema, table) AS
/// REGCLASS) AS OID), n)` cannot fail on a cast of computed text to `regclass`.
fn column_comment(expr: &Expr) -> Option<Expr> {
    let (name, args) = function_call(expr)?;
    if name != "col_description" || args.len() != 2 {
        return None;
    }
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql("CAST(NULL AS TEXT)")
        .and_then(|mut p| p.parse_expr())
        .ok()
}

/// `x IN (<Grafana's search-path lookup>)` → `array_has(current_schemas(false), x)`.
///
/// Grafana's table picker asks whether a table's schema is on the search path with a subquery
/// over `string_to_array(current_setting('search_path'), ',')`, and sorts by the answer.
/// DataFusion plans no `IN (subquery)` in `ORDER BY`; `current_schemas(false)` is the same
/// list (the search path's schemas that exist, `"$user"` resolved) as an ordinary expression.
fn in_search_path(expr: &Expr) -> Option<Expr> {
    let Expr::InSubquery {
        expr: needle,
        subquery,
        negated,
    } = expr
    else {
        return None;
    };
    let text = subquery.to_string().to_ascii_lowercase();
    if !(text.contains("current_setting('search_path')") && text.contains("generate_series")) {
        return None;
    }
    let sql = format!(
        "{}array_has(current_schemas(false), {needle})",
        if *negated { "NOT " } else { "" }
    );
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&sql)
        .and_then(|mut p| p.parse_expr())
        .ok()
}

/// Scalar functions clients call in `FROM` (Grafana's search-path lookup:
/// `string_to_array(current_setting('search_path'), ',') s`). In PostgreSQL a scalar function
/// in `FROM` is a one-row table whose column the alias names.
const SCALAR_FUNCTIONS_IN_FROM: &[&str] = &[
    "string_to_array",
    "regexp_split_to_array",
    "current_schemas",
    "current_setting",
];

/// `f(args) [AS] s` for a scalar `f` of [`SCALAR_FUNCTIONS_IN_FROM`] → `(SELECT f(args) AS s) AS s`.
fn scalar_function_in_from(factor: &mut TableFactor) {
    let Some(FromFunction {
        name,
        args: Some(args),
        alias,
    }) = from_function(factor)
    else {
        return;
    };
    if !SCALAR_FUNCTIONS_IN_FROM.contains(&name) {
        return;
    }
    let column = alias
        .as_ref()
        .map_or_else(|| name.to_string(), |a| a.name.value.clone());
    let call = call(name, args).to_string();
    let alias = alias.as_ref().map_or_else(
        || Ident::with_quote('"', column.clone()).to_string(),
        |a| a.to_string(),
    );
    let column = Ident::with_quote('"', column);
    let sql = format!("SELECT * FROM (SELECT {call} AS {column}) AS {alias}");
    let Ok(query) = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&sql)
        .and_then(|mut p| p.parse_query())
    else {
        return;
    };
    if let SetExpr::Select(select) = *query.body
        && let Some(table) = select.from.into_iter().next()
    {
        *factor = table.relation;
    }
}

/// `generate_series(a, b [, step]) [AS] i`: in PostgreSQL the alias also names the column.
/// DataFusion's table function takes only literal bounds, so bounds computed at run time
/// (Grafana's `array_upper(string_to_array(current_setting('search_path'), ','), 1)`) go
/// through `UNNEST(generate_series(…))`, the array form; literal bounds keep the table function
/// and gain the column alias.
fn generate_series_in_from(factor: &mut TableFactor) {
    let Some(FromFunction {
        name: "generate_series",
        args: Some(bounds),
        alias,
    }) = from_function(factor)
    else {
        return;
    };
    if bounds.iter().all(is_literal) {
        if let TableFactor::Table {
            alias: Some(alias), ..
        } = factor
            && alias.columns.is_empty()
        {
            alias.columns = vec![TableAliasColumnDef::from_name(alias.name.value.clone())];
        }
        return;
    }
    let series = call("generate_series", bounds);
    *factor = TableFactor::UNNEST {
        alias,
        array_exprs: vec![series],
        with_offset: false,
        with_offset_alias: None,
        with_ordinality: false,
    };
}

/// A function called in `FROM` (see [`from_function`]).
struct FromFunction {
    /// One of `KNOWN_FROM_FUNCTIONS` or [`SCALAR_FUNCTIONS_IN_FROM`].
    name: &'static str,
    /// The arguments, when all are positional.
    args: Option<Vec<Expr>>,
    /// `AS alias`, if any.
    alias: Option<TableAlias>,
}

/// `name(args) [AS alias]` in `FROM`, for a function the rules above rewrite.
fn from_function(factor: &TableFactor) -> Option<FromFunction> {
    let TableFactor::Table {
        name,
        args: Some(args),
        alias,
        ..
    } = factor
    else {
        return None;
    };
    let function = name.0.last()?.as_ident()?.value.to_ascii_lowercase();
    let known = KNOWN_FROM_FUNCTIONS
        .iter()
        .chain(SCALAR_FUNCTIONS_IN_FROM)
        .find(|f| **f == function)?;
    let positional = args
        .args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect();
    Some(FromFunction {
        name: known,
        args: positional,
        alias: alias.clone(),
    })
}

/// The table functions in `FROM` the rules above rewrite.
const KNOWN_FROM_FUNCTIONS: &[&str] = &["unnest", "generate_series"];

/// A constant written in the statement: `3`, `-3`, `'2026-01-01'::date`, `DATE '…'`.
fn is_literal(expr: &Expr) -> bool {
    match expr {
        Expr::Value(_) | Expr::TypedString { .. } | Expr::Interval(_) => true,
        Expr::UnaryOp { expr, .. } | Expr::Cast { expr, .. } | Expr::Nested(expr) => {
            is_literal(expr)
        }
        _ => false,
    }
}

/// `CASE WHEN c THEN (SELECT e FROM pg_catalog.… WHERE w) [ELSE NULL] END` →
/// `(SELECT e FROM pg_catalog.… WHERE (w) AND (c))`: the same value for every row (no row
/// when `c` is not true gives NULL, as the missing `ELSE` does), but a correlated subquery
/// DataFusion can decorrelate, which it cannot inside a `CASE` (SQLAlchemy 2.1's column query
/// reads defaults, identity options and collations this way).
fn case_catalog_subquery(expr: &Expr) -> Option<Expr> {
    let Expr::Case {
        operand: None,
        conditions,
        else_result,
        ..
    } = expr
    else {
        return None;
    };
    let [when] = conditions.as_slice() else {
        return None;
    };
    let else_is_null = match else_result.as_deref() {
        None => true,
        Some(Expr::Value(v)) => matches!(v.value, Value::Null),
        Some(_) => false,
    };
    let mut result = &when.result;
    while let Expr::Nested(inner) = result {
        result = inner;
    }
    let Expr::Subquery(query) = result else {
        return None;
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let reads_catalog = !select.from.is_empty()
        && select.from.iter().all(|t| {
            matches!(&t.relation, TableFactor::Table { name, args: None, .. }
                if name.0.len() >= 2
                    && name.0[name.0.len() - 2]
                        .as_ident()
                        .is_some_and(|i| i.value.eq_ignore_ascii_case(PG_CATALOG)))
        });
    if !else_is_null || !reads_catalog || query.limit_clause.is_some() {
        return None;
    }
    let mut query = query.clone();
    if let SetExpr::Select(select) = query.body.as_mut() {
        let condition = Expr::Nested(Box::new(when.condition.clone()));
        select.selection = Some(match select.selection.take() {
            Some(filter) => Expr::BinaryOp {
                left: Box::new(Expr::Nested(Box::new(filter))),
                op: BinaryOperator::And,
                right: Box::new(condition),
            },
            None => condition,
        });
    }
    Some(Expr::Subquery(query))
}

/// The `regproc` columns of the catalog (function names as text here; 0 prints as `-`).
const REGPROC_COLUMNS: &[&str] = &[
    "typinput",
    "typoutput",
    "typreceive",
    "typsend",
    "typmodin",
    "typmodout",
    "typanalyze",
    "typsubscript",
    "aggfnoid",
    "aggtransfn",
    "aggfinalfn",
    "oprcode",
    "oprrest",
    "oprjoin",
];

/// `typreceive != 0` → `typreceive != '-'`: a `regproc` column compared with the OID 0 ("no
/// function"). The catalog keeps `regproc` columns as the names PostgreSQL prints, `-` for 0
/// (ADBC's PostgreSQL driver filters `pg_type` this way when it connects).
fn regproc_zero(expr: &Expr) -> Option<Expr> {
    let Expr::BinaryOp { left, op, right } = expr else {
        return None;
    };
    if !matches!(op, BinaryOperator::Eq | BinaryOperator::NotEq) {
        return None;
    }
    let is_regproc = |e: &Expr| {
        let name = match e {
            Expr::Identifier(ident) => Some(ident),
            Expr::CompoundIdentifier(parts) => parts.last(),
            _ => None,
        };
        name.is_some_and(|n| REGPROC_COLUMNS.contains(&n.value.to_ascii_lowercase().as_str()))
    };
    let is_zero = |e: &Expr| matches!(e, Expr::Value(v) if matches!(&v.value, Value::Number(n, _) if n == "0"));
    let dash = || {
        Box::new(Expr::Value(
            Value::SingleQuotedString("-".into()).with_empty_span(),
        ))
    };
    if is_regproc(left) && is_zero(right) {
        return Some(Expr::BinaryOp {
            left: left.clone(),
            op: op.clone(),
            right: dash(),
        });
    }
    if is_zero(left) && is_regproc(right) {
        return Some(Expr::BinaryOp {
            left: dash(),
            op: op.clone(),
            right: right.clone(),
        });
    }
    None
}

/// The last part of a type name, lower-cased (`pg_catalog.regtype` → `regtype`).
fn type_name(data_type: &DataType) -> String {
    let lower = data_type.to_string().to_ascii_lowercase();
    lower
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .trim_matches('"')
        .to_string()
}

/// `x::regtype[]` → `_format_types(x)`: the type names (what a `regtype[]` prints).
fn regtype_array(expr: &Expr) -> Option<Expr> {
    let Expr::Cast {
        expr: operand,
        data_type,
        ..
    } = expr
    else {
        return None;
    };
    let DataType::Array(element) = data_type else {
        return None;
    };
    let element = match element {
        datafusion::sql::sqlparser::ast::ArrayElemTypeDef::SquareBracket(t, _)
        | datafusion::sql::sqlparser::ast::ArrayElemTypeDef::AngleBracket(t)
        | datafusion::sql::sqlparser::ast::ArrayElemTypeDef::Parenthesis(t) => t,
        datafusion::sql::sqlparser::ast::ArrayElemTypeDef::None => return None,
    };
    if type_name(element) != "regtype" {
        return None;
    }
    Some(call("_format_types", vec![(**operand).clone()]))
}

/// `x::regtype::text` → `format_type(x, NULL)`.
fn regtype_as_text(expr: &Expr) -> Option<Expr> {
    let Expr::Cast {
        expr: inner,
        data_type: outer,
        ..
    } = expr
    else {
        return None;
    };
    if !matches!(
        type_name(outer).as_str(),
        "text" | "varchar" | "character varying" | "name"
    ) {
        return None;
    }
    let Expr::Cast {
        expr: operand,
        data_type,
        ..
    } = inner.as_ref()
    else {
        return None;
    };
    if type_name(data_type) != "regtype" {
        return None;
    }
    Some(call(
        "format_type",
        vec![
            (**operand).clone(),
            Expr::Value(Value::Null.with_empty_span()),
        ],
    ))
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

/// Aggregates names that make a query aggregated already.
const AGGREGATES: &[&str] = &[
    "count",
    "max",
    "min",
    "sum",
    "avg",
    "array_agg",
    "string_agg",
    "bool_and",
    "bool_or",
    "every",
    "json_agg",
    "jsonb_agg",
];

/// `(SELECT x FROM pg_catalog.t WHERE … = outer.col)` → `(SELECT max(x) …)`: DataFusion plans a
/// correlated scalar subquery only when it is aggregated. Catalog lookups return one row (or
/// none), so `max` changes nothing; queries over the lake's tables are left alone.
fn aggregate_catalog_lookup(query: &mut Query) {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let from_catalog = !select.from.is_empty()
        && select.from.iter().all(|t| {
            matches!(&t.relation, TableFactor::Table { name, args: None, .. }
                if name.0.len() >= 2
                    && name.0[name.0.len() - 2]
                        .as_ident()
                        .is_some_and(|i| i.value.eq_ignore_ascii_case(PG_CATALOG)))
        });
    if !from_catalog
        || select.distinct.is_some()
        || select.having.is_some()
        || !matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty())
        || query.limit_clause.is_some()
    {
        return;
    }
    let [item] = select.projection.as_mut_slice() else {
        return;
    };
    let (SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. }) = item else {
        return;
    };
    if let Expr::Function(f) = expr
        && f.name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .is_some_and(|i| AGGREGATES.contains(&i.value.to_ascii_lowercase().as_str()))
    {
        return;
    }
    *expr = call("max", vec![expr.clone()]);
}

/// The unqualified, lower-cased name of a function call, and its plain arguments.
fn function_call(expr: &Expr) -> Option<(String, Vec<&Expr>)> {
    let Expr::Function(function) = expr else {
        return None;
    };
    if function.over.is_some() || function.filter.is_some() {
        return None;
    }
    let name = function_name(function)?;
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    if !list.clauses.is_empty() || list.duplicate_treatment.is_some() {
        return None;
    }
    let args = list
        .args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((name, args))
}

/// Parses one expression written by a rewrite.
fn parse_expr(sql: &str) -> Option<Expr> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .ok()?
        .parse_expr()
        .ok()
}

/// PostgreSQL's set-returning functions over arrays, as DataFusion `unnest`s (which, like
/// PostgreSQL's, are zipped when a projection has several):
///
/// - `generate_subscripts(a, d)` → `unnest(generate_series(1, array_length(a, d)))`;
/// - `information_schema._pg_expandarray(a)` → `unnest(_pg_expandarray(a))`, a `(x, n)`
///   composite per element (see `crate::pg::catalog::functions`).
fn set_returning(expr: &Expr) -> Option<Expr> {
    let (name, args) = function_call(expr)?;
    match (name.as_str(), args.as_slice()) {
        ("generate_subscripts", [array, dim]) => parse_expr(&format!(
            "unnest(generate_series(1, CAST(array_length({array}, {dim}) AS BIGINT)))"
        )),
        ("_pg_expandarray", [array]) => parse_expr(&format!("unnest(_pg_expandarray({array}))")),
        _ => None,
    }
}

/// `(expr).field` → `(expr)['field']`: PostgreSQL's composite field selection in the form
/// DataFusion plans (`get_field`). Qualified column names (`t.c`, also `t.c[1]`) are left
/// alone.
fn field_access(expr: &Expr) -> Option<Expr> {
    let Expr::CompoundFieldAccess { root, access_chain } = expr else {
        return None;
    };
    // `t.c[1]` parses as `t` then `.c` then `[1]`: a column, not a composite.
    if matches!(
        root.as_ref(),
        Expr::Identifier(_) | Expr::CompoundIdentifier(_)
    ) {
        return None;
    }
    if !access_chain
        .iter()
        .any(|a| matches!(a, AccessExpr::Dot(Expr::Identifier(_))))
    {
        return None;
    }
    let access_chain = access_chain
        .iter()
        .map(|a| match a {
            AccessExpr::Dot(Expr::Identifier(field)) => AccessExpr::Subscript(Subscript::Index {
                index: Expr::Value(
                    Value::SingleQuotedString(field.value.clone()).with_empty_span(),
                ),
            }),
            other => other.clone(),
        })
        .collect();
    Some(Expr::CompoundFieldAccess {
        root: root.clone(),
        access_chain,
    })
}

/// `ARRAY(SELECT x …)` → `(SELECT array_agg(x) FROM (SELECT x …) AS _array_source(x))`.
fn array_subquery(expr: &Expr) -> Option<Expr> {
    let Expr::Function(function) = expr else {
        return None;
    };
    if !function
        .name
        .0
        .last()?
        .as_ident()?
        .value
        .eq_ignore_ascii_case("array")
    {
        return None;
    }
    let FunctionArguments::Subquery(query) = &function.args else {
        return None;
    };
    // psql's `array(select 'toast.' || x from unnest(tc.reloptions) x)`: DataFusion cannot
    // unnest an outer column, and `reloptions` is always NULL here, so is the array.
    if let SetExpr::Select(select) = query.body.as_ref()
        && let [from] = select.from.as_slice()
        && from.joins.is_empty()
        && let TableFactor::UNNEST { array_exprs, .. } = &from.relation
        && let [Expr::CompoundIdentifier(parts)] = array_exprs.as_slice()
        && parts
            .last()
            .is_some_and(|p| p.value.eq_ignore_ascii_case("reloptions"))
    {
        let mut parser = Parser::new(&PostgreSqlDialect {})
            .try_with_sql("CAST(NULL AS text[])")
            .ok()?;
        return parser.parse_expr().ok();
    }
    // A plain `SELECT x FROM … [ORDER BY …]`: aggregate in place (keeps correlated
    // references where DataFusion can decorrelate them).
    if let SetExpr::Select(select) = query.body.as_ref()
        && let [SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }] =
            select.projection.as_slice()
        && select.distinct.is_none()
        && matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty())
        && select.having.is_none()
        && query.limit_clause.is_none()
        && query.with.is_none()
    {
        let order = query
            .order_by
            .as_ref()
            .map(|o| format!(" {o}"))
            .unwrap_or_default();
        let aggregate = format!("array_agg({item}{order})");
        let mut select = select.clone();
        let mut parser = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(&aggregate)
            .ok()?;
        select.projection = vec![SelectItem::UnnamedExpr(parser.parse_expr().ok()?)];
        let mut query = query.clone();
        query.order_by = None;
        query.body = Box::new(SetExpr::Select(select));
        return Some(Expr::Subquery(query));
    }
    let sql = format!("SELECT array_agg(_array_source._x) FROM ({query}) AS _array_source(_x)");
    match Parser::parse_sql(&PostgreSqlDialect {}, &sql).ok()?.pop()? {
        Statement::Query(query) => Some(Expr::Subquery(query)),
        _ => None,
    }
}

/// `pg_get_viewdef(oid [, pretty])` → the definition from `pg_views` (a scalar subquery,
/// aggregated so DataFusion accepts it when correlated).
fn viewdef(expr: &Expr) -> Option<Expr> {
    let Expr::Function(function) = expr else {
        return None;
    };
    let name = function_name(function)?;
    if name != "pg_get_viewdef" {
        return None;
    }
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(oid))) = list.args.first() else {
        return None;
    };
    static TEMPLATE: OnceLock<Option<Box<Query>>> = OnceLock::new();
    let template = TEMPLATE.get_or_init(|| {
        let sql = "SELECT max(v.definition) FROM pg_catalog.pg_views v \
                   JOIN pg_catalog.pg_namespace n ON n.nspname = v.schemaname \
                   JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = v.viewname \
                   WHERE c.oid = $1";
        match Parser::parse_sql(&PostgreSqlDialect {}, sql).ok()?.pop()? {
            Statement::Query(query) => Some(query),
            _ => None,
        }
    });
    let mut query = template.clone()?;
    let _ = query.visit(&mut ReplacePlaceholder(oid.clone()));
    Some(Expr::Subquery(query))
}

/// `pg_get_function_arguments(oid)`, `pg_get_function_identity_arguments(oid)`,
/// `pg_get_function_result(oid)` → the text from `pg_catalog._routines` (our functions; NULL
/// for builtins), and `obj_description(oid [, catalog])` → the description from
/// `pg_description` (our functions' documentation). Aggregated scalar subqueries, as
/// [`viewdef`].
fn function_text(expr: &Expr) -> Option<Expr> {
    let (name, args) = function_call(expr)?;
    let sql = match (name.as_str(), args.as_slice()) {
        ("pg_get_function_arguments", [_]) => {
            "SELECT max(r.arguments) FROM pg_catalog._routines r WHERE r.oid = $1"
        }
        ("pg_get_function_identity_arguments", [_]) => {
            "SELECT max(r.identity_arguments) FROM pg_catalog._routines r WHERE r.oid = $1"
        }
        ("pg_get_function_result", [_]) => {
            "SELECT max(r.result) FROM pg_catalog._routines r WHERE r.oid = $1"
        }
        ("obj_description", [_] | [_, _]) => {
            "SELECT max(d.description) FROM pg_catalog.pg_description d \
             WHERE d.objoid = $1 AND d.objsubid = 0"
        }
        _ => return None,
    };
    let oid = (*args.first()?).clone();
    let mut query = match Parser::parse_sql(&PostgreSqlDialect {}, sql).ok()?.pop()? {
        Statement::Query(query) => query,
        _ => return None,
    };
    let _ = query.visit(&mut ReplacePlaceholder(oid));
    Some(Expr::Subquery(query))
}

struct ReplacePlaceholder(Expr);

impl VisitorMut for ReplacePlaceholder {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::Value(v) = expr
            && matches!(v.value, Value::Placeholder(_))
        {
            *expr = self.0.clone();
        }
        ControlFlow::Continue(())
    }
}

/// The function's own name (the last part of a qualified name), lower-cased.
fn function_name(function: &Function) -> Option<String> {
    Some(
        function
            .name
            .0
            .last()?
            .as_ident()?
            .value
            .to_ascii_lowercase(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .ok()
            .and_then(|mut s| s.pop())
            .map(rewrite);
        statement.map(|s| s.to_string()).unwrap_or_default()
    }

    #[test]
    fn information_schema_tables_are_ours() {
        let sql = rewritten("SELECT data_type FROM information_schema.columns");
        assert!(sql.contains("pg_catalog._is_columns"), "{sql}");
        let sql = rewritten("SELECT * FROM chatlake.INFORMATION_SCHEMA.tables");
        assert!(sql.contains("chatlake.pg_catalog._is_tables"), "{sql}");
        // DataFusion's own stay.
        let sql = rewritten("SELECT * FROM information_schema.routines");
        assert!(sql.contains("information_schema.routines"), "{sql}");
    }

    #[test]
    fn functions_in_from_are_named_by_their_alias() {
        // Grafana's search-path lookup, as its table and column pickers send it.
        let sql = rewritten(
            "SELECT trim(s[i]) FROM generate_series(array_lower(string_to_array(current_setting('search_path'),','),1), 2) as i, string_to_array(current_setting('search_path'),',') s",
        );
        assert!(
            sql.contains(
                "UNNEST(generate_series(array_lower(string_to_array(current_setting('search_path'), ','), 1), 2)) AS i (i)"
            ),
            "{sql}"
        );
        assert!(
            sql.contains(
                "(SELECT string_to_array(current_setting('search_path'), ',') AS \"s\") AS s"
            ),
            "{sql}"
        );
        // Its use in the table picker, sorted by the answer.
        let sql = rewritten(
            "SELECT t FROM x ORDER BY CASE WHEN quote_ident(s) IN (SELECT trim(s[i]) FROM generate_series(1, 2) AS i, string_to_array(current_setting('search_path'),',') s) THEN 0 ELSE 1 END",
        );
        assert!(
            sql.contains("array_has(current_schemas(false), quote_ident(s))"),
            "{sql}"
        );
        let sql = rewritten(
            "SELECT COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', a, b) AS REGCLASS) AS OID), 1) FROM t",
        );
        assert!(
            sql.contains("SELECT CAST(NULL AS TEXT) AS \"col_description\" FROM t"),
            "{sql}"
        );
        let sql = rewritten("SELECT i FROM generate_series(1, 3) AS i");
        assert!(sql.contains("generate_series(1, 3) AS i (i)"), "{sql}");
        // Without the search-path lookup the crate's parser still runs.
        assert!(compat_parse("SELECT 1").is_some());
        assert!(
            compat_parse(
                "SELECT x FROM t WHERE y IN (SELECT 1 FROM string_to_array(current_setting('search_path'),',') s)"
            )
            .is_none()
        );
    }

    #[test]
    fn regtype_text_is_format_type() {
        let sql = rewritten("SELECT a.atttypid::regtype::text FROM pg_attribute a");
        assert!(sql.contains("format_type(a.atttypid, NULL)"), "{sql}");
    }

    #[test]
    fn array_constructor_becomes_array_agg() {
        let sql = rewritten("SELECT array(SELECT 'toast.' || x FROM unnest(r) x) FROM t");
        assert!(sql.contains("array_agg('toast.' || x)"), "{sql}");
        let sql = rewritten("SELECT ARRAY(SELECT b.n FROM b WHERE b.m = r.oid ORDER BY 1) FROM r");
        assert!(sql.contains("array_agg(b.n ORDER BY 1)"), "{sql}");
        let sql = rewritten("SELECT array(SELECT DISTINCT x FROM t) FROM r");
        assert!(sql.contains("array_agg(_array_source._x)"), "{sql}");
    }

    fn ours_only(sql: &str) -> String {
        Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .ok()
            .and_then(|mut s| s.pop())
            .map(|s| ours(s).to_string())
            .unwrap_or_default()
    }

    #[test]
    fn catalog_lookups_are_aggregated_and_lake_queries_left_alone() {
        let sql = ours_only(
            "SELECT (SELECT t.typname FROM pg_catalog.pg_type t WHERE t.oid = a.atttypid) \
             FROM pg_catalog.pg_attribute a",
        );
        assert!(sql.contains("max(t.typname)"), "{sql}");
        let sql = ours_only("SELECT (SELECT x FROM messages m WHERE m.id = o.id) FROM o");
        assert!(!sql.contains("max("), "{sql}");
    }

    #[test]
    fn set_returning_array_functions_become_unnest() {
        let sql = rewritten(
            "SELECT unnest(ix.indkey) AS attnum, generate_subscripts(ix.indkey, 1) AS ord FROM pg_index ix",
        );
        assert!(
            sql.contains(
                "unnest(generate_series(1, CAST(array_length(ix.indkey, 1) AS BIGINT))) AS ord"
            ),
            "{sql}"
        );
        let sql = rewritten(
            "SELECT (information_schema._pg_expandarray(i.indkey)).n AS key_seq, \
             information_schema._pg_expandarray(i.indkey) AS keys FROM pg_index i",
        );
        assert!(
            sql.contains("(unnest(_pg_expandarray(i.indkey)))['n'] AS key_seq"),
            "{sql}"
        );
        assert!(
            sql.contains("unnest(_pg_expandarray(i.indkey)) AS keys"),
            "{sql}"
        );
    }

    #[test]
    fn composite_fields_but_not_columns_become_subscripts() {
        let sql = rewritten("SELECT (r.keys).x, tmp.opts[tmp.pos - 1], t.c FROM r, tmp, t");
        assert!(sql.contains("(r.keys)['x']"), "{sql}");
        assert!(sql.contains("tmp.opts[tmp.pos - 1]"), "{sql}");
        assert!(sql.contains("t.c FROM"), "{sql}");
    }

    #[test]
    fn a_catalog_subquery_inside_case_moves_its_condition_inside() {
        let mut statement = Parser::parse_sql(
            &PostgreSqlDialect {},
            "SELECT CASE WHEN a.attcollation <> 0 THEN (SELECT t.typname \
             FROM pg_catalog.pg_type t WHERE t.oid = a.atttypid) ELSE NULL END AS coll \
             FROM pg_catalog.pg_attribute a",
        )
        .expect("parse")
        .remove(0);
        let mut hoister = CaseSubqueries::default();
        let _ = statement.visit(&mut hoister);
        assert!(hoister.hoisted);
        assert_eq!(
            statement.to_string(),
            "SELECT (SELECT t.typname FROM pg_catalog.pg_type t \
             WHERE (t.oid = a.atttypid) AND (a.attcollation <> 0)) AS coll \
             FROM pg_catalog.pg_attribute a"
        );
        // Hoisted, a lookup the crate stubs is stubbed (SQLAlchemy 2.1's column defaults).
        let stubbed = rewritten(
            "SELECT CASE WHEN a.atthasdef THEN (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) \
             FROM pg_catalog.pg_attrdef d WHERE d.adrelid = a.attrelid) END AS dflt \
             FROM pg_catalog.pg_attribute a",
        );
        assert!(stubbed.starts_with("SELECT NULL AS dflt"), "{stubbed}");
        // Anything but a NULL ELSE keeps the CASE (the subquery's NULL would replace it).
        let kept = rewritten(
            "SELECT CASE WHEN a.atthasdef THEN (SELECT t.typname FROM pg_catalog.pg_type t) ELSE 'x' END FROM pg_catalog.pg_attribute a",
        );
        assert!(kept.contains("CASE WHEN"), "{kept}");
    }

    #[test]
    fn viewdef_reads_pg_views() {
        let sql = rewritten("SELECT pg_catalog.pg_get_viewdef('16390'::pg_catalog.oid, true)");
        assert!(sql.contains("pg_views"), "{sql}");
        // The call is gone; its name stays as the result column's (as PostgreSQL names it).
        assert!(!sql.contains("pg_get_viewdef("), "{sql}");
        assert!(sql.ends_with("AS \"pg_get_viewdef\""), "{sql}");
    }
}
