//! The Postgres system catalog clients introspect: `pg_catalog` and a Postgres-flavoured
//! `information_schema`, installed on every connection's session.
//!
//! Most of `pg_catalog` comes from the `datafusion-pg-catalog` crate: 70 tables, the static ones
//! (`pg_type`, `pg_proc`, `pg_am`, `pg_range`, …) exported from a real PostgreSQL, the dynamic
//! ones (`pg_class`, `pg_namespace`, `pg_attribute`, `pg_database`) built from our DataFusion
//! catalog at every scan, plus its catalog functions and a type planner for `::regclass` & co.
//! This module adds what that crate lacks:
//!
//! | Object | Source |
//! |---|---|
//! | `pg_catalog.pg_views` | every view of the catalog, with its SQL text (the crate's is empty) |
//! | `information_schema.columns` | every column, `data_type` in Postgres spelling (`bigint`, `text`, `timestamp with time zone`) — DataFusion's own prints Arrow names |
//! | `information_schema.tables`, `.views`, `.schemata` | from the catalog, Postgres columns |
//! | `information_schema.table_constraints`, `.key_column_usage`, `.referential_constraints`, `.constraint_column_usage` | empty (the lake has no keys), with Postgres columns |
//! | functions | see [`super::functions`] (`obj_description`, `pg_get_indexdef`, `current_setting`, …) |
//!
//! `information_schema.routines`, `.parameters` and `.df_settings` stay DataFusion's (they
//! document the SQL functions). The Postgres-flavoured `information_schema` tables live in
//! `pg_catalog` under hidden names (`_is_columns`, …): DataFusion answers every
//! `information_schema.*` reference itself, so [`super::rewrite`] points client queries at ours.
//!
//! OIDs: builtin objects keep PostgreSQL's (`pg_catalog` = 11, `text` = 25, …); tables and views
//! are numbered from 16384 by the crate, stable for the life of the server process (one
//! `pg_catalog` provider per catalog, shared by every connection of an engine).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use arrow::array::{ArrayRef, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::view::ViewTable;
use datafusion::catalog::{CatalogProviderList, SchemaProvider, Session, TableProvider};
use datafusion::common::{Column, ScalarValue};
use datafusion::datasource::provider_as_source;
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, cast, col, lit};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_pg_catalog::pg_catalog::generate_series_arg_coercion::CoerceIntArgsToBigInt;
use datafusion_pg_catalog::pg_catalog::oid_type_planner::PgOidTypePlanner;
use datafusion_pg_catalog::pg_catalog::{
    self as pgc, PgCatalogSchemaProvider, PgCatalogStaticTables,
};
use pgwire::api::Type;

use super::types::column_type;

/// Name of the system schema.
pub const PG_CATALOG: &str = "pg_catalog";

/// The `information_schema` tables answered by this module (the rest are DataFusion's).
pub(crate) const INFORMATION_SCHEMA_TABLES: &[&str] = &[
    "columns",
    "tables",
    "views",
    "schemata",
    "table_constraints",
    "key_column_usage",
    "referential_constraints",
    "constraint_column_usage",
];

/// The hidden `pg_catalog` name of our `information_schema.<table>`.
pub(crate) fn information_schema_alias(table: &str) -> String {
    format!("_is_{table}")
}

/// The static tables, parsed once per process (they are the same for every catalog).
fn static_tables() -> Result<Arc<PgCatalogStaticTables>> {
    static TABLES: OnceLock<Arc<PgCatalogStaticTables>> = OnceLock::new();
    if let Some(tables) = TABLES.get() {
        return Ok(tables.clone());
    }
    let tables = Arc::new(PgCatalogStaticTables::try_new()?);
    Ok(TABLES.get_or_init(|| tables).clone())
}

