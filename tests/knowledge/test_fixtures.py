"""Data-driven tests of every knowledge entry against its fixtures, ids from file names.

For each entry ``knowledge/entries/<ID>.toml`` the directory ``tests/fixtures/knowledge/<ID>/``
holds:

* ``hit-NAME.log``: a log (a real one, or an excerpt of one, verbatim) that must yield the
  entry; for a symptom the *top* finding must be the entry (the cross-talk check). A real
  log with several symptoms declares them in ``hit-NAME.expect.toml``: ``top = "SD103"``
  (the expected top finding) and ``also = ["SD102"]`` (ids that must also be found);
* ``miss-NAME.log``: a near miss that looks similar but is not this symptom: must not yield it;
* ``hit-NAME.json`` / ``miss-NAME.json``: an environment (a ``diagnose --json`` document or a
  bare environment object) run through :func:`envdoctor.diagnosis.check_environment`;
* ``hit-NAME.ref`` / ``miss-NAME.ref``: one line, the path (relative to ``tests/fixtures/``)
  of a log or environment another fixture already holds, so one recorded run serves several
  entries without a byte copy;
* ``SOURCE.txt`` or ``SOURCE.toml``: where the logs come from (optional).

Logs are triaged with no environment facts, so results do not depend on this machine.
:data:`KNOWN_FAILURES` lists fixture ids expected to fail (strict xfail); keep it empty.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from envdoctor.kb.loader import KnowledgeBase, knowledge_root, lint_knowledge, load_knowledge
from envdoctor.model import Environment, from_jsonable
from envdoctor.triage import read_log, triage_log

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "knowledge"
#: "ID/file-name" of fixtures known to fail; each is a strict xfail, so a fix must remove it.
KNOWN_FAILURES: frozenset[str] = frozenset()
_ALLOWED_SUFFIXES = (".log", ".json", ".ref")
FIXTURES_ROOT = FIXTURES.parent


def _knowledge() -> KnowledgeBase:
    return load_knowledge()


def _entry_ids() -> list[str]:
    entries, _problems = lint_knowledge(knowledge_root())
    return sorted(e.id for e in entries)


def _fixture_params(kind: str) -> list[Any]:
    params = []
    for entry_id in _entry_ids():
        directory = FIXTURES / entry_id
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob(f"{kind}-*")):
            if path.suffix not in _ALLOWED_SUFFIXES:
                continue
            case_id = f"{entry_id}/{path.name}"
            marks = [pytest.mark.xfail(strict=True, reason="known failure")] if case_id in KNOWN_FAILURES else []
            params.append(pytest.param(entry_id, path, id=case_id, marks=marks))
    return params


def _environment(path: Path) -> Environment:
    document = json.loads(path.read_text(encoding="utf-8"))
    data = document.get("environment", document) if isinstance(document, dict) else document
    return from_jsonable(Environment, data)


def resolve_fixture(path: Path) -> Path:
    """The file a fixture stands for: itself, or the target of a ``.ref``."""
    if path.suffix != ".ref":
        return path
    target = FIXTURES_ROOT / path.read_text(encoding="utf-8").strip()
    assert target.suffix in (".log", ".json") and target.is_file(), f"{path}: points at no log or environment"
    return target


def _found_ids(path: Path) -> list[str]:
    """The finding ids a fixture yields, most relevant first."""
    path = resolve_fixture(path)
    if path.suffix == ".json":
        from envdoctor.diagnosis import check_environment

        return [f.id for f in check_environment(_environment(path)).findings]
    result = triage_log(read_log(str(path)), facts={}, knowledge=_knowledge())
    return [f.id for f in result.findings]


def _expectations(path: Path) -> dict[str, Any]:
    expect = path.with_name(path.stem + ".expect.toml")
    if not expect.exists():
        return {}
    return tomllib.loads(expect.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("entry_id", "path"), _fixture_params("hit"))
def test_hit_fixture_yields_entry(entry_id: str, path: Path) -> None:
    found = _found_ids(path)
    assert entry_id in found, f"{path.name} should yield {entry_id}; found {found or 'nothing'}"
    expect = _expectations(path)
    for other in expect.get("also", []):
        assert other in found, f"{path.name} should also yield {other}; found {found}"
    entry = _knowledge().get(entry_id)
    assert entry is not None
    if resolve_fixture(path).suffix == ".log" and entry.is_symptom:
        top = expect.get("top", entry_id)
        assert found[0] == top, f"{path.name}: top finding should be {top}, got {found[0]} (all: {found})"


@pytest.mark.parametrize(("entry_id", "path"), _fixture_params("miss"))
def test_miss_fixture_does_not_yield_entry(entry_id: str, path: Path) -> None:
    found = _found_ids(path)
    assert entry_id not in found, f"{path.name} is a near miss but yields {entry_id} (all: {found})"


def test_knowledge_lints_clean() -> None:
    _entries, problems = lint_knowledge(knowledge_root())
    assert not problems, f"{len(problems)} problem(s) in knowledge/:\n" + "\n".join(problems)


def fixture_layout_problems(entry_ids: list[str], fixtures: Path) -> list[str]:
    """Every problem with the fixture tree: missing hits or misses, orphans, stray files."""
    problems = []
    for entry_id in entry_ids:
        directory = fixtures / entry_id
        files = sorted(directory.iterdir()) if directory.is_dir() else []
        cases = [p for p in files if p.suffix in _ALLOWED_SUFFIXES]
        if not any(p.name.startswith("hit-") for p in cases):
            problems.append(f"{entry_id}: no hit-*.log or hit-*.json fixture")
        if not any(p.name.startswith("miss-") for p in cases):
            problems.append(f"{entry_id}: no miss-*.log or miss-*.json fixture")
        for path in files:
            name = path.name
            if name.endswith(".expect.toml"):
                stem = name.removesuffix(".expect.toml")
                if not stem.startswith("hit-") or not any(c.stem == stem for c in cases):
                    problems.append(f"{entry_id}/{name}: no hit fixture {stem}.log/.json/.ref beside it")
            elif name in ("SOURCE.txt", "SOURCE.toml") or (path in cases and name.startswith(("hit-", "miss-"))):
                continue
            else:
                problems.append(
                    f"{entry_id}/{name}: not a fixture (hit-*/miss-* .log/.json/.ref, *.expect.toml, SOURCE.txt/.toml)"
                )
    known = set(entry_ids)
    if fixtures.is_dir():
        for directory in sorted(fixtures.iterdir()):
            if directory.name not in known:
                problems.append(f"{directory.name}: fixture directory for no knowledge entry (orphan)")
    return problems


def test_every_entry_has_hit_and_miss_fixtures_and_no_orphans() -> None:
    problems = fixture_layout_problems(_entry_ids(), FIXTURES)
    assert not problems, f"{len(problems)} fixture problem(s):\n" + "\n".join(problems)


def test_layout_check_reports_every_problem(tmp_path: Path) -> None:
    (tmp_path / "AB101").mkdir()
    (tmp_path / "AB101" / "hit-one.log").write_text("x\n")
    (tmp_path / "AB101" / "notes.md").write_text("x\n")
    (tmp_path / "AB101" / "hit-two.expect.toml").write_text('top = "AB101"\n')
    (tmp_path / "AB102").mkdir()
    (tmp_path / "ZZ999").mkdir()
    problems = fixture_layout_problems(["AB101", "AB102"], tmp_path)
    assert problems == [
        "AB101: no miss-*.log or miss-*.json fixture",
        "AB101/hit-two.expect.toml: no hit fixture hit-two.log/.json/.ref beside it",
        "AB101/notes.md: not a fixture (hit-*/miss-* .log/.json/.ref, *.expect.toml, SOURCE.txt/.toml)",
        "AB102: no hit-*.log or hit-*.json fixture",
        "AB102: no miss-*.log or miss-*.json fixture",
        "ZZ999: fixture directory for no knowledge entry (orphan)",
    ]
