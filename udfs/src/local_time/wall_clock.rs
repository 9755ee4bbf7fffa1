//! The wall-clock fields of an instant in a zone, one function each:
//! `local_date(ts, tz) -> DATE`, `local_hour(ts, tz) -> INT` (0-23) and
//! `local_dow(ts, tz) -> INT` (ISO day of week, 1 = Monday ... 7 = Sunday).
//!
//! They differ only in the field they read from the local time and its SQL type, so one macro
//! declares them; NULLs, DST and unknown zones are the [module docs](super)' rules, shared
//! through [`map_local_time`].

use std::sync::{Arc, OnceLock};

use arrow::array::{Date32Array, Int32Array};
use arrow::datatypes::{DataType, Field, FieldRef};
use chrono::{Datelike, Timelike};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::{
    DOC_SECTION, check_const_zone, date_to_days, map_local_time, string_coercion, ts_coercion,
};

/// Declares a `(ts, tz)` function returning one field of the local time of `ts` in `tz`:
/// its struct, signature, return type, the field (a closure over `chrono::NaiveDateTime`) and
/// its documentation (what it returns, and an example query with its answer).
macro_rules! wall_clock_function {
    (
        $(#[$doc:meta])* $func:ident, $sql:literal, $data_type:expr, $array:ty,
        field: $field:expr, returns: $returns:literal, example: $example:literal $(,)?
    ) => {
        declare_udf! {
            $(#[$doc])*
            $func, $sql,
            Signature::coercible(vec![ts_coercion(), string_coercion()], Volatility::Immutable)
        }

        impl ScalarUDFImpl for $func {
            fn name(&self) -> &str {
                $sql
            }

            fn signature(&self) -> &Signature {
                &self.signature
            }

            fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
                Ok($data_type)
            }

            fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
                check_const_zone(args.scalar_arguments, 1)?;
                Ok(Arc::new(Field::new(self.name(), $data_type, true)))
            }

            fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
                map_local_time::<$array, _>(self.name(), &args, $field)
            }

            fn documentation(&self) -> Option<&Documentation> {
                static DOC: OnceLock<Documentation> = OnceLock::new();
                Some(DOC.get_or_init(|| {
                    Documentation::builder(
                        DOC_SECTION,
                        concat!(
                            $returns,
                            " of an instant on a wall clock in an IANA time zone (DST-correct). ",
                            "A zone-less timestamp is taken as UTC; NULL in gives NULL."
                        ),
                        concat!($sql, "(ts, tz)"),
                    )
                    .with_sql_example(concat!("```sql\n> ", $example, "\n```"))
                    .with_argument("ts", "Timestamp (any unit, with or without a zone) or string.")
                    .with_argument("tz", "IANA time zone name, e.g. 'Asia/Kolkata'.")
                    .build()
                }))
            }
        }
    };
}

wall_clock_function! {
    /// `local_date(ts, tz)`: see the [module docs](super) for NULLs, DST and unknown zones.
    LocalDateFunc, "local_date", DataType::Date32, Date32Array,
    field: |t| Some(date_to_days(t.date())),
    returns: "The calendar date",
    example: "SELECT local_date(TIMESTAMP '2026-03-10T23:30:00Z', 'Asia/Kolkata');\n2026-03-11",
}

wall_clock_function! {
    /// `local_hour(ts, tz)`: see the [module docs](super) for NULLs, DST and unknown zones.
    LocalHourFunc, "local_hour", DataType::Int32, Int32Array,
    field: |t| i32::try_from(t.hour()).ok(),
    returns: "The hour (0-23)",
    example: "SELECT local_hour(TIMESTAMP '2026-03-10T23:30:00Z', 'Asia/Kolkata');\n5",
}

wall_clock_function! {
    /// `local_dow(ts, tz)`: see the [module docs](super) for NULLs, DST and unknown zones.
    LocalDowFunc, "local_dow", DataType::Int32, Int32Array,
    field: |t| i32::try_from(t.weekday().number_from_monday()).ok(),
    returns: "The ISO day of week (1 = Monday ... 7 = Sunday)",
    example: "SELECT local_dow(TIMESTAMP '2026-03-29T12:00:00Z', 'Europe/London');\n7",
}
