//! Where result columns come from: the table OID and column number `RowDescription` carries
//! for a column that is a plain reference to a table's column (PostgreSQL's `resorigtbl` /
//! `resorigcol`), matching `pg_attribute.attrelid` / `attnum`. pgJDBC's
//! `ResultSetMetaData.getTableName`/`isNullable`, and tools that edit result grids, read them.
//!
//! A column is traced through projections (a column or an alias of one), filters, sorts,
//! limits, `DISTINCT`, subquery aliases and joins down to the scan of a base table. Computed
//! columns, aggregates, unions, views and everything else have no origin (0, as in
//! PostgreSQL for expressions).

use std::collections::HashMap;

use datafusion::common::{Column, TableReference};
use datafusion::datasource::TableType;
use datafusion::logical_expr::{Expr, LogicalPlan};

/// The base-table column a result column is, if it is one: the table and the 0-based index
/// of the column in the table's schema.
pub(crate) type Origin = (TableReference, usize);

/// The origin of every output column of `plan` (`None` for computed columns).
pub(crate) fn column_origins(plan: &LogicalPlan) -> Vec<Option<Origin>> {
    (0..plan.schema().fields().len())
        .map(|i| origin(plan, i, 0))
        .collect()
}

/// Deep plans are not worth tracing (and recursion must stay bounded).
const MAX_DEPTH: usize = 64;

fn origin(plan: &LogicalPlan, index: usize, depth: usize) -> Option<Origin> {
    if depth > MAX_DEPTH {
        return None;
    }
    match plan {
        LogicalPlan::Projection(projection) => {
            let column = plain_column(projection.expr.get(index)?)?;
            let input = projection.input.as_ref();
            let at = input.schema().index_of_column(column).ok()?;
            origin(input, at, depth + 1)
        }
        LogicalPlan::Filter(filter) => origin(&filter.input, index, depth + 1),
        LogicalPlan::Sort(sort) => origin(&sort.input, index, depth + 1),
        LogicalPlan::Limit(limit) => origin(&limit.input, index, depth + 1),
        LogicalPlan::SubqueryAlias(alias) => origin(&alias.input, index, depth + 1),
        LogicalPlan::Distinct(datafusion::logical_expr::Distinct::All(input)) => {
            origin(input, index, depth + 1)
        }
        LogicalPlan::Join(join) => {
            let left = join.left.schema().fields().len();
            let right = join.right.schema().fields().len();
            // Semi and anti joins output one side only; inner and outer joins both, left first.
            if plan.schema().fields().len() != left + right {
                return None;
            }
            if index < left {
                origin(&join.left, index, depth + 1)
            } else {
                origin(&join.right, index - left, depth + 1)
            }
        }
        LogicalPlan::TableScan(scan) => {
            if scan.source.table_type() != TableType::Base {
                return None;
            }
            let column = match &scan.projection {
                Some(projection) => *projection.get(index)?,
                None => index,
            };
            Some((scan.table_name.clone(), column))
        }
        _ => None,
    }
}

/// `col` or `col AS name`.
fn plain_column(expr: &Expr) -> Option<&Column> {
    match expr {
        Expr::Column(column) => Some(column),
        Expr::Alias(alias) => plain_column(&alias.expr),
        _ => None,
    }
}

/// `pg_class` OIDs of relations, by (schema, name), as the catalog numbers them.
#[derive(Debug, Default)]
pub(crate) struct RelationOids {
    oids: HashMap<(String, String), i32>,
}

impl RelationOids {
    /// The OID of `schema.name`, if known.
    pub fn get(&self, schema: &str, name: &str) -> Option<i32> {
        self.oids
            .get(&(schema.to_string(), name.to_string()))
            .copied()
    }

    /// Replaces the known OIDs with `oids`.
    pub fn replace(&mut self, oids: HashMap<(String, String), i32>) {
        self.oids = oids;
    }
}

/// The schema and name `table` refers to, with `default_schema` for bare names.
pub(crate) fn schema_and_name(table: &TableReference, default_schema: &str) -> (String, String) {
    (
        table.schema().unwrap_or(default_schema).to_string(),
        table.table().to_string(),
    )
}
