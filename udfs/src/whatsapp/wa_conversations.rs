//! `wa_conversations(...)`: the aggregate that lists a contact's billing conversations.
//!
//! Rows are buffered in the shared flat event buffer ([`GroupedEvents`]); the partial state is
//! the contact's relevant messages as two lists (UTC µs, kind code); merging appends, and
//! evaluation sorts each contact's messages and runs [`simulate`](super::model::simulate).

use std::sync::{Arc, OnceLock};

use arrow::array::{
    ArrayRef, BooleanArray, ListArray, StringBuilder, StructArray, TimestampMicrosecondArray,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, FieldRef, Fields, TimeUnit};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};

use super::DOC_SECTION;
use super::events::{coerce, decode};
use super::model::{Event, Kind, simulate};
use super::ruleset::Ruleset;
use crate::args::{constant_text, filter_passes};
use crate::events::accumulator::{BufferedAggregate, EventsGroupsAccumulator};
use crate::events::buffer::BufferedEvent;
use crate::groups::through_groups_accumulator;

const NAME: &str = "wa_conversations";

declare_udf! {
    /// `wa_conversations(ruleset, ts, direction, delivered, is_template, template_category,
    /// is_referral)`: see the [module docs](super).
    WaConversationsFunc, "wa_conversations",
    Signature::user_defined(Volatility::Immutable)
}

fn conversation_fields() -> Fields {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    Fields::from(vec![
        Field::new("opened_at", ts.clone(), false),
        Field::new("expires_at", ts, false),
        Field::new("origin", DataType::Utf8, false),
    ])
}

fn item_field() -> FieldRef {
    Arc::new(Field::new_list_field(
        DataType::Struct(conversation_fields()),
        false,
    ))
}

fn ruleset_of(args: &AccumulatorArgs) -> Result<Ruleset> {
    let Some(expr) = args.exprs.first() else {
        return exec_err!("{NAME}: missing the ruleset argument");
    };
    Ruleset::parse(NAME, &constant_text(NAME, "ruleset", expr)?)
}

impl AggregateUDFImpl for WaConversationsFunc {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce(NAME, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(item_field()))
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format!("{}[ts]", args.name),
                DataType::List(Arc::new(Field::new_list_field(DataType::Int64, false))),
                true,
            )),
            Arc::new(Field::new(
                format!("{}[kind]", args.name),
                DataType::List(Arc::new(Field::new_list_field(DataType::UInt32, false))),
                true,
            )),
        ])
    }

    through_groups_accumulator!();

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(EventsGroupsAccumulator::new(Arc::new(
            Conversations(ruleset_of(&args)?),
        ))))
    }

    fn default_value(&self, _data_type: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::List(Arc::new(conversation_lists(
            Ruleset::Auto,
            std::iter::once(&mut [][..]),
        ))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                "Aggregate over one contact's messages: the WhatsApp billing conversations they \
                 open under a pricing ruleset ('cbp_2022', 'cbp_2023', 'pmp_2025' or 'auto' by \
                 message date), as a list of {opened_at, expires_at, origin}. Windows are fixed \
                 24 h (72 h for free entry points) from the first delivered business message \
                 not absorbed by an open conversation. Expand with unnest.",
                "wa_conversations(ruleset, ts, direction, delivered, is_template, template_category, is_referral)",
            )
            .with_sql_example(
                "```sql\n> SELECT contact_id, unnest(wa_conversations('auto', ts, direction, true,\n         is_template, template_category, referral_source_type = 'ad')) AS c\n  FROM messages GROUP BY contact_id;\n```",
            )
            .with_argument("ruleset", "Constant: 'cbp_2022', 'cbp_2023', 'pmp_2025' or 'auto'.")
            .with_argument("ts", "Message time; for outbound messages, the delivery time.")
            .with_argument("direction", "'inbound' or 'outbound'.")
            .with_argument("delivered", "Outbound only: the message was delivered (undelivered ones open nothing).")
            .with_argument("is_template", "The message is a template.")
            .with_argument("template_category", "'marketing', 'utility' or 'authentication'.")
            .with_argument("is_referral", "Inbound only: the user came from a click-to-WhatsApp ad or Page CTA.")
            .build()
        }))
    }
}

/// A message in the shared event buffer: its instant and its kind's code.
impl BufferedEvent for Event {
    fn to_parts(self) -> (i64, u32) {
        (self.ts, self.kind as u32)
    }

    fn from_parts(ts: i64, code: u32) -> Result<Self> {
        match Kind::from_code(code) {
            Some(kind) => Ok(Event { ts, kind }),
            None => exec_err!("{NAME}: corrupt partial state (kind code {code})"),
        }
    }
}

/// One list of conversations per group (each group's events sorted in place first), as a
/// `ListArray`.
fn conversation_lists<'a>(
    ruleset: Ruleset,
    groups: impl Iterator<Item = &'a mut [Event]>,
) -> ListArray {
    let mut opened = Vec::new();
    let mut expires = Vec::new();
    let mut origins = StringBuilder::new();
    let mut lengths = Vec::new();
    for events in groups {
        events.sort_unstable();
        let conversations = simulate(|ts| ruleset.rules_at(ts), events, |_, _| {});
        lengths.push(conversations.len());
        for c in conversations {
            opened.push(c.opened_at);
            expires.push(c.expires_at);
            origins.append_value(c.origin.as_str());
        }
    }
    let utc = |values: Vec<i64>| -> ArrayRef {
        Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
    };
    let structs = StructArray::new(
        conversation_fields(),
        vec![utc(opened), utc(expires), Arc::new(origins.finish())],
        None,
    );
    ListArray::new(
        item_field(),
        OffsetBuffer::from_lengths(lengths),
        Arc::new(structs),
        None,
    )
}

/// One call: its ruleset, as the [`BufferedAggregate`] of the shared event buffer.
#[derive(Debug)]
struct Conversations(Ruleset);

impl BufferedAggregate for Conversations {
    type Row = Event;

    fn decode(
        &self,
        values: &[ArrayRef],
        filter: Option<&BooleanArray>,
        mut push: impl FnMut(usize, Event),
    ) -> Result<()> {
        decode(NAME, values, |row, event| {
            if filter_passes(filter, row) {
                push(row, event);
            }
        })
    }

    fn evaluate<'a>(&self, groups: impl Iterator<Item = &'a mut [Event]>) -> Result<ArrayRef> {
        Ok(Arc::new(conversation_lists(self.0, groups)))
    }
}
