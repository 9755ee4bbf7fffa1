//! `COPY (query) TO STDOUT` and `COPY table [(columns)] TO STDOUT`: the statement and its
//! options (psql `\copy … to`, exports, dataframe clients). The rows are written batch by
//! batch by [`super::copy_rows`].
//!
//! | Option | Text format (default) | `FORMAT csv` / legacy `CSV` |
//! |---|---|---|
//! | `DELIMITER` | tab | `,` |
//! | `NULL` | `\N` | empty (an empty string is then written `""`) |
//! | `HEADER` | column names on the first line | column names on the first line |
//! | `QUOTE` / `ESCAPE` | — | `"` / same as `QUOTE` |
//! | escaping | backslash, the delimiter and the control characters `\b \f \n \r \t \v` get a backslash | values holding the delimiter, quote, CR/LF or equal to the NULL string are quoted, quotes doubled |
//!
//! The delimiter, quote and escape must each be one byte, as in PostgreSQL.
//!
//! Values are rendered exactly as in query results (the session's `TimeZone`, float digits,
//! array syntax). `COPY … FROM STDIN` and `COPY … TO 'file'` are refused.
//!
//! `FORMAT binary` (or the legacy `BINARY`, what connectorx/polars and the ADBC driver send)
//! writes PostgreSQL's binary COPY stream: the `PGCOPY` signature, then per row a 16-bit field
//! count and each field as a 32-bit length (-1 for NULL) and its binary value, the same bytes
//! a binary-format `DataRow` holds (`wire::encode`), and the `-1` trailer. Like PostgreSQL, the
//! text options (`DELIMITER`, `NULL`, `HEADER`, `QUOTE`, `ESCAPE`) are refused in binary mode.
//!
//! Rows are counted in the `COPY n` tag; the header line or the binary signature travels in
//! the first row's `CopyData` message, so it is not counted (after an empty result it goes out
//! alone, and pgwire then counts it: `COPY 1`).

use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::ast::{
    CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget, Ident, ObjectName,
    Query, Statement,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};

/// The start of a binary COPY stream: signature, flags (no OIDs), header extension length 0.
pub(crate) const BINARY_SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// The three formats of PostgreSQL's COPY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CopyFormat {
    /// Tab-separated, backslash escapes, `\N` for NULL.
    Text,
    /// RFC 4180-style CSV.
    Csv,
    /// `PGCOPY` binary: each value in its binary send format.
    Binary,
}

/// How rows are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CopyOptions {
    /// Text, CSV or binary.
    pub format: CopyFormat,
    /// Field separator.
    pub delimiter: char,
    /// What NULL is written as.
    pub null: String,
    /// First line holds the column names.
    pub header: bool,
    /// CSV quote character.
    pub quote: char,
    /// CSV escape character (for the quote inside quoted values).
    pub escape: char,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            format: CopyFormat::Text,
            delimiter: '\t',
            null: "\\N".into(),
            header: false,
            quote: '"',
            escape: '"',
        }
    }
}

/// A `COPY … TO STDOUT`: the query to run and how to write its rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CopyOut {
    /// The query producing the rows.
    pub query: Box<Query>,
    /// Format options.
    pub options: CopyOptions,
}

/// Whether `sql` starts with the word `COPY` (after white space and comments).
pub(crate) fn is_copy(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    rest.get(..4)
        .is_some_and(|w| w.eq_ignore_ascii_case("copy"))
        && rest[4..]
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || c == '(')
}

/// The start of the error a `COPY … TO 'file'` gets (SQLSTATE 42501, [`crate::pg::error`]).
pub(crate) const COPY_TO_FILE_DENIED: &str = "permission denied to COPY to a file";

/// Parses a `COPY` statement (`Ok(None)`: not a `COPY`); a `COPY` to a file or program is
/// refused with [`COPY_TO_FILE_DENIED`].
pub(crate) fn parse(sql: &str) -> Result<Option<CopyOut>, DataFusionError> {
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql)
        .map_err(|e| DataFusionError::SQL(Box::new(e), None))?;
    if statements.len() != 1 {
        return Err(DataFusionError::NotImplemented(
            "COPY must be the only statement of its query string".into(),
        ));
    }
    let Some(Statement::Copy {
        source,
        to,
        target,
        options,
        legacy_options,
        ..
    }) = statements.pop()
    else {
        return Ok(None);
    };
    if !to {
        return Err(DataFusionError::NotImplemented(
            "COPY FROM is not supported: chatlake is read-only over the Postgres protocol".into(),
        ));
    }
    if !matches!(target, CopyTarget::Stdout) {
        // Whatever the options: DataFusion's parser knows only its own COPY spelling.
        return Err(DataFusionError::Plan(format!(
            "{COPY_TO_FILE_DENIED}: clients never write files on the server (COPY ... TO STDOUT sends the rows to the client; operators write files with `chatlake export`)"
        )));
    }
    let query = match source {
        CopySource::Query(query) => query,
        CopySource::Table {
            table_name,
            columns,
        } => table_query(table_name, columns)?,
    };
    Ok(Some(CopyOut {
        query,
        options: copy_options(&options, &legacy_options)?,
    }))
}

