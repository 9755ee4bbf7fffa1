//! `wa_pricing(...) OVER (PARTITION BY channel, contact)`: the price of each delivered outbound
//! message, as the status webhooks' `pricing` object would report it.
//!
//! | rules in force for the message | `category` | `type` |
//! |---|---|---|
//! | `pmp_2025`, inside a free-entry-point window | `referral_conversion` | `free_entry_point` |
//! | `pmp_2025`, free-form message | `service` | `free_customer_service` |
//! | `pmp_2025`, utility template with the customer-service window open | `utility` | `free_customer_service` |
//! | `pmp_2025`, other templates | the template's category | `regular` |
//! | `cbp_2022`, `cbp_2023` | the origin of the conversation it opened or rode in | NULL (CBP webhooks have no `pricing.type`) |
//! | inbound, undelivered, or a free-form message that could not be sent (no window) | NULL | NULL |
//!
//! Rows are sorted by `ts` internally (inbound first on ties), so the window needs no `ORDER BY`.

use std::sync::{Arc, OnceLock};

use arrow::array::{ArrayRef, StringBuilder, StructArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    Documentation, PartitionEvaluator, Signature, Volatility, WindowUDFImpl,
};

use super::DOC_SECTION;
use super::events::{coerce, decode};
use super::model::{Billed, Conversation, Event, Kind, Origin, simulate};
use super::ruleset::{Rules, Ruleset};
use crate::args::constant_text;

const NAME: &str = "wa_pricing";

declare_udf! {
    /// `wa_pricing(ruleset, ts, direction, delivered, is_template, template_category, is_referral)`:
    /// see the [module docs](self).
    WaPricingFunc, "wa_pricing",
    Signature::user_defined(Volatility::Immutable)
}

fn price_fields() -> Fields {
    Fields::from(vec![
        Field::new("category", DataType::Utf8, true),
        Field::new("type", DataType::Utf8, true),
    ])
}

impl WindowUDFImpl for WaPricingFunc {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce(NAME, arg_types)
    }

    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let Some(expr) = args.input_exprs().first() else {
            return plan_err!("{NAME}: missing the ruleset argument");
        };
        let ruleset = Ruleset::parse(NAME, &constant_text(NAME, "ruleset", expr)?)?;
        Ok(Box::new(PricingEvaluator { ruleset }))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(
            field_args.name(),
            DataType::Struct(price_fields()),
            true,
        )))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                "Window function over one contact's messages: the {category, type} price of \
                 each delivered outbound message. Under 'pmp_2025': free_entry_point inside a \
                 free-entry-point window, free_customer_service for free-form messages and \
                 utility templates inside the customer-service window, regular otherwise. \
                 Under the CBP rulesets: the conversation's origin, type NULL.",
                "wa_pricing(ruleset, ts, direction, delivered, is_template, template_category, is_referral) OVER (PARTITION BY channel_id, contact_id)",
            )
            .with_sql_example(
                "```sql\n> SELECT message_id, wa_pricing('pmp_2025', ts, direction, true, is_template,\n         template_category, referral_source_type = 'ad')\n         OVER (PARTITION BY channel_id, contact_id) AS price\n  FROM messages;\n```",
            )
            .with_argument("ruleset", "Constant: 'cbp_2022', 'cbp_2023', 'pmp_2025' or 'auto'.")
            .with_argument("ts", "Message time; for outbound messages, the delivery time.")
            .with_argument("direction", "'inbound' or 'outbound'.")
            .with_argument("delivered", "Outbound only: the message was delivered.")
            .with_argument("is_template", "The message is a template.")
            .with_argument("template_category", "'marketing', 'utility' or 'authentication'.")
            .with_argument("is_referral", "Inbound only: the user came from a click-to-WhatsApp ad or Page CTA.")
            .build()
        }))
    }
}

/// Evaluates one partition (one contact) at a time.
#[derive(Debug)]
struct PricingEvaluator {
    ruleset: Ruleset,
}

/// The `{category, type}` of one outbound message.
fn price(
    kind: Kind,
    billed: Billed,
    conversations: &[Conversation],
) -> Option<(&'static str, Option<&'static str>)> {
    let conversation = conversations.get(billed.conversation?)?;
    if billed.rules != Rules::Pmp2025 {
        return Some((conversation.origin.as_str(), None));
    }
    Some(if conversation.origin == Origin::ReferralConversion {
        ("referral_conversion", Some("free_entry_point"))
    } else {
        match kind {
            Kind::Utility if billed.in_window => ("utility", Some("free_customer_service")),
            Kind::Utility => ("utility", Some("regular")),
            Kind::Marketing => ("marketing", Some("regular")),
            Kind::Authentication => ("authentication", Some("regular")),
            Kind::FreeForm | Kind::Inbound | Kind::InboundReferral => {
                ("service", Some("free_customer_service"))
            }
        }
    })
}

impl PartitionEvaluator for PricingEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let mut rows: Vec<(Event, usize)> = Vec::new();
        decode(NAME, values, |row, event| rows.push((event, row)))?;
        rows.sort_unstable();
        let events: Vec<Event> = rows.iter().map(|(e, _)| *e).collect();
        let mut billed: Vec<Option<Billed>> = vec![None; events.len()];
        let ruleset = self.ruleset;
        let conversations = simulate(
            |ts| ruleset.rules_at(ts),
            &events,
            |i, b| billed[i] = Some(b),
        );

        let mut prices: Vec<Option<(&str, Option<&str>)>> = vec![None; num_rows];
        for ((event, row), b) in rows.iter().zip(billed) {
            prices[*row] = b.and_then(|b| price(event.kind, b, &conversations));
        }
        let mut category = StringBuilder::with_capacity(num_rows, num_rows * 8);
        let mut kind = StringBuilder::with_capacity(num_rows, num_rows * 8);
        for p in &prices {
            category.append_option(p.map(|(c, _)| c));
            kind.append_option(p.and_then(|(_, t)| t));
        }
        let nulls = NullBuffer::from(prices.iter().map(Option::is_some).collect::<Vec<_>>());
        Ok(Arc::new(StructArray::new(
            price_fields(),
            vec![Arc::new(category.finish()), Arc::new(kind.finish())],
            Some(nulls),
        )))
    }
}
