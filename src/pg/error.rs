//! The one mapping from DataFusion errors to Postgres SQLSTATEs, and the error values the front
//! end sends.
//!
//! The deepest DataFusion error of the chain decides (context wrappers, diagnostics and Arrow
//! `External` wrappers are looked through):
//!
//! | Error | SQLSTATE |
//! |---|---|
//! | SQL parser error | `42601` syntax_error (`54001` when the nesting limit is hit) |
//! | plan: `table '…' not found` | `42P01` undefined_table |
//! | plan: unknown function, table function or no matching signature | `42883` undefined_function |
//! | plan: types that cannot be compared or coerced | `42804` datatype_mismatch |
//! | plan: non-aggregated column outside `GROUP BY` | `42803` grouping_error |
//! | plan: statement rejected by the server's policy (DDL, DML) | `42501` insufficient_privilege |
//! | plan: placeholder without a value | `42P02` undefined_parameter |
//! | plan: anything else — a bad call, e.g. an unknown zone or a bad mode (`plan_err!`) | `22023` invalid_parameter_value |
//! | schema: unknown / ambiguous / duplicate column | `42703` / `42702` / `42701` |
//! | not implemented | `0A000` feature_not_supported |
//! | configuration: unknown setting / bad value | `42704` undefined_object / `22023` |
//! | execution: bad data (`exec_err!`) | `22000` data_exception |
//! | Arrow: division by zero / overflow / cast or parse failure / bad argument | `22012` / `22003` / `22P02` / `22023` |
//! | resources exhausted, out of memory | `53200` out_of_memory |
//! | object store, I/O, Parquet | `58030` io_error |
//! | query canceled ([`QueryCanceled`], [`StatementTimeout`]) | `57014` query_canceled |
//! | internal and everything else | `XX000` internal_error |

use std::fmt;

use arrow::error::ArrowError;
use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;
use pgwire::error::{ErrorInfo, PgWireError};

/// SQLSTATE codes the front end sends.
pub mod code {
    /// `42601` syntax_error.
    pub const SYNTAX_ERROR: &str = "42601";
    /// `54001` statement_too_complex.
    pub const STATEMENT_TOO_COMPLEX: &str = "54001";
    /// `42P01` undefined_table.
    pub const UNDEFINED_TABLE: &str = "42P01";
    /// `42883` undefined_function.
    pub const UNDEFINED_FUNCTION: &str = "42883";
    /// `42703` undefined_column.
    pub const UNDEFINED_COLUMN: &str = "42703";
    /// `42702` ambiguous_column.
    pub const AMBIGUOUS_COLUMN: &str = "42702";
    /// `42701` duplicate_column.
    pub const DUPLICATE_COLUMN: &str = "42701";
    /// `42804` datatype_mismatch.
    pub const DATATYPE_MISMATCH: &str = "42804";
    /// `42803` grouping_error.
    pub const GROUPING_ERROR: &str = "42803";
    /// `42501` insufficient_privilege.
    pub const INSUFFICIENT_PRIVILEGE: &str = "42501";
    /// `42P02` undefined_parameter.
    pub const UNDEFINED_PARAMETER: &str = "42P02";
    /// `42704` undefined_object (also: unrecognized configuration parameter).
    pub const UNDEFINED_OBJECT: &str = "42704";
    /// `22023` invalid_parameter_value.
    pub const INVALID_PARAMETER_VALUE: &str = "22023";
    /// `22000` data_exception.
    pub const DATA_EXCEPTION: &str = "22000";
    /// `22012` division_by_zero.
    pub const DIVISION_BY_ZERO: &str = "22012";
    /// `22003` numeric_value_out_of_range.
    pub const NUMERIC_VALUE_OUT_OF_RANGE: &str = "22003";
    /// `22P02` invalid_text_representation.
    pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";
    /// `0A000` feature_not_supported.
    pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
    /// `53200` out_of_memory.
    pub const OUT_OF_MEMORY: &str = "53200";
    /// `53300` too_many_connections.
    pub const TOO_MANY_CONNECTIONS: &str = "53300";
    /// `58030` io_error.
    pub const IO_ERROR: &str = "58030";
    /// `34000` invalid_cursor_name.
    pub const INVALID_CURSOR_NAME: &str = "34000";
    /// `42P03` duplicate_cursor.
    pub const DUPLICATE_CURSOR: &str = "42P03";
    /// `55000` object_not_in_prerequisite_state (e.g. a backward fetch on a forward cursor).
    pub const OBJECT_NOT_IN_PREREQUISITE_STATE: &str = "55000";
    /// `57014` query_canceled.
    pub const QUERY_CANCELED: &str = "57014";
    /// `55P02` cant_change_runtime_param.
    pub const CANT_CHANGE_RUNTIME_PARAM: &str = "55P02";
    /// `08P01` protocol_violation.
    pub const PROTOCOL_VIOLATION: &str = "08P01";
    /// `42P18` indeterminate_datatype.
    pub const INDETERMINATE_DATATYPE: &str = "42P18";
    /// `XX000` internal_error.
    pub const INTERNAL_ERROR: &str = "XX000";
}

