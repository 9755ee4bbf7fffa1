//! `/webhooks/whatsapp` on the ingest listener of a real `chatlake serve`, as Meta uses it: the
//! verification handshake, signed bodies (signed here with `openssl dgst -sha256 -hmac`, the
//! README's recipe), every refusal, a body for a number no channel has (kept), Meta-style
//! redelivery of every body (nothing added), and SIGKILLs (after the acknowledgements, and while
//! clients post) followed by a restart and redelivery (every body present exactly once).
//! Results are read back over pgwire. Expected counts come from
//! `data/sample/whatsapp_webhooks.ndjson` by hand (tests/ingest_webhooks.rs lists its ten
//! lines): 3 messages, 5 callbacks, 1 conversation, 9 distinct bodies, 1 unrouted.

mod common;

use common::cli::{BIN, sample};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "test-token-0123456789";
const VERIFY: &str = "verify-me-42";
const SECRET: &str = "meta-app-secret-for-tests";

/// A fresh directory whose `lake` holds the sample tenant, channels (pn-1, pn-2) and contacts.
fn lake_with_channels(name: &str) -> PathBuf {
    let dir = common::cli::fresh_dir(&format!("webhooks-http-{name}"));
    common::cli::ingest_sample_channels(&dir.join("lake"));
    dir
}

use common::serve::ServeProcess as Server;

impl Server {
    /// Serves the lake of `dir` with the webhook secrets, flushing every 200 ms unless `extra`
    /// says otherwise.
    fn start(dir: &Path, extra: &[&str]) -> Server {
        Server::spawn(
            common::serve::serve_command(&dir.join("lake").to_string_lossy())
                .args(["--ingest-listen", "127.0.0.1:0", "--wal-dir"])
                .arg(dir.join("wal"))
                .args(["--compact-every", "0"])
                .args(if extra.contains(&"--flush-interval-ms") {
                    &[][..]
                } else {
                    &["--flush-interval-ms", "200"][..]
                })
                .args(extra)
                .env("CHATLAKE_INGEST_TOKEN", TOKEN)
                .env("CHATLAKE_WEBHOOK_VERIFY_TOKEN", VERIFY)
                .env("CHATLAKE_WEBHOOK_SECRET", SECRET),
        )
    }
}

/// One HTTP/1.1 request on its own connection: `(status, body)`.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: chatlake\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    // A server refusing a large body may close before reading it all.
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// `sha256=` + hex HMAC-SHA256 of `body` under `secret`, by `openssl dgst`.
fn openssl_signature(body: &[u8], secret: &str) -> String {
    let out = common::cli::run_with_stdin(
        Command::new("openssl").args(["dgst", "-sha256", "-hmac", secret]),
        body,
    );
    // "SHA2-256(stdin)= <hex>" (OpenSSL 3) or "(stdin)= <hex>".
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text
        .split_whitespace()
        .last()
        .expect("a digest")
        .to_string();
    format!("sha256={hex}")
}

fn post_signed(addr: SocketAddr, body: &[u8], secret: &str) -> (u16, String) {
    post_signed_to(addr, "/webhooks/whatsapp", body, secret)
}

fn post_signed_to(addr: SocketAddr, path: &str, body: &[u8], secret: &str) -> (u16, String) {
    let signature = openssl_signature(body, secret);
    request(
        addr,
        "POST",
        path,
        &[
            ("Content-Type", "application/json"),
            ("X-Hub-Signature-256", &signature),
        ],
        body,
    )
}

/// The first column of every row of `sql`, over pgwire.
fn query(pg_port: u16, sql: &str) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let config = format!("host=127.0.0.1 port={pg_port} user=chatlake dbname=chatlake");
        let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
            .await
            .expect("connect over pgwire");
        tokio::spawn(connection);
        let mut out = Vec::new();
        for message in client
            .simple_query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
        {
            if let tokio_postgres::SimpleQueryMessage::Row(row) = message {
                out.push(row.get(0).unwrap_or("NULL").to_string());
            }
        }
        out
    })
}

