//! `window_funnel(window, mode, ts, cond1, ..., condN) -> INT`: the UDAF around [`Funnel`].

use std::sync::{Arc, OnceLock};

use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};

use super::DOC_SECTION;
use super::level::Funnel;
use super::mode::Modes;
use crate::events::accumulator::EventsGroupsAccumulator;
use crate::events::{TsKind, check_conditions, const_string, literal_arg, state_fields};
use crate::groups::through_groups_accumulator;

const NAME: &str = "window_funnel";

declare_udf! {
    /// `window_funnel`: see the [module docs](super) for the semantics table.
    WindowFunnelFunc, "window_funnel",
    // Argument types are checked in `return_field` so that a bad call is a plan error
    // with our own message.
    Signature::variadic_any(Volatility::Immutable)
}

impl WindowFunnelFunc {
    /// The funnel of one call, from its constant `window` and `mode` arguments.
    fn funnel(args: &AccumulatorArgs) -> Result<Funnel> {
        let Some(ts_field) = args.expr_fields.get(2) else {
            return plan_err!("{NAME} needs a timestamp argument");
        };
        let kind = TsKind::of(NAME, ts_field.data_type())?;
        let window = match literal_arg(args, 0) {
            Some(v) => window_units(v, kind)?,
            None => return plan_err!("{NAME}: window must be a constant"),
        };
        let modes = Modes::parse(&const_string(args, 1, NAME, "mode")?)?;
        Ok(Funnel {
            window,
            steps: (args.exprs.len() - 3) as u32,
            modes,
        })
    }
}

/// The window as a count of timestamp units: seconds (integer) or an INTERVAL for timestamps,
/// the timestamp's own unit for integer timestamps.
fn window_units(value: &ScalarValue, kind: TsKind) -> Result<i64> {
    if value.is_null() {
        return plan_err!("{NAME}: window must not be NULL");
    }
    let units = match value {
        ScalarValue::IntervalMonthDayNano(Some(v)) => {
            if v.months != 0 {
                return plan_err!("{NAME}: window must be a fixed duration, not months or years");
            }
            interval_micros(kind, i64::from(v.days), v.nanoseconds / 1000)?
        }
        ScalarValue::IntervalDayTime(Some(v)) => {
            interval_micros(kind, i64::from(v.days), i64::from(v.milliseconds) * 1000)?
        }
        ScalarValue::IntervalYearMonth(_) => {
            return plan_err!("{NAME}: window must be a fixed duration, not months or years");
        }
        v if v.data_type().is_integer() => {
            let Ok(ScalarValue::Int64(Some(n))) = v.cast_to(&DataType::Int64) else {
                return plan_err!("{NAME}: window {v} is out of range");
            };
            kind.scale_seconds(NAME, n)?
        }
        v => {
            return plan_err!(
                "{NAME}: window must be an integer number of seconds or an INTERVAL, got {}",
                v.data_type()
            );
        }
    };
    if units < 0 {
        return plan_err!("{NAME}: window must not be negative");
    }
    Ok(units)
}

fn interval_micros(kind: TsKind, days: i64, micros: i64) -> Result<i64> {
    if kind == TsKind::Integer {
        return plan_err!(
            "{NAME}: an INTERVAL window needs a TIMESTAMP or DATE ts; with an integer ts give the window as an integer"
        );
    }
    match days
        .checked_mul(86_400_000_000)
        .and_then(|d| d.checked_add(micros))
    {
        Some(v) => Ok(v),
        None => plan_err!("{NAME}: window is too large"),
    }
}

impl AggregateUDFImpl for WindowFunnelFunc {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn return_field(&self, arg_fields: &[FieldRef]) -> Result<FieldRef> {
        if arg_fields.len() < 4 {
            return plan_err!(
                "{NAME} needs (window, mode, ts, cond1, ..., condN) with 1 to 32 conditions, got {} arguments",
                arg_fields.len()
            );
        }
        let window = arg_fields[0].data_type();
        if !(window.is_integer() || matches!(window, DataType::Interval(_))) {
            return plan_err!(
                "{NAME}: window must be an integer number of seconds or an INTERVAL, got {window}"
            );
        }
        let mode = arg_fields[1].data_type();
        if !matches!(
            mode,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            return plan_err!("{NAME}: mode must be a string, got {mode}");
        }
        let kind = TsKind::of(NAME, arg_fields[2].data_type())?;
        if kind == TsKind::Integer && matches!(window, DataType::Interval(_)) {
            return plan_err!(
                "{NAME}: an INTERVAL window needs a TIMESTAMP or DATE ts; with an integer ts give the window as an integer"
            );
        }
        let conditions: Vec<DataType> = arg_fields[3..]
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        check_conditions(NAME, &conditions, 1)?;
        Ok(Arc::new(Field::new(NAME, DataType::Int32, true)))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(args.name))
    }

    through_groups_accumulator!();

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(EventsGroupsAccumulator::new(Arc::new(
            Self::funnel(&args)?,
        ))))
    }

    fn default_value(&self, _data_type: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::Int32(Some(0)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                "The furthest step of an ordered funnel that one group (e.g. a contact) reached \
                 within a sliding time window: ClickHouse `windowFunnel` exactly. A chain starts at \
                 a row where cond1 is true and step k needs a later-or-equal row where condk is \
                 true, at most `window` after the chain's first step. Input order does not matter. \
                 Rows with a NULL argument are skipped; 0 when no step was reached.",
                "window_funnel(window, mode, ts, cond1[, ..., cond32])",
            )
            .with_sql_example(
                "```sql\n> SELECT contact_id, window_funnel(INTERVAL '1 day', '', ts,\n         kind = 'sent', kind = 'delivered', kind = 'read') AS level\n  FROM events GROUP BY contact_id;\n```",
            )
            .with_argument(
                "window",
                "Constant window: an integer number of seconds or a fixed INTERVAL (days, hours, ...). \
                 With an integer ts, an integer in the ts's own unit.",
            )
            .with_argument(
                "mode",
                "Constant string: '' or a comma-separated subset of strict_order, strict_deduplication, \
                 strict_increase, strict_once, allow_reentry (allow_reentry needs strict_order).",
            )
            .with_argument(
                "ts",
                "TIMESTAMP (any unit or zone, compared in UTC microseconds), DATE, or an integer.",
            )
            .with_argument("cond1, ..., condN", "1 to 32 BOOLEAN step conditions, in funnel order.")
            .build()
        }))
    }
}
