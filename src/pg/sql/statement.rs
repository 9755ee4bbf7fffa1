//! SQL text → the commands the front end runs: session and transaction statements are answered
//! here, everything else is planned and run by DataFusion.
//!
//! Statements are parsed with DataFusion's parser in the PostgreSQL dialect, since clients speak
//! Postgres. A string holding only comments or semicolons is empty (no statements).
//!
//! | Statement | Command | Tag |
//! |---|---|---|
//! | `BEGIN`, `START TRANSACTION` | [`Command::Begin`]: accepted, no isolation (reads see the newest snapshot) | `BEGIN` / `START TRANSACTION` |
//! | `COMMIT`, `END` / `ROLLBACK` | [`Command::Commit`] / [`Command::Rollback`] | `COMMIT` (`ROLLBACK` after an error) / `ROLLBACK` |
//! | `SAVEPOINT`, `RELEASE`, `ROLLBACK TO` | accepted, no effect | `SAVEPOINT` / `RELEASE` / `ROLLBACK` |
//! | `SET x = v`, `SET x TO v`, `SET TIME ZONE v`, `SET NAMES v` | [`Command::Set`]: the connection's settings | `SET` |
//! | `SET SESSION CHARACTERISTICS …`, `SET TRANSACTION …`, `SET ROLE …` | accepted, no effect | `SET` |
//! | `RESET x`, `RESET ALL`, `DISCARD …` | settings back to defaults | `RESET` / `DISCARD ALL` |
//! | `SHOW x`, `SHOW ALL` | [`Command::Show`] | `SHOW` |
//! | `COPY (query) TO STDOUT`, `COPY table TO STDOUT` | [`Command::CopyOut`] (`wire::copy`) | `COPY n` |
//! | `DECLARE c CURSOR FOR q`, `FETCH [FORWARD] n / ALL / NEXT FROM c`, `CLOSE c`, `CLOSE ALL` | [`Command::Declare`], [`Command::Fetch`], [`Command::Close`]: forward-only cursors streaming from DataFusion | `DECLARE CURSOR`, `FETCH n`, `CLOSE CURSOR` |
//! | `UNLISTEN …` | accepted, no effect (no notifications) | `UNLISTEN` |
//! | `DEALLOCATE ALL` | accepted (prepared statements are replaced on re-`Parse`) | `DEALLOCATE ALL` |
//! | `SET`/`SHOW`/`RESET chatlake.tenant` | [`Command::Set`] / [`Command::Show`] / [`Command::Reset`]: the session's tenant narrowing | `SET` / `SHOW` / `RESET` |
//! | `SET`/`SHOW`/`RESET` of `datafusion.*` or other `chatlake.*`, queries, everything else | [`Command::Query`] | `SELECT n`, `SET`, … |

