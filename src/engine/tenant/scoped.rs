//! [`TenantScoped`]: a lake table whose every scan sees only the rows of the scanning session's
//! tenants.
//!
//! How [`TenantScoped::scan`] builds the scan, for a scope `Only(ids)`:
//!
//! | step | what happens |
//! |---|---|
//! | predicate | `tenant_id IN (ids)`, `tenant_id = id` for one (an empty set: no rows at all) |
//! | pushed down | handed to the Delta scan with the query's *leak-proof* filters: file skipping on statistics, Parquet row-group / page pruning and the row filter see it, so a tenant's query reads little more than its rows |
//! | guaranteed | a `FilterExec` with the same predicate over the scan's output, so correctness never depends on how the inner scan applies a pushed filter |
//! | sealed | a [`TenantGuardExec`] on top: the query's own filters and expressions run above it, on the tenant's rows only |
//! | projection | `tenant_id` is read even when the query does not ask for it, and projected away after the filter |
//! | limit | not passed down (a limit under a filter could cut rows before filtering) |
//! | no scope | a session without a scope fails closed: the scan is an error |
//!
//! **Leak-proof filters.** A filter evaluated on another tenant's row must not be able to tell
//! anything about it, and an error is a message: `1 / (CASE WHEN tenant_id = 'B' AND body_text
//! LIKE 'a%' THEN 0 ELSE 1 END) = 1` would fail exactly when tenant B has such a row. So only
//! filters built from columns, constants, comparisons, `AND`/`OR`/`NOT`, `IN` lists, `BETWEEN`
//! and `IS [NOT] NULL` (which cannot fail) are offered to the inner scan
//! ([`is_leak_proof`]); every other filter stays above the guard, evaluated on the tenant's
//! rows. That keeps what pruning needs (`dt`, `ts`, ids against constants).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchema, ScalarValue, plan_err};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{Expr, Operator, TableProviderFilterPushDown, col, lit};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::filter::FilterExecBuilder;

use super::{TENANT_COLUMN, TenantGuardExec, TenantScope, scope_of};

/// A lake table whose every scan sees only the rows of the scanning session's tenants (see
/// the module docs).
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

    /// `tenant_id IN (tenants)` (`=` for one), with literals of the column's own type (no coercion needed).
    fn predicate(&self, tenants: &BTreeSet<String>) -> DfResult<Expr> {
        let schema = self.inner.schema();
        let data_type = schema.field(self.tenant_column).data_type();
        let values = tenants
            .iter()
            .map(|t| Ok(lit(ScalarValue::Utf8(Some(t.clone())).cast_to(data_type)?)))
            .collect::<DfResult<Vec<_>>>()?;
        // One tenant (the common case): a plain equality, which every pruning path knows.
        match <[Expr; 1]>::try_from(values) {
            Ok([value]) => Ok(col(TENANT_COLUMN).eq(value)),
            Err(values) => Ok(col(TENANT_COLUMN).in_list(values, false)),
        }
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
        // Only leak-proof filters reach here (`supports_filters_pushdown`); checked again so
        // that a change there cannot open a side channel.
        let mut inner_filters: Vec<Expr> = filters
            .iter()
            .filter(|f| is_leak_proof(f))
            .cloned()
            .collect();
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
        Ok(Arc::new(TenantGuardExec::new(Arc::new(filter))))
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Leak-proof filters: as the inner table handles them. The others stay above the scan
        // (the tenant predicate is added in `scan`, whatever the answer here).
        let inner = self.inner.supports_filters_pushdown(filters)?;
        Ok(filters
            .iter()
            .zip(inner)
            .map(|(filter, answer)| {
                if is_leak_proof(filter) {
                    answer
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }
}

/// Whether evaluating `expr` on a row can neither fail nor otherwise tell anything but its
/// boolean answer: columns, constants (no column inside: they fail or not whatever the row),
/// comparisons, `AND`/`OR`/`NOT`, `IN` lists, `BETWEEN`, `IS [NOT] NULL/TRUE/FALSE`.
pub fn is_leak_proof(expr: &Expr) -> bool {
    if is_constant(expr) {
        return true;
    }
    match expr {
        Expr::Column(_) => true,
        Expr::Alias(alias) => is_leak_proof(&alias.expr),
        Expr::BinaryExpr(binary) => {
            matches!(
                binary.op,
                Operator::Eq
                    | Operator::NotEq
                    | Operator::Lt
                    | Operator::LtEq
                    | Operator::Gt
                    | Operator::GtEq
                    | Operator::And
                    | Operator::Or
                    | Operator::IsDistinctFrom
                    | Operator::IsNotDistinctFrom
            ) && is_leak_proof(&binary.left)
                && is_leak_proof(&binary.right)
        }
        Expr::Not(e)
        | Expr::IsNull(e)
        | Expr::IsNotNull(e)
        | Expr::IsTrue(e)
        | Expr::IsFalse(e)
        | Expr::IsUnknown(e)
        | Expr::IsNotTrue(e)
        | Expr::IsNotFalse(e)
        | Expr::IsNotUnknown(e) => is_leak_proof(e),
        Expr::Between(between) => {
            is_leak_proof(&between.expr)
                && is_leak_proof(&between.low)
                && is_leak_proof(&between.high)
        }
        Expr::InList(in_list) => {
            is_leak_proof(&in_list.expr) && in_list.list.iter().all(is_leak_proof)
        }
        _ => false,
    }
}

/// An expression that reads no column and holds no subquery: its value (or its error) does not
/// depend on the row.
fn is_constant(expr: &Expr) -> bool {
    let mut constant = true;
    let _ = expr.apply(|e| {
        if matches!(
            e,
            Expr::Column(_)
                | Expr::OuterReferenceColumn(..)
                | Expr::ScalarSubquery(_)
                | Expr::Exists(_)
                | Expr::InSubquery(_)
                | Expr::SetComparison(..)
                | Expr::Placeholder(_)
        ) {
            constant = false;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    constant
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::functions::expr_fn::lower;
    use datafusion::logical_expr::cast;

    #[test]
    fn leak_proof_filters() {
        let tenant = || col("tenant_id");
        assert!(is_leak_proof(&tenant().eq(lit("a"))));
        assert!(is_leak_proof(
            &col("dt")
                .between(lit("2026-01-01"), lit("2026-02-01"))
                .and(!col("x").is_null())
        ));
        assert!(is_leak_proof(
            &tenant().in_list(vec![lit("a"), lit("b")], false)
        ));
        assert!(is_leak_proof(&col("a").lt(col("b")).or(lit(true))));
        // Constants may be anything: they fail or not whatever the row.
        assert!(is_leak_proof(&col("n").eq(lit(1) / lit(0))));
        // Arithmetic, casts and functions of columns may fail on a row: kept above the guard.
        assert!(!is_leak_proof(&(lit(1) / col("n")).eq(lit(1))));
        assert!(!is_leak_proof(
            &cast(
                col("body_text"),
                datafusion::arrow::datatypes::DataType::Int32
            )
            .eq(lit(1))
        ));
        assert!(!is_leak_proof(&lower(tenant()).eq(lit("a"))));
        assert!(!is_leak_proof(&col("s").like(lit("a%"))));
    }
}
