"""Wall time of ``envdoctor constraints`` next to ``uv pip compile`` and ``pip install --dry-run``.

Run by hand (needs the package index): ``python benchmarks/bench_resolve.py [--repeat 3]``.
Each request (a fresh CPython 3.11 manylinux_2_28_x86_64 target) is resolved three ways in
one run, against the same index settings (this machine's pip configuration, which
envdoctor passes on to uv):

- ``envdoctor constraints --python-version 3.11 --platform manylinux_2_28_x86_64 --target ...``
  (uv plus envdoctor's knowledge rounds, the wheels check and the explanations);
- ``uv pip compile`` on the same requirements and target (one resolution, no knowledge);
- ``pip install --dry-run --ignore-installed --report`` with ``--python-version 3.11
  --platform ... --only-binary :all:`` (pip's resolver).

Requests that pull torch are not given to pip by default: through an index without PEP 658
metadata files pip downloads every candidate wheel (several GB of CUDA wheels for torch) to
read its metadata; ``--pip-all`` gives them anyway. The first repeat warms uv's cache; the
median of the repeats is reported. Figures go to stdout as a table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from envdoctor.resolve.engine import find_uv
from envdoctor.resolve.indexes import read_index_config
from envdoctor.resolve.target import TargetPlatform

REQUESTS: list[tuple[tuple[str, ...], bool]] = [
    (("transformers<4.31",), False),
    (("diffusers==0.20.0",), False),
    (("mmdet==3.3.0",), False),
    (("sentence-transformers==2.2.2",), True),
    (("xformers", "open-clip-torch"), True),
]
PLATFORM = "manylinux_2_28_x86_64"


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    start = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, result.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pip-all", action="store_true", help="also give pip the requests that pull torch")
    args = parser.parse_args()
    uv = find_uv()
    if uv is None:
        sys.exit("uv is not installed")
    env = dict(os.environ)
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    target = TargetPlatform.fresh("3.11", PLATFORM)
    uv_target, _ = target.uv_args()
    indexes = read_index_config()
    print(f"index: {indexes.describe()}; target CPython 3.11 on {PLATFORM}; median of {args.repeat}")
    print(f"{'request':45} {'envdoctor':>10} {'uv compile':>11} {'pip dry-run':>12}")
    with tempfile.TemporaryDirectory(prefix="bench-resolve-") as tmp:
        for targets, pulls_torch in REQUESTS:
            requirements = Path(tmp) / "requirements.in"
            requirements.write_text("".join(f"{t}\n" for t in targets))
            runs: dict[str, list[float]] = {"envdoctor": [], "uv": [], "pip": []}
            codes: dict[str, int] = {}
            envdoctor = [sys.executable, "-m", "envdoctor", "constraints", "--python-version", "3.11"]
            envdoctor += ["--platform", PLATFORM, *(x for t in targets for x in ("--target", t))]
            compile_ = [uv, "pip", "compile", str(requirements), "--no-header", *uv_target, *indexes.uv_args()]
            for path in indexes.constraints:
                compile_ += ["--constraints", path]
            pip = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"]
            pip += ["--report", str(Path(tmp) / "report.json"), "--target", str(Path(tmp) / "target")]
            pip += [*target.pip_args(), "-r", str(requirements)]
            commands = {"envdoctor": envdoctor, "uv": compile_}
            if args.pip_all or not pulls_torch:
                commands["pip"] = pip
            for _ in range(args.repeat):
                for name, argv in commands.items():
                    seconds, code = _time(argv, env)
                    runs[name].append(seconds)
                    codes[name] = code
            cells = []
            for name in ("envdoctor", "uv", "pip"):
                if not runs[name]:
                    cells.append("skipped")
                    continue
                figure = f"{statistics.median(runs[name]):.2f}s"
                cells.append(figure if codes[name] == 0 else f"{figure} (rc {codes[name]})")
            print(f"{' '.join(targets):45} {cells[0]:>10} {cells[1]:>11} {cells[2]:>12}")


if __name__ == "__main__":
    main()
