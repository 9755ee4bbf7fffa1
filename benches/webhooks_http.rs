//! Load generator for `/webhooks/whatsapp` (issue 21's goal: at least 20,000 acknowledged bodies/s
//! with signature checks and fsync on, one message per body, 8 keep-alive clients, 2 cores).
//!
//! `cargo bench --bench webhooks_http` loads the sample tenant and channels (data/sample) into a
//! fresh lake, starts the real `chatlake serve --ingest-listen` with a webhook secret, and drives
//! it from keep-alive clients posting Meta-shaped bodies of one inbound text each, every one
//! signed (`X-Hub-Signature-256`, HMAC-SHA256 computed before the run so that the clients'
//! hashing does not compete with the server's). It prints acknowledged bodies/s and the p50/p99
//! latency of a request, then how long the flusher takes to commit the backlog.
//!
//! | variable                 | default | meaning                                           |
//! |--------------------------|---------|---------------------------------------------------|
//! | `CHATLAKE_BENCH_SECONDS` | 10 (1 under `cargo test`) | length of the run               |
//! | `CHATLAKE_BENCH_CLIENTS` | 8       | keep-alive connections                            |
//! | `CHATLAKE_BENCH_BODIES`  | 50,000  | distinct signed bodies, posted round-robin (repeats are redeliveries: acknowledged, stored once) |
//! | `CHATLAKE_BIN`           | the bench's own build | the `chatlake` binary to start (e.g. a release build under `cargo test --bench`) |

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

#[path = "common/load.rs"]
mod load;

const BUILT_BIN: &str = env!("CARGO_BIN_EXE_chatlake");
const SECRET: &str = "bench-app-secret";

/// One request, pre-built: head (with the signature) and body.
struct Signed {
    head: Vec<u8>,
    body: Vec<u8>,
}

fn signed(n: usize) -> Signed {
    let user = format!("9198{:08}", n % 10_000);
    let body = format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"waba-1","changes":[{{"value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"919800000001","phone_number_id":"pn-1"}},"contacts":[{{"profile":{{"name":"User {n}"}},"wa_id":"{user}"}}],"messages":[{{"from":"{user}","id":"wamid.bench{n}","timestamp":"{}","type":"text","text":{{"body":"Hi, is my order shipped?"}}}}]}},"field":"messages"}}]}}]}}"#,
        1_790_812_800 + n % 86_400
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let head = format!(
        "POST /webhooks/whatsapp HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256={hex}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    Signed {
        head: head.into_bytes(),
        body: body.into_bytes(),
    }
}

fn get(addr: SocketAddr, path: &str) -> String {
    let Ok(stream) = TcpStream::connect(addr) else {
        return String::new();
    };
    let mut stream = BufReader::new(stream);
    let head = format!("GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n");
    let _ = stream.get_mut().write_all(head.as_bytes());
    let mut out = String::new();
    let _ = stream.read_to_string(&mut out);
    out
}

fn ingest(lake: &Path, table: &str, file: &str) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/sample")
        .join(file);
    let out = Command::new(load::server_binary(BUILT_BIN))
        .args([
            "ingest",
            "--lake",
            &lake.to_string_lossy(),
            "--table",
            table,
        ])
        .arg(sample)
        .output()
        .expect("chatlake ingest");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let seconds = load::env_or("CHATLAKE_BENCH_SECONDS", if measuring { 10u64 } else { 1 });
    let clients = load::env_or("CHATLAKE_BENCH_CLIENTS", 8usize);
    let distinct = load::env_or("CHATLAKE_BENCH_BODIES", 50_000usize).max(1);

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-webhooks-http");
    let _ = std::fs::remove_dir_all(&dir);
    let lake = dir.join("lake");
    ingest(&lake, "tenants", "tenants.csv");
    ingest(&lake, "channels", "channels.ndjson");
    let requests: Arc<Vec<Signed>> = Arc::new((0..distinct).map(signed).collect());

    let mut server = Command::new(load::server_binary(BUILT_BIN))
        .args([
            "serve",
            "--lake",
            &lake.to_string_lossy(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args([
            "--ingest-listen",
            "127.0.0.1:0",
            "--compact-every",
            "0",
            "--wal-dir",
        ])
        .arg(dir.join("wal"))
        .env("CHATLAKE_INGEST_TOKEN", "bench-token")
        .env("CHATLAKE_WEBHOOK_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let stderr = server.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr: SocketAddr = loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("the server did not start")
        };
        if let Some(addr) = line
            .split(", ingest on ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|a| a.parse().ok())
        {
            break addr;
        }
    };
    std::thread::spawn(move || for _ in lines {});

    let next = Arc::new(AtomicUsize::new(0));
    let load = load::drive(addr, clients, seconds, |_| {
        let (next, requests) = (next.clone(), requests.clone());
        move |stream: &mut BufReader<TcpStream>| {
            let request = &requests[next.fetch_add(1, Ordering::Relaxed) % requests.len()];
            load::exchange(stream, &[&request.head, &request.body])
        }
    });
    println!(
        "1 message/body, {clients} clients, {:.1}s: {:>8.0} acknowledged bodies/s  p50 {:.2} ms  p99 {:.2} ms  ({} failed, {} bodies)",
        load.secs,
        load.per_second(),
        load.percentile_ms(0.50),
        load.percentile_ms(0.99),
        load.failures,
        load.latencies.len(),
    );
    // The flusher's backlog: until the WAL holds nothing.
    let drain = Instant::now();
    loop {
        let health = get(addr, "/healthz");
        if health.contains("\"records\":0") || drain.elapsed() > Duration::from_secs(600) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    println!(
        "flusher: backlog committed to the lake {:.1}s after the run",
        drain.elapsed().as_secs_f64()
    );
    let _ = server.kill();
    let _ = server.wait();
}
