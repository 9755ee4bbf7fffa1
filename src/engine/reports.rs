//! Report table functions: a `sql/reports/<name>.sql` file becomes `SELECT * FROM name(...)`.
//!
//! A report file is a header of `--` comment lines, then one `SELECT` (CTEs welcome):
//!
//! ```sql
//! -- Daily inbound user messages and new users.          <- description (plain comment lines)
//! -- param: from_date date                                <- parameters, in call order
//! -- param: to_date date
//! -- param: channel_id text
//! -- param: tz text
//! -- param: campaign_id text required                     <- must be given (not NULL)
//! -- param: top bigint default 10                         <- default when omitted or NULL
//! SELECT ... WHERE ts >= $range_start AND ts < $range_end AND dt BETWEEN $dt_from AND $dt_to
//! ```
//!
//! | item | semantics |
//! |---|---|
//! | types | `date`, `text`, `bigint`, `boolean`; an argument is cast to the type (`'2026-10-01'` is a date) |
//! | arguments | positional, all optional unless `required`; NULL or omitted = the default; more than declared is an error |
//! | constants only | arguments must fold to constants (`current_date - 7` works; a column does not) |
//! | `$name` | replaced by the argument as a typed SQL literal (`DATE '2026-10-01'`, `'ch_1'`, `CAST(NULL AS VARCHAR)`) |
//! | range | a report declaring `from_date` and `to_date` gets the SPEC 6 range: local dates, inclusive; default month-to-date in `tz` |
//! | `tz` | default: the channel's zone (`channels.tz`, else its tenant's) when `channel_id` is given, else `'UTC'`; an unknown zone is an error |
//! | derived | `$range_start`, `$range_end` = `local_day_start(from, tz)`, `local_day_start(to + 1, tz)` (filter `ts >= start AND ts < end`); `$dt_from`, `$dt_to` = `from - 1`, `to + 1` (UTC partition dates that cover any zone) |
//! | errors | `to < from` or more than 366 days: a plan error starting `invalid report parameter:` (SQLSTATE 22023) |
//! | `-- let: name type = SELECT ...` | a value computed per call before the report's query: the one-column, at most one-row query runs with the parameters (and earlier lets) substituted, and `$name` becomes its answer as a literal (typed NULL when no row). Lets turn a fact the data knows, such as the first day a campaign can touch, into a constant the `dt` pruning and Parquet statistics can use, which a join or scalar subquery in the body cannot |
//! | planning | the SQL is planned once at start-up (its output schema; errors name the file) and again per call with the literals, so `dt` pruning and Parquet predicates see constants |
//!
//! Unqualified table names in a report resolve in the caller's default schema (`public`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use chrono::{DateTime, Days, NaiveDate, Utc};
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

use super::sql_files::SourceFile;
use crate::error::{Error, Result};

/// The prefix of every bad-argument error of a report (the pg layer maps it to SQLSTATE 22023).
pub const PARAM_ERROR_PREFIX: &str = "invalid report parameter";

/// Longest allowed range, in days (inclusive of both ends).
pub const MAX_RANGE_DAYS: i64 = 366;

/// The type of a report parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A calendar date (`Date32`).
    Date,
    /// A string.
    Text,
    /// A 64-bit integer.
    BigInt,
    /// A boolean.
    Boolean,
}

impl ParamType {
    fn parse(word: &str) -> Option<ParamType> {
        match word.to_ascii_lowercase().as_str() {
            "date" => Some(ParamType::Date),
            "text" | "varchar" | "string" => Some(ParamType::Text),
            "bigint" | "int" | "integer" | "int8" => Some(ParamType::BigInt),
            "boolean" | "bool" => Some(ParamType::Boolean),
            _ => None,
        }
    }

    /// The Arrow type arguments are cast to.
    pub fn data_type(self) -> DataType {
        match self {
            ParamType::Date => DataType::Date32,
            ParamType::Text => DataType::Utf8,
            ParamType::BigInt => DataType::Int64,
            ParamType::Boolean => DataType::Boolean,
        }
    }

    /// The Postgres name of the type (for catalogs such as `\df`).
    pub fn pg_name(self) -> &'static str {
        match self {
            ParamType::Date => "date",
            ParamType::Text => "text",
            ParamType::BigInt => "bigint",
            ParamType::Boolean => "boolean",
        }
    }
}

/// One declared parameter of a report.
#[derive(Debug, Clone)]
pub struct ParamDef {
    /// Name, as used in the SQL (`$name`).
    pub name: String,
    /// Type arguments are cast to.
    pub ty: ParamType,
    /// Whether a non-NULL argument must be given.
    pub required: bool,
    /// Value used when the argument is omitted or NULL (typed NULL if none).
    pub default: ScalarValue,
}