/// The error a running query ends with when the client cancels it (SQLSTATE `57014`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryCanceled;

impl fmt::Display for QueryCanceled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("canceling statement due to user request")
    }
}

impl std::error::Error for QueryCanceled {}

/// The error a query ends with when it runs past `statement_timeout` (SQLSTATE `57014`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementTimeout;

impl fmt::Display for StatementTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("canceling statement due to statement timeout")
    }
}

impl std::error::Error for StatementTimeout {}

/// The SQLSTATE a DataFusion error is reported with (see the module table).
pub fn sqlstate(error: &DataFusionError) -> &'static str {
    let root = match error.find_root() {
        DataFusionError::Collection(errors) => errors.first().unwrap_or(error),
        root => root,
    };
    match root {
        DataFusionError::SQL(parser_error, _) => match parser_error.as_ref() {
            ParserError::RecursionLimitExceeded => code::STATEMENT_TOO_COMPLEX,
            _ => code::SYNTAX_ERROR,
        },
        DataFusionError::Plan(message) => plan_sqlstate(message),
        DataFusionError::SchemaError(schema_error, _) => match schema_error.as_ref() {
            SchemaError::FieldNotFound { .. } => code::UNDEFINED_COLUMN,
            SchemaError::AmbiguousReference { .. } => code::AMBIGUOUS_COLUMN,
            SchemaError::DuplicateQualifiedField { .. }
            | SchemaError::DuplicateUnqualifiedField { .. } => code::DUPLICATE_COLUMN,
        },
        DataFusionError::NotImplemented(_) => code::FEATURE_NOT_SUPPORTED,
        DataFusionError::Configuration(message) => {
            if message.contains("Could not find config namespace")
                || message.contains("not found")
                || message.contains("nrecognized")
            {
                code::UNDEFINED_OBJECT
            } else {
                code::INVALID_PARAMETER_VALUE
            }
        }
        DataFusionError::Execution(_) => code::DATA_EXCEPTION,
        DataFusionError::ArrowError(arrow_error, _) => arrow_sqlstate(arrow_error),
        DataFusionError::ResourcesExhausted(_) => code::OUT_OF_MEMORY,
        DataFusionError::ObjectStore(_)
        | DataFusionError::IoError(_)
        | DataFusionError::ParquetError(_) => code::IO_ERROR,
        DataFusionError::External(inner)
            if inner.downcast_ref::<QueryCanceled>().is_some()
                || inner.downcast_ref::<StatementTimeout>().is_some() =>
        {
            code::QUERY_CANCELED
        }
        _ => code::INTERNAL_ERROR,
    }
}

fn plan_sqlstate(message: &str) -> &'static str {
    let has = |needle: &str| message.contains(needle);
    if has("table function '") && has("not found") {
        code::UNDEFINED_FUNCTION
    } else if has("table '") && has("not found") {
        code::UNDEFINED_TABLE
    } else if message.starts_with("Invalid function '")
        || has("No function matches the given name and argument types")
        || has("Failed to coerce arguments to satisfy a call to")
        || has("does not support zero arguments")
        || (has("expects") && has("arguments but received"))
    {
        code::UNDEFINED_FUNCTION
    } else if has("column '") && has("not found") {
        code::UNDEFINED_COLUMN
    } else if has("Cannot infer common")
        || has("Cannot coerce")
        || has("isn't a common type")
        || has("Cannot automatically convert")
    {
        code::DATATYPE_MISMATCH
    } else if has("GROUP BY") || has("must appear in") || has("non-aggregate values") {
        code::GROUPING_ERROR
    } else if has("DDL not supported") || has("DML not supported") || has("Statement not supported")
    {
        code::INSUFFICIENT_PRIVILEGE
    } else if has("No value found for placeholder") || has("Unknown placeholder") {
        code::UNDEFINED_PARAMETER
    } else {
        code::INVALID_PARAMETER_VALUE
    }
}

