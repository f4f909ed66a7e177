"""Checks of the version, CUDA and environment symptom entries (VR1xx, CU1xx, EN1xx).

Each entry's ``[match] patterns`` must find its hit fixtures (real logs, copied verbatim) and
must stay silent on its near-miss fixtures; template placeholders must name groups the
patterns define; every fixture has a recorded source. This works line by line on the raw
logs, without the triage engine, so it pins the patterns themselves; the triage engine's
data-driven test checks ranking across all entries.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from envdoctor.kb.entry import Entry
from envdoctor.kb.loader import lint_knowledge
from tests.knowledge.test_fixtures import resolve_fixture

REPO = Path(__file__).resolve().parents[2]
KNOWLEDGE = REPO / "knowledge"
FIXTURES = REPO / "tests" / "fixtures" / "knowledge"
PREFIXES = ("VR1", "CU1", "EN1")
RESERVED = {"EN190"}  # the key-analysis helper's unsafe-pickle entry
PLACEHOLDER = re.compile(r"\{match\.(\w+)\}")


def _entries() -> list[Entry]:
    entries, _ = lint_knowledge(KNOWLEDGE)
    return [e for e in entries if e.id.startswith(PREFIXES) and e.id not in RESERVED]


ENTRIES = _entries()


def _fixture_path(entry_id: str, name: str) -> Path:
    """A fixture by its recorded .log name, which may now be a .ref to the one copy."""
    path = FIXTURES / entry_id / name
    return path if path.exists() else path.with_suffix(".ref")


BY_ID = {e.id: e for e in ENTRIES}


def _fixtures(kind: str, entries: list[Entry] = ENTRIES) -> list[tuple[str, Path]]:
    return [
        (e.id, path)
        for e in entries
        for path in sorted((FIXTURES / e.id).glob(f"{kind}-*"))
        if path.suffix in (".log", ".ref") and resolve_fixture(path).suffix == ".log"
    ]


def _text(path: Path) -> str:
    return resolve_fixture(path).read_text(encoding="utf-8")


def _matching_lines(entry: Entry, text: str) -> list[tuple[int, re.Match[str]]]:
    hits = []
    for number, line in enumerate(text.splitlines(), start=1):
        if any(p.search(line) for p in entry.exclude):
            continue
        for pattern in entry.patterns:
            found = pattern.search(line)
            if found:
                hits.append((number, found))
                break
    return hits


def test_enough_entries_and_all_lint_clean() -> None:
    _, problems = lint_knowledge(KNOWLEDGE)
    mine = [p for p in problems if p.startswith(PREFIXES) and not p.startswith(tuple(RESERVED))]
    assert mine == []
    assert len(ENTRIES) >= 26
    categories = {e.category for e in ENTRIES}
    for wanted in (
        "version.requirement_conflict", "version.api_removed", "version.numpy_abi", "version.no_wheel",
        "cuda.cpu_build", "cuda.driver_too_old", "cuda.arch_unsupported", "cuda.extension_abi",
        "cuda.library_mismatch", "cuda.oom", "cuda.toolkit_missing", "cuda.no_device",
        "cuda.device_assert", "env.missing_system_lib",
    ):  # fmt: skip
        assert wanted in categories, wanted


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_entry_shape(entry: Entry) -> None:
    assert entry.is_symptom and entry.patterns, "a triage symptom needs [match] patterns"
    assert entry.references, "cite the upstream issue, PR or docs"
    assert all(r.startswith("https://") for r in entry.references)
    assert entry.fix_steps and entry.fix_safety
    assert "\n" not in entry.cause, "cause is one line"
    assert 0 <= entry.priority <= 100
    if entry.benign:
        assert entry.severity == "info"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_each_entry_has_hit_and_miss_fixtures_with_sources(entry: Entry) -> None:
    folder = FIXTURES / entry.id
    # a .ref stands for the .log of the same name (SOURCE.txt records it as a copy)
    logs = sorted(p.with_suffix(".log").name for p in folder.glob("*") if p.suffix in (".log", ".ref"))
    # an entry gated on facts ([match] when) is proved by diagnose environments (.json, kind "env")
    logs = sorted(logs + [p.name for p in folder.glob("*.json")])
    assert any(n.startswith("hit-") for n in logs) and any(n.startswith("miss-") for n in logs)
    sources = tomllib.loads((folder / "SOURCE.txt").read_text(encoding="utf-8"))["files"]
    assert sorted(sources) == logs
    for name, record in sources.items():
        assert record["kind"] in ("run", "copy", "public", "env"), name
        if record["kind"] == "public":
            assert record["url"].startswith("https://github.com/") and record["issue"] > 0, name
        if record["kind"] == "copy":
            assert (REPO / record["log"]).is_file(), name
        if record["kind"] == "run":
            assert record["command"] and "packages" in record, name


TEMPLATED = [e for e in ENTRIES if any(PLACEHOLDER.search(c) for c in e.fix_constraints)]


@pytest.mark.parametrize(
    ("entry_id", "path"), _fixtures("hit", TEMPLATED), ids=lambda v: v if isinstance(v, str) else v.name
)
def test_templated_constraints_parse_when_filled(entry_id: str, path: Path) -> None:
    entry = BY_ID[entry_id]
    matches = _matching_lines(entry, _text(path))
    assert matches, f"{entry_id} does not recognise {path.name}"
    _, found = matches[0]
    groups = {k: v for k, v in found.groupdict().items() if v is not None}
    for template in entry.fix_constraints:
        if not set(PLACEHOLDER.findall(template)) <= set(groups):
            continue
        Requirement(PLACEHOLDER.sub(lambda m: groups[m.group(1)], template))


@pytest.mark.parametrize(
    ("entry_id", "fixture", "expected"),
    [
        ("VR101", "hit-transformers429-tokenizers015.log",
         {"package": "tokenizers", "found": "0.15.2", "spec": "tokenizers>=0.11.1,!=0.11.3,<0.14"}),
        ("VR102", "hit-transformers440-hub1.log", {"found": "1.0.0", "spec": "huggingface-hub>=0.19.3,<1.0"}),
        ("VR103", "hit-mmdet330-mmcv220.log", {"found": "2.2.0", "spec": ">=2.0.0rc4, <2.2.0"}),
        ("VR124", "hit-mmseg122-mmcv220.log", {"found": "2.2.0", "floor": "2.0.0rc4"}),
        ("VR104", "hit-mmdet330-mmengine070.log", {"found": "0.7.0", "spec": ">=0.7.1, <1.0.0"}),
        ("VR105", "hit-pip-tokenizers015-breaks-transformers429.log",
         {"package": "transformers", "requirement": "tokenizers!=0.11.3,<0.14,>=0.11.1", "found": "0.15.2"}),
        ("VR108", "hit-pip-torch1131-py312.log", {"requirement": "torch==1.13.1"}),
        ("VR110", "hit-numpy126-np-float.log", {"attr": "float"}),
        ("VR111", "hit-numpy2-np-nan.log", {"attr": "NaN"}),
        ("VR118", "hit-numpy2-pandas214.log", {"struct": "dtype", "expected": "96", "got": "88"}),
        ("VR119", "hit-api-version-0x10-0xf.log", {"built": "0x10", "found": "0xf"}),
        ("CU102", "hit-driver-11000-warning.log", {"found": "11000"}),
        ("CU103", "hit-sm86-not-compatible.log", {"arch": "sm_86"}),
        ("CU111", "hit-cudnn-850-841.log", {"built": "8, 5, 0", "found": "8, 4, 1"}),
        ("CU113", "hit-cuda-oom.log", {"amount": "22.00 MiB"}),
        ("CU115", "hit-cuda-version-mismatch.log", {"system": "12.1", "torch": "11.7"}),
        ("CU115", "hit-torch213-tuple-message.log", {"system": "12.1", "torch": "11.8"}),
        ("EN101", "hit-libgl.log", {"library": "libGL.so.1"}),
        ("EN102", "hit-glibcxx-3429.log", {"symbol": "GLIBCXX_3.4.29"}),
    ],
)  # fmt: skip
def test_groups_capture_the_versions(entry_id: str, fixture: str, expected: dict[str, str]) -> None:
    text = _text(_fixture_path(entry_id, fixture))
    captured: dict[str, str] = {}
    for _, found in _matching_lines(BY_ID[entry_id], text):
        captured.update({k: v for k, v in found.groupdict().items() if v is not None})
    assert {k: captured.get(k) for k in expected} == expected


def test_root_causes_outrank_their_consequences() -> None:
    def prio(entry_id: str) -> int:
        return BY_ID[entry_id].priority

    assert prio("VR117") > prio("VR119")  # NumPy 1.x build on NumPy 2 > multiarray ImportError
    assert prio("VR120") > prio("VR121")  # no Rust > "Failed building wheel"
    assert prio("CU102") > prio("CU101") and prio("CU102") > prio("CU119")  # driver too old > CUDA unavailable
    assert prio("CU103") > prio("CU104")  # arch not in build > no kernel image
    assert prio("CU116") > prio("CU119")
    assert prio("VR122") < 20 and BY_ID["VR122"].benign


def test_no_orphan_fixture_folders() -> None:
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name.startswith(PREFIXES)}
    assert folders - RESERVED <= set(BY_ID)
