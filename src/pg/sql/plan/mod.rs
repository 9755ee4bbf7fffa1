//! Planning: a parsed command becomes a [`Prepared`] statement. Queries are planned with
//! DataFusion (parameter types in [`params`], result columns with their table origins, table
//! functions with bound arguments deferred to execution); session statements are described
//! (the columns of `SHOW`, `FETCH`).
//!
//! The extended protocol plans at `Parse` (parameter and result types are known before `Bind`);
//! the simple protocol plans each statement of the query string in turn (`super::run`).
//!
//! Statements that would change shared state are refused (`42501`): DDL (`CREATE`, `DROP`, which
//! would change the catalog every connection shares) and DML (`INSERT`, `COPY … TO` a server
//! file). `SET` of DataFusion settings is allowed: it changes only this connection's session.
//! A session granted only some tenants may not run `EXPLAIN ANALYZE` (its scan metrics count the
//! rows of other tenants the tenant filter skipped), `EXPLAIN VERBOSE` or `EXPLAIN` with
//! statistics, nor set `datafusion.explain.*` (plan statistics show whole files' row counts and
//! value ranges): `42501`. Plain `EXPLAIN` is allowed.

pub(crate) mod params;

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::{LogicalPlan, Statement as PlanStatement};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;
use pgwire::api::Type;
use pgwire::api::portal::Format;
use pgwire::api::results::FieldInfo;
use pgwire::error::PgWireResult;

use super::origin::{column_origins, schema_and_name};
use super::statement::{self, Command};
use super::table_args;
use crate::pg::catalog::routines::reports_of;
use crate::pg::error::{code, from_datafusion, user_error};
use crate::pg::session::Session;
use crate::pg::wire::copy::CopyOptions;
use crate::pg::wire::encode::ResultColumns;
use crate::pg::wire::types::parameter_type;
use params::{ParamType, assign_declared_types, declared_by_casts, parameter_types};

/// A statement ready to run: parsed and, for a query, planned.
#[derive(Debug, Clone)]
pub(crate) enum Prepared {
    /// A session or transaction statement, with the columns it returns (for `SHOW`).
    Command {
        /// The statement.
        command: Command,
        /// Result columns, if it returns rows.
        columns: Option<ResultColumns>,
    },
    /// A query planned by DataFusion.
    Query(Arc<PlannedQuery>),
    /// `COPY (query) TO STDOUT`: the planned query and how to write its rows.
    Copy(Arc<PlannedQuery>, CopyOptions),
    /// `DECLARE name CURSOR FOR query`: the planned query.
    Declare {
        /// The cursor's name.
        name: String,
        /// The planned query.
        query: Arc<PlannedQuery>,
        /// `WITH HOLD`.
        hold: bool,
    },
}

/// A DataFusion plan with its parameter and result types.
#[derive(Debug)]
pub(crate) struct PlannedQuery {
    /// The plan, placeholders left in.
    pub plan: LogicalPlan,
    /// The types of `$1 … $n`.
    pub params: Vec<ParamType>,
    /// The result columns, `None` for a statement that returns no rows.
    pub columns: Option<ResultColumns>,
    /// The command tag (`SELECT`, `EXPLAIN`, …).
    pub tag: &'static str,
    /// Set when placeholders sit in table-function arguments: the statement is planned again
    /// with their values at execution ([`super::table_args`]).
    pub deferred: Option<Deferred>,
    /// The statement's SQL (as parsed, placeholders left in), for `chatlake_activity()`.
    pub text: String,
}

/// A statement to plan again once its table-function arguments are bound.
#[derive(Debug)]
pub(crate) struct Deferred {
    /// The statement as the client wrote it.
    pub statement: DfStatement,
    /// The placeholder numbers inside table-function arguments.
    pub numbers: Vec<usize>,
}

impl Prepared {
    /// The types of `$1 … $n` and how their values are read (none for a session statement).
    pub fn params(&self) -> &[ParamType] {
        match self {
            Prepared::Command { .. } => &[],
            Prepared::Query(q) | Prepared::Copy(q, _) | Prepared::Declare { query: q, .. } => {
                &q.params
            }
        }
    }

    /// The types of `$1 … $n`.
    pub fn parameter_types(&self) -> Vec<Type> {
        match self {
            Prepared::Command { .. } => Vec::new(),
            Prepared::Query(q) | Prepared::Copy(q, _) | Prepared::Declare { query: q, .. } => {
                q.params.iter().map(|p| p.pg.clone()).collect()
            }
        }
    }

