//! Tenant isolation over the wire: a hostile analyst granted one tenant of the fixture lake
//! (three tenants) queries every table, view, report and catalog table through the real pgwire
//! server and tries the usual ways around a row filter.
//!
//! Three servers share one engine; each connection's tenant grant is fixed by the server's
//! Rust-level session factory ([`chatlake::pg::engine_sessions`]), which no client message
//! reaches (authentication will choose it per user):
//!
//! | server | grant |
//! |---|---|
//! | `all` | every tenant (what `chatlake serve` gives without authentication) |
//! | `alice` | tenant A only (the hostile user) |
//! | `pair` | tenants A and C |
//!
//! Expected values come from elsewhere than the tenant filter: the count of an all-tenants
//! session with an explicit `WHERE tenant_id = 'A'`, the same query on an all-tenants session
//! narrowed with `SET chatlake.tenant = 'A'`, and a count through the bare lake tables in a plain
//! DataFusion session (no engine, no wrapper, no server). Rows of tenant B must never appear.

mod common;

use common::simple_rows as rows;

use std::collections::BTreeSet;
use std::sync::Arc;

use chatlake::config::EngineConfig;
use chatlake::engine::Engine;
use chatlake::engine::tenant::TenantScope;
use chatlake::lake::provider::LakeTable;
use chatlake::lake::{Lake, StoreOptions, schema};
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use tokio::net::TcpListener;
use tokio::sync::{OnceCell, oneshot};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// One report as the test calls it.
#[derive(Debug, Clone)]
struct Report {
    name: String,
    /// `(name, required)` in call order.
    params: Vec<(String, bool)>,
}

/// The servers, the tenants and the reports of the fixture.
struct Fixture {
    all: u16,
    alice: u16,
    pair: u16,
    /// The fixture's tenant ids, sorted: A = [0], B = [1], C = [2].
    tenants: Vec<String>,
    reports: Vec<Report>,
    _stop: Vec<oneshot::Sender<()>>,
}

impl Fixture {
    fn a(&self) -> &str {
        &self.tenants[0]
    }
    fn b(&self) -> &str {
        &self.tenants[1]
    }
    fn c(&self) -> &str {
        &self.tenants[2]
    }
}

static FIXTURE: OnceCell<Fixture> = OnceCell::const_new();

async fn fixture() -> &'static Fixture {
    FIXTURE.get_or_init(start).await
}

/// Opens the engine over the fixture lake and serves it three times, on a runtime of its own
/// (each test has its own runtime, which ends with the test).
async fn start() -> Fixture {
    let lake = common::fixture_lake().await;
    let config = EngineConfig::new(lake.to_string_lossy().to_string());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let engine = Arc::new(Engine::open(&config).await.expect("engine"));
            let batches = engine
                .new_session()
                .sql("SELECT tenant_id FROM tenants ORDER BY tenant_id")
                .await
                .expect("tenants query")
                .collect()
                .await
                .expect("tenants");
            let mut tenants = Vec::new();
            for batch in &batches {
                let column = datafusion::arrow::compute::cast(
                    batch.column(0),
                    &arrow::datatypes::DataType::Utf8,
                )
                .expect("cast");
                tenants.extend(
                    column
                        .as_string::<i32>()
                        .iter()
                        .flatten()
                        .map(str::to_string),
                );
            }
            assert!(
                tenants.len() >= 3,
                "the fixture has three tenants: {tenants:?}"
            );
            let reports = engine
                .reports()
                .iter()
                .map(|r| Report {
                    name: r.name.clone(),
                    params: r
                        .params
                        .iter()
                        .map(|p| (p.name.clone(), p.required))
                        .collect(),
                })
                .collect();
            let scopes = [
                TenantScope::All,
                TenantScope::only([tenants[0].clone()]),
                TenantScope::only([tenants[0].clone(), tenants[2].clone()]),
            ];
            let mut ports = Vec::new();
            let mut stops = Vec::new();
            let mut tasks = Vec::new();
            for scope in scopes {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                ports.push(listener.local_addr().expect("addr").port());
                let (stop, stopped) = oneshot::channel::<()>();
                stops.push(stop);
                let sessions = chatlake::pg::engine_sessions(engine.clone(), scope);
                tasks.push(tokio::spawn(chatlake::pg::serve_with(
                    listener,
                    sessions,
                    async move {
                        let _ = stopped.await;
                    },
                )));
            }
            tx.send((ports, stops, tenants, reports)).expect("send");
            for task in tasks {
                let _ = task.await;
            }
        });
    });
    let (ports, stops, tenants, reports) =
        tokio::task::spawn_blocking(move || rx.recv().expect("fixture"))
            .await
            .expect("fixture thread");
    Fixture {
        all: ports[0],
        alice: ports[1],
        pair: ports[2],
        tenants,
        reports,
        _stop: stops,
    }
}

