//! COPY data straight from Arrow: each record batch rendered column by column
//! ([`super::render`]) with COPY's escaping or CSV quoting applied as values are written, then
//! laid out row by row into one buffer per batch.
//!
//! The buffer is handed out as one `CopyData` message per row (slices of it, no copy): the
//! protocol says the server's COPY messages "always correspond to single data rows", and
//! clients rely on it (psycopg's `Copy.rows()` parses each message as one row), as pgwire's
//! `COPY n` tag does (it counts the messages). The header line or binary signature travels in
//! the first row's message.
//!
//! Escaping is PostgreSQL's (`copyto.c`): in text format the control characters backspace,
//! form feed, newline, carriage return, tab and vertical tab become `\b \f \n \r \t \v`,
//! backslash and the delimiter get a backslash; in CSV a value is quoted when it holds the
//! delimiter, the quote, CR or LF, equals the NULL string, or is `\.` alone on its line (a
//! one-column result), the quote and escape characters inside doubled by the escape.

use bytes::{BufMut, Bytes, BytesMut};
use datafusion::arrow::record_batch::RecordBatch;
use pgwire::api::results::FieldFormat;
use pgwire::error::PgWireResult;
use regex::bytes::Regex;

use super::copy::{BINARY_SIGNATURE, CopyFormat, CopyOptions};
use super::encode::{OutputOptions, ResultColumns, columns_of, put_field};
use super::render::{Escape, RenderedColumn, render};
use super::types::Encoding;
use crate::pg::error::{code, user_error};

/// Text format's escaping of one value (the delimiter is one byte, checked by `copy::parse`).
struct TextEscape {
    delimiter: u8,
    /// Any byte that gets a backslash.
    special: Regex,
}

impl TextEscape {
    fn new(delimiter: u8) -> Self {
        TextEscape {
            delimiter,
            special: byte_class(&[0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, b'\\', delimiter]),
        }
    }
}

impl Escape for TextEscape {
    fn any_needed(&self, column: &RenderedColumn) -> bool {
        self.special.is_match(column.bytes())
    }

    fn needed(&self, value: &[u8]) -> bool {
        self.special.is_match(value)
    }

    fn write(&self, value: &[u8], out: &mut BytesMut) {
        for &b in value {
            let escaped = match b {
                b'\x08' => b'b',
                b'\t' => b't',
                b'\n' => b'n',
                b'\x0b' => b'v',
                b'\x0c' => b'f',
                b'\r' => b'r',
                b'\\' => b'\\',
                b if b == self.delimiter => b,
                b => {
                    out.put_u8(b);
                    continue;
                }
            };
            out.put_slice(&[b'\\', escaped]);
        }
    }
}

/// CSV's quoting of one value.
struct CsvQuote {
    quote: u8,
    escape: u8,
    null: Vec<u8>,
    /// A one-column result: a value `\.` would read as the end-of-data marker.
    single_column: bool,
    /// Any byte that makes a value quoted: the delimiter, the quote, CR, LF.
    special: Regex,
}

impl CsvQuote {
    fn new(options: &CopyOptions, single_column: bool) -> Self {
        let [delimiter, quote, escape] =
            [options.delimiter, options.quote, options.escape].map(one_byte);
        CsvQuote {
            quote,
            escape,
            null: options.null.as_bytes().to_vec(),
            single_column,
            special: byte_class(&[b'\n', b'\r', delimiter, quote]),
        }
    }

    /// Whether `value` is quoted for what it is rather than what it holds.
    fn whole_value_quoted(&self, value: &[u8]) -> bool {
        value == self.null.as_slice() || (self.single_column && value == b"\\.")
    }
}

impl Escape for CsvQuote {
    fn any_needed(&self, column: &RenderedColumn) -> bool {
        self.special.is_match(column.bytes())
            || (0..column.rows()).any(|row| {
                column
                    .value(row)
                    .is_some_and(|v| self.whole_value_quoted(v))
            })
    }

    fn needed(&self, value: &[u8]) -> bool {
        self.whole_value_quoted(value) || self.special.is_match(value)
    }

    fn write(&self, value: &[u8], out: &mut BytesMut) {
        out.put_u8(self.quote);
        for &b in value {
            if b == self.quote || b == self.escape {
                out.put_u8(self.escape);
            }
            out.put_u8(b);
        }
        out.put_u8(self.quote);
    }
}