/// `count | count | ...` of the tables a webhook feeds.
const COUNTS: &str = "SELECT concat_ws(' ', \
    (SELECT count(*) FROM messages WHERE message_id LIKE 'wamid.%'), \
    (SELECT count(*) FROM message_statuses WHERE message_id LIKE 'wamid.%'), \
    (SELECT count(*) FROM conversations WHERE source = 'webhook'), \
    (SELECT count(*) FROM webhook_bodies), \
    (SELECT count(*) FROM webhook_unrouted))";

/// Waits until the WAL holds nothing (every acknowledged body committed).
fn wait_for_empty_wal(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = request(server.http, "GET", "/healthz", &[], b"");
        let health: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        if status == 200 && health["wal"]["records"] == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the WAL did not drain: {body}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The bodies of `data/sample/whatsapp_webhooks.ndjson`, one a line.
fn whatsapp_bodies() -> Vec<String> {
    let text = std::fs::read_to_string(sample("whatsapp_webhooks.ndjson")).expect("sample");
    text.lines().map(str::to_string).collect()
}

/// Posts each of `bodies`, signed with the app secret: each must be acknowledged (200).
fn post_acknowledged<'a>(server: &Server, bodies: impl IntoIterator<Item = &'a String>) {
    for body in bodies {
        assert_eq!(post_signed(server.http, body.as_bytes(), SECRET).0, 200);
    }
}

/// Waits for the WAL to drain, then checks the [`COUNTS`] row is `expected`.
fn assert_counts_once_committed(server: &Server, expected: &str) {
    wait_for_empty_wal(server);
    assert_eq!(
        query(server.pg_port, COUNTS),
        vec![expected],
        "{}",
        server.log()
    );
}

#[test]
fn the_verification_handshake() {
    let dir = lake_with_channels("handshake");
    let server = Server::start(&dir, &[]);
    for endpoint in ["whatsapp", "messenger", "instagram"] {
        let path = |mode: &str, token: &str| {
            format!(
                "/webhooks/{endpoint}?hub.mode={mode}&hub.verify_token={token}&hub.challenge=1158201444"
            )
        };
        assert_eq!(
            request(server.http, "GET", &path("subscribe", VERIFY), &[], b""),
            (200, "1158201444".to_string()),
            "{endpoint}"
        );
        assert_eq!(
            request(server.http, "GET", &path("subscribe", "wrong"), &[], b"").0,
            403
        );
        assert_eq!(
            request(server.http, "GET", &path("unsubscribe", VERIFY), &[], b"").0,
            403
        );
        assert_eq!(
            request(
                server.http,
                "GET",
                &format!("/webhooks/{endpoint}"),
                &[],
                b""
            )
            .0,
            403
        );
    }
}

