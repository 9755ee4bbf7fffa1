//! The key of a statement's answer, or why it has none.
//!
//! A key is text, compared whole (no hash, so two different statements can never share an
//! entry). Its lines are:
//!
//! | line | what it pins down |
//! |---|---|
//! | the logical plan, parameters bound (`display_indent_schema`) | the statement: its tables, columns, filters, literals and output types; two spellings of one query share it |
//! | `lake <table> @ <version>` per scan of a lake table | the data: the Delta version its scan reads now; a commit moves it, so an entry is never stale |
//! | `empty <table>` | a table the lake did not have when the server started (it reads as empty) |
//! | `view <name>` and the view's own plan | what the view means now (a view replaced under the same name is another key) |
//! | `report <name>(param = literal, ...)` | a report call resolved as it would run now: default range from today in its zone, the channel's zone looked up; the tables its body, lets and zone lookup read follow as `lake` lines |
//! | `tenants <scope>` | the session's tenant scope ([`crate::engine::tenant`]): two tenants never share an entry |
//! | `set <name> = <value>` per DataFusion setting that differs from the engine's | `TimeZone` (`datafusion.execution.time_zone`) and anything else a session changed |
//!
//! Not in the key: the pg output settings (`DateStyle`, `extra_float_digits`, `bytea_output`,
//! the client's result formats) and `search_path` (stored and shown only): the cache holds Arrow
//! batches, which are encoded for each client as they leave.
//!
//! **No key (bypass)**, with the reason `EXPLAIN` shows: a function that is not `Immutable`
//! (`now()`, `current_date`, `random()`, `uuid()`, `current_user`, `current_setting()`: DataFusion's
//! `Volatility` of every scalar, aggregate and window function in the plan, its views and the
//! report bodies it calls), a session variable or unbound parameter, a scan of anything that is
//! not a lake table, view or report (the pg catalog, `information_schema`, `generate_series`,
//! `chatlake_cache_stats()`: their answer has no version to pin), and statements that are not
//! queries (DDL, DML, `SET`, `EXPLAIN` itself, plan extensions).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::catalog::view::ViewTable;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::MemTable;
use datafusion::datasource::source_as_provider;
use datafusion::error::Result as DfResult;
use datafusion::execution::SessionState;
use datafusion::logical_expr::expr::{AggregateFunction, ScalarFunction, WindowFunction};
use datafusion::logical_expr::{Expr, LogicalPlan, Volatility, WindowFunctionDefinition};

use crate::engine::reports::ReportCall;
use crate::engine::tenant::{self, TenantScoped};
use crate::lake::provider::LakeTable;

/// What the cache makes of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Keyed {
    /// Its answer is decided by this key.
    Key(Arc<str>),
    /// It is not cached, for this reason.
    Bypass(String),
}

/// The DataFusion settings of a new session of the engine, to find what a session changed.
pub(super) type BaseSettings = BTreeMap<String, Option<String>>;

/// The settings of `state`'s configuration, by name.
pub(super) fn settings_of(options: &datafusion::config::ConfigOptions) -> BaseSettings {
    options
        .entries()
        .into_iter()
        .map(|entry| (entry.key, entry.value))
        .collect()
}

/// The key of `plan` (parameters bound) run by `state`, or why it has none.
pub(super) async fn key_of(
    state: &SessionState,
    plan: &LogicalPlan,
    base: &BaseSettings,
) -> DfResult<Keyed> {
    let mut walk = Walk::default();
    walk.plan(plan, true)?;
    if let Some(reason) = walk.bypass {
        return Ok(Keyed::Bypass(reason));
    }
    // Resolve report calls with a fresh clock, as the execution about to start will.
    let mut now = state.clone();
    now.mark_start_execution();
    let mut key = String::new();
    // One look at each table's log per key, however often the plan reads it.
    let mut versions: BTreeMap<String, Option<u64>> = BTreeMap::new();
    for part in walk.parts {
        match part {
            Part::Text(text) => key.push_str(&text),
            Part::Lake(name, provider) => {
                let version = match (versions.get(&name), provider.downcast_ref::<LakeTable>()) {
                    (Some(known), _) => *known,
                    (None, Some(table)) => table.version().await?,
                    (None, None) => None,
                };
                versions.insert(name.clone(), version);
                let _ = write!(key, "lake {name} @ {version:?}");
            }
            Part::Report(provider) => {
                if let Some(call) = ReportCall::of(provider.as_ref()) {
                    key.push_str("report ");
                    key.push_str(&call.resolved(&now).await?);
                }
            }
        }
        key.push('\n');
    }
    let scope = tenant::scope_of(state);
    let _ = writeln!(key, "tenants {scope:?}");
    for (name, value) in settings_of(state.config().options()) {
        if base.get(&name) != Some(&value) {
            let _ = writeln!(key, "set {name} = {value:?}");
        }
    }
    Ok(Keyed::Key(Arc::from(key)))
}

