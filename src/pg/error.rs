//! The one mapping from errors to Postgres SQLSTATEs ([`sqlstate`]), and the error values the
//! front end sends. Errors the front end raises itself (a bad `Bind`, an unknown cursor, a
//! read-only setting …) are built with their SQLSTATE where they arise ([`code`]).
//!
//! The deepest DataFusion error of the chain decides (context wrappers, diagnostics and Arrow
//! `External` wrappers are looked through). Its type decides wherever it has one; only
//! DataFusion's plan and configuration errors, which carry nothing but a message, are matched
//! by message (rows marked *message*; the patterns are `PLAN_MESSAGES` and `CONFIG_MESSAGES`):
//!
//! | Error | SQLSTATE |
//! |---|---|
//! | SQL parser error | `42601` syntax_error (`54001` when the nesting limit is hit) |
//! | *message* plan: `table '…' not found` | `42P01` undefined_table |
//! | *message* plan: unknown function, table function or no matching signature | `42883` undefined_function |
//! | *message* plan: types that cannot be compared or coerced | `42804` datatype_mismatch |
//! | *message* plan: non-aggregated column outside `GROUP BY` | `42803` grouping_error |
//! | *message* plan: statement rejected by the server's policy (DDL, DML) | `42501` insufficient_privilege |
//! | *message* plan: placeholder without a value | `42P02` undefined_parameter |
//! | plan: anything else — a bad call, e.g. an unknown zone or a bad mode (`plan_err!`) | `22023` invalid_parameter_value |
//! | schema: unknown / ambiguous / duplicate column | `42703` / `42702` / `42701` |
//! | not implemented | `0A000` feature_not_supported |
//! | *message* configuration: unknown setting / bad value | `42704` undefined_object / `22023` |
//! | execution: bad data (`exec_err!`) | `22000` data_exception |
//! | Arrow: division by zero / overflow / cast or parse failure / bad argument | `22012` / `22003` / `22P02` / `22023` |
//! | resources exhausted, out of memory | `53200` out_of_memory |
//! | object store, I/O, Parquet | `58030` io_error |
//! | query canceled ([`QueryCanceled`], [`StatementTimeout`]) | `57014` query_canceled |
//! | raised with its code inside a function ([`CodedError`]: `to_date`'s `22007`, `22008`) | that code |
//! | a quoted literal that is no boolean where one is compared with a boolean ([`InvalidBoolean`]) | `22P02` invalid_text_representation |
//! | ours ([`crate::error::Error`]): missing table / lake, Delta or I/O failure / bad URL or configuration | `42P01` / `58030` / `22023` (wrapped DataFusion and Arrow errors as above) |
//! | the lake's storage errors (`DeltaTableError`, `object_store::Error`, `std::io::Error`) | `58030` io_error |
//! | internal and everything else | `XX000` internal_error |

use std::fmt;

use arrow::error::ArrowError;
use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;
use pgwire::error::{ErrorInfo, PgWireError};

use crate::error::Error;

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
    /// `42710` duplicate_object.
    pub const DUPLICATE_OBJECT: &str = "42710";
    /// `22023` invalid_parameter_value.
    pub const INVALID_PARAMETER_VALUE: &str = "22023";
    /// `22000` data_exception.
    pub const DATA_EXCEPTION: &str = "22000";
    /// `22012` division_by_zero.
    pub const DIVISION_BY_ZERO: &str = "22012";
    /// `22003` numeric_value_out_of_range.
    pub const NUMERIC_VALUE_OUT_OF_RANGE: &str = "22003";
    /// `22007` invalid_datetime_format.
    pub const INVALID_DATETIME_FORMAT: &str = "22007";
    /// `22008` datetime_field_overflow.
    pub const DATETIME_FIELD_OVERFLOW: &str = "22008";
    /// `22P02` invalid_text_representation.
    pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";
    /// `0A000` feature_not_supported.
    pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
    /// `53200` out_of_memory.
    pub const OUT_OF_MEMORY: &str = "53200";
    /// `28P01` invalid_password (also: an unknown user, so names cannot be probed).
    pub const INVALID_PASSWORD: &str = "28P01";
    /// `28000` invalid_authorization_specification (e.g. a plain connection where TLS is required).
    pub const INVALID_AUTHORIZATION: &str = "28000";
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

/// A quoted literal that does not spell a boolean where one is expected (SQLSTATE `22P02`,
/// PostgreSQL's words: `invalid input syntax for type boolean: "maybe"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidBoolean(pub String);

impl fmt::Display for InvalidBoolean {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid input syntax for type boolean: \"{}\"", self.0)
    }
}

impl std::error::Error for InvalidBoolean {}

/// An error raised with its SQLSTATE where it arises, inside a function's evaluation (where
/// only a `DataFusionError` can be returned): `DataFusionError::External(Box::new(CodedError …))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodedError {
    code: &'static str,
    message: String,
}

