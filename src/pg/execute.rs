//! Running commands for one connection: planning queries with DataFusion, streaming their
//! rows, and answering session and transaction statements from the connection's settings.
//!
//! Both protocols go through here. The simple protocol plans and runs each statement of the
//! query string in turn; the extended protocol plans at `Parse` ([`prepare`]: parameter and
//! result types are known before `Bind`) and runs at `Execute` ([`run`]) with the bound values.
//!
//! Statements that would change shared state are refused (`42501`): DDL (`CREATE`, `DROP`, which
//! would change the catalog every connection shares) and DML (`INSERT`, `COPY … TO` a server
//! file). `SET` of DataFusion settings is allowed: it changes only this connection's session.

use std::fmt::Debug;
use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::{LogicalPlan, Statement as PlanStatement};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;
use futures::{Sink, SinkExt, StreamExt, stream};
use pgwire::api::portal::Format;
use pgwire::api::results::{CopyResponse, FieldInfo, QueryResponse, Response, Tag};
use pgwire::api::{ClientInfo, Type};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::CopyData;
use pgwire::messages::response::TransactionStatus;
use pgwire::messages::startup::ParameterStatus;

use super::cancel::interruptible;
use super::copy::{CopyOptions, copy_line};
use super::encode::{ResultColumns, row_stream};
use super::error::{code, from_datafusion, user_error};
use super::origin::{column_origins, schema_and_name};
use super::params::{
    ParamType, assign_declared_types, declared_by_casts, decode_parameters, parameter_types,
};
use super::routines::reports_of;
use super::session::{Cursor, Session};
use super::statement::{self, Command};
use super::table_args;
use super::types::parameter_type;

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
    plan: LogicalPlan,
    params: Vec<ParamType>,
    columns: Option<ResultColumns>,
    tag: &'static str,
    /// Set when placeholders sit in table-function arguments: the statement is planned again
    /// with their values at execution ([`super::table_args`]).
    deferred: Option<Deferred>,
}

/// A statement to plan again once its table-function arguments are bound.
#[derive(Debug)]
struct Deferred {
    statement: DfStatement,
    /// The placeholder numbers inside table-function arguments.
    numbers: Vec<usize>,
}

impl Prepared {
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

const SHOW_ALL_COLUMNS: [&str; 3] = ["name", "setting", "description"];

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
    planned.deferred = Some(Deferred {
        statement,
        numbers: types.iter().map(|(n, _, _)| *n).collect(),
    });
    Ok(planned)
}

/// Plans one statement with DataFusion.
async fn plan_statement(
    session: &Session,
    statement: DfStatement,
    declared: &[Option<Type>],
) -> PgWireResult<PlannedQuery> {
    let tag = tag_of(&statement);
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
    })
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

/// Runs the statements of a simple-protocol query string, in order, stopping at the first
/// error (which is the last response). Row results stream when the responses are sent.
pub(crate) async fn run_simple<C>(
    session: &Session,
    client: &mut C,
    sql: &str,
) -> PgWireResult<Vec<Response>>
where
    C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let commands = statement::parse(sql).map_err(|e| from_datafusion(&e))?;
    if commands.is_empty() {
        return Ok(vec![Response::EmptyQuery]);
    }
    let mut responses = Vec::with_capacity(commands.len());
    for command in commands {
        let result = match prepare(session, command, &[]).await {
            Ok(prepared) => {
                let text = &Format::UnifiedText;
                run(session, client, &prepared, &[], (text, text)).await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(response) => responses.push(response),
            Err(e) => {
                responses.push(Response::Error(Box::new(e.into())));
                break;
            }
        }
    }
    Ok(responses)
}

/// Runs a prepared statement with the bound parameter values (`Bind`'s raw values and formats),
/// writing result columns in `format`.
pub(crate) async fn run<C>(
    session: &Session,
    client: &mut C,
    prepared: &Prepared,
    values: &[Option<bytes::Bytes>],
    formats: (&Format, &Format),
) -> PgWireResult<Response>
where
    C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let (parameter_format, result_format) = formats;
    match prepared {
        Prepared::Query(query) => {
            let params = decode_parameters(
                &query.params,
                values,
                parameter_format,
                &session.output_options().time_zone,
            )?;
            run_query(session, query, params, result_format).await
        }
        Prepared::Copy(query, options) => {
            let params = decode_parameters(
                &query.params,
                values,
                parameter_format,
                &session.output_options().time_zone,
            )?;
            run_copy(session, query, params, options).await
        }
        Prepared::Declare { name, query, hold } => {
            let params = decode_parameters(
                &query.params,
                values,
                parameter_format,
                &session.output_options().time_zone,
            )?;
            let Some(columns) = &query.columns else {
                return Err(user_error(
                    code::SYNTAX_ERROR,
                    "a cursor needs a query that returns rows",
                ));
            };
            // Fetches come and go: a cursor has no statement_timeout, only cancels.
            let batches = start(session, query, params, false).await?;
            let encoder = columns.encoder(&Format::UnifiedText, session.output_options());
            let cursor = Cursor {
                columns: columns.clone(),
                rows: tokio::sync::Mutex::new(row_stream(batches, encoder).boxed()),
                hold: *hold,
            };
            session.open_cursor(name, cursor)?;
            Ok(Response::Execution(Tag::new("DECLARE CURSOR")))
        }
        Prepared::Command { command, columns } => {
            if !values.is_empty() {
                return Err(user_error(
                    code::PROTOCOL_VIOLATION,
                    format!(
                        "bind message supplies {} parameters, but prepared statement requires 0",
                        values.len()
                    ),
                ));
            }
            run_command(session, client, command, columns.as_ref(), result_format).await
        }
    }
}

