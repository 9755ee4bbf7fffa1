//! Tenant isolation under the planner: which tenants' rows a session may read, and the table
//! provider that enforces it on every scan of every lake table.
//!
//! | piece | job |
//! |---|---|
//! | [`TenantScope`] | `All` tenants or `Only` a set of tenant ids; stored as a `SessionConfig` extension of each session (Rust only: no SQL statement, setting or startup option reaches it) |
//! | [`set_scope`] / [`scope_of`] | write / read the scope of a session |
//! | [`TenantScoped`] | wraps a lake table; its `scan` reads the scope of the session *running the query* |
//!
//! How [`TenantScoped::scan`] filters, for a scope `Only(ids)`:
//!
//! | step | what happens |
//! |---|---|
//! | predicate | `tenant_id IN (ids)` (an empty set: no rows at all) |
//! | pushed down | added to the filters handed to the Delta scan: file skipping on statistics, Parquet row-group / page pruning and the row filter see it, so a tenant's query reads little more than its rows |
//! | guaranteed | a `FilterExec` with the same predicate over the scan's output, so correctness never depends on how exactly the inner scan applies a pushed filter |
//! | projection | `tenant_id` is read even when the query does not ask for it, and projected away after the filter |
//! | limit | not passed down (a limit under a filter could cut rows before filtering) |
//! | no scope | a session without a scope extension fails closed: the scan is an error |
//!
//! Views and report functions need nothing of their own: a view's plan holds these providers
//! (the catalog registers only wrapped tables) and is inlined into the caller's plan; a report
//! is planned per call with the caller's session. Either way the scan runs with the scope of
//! the calling session. Every lake table has a `tenant_id` column (SPEC section 3, the
//! dimension tables `tenants`, `channels`, `contacts` included), so every table is wrapped; a
//! table without one is refused when the engine opens it.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::{DFSchema, ScalarValue, plan_err};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{Expr, LogicalPlan, TableProviderFilterPushDown, col, lit};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::filter::FilterExecBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

/// The column every lake table carries and every scan is filtered on.
pub const TENANT_COLUMN: &str = "tenant_id";

/// The tenants whose rows a session may read.
///
/// Set by the server (trust mode: [`TenantScope::All`]; after authentication: the user's
/// grant) and narrowed by `SET chatlake.tenant`; never by SQL directly.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TenantScope {
    /// Every tenant: no filter.
    All,
    /// Only these tenant ids (an empty set: no rows of any table).
    Only(BTreeSet<String>),
}

impl TenantScope {
    /// A scope of exactly these tenants.
    pub fn only<I, S>(tenants: I) -> TenantScope
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        TenantScope::Only(tenants.into_iter().map(Into::into).collect())
    }

    /// Whether rows of `tenant` are visible.
    pub fn allows(&self, tenant: &str) -> bool {
        match self {
            TenantScope::All => true,
            TenantScope::Only(set) => set.contains(tenant),
        }
    }

    /// Whether this scope sees every tenant.
    pub fn is_all(&self) -> bool {
        matches!(self, TenantScope::All)
    }

    /// The scope narrowed to `tenant`, or `None` when `tenant` is outside this scope.
    pub fn narrow(&self, tenant: &str) -> Option<TenantScope> {
        self.allows(tenant)
            .then(|| TenantScope::only([tenant.to_string()]))
    }
}

impl fmt::Display for TenantScope {
    /// `*` for all tenants, else the tenant ids in order, comma-separated (what `SHOW
    /// chatlake.tenant` answers).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TenantScope::All => f.write_str("*"),
            TenantScope::Only(set) => {
                let ids: Vec<&str> = set.iter().map(String::as_str).collect();
                f.write_str(&ids.join(","))
            }
        }
    }
}

/// Sets the scope of `ctx` (the scans of every later statement of this session use it).
pub fn set_scope(ctx: &SessionContext, scope: TenantScope) {
    ctx.state_ref()
        .write()
        .config_mut()
        .set_extension(Arc::new(scope));
}

/// `config` with `scope` set.
pub fn with_scope(config: SessionConfig, scope: TenantScope) -> SessionConfig {
    config.with_extension(Arc::new(scope))
}

/// The scope of a session (`None`: none was set; scans of wrapped tables then fail).
pub fn scope_of(state: &dyn Session) -> Option<Arc<TenantScope>> {
    state.config().get_extension::<TenantScope>()
}

