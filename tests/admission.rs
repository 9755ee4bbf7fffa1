//! Admission control over a real pgwire server (`127.0.0.1:0`, driven by `tokio-postgres`):
//! the fair queue, cancels and `statement_timeout` while queued, `chatlake_activity()` and who
//! sees which of its rows; and `chatlake serve`'s default memory limit.
//!
//! The servers here run one statement at a time over a hand-made table `big` (100,000
//! distinct 40-byte strings): a distinct count is the heavy statement, a filtered count the
//! light one, and a count over 10^12 generated numbers holds the slot until canceled. Expected orders and counts follow from the queue's rule (the user
//! served least recently goes first), worked out by hand in each test.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use chatlake::auth::{AuthFile, AuthStore, Limits, Security, TenantGrant, User, Verifier};
use chatlake::engine::admission::{self, Admission};
use chatlake::pg::{ServerOptions, SessionFactory};
use common::pg::Server;
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use tokio_postgres::{Client, NoTls};

/// The heavy statement: 100,000 strings hashed and counted.
const HEAVY: &str = "SELECT count(DISTINCT s) FROM big";
/// The light one: a filtered count.
const LIGHT: &str = "SELECT count(*) FROM big WHERE s LIKE '%99999'";
/// A statement that runs until stopped: a filtered count over 10^12 generated numbers, in
/// batches of 8,192 rows (a cancel stops it at the next batch).
const ENDLESS: &str = "SELECT count(*) FROM generate_series(1, 1000000000000) WHERE value % 7 = 3";

/// Sessions over `big` that queue for `admission`'s slots, one partition each (the test
/// machine's cores are shared).
fn sessions(admission: Arc<Admission>) -> SessionFactory {
    let values: Vec<String> = (0..100_000).map(|i| format!("{i:040}")).collect();
    let batch =
        RecordBatch::try_from_iter([("s", Arc::new(StringArray::from(values)) as ArrayRef)])
            .expect("batch");
    let table = Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]]).expect("table"));
    Arc::new(move || {
        let config = SessionConfig::new().with_target_partitions(1);
        let ctx = SessionContext::new_with_config(admission::install(config, admission.clone()));
        ctx.register_table("big", table.clone()).expect("register");
        ctx
    })
}

async fn start(slots: usize, security: Security) -> Server {
    let options = ServerOptions {
        security,
        ..ServerOptions::default()
    };
    common::pg::start(sessions(Admission::new(slots)), options).await
}

async fn connect(server: &Server, user: &str, password: &str) -> Client {
    common::pg::connect(server, user, password)
        .await
        .unwrap_or_else(|e| panic!("connect as {user}: {e}"))
}

/// `(usename, state, query)` of every row of `chatlake_activity()` that `client` sees.
async fn activity(client: &Client) -> Vec<(String, String, String)> {
    common::simple_rows(
        client,
        "SELECT usename, state, query FROM chatlake_activity() ORDER BY queued_at",
    )
    .await
    .into_iter()
    .map(|row| {
        let text = |i: usize| row[i].clone().expect("not null");
        (text(0), text(1), text(2))
    })
    .collect()
}

