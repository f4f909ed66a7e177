"""``--deep`` import checks: real child processes of real (throwaway) interpreters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envdoctor.probe import collect
from tests.envbuilder import make_env

HUB_026 = {
    # What sentence-transformers 2.2.2 does at import (SentenceTransformer.py) against hub 0.26,
    # which removed cached_download: Python's own import machinery writes the message.
    "sentence_transformers/__init__.py": "from huggingface_hub import HfApi, cached_download\n",
    "huggingface_hub/__init__.py": "class HfApi:\n    pass\n",
}


@pytest.mark.slow
def test_failed_import_is_explained_by_triage_knowledge(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={"sentence-transformers": "2.2.2", "huggingface-hub": "0.26.0"},
        files={**HUB_026, "slowpkg/__init__.py": "import time\ntime.sleep(60)\n"},
    )
    result = subprocess.run(
        [sys.executable, "-m", "envdoctor", "diagnose", "--python", str(python), "--deep", "--json", "--timeout", "5"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr
    document = json.loads(result.stdout)
    imports = {c["module"]: c for c in document["environment"]["imports"]}
    assert imports["sentence_transformers"]["status"] == "import-error"
    assert "cannot import name 'cached_download'" in imports["sentence_transformers"]["error"]
    assert imports["huggingface_hub"]["status"] == "ok"
    ids = [f["id"] for f in document["findings"]]
    assert "TH102" not in ids  # a known cause, not the generic failure
    # The import joins the evidence of the finding that explains it: a static check naming
    # sentence-transformers, or the triage entry its error text matches (VR112).
    confirmed = [f for f in document["findings"] if any("--deep" in e["text"] for e in f["evidence"])]
    assert len(confirmed) == 1 and confirmed[0]["severity"] == "error"
    assert "cached_download" in confirmed[0]["title"] + " ".join(e["text"] for e in confirmed[0]["evidence"])
    assert result.returncode == 1
    # Nothing was written into the inspected environment.
    site = next(python.parent.parent.glob("lib/python*/site-packages"))
    assert not list(site.rglob("__pycache__"))


def test_hang_is_a_timed_out_check_not_a_hang(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={"numpy": "2.4.6"},
        files={"numpy/__init__.py": "import time\ntime.sleep(60)\n"},
    )
    environment = collect(str(python), deep=True, deep_timeout=2)
    (check,) = [c for c in environment.imports if c.module == "numpy"]
    assert check.status == "timed-out" and check.seconds is not None and check.seconds < 20


def test_unknown_failure_is_th102_quoting_the_exception(tmp_path: Path) -> None:
    from envdoctor.diagnosis import check_environment

    python = make_env(
        tmp_path,
        dists={"pandas": "2.2.3"},
        files={"pandas/__init__.py": "raise OSError('libfrob.so.7: cannot open shared object')\n"},
    )
    diagnosis = check_environment(collect(str(python), deep=True, deep_timeout=30))
    (failure,) = [f for f in diagnosis.findings if f.id in ("TH102", "EN101", "EN102", "EN103", "EN104", "EN105")]
    assert failure.severity == "error"
    assert "libfrob.so.7" in failure.title or "libfrob.so.7" in " ".join(e.text for e in failure.evidence)


def test_heavy_imports_start_first_and_the_torch_child_keeps_a_core() -> None:
    from envdoctor.probe.imports import ImportTarget, default_workers, heavy_first

    targets = [ImportTarget(d, d) for d in ("numpy", "transformers", "tokenizers", "mmengine", "cv2")]
    assert [t.distribution for t in heavy_first(targets)] == ["transformers", "mmengine", "numpy", "tokenizers", "cv2"]
    cores = os.cpu_count() or 2
    beside = default_workers(beside_torch=True)
    assert beside >= 1 and (beside < cores or cores == 1)  # the torch import keeps a core of its own
    assert default_workers(beside_torch=False) >= beside
