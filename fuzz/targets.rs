//! The bodies of the fuzz targets, shared by the libFuzzer binaries (`fuzz/fuzz_targets/`,
//! nightly, `cargo +nightly fuzz run NAME`) and the bounded run on stable that CI does
//! (`tests/fuzz.rs`: the seed corpus in `fuzz/corpus/NAME/` plus seeded mutations of it).
//!
//! | target | input | property |
//! |---|---|---|
//! | `frontend_message` | a phase byte, then wire bytes | the frontend decoder returns a message, "need more" or an error: no panic |
//! | `sql_entry` | query text | splitting, rewriting and classifying it (session command, COPY, cursor, query) does not panic |
//! | `copy_statement` | the text after `COPY ` | the COPY path of the same entry point does not panic |
//! | `startup` | a mode byte, then a startup packet's parameters (or raw bytes) | the server's startup and authentication path answers or closes the connection, and goes on serving: no panic, no hang |
//! | `sasl` | a mode byte, then SASL bytes | a server with an auth file answers bad, truncated and out-of-order SCRAM messages (and password messages where none is expected) with an error or a closed connection, and goes on serving: no panic, no hang |

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::BytesMut;
use pgwire::messages::{DecodeContext, PgWireFrontendMessage};

/// `frontend_message`: see the module docs.
pub fn frontend_message(data: &[u8]) {
    let Some((phase, bytes)) = data.split_first() else {
        return;
    };
    let mut ctx = DecodeContext::default();
    // Phase: before SSL negotiation, before startup, or in the query loop.
    match phase % 3 {
        0 => {}
        1 => ctx.awaiting_frontend_ssl = false,
        _ => {
            ctx.awaiting_frontend_ssl = false;
            ctx.awaiting_frontend_startup = false;
        }
    }
    let mut buffer = BytesMut::from(bytes);
    // Decode messages until the input is used up or is bad. A message must consume bytes,
    // except "no SSL request here" (`SslNegotiation` before SSL negotiation), after which the
    // server moves on to the startup phase as this loop does; any other message that consumed
    // nothing would be decoded again forever.
    loop {
        let before = buffer.len();
        match PgWireFrontendMessage::decode(&mut buffer, &ctx) {
            Ok(Some(message)) if buffer.len() == before => {
                assert!(
                    ctx.awaiting_frontend_ssl
                        && matches!(message, PgWireFrontendMessage::SslNegotiation(_)),
                    "decoded {message:?} without consuming input"
                );
                ctx.awaiting_frontend_ssl = false;
            }
            Ok(Some(_)) => {}
            _ => break,
        }
    }
}

/// `sql_entry`: see the module docs.
pub fn sql_entry(data: &[u8]) {
    if let Ok(sql) = std::str::from_utf8(data) {
        let _ = chatlake::pg::parse_statements(sql);
    }
}

/// `copy_statement`: see the module docs.
pub fn copy_statement(data: &[u8]) {
    if let Ok(rest) = std::str::from_utf8(data) {
        let _ = chatlake::pg::parse_statements(&format!("COPY {rest}"));
    }
}

/// The server the `startup` target talks to: one per process, on its own runtime, serving
/// plain DataFusion sessions (the startup path does not depend on the lake).
fn startup_server() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(|| spawn_server(chatlake::pg::ServerOptions::default()))
}

/// Serves plain DataFusion sessions with `options` on a thread and runtime of its own, for the
/// rest of the process; returns the port.
fn spawn_server(options: chatlake::pg::ServerOptions) -> u16 {
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            port_tx
                .send(listener.local_addr().expect("addr").port())
                .expect("port");
            let sessions: chatlake::pg::SessionFactory =
                Arc::new(datafusion::prelude::SessionContext::new);
            chatlake::pg::serve_with_options(listener, sessions, options, std::future::pending())
                .await
                .expect("serve");
        });
    });
    port_rx.recv().expect("server port")
}

/// Protocol 3.0, as a startup packet's version field.
const PROTOCOL_3: u32 = 196_608;
/// The SSLRequest code.
const SSL_REQUEST: u32 = 80_877_103;

/// The Terminate message.
const TERMINATE: [u8; 5] = [b'X', 0, 0, 0, 4];

/// A length-prefixed packet of `code` then `body`.
fn packet(code: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + body.len());
    out.extend_from_slice(&((8 + body.len()) as u32).to_be_bytes());
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A simple-protocol query message.
fn query(sql: &str) -> Vec<u8> {
    let mut out = vec![b'Q'];
    out.extend_from_slice(&((4 + sql.len() + 1) as u32).to_be_bytes());
    out.extend_from_slice(sql.as_bytes());
    out.push(0);
    out
}

