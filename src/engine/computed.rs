//! Tables whose rows are computed when a scan is planned (catalog tables, activity lists):
//! a [`ComputedRows`] source says what the rows are, [`ComputedTable`] serves them to
//! DataFusion as a view (an in-memory scan, with projection, filters and limit applied by
//! DataFusion's `MemTable`).

use std::fmt;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

/// The rows of a computed table, built anew for every scan.
#[async_trait]
pub trait ComputedRows: fmt::Debug + Send + Sync {
    /// The schema of every batch [`batches`](ComputedRows::batches) returns.
    fn schema(&self) -> SchemaRef;

    /// The table's rows as seen by the session `state` planning the scan.
    async fn batches(&self, state: &dyn Session) -> Result<Vec<RecordBatch>>;
}

/// A view whose rows come from a [`ComputedRows`] source at every scan.
#[derive(Debug)]
pub struct ComputedTable<R>(pub R);

#[async_trait]
impl<R: ComputedRows + 'static> TableProvider for ComputedTable<R> {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let batches = self.0.batches(state).await?;
        MemTable::try_new(self.0.schema(), vec![batches])?
            .scan(state, projection, filters, limit)
            .await
    }
}