/// `SELECT columns FROM table`.
fn table_query(table: ObjectName, columns: Vec<Ident>) -> Result<Box<Query>, DataFusionError> {
    let list = if columns.is_empty() {
        "*".to_string()
    } else {
        columns
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sql = format!("SELECT {list} FROM {table}");
    match Parser::parse_sql(&PostgreSqlDialect {}, &sql)
        .map_err(|e| DataFusionError::SQL(Box::new(e), None))?
        .pop()
    {
        Some(Statement::Query(query)) => Ok(query),
        _ => Err(DataFusionError::Plan(format!("cannot copy from {table}"))),
    }
}

fn copy_options(
    options: &[CopyOption],
    legacy: &[CopyLegacyOption],
) -> Result<CopyOptions, DataFusionError> {
    let mut format = CopyFormat::Text;
    let mut delimiter = None;
    let mut null = None;
    let mut header = false;
    let mut quote = None;
    let mut escape = None;
    let unsupported = |what: String| {
        Err(DataFusionError::NotImplemented(format!(
            "COPY option {what}"
        )))
    };
    for option in options {
        match option {
            CopyOption::Format(name) => match name.value.to_ascii_lowercase().as_str() {
                "csv" => format = CopyFormat::Csv,
                "text" => format = CopyFormat::Text,
                "binary" => format = CopyFormat::Binary,
                other => {
                    return Err(DataFusionError::Plan(format!(
                        "COPY format \"{other}\" not recognized"
                    )));
                }
            },
            CopyOption::Delimiter(c) => delimiter = Some(*c),
            CopyOption::Null(s) => null = Some(s.clone()),
            CopyOption::Header(h) => header = *h,
            CopyOption::Quote(c) => quote = Some(*c),
            CopyOption::Escape(c) => escape = Some(*c),
            CopyOption::Encoding(e) => {
                if !matches!(
                    e.to_ascii_uppercase().as_str(),
                    "UTF8" | "UTF-8" | "UNICODE"
                ) {
                    return unsupported(format!("ENCODING '{e}' (only UTF8)"));
                }
            }
            CopyOption::Freeze(_) | CopyOption::ForceNotNull(_) | CopyOption::ForceNull(_) => {}
            CopyOption::ForceQuote(_) => return unsupported("FORCE_QUOTE".into()),
        }
    }
    for option in legacy {
        match option {
            CopyLegacyOption::Binary => format = CopyFormat::Binary,
            CopyLegacyOption::Delimiter(c) => delimiter = Some(*c),
            CopyLegacyOption::Null(s) => null = Some(s.clone()),
            CopyLegacyOption::Header => header = true,
            CopyLegacyOption::Csv(csv_options) => {
                format = CopyFormat::Csv;
                for o in csv_options {
                    match o {
                        CopyLegacyCsvOption::Header => header = true,
                        CopyLegacyCsvOption::Quote(c) => quote = Some(*c),
                        CopyLegacyCsvOption::Escape(c) => escape = Some(*c),
                        CopyLegacyCsvOption::ForceNotNull(_) => {}
                        CopyLegacyCsvOption::ForceQuote(_) => {
                            return unsupported("FORCE QUOTE".into());
                        }
                    }
                }
            }
            other => return unsupported(other.to_string()),
        }
    }
    // PostgreSQL's checks and SQLSTATEs (copy.c, ProcessCopyOptions).
    if format == CopyFormat::Binary {
        for (option, given) in [("DELIMITER", delimiter.is_some()), ("NULL", null.is_some())] {
            if given {
                return Err(DataFusionError::SQL(
                    Box::new(ParserError::ParserError(format!(
                        "cannot specify {option} in BINARY mode"
                    ))),
                    None,
                ));
            }
        }
        if header {
            return unsupported("HEADER: cannot specify HEADER in BINARY mode".into());
        }
    }
    if format != CopyFormat::Csv {
        for (option, given) in [("quote", quote.is_some()), ("escape", escape.is_some())] {
            if given {
                return unsupported(format!(
                    "{option}: COPY {option} available only in CSV mode"
                ));
            }
        }
    }
    // PostgreSQL: "COPY delimiter must be a single one-byte character" (0A000), same for
    // the quote and escape.
    for (option, given) in [
        ("delimiter", delimiter),
        ("quote", quote),
        ("escape", escape),
    ] {
        if given.is_some_and(|c| !c.is_ascii()) {
            return unsupported(format!(
                "{option}: COPY {option} must be a single one-byte character"
            ));
        }
    }
    let csv = format == CopyFormat::Csv;
    let quote = quote.unwrap_or('"');
    let delimiter = delimiter.unwrap_or(if csv { ',' } else { '\t' });
    if delimiter == '\n' || delimiter == '\r' || (!csv && delimiter == '\\') {
        return Err(DataFusionError::Plan(
            "COPY delimiter cannot be newline, carriage return or backslash".into(),
        ));
    }
    if csv && delimiter == quote {
        return Err(DataFusionError::Plan(
            "COPY delimiter and quote must be different".into(),
        ));
    }
    Ok(CopyOptions {
        format,
        delimiter,
        null: null.unwrap_or_else(|| if csv { String::new() } else { "\\N".into() }),
        header,
        quote,
        escape: escape.unwrap_or(quote),
    })
}

impl CopyOptions {
    /// The `CopyOutResponse` format code: 1 for binary, else 0.
    pub fn format_code(&self) -> i8 {
        i8::from(self.format == CopyFormat::Binary)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The options of a `COPY … TO STDOUT` statement (test helper, also of `copy_rows`).
    pub(crate) fn options(sql: &str) -> CopyOptions {
        parse(sql)
            .ok()
            .flatten()
            .map(|c| c.options)
            .unwrap_or_else(|| panic!("not a COPY TO STDOUT: {sql}"))
    }

    #[test]
    fn recognises_copy() {
        assert!(is_copy("COPY (SELECT 1) TO STDOUT"));
        assert!(is_copy("  -- export\n copy(select 1) to stdout"));
        assert!(!is_copy("COPYRIGHT"));
        assert!(!is_copy("SELECT 'COPY'"));
    }

    #[test]
    fn options_as_psql_and_exports_write_them() {
        let csv = options("COPY ( SELECT 1 ) TO STDOUT csv header");
        assert!(
            csv.format == CopyFormat::Csv
                && csv.header
                && csv.delimiter == ','
                && csv.null.is_empty()
        );
        let tsv = options("COPY (SELECT 1) TO STDOUT (FORMAT csv, DELIMITER E'\\t', HEADER)");
        assert!(tsv.format == CopyFormat::Csv && tsv.header && tsv.delimiter == '\t');
        let text = options("COPY messages TO STDOUT");
        assert_eq!(text, CopyOptions::default());
        // What ADBC (`(FORMAT binary)`) and connectorx (`WITH BINARY`) send.
        for sql in [
            "COPY (SELECT 1) TO STDOUT (FORMAT binary)",
            "COPY (SELECT 1) TO STDOUT WITH BINARY",
        ] {
            assert_eq!(options(sql).format, CopyFormat::Binary, "{sql}");
        }
        // PostgreSQL 15 answers these (SQLSTATEs checked in tests/python/test_dataframes.py).
        for (sql, message) in [
            (
                "COPY (SELECT 1) TO STDOUT (FORMAT binary, HEADER)",
                "cannot specify HEADER in BINARY mode",
            ),
            (
                "COPY (SELECT 1) TO STDOUT (FORMAT binary, DELIMITER ',')",
                "cannot specify DELIMITER in BINARY mode",
            ),
            (
                "COPY (SELECT 1) TO STDOUT WITH BINARY NULL 'x'",
                "cannot specify NULL in BINARY mode",
            ),
            (
                "COPY (SELECT 1) TO STDOUT (FORMAT binary, QUOTE '\"')",
                "COPY quote available only in CSV mode",
            ),
            (
                "COPY (SELECT 1) TO STDOUT (ESCAPE '\\')",
                "COPY escape available only in CSV mode",
            ),
        ] {
            let err = parse(sql).expect_err(sql).to_string();
            assert!(err.contains(message), "{sql}: {err}");
        }
        assert!(parse("COPY t FROM STDIN").is_err());
        for sql in [
            "COPY (SELECT 1) TO '/tmp/x.csv'",
            "COPY (SELECT 1) TO '/tmp/x.csv' (FORMAT csv, HEADER)",
            "COPY messages TO PROGRAM 'cat'",
        ] {
            let err = parse(sql).expect_err(sql);
            assert!(
                err.to_string().contains(COPY_TO_FILE_DENIED),
                "{sql}: {err}"
            );
        }
    }
}
