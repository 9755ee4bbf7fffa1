//! `chatlake_cache_stats()`: one row with the result cache's counters since the server
//! started. Its own answer is never cached (it is not a lake table, so it has no version).

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::plan_err;
use datafusion::datasource::MemTable;
use datafusion::error::Result as DfResult;

use super::{ResultCache, STATS_FUNCTION};

/// The result cache's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Answers held.
    pub entries: u64,
    /// Bytes they hold (batches and keys).
    pub bytes: u64,
    /// The budget (`--result-cache-mb`), in bytes.
    pub budget_bytes: u64,
    /// Queries answered from the cache.
    pub hits: u64,
    /// Cacheable queries that executed (none cached, none running).
    pub misses: u64,
    /// Queries that cannot be cached and executed as before.
    pub bypasses: u64,
    /// Answers evicted to make room.
    pub evictions: u64,
    /// Queries that waited for the same query running for another client.
    pub shared_waits: u64,
}

impl CacheStats {
    /// The counters as `(column name, value)`, in the function's column order.
    pub fn columns(&self) -> [(&'static str, u64); 8] {
        [
            ("entries", self.entries),
            ("bytes", self.bytes),
            ("budget_bytes", self.budget_bytes),
            ("hits", self.hits),
            ("misses", self.misses),
            ("bypasses", self.bypasses),
            ("evictions", self.evictions),
            ("shared_waits", self.shared_waits),
        ]
    }
}

/// The table function `chatlake_cache_stats()` over one engine's cache.
#[derive(Debug)]
pub struct CacheStatsFunction {
    cache: Arc<ResultCache>,
}

impl CacheStatsFunction {
    /// The function reporting `cache`.
    pub fn new(cache: Arc<ResultCache>) -> Self {
        CacheStatsFunction { cache }
    }
}

impl TableFunctionImpl for CacheStatsFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> DfResult<Arc<dyn TableProvider>> {
        if !args.exprs().is_empty() {
            return plan_err!("{STATS_FUNCTION}() takes no arguments");
        }
        let columns = self.cache.stats().columns();
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(name, _)| Field::new(*name, DataType::Int64, false))
                .collect::<Vec<_>>(),
        ));
        let arrays: Vec<ArrayRef> = columns
            .iter()
            .map(|(_, value)| {
                Arc::new(Int64Array::from(vec![
                    i64::try_from(*value).unwrap_or(i64::MAX),
                ])) as ArrayRef
            })
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays)?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}
