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
//! Unqualified table names in a report resolve in the caller's default schema (`public`).//!
//! | File | Job |
//! |---|---|
//! | `mod.rs` | the definitions ([`ReportDef`], [`ParamDef`], [`LetDef`]) and [`prepare`]: parse and plan every file at start-up |
//! | `header.rs` | the header: description, `param:` and `let:` lines |
//! | `substitute.rs` | `$name` placeholders: finding them, typed SQL literals, the range and zone values, argument checks |
//! | `function.rs` | [`ReportFunction`]: the table function, one call's provider (lets, channel zone, planning) and its sealed plan |

mod function;
mod header;
mod substitute;

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::{ScalarValue, plan_datafusion_err, plan_err};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;

use function::zone_sql;
pub use function::{ReportCall, ReportFunction};
use header::parse_header;
use substitute::{placeholder_names, placeholders, sample_values, substitute};

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
    /// The start-up plans (sample values) of the body and of every let: what tables the
    /// report reads and what functions it calls, whatever its arguments (the result cache
    /// walks them).
    reads: Vec<LogicalPlan>,
    /// The start-up plan of the channel-zone lookup (`channels`, `tenants`), for a report
    /// whose zone can default to its channel's.
    zone_reads: Option<LogicalPlan>,
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
        reads: Vec::new(),
        zone_reads: None,
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
        report.reads.push(plan);
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
    report.reads.push(plan);
    if report.has_range() && report.param("channel_id").is_some() {
        let zone = ctx.state().create_logical_plan(&zone_sql("")).await?;
        report.zone_reads = Some(zone);
    }
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
