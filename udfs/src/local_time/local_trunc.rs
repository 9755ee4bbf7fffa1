//! `local_trunc(unit, ts, tz) -> TIMESTAMPTZ`: the UTC instant of the local period boundary.

use std::sync::{Arc, OnceLock};

use arrow::array::{Array, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::utils::take_function_args;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::{
    DOC_SECTION, StrArg, TruncUnit, Zones, batch_rows, check_const_unit, check_const_zone, finish,
    local_naive, local_to_utc, string_coercion, ts_coercion, utc_micros, utc_micros_type,
};

declare_udf! {
    /// `local_trunc(unit, ts, tz)`: see the [module docs](super) for NULLs, DST and unknown zones.
    LocalTruncFunc, "local_trunc",
    Signature::coercible(
        vec![string_coercion(), ts_coercion(), string_coercion()],
        Volatility::Immutable,
    )
}

/// Units of a batch: a constant unit is parsed once.
enum Units {
    Const(Option<TruncUnit>),
    Column(StrArg),
}

impl Units {
    fn new(arg: &ColumnarValue) -> Result<Self> {
        Ok(match StrArg::new(arg)? {
            StrArg::Const(None) => Self::Const(None),
            StrArg::Const(Some(name)) => Self::Const(Some(parse_unit(&name)?)),
            column @ StrArg::Column(_) => Self::Column(column),
        })
    }

    fn get(&self, row: usize) -> Result<Option<TruncUnit>> {
        match self {
            Self::Const(unit) => Ok(*unit),
            Self::Column(names) => names.get(row).map(parse_unit).transpose(),
        }
    }
}

fn parse_unit(name: &str) -> Result<TruncUnit> {
    match TruncUnit::parse(name) {
        Some(unit) => Ok(unit),
        None => exec_err!(
            "unknown local_trunc unit '{name}', expected hour, day, week, month, quarter or year"
        ),
    }
}

impl ScalarUDFImpl for LocalTruncFunc {
    fn name(&self) -> &str {
        "local_trunc"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(utc_micros_type())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        check_const_unit(args.scalar_arguments, 0)?;
        check_const_zone(args.scalar_arguments, 2)?;
        Ok(Arc::new(Field::new(self.name(), utc_micros_type(), true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [unit, ts, tz] = take_function_args(self.name(), &args.args)?;
        let rows = batch_rows(&args.args, args.number_rows);
        let units = Units::new(unit)?;
        let micros = utc_micros(ts, rows)?;
        let zones = Zones::new(tz)?;
        let result = (0..rows)
            .map(|row| {
                let (Some(unit), true, Some(tz)) =
                    (units.get(row)?, micros.is_valid(row), zones.get(row))
                else {
                    return Ok(None);
                };
                let (local, offset) = local_naive(tz, micros.value(row))?;
                // An hour repeated by a DST overlap keeps the instant's own offset; longer
                // periods start at their first instant.
                let prefer = (unit == TruncUnit::Hour).then_some(offset);
                local_to_utc(tz, unit.start(local)?, prefer).map(Some)
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
                "The UTC instant at which the local hour, day, week (Monday), month, quarter or \
                 year containing `ts` starts on a wall clock in an IANA time zone. DST-correct: \
                 days may last 23 or 25 hours; a boundary skipped by DST is the moment the clocks \
                 jump. NULL in gives NULL.",
                "local_trunc(unit, ts, tz)",
            )
            .with_sql_example(
                "```sql\n> SELECT local_trunc('day', TIMESTAMP '2026-03-29T12:00:00Z', 'Europe/London');\n2026-03-29T00:00:00Z\n```",
            )
            .with_argument("unit", "'hour', 'day', 'week', 'month', 'quarter' or 'year'.")
            .with_argument("ts", "Timestamp (any unit, with or without a zone) or string.")
            .with_argument("tz", "IANA time zone name, e.g. 'Europe/London'.")
            .build()
        }))
    }
}
