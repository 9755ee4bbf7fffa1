//! A DataFusion table over a Delta table that always answers from the newest commit.
//!
//! A running server must see data committed by another process (ingest, a second
//! `generate`) without a restart. Each `scan` asks the log store for the latest version (one
//! listing of `_delta_log/`), replays only the new commits into the cached snapshot when there
//! are any, and delegates to delta-rs's scan for that snapshot: file skipping on `dt` partition
//! values and per-file statistics, Parquet row-group and page pruning, filter pushdown.
//!
//! The schema is fixed when the table is opened; concurrent queries share the cached snapshot.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use deltalake::DeltaTable;
use tokio::sync::Mutex;

use super::store::Lake;
use crate::error::Result;

/// The cached snapshot of one table and the provider built from it.
struct Current {
    table: DeltaTable,
    version: Option<u64>,
    provider: Arc<dyn TableProvider>,
}

/// A lake table registered in DataFusion; see the module docs.
pub struct LakeTable {
    name: String,
    schema: SchemaRef,
    current: Mutex<Current>,
    /// A provider usable from synchronous callbacks (filter push-down decisions).
    latest: std::sync::RwLock<Arc<dyn TableProvider>>,
}

impl std::fmt::Debug for LakeTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LakeTable")
            .field("name", &self.name)
            .finish()
    }
}

impl LakeTable {
    /// Opens `name` in `lake` at its newest version; a missing table is an error naming it.
    pub async fn open(lake: &Lake, name: &str) -> Result<LakeTable> {
        let table = lake.load_table(name).await?;
        let provider = build_provider(&table)
            .await
            .map_err(crate::error::Error::DataFusion)?;
        Ok(LakeTable {
            name: name.to_string(),
            schema: provider.schema(),
            latest: std::sync::RwLock::new(provider.clone()),
            current: Mutex::new(Current {
                version: table.version(),
                table,
                provider,
            }),
        })
    }

    /// The table name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Delta version the next scan would read (refreshing first).
    pub async fn version(&self) -> DfResult<Option<u64>> {
        let mut current = self.current.lock().await;
        self.refresh(&mut current).await?;
        Ok(current.version)
    }

    /// The provider for the newest snapshot, refreshed if the log has moved on.
    async fn fresh_provider(&self) -> DfResult<Arc<dyn TableProvider>> {
        let mut current = self.current.lock().await;
        self.refresh(&mut current).await?;
        Ok(current.provider.clone())
    }

    async fn refresh(&self, current: &mut Current) -> DfResult<()> {
        let log_store = current.table.log_store();
        let known = current.version;
        let latest = log_store
            .get_latest_version(known.unwrap_or(0))
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        if known.is_some_and(|v| latest <= v) {
            return Ok(());
        }
        current
            .table
            .update_incremental(None)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        current.version = current.table.version();
        current.provider = build_provider(&current.table).await?;
        if let Ok(mut latest) = self.latest.write() {
            *latest = current.provider.clone();
        }
        Ok(())
    }
}

async fn build_provider(table: &DeltaTable) -> DfResult<Arc<dyn TableProvider>> {
    table.table_provider().await
}

#[async_trait]
impl TableProvider for LakeTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let provider = self.fresh_provider().await?;
        if provider.schema() != self.schema {
            return Err(DataFusionError::Execution(format!(
                "the schema of lake table '{}' changed since the server started; restart to pick it up",
                self.name
            )));
        }
        provider.scan(state, projection, filters, limit).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        match self.latest.read() {
            Ok(provider) => provider.supports_filters_pushdown(filters),
            Err(_) => Ok(vec![
                TableProviderFilterPushDown::Unsupported;
                filters.len()
            ]),
        }
    }
}
