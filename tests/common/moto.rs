//! moto's S3 server (PyPI `moto[server]`, installed by `scripts/test`) on a free loopback port,
//! for the tests that put a lake in a real S3-compatible store.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A moto S3 server on a free loopback port, stopped on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts moto's server (`CHATLAKE_MOTO_SERVER` names the program, default `moto_server`).
pub fn start_moto() -> Moto {
    let program = std::env::var("CHATLAKE_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new(&program)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start `{program}` ({e}): the S3 tests need moto's server \
                 (`pip install 'moto[server]'`; scripts/test installs it into its virtualenv)"
            )
        });
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    moto
}

/// Creates a bucket with a plain S3 `PUT /bucket` (object_store cannot create buckets).
pub fn create_bucket(endpoint: &str, bucket: &str) {
    let host = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).expect("connect to moto");
    write!(
        stream,
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "create bucket: {response}"
    );
}
