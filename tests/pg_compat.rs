//! Postgres compatibility as real clients see it: the catalog behind psql's `\d` family and
//! driver introspection, `COPY … TO STDOUT`, cancel requests and `statement_timeout`, and SQL
//! cursors — against the real engine over the fixture lake, served on `127.0.0.1:0`.
//!
//! Expected values come from PostgreSQL's documented behaviour (type names, COPY quoting,
//! SQLSTATEs) and from the fixture's schema (`src/lake/schema.rs`), never from our output.

mod common;

use common::simple_rows as rows;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chatlake::config::EngineConfig;
use chatlake::engine::Engine;
use futures::{StreamExt, TryStreamExt};
use tokio::net::TcpListener;
use tokio::sync::{OnceCell, oneshot};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

/// A view over `messages`, loaded the way `sql/views` files are.
const VIEW_SQL: &str = "CREATE VIEW tenant_messages AS SELECT tenant_id, count(*) AS n FROM messages GROUP BY tenant_id";

/// One server per test binary (the engine is shared by connections, as in production).
struct Server {
    port: u16,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

static SERVER: OnceCell<Server> = OnceCell::const_new();

/// The shared server.
async fn server() -> &'static Server {
    SERVER.get_or_init(|| start_server("pg-compat-srv")).await
}

/// A server over the fixture lake on its own runtime, whose threads are named `threads` (at
/// most 15 bytes: Linux's thread name limit), so their CPU time can be told apart.
async fn start_server(threads: &'static str) -> Server {
    let lake: PathBuf = common::fixture_lake().await;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("views")).expect("views dir");
    std::fs::write(dir.path().join("views/900_tenant_messages.sql"), VIEW_SQL).expect("view file");
    let mut config = EngineConfig::new(lake.to_string_lossy().to_string());
    config.sql_dir = Some(dir.path().to_path_buf());
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    let (stop, stopped) = oneshot::channel::<()>();
    // The server gets its own runtime: each #[tokio::test] has its own, which ends with the
    // test.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(threads)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let engine = Arc::new(Engine::open(&config).await.expect("engine"));
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let port = listener.local_addr().expect("addr").port();
            port_tx.send(port).expect("send port");
            chatlake::pg::serve(listener, engine, async move {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
        });
    });
    let port = tokio::task::spawn_blocking(move || port_rx.recv().expect("port"))
        .await
        .expect("port task");
    Server {
        port,
        _stop: stop,
        _dir: dir,
    }
}

async fn connect() -> Client {
    connect_to(server().await).await
}

async fn connect_to(server: &Server) -> Client {
    let config = format!(
        "host=127.0.0.1 port={} user=analyst dbname=chatlake connect_timeout=10",
        server.port
    );
    let (client, connection) = tokio_postgres::connect(&config, NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
}

async fn one(client: &Client, sql: &str) -> Option<String> {
    rows(client, sql)
        .await
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next())
        .flatten()
}

fn code<T: std::fmt::Debug>(result: Result<T, tokio_postgres::Error>) -> SqlState {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e
            .code()
            .cloned()
            .unwrap_or_else(|| panic!("no SQLSTATE: {e:?}")),
    }
}