/// Installs `pg_catalog`, the catalog functions and the `::regclass`-style type names on `ctx`.
///
/// The `pg_catalog` schema is registered in the session's default catalog once: a catalog
/// shared by many sessions (the engine's) keeps one provider, hence stable OIDs.
pub fn install(ctx: &SessionContext) -> Result<()> {
    let catalog_name = ctx
        .state()
        .config()
        .options()
        .catalog
        .default_catalog
        .clone();
    let catalog = ctx.catalog(&catalog_name).ok_or_else(|| {
        DataFusionError::Configuration(format!("no catalog {catalog_name} to add pg_catalog to"))
    })?;
    if catalog.schema(PG_CATALOG).is_none() {
        let catalog_list = ctx.state().catalog_list().clone();
        let inner = PgCatalogSchemaProvider::try_new(
            catalog_list.clone(),
            static_tables()?,
            // By value: the crate's `Arc<T>` provider recurses forever on `pg_roles`.
            EmptyContextProvider,
        )?;
        catalog.register_schema(
            PG_CATALOG,
            Arc::new(PgCatalog {
                inner: Arc::new(inner),
                catalog_list,
            }),
        )?;
    }

    let tables = static_tables()?;
    ctx.register_udf(pgc::create_current_schemas_udf());
    ctx.register_udf(pgc::create_pg_get_userbyid_udf());
    for name in [
        "has_table_privilege",
        "has_schema_privilege",
        "has_database_privilege",
        "has_any_column_privilege",
        "has_column_privilege",
        "has_function_privilege",
        "has_sequence_privilege",
    ] {
        ctx.register_udf(pgc::has_privilege_udf::create_has_privilege_udf(name));
    }
    ctx.register_udf(pgc::create_pg_table_is_visible());
    ctx.register_udf(pgc::format_type::create_format_type_udf());
    ctx.register_udtf("pg_get_keywords", tables.pg_get_keywords.clone());
    ctx.register_udf(pgc::pg_get_expr_udf::create_pg_get_expr_udf());
    ctx.register_udf(pgc::create_pg_get_partkeydef_udf());
    ctx.register_udf(pgc::create_pg_relation_is_publishable_udf());
    ctx.register_udf(pgc::create_pg_get_statisticsobjdef_columns_udf());
    ctx.register_udf(pgc::create_pg_encoding_to_char_udf());
    ctx.register_udf(pgc::create_pg_relation_size_udf());
    ctx.register_udf(pgc::create_pg_total_relation_size_udf());
    ctx.register_udf(pgc::create_pg_stat_get_numscans());
    ctx.register_udf(pgc::create_pg_get_constraintdef());
    ctx.register_udf(pgc::create_pg_get_partition_ancestors_udf());
    ctx.register_udf(pgc::quote_ident_udf::create_quote_ident_udf());
    ctx.register_udf(pgc::quote_ident_udf::create_parse_ident_udf());
    ctx.register_udf(pgc::array_bounds_udf::create_array_upper_udf());
    ctx.register_udf(pgc::array_bounds_udf::create_array_lower_udf());

    // `regclass`, `regtype`, `regproc`, `oid` … as type names in casts.
    let state = ctx.state_ref();
    let existing = state.read().clone();
    *state.write() = SessionStateBuilder::new_from_existing(existing)
        .with_type_planner(Arc::new(PgOidTypePlanner))
        .build();
    // `generate_series(1, n)` with int4 bounds (DataFusion's wants int8 literals).
    CoerceIntArgsToBigInt::widen(ctx);
    Ok(())
}

/// `pg_catalog`: the crate's provider, with our `pg_views` and the hidden
/// `information_schema` tables.
struct PgCatalog {
    inner: Arc<dyn SchemaProvider>,
    catalog_list: Arc<dyn CatalogProviderList>,
}

impl fmt::Debug for PgCatalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgCatalog").finish_non_exhaustive()
    }
}

/// Which of our own tables a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OwnTable {
    PgViews,
    Columns,
    Tables,
    Views,
    Schemata,
    /// An `information_schema` table with no rows (constraints and keys).
    Empty(&'static str),
}

impl OwnTable {
    fn of(name: &str) -> Option<OwnTable> {
        let lower = name.to_ascii_lowercase();
        if lower == "pg_views" {
            return Some(OwnTable::PgViews);
        }
        let table = lower.strip_prefix("_is_")?;
        Some(match table {
            "columns" => OwnTable::Columns,
            "tables" => OwnTable::Tables,
            "views" => OwnTable::Views,
            "schemata" => OwnTable::Schemata,
            other => OwnTable::Empty(INFORMATION_SCHEMA_TABLES.iter().find(|t| **t == other)?),
        })
    }

