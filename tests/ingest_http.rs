//! The HTTP ingest API of `chatlake serve --ingest-listen`, as a platform uses it: rows posted
//! over keep-alive HTTP land in the lake once, the server killed with SIGKILL at random moments
//! loses no acknowledged row and doubles none, an object store that goes away during flushes
//! (moto's S3 server behind a relay the test cuts) and a WAL disk that fills up (a small tmpfs)
//! lose and double nothing either, and bad requests get clear JSON answers.
//!
//! The server is the real binary; the client is a few lines of HTTP/1.1 over `TcpStream` (the
//! crate has no HTTP client), the lake is read back over pgwire.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chatlake::generate::GenerateConfig;
use chatlake::lake::StoreOptions;

const TOKEN: &str = "test-token-0123456789";

/// A fresh small lake (every table present) under the test's temporary directory.
fn small_lake(name: &str) -> PathBuf {
    let dir = common::cli::fresh_dir(&format!("ingest-http-{name}"));
    let lake = dir.join("lake");
    write_tiny_lake(&lake.to_string_lossy(), &StoreOptions::default(), 50, 2);
    dir
}

/// Generates one tenant's `contacts` contacts over `days` days into the lake at `url`.
fn write_tiny_lake(url: &str, options: &StoreOptions, contacts: usize, days: u32) {
    let cfg = GenerateConfig {
        tenants: 1,
        contacts,
        days,
        seed: 3,
        end_date: chrono::NaiveDate::from_ymd_opt(2026, 10, 31).expect("date"),
        messages_target: None,
        whole_seconds: false,
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(common::write_lake(url, options, &cfg));
}

use common::serve::ServeProcess as Server;

impl Server {
    fn start(dir: &Path, extra: &[&str]) -> Server {
        Server::start_on(&dir.join("lake").to_string_lossy(), &dir.join("wal"), extra)
    }

    /// Serves the lake at `lake` (any lake URL) with its write-ahead log in `wal`.
    fn start_on(lake: &str, wal: &Path, extra: &[&str]) -> Server {
        Server::spawn(
            common::serve::serve_command(lake)
                .args([
                    "--ingest-listen",
                    "127.0.0.1:0",
                    "--wal-dir",
                    &wal.to_string_lossy(),
                ])
                .args(extra)
                .env("CHATLAKE_INGEST_TOKEN", TOKEN),
        )
    }
}

/// One HTTP/1.1 response.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A keep-alive HTTP/1.1 connection.
struct Client {
    stream: BufReader<TcpStream>,
    addr: SocketAddr,
    /// The server said it closes the connection (`Connection: close`, as after a body it did
    /// not read): the next request opens a new one, as HTTP/1.1 clients do.
    reopen: bool,
}

impl Client {
    fn connect(addr: SocketAddr) -> std::io::Result<Client> {
        Ok(Client {
            stream: BufReader::new(Self::open(addr)?),
            addr,
            reopen: false,
        })
    }

    fn open(addr: SocketAddr) -> std::io::Result<TcpStream> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> std::io::Result<Response> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: chatlake\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(token) = token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        head.push_str("\r\n");
        if std::mem::take(&mut self.reopen) {
            self.stream = BufReader::new(Self::open(self.addr)?);
        }
        let stream = self.stream.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        stream.flush()?;

        let mut status_line = String::new();
        if self.stream.read_line(&mut status_line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
        let mut headers = Vec::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if self.stream.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                let (name, value) = (name.trim().to_string(), value.trim().to_string());
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().unwrap_or(0);
                }
                headers.push((name, value));
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body)?;
        self.reopen = headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close"));
        Ok(Response {
            status,
            headers,
            body: String::from_utf8_lossy(&body).to_string(),
        })
    }

    fn post(&mut self, table: &str, body: &[u8]) -> std::io::Result<Response> {
        self.request("POST", &format!("/v1/ingest/{table}"), Some(TOKEN), body)
    }
}

/// One `analytics_events` row whose `label` is its unique id.
fn event_row(run: &str, id: u64) -> String {
    format!(
        r#"{{"tenant_id":"it-tenant","channel_id":"it-channel","contact_id":"c{}","ts":"2026-10-30T12:{:02}:{:02}.{:06}Z","category":"{run}","action":"posted","label":"{id}","value":{id}}}"#,
        id % 97,
        (id / 60) % 60,
        id % 60,
        id % 1_000_000
    )
}

