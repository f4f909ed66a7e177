"""Readings of the breadth entries that depend on facts or on a log's named groups.

The fixture tests triage every log with no facts; these run the same real fixture logs with
environment facts, to pin the gated readings (Whisper's FP16 notice is harmless without a GPU
and means a CPU-only torch where one exists), and check that the templates are filled from the
log (the global to allowlist, the two torch versions of an xFormers mismatch).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from envdoctor.kb.loader import load_knowledge
from envdoctor.model import Finding
from envdoctor.triage import read_log, triage_log

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "knowledge"
WHISPER_NOTICE = FIXTURES / "EN116" / "hit-whisper-dictation-9.log"


def _findings(path: Path, facts: dict[str, Any]) -> list[Finding]:
    return list(triage_log(read_log(str(path)), facts=facts, knowledge=load_knowledge()).findings)


@pytest.mark.parametrize(
    ("facts", "expected", "absent"),
    [
        ({}, "EN116", "CU135"),
        ({"host.has_nvidia_gpu": False, "torch.is_cpu_build": True}, "EN116", "CU135"),
        ({"host.has_nvidia_gpu": True, "torch.is_cpu_build": False}, "EN116", "CU135"),
        ({"host.has_nvidia_gpu": True, "torch.is_cpu_build": True}, "CU135", "EN116"),
    ],
)
def test_whisper_fp16_notice_reading_depends_on_the_host(facts: dict[str, Any], expected: str, absent: str) -> None:
    ids = [f.id for f in _findings(WHISPER_NOTICE, facts)]
    assert ids[0] == expected
    assert absent not in ids


def test_whisper_notice_on_a_gpu_host_with_cpu_torch_is_not_benign() -> None:
    facts = {"host.has_nvidia_gpu": True, "torch.is_cpu_build": True, "torch.version": "2.13.0+cpu"}
    finding = _findings(WHISPER_NOTICE, facts)[0]
    assert finding.id == "CU135" and not finding.benign
    assert "2.13.0+cpu" in finding.title


def test_unsupported_global_is_named_in_the_fix() -> None:
    finding = _findings(FIXTURES / "VR130" / "hit-argparse-namespace.log", {})[0]
    assert finding.id == "VR130"
    assert "argparse.Namespace" in finding.title
    assert any("add_safe_globals([argparse.Namespace])" in step for step in finding.fix.steps)


def test_xformers_mismatch_names_both_torch_versions() -> None:
    finding = _findings(FIXTURES / "CU127" / "hit-invokeai-6590.log", {})[0]
    assert finding.id == "CU127"
    assert "2.1.2+cu121" in finding.title and "2.0.1+cu118" in finding.title


@pytest.mark.parametrize(
    ("name", "expected"),
    [("hit-lfs-pointer-weights-only.log", "EN110"), ("hit-html-page-weights-only.log", "EN111")],
)
def test_non_checkpoint_files_outrank_the_weights_only_reading(name: str, expected: str) -> None:
    folder = FIXTURES / expected
    ids = [f.id for f in _findings(folder / name, {})]
    assert ids[0] == expected
    assert "VR133" in ids  # the generic weights-only sentence is still recognised, ranked after the cause
