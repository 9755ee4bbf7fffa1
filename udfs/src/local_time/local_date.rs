//! `local_date(ts, tz) -> DATE`: the calendar date of an instant on a wall clock in a zone.

use std::sync::{Arc, OnceLock};

use arrow::array::Date32Array;
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::{
    DOC_SECTION, check_const_zone, date_to_days, map_local_time, string_coercion, ts_coercion,
};

declare_udf! {
    /// `local_date(ts, tz)`: see the [module docs](super) for NULLs, DST and unknown zones.
    LocalDateFunc, "local_date",
    Signature::coercible(
        vec![ts_coercion(), string_coercion()],
        Volatility::Immutable,
    )
}

impl ScalarUDFImpl for LocalDateFunc {
    fn name(&self) -> &str {
        "local_date"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        check_const_zone(args.scalar_arguments, 1)?;
        Ok(Arc::new(Field::new(self.name(), DataType::Date32, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_local_time::<Date32Array, _>(self.name(), &args, |t| Some(date_to_days(t.date())))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                "The calendar date of an instant on a wall clock in an IANA time zone \
                 (DST-correct). A zone-less timestamp is taken as UTC; NULL in gives NULL.",
                "local_date(ts, tz)",
            )
            .with_sql_example(
                "```sql\n> SELECT local_date(TIMESTAMP '2026-03-10T23:30:00Z', 'Asia/Kolkata');\n2026-03-11\n```",
            )
            .with_argument("ts", "Timestamp (any unit, with or without a zone) or string.")
            .with_argument("tz", "IANA time zone name, e.g. 'Asia/Kolkata'.")
            .build()
        }))
    }
}
