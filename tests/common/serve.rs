//! A running `chatlake serve` with the ingest listener and/or the console, as the HTTP tests
//! start it: the process, the ports its banner announces, and everything it wrote to stderr.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `chatlake serve --lake LAKE --listen 127.0.0.1:0` (pgwire on a free port), to add to.
pub fn serve_command(lake: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chatlake"));
    command.args(["serve", "--lake", lake, "--listen", "127.0.0.1:0"]);
    command
}

/// A `chatlake serve --ingest-listen` (and/or `--http-listen`) process; killed when dropped.
pub struct ServeProcess {
    pub child: Child,
    /// The pgwire port.
    pub pg_port: u16,
    /// The ingest listener's address (`0.0.0.0:0` when the server runs without one).
    pub http: SocketAddr,
    /// The console's address, when the server runs one.
    pub console: Option<SocketAddr>,
    log: Arc<Mutex<String>>,
}

impl ServeProcess {
    /// Spawns `command` (a `chatlake serve ... --ingest-listen 127.0.0.1:0` and/or
    /// `--http-listen 127.0.0.1:0`, with its environment) and waits up to two minutes for its
    /// banner `chatlake X serving <lake> on 127.0.0.1:P[, ingest on A][, console on B] (ready ...`.
    pub fn spawn(command: &mut Command) -> ServeProcess {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains(" serving ") && line.contains(" (ready in ") {
                    let _ = tx.send(line.clone());
                }
                let mut log = sink.lock().expect("log");
                log.push_str(&line);
                log.push('\n');
            }
        });
        let Ok(banner) = rx.recv_timeout(Duration::from_secs(120)) else {
            let _ = child.kill();
            panic!("server did not start: {}", log.lock().expect("log"));
        };
        let pg_port = banner
            .split(" on 127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split(',').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("pg port in {banner}"));
        let address_after = |label: &str| -> Option<SocketAddr> {
            banner
                .split(label)
                .nth(1)
                .and_then(|r| r.split([',', ' ']).next())
                .map(|a| {
                    a.parse()
                        .unwrap_or_else(|_| panic!("{label} address in {banner}"))
                })
        };
        let http =
            address_after(", ingest on ").unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        let console = address_after(", console on ");
        ServeProcess {
            child,
            pg_port,
            http,
            console,
            log,
        }
    }

    /// Everything the server wrote to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    /// SIGKILL (`Child::kill`), and wait for the process to be gone.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