/// Messenger and Instagram: data/sample/messenger_webhooks.ndjson (9 bodies: 3 messages once
/// each, 2 receipts of m_E1, 1 comment, a redelivery, page 999000 unrouted, a reaction) and
/// instagram_webhooks.ndjson (5 bodies: 2 messages, 1 read, 1 comment sent twice), routed by
/// data/sample/meta_channels.ndjson; tests/ingest_webhooks.rs lists their lines.
#[test]
fn signed_messenger_and_instagram_bodies_land_once_and_bad_signatures_are_refused() {
    let dir = lake_with_channels("meta");
    let out = Command::new(BIN)
        .args(["ingest", "--lake"])
        .arg(dir.join("lake"))
        .args(["--table", "channels"])
        .arg(sample("meta_channels.ndjson"))
        .output()
        .expect("run chatlake ingest");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Server::start(&dir, &[]);
    let messenger = std::fs::read_to_string(sample("messenger_webhooks.ndjson")).expect("sample");
    let instagram = std::fs::read_to_string(sample("instagram_webhooks.ndjson")).expect("sample");
    let first = messenger.lines().next().expect("a body").as_bytes();
    for endpoint in ["/webhooks/messenger", "/webhooks/instagram"] {
        let (status, body) = request(server.http, "POST", endpoint, &[], first);
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("missing X-Hub-Signature-256"), "{body}");
        assert_eq!(
            post_signed_to(server.http, endpoint, first, "another-secret").0,
            401
        );
        assert_eq!(
            post_signed_to(server.http, endpoint, b"{\"object\":", SECRET).0,
            400
        );
    }
    wait_for_empty_wal(&server);
    assert_eq!(
        query(server.pg_port, "SELECT count(*) FROM webhook_bodies"),
        vec!["0"]
    );
    let counts = "SELECT concat_ws(' ', \
        (SELECT count(*) FROM messages WHERE channel_id IN ('fb-main', 'ig-main')), \
        (SELECT count(*) FROM message_statuses WHERE channel_id IN ('fb-main', 'ig-main')), \
        (SELECT count(*) FROM comments), \
        (SELECT count(*) FROM webhook_bodies), \
        (SELECT count(*) FROM webhook_unrouted))";
    for round in 0..2 {
        for (endpoint, text) in [
            ("/webhooks/messenger", &messenger),
            ("/webhooks/instagram", &instagram),
        ] {
            for body in text.lines() {
                let (status, answer) =
                    post_signed_to(server.http, endpoint, body.as_bytes(), SECRET);
                assert_eq!((status, answer.as_str()), (200, r#"{"status":"stored"}"#));
            }
        }
        wait_for_empty_wal(&server);
        // 6 messages (the reaction is one), 3 receipts, 2 comments, 8 + 4 bodies, page 999000
        // kept; the same after Meta redelivers everything.
        assert_eq!(
            query(server.pg_port, counts),
            vec!["6 3 2 12 1"],
            "round {round}: {}",
            server.log()
        );
    }
    assert_eq!(
        query(
            server.pg_port,
            "SELECT concat_ws(',', message_id, status) FROM message_statuses \
             WHERE channel_id IN ('fb-main', 'ig-main') ORDER BY message_id, status"
        ),
        vec!["ig_E1,read", "m_E1,delivered", "m_E1,read"]
    );
    // A WhatsApp body on the Instagram endpoint is kept, not routed.
    let whatsapp = whatsapp_bodies();
    let body = whatsapp.first().expect("a body");
    assert_eq!(
        post_signed_to(server.http, "/webhooks/instagram", body.as_bytes(), SECRET).0,
        200
    );
    wait_for_empty_wal(&server);
    assert_eq!(
        query(
            server.pg_port,
            "SELECT reason FROM webhook_unrouted WHERE platform = 'instagram'"
        ),
        vec!["object is 'whatsapp_business_account', not instagram"]
    );
    // The page answers Ravi's comment 104445553333_900_1 in public: the comment report now
    // counts it as matched (the Instagram comment 18100000000000001 has no answer).
    let reply = r#"{"object":"page","entry":[{"id":"104445553333","time":1791022300,"changes":[{"field":"feed","value":{"from":{"id":"104445553333","name":"Acme"},"item":"comment","post_id":"104445553333_900","comment_id":"104445553333_900_2","parent_id":"104445553333_900_1","verb":"add","created_time":1791022290,"message":"Rs 499"}}]}]}"#;
    assert_eq!(
        post_signed_to(server.http, "/webhooks/messenger", reply.as_bytes(), SECRET).0,
        200
    );
    wait_for_empty_wal(&server);
    assert_eq!(
        query(
            server.pg_port,
            "SELECT concat_ws(',', post_id, comments, matched, unmatched) \
             FROM stella_comment_replies('2026-10-01', '2026-10-31')"
        ),
        vec!["104445553333_900,1,1,0", "18000000000000001,1,0,1"]
    );
}

#[test]
fn bad_bodies_are_refused_and_nothing_is_stored() {
    let dir = lake_with_channels("refusals");
    let server = Server::start(&dir, &["--ingest-max-body", "4KiB"]);
    let good = whatsapp_bodies();
    let good = good.first().expect("a body").as_bytes().to_vec();

    let (status, body) = request(server.http, "POST", "/webhooks/whatsapp", &[], &good);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("missing X-Hub-Signature-256"), "{body}");
    let (status, body) = post_signed(server.http, &good, "another-app-secret");
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("does not match"), "{body}");
    // Signed for a body one byte different from the one sent.
    let signature = openssl_signature(&good[..good.len() - 1], SECRET);
    let (status, _) = request(
        server.http,
        "POST",
        "/webhooks/whatsapp",
        &[("X-Hub-Signature-256", &signature)],
        &good,
    );
    assert_eq!(status, 401);

    let (status, body) = post_signed(
        server.http,
        b"{\"object\":\"whatsapp_business_account\",",
        SECRET,
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not valid JSON"), "{body}");
    let (status, body) = post_signed(server.http, b"[1,2,3]", SECRET);
    assert_eq!(status, 400, "{body}");

    // 4 KiB = 4096 bytes; a signed body of 5000 bytes is too large.
    let mut large = br#"{"object":"whatsapp_business_account","pad":""#.to_vec();
    large.resize(4998, b'x');
    large.extend_from_slice(b"\"}");
    assert_eq!(large.len(), 5000);
    let (status, body) = post_signed(server.http, &large, SECRET);
    assert_eq!(status, 413, "{body}");

    // Nothing of the above reached the lake.
    assert_counts_once_committed(&server, "0 0 0 0 0");
}

