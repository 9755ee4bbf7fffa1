//! `COPY (query) TO STDOUT` and `COPY table [(columns)] TO STDOUT`: query results as COPY data,
//! streamed batch by batch (psql `\copy … to`, exports).
//!
//! | Option | Text format (default) | `FORMAT csv` / legacy `CSV` |
//! |---|---|---|
//! | `DELIMITER` | tab | `,` |
//! | `NULL` | `\N` | empty (an empty string is then written `""`) |
//! | `HEADER` | column names on the first line | column names on the first line |
//! | `QUOTE` / `ESCAPE` | — | `"` / same as `QUOTE` |
//! | escaping | `\\`, `\n`, `\r`, `\t` and the delimiter get a backslash | values holding the delimiter, quote, CR/LF or equal to the NULL string are quoted, quotes doubled |
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

use bytes::{Buf, BufMut, Bytes, BytesMut};
use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::ast::{
    CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget, Ident, ObjectName,
    Query, Statement,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use pgwire::api::portal::Format;
use pgwire::messages::data::DataRow;

/// The start of a binary COPY stream: signature, flags (no OIDs), header extension length 0.
const BINARY_SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

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
    /// The format rows are encoded in before they become COPY data.
    pub fn row_format(&self) -> Format {
        match self.format {
            CopyFormat::Binary => Format::UnifiedBinary,
            CopyFormat::Text | CopyFormat::Csv => Format::UnifiedText,
        }
    }

    /// The `CopyOutResponse` format code: 1 for binary, else 0.
    pub fn format_code(&self) -> i8 {
        i8::from(self.format == CopyFormat::Binary)
    }

    /// What precedes the first row: the binary signature, the header line, or nothing.
    pub fn preamble(&self, names: &[String]) -> Option<Bytes> {
        match self.format {
            CopyFormat::Binary => Some(Bytes::from_static(BINARY_SIGNATURE)),
            _ if self.header => {
                let mut line = String::new();
                self.header_line(names, &mut line);
                Some(Bytes::from(line))
            }
            _ => None,
        }
    }

    /// One row of COPY data (after `preamble`, for the first row) from a `DataRow` encoded
    /// in [`Self::row_format`].
    pub fn copy_data(&self, preamble: Option<Bytes>, row: &DataRow) -> Bytes {
        let preamble = preamble.unwrap_or_default();
        if self.format == CopyFormat::Binary {
            let mut out = BytesMut::with_capacity(preamble.len() + 2 + row.data.len());
            out.put_slice(&preamble);
            out.put_i16(row.field_count);
            out.put_slice(&row.data);
            return out.freeze();
        }
        let mut line = String::with_capacity(preamble.len() + row.data.len() + 8);
        line.push_str(&String::from_utf8_lossy(&preamble));
        self.row(row, &mut line);
        Bytes::from(line)
    }

    /// One line of COPY data from the text-format fields of a `DataRow`.
    pub fn row(&self, row: &DataRow, out: &mut String) {
        let mut data: &[u8] = &row.data;
        for i in 0..row.field_count {
            if i > 0 {
                out.push(self.delimiter);
            }
            if data.remaining() < 4 {
                break;
            }
            let length = data.get_i32();
            if length < 0 {
                out.push_str(&self.null);
                continue;
            }
            let length = usize::try_from(length).unwrap_or(0).min(data.remaining());
            let (value, rest) = data.split_at(length);
            data = rest;
            self.value(&String::from_utf8_lossy(value), out);
        }
        out.push('\n');
    }

    /// The header line.
    pub fn header_line(&self, names: &[String], out: &mut String) {
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                out.push(self.delimiter);
            }
            self.value(name, out);
        }
        out.push('\n');
    }

    fn value(&self, value: &str, out: &mut String) {
        if self.format == CopyFormat::Csv {
            let needs_quotes = value == self.null
                || value == "\\."
                || value
                    .chars()
                    .any(|c| c == self.delimiter || c == self.quote || c == '\n' || c == '\r');
            if needs_quotes {
                out.push(self.quote);
                for c in value.chars() {
                    if c == self.quote || c == self.escape {
                        out.push(self.escape);
                    }
                    out.push(c);
                }
                out.push(self.quote);
            } else {
                out.push_str(value);
            }
        } else {
            // Most values need no escape: copy them whole.
            let plain = !value
                .bytes()
                .any(|b| matches!(b, b'\\' | b'\n' | b'\r' | b'\t'))
                && !value.contains(self.delimiter);
            if plain {
                out.push_str(value);
                return;
            }
            for c in value.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == self.delimiter => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
        }
    }
}

/// A `DataRow` holding `values` (text), for tests.
#[cfg(test)]
fn data_row(values: &[Option<&str>]) -> DataRow {
    use bytes::{BufMut, BytesMut};
    let mut data = BytesMut::new();
    for v in values {
        match v {
            Some(s) => {
                data.put_i32(s.len() as i32);
                data.put_slice(s.as_bytes());
            }
            None => data.put_i32(-1),
        }
    }
    DataRow::new(data, values.len() as i16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(sql: &str) -> CopyOptions {
        parse(sql)
            .ok()
            .flatten()
            .map(|c| c.options)
            .unwrap_or_else(|| panic!("not a COPY TO STDOUT: {sql}"))
    }

    fn line(options: &CopyOptions, values: &[Option<&str>]) -> String {
        let mut out = String::new();
        options.row(&data_row(values), &mut out);
        out
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

    #[test]
    fn text_format_escapes_like_postgres() {
        // PostgreSQL docs, COPY "Text Format": backslash, newline, CR, tab and the delimiter
        // are backslash-escaped; NULL is \N.
        let o = CopyOptions::default();
        assert_eq!(
            line(&o, &[Some("a\tb"), None, Some("back\\slash\nline")]),
            "a\\tb\t\\N\tback\\\\slash\\nline\n"
        );
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        // PostgreSQL docs, COPY "CSV Format": values with the delimiter, quote, CR or LF are
        // quoted; an empty string is quoted so it differs from NULL (written unquoted empty).
        let o = options("COPY (SELECT 1) TO STDOUT WITH (FORMAT csv)");
        assert_eq!(
            line(
                &o,
                &[
                    Some("plain"),
                    Some("a,b"),
                    Some("say \"hi\""),
                    Some(""),
                    None
                ]
            ),
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"\",\n"
        );
        let mut header = String::new();
        o.header_line(&["id".into(), "full name".into()], &mut header);
        assert_eq!(header, "id,full name\n");
    }

    #[test]
    fn binary_rows_are_framed_as_pgcopy() {
        // PostgreSQL docs, COPY "Binary Format": the 11-byte signature, a 32-bit flags field
        // (0: no OIDs) and a 32-bit header extension length (0); then per tuple a 16-bit field
        // count and, per field, a 32-bit length (-1 = NULL) followed by the value's bytes.
        let o = options("COPY (SELECT 1) TO STDOUT (FORMAT binary)");
        assert!(matches!(o.row_format(), Format::UnifiedBinary));
        assert_eq!(o.format_code(), 1);
        let preamble = o.preamble(&["a".into(), "b".into()]);
        let first = o.copy_data(preamble, &data_row(&[Some("ab"), None]));
        let mut expected = b"PGCOPY\n\xff\r\n\x00".to_vec();
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        expected.extend_from_slice(&[0, 2, 0, 0, 0, 2, b'a', b'b', 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(first.as_ref(), expected.as_slice());
        let second = o.copy_data(None, &data_row(&[None, Some("")]));
        assert_eq!(second.as_ref(), &[0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    }
}
