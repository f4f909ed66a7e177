"""Time and peak memory of envdoctor on every hostile input of issue 15 (bound: 10 s, 500 MB).

Run by hand from the repository root: ``python benchmarks/bench_bounds.py [--only PREFIX]``.
The inputs come from ``tests/ckpt/hostile.py`` (``keys``; the index with absent shards at
its full 1,000,000) and ``tests/hostile_cli.py`` (``triage``, ``diagnose``,
``constraints``, ``compare``), written by a subprocess so that this process stays small.
Each command runs in a fresh subprocess; the table shows its exit code, wall time and peak
RSS (``ru_maxrss`` from ``wait4``: the largest process of the tree that was waited for,
which includes what a child inherited at fork, hence the small parent) and whether its
output held a raw control character. A row is over the bound when the exit code is not 0,
1 or 2, the time is 10 s or more, the peak 500 MB or more, or a raw escape reached the
output. The sandbox child ``keys`` forks for pickles is a copy of it, limited to 448 MB of
address space of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_SECONDS = 10.0
LIMIT_MB = 500.0
GUARD_SECONDS = 60.0
GUARD_BYTES = 4 << 30
"""So that a runaway input cannot take the machine down with it: a guard, far above the bound."""
BUILD = """
import json, sys
from pathlib import Path
from tests.ckpt.hostile import BUILDERS as KEYS
from tests.hostile_cli import BUILDERS as CLI
only = sys.argv[2]
cases = {}
for name, builder in KEYS.items():
    if ("keys-" + name).startswith(only):
        folder = Path(sys.argv[1]) / ("keys-" + name)
        folder.mkdir()
        args, note = builder(folder)
        cases["keys-" + name] = (["keys", *map(str, args)], note, None)
for name, builder in CLI.items():
    if name.startswith(only):
        folder = Path(sys.argv[1]) / name
        folder.mkdir()
        cases[name] = builder(folder)
print(json.dumps(cases))
"""
# What a terminal acts on: C0 controls but tab and newline, DEL, and C1 controls.
RAW_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


def build_all(temp: str, only: str) -> dict[str, tuple[list[str], str, str | None]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    output = subprocess.run(
        [sys.executable, "-c", BUILD, temp, only], capture_output=True, text=True, env=env, check=True
    )
    cases: dict[str, tuple[list[str], str, str | None]] = json.loads(output.stdout)
    return cases


def _guard(close_stdin: bool) -> None:
    """In the child before exec: a closed stdin where asked, and a ceiling far above the bound."""
    if close_stdin:
        os.close(0)  # a closed stdin: the descriptor is not there at all
    resource.setrlimit(resource.RLIMIT_AS, (GUARD_BYTES, GUARD_BYTES))


def _wait(pid: int, deadline: float) -> tuple[int, resource.struct_rusage]:
    """``wait4`` the child; past the deadline its whole session is killed (a guard, not the bound)."""
    while True:
        waited, status, usage = os.wait4(pid, os.WNOHANG)
        if waited:
            return status, usage
        if time.perf_counter() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            return status, usage
        time.sleep(0.005)


def run_case(args: list[str], stdin: str | None, out: Path) -> tuple[int, float, float, bytes]:
    """``envdoctor ARGS`` in a fresh process: exit code, seconds, peak MB and its first output."""
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    source = None if stdin in (None, "closed") else open(stdin, "rb")  # noqa: SIM115  # closed below
    try:
        with open(out, "wb") as sink:
            start = time.perf_counter()
            child = subprocess.Popen(
                [sys.executable, "-m", "envdoctor", *args],
                stdin=source if source is not None else subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=lambda: _guard(stdin == "closed"),  # no threads here
                start_new_session=True,
            )
            status, usage = _wait(child.pid, start + GUARD_SECONDS)
            seconds = time.perf_counter() - start
    finally:
        if source is not None:
            source.close()
    with open(out, "rb") as produced:
        head = produced.read(1 << 20)
    return os.waitstatus_to_exitcode(status), seconds, usage.ru_maxrss / 1024, head


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the inputs whose name starts with this")
    options = parser.parse_args()
    failures = 0
    print(f"{'input':<38} {'exit':>4} {'seconds':>8} {'peak MB':>8}  note")
    with tempfile.TemporaryDirectory(prefix="bench_bounds_") as temp:
        for name, (args, note, stdin) in build_all(temp, options.only).items():
            code, seconds, peak, head = run_case(args, stdin, Path(temp) / "output")
            raw = RAW_CONTROL.search(head) is not None
            ok = code in (0, 1, 2) and seconds < LIMIT_SECONDS and peak < LIMIT_MB and not raw
            failures += not ok
            flag = "" if ok else "  <-- OVER" + ("  (raw control character in the output)" if raw else "")
            print(f"{name:<38} {code:>4} {seconds:>8.2f} {peak:>8.1f}  {note}{flag}", flush=True)
    print("all within bounds" if not failures else f"{failures} over the bounds")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
