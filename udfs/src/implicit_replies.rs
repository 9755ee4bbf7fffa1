//! `implicit_replies(message_id, ts, direction, is_template)`: the aggregate behind the
//! implicit half of `message_response` (SPEC 4): over one contact's messages, each outbound
//! message the contact answered without quoting it, and when.
//!
//! | case | behaviour |
//! |---|---|
//! | order | messages in `(ts, direction, message_id)` order, inbound before outbound at the same instant |
//! | reply | the first inbound after the outbound message (strictly later `ts`), if it comes within 24 h (inclusive) and before the next outbound template |
//! | next template | the first outbound template after the message in that order: a template at the same instant with a greater `message_id` counts, and then nothing is a reply |
//! | result | `LIST<STRUCT<message_id, replied_at>>`, only the outbound messages with a reply, in message order; an empty list for none |
//! | rows that take no part | NULL `message_id`, `ts` or `direction`; a `direction` other than `inbound`/`outbound` (case-insensitive); NULL `is_template` is false |
//! | complexity | O(n log n) per contact (a sort, then one backward pass) |
//!
//! Equivalent SQL, per outbound row of the contact's timeline:
//! `min(CASE WHEN direction = 'inbound' THEN ts END)` and
//! `min(CASE WHEN direction = 'outbound' AND is_template THEN ts END)`, each
//! `OVER (PARTITION BY contact ORDER BY ts, direction, message_id ROWS BETWEEN 1 FOLLOWING AND
//! UNBOUNDED FOLLOWING)`. DataFusion evaluates that window one partition at a time, which costs
//! seconds over a few hundred thousand contacts; this aggregate groups by contact with a hash
//! table instead. Rows are buffered per group (timestamp, kind, message id) and the partial
//! state is three lists.

use std::sync::{Arc, OnceLock};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListArray, StringArray, StringBuilder,
    StructArray, TimestampMicrosecondArray, UInt8Array,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, FieldRef, Fields, Int64Type, TimeUnit, UInt8Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    AggregateUDFImpl, DocSection, Documentation, EmitTo, GroupsAccumulator, Signature, Volatility,
};

use crate::args::{
    TextColumn, check_arity, coerce_condition, coerce_text_column, coerce_timestamp, conditions,
    filter_passes, is_true, timestamps,
};
use crate::events::buffer::group_order;
use crate::groups::through_groups_accumulator;

const NAME: &str = "implicit_replies";
const SYNTAX: &str = "message_id, ts, direction, is_template";
/// How long after an outbound message an inbound one still answers it (µs).
const REPLY_WINDOW_MICROS: i64 = 24 * 3_600_000_000;

/// Documentation section of the messaging timeline functions.
const DOC_SECTION: DocSection = DocSection {
    include: true,
    label: "Messaging Functions",
    description: Some("Replies, conversations and pricing over a contact's messages."),
};

declare_udf! {
    /// `implicit_replies(message_id, ts, direction, is_template)`: see the [module docs](self).
    ImplicitRepliesFunc, "implicit_replies",
    Signature::user_defined(Volatility::Immutable)
}

fn reply_fields() -> Fields {
    Fields::from(vec![
        Field::new("message_id", DataType::Utf8, false),
        Field::new(
            "replied_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ])
}

fn item_field() -> FieldRef {
    Arc::new(Field::new_list_field(
        DataType::Struct(reply_fields()),
        false,
    ))
}

impl AggregateUDFImpl for ImplicitRepliesFunc {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(NAME, arg_types, 4, SYNTAX)?;
        Ok(vec![
            coerce_text_column(NAME, "message_id", &arg_types[0])?,
            coerce_timestamp(NAME, "ts", &arg_types[1])?,
            coerce_text_column(NAME, "direction", &arg_types[2])?,
            coerce_condition(NAME, "is_template", &arg_types[3])?,
        ])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(item_field()))
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let list = |suffix: &str, item: DataType| {
            Arc::new(Field::new(
                format!("{}[{suffix}]", args.name),
                DataType::List(Arc::new(Field::new_list_field(item, false))),
                true,
            ))
        };
        Ok(vec![
            list("ts", DataType::Int64),
            list("kind", DataType::UInt8),
            list("message_id", DataType::Utf8),
        ])
    }

    through_groups_accumulator!();

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(GroupReplies::default()))
    }

    fn default_value(&self, _data_type: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::List(Arc::new(Rows::default().replies(1))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: OnceLock<Documentation> = OnceLock::new();
        Some(DOC.get_or_init(|| {
            Documentation::builder(
                DOC_SECTION,
                "Aggregate over one contact's messages: the outbound messages answered by an \
                 inbound one without quoting them, as a list of {message_id, replied_at}. The \
                 reply is the first inbound message strictly after the outbound one, if it comes \
                 within 24 hours and before the next outbound template (messages ordered by ts, \
                 direction, message_id). This is message_response's implicit reply; expand with \
                 unnest.",
                "implicit_replies(message_id, ts, direction, is_template)",
            )
            .with_sql_example(
                "```sql\n> SELECT contact_id, unnest(implicit_replies(message_id, ts, direction, is_template)) AS r\n  FROM messages GROUP BY contact_id;\n```",
            )
            .with_argument("message_id", "The message's id (orders messages at the same instant).")
            .with_argument("ts", "The message's time.")
            .with_argument("direction", "'inbound' or 'outbound'; other values take no part.")
            .with_argument("is_template", "The message is a template (NULL is false).")
            .build()
        }))
    }
}

