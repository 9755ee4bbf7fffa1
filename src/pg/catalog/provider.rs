//! The `pg_catalog` schema provider: the `datafusion-pg-catalog` crate's tables, with ours
//! ([`super::information_schema`], [`super::pg_proc`]) answered first and the crate's array
//! columns retyped so clients' key and function queries plan.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::view::ViewTable;
use datafusion::catalog::{CatalogProviderList, SchemaProvider, TableProvider};
use datafusion::common::{Column, ScalarValue};
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, cast, col, lit};

use super::ROUTINES_TABLE;
use super::information_schema::{CatalogTable, OwnTable};
use super::pg_proc::{RoutineKind, RoutineTable, with_list_columns};
use crate::engine::computed::ComputedTable;

/// `pg_catalog`: the crate's provider, with our `pg_views` and the hidden
/// `information_schema` tables.
pub(super) struct PgCatalog {
    inner: Arc<dyn SchemaProvider>,
    catalog_list: Arc<dyn CatalogProviderList>,
}

impl fmt::Debug for PgCatalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgCatalog").finish_non_exhaustive()
    }
}

#[async_trait]
impl SchemaProvider for PgCatalog {
    fn table_names(&self) -> Vec<String> {
        self.inner.table_names()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if name.eq_ignore_ascii_case(ROUTINES_TABLE) {
            return Ok(Some(Arc::new(ComputedTable(RoutineTable::new(
                RoutineKind::Texts,
                None,
                None,
            )))));
        }
        match OwnTable::of(name) {
            Some(own) => Ok(Some(Arc::new(ComputedTable(CatalogTable::new(
                own,
                self.catalog_list.clone(),
            ))))),
            None => {
                let table = self.inner.table(name).await?;
                let extra = extra_columns(name);
                match table {
                    Some(table) if name.eq_ignore_ascii_case("pg_proc") => {
                        let namespaces = self.inner.table("pg_namespace").await?;
                        Ok(Some(Arc::new(ComputedTable(RoutineTable::new(
                            RoutineKind::Proc,
                            Some(table),
                            namespaces,
                        )))))
                    }
                    Some(table) if name.eq_ignore_ascii_case("pg_description") => {
                        Ok(Some(Arc::new(ComputedTable(RoutineTable::new(
                            RoutineKind::Description,
                            Some(table),
                            None,
                        )))))
                    }
                    Some(table) if !extra.is_empty() => Ok(Some(with_columns(table, name, extra)?)),
                    Some(table) if !array_columns(name).is_empty() => {
                        Ok(Some(keyless(table.schema(), array_columns(name))?))
                    }
                    other => Ok(other),
                }
            }
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case(ROUTINES_TABLE)
            || OwnTable::of(name).is_some()
            || self.inner.table_exist(name)
    }
}

/// Columns the crate's tables lack that clients select (always NULL here).
fn extra_columns(table: &str) -> &'static [&'static str] {
    match table.to_ascii_lowercase().as_str() {
        // psql \d and SQLAlchemy read reloptions; pgJDBC and psql \dp read relacl.
        "pg_class" => &["reloptions", "relacl"],
        _ => &[],
    }
}

/// The `int2vector`/`oidvector`/`int2[]`/`oid[]` columns of `pg_index` and `pg_constraint`,
/// with their element type (the crate stores them as text, which clients cannot `unnest`).
fn array_columns(table: &str) -> &'static [(&'static str, DataType)] {
    const INDEX: &[(&str, DataType)] = &[
        ("indkey", DataType::Int16),
        ("indcollation", DataType::Int32),
        ("indclass", DataType::Int32),
        ("indoption", DataType::Int16),
    ];
    const CONSTRAINT: &[(&str, DataType)] = &[
        ("conkey", DataType::Int16),
        ("confkey", DataType::Int16),
        ("conpfeqop", DataType::Int32),
        ("conppeqop", DataType::Int32),
        ("conffeqop", DataType::Int32),
        ("confdelsetcols", DataType::Int16),
        ("conexclop", DataType::Int32),
    ];
    match table.to_ascii_lowercase().as_str() {
        "pg_index" => INDEX,
        "pg_constraint" => CONSTRAINT,
        _ => &[],
    }
}

/// `pg_index` or `pg_constraint` for the lake: no rows (Delta tables have no keys, indexes or
/// constraints), the key columns typed as arrays so that `unnest(indkey)`, `conkey[1]` and
/// `= ANY(conkey)` plan. (The crate's rows describe PostgreSQL's own system tables, whose
/// OIDs are not those of our `pg_class`.)
fn keyless(schema: SchemaRef, arrays: &[(&str, DataType)]) -> Result<Arc<dyn TableProvider>> {
    let schema = with_list_columns(&schema, arrays);
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![]])?))
}

/// `table` with NULL `text[]` columns `extra` added (a view over it).
fn with_columns(
    table: Arc<dyn TableProvider>,
    name: &str,
    extra: &[&str],
) -> Result<Arc<dyn TableProvider>> {
    let text_array = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)));
    let mut columns: Vec<Expr> = table
        .schema()
        .fields()
        .iter()
        .map(|f| col(Column::new_unqualified(f.name())))
        .collect();
    for column in extra {
        columns.push(cast(lit(ScalarValue::Null), text_array.clone()).alias(*column));
    }
    let plan = LogicalPlanBuilder::scan(name, provider_as_source(table), None)?
        .project(columns)?
        .build()?;
    Ok(Arc::new(ViewTable::new(plan, None)))
}

impl PgCatalog {
    /// `inner` (the crate's provider) with our tables, over the catalogs of `catalog_list`.
    pub(super) fn new(
        inner: Arc<dyn SchemaProvider>,
        catalog_list: Arc<dyn CatalogProviderList>,
    ) -> Self {
        PgCatalog {
            inner,
            catalog_list,
        }
    }
}
