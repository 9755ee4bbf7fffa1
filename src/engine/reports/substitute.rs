//! `$name` placeholders of a report's SQL: finding them outside literals and comments, the
//! typed SQL literal each argument becomes, the values derived from the date range and zone
//! (`$range_start`, `$dt_from`, …), and the checks of range and zone arguments.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{Days, NaiveDate};
use datafusion::common::{ScalarValue, plan_datafusion_err, plan_err};
use datafusion::error::Result as DfResult;

use super::{MAX_RANGE_DAYS, PARAM_ERROR_PREFIX, ReportDef};

pub(super) fn placeholder_names(report: &ReportDef) -> Vec<String> {
    let mut names: Vec<String> = report.params.iter().map(|p| p.name.clone()).collect();
    if report.has_range() {
        for derived in ["range_start", "range_end", "dt_from", "dt_to"] {
            names.push(derived.to_string());
        }
        if report.param("tz").is_none() {
            names.push("tz".to_string());
        }
    }
    names
}

/// Calls `f` for each `$identifier` outside string literals and comments; returns the text with
/// each replaced by `f`'s answer (or left as is when `f` gives `None`).
pub(super) fn rewrite_placeholders(sql: &str, mut f: impl FnMut(&str) -> Option<String>) -> String {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'\'' {
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'$' => {
                let start = i + 1;
                let mut end = start;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                {
                    end += 1;
                }
                let ident = &sql[start..end];
                if !ident.is_empty()
                    && !ident.as_bytes()[0].is_ascii_digit()
                    && let Some(replacement) = f(ident)
                {
                    out.push_str(&sql[copied..i]);
                    out.push_str(&replacement);
                    copied = end;
                }
                i = end.max(i + 1);
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied.min(sql.len())..]);
    out
}

pub(super) fn placeholders(sql: &str) -> Vec<String> {
    let mut found = Vec::new();
    rewrite_placeholders(sql, |name| {
        found.push(name.to_string());
        None
    });
    found
}

pub(super) fn substitute(sql: &str, values: &HashMap<String, String>) -> String {
    rewrite_placeholders(sql, |name| values.get(name).cloned())
}

/// A typed SQL literal for a parameter value.
pub(super) fn sql_literal(value: &ScalarValue) -> String {
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => {
            format!("'{}'", s.replace('\'', "''"))
        }
        ScalarValue::Date32(Some(_)) => format!("DATE '{value}'"),
        ScalarValue::Int64(Some(n)) => format!("CAST({n} AS BIGINT)"),
        ScalarValue::Boolean(Some(b)) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        ScalarValue::Date32(None) => "CAST(NULL AS DATE)".to_string(),
        ScalarValue::Int64(None) => "CAST(NULL AS BIGINT)".to_string(),
        ScalarValue::Boolean(None) => "CAST(NULL AS BOOLEAN)".to_string(),
        _ => "CAST(NULL AS VARCHAR)".to_string(),
    }
}

pub(super) fn date_value(date: NaiveDate) -> ScalarValue {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    ScalarValue::Date32(Some((date - epoch).num_days() as i32))
}

pub(super) fn as_date(value: &ScalarValue) -> Option<NaiveDate> {
    match value {
        ScalarValue::Date32(Some(days)) => NaiveDate::from_ymd_opt(1970, 1, 1)
            .and_then(|e| e.checked_add_signed(chrono::Duration::days(i64::from(*days)))),
        _ => None,
    }
}

pub(super) fn as_text(value: &ScalarValue) -> Option<&str> {
    match value {
        ScalarValue::Utf8(Some(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// Values used to plan a report at start-up (types only matter).
pub(super) fn sample_values(report: &ReportDef) -> HashMap<String, String> {
    let mut args: Vec<ScalarValue> = report.params.iter().map(|p| p.default.clone()).collect();
    let day = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    for (param, arg) in report.params.iter().zip(args.iter_mut()) {
        if param.name == "from_date" || param.name == "to_date" {
            *arg = date_value(day);
        }
    }
    let mut values = literal_values(report, &args, day, day, "UTC");
    for def in &report.lets {
        let null = ScalarValue::try_from(&def.ty.data_type()).unwrap_or(ScalarValue::Null);
        values.insert(def.name.clone(), sql_literal(&null));
    }
    values
}

pub(super) fn literal_values(
    report: &ReportDef,
    args: &[ScalarValue],
    from: NaiveDate,
    to: NaiveDate,
    tz: &str,
) -> HashMap<String, String> {
    let mut values: HashMap<String, String> = report
        .params
        .iter()
        .zip(args)
        .map(|(p, v)| (p.name.clone(), sql_literal(v)))
        .collect();
    if report.has_range() {
        let tz_lit = sql_literal(&ScalarValue::Utf8(Some(tz.to_string())));
        let next = to.checked_add_days(Days::new(1)).unwrap_or(to);
        let dt_from = from.checked_sub_days(Days::new(1)).unwrap_or(from);
        values.insert("from_date".into(), sql_literal(&date_value(from)));
        values.insert("to_date".into(), sql_literal(&date_value(to)));
        values.insert("tz".into(), tz_lit.clone());
        values.insert(
            "range_start".into(),
            format!(
                "local_day_start({}, {tz_lit})",
                sql_literal(&date_value(from))
            ),
        );
        values.insert(
            "range_end".into(),
            format!(
                "local_day_start({}, {tz_lit})",
                sql_literal(&date_value(next))
            ),
        );
        values.insert("dt_from".into(), sql_literal(&date_value(dt_from)));
        values.insert("dt_to".into(), sql_literal(&date_value(next)));
    }
    values
}

pub(super) fn check_range(from: NaiveDate, to: NaiveDate) -> DfResult<()> {
    if to < from {
        return plan_err!("{PARAM_ERROR_PREFIX}: to_date {to} is before from_date {from}");
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_RANGE_DAYS {
        return plan_err!(
            "{PARAM_ERROR_PREFIX}: the range {from} to {to} covers {days} days; at most {MAX_RANGE_DAYS} are allowed"
        );
    }
    Ok(())
}

pub(super) fn check_zone(tz: &str) -> DfResult<()> {
    chrono_tz::Tz::from_str(tz)
        .map(|_| ())
        .map_err(|_| plan_datafusion_err!("{PARAM_ERROR_PREFIX}: unknown time zone '{tz}'"))
}
