"""Entries that serve both commands: ``[[case]]`` alternatives in diagnose, ``[match] when/unless`` gates in triage."""

from __future__ import annotations

import tomllib
from typing import Any

from envdoctor.kb.checks import run_checks
from envdoctor.kb.entry import Entry, parse_entry
from envdoctor.kb.facts import FactView
from envdoctor.triage.logs import normalize
from envdoctor.triage.symptoms import match_symptoms

_DUAL = """
id = "VR999"
name = "test-removed-api"
title = "{case.caller} imports huggingface_hub.cached_download, removed in 0.26"
category = "version.api_removed"
severity = "error"
area = "huggingface"
what = "w"
why = "y"
cause = "{case.caller} {case.version} with huggingface-hub {dist.huggingface-hub}"
when = [{ fact = "dist.huggingface-hub", spec = ">=0.26" }]

[match]
patterns = ["cannot import name 'cached_download' from 'huggingface_hub'"]

[[case]]
when = [{ fact = "dist.sentence-transformers", spec = "<2.3" }]
facts = { caller = "sentence-transformers", version = "{dist.sentence-transformers}" }

[[case]]
when = [{ fact = "dist.diffusers", spec = "<0.29" }]
facts = { caller = "diffusers", version = "{dist.diffusers}" }
"""

_GATED = """
id = "EN999"
name = "test-fp16-on-cpu"
title = "FP16 fell back to FP32 on a machine with a GPU"
category = "cuda.cpu_build"
severity = "error"
area = "torch"
what = "w"
why = "y"
cause = "c"

[match]
patterns = ["FP16 is not supported on CPU; using FP32 instead"]
when = [{ fact = "host.has_nvidia_gpu", equals = true }]
unless = [{ fact = "torch.is_cuda_build", equals = true }]
"""


def _entry(text: str) -> Entry:
    entry, problems = parse_entry(tomllib.loads(text))
    assert problems == [] and entry is not None, problems
    return entry


def _view(**facts: Any) -> FactView:
    return FactView(facts, {})


def test_an_entry_with_patterns_and_conditions_is_a_check_and_a_symptom() -> None:
    entry = _entry(_DUAL)
    assert entry.is_check and entry.is_symptom


def test_each_case_that_holds_is_one_finding() -> None:
    entry = _entry(_DUAL)
    installed = {"dist.huggingface-hub": "0.26.1", "dist.sentence-transformers": "2.2.2", "dist.diffusers": "0.30.0"}
    view = _view(**installed)
    findings = run_checks([entry], view)
    assert [f.title for f in findings] == [
        "sentence-transformers imports huggingface_hub.cached_download, removed in 0.26"
    ]
    assert findings[0].cause == "sentence-transformers 2.2.2 with huggingface-hub 0.26.1"


def test_no_case_holds_no_finding() -> None:
    entry = _entry(_DUAL)
    assert run_checks([entry], _view(**{"dist.huggingface-hub": "0.25.2", "dist.diffusers": "0.20.0"})) == []
    assert run_checks([entry], _view(**{"dist.huggingface-hub": "0.26.0", "dist.diffusers": "0.29.0"})) == []


def test_match_when_gates_a_log_match_on_facts() -> None:
    entry = _entry(_GATED)
    log = normalize("whisper/transcribe.py:114: UserWarning: FP16 is not supported on CPU; using FP32 instead\n")
    assert match_symptoms(log, [entry], {"host.has_nvidia_gpu": True, "torch.is_cuda_build": False})
    assert not match_symptoms(log, [entry], {"host.has_nvidia_gpu": False})
    assert not match_symptoms(log, [entry], {})  # unknown facts: a gated reading does not fire
    assert not match_symptoms(log, [entry], {"host.has_nvidia_gpu": True, "torch.is_cuda_build": True})


def test_gates_need_patterns_and_cases_need_conditions() -> None:
    ungated = _GATED.replace('patterns = ["FP16 is not supported on CPU; using FP32 instead"]\n', "")
    _, problems = parse_entry(tomllib.loads(ungated))
    assert any("match.when/unless gate log patterns" in p for p in problems)
    _, problems = parse_entry(
        tomllib.loads(_DUAL.replace('when = [{ fact = "dist.diffusers", spec = "<0.29" }]\n', ""))
    )
    assert any("case[1] needs a non-empty `when` list" in p for p in problems)


_LOOKUP = """
id = "HF998"
name = "test-model-type-lookup"
title = "transformers {dist.transformers} does not know model type {match.model_type} (first in {lookup.first})"
category = "version.requirement_conflict"
severity = "error"
area = "huggingface"
what = "w"
why = "y"
cause = "c"

[match]
patterns = ["KeyError: '(?P<model_type>[a-z0-9_-]+)'"]
lookup = "test-first-release"

[fix]
constraints = ["transformers>={lookup.first}"]
"""


def test_a_lookup_fills_facts_and_an_unexplained_capture_does_not_fire(monkeypatch: Any) -> None:
    from envdoctor.kb import lookups

    table = {"llama": "4.28.0"}

    def first_release(namespace: Any) -> dict[str, str] | None:
        first = table.get(str(namespace.get("match.model_type")))
        return None if first is None else {"lookup.first": first, "lookup.ignored": "x"}

    monkeypatch.setitem(
        lookups.LOOKUPS,
        "test-first-release",
        lookups.Lookup("test-first-release", first_release, {"lookup.first": "first release"}),
    )
    entry = _entry(_LOOKUP)
    findings = match_symptoms(normalize("KeyError: 'llama'\n"), [entry], {"dist.transformers": "4.26.1"})
    assert [f.title for f in findings] == ["transformers 4.26.1 does not know model type llama (first in 4.28.0)"]
    assert findings[0].fix.constraints == ("transformers>=4.28.0",)
    assert findings[0].details["lookup"] == {"test-first-release": {"lookup.first": "4.28.0"}}
    assert match_symptoms(normalize("KeyError: 'not-a-model'\n"), [entry], {}) == []


def test_an_unregistered_lookup_is_a_schema_problem() -> None:
    _, problems = parse_entry(tomllib.loads(_LOOKUP.replace("test-first-release", "no-such-table")))
    assert any("match.lookup 'no-such-table' is not a registered lookup" in p for p in problems)


def test_a_placeholder_may_name_alternatives() -> None:
    from envdoctor.kb.conditions import fill

    template = "huggingface_hub.{match.name|case.name} was removed"
    assert fill(template, {"match.name": "url_to_filename"}) == "huggingface_hub.url_to_filename was removed"
    assert fill(template, {"case.name": "cached_download"}) == "huggingface_hub.cached_download was removed"
    assert fill(template, {}) == "huggingface_hub.unknown was removed"
