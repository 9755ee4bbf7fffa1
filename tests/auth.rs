//! Users, passwords and TLS: `chatlake user add/remove/list` as a person runs them, and a
//! server with an auth file on `127.0.0.1:0` (serving a one-row table) driven by
//! `tokio-postgres` and raw sockets.
//!
//! Expected values are by hand: a verifier is checked against RFC 7677's formulas recomputed
//! here from the password, the salt and the iteration count in the file; error messages are
//! PostgreSQL's wording.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{ArrayRef, Int64Array, RecordBatch};
use chatlake::auth::{AuthFile, AuthStore, Security, TenantGrant, Tls, Verifier};
use chatlake::pg::{ServerOptions, SessionFactory};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;

use common::pg::{Server, connect};

fn scratch(test: &str) -> PathBuf {
    common::cli::fresh_dir(&format!("auth-{test}"))
}

use common::cli::chatlake_with_stdin as chatlake;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn add_user(file: &Path, name: &str, password: &str, grant: &[&str]) {
    let path = file.to_string_lossy();
    let mut args = vec![
        "user",
        "add",
        name,
        "--auth-file",
        &path,
        "--password-stdin",
    ];
    args.extend_from_slice(grant);
    let out = chatlake(&args, &format!("{password}\n"));
    assert!(out.status.success(), "user add: {}", stderr(&out));
}