    fn schema(self) -> SchemaRef {
        let text = |name: &str| Field::new(name, DataType::Utf8, true);
        let int = |name: &str| Field::new(name, DataType::Int32, true);
        let fields = match self {
            OwnTable::PgViews => vec![
                text("schemaname"),
                text("viewname"),
                text("viewowner"),
                text("definition"),
            ],
            OwnTable::Columns => {
                let mut fields = vec![
                    text("table_catalog"),
                    text("table_schema"),
                    text("table_name"),
                    text("column_name"),
                    int("ordinal_position"),
                    text("column_default"),
                    text("is_nullable"),
                    text("data_type"),
                    int("character_maximum_length"),
                    int("character_octet_length"),
                    int("numeric_precision"),
                    int("numeric_precision_radix"),
                    int("numeric_scale"),
                    int("datetime_precision"),
                    text("interval_type"),
                    int("interval_precision"),
                ];
                fields.extend(
                    [
                        "character_set_catalog",
                        "character_set_schema",
                        "character_set_name",
                        "collation_catalog",
                        "collation_schema",
                        "collation_name",
                        "domain_catalog",
                        "domain_schema",
                        "domain_name",
                        "udt_catalog",
                        "udt_schema",
                        "udt_name",
                        "scope_catalog",
                        "scope_schema",
                        "scope_name",
                    ]
                    .map(text),
                );
                fields.push(int("maximum_cardinality"));
                fields.push(text("dtd_identifier"));
                fields.push(text("is_self_referencing"));
                fields.push(text("is_identity"));
                fields.extend(
                    [
                        "identity_generation",
                        "identity_start",
                        "identity_increment",
                        "identity_maximum",
                        "identity_minimum",
                        "identity_cycle",
                        "is_generated",
                        "generation_expression",
                        "is_updatable",
                    ]
                    .map(text),
                );
                fields
            }
            OwnTable::Tables => [
                "table_catalog",
                "table_schema",
                "table_name",
                "table_type",
                "self_referencing_column_name",
                "reference_generation",
                "user_defined_type_catalog",
                "user_defined_type_schema",
                "user_defined_type_name",
                "is_insertable_into",
                "is_typed",
                "commit_action",
            ]
            .map(text)
            .to_vec(),
            OwnTable::Views => [
                "table_catalog",
                "table_schema",
                "table_name",
                "view_definition",
                "check_option",
                "is_updatable",
                "is_insertable_into",
                "is_trigger_updatable",
                "is_trigger_deletable",
                "is_trigger_insertable_into",
            ]
            .map(text)
            .to_vec(),
            OwnTable::Schemata => [
                "catalog_name",
                "schema_name",
                "schema_owner",
                "default_character_set_catalog",
                "default_character_set_schema",
                "default_character_set_name",
                "sql_path",
            ]
            .map(text)
            .to_vec(),
            OwnTable::Empty(table) => empty_table_columns(table).map(text).collect(),
        };
        Arc::new(Schema::new(fields))
    }
}

fn empty_table_columns(table: &str) -> impl Iterator<Item = &'static str> {
    let columns: &[&str] = match table {
        "table_constraints" => &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "constraint_type",
            "is_deferrable",
            "initially_deferred",
            "enforced",
            "nulls_distinct",
        ],
        "key_column_usage" => &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "ordinal_position",
            "position_in_unique_constraint",
        ],
        "referential_constraints" => &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "unique_constraint_catalog",
            "unique_constraint_schema",
            "unique_constraint_name",
            "match_option",
            "update_rule",
            "delete_rule",
        ],
        _ => &[
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
        ],
    };
    columns.iter().copied()
}

#[async_trait]
impl SchemaProvider for PgCatalog {
    fn table_names(&self) -> Vec<String> {
        self.inner.table_names()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        match OwnTable::of(name) {
            Some(own) => Ok(Some(Arc::new(CatalogTable {
                table: own,
                catalog_list: self.catalog_list.clone(),
            }))),
            None => {
                let table = self.inner.table(name).await?;
                let extra = extra_columns(name);
                match table {
                    Some(table) if !extra.is_empty() => Ok(Some(with_columns(table, name, extra)?)),
                    other => Ok(other),
                }
            }
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        OwnTable::of(name).is_some() || self.inner.table_exist(name)
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

/// One of our tables, computed from the catalog at every scan.
struct CatalogTable {
    table: OwnTable,
    catalog_list: Arc<dyn CatalogProviderList>,
}

impl fmt::Debug for CatalogTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CatalogTable")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TableProvider for CatalogTable {
    fn schema(&self) -> SchemaRef {
        self.table.schema()
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
        let rows = self.rows().await?;
        let batch = rows.into_batch(self.schema())?;
        MemTable::try_new(self.schema(), vec![vec![batch]])?
            .scan(state, projection, filters, limit)
            .await
    }
}

/// Text / int cells of rows under construction, one vector per column.
struct Rows {
    columns: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone)]
enum Cell {
    Text(Option<String>),
    Int(Option<i32>),
}

impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Cell::Text(Some(value.to_string()))
    }
}

