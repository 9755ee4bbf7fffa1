//! Bad input over raw sockets: absurd startup packets, malformed and unknown messages, random
//! bytes, a query of many megabytes and deeply nested SQL. Each must end in an ErrorResponse or
//! a closed connection — never a panic — and the server must go on serving other clients.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{ArrayRef, Int64Array, RecordBatch};
use chatlake::pg::{ServerOptions, SessionFactory, serve_with_options};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_postgres::NoTls;

fn session() -> SessionContext {
    with_table(SessionContext::new())
}

/// `ctx` with table `t`: `id` 1, 2, 3.
fn with_table(ctx: SessionContext) -> SessionContext {
    let batch = RecordBatch::try_from_iter(vec![(
        "id",
        Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef,
    )])
    .expect("batch");
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).expect("table");
    ctx.register_table("t", Arc::new(table)).expect("register");
    ctx
}

async fn start() -> u16 {
    serve_sessions(Arc::new(session)).await
}

/// Serves `sessions` on a free port; returns the port.
async fn serve_sessions(sessions: SessionFactory) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(serve_with_options(
        listener,
        sessions,
        ServerOptions::default(),
        std::future::pending(),
    ));
    port
}

/// A healthy client still gets answers.
async fn still_serving(port: u16) {
    let config = format!("host=127.0.0.1 port={port} user=u dbname=chatlake connect_timeout=10");
    let (client, connection) = tokio_postgres::connect(&config, NoTls)
        .await
        .expect("a healthy client connects");
    tokio::spawn(connection);
    let row = client
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .expect("query");
    assert_eq!(row.get::<_, i64>(0), 3);
}