async fn run_query(
    session: &Session,
    query: &PlannedQuery,
    params: Vec<ScalarValue>,
    format: &Format,
) -> PgWireResult<Response> {
    let Some(columns) = &query.columns else {
        start(session, query, params, true).await?;
        return Ok(Response::Execution(Tag::new(query.tag)));
    };
    let batches = start(session, query, params, true).await?;
    let encoder = columns.encoder(format, session.output_options());
    let mut response = QueryResponse::new(encoder.fields(), row_stream(batches, encoder));
    response.set_command_tag(query.tag);
    Ok(Response::Query(response))
}

/// Starts `query` with `params` bound: its record batches, stopped by a cancel request or
/// (if `timed`) `statement_timeout`. A statement that returns no rows has run when this returns.
async fn start(
    session: &Session,
    query: &PlannedQuery,
    params: Vec<ScalarValue>,
    timed: bool,
) -> PgWireResult<SendableRecordBatchStream> {
    let interrupt = if timed {
        session.interrupt()
    } else {
        session.canceler().interrupt(None)
    };
    let plan = match &query.deferred {
        // Table-function arguments bound: plan again with their values written in.
        Some(deferred) => {
            let statement = table_args::substitute(&deferred.statement, |n| {
                if deferred.numbers.contains(&n) {
                    params.get(n.wrapping_sub(1)).and_then(table_args::literal)
                } else {
                    None
                }
            });
            let declared: Vec<Option<Type>> =
                query.params.iter().map(|p| Some(p.pg.clone())).collect();
            let fresh = plan_statement(session, statement, &declared).await?;
            fresh
                .plan
                .with_param_values(ParamValues::from(params))
                .map_err(|e| from_datafusion(&e))?
        }
        None if query.params.is_empty() => query.plan.clone(),
        None => query
            .plan
            .clone()
            .with_param_values(ParamValues::from(params))
            .map_err(|e| from_datafusion(&e))?,
    };
    let frame = session
        .context()
        .execute_logical_plan(plan)
        .await
        .map_err(|e| from_datafusion(&e))?;
    let batches = frame
        .execute_stream()
        .await
        .map_err(|e| from_datafusion(&e))?;
    Ok(interruptible(batches, interrupt))
}

/// Runs the query of a `COPY … TO STDOUT`, its rows streamed as `CopyData` ([`super::copy`]).
async fn run_copy(
    session: &Session,
    query: &PlannedQuery,
    params: Vec<ScalarValue>,
    options: &CopyOptions,
) -> PgWireResult<Response> {
    let Some(columns) = &query.columns else {
        return Err(user_error(
            code::FEATURE_NOT_SUPPORTED,
            "COPY needs a query that returns rows",
        ));
    };
    let batches = start(session, query, params, true).await?;
    let encoder = columns.encoder(&Format::UnifiedText, session.output_options());
    let header = options.header.then(|| {
        let mut line = String::new();
        options.header_line(columns.names(), &mut line);
        line
    });
    // The header goes out with the first row (or alone, after an empty result).
    let header = Arc::new(std::sync::Mutex::new(header));
    let take_header = {
        let header = header.clone();
        move || {
            header
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take()
        }
    };
    let rows_header = take_header.clone();
    let line_options = options.clone();
    let lines = row_stream(batches, encoder).map(move |row| {
        row.map(|row| CopyData::new(copy_line(&line_options, rows_header(), &row)))
    });
    let trailer = stream::once(async move {
        Ok(CopyData::new(bytes::Bytes::from(
            take_header().unwrap_or_default(),
        )))
    });
    Ok(Response::CopyOut(CopyResponse::new(
        0,
        columns.column_count(),
        lines.chain(trailer),
    )))
}