fn body_of(run: &str, ids: std::ops::Range<u64>) -> Vec<u8> {
    let mut body = String::new();
    for id in ids {
        body.push_str(&event_row(run, id));
        body.push('\n');
    }
    body.into_bytes()
}

/// `label -> count` of the rows of `category = run`, over pgwire, logged in with `login`
/// (`user=chatlake` under trust, or `user=... password=...`).
fn counts_by_label_as(pg_port: u16, login: &str, run: &str) -> Result<Vec<(u64, i64)>, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let config = format!("host=127.0.0.1 port={pg_port} {login} dbname=chatlake");
        let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let sql = format!(
            "SELECT label, count(*) AS n FROM analytics_events WHERE category = '{run}' GROUP BY label"
        );
        let rows = client
            .simple_query(&sql)
            .await
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for row in rows {
            if let tokio_postgres::SimpleQueryMessage::Row(row) = row {
                let label: u64 = row
                    .get(0)
                    .and_then(|v| v.parse().ok())
                    .ok_or("label is not an id")?;
                let n: i64 = row.get(1).and_then(|v| v.parse().ok()).ok_or("count")?;
                out.push((label, n));
            }
        }
        out.sort_unstable();
        Ok(out)
    })
}

/// Polls until `done` holds for the counts, or the deadline passes (returns the last counts).
fn wait_for_counts(
    pg_port: u16,
    run: &str,
    within: Duration,
    done: impl Fn(&[(u64, i64)]) -> bool,
) -> Vec<(u64, i64)> {
    wait_for_counts_as(pg_port, "user=chatlake", run, within, done)
}

/// [`wait_for_counts`] logged in with `login` (`user=... password=...`).
fn wait_for_counts_as(
    pg_port: u16,
    login: &str,
    run: &str,
    within: Duration,
    done: impl Fn(&[(u64, i64)]) -> bool,
) -> Vec<(u64, i64)> {
    let deadline = Instant::now() + within;
    loop {
        let counts = counts_by_label_as(pg_port, login, run).unwrap_or_default();
        if done(&counts) || Instant::now() > deadline {
            return counts;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_ingest_api_answers_bad_requests_clearly_and_lands_good_rows() {
    let dir = small_lake("api");
    let server = Server::start(
        &dir,
        &["--ingest-max-body", "4KiB", "--flush-interval-ms", "200"],
    );
    let mut client = Client::connect(server.http).expect("connect");
    let run = "api";

    // No token, a wrong token: 401 with a JSON error.
    let r = client
        .request("POST", "/v1/ingest/analytics_events", None, b"{}\n")
        .expect("post");
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap_or("")
            .contains("bearer token")
    );
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let r = client
        .request("POST", "/v1/ingest/analytics_events", Some("nope"), b"{}\n")
        .expect("post");
    assert_eq!(r.status, 401, "{}", r.body);
    // The server read the small refused bodies: the connection is still good.
    assert!(!client.reopen, "keep-alive after a 401: {:?}", r.headers);

    // Unknown table: 404; derived table: 400 (chatlake writes it).
    let r = client.post("no_such_table", b"{}\n").expect("post");
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap_or("")
            .contains("no_such_table")
    );
    let r = client.post("message_outcomes", b"{}\n").expect("post");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap_or("").contains("derived"));
    assert!(!client.reopen, "keep-alive after a 400: {:?}", r.headers);

    // Larger than --ingest-max-body: 413.
    let big = body_of(run, 0..30);
    assert!(big.len() > 4096);
    let r = client.post("analytics_events", &big).expect("post");
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap_or("").contains("limit"));
    // The server did not read that body: it closes the connection rather than reuse it.
    assert!(
        client.reopen,
        "Connection: close after a 413: {:?}",
        r.headers
    );

    // A body with a bad line: the good lines are acknowledged, the bad one comes back with its
    // line number and reason.
    let mut body = body_of(run, 1..2);
    body.extend_from_slice(
        br#"{"tenant_id":"it-tenant","ts":"2026-10-30T12:00:00Z","action":"posted","label":"999"}"#,
    );
    body.push(b'\n');
    body.extend_from_slice(b"\n");
    body.extend_from_slice(&body_of(run, 2..4));
    let r = client.post("analytics_events", &body).expect("post");
    assert_eq!(r.status, 200, "{}", r.body);
    let answer = r.json();
    assert_eq!(answer["accepted"], 3, "{answer}");
    assert_eq!(answer["rejected"], 1, "{answer}");
    let reject = &answer["rejects"][0];
    assert_eq!(reject["line"], 2, "{answer}");
    let said = format!("{} {}", reject["column"], reject["reason"]);
    assert!(
        said.contains("category"),
        "the reason names the missing column: {answer}"
    );

    // Only bad lines: 422, nothing written. No rows at all: 400.
    let r = client
        .post("analytics_events", b"not json\n")
        .expect("post");
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["accepted"], 0);
    let r = client.post("analytics_events", b"\n\n").expect("post");
    assert_eq!(r.status, 400, "{}", r.body);

    // The acknowledged rows reach the lake, once.
    let counts = wait_for_counts(server.pg_port, run, Duration::from_secs(60), |c| {
        c.len() == 3
    });
    assert_eq!(counts, vec![(1, 1), (2, 1), (3, 1)], "{}", server.log());

    // /healthz: ready, with the WAL's backlog; the flusher counts the group once it has also
    // re-derived and released it, a moment after the rows become visible.
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        let r = client
            .request("GET", "/healthz", None, b"")
            .expect("healthz");
        assert_eq!(r.status, 200, "{}", r.body);
        let health = r.json();
        if health["flusher"]["groups"].as_u64().unwrap_or(0) >= 1 || Instant::now() > deadline {
            break health;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(health["status"], "ready", "{health}");
    assert!(health["wal"]["bytes"].is_u64(), "{health}");
    assert!(
        health["wal"]["fsyncs"].as_u64().unwrap_or(0) >= 1,
        "{health}"
    );
    assert!(
        health["flusher"]["groups"].as_u64().unwrap_or(0) >= 1,
        "{health}"
    );
    server.kill();
}

