"""The entry schema rejects broken data, and the lint reports every problem in one run."""

from __future__ import annotations

import tomllib
from pathlib import Path

from envdoctor.kb.entry import parse_entry
from envdoctor.kb.loader import lint_knowledge, load_knowledge

GOOD = """
id = "XX001"
name = "an-entry"
title = "t"
category = "other"
severity = "warning"
what = "w"
why = "y"
cause = "c"
references = ["https://example.org/issue/1"]
[match]
patterns = ['boom']
"""


def test_a_valid_entry_parses_without_problems() -> None:
    entry, problems = parse_entry(tomllib.loads(GOOD))
    assert problems == []
    assert entry is not None and entry.is_symptom and not entry.is_check


def test_every_problem_is_reported_not_just_the_first() -> None:
    broken = GOOD.replace('category = "other"', 'category = "nope"').replace("'boom'", "'(unclosed'")
    broken = broken.replace('severity = "warning"', 'severity = "error"\nbenign = true')
    broken = broken.replace("https://example.org/issue/1", "http://insecure")
    broken += '[fix]\nconstraints = ["not a requirement!!"]\n'
    _, problems = parse_entry(tomllib.loads(broken))
    text = "\n".join(problems)
    for expected in ("unknown category", "does not compile", "cannot be benign", "https", "not PEP 508"):
        assert expected in text, text


def test_item_conditions_require_each() -> None:
    data = tomllib.loads(GOOD.replace("[match]\npatterns = ['boom']", '[[when]]\nfact = "item.kind"\nequals = "x"'))
    _, problems = parse_entry(data)
    assert any("need `each`" in p for p in problems)


def test_templated_constraints_are_accepted_until_filled() -> None:
    data = tomllib.loads(GOOD + '[fix]\nconstraints = ["{item.dependency}{item.specifier}"]\n')
    _, problems = parse_entry(data)
    assert problems == []


def test_lint_catches_file_name_and_duplicate_ids(tmp_path: Path) -> None:
    entries = tmp_path / "entries"
    entries.mkdir()
    (entries / "XX001.toml").write_text(GOOD)
    (entries / "XX002.toml").write_text(GOOD)  # same id and name, wrong file name
    (entries / "XX003.toml").write_text("id = [")
    _, problems = lint_knowledge(tmp_path)
    text = "\n".join(problems)
    assert "file name must be the id" in text
    assert "also used by" in text
    assert "cannot be read as TOML" in text


def test_shipped_knowledge_has_no_problems() -> None:
    root = load_knowledge().root
    _, problems = lint_knowledge(root)
    assert problems == [], "\n".join(problems)


def test_checks_only_loading_finds_exactly_the_checks() -> None:
    from envdoctor.kb.loader import load_checks

    everything = load_knowledge()
    assert {e.id for e in load_checks().entries} == {e.id for e in everything.entries if e.is_check}
