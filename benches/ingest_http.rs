//! Load generator for the HTTP ingest API (issue 17's performance goal: at least 200,000 rows/s
//! and 20,000 requests/s acknowledged with fsync on, on a 2-core machine).
//!
//! `cargo bench --bench ingest_http` generates a small lake, starts the real `chatlake serve
//! --ingest-listen` on it (WAL under the target directory), and drives it from several
//! keep-alive clients, first with 100-row bodies, then with 1-row bodies. For each it prints
//! acknowledged rows/s, requests/s and the p50/p99 latency of a request. Before those runs, on
//! the idle server, it measures freshness: one client posts `CHATLAKE_BENCH_FRESH_RATE` rows/s (10-row bodies every
//! 10 ms at the default 1,000) while a pgwire session polls `max(value)` of those rows every
//! 20 ms; a body's freshness is the time from its `200` to the first poll that sees it (the
//! client's ids only grow and the WAL commits in order), reported as p50/p99/max.
//!
//! | variable                     | default | meaning                                  |
//! |------------------------------|---------|------------------------------------------|
//! | `CHATLAKE_BENCH_SECONDS`     | 10 (1 under `cargo test`) | length of each run     |
//! | `CHATLAKE_BENCH_CLIENTS`     | 8       | keep-alive connections                   |
//! | `CHATLAKE_BENCH_BODY_ROWS`   | `100,1` | rows per request, one run per value      |
//! | `CHATLAKE_BENCH_TABLE`       | `analytics_events` | the table posted to           |
//! | `CHATLAKE_BENCH_FRESH_RATE`  | 1000    | rows/s of the freshness run (0: skip it) |
//! | `CHATLAKE_BIN`               | the bench's own build | the `chatlake` binary to start |

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[path = "common/load.rs"]
mod load;

const BUILT_BIN: &str = env!("CARGO_BIN_EXE_chatlake");

/// The server binary: `$CHATLAKE_BIN`, else the one cargo built beside this bench.
fn bin() -> String {
    load::server_binary(BUILT_BIN)
}
const TOKEN: &str = "bench-token";

fn row(n: u64) -> String {
    let mut out = String::new();
    push_row(&mut out, n);
    out
}

/// Appends row `n` (one NDJSON line without its `\n`) to `out`.
fn push_row(out: &mut String, n: u64) {
    use std::fmt::Write as _;
    let _ = write!(
        out,
        r#"{{"tenant_id":"bench","channel_id":"bench-ch","contact_id":"c{}","ts":"2026-10-30T12:00:00.{:06}Z","category":"bench","action":"posted","label":"{n}","value":{n}}}"#,
        n % 1000,
        n % 1_000_000
    );
}

/// A whole POST of `body` to `table`: head and body in one buffer.
fn request(table: &str, body: &str) -> Vec<u8> {
    let mut request = format!(
        "POST /v1/ingest/{table} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body.as_bytes());
    request
}

fn run(addr: SocketAddr, table: &str, rows: usize, clients: usize, seconds: u64) {
    let load = load::drive(addr, clients, seconds, |c| {
        let table = table.to_string();
        let mut next = (c as u64) << 40;
        let mut body = String::new();
        move |stream: &mut BufReader<TcpStream>| {
            body.clear();
            for _ in 0..rows {
                push_row(&mut body, next);
                body.push('\n');
                next += 1;
            }
            load::exchange(stream, &[&request(&table, &body)])
        }
    });
    println!(
        "{rows:>4} rows/request, {clients} clients, {:.1}s: {:>9.0} rows/s {:>8.0} requests/s  p50 {:.2} ms  p99 {:.2} ms  ({} failed)",
        load.secs,
        load.per_second() * rows as f64,
        load.per_second(),
        load.percentile_ms(0.50),
        load.percentile_ms(0.99),
        load.failures,
    );
}

/// The pgwire port in the banner "... serving <lake> on 127.0.0.1:P, ingest on ...".
fn banner_pg_port(banner: &str) -> u16 {
    banner
        .split(" on 127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pg port in {banner}"))
}

