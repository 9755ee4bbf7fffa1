//! The query engine: one DataFusion catalog over the lake, and a fresh session per connection.
//!
//! `Engine::open` registers, in order:
//! 1. every lake table of [`crate::lake::schema`] as a [`LakeTable`] (newest Delta snapshot on
//!    every scan, `dt` partition pruning through the Delta log);
//! 2. the SQL functions of the `chatlake-udfs` crate ([`chatlake_udfs::register_all`]);
//! 3. the views and report functions written as `.sql` files ([`sql_files`]).
//!
//! [`derived`] stores the rows of the costliest derived views (`derived_conversations`,
//! `derived_message_outcomes`) in the lake at write time, through an engine over the lake being
//! written.
//!
//! [`Engine::new_session`] gives each client connection its own `SessionContext` (its own
//! settings, so a `SET` on one connection never leaks into another) over the shared catalog,
//! runtime (object stores, memory pool, caches) and functions.
//!
//! [`memory`]: a user's `memory_limit` caps the sessions it logs in to at a share of the shared
//! memory pool ([`memory::capped_runtime`]).
//!
//! [`session_zone`]: `date_trunc`, `extract`, `to_char` and `::date` over `timestamptz`
//! columns compute in the session's `TimeZone` (kept in `datafusion.execution.time_zone` by the
//! pg server), as in PostgreSQL.
//!
//! [`admission`]: with [`EngineConfig::max_concurrent_queries`], at most that many statements
//! of all sessions execute at once, the rest wait in a queue fair per tenant and user
//! (`chatlake_activity()` lists both); [`limits`] has the server's defaults for it and for the
//! memory pool.
//! [`result_cache`]: one exact result cache per engine, in every session's configuration (so
//! pgwire, the query API and the console share it), with `chatlake_cache_stats()`.
//!
//! [`computed`]: one `TableProvider` for tables whose rows are computed when scanned
//! (`pg_proc`'s routines, `information_schema`, `chatlake_activity()`).
//!
//! [`tenant`]: every lake table is registered wrapped in [`tenant::TenantScoped`], so each scan
//! sees only the rows of the scanning session's [`tenant::TenantScope`] (all tenants for
//! [`Engine::new_session`], a grant for [`Engine::new_scoped_session`]).

pub mod admission;
pub mod computed;
pub mod derived;
pub mod limits;
pub mod memory;
pub mod reports;
pub mod result_cache;
pub mod session_zone;
pub mod sql_files;
pub mod tenant;

use std::sync::Arc;

use datafusion::catalog::{
    CatalogProvider, MemoryCatalogProvider, MemorySchemaProvider, SchemaProvider,
};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::config::EngineConfig;
use crate::error::{Error, Result};
use crate::lake::provider::LakeTable;
use crate::lake::{Lake, schema};
use reports::{ReportDef, ReportFunction};
use result_cache::{CacheStatsFunction, ResultCache};
use sql_files::SqlFiles;
use tenant::{TenantScope, TenantScoped};

/// Name of the catalog (the Postgres database) every table lives in.
pub const CATALOG: &str = "chatlake";
/// Name of the schema tables, views and reports live in.
pub const SCHEMA: &str = "public";

/// The shared part of every session: lake, catalog, runtime and settings.
#[derive(Debug, Clone)]
pub struct Engine {
    lake: Lake,
    catalog: Arc<MemoryCatalogProvider>,
    runtime: Arc<RuntimeEnv>,
    session_config: SessionConfig,
    reports: Arc<Vec<Arc<ReportDef>>>,
    admission: Option<Arc<admission::Admission>>,
    result_cache: Arc<ResultCache>,
}

impl Engine {
    /// Opens the lake described by `config` and registers all tables, functions and SQL files.
    ///
    /// Fails with one clear error if the lake cannot be reached or a table is missing.
    pub async fn open(config: &EngineConfig) -> Result<Engine> {
        let lake = Lake::open(&config.lake, &config.store)?;
        Engine::open_lake(lake, config).await
    }