#[test]
fn signed_bodies_land_once_even_when_meta_redelivers_them() {
    let dir = lake_with_channels("deliveries");
    let server = Server::start(&dir, &[]);
    let bodies = whatsapp_bodies();
    assert_eq!(bodies.len(), 10);
    for body in &bodies {
        let (status, answer) = post_signed(server.http, body.as_bytes(), SECRET);
        assert_eq!((status, answer.as_str()), (200, r#"{"status":"stored"}"#));
    }
    // 3 messages (S1 twice in the file), 5 callbacks, fep-77, 9 distinct bodies, pn-9 unrouted.
    assert_counts_once_committed(&server, "3 5 1 9 1");
    assert_eq!(
        query(
            server.pg_port,
            "SELECT phone_number_id FROM webhook_unrouted"
        ),
        vec!["pn-9"]
    );
    assert_eq!(
        query(
            server.pg_port,
            "SELECT concat_ws(',', name, language, optin_status) FROM contacts \
             WHERE channel_id = 'wa-main' AND contact_id = '919876543210'"
        ),
        vec!["Asha K,en,opted_in"]
    );
    // Every body received within this test, after the lake was made.
    assert_eq!(
        query(
            server.pg_port,
            "SELECT count(*) FROM webhook_bodies WHERE received_at > ts"
        ),
        vec!["9"]
    );

    // Meta redelivers everything (it had not seen our 200s, say), in reverse order.
    post_acknowledged(&server, bodies.iter().rev());
    assert_counts_once_committed(&server, "3 5 1 9 1");
}

#[test]
fn acknowledged_bodies_survive_a_sigkill_and_redelivery_adds_nothing() {
    let dir = lake_with_channels("sigkill");
    let bodies = whatsapp_bodies();
    // A flush interval longer than the test: the bodies are only in the WAL when killed.
    let mut server = Server::start(&dir, &["--flush-interval-ms", "600000"]);
    post_acknowledged(&server, &bodies);
    assert_eq!(
        query(server.pg_port, COUNTS),
        vec!["0 0 0 0 0"],
        "nothing flushed yet"
    );
    let _ = server.child.kill();
    let _ = server.child.wait();
    drop(server);

    // The restarted server replays the WAL and commits it; Meta redelivers the last half too.
    let server = Server::start(&dir, &[]);
    post_acknowledged(&server, &bodies[5..]);
    assert_counts_once_committed(&server, "3 5 1 9 1");
}

#[test]
fn without_the_secrets_the_endpoint_refuses_and_meta_retries() {
    let dir = lake_with_channels("unconfigured");
    // Empty flags override the environment: no verify token, no app secret.
    let server = Server::start(&dir, &["--webhook-secret=", "--webhook-verify-token="]);
    let path = "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=&hub.challenge=7";
    assert_eq!(request(server.http, "GET", path, &[], b"").0, 403);
    let bodies = whatsapp_bodies();
    let body = bodies.first().expect("a body");
    let (status, answer) = post_signed(server.http, body.as_bytes(), SECRET);
    assert_eq!(status, 503, "{answer}");
    assert!(answer.contains("CHATLAKE_WEBHOOK_SECRET"), "{answer}");
    assert_counts_once_committed(&server, "0 0 0 0 0");
}

/// A Meta-shaped body of one inbound text, number `n`, for the sample channel pn-1.
fn numbered_body(n: usize) -> String {
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"waba-1","changes":[{{"value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"919800000001","phone_number_id":"pn-1"}},"contacts":[{{"profile":{{"name":"Load {n}"}},"wa_id":"91980000{:04}"}}],"messages":[{{"from":"91980000{:04}","id":"wamid.load{n}","timestamp":"{}","type":"text","text":{{"body":"n={n}"}}}}]}},"field":"messages"}}]}}]}}"#,
        n % 100,
        n % 100,
        1_791_021_600 + n
    )
}

#[test]
fn a_sigkill_under_load_then_meta_redelivery_leaves_every_body_once() {
    const BODIES: usize = 600;
    const CLIENTS: usize = 4;
    let dir = lake_with_channels("sigkill-load");
    let bodies: Vec<(String, String)> = (0..BODIES)
        .map(|n| {
            let body = numbered_body(n);
            let signature = openssl_signature(body.as_bytes(), SECRET);
            (body, signature)
        })
        .collect();
    let bodies = Arc::new(bodies);
    let mut server = Server::start(&dir, &["--flush-interval-ms", "100"]);
    let addr = server.http;
    // Clients post their share of the bodies over and over (later rounds are redeliveries)
    // until the server dies: the kill always comes under load.
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let bodies = bodies.clone();
            std::thread::spawn(move || {
                let mut acknowledged = 0usize;
                for (body, signature) in bodies.iter().skip(c).step_by(CLIENTS).cycle() {
                    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
                    else {
                        break;
                    };
                    let head = format!(
                        "POST /webhooks/whatsapp HTTP/1.1\r\nHost: chatlake\r\nConnection: close\r\nX-Hub-Signature-256: {signature}\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    if stream.write_all(head.as_bytes()).is_err()
                        || stream.write_all(body.as_bytes()).is_err()
                    {
                        break;
                    }
                    let mut answer = String::new();
                    let _ = stream.read_to_string(&mut answer);
                    if !answer.starts_with("HTTP/1.1 200") {
                        break;
                    }
                    acknowledged += 1;
                }
                acknowledged
            })
        })
        .collect();
    // Kill while the clients post and the flusher commits.
    std::thread::sleep(Duration::from_millis(700));
    let _ = server.child.kill();
    let _ = server.child.wait();
    let acknowledged: usize = clients.into_iter().map(|c| c.join().unwrap_or(0)).sum();
    drop(server);
    assert!(acknowledged > 0, "nothing was acknowledged before the kill");

    // Meta redelivers every body it may not have seen acknowledged: here, all of them.
    let server = Server::start(&dir, &[]);
    for (body, signature) in bodies.iter() {
        let headers = [("X-Hub-Signature-256", signature.as_str())];
        let (status, answer) = request(
            server.http,
            "POST",
            "/webhooks/whatsapp",
            &headers,
            body.as_bytes(),
        );
        assert_eq!(status, 200, "{answer}");
    }
    wait_for_empty_wal(&server);
    let expected = format!("{BODIES} {BODIES} {BODIES}");
    assert_eq!(
        query(
            server.pg_port,
            "SELECT concat_ws(' ', count(*), count(DISTINCT message_id), \
             (SELECT count(*) FROM webhook_bodies)) FROM messages WHERE message_id LIKE 'wamid.load%'"
        ),
        vec![expected],
        "{acknowledged} posts were acknowledged before the kill\n{}",
        server.log()
    );
}
