//! Load generator for the HTTP ingest API (issue 17's performance goal: at least 200,000 rows/s
//! and 20,000 requests/s acknowledged with fsync on, on a 2-core machine).
//!
//! `cargo bench --bench ingest_http` generates a small lake, starts the real `chatlake serve
//! --ingest-listen` on it (WAL under the target directory), and drives it from several
//! keep-alive clients, first with 100-row bodies, then with 1-row bodies. For each it prints
//! acknowledged rows/s, requests/s and the p50/p99 latency of a request.
//!
//! | variable                     | default | meaning                                  |
//! |------------------------------|---------|------------------------------------------|
//! | `CHATLAKE_BENCH_SECONDS`     | 10 (1 under `cargo test`) | length of each run     |
//! | `CHATLAKE_BENCH_CLIENTS`     | 8       | keep-alive connections                   |
//! | `CHATLAKE_BENCH_BODY_ROWS`   | `100,1` | rows per request, one run per value      |
//! | `CHATLAKE_BENCH_TABLE`       | `analytics_events` | the table posted to           |

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_chatlake");
const TOKEN: &str = "bench-token";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Posts `body` and reads the status; keep-alive.
fn post(stream: &mut BufReader<TcpStream>, head: &[u8], body: &[u8]) -> std::io::Result<u16> {
    stream.get_mut().write_all(head)?;
    stream.get_mut().write_all(body)?;
    let mut line = String::new();
    stream.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = 0usize;
    loop {
        line.clear();
        if stream.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((n, v)) = l.split_once(':')
            && n.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut sink = vec![0; length];
    stream.read_exact(&mut sink)?;
    Ok(status)
}

fn row(n: u64) -> String {
    format!(
        r#"{{"tenant_id":"bench","channel_id":"bench-ch","contact_id":"c{}","ts":"2026-10-30T12:00:00.{:06}Z","category":"bench","action":"posted","label":"{n}","value":{n}}}"#,
        n % 1000,
        n % 1_000_000
    )
}

fn run(addr: SocketAddr, table: &str, rows: usize, clients: usize, seconds: u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for c in 0..clients {
        let stop = stop.clone();
        let table = table.to_string();
        threads.push(std::thread::spawn(move || {
            let mut latencies = Vec::new();
            let mut failures = 0u64;
            let Ok(stream) = TcpStream::connect(addr) else {
                return (latencies, 1);
            };
            let _ = stream.set_nodelay(true);
            let mut stream = BufReader::new(stream);
            let mut next = (c as u64) << 40;
            while !stop.load(Ordering::Relaxed) {
                let mut body = String::new();
                for _ in 0..rows {
                    body.push_str(&row(next));
                    body.push('\n');
                    next += 1;
                }
                let head = format!(
                    "POST /v1/ingest/{table} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let started = Instant::now();
                match post(&mut stream, head.as_bytes(), body.as_bytes()) {
                    Ok(200) => latencies.push(started.elapsed()),
                    Ok(_) => failures += 1,
                    Err(_) => {
                        failures += 1;
                        break;
                    }
                }
            }
            (latencies, failures)
        }));
    }
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut failures = 0;
    for t in threads {
        if let Ok((l, f)) = t.join() {
            latencies.extend(l);
            failures += f;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    let requests = latencies.len() as f64;
    println!(
        "{rows:>4} rows/request, {clients} clients, {secs:.1}s: {:>9.0} rows/s {:>8.0} requests/s  p50 {:.2} ms  p99 {:.2} ms  ({failures} failed)",
        requests * rows as f64 / secs,
        requests / secs,
        pct(0.50),
        pct(0.99),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test` (no `--bench`) this is a smoke run of
    // one second per body size, which still checks that every request is acknowledged.
    let measuring = std::env::args().any(|a| a == "--bench");
    let seconds = env_or("CHATLAKE_BENCH_SECONDS", if measuring { 10u64 } else { 1 });
    let clients = env_or("CHATLAKE_BENCH_CLIENTS", 8usize);
    let table = std::env::var("CHATLAKE_BENCH_TABLE").unwrap_or_else(|_| "analytics_events".into());
    let sizes: Vec<usize> = std::env::var("CHATLAKE_BENCH_BODY_ROWS")
        .unwrap_or_else(|_| "100,1".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-ingest-http");
    let _ = std::fs::remove_dir_all(&dir);
    let lake = dir.join("lake");
    let generated = Command::new(BIN)
        .args(["generate", "--lake", &lake.to_string_lossy()])
        .args(["--tenants", "1", "--contacts", "100", "--days", "2"])
        .output();
    match generated {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!("generate: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => panic!("generate: {e}"),
    }
    let mut server = Command::new(BIN)
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
    // Keep draining the server's stderr.
    std::thread::spawn(move || for _ in lines {});
    for rows in sizes {
        run(addr, &table, rows, clients, seconds);
    }
    let _ = server.kill();
    let _ = server.wait();
}
