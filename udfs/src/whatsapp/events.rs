//! Reading the seven arguments shared by `wa_conversations` and `wa_pricing` into model events.
//!
//! | argument | type | rows that take no part |
//! |---|---|---|
//! | `ruleset` | constant text | — |
//! | `ts` | timestamp (for outbound messages, pass the delivery time) | NULL |
//! | `direction` | `'inbound'` or `'outbound'` (case-insensitive); anything else is an error | NULL |
//! | `delivered` | boolean, outbound only | outbound rows where it is false or NULL |
//! | `is_template` | boolean; NULL is false | — |
//! | `template_category` | `marketing`, `utility`, `authentication` (`marketing_lite` and `authentication_international` count as their base category); NULL on a template counts as `marketing`, the most expensive category; anything else is an error | — |
//! | `is_referral` | boolean, inbound only: the message came from a click-to-WhatsApp ad or Page CTA; NULL is false | — |

use arrow::array::{Array, ArrayRef, BooleanArray};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};

use super::model::{Event, Kind};
use crate::args::{
    TextColumn, check_arity, coerce_condition, coerce_text, coerce_text_column, coerce_timestamp,
    conditions, is_true, timestamps,
};

/// The argument list, for error messages.
pub(crate) const SYNTAX: &str =
    "ruleset, ts, direction, delivered, is_template, template_category, is_referral";

/// Coerces the seven argument types of `function`.
pub(crate) fn coerce(function: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    check_arity(function, types, 7, SYNTAX)?;
    Ok(vec![
        coerce_text(function, "ruleset", &types[0])?,
        coerce_timestamp(function, "ts", &types[1])?,
        coerce_text_column(function, "direction", &types[2])?,
        coerce_condition(function, "delivered", &types[3])?,
        coerce_condition(function, "is_template", &types[4])?,
        coerce_text_column(function, "template_category", &types[5])?,
        coerce_condition(function, "is_referral", &types[6])?,
    ])
}

fn is_direction(value: &str, name: &str) -> bool {
    value == name || value.eq_ignore_ascii_case(name)
}

fn template_kind(function: &str, category: Option<&str>) -> Result<Kind> {
    let Some(category) = category else {
        return Ok(Kind::Marketing);
    };
    let known = |name: &str| match name {
        "marketing" | "marketing_lite" => Some(Kind::Marketing),
        "utility" => Some(Kind::Utility),
        "authentication" | "authentication_international" => Some(Kind::Authentication),
        _ => None,
    };
    // The lower-case spelling is the norm; only other spellings pay for a lower-cased copy.
    match known(category).or_else(|| known(&category.to_ascii_lowercase())) {
        Some(kind) => Ok(kind),
        None => exec_err!(
            "{function}: unknown template_category '{category}'; expected 'marketing', 'utility' or 'authentication'"
        ),
    }
}

/// Calls `each(row, event)` for every row that takes part (see the module table), with the
/// arrays of one batch in argument order (the `ruleset` column is ignored here).
pub(crate) fn decode(
    function: &str,
    values: &[ArrayRef],
    mut each: impl FnMut(usize, Event),
) -> Result<()> {
    let ts = timestamps(&values[1])?;
    let direction = TextColumn::of(&values[2])?;
    let delivered: BooleanArray = conditions(&values[3])?;
    let is_template: BooleanArray = conditions(&values[4])?;
    let category = TextColumn::of(&values[5])?;
    let is_referral: BooleanArray = conditions(&values[6])?;
    for row in 0..ts.len() {
        if ts.is_null(row) {
            continue;
        }
        let Some(dir) = direction.get(row) else {
            continue;
        };
        let kind = if is_direction(dir, "inbound") {
            if is_true(&is_referral, row) {
                Kind::InboundReferral
            } else {
                Kind::Inbound
            }
        } else if is_direction(dir, "outbound") {
            if !is_true(&delivered, row) {
                continue;
            }
            if is_true(&is_template, row) {
                template_kind(function, category.get(row))?
            } else {
                Kind::FreeForm
            }
        } else {
            return exec_err!("{function}: direction must be 'inbound' or 'outbound', got '{dir}'");
        };
        each(
            row,
            Event {
                ts: ts.value(row),
                kind,
            },
        );
    }
    Ok(())
}
