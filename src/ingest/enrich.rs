//! Derived columns of `messages` that need the lake, filled where the input leaves them NULL.
//!
//! | column              | value                                                                                   |
//! |---------------------|-----------------------------------------------------------------------------------------|
//! | `in_csw` (outbound) | the contact (tenant, channel, contact) sent an inbound message in the 24 h up to the message's `ts` (`ts - 24 h < inbound.ts <= ts`), in this load or in the lake |
//! | `template_category` | template messages: the category of the message's campaign (`campaign_id`), else of a campaign of the tenant using the same `template_name` |
//!
//! Computed from what the lake and the load hold when the rows are ingested: the lake's inbound
//! messages, and every inbound message of the load's earlier batches and of the same batch
//! ([`CswIndex`], 8 bytes a message plus one entry a contact). An inbound message that arrives
//! in a later load than an outbound one it precedes does not change the stored flag. Inbound
//! rows keep `in_csw` NULL (the column is about outbound messages).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, StringArray};
use arrow::datatypes::TimestampMicrosecondType;
use datafusion::prelude::SessionContext;

use super::dedup::{day_text, strings, utf8};
use crate::error::Result;

/// The customer-service window: 24 hours after the latest inbound message.
const CSW_MICROS: i64 = 24 * 3_600_000_000;

/// A contact: (tenant_id, channel_id, contact_id), borrowed from a batch (NULL as empty).
type ContactKey<'a> = (&'a str, &'a str, &'a str);

/// Row `i` of a text column, NULL as the empty string.
fn text(column: &StringArray, i: usize) -> &str {
    if column.is_null(i) {
        ""
    } else {
        column.value(i)
    }
}

/// The inbound message times of one load, per contact (hashed), for `in_csw` across its batches.
#[derive(Debug, Default)]
pub struct CswIndex {
    hasher: std::hash::RandomState,
    inbound: HashMap<u64, Vec<i64>>,
}

impl CswIndex {
    fn key(&self, contact: ContactKey<'_>) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(contact)
    }
}

/// Fills `in_csw` and `template_category` of a `messages` batch where they are NULL; `index`
/// carries the load's inbound times from batch to batch.
pub async fn enrich_messages(
    ctx: &SessionContext,
    batch: RecordBatch,
    index: &mut CswIndex,
) -> Result<RecordBatch> {
    let batch = fill_in_csw(ctx, batch, index).await?;
    fill_template_category(ctx, batch).await
}

