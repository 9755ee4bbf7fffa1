//! `format(formatstr, arg, …)`: PostgreSQL's `sprintf`-like string builder, which Metabase's
//! field sync calls (`FORMAT('%I.%I', table_schema, table_name)`, `FORMAT('%s', udt_name)`).
//!
//! A specifier is `%[position$][-][width]type`, as in PostgreSQL:
//!
//! | type | writes | NULL argument |
//! |---|---|---|
//! | `s` | the value as text | nothing (an empty string) |
//! | `I` | the value as an identifier, double-quoted unless it is a plain lower-case name (keywords are not quoted here) | an error (`22023` here, `22004` in PostgreSQL) |
//! | `L` | the value as a string literal, single-quoted | `NULL`, unquoted |
//! | `%%` | a `%` | — |
//!
//! `position$` picks an argument (1-based) and later plain specifiers continue after it; a
//! width pads with spaces, on the left, or on the right with `-`; `*` takes the width from
//! the next argument. A NULL format string gives NULL. Too few arguments, an unknown type or
//! a malformed specifier is an error `22023`, naming it. Values print as their `text` cast
//! (`x::text`), booleans as `t`/`f`, as PostgreSQL prints them.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::SECTION;
use crate::pg::catalog::routines::quote_ident;

/// `format(formatstr, arg, …)` (see the module docs).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct PgFormat {
    signature: Signature,
    documentation: Documentation,
}

impl PgFormat {
    pub(super) fn new() -> Self {
        PgFormat {
            signature: Signature::variadic_any(Volatility::Stable),
            documentation: Documentation::builder(
                SECTION,
                "A string built from a format and arguments, as PostgreSQL's format: %s text, %I identifier, %L literal, %% a percent sign; %n$ picks argument n, a width pads.",
                "format(formatstr, arg, ...)",
            )
            .with_sql_example(
                "```sql\nSELECT format('%I.%I = %L', 'public', 'Messages', 'it''s');\n-- public.\"Messages\" = 'it''s'\n```",
            )
            .build(),
        }
    }
}

impl ScalarUDFImpl for PgFormat {
    fn name(&self) -> &str {
        "format"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let texts: Vec<ArrayRef> = ColumnarValue::values_to_arrays(&args.args)?
            .iter()
            .map(as_text)
            .collect::<Result<_>>()?;
        let Some((format, values)) = texts.split_first() else {
            return Err(bad_call("format() needs a format string".into()));
        };
        let format = format.as_string::<i32>();
        let values: Vec<_> = values.iter().map(|v| v.as_string::<i32>()).collect();
        let mut out = StringBuilder::new();
        for row in 0..args.number_rows {
            if format.is_null(row) {
                out.append_null();
                continue;
            }
            let arguments: Vec<Option<&str>> = values
                .iter()
                .map(|v| (!v.is_null(row)).then(|| v.value(row)))
                .collect();
            out.append_value(render(format.value(row), &arguments)?);
        }
        let result: ArrayRef = Arc::new(out.finish());
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &result, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(result))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.documentation)
    }
}

/// Each value as PostgreSQL's text output would print it (booleans `t`/`f`).
fn as_text(array: &ArrayRef) -> Result<ArrayRef> {
    if let DataType::Boolean = array.data_type() {
        let booleans = array.as_boolean();
        let texts: arrow::array::StringArray = booleans
            .iter()
            .map(|b| b.map(|b| if b { "t" } else { "f" }))
            .collect();
        return Ok(Arc::new(texts));
    }
    Ok(cast(array, &DataType::Utf8)?)
}

/// A bad call, reported as `22023` invalid_parameter_value (the plan-error class).
fn bad_call(message: String) -> DataFusionError {
    DataFusionError::Plan(message)
}

/// `format` applied to one row's format string and arguments.
fn render(format: &str, arguments: &[Option<&str>]) -> Result<String> {
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars().peekable();
    let mut next_argument = 0usize;
    let mut take = |position: Option<usize>| -> Result<Option<&str>> {
        let index = position.map_or(next_argument, |p| p - 1);
        next_argument = index + 1;
        arguments
            .get(index)
            .copied()
            .ok_or_else(|| bad_call("too few arguments for format()".into()))
    };
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        // %[position$][-][width|*]type
        let mut position = None;
        let mut digits = read_number(&mut chars);
        if digits.is_some() && chars.peek() == Some(&'$') {
            chars.next();
            position = digits.filter(|p| *p > 0);
            if position.is_none() {
                return Err(bad_call(
                    "format specifies argument 0, but arguments are numbered from 1".into(),
                ));
            }
            digits = None;
        }
        let mut left_align = false;
        if digits.is_none() && chars.peek() == Some(&'-') {
            chars.next();
            left_align = true;
        }
        let mut width = match digits {
            Some(w) => Some(w),
            None if chars.peek() == Some(&'*') => {
                chars.next();
                let from = read_number(&mut chars);
                let position = match from {
                    Some(p) if chars.next_if_eq(&'$').is_some() => Some(p),
                    Some(_) => return Err(bad_call("unterminated format() type specifier".into())),
                    None => None,
                };
                let value = take(position)?.unwrap_or("0");
                let width: i64 = value
                    .trim()
                    .parse()
                    .map_err(|_| bad_call(format!("format() width \"{value}\" is not a number")))?;
                if width < 0 {
                    left_align = true;
                }
                Some(usize::try_from(width.unsigned_abs()).unwrap_or(usize::MAX))
            }
            None => read_number(&mut chars),
        };
        if width == Some(0) {
            width = None;
        }
        let Some(kind) = chars.next() else {
            return Err(bad_call("unterminated format() type specifier".into()));
        };
        let value = match kind {
            's' => take(position)?.unwrap_or("").to_string(),
            'I' => match take(position)? {
                Some(name) => quote_ident(name),
                None => {
                    return Err(bad_call(
                        "null values cannot be formatted as an SQL identifier".into(),
                    ));
                }
            },
            'L' => match take(position)? {
                Some(text) => quote_literal(text),
                None => "NULL".into(),
            },
            other => {
                return Err(bad_call(format!(
                    "unrecognized format() type specifier \"{other}\""
                )));
            }
        };
        pad(&mut out, &value, width, left_align);
    }
    Ok(out)
}

