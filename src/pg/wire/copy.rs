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
//! array syntax). `FORMAT binary`, `COPY … FROM STDIN` and `COPY … TO 'file'` are refused.
//! Rows are counted in the `COPY n` tag; with `HEADER` the header travels in the first row's
//! `CopyData` message, so it is not counted.

use bytes::{Buf, Bytes};
use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::ast::{
    CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget, Ident, ObjectName,
    Query, Statement,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use pgwire::messages::data::DataRow;

/// How rows are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CopyOptions {
    /// CSV rather than text.
    pub csv: bool,
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
            csv: false,
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
    let mut csv = false;
    let mut delimiter = None;
    let mut null = None;
    let mut header = false;
    let mut quote = '"';
    let mut escape = None;
    let unsupported = |what: String| {
        Err(DataFusionError::NotImplemented(format!(
            "COPY option {what}"
        )))
    };
    for option in options {
        match option {
            CopyOption::Format(name) => match name.value.to_ascii_lowercase().as_str() {
                "csv" => csv = true,
                "text" => csv = false,
                "binary" => return unsupported("FORMAT binary (use text or csv)".into()),
                other => {
                    return Err(DataFusionError::Plan(format!(
                        "COPY format \"{other}\" not recognized"
                    )));
                }
            },
            CopyOption::Delimiter(c) => delimiter = Some(*c),
            CopyOption::Null(s) => null = Some(s.clone()),
            CopyOption::Header(h) => header = *h,
            CopyOption::Quote(c) => quote = *c,
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
            CopyLegacyOption::Binary => {
                return unsupported("BINARY (use text or csv)".into());
            }
            CopyLegacyOption::Delimiter(c) => delimiter = Some(*c),
            CopyLegacyOption::Null(s) => null = Some(s.clone()),
            CopyLegacyOption::Header => header = true,
            CopyLegacyOption::Csv(csv_options) => {
                csv = true;
                for o in csv_options {
                    match o {
                        CopyLegacyCsvOption::Header => header = true,
                        CopyLegacyCsvOption::Quote(c) => quote = *c,
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
        csv,
        delimiter,
        null: null.unwrap_or_else(|| if csv { String::new() } else { "\\N".into() }),
        header,
        quote,
        escape: escape.unwrap_or(quote),
    })
}

impl CopyOptions {
    /// One line of COPY data from the text-format fields of a `DataRow`.
    pub fn row(&self, row: &DataRow, out: &mut String) {
        let mut data = Bytes::copy_from_slice(&row.data);
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
            let value = data.split_to(length);
            self.value(&String::from_utf8_lossy(&value), out);
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
        if self.csv {
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

/// Converts an encoded text `DataRow` into one COPY line (prefixed by `prefix`, the header).
pub(crate) fn copy_line(options: &CopyOptions, prefix: Option<String>, row: &DataRow) -> Bytes {
    let mut line = prefix.unwrap_or_default();
    options.row(row, &mut line);
    Bytes::from(line)
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
        assert!(csv.csv && csv.header && csv.delimiter == ',' && csv.null.is_empty());
        let tsv = options("COPY (SELECT 1) TO STDOUT (FORMAT csv, DELIMITER E'\\t', HEADER)");
        assert!(tsv.csv && tsv.header && tsv.delimiter == '\t');
        let text = options("COPY messages TO STDOUT");
        assert_eq!(text, CopyOptions::default());
        assert!(parse("COPY (SELECT 1) TO STDOUT (FORMAT binary)").is_err());
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
}