impl From<String> for Cell {
    fn from(value: String) -> Self {
        Cell::Text(Some(value))
    }
}

impl From<Option<String>> for Cell {
    fn from(value: Option<String>) -> Self {
        Cell::Text(value)
    }
}

impl From<Option<i32>> for Cell {
    fn from(value: Option<i32>) -> Self {
        Cell::Int(value)
    }
}

const NULL: Cell = Cell::Text(None);

impl Rows {
    fn new(width: usize) -> Self {
        Rows {
            columns: vec![Vec::new(); width],
        }
    }

    fn push(&mut self, row: Vec<Cell>) {
        for (column, cell) in self.columns.iter_mut().zip(row) {
            column.push(cell);
        }
    }

    fn into_batch(self, schema: SchemaRef) -> Result<RecordBatch> {
        let arrays: Vec<ArrayRef> = schema
            .fields()
            .iter()
            .zip(self.columns)
            .map(|(field, cells)| -> ArrayRef {
                if field.data_type() == &DataType::Int32 {
                    Arc::new(Int32Array::from_iter(cells.into_iter().map(|c| match c {
                        Cell::Int(v) => v,
                        Cell::Text(_) => None,
                    })))
                } else {
                    Arc::new(StringArray::from_iter(cells.into_iter().map(|c| match c {
                        Cell::Text(v) => v,
                        Cell::Int(v) => v.map(|v| v.to_string()),
                    })))
                }
            })
            .collect();
        if arrays.is_empty() {
            return Ok(RecordBatch::new_empty(schema));
        }
        Ok(RecordBatch::try_new(schema, arrays)?)
    }
}

/// One relation of the catalog, as the catalog tables see it.
struct Relation {
    catalog: String,
    schema: String,
    name: String,
    provider: Arc<dyn TableProvider>,
}

impl CatalogTable {
    /// Every user relation (tables and views outside `pg_catalog`), sorted by schema and name.
    async fn relations(&self) -> Result<Vec<Relation>> {
        let mut found = BTreeMap::new();
        for catalog_name in self.catalog_list.catalog_names() {
            let Some(catalog) = self.catalog_list.catalog(&catalog_name) else {
                continue;
            };
            for schema_name in catalog.schema_names() {
                if schema_name == PG_CATALOG {
                    continue;
                }
                let Some(schema) = catalog.schema(&schema_name) else {
                    continue;
                };
                for table_name in schema.table_names() {
                    if let Some(provider) = schema.table(&table_name).await? {
                        found.insert(
                            (
                                catalog_name.clone(),
                                schema_name.clone(),
                                table_name.clone(),
                            ),
                            provider,
                        );
                    }
                }
            }
        }
        Ok(found
            .into_iter()
            .map(|((catalog, schema, name), provider)| Relation {
                catalog,
                schema,
                name,
                provider,
            })
            .collect())
    }

