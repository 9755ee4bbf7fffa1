//! Incremental re-derivation: the derived rows of the contacts a commit touched, no others.
//!
//! Both stored derivations ([`crate::engine::derived`]) are per contact: a contact's derived
//! conversations and message outcomes depend only on that contact's messages and the callbacks
//! of those messages (and on `channels`, whose change triggers a full refresh instead). So:
//!
//! | step | what |
//! |------|------|
//! | 1 | read the touched contacts' messages, and the callbacks of those messages, from the lake |
//! | 2 | run the same views (`derived_conversations`, `derived_message_outcomes`, over `message_delivery`) on just those rows |
//! | 3 | read the touched contacts' stored derived rows; compare old and new (`EXCEPT ALL` both ways) |
//! | 4 | the region that changed = the changed rows' contacts x their `dt` partitions; one `replaceWhere` commit per table writes the new rows of that region; past [`LISTED_CONTACTS`] contacts the region is the whole partitions: the touched contacts' new rows plus the stored rows of every other contact there |
//!
//! Rows outside the region are equal in old and new, so the table afterwards equals what a full
//! `chatlake refresh` would store (a test checks this with `EXCEPT ALL` both ways). Late and
//! out-of-order callbacks and replies need nothing special: they touch their contact again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::prelude::SessionContext;

use super::commit::Touched;
use super::dedup::{day_text, partition_days, strings};
use crate::engine::sql_files::{SqlFiles, create_views, view_name};
use crate::error::{Error, Result};
use crate::lake::provider::LakeTable;
use crate::lake::schema::{self, TableDef};
use crate::lake::{Lake, LakeWriter};

/// One derivation kept current incrementally.
struct Derived {
    view: &'static str,
    table: &'static str,
    /// Restricts the stored rows to the derivation's (conversations also holds webhook rows).
    stored_filter: Option<&'static str>,
}

const DERIVED: &[Derived] = &[
    Derived {
        view: "derived_conversations",
        table: "conversations",
        stored_filter: Some("source = 'derived'"),
    },
    Derived {
        view: "derived_message_outcomes",
        table: "message_outcomes",
        stored_filter: None,
    },
];

/// The views the derivations need, in load order.
const VIEWS: &[&str] = &[
    "message_delivery",
    "derived_conversations",
    "derived_message_outcomes",
];

/// What an incremental refresh changed, per derived table: rows removed and rows added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshChanges {
    /// `(table, rows no longer derived, rows newly derived)`.
    pub tables: Vec<(&'static str, u64, u64)>,
}

/// A changed region naming more contacts than this is replaced by whole `dt` partitions: a
/// Delta predicate naming each contact grows with them (50,000 overflowed the stack).
pub const LISTED_CONTACTS: usize = 1_000;

/// Re-derives the derived rows of `touched` and stores the changes (one commit per derived
/// table that changed).
pub async fn refresh_contacts(lake: &Lake, touched: &Touched) -> Result<RefreshChanges> {
    refresh_contacts_listing(lake, touched, LISTED_CONTACTS).await
}

