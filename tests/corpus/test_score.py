"""The development corpus of real pastes: every case is well-formed and triage stays at its floors."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "score_corpus.py"
FLOORS = Path(__file__).with_name("FLOORS.toml")


def _scorer() -> ModuleType:
    name = "envdoctor_score_corpus"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def summary() -> dict[str, object]:
    scorer = _scorer()
    cases = scorer.load_cases()
    result: dict[str, object] = scorer.summarize(scorer.run(cases))
    return result


def test_cases_are_well_formed() -> None:
    scorer = _scorer()
    cases = scorer.load_cases()
    assert cases, "the corpus is empty"
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids))
    for case in cases:
        assert case.log.read_bytes().strip(), f"{case.log.name} is empty"


def test_invalid_case_is_reported(tmp_path: Path) -> None:
    scorer = _scorer()
    (tmp_path / "x.log").write_text("RuntimeError: boom\n", encoding="utf-8")
    (tmp_path / "x.toml").write_text('url = "https://github.com/a/b/issues/1"\n', encoding="utf-8")
    with pytest.raises(scorer.CaseError, match=r"x\.toml"):
        scorer.load_cases(tmp_path)


def test_pin_agreement_rule() -> None:
    scorer = _scorer()
    assert scorer.pin_agreed("transformers==4.29.1", ["transformers<4.31"])
    assert not scorer.pin_agreed("transformers==4.29.1", ["transformers>=4.31"])
    assert scorer.pin_agreed("mmcv-full<1.4", ["mmcv_full>=1.3.8,<=1.4.0"])
    assert not scorer.pin_agreed("numpy<2", ["numpy>=2.0"])
    assert not scorer.pin_agreed("numpy<2", ["numpy"])
    assert not scorer.pin_agreed("numpy<2", ["scipy<2"])


def test_figures_not_below_floors(summary: dict[str, object]) -> None:
    floors = tomllib.loads(FLOORS.read_text(encoding="utf-8"))
    minimum = floors["minimum"]
    maximum = floors["maximum"]
    assert summary["n"] >= minimum["n"]
    for key in ("top1", "top3", "fix_agreement"):
        assert summary[key] >= minimum[key], f"{key} {summary[key]} fell below its floor {minimum[key]}"
    for key in ("fatal_called_harmless", "fatal_left_silent"):
        assert summary[key] <= maximum[key], f"{key} {summary[key]} rose above its ceiling {maximum[key]}"