    async fn rows(&self) -> Result<Rows> {
        let width = self.table.schema().fields().len();
        let mut rows = Rows::new(width);
        match self.table {
            OwnTable::Empty(_) => {}
            OwnTable::Schemata => {
                for catalog_name in self.catalog_list.catalog_names() {
                    let Some(catalog) = self.catalog_list.catalog(&catalog_name) else {
                        continue;
                    };
                    let mut schemas = catalog.schema_names();
                    schemas.push("information_schema".into());
                    schemas.sort();
                    schemas.dedup();
                    for schema in schemas {
                        rows.push(vec![
                            catalog_name.as_str().into(),
                            schema.into(),
                            "postgres".into(),
                            NULL,
                            NULL,
                            NULL,
                            NULL,
                        ]);
                    }
                }
            }
            OwnTable::PgViews | OwnTable::Views => {
                for r in self.relations().await? {
                    if r.provider.table_type() != TableType::View {
                        continue;
                    }
                    let definition = r.provider.get_table_definition().map(view_query);
                    if self.table == OwnTable::PgViews {
                        rows.push(vec![
                            r.schema.into(),
                            r.name.into(),
                            "postgres".into(),
                            definition.into(),
                        ]);
                    } else {
                        rows.push(vec![
                            r.catalog.into(),
                            r.schema.into(),
                            r.name.into(),
                            definition.into(),
                            "NONE".into(),
                            "NO".into(),
                            "NO".into(),
                            "NO".into(),
                            "NO".into(),
                            "NO".into(),
                        ]);
                    }
                }
            }
            OwnTable::Tables => {
                for r in self.relations().await? {
                    let kind = match r.provider.table_type() {
                        TableType::View => "VIEW",
                        TableType::Temporary => "LOCAL TEMPORARY",
                        TableType::Base => "BASE TABLE",
                    };
                    let mut row = vec![
                        r.catalog.into(),
                        r.schema.into(),
                        r.name.into(),
                        kind.into(),
                    ];
                    row.extend([NULL, NULL, NULL, NULL, NULL]);
                    row.push("NO".into());
                    row.push("NO".into());
                    row.push(NULL);
                    rows.push(row);
                }
            }
            OwnTable::Columns => {
                for r in self.relations().await? {
                    let schema = r.provider.schema();
                    for (i, field) in schema.fields().iter().enumerate() {
                        let ty = column_type(field.data_type()).pg;
                        let info = type_info(&ty, field.data_type());
                        let position = i32::try_from(i + 1).unwrap_or(i32::MAX);
                        let mut row: Vec<Cell> = vec![
                            r.catalog.as_str().into(),
                            r.schema.as_str().into(),
                            r.name.as_str().into(),
                            field.name().as_str().into(),
                            Some(position).into(),
                            NULL,
                            if field.is_nullable() { "YES" } else { "NO" }.into(),
                            info.data_type.into(),
                            Cell::Int(None),
                            info.octet_length.into(),
                            info.precision.into(),
                            info.radix.into(),
                            info.scale.into(),
                            info.datetime_precision.into(),
                            NULL,
                            Cell::Int(None),
                        ];
                        row.extend([NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL]);
                        row.push(r.catalog.as_str().into());
                        row.push(PG_CATALOG.into());
                        row.push(info.udt_name.into());
                        row.extend([NULL, NULL, NULL]);
                        row.push(Cell::Int(None));
                        row.push(Some(position.to_string()).into());
                        row.push("NO".into());
                        row.push("NO".into());
                        row.extend([NULL, NULL, NULL, NULL, NULL, "NO".into()]);
                        row.push("NEVER".into());
                        row.push(NULL);
                        row.push(if r.provider.table_type() == TableType::View {
                            "NO".into()
                        } else {
                            "YES".into()
                        });
                        rows.push(row);
                    }
                }
            }
        }
        Ok(rows)
    }
}

/// The query of a view definition (`CREATE VIEW v AS SELECT …` → `SELECT …`), as
/// `pg_get_viewdef` and `pg_views.definition` show it.
fn view_query(definition: &str) -> String {
    use datafusion::sql::sqlparser::ast::Statement;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;
    match Parser::parse_sql(&PostgreSqlDialect {}, definition)
        .ok()
        .and_then(|mut s| s.pop())
    {
        Some(Statement::CreateView(view)) => view.query.to_string(),
        _ => definition.to_string(),
    }
}

/// What `information_schema.columns` says about a Postgres type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeInfo {
    /// `data_type`: the SQL name (`bigint`, `timestamp with time zone`, `ARRAY`).
    pub data_type: &'static str,
    /// `udt_name`: the `pg_type.typname` (`int8`, `timestamptz`, `_text`).
    pub udt_name: String,
    precision: Option<i32>,
    radix: Option<i32>,
    scale: Option<i32>,
    datetime_precision: Option<i32>,
    octet_length: Option<i32>,
}