/// Sends `bytes` on a new connection, ends its input, and reads until the server closes it
/// (or says nothing for 2 s).
fn exchange(port: u16, bytes: &[u8]) -> Vec<u8> {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        panic!("the server stopped accepting connections");
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let _ = stream.write_all(bytes);
    // End of input: the server answers what it has and closes.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 || answer.len() > 1 << 20 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
    }
    answer
}

/// `startup`: see the module docs. Mode `% 3`: 0 = the rest is the startup packet's
/// parameters, then a query; 1 = the same after an SSLRequest (which is refused); 2 = the rest
/// as raw bytes from the first byte of the connection.
pub fn startup(data: &[u8]) {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let port = startup_server();
    let mut bytes = Vec::new();
    match mode % 3 {
        0 | 1 => {
            if mode % 3 == 1 {
                bytes.extend(packet(SSL_REQUEST, &[]));
            }
            bytes.extend(packet(PROTOCOL_3, rest));
            bytes.extend(query("SELECT 1"));
            bytes.extend(TERMINATE);
        }
        _ => bytes.extend_from_slice(rest),
    }
    exchange(port, &bytes);
}

/// Whether the `startup` target's server still serves a well-formed client: it answers a
/// startup and a query with a `DataRow`.
pub fn startup_server_healthy() -> bool {
    let mut bytes = packet(PROTOCOL_3, b"user\0fuzz\0database\0chatlake\0\0");
    bytes.extend(query("SELECT 41 + 1"));
    bytes.extend(TERMINATE);
    let answer = exchange(startup_server(), &bytes);
    answer.windows(2).any(|w| w == b"42")
}

/// The server the `sasl` target talks to: one per process, with an auth file holding user
/// `fuzz` (password `pw`, all tenants).
fn sasl_server() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(|| {
        use chatlake::auth::{AuthFile, AuthStore, Limits, Security, TenantGrant, User, Verifier};
        let path =
            std::env::temp_dir().join(format!("chatlake-fuzz-users-{}.toml", std::process::id()));
        let mut file = AuthFile::default();
        file.upsert(User {
            name: "fuzz".into(),
            verifier: Verifier::new("pw"),
            tenants: TenantGrant::All,
            limits: Limits::default(),
        });
        file.save(&path).expect("auth file");
        let store = Arc::new(AuthStore::open(&path).expect("auth store"));
        spawn_server(chatlake::pg::ServerOptions {
            security: Security {
                users: Some(store),
                ..Security::default()
            },
            ..chatlake::pg::ServerOptions::default()
        })
    })
}

/// A frontend message with `tag`.
fn tagged(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&((4 + body.len()) as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A SASLInitialResponse choosing `mechanism` with `data`.
fn sasl_initial(mechanism: &str, data: &[u8]) -> Vec<u8> {
    let mut body = mechanism.as_bytes().to_vec();
    body.push(0);
    body.extend_from_slice(&(data.len() as i32).to_be_bytes());
    body.extend_from_slice(data);
    tagged(b'p', &body)
}

/// `sasl`: see the module docs. The first byte: bit 4 set logs in as a user the file does not
/// have; `% 3` is the mode: 0 = the rest is the client-first message of SCRAM-SHA-256; 1 = a
/// well-formed client-first, then the rest as the client-final message; 2 = the rest as raw
/// messages right after the startup packet (password messages before SASL, truncated ones).
pub fn sasl(data: &[u8]) {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let user: &[u8] = if mode & 0x10 != 0 {
        b"mallory"
    } else {
        b"fuzz"
    };
    let mut parameters = b"user\0".to_vec();
    parameters.extend_from_slice(user);
    parameters.extend_from_slice(b"\0database\0chatlake\0\0");
    let mut bytes = packet(PROTOCOL_3, &parameters);
    match mode % 3 {
        0 => bytes.extend(sasl_initial("SCRAM-SHA-256", rest)),
        1 => {
            bytes.extend(sasl_initial("SCRAM-SHA-256", b"n,,n=,r=fuzznonce"));
            bytes.extend(tagged(b'p', rest));
        }
        _ => bytes.extend_from_slice(rest),
    }
    bytes.extend(query("SELECT 1"));
    bytes.extend(TERMINATE);
    exchange(sasl_server(), &bytes);
}

/// Whether the `sasl` target's server still answers a startup with its SCRAM offer.
pub fn sasl_server_healthy() -> bool {
    let bytes = packet(PROTOCOL_3, b"user\0fuzz\0database\0chatlake\0\0");
    let answer = exchange(sasl_server(), &bytes);
    answer.first() == Some(&b'R') && answer.windows(13).any(|w| w == b"SCRAM-SHA-256")
}