/// A byte-mode regex matching any one of `bytes`.
fn byte_class(bytes: &[u8]) -> Regex {
    let class: String = bytes.iter().map(|b| format!("\\x{b:02x}")).collect();
    Regex::new(&format!("(?-u)[{class}]")).unwrap_or_else(|e| unreachable!("byte class: {e}"))
}

/// A COPY option character as its byte (`copy::parse` refuses all but one-byte ones).
fn one_byte(c: char) -> u8 {
    u8::try_from(c).unwrap_or(b'?')
}

/// Whether a value of `encoding` can hold a byte that `escape` rewrites: any text, bytea,
/// array or interval can; numbers, booleans, dates and times print only digits, signs,
/// `:.-+ ` and a few letters (`t`, `f`, `e`, `BC`, `NaN`, `Infinity`), so they need a look only
/// when the delimiter or quote is one of those or the NULL string is not empty (CSV quotes a
/// value equal to it).
fn may_need_escape(encoding: &Encoding, options: &CopyOptions) -> bool {
    let printable = |c: char| c.is_ascii_alphanumeric() || " +-:.".contains(c);
    match encoding {
        Encoding::Bool
        | Encoding::Int2
        | Encoding::Int4
        | Encoding::Int8
        | Encoding::Float4
        | Encoding::Float8
        | Encoding::Numeric
        | Encoding::Date
        | Encoding::Time
        | Encoding::Timestamp
        | Encoding::TimestampTz => {
            printable(options.delimiter)
                || (options.format == CopyFormat::Csv
                    && (printable(options.quote) || !options.null.is_empty()))
        }
        _ => true,
    }
}

/// Writes the rows of a result's batches as COPY data.
pub(crate) struct CopyEncoder {
    options: CopyOptions,
    columns: ResultColumns,
    output: OutputOptions,
    escape: Option<Box<dyn Escape + Send + Sync>>,
    /// The signature or header line, until the first row takes it.
    preamble: Option<Bytes>,
}

impl CopyEncoder {
    /// An encoder of `columns` as `options` says, values printed with `output`.
    pub fn new(columns: &ResultColumns, options: CopyOptions, output: OutputOptions) -> Self {
        let escape: Option<Box<dyn Escape + Send + Sync>> = match options.format {
            CopyFormat::Binary => None,
            CopyFormat::Text => Some(Box::new(TextEscape::new(one_byte(options.delimiter)))),
            CopyFormat::Csv => Some(Box::new(CsvQuote::new(
                &options,
                columns.column_count() == 1,
            ))),
        };
        let mut encoder = CopyEncoder {
            options,
            columns: columns.clone(),
            output,
            escape,
            preamble: None,
        };
        encoder.preamble = encoder.start(columns.names());
        encoder
    }