/// Polls `chatlake_activity()` as `client` until `done` holds of its rows (at most 60 s).
async fn wait_for(
    client: &Client,
    what: &str,
    done: impl Fn(&[(String, String, String)]) -> bool,
) -> Vec<(String, String, String)> {
    for _ in 0..1200 {
        let rows = activity(client).await;
        if done(&rows) {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never saw {what}: {:?}", activity(client).await);
}

fn count(rows: &[(String, String, String)], user: &str, state: &str) -> usize {
    rows.iter()
        .filter(|(u, s, _)| u == user && s == state)
        .count()
}

/// `(sqlstate, message)` of a failed statement.
fn db_error(e: &tokio_postgres::Error) -> (String, String) {
    let db = e
        .as_db_error()
        .unwrap_or_else(|| panic!("not a server error: {e}"));
    (db.code().code().to_string(), db.message().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_light_query_of_another_user_passes_a_backlog_of_heavy_ones() {
    let server = Arc::new(start(1, Security::default()).await);
    let observer = connect(&server, "observer", "").await;
    // The one slot is taken until the queue below is in place.
    let gate = connect(&server, "gate", "").await;
    let gate_cancel = gate.cancel_token();
    let gate_task = tokio::spawn(async move { gate.simple_query(ENDLESS).await });
    wait_for(&observer, "the gate running", |rows| {
        count(rows, "gate", "running") == 1
    })
    .await;

    let alice_done = Arc::new(AtomicUsize::new(0));
    let mut alice = Vec::new();
    for _ in 0..20 {
        let client = connect(&server, "alice", "").await;
        let done = alice_done.clone();
        alice.push(tokio::spawn(async move {
            let rows = common::simple_rows(&client, HEAVY).await;
            assert_eq!(rows, [[Some("100000".to_string())]]);
            done.fetch_add(1, Ordering::SeqCst);
        }));
    }
    let rows = wait_for(&observer, "alice's 20 statements queued", |rows| {
        count(rows, "alice", "queued") == 20
    })
    .await;
    assert!(
        rows.iter()
            .all(|(user, _, q)| user == "gate" || q.contains("count(DISTINCT s)")),
        "{rows:?}"
    );

    let bob = connect(&server, "bob", "").await;
    let bob_task = tokio::spawn(async move { common::simple_rows(&bob, LIGHT).await });
    wait_for(&observer, "bob queued", |rows| {
        count(rows, "bob", "queued") == 1
    })
    .await;
    // Neither alice nor bob has been served: the first to arrive goes first, then bob.
    let ahead = common::simple_rows(
        &observer,
        "SELECT ahead FROM chatlake_activity() WHERE usename = 'bob'",
    )
    .await;
    assert_eq!(ahead, [[Some("1".to_string())]]);

    gate_cancel
        .cancel_query(NoTls)
        .await
        .expect("cancel the gate");
    let light = bob_task.await.expect("bob");
    let alice_finished_before_bob = alice_done.load(Ordering::SeqCst);
    assert_eq!(light, [[Some("1".to_string())]]);
    // One of alice's ran before bob's; allow one more for the instant between bob's answer
    // and this count, while alice's next statement runs.
    assert!(
        alice_finished_before_bob <= 2,
        "bob waited for {alice_finished_before_bob} of alice's statements"
    );
    assert_eq!(
        db_error(&gate_task.await.expect("gate").expect_err("canceled")).0,
        "57014"
    );
    for task in alice {
        task.await.expect("alice's statement");
    }
    assert_eq!(alice_done.load(Ordering::SeqCst), 20);
    assert!(activity(&observer).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn statement_timeout_and_cancel_stop_a_queued_statement_with_57014() {
    let server = start(1, Security::default()).await;
    let observer = connect(&server, "observer", "").await;
    let holder = connect(&server, "alice", "").await;
    holder
        .batch_execute("SET statement_timeout = '60s'")
        .await
        .expect("set");
    let holder_cancel = holder.cancel_token();
    let holding = tokio::spawn(async move { holder.simple_query(ENDLESS).await });
    wait_for(&observer, "alice running", |rows| {
        count(rows, "alice", "running") == 1
    })
    .await;

    // Bob's statement times out in the queue.
    let bob = connect(&server, "bob", "").await;
    bob.batch_execute("SET statement_timeout = 300")
        .await
        .expect("set");
    let e = bob.simple_query(LIGHT).await.expect_err("timed out");
    let (code, message) = db_error(&e);
    assert_eq!(code, "57014", "{message}");
    assert!(
        message.contains("statement timeout") && message.contains("waiting for a query slot"),
        "{message}"
    );

    // Carol's is canceled in the queue.
    let carol = connect(&server, "carol", "").await;
    let carol_cancel = carol.cancel_token();
    let carol_waits = tokio::spawn(async move { carol.simple_query(LIGHT).await });
    let rows = wait_for(&observer, "carol queued", |rows| {
        count(rows, "carol", "queued") == 1
    })
    .await;
    assert_eq!(
        count(&rows, "bob", "queued"),
        0,
        "bob left the queue: {rows:?}"
    );
    carol_cancel.cancel_query(NoTls).await.expect("cancel");
    let e = carol_waits.await.expect("task").expect_err("canceled");
    let (code, message) = db_error(&e);
    assert_eq!(code, "57014", "{message}");
    assert!(
        message.contains("user request") && message.contains("waiting for a query slot"),
        "{message}"
    );
    let rows = activity(&observer).await;
    assert_eq!(rows.len(), 1, "only alice's statement is left: {rows:?}");

    // The running statement is canceled too, and its slot serves the next one.
    holder_cancel.cancel_query(NoTls).await.expect("cancel");
    let e = holding.await.expect("task").expect_err("canceled");
    assert_eq!(db_error(&e).0, "57014");
    bob.batch_execute("SET statement_timeout = 0")
        .await
        .expect("set");
    assert_eq!(
        common::simple_rows(&bob, LIGHT).await,
        [[Some("1".to_string())]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_suspended_portal_gives_its_slot_back() {
    let server = start(1, Security::default()).await;
    let mut client = connect(&server, "alice", "").await;
    client
        .batch_execute("SET statement_timeout = '30s'")
        .await
        .expect("set");
    let transaction = client.transaction().await.expect("begin");
    let numbers = transaction
        .prepare("SELECT value FROM generate_series(1, 1000000)")
        .await
        .expect("prepare");
    let portal = transaction.bind(&numbers, &[]).await.expect("bind");
    // Ten rows, then the portal is suspended with its stream (and slot) open.
    let first = transaction
        .query_portal(&portal, 10)
        .await
        .expect("first rows");
    assert_eq!(first.len(), 10);
    // Once the portal has waited a while, its slot serves the next statement: another
    // connection's, then one on the same connection (which would otherwise wait for itself).
    let bob = connect(&server, "bob", "").await;
    bob.batch_execute("SET statement_timeout = '20s'")
        .await
        .expect("set");
    assert_eq!(
        common::simple_rows(&bob, LIGHT).await,
        [[Some("1".to_string())]]
    );
    let light = transaction
        .simple_query(LIGHT)
        .await
        .expect("same connection");
    let value = light.iter().find_map(|message| match message {
        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
        _ => None,
    });
    assert_eq!(value.as_deref(), Some("1"));
    let rest = transaction
        .query_portal(&portal, 0)
        .await
        .expect("the other rows");
    assert_eq!(rest.len(), 1_000_000 - 10);
    transaction.commit().await.expect("commit");
}

/// An auth file with `admin` (all tenants), `ana` (tenant t1) and `ben` (tenant t2); each
/// user's password is its name.
fn auth_file(dir: &Path) -> Arc<AuthStore> {
    let mut file = AuthFile::default();
    for (name, tenants) in [
        ("admin", TenantGrant::All),
        ("ana", TenantGrant::Only(vec!["t1".into()])),
        ("ben", TenantGrant::Only(vec!["t2".into()])),
    ] {
        file.upsert(User {
            name: name.into(),
            verifier: Verifier::new(name),
            tenants,
            limits: Limits::default(),
        });
    }
    let path = dir.join("users.toml");
    file.save(&path).expect("save auth file");
    Arc::new(AuthStore::open(&path).expect("open auth file"))
}

fn scratch(test: &str) -> PathBuf {
    common::cli::fresh_dir(&format!("admission-{test}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn activity_shows_every_statement_to_admins_and_their_own_to_others() {
    let dir = scratch("activity");
    let security = Security {
        users: Some(auth_file(&dir)),
        ..Security::default()
    };
    let server = start(1, security).await;
    let admin = connect(&server, "admin", "admin").await;
    let ana = connect(&server, "ana", "ana").await;
    let ben = connect(&server, "ben", "ben").await;

    let ana_runs = connect(&server, "ana", "ana").await;
    let ana_cancel = ana_runs.cancel_token();
    let ana_task = tokio::spawn(async move { ana_runs.simple_query(ENDLESS).await });
    wait_for(&admin, "ana running", |rows| {
        count(rows, "ana", "running") == 1
    })
    .await;
    let ben_waits = connect(&server, "ben", "ben").await;
    let ben_cancel = ben_waits.cancel_token();
    let ben_task = tokio::spawn(async move { ben_waits.simple_query(LIGHT).await });
    let rows = wait_for(&admin, "ben queued", |rows| {
        count(rows, "ben", "queued") == 1
    })
    .await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        (rows[0].1.as_str(), rows[1].1.as_str()),
        ("running", "queued")
    );

    let details = common::simple_rows(
        &admin,
        "SELECT tenant, pid IS NOT NULL, started_at IS NULL, wait_ms >= 0, ahead \
         FROM chatlake_activity() ORDER BY queued_at",
    )
    .await;
    let t = |s: &str| Some(s.to_string());
    assert_eq!(
        details,
        [
            [t("t1"), t("t"), t("f"), t("t"), None],
            [t("t2"), t("t"), t("t"), t("t"), t("0")],
        ]
    );

    let mine = |rows: Vec<(String, String, String)>| -> Vec<(String, String)> {
        rows.into_iter().map(|(u, s, _)| (u, s)).collect()
    };
    assert_eq!(
        mine(activity(&ana).await),
        [("ana".to_string(), "running".to_string())]
    );
    assert_eq!(
        mine(activity(&ben).await),
        [("ben".to_string(), "queued".to_string())]
    );

    ben_cancel.cancel_query(NoTls).await.expect("cancel ben");
    ana_cancel.cancel_query(NoTls).await.expect("cancel ana");
    assert_eq!(
        db_error(&ben_task.await.expect("ben").expect_err("canceled")).0,
        "57014"
    );
    assert_eq!(
        db_error(&ana_task.await.expect("ana").expect_err("canceled")).0,
        "57014"
    );
    assert!(activity(&admin).await.is_empty());
}

/// Half of the memory this machine gives the process, in MiB, read here from the same files
/// the server reads: `MemTotal`, bounded by the cgroup's limit when there is one.
fn half_of_available_mib() -> (u64, u64) {
    let meminfo = std::fs::read_to_string("/proc/meminfo").expect("/proc/meminfo");
    let kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("MemTotal");
    let mut bytes = kib * 1024;
    if let Ok(limit) = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        && let Ok(limit) = limit.trim().parse::<u64>()
    {
        bytes = bytes.min(limit);
    }
    ((bytes / 2) >> 20, bytes >> 20)
}

fn serve(lake: &Path, flags: &[&str]) -> common::serve::ServeProcess {
    let mut command = common::serve::serve_command(&lake.to_string_lossy());
    command
        // The console too: `ServeProcess` finds the pg port in the banner that lists it.
        .args(["--http-listen", "127.0.0.1:0"])
        .args(flags)
        .env_remove("CHATLAKE_MEMORY_LIMIT_MB")
        .env_remove("CHATLAKE_MAX_CONCURRENT_QUERIES");
    common::serve::ServeProcess::spawn(&mut command)
}

async fn connect_port(port: u16) -> Client {
    let (client, connection) = tokio_postgres::connect(
        &format!("host=127.0.0.1 port={port} user=chatlake dbname=chatlake"),
        NoTls,
    )
    .await
    .expect("connect");
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_has_a_default_memory_limit_and_a_query_past_a_limit_gets_53200() {
    let lake = common::fixture_lake().await;
    let (half, available) = half_of_available_mib();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let server = serve(&lake, &[]);
    let log = server.log();
    let slots = cores.min((half / 256) as usize).max(1);
    assert!(
        log.contains(&format!(
            "{slots} queries at once, the rest queued fairly per tenant and user (--max-concurrent-queries); memory limit {half} MiB (half of {available} MiB available;"
        )),
        "{log}"
    );
    // The limit is the engine's: a query runs under it (and takes a slot).
    let client = connect_port(server.pg_port).await;
    assert_eq!(
        common::simple_rows(&client, "SELECT count(*) FROM tenants").await,
        [[Some("3".to_string())]]
    );
    server.kill();

    let server = serve(
        &lake,
        &["--memory-limit-mb", "16", "--target-partitions", "1"],
    );
    assert!(
        server
            .log()
            .contains("; memory limit 16 MiB (--memory-limit-mb)"),
        "{}",
        server.log()
    );
    let client = connect_port(server.pg_port).await;
    // A hash join holds its build side (3,000,000 bigints, 24 MB and more) in memory: it
    // cannot spill, so past 16 MiB it fails.
    let e = client
        .simple_query(
            "SELECT count(*) FROM (SELECT value AS x FROM generate_series(1, 3000000)) a \
             JOIN (SELECT value AS y FROM generate_series(1, 3000000)) b ON x = y",
        )
        .await
        .expect_err("past the memory limit");
    let (code, message) = db_error(&e);
    assert_eq!(code, "53200", "{message}");
    assert!(
        message.to_lowercase().contains("resources exhausted"),
        "{message}"
    );
    // A sort of the same size spills to disk and answers (rank 1 is the largest value).
    assert_eq!(
        common::simple_rows(
            &client,
            "SELECT count(*), sum(CASE WHEN r = 1 THEN v END) FROM \
             (SELECT value AS v, row_number() OVER (ORDER BY value DESC) AS r \
              FROM generate_series(1, 3000000))",
        )
        .await,
        [[Some("3000000".to_string()), Some("3000000".to_string())]]
    );
}