async fn fill_in_csw(
    ctx: &SessionContext,
    batch: RecordBatch,
    index: &mut CswIndex,
) -> Result<RecordBatch> {
    let schema = batch.schema();
    let (Ok(flag_idx), Ok(_)) = (schema.index_of("in_csw"), schema.index_of("direction")) else {
        return Ok(batch);
    };
    let flags = batch.column(flag_idx).as_boolean().clone();
    let direction = utf8(&batch, "direction")?;
    let tenant = utf8(&batch, "tenant_id")?;
    let channel = utf8(&batch, "channel_id")?;
    let contact = utf8(&batch, "contact_id")?;
    let ts = batch
        .column_by_name("ts")
        .map(|c| c.as_primitive::<TimestampMicrosecondType>().clone());
    let Some(ts) = ts else {
        return Ok(batch);
    };
    let key =
        |i: usize| -> ContactKey<'_> { (text(&tenant, i), text(&channel, i), text(&contact, i)) };
    let is = |i: usize, value: &str| direction.is_valid(i) && direction.value(i) == value;
    // The load's inbound times: this batch's join those of earlier batches.
    for i in 0..batch.num_rows() {
        if is(i, "inbound") {
            let k = index.key(key(i));
            index.inbound.entry(k).or_default().push(ts.value(i));
        }
    }
    let wanted: Vec<usize> = (0..batch.num_rows())
        .filter(|&i| flags.is_null(i) && is(i, "outbound"))
        .collect();
    if wanted.is_empty() {
        return Ok(batch);
    }
    // The lake's inbound messages in the window of the wanted rows.
    let min_ts = wanted.iter().map(|&i| ts.value(i)).min().unwrap_or(0) - CSW_MICROS;
    let max_ts = wanted.iter().map(|&i| ts.value(i)).max().unwrap_or(0);
    let query = format!(
        "SELECT tenant_id, channel_id, contact_id, ts FROM messages \
         WHERE direction = 'inbound' AND dt BETWEEN DATE '{}' AND DATE '{}' \
         AND ts > to_timestamp_micros({min_ts}) AND ts <= to_timestamp_micros({max_ts})",
        day_text(min_ts.div_euclid(86_400_000_000) as i32),
        day_text(max_ts.div_euclid(86_400_000_000) as i32),
    );
    let stored = ctx
        .sql(&query)
        .await?
        .collect()
        .await?
        .iter()
        .map(|b| {
            Ok((
                utf8(b, "tenant_id")?,
                utf8(b, "channel_id")?,
                utf8(b, "contact_id")?,
                b.column(3)
                    .as_primitive::<TimestampMicrosecondType>()
                    .clone(),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    // Inbound times per wanted contact: the load's, then the lake's.
    let mut inbound: HashMap<ContactKey<'_>, Vec<i64>> = HashMap::new();
    for &i in &wanted {
        let contact = key(i);
        if !inbound.contains_key(&contact)
            && let Some(times) = index.inbound.get(&index.key(contact))
        {
            inbound.insert(contact, times.clone());
        }
    }
    let contacts: HashSet<ContactKey<'_>> = wanted.iter().map(|&i| key(i)).collect();
    for (t, c, k, times) in &stored {
        for i in 0..times.len() {
            if let Some(&key) = contacts.get(&(text(t, i), text(c, i), text(k, i))) {
                inbound.entry(key).or_default().push(times.value(i));
            }
        }
    }
    for times in inbound.values_mut() {
        times.sort_unstable();
    }
    let mut filled: Vec<Option<bool>> = flags.iter().collect();
    for &i in &wanted {
        let at = ts.value(i);
        let open = inbound.get(&key(i)).is_some_and(|times| {
            // The latest inbound at or before `at`.
            let upto = times.partition_point(|&t| t <= at);
            upto > 0 && at - times[upto - 1] < CSW_MICROS
        });
        filled[i] = Some(open);
    }
    replace_column(batch, flag_idx, Arc::new(BooleanArray::from(filled)))
}

async fn fill_template_category(ctx: &SessionContext, batch: RecordBatch) -> Result<RecordBatch> {
    let schema = batch.schema();
    let Ok(category_idx) = schema.index_of("template_category") else {
        return Ok(batch);
    };
    let is_template = batch
        .column_by_name("is_template")
        .map(|c| c.as_boolean().clone());
    let Some(is_template) = is_template else {
        return Ok(batch);
    };
    let stored_category = utf8(&batch, "template_category")?;
    let wanted: Vec<usize> = (0..batch.num_rows())
        .filter(|&i| is_template.value(i) && stored_category.is_null(i))
        .collect();
    if wanted.is_empty() {
        return Ok(batch);
    }
    let category = strings(&batch, "template_category")?;
    let tenant = strings(&batch, "tenant_id")?;
    let campaign = strings(&batch, "campaign_id")?;
    let template = strings(&batch, "template_name")?;
    let mut by_campaign: HashMap<(String, String), String> = HashMap::new();
    let mut by_template: HashMap<(String, String), String> = HashMap::new();
    let query = "SELECT tenant_id, campaign_id, template_name, template_category FROM campaigns \
                 WHERE template_category IS NOT NULL ORDER BY created_at";
    for stored in ctx.sql(query).await?.collect().await? {
        let (t, c, n, k) = (
            strings(&stored, "tenant_id")?,
            strings(&stored, "campaign_id")?,
            strings(&stored, "template_name")?,
            strings(&stored, "template_category")?,
        );
        for i in 0..stored.num_rows() {
            let (Some(t), Some(k)) = (&t[i], &k[i]) else {
                continue;
            };
            if let Some(c) = &c[i] {
                by_campaign.insert((t.clone(), c.clone()), k.clone());
            }
            if let Some(n) = &n[i] {
                // Ordered by creation: the latest campaign of a template gives its category.
                by_template.insert((t.clone(), n.clone()), k.clone());
            }
        }
    }
    let mut filled = category;
    for &i in &wanted {
        let tenant = tenant[i].clone().unwrap_or_default();
        let found = campaign[i]
            .as_ref()
            .and_then(|c| by_campaign.get(&(tenant.clone(), c.clone())))
            .or_else(|| {
                template[i]
                    .as_ref()
                    .and_then(|n| by_template.get(&(tenant.clone(), n.clone())))
            });
        filled[i] = found.cloned();
    }
    replace_column(batch, category_idx, Arc::new(StringArray::from(filled)))
}

fn replace_column(batch: RecordBatch, index: usize, column: ArrayRef) -> Result<RecordBatch> {
    let mut columns = batch.columns().to_vec();
    columns[index] = column;
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}
