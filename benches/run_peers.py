#!/usr/bin/env python3
"""One command for the peer benchmark: chatlake vs DuckDB, ClickHouse (chDB) and PostgreSQL.

    benches/run_peers.py [--scales 1M,3M,10M,30M] [--queries a,b] [--engines ...] [--runs 5]

Runs in a virtualenv with benches/requirements.txt ($CHATLAKE_BENCH_VENV, default
~/.cache/chatlake-venv, the tests' venv): created or completed on first use, then this script
re-runs itself with that venv's Python. The chatlake binary is $CHATLAKE_BIN or
target/release/chatlake. Everything else: benches/README.md and --help.
"""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = Path(os.environ.get("CHATLAKE_BENCH_VENV", Path.home() / ".cache" / "chatlake-venv"))
NEEDED = ("duckdb", "chdb", "deltalake", "pyarrow", "psycopg")


def have_packages():
    from importlib.util import find_spec
    return all(find_spec(m) is not None for m in NEEDED)


def main():
    venv_python = VENV / "bin" / "python"
    in_venv = Path(sys.prefix).resolve() == VENV.resolve()
    if not in_venv:
        if not venv_python.exists():
            print(f"creating the benchmark venv at {VENV}", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        os.execv(str(venv_python), [str(venv_python), str(Path(__file__).resolve()), *sys.argv[1:]])
    if not have_packages():
        print(f"installing benches/requirements.txt into {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", str(HERE / "requirements.txt")],
                       check=True)
    sys.path.insert(0, str(HERE.parent))
    from benches.peers.cli import main as run

    sys.exit(run())


if __name__ == "__main__":
    main()
