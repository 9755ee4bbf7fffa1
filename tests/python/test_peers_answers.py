"""The peer benchmark's answer check in CI (issue 23, "Tests and CI"): every query of
benches/run_peers.py at 200k messages, in chatlake, DuckDB and chDB over the same Delta lake,
must give the same rows. Timings are not judged here (one run each, on whatever binary CI
built); a wrong answer, or an engine that gives none, fails the test.

The harness runs as `python -m benches.peers` with this interpreter (the tests' venv has
duckdb, chdb and deltalake), generating its lake into a temporary directory.
"""

import os
import pathlib
import subprocess
import sys

from conftest import _binary
from needs import require_module

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benches.peers.queries import QUERIES  # noqa: E402  (needs REPO on the path)


def test_every_peer_query_answers_alike_at_200k(tmp_path):
    for module in ("duckdb", "chdb", "deltalake"):
        require_module(module)
    proc = subprocess.run(
        [sys.executable, "-m", "benches.peers", "--check-only", "--scales", "200k",
         "--engines", "chatlake,duckdb,chdb", "--lakes", str(tmp_path), "--timeout", "300",
         "--binary", _binary()],
        cwd=REPO, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, f"answers differ or an engine failed:\n{proc.stderr[-8000:]}"
    # Every query of the set was checked in all three engines, none skipped.
    rows = [line for line in proc.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| query ")]
    assert len(rows) == len(QUERIES), proc.stdout
    assert all(line.split(" | ")[-1].startswith("same (") for line in rows), proc.stdout
