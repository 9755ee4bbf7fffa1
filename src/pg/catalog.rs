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
//! | `pg_catalog.pg_settings` | the settings every session starts with (`SHOW`/`current_setting` give the session's own values); read-only ones have context `internal` |
//! | `pg_catalog.pg_proc`, `pg_description` | PostgreSQL's builtin rows (array columns typed), then chatlake's SQL functions and reports with their descriptions ([`super::routines`]) |
//! | `pg_catalog._routines` (hidden) | argument and result texts of our functions, for `pg_get_function_arguments` & co. |
//! | `pg_catalog.pg_index`, `pg_constraint` | no rows (the lake has no keys or indexes), with `indkey`/`conkey` & co. typed as arrays so clients' key queries plan |
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

use arrow::array::{ArrayRef, BooleanArray, Int32Array, RecordBatch, StringArray};
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

use super::session::{DEFAULTS, READ_ONLY, server_version};
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

/// The hidden `pg_catalog` table with `pg_get_function_arguments` & co. of our functions.
pub(crate) const ROUTINES_TABLE: &str = "_routines";

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
    /// `pg_settings`: the settings every session starts with.
    Settings,
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
        if lower == "pg_settings" {
            return Some(OwnTable::Settings);
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
            OwnTable::Settings => {
                let mut fields: Vec<Field> = [
                    "name",
                    "setting",
                    "unit",
                    "category",
                    "short_desc",
                    "extra_desc",
                    "context",
                    "vartype",
                    "source",
                    "min_val",
                    "max_val",
                ]
                .map(text)
                .to_vec();
                fields.push(Field::new(
                    "enumvals",
                    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
                    true,
                ));
                fields.extend(["boot_val", "reset_val", "sourcefile"].map(text));
                fields.push(int("sourceline"));
                fields.push(Field::new("pending_restart", DataType::Boolean, true));
                fields
            }
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
        if name.eq_ignore_ascii_case(ROUTINES_TABLE) {
            return Ok(Some(Arc::new(RoutineTable::new(
                RoutineKind::Texts,
                None,
                None,
            ))));
        }
        match OwnTable::of(name) {
            Some(own) => Ok(Some(Arc::new(CatalogTable {
                table: own,
                catalog_list: self.catalog_list.clone(),
            }))),
            None => {
                let table = self.inner.table(name).await?;
                let extra = extra_columns(name);
                match table {
                    Some(table) if name.eq_ignore_ascii_case("pg_proc") => {
                        let namespaces = self.inner.table("pg_namespace").await?;
                        Ok(Some(Arc::new(RoutineTable::new(
                            RoutineKind::Proc,
                            Some(table),
                            namespaces,
                        ))))
                    }
                    Some(table) if name.eq_ignore_ascii_case("pg_description") => {
                        Ok(Some(Arc::new(RoutineTable::new(
                            RoutineKind::Description,
                            Some(table),
                            None,
                        ))))
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

/// `schema` with the text columns named in `arrays` retyped as lists of their element type.
fn with_list_columns(schema: &Schema, arrays: &[(&str, DataType)]) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match arrays.iter().find(|(name, _)| name == f.name()) {
            Some((_, element)) => Field::new(
                f.name(),
                DataType::List(Arc::new(Field::new_list_field(element.clone(), true))),
                true,
            ),
            None => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// The array columns of `pg_proc` (the crate stores them as text: `25 25`, `[2276]`,
/// `['i', 'o']`), with their element type.
const PROC_ARRAYS: &[(&str, DataType)] = &[
    ("proargtypes", DataType::Int32),
    ("proallargtypes", DataType::Int32),
    ("proargmodes", DataType::Utf8),
    ("proargnames", DataType::Utf8),
    ("protrftypes", DataType::Int32),
    ("proconfig", DataType::Utf8),
    ("proacl", DataType::Utf8),
];

/// Which of the tables listing functions a [`RoutineTable`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RoutineKind {
    /// `pg_proc`: builtin functions and ours.
    Proc,
    /// `pg_description`: builtin descriptions and our functions'.
    Description,
    /// `_routines`: `pg_get_function_arguments` & co. of our functions (see
    /// [`super::rewrite`]).
    Texts,
}

/// `pg_proc`, `pg_description` and the hidden `_routines`: PostgreSQL's builtin rows (the
/// crate's, exported from a real server) followed by chatlake's functions and reports
/// ([`super::routines`]). `pg_proc`'s `proargtypes`, `proargnames`, `proargmodes` … are typed
/// as arrays, so that pgcli's `proargtypes::regtype[]` and `unnest(proargnames)` plan.
struct RoutineTable {
    kind: RoutineKind,
    builtin: Option<Arc<dyn TableProvider>>,
    namespaces: Option<Arc<dyn TableProvider>>,
    schema: SchemaRef,
}

impl fmt::Debug for RoutineTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoutineTable")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The `pg_class` OID of `pg_proc` in PostgreSQL (`pg_description.classoid` of functions).
const PG_PROC_CLASS_OID: i32 = 1255;

impl RoutineTable {
    fn new(
        kind: RoutineKind,
        builtin: Option<Arc<dyn TableProvider>>,
        namespaces: Option<Arc<dyn TableProvider>>,
    ) -> Self {
        let schema = match (&kind, &builtin) {
            (RoutineKind::Texts, _) | (_, None) => Arc::new(Schema::new(vec![
                Field::new("oid", DataType::Int32, false),
                Field::new("arguments", DataType::Utf8, true),
                Field::new("identity_arguments", DataType::Utf8, true),
                Field::new("result", DataType::Utf8, true),
            ])),
            (RoutineKind::Proc, Some(table)) => with_list_columns(&table.schema(), PROC_ARRAYS),
            (RoutineKind::Description, Some(table)) => table.schema(),
        };
        RoutineTable {
            kind,
            builtin,
            namespaces,
            schema,
        }
    }

    /// The builtin rows, typed (computed once per process and table: they never change).
    async fn builtin_rows(&self, state: &dyn Session) -> Result<Vec<RecordBatch>> {
        static PROC: tokio::sync::OnceCell<Vec<RecordBatch>> = tokio::sync::OnceCell::const_new();
        static DESCRIPTION: tokio::sync::OnceCell<Vec<RecordBatch>> =
            tokio::sync::OnceCell::const_new();
        let (Some(builtin), cell) = (
            &self.builtin,
            match self.kind {
                RoutineKind::Proc => &PROC,
                RoutineKind::Description => &DESCRIPTION,
                RoutineKind::Texts => return Ok(Vec::new()),
            },
        ) else {
            return Ok(Vec::new());
        };
        cell.get_or_try_init(|| async {
            let plan = builtin.scan(state, None, &[], None).await?;
            let batches = datafusion::physical_plan::collect(plan, state.task_ctx()).await?;
            batches
                .iter()
                .map(|b| retype_lists(b, &self.schema))
                .collect::<Result<Vec<_>>>()
        })
        .await
        .cloned()
    }

    /// The OID of schema `public` (where our functions live), from `pg_namespace`.
    async fn public_namespace(&self, state: &dyn Session) -> Result<Option<i32>> {
        use arrow::array::{Array, AsArray};
        let Some(namespaces) = &self.namespaces else {
            return Ok(None);
        };
        let plan = namespaces.scan(state, None, &[], None).await?;
        let schema = namespaces.schema();
        let (Ok(oid), Ok(name)) = (schema.index_of("oid"), schema.index_of("nspname")) else {
            return Ok(None);
        };
        for batch in datafusion::physical_plan::collect(plan, state.task_ctx()).await? {
            let oids = arrow::compute::cast(batch.column(oid), &DataType::Int32)?;
            let names = arrow::compute::cast(batch.column(name), &DataType::Utf8)?;
            let (oids, names) = (
                oids.as_primitive::<arrow::datatypes::Int32Type>(),
                names.as_string::<i32>(),
            );
            for row in 0..batch.num_rows() {
                if !names.is_null(row) && names.value(row) == super::functions::SCHEMA {
                    return Ok(Some(oids.value(row)));
                }
            }
        }
        Ok(None)
    }

    /// Our rows, in this table's schema.
    async fn routine_rows(&self, state: &dyn Session) -> Result<Option<RecordBatch>> {
        let routines = super::routines::routines(state);
        if routines.is_empty() {
            return Ok(None);
        }
        let namespace = match self.kind {
            RoutineKind::Proc => self.public_namespace(state).await?,
            _ => None,
        };
        let columns = self
            .schema
            .fields()
            .iter()
            .map(|field| {
                let cells: Vec<ScalarValue> = routines
                    .iter()
                    .map(|r| {
                        let cell = match self.kind {
                            RoutineKind::Proc => proc_cell(field.name(), r, namespace),
                            RoutineKind::Description => description_cell(field.name(), r),
                            RoutineKind::Texts => text_cell(field.name(), r),
                        };
                        if cell.is_null() {
                            ScalarValue::try_from(field.data_type())
                        } else if &cell.data_type() == field.data_type() {
                            Ok(cell)
                        } else {
                            cell.cast_to(field.data_type())
                        }
                    })
                    .collect::<Result<_>>()?;
                if cells.is_empty() {
                    return Ok(arrow::array::new_empty_array(field.data_type()));
                }
                ScalarValue::iter_to_array(cells)
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        // pg_description has rows only for documented routines.
        if self.kind == RoutineKind::Description {
            let described = arrow::compute::is_not_null(batch.column(3))?;
            return Ok(Some(arrow::compute::filter_record_batch(
                &batch, &described,
            )?));
        }
        Ok(Some(batch))
    }
}

/// A text list cell.
fn text_list(values: impl IntoIterator<Item = String>) -> ScalarValue {
    let values: Vec<ScalarValue> = values.into_iter().map(ScalarValue::from).collect();
    ScalarValue::List(ScalarValue::new_list_nullable(&values, &DataType::Utf8))
}

/// An OID list cell.
fn oid_list(values: impl IntoIterator<Item = Type>) -> ScalarValue {
    let values: Vec<ScalarValue> = values
        .into_iter()
        .map(|t| ScalarValue::Int32(Some(i32::try_from(t.oid()).unwrap_or_default())))
        .collect();
    ScalarValue::List(ScalarValue::new_list_nullable(&values, &DataType::Int32))
}

fn oid_of(ty: &Type) -> ScalarValue {
    ScalarValue::Int32(Some(i32::try_from(ty.oid()).unwrap_or_default()))
}

/// One `pg_proc` cell of routine `r` (NULL for columns we have nothing to say about).
fn proc_cell(column: &str, r: &super::routines::Routine, namespace: Option<i32>) -> ScalarValue {
    use super::routines::Returns;
    let int = |v: i64| ScalarValue::Int64(Some(v));
    let text = |v: &str| ScalarValue::Utf8(Some(v.to_string()));
    let table = match &r.returns {
        Returns::Table(columns) => Some(columns),
        Returns::Value(_) => None,
    };
    let nargs = i64::try_from(r.args.len()).unwrap_or_default();
    match column {
        "oid" => ScalarValue::Int32(Some(r.oid)),
        "proname" => text(&r.name),
        "pronamespace" => ScalarValue::Int32(namespace),
        "proowner" => int(10),
        // SQL for reports, C for the Rust functions (`internal`: 12).
        "prolang" => int(if table.is_some() { 14 } else { 12 }),
        "procost" => ScalarValue::Float64(Some(1.0)),
        "prorows" => ScalarValue::Float64(Some(if table.is_some() { 1000.0 } else { 0.0 })),
        "provariadic" => match r.args.iter().find(|a| a.variadic) {
            Some(arg) => oid_of(&arg.ty),
            None => int(0),
        },
        "prosupport" => text("-"),
        "prokind" => text(&r.kind.to_string()),
        "prosecdef" | "proleakproof" | "proisstrict" => ScalarValue::Boolean(Some(false)),
        "proretset" => ScalarValue::Boolean(Some(table.is_some())),
        "provolatile" => text(&r.volatility.to_string()),
        "proparallel" => text("s"),
        "pronargs" => int(nargs),
        "pronargdefaults" => int(i64::try_from(
            r.args.iter().filter(|a| a.default.is_some()).count(),
        )
        .unwrap_or_default()),
        "prorettype" => oid_of(&r.return_type()),
        "proargtypes" => oid_list(r.args.iter().map(|a| a.ty.clone())),
        "proallargtypes" => match table {
            Some(columns) => oid_list(
                r.args
                    .iter()
                    .map(|a| a.ty.clone())
                    .chain(columns.iter().map(|(_, t)| t.clone())),
            ),
            None => ScalarValue::Null,
        },
        "proargmodes" => match table {
            Some(columns) => text_list(
                std::iter::repeat_n("i".to_string(), r.args.len())
                    .chain(std::iter::repeat_n("t".to_string(), columns.len())),
            ),
            None => ScalarValue::Null,
        },
        "proargnames" => {
            let inputs: Vec<String> = r
                .args
                .iter()
                .map(|a| a.name.clone().unwrap_or_default())
                .collect();
            match table {
                Some(columns) => text_list(
                    inputs
                        .into_iter()
                        .chain(columns.iter().map(|(n, _)| n.clone())),
                ),
                None if r.args.iter().any(|a| a.name.is_some()) => text_list(inputs),
                None => ScalarValue::Null,
            }
        }
        "prosrc" => text(&r.name),
        _ => ScalarValue::Null,
    }
}

/// One `pg_description` cell of routine `r`.
fn description_cell(column: &str, r: &super::routines::Routine) -> ScalarValue {
    match column {
        "objoid" => ScalarValue::Int32(Some(r.oid)),
        "classoid" => ScalarValue::Int32(Some(PG_PROC_CLASS_OID)),
        "objsubid" => ScalarValue::Int32(Some(0)),
        "description" => ScalarValue::Utf8(r.description.clone()),
        _ => ScalarValue::Null,
    }
}

/// One `_routines` cell of routine `r`.
fn text_cell(column: &str, r: &super::routines::Routine) -> ScalarValue {
    match column {
        "oid" => ScalarValue::Int32(Some(r.oid)),
        "arguments" => ScalarValue::Utf8(Some(r.arguments())),
        "identity_arguments" => ScalarValue::Utf8(Some(r.identity_arguments())),
        "result" => ScalarValue::Utf8(Some(r.result())),
        _ => ScalarValue::Null,
    }
}

#[async_trait]
impl TableProvider for RoutineTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
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
        let mut batches = self.builtin_rows(state).await?;
        batches.extend(self.routine_rows(state).await?);
        MemTable::try_new(self.schema(), vec![batches])?
            .scan(state, projection, filters, limit)
            .await
    }
}

/// `batch` with its text-encoded array columns parsed into the list columns of `schema`.
fn retype_lists(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, column)| match field.data_type() {
            DataType::List(element) if !matches!(column.data_type(), DataType::List(_)) => {
                text_to_list(column, element.data_type())
            }
            _ => Ok(column.clone()),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// Text renderings of arrays (`25 25`, `[1034, 26]`, `['acl', 'grantor']`, `{a,b}`) → a list
/// column of `element`s. NULL stays NULL; an element that does not parse is NULL.
fn text_to_list(column: &ArrayRef, element: &DataType) -> Result<ArrayRef> {
    use arrow::array::{Array, AsArray, Int32Builder, ListBuilder, StringBuilder};
    let text = arrow::compute::cast(column, &DataType::Utf8)?;
    let text = text.as_string::<i32>();
    let items = |value: &str| -> Vec<String> {
        let inner = value
            .trim()
            .trim_start_matches(['[', '{'])
            .trim_end_matches([']', '}']);
        let parts: Vec<&str> = if inner.contains(',') {
            inner.split(',').collect()
        } else {
            inner.split_whitespace().collect()
        };
        parts
            .into_iter()
            .map(|p| p.trim().trim_matches(['\'', '"']).to_string())
            .filter(|p| !p.is_empty())
            .collect()
    };
    let field = Arc::new(Field::new_list_field(element.clone(), true));
    if element == &DataType::Int32 {
        let mut builder = ListBuilder::new(Int32Builder::new()).with_field(field);
        for i in 0..text.len() {
            if text.is_null(i) {
                builder.append_null();
                continue;
            }
            for item in items(text.value(i)) {
                builder.values().append_option(item.parse::<i32>().ok());
            }
            builder.append(true);
        }
        Ok(Arc::new(builder.finish()))
    } else {
        let mut builder = ListBuilder::new(StringBuilder::new()).with_field(field);
        for i in 0..text.len() {
            if text.is_null(i) {
                builder.append_null();
                continue;
            }
            for item in items(text.value(i)) {
                builder.values().append_value(item);
            }
            builder.append(true);
        }
        Ok(Arc::new(builder.finish()))
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
    Bool(Option<bool>),
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
                match field.data_type() {
                    DataType::Int32 => {
                        Arc::new(Int32Array::from_iter(cells.into_iter().map(|c| match c {
                            Cell::Int(v) => v,
                            Cell::Text(_) | Cell::Bool(_) => None,
                        })))
                    }
                    DataType::Boolean => Arc::new(BooleanArray::from_iter(cells.into_iter().map(
                        |c| match c {
                            Cell::Bool(v) => v,
                            Cell::Text(_) | Cell::Int(_) => None,
                        },
                    ))),
                    DataType::Utf8 => {
                        Arc::new(StringArray::from_iter(cells.into_iter().map(|c| match c {
                            Cell::Text(v) => v,
                            Cell::Int(v) => v.map(|v| v.to_string()),
                            Cell::Bool(v) => v.map(|v| v.to_string()),
                        })))
                    }
                    // Other types (`enumvals`): always NULL here.
                    other => arrow::array::new_null_array(other, cells.len()),
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
            OwnTable::Settings => {
                for (name, value) in DEFAULTS {
                    let value = if *name == "server_version" {
                        server_version()
                    } else {
                        (*value).to_string()
                    };
                    let read_only = READ_ONLY.contains(name);
                    let mut row: Vec<Cell> = vec![(*name).into(), value.clone().into()];
                    row.extend([NULL, NULL, NULL, NULL]);
                    row.push(if read_only { "internal" } else { "user" }.into());
                    row.push("string".into());
                    row.push("default".into());
                    row.extend([NULL, NULL, NULL]);
                    row.push(value.clone().into());
                    row.push(value.into());
                    row.push(NULL);
                    row.push(Cell::Int(None));
                    row.push(Cell::Bool(Some(false)));
                    rows.push(row);
                }
            }
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