use datafusion::error::DataFusionError;
use datafusion::sql::parser::{DFParserBuilder, ResetStatement, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{
    CloseCursor, Declare, Expr as SqlExpr, FetchDirection, Ident, ObjectName, Set,
    Statement as SqlStatement, UnaryOperator, Value, ValueWithSpan,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;

use super::rewrite;
use crate::pg::wire::copy::{self, CopyOptions};

/// What one SQL statement asks of the front end.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Command {
    /// `BEGIN` / `START TRANSACTION`, with the tag to answer.
    Begin(&'static str),
    /// `COMMIT` / `END`.
    Commit,
    /// `ROLLBACK`.
    Rollback,
    /// A statement accepted without effect, answered with this tag.
    NoOp(&'static str),
    /// `SET`: `(name, value)` pairs for the connection's settings.
    Set(Vec<(String, String)>),
    /// `RESET name` (`None`: `RESET ALL`).
    Reset(Option<String>),
    /// `DISCARD ALL` (and other `DISCARD`s): settings back to defaults.
    Discard,
    /// `SHOW name` (`None`: `SHOW ALL`).
    Show(Option<String>),
    /// Planned and run by DataFusion.
    Query(Box<DfStatement>),
    /// `DECLARE name CURSOR FOR query`.
    Declare {
        /// The cursor's name.
        name: String,
        /// The query.
        query: Box<DfStatement>,
        /// `WITH HOLD`: the cursor outlives the transaction.
        hold: bool,
    },
    /// `FETCH [FORWARD] [n | ALL | NEXT] [FROM | IN] name` (`count`: `None` for all rows).
    Fetch {
        /// The cursor's name.
        name: String,
        /// How many rows (`None`: all that are left).
        count: Option<u64>,
        /// `MOVE`: skip the rows instead of returning them.
        skip: bool,
    },
    /// `CLOSE name` (`None`: `CLOSE ALL`).
    Close(Option<String>),
    /// `COPY … TO STDOUT`: a query whose rows are sent as COPY data.
    CopyOut {
        /// The query.
        query: Box<DfStatement>,
        /// How rows are written.
        options: CopyOptions,
    },
}

/// Parses `sql` into commands (none for an empty or comment-only string).
pub(crate) fn parse(sql: &str) -> Result<Vec<Command>, DataFusionError> {
    let sql = rewrite::whole_statement(sql).unwrap_or(sql);
    if copy::is_copy(sql)
        && let Some(copy) = copy::parse(sql)?
    {
        let query = rewrite::rewrite(SqlStatement::Query(copy.query));
        return Ok(vec![Command::CopyOut {
            query: Box::new(DfStatement::Statement(Box::new(query))),
            options: copy.options,
        }]);
    }
    let dialect = PostgreSqlDialect {};
    let statements: Vec<DfStatement> = DFParserBuilder::new(sql)
        .with_dialect(&dialect)
        .build()?
        .parse_statements()?
        .into_iter()
        .collect();
    // Client catalog queries need rewriting (super::rewrite). The crate's parser also swaps a
    // few whole psql/pgcli queries for stubs, which needs the original text: use it when every
    // statement is plain SQL (not DataFusion's own COPY / CREATE EXTERNAL TABLE / EXPLAIN).
    let plain = statements
        .iter()
        .all(|s| matches!(s, DfStatement::Statement(_)));
    let compat = plain
        .then(|| rewrite::compat_parse(sql))
        .flatten()
        .filter(|rewritten| rewritten.len() == statements.len());
    let statements: Vec<DfStatement> = match compat {
        Some(rewritten) => rewritten
            .into_iter()
            .map(|s| DfStatement::Statement(Box::new(rewrite::ours(s))))
            .collect(),
        None => statements
            .into_iter()
            .map(|s| match s {
                DfStatement::Statement(sql) => {
                    DfStatement::Statement(Box::new(rewrite::rewrite(*sql)))
                }
                // EXPLAIN shows the plan the statement runs with (and the result cache keys
                // the same plan), so its statement is rewritten as it would be alone.
                DfStatement::Explain(mut explain) => {
                    if let DfStatement::Statement(sql) = *explain.statement {
                        explain.statement =
                            Box::new(DfStatement::Statement(Box::new(rewrite::rewrite(*sql))));
                    }
                    DfStatement::Explain(explain)
                }
                other => other,
            })
            .collect(),
    };
    Ok(statements.into_iter().map(classify).collect())
}

/// The command for one parsed statement.
fn classify(statement: DfStatement) -> Command {
    match statement {
        DfStatement::Statement(sql) => classify_sql(sql),
        DfStatement::Reset(ResetStatement::Variable(ref variable)) => {
            let name = object_name(variable);
            if is_engine_setting(&name) {
                Command::Query(Box::new(statement))
            } else if name.eq_ignore_ascii_case("all") {
                Command::Reset(None)
            } else {
                Command::Reset(Some(name))
            }
        }
        other => Command::Query(Box::new(other)),
    }
}

fn classify_sql(statement: Box<SqlStatement>) -> Command {
    match *statement {
        SqlStatement::StartTransaction { begin, .. } => {
            Command::Begin(if begin { "BEGIN" } else { "START TRANSACTION" })
        }
        SqlStatement::Commit { .. } => Command::Commit,
        SqlStatement::Rollback {
            savepoint: None, ..
        } => Command::Rollback,
        SqlStatement::Rollback {
            savepoint: Some(_), ..
        } => Command::NoOp("ROLLBACK"),
        SqlStatement::Savepoint { .. } => Command::NoOp("SAVEPOINT"),
        SqlStatement::ReleaseSavepoint { .. } => Command::NoOp("RELEASE"),
        SqlStatement::Discard { .. } => Command::Discard,
        // No notifications here: nothing to listen to (asyncpg's pool reset sends UNLISTEN *).
        SqlStatement::UNLISTEN { .. } => Command::NoOp("UNLISTEN"),
        SqlStatement::Deallocate { ref name, .. } if name.value.eq_ignore_ascii_case("all") => {
            Command::NoOp("DEALLOCATE ALL")
        }
        SqlStatement::Declare { ref stmts } => declare(stmts)
            .unwrap_or_else(|| Command::Query(Box::new(DfStatement::Statement(statement.clone())))),
        SqlStatement::Fetch {
            ref name,
            ref direction,
            ..
        } => fetch(name, direction, false),
        SqlStatement::Close { ref cursor } => Command::Close(match cursor {
            CloseCursor::All => None,
            CloseCursor::Specific { name } => Some(name.value.clone()),
        }),
        SqlStatement::ShowVariable { ref variable } => {
            let name = show_name(variable);
            if is_engine_setting(&name) {
                Command::Query(Box::new(DfStatement::Statement(statement)))
            } else if name.eq_ignore_ascii_case("all") {
                Command::Show(None)
            } else {
                Command::Show(Some(name))
            }
        }
        SqlStatement::Set(ref set) => match classify_set(set) {
            Some(command) => command,
            None => Command::Query(Box::new(DfStatement::Statement(statement))),
        },
        _ => Command::Query(Box::new(DfStatement::Statement(statement))),
    }
}

/// `DECLARE name CURSOR FOR query`; `None` if it is no cursor declaration.
fn declare(stmts: &[Declare]) -> Option<Command> {
    let [declare] = stmts else {
        return None;
    };
    let query = declare.for_query.clone()?;
    let name = declare.names.first()?.value.clone();
    Some(Command::Declare {
        name,
        query: Box::new(DfStatement::Statement(Box::new(rewrite::rewrite(
            SqlStatement::Query(query),
        )))),
        hold: declare.hold == Some(true),
    })
}

/// `FETCH`: forward counts only (a backward fetch is refused when it runs).
fn fetch(name: &Ident, direction: &FetchDirection, skip: bool) -> Command {
    let number = |v: &ValueWithSpan| match &v.value {
        Value::Number(n, _) => n.parse::<i64>().ok(),
        _ => None,
    };
    let count = match direction {
        FetchDirection::Next => Some(1),
        FetchDirection::All | FetchDirection::ForwardAll => None,
        FetchDirection::Forward { limit: None } => Some(1),
        FetchDirection::Forward { limit: Some(n) } | FetchDirection::Count { limit: n } => {
            match number(n) {
                Some(n) if n >= 0 => Some(n.unsigned_abs()),
                _ => Some(u64::MAX),
            }
        }
        // Marked for refusal: the cursors are forward-only.
        _ => Some(u64::MAX),
    };
    Command::Fetch {
        name: name.value.clone(),
        count,
        skip,
    }
}

/// `SET …`; `None` when DataFusion should handle it (its own settings).
fn classify_set(set: &Set) -> Option<Command> {
    let assignment = |name: &ObjectName, values: &[SqlExpr]| -> Option<(String, String)> {
        let name = object_name(name);
        if is_engine_setting(&name) {
            return None;
        }
        let value = values
            .iter()
            .map(setting_value)
            .collect::<Vec<_>>()
            .join(", ");
        Some((name, value))
    };
    let command = match set {
        Set::SingleAssignment {
            variable, values, ..
        } => {
            let (name, value) = assignment(variable, values)?;
            if value.eq_ignore_ascii_case("default") {
                Command::Reset(Some(name))
            } else {
                Command::Set(vec![(name, value)])
            }
        }
        Set::MultipleAssignments { assignments } => Command::Set(
            assignments
                .iter()
                .map(|a| assignment(&a.name, std::slice::from_ref(&a.value)))
                .collect::<Option<Vec<_>>>()?,
        ),
        Set::SetTimeZone { value, .. } => {
            Command::Set(vec![("TimeZone".into(), setting_value(value))])
        }
        Set::SetNames { charset_name, .. } => {
            Command::Set(vec![("client_encoding".into(), charset_name.value.clone())])
        }
        _ => Command::NoOp("SET"),
    };
    Some(command)
}

/// Settings that belong to the DataFusion session config rather than to Postgres
/// (`chatlake.tenant` is the connection's: it is checked against the tenant grant).
fn is_engine_setting(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    (lower.starts_with("datafusion.") || lower.starts_with("chatlake."))
        && lower != crate::pg::session::TENANT_SETTING
}

fn object_name(name: &ObjectName) -> String {
    name.0
        .iter()
        .map(|part| match part.as_ident() {
            Some(ident) => ident.value.clone(),
            None => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The setting named by `SHOW`'s words (the parser drops the dots between them).
fn show_name(words: &[Ident]) -> String {
    let spaced = words
        .iter()
        .map(|w| w.value.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    match spaced.as_str() {
        "time zone" => "TimeZone".into(),
        "transaction isolation level" => "transaction_isolation".into(),
        "session authorization" => "session_authorization".into(),
        _ => words
            .iter()
            .map(|w| w.value.clone())
            .collect::<Vec<_>>()
            .join("."),
    }
}

/// The text of a `SET` value: strings unquoted, identifiers and numbers as written.
fn setting_value(expr: &SqlExpr) -> String {
    match expr {
        SqlExpr::Value(v) => match &v.value {
            Value::SingleQuotedString(s)
            | Value::DoubleQuotedString(s)
            | Value::EscapedStringLiteral(s)
            | Value::UnicodeStringLiteral(s)
            | Value::NationalStringLiteral(s) => s.clone(),
            Value::DollarQuotedString(s) => s.value.clone(),
            Value::Boolean(b) => if *b { "on" } else { "off" }.into(),
            other => other.to_string(),
        },
        SqlExpr::Identifier(ident) => ident.value.clone(),
        SqlExpr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => format!("-{}", setting_value(expr)),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(sql: &str) -> Command {
        let mut commands = parse(sql).unwrap_or_default();
        assert_eq!(commands.len(), 1, "{sql}");
        commands.remove(0)
    }

    #[test]
    fn empty_strings_have_no_commands() {
        for sql in ["", ";", " ; ;", "-- ping", "/* x */"] {
            assert!(parse(sql).map(|c| c.is_empty()).unwrap_or(false), "{sql}");
        }
    }

    #[test]
    fn transactions() {
        assert_eq!(one("BEGIN"), Command::Begin("BEGIN"));
        assert_eq!(
            one("START TRANSACTION ISOLATION LEVEL READ COMMITTED"),
            Command::Begin("START TRANSACTION")
        );
        assert_eq!(one("commit"), Command::Commit);
        assert_eq!(one("END"), Command::Commit);
        assert_eq!(one("ROLLBACK"), Command::Rollback);
        assert_eq!(one("SAVEPOINT \"_pg3_1\""), Command::NoOp("SAVEPOINT"));
        assert_eq!(one("RELEASE \"_pg3_1\""), Command::NoOp("RELEASE"));
        assert_eq!(one("ROLLBACK TO SAVEPOINT a"), Command::NoOp("ROLLBACK"));
    }

    #[test]
    fn settings() {
        let set = |n: &str, v: &str| Command::Set(vec![(n.to_string(), v.to_string())]);
        assert_eq!(
            one("SET application_name = 'psql'"),
            set("application_name", "psql")
        );
        assert_eq!(
            one("SET search_path TO public"),
            set("search_path", "public")
        );
        assert_eq!(
            one("SET TIME ZONE 'Asia/Kolkata'"),
            set("TimeZone", "Asia/Kolkata")
        );
        assert_eq!(
            one("SET extra_float_digits = 3"),
            set("extra_float_digits", "3")
        );
        assert_eq!(
            one("SET extra_float_digits = -2"),
            set("extra_float_digits", "-2")
        );
        // Setting names are case-insensitive (the parser may upper-case keywords).
        assert!(matches!(
            one("SET TimeZone TO DEFAULT"),
            Command::Reset(Some(name)) if name.eq_ignore_ascii_case("timezone")
        ));
        assert_eq!(one("RESET ALL"), Command::Reset(None));
        assert_eq!(
            one("RESET timezone"),
            Command::Reset(Some("timezone".into()))
        );
        assert_eq!(one("DISCARD ALL"), Command::Discard);
        assert_eq!(one("SHOW TimeZone"), Command::Show(Some("TimeZone".into())));
        assert_eq!(
            one("SHOW TIME ZONE"),
            Command::Show(Some("TimeZone".into()))
        );
        assert_eq!(
            one("SHOW TRANSACTION ISOLATION LEVEL"),
            Command::Show(Some("transaction_isolation".into()))
        );
        assert_eq!(one("SHOW ALL"), Command::Show(None));
        assert!(matches!(
            one("SET datafusion.execution.batch_size = 1024"),
            Command::Query(_)
        ));
        assert!(matches!(
            one("SHOW datafusion.execution.batch_size"),
            Command::Query(_)
        ));
    }

    #[test]
    fn queries_and_syntax_errors() {
        assert!(matches!(one("SELECT 1"), Command::Query(_)));
        assert_eq!(parse("SELECT 1; SELECT 2;").map(|c| c.len()).ok(), Some(2));
        assert!(parse("SELEC 1").is_err());
    }
}