fn arrow_sqlstate(error: &ArrowError) -> &'static str {
    match error {
        ArrowError::DivideByZero => code::DIVISION_BY_ZERO,
        ArrowError::ArithmeticOverflow(_) => code::NUMERIC_VALUE_OUT_OF_RANGE,
        ArrowError::CastError(_) | ArrowError::ParseError(_) => code::INVALID_TEXT_REPRESENTATION,
        ArrowError::InvalidArgumentError(_) => code::INVALID_PARAMETER_VALUE,
        ArrowError::ComputeError(_) => code::DATA_EXCEPTION,
        ArrowError::MemoryError(_) => code::OUT_OF_MEMORY,
        ArrowError::IoError(_, _) => code::IO_ERROR,
        _ => code::INTERNAL_ERROR,
    }
}

/// The wire error for a failed DataFusion call: SQLSTATE from [`sqlstate`], the first line of
/// the message as the message and any further lines (DataFusion's "Did you mean …?") as hint.
pub(crate) fn from_datafusion(error: &DataFusionError) -> PgWireError {
    // A canceled statement says why, in PostgreSQL's words.
    if let DataFusionError::External(inner) = error.find_root()
        && (inner.downcast_ref::<QueryCanceled>().is_some()
            || inner.downcast_ref::<StatementTimeout>().is_some())
    {
        return user_error(code::QUERY_CANCELED, inner.to_string());
    }
    let text = error.strip_backtrace();
    let (message, hint) = match text.split_once('\n') {
        Some((first, rest)) if !rest.trim().is_empty() => {
            (first.to_string(), Some(rest.trim().to_string()))
        }
        _ => (text.trim_end().to_string(), None),
    };
    let mut info = ErrorInfo::new("ERROR".to_string(), sqlstate(error).to_string(), message);
    info.hint = hint;
    PgWireError::UserError(Box::new(info))
}

/// A wire error with SQLSTATE `code` and `message`, severity `ERROR`.
pub(crate) fn user_error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        code.to_string(),
        message.into(),
    )))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn parser_errors_are_syntax_errors() {
        let e = DataFusionError::SQL(
            Box::new(ParserError::ParserError(
                "Expected: an SQL statement".into(),
            )),
            None,
        );
        assert_eq!(sqlstate(&e), "42601");
        let e = DataFusionError::SQL(Box::new(ParserError::RecursionLimitExceeded), None);
        assert_eq!(sqlstate(&e), "54001");
    }

    #[test]
    fn plan_errors_by_message() {
        let plan = |m: &str| sqlstate(&DataFusionError::Plan(m.into()));
        assert_eq!(plan("table 'chatlake.public.nope' not found"), "42P01");
        assert_eq!(plan("table function 'nope' not found"), "42883");
        assert_eq!(
            plan("Invalid function 'nope'.\nDid you mean 'now'?"),
            "42883"
        );
        assert_eq!(plan("DDL not supported: CreateView"), "42501");
        assert_eq!(plan("unknown time zone 'Mars/Olympus'"), "22023");
    }

    #[test]
    fn wrappers_are_looked_through() {
        let inner = DataFusionError::Plan("table 'x' not found".into());
        let wrapped = DataFusionError::Context("planning".into(), Box::new(inner));
        assert_eq!(sqlstate(&wrapped), "42P01");
        let shared = DataFusionError::Shared(Arc::new(DataFusionError::ArrowError(
            Box::new(ArrowError::DivideByZero),
            None,
        )));
        assert_eq!(sqlstate(&shared), "22012");
        let canceled = DataFusionError::External(Box::new(QueryCanceled));
        assert_eq!(sqlstate(&canceled), "57014");
        assert_eq!(sqlstate(&DataFusionError::Internal("bug".into())), "XX000");
    }

    #[test]
    fn hint_is_split_from_message() {
        let e = DataFusionError::Plan("Invalid function 'nope'.\nDid you mean 'now'?".into());
        match from_datafusion(&e) {
            PgWireError::UserError(info) => {
                assert_eq!(info.code, "42883");
                assert_eq!(
                    info.message,
                    "Error during planning: Invalid function 'nope'."
                );
                assert_eq!(info.hint.as_deref(), Some("Did you mean 'now'?"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