/// A lake table whose every scan sees only the rows of the scanning session's tenants.
pub struct TenantScoped {
    name: String,
    inner: Arc<dyn TableProvider>,
    /// Index of `tenant_id` in the table's schema.
    tenant_column: usize,
}

impl fmt::Debug for TenantScoped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantScoped")
            .field("name", &self.name)
            .finish()
    }
}

impl TenantScoped {
    /// Wraps `inner` (table `name`); an error when it has no `tenant_id` column.
    pub fn new(name: &str, inner: Arc<dyn TableProvider>) -> DfResult<TenantScoped> {
        let Ok(tenant_column) = inner.schema().index_of(TENANT_COLUMN) else {
            return plan_err!(
                "lake table '{name}' has no {TENANT_COLUMN} column, so tenant isolation cannot filter it"
            );
        };
        Ok(TenantScoped {
            name: name.to_string(),
            inner,
            tenant_column,
        })
    }

    /// The wrapped provider.
    pub fn inner(&self) -> &Arc<dyn TableProvider> {
        &self.inner
    }

    /// `tenant_id IN (tenants)`, with literals of the column's own type (no coercion needed).
    fn predicate(&self, tenants: &BTreeSet<String>) -> DfResult<Expr> {
        let schema = self.inner.schema();
        let data_type = schema.field(self.tenant_column).data_type();
        let values = tenants
            .iter()
            .map(|t| Ok(lit(ScalarValue::Utf8(Some(t.clone())).cast_to(data_type)?)))
            .collect::<DfResult<Vec<_>>>()?;
        Ok(col(TENANT_COLUMN).in_list(values, false))
    }
}

#[async_trait]
impl TableProvider for TenantScoped {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn get_logical_plan(&self) -> Option<Cow<'_, LogicalPlan>> {
        None
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let Some(scope) = scope_of(state) else {
            return Err(DataFusionError::Internal(format!(
                "scan of '{}' in a session without a tenant scope",
                self.name
            )));
        };
        let tenants = match scope.as_ref() {
            TenantScope::All => return self.inner.scan(state, projection, filters, limit).await,
            TenantScope::Only(tenants) => tenants,
        };
        let output_schema = match projection {
            Some(p) => Arc::new(self.schema().project(p)?),
            None => self.schema(),
        };
        if tenants.is_empty() {
            return Ok(Arc::new(EmptyExec::new(output_schema)));
        }
        // Read tenant_id even when the query does not: the filter needs it.
        let inner_projection: Option<Vec<usize>> = projection.map(|p| {
            let mut columns = p.clone();
            if !columns.contains(&self.tenant_column) {
                columns.push(self.tenant_column);
            }
            columns
        });
        let predicate = self.predicate(tenants)?;
        let mut inner_filters = filters.to_vec();
        inner_filters.push(predicate.clone());
        let scan = self
            .inner
            .scan(state, inner_projection.as_ref(), &inner_filters, None)
            .await?;
        let scan_schema = scan.schema();
        let df_schema = DFSchema::try_from(scan_schema.as_ref().clone())?;
        let physical = state.create_physical_expr(predicate, &df_schema)?;
        // Back to the columns asked for, in their order.
        let keep = match projection {
            Some(p) => Some(
                p.iter()
                    .map(|&i| scan_schema.index_of(self.schema().field(i).name()))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        let filter = FilterExecBuilder::new(physical, scan)
            .apply_projection(keep)?
            .build()?;
        Ok(Arc::new(filter))
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // The query's own filters: as the inner table handles them (the tenant predicate is
        // added in `scan`, whatever the answer here).
        self.inner.supports_filters_pushdown(filters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_semantics() {
        let all = TenantScope::All;
        let two = TenantScope::only(["t1", "t2"]);
        assert!(all.allows("anything"));
        assert!(two.allows("t1") && !two.allows("t3"));
        assert_eq!(two.narrow("t2"), Some(TenantScope::only(["t2"])));
        assert_eq!(two.narrow("t3"), None);
        assert_eq!(all.narrow("t9"), Some(TenantScope::only(["t9"])));
        assert_eq!(all.to_string(), "*");
        assert_eq!(two.to_string(), "t1,t2");
        assert_eq!(TenantScope::only(Vec::<String>::new()).to_string(), "");
    }
}
