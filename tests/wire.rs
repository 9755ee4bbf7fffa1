//! The Postgres front end over the wire: a server on `127.0.0.1:0` serving a hand-made table,
//! driven by `tokio-postgres` (simple and extended protocol, text and binary results) and by
//! the real `psql` binary.
//!
//! Table `t` (every expected value below is worked out by hand from these rows):
//!
//! | id | name  | score | ok    | ts (UTC)                   | day        |
//! |----|-------|-------|-------|----------------------------|------------|
//! | 1  | alice | 1.5   | true  | 2026-01-02 03:04:05.123456 | 2026-01-02 |
//! | 2  | bob   | -0.25 | false | 2026-01-02 03:04:05        | 2000-01-01 |
//! | 3  | NULL  | 100   | NULL  | 1999-12-31 23:59:59.5      | 1999-12-31 |
//!
//! Day numbers: 2000-01-01 is day 10957 after 1970-01-01 (30 years, 7 leap days); 2026-01-02
//! is 9498 days after 2000-01-01 (26 years with 7 leap days, 2000–2024, plus one day), so day
//! 20455. Seconds: 20455 × 86400 + 3×3600 + 4×60 + 5 = 1 767 323 045.
//!
//! Table `messages` has five rows.

mod common;

use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use chatlake::pg::{ServerOptions, SessionFactory, serve_with_options};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// Microseconds since 1970-01-01 UTC of the three `ts` values.
const TS: [i64; 3] = [
    1_767_323_045_123_456,
    1_767_323_045_000_000,
    // 1999-12-31 is day 10956: 10956 × 86400 + 86399.5 s.
    946_684_799_500_000,
];

fn table(columns: Vec<(&str, ArrayRef)>) -> Arc<MemTable> {
    let batch = RecordBatch::try_from_iter(columns).expect("valid batch");
    Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]]).expect("valid table"))
}

/// A session over the fixture tables: what the engine would hand each connection.
fn fixture_session() -> SessionContext {
    let ctx = SessionContext::new();
    let t = table(vec![
        ("id", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
        (
            "name",
            Arc::new(StringArray::from(vec![Some("alice"), Some("bob"), None])),
        ),
        (
            "score",
            Arc::new(Float64Array::from(vec![1.5, -0.25, 100.0])),
        ),
        (
            "ok",
            Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
        ),
        (
            "ts",
            Arc::new(TimestampMicrosecondArray::from(TS.to_vec()).with_timezone("UTC")),
        ),
        (
            "day",
            Arc::new(Date32Array::from(vec![20_455, 10_957, 10_956])),
        ),
    ]);
    ctx.register_table("t", t).expect("register t");
    let messages = table(vec![(
        "message_id",
        Arc::new(StringArray::from(vec!["m1", "m2", "m3", "m4", "m5"])) as ArrayRef,
    )]);
    ctx.register_table("messages", messages)
        .expect("register messages");
    ctx
}

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<chatlake::error::Result<()>>,
}

impl Server {
    async fn start(options: ServerOptions) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let sessions: SessionFactory = Arc::new(fixture_session);
        let task = tokio::spawn(serve_with_options(
            listener,
            sessions,
            options,
            async move {
                let _ = stopped.await;
            },
        ));
        Server {
            addr,
            stop: Some(stop),
            task,
        }
    }

    async fn spawn() -> Server {
        Server::start(ServerOptions::default()).await
    }

    fn config(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=chatlake dbname=chatlake connect_timeout=10",
            self.addr.port()
        )
    }

    async fn try_connect(&self) -> Result<Client, tokio_postgres::Error> {
        let (client, connection) = tokio_postgres::connect(&self.config(), NoTls).await?;
        tokio::spawn(connection);
        Ok(client)
    }

    async fn connect(&self) -> Client {
        self.try_connect().await.expect("connect")
    }

    async fn shutdown(mut self) -> chatlake::error::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("server stops")
            .expect("server task does not panic")
    }
}

fn strings(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|v| v.map(str::to_string)).collect()
}

/// The SQLSTATE of a failed call.
fn sqlstate<T: std::fmt::Debug>(result: Result<T, tokio_postgres::Error>) -> SqlState {
    result
        .expect_err("the statement must fail")
        .code()
        .cloned()
        .expect("a server error with a SQLSTATE")
}