/// The `information_schema` description of a column of Postgres type `ty` (Arrow `arrow`).
pub(crate) fn type_info(ty: &Type, arrow: &DataType) -> TypeInfo {
    let (data_type, precision, radix, scale, datetime_precision) = match *ty {
        Type::BOOL => ("boolean", None, None, None, None),
        Type::INT2 => ("smallint", Some(16), Some(2), Some(0), None),
        Type::INT4 => ("integer", Some(32), Some(2), Some(0), None),
        Type::INT8 => ("bigint", Some(64), Some(2), Some(0), None),
        Type::FLOAT4 => ("real", Some(24), Some(2), None, None),
        Type::FLOAT8 => ("double precision", Some(53), Some(2), None, None),
        Type::NUMERIC => {
            let (p, s) = match arrow {
                DataType::Decimal32(p, s)
                | DataType::Decimal64(p, s)
                | DataType::Decimal128(p, s)
                | DataType::Decimal256(p, s) => (Some(i32::from(*p)), Some(i32::from(*s))),
                DataType::UInt64 => (Some(20), Some(0)),
                _ => (None, None),
            };
            ("numeric", p, Some(10), s, None)
        }
        Type::TEXT => ("text", None, None, None, None),
        Type::BYTEA => ("bytea", None, None, None, None),
        Type::DATE => ("date", None, None, None, Some(0)),
        Type::TIME => ("time without time zone", None, None, None, Some(6)),
        Type::TIMESTAMP => ("timestamp without time zone", None, None, None, Some(6)),
        Type::TIMESTAMPTZ => ("timestamp with time zone", None, None, None, Some(6)),
        Type::INTERVAL => ("interval", None, None, None, Some(6)),
        _ if ty.name().starts_with('_') => ("ARRAY", None, None, None, None),
        _ => ("text", None, None, None, None),
    };
    let octet_length = (*ty == Type::TEXT).then_some(1_073_741_824);
    let udt_name = if data_type == "text" && *ty != Type::TEXT {
        "text".to_string()
    } else {
        ty.name().to_string()
    };
    TypeInfo {
        data_type,
        udt_name,
        precision,
        radix,
        scale,
        datetime_precision,
        octet_length,
    }
}

/// `true` for a table column that this module can describe (used by tests).
#[cfg(test)]
fn describes(arrow: &DataType) -> bool {
    let ty = column_type(arrow).pg;
    !type_info(&ty, arrow).data_type.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::TimeUnit;

    #[test]
    fn information_schema_type_names_are_postgres_names() {
        let name = |t: DataType| type_info(&column_type(&t).pg, &t).data_type;
        assert_eq!(name(DataType::Int64), "bigint");
        assert_eq!(name(DataType::Utf8View), "text");
        assert_eq!(
            name(DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into())
            )),
            "timestamp with time zone"
        );
        assert_eq!(
            name(DataType::Timestamp(TimeUnit::Microsecond, None)),
            "timestamp without time zone"
        );
        assert_eq!(name(DataType::Float64), "double precision");
        assert_eq!(name(DataType::Boolean), "boolean");
        let info = type_info(&Type::NUMERIC, &DataType::Decimal128(12, 2));
        assert_eq!(
            (info.precision, info.scale, info.udt_name.as_str()),
            (Some(12), Some(2), "numeric")
        );
        assert!(describes(&DataType::Date32));
    }

    #[test]
    fn hidden_names() {
        assert_eq!(OwnTable::of("_is_columns"), Some(OwnTable::Columns));
        assert_eq!(
            OwnTable::of("_is_key_column_usage"),
            Some(OwnTable::Empty("key_column_usage"))
        );
        assert_eq!(OwnTable::of("_is_nope"), None);
        assert_eq!(OwnTable::of("pg_class"), None);
    }

    #[tokio::test]
    async fn catalog_answers_client_queries() -> Result<()> {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE t (id BIGINT, name VARCHAR)")
            .await?
            .collect()
            .await?;
        ctx.sql("CREATE VIEW v AS SELECT id FROM t")
            .await?
            .collect()
            .await?;
        install(&ctx)?;
        let batches = ctx
            .sql(
                "SELECT column_name, data_type FROM pg_catalog._is_columns \
                 WHERE table_name = 't' ORDER BY ordinal_position",
            )
            .await?
            .collect()
            .await?;
        let text = arrow::util::pretty::pretty_format_batches(&batches)?.to_string();
        assert!(text.contains("| id          | bigint    |"), "{text}");
        assert!(text.contains("| name        | text      |"), "{text}");
        let batches = ctx
            .sql("SELECT viewname, definition FROM pg_catalog.pg_views")
            .await?
            .collect()
            .await?;
        let text = arrow::util::pretty::pretty_format_batches(&batches)?.to_string();
        assert!(text.contains("SELECT id FROM t"), "{text}");
        let batches = ctx
            .sql("SELECT relname FROM pg_catalog.pg_class WHERE relkind = 'r' AND relname = 't'")
            .await?
            .collect()
            .await?;
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
        Ok(())
    }
}