/// `psql -X [-A -t] -c sql` as `analyst` on the shared server: (success, stdout, stderr).
async fn psql(args: &[&str], sql: &str) -> (bool, String, String) {
    common::psql(server().await.port, "analyst", args, sql).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_describe_commands_work() {
    // \dt: every lake table is a table of schema public owned by someone.
    let (ok, out, err) = psql(&["-A", "-t"], "\\dt").await;
    assert!(ok, "\\dt failed: {err}");
    for table in ["messages", "contacts", "message_statuses"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("public|{table}|table|"))),
            "\\dt lacks {table}:\n{out}"
        );
    }

    let (ok, out, err) = psql(&["-A", "-t"], "\\dv").await;
    assert!(ok, "\\dv failed: {err}");
    assert!(out.contains("public|tenant_messages|view|"), "{out}");

    // \d messages: psql's column listing with PostgreSQL type names.
    let (ok, out, err) = psql(&["-A", "-t"], "\\d messages").await;
    assert!(ok, "\\d messages failed: {err}");
    for line in [
        "message_id|text|",
        "ts|timestamp with time zone|",
        "is_template|boolean|",
        "calling_code|integer|",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(line)),
            "no {line}:\n{out}"
        );
    }

    let (ok, out, err) = psql(&[], "\\d+ tenant_messages").await;
    assert!(ok, "\\d+ view failed: {err}");
    assert!(out.contains("View definition:"), "{out}");
    assert!(out.contains("GROUP BY tenant_id"), "{out}");

    let (ok, out, err) = psql(&["-A", "-t"], "\\dn").await;
    assert!(ok, "\\dn failed: {err}");
    assert!(out.lines().any(|l| l.starts_with("public|")), "{out}");

    let (ok, out, err) = psql(&["-A", "-t"], "\\l").await;
    assert!(ok, "\\l failed: {err}");
    assert!(out.lines().any(|l| l.starts_with("chatlake|")), "{out}");

    // \d alone: the relations of the search path, tables and views alike.
    let (ok, out, err) = psql(&["-A", "-t"], "\\d").await;
    assert!(ok, "\\d failed: {err}");
    for line in ["public|messages|table|", "public|tenant_messages|view|"] {
        assert!(
            out.lines().any(|l| l.starts_with(line)),
            "\\d lacks {line}:\n{out}"
        );
    }

    // \dt+: the same table lines, with more columns.
    let (ok, out, err) = psql(&["-A", "-t"], "\\dt+").await;
    assert!(ok, "\\dt+ failed: {err}");
    assert!(
        out.lines().any(|l| l.starts_with("public|contacts|table|")),
        "\\dt+ lacks contacts:\n{out}"
    );

    // \d contacts: its columns with PostgreSQL type names and nullability (schema.rs:
    // contact_id Utf8 not null, calling_code Int32, created_at timestamp not null).
    let (ok, out, err) = psql(&["-A", "-t"], "\\d contacts").await;
    assert!(ok, "\\d contacts failed: {err}");
    for line in [
        "contact_id|text||not null|",
        "calling_code|integer|||",
        "created_at|timestamp with time zone||not null|",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(line)),
            "\\d contacts lacks {line}:\n{out}"
        );
    }

    // \df: one line per signature, chatlake's functions among them.
    let (ok, out, err) = psql(&["-A", "-t"], "\\df").await;
    assert!(ok, "\\df failed: {err}");
    assert!(
        out.lines().any(|l| l.starts_with("public|local_date|")),
        "\\df lacks local_date:\n{out}"
    );

    // \di: a Delta lake has no indexes, so no index rows (psql says so on stderr).
    let (ok, out, err) = psql(&["-A", "-t"], "\\di").await;
    assert!(ok, "\\di failed: {err}");
    assert_eq!(out.trim(), "", "\\di listed indexes");

    // \du: trust authentication defines no role yet (pg_roles is empty until the users file
    // lands; then the logged-in role must be listed here): psql lists none and succeeds.
    let (ok, out, err) = psql(&["-A", "-t"], "\\du").await;
    assert!(ok, "\\du failed: {err}");
    assert_eq!(out.trim(), "", "\\du listed roles: update this check");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_df_lists_chatlake_functions_and_reports() {
    // \df: schema|name|result type|argument types|type, one line per signature.
    let (ok, out, err) = psql(&["-A", "-t"], "\\df").await;
    assert!(ok, "\\df failed: {err}");
    let lines: Vec<&str> = out.lines().collect();
    let find = |name: &str| -> Vec<&str> {
        lines
            .iter()
            .copied()
            .filter(|l| l.starts_with(&format!("public|{name}|")))
            .collect()
    };
    // Kinds as PostgreSQL names them (SPEC 5: local_date scalar, window_funnel aggregate,
    // session_id window).
    assert!(
        find("local_date").iter().any(|l| l.ends_with("|func")),
        "local_date:\n{out}"
    );
    for (name, kind) in [("window_funnel", "|agg"), ("session_id", "|window")] {
        let found = find(name);
        assert!(
            !found.is_empty() && found.iter().all(|l| l.ends_with(kind)),
            "{name}:\n{out}"
        );
    }
    // A report: a set of rows, its declared parameters (sql/reports/stella_users.sql), optional
    // ones with their default.
    let [report] = find("stella_users")[..] else {
        panic!("one stella_users line expected:\n{out}");
    };
    assert!(report.contains("|TABLE("), "{report}");
    assert!(
        report.contains(
            "from_date date DEFAULT NULL::date, to_date date DEFAULT NULL::date, \
             channel_id text DEFAULT NULL::text, tz text DEFAULT NULL::text"
        ),
        "{report}"
    );

    // \df+: the description is the function's documentation.
    let (ok, out, err) = psql(&["-A", "-t"], "\\df+ local_date").await;
    assert!(ok, "\\df+ failed: {err}");
    let routines = rows(
        &connect().await,
        "SELECT description FROM information_schema.routines WHERE routine_name = 'local_date'",
    )
    .await;
    let description = routines[0][0].clone().expect("a documented function");
    assert!(out.contains(description.trim()), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn information_schema_and_catalog_functions_speak_postgres() {
    let client = connect().await;
    let types = rows(
        &client,
        "SELECT column_name, data_type, udt_name FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name = 'messages' \
         AND column_name IN ('ts', 'tenant_id', 'calling_code', 'in_csw') ORDER BY column_name",
    )
    .await;
    let expected = [
        ("calling_code", "integer", "int4"),
        ("in_csw", "boolean", "bool"),
        ("tenant_id", "text", "text"),
        ("ts", "timestamp with time zone", "timestamptz"),
    ];
    let expected: Vec<Vec<Option<String>>> = expected
        .iter()
        .map(|(a, b, c)| {
            vec![
                Some(a.to_string()),
                Some(b.to_string()),
                Some(c.to_string()),
            ]
        })
        .collect();
    assert_eq!(types, expected);

    let tables = rows(
        &client,
        "SELECT table_name, table_type FROM information_schema.tables \
         WHERE table_name IN ('messages', 'tenant_messages') ORDER BY 1",
    )
    .await;
    assert_eq!(
        tables,
        vec![
            vec![Some("messages".into()), Some("BASE TABLE".into())],
            vec![Some("tenant_messages".into()), Some("VIEW".into())],
        ]
    );

    // 'name'::regclass and oid::regtype::text, as psql, pgcli and SQLAlchemy write them.
    assert_eq!(
        one(
            &client,
            "SELECT 'messages'::regclass::oid = (SELECT oid FROM pg_catalog.pg_class \
             WHERE relname = 'messages')"
        )
        .await
        .as_deref(),
        Some("t")
    );
    assert_eq!(
        one(
            &client,
            "SELECT a.atttypid::regtype::text FROM pg_catalog.pg_attribute a \
             WHERE a.attrelid = 'messages'::regclass AND a.attname = 'ts'"
        )
        .await
        .as_deref(),
        Some("timestamp with time zone")
    );
    // Builtin OIDs are PostgreSQL's: int8 is 20, pg_catalog is namespace 11.
    assert_eq!(
        one(&client, "SELECT pg_catalog.format_type(20, NULL)")
            .await
            .as_deref(),
        Some("bigint")
    );
    assert_eq!(
        one(
            &client,
            "SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_catalog'"
        )
        .await
        .as_deref(),
        Some("11")
    );
    // PostgreSQL docs, pg_size_pretty: bytes below 10 kB, then kB.
    assert_eq!(
        rows(
            &client,
            "SELECT pg_size_pretty(1000::bigint), pg_size_pretty(10240::bigint)"
        )
        .await,
        vec![vec![Some("1000 bytes".into()), Some("10 kB".into())]]
    );
    assert_eq!(
        rows(
            &client,
            "SELECT quote_ident('a b'), current_schema(), current_user, \
             has_table_privilege('messages', 'SELECT'), obj_description(1, 'pg_class'), \
             pg_catalog.pg_table_is_visible('messages'::regclass)"
        )
        .await,
        vec![vec![
            Some("\"a b\"".into()),
            Some("public".into()),
            Some("analyst".into()),
            Some("t".into()),
            None,
            Some("t".into()),
        ]]
    );
    assert_eq!(
        one(&client, "SELECT current_setting('TimeZone')")
            .await
            .as_deref(),
        Some("UTC")
    );
    assert_eq!(
        code(client.simple_query("SELECT no_such_function(1)").await),
        SqlState::UNDEFINED_FUNCTION
    );
    assert_eq!(
        code(
            client
                .simple_query("SELECT * FROM pg_catalog.no_such_table")
                .await
        ),
        SqlState::UNDEFINED_TABLE
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_to_stdout_in_text_and_csv() {
    let client = connect().await;
    // PostgreSQL docs, COPY "CSV Format": a NULL is an unquoted empty field, values holding the
    // delimiter or quote are quoted with quotes doubled; HEADER writes the column names.
    let out: Vec<u8> = client
        .copy_out("COPY (SELECT 1 AS id, 'a,b' AS s, NULL AS n, 'x\"y' AS q) TO STDOUT csv header")
        .await
        .expect("copy csv")
        .map_ok(|chunk| chunk.to_vec())
        .try_concat()
        .await
        .expect("copy data");
    assert_eq!(
        String::from_utf8_lossy(&out),
        "id,s,n,q\n1,\"a,b\",,\"x\"\"y\"\n"
    );

    // The TSV export: CSV with a tab delimiter.
    let out: Vec<u8> = client
        .copy_out(
            "COPY (SELECT 'a b' AS x, 2 AS y UNION ALL SELECT 'c', 3 ORDER BY y) \
             TO STDOUT (FORMAT csv, DELIMITER E'\\t', HEADER)",
        )
        .await
        .expect("copy tsv")
        .map_ok(|chunk| chunk.to_vec())
        .try_concat()
        .await
        .expect("copy data");
    assert_eq!(String::from_utf8_lossy(&out), "x\ty\na b\t2\nc\t3\n");

    // Text format: tab-separated, NULL as \N, tabs and backslashes escaped.
    let out: Vec<u8> = client
        .copy_out("COPY (SELECT 'a\tb' AS x, NULL AS y, 'back\\slash' AS z) TO STDOUT")
        .await
        .expect("copy text")
        .map_ok(|chunk| chunk.to_vec())
        .try_concat()
        .await
        .expect("copy data");
    assert_eq!(String::from_utf8_lossy(&out), "a\\tb\t\\N\tback\\\\slash\n");

    // A whole table, counted in the tag: every messages row.
    let total: i64 = client
        .query_one("SELECT count(*) FROM messages", &[])
        .await
        .expect("count")
        .get(0);
    let lines = client
        .copy_out("COPY messages (message_id) TO STDOUT")
        .await
        .expect("copy table")
        .map_ok(|chunk| chunk.iter().filter(|b| **b == b'\n').count())
        .try_fold(0usize, |a, b| async move { Ok(a + b) })
        .await
        .expect("copy data");
    assert_eq!(i64::try_from(lines).ok(), Some(total));

    // psql's \copy goes through the same COPY … TO STDOUT.
    let (ok, out, err) = psql(
        &[],
        "\\copy (SELECT 'x' AS a, 1 AS b UNION ALL SELECT 'y,z', 2 ORDER BY b) to stdout csv header",
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(out, "a,b\nx,1\n\"y,z\",2\n");

    // Writing server files (or the server's S3) is not for clients, in any COPY spelling;
    // `chatlake export` is the operator's way to write files.
    let target = std::env::temp_dir().join(format!("chatlake-copy-{}", std::process::id()));
    let target = target.to_string_lossy();
    for (sql, expected) in [
        (
            format!("COPY (SELECT 1) TO '{target}.csv'"),
            SqlState::INSUFFICIENT_PRIVILEGE,
        ),
        (
            format!("COPY (SELECT * FROM tenants) TO '{target}.json' (FORMAT csv, HEADER)"),
            SqlState::INSUFFICIENT_PRIVILEGE,
        ),
        (
            "COPY (SELECT 1) TO 's3://bucket/out.csv'".to_string(),
            SqlState::INSUFFICIENT_PRIVILEGE,
        ),
        // DataFusion's own spelling is not PostgreSQL's: a syntax error, as in PostgreSQL.
        (
            format!("COPY messages TO '{target}.parquet' STORED AS PARQUET"),
            SqlState::SYNTAX_ERROR,
        ),
    ] {
        assert_eq!(code(client.simple_query(&sql).await), expected, "{sql}");
    }
    for ext in ["csv", "parquet", "json"] {
        assert!(
            !std::path::Path::new(&format!("{target}.{ext}")).exists(),
            "no file written for .{ext}"
        );
    }
    assert_eq!(
        code(client.simple_query("COPY messages FROM STDIN").await),
        SqlState::FEATURE_NOT_SUPPORTED
    );
}

/// Name of the threads of the cancel test's own server.
const CANCEL_THREADS: &str = "cancel-test-srv";

/// CPU seconds (user + system) used so far by this process's threads named `name`, from
/// /proc/self/task/*/stat: the cancel test's server alone, whatever other tests run beside it.
fn cpu_seconds_of(name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut ticks = 0.0;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        if head.split_once('(').map(|(_, comm)| comm) != Some(name) {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // Fields 14 and 15 of stat(5) (utime, stime) are at 11 and 12 after the name.
        ticks += [11, 12]
            .iter()
            .filter_map(|i| fields.get(*i).and_then(|v| v.parse::<f64>().ok()))
            .sum::<f64>();
    }
    ticks / 100.0
}

/// A query that runs for minutes: a cross join of two large ranges.
const SLOW: &str = "SELECT count(*) FROM range(1, 200000000) a CROSS JOIN range(1, 1000) b \
                    WHERE a.value % 7 = b.value % 5";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_request_and_statement_timeout_stop_the_query() {
    // Its own server, so the CPU measured below is this query's alone.
    let server = start_server(CANCEL_THREADS).await;
    let client = connect_to(&server).await;
    let token = client.cancel_token();
    let started = Instant::now();
    let canceler = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        token.cancel_query(NoTls).await
    });
    let result = client.simple_query(SLOW).await;
    assert_eq!(code(result), SqlState::QUERY_CANCELED);
    canceler.await.expect("cancel task").expect("cancel sent");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    // The connection goes on.
    assert_eq!(one(&client, "SELECT 41 + 1").await.as_deref(), Some("42"));

    // Once canceled, the query no longer burns CPU (the query ran on the server's threads:
    // they did use CPU before the cancel).
    assert!(
        cpu_seconds_of(CANCEL_THREADS) > 0.0,
        "no server thread found"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cpu_seconds_of(CANCEL_THREADS);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let used = cpu_seconds_of(CANCEL_THREADS) - before;
    assert!(
        used < 0.5,
        "{used} CPU seconds used in 1 s after the cancel"
    );

    // statement_timeout, also through the extended protocol.
    client
        .simple_query("SET statement_timeout = '300ms'")
        .await
        .expect("set");
    let started = Instant::now();
    assert_eq!(
        code(client.simple_query(SLOW).await),
        SqlState::QUERY_CANCELED
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let error = client.query(SLOW, &[]).await.expect_err("times out");
    assert_eq!(error.code(), Some(&SqlState::QUERY_CANCELED));
    let message = error.as_db_error().map(|e| e.message().to_string());
    assert_eq!(
        message.as_deref(),
        Some("canceling statement due to statement timeout")
    );
    client
        .simple_query("SET statement_timeout = 0")
        .await
        .expect("reset");
    assert_eq!(one(&client, "SELECT 1").await.as_deref(), Some("1"));
    assert_eq!(
        code(client.simple_query("SET statement_timeout = 'soon'").await),
        SqlState::INVALID_PARAMETER_VALUE
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_cursors_fetch_forward() {
    let client = connect().await;
    client.simple_query("BEGIN").await.expect("begin");
    client
        .simple_query(
            "DECLARE c CURSOR WITHOUT HOLD FOR \
             SELECT value FROM range(1, 6) ORDER BY value",
        )
        .await
        .expect("declare");
    assert_eq!(
        rows(&client, "FETCH FORWARD 2 FROM c").await,
        vec![vec![Some("1".into())], vec![Some("2".into())]]
    );
    assert_eq!(
        rows(&client, "FETCH NEXT FROM c").await,
        vec![vec![Some("3".into())]]
    );
    assert_eq!(
        rows(&client, "FETCH ALL FROM c").await,
        vec![vec![Some("4".into())], vec![Some("5".into())]]
    );
    assert!(rows(&client, "FETCH 10 FROM c").await.is_empty());
    assert_eq!(
        code(client.simple_query("FETCH BACKWARD 1 FROM c").await),
        SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE
    );
    client.simple_query("ROLLBACK").await.expect("rollback");
    // A cursor without HOLD ends with its transaction.
    assert_eq!(
        code(client.simple_query("FETCH 1 FROM c").await),
        SqlState::INVALID_CURSOR_NAME
    );
    client
        .simple_query("DECLARE d CURSOR WITH HOLD FOR SELECT 1 AS x")
        .await
        .expect("declare");
    assert_eq!(
        code(client.simple_query("DECLARE d CURSOR FOR SELECT 2").await),
        SqlState::DUPLICATE_CURSOR
    );
    client.simple_query("CLOSE d").await.expect("close");
    client.simple_query("CLOSE ALL").await.expect("close all");
    assert_eq!(
        code(client.simple_query("CLOSE d").await),
        SqlState::INVALID_CURSOR_NAME
    );
    // asyncpg's pool reset, as one multi-statement query.
    client
        .batch_execute("SELECT pg_advisory_unlock_all();\nCLOSE ALL;\nUNLISTEN *;\nRESET ALL;")
        .await
        .expect("asyncpg reset");
    let _ = client.simple_query("SELECT 1").await.expect("still usable");
    let statements: Vec<_> = futures::stream::iter(0..3)
        .then(|i| {
            let client = &client;
            async move {
                client
                    .query_one("SELECT $1::int8 + 1", &[&i64::from(i)])
                    .await
            }
        })
        .collect()
        .await;
    let sums: Vec<i64> = statements
        .into_iter()
        .map(|r| r.expect("prepared statement").get(0))
        .collect();
    assert_eq!(sums, vec![1, 2, 3]);
}
