//! Writing decoded rows into the lake: enrichment, de-duplication, one Delta commit per load.
//!
//! | table mode ([`Mode`]) | a [`Load`] does                                                                 | commit                         |
//! |-----------------------|---------------------------------------------------------------------------------|--------------------------------|
//! | append (facts)        | per batch: fill lake-derived columns ([`enrich`]), drop duplicates ([`Dedup`]), write sorted files ([`StagedAppend`]) | one Delta append, with the transaction id when given |
//! | upsert (dimensions, campaigns) | buffers the rows; at commit, the last row of each key in the load wins | one Delta MERGE on the key (contacts: only over a stored row with an earlier or equal `updated_at`) |
//! | replacing (facts, [`Ingester::begin_replacing`]: `--reparse`) | as upsert, messages enriched first | one Delta MERGE on the natural key and `dt`: a stored row of the key is replaced, a new key inserted |
//!
//! Memory of an append load is one batch at a time plus its key set (16 bytes a row); an upsert
//! load holds its rows (dimension tables are small).
//!
//! Whoever commits calls [`Ingester::refresh_derived`] afterwards with the contacts the loads
//! touched ([`CommitOutcome::touched`]) so that the derived tables follow.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, RecordBatch};
use arrow::compute::{concat_batches, filter_record_batch};
use datafusion::prelude::SessionContext;

use super::dedup::{Dedup, strings, utf8};
use super::enrich;
use super::rules::{self, Mode};
use crate::error::{Error, Result};
use crate::lake::provider::LakeTable;
use crate::lake::schema::{self, TableDef};
use crate::lake::staged::StagedAppend;
use crate::lake::store::delta_err;
use crate::lake::{Lake, LakeWriter};

pub use crate::lake::staged::Txn;

/// The contacts `(tenant_id, channel_id, contact_id)` whose derived rows new data may change.
pub type Touched = BTreeSet<(String, String, String)>;

/// What one commit did.
#[derive(Debug, Clone, Default)]
pub struct CommitOutcome {
    /// Rows written to the table (upserts: rows merged, inserted or updated).
    pub written: u64,
    /// Rows dropped as duplicates by the natural key (inside the input and against the lake).
    pub duplicates: u64,
    /// The table already recorded the transaction: nothing was written.
    pub already_committed: bool,
    /// Contacts whose derived rows the input may change (also when `already_committed`).
    pub touched: Touched,
    /// A `channels` row changed: every derived row may change (a full refresh is due).
    pub channels_changed: bool,
}

/// Commits decoded rows to the lake; see the module docs.
pub struct Ingester {
    lake: Lake,
    ctx: SessionContext,
}

impl std::fmt::Debug for Ingester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingester")
            .field("lake", &self.lake.root().as_str())
            .finish()
    }
}

impl Ingester {
    /// An ingester writing into `lake`; tables that do not exist yet are created empty.
    pub async fn open(lake: Lake) -> Result<Ingester> {
        LakeWriter::new(lake.clone())
            .create_missing_tables()
            .await?;
        let ctx = SessionContext::new();
        for def in schema::tables() {
            let table = LakeTable::open(&lake, def.name).await?;
            ctx.register_table(def.name, Arc::new(table))?;
        }
        Ok(Ingester { lake, ctx })
    }

    /// The lake written to.
    pub fn lake(&self) -> &Lake {
        &self.lake
    }

    /// A session over the lake's tables (newest snapshot on every query).
    pub fn session(&self) -> &SessionContext {
        &self.ctx
    }

    /// Starts a load into `table` (an ingestible table: not a derived one).
    pub async fn begin(&self, table: &'static TableDef) -> Result<Load> {
        let rules = rules::rules(table.name).ok_or_else(|| {
            Error::Config(format!(
                "table '{}' is derived by chatlake and cannot be ingested",
                table.name
            ))
        })?;
        let body = match rules.mode {
            Mode::Append => LoadBody::Append {
                staged: Box::new(StagedAppend::begin(&self.lake, table).await?),
                dedup: Box::new(Dedup::new(table, rules.key_columns(&table.schema))?),
                csw: Box::default(),
            },
            Mode::Upsert => LoadBody::Upsert {
                batches: Vec::new(),
                csw: Box::default(),
            },
        };
        Ok(Load {
            def: table,
            body,
            outcome: CommitOutcome::default(),
        })
    }

