//! `phone_calling_code(phone) -> INT`: the ITU calling code of a phone number.

use std::sync::{Arc, OnceLock};

use arrow::array::Int32Array;
use arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::DOC_SECTION;
use super::lookup::lookup_column;
use crate::local_time::string_coercion;

declare_udf! {
    /// `phone_calling_code(phone)`: see the [module docs](super). Returns `Int32` (Postgres has no
    /// unsigned types; the lake's `calling_code` column is `Int32` too).
    PhoneCallingCodeFunc, "phone_calling_code",
    Signature::coercible(vec![string_coercion()], Volatility::Immutable)
}

impl ScalarUDFImpl for PhoneCallingCodeFunc {
    fn name(&self) -> &str {
        "phone_calling_code"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let infos = lookup_column(&args.args[0], args.number_rows)?;
        let codes: Int32Array = infos
            .iter()
            .map(|info| info.and_then(|i| i.calling_code).map(i32::from))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(codes)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                "The ITU calling code of an E.164 phone number (with or without '+'), \
                 e.g. 91 for India, 1 for the NANP countries. NULL if the number cannot be parsed.",
                "phone_calling_code(phone)",
            )
            .with_sql_example("```sql\n> SELECT phone_calling_code('+919876543210');\n91\n```")
            .with_argument(
                "phone",
                "Phone number as text: digits with or without a leading '+'.",
            )
            .build()
        }))
    }
}
