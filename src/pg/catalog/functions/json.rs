//! `json_build_object(k1, v1, k2, v2, …)`: a JSON object of alternating keys and values, as
//! PostgreSQL writes it (`{"a" : 1, "b" : "x"}`), returned as text. SQLAlchemy's column
//! reflection calls it for identity columns.
//!
//! | Input | Output |
//! |---|---|
//! | no arguments | `{}` |
//! | an odd number of arguments | error `22023` (`argument list must have even number of elements`) |
//! | a NULL key | error `22000` (`null value not allowed for object key`) |
//! | key of any type | its text, as a JSON string |
//! | NULL value | `null` |
//! | boolean | `true` / `false` |
//! | integer, decimal, finite float | the number (`1`, `2.50`, `0.5`) |
//! | NaN, ±Infinity | a string (`"NaN"`), as PostgreSQL does |
//! | text | a JSON string, escaped (`"a\"b"`, `"\n"`, `"\u0001"`) |
//! | list | a JSON array of its elements, written by the same rules (`[1,2]`) |
//! | anything else (dates, timestamps, structs …) | its text (Arrow's rendering) as a JSON string |
//!
//! One output row per input row; cost linear in the total size of the arguments.

use std::fmt::Write as _;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

use super::SECTION;

/// `json_build_object(VARIADIC "any")` (see the module docs).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct JsonBuildObject {
    signature: Signature,
    documentation: Documentation,
}

impl JsonBuildObject {
    pub(super) fn new() -> Self {
        JsonBuildObject {
            signature: Signature::one_of(
                vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
                Volatility::Stable,
            ),
            documentation: Documentation::builder(
                SECTION,
                "A JSON object (as text) of alternating keys and values.",
                "json_build_object(key1, value1 [, key2, value2 ...])",
            )
            .with_sql_example(
                "SELECT json_build_object('a', 1, 'b', 'x'); -- {\"a\" : 1, \"b\" : \"x\"}",
            )
            .build(),
        }
    }
}

impl ScalarUDFImpl for JsonBuildObject {
    fn name(&self) -> &str {
        "json_build_object"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if !arg_types.len().is_multiple_of(2) {
            return plan_err!("argument list must have even number of elements");
        }
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = args
            .args
            .iter()
            .map(|arg| {
                let array = arg.to_array(rows)?;
                // Dictionaries are written as their values.
                match array.data_type() {
                    DataType::Dictionary(_, value) => Ok(arrow::compute::cast(&array, value)?),
                    _ => Ok(array),
                }
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        let options = FormatOptions::default();
        let formatters = arrays
            .iter()
            .map(|a| ArrayFormatter::try_new(a.as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut out = StringBuilder::with_capacity(rows, rows * 16);
        let mut text = String::new();
        for row in 0..rows {
            text.clear();
            text.push('{');
            for (pair, arrays) in arrays.chunks(2).enumerate() {
                let [key, value] = arrays else {
                    return plan_err!("argument list must have even number of elements");
                };
                if is_null(key.as_ref(), row) {
                    return exec_err!("null value not allowed for object key");
                }
                if pair > 0 {
                    text.push_str(", ");
                }
                write_string(&mut text, &formatters[2 * pair].value(row).to_string());
                text.push_str(" : ");
                write_value(&mut text, value.as_ref(), row, &formatters[2 * pair + 1])?;
            }
            text.push('}');
            out.append_value(&text);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.documentation)
    }
}

/// Writes element `row` of `array` as JSON (`formatter` renders it as text).
fn write_value(
    out: &mut String,
    array: &dyn Array,
    row: usize,
    formatter: &ArrayFormatter,
) -> Result<()> {
    if is_null(array, row) {
        out.push_str("null");
        return Ok(());
    }
    match array.data_type() {
        DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => {
            let _ = write!(out, "{}", formatter.value(row));
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let text = formatter.value(row).to_string();
            if text.parse::<f64>().is_ok_and(f64::is_finite) {
                out.push_str(&text);
            } else {
                write_string(out, &text);
            }
        }
        DataType::List(_) => write_list(out, &array.as_list::<i32>().value(row))?,
        DataType::LargeList(_) => write_list(out, &array.as_list::<i64>().value(row))?,
        DataType::FixedSizeList(..) => write_list(out, &array.as_fixed_size_list().value(row))?,
        _ => write_string(out, &formatter.value(row).to_string()),
    }
    Ok(())
}

/// Whether element `row` of `array` is NULL (a `Null`-typed array has no null buffer).
fn is_null(array: &dyn Array, row: usize) -> bool {
    array.data_type() == &DataType::Null || array.is_null(row)
}

/// Writes the elements of `values` as a JSON array.
fn write_list(out: &mut String, values: &ArrayRef) -> Result<()> {
    let formatter = ArrayFormatter::try_new(values.as_ref(), &FormatOptions::default())?;
    out.push('[');
    for i in 0..values.len() {
        if i > 0 {
            out.push(',');
        }
        write_value(out, values.as_ref(), i, &formatter)?;
    }
    out.push(']');
    Ok(())
}

/// Writes `text` as a JSON string literal.
fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;

    use super::*;

    async fn one(sql: &str) -> Result<String> {
        let ctx = SessionContext::new();
        ctx.register_udf(datafusion::logical_expr::ScalarUDF::from(
            JsonBuildObject::new(),
        ));
        let batches = ctx.sql(sql).await?.collect().await?;
        let column = batches[0].column(0);
        let column = arrow::compute::cast(column, &DataType::Utf8)?;
        Ok(column.as_string::<i32>().value(0).to_string())
    }

    #[tokio::test]
    async fn objects_are_written_as_postgres_writes_them() -> Result<()> {
        assert_eq!(
            one("SELECT json_build_object('a', 1, 'b', 'x', 'c', NULL, 'd', true, 'e', 2.5)")
                .await?,
            r#"{"a" : 1, "b" : "x", "c" : null, "d" : true, "e" : 2.5}"#
        );
        assert_eq!(one("SELECT json_build_object()").await?, "{}");
        assert_eq!(
            one(
                "SELECT json_build_object(1, 'say \"hi\"\n', 'list', [1, 2], 'nan', 'NaN'::double)"
            )
            .await?,
            r#"{"1" : "say \"hi\"\n", "list" : [1,2], "nan" : "NaN"}"#
        );
        Ok(())
    }

    #[tokio::test]
    async fn bad_calls_are_errors() {
        let odd = one("SELECT json_build_object('a')").await;
        assert!(
            odd.is_err_and(|e| e.to_string().contains("even number of elements")),
            "odd argument count accepted"
        );
        let null_key = one("SELECT json_build_object(NULL, 1)").await;
        assert!(
            null_key.is_err_and(|e| e.to_string().contains("null value not allowed")),
            "NULL key accepted"
        );
    }
}