    /// Starts a load into fact table `table` whose rows replace the stored rows of their
    /// natural key (one Delta MERGE on the key and `dt` at [`Ingester::finish`]) instead of
    /// being dropped as duplicates: how `chatlake ingest --reparse` writes re-derived rows.
    /// Fails for a table without a natural key (an identical row is the same event there).
    pub async fn begin_replacing(&self, table: &'static TableDef) -> Result<Load> {
        if rules::rules(table.name).is_none_or(|r| r.key.is_empty()) {
            return Err(Error::Config(format!(
                "table '{}' has no natural key: its rows cannot be replaced",
                table.name
            )));
        }
        Ok(Load {
            def: table,
            body: LoadBody::Upsert {
                batches: Vec::new(),
                csw: Box::default(),
            },
            outcome: CommitOutcome::default(),
        })
    }

    /// Enriches, de-duplicates and writes `batches` of `table` in one Delta commit, carrying
    /// `txn` when given (a retried commit of the same `txn` writes nothing).
    pub async fn commit(
        &mut self,
        table: &'static TableDef,
        batches: Vec<RecordBatch>,
        txn: Option<Txn>,
    ) -> Result<CommitOutcome> {
        let mut load = self.begin(table).await?;
        if let Some(txn) = &txn
            && load.is_committed(txn).await?
        {
            let mut outcome = CommitOutcome {
                already_committed: true,
                ..CommitOutcome::default()
            };
            for batch in &batches {
                self.touch(table, batch, &mut outcome).await?;
            }
            load.abort().await?;
            return Ok(outcome);
        }
        for batch in batches {
            self.add(&mut load, batch).await?;
        }
        self.finish(load, txn).await
    }

    /// Adds one batch to `load` (written to files at once for fact tables, not yet visible).
    pub async fn add(&self, load: &mut Load, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let mut outcome = std::mem::take(&mut load.outcome);
        self.touch(load.def, &batch, &mut outcome).await?;
        load.outcome = outcome;
        match &mut load.body {
            LoadBody::Append { staged, dedup, csw } => {
                let batch = if load.def.name == "messages" {
                    enrich::enrich_messages(&self.ctx, batch, csw).await?
                } else {
                    batch
                };
                let (kept, dropped) = dedup.filter(&self.ctx, &batch).await?;
                load.outcome.duplicates += dropped;
                load.outcome.written += kept.num_rows() as u64;
                staged.write(kept).await?;
            }
            LoadBody::Upsert { batches, csw } => {
                let batch = if load.def.name == "messages" {
                    enrich::enrich_messages(&self.ctx, batch, csw).await?
                } else {
                    batch
                };
                batches.push(batch);
            }
        }
        Ok(())
    }

    /// Commits `load` in one Delta commit (with `txn` when given).
    pub async fn finish(&self, load: Load, txn: Option<Txn>) -> Result<CommitOutcome> {
        let Load {
            def,
            body,
            mut outcome,
        } = load;
        match body {
            LoadBody::Append { staged, .. } => {
                if !staged.commit(txn).await? {
                    outcome.already_committed = true;
                    outcome.written = 0;
                    outcome.duplicates = 0;
                }
            }
            LoadBody::Upsert { batches, .. } => {
                let (merged, duplicates) = self.upsert(def, batches, txn.as_ref()).await?;
                if merged.is_none() {
                    outcome.already_committed = true;
                } else {
                    outcome.written = merged.unwrap_or(0);
                    outcome.duplicates = duplicates;
                }
            }
        }
        Ok(outcome)
    }