    /// The result columns, or `None` for a statement that returns no rows.
    pub fn columns(&self) -> Option<&ResultColumns> {
        match self {
            Prepared::Command { columns, .. } => columns.as_ref(),
            Prepared::Query(q) => q.columns.as_ref(),
            // COPY and DECLARE send no RowDescription.
            Prepared::Copy(..) | Prepared::Declare { .. } => None,
        }
    }

    /// `RowDescription` fields in `format` (empty when no rows are returned).
    pub fn field_infos(&self, format: &Format) -> Vec<FieldInfo> {
        self.columns()
            .map(|c| c.field_infos(format))
            .unwrap_or_default()
    }
}

/// Parses one statement of an extended-protocol `Parse` (`Ok(None)`: empty query).
pub(crate) async fn parse_one(
    session: &Session,
    sql: &str,
    declared: &[Option<Type>],
) -> PgWireResult<Option<Prepared>> {
    let mut commands = statement::parse(sql).map_err(|e| from_datafusion(&e))?;
    match commands.len() {
        0 => Ok(None),
        1 => prepare(session, commands.remove(0), declared)
            .await
            .map(Some),
        _ => Err(user_error(
            code::SYNTAX_ERROR,
            "cannot insert multiple commands into a prepared statement",
        )),
    }
}

/// Plans `command` (queries) or describes it (session statements).
pub(crate) async fn prepare(
    session: &Session,
    command: Command,
    declared: &[Option<Type>],
) -> PgWireResult<Prepared> {
    match command {
        Command::Query(statement) => Ok(Prepared::Query(Arc::new(
            plan_query(session, *statement, declared).await?,
        ))),
        Command::Declare { name, query, hold } => Ok(Prepared::Declare {
            name,
            query: Arc::new(plan_query(session, *query, declared).await?),
            hold,
        }),
        Command::CopyOut { query, options } => Ok(Prepared::Copy(
            Arc::new(plan_query(session, *query, declared).await?),
            options,
        )),
        command => {
            let columns = match &command {
                Command::Show(Some(name)) => {
                    let name = session.get(name).map_or_else(|| name.clone(), |(n, _)| n);
                    Some(ResultColumns::text(&[name.as_str()]))
                }
                Command::Show(None) => Some(ResultColumns::text(&SHOW_ALL_COLUMNS)),
                Command::Fetch {
                    name, skip: false, ..
                } => Some(session.cursor(name)?.columns.clone()),
                _ => None,
            };
            Ok(Prepared::Command { command, columns })
        }
    }
}

/// The columns of `SHOW ALL`.
pub(crate) const SHOW_ALL_COLUMNS: [&str; 3] = ["name", "setting", "description"];

/// Plans a statement DataFusion runs (deferring table functions with bound arguments).
async fn plan_query(
    session: &Session,
    statement: DfStatement,
    declared: &[Option<Type>],
) -> PgWireResult<PlannedQuery> {
    let reports = reports_of(&session.context().state());
    let table_args = table_args::find(&statement, &reports);
    if table_args.is_empty() {
        return plan_statement(session, statement, declared).await;
    }
    // The type of each table-function placeholder: the client's, else the function's.
    let mut types: Vec<(usize, DataType, Option<Type>)> = Vec::new();
    for arg in &table_args {
        let client = declared
            .get(arg.number.wrapping_sub(1))
            .cloned()
            .flatten()
            .filter(|t| *t != Type::UNKNOWN);
        if !types.iter().any(|(n, _, _)| *n == arg.number) {
            types.push((arg.number, table_args::data_type(arg), client));
        }
    }
    let arrow_type = |n: usize| types.iter().find(|(m, _, _)| *m == n).map(|(_, t, _)| t);
    // Planned with typed NULLs (or sample values, for required arguments) for Describe.
    let with_nulls = table_args::substitute(&statement, |n| {
        arrow_type(n).and_then(table_args::typed_null)
    });
    let mut planned = match plan_statement(session, with_nulls, declared).await {
        Ok(planned) => planned,
        Err(null_error) => {
            let with_samples =
                table_args::substitute(&statement, |n| arrow_type(n).and_then(table_args::sample));
            plan_statement(session, with_samples, declared)
                .await
                .map_err(|_| null_error)?
        }
    };
    let count = types
        .iter()
        .map(|(n, _, _)| *n)
        .max()
        .unwrap_or(0)
        .max(planned.params.len());
    planned.params.resize(
        count,
        ParamType {
            pg: Type::TEXT,
            inferred: None,
        },
    );
    for (n, arrow, client) in &types {
        if *n == 0 {
            continue;
        }
        planned.params[n - 1] = ParamType {
            pg: client.clone().unwrap_or_else(|| parameter_type(arrow)),
            inferred: Some(arrow.clone()),
        };
    }
    planned.text = statement.to_string();
    planned.deferred = Some(Deferred {
        statement,
        numbers: types.iter().map(|(n, _, _)| *n).collect(),
    });
    Ok(planned)
}

