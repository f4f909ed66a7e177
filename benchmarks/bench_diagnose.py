"""envdoctor diagnose vs ``python -m torch.utils.collect_env``: speed and fact coverage.

Run by hand, not in CI::

    python benchmarks/bench_diagnose.py [--runs 7] [--python PATH] [--deep]

Both commands run as fresh processes, interleaved, ``--runs`` times each in the same
environment; the script prints each median wall time and the ratio (target: envdoctor at
least 10x faster, i.e. under ~0.3 s including interpreter start). It then maps every fact
collect_env reports about Python, OS, torch, CUDA, cuDNN, the driver and the GPUs to the
envdoctor JSON field holding it, and checks each field is present with a value or with a
reason in its ``unknown`` map. ``--deep`` times ``diagnose --deep`` (every ML package
imported in a child of its own, in parallel; those built on torch forked after one torch
import) instead, and prints the torch probe's and each import's seconds; its target is to
stay below collect_env, which imports torch once. envdoctor keeps a parse cache (README, "What envdoctor never
does"); the runs after the first use it, and ``--cold`` turns it off to time the first run
after an install or an edit. Until ``python -m envdoctor diagnose`` exists it times
``envdoctor.probe.collect()`` through ``python -c`` instead.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

FALLBACK = (
    "import json, envdoctor.probe as p; from envdoctor.model import to_jsonable; "
    "print(json.dumps(to_jsonable(p.collect())))"
)

# collect_env line label -> envdoctor JSON path (inside "environment" for the CLI).
MAPPING: dict[str, str | None] = {
    "PyTorch version": "torch.version",
    "Is debug build": "torch.debug",
    "CUDA used to build PyTorch": "torch.cuda",
    "ROCM used to build PyTorch": "torch.hip",
    "OS": "host.os",
    "Libc version": "host.libc",
    "Python version": "python.version",
    "Python platform": "host.kernel",
    "Is CUDA available": "deep.cuda_available (only with --deep: imports torch)",
    "CUDA runtime version": "host.nvcc_version",
    "GPU models and configuration": "host.gpus",
    "Nvidia driver version": "host.driver_version",
    "cuDNN version": "torch.cudnn",
    "HIP runtime version": "torch.hip",
    "Versions of relevant libraries": "python.distributions",
    "GCC version": None,
    "Clang version": None,
    "CMake version": None,
    "CPU": None,
}


def timed(argv: list[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall seconds, CPU seconds (user + system, children included) and the result."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done


def envdoctor_command(python: str) -> list[str]:
    probe = subprocess.run([python, "-m", "envdoctor", "diagnose", "--help"], capture_output=True, check=False)
    if probe.returncode == 0:
        return [python, "-m", "envdoctor", "diagnose", "--json"]
    return [python, "-c", FALLBACK]


def lookup(data: dict[str, Any], path: str) -> tuple[bool, str]:
    """(present, how) for a dotted path: a value, or a reason in the owner's ``unknown``."""
    parts = path.split(" ", 1)[0].split(".")
    node: Any = data
    for index, key in enumerate(parts):
        if not isinstance(node, dict) or key not in node:
            return False, "field missing"
        owner, node = node, node[key]
        if index == len(parts) - 1:
            if node not in (None, [], {}):
                shown = f"{len(node)} item(s)" if isinstance(node, list) else repr(node)
                return True, shown[:60]
            reason = owner.get("unknown", {}).get(key) if isinstance(owner, dict) else None
            if reason:
                return True, f"unknown: {reason[:60]}"
            if isinstance(node, list) or key in ("cuda", "hip", "debug"):
                return True, f"{node!r} (a fact: none)"
            return False, "None without a reason"
    return False, "unreachable"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--deep", action="store_true", help="time `diagnose --deep` (target: below collect_env)")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="run envdoctor with ENVDOCTOR_NO_CACHE=1: every run parses the knowledge as the first run after an edit",
    )
    args = parser.parse_args()
    if args.cold:
        os.environ["ENVDOCTOR_NO_CACHE"] = "1"

    # Measure what an installed user runs: with bytecode caches. A shell that sets
    # PYTHONDONTWRITEBYTECODE (CI images, some IDEs) would otherwise recompile envdoctor
    # from source on every run while torch's wheel ships its .pyc files.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    import envdoctor

    subprocess.run(
        [args.python, "-m", "compileall", "-q", os.path.dirname(envdoctor.__file__)],
        check=False,
        capture_output=True,
    )
    ours = envdoctor_command(args.python) + (["--deep"] if args.deep else [])
    theirs = [args.python, "-m", "torch.utils.collect_env"]
    our_times: list[float] = []
    their_times: list[float] = []
    our_cpu: list[float] = []
    their_cpu: list[float] = []
    our_out = their_out = ""
    for _ in range(args.runs):
        wall, cpu, done = timed(ours)
        our_times.append(wall)
        our_cpu.append(cpu)
        our_out = done.stdout
        wall, cpu, done = timed(theirs)
        their_times.append(wall)
        their_cpu.append(cpu)
        their_out = done.stdout

    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs (wall times inflate under load)")
    for label, argv, walls, cpus in (
        ("envdoctor  ", ours, our_times, our_cpu),
        ("collect_env", theirs, their_times, their_cpu),
    ):
        print(f"{label}: {' '.join(argv[1:])[:70]}")
        print(
            f"  wall median {statistics.median(walls):.3f} s (min {min(walls):.3f}),"
            f" CPU median {statistics.median(cpus):.3f} s, {args.runs} runs"
        )
    ratio = statistics.median(their_times) / statistics.median(our_times)
    cpu_ratio = statistics.median(their_cpu) / statistics.median(our_cpu)
    target = "target > 1x: below collect_env" if args.deep else "target >= 10x"
    print(f"ratio      : {ratio:.1f}x faster by wall time, {cpu_ratio:.1f}x by CPU time ({target})")
    if args.deep:
        environment = json.loads(our_out).get("environment", {})
        checks = environment.get("imports", [])
        deep = environment.get("deep") or {}
        print(f"--deep torch probe: {deep.get('status')} {deep.get('seconds')} s (last run)")
        print(
            f"--deep imported {len(checks)} package(s) (last run, seconds per child): "
            + ", ".join(f"{c['module']} {c['status']} {c['seconds']}" for c in checks)
        )

    data = json.loads(our_out)
    data = data.get("environment", data)
    print("\ncollect_env line -> envdoctor field")
    missing = 0
    reported = {line.split(":", 1)[0].strip() for line in their_out.splitlines() if ":" in line}
    for label, path in MAPPING.items():
        seen = "" if label in reported or label == "CPU" else " (not printed here)"
        if path is None:
            print(f"  {label:32} -> (out of scope: not a Python/torch/CUDA fact){seen}")
            continue
        if path.startswith("deep."):
            print(f"  {label:32} -> {path}{seen}")
            continue
        present, how = lookup(data, path)
        missing += not present
        mark = "ok " if present else "MISSING"
        print(f"  {label:32} -> {path:22} {mark} {how}{seen}")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