    /// What precedes the first row: the binary signature, the header line, or nothing.
    fn start(&self, names: &[String]) -> Option<Bytes> {
        match self.options.format {
            CopyFormat::Binary => Some(Bytes::from_static(BINARY_SIGNATURE)),
            _ if self.options.header => {
                let mut line = BytesMut::new();
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        line.put_slice(self.options.delimiter.to_string().as_bytes());
                    }
                    match &self.escape {
                        Some(escape) if escape.needed(name.as_bytes()) => {
                            escape.write(name.as_bytes(), &mut line);
                        }
                        _ => line.put_slice(name.as_bytes()),
                    }
                }
                line.put_u8(b'\n');
                Some(line.freeze())
            }
            _ => None,
        }
    }

    /// The COPY data of `batch`: one message per row, all slices of one buffer.
    pub fn encode(&mut self, batch: &RecordBatch) -> PgWireResult<Vec<Bytes>> {
        let types = self.columns.column_types();
        let arrays = self.columns.wire_arrays(batch)?;
        let batch_columns = columns_of(&arrays, types)?;
        let rows = batch.num_rows();
        let binary = self.options.format == CopyFormat::Binary;
        let format = if binary {
            FieldFormat::Binary
        } else {
            FieldFormat::Text
        };
        let rendered = arrays
            .iter()
            .zip(&batch_columns)
            .zip(types)
            .map(|((array, column), ty)| {
                let escape = self
                    .escape
                    .as_deref()
                    .filter(|_| may_need_escape(&ty.encoding, &self.options));
                render(
                    array,
                    column,
                    &ty.encoding,
                    format,
                    &self.output,
                    escape.map(|e| e as &dyn Escape),
                )
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(|message| user_error(code::DATA_EXCEPTION, message))?;

        let preamble = if rows > 0 { self.preamble.take() } else { None };
        let field_count = i16::try_from(rendered.len())
            .map_err(|_| user_error(code::INTERNAL_ERROR, "too many result columns"))?;
        let size = preamble.as_ref().map_or(0, Bytes::len)
            + rendered.iter().map(RenderedColumn::len).sum::<usize>()
            + rows * (2 + 4 * rendered.len());
        let mut buffer = BytesMut::with_capacity(size);
        if let Some(preamble) = preamble {
            buffer.put_slice(&preamble);
        }
        let mut delimiter = [0u8; 4];
        let delimiter = self
            .options
            .delimiter
            .encode_utf8(&mut delimiter)
            .as_bytes();
        let null = self.options.null.as_bytes();
        let mut messages = Vec::with_capacity(rows);
        for row in 0..rows {
            if binary {
                buffer.put_i16(field_count);
                for column in &rendered {
                    put_field(column.value(row), &mut buffer)?;
                }
            } else {
                for (i, column) in rendered.iter().enumerate() {
                    if i > 0 {
                        buffer.put_slice(delimiter);
                    }
                    buffer.put_slice(column.value(row).unwrap_or(null));
                }
                buffer.put_u8(b'\n');
            }
            messages.push(buffer.split().freeze());
        }
        Ok(messages)
    }

    /// What is left once the rows are written: the preamble when no row took it (an empty
    /// result still gets the header line or the signature).
    pub fn finish(&mut self) -> Option<Bytes> {
        self.preamble.take()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};

    use super::*;
    use crate::pg::wire::encode::Column;

    use crate::pg::wire::copy::tests::options;
    use crate::pg::wire::encode::tests::batch;

    fn strings(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    /// The messages of `batches` copied as `sql` says, as text.
    fn copy(sql: &str, batches: &[RecordBatch]) -> Vec<String> {
        let columns = ResultColumns::new(batches[0].schema().fields().iter().map(|f| f.as_ref()));
        let mut encoder = CopyEncoder::new(&columns, options(sql), OutputOptions::default());
        let mut out = Vec::new();
        for b in batches {
            out.extend(encoder.encode(b).expect("encodes"));
        }
        out.extend(encoder.finish());
        out.iter()
            .map(|m| String::from_utf8_lossy(m).to_string())
            .collect()
    }

    #[test]
    fn text_format_escapes_like_postgres() {
        // PostgreSQL docs, COPY "Text Format": backslash, the delimiter and the control
        // characters \b \f \n \r \t \v are backslash-escaped; NULL is \N.
        let b = batch(vec![
            ("a", strings(&[Some("a\tb"), Some("")])),
            ("b", strings(&[None, Some("\x08\x0b\x0c\r|\x01")])),
            ("c", strings(&[Some("back\\slash\nline"), Some("é")])),
        ]);
        assert_eq!(
            copy("COPY (SELECT 1) TO STDOUT", std::slice::from_ref(&b)),
            [
                "a\\tb\t\\N\tback\\\\slash\\nline\n",
                "\t\\b\\v\\f\\r|\x01\té\n"
            ]
        );
        assert_eq!(
            copy(
                "COPY (SELECT 1) TO STDOUT (DELIMITER '|', NULL 'nil')",
                &[b]
            )[1],
            "|\\b\\v\\f\\r\\|\x01|é\n"
        );
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        // PostgreSQL docs, COPY "CSV Format": values with the delimiter, quote, CR or LF are
        // quoted; an empty string is quoted so it differs from NULL (written unquoted empty).
        let b = batch(vec![
            ("plain", strings(&[Some("plain")])),
            ("full name", strings(&[Some("a,b")])),
            ("q", strings(&[Some("say \"hi\"")])),
            ("e", strings(&[Some("")])),
            ("n", strings(&[None])),
            ("dot", strings(&[Some("\\.")])),
        ]);
        assert_eq!(
            copy("COPY (SELECT 1) TO STDOUT WITH (FORMAT csv, HEADER)", &[b]),
            ["plain,full name,q,e,n,dot\nplain,\"a,b\",\"say \"\"hi\"\"\",\"\",,\\.\n"]
        );
        // `\.` alone on a line would end the data: quoted in a one-column result.
        let one = batch(vec![("dot", strings(&[Some("\\."), Some("x")]))]);
        assert_eq!(
            copy("COPY (SELECT 1) TO STDOUT (FORMAT csv)", &[one]),
            ["\"\\.\"\n", "x\n"]
        );
        // A value equal to the NULL string is quoted; inside quotes the quote and the escape
        // character get the escape character before them.
        let b = batch(vec![
            ("s", strings(&[Some("NA"), Some("a'\"b")])),
            ("i", Arc::new(Int64Array::from(vec![Some(1), None]))),
        ]);
        assert_eq!(
            copy(
                "COPY (SELECT 1) TO STDOUT (FORMAT csv, NULL 'NA', ESCAPE '''')",
                &[b]
            ),
            ["\"NA\",1\n", "\"a'''\"b\",NA\n"]
        );
    }

    #[test]
    fn one_message_per_row_and_the_preamble_once() {
        let first = batch(vec![(
            "i",
            Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef,
        )]);
        let empty = first.slice(0, 0);
        let second = batch(vec![("i", Arc::new(Int64Array::from(vec![3])) as ArrayRef)]);
        assert_eq!(
            copy(
                "COPY (SELECT 1) TO STDOUT (FORMAT csv, HEADER)",
                &[empty.clone(), first, empty.clone(), second]
            ),
            ["i\n1\n", "2\n", "3\n"]
        );
        // An empty result still gets its header line.
        assert_eq!(
            copy("COPY (SELECT 1) TO STDOUT (FORMAT csv, HEADER)", &[empty]),
            ["i\n"]
        );
    }

    #[test]
    fn column_scan_finds_every_byte_that_needs_an_escape() {
        let text = TextEscape::new(b'|');
        for byte in 0..=u8::MAX {
            let value = [b'a', byte, b'z'];
            let wanted = (0x08..=0x0d).contains(&byte) || byte == b'\\' || byte == b'|';
            let column = value_column(&value);
            assert_eq!(text.any_needed(&column), wanted, "{byte}");
            assert_eq!(text.needed(&value), wanted, "{byte}");
        }
        let csv = CsvQuote::new(&options("COPY (SELECT 1) TO STDOUT (FORMAT csv)"), false);
        assert!(
            csv.any_needed(&value_column(b"")),
            "empty string = NULL string"
        );
        assert!(!csv.any_needed(&value_column("é 中文 🙂 \\. \t".as_bytes())));
    }

    /// A one-row rendered column holding `value`.
    fn value_column(value: &[u8]) -> RenderedColumn {
        let array: ArrayRef = Arc::new(arrow::array::BinaryArray::from(vec![value]));
        let column = Column::new(array.as_ref(), &Encoding::Bytea).expect("bytea column");
        crate::pg::wire::render::render(
            &array,
            &column,
            &Encoding::Bytea,
            FieldFormat::Binary,
            &OutputOptions::default(),
            None,
        )
        .expect("renders")
    }

    #[test]
    fn binary_rows_are_framed_as_pgcopy() {
        // PostgreSQL docs, COPY "Binary Format": the 11-byte signature, a 32-bit flags field
        // (0: no OIDs) and a 32-bit header extension length (0); then per tuple a 16-bit field
        // count and, per field, a 32-bit length (-1 = NULL) followed by the value's bytes.
        let b = batch(vec![
            ("a", strings(&[Some("ab"), None])),
            ("b", strings(&[None, Some("")])),
        ]);
        let columns = ResultColumns::new(b.schema().fields().iter().map(|f| f.as_ref()));
        let o = options("COPY (SELECT 1) TO STDOUT (FORMAT binary)");
        assert_eq!(o.format_code(), 1);
        let mut encoder = CopyEncoder::new(&columns, o, OutputOptions::default());
        let messages = encoder.encode(&b).expect("encodes");
        let mut expected = b"PGCOPY\n\xff\r\n\x00".to_vec();
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        expected.extend_from_slice(&[0, 2, 0, 0, 0, 2, b'a', b'b', 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(messages[0].as_ref(), expected.as_slice());
        assert_eq!(
            messages[1].as_ref(),
            &[0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]
        );
        assert_eq!(encoder.finish(), None);
    }
}