#[test]
fn user_add_list_remove_keep_only_verifiers() {
    let dir = scratch("cli");
    let file = dir.join("users.toml");
    add_user(
        &file,
        "alice",
        "correct horse",
        &["--tenant", "t1", "--tenant", "t2"],
    );
    add_user(
        &file,
        "root",
        "s3cret!",
        &["--all-tenants", "--connection-limit", "3"],
    );

    let text = std::fs::read_to_string(&file).expect("read");
    assert!(
        !text.contains("correct horse") && !text.contains("s3cret"),
        "{text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner reads the auth file");
    }
    let auth = AuthFile::load(&file).expect("load");
    let alice = auth.user("alice").expect("alice");
    assert_eq!(
        alice.tenants,
        TenantGrant::Only(vec!["t1".into(), "t2".into()])
    );
    assert_eq!(auth.user("root").expect("root").tenants, TenantGrant::All);
    assert_eq!(
        auth.user("root").expect("root").limits.connection_limit,
        Some(3)
    );

    // The stored verifier, recomputed by RFC 5802's formulas from the file's salt and count.
    let stored = alice.verifier.to_string();
    assert!(stored.starts_with("SCRAM-SHA-256$4096:"), "{stored}");
    assert_eq!(alice.verifier.salt().len(), 16);
    let again = Verifier::with_salt("correct horse", alice.verifier.salt(), 4096);
    assert_eq!(again.to_string(), stored);
    assert!(!alice.verifier.matches("correct horse "));

    let out = chatlake(
        &["user", "list", "--auth-file", &file.to_string_lossy()],
        "",
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "user\ttenants\tconnection_limit\tstatement_timeout\tmemory_limit\n\
         alice\tt1,t2\t-\t-\t-\n\
         root\tall tenants\t3\t-\t-\n"
    );

    let out = chatlake(
        &[
            "user",
            "remove",
            "alice",
            "--auth-file",
            &file.to_string_lossy(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(AuthFile::load(&file).expect("load").user("alice").is_none());
    let out = chatlake(
        &[
            "user",
            "remove",
            "alice",
            "--auth-file",
            &file.to_string_lossy(),
        ],
        "",
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no user 'alice' in"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn user_add_refuses_bad_input_with_one_line() {
    let dir = scratch("cli-bad");
    let file = dir.join("users.toml");
    let path = file.to_string_lossy().to_string();
    for (args, stdin, expected) in [
        (
            vec!["user", "add", "a", "--auth-file", &path, "--password-stdin"],
            "pw\n",
            "--tenant T",
        ),
        (
            vec![
                "user",
                "add",
                "a",
                "--auth-file",
                &path,
                "--password-stdin",
                "--all-tenants",
            ],
            "\n",
            "an empty password is not allowed",
        ),
        (
            vec!["user", "add", "a", "--auth-file", &path, "--all-tenants"],
            "pw\n",
            "no terminal to ask for the password on",
        ),
        (
            vec![
                "user",
                "add",
                "a",
                "--auth-file",
                &path,
                "--password-stdin",
                "--all-tenants",
                "--statement-timeout",
                "soon",
            ],
            "pw\n",
            "statement_timeout 'soon'",
        ),
    ] {
        let out = chatlake(&args, stdin);
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(!err.contains("panicked"));
    }
    assert!(!file.exists(), "nothing written");
}

#[test]
fn serve_without_an_auth_file_refuses_a_non_loopback_address() {
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let out = chatlake(&["serve", "--lake", "/nonexistent", "--listen", listen], "");
        let err = stderr(&out);
        assert!(!out.status.success());
        assert!(
            err.contains(&format!(
                "refusing to listen on {listen} without --auth-file"
            )),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    // --require-tls alone is a clear error too.
    let out = chatlake(
        &[
            "serve",
            "--lake",
            "/nonexistent",
            "--listen",
            "127.0.0.1:0",
            "--require-tls",
        ],
        "",
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--tls-cert"), "{}", stderr(&out));
}

// ---------------------------------------------------------------- the server

fn one_row_session() -> SessionContext {
    let ctx = SessionContext::new();
    let batch =
        RecordBatch::try_from_iter([("x", Arc::new(Int64Array::from(vec![42])) as ArrayRef)])
            .expect("batch");
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).expect("table");
    ctx.register_table("t", Arc::new(table)).expect("register");
    ctx
}

async fn start(security: Security) -> Server {
    start_with(security, Arc::new(one_row_session)).await
}

async fn start_with(security: Security, sessions: SessionFactory) -> Server {
    let options = ServerOptions {
        security,
        ..ServerOptions::default()
    };
    common::pg::start(sessions, options).await
}

/// An auth file with alice (password "wonderland", tenant t1) and bob (all tenants,
/// at most one connection, statement_timeout 7s).
fn users(dir: &Path) -> Arc<AuthStore> {
    let file = dir.join("users.toml");
    add_user(&file, "alice", "wonderland", &["--tenant", "t1"]);
    add_user(
        &file,
        "bob",
        "builder",
        &[
            "--all-tenants",
            "--connection-limit",
            "1",
            "--statement-timeout",
            "7s",
        ],
    );
    Arc::new(AuthStore::open(&file).expect("open"))
}

/// The first column of the first row `sql` returns, as text.
async fn first_value(client: &tokio_postgres::Client, sql: &str) -> String {
    client
        .simple_query(sql)
        .await
        .expect(sql)
        .into_iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{sql}: no row"))
}

fn db_error(e: &tokio_postgres::Error) -> (String, String, String) {
    let db = e
        .as_db_error()
        .unwrap_or_else(|| panic!("expected a server error, got {e}"));
    (
        db.severity().to_string(),
        db.code().code().to_string(),
        db.message().to_string(),
    )
}

#[tokio::test]
async fn scram_logs_in_with_the_right_password_only() {
    let dir = scratch("scram");
    let store = users(&dir);
    let server = start(Security {
        users: Some(store),
        ..Security::default()
    })
    .await;

    let alice = connect(&server, "alice", "wonderland")
        .await
        .expect("alice logs in");
    assert_eq!(first_value(&alice, "SELECT x FROM t").await, "42");

    // Wrong password, unknown user, empty password: one answer.
    for (user, password) in [
        ("alice", "Wonderland"),
        ("mallory", "wonderland"),
        ("alice", ""),
    ] {
        let e = connect(&server, user, password).await.expect_err(user);
        assert_eq!(
            db_error(&e),
            (
                "FATAL".into(),
                "28P01".into(),
                format!("password authentication failed for user \"{user}\"")
            ),
            "{user}/{password}"
        );
    }

    // bob's default statement_timeout, and his limit of one connection.
    let bob = connect(&server, "bob", "builder")
        .await
        .expect("bob logs in");
    assert_eq!(first_value(&bob, "SHOW statement_timeout").await, "7s");
    let e = connect(&server, "bob", "builder")
        .await
        .expect_err("second bob");
    assert_eq!(
        db_error(&e),
        (
            "FATAL".into(),
            "53300".into(),
            "too many connections for role \"bob\"".into()
        )
    );
    drop(bob);
    // The slot comes back when the connection closes.
    let mut again = None;
    for _ in 0..50 {
        if let Ok(c) = connect(&server, "bob", "builder").await {
            again = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(again.is_some(), "bob can log in again after closing");
}

#[tokio::test]
async fn a_user_added_while_serving_can_log_in_and_a_removed_one_cannot() {
    let dir = scratch("reload");
    let store = users(&dir);
    let file = store.path().to_path_buf();
    let server = start(Security {
        users: Some(store),
        ..Security::default()
    })
    .await;
    assert!(connect(&server, "carol", "c-pass").await.is_err());
    add_user(&file, "carol", "c-pass", &["--tenant", "t2"]);
    connect(&server, "carol", "c-pass")
        .await
        .expect("carol after add");
    let out = chatlake(
        &[
            "user",
            "remove",
            "carol",
            "--auth-file",
            &file.to_string_lossy(),
        ],
        "",
    );
    assert!(out.status.success());
    let e = connect(&server, "carol", "c-pass")
        .await
        .expect_err("carol after remove");
    assert_eq!(db_error(&e).1, "28P01");
}

/// A session with `big(s)`: 100,000 distinct 40-byte strings (about 4.5 MB in Arrow).
fn big_table_session() -> SessionContext {
    let ctx = SessionContext::new();
    let values: Vec<String> = (0..100_000).map(|i| format!("{i:040}")).collect();
    let batch = RecordBatch::try_from_iter([(
        "s",
        Arc::new(arrow::array::StringArray::from(values)) as ArrayRef,
    )])
    .expect("batch");
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).expect("table");
    ctx.register_table("big", Arc::new(table))
        .expect("register");
    ctx
}

#[tokio::test]
async fn a_query_past_the_users_memory_limit_fails_with_53200_and_others_run() {
    let dir = scratch("memory");
    let file = dir.join("users.toml");
    add_user(&file, "alice", "wonderland", &["--all-tenants"]);
    add_user(
        &file,
        "carol",
        "c-pass",
        &["--all-tenants", "--memory-limit", "2MiB"],
    );
    let listed = chatlake(
        &["user", "list", "--auth-file", &file.to_string_lossy()],
        "",
    );
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        listed.contains("carol\tall tenants\t-\t-\t2MiB"),
        "{listed}"
    );
    let server = start_with(
        Security {
            users: Some(Arc::new(AuthStore::open(&file).expect("open"))),
            ..Security::default()
        },
        Arc::new(big_table_session),
    )
    .await;
    // A self-join holds one side (4.5 MB) in its hash table: over carol's 2 MiB.
    let join = "SELECT count(*) FROM big a JOIN big b ON a.s = b.s";

    let alice = connect(&server, "alice", "wonderland")
        .await
        .expect("alice");
    assert_eq!(first_value(&alice, join).await, "100000");

    let carol = connect(&server, "carol", "c-pass").await.expect("carol");
    let e = carol.simple_query(join).await.expect_err("over the limit");
    let (severity, code, message) = db_error(&e);
    assert_eq!(
        (severity.as_str(), code.as_str()),
        ("ERROR", "53200"),
        "{message}"
    );
    assert!(
        message.contains("user \"carol\"") && message.contains("memory_limit of 2MiB"),
        "{message}"
    );
    // The session goes on, and a query within the limit runs; alice was never limited.
    assert_eq!(
        first_value(&carol, "SELECT count(*) FROM big").await,
        "100000"
    );
    assert_eq!(first_value(&alice, join).await, "100000");
}

/// A self-signed certificate for `localhost` made with the openssl command.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl must be installed");
    assert!(out.status.success(), "{}", stderr(&out));
    (cert, key)
}

#[tokio::test]
async fn require_tls_refuses_a_plain_connection_with_28000() {
    let dir = scratch("require-tls");
    let (cert, key) = certificate(&dir);
    let server = start(Security {
        users: Some(users(&dir)),
        tls: Some(Tls::load(&cert, &key).expect("tls")),
        require_tls: true,
    })
    .await;
    let e = connect(&server, "alice", "wonderland")
        .await
        .expect_err("plain");
    let (severity, code, message) = db_error(&e);
    assert_eq!((severity.as_str(), code.as_str()), ("FATAL", "28000"));
    assert!(message.starts_with("connection requires TLS"), "{message}");
}

#[test]
fn bad_tls_files_are_clear_errors() {
    let dir = scratch("tls-bad");
    let junk = dir.join("junk.pem");
    std::fs::write(&junk, "not a certificate").expect("write");
    let e = Tls::load(&junk, &junk).expect_err("junk");
    assert!(e.to_string().contains("--tls-cert"), "{e}");
    let e = Tls::load(&dir.join("missing.crt"), &junk).expect_err("missing");
    assert!(e.to_string().contains("missing.crt"), "{e}");
}

// ---------------------------------------------------------------- raw protocol

fn startup(user: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&196_608u32.to_be_bytes());
    for (k, v) in [("user", user), ("database", "chatlake")] {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut packet = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    packet.extend(body);
    packet
}

fn message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![tag];
    m.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    m.extend_from_slice(body);
    m
}

/// Reads messages until the connection closes or 5 s pass; returns their tags and bodies.
async fn read_all(socket: &mut TcpStream) -> Vec<(u8, Vec<u8>)> {
    let mut bytes = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut bytes)).await;
    let mut messages = Vec::new();
    let mut rest = &bytes[..];
    while rest.len() >= 5 {
        let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        if rest.len() < 1 + len {
            break;
        }
        messages.push((rest[0], rest[5..1 + len].to_vec()));
        rest = &rest[1 + len..];
    }
    messages
}

