//! `wa_conversations(...)`: the aggregate that lists a contact's billing conversations.
//!
//! Partial state: the contact's relevant messages as two lists (UTC µs, kind code); merging
//! appends, and evaluation sorts and runs [`simulate`](super::model::simulate).

use std::sync::{Arc, OnceLock};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListArray, StringBuilder, StructArray,
    TimestampMicrosecondArray, UInt8Array,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, FieldRef, Fields, Int64Type, TimeUnit, UInt8Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, Signature, Volatility,
};

use super::DOC_SECTION;
use super::events::{coerce, decode};
use super::model::{Conversation, Event, Kind, simulate};
use super::ruleset::Ruleset;
use crate::args::{constant_text, filter_passes};

const NAME: &str = "wa_conversations";

/// `wa_conversations(ruleset, ts, direction, delivered, is_template, template_category,
/// is_referral)`: see the [module docs](super).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct WaConversationsFunc {
    signature: Signature,
}

impl Default for WaConversationsFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl WaConversationsFunc {
    /// A new `wa_conversations`.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
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

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(ContactConversations {
            ruleset: ruleset_of(&args)?,
            events: Vec::new(),
        }))
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
                DataType::List(Arc::new(Field::new_list_field(DataType::UInt8, false))),
                true,
            )),
        ])
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(GroupConversations {
            ruleset: ruleset_of(&args)?,
            groups: Vec::new(),
            held: 0,
        }))
    }

    fn default_value(&self, _data_type: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::List(Arc::new(conversation_lists(
            Ruleset::Auto,
            std::iter::once(Vec::new()),
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

/// Sorts and evaluates one group's events.
fn conversations_of(ruleset: Ruleset, mut events: Vec<Event>) -> Vec<Conversation> {
    events.sort_unstable();
    simulate(|ts| ruleset.rules_at(ts), &events, |_, _| {})
}

/// One list of conversations per group, as a `ListArray`.
fn conversation_lists(ruleset: Ruleset, groups: impl Iterator<Item = Vec<Event>>) -> ListArray {
    let mut opened = Vec::new();
    let mut expires = Vec::new();
    let mut origins = StringBuilder::new();
    let mut lengths = Vec::new();
    for events in groups {
        let conversations = conversations_of(ruleset, events);
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

/// Serializes groups' events as the two state lists.
fn state_lists(groups: &[Vec<Event>]) -> Vec<ArrayRef> {
    let lengths = groups.iter().map(Vec::len);
    let ts: Int64Array = groups.iter().flatten().map(|e| e.ts).collect();
    let kinds: UInt8Array = groups.iter().flatten().map(|e| e.kind as u8).collect();
    let list = |values: ArrayRef, item: DataType| -> ArrayRef {
        Arc::new(ListArray::new(
            Arc::new(Field::new_list_field(item, false)),
            OffsetBuffer::from_lengths(lengths.clone()),
            values,
            None,
        ))
    };
    vec![
        list(Arc::new(ts), DataType::Int64),
        list(Arc::new(kinds), DataType::UInt8),
    ]
}

/// Appends the events of state row `row` to `events`.
fn read_state(
    ts: &ListArray,
    kinds: &ListArray,
    row: usize,
    events: &mut Vec<Event>,
) -> Result<()> {
    if ts.is_null(row) || kinds.is_null(row) {
        return Ok(());
    }
    let ts_values = ts.value(row);
    let kind_values = kinds.value(row);
    let ts_values = ts_values.as_primitive::<Int64Type>();
    let kind_values = kind_values.as_primitive::<UInt8Type>();
    for (t, k) in ts_values.values().iter().zip(kind_values.values().iter()) {
        let Some(kind) = Kind::from_code(*k) else {
            return exec_err!("{NAME}: corrupt partial state (kind code {k})");
        };
        events.push(Event { ts: *t, kind });
    }
    Ok(())
}

/// The one-group accumulator.
#[derive(Debug)]
struct ContactConversations {
    ruleset: Ruleset,
    events: Vec<Event>,
}

impl Accumulator for ContactConversations {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let events = &mut self.events;
        decode(NAME, values, |_, event| events.push(event))
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let events = std::mem::take(&mut self.events);
        Ok(ScalarValue::List(Arc::new(conversation_lists(
            self.ruleset,
            std::iter::once(events),
        ))))
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.events.capacity() * size_of::<Event>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let events = std::mem::take(&mut self.events);
        state_lists(&[events])
            .iter()
            .map(|list| ScalarValue::try_from_array(list, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (ts, kinds) = (states[0].as_list::<i32>(), states[1].as_list::<i32>());
        for row in 0..ts.len() {
            read_state(ts, kinds, row, &mut self.events)?;
        }
        Ok(())
    }
}

/// The many-groups accumulator: each group's events in a vector of its own.
#[derive(Debug)]
struct GroupConversations {
    ruleset: Ruleset,
    groups: Vec<Vec<Event>>,
    /// Events held over all groups (kept up to date so `size` is O(1)).
    held: usize,
}

impl GroupConversations {
    fn take(&mut self, emit_to: EmitTo) -> Vec<Vec<Event>> {
        let taken = emit_to.take_needed(&mut self.groups);
        self.held -= taken.iter().map(Vec::len).sum::<usize>();
        taken
    }
}

impl GroupsAccumulator for GroupConversations {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.resize_with(total_num_groups, Vec::new);
        let (groups, held) = (&mut self.groups, &mut self.held);
        decode(NAME, values, |row, event| {
            if filter_passes(opt_filter, row) {
                groups[group_indices[row]].push(event);
                *held += 1;
            }
        })
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = self.take(emit_to);
        Ok(Arc::new(conversation_lists(
            self.ruleset,
            groups.into_iter(),
        )))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = self.take(emit_to);
        Ok(state_lists(&groups))
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.resize_with(total_num_groups, Vec::new);
        let (ts, kinds) = (values[0].as_list::<i32>(), values[1].as_list::<i32>());
        for (row, &group) in group_indices.iter().enumerate() {
            let group = &mut self.groups[group];
            let before = group.len();
            read_state(ts, kinds, row, group)?;
            self.held += group.len() - before;
        }
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let mut rows: Vec<Vec<Event>> = vec![Vec::new(); values[1].len()];
        decode(NAME, values, |row, event| {
            if filter_passes(opt_filter, row) {
                rows[row].push(event);
            }
        })?;
        Ok(state_lists(&rows))
    }

    fn size(&self) -> usize {
        self.groups.capacity() * size_of::<Vec<Event>>() + self.held * size_of::<Event>()
    }
}