    /// Adds the contacts `batch` may change the derived rows of to `outcome`.
    async fn touch(
        &self,
        def: &TableDef,
        batch: &RecordBatch,
        outcome: &mut CommitOutcome,
    ) -> Result<()> {
        match def.name {
            "messages" => {
                let (t, c, k) = (
                    utf8(batch, "tenant_id")?,
                    utf8(batch, "channel_id")?,
                    utf8(batch, "contact_id")?,
                );
                // Distinct contacts of the batch first (borrowed), then one owned key each.
                let mut distinct: HashSet<(&str, &str, &str)> = HashSet::new();
                for i in 0..batch.num_rows() {
                    if t.is_valid(i) && c.is_valid(i) && k.is_valid(i) {
                        distinct.insert((t.value(i), c.value(i), k.value(i)));
                    }
                }
                for (t, c, k) in distinct {
                    outcome
                        .touched
                        .insert((t.to_string(), c.to_string(), k.to_string()));
                }
            }
            "message_statuses" => {
                let contacts = self.contacts_of_messages(batch).await?;
                outcome.touched.extend(contacts);
            }
            "channels" => outcome.channels_changed = true,
            _ => {}
        }
        Ok(())
    }

    /// The contacts of the messages `statuses` are callbacks of (those the lake holds).
    async fn contacts_of_messages(&self, statuses: &RecordBatch) -> Result<Touched> {
        let ids = RecordBatch::try_from_iter([
            (
                "tenant_id",
                statuses
                    .column_by_name("tenant_id")
                    .cloned()
                    .ok_or_else(|| Error::Config("statuses without tenant_id".into()))?,
            ),
            (
                "message_id",
                statuses
                    .column_by_name("message_id")
                    .cloned()
                    .ok_or_else(|| Error::Config("statuses without message_id".into()))?,
            ),
        ])?;
        let ctx = SessionContext::new();
        ctx.register_batch("status_ids", ids)?;
        ctx.register_table("messages", self.ctx.table_provider("messages").await?)?;
        let found = ctx
            .sql(
                "SELECT DISTINCT m.tenant_id, m.channel_id, m.contact_id FROM messages m \
                 JOIN (SELECT DISTINCT tenant_id, message_id FROM status_ids) s \
                 ON m.tenant_id = s.tenant_id AND m.message_id = s.message_id",
            )
            .await?
            .collect()
            .await?;
        let mut touched = Touched::new();
        for batch in &found {
            let (t, c, k) = (
                strings(batch, "tenant_id")?,
                strings(batch, "channel_id")?,
                strings(batch, "contact_id")?,
            );
            for ((t, c), k) in t.into_iter().zip(c).zip(k) {
                if let (Some(t), Some(c), Some(k)) = (t, c, k) {
                    touched.insert((t, c, k));
                }
            }
        }
        Ok(touched)
    }

    /// MERGEs the upsert rows into `def` by key. Returns `(None, 0)` when `txn` was already
    /// recorded, else the rows merged and the in-load duplicates dropped.
    async fn upsert(
        &self,
        def: &'static TableDef,
        batches: Vec<RecordBatch>,
        txn: Option<&Txn>,
    ) -> Result<(Option<u64>, u64)> {
        let rules = rules::rules(def.name)
            .ok_or_else(|| Error::Config(format!("table '{}' cannot be ingested", def.name)))?;
        let table = self.lake.load_table(def.name).await?;
        if let Some(txn) = txn {
            let seen = table
                .snapshot()
                .map_err(|e| delta_err(def.name, e))?
                .transaction_version(table.log_store().as_ref(), &txn.app_id)
                .await
                .map_err(|e| delta_err(def.name, e))?;
            if seen.is_some_and(|v| v >= txn.version) {
                return Ok((None, 0));
            }
        }
        if batches.iter().all(|b| b.num_rows() == 0) {
            return Ok((Some(0), 0));
        }
        let all = concat_batches(&def.schema, &batches)?;
        let (latest, duplicates) = last_row_per_key(def, &all, rules.key)?;
        let rows = latest.num_rows() as u64;
        // Partitioned upsert tables (campaigns) need `dt` in the source; the key fixes it.
        let latest = if def.is_partitioned() {
            crate::lake::writer::prepare(def, &[latest])?
        } else {
            latest
        };
        let columns: Vec<String> = latest
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let ctx = SessionContext::new();
        let source = ctx.read_batch(latest)?;
        let mut on: Vec<String> = rules
            .key
            .iter()
            .map(|k| format!("target.{k} = source.{k}"))
            .collect();
        if def.is_partitioned() {
            on.push(format!(
                "target.{0} = source.{0}",
                crate::lake::schema::PARTITION_COLUMN
            ));
        }
        let on = on.join(" AND ");
        let mut merge = table
            .merge(source, on)
            .with_source_alias("source")
            .with_target_alias("target")
            .with_writer_properties(crate::lake::writer::writer_properties(def))
            .when_matched_update(|mut update| {
                if def.name == "contacts" {
                    update = update.predicate("source.updated_at >= target.updated_at");
                }
                for c in &columns {
                    update = update.update(c.as_str(), format!("source.{c}"));
                }
                update
            })
            .map_err(|e| delta_err(def.name, e))?
            .when_not_matched_insert(|mut insert| {
                for c in &columns {
                    insert = insert.set(c.as_str(), format!("source.{c}"));
                }
                insert
            })
            .map_err(|e| delta_err(def.name, e))?;
        if let Some(txn) = txn {
            merge = merge.with_commit_properties(
                deltalake::kernel::transaction::CommitProperties::default()
                    .with_application_transaction(deltalake::kernel::Transaction::new(
                        &txn.app_id,
                        txn.version,
                    )),
            );
        }
        merge.await.map_err(|e| delta_err(def.name, e))?;
        Ok((Some(rows), duplicates))
    }

