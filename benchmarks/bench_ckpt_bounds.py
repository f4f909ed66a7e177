"""Time and peak memory of ``envdoctor keys`` on every hostile input of issue 15 (bound: 10 s, 500 MB).

Run by hand from the repository root: ``python benchmarks/bench_ckpt_bounds.py``. Each input
comes from ``tests/ckpt/hostile.py`` (the index with absent shards at its full 1,000,000),
written by a subprocess so that this process stays small; ``keys`` runs in a fresh subprocess
and the table shows its exit code, wall time and peak RSS (``ru_maxrss`` from ``wait4``; a
child's figure includes what it inherited at fork, hence the small parent). The sandbox child
``keys`` forks for pickles is a copy of it, limited to 448 MB of address space of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_SECONDS = 10.0
LIMIT_MB = 500.0
BUILD = """
import json, sys
from pathlib import Path
from tests.ckpt.hostile import BUILDERS
cases = {}
for name, builder in BUILDERS.items():
    folder = Path(sys.argv[1]) / name
    folder.mkdir()
    cases[name] = builder(folder)
print(json.dumps(cases))
"""


def build_all(temp: str) -> dict[str, list[object]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    output = subprocess.run([sys.executable, "-c", BUILD, temp], capture_output=True, text=True, env=env, check=True)
    cases: dict[str, list[object]] = json.loads(output.stdout)
    return cases


def main() -> int:
    failures = 0
    print(f"{'input':<26} {'exit':>4} {'seconds':>8} {'peak MB':>8}  note")
    with tempfile.TemporaryDirectory(prefix="bench_bounds_") as temp:
        for name, (args, note) in build_all(temp).items():
            env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
            start = time.perf_counter()
            child = subprocess.Popen(
                [sys.executable, "-m", "envdoctor", "keys", *map(str, args)],  # type: ignore[call-overload]
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - start
            code = os.waitstatus_to_exitcode(status)
            peak = usage.ru_maxrss / 1024
            ok = code in (0, 1, 2) and seconds < LIMIT_SECONDS and peak < LIMIT_MB
            failures += not ok
            flag = "" if ok else "  <-- OVER"
            print(f"{name:<26} {code:>4} {seconds:>8.2f} {peak:>8.1f}  {note}{flag}")
    print("all within bounds" if not failures else f"{failures} over the bounds")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