impl CodedError {
    /// An error with SQLSTATE `code` (one of [`code`]) and `message`.
    pub fn new(code: &'static str, message: impl Into<String>) -> CodedError {
        CodedError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for CodedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CodedError {}

/// The SQLSTATE a DataFusion error is reported with (see the module table).
///
/// The error's type decides wherever it has one (parser, schema, Arrow, resources, I/O, our
/// [`crate::error::Error`], the cancel and boolean errors of this module); DataFusion's plan and
/// configuration errors carry only a message, matched against [`PLAN_MESSAGES`] and
/// [`CONFIG_MESSAGES`].
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
        DataFusionError::Plan(message) => {
            by_message(message, PLAN_MESSAGES, code::INVALID_PARAMETER_VALUE)
        }
        DataFusionError::SchemaError(schema_error, _) => match schema_error.as_ref() {
            SchemaError::FieldNotFound { .. } => code::UNDEFINED_COLUMN,
            SchemaError::AmbiguousReference { .. } => code::AMBIGUOUS_COLUMN,
            SchemaError::DuplicateQualifiedField { .. }
            | SchemaError::DuplicateUnqualifiedField { .. } => code::DUPLICATE_COLUMN,
        },
        DataFusionError::NotImplemented(_) => code::FEATURE_NOT_SUPPORTED,
        DataFusionError::Configuration(message) => {
            by_message(message, CONFIG_MESSAGES, code::INVALID_PARAMETER_VALUE)
        }
        DataFusionError::Execution(_) => code::DATA_EXCEPTION,
        DataFusionError::ArrowError(arrow_error, _) => arrow_sqlstate(arrow_error),
        DataFusionError::ResourcesExhausted(_) => code::OUT_OF_MEMORY,
        DataFusionError::ObjectStore(_)
        | DataFusionError::IoError(_)
        | DataFusionError::ParquetError(_) => code::IO_ERROR,
        DataFusionError::External(inner) => external_sqlstate(inner.as_ref()),
        _ => code::INTERNAL_ERROR,
    }
}

/// A message pattern of an error type that carries only a message.
#[derive(Debug, Clone, Copy)]
enum Pattern {
    /// The message contains every one of these.
    Contains(&'static [&'static str]),
    /// The message starts with this.
    StartsWith(&'static str),
}

/// DataFusion's plan errors (`plan_err!`: no type beyond the message), first match wins;
/// anything else is a bad call: `22023`.
const PLAN_MESSAGES: &[(Pattern, &str)] = {
    use Pattern::{Contains, StartsWith};
    &[
        (
            Contains(&["table function '", "not found"]),
            code::UNDEFINED_FUNCTION,
        ),
        (Contains(&["table '", "not found"]), code::UNDEFINED_TABLE),
        // set_config('chatlake.tenant', ...) of a tenant not granted (pg::session).
        (
            Contains(&["permission denied for tenant"]),
            code::INSUFFICIENT_PRIVILEGE,
        ),
        // COPY … TO 'file' (pg::wire::copy).
        (
            Contains(&["permission denied to COPY to a file"]),
            code::INSUFFICIENT_PRIVILEGE,
        ),
        (StartsWith("Invalid function '"), code::UNDEFINED_FUNCTION),
        (
            Contains(&["No function matches the given name and argument types"]),
            code::UNDEFINED_FUNCTION,
        ),
        (
            Contains(&["Failed to coerce arguments to satisfy a call to"]),
            code::UNDEFINED_FUNCTION,
        ),
        (
            Contains(&["does not support zero arguments"]),
            code::UNDEFINED_FUNCTION,
        ),
        (
            Contains(&["expects", "arguments but received"]),
            code::UNDEFINED_FUNCTION,
        ),
        (Contains(&["column '", "not found"]), code::UNDEFINED_COLUMN),
        (Contains(&["Cannot infer common"]), code::DATATYPE_MISMATCH),
        (Contains(&["Cannot coerce"]), code::DATATYPE_MISMATCH),
        (Contains(&["isn't a common type"]), code::DATATYPE_MISMATCH),
        (
            Contains(&["Cannot automatically convert"]),
            code::DATATYPE_MISMATCH,
        ),
        (Contains(&["GROUP BY"]), code::GROUPING_ERROR),
        (Contains(&["must appear in"]), code::GROUPING_ERROR),
        (Contains(&["non-aggregate values"]), code::GROUPING_ERROR),
        (
            Contains(&["DDL not supported"]),
            code::INSUFFICIENT_PRIVILEGE,
        ),
        (
            Contains(&["DML not supported"]),
            code::INSUFFICIENT_PRIVILEGE,
        ),
        (
            Contains(&["Statement not supported"]),
            code::INSUFFICIENT_PRIVILEGE,
        ),
        (
            Contains(&["No value found for placeholder"]),
            code::UNDEFINED_PARAMETER,
        ),
        (
            Contains(&["Unknown placeholder"]),
            code::UNDEFINED_PARAMETER,
        ),
    ]
};