async fn connect_with(port: u16, extra: &str) -> Client {
    let config = format!(
        "host=127.0.0.1 port={port} user=analyst dbname=chatlake connect_timeout=10 {extra}"
    );
    let (client, connection) = tokio_postgres::connect(&config, NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
}

async fn connect(port: u16) -> Client {
    connect_with(port, "").await
}

/// An all-tenants connection narrowed to `tenant`.
async fn narrowed(port: u16, tenant: &str) -> Client {
    let client = connect(port).await;
    client
        .batch_execute(&format!("SET chatlake.tenant = '{tenant}'"))
        .await
        .expect("narrow");
    client
}

/// The one integer a query answers.
async fn count(client: &Client, sql: &str) -> i64 {
    let rows = rows(client, sql).await;
    rows.first()
        .and_then(|r| r.first().cloned().flatten())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{sql}: no count in {rows:?}"))
}

/// The values of the first column.
async fn column(client: &Client, sql: &str) -> Vec<Option<String>> {
    rows(client, sql)
        .await
        .into_iter()
        .map(|mut r| r.swap_remove(0))
        .collect()
}

/// The SQLSTATE of a statement that must fail.
async fn sqlstate(client: &Client, sql: &str) -> SqlState {
    match client.simple_query(sql).await {
        Ok(_) => panic!("{sql}: must fail"),
        Err(e) => e
            .code()
            .cloned()
            .unwrap_or_else(|| panic!("{sql}: no SQLSTATE in {e:?}")),
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `tenant`'s rows of every lake table, counted by plain DataFusion over the bare Delta tables.
async fn bare_counts(tenant: &str) -> Vec<(String, i64)> {
    let lake_path = common::fixture_lake().await;
    let lake = Lake::open(&lake_path.to_string_lossy(), &StoreOptions::default()).expect("lake");
    let ctx = SessionContext::new();
    let mut out = Vec::new();
    for def in schema::tables() {
        let table = LakeTable::open(&lake, def.name).await.expect("table");
        ctx.register_table(def.name, Arc::new(table))
            .expect("register");
        let batches = ctx
            .sql(&format!(
                "SELECT count(*) FROM {} WHERE tenant_id = {}",
                def.name,
                quote(tenant)
            ))
            .await
            .expect("bare count")
            .collect()
            .await
            .expect("bare count rows");
        let n = batches[0].column(0).as_primitive::<Int64Type>().value(0);
        out.push((def.name.to_string(), n));
    }
    out
}

/// Every table and view of `public`, with whether it has a `tenant_id` column.
async fn relations(client: &Client) -> Vec<(String, String, bool)> {
    let with_tenant: BTreeSet<String> = column(
        client,
        "SELECT table_name FROM information_schema.columns \
         WHERE table_schema = 'public' AND column_name = 'tenant_id'",
    )
    .await
    .into_iter()
    .flatten()
    .collect();
    rows(
        client,
        "SELECT table_name, table_type FROM information_schema.tables \
         WHERE table_schema = 'public' ORDER BY table_name",
    )
    .await
    .into_iter()
    .map(|r| {
        let name = r[0].clone().unwrap_or_default();
        let has = with_tenant.contains(&name);
        (name, r[1].clone().unwrap_or_default(), has)
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_table_and_view_shows_exactly_the_granted_tenant() {
    let f = fixture().await;
    let (admin, alice, narrowed_a) = (
        connect(f.all).await,
        connect(f.alice).await,
        narrowed(f.all, f.a()).await,
    );
    let relations = relations(&admin).await;
    // The enumeration covers the lake: every table of the schema is listed, and the views.
    for def in schema::tables() {
        assert!(
            relations
                .iter()
                .any(|(name, _, has)| name == def.name && *has),
            "{} listed with a tenant_id column: {relations:?}",
            def.name
        );
    }
    assert!(
        relations
            .iter()
            .filter(|(_, kind, _)| kind == "VIEW")
            .count()
            >= 8,
        "the sql/ views are listed: {relations:?}"
    );
    let bare = bare_counts(f.a()).await;
    let (mut seen, mut everyone) = (0i64, 0i64);
    for (name, _, has_tenant) in &relations {
        let alice_count = count(&alice, &format!("SELECT count(*) FROM {name}")).await;
        let narrowed_count = count(&narrowed_a, &format!("SELECT count(*) FROM {name}")).await;
        assert_eq!(
            alice_count, narrowed_count,
            "{name}: the tenant user and an all-tenants session narrowed to her tenant"
        );
        everyone += count(&admin, &format!("SELECT count(*) FROM {name}")).await;
        seen += alice_count;
        if *has_tenant {
            let direct = count(
                &admin,
                &format!(
                    "SELECT count(*) FROM {name} WHERE tenant_id = {}",
                    quote(f.a())
                ),
            )
            .await;
            assert_eq!(alice_count, direct, "{name}: against WHERE tenant_id");
            let foreign = count(
                &alice,
                &format!(
                    "SELECT count(*) FROM {name} WHERE tenant_id <> {}",
                    quote(f.a())
                ),
            )
            .await;
            assert_eq!(foreign, 0, "{name}: rows of another tenant");
            let ids = column(&alice, &format!("SELECT DISTINCT tenant_id FROM {name}")).await;
            assert!(
                ids.iter().all(|id| id.as_deref() == Some(f.a())),
                "{name}: tenant ids seen {ids:?}"
            );
        }
        if let Some((_, n)) = bare.iter().find(|(t, _)| t == name) {
            assert_eq!(alice_count, *n, "{name}: against the bare Delta table");
        }
    }
    // The filter had something to hide, and her tenant had rows to show.
    assert!(seen > 0 && everyone > seen, "seen {seen} of {everyone}");
    let messages = count(&alice, "SELECT count(*) FROM messages").await;
    assert!(messages > 0);
}

/// The positional arguments of one call of `report`: the fixture's last 45 days, NULL for the
/// optional rest, `campaign` / `post` for the required ids.
fn call(report: &Report, campaign: &str, post: &str) -> String {
    let args: Vec<String> = report
        .params
        .iter()
        .map(|(name, required)| match name.as_str() {
            "from_date" => "DATE '2026-09-17'".to_string(),
            "to_date" => "DATE '2026-10-31'".to_string(),
            "campaign_id" => quote(campaign),
            "post_id" => quote(post),
            other if *required => panic!("{}: no value for required {other}", report.name),
            _ => "NULL".to_string(),
        })
        .collect();
    format!("SELECT * FROM {}({})", report.name, args.join(", "))
}

async fn sorted_rows(client: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    let mut out = rows(client, sql).await;
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_report_equals_the_all_tenants_report_narrowed() {
    let f = fixture().await;
    let (admin, alice, narrowed_a) = (
        connect(f.all).await,
        connect(f.alice).await,
        narrowed(f.all, f.a()).await,
    );
    assert!(f.reports.len() >= 25, "reports: {:?}", f.reports);
    let pick = |table: &'static str, col: &'static str, tenant: String| {
        let admin = &admin;
        async move {
            column(
                admin,
                &format!(
                    "SELECT {col} FROM {table} WHERE tenant_id = {} ORDER BY {col} LIMIT 1",
                    quote(&tenant)
                ),
            )
            .await
            .into_iter()
            .flatten()
            .next()
            .unwrap_or_else(|| panic!("a {col} of {tenant}"))
        }
    };
    let campaign_a = pick("campaign_recipients", "campaign_id", f.a().into()).await;
    let campaign_b = pick("campaign_recipients", "campaign_id", f.b().into()).await;
    let post_a = pick("comments", "post_id", f.a().into()).await;
    let post_b = pick("comments", "post_id", f.b().into()).await;
    let mut hid_something = 0;
    for report in &f.reports {
        for (campaign, post) in [(&campaign_a, &post_a), (&campaign_b, &post_b)] {
            let sql = call(report, campaign, post);
            let theirs = sorted_rows(&alice, &sql).await;
            let narrowed_rows = sorted_rows(&narrowed_a, &sql).await;
            assert_eq!(theirs, narrowed_rows, "{sql}");
            if sorted_rows(&admin, &sql).await != theirs {
                hid_something += 1;
            }
        }
    }
    // Most calls differ between all tenants and one (the comparison above has teeth).
    assert!(
        hid_something * 2 > f.reports.len(),
        "only {hid_something} report calls differ from the all-tenants answer"
    );
    // A campaign of another tenant is empty for her.
    let sql = format!(
        "SELECT count(*) FROM push_retry_audience({}) ",
        quote(&campaign_b)
    );
    assert_eq!(count(&alice, &sql).await, 0);
    let sql = format!(
        "SELECT coalesce(sum(recipients), 0) FROM push_results({})",
        quote(&campaign_b)
    );
    assert_eq!(count(&alice, &sql).await, 0);
    assert!(
        count(&admin, &sql).await > 0,
        "campaign {campaign_b} has recipients"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_queries_see_no_other_tenant() {
    let f = fixture().await;
    let (admin, alice) = (connect(f.all).await, connect(f.alice).await);
    let (a, b) = (quote(f.a()), quote(f.b()));
    let own = count(&alice, "SELECT count(*) FROM messages").await;
    let theirs = count(
        &admin,
        &format!("SELECT count(*) FROM messages WHERE tenant_id = {b}"),
    )
    .await;
    assert!(
        own > 0 && theirs > 0,
        "both tenants have messages: {own}, {theirs}"
    );

    let zero = [
        format!("SELECT count(*) FROM messages WHERE tenant_id = {b}"),
        format!("SELECT count(*) FROM messages WHERE tenant_id = {b} AND true"),
        format!("SELECT count(*) FROM messages WHERE tenant_id IN (SELECT {b})"),
        format!(
            "SELECT count(*) FROM messages WHERE tenant_id = (SELECT max(tenant_id) FROM tenants WHERE tenant_id <> {a})"
        ),
        format!("SELECT (SELECT count(*) FROM messages m WHERE m.tenant_id = {b})"),
        format!(
            "SELECT count(*) FROM (SELECT tenant_id FROM messages WHERE tenant_id = {b} UNION ALL SELECT tenant_id FROM tenants WHERE tenant_id = {b}) u"
        ),
        format!("SELECT count(*) FROM (VALUES ({b})) v(t) JOIN messages m ON m.tenant_id = v.t"),
        format!("SELECT count(*) FROM (VALUES ({b})) v(t) JOIN channels c ON c.tenant_id = v.t"),
        "SELECT count(*) FROM tenants t JOIN messages m ON m.tenant_id <> t.tenant_id".to_string(),
        format!(
            "SELECT count(*) FROM messages m JOIN message_statuses s ON s.message_id = m.message_id AND s.tenant_id <> {a}"
        ),
        format!("SELECT count(*) FROM events_v WHERE tenant_id <> {a}"),
        format!("WITH x AS (SELECT * FROM contacts) SELECT count(*) FROM x WHERE tenant_id = {b}"),
        format!("SELECT count(*) FROM messages WHERE lower(tenant_id) = lower({b})"),
        format!("SELECT count(*) FROM message_delivery WHERE tenant_id = {b}"),
        format!("SELECT count(*) FROM all_conversations WHERE tenant_id = {b}"),
    ];
    for sql in &zero {
        assert_eq!(count(&alice, sql).await, 0, "{sql}");
    }
    // OR true and friends: her own rows, no more.
    for sql in [
        format!("SELECT count(*) FROM messages WHERE tenant_id = {b} OR true"),
        format!("SELECT count(*) FROM messages WHERE tenant_id = {b} OR tenant_id <> {b}"),
        "SELECT count(*) FROM messages WHERE 1 = 1".to_string(),
    ] {
        assert_eq!(count(&alice, &sql).await, own, "{sql}");
    }
    // Errors as an oracle: an expression that fails on a row of the other tenant must never
    // see that row (it is evaluated only above the tenant filter).
    for sql in [
        format!(
            "SELECT count(*) FROM messages WHERE 1 / (CASE WHEN tenant_id = {b} THEN 0 ELSE 1 END) = 1"
        ),
        format!(
            "SELECT count(*) FROM messages WHERE CAST(CASE WHEN tenant_id = {b} THEN 'x' ELSE '1' END AS INT) = 1"
        ),
        format!(
            "SELECT count(*) FROM contacts WHERE CAST(CASE WHEN tenant_id = {b} THEN 'x' ELSE '1' END AS INT) = 1"
        ),
        format!(
            "SELECT count(*) FROM message_statuses s JOIN messages m ON m.message_id = s.message_id \
                 WHERE 1 / (CASE WHEN s.tenant_id = {b} THEN 0 ELSE 1 END) = 1 OR m.tenant_id IS NULL"
        ),
    ] {
        let result = alice.simple_query(&sql).await;
        assert!(result.is_ok(), "{sql}: {result:?}");
    }
    assert_eq!(
        count(&alice, &format!("SELECT count(*) FROM messages WHERE 1 / (CASE WHEN tenant_id = {b} THEN 0 ELSE 1 END) = 1")).await,
        own
    );
    // A UNION with the other tenant's id yields only hers.
    let ids = column(
        &alice,
        &format!("SELECT tenant_id FROM messages WHERE tenant_id = {b} UNION SELECT tenant_id FROM messages"),
    )
    .await;
    assert_eq!(ids, vec![Some(f.a().to_string())]);
    // Channels of the other tenant by id: none.
    let their_channel = column(
        &admin,
        &format!("SELECT channel_id FROM channels WHERE tenant_id = {b} ORDER BY 1 LIMIT 1"),
    )
    .await;
    let their_channel = quote(their_channel[0].as_deref().expect("a channel of B"));
    assert_eq!(
        count(
            &alice,
            &format!("SELECT count(*) FROM messages WHERE channel_id = {their_channel}")
        )
        .await,
        0
    );
    // A report asked for the other tenant's channel: what her narrowed admin would see.
    let sql = format!(
        "SELECT * FROM stella_users(DATE '2026-09-17', DATE '2026-10-31', {their_channel})"
    );
    let theirs = sorted_rows(&admin, &sql).await;
    let hers = sorted_rows(&alice, &sql).await;
    assert_eq!(hers, sorted_rows(&narrowed(f.all, f.a()).await, &sql).await);
    assert_ne!(
        hers, theirs,
        "{sql}: the channel has traffic for an all-tenants session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_cursors_and_bind_parameters_go_through_the_filter() {
    let f = fixture().await;
    let alice = connect(f.alice).await;
    let own = count(&alice, "SELECT count(*) FROM messages").await;

    // COPY (query) TO STDOUT and COPY table TO STDOUT.
    for sql in [
        "COPY (SELECT tenant_id FROM messages) TO STDOUT".to_string(),
        format!(
            "COPY (SELECT tenant_id FROM messages WHERE tenant_id = {} OR true) TO STDOUT (FORMAT csv)",
            quote(f.b())
        ),
    ] {
        let out = alice
            .copy_out(sql.as_str())
            .await
            .expect("copy")
            .map_ok(|chunk| chunk.to_vec())
            .try_concat()
            .await
            .expect("copy data");
        let text = String::from_utf8_lossy(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len() as i64, own, "{sql}");
        assert!(lines.iter().all(|l| *l == f.a()), "{sql}");
    }
    let out = alice
        .copy_out("COPY tenants TO STDOUT (FORMAT csv)")
        .await
        .expect("copy table")
        .map_ok(|chunk| chunk.to_vec())
        .try_concat()
        .await
        .expect("copy data");
    let text = String::from_utf8_lossy(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with(f.a()), "{text}");

    // Cursors.
    let fetched = alice
        .simple_query(&format!(
            "BEGIN; DECLARE c CURSOR FOR SELECT tenant_id FROM messages WHERE tenant_id = {} OR true; \
             FETCH ALL FROM c; CLOSE c; COMMIT",
            quote(f.b())
        ))
        .await
        .expect("cursor");
    let ids: Vec<String> = fetched
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len() as i64, own);
    assert!(ids.iter().all(|id| id == f.a()));

    // Bind parameters (extended protocol), typed and untyped, and a prepared statement run twice.
    let statement = alice
        .prepare("SELECT count(*) FROM messages WHERE tenant_id = $1")
        .await
        .expect("prepare");
    let n: i64 = alice
        .query_one(&statement, &[&f.b()])
        .await
        .expect("B")
        .get(0);
    assert_eq!(n, 0);
    let n: i64 = alice
        .query_one(&statement, &[&f.a()])
        .await
        .expect("A")
        .get(0);
    assert_eq!(n, own);
    let n: i64 = alice
        .query_one(
            "SELECT count(*) FROM messages WHERE tenant_id = $1 OR $2::boolean",
            &[&f.b(), &true],
        )
        .await
        .expect("OR $2")
        .get(0);
    assert_eq!(n, own);
    // A report argument bound as a parameter: another tenant's campaign is empty.
    let admin = connect(f.all).await;
    let campaign_b = column(
        &admin,
        &format!(
            "SELECT campaign_id FROM campaign_recipients WHERE tenant_id = {} ORDER BY 1 LIMIT 1",
            quote(f.b())
        ),
    )
    .await[0]
        .clone()
        .expect("a campaign of B");
    let n: i64 = alice
        .query_one(
            "SELECT count(*) FROM push_retry_audience($1)",
            &[&campaign_b],
        )
        .await
        .expect("report with a bound argument")
        .get(0);
    assert_eq!(n, 0);
    let n: i64 = admin
        .query_one(
            "SELECT count(*) FROM campaign_recipients WHERE campaign_id = $1",
            &[&campaign_b],
        )
        .await
        .expect("B's campaign")
        .get(0);
    assert!(n > 0);
    // A portal fetched in pieces (max_rows) keeps the filter.
    let rows = alice
        .query(
            &format!(
                "SELECT tenant_id FROM contacts WHERE tenant_id <> {}",
                quote(f.a())
            ),
            &[],
        )
        .await
        .expect("contacts");
    assert!(rows.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_cannot_lift_or_widen_the_filter() {
    let f = fixture().await;
    let alice = connect(f.alice).await;
    let own = count(&alice, "SELECT count(*) FROM messages").await;
    let b = quote(f.b());
    let leak = format!("SELECT count(*) FROM messages WHERE tenant_id = {b}");

    assert_eq!(
        column(&alice, "SHOW chatlake.tenant").await,
        vec![Some(f.a().to_string())]
    );
    // Narrowing to a tenant not granted: 42501, and nothing changed.
    assert_eq!(
        sqlstate(&alice, &format!("SET chatlake.tenant = {b}")).await,
        SqlState::INSUFFICIENT_PRIVILEGE
    );
    assert_eq!(
        sqlstate(&alice, &format!("SET chatlake.tenant TO {b}")).await,
        SqlState::INSUFFICIENT_PRIVILEGE
    );
    assert_eq!(
        sqlstate(
            &alice,
            &format!("SELECT set_config('chatlake.tenant', {b}, false)")
        )
        .await,
        SqlState::INSUFFICIENT_PRIVILEGE
    );
    assert_eq!(
        column(&alice, "SHOW chatlake.tenant").await,
        vec![Some(f.a().to_string())]
    );
    assert_eq!(count(&alice, &leak).await, 0);
    // Her own tenant is fine; RESET and DISCARD go back to the grant, never beyond.
    alice
        .batch_execute(&format!("SET chatlake.tenant = {}", quote(f.a())))
        .await
        .expect("own tenant");
    for sql in [
        "RESET chatlake.tenant",
        "RESET ALL",
        "DISCARD ALL",
        "SET chatlake.tenant TO DEFAULT",
    ] {
        alice.batch_execute(sql).await.expect(sql);
        assert_eq!(
            column(&alice, "SHOW chatlake.tenant").await,
            vec![Some(f.a().to_string())],
            "{sql}"
        );
        assert_eq!(
            count(&alice, "SELECT count(*) FROM messages").await,
            own,
            "{sql}"
        );
        assert_eq!(count(&alice, &leak).await, 0, "{sql}");
    }
    // Engine settings change plans, not the filter.
    for sql in [
        "SET datafusion.execution.parquet.pushdown_filters = false",
        "SET datafusion.execution.parquet.pruning = false",
        "SET datafusion.execution.target_partitions = 1",
        "SET datafusion.optimizer.enable_dynamic_filter_pushdown = false",
        "SET datafusion.optimizer.skip_failed_rules = true",
        "SET datafusion.optimizer.max_passes = 1",
        "SET datafusion.execution.collect_statistics = true",
        "SET search_path = pg_catalog, public",
        "RESET datafusion.execution.parquet.pushdown_filters",
    ] {
        alice.batch_execute(sql).await.expect(sql);
        assert_eq!(count(&alice, &leak).await, 0, "{sql}");
        assert_eq!(
            count(&alice, "SELECT count(*) FROM messages").await,
            own,
            "{sql}"
        );
    }
    // What would show other tenants' row counts or value ranges: refused.
    assert_eq!(
        sqlstate(&alice, "EXPLAIN ANALYZE SELECT count(*) FROM messages").await,
        SqlState::INSUFFICIENT_PRIVILEGE
    );
    for sql in [
        "SET datafusion.explain.show_statistics = true",
        "SET datafusion.explain.physical_plan_only = true",
        "EXPLAIN VERBOSE SELECT count(*) FROM messages",
        "EXPLAIN ANALYZE VERBOSE SELECT count(*) FROM messages",
    ] {
        assert_eq!(
            sqlstate(&alice, sql).await,
            SqlState::INSUFFICIENT_PRIVILEGE,
            "{sql}"
        );
    }
    // The plan pushes her tenant into the scan (Parquet pruning sees it).
    let plan = rows(&alice, "EXPLAIN SELECT count(*) FROM messages").await;
    let plan: String = plan
        .into_iter()
        .flatten()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
    assert!(plan.contains("tenant_id") && plan.contains(f.a()), "{plan}");
    assert!(!plan.contains(f.b()), "{plan}");

    // The startup packet cannot choose a tenant (it comes before authentication).
    let sneaky = connect_with(f.alice, &format!("options='-c chatlake.tenant={}'", f.b())).await;
    assert_eq!(
        column(&sneaky, "SHOW chatlake.tenant").await,
        vec![Some(f.a().to_string())]
    );
    assert_eq!(count(&sneaky, &leak).await, 0);
    assert_eq!(count(&sneaky, "SELECT count(*) FROM messages").await, own);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn narrowing_within_the_grant() {
    let f = fixture().await;
    let admin = connect(f.all).await;
    let per_tenant = |t: &str| {
        format!(
            "SELECT count(*) FROM messages WHERE tenant_id = {}",
            quote(t)
        )
    };
    let total = count(&admin, "SELECT count(*) FROM messages").await;
    let (na, nb, nc) = (
        count(&admin, &per_tenant(f.a())).await,
        count(&admin, &per_tenant(f.b())).await,
        count(&admin, &per_tenant(f.c())).await,
    );
    assert_eq!(
        column(&admin, "SHOW chatlake.tenant").await,
        vec![Some("*".to_string())]
    );
    // An all-tenants session may narrow to any tenant, and widen back.
    admin
        .batch_execute(&format!("SET chatlake.tenant = {}", quote(f.b())))
        .await
        .expect("narrow to B");
    assert_eq!(count(&admin, "SELECT count(*) FROM messages").await, nb);
    admin
        .batch_execute("RESET chatlake.tenant")
        .await
        .expect("reset");
    assert_eq!(count(&admin, "SELECT count(*) FROM messages").await, total);

    // A session granted A and C sees both, may narrow to either, not to B.
    let pair = connect(f.pair).await;
    let mut granted = [f.a().to_string(), f.c().to_string()];
    granted.sort();
    assert_eq!(
        column(&pair, "SHOW chatlake.tenant").await,
        vec![Some(granted.join(","))]
    );
    assert_eq!(count(&pair, "SELECT count(*) FROM messages").await, na + nc);
    assert_eq!(
        sqlstate(&pair, &format!("SET chatlake.tenant = {}", quote(f.b()))).await,
        SqlState::INSUFFICIENT_PRIVILEGE
    );
    pair.batch_execute(&format!("SET chatlake.tenant = {}", quote(f.c())))
        .await
        .expect("narrow to C");
    assert_eq!(count(&pair, "SELECT count(*) FROM messages").await, nc);
    assert_eq!(count(&pair, &per_tenant(f.a())).await, 0);
    pair.batch_execute("RESET chatlake.tenant")
        .await
        .expect("reset");
    assert_eq!(count(&pair, "SELECT count(*) FROM messages").await, na + nc);
    assert_eq!(count(&pair, &per_tenant(f.b())).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_tables_show_no_other_tenant_values() {
    let f = fixture().await;
    let alice = connect(f.alice).await;
    let tables = rows(
        &alice,
        "SELECT DISTINCT n.nspname, c.relname FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
    )
    .await;
    assert!(tables.len() > 20, "catalog tables: {tables:?}");
    let foreign = [f.b(), f.c()];
    let mut read = 0;
    for table in &tables {
        let (schema, name) = (
            table[0].as_deref().unwrap_or(""),
            table[1].as_deref().unwrap_or(""),
        );
        let sql = format!("SELECT * FROM {schema}.{name}");
        // Some catalog tables take arguments or are placeholders: what can be read must not leak.
        let Ok(messages) = alice.simple_query(&sql).await else {
            continue;
        };
        read += 1;
        for message in messages {
            if let SimpleQueryMessage::Row(row) = message {
                for i in 0..row.len() {
                    if let Some(value) = row.get(i) {
                        for tenant in foreign {
                            assert!(!value.contains(tenant), "{sql}: {value}");
                        }
                    }
                }
            }
        }
    }
    assert!(read > 20, "read {read} catalog tables of {}", tables.len());
}
