//! A large append in one Delta commit with bounded memory: files are written as batches come
//! (each batch sorted by the table's sort key, one file per `dt` partition per batch) and become
//! visible together in one commit, or not at all.
//!
//! | step                      | what readers see                                           |
//! |---------------------------|------------------------------------------------------------|
//! | [`StagedAppend::write`]   | nothing: the files exist (or are being written, up to [`PARALLEL_WRITES`] batches at once) but no commit names them |
//! | [`StagedAppend::commit`]  | every row of every staged file, atomically                 |
//! | [`StagedAppend::abort`]   | nothing; the staged files are deleted                      |
//!
//! A replacing append ([`StagedAppend::begin_replacing`]) also removes, in the same commit, every
//! file the table held when it began: a whole table rewritten from a stream without holding it.
//!
//! With a transaction id, [`StagedAppend::commit`] first looks at the table's `txn` actions: a
//! version already recorded for the application means the rows are in, and the staged files are
//! deleted instead of committed (a flush retried after a crash commits once). A crash between
//! `write` and `commit` leaves unreferenced files that `VACUUM` removes.

use std::collections::VecDeque;

use arrow::array::RecordBatch;
use deltalake::DeltaTable;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Add, Remove, Transaction};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use object_store::ObjectStoreExt;
use object_store::path::Path;

use super::schema::{PARTITION_COLUMN, TableDef};
use super::store::{Lake, delta_err};
use super::writer::{create_table, prepare, writer_properties};
use crate::error::Result;

/// An application transaction: `(app_id, version)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Txn {
    /// Application id, e.g. `chatlake-wal-<wal id>`.
    pub app_id: String,
    /// Monotonic version within the application.
    pub version: i64,
}

/// Batches sorted and encoded at once, each on a thread of the blocking pool with a writer of
/// its own (the caller prepares the next batch meanwhile).
pub const PARALLEL_WRITES: usize = 2;

/// One batch being sorted and written: its writer comes back with the files it wrote.
type Running = tokio::task::JoinHandle<Result<(RecordBatchWriter, Vec<Add>)>>;

/// Files of one table written but not committed yet; see the module docs.
pub struct StagedAppend {
    def: &'static TableDef,
    table: DeltaTable,
    /// Writers not in use.
    idle: Vec<RecordBatchWriter>,
    /// Batches being written, oldest first (their files are added in this order).
    running: VecDeque<Running>,
    adds: Vec<Add>,
    /// A replacing append's removes: the files of the table when it began.
    removes: Option<Vec<Remove>>,
    rows: u64,
}

impl std::fmt::Debug for StagedAppend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedAppend")
            .field("table", &self.def.name)
            .field("files", &self.adds.len())
            .field("rows", &self.rows)
            .finish()
    }
}

