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
//! | `pg_catalog.pg_proc`, `pg_description` | PostgreSQL's builtin rows (array columns typed), then chatlake's SQL functions and reports with their descriptions ([`routines`]) |
//! | `pg_catalog._routines` (hidden) | argument and result texts of our functions, for `pg_get_function_arguments` & co. |
//! | `pg_catalog.pg_index`, `pg_constraint` | no rows (the lake has no keys or indexes), with `indkey`/`conkey` & co. typed as arrays so clients' key queries plan |
//! | `information_schema.columns` | every column, `data_type` in Postgres spelling (`bigint`, `text`, `timestamp with time zone`) — DataFusion's own prints Arrow names |
//! | `information_schema.tables`, `.views`, `.schemata` | from the catalog, Postgres columns |
//! | `information_schema.table_constraints`, `.key_column_usage`, `.referential_constraints`, `.constraint_column_usage` | empty (the lake has no keys), with Postgres columns |
//! | functions | see [`functions`] (`obj_description`, `pg_get_indexdef`, `current_setting`, …) |
//!
//! `information_schema.routines`, `.parameters` and `.df_settings` stay DataFusion's (they
//! document the SQL functions). The Postgres-flavoured `information_schema` tables live in
//! `pg_catalog` under hidden names (`_is_columns`, …): DataFusion answers every
//! `information_schema.*` reference itself, so `sql::rewrite` points client queries at ours.
//!
//! OIDs: builtin objects keep PostgreSQL's (`pg_catalog` = 11, `text` = 25, …); tables and views
//! are numbered from 16384 by the crate, stable for the life of the server process (one
//! `pg_catalog` provider per catalog, shared by every connection of an engine).
//!
//! | File | Job |
//! |---|---|
//! | `mod.rs` | [`install`]: the schema, the crate's catalog functions, the `::regclass` type planner |
//! | `provider.rs` | the `pg_catalog` schema provider: which table a name is, the crate's tables retyped |
//! | `pg_proc.rs` | `pg_proc`, `pg_description`, `_routines`: builtin rows, then ours |
//! | [`routines`] | chatlake's functions and reports as `pg_proc` rows, read from the session's function registry |
//! | `information_schema.rs` | the tables computed from the catalog at every scan: `information_schema.*`, `pg_views`, `pg_settings` |
//! | [`functions`] | the Postgres functions clients call (`version()`, `current_setting`, catalog helpers, `json_build_object`), one file per group |
//!
//! Depends on `session` (the settings of `pg_settings`) and `wire::types` (type names); nothing
//! here depends on `sql` or `wire`'s handlers.

use std::sync::{Arc, OnceLock};

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_pg_catalog::pg_catalog::generate_series_arg_coercion::CoerceIntArgsToBigInt;
use datafusion_pg_catalog::pg_catalog::oid_type_planner::PgOidTypePlanner;
use datafusion_pg_catalog::pg_catalog::{
    self as pgc, PgCatalogSchemaProvider, PgCatalogStaticTables,
};

use provider::PgCatalog;

pub(crate) mod functions;
mod information_schema;
mod pg_proc;
mod provider;
pub mod routines;

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
            Arc::new(PgCatalog::new(Arc::new(inner), catalog_list)),
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

#[cfg(test)]
mod tests {
    use super::*;

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
