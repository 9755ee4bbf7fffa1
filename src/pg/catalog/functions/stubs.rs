//! Catalog functions with a fixed answer: clients call them in their introspection queries, and
//! they have nothing to say about a lake (no comments, indexes, triggers or sizes). The table of
//! names and answers is [`super::register_catalog_functions`]'s.

use std::sync::Arc;

use arrow::array::AsArray;
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

/// What a [`StubFunction`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Stub {
    /// NULL text.
    Null,
    /// `true`.
    True,
    /// `false`.
    False,
    /// `0::bigint`.
    Zero,
    /// `pg_size_pretty` of the first argument.
    Size,
}

/// A catalog function with a fixed answer (see [`register_catalog_functions`]).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct StubFunction {
    name: &'static str,
    result: Stub,
    signature: Signature,
}

impl StubFunction {
    pub(super) fn new(name: &'static str, result: Stub) -> Self {
        StubFunction {
            name,
            result,
            signature: Signature::one_of(
                vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
                Volatility::Stable,
            ),
        }
    }
}

impl ScalarUDFImpl for StubFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.result {
            Stub::Null | Stub::Size => DataType::Utf8,
            Stub::True | Stub::False => DataType::Boolean,
            Stub::Zero => DataType::Int64,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(match self.result {
            Stub::Null => ColumnarValue::Scalar(ScalarValue::Utf8(None)),
            Stub::True => ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))),
            Stub::False => ColumnarValue::Scalar(ScalarValue::Boolean(Some(false))),
            Stub::Zero => ColumnarValue::Scalar(ScalarValue::Int64(Some(0))),
            Stub::Size => {
                let Some(arg) = args.args.first() else {
                    return datafusion::common::plan_err!(
                        "pg_size_pretty(bigint) takes one argument"
                    );
                };
                let sizes =
                    arrow::compute::cast(&arg.to_array(args.number_rows)?, &DataType::Int64)?;
                let sizes = sizes.as_primitive::<arrow::datatypes::Int64Type>();
                let pretty: arrow::array::StringArray =
                    sizes.iter().map(|v| v.map(size_pretty)).collect();
                ColumnarValue::Array(Arc::new(pretty))
            }
        })
    }
}

/// PostgreSQL's `pg_size_pretty(bigint)`: bytes below 10 kB, then the largest unit that
/// keeps the number below 10240, rounded half up.
pub(crate) fn size_pretty(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes.unsigned_abs() < 10 * 1024 {
        return format!("{bytes} bytes");
    }
    // Halves of the unit, so the last step can round half away from zero.
    let mut halves = bytes / 512;
    for (i, unit) in UNITS.iter().enumerate() {
        let rounded = (halves + halves.signum()) / 2;
        if rounded.unsigned_abs() < 10 * 1024 || i == UNITS.len() - 1 {
            return format!("{rounded} {unit}");
        }
        halves /= 1024;
    }
    format!("{bytes} bytes")
}