/// [`refresh_contacts`], naming at most `listed` contacts in a replacement's predicate: a
/// region with more is replaced by its whole `dt` partitions (the stored rows of the contacts
/// not touched are read and written back with the new rows).
pub async fn refresh_contacts_listing(
    lake: &Lake,
    touched: &Touched,
    listed: usize,
) -> Result<RefreshChanges> {
    let mut changes = RefreshChanges::default();
    if touched.is_empty() {
        return Ok(changes);
    }
    let lake_ctx = SessionContext::new();
    for name in [
        "messages",
        "message_statuses",
        "channels",
        "conversations",
        "message_outcomes",
    ] {
        lake_ctx.register_table(name, Arc::new(LakeTable::open(lake, name).await?))?;
    }
    lake_ctx.register_batch("touched", touched_batch(touched)?)?;

    // Step 1: the touched contacts' messages and their callbacks.
    let derive_ctx = SessionContext::new();
    chatlake_udfs::register_all(&derive_ctx);
    copy_query(
        &lake_ctx,
        "SELECT m.* FROM messages m LEFT SEMI JOIN touched t \
         ON m.tenant_id = t.tenant_id AND m.channel_id = t.channel_id AND m.contact_id = t.contact_id",
        &derive_ctx,
        "messages",
    )
    .await?;
    copy_query(
        &derive_ctx,
        "SELECT DISTINCT tenant_id, message_id FROM messages",
        &lake_ctx,
        "touched_ids",
    )
    .await?;
    copy_query(
        &lake_ctx,
        "SELECT s.* FROM message_statuses s LEFT SEMI JOIN touched_ids i \
         ON s.tenant_id = i.tenant_id AND s.message_id = i.message_id",
        &derive_ctx,
        "message_statuses",
    )
    .await?;
    copy_query(&lake_ctx, "SELECT * FROM channels", &derive_ctx, "channels").await?;

    // Step 2: the views, unchanged, over those rows.
    let files = SqlFiles::load(None)?;
    let views: Vec<_> = files
        .views
        .into_iter()
        .filter(|f| VIEWS.contains(&view_name(&f.stem)))
        .collect();
    create_views(&derive_ctx, &views).await?;

    let mut writer = LakeWriter::new(lake.clone());
    for derived in DERIVED {
        let def = schema::table(derived.table)
            .ok_or_else(|| Error::Config(format!("no table {}", derived.table)))?;
        let columns = column_list(def);
        let new = to_table_types(
            def.schema.clone(),
            derive_ctx
                .sql(&format!("SELECT {columns} FROM {}", derived.view))
                .await?
                .collect()
                .await?,
        )?;
        // Step 3: the stored rows of the same contacts, and the difference.
        let filter = derived
            .stored_filter
            .map_or(String::new(), |f| format!("WHERE {f}"));
        let stored = to_table_types(
            def.schema.clone(),
            lake_ctx
                .sql(&format!(
                    "SELECT {columns} FROM (SELECT * FROM {} {filter}) d LEFT SEMI JOIN touched t \
                     ON d.tenant_id = t.tenant_id AND d.channel_id = t.channel_id AND d.contact_id = t.contact_id",
                    derived.table
                ))
                .await?
                .collect()
                .await?,
        )?;
        let diff_ctx = SessionContext::new();
        register(&diff_ctx, "new_rows", def.schema.clone(), new.clone())?;
        register(&diff_ctx, "old_rows", def.schema.clone(), stored)?;
        let added = diff_ctx
            .sql("SELECT * FROM new_rows EXCEPT ALL SELECT * FROM old_rows")
            .await?
            .collect()
            .await?;
        let removed = diff_ctx
            .sql("SELECT * FROM old_rows EXCEPT ALL SELECT * FROM new_rows")
            .await?
            .collect()
            .await?;
        let count = |b: &[RecordBatch]| b.iter().map(|b| b.num_rows() as u64).sum::<u64>();
        let (n_added, n_removed) = (count(&added), count(&removed));
        if n_added == 0 && n_removed == 0 {
            continue;
        }
        // Step 4: the region that changed, and the new rows inside it.
        let region = Region::of(def, added.iter().chain(removed.iter()))?;
        if region.contacts() <= listed {
            let predicate = region.predicate(derived.stored_filter);
            let replacement = new
                .iter()
                .map(|b| region.keep(def, b))
                .collect::<Result<Vec<_>>>()?;
            writer
                .replace_where(def.name, replacement, Some(&predicate))
                .await?;
        } else {
            // Whole days: the touched contacts' new rows, the other contacts' stored ones.
            let predicate = region.day_predicate(derived.stored_filter);
            let mut replacement = new
                .iter()
                .map(|b| region.keep_days(def, b))
                .collect::<Result<Vec<_>>>()?;
            let others = lake_ctx
                .sql(&format!(
                    "SELECT {columns} FROM (SELECT * FROM {} WHERE {predicate}) d LEFT ANTI JOIN touched t \
                     ON d.tenant_id = t.tenant_id AND d.channel_id = t.channel_id AND d.contact_id = t.contact_id",
                    derived.table
                ))
                .await?
                .collect()
                .await?;
            replacement.extend(to_table_types(def.schema.clone(), others)?);
            writer
                .replace_where(def.name, replacement, Some(&predicate))
                .await?;
        }
        changes.tables.push((def.name, n_removed, n_added));
    }
    Ok(changes)
}

/// The contacts and `dt` days of changed rows.
struct Region {
    contacts: BTreeMap<(String, String), BTreeSet<String>>,
    days: BTreeSet<i32>,
}