/// DataFusion's configuration errors (no type beyond the message): an unknown setting is
/// `42704`, anything else a bad value, `22023`.
const CONFIG_MESSAGES: &[(Pattern, &str)] = &[
    (
        Pattern::Contains(&["Could not find config namespace"]),
        code::UNDEFINED_OBJECT,
    ),
    (Pattern::Contains(&["not found"]), code::UNDEFINED_OBJECT),
    (Pattern::Contains(&["nrecognized"]), code::UNDEFINED_OBJECT),
];

/// The SQLSTATE of the first pattern of `table` that `message` matches, else `otherwise`.
fn by_message(
    message: &str,
    table: &[(Pattern, &'static str)],
    otherwise: &'static str,
) -> &'static str {
    table
        .iter()
        .find(|(pattern, _)| match pattern {
            Pattern::Contains(needles) => needles.iter().all(|n| message.contains(n)),
            Pattern::StartsWith(prefix) => message.starts_with(prefix),
        })
        .map_or(otherwise, |(_, code)| code)
}

/// Errors from outside DataFusion, by type: ours (this module's, [`crate::error::Error`]) and
/// the lake's storage errors.
fn external_sqlstate(inner: &(dyn std::error::Error + Send + Sync + 'static)) -> &'static str {
    if inner.downcast_ref::<QueryCanceled>().is_some()
        || inner.downcast_ref::<StatementTimeout>().is_some()
    {
        code::QUERY_CANCELED
    } else if inner.downcast_ref::<InvalidBoolean>().is_some() {
        code::INVALID_TEXT_REPRESENTATION
    } else if let Some(error) = inner.downcast_ref::<CodedError>() {
        error.code
    } else if let Some(error) = inner.downcast_ref::<Error>() {
        error_sqlstate(error)
    } else if let Some(error) = inner.downcast_ref::<DataFusionError>() {
        sqlstate(error)
    } else if let Some(error) = inner.downcast_ref::<ArrowError>() {
        arrow_sqlstate(error)
    } else if inner.downcast_ref::<deltalake::DeltaTableError>().is_some()
        || inner.downcast_ref::<object_store::Error>().is_some()
        || inner.downcast_ref::<std::io::Error>().is_some()
    {
        code::IO_ERROR
    } else {
        code::INTERNAL_ERROR
    }
}

/// The SQLSTATE of one of our errors ([`crate::error::Error`]).
pub fn error_sqlstate(error: &Error) -> &'static str {
    match error {
        Error::MissingTable { .. } | Error::MissingDerivedTable { .. } => code::UNDEFINED_TABLE,
        Error::LakeUnreachable { .. } | Error::Delta { .. } | Error::Io { .. } => code::IO_ERROR,
        Error::LakeUrl { .. } | Error::Config(_) => code::INVALID_PARAMETER_VALUE,
        Error::Panicked { .. } => code::INTERNAL_ERROR,
        Error::DataFusion(error) => sqlstate(error),
        Error::Arrow(error) => arrow_sqlstate(error),
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
    if let DataFusionError::External(inner) = error.find_root()
        && let Some(invalid) = inner.downcast_ref::<InvalidBoolean>()
    {
        return user_error(code::INVALID_TEXT_REPRESENTATION, invalid.to_string());
    }
    if let DataFusionError::External(inner) = error.find_root()
        && let Some(coded) = inner.downcast_ref::<CodedError>()
    {
        return user_error(coded.code, coded.message.clone());
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

    #[test]
    fn our_errors_map_by_their_type() {
        let external = |e: Error| sqlstate(&DataFusionError::External(Box::new(e)));
        assert_eq!(
            external(Error::MissingTable {
                table: "messages".into(),
                location: "memory:///".into(),
            }),
            "42P01"
        );
        assert_eq!(
            external(Error::Io {
                context: "reading".into(),
                source: std::io::Error::other("disk"),
            }),
            "58030"
        );
        assert_eq!(external(Error::Config("bad".into())), "22023");
        // A DataFusion error inside ours decides by its own type.
        assert_eq!(
            external(Error::DataFusion(DataFusionError::ResourcesExhausted(
                "pool".into()
            ))),
            "53200"
        );
        let io = DataFusionError::External(Box::new(std::io::Error::other("gone")));
        assert_eq!(sqlstate(&io), "58030");
    }

    #[test]
    fn configuration_errors_by_message() {
        let config = |m: &str| sqlstate(&DataFusionError::Configuration(m.into()));
        assert_eq!(config("Could not find config namespace \"nope\""), "42704");
        assert_eq!(config("bad value"), "22023");
    }
}
