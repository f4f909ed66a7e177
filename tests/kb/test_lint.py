"""The knowledge lint: declared fact names, placeholders, sourced version boundaries.

Each test breaks a copy of the shipped knowledge the way a contributor would and checks that
``envdoctor explain --lint DIR`` names the file and the bad name, and exits 1.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envdoctor.kb.lint import unsourced_entries
from envdoctor.kb.loader import knowledge_root, lint_knowledge, lint_root
from envdoctor.kb.vocabulary import markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"
#: Entries whose version boundaries still lack a [sources] citation; it may only shrink.
UNSOURCED = {line for line in (Path(__file__).with_name("UNSOURCED.txt")).read_text().split() if line}


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(knowledge_root(), root)
    return root


def _lint_cli(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envdoctor", "explain", "--lint", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def test_shipped_knowledge_has_no_name_or_schema_problem() -> None:
    problems = [p for p in lint_root(knowledge_root()) if p.code != "unsourced"]
    assert problems == []


def test_every_new_boundary_is_sourced() -> None:
    unsourced = unsourced_entries(lint_root(knowledge_root()))
    assert unsourced <= UNSOURCED, f"version boundaries without [sources]: {sorted(unsourced - UNSOURCED)}"
    fixed = UNSOURCED - unsourced
    assert not fixed, f"now sourced, remove from tests/kb/UNSOURCED.txt: {sorted(fixed)}"


def test_misspelt_placeholder_is_caught(knowledge_copy: Path) -> None:
    sd102 = knowledge_copy / "entries" / "SD102.toml"
    _edit(sd102, "{dist.transformers} is installed, which no", "{dist.transformerz} is installed, which no")
    _edit(knowledge_copy / "entries" / "CU001.toml", "{torch.cuda}", "{torch.cudaa}")
    result = _lint_cli(knowledge_copy)
    assert result.returncode == 1
    expected = (
        "SD102.toml: unknown-name: note[0].text: unknown placeholder {dist.transformerz} (not a known distribution"
    )
    assert expected in result.stdout
    assert re.search(r"CU001\.toml: unknown-name: \S+: unknown placeholder \{torch\.cudaa\}", result.stdout)


def test_misspelt_fact_in_a_condition_is_caught(knowledge_copy: Path) -> None:
    old = 'fact = "dist.transformers", spec = ">=4.31"'
    _edit(knowledge_copy / "entries" / "SD102.toml", old, old.replace("dist.transformers", "transformers.version"))
    result = _lint_cli(knowledge_copy)
    assert result.returncode == 1
    assert "SD102.toml: unknown-name: note[0].when: unknown fact 'transformers.version'" in result.stdout


def test_item_field_outside_the_collection_is_caught(knowledge_copy: Path) -> None:
    path = knowledge_copy / "entries" / "PY006.toml"
    _edit(path, "{item.numpy2_from}", "{item.numpy2_first}")
    entries, problems = lint_knowledge(knowledge_copy)
    assert any(
        "PY006.toml" in p and "{item.numpy2_first} (collection numpy1_builds has no such field" in p for p in problems
    )
    assert "PY006" not in {e.id for e in entries} or problems


def test_unsourced_boundary_is_caught(knowledge_copy: Path) -> None:
    path = knowledge_copy / "entries" / "VR112.toml"
    text = path.read_text()
    text = re.sub(r"^constraints = \[.*\]$", 'constraints = ["huggingface-hub<0.25"]', text, count=1, flags=re.M)
    path.write_text(text)
    result = _lint_cli(knowledge_copy)
    assert result.returncode == 1
    assert "VR112.toml: unsourced: version boundary 'huggingface-hub<0.25' has no [sources] citation" in result.stdout


def test_clean_directory_exits_zero(knowledge_copy: Path) -> None:
    for path in (knowledge_copy / "entries").glob("*.toml"):
        if path.name in UNSOURCED or path.name in unsourced_entries(lint_root(knowledge_copy)):
            path.unlink()
    result = _lint_cli(knowledge_copy)
    assert result.returncode == 0, result.stdout
    assert "0 problem(s)" in result.stderr


def test_readme_fact_names_are_generated_from_the_vocabulary() -> None:
    text = README.read_text()
    match = re.search(r"<!-- facts:begin -->\n(.*?)\n<!-- facts:end -->", text, re.S)
    assert match, "README lacks the generated fact table markers"
    assert match.group(1).strip() == markdown_table().strip(), "regenerate: python -m envdoctor.kb.vocabulary"


def test_build_facts_produces_only_declared_names() -> None:
    """Every fact the probe layer derives is in the vocabulary, on every environment fixture."""
    import json

    from envdoctor.kb.compat import load_compat
    from envdoctor.kb.facts import build_facts
    from envdoctor.kb.vocabulary import COLLECTIONS, FACTS
    from envdoctor.model import Environment, from_jsonable

    fixtures = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "knowledge").glob("*/*.json"))
    assert len(fixtures) >= 20
    seen_collections: set[str] = set()
    for path in fixtures:
        data = json.loads(path.read_text())
        env = from_jsonable(Environment, data.get("environment", data))
        view = build_facts(env, load_compat())
        undeclared = {name for name in view.scalars if name not in FACTS and not name.startswith("dist.")}
        assert not undeclared, f"{path.name}: undeclared facts {sorted(undeclared)}"
        assert set(view.collections) == set(COLLECTIONS)
        for name, items in view.collections.items():
            for item in items:
                seen_collections.add(name)
                extra = set(item) - set(COLLECTIONS[name])
                assert not extra, f"{path.name}: {name} items carry undeclared fields {sorted(extra)}"
    assert len(seen_collections) >= 6


def test_a_pattern_that_backtracks_over_a_long_line_is_caught(knowledge_copy: Path) -> None:
    # EN150 as it was: "\w+ requires the ..." retried from every letter of a long word.
    guarded = "'''(?<!\\w)(?P<component>\\w+) requires the"
    _edit(knowledge_copy / "entries" / "EN150.toml", guarded, "'''(?P<component>\\w+) requires the")
    result = _lint_cli(knowledge_copy)
    assert result.returncode == 1
    assert "EN150.toml: slow-regex: match.patterns: '(?P<component>\\\\w+) requires the" in result.stdout
    assert "can take time quadratic in the line (it can start with an unbounded repeat)" in result.stdout


@pytest.mark.parametrize(
    ("pattern", "slow"),
    [
        (r"\w+ requires", True),
        (r"(?<!\w)\w+ requires", False),
        (r".*\(core dumped\)", True),
        (r"^.*\(core dumped\)", False),
        (r"(?P<p>[A-Za-z0-9][\w.-]*)==", True),
        (r"(?<![\w.-])(?P<p>[A-Za-z0-9][\w.-]*)==", False),
        (r"\S.*failed", True),
        (r"(?<!\S)\S.*failed", True),  # the lookbehind must cover the run: "." runs over spaces too
        (r"(?:foo|\w+bar)", True),
        (r"x?\w+y", True),
        (r"'(?P<k>\w+)'", False),  # a quote starts it, and a run of quotes is no run of \w
        (r"\bfoo\w*", False),
        (r"No module named '(?P<m>[\w.]+)'", False),
    ],
)
def test_quadratic_start_reads_the_parse_tree(pattern: str, slow: bool) -> None:
    from envdoctor.kb.regex_shape import quadratic_start

    assert (quadratic_start(re.compile(pattern)) is not None) is slow