/// The freshness run (see the module docs).
fn freshness(addr: SocketAddr, pg_port: u16, rate: u64, seconds: u64) {
    const BODY_ROWS: u64 = 10;
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<std::sync::Mutex<Vec<(u64, Instant)>>> = Arc::default();
    let poster = {
        let (stop, acked) = (stop.clone(), acked.clone());
        std::thread::spawn(move || {
            let Ok(stream) = TcpStream::connect(addr) else {
                return;
            };
            let _ = stream.set_nodelay(true);
            let mut stream = BufReader::new(stream);
            let every = Duration::from_secs_f64(BODY_ROWS as f64 / rate as f64);
            let first = 1u64 << 50;
            let started = Instant::now();
            let mut sent = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let mut body = String::new();
                for i in 0..BODY_ROWS {
                    body.push_str(&row(first + sent + i).replace("\"bench\"", "\"fresh\""));
                    body.push('\n');
                }
                sent += BODY_ROWS;
                if let Ok(200) = load::exchange(&mut stream, &[&request("analytics_events", &body)])
                {
                    let now = Instant::now();
                    acked.lock().expect("acked").push((first + sent - 1, now));
                }
                let due = started + every.mul_f64((sent / BODY_ROWS) as f64);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
            }
        })
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = runtime.block_on(async {
        let config = format!("host=127.0.0.1 port={pg_port} user=bench dbname=chatlake");
        let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
            .await
            .expect("pgwire connect");
        tokio::spawn(connection);
        client
    });
    let visible_max = || -> u64 {
        runtime
            .block_on(client.simple_query(
                "SELECT CAST(max(value) AS BIGINT) FROM analytics_events WHERE category = 'fresh'",
            ))
            .ok()
            .and_then(|rows| {
                rows.into_iter().find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => {
                        r.get(0).and_then(|v| v.parse().ok())
                    }
                    _ => None,
                })
            })
            .unwrap_or(0)
    };
    let mut polls: Vec<(Instant, u64)> = Vec::new();
    let until = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < until {
        polls.push((Instant::now(), visible_max()));
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    let _ = poster.join();
    let acked = std::mem::take(&mut *acked.lock().expect("acked"));
    let last = acked.last().map_or(0, |(id, _)| *id);
    let deadline = Instant::now() + Duration::from_secs(60);
    while polls.last().is_none_or(|(_, seen)| *seen < last) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        polls.push((Instant::now(), visible_max()));
    }
    let mut ages: Vec<Duration> = Vec::new();
    let mut unseen = 0;
    for (id, at) in &acked {
        match polls.iter().find(|(when, seen)| when >= at && seen >= id) {
            Some((when, _)) => ages.push(*when - *at),
            None => unseen += 1,
        }
    }
    ages.sort_unstable();
    let pct = |p: f64| {
        ages.get(((ages.len() as f64 * p) as usize).min(ages.len().saturating_sub(1)))
            .map_or(0.0, Duration::as_secs_f64)
    };
    println!(
        "freshness at {rate} rows/s, {} bodies: 200 to visible over pgwire p50 {:.2} s  p99 {:.2} s  max {:.2} s  ({unseen} never seen)",
        acked.len(),
        pct(0.50),
        pct(0.99),
        ages.last().map_or(0.0, Duration::as_secs_f64)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test` (no `--bench`) this is a smoke run of
    // one second per body size, which still checks that every request is acknowledged.
    let measuring = std::env::args().any(|a| a == "--bench");
    let seconds = load::env_or("CHATLAKE_BENCH_SECONDS", if measuring { 10u64 } else { 1 });
    let clients = load::env_or("CHATLAKE_BENCH_CLIENTS", 8usize);
    let table = std::env::var("CHATLAKE_BENCH_TABLE").unwrap_or_else(|_| "analytics_events".into());
    let sizes: Vec<usize> = std::env::var("CHATLAKE_BENCH_BODY_ROWS")
        .unwrap_or_else(|_| "100,1".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-ingest-http");
    let _ = std::fs::remove_dir_all(&dir);
    let lake = dir.join("lake");
    let generated = Command::new(bin())
        .args(["generate", "--lake", &lake.to_string_lossy()])
        .args(["--tenants", "1", "--contacts", "100", "--days", "2"])
        .output();
    match generated {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!("generate: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => panic!("generate: {e}"),
    }
    let mut server = Command::new(bin())
        .args([
            "serve",
            "--lake",
            &lake.to_string_lossy(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--ingest-listen", "127.0.0.1:0", "--wal-dir"])
        .arg(dir.join("wal"))
        .env("CHATLAKE_INGEST_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("serve: {e}"));
    let Some(stderr) = server.stderr.take() else {
        panic!("no stderr")
    };
    let mut lines = BufReader::new(stderr).lines();
    let (addr, banner): (SocketAddr, String) = loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("the server did not start")
        };
        if let Some(addr) = line
            .split(", ingest on ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|a| a.parse().ok())
        {
            break (addr, line);
        }
    };
    let pg_port: u16 = banner_pg_port(&banner);
    // Keep draining the server's stderr.
    std::thread::spawn(move || for _ in lines {});
    // Freshness first, on an idle server: after the throughput runs the flusher would still
    // be working through their backlog.
    let rate = load::env_or("CHATLAKE_BENCH_FRESH_RATE", 1000u64);
    if rate > 0 {
        freshness(addr, pg_port, rate, seconds.max(3));
    }
    for rows in sizes {
        run(addr, &table, rows, clients, seconds);
    }
    let _ = server.kill();
    let _ = server.wait();
}
