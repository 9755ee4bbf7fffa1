//! A running `chatlake serve` with the ingest listener, as the HTTP tests start it: the
//! process, the ports its banner announces, and everything it wrote to stderr.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A `chatlake serve --ingest-listen` process; killed when dropped.
pub struct ServeProcess {
    pub child: Child,
    /// The pgwire port.
    pub pg_port: u16,
    /// The ingest listener's address.
    pub http: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl ServeProcess {
    /// Spawns `command` (a `chatlake serve ... --ingest-listen 127.0.0.1:0` with its
    /// environment) and waits up to two minutes for its banner
    /// `chatlake X serving <lake> on 127.0.0.1:P, ingest on 127.0.0.1:Q (ready ...`.
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
                if line.contains(", ingest on ") {
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
        let http = banner
            .split(", ingest on ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("ingest address in {banner}"));
        ServeProcess {
            child,
            pg_port,
            http,
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
