//! The cost of tenant isolation (issue 18, goal: within 5%): a query run by a session granted
//! one tenant against the same query with an explicit `WHERE tenant_id = ...` on an all-tenants
//! session.
//!
//! `cargo test --bench tenant_filter` (or `cargo bench --bench tenant_filter` for a release
//! build) generates a lake (4 tenants, 120 days ending 2026-10-31, as the peer harness), opens
//! the engine and, for each query, alternates the two forms, checks they answer the same rows,
//! and prints the median time of each and their ratio:
//!
//! - **scoped**: the query as written, on `Engine::new_scoped_session(Only(tenant))`;
//! - **explicit**: the same query planned on an all-tenants session, with `Filter(tenant_id =
//!   tenant)` put over every scan of a lake table in its logical plan (views expanded first), the
//!   plan then optimised as usual: exactly what a hand-written `WHERE tenant_id = ...` on each
//!   table gives, for any query.
//!
//! The queries are the peer set's (`benches/peers/queries.py`) that read tables and views, not
//! report functions (a report is planned inside its scan; an explicit filter cannot reach it).
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CHATLAKE_BENCH_CONTACTS` | 4000 | contacts of the generated lake (about 20 messages each) |
//! | `CHATLAKE_BENCH_RUNS` | 3 | timed runs of each form (after one warm-up run each) |
//! | `CHATLAKE_BENCH_EXPLAIN` | unset | set: print both forms' physical plans |

use std::sync::Arc;
use std::time::{Duration, Instant};

use chatlake::config::EngineConfig;
use chatlake::engine::Engine;
use chatlake::engine::tenant::TenantScope;
use chatlake::generate::{GenerateConfig, generate};
use chatlake::lake::{Lake, LakeWriter, StoreOptions};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::TableType;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder, col, lit};
use datafusion::physical_plan::displayable;
use datafusion::prelude::SessionContext;

/// The tenant of the scoped session (the generator's first preset).
const TENANT: &str = "chai-point";

/// `(name, SQL)`: the peer set's table and view queries (the `chatlake` formulations; the join
/// is the peers' own formulation of `sent_delivered_by_country` over the tables).
const QUERIES: &[(&str, &str)] = &[
    (
        "dau_month",
        "SELECT tenant_id, dt AS day, count(DISTINCT contact_id) AS active_users FROM messages \
         WHERE direction = 'inbound' AND dt BETWEEN DATE '2026-10-01' AND DATE '2026-10-31' \
         GROUP BY tenant_id, dt",
    ),
    (
        "unique_users_range",
        "SELECT tenant_id, count(DISTINCT contact_id) AS users FROM messages \
         WHERE direction = 'inbound' AND dt BETWEEN DATE '2026-08-01' AND DATE '2026-10-31' \
         GROUP BY tenant_id",
    ),
    (
        "most_active_hour",
        "SELECT tenant_id, most_active_hour(ts, 'Asia/Kolkata') AS hour FROM messages \
         WHERE direction = 'inbound' GROUP BY tenant_id",
    ),
    (
        "sent_delivered_join",
        "WITH s AS (SELECT tenant_id, message_id, \
           count(*) FILTER (WHERE status IN ('sent', 'delivered', 'read', 'played')) > 0 AS sent, \
           count(*) FILTER (WHERE status IN ('delivered', 'read', 'played')) > 0 AS delivered \
           FROM message_statuses WHERE dt >= DATE '2026-09-30' GROUP BY tenant_id, message_id) \
         SELECT c.integration, m.country_code, c.display_phone, \
           count(*) FILTER (WHERE s.sent) AS messages_sent, \
           count(*) FILTER (WHERE s.delivered) AS messages_delivered \
         FROM messages m JOIN channels c ON c.tenant_id = m.tenant_id AND c.channel_id = m.channel_id \
         LEFT JOIN s ON s.tenant_id = m.tenant_id AND s.message_id = m.message_id \
         WHERE m.direction = 'outbound' AND c.channel_type = 'whatsapp' \
           AND m.ts >= TIMESTAMPTZ '2026-10-01 00:00:00+00' AND m.ts < TIMESTAMPTZ '2026-11-01 00:00:00+00' \
           AND m.dt BETWEEN DATE '2026-10-01' AND DATE '2026-10-31' \
         GROUP BY c.integration, m.country_code, c.display_phone",
    ),
    (
        "one_tenant_day",
        "SELECT channel_id, direction, count(*) AS messages, count(DISTINCT contact_id) AS contacts \
         FROM messages WHERE dt = DATE '2026-10-15' GROUP BY channel_id, direction",
    ),
    (
        "view_message_delivery",
        "SELECT final_status, count(*) AS messages FROM message_delivery \
         WHERE sent_at >= TIMESTAMPTZ '2026-10-01 00:00:00+00' GROUP BY final_status",
    ),
];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `plan` with `tenant_id = tenant` over every scan of a lake table, views expanded.
fn with_explicit_tenant(plan: LogicalPlan, tenant: &str) -> DfResult<LogicalPlan> {
    plan.transform_up(|node| {
        let LogicalPlan::TableScan(scan) = &node else {
            return Ok(Transformed::no(node));
        };
        if let Some(view) = scan.source.get_logical_plan() {
            let expanded = with_explicit_tenant(view.into_owned(), tenant)?;
            let aliased = LogicalPlanBuilder::from(expanded)
                .alias(scan.table_name.clone())?
                .build()?;
            return Ok(Transformed::yes(aliased));
        }
        if scan.source.table_type() != TableType::Base
            || scan.source.schema().index_of("tenant_id").is_err()
        {
            return Ok(Transformed::no(node));
        }
        let column = datafusion::common::Column::new(Some(scan.table_name.clone()), "tenant_id");
        let filtered = LogicalPlanBuilder::from(node.clone())
            .filter(col(column).eq(lit(tenant)))?
            .build()?;
        Ok(Transformed::yes(filtered))
    })
    .map(|t| t.data)
}

/// The answer as sorted text rows (to compare the two forms).
fn text_rows(batches: &[RecordBatch]) -> Vec<String> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters: Vec<ArrayFormatter> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formatter"))
            .collect();
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = formatters
                .iter()
                .map(|f| f.value(row).to_string())
                .collect();
            rows.push(cells.join("|"));
        }
    }
    rows.sort();
    rows
}

async fn scoped(ctx: &SessionContext, sql: &str) -> (Duration, Vec<RecordBatch>) {
    let started = Instant::now();
    let batches = ctx
        .sql(sql)
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    (started.elapsed(), batches)
}

async fn explicit(ctx: &SessionContext, sql: &str) -> (Duration, Vec<RecordBatch>) {
    let started = Instant::now();
    let state = ctx.state();
    let plan = state.create_logical_plan(sql).await.expect("plan");
    let plan = with_explicit_tenant(plan, TENANT).expect("explicit filter");
    let batches = DataFrame::new(state, plan).collect().await.expect("run");
    (started.elapsed(), batches)
}

/// Prints the physical plans of both forms of `sql`.
async fn explain(tenant_ctx: &SessionContext, all_ctx: &SessionContext, name: &str, sql: &str) {
    let scoped = tenant_ctx
        .sql(sql)
        .await
        .expect("plan")
        .create_physical_plan()
        .await
        .expect("physical plan");
    let state = all_ctx.state();
    let plan = state.create_logical_plan(sql).await.expect("plan");
    let plan = with_explicit_tenant(plan, TENANT).expect("explicit filter");
    let explicit = DataFrame::new(state, plan)
        .create_physical_plan()
        .await
        .expect("physical plan");
    println!(
        "-- {name}, scoped:\n{}\n-- {name}, explicit:\n{}",
        displayable(scoped.as_ref()).indent(true),
        displayable(explicit.as_ref()).indent(true)
    );
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let contacts = env_or("CHATLAKE_BENCH_CONTACTS", 4000usize);
    let runs = env_or("CHATLAKE_BENCH_RUNS", 3usize).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("bench-tenant-filter-{contacts}"));
        if !dir.join("messages").exists() {
            let _ = std::fs::remove_dir_all(&dir);
            let lake = Lake::open(&dir.to_string_lossy(), &StoreOptions::default()).expect("lake");
            let mut writer = LakeWriter::new(lake);
            writer.create_missing_tables().await.expect("tables");
            let config = GenerateConfig {
                tenants: 4,
                contacts,
                days: 120,
                seed: 42,
                end_date: chrono::NaiveDate::from_ymd_opt(2026, 10, 31).expect("date"),
                messages_target: None,
                whole_seconds: false,
            };
            generate(&mut writer, &config).await.expect("generate");
            writer.flush().await.expect("flush");
            chatlake::engine::derived::refresh(&mut writer)
                .await
                .expect("derive");
        }
        let engine = Arc::new(
            Engine::open(&EngineConfig::new(dir.to_string_lossy().to_string()))
                .await
                .expect("engine"),
        );
        let tenant_ctx = engine.new_scoped_session(TenantScope::only([TENANT]));
        let all_ctx = engine.new_session();
        println!(
            "lake: {} ({contacts} contacts), {runs} runs per form, tenant {TENANT}",
            dir.display()
        );
        println!(
            "| query | rows | scoped ms (median) | explicit WHERE ms (median) | scoped / explicit |"
        );
        println!("|---|---|---|---|---|");
        let mut ratios = Vec::new();
        for (name, sql) in QUERIES {
            if std::env::var_os("CHATLAKE_BENCH_EXPLAIN").is_some() {
                explain(&tenant_ctx, &all_ctx, name, sql).await;
            }
            let (_, a) = scoped(&tenant_ctx, sql).await;
            let (_, b) = explicit(&all_ctx, sql).await;
            let (rows_a, rows_b) = (text_rows(&a), text_rows(&b));
            assert_eq!(rows_a, rows_b, "{name}: the two forms answer differently");
            assert!(!rows_a.is_empty(), "{name}: no rows");
            let (mut ts, mut te) = (Vec::new(), Vec::new());
            for _ in 0..runs {
                ts.push(scoped(&tenant_ctx, sql).await.0);
                te.push(explicit(&all_ctx, sql).await.0);
            }
            let (ms, me) = (median(ts), median(te));
            let ratio = ms.as_secs_f64() / me.as_secs_f64();
            ratios.push(ratio);
            println!(
                "| {name} | {} | {:.1} | {:.1} | {ratio:.3} |",
                rows_a.len(),
                ms.as_secs_f64() * 1e3,
                me.as_secs_f64() * 1e3
            );
        }
        let geo = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
        println!("geometric mean scoped / explicit: {geo:.3}");
    });
}
