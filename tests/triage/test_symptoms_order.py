"""Pattern matching (named groups as ``match.*`` facts, exclude, one finding per entry, the
literal prefilter) and the ordering rule, on entries parsed by the real entry parser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from envdoctor.kb.entry import Entry, parse_entry
from envdoctor.kb.loader import load_knowledge
from envdoctor.model import Evidence, Finding
from envdoctor.triage import normalize, order_findings, read_log
from envdoctor.triage.symptoms import Matcher, match_symptoms, required_literals

LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"


def _entry(**fields: Any) -> Entry:
    data = {
        "id": "ZZ101", "name": "test-entry", "title": "t", "category": "version.requirement_conflict",
        "severity": "error", "what": "w", "why": "y", "cause": "c", **fields,
    }  # fmt: skip
    entry, problems = parse_entry(data)
    assert entry is not None and not problems, problems
    return entry


CONFLICT = _entry(
    title="{match.package}=={match.found} is installed but {match.requirement} is required",
    cause="transformers checks its dependencies at import time.",
    match={
        "patterns": [
            r"(?P<requirement>(?P<package>[A-Za-z0-9_.\-]+)[<>=!~][^ ]*) is required for a normal functioning of this "
            r"module, but found (?P=package)==(?P<found>[^ ]+?)\.?$"
        ]
    },
    fix={"constraints": ["{match.requirement}"]},
    note=[
        {
            "when": [{"fact": "dist.transformers", "spec": "<4.30"}],
            "text": "transformers {dist.transformers} is installed.",
        }
    ],
)


def test_named_groups_fill_title_and_constraints_from_the_real_log() -> None:
    log = read_log(str(LOGS / "transformers429-tokenizers-conflict.log"))
    [finding] = match_symptoms(log, [CONFLICT], {"dist.transformers": "4.29.1"})
    assert finding.title == "tokenizers==0.15.2 is installed but tokenizers>=0.11.1,!=0.11.3,<0.14 is required"
    assert finding.fix.constraints == ("tokenizers>=0.11.1,!=0.11.3,<0.14",)
    assert finding.details["match"]["found"] == "0.15.2"
    assert finding.cause.endswith("transformers 4.29.1 is installed.")
    assert [(e.line, e.text[:30]) for e in finding.evidence] == [(14, "ImportError: tokenizers>=0.11.")]


def test_one_finding_per_entry_with_every_line_and_exclude_vetoes() -> None:
    entry = _entry(match={"patterns": [r"CUDA out of memory"], "exclude": [r"retrying"]})
    log = normalize("CUDA out of memory. a\nok\nCUDA out of memory. retrying\nWARNING:root:CUDA out of memory. b\n")
    [finding] = match_symptoms(log, [entry])
    assert [e.line for e in finding.evidence] == [1, 4]
    assert finding.details["matched_lines"] == 2
    assert match_symptoms(normalize("nothing here\n"), [entry]) == []


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r"numpy\.dtype size changed", {"numpy.dtype size changed"}),
        (r"(?i)CUDA out of memory", {"cuda out of memory"}),
        (r"(?:no kernel image|invalid device function)", {"no kernel image", "invalid device function"}),
        (r"\d+\.\d+", None),
        (r"a|\w+", None),
    ],
)
def test_required_literals(pattern: str, literals: set[str] | None) -> None:
    found = required_literals(re.compile(pattern))
    assert (set(found) if found is not None else None) == literals


def test_prefilter_finds_exactly_what_a_plain_scan_finds() -> None:
    entries = load_knowledge().symptoms
    matcher = Matcher(entries)
    for path in sorted(LOGS.glob("*.log")):
        log = read_log(str(path))
        fast = {(s.entry.id, tuple(s.lines)) for s in matcher.scan(log)}
        slow = set()
        for entry in matcher.entries:
            lines = [
                (line.number, line.text)
                for line in log.lines
                if line.text
                and any(p.search(line.text) for p in entry.patterns)
                and not any(x.search(line.text) for x in entry.exclude)
            ]
            if lines:
                slow.add((entry.id, tuple(lines)))
        assert fast == slow, path.name


def _finding(
    fid: str, category: str, severity: str = "error", benign: bool = False, line: int | None = None
) -> Finding:
    evidence = (Evidence("x", line=line),) if line is not None else ()
    return Finding(fid, fid.lower(), category, severity, benign, fid, "c", evidence=evidence)  # type: ignore[arg-type]


def test_order_benign_last_then_severity_priority_line() -> None:
    findings = [
        _finding("A1", "other", "info", benign=True),
        _finding("B1", "other", "warning", line=1),
        _finding("C1", "other", "error", line=9),
        _finding("D1", "other", "error", line=3),
        _finding("E1", "other", "error", line=3),
    ]
    ordered = order_findings(findings, priorities={"E1": 80})
    assert [f.id for f in ordered] == ["E1", "D1", "C1", "B1", "A1"]


def test_order_causes_come_before_their_effects() -> None:
    unavailable = _finding("CU9", "cuda.no_device", "error", line=1)
    driver = _finding("CU8", "cuda.driver_too_old", "warning", line=5)
    abi = _finding("VR8", "version.numpy_abi", "warning", line=20)
    chain = _finding("VR9", "version.api_removed", "error", line=30)
    ordered = order_findings([unavailable, chain, abi, driver])
    assert [f.id for f in ordered] == ["CU8", "CU9", "VR8", "VR9"]


def test_order_entry_explains_sequences_and_cycles() -> None:
    first, second = _finding("X1", "other", line=1), _finding("X2", "other", line=2)
    assert [f.id for f in order_findings([first, second], explains={"X2": ["X1"]})] == ["X2", "X1"]
    assert [f.id for f in order_findings([first, second], sequences=[["X2", "X1"]])] == ["X2", "X1"]
    both = order_findings([first, second], explains={"X1": ["X2"], "X2": ["X1"]})
    assert [f.id for f in both] == ["X1", "X2"]


CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "cases"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "knowledge"


def test_a_generic_api_history_reading_folds_into_the_curated_entry_on_the_same_line() -> None:
    # torch._six: VR114 (the maintainers' answer) and VR202 (the API history) read one line.
    from envdoctor.triage import triage_text

    result = triage_text((FIXTURES / "VR114" / "hit-torch213-six.log").read_text(encoding="utf-8"))
    assert [f.id for f in result.findings if not f.benign] == ["VR114"]
    folded = result.findings[0].details["api_history"]
    assert folded["id"] == "VR202" and folded["pins"] == ["torch<2.0"]
    # VR114 pins nothing itself: the history's pin joins its fix.
    assert [c.requirement for c in result.constraints] == ["torch<2.0"]


def test_a_curated_pin_for_the_same_package_wins_over_the_historys() -> None:
    from envdoctor.triage import triage_text

    text = (CORPUS / "env-hunyuan3d-cached-download.log").read_text(encoding="utf-8")
    result = triage_text(text)
    harmful = [f for f in result.findings if not f.benign]
    assert [f.id for f in harmful] == ["VR112"]
    assert harmful[0].details["api_history"]["id"] == "VR200"
    assert [c.requirement for c in result.constraints] == list(harmful[0].fix.constraints)


def test_a_generic_reading_with_no_curated_entry_stays() -> None:
    from envdoctor.triage import triage_text

    result = triage_text((FIXTURES / "VR202" / "hit-hub-commands-removed.log").read_text(encoding="utf-8"))
    assert "VR202" in [f.id for f in result.findings]