    /// Re-derives the derived tables' rows of `touched` (see [`crate::ingest::refresh`]).
    pub async fn refresh_derived(&mut self, touched: &Touched) -> Result<()> {
        super::refresh::refresh_contacts(&self.lake, touched)
            .await
            .map(|_| ())
    }
}

/// The last row of each key of `batch` (input order), and how many earlier rows it replaced.
fn last_row_per_key(
    def: &TableDef,
    batch: &RecordBatch,
    key: &[&str],
) -> Result<(RecordBatch, u64)> {
    let columns = key
        .iter()
        .map(|k| {
            batch
                .column_by_name(k)
                .cloned()
                .ok_or_else(|| Error::Config(format!("{}: no key column {k}", def.name)))
        })
        .collect::<Result<Vec<_>>>()?;
    let converter = arrow::row::RowConverter::new(
        columns
            .iter()
            .map(|c| arrow::row::SortField::new(c.data_type().clone()))
            .collect(),
    )?;
    let rows = converter.convert_columns(&columns)?;
    let mut seen = std::collections::HashSet::new();
    let mut keep = vec![false; batch.num_rows()];
    for i in (0..batch.num_rows()).rev() {
        if seen.insert(rows.row(i).as_ref().to_vec()) {
            keep[i] = true;
        }
    }
    let kept = filter_record_batch(batch, &BooleanArray::from(keep))?;
    let dropped = (batch.num_rows() - kept.num_rows()) as u64;
    Ok((kept, dropped))
}

/// One load into one table: see [`Ingester::begin`], [`Ingester::add`], [`Ingester::finish`].
pub struct Load {
    def: &'static TableDef,
    body: LoadBody,
    outcome: CommitOutcome,
}

impl std::fmt::Debug for Load {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Load")
            .field("table", &self.def.name)
            .finish()
    }
}

enum LoadBody {
    Append {
        staged: Box<StagedAppend>,
        dedup: Box<Dedup>,
        csw: Box<enrich::CswIndex>,
    },
    /// Upsert and replacing loads (`csw`: for messages of a replacing load).
    Upsert {
        batches: Vec<RecordBatch>,
        csw: Box<enrich::CswIndex>,
    },
}

impl Load {
    /// The table loaded into.
    pub fn table(&self) -> &'static TableDef {
        self.def
    }

    /// What the load has done so far (rows written and duplicates dropped).
    pub fn outcome(&self) -> &CommitOutcome {
        &self.outcome
    }

    /// Whether the table already records `txn`.
    pub async fn is_committed(&self, txn: &Txn) -> Result<bool> {
        match &self.body {
            LoadBody::Append { staged, .. } => staged.is_committed(txn).await,
            LoadBody::Upsert { .. } => Ok(false),
        }
    }

    /// Abandons the load: staged files are deleted, nothing is committed.
    pub async fn abort(self) -> Result<()> {
        match self.body {
            LoadBody::Append { staged, .. } => staged.abort().await,
            LoadBody::Upsert { .. } => Ok(()),
        }
    }
}
