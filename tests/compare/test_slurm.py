"""The Slurm path of the README, on a real Slurm when one answers here.

``srun --ntasks-per-node=1 envdoctor diagnose --json -o reports/%N.json`` writes one report
per node, named by the node (srun sets ``SLURMD_NODENAME``), then ``compare reports/*.json``.
Runs where ``sinfo`` answers (``scripts/slurm_local.sh`` starts a one-node Slurm from
Debian's packages); without a Slurm the placeholder expansion itself is tested in
test_compare.py with the variable srun sets.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _slurm_answers() -> bool:
    if shutil.which("srun") is None or shutil.which("sinfo") is None:
        return False
    try:
        state = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return state.returncode == 0 and "idle" in state.stdout


pytestmark = pytest.mark.skipif(
    not _slurm_answers(), reason="no Slurm answers here (scripts/slurm_local.sh starts one)"
)


def test_srun_writes_one_report_per_node_and_compare_reads_them(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    envdoctor = str(Path(sys.executable).with_name("envdoctor"))
    run = subprocess.run(
        ["srun", "--ntasks-per-node=1", envdoctor, "diagnose", "--json", "-o", f"{reports}/%N.json"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr
    nodes = subprocess.run(["sinfo", "-h", "-N", "-o", "%N"], capture_output=True, text=True, check=True).stdout.split()
    written = sorted(p.name for p in reports.iterdir())
    assert written == sorted(f"{node}.json" for node in set(nodes))
    compared = subprocess.run(
        [envdoctor, "compare", *(str(p) for p in sorted(reports.iterdir())), str(reports / written[0]), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert compared.returncode == 0, compared.stderr
    names = [e["name"] for e in json.loads(compared.stdout)["environments"]]
    assert names[0] == written[0].removesuffix(".json")