async fn run_command<C>(
    session: &Session,
    client: &mut C,
    command: &Command,
    columns: Option<&ResultColumns>,
    format: &Format,
) -> PgWireResult<Response>
where
    C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let response = match command {
        Command::Begin(tag) => Response::TransactionStart(Tag::new(tag)),
        Command::Commit => {
            // COMMIT of a failed transaction rolls it back, and says so.
            session.end_transaction();
            let tag = if client.transaction_status() == TransactionStatus::Error {
                "ROLLBACK"
            } else {
                "COMMIT"
            };
            Response::TransactionEnd(Tag::new(tag))
        }
        Command::Rollback => {
            session.end_transaction();
            Response::TransactionEnd(Tag::new("ROLLBACK"))
        }
        Command::NoOp(tag) => Response::Execution(Tag::new(tag)),
        Command::Set(assignments) => {
            for (name, value) in assignments {
                if let Some(reported) = session.set(name, value)? {
                    report(client, reported).await?;
                }
            }
            Response::Execution(Tag::new("SET"))
        }
        Command::Reset(Some(name)) => {
            if let Some(reported) = session.reset(name) {
                report(client, reported).await?;
            }
            Response::Execution(Tag::new("RESET"))
        }
        Command::Reset(None) | Command::Discard => {
            for reported in session.reset_all() {
                report(client, reported).await?;
            }
            let tag = if matches!(command, Command::Discard) {
                "DISCARD ALL"
            } else {
                "RESET"
            };
            Response::Execution(Tag::new(tag))
        }
        Command::Show(name) => {
            let rows: Vec<Vec<String>> = match name {
                Some(name) => {
                    let (_, value) = session.get(name).ok_or_else(|| {
                        user_error(
                            code::UNDEFINED_OBJECT,
                            format!("unrecognized configuration parameter \"{name}\""),
                        )
                    })?;
                    vec![vec![value]]
                }
                None => session
                    .all()
                    .into_iter()
                    .map(|(name, value)| vec![name, value, String::new()])
                    .collect(),
            };
            let columns = columns
                .cloned()
                .unwrap_or_else(|| ResultColumns::text(&SHOW_ALL_COLUMNS));
            text_rows(session, &columns, rows, format, "SHOW")?
        }
        Command::Fetch { name, count, skip } => {
            let cursor = session.cursor(name)?;
            let Some(count) = *count else {
                return fetch(&cursor, usize::MAX, *skip, format, session).await;
            };
            if count == u64::MAX {
                return Err(user_error(
                    code::OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "cursor can only scan forward",
                ));
            }
            return fetch(
                &cursor,
                usize::try_from(count).unwrap_or(usize::MAX),
                *skip,
                format,
                session,
            )
            .await;
        }
        Command::Close(name) => {
            session.close_cursor(name.as_deref())?;
            Response::Execution(Tag::new(if name.is_some() {
                "CLOSE CURSOR"
            } else {
                "CLOSE CURSOR ALL"
            }))
        }
        Command::Query(_) | Command::CopyOut { .. } | Command::Declare { .. } => {
            return Err(user_error(
                code::INTERNAL_ERROR,
                "query reached the command runner unplanned",
            ));
        }
    };
    Ok(response)
}

/// `FETCH`: up to `count` rows of `cursor` (`skip`: `MOVE`, counted but not sent).
async fn fetch(
    cursor: &Cursor,
    count: usize,
    skip: bool,
    format: &Format,
    session: &Session,
) -> PgWireResult<Response> {
    let mut rows = Vec::new();
    let mut moved = 0usize;
    {
        let mut stream = cursor.rows.lock().await;
        while moved < count {
            match stream.next().await {
                Some(row) => {
                    let row = row?;
                    moved += 1;
                    if !skip {
                        rows.push(Ok(row));
                    }
                }
                None => break,
            }
        }
    }
    if skip {
        return Ok(Response::Execution(Tag::new("MOVE").with_rows(moved)));
    }
    // Rows were encoded as text when the cursor was declared.
    let _ = format;
    let encoder = cursor
        .columns
        .encoder(&Format::UnifiedText, session.output_options());
    let mut response = QueryResponse::new(encoder.fields(), stream::iter(rows));
    response.set_command_tag("FETCH");
    Ok(Response::Query(response))
}

/// Sends a changed setting to the client (`ParameterStatus`).
async fn report<C>(client: &mut C, (name, value): (String, String)) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    client
        .feed(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
            name, value,
        )))
        .await?;
    Ok(())
}

/// A small result computed here (not by DataFusion): rows of text values.
fn text_rows(
    session: &Session,
    columns: &ResultColumns,
    rows: Vec<Vec<String>>,
    format: &Format,
    tag: &str,
) -> PgWireResult<Response> {
    let fields: Vec<Field> = (0..columns.column_count())
        .map(|i| Field::new(format!("c{i}"), DataType::Utf8, true))
        .collect();
    let arrays: Vec<ArrayRef> = (0..columns.column_count())
        .map(|i| {
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|row| row.get(i).map_or("", String::as_str)),
            )) as ArrayRef
        })
        .collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| user_error(code::INTERNAL_ERROR, e.to_string()))?;
    let encoder = columns.encoder(format, session.output_options());
    let rows = encoder.encode(&batch)?;
    let mut response = QueryResponse::new(encoder.fields(), stream::iter(rows.into_iter().map(Ok)));
    response.set_command_tag(tag);
    Ok(Response::Query(response))
}