/// A message's part in the timeline; the discriminants order ties (inbound first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
enum Kind {
    Inbound = 0,
    Outbound = 1,
    OutboundTemplate = 2,
}

impl Kind {
    fn from_code(code: u8) -> Option<Kind> {
        match code {
            0 => Some(Kind::Inbound),
            1 => Some(Kind::Outbound),
            2 => Some(Kind::OutboundTemplate),
            _ => None,
        }
    }

    fn is_outbound(self) -> bool {
        self != Kind::Inbound
    }
}

/// Buffered rows of any number of groups: group index, time, kind and message id per row, the
/// ids in one contiguous byte buffer.
#[derive(Debug, Default)]
struct Rows {
    groups: Vec<u32>,
    ts: Vec<i64>,
    kinds: Vec<Kind>,
    id_ends: Vec<usize>,
    id_bytes: Vec<u8>,
}

impl Rows {
    fn len(&self) -> usize {
        self.ts.len()
    }

    /// The message id of `row`, as bytes (ids compare as byte strings, like SQL text).
    fn id_bytes(&self, row: usize) -> &[u8] {
        let start = if row == 0 { 0 } else { self.id_ends[row - 1] };
        &self.id_bytes[start..self.id_ends[row]]
    }

    fn id(&self, row: usize) -> &str {
        // The bytes were copied from valid `&str`s, whole, so the slice is valid UTF-8.
        std::str::from_utf8(self.id_bytes(row)).unwrap_or_default()
    }

    fn push(&mut self, group: usize, ts: i64, kind: Kind, id: &str) {
        self.push_bytes(group, ts, kind, id.as_bytes());
    }

    /// `push` with the id's bytes, which must be those of a `&str`.
    fn push_bytes(&mut self, group: usize, ts: i64, kind: Kind, id: &[u8]) {
        self.groups.push(u32::try_from(group).unwrap_or(u32::MAX));
        self.ts.push(ts);
        self.kinds.push(kind);
        self.id_bytes.extend_from_slice(id);
        self.id_ends.push(self.id_bytes.len());
    }

    /// Appends the rows of one input batch (arguments in order) that take part.
    fn push_batch(
        &mut self,
        values: &[ArrayRef],
        mut group_of: impl FnMut(usize) -> Option<usize>,
    ) -> Result<()> {
        let [ids, ts, direction, is_template] = values else {
            return exec_err!("{NAME} takes 4 arguments ({SYNTAX}), got {}", values.len());
        };
        let ids = TextColumn::of(ids)?;
        let ts = timestamps(ts)?;
        let direction = TextColumn::of(direction)?;
        let is_template: BooleanArray = conditions(is_template)?;
        for row in 0..ts.len() {
            let (Some(group), Some(id), Some(dir)) =
                (group_of(row), ids.get(row), direction.get(row))
            else {
                continue;
            };
            if ts.is_null(row) {
                continue;
            }
            let kind = if dir.eq_ignore_ascii_case("inbound") {
                Kind::Inbound
            } else if !dir.eq_ignore_ascii_case("outbound") {
                continue;
            } else if is_true(&is_template, row) {
                Kind::OutboundTemplate
            } else {
                Kind::Outbound
            };
            self.push(group, ts.value(row), kind, id);
        }
        Ok(())
    }

