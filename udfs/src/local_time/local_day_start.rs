//! `local_day_start(date, tz) -> TIMESTAMPTZ`: the UTC instant of local midnight of a date.

use std::sync::{Arc, OnceLock};

use arrow::array::{Array, AsArray, TimestampMicrosecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Date32Type, Field, FieldRef};
use datafusion::common::Result;
use datafusion::common::utils::take_function_args;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::{
    DOC_SECTION, Zones, batch_rows, check_const_zone, date_coercion, days_to_date, finish,
    local_to_utc, string_coercion, utc_micros_type,
};

declare_udf! {
    /// `local_day_start(date, tz)`: see the [module docs](super) for NULLs, DST and unknown zones.
    LocalDayStartFunc, "local_day_start",
    Signature::coercible(
        vec![date_coercion(), string_coercion()],
        Volatility::Immutable,
    )
}

impl ScalarUDFImpl for LocalDayStartFunc {
    fn name(&self) -> &str {
        "local_day_start"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(utc_micros_type())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        check_const_zone(args.scalar_arguments, 1)?;
        Ok(Arc::new(Field::new(self.name(), utc_micros_type(), true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [date, tz] = take_function_args(self.name(), &args.args)?;
        let rows = batch_rows(&args.args, args.number_rows);
        let days = cast(&date.to_array(rows)?, &DataType::Date32)?;
        let days = days.as_primitive::<Date32Type>();
        let zones = Zones::new(tz)?;
        let result = (0..rows)
            .map(|row| match (days.is_valid(row), zones.get(row)) {
                (true, Some(tz)) => {
                    let midnight = days_to_date(days.value(row))?.and_time(chrono::NaiveTime::MIN);
                    local_to_utc(tz, midnight, None).map(Some)
                }
                _ => Ok(None),
            })
            .collect::<Result<TimestampMicrosecondArray>>()?
            .with_timezone("UTC");
        finish(&args.args, Arc::new(result))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                "The UTC instant of local midnight of `date` in an IANA time zone. On a day whose \
                 midnight is skipped by DST, the first instant of that local day. NULL in gives NULL.",
                "local_day_start(date, tz)",
            )
            .with_sql_example(
                "```sql\n> SELECT local_day_start(DATE '2026-11-01', 'America/New_York');\n2026-11-01T04:00:00Z\n```",
            )
            .with_argument("date", "Date (or a string or timestamp cast to a date).")
            .with_argument("tz", "IANA time zone name, e.g. 'America/New_York'.")
            .build()
        }))
    }
}