/// A run of decimal digits at the cursor, if any.
fn read_number(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<usize> {
    let mut number: Option<usize> = None;
    while let Some(digit) = chars.peek().and_then(|c| c.to_digit(10)) {
        chars.next();
        number = Some(
            number
                .unwrap_or(0)
                .saturating_mul(10)
                .saturating_add(digit as usize),
        );
    }
    number
}

/// `value` padded with spaces to `width` characters.
fn pad(out: &mut String, value: &str, width: Option<usize>, left_align: bool) {
    let fill = width.map_or(0, |w| w.saturating_sub(value.chars().count()));
    if !left_align {
        out.extend(std::iter::repeat_n(' ', fill));
    }
    out.push_str(value);
    if left_align {
        out.extend(std::iter::repeat_n(' ', fill));
    }
}

/// `text` as a string literal: single-quoted, quotes doubled; with a backslash inside, the
/// `E'…'` form with backslashes doubled, as PostgreSQL's `quote_literal` writes it.
fn quote_literal(text: &str) -> String {
    let quoted = text.replace('\'', "''");
    if text.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(format: &str, arguments: &[Option<&str>]) -> String {
        render(format, arguments).unwrap_or_else(|e| panic!("{format}: {e}"))
    }

    #[test]
    fn specifiers_as_postgres_documents_them() {
        // The examples of PostgreSQL's "format" documentation (functions-string.html).
        assert_eq!(f("Hello %s", &[Some("World")]), "Hello World");
        assert_eq!(
            f(
                "Testing %s, %s, %s, %%",
                &[Some("one"), Some("two"), Some("three")]
            ),
            "Testing one, two, three, %"
        );
        assert_eq!(
            f(
                "INSERT INTO %I VALUES(%L)",
                &[Some("Foo bar"), Some("O'Reilly")]
            ),
            "INSERT INTO \"Foo bar\" VALUES('O''Reilly')"
        );
        assert_eq!(
            f(
                "INSERT INTO %I VALUES(%L)",
                &[Some("locations"), Some("C:\\Program Files")]
            ),
            "INSERT INTO locations VALUES(E'C:\\\\Program Files')"
        );
        assert_eq!(f("|%10s|", &[Some("foo")]), "|       foo|");
        assert_eq!(f("|%-10s|", &[Some("foo")]), "|foo       |");
        assert_eq!(f("|%*s|", &[Some("10"), Some("foo")]), "|       foo|");
        assert_eq!(f("|%*s|", &[Some("-10"), Some("foo")]), "|foo       |");
        assert_eq!(f("|%-*s|", &[Some("10"), Some("foo")]), "|foo       |");
        assert_eq!(
            f(
                "Testing %3$s, %2$s, %1$s",
                &[Some("one"), Some("two"), Some("three")]
            ),
            "Testing three, two, one"
        );
        assert_eq!(
            f("|%*2$s|", &[Some("foo"), Some("10"), Some("bar")]),
            "|       bar|"
        );
        assert_eq!(
            f(
                "Testing %3$s, %2$s, %s",
                &[Some("one"), Some("two"), Some("three")]
            ),
            "Testing three, two, three"
        );
    }

    #[test]
    fn nulls_and_bad_calls() {
        assert_eq!(f("[%s]", &[None]), "[]");
        assert_eq!(f("%L", &[None]), "NULL");
        for (format, arguments, message) in [
            (
                "%I",
                vec![None],
                "null values cannot be formatted as an SQL identifier",
            ),
            ("%s %s", vec![Some("a")], "too few arguments for format()"),
            (
                "%x",
                vec![Some("a")],
                "unrecognized format() type specifier \"x\"",
            ),
            ("%", vec![], "unterminated format() type specifier"),
        ] {
            let err = render(format, &arguments).expect_err(format).to_string();
            assert!(err.contains(message), "{format}: {err}");
        }
    }
}
