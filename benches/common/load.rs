//! The HTTP load generator the listener benches share (`ingest_http`, `webhooks_http`):
//! keep-alive clients on their own threads, each sending requests back to back for a fixed
//! time, and what they measured (acknowledged requests, failures, latency percentiles).
//!
//! A bench includes it with `#[path = "common/load.rs"] mod load;`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The server binary to start: `$CHATLAKE_BIN` (e.g. a release build, or an older build to
/// compare with), else `built`, the one cargo built beside the bench.
pub fn server_binary(built: &str) -> String {
    std::env::var("CHATLAKE_BIN").unwrap_or_else(|_| built.to_string())
}

/// `$name` parsed as `T`, else `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sends one request on a keep-alive connection (its parts written back to back, as a client
/// with a buffered writer would) and reads the whole response; returns its status.
pub fn exchange(stream: &mut BufReader<TcpStream>, parts: &[&[u8]]) -> std::io::Result<u16> {
    for part in parts {
        stream.get_mut().write_all(part)?;
    }
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

/// What a [`drive`] run measured.
pub struct Load {
    /// Latency of every acknowledged (`200`) request, sorted.
    pub latencies: Vec<Duration>,
    /// Requests answered with another status, plus connections that failed.
    pub failures: u64,
    /// Length of the run.
    pub secs: f64,
}

impl Load {
    /// Acknowledged requests per second.
    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.secs.max(1e-9)
    }

    /// The `p` quantile (0..1) of the acknowledged requests' latency, in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let last = self.latencies.len().saturating_sub(1);
        self.latencies
            .get(((self.latencies.len() as f64 * p) as usize).min(last))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    }
}

/// Runs `clients` keep-alive connections to `addr` for `seconds`. Client `c` sends requests
/// back to back with the closure `client(c)` returns (one request per call, answering its
/// status), until the time is up or its connection fails.
pub fn drive<C>(addr: SocketAddr, clients: usize, seconds: u64, client: impl Fn(usize) -> C) -> Load
where
    C: FnMut(&mut BufReader<TcpStream>) -> std::io::Result<u16> + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let stop = stop.clone();
            let mut send = client(c);
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut failures = 0u64;
                let Ok(stream) = TcpStream::connect(addr) else {
                    return (latencies, 1);
                };
                let _ = stream.set_nodelay(true);
                let mut stream = BufReader::new(stream);
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    match send(&mut stream) {
                        Ok(200) => latencies.push(started.elapsed()),
                        Ok(_) => failures += 1,
                        Err(_) => {
                            failures += 1;
                            break;
                        }
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut load = Load {
        latencies: Vec::new(),
        failures: 0,
        secs: 0.0,
    };
    for t in threads {
        if let Ok((l, f)) = t.join() {
            load.latencies.extend(l);
            load.failures += f;
        }
    }
    load.secs = started.elapsed().as_secs_f64();
    load.latencies.sort_unstable();
    load
}
