//! PostgreSQL's integer-and-numeric helpers that DataFusion names differently or lacks:
//! `mod(a, b)`, `div(a, b)` and `sign(x)` ([`PgMath`]).
//!
//! | call | answer | PostgreSQL |
//! |---|---|---|
//! | `mod(7, 3)`, `mod(-7, 3)` | `1`, `-1`: the remainder takes the dividend's sign, as `%` | same |
//! | `div(7, 2)`, `div(-7, 2)`, `div(7.5, 2)` | `3`, `-3`, `3`: the quotient truncated toward zero | same (a `numeric` for non-integers, a `float8` here) |
//! | `sign(-4.2)`, `sign(0)` | `-1`, `0` | same |
//! | a zero divisor | `22012` division_by_zero | same |
//! | NULL argument | NULL | same |
//!
//! Integers (of any width) are computed as `bigint`; anything else as `double precision`
//! (DataFusion's `numeric` literals are floats already).

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Float64Array};
use arrow::compute::cast;
use arrow::compute::kernels::numeric::{div, rem};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::SECTION;

/// Which of the three a [`PgMath`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum MathOp {
    /// `mod(a, b)`: remainder of `a / b`, with the sign of `a`.
    Mod,
    /// `div(a, b)`: quotient of `a / b` truncated toward zero.
    Div,
    /// `sign(x)`: -1, 0 or 1.
    Sign,
}

/// `mod`, `div` or `sign` (see the module docs).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct PgMath {
    op: MathOp,
    signature: Signature,
    documentation: Documentation,
}

impl PgMath {
    pub(super) fn new(op: MathOp) -> Self {
        let (syntax, description, example) = match op {
            MathOp::Mod => (
                "mod(a, b)",
                "Remainder of a / b, with the sign of a (PostgreSQL's mod; the same as a % b).",
                "SELECT mod(-7, 3);\n-- -1",
            ),
            MathOp::Div => (
                "div(a, b)",
                "Quotient of a / b truncated toward zero (PostgreSQL's div).",
                "SELECT div(-7, 2);\n-- -3",
            ),
            MathOp::Sign => (
                "sign(x)",
                "Sign of x: -1, 0 or 1 (PostgreSQL's sign).",
                "SELECT sign(-4.2);\n-- -1",
            ),
        };
        PgMath {
            op,
            signature: Signature::user_defined(Volatility::Immutable),
            documentation: Documentation::builder(SECTION, description, syntax)
                .with_sql_example(format!("```sql\n{example}\n```"))
                .build(),
        }
    }

    fn arity(&self) -> usize {
        if self.op == MathOp::Sign { 1 } else { 2 }
    }
}

/// The type the arguments are computed in: `bigint` when all are integers, else `float8`.
fn common_type(arg_types: &[DataType]) -> DataType {
    if arg_types
        .iter()
        .all(|t| t.is_integer() || *t == DataType::Null)
    {
        DataType::Int64
    } else {
        DataType::Float64
    }
}

impl ScalarUDFImpl for PgMath {
    fn name(&self) -> &str {
        match self.op {
            MathOp::Mod => "mod",
            MathOp::Div => "div",
            MathOp::Sign => "sign",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != self.arity() {
            return exec_err!(
                "{}() takes {} argument(s), got {}",
                self.name(),
                self.arity(),
                arg_types.len()
            );
        }
        if let Some(bad) = arg_types
            .iter()
            .find(|t| !t.is_numeric() && **t != DataType::Null)
        {
            return exec_err!("{}() takes numbers, not {bad}", self.name());
        }
        Ok(vec![common_type(arg_types); arg_types.len()])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(common_type(arg_types))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let result: ArrayRef = match self.op {
            MathOp::Mod => rem(&arrays[0], &arrays[1])?,
            MathOp::Div => {
                let quotient = div(&arrays[0], &arrays[1])?;
                match quotient.data_type() {
                    DataType::Float64 => Arc::new(
                        quotient
                            .as_primitive::<Float64Type>()
                            .unary::<_, Float64Type>(f64::trunc),
                    ),
                    _ => quotient,
                }
            }
            MathOp::Sign => sign(&arrays[0])?,
        };
        if all_scalar {
            Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&result, 0)?,
            ))
        } else {
            Ok(ColumnarValue::Array(result))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.documentation)
    }
}

/// -1, 0 or 1 for each value (-0 gives 0; NaN stays NaN, NULL stays NULL).
fn sign(values: &ArrayRef) -> Result<ArrayRef> {
    Ok(match values.data_type() {
        DataType::Int64 => Arc::new(
            values
                .as_primitive::<Int64Type>()
                .unary::<_, Int64Type>(i64::signum),
        ),
        _ => {
            let floats = cast(values, &DataType::Float64)?;
            let signs: Float64Array = floats.as_primitive::<Float64Type>().unary(|x| {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else if x == 0.0 {
                    0.0
                } else {
                    x // NaN
                }
            });
            Arc::new(signs)
        }
    })
}