impl Region {
    fn of<'a>(def: &TableDef, batches: impl Iterator<Item = &'a RecordBatch>) -> Result<Region> {
        let time = def
            .time_column
            .ok_or_else(|| Error::Config(format!("{} is not partitioned", def.name)))?;
        let mut region = Region {
            contacts: BTreeMap::new(),
            days: BTreeSet::new(),
        };
        for batch in batches {
            let (t, c, k) = (
                strings(batch, "tenant_id")?,
                strings(batch, "channel_id")?,
                strings(batch, "contact_id")?,
            );
            for ((t, c), k) in t.into_iter().zip(c).zip(k) {
                region
                    .contacts
                    .entry((t.unwrap_or_default(), c.unwrap_or_default()))
                    .or_default()
                    .insert(k.unwrap_or_default());
            }
            region
                .days
                .extend(partition_days(batch, time)?.into_iter().flatten());
        }
        Ok(region)
    }

    /// Contacts in the region.
    fn contacts(&self) -> usize {
        self.contacts.values().map(BTreeSet::len).sum()
    }

    /// `dt IN (...)` of the region's days.
    fn day_list(&self) -> String {
        let days: Vec<String> = self
            .days
            .iter()
            .map(|d| format!("CAST('{}' AS DATE)", day_text(*d)))
            .collect();
        format!("dt IN ({})", days.join(", "))
    }

    /// The Delta predicate of the region's whole days (and `extra`).
    fn day_predicate(&self, extra: Option<&str>) -> String {
        match extra {
            Some(extra) => format!("{extra} AND {}", self.day_list()),
            None => self.day_list(),
        }
    }

    /// The rows of `batch` on the region's days.
    fn keep_days(&self, def: &TableDef, batch: &RecordBatch) -> Result<RecordBatch> {
        let mask: arrow::array::BooleanArray = utc_days(def, batch)?
            .iter()
            .map(|day| Some(self.days.contains(day)))
            .collect();
        Ok(arrow::compute::filter_record_batch(batch, &mask)?)
    }

    /// The Delta predicate of the region (and `extra`, the derivation's own filter).
    fn predicate(&self, extra: Option<&str>) -> String {
        let contacts: Vec<String> = self
            .contacts
            .iter()
            .map(|((t, c), ks)| {
                let ks: Vec<String> = ks.iter().map(|k| quote(k)).collect();
                format!(
                    "(tenant_id = {} AND channel_id = {} AND contact_id IN ({}))",
                    quote(t),
                    quote(c),
                    ks.join(", ")
                )
            })
            .collect();
        let mut predicate = format!("{} AND ({})", self.day_list(), contacts.join(" OR "));
        if let Some(extra) = extra {
            predicate = format!("{extra} AND {predicate}");
        }
        predicate
    }

    /// The rows of `batch` inside the region.
    fn keep(&self, def: &TableDef, batch: &RecordBatch) -> Result<RecordBatch> {
        let (t, c, k) = (
            strings(batch, "tenant_id")?,
            strings(batch, "channel_id")?,
            strings(batch, "contact_id")?,
        );
        let mask: arrow::array::BooleanArray = utc_days(def, batch)?
            .iter()
            .enumerate()
            .map(|(i, day)| {
                let inside = self.days.contains(day)
                    && self
                        .contacts
                        .get(&(
                            t[i].clone().unwrap_or_default(),
                            c[i].clone().unwrap_or_default(),
                        ))
                        .is_some_and(|ks| k[i].as_ref().is_some_and(|k| ks.contains(k)));
                Some(inside)
            })
            .collect();
        Ok(arrow::compute::filter_record_batch(batch, &mask)?)
    }
}

/// The UTC day (days since the epoch) of each row of `batch`, by the table's time column.
fn utc_days(def: &TableDef, batch: &RecordBatch) -> Result<Vec<i32>> {
    let time = def.time_column.unwrap_or("ts");
    let times = batch
        .column_by_name(time)
        .and_then(|c| {
            c.as_any()
                .downcast_ref::<arrow::array::TimestampMicrosecondArray>()
        })
        .ok_or_else(|| Error::Config(format!("{}: {time} is not a timestamp", def.name)))?;
    Ok((0..batch.num_rows())
        .map(|i| times.value(i).div_euclid(86_400_000_000) as i32)
        .collect())
}

/// A SQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `touched` as a three-column batch.
fn touched_batch(touched: &Touched) -> Result<RecordBatch> {
    let (mut t, mut c, mut k) = (Vec::new(), Vec::new(), Vec::new());
    for (tenant, channel, contact) in touched {
        t.push(tenant.as_str());
        c.push(channel.as_str());
        k.push(contact.as_str());
    }
    Ok(RecordBatch::try_from_iter([
        (
            "tenant_id",
            Arc::new(arrow::array::StringArray::from(t)) as _,
        ),
        (
            "channel_id",
            Arc::new(arrow::array::StringArray::from(c)) as _,
        ),
        (
            "contact_id",
            Arc::new(arrow::array::StringArray::from(k)) as _,
        ),
    ])?)
}

/// Registers `batches` (of `schema`) as table `name` of `ctx`.
fn register(
    ctx: &SessionContext,
    name: &str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<()> {
    let table = datafusion::datasource::MemTable::try_new(schema, vec![batches])?;
    ctx.register_table(name, Arc::new(table))?;
    Ok(())
}

/// Runs `sql` on `from` and registers its answer as table `name` of `to`.
async fn copy_query(
    from: &SessionContext,
    sql: &str,
    to: &SessionContext,
    name: &str,
) -> Result<()> {
    let frame = from.sql(sql).await?;
    let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
    let batches = frame.collect().await?;
    register(to, name, schema, batches)
}

/// The columns of `def`, quoted, comma-separated.
fn column_list(def: &TableDef) -> String {
    def.schema
        .fields()
        .iter()
        .map(|f| format!("\"{}\"", f.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `batches` with every column cast to `schema`'s type (the engine reads strings as views).
fn to_table_types(schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
    batches
        .iter()
        .map(|batch| crate::lake::rewrite::to_table_types(schema.clone(), batch))
        .collect()
}
