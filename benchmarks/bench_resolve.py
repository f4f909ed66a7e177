"""Offline resolution speed: the dev environment (about 70 installed packages) plus targets.

Run by hand: ``python benchmarks/bench_resolve.py [--repeat 20]``. Probes this interpreter
once (not timed), then times :func:`envdoctor.resolve.solve` over the committed index for
several requests: keep everything, an old-transformers target (forces changes), an mmdet
target, and the same for CPython 3.12 (wheel-less pins and the search for the nearest
pair with wheels). Anchor: the issue's budget of 1 s for a 60-package environment.
"""

from __future__ import annotations

import argparse
import statistics
import time

from envdoctor.kb.compat import load_compat
from envdoctor.probe import collect
from envdoctor.resolve.environment import installed_from, target_from
from envdoctor.resolve.index import load_index
from envdoctor.resolve.solve import ResolveRequest, solve
from envdoctor.resolve.wheels import TargetPlatform


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    env = collect()
    installed, bounds = installed_from(env)
    target = target_from(env)
    compat = load_compat()
    cases = {
        "keep all": ResolveRequest(target, installed=installed, import_bounds=bounds),
        "transformers<4.31": ResolveRequest(target, ("transformers<4.31",), installed=installed, import_bounds=bounds),
        "mmdet==3.3.0": ResolveRequest(target, ("mmdet==3.3.0",), installed=installed, import_bounds=bounds),
        "py3.12 transformers<4.31": ResolveRequest(
            TargetPlatform((3, 12), target.family), ("transformers<4.31",), installed=installed, import_bounds=bounds
        ),
    }
    print(f"environment: {len(installed)} installed distributions, {target.label}")
    start = time.perf_counter()
    index = load_index()
    first = solve(cases["keep all"], index, compat)
    print(f"cold (index files parsed on demand): {1000 * (time.perf_counter() - start):.1f} ms, {len(first.pins)} pins")
    for name, request in cases.items():
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            solution = solve(request, index, compat)
            times.append(time.perf_counter() - t)
        print(
            f"{name:28s} median {1000 * statistics.median(times):7.1f} ms  max {1000 * max(times):7.1f} ms  "
            f"{len(solution.pins)} pins, {len(solution.changes)} changes"
        )


if __name__ == "__main__":
    main()
