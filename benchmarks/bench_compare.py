"""Time ``envdoctor compare`` on a cluster's worth of reports (run by hand).

Usage: python benchmarks/bench_compare.py [NODES]   (default 1000)

Takes a real ``diagnose --json`` report of this environment, writes NODES copies as a Slurm
job would (``reports/node-0001.json`` ...: compact JSON, each with its own collection time),
three of them with another NVIDIA driver and one with another transformers, then times
``envdoctor compare reports/*.json --json`` in a fresh process (median of 3). Anchor: the
issue's goal, 1,000 reports in under 2 s. Also prints one report's size (indented and compact).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    nodes = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    report = subprocess.run(
        [sys.executable, "-m", "envdoctor", "diagnose", "--json"], capture_output=True, text=True, check=False
    ).stdout
    document = json.loads(report)
    compact = json.dumps(document, separators=(",", ":"))
    print(
        f"one report: {len(report.encode()) / 1024:.1f} KB indented (stdout), {len(compact) / 1024:.1f} KB compact (-o)"
    )
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for index in range(nodes):
            node = json.loads(compact)
            node["environment"]["collected_at"] = f"2026-11-30T12:{index // 60 % 60:02d}:{index % 60:02d}+00:00"
            if index in (17, 401, 777):
                node["environment"]["host"]["driver_version"] = "535.54.03"
                node["environment"]["host"]["driver_max_cuda"] = "12.2"
            if index == 555:
                for dist in node["environment"]["python"]["distributions"]:
                    if dist["name"].lower() == "transformers":
                        dist["version"] = "4.29.1"
            (root / f"node-{index:04d}.json").write_text(json.dumps(node, separators=(",", ":")))
        paths = sorted(str(p) for p in root.glob("node-*.json"))
        times = []
        for _ in range(3):
            start = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "envdoctor", "compare", *paths, "--json"],
                capture_output=True,
                text=True,
                check=False,
            )
            times.append(time.perf_counter() - start)
        summary = json.loads(result.stdout)
        odd = {d["dimension"]: d["odd"] for d in summary["differences"]}
    runs = ", ".join(f"{t:.2f}" for t in times)
    median = statistics.median(times)
    print(f"compare {nodes} reports: median {median:.2f} s (runs: {runs}); exit {result.returncode}")
    print(f"groups: {[len(g) for g in summary['groups']]}; odd ones out: {odd}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