/// A value a report computes before its main query: `-- let: name type = SELECT ...`.
#[derive(Debug, Clone)]
pub struct LetDef {
    /// Name, as used in the SQL (`$name`).
    pub name: String,
    /// Type the answer is cast to.
    pub ty: ParamType,
    /// The scalar query (one column, at most one row), with `$` placeholders.
    sql: String,
}

/// A parsed report file: name, parameters, SQL body and output schema.
#[derive(Debug)]
pub struct ReportDef {
    /// Function name (the file stem).
    pub name: String,
    /// Where the file came from, for error messages.
    pub origin: String,
    /// The description comment lines of the header, joined by spaces.
    pub description: String,
    /// Parameters in call order.
    pub params: Vec<ParamDef>,
    /// Values computed per call before the query, in header order.
    pub lets: Vec<LetDef>,
    /// The SQL text (header included; comments are harmless).
    sql: String,
    /// Output schema, from planning the report once at start-up (all fields nullable).
    pub schema: SchemaRef,
}

impl ReportDef {
    /// Whether the report takes the standard date range (`from_date` and `to_date`).
    pub fn has_range(&self) -> bool {
        self.param("from_date").is_some() && self.param("to_date").is_some()
    }

    fn param(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    /// A one-line signature such as `stella_users(from_date date, to_date date, ...)`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{} {}", p.name, p.ty.pg_name()))
            .collect();
        format!("{}({})", self.name, params.join(", "))
    }
}

/// Parses and plans every report file; the first error names its file.
pub async fn prepare(ctx: &SessionContext, files: &[SourceFile]) -> Result<Vec<Arc<ReportDef>>> {
    let mut reports = Vec::with_capacity(files.len());
    for file in files {
        let report = prepare_one(ctx, file)
            .await
            .map_err(|e| Error::Config(format!("{}: {}", file.origin, e.strip_backtrace())))?;
        reports.push(Arc::new(report));
    }
    Ok(reports)
}

async fn prepare_one(ctx: &SessionContext, file: &SourceFile) -> DfResult<ReportDef> {
    let name = file.stem.clone();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return plan_err!("a report file name must be a lower-case SQL identifier, not '{name}'");
    }
    let header = parse_header(&file.sql)?;
    let mut report = ReportDef {
        name,
        origin: file.origin.clone(),
        description: header.description,
        params: header.params,
        lets: header.lets,
        sql: file.sql.clone(),
        schema: Arc::new(Schema::empty()),
    };
    // Every `$name` must be known, so a typo fails at start-up rather than at call time; a let
    // may use the parameters and the lets above it.
    let mut known = placeholder_names(&report);
    for def in &report.lets {
        if known.contains(&def.name) {
            return plan_err!(
                "let {} has the name of a parameter or an earlier let",
                def.name
            );
        }
        check_placeholders(&def.sql, &known)
            .map_err(|e| plan_datafusion_err!("let {}: {}", def.name, e.message()))?;
        known.push(def.name.clone());
    }
    check_placeholders(&report.sql, &known)?;
    // Plan once with sample values: checks the SQL and fixes the output schema.
    let sample = sample_values(&report);
    for def in &report.lets {
        let plan = ctx
            .state()
            .create_logical_plan(&substitute(&def.sql, &sample))
            .await
            .map_err(|e| plan_datafusion_err!("let {}: {}", def.name, e.message()))?;
        if plan.schema().fields().len() != 1 {
            return plan_err!(
                "let {} must select one column, not {}",
                def.name,
                plan.schema().fields().len()
            );
        }
    }
    let sql = substitute(&report.sql, &sample);
    let plan = ctx.state().create_logical_plan(&sql).await?;
    let fields: Vec<Field> = plan
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    report.schema = Arc::new(Schema::new(fields));
    Ok(report)
}