/// No `AuthenticationOk` (`R` with code 0) and no row: the client never got a session. (pgwire
/// follows a FATAL error with `ReadyForQuery` before it closes the socket, so `Z` may come.)
fn assert_no_session(messages: &[(u8, Vec<u8>)], what: &str) {
    assert!(
        !messages
            .iter()
            .any(|(tag, body)| *tag == b'R' && body[..] == [0, 0, 0, 0]),
        "{what}: AuthenticationOk in {messages:?}"
    );
    assert!(
        !messages.iter().any(|(tag, _)| *tag == b'D' || *tag == b'T'),
        "{what}: a query ran: {messages:?}"
    );
}

fn sqlstate(body: &[u8]) -> String {
    body.split(|b| *b == 0)
        .find_map(|field| field.strip_prefix(b"C"))
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_server_offers_scram_and_answers_bad_sasl_with_an_error() {
    let dir = scratch("raw");
    let server = start(Security {
        users: Some(users(&dir)),
        ..Security::default()
    })
    .await;

    // The offer: AuthenticationSASL (R, code 10) with SCRAM-SHA-256 only (no TLS, no -PLUS).
    let mut socket = TcpStream::connect(server.addr).await.expect("connect");
    socket.write_all(&startup("alice")).await.expect("write");
    let mut head = [0u8; 9];
    socket.read_exact(&mut head).await.expect("read");
    assert_eq!(head[0], b'R');
    assert_eq!(u32::from_be_bytes([head[5], head[6], head[7], head[8]]), 10);
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    let mut rest = vec![0u8; len - 8];
    socket.read_exact(&mut rest).await.expect("read");
    assert_eq!(rest, b"SCRAM-SHA-256\0\0");

    let sasl_initial = |mechanism: &str, data: &[u8]| {
        let mut body = mechanism.as_bytes().to_vec();
        body.push(0);
        body.extend_from_slice(&(data.len() as i32).to_be_bytes());
        body.extend_from_slice(data);
        message(b'p', &body)
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a cleartext password message",
            message(b'p', b"wonderland\0"),
            "08P01",
        ),
        (
            "an unknown mechanism",
            sasl_initial("SCRAM-SHA-1", b"n,,n=,r=abc"),
            "08P01",
        ),
        (
            "garbage client-first",
            sasl_initial("SCRAM-SHA-256", b"\xff\xfe"),
            "08P01",
        ),
        (
            "a client-first without nonce",
            sasl_initial("SCRAM-SHA-256", b"n,,n="),
            "08P01",
        ),
        (
            "-PLUS without TLS",
            sasl_initial("SCRAM-SHA-256-PLUS", b"p=tls-server-end-point,,n=,r=x"),
            "08P01",
        ),
        (
            "a truncated message",
            message(b'p', b"SCRAM-SHA-256\0\0\0\0\x40ab"),
            "08P01",
        ),
    ];
    for (what, bytes, code) in cases {
        let mut socket = TcpStream::connect(server.addr).await.expect("connect");
        socket.write_all(&startup("alice")).await.expect("write");
        socket.write_all(&bytes).await.expect("write");
        // A query right behind it must not run.
        let _ = socket.write_all(&message(b'Q', b"SELECT x FROM t\0")).await;
        let messages = read_all(&mut socket).await;
        let error = messages
            .iter()
            .find(|(tag, _)| *tag == b'E')
            .unwrap_or_else(|| panic!("{what}: no error in {messages:?}"));
        assert_eq!(sqlstate(&error.1), code, "{what}");
        assert!(
            String::from_utf8_lossy(&error.1).contains("SFATAL"),
            "{what}: {error:?}"
        );
        assert_no_session(&messages, what);
    }

    // A password message before any startup packet: an error or a closed socket, no session.
    let mut socket = TcpStream::connect(server.addr).await.expect("connect");
    socket
        .write_all(&message(b'p', b"wonderland\0"))
        .await
        .expect("write");
    let messages = read_all(&mut socket).await;
    assert_no_session(&messages, "a password message first");

    // ... and the server still serves.
    connect(&server, "alice", "wonderland")
        .await
        .expect("still serving");
}
