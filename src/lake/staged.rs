//! A large append in one Delta commit with bounded memory: files are written as batches come
//! (each batch sorted by the table's sort key, one file per `dt` partition per batch) and become
//! visible together in one commit, or not at all.
//!
//! | step                      | what readers see                                           |
//! |---------------------------|------------------------------------------------------------|
//! | [`StagedAppend::write`]   | nothing: the files exist but no commit names them          |
//! | [`StagedAppend::commit`]  | every row of every staged file, atomically                 |
//! | [`StagedAppend::abort`]   | nothing; the staged files are deleted                      |
//!
//! With a transaction id, [`StagedAppend::commit`] first looks at the table's `txn` actions: a
//! version already recorded for the application means the rows are in, and the staged files are
//! deleted instead of committed (a flush retried after a crash commits once). A crash between
//! `write` and `commit` leaves unreferenced files that `VACUUM` removes.

use deltalake::DeltaTable;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Add, Transaction};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use arrow::array::RecordBatch;
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

/// Files of one table written but not committed yet; see the module docs.
pub struct StagedAppend {
    def: &'static TableDef,
    table: DeltaTable,
    writer: RecordBatchWriter,
    adds: Vec<Add>,
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
        let writer = RecordBatchWriter::for_table(&table)
            .map_err(|e| delta_err(def.name, e))?
            .with_writer_properties(writer_properties(def));
        Ok(StagedAppend {
            def,
            table,
            writer,
            adds: Vec::new(),
            rows: 0,
        })
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
    /// partition, not yet visible.
    pub async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.rows += batch.num_rows() as u64;
        let prepared = prepare(self.def, &[batch])?;
        self.writer
            .write(prepared)
            .await
            .map_err(|e| delta_err(self.def.name, e))?;
        let adds = self
            .writer
            .flush()
            .await
            .map_err(|e| delta_err(self.def.name, e))?;
        self.adds.extend(adds);
        Ok(())
    }

    /// Rows staged so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Commits every staged file in one Delta commit (carrying `txn` when given). Returns
    /// `false` when `txn` was already recorded: the staged files are deleted, nothing is added.
    pub async fn commit(mut self, txn: Option<Txn>) -> Result<bool> {
        if let Some(txn) = &txn
            && self.is_committed(txn).await?
        {
            self.delete_staged().await?;
            return Ok(false);
        }
        if self.adds.is_empty() && txn.is_none() {
            return Ok(true);
        }
        let mut properties = CommitProperties::default();
        if let Some(txn) = txn {
            properties =
                properties.with_application_transaction(Transaction::new(txn.app_id, txn.version));
        }
        let operation = DeltaOperation::Write {
            mode: SaveMode::Append,
            partition_by: self
                .def
                .is_partitioned()
                .then(|| vec![PARTITION_COLUMN.to_string()]),
            predicate: None,
        };
        let actions: Vec<Action> = self.adds.drain(..).map(Action::Add).collect();
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
