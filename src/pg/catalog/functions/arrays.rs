//! Array helpers [`crate::pg::sql::rewrite`] plans client catalog queries with:
//! `_format_types(oids)` (`oids::regtype[]`) and `_pg_expandarray(a)`
//! (`information_schema._pg_expandarray`).

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// `_format_types(oids)`: the names of a list of type OIDs, as `format_type` writes them
/// (`{25,23}` → `{text,integer}`). [`crate::pg::sql::rewrite`] plans `oids::regtype[]` with it: a
/// `regtype` prints as its name.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct FormatTypes {
    signature: Signature,
}

impl FormatTypes {
    pub(super) fn new() -> Self {
        FormatTypes {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for FormatTypes {
    fn name(&self) -> &str {
        "_format_types"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        use arrow::datatypes::Field;
        Ok(DataType::List(Arc::new(Field::new_list_field(
            DataType::Utf8,
            true,
        ))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use arrow::array::{ListArray, new_null_array};
        use arrow::datatypes::Field;
        let Some(arg) = args.args.first() else {
            return datafusion::common::exec_err!("_format_types takes one argument");
        };
        let input = arg.to_array(args.number_rows)?;
        let DataType::List(_) = input.data_type() else {
            return Ok(ColumnarValue::Array(new_null_array(
                args.return_field.data_type(),
                args.number_rows,
            )));
        };
        let list = input.as_list::<i32>();
        let oids = arrow::compute::cast(list.values(), &DataType::Int32)?;
        let format_type = datafusion_pg_catalog::pg_catalog::format_type::create_format_type_udf();
        let names = format_type
            .invoke_with_args(ScalarFunctionArgs {
                args: vec![
                    ColumnarValue::Array(oids.clone()),
                    ColumnarValue::Scalar(ScalarValue::Int32(None)),
                ],
                arg_fields: vec![
                    Arc::new(Field::new("oid", DataType::Int32, true)),
                    Arc::new(Field::new("typemod", DataType::Int32, true)),
                ],
                number_rows: oids.len(),
                return_field: Arc::new(Field::new("name", DataType::Utf8, true)),
                config_options: args.config_options.clone(),
            })?
            .to_array(oids.len())?;
        let names = arrow::compute::cast(&names, &DataType::Utf8)?;
        let named = ListArray::try_new(
            Arc::new(Field::new_list_field(DataType::Utf8, true)),
            list.offsets().clone(),
            names,
            list.nulls().cloned(),
        )?;
        Ok(ColumnarValue::Array(Arc::new(named)))
    }
}

/// `_pg_expandarray(a)`: the elements of `a` with their 1-based positions, as a list of
/// `{x, n}` structs. PostgreSQL's `information_schema._pg_expandarray` is set-returning;
/// [`crate::pg::sql::rewrite`] wraps calls in `unnest`, giving one `(x, n)` row per element.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct ExpandArray {
    signature: Signature,
}

impl ExpandArray {
    pub(super) fn new() -> Self {
        ExpandArray {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }

    /// The `{x, n}` struct of one element of type `element`.
    fn fields(element: &DataType) -> arrow::datatypes::Fields {
        use arrow::datatypes::Field;
        vec![
            Field::new("x", element.clone(), true),
            Field::new("n", DataType::Int32, false),
        ]
        .into()
    }
}

impl ScalarUDFImpl for ExpandArray {
    fn name(&self) -> &str {
        "_pg_expandarray"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        use arrow::datatypes::Field;
        let element = match arg_types {
            [DataType::List(field)] => field.data_type().clone(),
            // `_pg_expandarray(NULL)`: an empty set of untyped elements.
            [DataType::Null] => DataType::Null,
            other => {
                return datafusion::common::plan_err!(
                    "function _pg_expandarray({}) does not exist",
                    other
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        };
        Ok(DataType::List(Arc::new(Field::new_list_field(
            DataType::Struct(Self::fields(&element)),
            true,
        ))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use arrow::array::{Int32Array, ListArray, StructArray, new_null_array};
        use arrow::datatypes::Field;
        let Some(arg) = args.args.first() else {
            return datafusion::common::exec_err!("_pg_expandarray takes one argument");
        };
        let input = arg.to_array(args.number_rows)?;
        let DataType::List(_) = input.data_type() else {
            let return_type = args.return_field.data_type().clone();
            return Ok(ColumnarValue::Array(new_null_array(
                &return_type,
                args.number_rows,
            )));
        };
        let list = input.as_list::<i32>();
        let offsets = list.offsets();
        let values = list.values().clone();
        // Position of every element within its list (elements outside all lists: 0).
        let mut positions = vec![0_i32; values.len()];
        for window in offsets.windows(2) {
            let (start, end) = (window[0].max(0) as usize, window[1].max(0) as usize);
            for (i, slot) in positions[start..end].iter_mut().enumerate() {
                *slot = i32::try_from(i + 1).unwrap_or(i32::MAX);
            }
        }
        let fields = Self::fields(values.data_type());
        let structs = StructArray::try_new(
            fields.clone(),
            vec![values, Arc::new(Int32Array::from(positions))],
            None,
        )?;
        let expanded = ListArray::try_new(
            Arc::new(Field::new_list_field(DataType::Struct(fields), true)),
            offsets.clone(),
            Arc::new(structs),
            list.nulls().cloned(),
        )?;
        Ok(ColumnarValue::Array(Arc::new(expanded)))
    }
}
