//! `phone_country(phone) -> TEXT`: the ISO 3166 alpha-2 region of a phone number.

use std::sync::{Arc, OnceLock};

use arrow::array::StringBuilder;
use arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::DOC_SECTION;
use super::lookup::lookup_column;
use crate::local_time::string_coercion;

declare_udf! {
    /// `phone_country(phone)`: see the [module docs](super) for inputs, shared codes and NULLs.
    PhoneCountryFunc, "phone_country",
    Signature::coercible(vec![string_coercion()], Volatility::Immutable)
}

impl ScalarUDFImpl for PhoneCountryFunc {
    fn name(&self) -> &str {
        "phone_country"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let infos = lookup_column(&args.args[0], args.number_rows)?;
        let mut out = StringBuilder::with_capacity(infos.len(), infos.len() * 2);
        for info in &infos {
            out.append_option(info.as_ref().and_then(|i| i.country_str()));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                "The ISO 3166 alpha-2 region of an E.164 phone number (with or without '+'). \
                 Shared calling codes such as +1 are resolved by libphonenumber's number \
                 patterns. NULL if the number cannot be parsed.",
                "phone_country(phone)",
            )
            .with_sql_example("```sql\n> SELECT phone_country('13459492311');\nKY\n```")
            .with_argument(
                "phone",
                "Phone number as text: digits with or without a leading '+'.",
            )
            .build()
        }))
    }
}