/// Fails on the first `$name` of `sql` that is not in `known`.
fn check_placeholders(sql: &str, known: &[String]) -> DfResult<()> {
    for used in placeholders(sql) {
        if !known.contains(&used) {
            return plan_err!(
                "unknown parameter ${used} (declared: {})",
                known
                    .iter()
                    .map(|k| format!("${k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(())
}

/// What a report file's header declares.
#[derive(Debug)]
struct Header {
    description: String,
    params: Vec<ParamDef>,
    lets: Vec<LetDef>,
}

/// Reads the header: description lines, `param:` and `let:` lines, up to the first non-comment
/// line.
fn parse_header(sql: &str) -> DfResult<Header> {
    let mut description = Vec::new();
    let mut params: Vec<ParamDef> = Vec::new();
    let mut lets: Vec<LetDef> = Vec::new();
    for line in sql.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix("--") else {
            break;
        };
        let comment = comment.trim();
        if let Some(spec) = comment.strip_prefix("let:") {
            let def = parse_let(spec)?;
            if lets.iter().any(|l| l.name == def.name) {
                return plan_err!("let {} is declared twice", def.name);
            }
            lets.push(def);
            continue;
        }
        let Some(spec) = comment.strip_prefix("param:") else {
            if !comment.is_empty() {
                description.push(comment.to_string());
            }
            continue;
        };
        let words: Vec<&str> = spec.split_whitespace().collect();
        let (Some(name), Some(ty)) = (words.first(), words.get(1)) else {
            return plan_err!("bad header line '{line}': expected '-- param: <name> <type>'");
        };
        let Some(ty) = ParamType::parse(ty) else {
            return plan_err!(
                "parameter {name}: unknown type '{ty}' (date, text, bigint, boolean)"
            );
        };
        if params.iter().any(|p| p.name == *name) {
            return plan_err!("parameter {name} is declared twice");
        }
        let mut required = false;
        let mut default = ScalarValue::try_from(&ty.data_type())?;
        let mut rest = &words[2..];
        while let Some(word) = rest.first() {
            match word.to_ascii_lowercase().as_str() {
                "required" => {
                    required = true;
                    rest = &rest[1..];
                }
                "default" => {
                    let text = rest[1..].join(" ");
                    let text = text.trim_matches('\'');
                    default = ScalarValue::Utf8(Some(text.to_string()))
                        .cast_to(&ty.data_type())
                        .map_err(|e| {
                            plan_datafusion_err!("parameter {name}: bad default '{text}': {e}")
                        })?;
                    rest = &[];
                }
                other => {
                    return plan_err!(
                        "parameter {name}: unexpected '{other}' (expected 'required' or 'default <value>')"
                    );
                }
            }
        }
        params.push(ParamDef {
            name: name.to_string(),
            ty,
            required,
            default,
        });
    }
    Ok(Header {
        description: description.join(" "),
        params,
        lets,
    })
}

/// Parses the text after `let:`: `<name> <type> = <scalar query>`.
fn parse_let(spec: &str) -> DfResult<LetDef> {
    let bad = || {
        plan_datafusion_err!(
            "bad header line 'let:{spec}': expected '-- let: <name> <type> = SELECT ...'"
        )
    };
    let (left, query) = spec.split_once('=').ok_or_else(bad)?;
    let words: Vec<&str> = left.split_whitespace().collect();
    let [name, ty] = words.as_slice() else {
        return Err(bad());
    };
    let valid_name = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid_name || query.trim().is_empty() {
        return Err(bad());
    }
    let ty = ParamType::parse(ty).ok_or_else(|| {
        plan_datafusion_err!("let {name}: unknown type '{ty}' (date, text, bigint, boolean)")
    })?;
    Ok(LetDef {
        name: name.to_string(),
        ty,
        sql: query.trim().to_string(),
    })
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

fn placeholder_names(report: &ReportDef) -> Vec<String> {
    let mut names: Vec<String> = report.params.iter().map(|p| p.name.clone()).collect();
    if report.has_range() {
        for derived in ["range_start", "range_end", "dt_from", "dt_to"] {
            names.push(derived.to_string());
        }
        if report.param("tz").is_none() {
            names.push("tz".to_string());
        }
    }
    names
}

/// Calls `f` for each `$identifier` outside string literals and comments; returns the text with
/// each replaced by `f`'s answer (or left as is when `f` gives `None`).
fn rewrite_placeholders(sql: &str, mut f: impl FnMut(&str) -> Option<String>) -> String {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'\'' {
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'$' => {
                let start = i + 1;
                let mut end = start;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                {
                    end += 1;
                }
                let ident = &sql[start..end];
                if !ident.is_empty()
                    && !ident.as_bytes()[0].is_ascii_digit()
                    && let Some(replacement) = f(ident)
                {
                    out.push_str(&sql[copied..i]);
                    out.push_str(&replacement);
                    copied = end;
                }
                i = end.max(i + 1);
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied.min(sql.len())..]);
    out
}

fn placeholders(sql: &str) -> Vec<String> {
    let mut found = Vec::new();
    rewrite_placeholders(sql, |name| {
        found.push(name.to_string());
        None
    });
    found
}

fn substitute(sql: &str, values: &HashMap<String, String>) -> String {
    rewrite_placeholders(sql, |name| values.get(name).cloned())
}

/// A typed SQL literal for a parameter value.
fn sql_literal(value: &ScalarValue) -> String {
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => {
            format!("'{}'", s.replace('\'', "''"))
        }
        ScalarValue::Date32(Some(_)) => format!("DATE '{value}'"),
        ScalarValue::Int64(Some(n)) => format!("CAST({n} AS BIGINT)"),
        ScalarValue::Boolean(Some(b)) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        ScalarValue::Date32(None) => "CAST(NULL AS DATE)".to_string(),
        ScalarValue::Int64(None) => "CAST(NULL AS BIGINT)".to_string(),
        ScalarValue::Boolean(None) => "CAST(NULL AS BOOLEAN)".to_string(),
        _ => "CAST(NULL AS VARCHAR)".to_string(),
    }
}

fn date_value(date: NaiveDate) -> ScalarValue {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    ScalarValue::Date32(Some((date - epoch).num_days() as i32))
}

fn as_date(value: &ScalarValue) -> Option<NaiveDate> {
    match value {
        ScalarValue::Date32(Some(days)) => NaiveDate::from_ymd_opt(1970, 1, 1)
            .and_then(|e| e.checked_add_signed(chrono::Duration::days(i64::from(*days)))),
        _ => None,
    }
}

fn as_text(value: &ScalarValue) -> Option<&str> {
    match value {
        ScalarValue::Utf8(Some(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// Values used to plan a report at start-up (types only matter).
fn sample_values(report: &ReportDef) -> HashMap<String, String> {
    let mut args: Vec<ScalarValue> = report.params.iter().map(|p| p.default.clone()).collect();
    let day = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    for (param, arg) in report.params.iter().zip(args.iter_mut()) {
        if param.name == "from_date" || param.name == "to_date" {
            *arg = date_value(day);
        }
    }
    let mut values = literal_values(report, &args, day, day, "UTC");
    for def in &report.lets {
        let null = ScalarValue::try_from(&def.ty.data_type()).unwrap_or(ScalarValue::Null);
        values.insert(def.name.clone(), sql_literal(&null));
    }
    values
}

fn literal_values(
    report: &ReportDef,
    args: &[ScalarValue],
    from: NaiveDate,
    to: NaiveDate,
    tz: &str,
) -> HashMap<String, String> {
    let mut values: HashMap<String, String> = report
        .params
        .iter()
        .zip(args)
        .map(|(p, v)| (p.name.clone(), sql_literal(v)))
        .collect();
    if report.has_range() {
        let tz_lit = sql_literal(&ScalarValue::Utf8(Some(tz.to_string())));
        let next = to.checked_add_days(Days::new(1)).unwrap_or(to);
        let dt_from = from.checked_sub_days(Days::new(1)).unwrap_or(from);
        values.insert("from_date".into(), sql_literal(&date_value(from)));
        values.insert("to_date".into(), sql_literal(&date_value(to)));
        values.insert("tz".into(), tz_lit.clone());
        values.insert(
            "range_start".into(),
            format!(
                "local_day_start({}, {tz_lit})",
                sql_literal(&date_value(from))
            ),
        );
        values.insert(
            "range_end".into(),
            format!(
                "local_day_start({}, {tz_lit})",
                sql_literal(&date_value(next))
            ),
        );
        values.insert("dt_from".into(), sql_literal(&date_value(dt_from)));
        values.insert("dt_to".into(), sql_literal(&date_value(next)));
    }
    values
}

fn check_range(from: NaiveDate, to: NaiveDate) -> DfResult<()> {
    if to < from {
        return plan_err!("{PARAM_ERROR_PREFIX}: to_date {to} is before from_date {from}");
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_RANGE_DAYS {
        return plan_err!(
            "{PARAM_ERROR_PREFIX}: the range {from} to {to} covers {days} days; at most {MAX_RANGE_DAYS} are allowed"
        );
    }
    Ok(())
}

fn check_zone(tz: &str) -> DfResult<()> {
    chrono_tz::Tz::from_str(tz)
        .map(|_| ())
        .map_err(|_| plan_datafusion_err!("{PARAM_ERROR_PREFIX}: unknown time zone '{tz}'"))
}

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

use chrono::Datelike as _;

/// The zone of a channel: `channels.tz`, else its tenant's `tz`; `None` for an unknown channel.
async fn channel_zone(state: &SessionState, channel: &str) -> DfResult<Option<String>> {
    let ctx = SessionContext::new_with_state(state.clone());
    let sql = format!(
        "SELECT COALESCE(c.tz, t.tz) AS tz FROM channels c LEFT JOIN tenants t \
         ON t.tenant_id = c.tenant_id WHERE c.channel_id = {} LIMIT 1",
        sql_literal(&ScalarValue::Utf8(Some(channel.to_string())))
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
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

use arrow::array::Array as _;

#[async_trait]
impl TableProvider for ReportTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn get_logical_plan(&self) -> Option<Cow<'_, LogicalPlan>> {
        None
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let state = state
            .as_any()
            .downcast_ref::<SessionState>()
            .ok_or_else(|| {
                DataFusionError::Internal("report scan outside a SessionState".into())
            })?;
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