/// One piece of a key, in plan order; lake versions and report calls are looked up after the
/// (synchronous) walk.
enum Part {
    Text(String),
    /// A lake table (its name and the `LakeTable` under the tenant wrapper).
    Lake(String, Arc<dyn TableProvider>),
    /// A report call's provider.
    Report(Arc<dyn TableProvider>),
}

/// The walk over a plan, its subqueries, views and report bodies.
#[derive(Default)]
struct Walk {
    parts: Vec<Part>,
    /// The first reason found not to cache.
    bypass: Option<String>,
}

impl Walk {
    fn refuse(&mut self, reason: String) -> TreeNodeRecursion {
        self.bypass.get_or_insert(reason);
        TreeNodeRecursion::Stop
    }

    /// Walks `plan`; `display` adds its text to the key (report bodies are keyed by their call
    /// instead: their start-up plan holds sample values).
    fn plan(&mut self, plan: &LogicalPlan, display: bool) -> DfResult<()> {
        if display {
            self.parts
                .push(Part::Text(plan.display_indent_schema().to_string()));
        }
        plan.apply_with_subqueries(|node| {
            if let Some(what) = not_a_query(node) {
                return Ok(self.refuse(format!("{what} is not a query")));
            }
            node.apply_expressions(|expr| {
                expr.apply(|e| {
                    Ok(match unstable(e) {
                        Some(reason) => self.refuse(reason),
                        None => TreeNodeRecursion::Continue,
                    })
                })
            })?;
            if self.bypass.is_some() {
                return Ok(TreeNodeRecursion::Stop);
            }
            if let LogicalPlan::TableScan(scan) = node {
                let name = scan.table_name.to_string();
                let provider = source_as_provider(&scan.source)?;
                self.scan(&name, provider)?;
            }
            Ok(if self.bypass.is_some() {
                TreeNodeRecursion::Stop
            } else {
                TreeNodeRecursion::Continue
            })
        })?;
        Ok(())
    }

    /// Adds what one scanned table contributes to the key.
    fn scan(&mut self, name: &str, provider: Arc<dyn TableProvider>) -> DfResult<()> {
        if let Some(scoped) = provider.downcast_ref::<TenantScoped>() {
            let inner = scoped.inner().clone();
            if inner.is::<LakeTable>() {
                self.parts.push(Part::Lake(name.to_string(), inner));
            } else if inner.is::<MemTable>() {
                self.parts.push(Part::Text(format!("empty {name}")));
            } else {
                self.refuse(format!("{name} is a table of unknown kind"));
            }
        } else if let Some(view) = provider.downcast_ref::<ViewTable>() {
            self.parts.push(Part::Text(format!("view {name}")));
            self.plan(view.logical_plan(), true)?;
        } else if let Some(call) = ReportCall::of(provider.as_ref()) {
            let reads = call.reads();
            self.parts.push(Part::Report(provider.clone()));
            for plan in reads {
                self.plan(plan, false)?;
            }
        } else {
            self.refuse(format!(
                "it reads {name}, which is not a lake table, view or report"
            ));
        }
        Ok(())
    }
}

/// The kind of statement `node` is, when it is not part of a query.
fn not_a_query(node: &LogicalPlan) -> Option<&'static str> {
    match node {
        LogicalPlan::Statement(_) => Some("a session statement"),
        LogicalPlan::Dml(_) => Some("a data change"),
        LogicalPlan::Ddl(_) => Some("a definition (DDL)"),
        LogicalPlan::Copy(_) => Some("COPY to a file"),
        LogicalPlan::Explain(_) | LogicalPlan::Analyze(_) => Some("EXPLAIN"),
        LogicalPlan::DescribeTable(_) => Some("DESCRIBE"),
        LogicalPlan::Extension(_) => Some("a plan extension"),
        _ => None,
    }
}

/// Why `expr` (not its children) can answer differently from one run to the next, if it can.
fn unstable(expr: &Expr) -> Option<String> {
    let (name, volatility) = match expr {
        Expr::ScalarFunction(ScalarFunction { func, .. }) => {
            (func.name().to_string(), func.signature().volatility)
        }
        Expr::AggregateFunction(AggregateFunction { func, .. }) => {
            (func.name().to_string(), func.signature().volatility)
        }
        Expr::WindowFunction(window) => {
            let WindowFunction { fun, .. } = window.as_ref();
            match fun {
                WindowFunctionDefinition::AggregateUDF(f) => {
                    (f.name().to_string(), f.signature().volatility)
                }
                WindowFunctionDefinition::WindowUDF(f) => {
                    (f.name().to_string(), f.signature().volatility)
                }
            }
        }
        Expr::ScalarVariable(..) => return Some("it reads a session variable".to_string()),
        Expr::Placeholder(p) => return Some(format!("parameter {} is not bound", p.id)),
        _ => return None,
    };
    match volatility {
        Volatility::Immutable => None,
        Volatility::Stable => Some(format!(
            "{name}() depends on the moment or the session (stable)"
        )),
        Volatility::Volatile => Some(format!("{name}() is volatile")),
    }
}