/// Runs `chatlake` with `args`, `stdin` on its standard input; the output of a successful run.
fn chatlake_ok(args: &[&str], stdin: &str) -> std::process::Output {
    let out = common::cli::chatlake_with_stdin(args, stdin);
    assert!(
        out.status.success(),
        "chatlake {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The SHA-256 of `text` as hex, computed by coreutils' `sha256sum` (not by chatlake).
fn sha256sum(text: &str) -> String {
    let out = common::cli::run_with_stdin(&mut Command::new("sha256sum"), text.as_bytes());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("digest")
        .to_string()
}

#[test]
fn a_tenant_ingest_token_writes_its_tenants_rows_only() {
    let dir = small_lake("tokens");
    let auth = dir.join("auth.toml");
    let auth_arg = auth.to_string_lossy().to_string();
    chatlake_ok(
        &[
            "user",
            "add",
            "reader",
            "--auth-file",
            &auth_arg,
            "--all-tenants",
            "--password-stdin",
        ],
        "reader-pw\n",
    );
    let out = chatlake_ok(
        &[
            "user",
            "token",
            "add",
            "acme-feed",
            "--auth-file",
            &auth_arg,
            "--tenant",
            "it-tenant",
        ],
        "",
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(token.starts_with("clk_") && token.len() > 40, "{token}");
    // The file keeps the token's SHA-256, never the token.
    let text = std::fs::read_to_string(&auth).expect("auth file");
    assert!(!text.contains(&token), "{text}");
    assert!(text.contains(&sha256sum(&token)), "{text}");
    let listed = chatlake_ok(&["user", "token", "list", "--auth-file", &auth_arg], "");
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(listed.contains("acme-feed\tit-tenant"), "{listed}");
    assert!(!listed.contains(&token), "{listed}");

    let server = Server::start(
        &dir,
        &["--auth-file", &auth_arg, "--flush-interval-ms", "200"],
    );
    let mut client = Client::connect(server.http).expect("connect");
    let run = "tokens";
    let foreign = |id: u64| event_row(run, id).replace("\"it-tenant\"", "\"other-tenant\"");
    let path = "/v1/ingest/analytics_events";

    // Lines 2 and 4 are another tenant's: rejected with their line and reason, the rest lands.
    let body = [
        event_row(run, 1),
        foreign(101),
        event_row(run, 2),
        foreign(102),
        event_row(run, 3),
    ]
    .join("\n");
    let r = client
        .request("POST", path, Some(&token), body.as_bytes())
        .expect("post");
    assert_eq!(r.status, 200, "{}", r.body);
    let answer = r.json();
    assert_eq!(
        (answer["accepted"].as_u64(), answer["rejected"].as_u64()),
        (Some(3), Some(2)),
        "{answer}"
    );
    for (reject, line) in answer["rejects"]
        .as_array()
        .expect("rejects")
        .iter()
        .zip([2, 4])
    {
        assert_eq!(reject["line"], line, "{answer}");
        assert_eq!(reject["column"], "tenant_id", "{answer}");
        assert!(
            reject["reason"]
                .as_str()
                .unwrap_or("")
                .contains("'other-tenant' is not granted"),
            "{answer}"
        );
    }
    // Only another tenant's rows: 422, nothing written.
    let r = client
        .request("POST", path, Some(&token), foreign(103).as_bytes())
        .expect("post");
    assert_eq!(r.status, 422, "{}", r.body);
    // The shared token (CHATLAKE_INGEST_TOKEN, all tenants) still writes any tenant's rows.
    let r = client
        .post("analytics_events", foreign(104).as_bytes())
        .expect("post");
    assert_eq!(
        (r.status, r.json()["accepted"].as_u64()),
        (200, Some(1)),
        "{}",
        r.body
    );
    // A token that is not in the file: 401.
    let r = client
        .request(
            "POST",
            path,
            Some("clk_not-a-token"),
            event_row(run, 5).as_bytes(),
        )
        .expect("post");
    assert_eq!(r.status, 401, "{}", r.body);

    let counts = wait_for_counts_as(
        server.pg_port,
        "user=reader password=reader-pw",
        run,
        Duration::from_secs(60),
        |c| c.len() >= 4,
    );
    assert_eq!(
        counts,
        vec![(1, 1), (2, 1), (3, 1), (104, 1)],
        "{}",
        server.log()
    );

    // Removed from the file: the running server refuses the token from then on.
    chatlake_ok(
        &[
            "user",
            "token",
            "remove",
            "acme-feed",
            "--auth-file",
            &auth_arg,
        ],
        "",
    );
    let r = client
        .request("POST", path, Some(&token), event_row(run, 6).as_bytes())
        .expect("post");
    assert_eq!(r.status, 401, "{}", r.body);
    server.kill();
}

/// What the clients know about the ids they posted.
#[derive(Debug, Default)]
struct Ledger {
    /// Ids whose request got a `200`.
    acknowledged: Vec<u64>,
    /// Ids sent in a request whose answer never came (the server died): may or may not be in.
    unknown: Vec<u64>,
    /// Ids of requests answered `503`: nothing of them may be stored.
    refused: Vec<u64>,
}

/// Keep-alive clients posting 1..=40 `analytics_events` rows per request (ids never repeat)
/// to whatever address [`Posters::point_at`] last gave, writing down every answer.
struct Posters {
    address: Arc<Mutex<Option<SocketAddr>>>,
    stop: Arc<AtomicBool>,
    ledger: Arc<Mutex<Ledger>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Posters {
    /// `workers` clients, each waiting `pause` after every answer.
    fn start(run: &str, address: SocketAddr, workers: u64, pause: Duration, seed: u64) -> Posters {
        use rand::{Rng, SeedableRng};

        let posters = Posters {
            address: Arc::new(Mutex::new(Some(address))),
            stop: Arc::new(AtomicBool::new(false)),
            ledger: Arc::new(Mutex::new(Ledger::default())),
            threads: Vec::new(),
        };
        let mut threads = Vec::new();
        for worker in 0..workers {
            let (address, stop, ledger) = (
                posters.address.clone(),
                posters.stop.clone(),
                posters.ledger.clone(),
            );
            let run = run.to_string();
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ (worker + 1));
            threads.push(std::thread::spawn(move || {
                let mut next = worker * 1_000_000_000;
                let mut client: Option<Client> = None;
                while !stop.load(Ordering::Relaxed) {
                    let Some(addr) = *address.lock().expect("address") else {
                        client = None;
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    if client.is_none() {
                        client = Client::connect(addr).ok();
                        if client.is_none() {
                            std::thread::sleep(Duration::from_millis(20));
                            continue;
                        }
                    }
                    let n = rng.random_range(1..=40);
                    let ids = next..next + n;
                    next += n;
                    let answer = client
                        .as_mut()
                        .map(|c| c.post("analytics_events", &body_of(&run, ids.clone())));
                    std::thread::sleep(pause);
                    let mut ledger = ledger.lock().expect("ledger");
                    match answer {
                        Some(Ok(r)) if r.status == 200 => {
                            assert_eq!(r.json()["accepted"], n, "{}", r.body);
                            ledger.acknowledged.extend(ids);
                        }
                        Some(Ok(r)) if r.status == 503 => {
                            assert!(
                                r.json()["error"]
                                    .as_str()
                                    .unwrap_or("")
                                    .contains("nothing of this request was stored"),
                                "{}",
                                r.body
                            );
                            ledger.refused.extend(ids);
                            drop(ledger);
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        Some(Ok(r)) => panic!("unexpected answer {}: {}", r.status, r.body),
                        Some(Err(_)) | None => {
                            ledger.unknown.extend(ids);
                            client = None;
                        }
                    }
                }
            }));
        }
        Posters { threads, ..posters }
    }

    /// Sends the next requests to `address` (`None`: wait).
    fn point_at(&self, address: Option<SocketAddr>) {
        *self.address.lock().expect("address") = address;
    }

    /// Rows acknowledged so far.
    fn acknowledged(&self) -> usize {
        self.ledger.lock().expect("ledger").acknowledged.len()
    }

    /// Ids refused with `503` so far.
    fn refused(&self) -> usize {
        self.ledger.lock().expect("ledger").refused.len()
    }

    /// Stops the clients and hands over what they wrote down.
    fn finish(self) -> Ledger {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            thread.join().expect("client thread");
        }
        std::mem::take(&mut *self.ledger.lock().expect("ledger"))
    }
}

/// Waits until every acknowledged id is in the lake, then checks each is there once, that only
/// ids that were sent are there and that no refused id is; returns the stored ids' count.
fn assert_exactly_once(server: &Server, run: &str, ledger: &Ledger) -> usize {
    assert!(
        ledger.acknowledged.len() > 100,
        "the clients got through: {} rows acknowledged",
        ledger.acknowledged.len()
    );
    let acknowledged = &ledger.acknowledged;
    let counts = wait_for_counts(server.pg_port, run, Duration::from_secs(120), |counts| {
        let present: std::collections::HashSet<u64> = counts.iter().map(|(id, _)| *id).collect();
        acknowledged.iter().all(|id| present.contains(id))
    });
    let present: std::collections::HashMap<u64, i64> = counts.iter().copied().collect();
    let missing: Vec<u64> = acknowledged
        .iter()
        .copied()
        .filter(|id| !present.contains_key(id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged rows missing (first {:?}); server log:\n{}",
        missing.len(),
        &missing[..missing.len().min(10)],
        server.log()
    );
    let doubled: Vec<(u64, i64)> = counts.iter().copied().filter(|(_, n)| *n > 1).collect();
    assert!(doubled.is_empty(), "rows stored twice: {doubled:?}");
    let sent: std::collections::HashSet<u64> = ledger
        .acknowledged
        .iter()
        .chain(&ledger.unknown)
        .copied()
        .collect();
    let strays: Vec<u64> = counts
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !sent.contains(id))
        .collect();
    assert!(
        strays.is_empty(),
        "ids stored that were refused or never sent: {:?}",
        &strays[..strays.len().min(10)]
    );
    counts.len()
}

/// A seed from the clock, printed so a failure can be replayed.
fn clock_seed() -> u64 {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    eprintln!("seed {seed}");
    seed
}

#[test]
fn acknowledged_rows_survive_sigkill_exactly_once() {
    use rand::{Rng, SeedableRng};

    let dir = small_lake("kill");
    let seed = clock_seed();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let run = "durability";
    let args = ["--flush-interval-ms", "150", "--flush-rows", "500"];

    let server = Server::start(&dir, &args);
    let posters = Posters::start(run, server.http, 2, Duration::ZERO, seed);

    // Kill the server at random moments, restart it on the same WAL and lake.
    let kills = 4;
    let mut server = Some(server);
    for _ in 0..kills {
        std::thread::sleep(Duration::from_millis(rng.random_range(200..1500)));
        posters.point_at(None);
        if let Some(s) = server.take() {
            s.kill();
        }
        let restarted = Server::start(&dir, &args);
        posters.point_at(Some(restarted.http));
        server = Some(restarted);
    }
    std::thread::sleep(Duration::from_millis(500));
    let ledger = posters.finish();
    let server = server.expect("server");
    let stored = assert_exactly_once(&server, run, &ledger);
    eprintln!(
        "{kills} kills: {} rows acknowledged, {} unknown at a kill ({} stored), {} refused",
        ledger.acknowledged.len(),
        ledger.unknown.len(),
        stored - ledger.acknowledged.len(),
        ledger.refused.len()
    );
    server.kill();
}

/// A TCP relay in front of a server that the test can take down (connections refused, open
/// ones cut mid-request) and bring back on the same port: an object store going away.
struct Outage {
    port: u16,
    down: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Outage {
    fn relay_to(upstream: SocketAddr) -> Outage {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let port = listener.local_addr().expect("relay address").port();
        let down = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (is_down, stopping) = (down.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut listener = Some(listener);
            // Open connections by id (both sockets), forgotten when the client side ends.
            let open: Arc<Mutex<HashMap<u64, [TcpStream; 2]>>> = Arc::default();
            let mut next_id = 0u64;
            while !stopping.load(Ordering::Relaxed) {
                if is_down.load(Ordering::Relaxed) {
                    // Refuse new connections and cut the open ones.
                    listener = None;
                    for [client, server] in open.lock().expect("open").drain().map(|(_, s)| s) {
                        let _ = client.shutdown(std::net::Shutdown::Both);
                        let _ = server.shutdown(std::net::Shutdown::Both);
                    }
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                let current = match listener.take() {
                    Some(l) => l,
                    None => match std::net::TcpListener::bind(("127.0.0.1", port)) {
                        Ok(l) => l,
                        Err(_) => {
                            std::thread::sleep(Duration::from_millis(10));
                            continue;
                        }
                    },
                };
                current.set_nonblocking(true).expect("nonblocking");
                match current.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        if let Ok(server) = TcpStream::connect(upstream) {
                            next_id += 1;
                            relay_connection(next_id, client, server, &open);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => {}
                }
                listener = Some(current);
            }
        });
        Outage {
            port,
            down,
            stop,
            thread: Some(thread),
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::Relaxed);
    }
}

/// Copies bytes both ways between `client` and `server` on two threads, registering the pair in
/// `open` (so an outage can cut it) until the client side ends.
fn relay_connection(
    id: u64,
    client: TcpStream,
    server: TcpStream,
    open: &Arc<Mutex<HashMap<u64, [TcpStream; 2]>>>,
) {
    let (Ok(c1), Ok(c2), Ok(s1), Ok(s2)) = (
        client.try_clone(),
        client.try_clone(),
        server.try_clone(),
        server.try_clone(),
    ) else {
        return;
    };
    open.lock().expect("open").insert(id, [client, server]);
    let registry = open.clone();
    std::thread::spawn(move || {
        let (mut from, mut to) = (c1, s1);
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(std::net::Shutdown::Write);
        registry.lock().expect("open").remove(&id);
    });
    std::thread::spawn(move || {
        let (mut from, mut to) = (s2, c2);
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
}

impl Drop for Outage {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn an_object_store_outage_during_flushes_loses_and_doubles_nothing() {
    let moto = common::moto::start_moto();
    common::moto::create_bucket(&moto.endpoint, "ingest-outage");
    let upstream: SocketAddr = moto
        .endpoint
        .trim_start_matches("http://")
        .parse()
        .expect("moto address");
    let relay = Outage::relay_to(upstream);
    let lake = "s3://ingest-outage/lake";
    let direct = StoreOptions {
        endpoint: Some(moto.endpoint.clone()),
        region: Some("us-east-1".into()),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        allow_http: true,
    };
    write_tiny_lake(lake, &direct, 30, 1);

    let dir = common::cli::fresh_path("ingest-http-outage");
    let endpoint = relay.endpoint();
    let server = Server::start_on(
        lake,
        &dir.join("wal"),
        &[
            "--s3-endpoint",
            &endpoint,
            "--s3-region",
            "us-east-1",
            "--s3-access-key-id",
            "test",
            "--s3-secret-access-key",
            "test",
            "--flush-interval-ms",
            "150",
            "--flush-rows",
            "300",
        ],
    );
    let run = "outage";
    // About 2,000 rows/s: the flushes, not the clients, are what the outages hit.
    let posters = Posters::start(run, server.http, 2, Duration::from_millis(10), clock_seed());

    // Three outages of the store, each while the flusher has rows to commit.
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(700));
        let before = posters.acknowledged();
        relay.set_down(true);
        std::thread::sleep(Duration::from_secs(3));
        let during = posters.acknowledged() - before;
        assert!(
            during > 0,
            "the API keeps acknowledging into the WAL while the store is down"
        );
        relay.set_down(false);
    }
    std::thread::sleep(Duration::from_millis(700));
    let ledger = posters.finish();
    assert!(
        ledger.refused.is_empty(),
        "no 503 below the WAL bound: {} refused",
        ledger.refused.len()
    );
    let stored = assert_exactly_once(&server, run, &ledger);
    assert_eq!(stored, ledger.acknowledged.len(), "every answer came");
    eprintln!("3 outages: {stored} rows acknowledged and stored once");
}

/// A small tmpfs mounted for the test, unmounted on drop.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `size` at `path`; `None` where mounting is not allowed (not root).
    fn mount(path: &Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(path).expect("mountpoint");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .stderr(Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| SmallDisk {
            path: path.to_path_buf(),
        })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

#[test]
fn a_full_wal_disk_answers_503_keeps_nothing_refused_and_recovers() {
    let dir = small_lake("disk-full");
    let wal = dir.join("wal");
    let Some(disk) = SmallDisk::mount(&wal, "512k") else {
        // CI runs as root (like this project's machines): there the test must run.
        assert!(
            std::env::var_os("CI").is_none(),
            "cannot mount a tmpfs for the WAL (needs root)"
        );
        eprintln!("skipped: cannot mount a tmpfs (needs root)");
        return;
    };
    // Flushes far apart: the posters fill the 512 KiB disk long before the first one.
    let server = Server::start_on(
        &dir.join("lake").to_string_lossy(),
        &disk.path,
        &["--flush-interval-ms", "4000", "--flush-rows", "1000000"],
    );
    let run = "disk-full";
    let posters = Posters::start(run, server.http, 2, Duration::ZERO, clock_seed());
    let deadline = Instant::now() + Duration::from_secs(60);
    while posters.refused() == 0 {
        assert!(Instant::now() < deadline, "the disk never filled");
        std::thread::sleep(Duration::from_millis(20));
    }
    // After the flush releases the segments the disk has room again.
    let full_at = posters.acknowledged();
    let deadline = Instant::now() + Duration::from_secs(60);
    while posters.acknowledged() < full_at + 2_000 {
        assert!(
            Instant::now() < deadline,
            "the API did not recover after the flush; log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let ledger = posters.finish();
    assert!(!ledger.refused.is_empty());
    let stored = assert_exactly_once(&server, run, &ledger);
    assert!(
        server.log().contains("No space left on device"),
        "the log names the cause:\n{}",
        server.log()
    );
    eprintln!(
        "disk full: {stored} rows stored once, {} refused with 503 and absent",
        ledger.refused.len()
    );
    drop(server);
}
