#!/usr/bin/env python3
"""Connection setup per second: trust, SCRAM-SHA-256, and SCRAM-SHA-256-PLUS over TLS.

    benches/connect_rate.py [--seconds 10] [--work /tmp/bench-connect]

Generates a tiny lake, makes a user (`chatlake user add --password-stdin`) and a throw-away CA
and server certificate with `openssl`, then starts `chatlake serve` twice: without an auth file
(trust), and with `--auth-file --tls-cert --tls-key`. For each mode one psycopg 3 client opens a
connection, runs `SELECT 1` and closes it, in a loop for `--seconds`. Prints connections/s and
p50/p99 setup time (connect + first query) per mode, as a markdown row.

The chatlake binary: $CHATLAKE_BIN or target/release/chatlake.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import time
from pathlib import Path

import psycopg

BIN = os.environ.get("CHATLAKE_BIN", "target/release/chatlake")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def serve(lake: Path, *flags: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "--lake", str(lake), "--listen",
                             f"127.0.0.1:{port}", *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("chatlake serve did not start")


def measure(seconds: float, **params) -> tuple[float, float, float, int]:
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        with psycopg.connect(dbname="chatlake", host="localhost", **params) as conn:
            conn.execute("SELECT 1").fetchone()
        times.append(time.perf_counter() - start)
    times.sort()
    total = sum(times)
    return len(times) / total, times[len(times) // 2] * 1e3, \
        times[min(len(times) - 1, int(len(times) * 0.99))] * 1e3, len(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-connect"))
    args = parser.parse_args()
    work = args.work
    subprocess.run(["rm", "-rf", str(work)], check=True)
    work.mkdir(parents=True)
    lake = work / "lake"
    subprocess.run([BIN, "generate", "--lake", str(lake), "--tenants", "1", "--contacts", "100",
                    "--days", "2"], check=True, capture_output=True)
    users = work / "users.toml"
    subprocess.run([BIN, "user", "add", "bench", "--auth-file", str(users), "--all-tenants",
                    "--password-stdin"], input="bench pw\n", text=True, check=True,
                   capture_output=True)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-days", "2", "-subj", "/CN=bench-ca", "-keyout", "ca.key", "-out", "ca.crt", cwd=work)
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr", cwd=work)
    (work / "san.ext").write_text("subjectAltName=DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt", cwd=work)

    print("| mode | connections/s | p50 | p99 | connections |")
    print("|---|---|---|---|---|")
    trust, port = serve(lake)
    try:
        rate, p50, p99, n = measure(args.seconds, port=port, user="bench", sslmode="disable")
        print(f"| trust, plain | {rate:.0f} | {p50:.2f} ms | {p99:.2f} ms | {n} |")
    finally:
        trust.terminate()
        trust.wait()
    secure, port = serve(lake, "--auth-file", str(users), "--tls-cert", str(work / "server.crt"),
                         "--tls-key", str(work / "server.key"))
    try:
        rate, p50, p99, n = measure(args.seconds, port=port, user="bench", password="bench pw",
                                    sslmode="disable")
        print(f"| SCRAM-SHA-256, plain | {rate:.0f} | {p50:.2f} ms | {p99:.2f} ms | {n} |")
        rate, p50, p99, n = measure(args.seconds, port=port, user="bench", password="bench pw",
                                    sslmode="verify-full", sslrootcert=str(work / "ca.crt"),
                                    channel_binding="require")
        print(f"| SCRAM-SHA-256-PLUS, TLS verify-full | {rate:.0f} | {p50:.2f} ms | {p99:.2f} ms "
              f"| {n} |")
    finally:
        secure.terminate()
        secure.wait()


if __name__ == "__main__":
    main()