    /// Like [`Engine::open`], over an already opened `lake` (`config.lake` and `config.store`
    /// are not used).
    pub async fn open_lake(lake: Lake, config: &EngineConfig) -> Result<Engine> {
        let runtime = build_runtime(config, &lake)?;
        let admission = config.max_concurrent_queries.map(admission::Admission::new);
        let mut session_config = session_config(config);
        if let Some(admission) = &admission {
            session_config = admission::install(session_config, admission.clone());
        }
        let result_cache = Arc::new(ResultCache::new(config.result_cache_bytes, &session_config));

        let public = Arc::new(MemorySchemaProvider::new());
        let mut missing = Vec::new();
        for def in schema::tables() {
            match LakeTable::open(&lake, def.name).await {
                Ok(table) => {
                    let scoped =
                        TenantScoped::new(def.name, Arc::new(table)).map_err(Error::DataFusion)?;
                    public
                        .register_table(def.name.to_string(), Arc::new(scoped))
                        .map_err(Error::DataFusion)?;
                }
                // A lake written before these tables existed: they read as empty.
                Err(Error::MissingTable { .. }) if schema::ADDED_LATER.contains(&def.name) => {
                    let empty =
                        datafusion::datasource::MemTable::try_new(def.delta_schema(), vec![vec![]])
                            .map_err(Error::DataFusion)?;
                    let scoped =
                        TenantScoped::new(def.name, Arc::new(empty)).map_err(Error::DataFusion)?;
                    public
                        .register_table(def.name.to_string(), Arc::new(scoped))
                        .map_err(Error::DataFusion)?;
                }
                Err(Error::MissingTable { table, .. }) => missing.push(table),
                Err(e) => return Err(e),
            }
        }
        if missing.len() == schema::tables().len() - schema::ADDED_LATER.len() {
            return Err(Error::Config(format!(
                "no chatlake lake at {}: none of its tables exist (write one with `chatlake generate --lake {}`)",
                lake.root(),
                config.lake
            )));
        }
        let derived = |name: &str| schema::table(name).is_some_and(|def| def.derived);
        if let Some(table) = missing.iter().find(|name| !derived(name)) {
            return Err(Error::MissingTable {
                table: table.clone(),
                location: lake.root().to_string(),
            });
        }
        if let Some(table) = missing.into_iter().next() {
            return Err(Error::MissingDerivedTable {
                table,
                location: lake.root().to_string(),
            });
        }
        let catalog = Arc::new(MemoryCatalogProvider::new());
        catalog
            .register_schema(SCHEMA, public)
            .map_err(Error::DataFusion)?;

        let files = SqlFiles::load(config.sql_dir.as_deref())?;
        let mut engine = Engine {
            lake,
            catalog,
            runtime,
            session_config,
            reports: Arc::new(Vec::new()),
            admission,
            result_cache,
        };
        // Views are catalog objects: create them once, through a session, into the shared catalog.
        let ctx = engine.new_session();
        sql_files::create_views(&ctx, &files.views).await?;
        // Reports are table functions: parsed and planned once, registered on every session.
        engine.reports = Arc::new(reports::prepare(&ctx, &files.reports).await?);
        Ok(engine)
    }

    /// A new session for one client: its own settings over the shared tables and functions,
    /// seeing every tenant ([`TenantScope::All`]; trust mode, tools, derivations).
    pub fn new_session(&self) -> SessionContext {
        self.new_scoped_session(TenantScope::All)
    }

    /// A new session that sees only the rows of `scope`'s tenants, in every table, view and
    /// report (see [`tenant`]). The pg server narrows it further on `SET chatlake.tenant`.
    pub fn new_scoped_session(&self, scope: TenantScope) -> SessionContext {
        let config = tenant::with_scope(self.session_config.clone(), scope);
        let config = result_cache::with_cache(config, self.result_cache.clone());
        let ctx = SessionContext::new_with_config_rt(config, self.runtime.clone());
        ctx.register_catalog(CATALOG, self.catalog.clone());
        ctx.add_analyzer_rule(Arc::new(session_zone::SessionZone));
        chatlake_udfs::register_all(&ctx);
        admission::activity::register(&ctx, "");
        for report in self.reports.iter() {
            ctx.register_udtf(&report.name, Arc::new(ReportFunction::new(report.clone())));
        }
        ctx.register_udtf(
            result_cache::STATS_FUNCTION,
            Arc::new(CacheStatsFunction::new(self.result_cache.clone())),
        );
        ctx
    }

    /// The report table functions (name, parameters, output columns), for catalogs and docs.
    pub fn reports(&self) -> &[Arc<ReportDef>] {
        &self.reports
    }

    /// The admission control of this engine's sessions (`None`: statements run unqueued).
    pub fn admission(&self) -> Option<&Arc<admission::Admission>> {
        self.admission.as_ref()
    }

    /// The result cache shared by this engine's sessions.
    pub fn result_cache(&self) -> &Arc<ResultCache> {
        &self.result_cache
    }

    /// The lake this engine reads.
    pub fn lake(&self) -> &Lake {
        &self.lake
    }
}

/// Opens the engine and returns one session: the shortest way to query a lake from Rust.
pub async fn build_session(config: &EngineConfig) -> Result<SessionContext> {
    Ok(Engine::open(config).await?.new_session())
}

fn session_config(config: &EngineConfig) -> SessionConfig {
    let mut session = SessionConfig::new()
        .with_information_schema(true)
        .with_default_catalog_and_schema(CATALOG, SCHEMA)
        .with_create_default_catalog_and_schema(false);
    if let Some(partitions) = config.target_partitions {
        session = session.with_target_partitions(partitions);
    }
    let options = session.options_mut();
    options.execution.parquet.pushdown_filters = true;
    options.execution.parquet.reorder_filters = true;
    session
}

fn build_runtime(config: &EngineConfig, lake: &Lake) -> Result<Arc<RuntimeEnv>> {
    let mut builder = RuntimeEnvBuilder::new();
    if let Some(limit) = config.memory_limit {
        builder = builder.with_memory_limit(limit, 1.0);
    }
    let runtime = builder.build_arc().map_err(Error::DataFusion)?;
    runtime.register_object_store(lake.store_url(), lake.object_store());
    Ok(runtime)
}