fn startup_message() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&196_608i32.to_be_bytes());
    for part in ["user", "u", "database", "chatlake"] {
        body.extend_from_slice(part.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut message = ((body.len() + 4) as i32).to_be_bytes().to_vec();
    message.extend(body);
    message
}

fn message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![tag];
    m.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn query(sql: &str) -> Vec<u8> {
    let mut body = sql.as_bytes().to_vec();
    body.push(0);
    message(b'Q', &body)
}

/// Reads backend messages until ReadyForQuery, EOF or a timeout; returns their type bytes
/// and the SQLSTATE of the first ErrorResponse.
async fn read_until_ready(socket: &mut TcpStream) -> (Vec<u8>, Option<String>) {
    let mut types = Vec::new();
    let mut sqlstate = None;
    let read = async {
        loop {
            let mut header = [0u8; 5];
            if socket.read_exact(&mut header).await.is_err() {
                return;
            }
            let length = i32::from_be_bytes([header[1], header[2], header[3], header[4]]);
            let mut body = vec![0u8; usize::try_from(length - 4).unwrap_or(0)];
            if socket.read_exact(&mut body).await.is_err() {
                return;
            }
            types.push(header[0]);
            if header[0] == b'E' && sqlstate.is_none() {
                let mut fields = body.split(|b| *b == 0);
                for field in fields.by_ref() {
                    if field.first() == Some(&b'C') {
                        sqlstate = Some(String::from_utf8_lossy(&field[1..]).into_owned());
                    }
                }
            }
            if header[0] == b'Z' {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(30), read).await;
    (types, sqlstate)
}

async fn connected(port: u16) -> TcpStream {
    let mut socket = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    socket.write_all(&startup_message()).await.expect("startup");
    let (types, _) = read_until_ready(&mut socket).await;
    assert_eq!(types.last(), Some(&b'Z'), "startup ends with ReadyForQuery");
    socket
}

/// True when the server closed the socket (read gives EOF or an error within 10 s).
async fn closed(socket: &mut TcpStream) -> bool {
    let mut buffer = [0u8; 1024];
    let result = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    })
    .await;
    result.unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_startup_packets_are_dropped() {
    let port = start().await;
    for header in [
        // Length 2 GiB: never allocated, the connection is dropped.
        [0x7f, 0xff, 0xff, 0xff, 0x00, 0x03, 0x00, 0x00],
        // Negative and too-small lengths.
        [0xff, 0xff, 0xff, 0xff, 0x00, 0x03, 0x00, 0x00],
        [0x00, 0x00, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00],
        // An unknown protocol version.
        [0x00, 0x00, 0x00, 0x08, 0x12, 0x34, 0x56, 0x78],
    ] {
        let mut socket = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let _ = socket.write_all(&header).await;
        assert!(
            closed(&mut socket).await,
            "{header:?} left the connection open"
        );
    }
    still_serving(port).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_end_in_an_error_or_a_closed_connection() {
    let port = start().await;

    // An unknown message type.
    let mut socket = connected(port).await;
    let _ = socket.write_all(&message(b'!', b"what")).await;
    let (types, _) = read_until_ready(&mut socket).await;
    assert!(types.is_empty() || types.contains(&b'E'), "{types:?}");

    // A Bind for a statement that does not exist, then Sync: an error, then ready again.
    let mut socket = connected(port).await;
    let mut bind = b"\0nope\0".to_vec();
    bind.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut bytes = message(b'B', &bind);
    bytes.extend(message(b'S', b""));
    socket.write_all(&bytes).await.expect("write");
    let (types, sqlstate) = read_until_ready(&mut socket).await;
    assert!(types.contains(&b'E'), "{types:?}");
    assert!(sqlstate.is_some());
    // The same connection still answers queries.
    socket.write_all(&query("SELECT 1")).await.expect("write");
    let (types, _) = read_until_ready(&mut socket).await;
    assert!(types.contains(&b'D'), "{types:?}");

    // A Parse whose body is cut short (no terminating NULs).
    let mut socket = connected(port).await;
    let _ = socket.write_all(&message(b'P', b"abc")).await;
    let _ = socket.write_all(&message(b'S', b"")).await;
    let (types, _) = read_until_ready(&mut socket).await;
    assert!(types.is_empty() || types.contains(&b'E'), "{types:?}");

    // A message length pointing far past what is sent, then the client gives up.
    let mut socket = connected(port).await;
    let mut header = vec![b'Q'];
    header.extend_from_slice(&0x7fff_fff0i32.to_be_bytes());
    let _ = socket.write_all(&header).await;
    drop(socket);

    still_serving(port).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bytes_never_take_the_server_down() {
    let port = start().await;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for round in 0..40 {
        let mut socket = if round % 2 == 0 {
            connected(port).await
        } else {
            TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect")
        };
        let len = rng.random_range(1..600);
        let mut junk: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        if round % 4 == 0 {
            // Well-framed messages with random bodies get further into the decoder.
            let tag = *[b'Q', b'P', b'B', b'D', b'E', b'C', b'H', b'S', b'F', b'd']
                .get(rng.random_range(0..10))
                .unwrap_or(&b'Q');
            junk = message(tag, &junk);
            junk.extend(message(b'S', b""));
        }
        let _ = socket.write_all(&junk).await;
        let _ =
            tokio::time::timeout(Duration::from_millis(200), read_until_ready(&mut socket)).await;
    }
    still_serving(port).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_and_deep_queries_get_errors_not_crashes() {
    let port = start().await;
    let mut socket = connected(port).await;

    // An 8 MB string literal is just a long value.
    let big = "x".repeat(8 << 20);
    socket
        .write_all(&query(&format!("SELECT length('{big}') AS n")))
        .await
        .expect("write");
    let (types, sqlstate) = read_until_ready(&mut socket).await;
    assert!(
        types.contains(&b'D') || types.contains(&b'E'),
        "{types:?} {sqlstate:?}"
    );

    // 100 000 nested parentheses: refused as too complex or a syntax error, not a stack
    // overflow.
    let deep = format!("SELECT {}1{}", "(".repeat(100_000), ")".repeat(100_000));
    socket.write_all(&query(&deep)).await.expect("write");
    let (types, sqlstate) = read_until_ready(&mut socket).await;
    assert!(types.contains(&b'E'), "{types:?}");
    let sqlstate = sqlstate.unwrap_or_default();
    assert!(
        sqlstate == "54001" || sqlstate == "42601",
        "nested query: {sqlstate}"
    );

    // A query of many megabytes of unsupported syntax.
    let junk = "SELEC ".repeat(1 << 20);
    socket.write_all(&query(&junk)).await.expect("write");
    let (types, sqlstate) = read_until_ready(&mut socket).await;
    assert!(types.contains(&b'E'), "{types:?}");
    assert_eq!(sqlstate.as_deref(), Some("42601"));

    still_serving(port).await;
}

/// A server whose sessions have 4 MB of memory and no spill files: a big sort runs out.
async fn start_small() -> u16 {
    use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use datafusion::prelude::SessionConfig;
    serve_sessions(Arc::new(|| {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(4 * 1024 * 1024, 1.0)
            .with_disk_manager_builder(
                DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
            )
            .build_arc()
            .expect("runtime");
        with_table(SessionContext::new_with_config_rt(
            SessionConfig::new(),
            runtime,
        ))
    }))
    .await
}

/// Every SQLSTATE the README promises (and the ones of bad types, bad text and memory) reaches
/// a real client: tokio-postgres reads the code of the ErrorResponse, and the connection goes
/// on serving. (`53300` is tested in tests/wire.rs, with a server of one connection.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_reach_clients_with_their_sqlstate() {
    let port = start_small().await;
    let config = format!("host=127.0.0.1 port={port} user=u dbname=chatlake connect_timeout=10");
    let (client, connection) = tokio_postgres::connect(&config, NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let cases = [
        ("SELEC 1", "42601"),                                  // syntax
        ("SELECT * FROM nope", "42P01"),                       // unknown table
        ("SELECT nope(1)", "42883"),                           // unknown function
        ("SELECT nope FROM t", "42703"),                       // unknown column
        ("SELECT id / 0 FROM t", "22012"),                     // division by zero
        ("CREATE TABLE u (a INT)", "42501"),                   // DDL is refused
        ("SELECT id FROM t WHERE id = true", "42804"),         // bigint compared with boolean
        ("SELECT CAST('abc' AS INT)", "22P02"),                // text that is no number
        ("SELECT * FROM t WHERE (id > 1) = 'maybe'", "22P02"), // text that is no boolean
        ("SET statement_timeout = 'soon'", "22023"),           // bad setting value
        (
            "SELECT v FROM generate_series(1, 5000000) AS s(v) ORDER BY v DESC",
            "53200",
        ), // the sort needs more than the session's 4 MB
    ];
    for (sql, expected) in cases {
        let error = client
            .simple_query(sql)
            .await
            .expect_err(&format!("{sql} should fail"));
        let code = error.code().map(|c| c.code().to_string());
        assert_eq!(code.as_deref(), Some(expected), "{sql}: {error:?}");
    }
    // A statement that runs past statement_timeout is canceled. One partition: with several,
    // a starved consumer on a loaded machine lets the repartition buffers fill the session's
    // 4 MB pool first (53200, also a right answer, but not the one under test).
    client
        .simple_query("SET datafusion.execution.target_partitions = 1")
        .await
        .expect("one partition");
    client
        .simple_query("SET statement_timeout = 50")
        .await
        .expect("set timeout");
    let error = client
        .simple_query("SELECT count(*) FROM generate_series(1, 5000000000) AS s(v) WHERE v % 7 = 3")
        .await
        .expect_err("runs past the timeout");
    assert_eq!(error.code().map(|c| c.code()), Some("57014"), "{error:?}");
    client
        .simple_query("SET statement_timeout = 0")
        .await
        .expect("reset timeout");
    let rows = client
        .query("SELECT count(*) FROM t", &[])
        .await
        .expect("the connection still serves");
    assert_eq!(rows[0].get::<_, i64>(0), 3);
}