/// Plans one statement with DataFusion.
pub(crate) async fn plan_statement(
    session: &Session,
    statement: DfStatement,
    declared: &[Option<Type>],
) -> PgWireResult<PlannedQuery> {
    let tag = tag_of(&statement);
    let text = statement.to_string();
    let declared = &declared_by_casts(&statement, declared);
    let plan = session
        .context()
        .state()
        .statement_to_plan(statement)
        .await
        .map_err(|e| from_datafusion(&e))?;
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(true)
        .verify_plan(&plan)
        .map_err(|e| from_datafusion(&e))?;
    check_tenant_policy(session, &plan)?;
    let plan = assign_declared_types(plan, declared);
    let params = parameter_types(&plan, declared)?;
    let columns = match returns_rows(&plan) {
        true => Some(
            ResultColumns::new(plan.schema().fields().iter().map(|f| f.as_ref()))
                .with_origins(origins(session, &plan).await),
        ),
        false => None,
    };
    Ok(PlannedQuery {
        plan,
        params,
        columns,
        tag,
        deferred: None,
        text,
    })
}

/// Refuses what would let a session granted only some tenants learn about other tenants' rows
/// (see the module docs). A session granted all tenants may do anything.
fn check_tenant_policy(session: &Session, plan: &LogicalPlan) -> PgWireResult<()> {
    if session.tenant_grant().is_all() {
        return Ok(());
    }
    let refused = match plan {
        LogicalPlan::Analyze(_) => Some("EXPLAIN ANALYZE".to_string()),
        LogicalPlan::Explain(explain) if explain.verbose => Some("EXPLAIN VERBOSE".to_string()),
        LogicalPlan::Explain(explain) if explain.show_statistics == Some(true) => {
            Some("EXPLAIN with statistics".to_string())
        }
        LogicalPlan::Statement(PlanStatement::SetVariable(set))
            if set
                .variable
                .to_ascii_lowercase()
                .starts_with("datafusion.explain.") =>
        {
            Some(format!("SET {}", set.variable))
        }
        _ => None,
    };
    match refused {
        Some(what) => Err(user_error(
            code::INSUFFICIENT_PRIVILEGE,
            format!(
                "permission denied: {what} is not available to a session limited to some tenants"
            ),
        )),
        None => Ok(()),
    }
}

/// The table OID and column number of each result column that is a plain column of a table.
async fn origins(session: &Session, plan: &LogicalPlan) -> Vec<Option<(i32, i16)>> {
    let traced = column_origins(plan);
    if traced.iter().all(Option::is_none) {
        return Vec::new();
    }
    let default_schema = session
        .context()
        .state()
        .config()
        .options()
        .catalog
        .default_schema
        .clone();
    let relations: Vec<(String, String)> = traced
        .iter()
        .flatten()
        .map(|(table, _)| schema_and_name(table, &default_schema))
        .collect();
    let mut oids = session.relation_oids(&relations).await.into_iter();
    traced
        .into_iter()
        .map(|origin| {
            let (_, column) = origin?;
            let oid = oids.next().flatten()?;
            Some((oid, i16::try_from(column + 1).ok()?))
        })
        .collect()
}

/// The command tag of a statement DataFusion runs (the row count is added for row results).
fn tag_of(statement: &DfStatement) -> &'static str {
    match statement {
        DfStatement::Statement(sql) => match sql.as_ref() {
            SqlStatement::Explain { .. } => "EXPLAIN",
            SqlStatement::Set(_) => "SET",
            SqlStatement::ShowVariable { .. } => "SHOW",
            SqlStatement::Prepare { .. } => "PREPARE",
            SqlStatement::Deallocate { .. } => "DEALLOCATE",
            _ => "SELECT",
        },
        DfStatement::Explain(_) => "EXPLAIN",
        DfStatement::Reset(_) => "RESET",
        DfStatement::CreateExternalTable(_) => "CREATE TABLE",
        DfStatement::CopyTo(_) => "COPY",
    }
}

/// Whether running `plan` yields rows (statements and DDL only report completion).
fn returns_rows(plan: &LogicalPlan) -> bool {
    !matches!(
        plan,
        LogicalPlan::Ddl(_)
            | LogicalPlan::Statement(
                PlanStatement::SetVariable(_)
                    | PlanStatement::ResetVariable(_)
                    | PlanStatement::Prepare(_)
                    | PlanStatement::Deallocate(_)
                    | PlanStatement::TransactionStart(_)
                    | PlanStatement::TransactionEnd(_)
            )
    )
}
