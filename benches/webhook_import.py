#!/usr/bin/env python3
"""Webhook bodies parsed per second from a file: `chatlake ingest --format whatsapp-webhook`.

    benches/webhook_import.py [--bodies 200000] [--work /tmp/bench-webhooks] [--seed 7]

1. Writes N WhatsApp Cloud API bodies, one per line, one event per body (as Meta sends them
   one by one): 60% inbound text messages with the sender's profile from 10,000 users, 40%
   PMP status callbacks (sent, delivered, read) of outbound messages, times spread over a week
   of October 2026, all for the sample channel pn-1. Seeded: the same file every run.
2. Makes a lake holding the sample tenant, channels and contacts (data/sample), then times
   `chatlake ingest --format whatsapp-webhook FILE` into it: read, parse, route, decode, dedup
   against the lake, write sorted zstd Parquet, one Delta commit per table, refresh the
   derived rows. Then times the same command again (every row a duplicate).
3. Prints bodies/s of both runs (wall time of the process) and the summary lines.

The chatlake binary: $CHATLAKE_BIN or target/release/chatlake.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START = 1790812800  # 2026-10-01T00:00:00Z


def envelope(value: dict) -> dict:
    v = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "919800000001", "phone_number_id": "pn-1"},
    }
    v.update(value)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "waba-1", "changes": [{"value": v, "field": "messages"}]}],
    }


def bodies(n: int, seed: int):
    rng = random.Random(seed)
    for i in range(n):
        user = f"9198{rng.randrange(10_000):08d}"
        ts = str(START + rng.randrange(7 * 86400))
        if rng.random() < 0.6:
            yield envelope(
                {
                    "contacts": [{"profile": {"name": f"User {user[-4:]}"}, "wa_id": user}],
                    "messages": [
                        {
                            "from": user,
                            "id": f"wamid.in{i}",
                            "timestamp": ts,
                            "type": "text",
                            "text": {"body": "Hi, is my order shipped?"},
                        }
                    ],
                }
            )
        else:
            status = rng.choice(["sent", "delivered", "read"])
            yield envelope(
                {
                    "statuses": [
                        {
                            "id": f"wamid.out{i // 3}",
                            "status": status,
                            "timestamp": ts,
                            "recipient_id": user,
                            "pricing": {
                                "billable": True,
                                "pricing_model": "PMP",
                                "type": "regular",
                                "category": "utility",
                            },
                        }
                    ]
                }
            )


def run(cmd: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return elapsed, out.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bodies", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-webhooks"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    binary = os.environ.get("CHATLAKE_BIN", str(ROOT / "target/release/chatlake"))

    if args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True)
    data = args.work / "bodies.ndjson"
    with data.open("w") as out:
        for body in bodies(args.bodies, args.seed):
            out.write(json.dumps(body, separators=(",", ":")))
            out.write("\n")
    size = data.stat().st_size
    lake = str(args.work / "lake")
    for table, file in [("tenants", "tenants.csv"), ("channels", "channels.ndjson"), ("contacts", "contacts.csv")]:
        run([binary, "ingest", "--lake", lake, "--table", table, str(ROOT / "data/sample" / file)])
    for label in ["first load", "same file again"]:
        elapsed, stderr = run([binary, "ingest", "--lake", lake, "--format", "whatsapp-webhook", str(data)])
        print(f"{label}: {args.bodies} bodies ({size / 2**20:.1f} MiB) in {elapsed:.2f} s = {args.bodies / elapsed:,.0f} bodies/s")
        for line in stderr.strip().splitlines():
            print(f"    {line}")


if __name__ == "__main__":
    main()
