//! `local_dow(ts, tz) -> DATE`: the calendar date of an instant on a wall clock in a zone.

use std::sync::{Arc, OnceLock};

use arrow::array::Int32Array;
use arrow::datatypes::{DataType, Field, FieldRef};
use chrono::Datelike;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::{DOC_SECTION, check_const_zone, map_local_time, string_coercion, ts_coercion};

declare_udf! {
    /// `local_dow(ts, tz)`: see the [module docs](super) for NULLs, DST and unknown zones.
    LocalDowFunc, "local_dow",
    Signature::coercible(
        vec![ts_coercion(), string_coercion()],
        Volatility::Immutable,
    )
}

impl ScalarUDFImpl for LocalDowFunc {
    fn name(&self) -> &str {
        "local_dow"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        check_const_zone(args.scalar_arguments, 1)?;
        Ok(Arc::new(Field::new(self.name(), DataType::Int32, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_local_time::<Int32Array, _>(self.name(), &args, |t| {
            i32::try_from(t.weekday().number_from_monday()).ok()
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                "The ISO day of week (1 = Monday ... 7 = Sunday) of an instant on a wall clock in an \
                 IANA time zone (DST-correct). A zone-less timestamp is taken as UTC; NULL in gives NULL.",
                "local_dow(ts, tz)",
            )
            .with_sql_example(
                "```sql\n> SELECT local_dow(TIMESTAMP '2026-03-29T12:00:00Z', 'Europe/London');\n7\n```",
            )
            .with_argument("ts", "Timestamp (any unit, with or without a zone) or string.")
            .with_argument("tz", "IANA time zone name, e.g. 'Asia/Kolkata'.")
            .build()
        }))
    }
}