/// Any binary value, as raw bytes (for types tokio-postgres decodes only with extra features).
#[derive(Debug, PartialEq)]
struct Raw(Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(Raw(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_query_returns_text_rows() {
    let server = Server::spawn().await;
    let client = server.connect().await;

    let messages = client
        .simple_query("SELECT id, name, score, ok, ts, day FROM t ORDER BY id")
        .await
        .expect("query");
    assert!(
        matches!(
            messages.last(),
            Some(SimpleQueryMessage::CommandComplete(3))
        ),
        "tag SELECT 3"
    );
    let rows = common::simple_rows(
        &client,
        "SELECT id, name, score, ok, ts, day FROM t ORDER BY id",
    )
    .await;
    assert_eq!(
        rows,
        vec![
            strings(&[
                Some("1"),
                Some("alice"),
                Some("1.5"),
                Some("t"),
                Some("2026-01-02 03:04:05.123456+00"),
                Some("2026-01-02"),
            ]),
            strings(&[
                Some("2"),
                Some("bob"),
                Some("-0.25"),
                Some("f"),
                Some("2026-01-02 03:04:05+00"),
                Some("2000-01-01"),
            ]),
            strings(&[
                Some("3"),
                None,
                Some("100"),
                None,
                Some("1999-12-31 23:59:59.5+00"),
                Some("1999-12-31"),
            ]),
        ]
    );

    // Values computed by DataFusion: an array with a NULL, an interval, a decimal.
    assert_eq!(
        common::simple_rows(
            &client,
            "SELECT make_array(1, 2, NULL), INTERVAL '1 day 2 hours', CAST(12.5 AS DECIMAL(10, 2))"
        )
        .await,
        vec![strings(&[
            Some("{1,2,NULL}"),
            Some("1 day 02:00:00"),
            Some("12.50")
        ])]
    );
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_statements_and_empty_queries() {
    let server = Server::spawn().await;
    let client = server.connect().await;

    let messages = client
        .simple_query("SELECT 1 AS a; SELECT 'x' AS b")
        .await
        .expect("two statements");
    let summary: Vec<String> = messages
        .iter()
        .map(|m| match m {
            SimpleQueryMessage::Row(row) => format!("row {}", row.get(0).unwrap_or("NULL")),
            SimpleQueryMessage::CommandComplete(n) => format!("complete {n}"),
            _ => "other".to_string(),
        })
        .filter(|s| s != "other")
        .collect();
    assert_eq!(summary, ["row 1", "complete 1", "row x", "complete 1"]);

    // Empty, semicolon-only and comment-only strings answer EmptyQueryResponse: no rows.
    for sql in ["", ";", "-- ping"] {
        let messages = client.simple_query(sql).await.expect(sql);
        assert!(
            !messages
                .iter()
                .any(|m| matches!(m, SimpleQueryMessage::Row(_))),
            "{sql:?}"
        );
    }
    // The connection is still fine.
    assert_eq!(
        common::simple_rows(&client, "SELECT count(*) FROM t").await,
        vec![strings(&[Some("3")])]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_and_inferred_parameters() {
    let server = Server::spawn().await;
    let client = server.connect().await;

    // Types given by the client in Parse.
    let statement = client
        .prepare_typed(
            "SELECT name FROM t WHERE id = $1 AND name <> $2",
            &[Type::INT8, Type::TEXT],
        )
        .await
        .expect("prepare typed");
    assert_eq!(statement.params(), &[Type::INT8, Type::TEXT]);
    let rows = client
        .query(&statement, &[&1i64, &"bob"])
        .await
        .expect("query typed");
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(names, ["alice"]);

    // Types inferred from the columns they are compared with.
    let statement = client
        .prepare("SELECT id FROM t WHERE name = $1")
        .await
        .expect("prepare");
    assert_eq!(statement.params(), &[Type::TEXT]);
    let rows = client.query(&statement, &[&"bob"]).await.expect("query");
    let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(ids, [2]);

    let statement = client
        .prepare("SELECT name FROM t WHERE id > $1 ORDER BY id")
        .await
        .expect("prepare");
    assert_eq!(statement.params(), &[Type::INT8]);
    let rows = client.query(&statement, &[&1i64]).await.expect("query");
    let names: Vec<Option<String>> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(names, [Some("bob".to_string()), None]);

    // A type taken from a cast of the parameter; 41 + 1 is computed as bigint.
    let statement = client
        .prepare("SELECT $1::int4 + 1 AS answer")
        .await
        .expect("prepare cast");
    assert_eq!(statement.params(), &[Type::INT4]);
    assert_eq!(statement.columns()[0].type_(), &Type::INT8);
    let row = client
        .query_one(&statement, &[&41i32])
        .await
        .expect("query cast");
    assert_eq!(row.get::<_, i64>(0), 42);

    // A parameter only the client types: the result column takes the declared type.
    let statement = client
        .prepare_typed("SELECT $1 AS v", &[Type::INT4])
        .await
        .expect("prepare select-list parameter");
    assert_eq!(statement.columns()[0].type_(), &Type::INT4);
    let row = client
        .query_one(&statement, &[&7i32])
        .await
        .expect("query select-list parameter");
    assert_eq!(row.get::<_, i32>(0), 7);

    // A NULL parameter matches nothing.
    let rows = client
        .query("SELECT id FROM t WHERE id = $1", &[&None::<i64>])
        .await
        .expect("null parameter");
    assert!(rows.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_results() {
    let server = Server::spawn().await;
    let client = server.connect().await;

    let statement = client
        .prepare("SELECT id, score, name, ts, day, ok FROM t ORDER BY id")
        .await
        .expect("prepare");
    let types: Vec<Type> = statement
        .columns()
        .iter()
        .map(|c| c.type_().clone())
        .collect();
    assert_eq!(
        types,
        [
            Type::INT8,
            Type::FLOAT8,
            Type::TEXT,
            Type::TIMESTAMPTZ,
            Type::DATE,
            Type::BOOL
        ]
    );
    // tokio-postgres asks for binary results for every column.
    let rows = client.query(&statement, &[]).await.expect("query");
    assert_eq!(rows.len(), 3);

    let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(ids, [1, 2, 3]);
    let scores: Vec<f64> = rows.iter().map(|r| r.get(1)).collect();
    assert_eq!(scores, [1.5, -0.25, 100.0]);
    let names: Vec<Option<&str>> = rows.iter().map(|r| r.get(2)).collect();
    assert_eq!(names, [Some("alice"), Some("bob"), None]);
    let times: Vec<SystemTime> = rows.iter().map(|r| r.get(3)).collect();
    let expected: Vec<SystemTime> = TS
        .iter()
        .map(|us| UNIX_EPOCH + Duration::from_micros(*us as u64))
        .collect();
    assert_eq!(times, expected);
    // Dates are days since 2000-01-01: 9498, 0 and -1.
    let days: Vec<Raw> = rows.iter().map(|r| r.get(4)).collect();
    assert_eq!(
        days,
        [
            Raw(9_498i32.to_be_bytes().to_vec()),
            Raw(0i32.to_be_bytes().to_vec()),
            Raw((-1i32).to_be_bytes().to_vec()),
        ]
    );
    // And timestamps microseconds since 2000-01-01: the last one is half a second before.
    let raw_ts: Raw = rows[2].get(3);
    assert_eq!(raw_ts, Raw((-500_000i64).to_be_bytes().to_vec()));
    let oks: Vec<Option<bool>> = rows.iter().map(|r| r.get(5)).collect();
    assert_eq!(oks, [Some(true), Some(false), None]);

    // Arrays in binary.
    let row = client
        .query_one("SELECT make_array(1, 2, NULL) AS a", &[])
        .await
        .expect("array");
    assert_eq!(row.columns()[0].type_(), &Type::INT8_ARRAY);
    let array: Vec<Option<i64>> = row.get(0);
    assert_eq!(array, [Some(1), Some(2), None]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_sqlstates_and_leave_the_connection_usable() {
    let server = Server::spawn().await;
    let client = server.connect().await;

    assert_eq!(
        sqlstate(client.simple_query("SELEC 1").await),
        SqlState::SYNTAX_ERROR
    );
    assert_eq!(
        common::simple_rows(&client, "SELECT 1").await,
        vec![strings(&[Some("1")])]
    );

    assert_eq!(
        sqlstate(client.simple_query("SELECT * FROM nope").await),
        SqlState::UNDEFINED_TABLE
    );
    // The same through the extended protocol (the error comes at Parse).
    assert_eq!(
        sqlstate(
            client
                .query("SELECT * FROM nope WHERE x = $1", &[&1i64])
                .await
        ),
        SqlState::UNDEFINED_TABLE
    );
    assert_eq!(
        sqlstate(client.simple_query("SELECT no_such_function(1)").await),
        SqlState::UNDEFINED_FUNCTION
    );
    // An error while rows are produced.
    assert_eq!(
        sqlstate(client.query("SELECT id / (id - id) FROM t", &[]).await),
        SqlState::DIVISION_BY_ZERO
    );
    // Writes to the shared catalog are refused.
    assert_eq!(
        sqlstate(client.simple_query("CREATE VIEW v AS SELECT 1").await),
        SqlState::INSUFFICIENT_PRIVILEGE
    );
    // A statement after an error in the same string does not run.
    assert!(
        client
            .simple_query("SELECT * FROM nope; SET TimeZone = 'Asia/Kolkata'")
            .await
            .is_err()
    );
    assert_eq!(
        common::simple_rows(&client, "SHOW TimeZone").await,
        vec![strings(&[Some("UTC")])]
    );

    let row = client
        .query_one("SELECT count(*) FROM t WHERE id >= $1", &[&2i64])
        .await
        .expect("usable after errors");
    assert_eq!(row.get::<_, i64>(0), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_per_connection() {
    let server = Server::spawn().await;
    let client = server.connect().await;
    let other = server.connect().await;

    client
        .simple_query("SET TimeZone = 'Asia/Kolkata'")
        .await
        .expect("set");
    assert_eq!(
        common::simple_rows(&client, "SHOW timezone").await,
        vec![strings(&[Some("Asia/Kolkata")])]
    );
    // 03:04:05.123456 UTC is 08:34:05.123456 at +05:30.
    assert_eq!(
        common::simple_rows(&client, "SELECT ts FROM t WHERE id = 1").await,
        vec![strings(&[Some("2026-01-02 08:34:05.123456+05:30")])]
    );
    assert_eq!(
        common::simple_rows(&other, "SHOW TimeZone").await,
        vec![strings(&[Some("UTC")])]
    );
    assert_eq!(
        sqlstate(client.simple_query("SET TimeZone = 'Mars/Olympus'").await),
        SqlState::INVALID_PARAMETER_VALUE
    );
    client.simple_query("RESET TimeZone").await.expect("reset");
    assert_eq!(
        common::simple_rows(&client, "SHOW TimeZone").await,
        vec![strings(&[Some("UTC")])]
    );

    // 0.1 + 0.2 is 0.30000000000000004 in float8; with extra_float_digits = 0 PostgreSQL
    // rounds to 15 significant digits.
    let sum = "SELECT CAST(0.1 AS DOUBLE) + CAST(0.2 AS DOUBLE)";
    assert_eq!(
        common::simple_rows(&client, sum).await,
        vec![strings(&[Some("0.30000000000000004")])]
    );
    client
        .simple_query("SET extra_float_digits = 0")
        .await
        .expect("set");
    assert_eq!(
        common::simple_rows(&client, sum).await,
        vec![strings(&[Some("0.3")])]
    );

    let version = format!(
        "PostgreSQL 16.6 (chatlake {}) on {}-pc-linux-gnu",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    );
    assert_eq!(
        common::simple_rows(&client, "SELECT version()").await,
        vec![strings(&[Some(&version)])]
    );
    assert_eq!(
        common::simple_rows(&client, "SHOW server_version").await,
        vec![vec![Some(format!(
            "16.6 (chatlake {})",
            env!("CARGO_PKG_VERSION")
        ))]]
    );
    assert_eq!(
        common::simple_rows(
            &client,
            "SELECT current_database(), current_schema(), pg_backend_pid() > 0"
        )
        .await,
        vec![strings(&[Some("chatlake"), Some("public"), Some("t")])]
    );
    assert_eq!(
        sqlstate(client.simple_query("SHOW no_such_setting").await),
        SqlState::UNDEFINED_OBJECT
    );
    client
        .simple_query("SET application_name = 'wire test'; DISCARD ALL")
        .await
        .expect("discard");
    assert_eq!(
        common::simple_rows(&client, "SHOW application_name").await,
        vec![strings(&[Some("")])]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_are_accepted() {
    let server = Server::spawn().await;
    let mut client = server.connect().await;

    let transaction = client.transaction().await.expect("BEGIN");
    let row = transaction
        .query_one("SELECT count(*) FROM messages", &[])
        .await
        .expect("query in transaction");
    assert_eq!(row.get::<_, i64>(0), 5);
    transaction.commit().await.expect("COMMIT");

    for sql in [
        "BEGIN",
        "SAVEPOINT a",
        "RELEASE SAVEPOINT a",
        "ROLLBACK",
        "START TRANSACTION",
        "COMMIT",
    ] {
        client.simple_query(sql).await.expect(sql);
    }
    // A portal read a few rows at a time (Execute with max_rows, answered PortalSuspended).
    let transaction = client.transaction().await.expect("BEGIN");
    let statement = transaction
        .prepare("SELECT id FROM t ORDER BY id")
        .await
        .expect("prepare");
    let portal = transaction.bind(&statement, &[]).await.expect("bind");
    let mut batches = Vec::new();
    for _ in 0..3 {
        let rows = transaction
            .query_portal(&portal, 2)
            .await
            .expect("execute portal");
        batches.push(rows.iter().map(|r| r.get(0)).collect::<Vec<i64>>());
    }
    assert_eq!(batches, [vec![1, 2], vec![3], vec![]]);
    transaction.rollback().await.expect("ROLLBACK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_are_refused() {
    let server = Server::start(ServerOptions {
        max_connections: 1,
        ..ServerOptions::default()
    })
    .await;
    let first = server.connect().await;
    assert_eq!(
        sqlstate(server.try_connect().await),
        SqlState::TOO_MANY_CONNECTIONS
    );
    drop(first);
    // The slot frees once the server has seen the first connection close.
    let mut again = None;
    for _ in 0..100 {
        if let Ok(client) = server.try_connect().await {
            again = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again = again.expect("a connection once the first one closed");
    assert_eq!(
        common::simple_rows(&again, "SELECT 1").await,
        vec![strings(&[Some("1")])]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_accepting_and_drops_idle_connections() {
    let server = Server::start(ServerOptions {
        shutdown_grace: Duration::from_millis(200),
        ..ServerOptions::default()
    })
    .await;
    let client = server.connect().await;
    let config = server.config();
    server.shutdown().await.expect("clean shutdown");
    assert!(client.simple_query("SELECT 1").await.is_err());
    assert!(tokio_postgres::connect(&config, NoTls).await.is_err());
}

/// `psql -A -t -c sql` as `chatlake` on `server`: (success, stdout, stderr).
async fn psql(server: &Server, sql: &str) -> (bool, String, String) {
    common::psql(server.addr.port(), "chatlake", &["-A", "-t"], sql).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_connects_and_queries() {
    let server = Server::spawn().await;

    let (ok, out, err) = psql(&server, "SELECT count(*) FROM messages").await;
    assert!(ok, "{err}");
    assert_eq!(out, "5\n");

    // NULL prints as an empty line.
    let (ok, out, err) = psql(&server, "SELECT name FROM t ORDER BY id").await;
    assert!(ok, "{err}");
    assert_eq!(out, "alice\nbob\n\n");

    let (ok, out, err) = psql(&server, "SELECT version()").await;
    assert!(ok, "{err}");
    assert_eq!(
        out,
        format!(
            "PostgreSQL 16.6 (chatlake {}) on {}-pc-linux-gnu\n",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::ARCH
        )
    );

    // Several statements in one -c string: psql 15 prints every result, and the command
    // tag of a statement without rows (`SET`) unless run with -q.
    let (ok, out, err) = psql(
        &server,
        "SET TimeZone = 'Asia/Kolkata'; SELECT ts, make_array('a b', NULL) FROM t WHERE id = 1",
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "SET\n2026-01-02 08:34:05.123456+05:30|{\"a b\",NULL}\n"
    );

    let (ok, _, err) = psql(&server, "SELEC 1").await;
    assert!(!ok);
    assert!(err.contains("ERROR"), "{err}");
}
