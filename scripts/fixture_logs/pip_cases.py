#!/usr/bin/env python3
"""Regenerate OT112's fixtures: pip reporting a requirement that is not installed (real runs).

Needs the package index (run by hand, not in CI): a throwaway venv gets requests 2.31.0
without its dependencies, then `pip install idna==2.0` prints the install-time conflict
report (pip 20.2+ wording: "X requires Y, which is not installed." and "... but you have Z
which is incompatible.") and `pip check` prints its own form ("X requires Y, which is not
installed.", the name only). Output is written byte for byte.

    python scripts/fixture_logs/pip_cases.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "knowledge" / "OT112"
VENV = Path("/tmp/envdoctor-pip-case")


def run(*args: str) -> tuple[bytes, int]:
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    return proc.stdout, proc.returncode


def main() -> int:
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    python = str(VENV / "bin" / "python")
    version, _ = run(python, "-m", "pip", "--version")
    run(python, "-m", "pip", "install", "--no-color", "--no-deps", "requests==2.31.0")
    install, code = run(python, "-m", "pip", "install", "--no-color", "idna==2.0")
    (OUT / "hit-pip-install-requires-not-installed.log").write_bytes(install)
    check, check_code = run(python, "-m", "pip", "check")
    (OUT / "hit-pip-check-requires-not-installed.log").write_bytes(check)
    print(version.decode().strip(), f"install exit {code}, check exit {check_code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