    /// Appends the rows of state row `i` to group `group_indices[i]`.
    fn merge_state(&mut self, states: &[ArrayRef], group_indices: &[usize]) -> Result<()> {
        let [ts, kinds, ids] = states else {
            return exec_err!("{NAME}: state must have 3 columns, got {}", states.len());
        };
        let (Some(ts), Some(kinds), Some(ids)) = (
            ts.as_list_opt::<i32>(),
            kinds.as_list_opt::<i32>(),
            ids.as_list_opt::<i32>(),
        ) else {
            return exec_err!("{NAME}: state columns must be lists");
        };
        let ts_values = ts.values().as_primitive::<Int64Type>();
        let kind_values = kinds.values().as_primitive::<UInt8Type>();
        let Some(id_values) = ids.values().as_string_opt::<i32>() else {
            return exec_err!("{NAME}: the message_id state must be a list of text");
        };
        for (row, &group) in group_indices.iter().enumerate() {
            if ts.is_null(row) {
                continue;
            }
            let range = ts.value_offsets()[row] as usize..ts.value_offsets()[row + 1] as usize;
            let same = |offsets: &[i32]| {
                offsets[row] as usize == range.start && offsets[row + 1] as usize == range.end
            };
            if !same(kinds.value_offsets()) || !same(ids.value_offsets()) {
                return exec_err!("{NAME}: corrupt partial state (lists differ in length)");
            }
            for i in range {
                let Some(kind) = Kind::from_code(kind_values.value(i)) else {
                    return exec_err!(
                        "{NAME}: corrupt partial state (kind code {})",
                        kind_values.value(i)
                    );
                };
                self.push(group, ts_values.value(i), kind, id_values.value(i));
            }
        }
        Ok(())
    }

    /// Removes the rows of the first `n` groups, as `(rows of those groups, renumbered rest)`.
    fn split_first(self, n: usize) -> (Rows, Rows) {
        let mut taken = Rows::default();
        let mut kept = Rows::default();
        let limit = u32::try_from(n).unwrap_or(u32::MAX);
        for row in 0..self.len() {
            let group = self.groups[row];
            let (into, group) = if group < limit {
                (&mut taken, group)
            } else {
                (&mut kept, group - limit)
            };
            into.push_bytes(
                group as usize,
                self.ts[row],
                self.kinds[row],
                self.id_bytes(row),
            );
        }
        (taken, kept)
    }

    /// The state lists `(ts, kind, message_id)`, one row per group of `num_groups`.
    fn to_state(&self, num_groups: usize) -> Result<Vec<ArrayRef>> {
        let (offsets, order) = group_order(num_groups, &self.groups);
        let Ok(offsets) = offsets
            .iter()
            .map(|&o| i32::try_from(o))
            .collect::<std::result::Result<Vec<i32>, _>>()
        else {
            return exec_err!("{NAME}: partial state exceeds 2^31 rows");
        };
        let offsets = OffsetBuffer::new(offsets.into());
        let ts: Int64Array = order.iter().map(|&r| self.ts[r]).collect::<Vec<_>>().into();
        let kinds: UInt8Array = order
            .iter()
            .map(|&r| self.kinds[r] as u8)
            .collect::<Vec<_>>()
            .into();
        let ids: StringArray = order.iter().map(|&r| Some(self.id(r))).collect();
        let list = |item: DataType, values: ArrayRef| -> ArrayRef {
            Arc::new(ListArray::new(
                Arc::new(Field::new_list_field(item, false)),
                offsets.clone(),
                values,
                None,
            ))
        };
        Ok(vec![
            list(DataType::Int64, Arc::new(ts)),
            list(DataType::UInt8, Arc::new(kinds)),
            list(DataType::Utf8, Arc::new(ids)),
        ])
    }

    /// The replies of each of `num_groups` groups (see the module table).
    fn replies(&self, num_groups: usize) -> ListArray {
        let (offsets, mut order) = group_order(num_groups, &self.groups);
        let mut lengths = Vec::with_capacity(num_groups);
        let mut ids = StringBuilder::new();
        let mut replied = Vec::new();
        let mut answered = Vec::new();
        for g in 0..num_groups {
            let rows = &mut order[offsets[g]..offsets[g + 1]];
            rows.sort_unstable_by(|&a, &b| {
                (self.ts[a], self.kinds[a].is_outbound())
                    .cmp(&(self.ts[b], self.kinds[b].is_outbound()))
                    .then_with(|| self.id_bytes(a).cmp(self.id_bytes(b)))
            });
            // Backwards: what follows each message is what this pass has already seen.
            let mut next_inbound: Option<i64> = None;
            let mut next_template: Option<i64> = None;
            answered.clear();
            for &row in rows.iter().rev() {
                let ts = self.ts[row];
                match self.kinds[row] {
                    Kind::Inbound => next_inbound = Some(ts),
                    kind => {
                        if let Some(reply) = next_inbound.filter(|&reply| {
                            reply > ts
                                && reply - ts <= REPLY_WINDOW_MICROS
                                && next_template.is_none_or(|template| reply < template)
                        }) {
                            answered.push((row, reply));
                        }
                        if kind == Kind::OutboundTemplate {
                            next_template = Some(ts);
                        }
                    }
                }
            }
            lengths.push(answered.len());
            for &(row, reply) in answered.iter().rev() {
                ids.append_value(self.id(row));
                replied.push(reply);
            }
        }
        let structs = StructArray::new(
            reply_fields(),
            vec![
                Arc::new(ids.finish()),
                Arc::new(TimestampMicrosecondArray::from(replied).with_timezone("UTC")),
            ],
            None,
        );
        ListArray::new(
            item_field(),
            OffsetBuffer::from_lengths(lengths),
            Arc::new(structs),
            None,
        )
    }

