//! WhatsApp billing functions (SPEC 5.7): conversations and per-message prices derived from
//! one contact's messages, for the periods and providers whose webhooks do not report them.
//!
//! | function | kind | result |
//! |---|---|---|
//! | [`wa_conversations(ruleset, ts, direction, delivered, is_template, template_category, is_referral)`](WaConversationsFunc) | aggregate, one group per (channel, contact) | `LIST<STRUCT<opened_at, expires_at, origin>>` in opening order; an empty list when no message opens one |
//! | [`wa_pricing(...)`](WaPricingFunc) (same arguments) | window function over (channel, contact) | per row `STRUCT<category, type>`: the price of a delivered outbound message; NULL for inbound, undelivered and unsendable rows |
//!
//! The rules are in [`model`] (the state machine) and [`ruleset`] (which rules apply);
//! the arguments in [`events`]. Both functions sort the messages themselves, so neither input
//! order nor `ORDER BY` matters, and partial aggregate states merge in any order.

use datafusion::logical_expr::DocSection;

pub(crate) mod events;
pub(crate) mod model;
pub(crate) mod ruleset;
mod wa_conversations;
mod wa_pricing;

pub use wa_conversations::WaConversationsFunc;
pub use wa_pricing::WaPricingFunc;

/// Documentation section of the WhatsApp functions.
pub(crate) const DOC_SECTION: DocSection = DocSection {
    include: true,
    label: "WhatsApp Billing Functions",
    description: Some("Conversations and per-message prices by WhatsApp's CBP and PMP rules."),
};

make_udf_function!(
    AggregateUDF,
    wa_conversations_udaf,
    "wa_conversations",
    WaConversationsFunc::new()
);
make_udf_function!(
    WindowUDF,
    wa_pricing_udwf,
    "wa_pricing",
    WaPricingFunc::new()
);