impl StagedAppend {
    /// Starts an append to `def` in `lake` (the table is created if it does not exist).
    pub async fn begin(lake: &Lake, def: &'static TableDef) -> Result<StagedAppend> {
        let table = match lake.try_load_table(def.name).await? {
            Some(t) => t,
            None => create_table(lake, def).await?,
        };
        let idle = (0..PARALLEL_WRITES)
            .map(|_| {
                RecordBatchWriter::for_table(&table)
                    .map(|w| w.with_writer_properties(writer_properties(def)))
                    .map_err(|e| delta_err(def.name, e))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(StagedAppend {
            def,
            table,
            idle,
            running: VecDeque::new(),
            adds: Vec::new(),
            removes: None,
            rows: 0,
        })
    }

    /// Starts an append to `def` whose commit also removes every file the table holds now:
    /// afterwards the table holds exactly the rows written (readers see the old set or the new
    /// one). A writer committing to the table in between makes the commit fail on the conflict.
    pub async fn begin_replacing(lake: &Lake, def: &'static TableDef) -> Result<StagedAppend> {
        let mut staged = StagedAppend::begin(lake, def).await?;
        let snapshot = staged
            .table
            .snapshot()
            .map_err(|e| delta_err(def.name, e))?;
        let removes = snapshot
            .log_data()
            .iter()
            .map(|file| file.remove_action(true))
            .collect();
        staged.removes = Some(removes);
        Ok(staged)
    }

    /// Whether the table already records `txn` (its version or a later one for its app id).
    pub async fn is_committed(&self, txn: &Txn) -> Result<bool> {
        let seen = match self.table.snapshot() {
            Ok(state) => state
                .transaction_version(self.table.log_store().as_ref(), &txn.app_id)
                .await
                .map_err(|e| delta_err(self.def.name, e))?,
            Err(_) => None,
        };
        Ok(seen.is_some_and(|v| v >= txn.version))
    }

    /// Sorts `batch` (in the table's columns) by the sort key and writes it as one file per
    /// partition, not yet visible. Up to [`PARALLEL_WRITES`] batches are written at once: this
    /// returns once the batch has a writer; an error of the write comes from a later call.
    pub async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.rows += batch.num_rows() as u64;
        while self.idle.is_empty() && !self.running.is_empty() {
            self.finish_oldest().await?;
        }
        let Some(mut writer) = self.idle.pop() else {
            return Err(crate::error::Error::Config(format!(
                "internal: no writer left for {}",
                self.def.name
            )));
        };
        let def = self.def;
        let runtime = tokio::runtime::Handle::current();
        self.running
            .push_back(tokio::task::spawn_blocking(move || -> Result<_> {
                let prepared = prepare(def, &[batch])?;
                runtime.block_on(async {
                    writer
                        .write(prepared)
                        .await
                        .map_err(|e| delta_err(def.name, e))?;
                    let adds = writer.flush().await.map_err(|e| delta_err(def.name, e))?;
                    Ok((writer, adds))
                })
            }));
        Ok(())
    }

    /// Waits for the oldest batch being written and keeps its files.
    async fn finish_oldest(&mut self) -> Result<()> {
        let Some(running) = self.running.pop_front() else {
            return Ok(());
        };
        let (writer, adds) = running.await.map_err(|e| {
            crate::error::Error::Config(format!(
                "writing {}: the writer stopped: {e}",
                self.def.name
            ))
        })??;
        self.adds.extend(adds);
        self.idle.push(writer);
        Ok(())
    }

    /// Waits for every batch being written; the first error, after all have finished.
    async fn finish_running(&mut self) -> Result<()> {
        let mut first_error = None;
        while !self.running.is_empty() {
            if let Err(e) = self.finish_oldest().await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Rows staged so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Commits every staged file in one Delta commit (carrying `txn` when given). Returns
    /// `false` when `txn` was already recorded: the staged files are deleted, nothing is added.
    pub async fn commit(mut self, txn: Option<Txn>) -> Result<bool> {
        if let Err(e) = self.finish_running().await {
            self.delete_staged().await?;
            return Err(e);
        }
        if let Some(txn) = &txn
            && self.is_committed(txn).await?
        {
            self.delete_staged().await?;
            return Ok(false);
        }
        let removes = self.removes.take();
        if self.adds.is_empty() && txn.is_none() && removes.as_ref().is_none_or(Vec::is_empty) {
            return Ok(true);
        }
        let mut properties = CommitProperties::default();
        if let Some(txn) = txn {
            properties =
                properties.with_application_transaction(Transaction::new(txn.app_id, txn.version));
        }
        let operation = DeltaOperation::Write {
            mode: if removes.is_some() {
                SaveMode::Overwrite
            } else {
                SaveMode::Append
            },
            partition_by: self
                .def
                .is_partitioned()
                .then(|| vec![PARTITION_COLUMN.to_string()]),
            predicate: None,
        };
        let actions: Vec<Action> = self
            .adds
            .drain(..)
            .map(Action::Add)
            .chain(removes.into_iter().flatten().map(Action::Remove))
            .collect();
        let snapshot = self
            .table
            .snapshot()
            .map_err(|e| delta_err(self.def.name, e))?;
        CommitBuilder::from(properties)
            .with_actions(actions)
            .build(Some(snapshot), self.table.log_store(), operation)
            .await
            .map_err(|e| delta_err(self.def.name, e))?;
        Ok(true)
    }

    /// Deletes the staged files; nothing is committed.
    pub async fn abort(mut self) -> Result<()> {
        let _ = self.finish_running().await;
        self.delete_staged().await
    }

    async fn delete_staged(&mut self) -> Result<()> {
        let store = self.table.object_store();
        for add in self.adds.drain(..) {
            let path = Path::from(add.path.as_str());
            match store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => {
                    tracing::warn!(table = self.def.name, file = %add.path, "staged file not deleted: {e}");
                }
            }
        }
        Ok(())
    }
}
