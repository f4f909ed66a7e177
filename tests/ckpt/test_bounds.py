"""Every hostile input of issue 15 ends ``keys`` with exit 0, 1 or 2 and never hangs.

``keys`` runs in a subprocess (a hang would otherwise hang the suite; the timeout here is a
guard, the 10 s / 500 MB figures come from ``benchmarks/bench_bounds.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.ckpt.hostile import BUILDERS

pytest.importorskip("torch")

EXPECTED = {
    "huge-int-key": 0,
    "huge-shape": 0,
    "bad-utf8-name": 2,
    "unknown-compression-zip": 2,
    "unknown-compression-npz": 2,
    "duplicate-entries": 0,
    "self-index": 2,
    "absent-shards": 2,
    "shard-link-out": 0,
    "fifo": 2,
    "fifo-against": 2,
    "device": 2,
    "digit-line": 2,
    "digit-key-parts": 1,
    "control-characters": 1,
}


def run_keys(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envdoctor", "keys", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_hostile_input_gets_an_answer(tmp_path: Path, name: str) -> None:
    builder = BUILDERS[name]
    args, note = builder(tmp_path) if name != "absent-shards" else _small_absent(tmp_path)
    result = run_keys(args)
    output = result.stdout + result.stderr
    assert result.returncode == EXPECTED[name], f"{note}: exit {result.returncode}\n{output[-2000:]}"
    assert "Traceback" not in output
    assert "\x1b" not in output and "\x07" not in output, note
    if name == "shard-link-out":
        assert "SECRET" not in output and "links outside" in output
    if name == "control-characters":
        assert "\\x1b" in output  # shown, escaped
    if name == "huge-shape":
        assert "~2^" in output


def _small_absent(folder: Path) -> tuple[list[str], str]:
    from tests.ckpt.hostile import many_absent_shards

    return many_absent_shards(folder, count=25_000)