    fn size(&self) -> usize {
        self.groups.capacity() * size_of::<u32>()
            + self.ts.capacity() * size_of::<i64>()
            + self.kinds.capacity()
            + self.id_ends.capacity() * size_of::<usize>()
            + self.id_bytes.capacity()
    }
}

/// The many-groups accumulator: every group's rows in one flat buffer, grouped on emit.
#[derive(Debug, Default)]
struct GroupReplies {
    rows: Rows,
    num_groups: usize,
}

impl GroupReplies {
    /// Removes the groups `emit_to` names, as `(their rows, how many groups)`.
    fn take(&mut self, emit_to: EmitTo) -> (Rows, usize) {
        let rows = std::mem::take(&mut self.rows);
        match emit_to {
            EmitTo::All => (rows, std::mem::take(&mut self.num_groups)),
            EmitTo::First(n) => {
                let n = n.min(self.num_groups);
                let (taken, kept) = rows.split_first(n);
                self.rows = kept;
                self.num_groups -= n;
                (taken, n)
            }
        }
    }
}

impl GroupsAccumulator for GroupReplies {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.num_groups = self.num_groups.max(total_num_groups);
        self.rows.push_batch(values, |row| {
            filter_passes(opt_filter, row).then(|| group_indices[row])
        })
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let (rows, n) = self.take(emit_to);
        Ok(Arc::new(rows.replies(n)))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let (rows, n) = self.take(emit_to);
        rows.to_state(n)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.num_groups = self.num_groups.max(total_num_groups);
        self.rows.merge_state(values, group_indices)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let mut rows = Rows::default();
        rows.push_batch(values, |row| filter_passes(opt_filter, row).then_some(row))?;
        rows.to_state(values[0].len())
    }

    fn size(&self) -> usize {
        self.rows.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;

    /// Replies among `(id, hour, kind)` messages of one contact, given in any order.
    fn replies(messages: &[(&str, i64, Kind)]) -> Vec<(String, i64)> {
        let mut rows = Rows::default();
        for &(id, hour, kind) in messages.iter().rev() {
            rows.push(0, hour * HOUR, kind, id);
        }
        let list = rows.replies(1);
        let items = list.value(0);
        let items = items.as_struct();
        let ids = items.column(0).as_string::<i32>();
        let at = items
            .column(1)
            .as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
        (0..items.len())
            .map(|i| (ids.value(i).to_string(), at.value(i) / HOUR))
            .collect()
    }

    #[test]
    fn the_first_inbound_within_a_day_answers_every_message_before_it() {
        use Kind::*;
        let got = replies(&[
            ("a", 0, Outbound),
            ("b", 1, Outbound),
            ("r", 5, Inbound),
            ("s", 6, Inbound),
            ("c", 7, Outbound),
        ]);
        assert_eq!(got, vec![("a".into(), 5), ("b".into(), 5)]);
    }

    #[test]
    fn a_reply_after_24_hours_or_after_the_next_template_is_none() {
        use Kind::*;
        // 24 h exactly still counts; 25 h does not.
        assert_eq!(
            replies(&[("a", 0, Outbound), ("r", 24, Inbound)]),
            vec![("a".into(), 24)]
        );
        assert_eq!(replies(&[("a", 0, Outbound), ("r", 25, Inbound)]), vec![]);
        // A template in between takes the reply; a free-form message does not.
        assert_eq!(
            replies(&[
                ("a", 0, Outbound),
                ("t", 2, OutboundTemplate),
                ("r", 3, Inbound)
            ]),
            vec![("t".into(), 3)]
        );
        assert_eq!(
            replies(&[("a", 0, Outbound), ("f", 2, Outbound), ("r", 3, Inbound)]),
            vec![("a".into(), 3), ("f".into(), 3)]
        );
    }

    #[test]
    fn ties_follow_ts_direction_message_id() {
        use Kind::*;
        // An inbound at the same instant comes first: it answers nothing sent at that instant.
        assert_eq!(replies(&[("a", 1, Outbound), ("r", 1, Inbound)]), vec![]);
        // Two templates at one instant: the one with the smaller id has the other after it.
        assert_eq!(
            replies(&[
                ("t1", 0, OutboundTemplate),
                ("t2", 0, OutboundTemplate),
                ("r", 1, Inbound)
            ]),
            vec![("t2".into(), 1)]
        );
    }
}
