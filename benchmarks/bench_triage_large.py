"""Triage a whole training log at the speed of grep (run by hand).

Usage: python benchmarks/bench_triage_large.py [MB] [--rss-gb N]

Writes an ordinary MB-megabyte training log (mmengine-style loss lines, tqdm bars redrawn
with carriage returns) with a handful of real load reports and errors from
tests/fixtures/logs spread through it, then in one run times, best of 3:

* ``envdoctor triage LOG --json --no-probe`` (a fresh process: start-up, knowledge, scan);
* ``grep -F -c -f ANCHORS LOG`` with the knowledge's own anchors (the same literals the
  prefilter searches, halves of long literals included), LC_ALL=C.

It prints wall and CPU seconds of each and the ratio (goal: envdoctor <= 2x grep), and
checks the findings are the ones the inserted reports give. With ``--rss-gb N`` it also
writes an N GB log and reports envdoctor's peak RSS on it (goal: < 150 MB on 1 GB).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from envdoctor.kb.loader import load_knowledge  # noqa: E402
from envdoctor.triage.scan import _with_halves, anchors_for  # noqa: E402

REPORTS = ["mmengine-gdino-keys.log", "transformers429-tokenizers-conflict.log", "numpy2-pandas214-abi.log"]


def write_log(path: Path, megabytes: int) -> None:
    reports = [(ROOT / "tests" / "fixtures" / "logs" / name).read_text() for name in REPORTS]
    target = megabytes * 1024 * 1024
    every = max(1, target // (len(reports) + 1))
    written, inserted, i = 0, 0, 0
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            i += 1
            if i % 7 == 0:
                bar = "█" * (i % 10) + " " * (10 - i % 10)
                line = f"\r{i % 100:3d}%|{bar}| {i % 100}/100 [00:{i % 60:02d}<00:00, 4.95it/s]\n"
            else:
                line = (
                    f"2026-11-30 12:00:{i % 60:02d},123 - mmengine - INFO - Epoch(train) [{i // 1000}][{i % 1000}/1000]"
                    f"  lr: 1.0000e-04  eta: 1:02:03  time: 0.4567  data_time: 0.0123  memory: 12345"
                    f"  loss: {i % 997 / 997:.4f}  loss_cls: {i % 991 / 991:.4f}\n"
                )
            if inserted < len(reports) and written >= every * (inserted + 1):
                line += reports[inserted]
                inserted += 1
            out.write(line)
            written += len(line)


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result


def peak_rss(argv: list[str]) -> float:
    code = (
        "import resource,subprocess,sys; subprocess.run(sys.argv[1:], capture_output=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True).stdout
    return int(out.strip()) / 1024


def main() -> int:
    args = sys.argv[1:]
    rss_gb = 0
    if "--rss-gb" in args:
        at = args.index("--rss-gb")
        rss_gb = int(args[at + 1])
        del args[at : at + 2]
    megabytes = int(args[0]) if args else 200
    sensitive, folded, _ = anchors_for(load_knowledge())
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "train.log"
        write_log(log, megabytes)
        anchors = Path(folder) / "anchors.txt"
        anchors.write_text("\n".join(sorted(_with_halves(sensitive) | _with_halves(folded))) + "\n")
        envdoctor = [sys.executable, "-m", "envdoctor", "triage", str(log), "--json", "--no-probe"]
        grep = ["grep", "-F", "-c", "-f", str(anchors), str(log)]
        runs: dict[str, list[tuple[float, float]]] = {"envdoctor": [], "grep": []}
        result = None
        for _ in range(3):
            wall, cpu, result = timed(envdoctor)
            runs["envdoctor"].append((wall, cpu))
            wall, cpu, _grep = timed(grep, env={**os.environ, "LC_ALL": "C"})
            runs["grep"].append((wall, cpu))
        assert result is not None
        found = [f["id"] for f in json.loads(result.stdout)["findings"]]
        best = {name: (min(w for w, _ in r), min(c for _, c in r)) for name, r in runs.items()}
        size = log.stat().st_size / 1024 / 1024
        print(f"log: {size:.0f} MB, load average {os.getloadavg()[0]:.1f}")
        for name, (wall, cpu) in best.items():
            print(f"  {name:10s} wall {wall:6.2f} s   cpu {cpu:6.2f} s")
        print(
            f"  ratio envdoctor/grep: wall {best['envdoctor'][0] / best['grep'][0]:.2f}x, "
            f"cpu {best['envdoctor'][1] / best['grep'][1]:.2f}x (goal <= 2x)"
        )
        print(f"  findings: {found}")
        if rss_gb:
            big = Path(folder) / "big.log"
            write_log(big, rss_gb * 1024)
            rss = peak_rss([sys.executable, "-m", "envdoctor", "triage", str(big), "--json", "--no-probe"])
            print(f"  peak RSS on {big.stat().st_size / 1024**3:.2f} GB: {rss:.0f} MB (goal < 150 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
