"""Load and validate ``knowledge/`` (found by :mod:`envdoctor.kb.paths`): entries, the lint, the ordering table."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from envdoctor.errors import KnowledgeError
from envdoctor.kb.cache import toml_document
from envdoctor.kb.entry import Entry, parse_entry
from envdoctor.kb.lint import Problem, name_problems, regex_problems, schema_problem, source_problems
from envdoctor.kb.paths import knowledge_root
from envdoctor.model import CATEGORIES

__all__ = [
    "KnowledgeBase",
    "Ordering",
    "knowledge_root",
    "load_checks",
    "load_knowledge",
    "load_ordering",
    "lint_knowledge",
    "lint_root",
]


@dataclass(frozen=True)
class KnowledgeBase:
    """All entries, by id, in file-name order."""

    root: Path
    entries: tuple[Entry, ...]

    def get(self, entry_id: str) -> Entry | None:
        """The entry with this id or kebab-case name, case-insensitively."""
        wanted = entry_id.strip().lower()
        for entry in self.entries:
            if entry.id.lower() == wanted or entry.name == wanted:
                return entry
        return None

    @property
    def checks(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.is_check)

    @property
    def symptoms(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.is_symptom)


# A diagnose check has a top-level `when`/`each`/`case` key or a `[[when]]`/`[[case]]` table. Any TOML
# spelling of those starts a line this way, so files without such a line cannot be checks
# and need no parsing when only checks are wanted (a sound over-approximation).
_CHECK_MARKER = re.compile(rb"^[ \t]*(?:(?:when|each|case)[ \t]*=|\[\[[ \t]*(?:when|case)[ \t]*\]\])", re.MULTILINE)


def _may_be_check(data: bytes) -> bool:
    # The substring tests are C-speed; most files contain none of the words.
    return (b"when" in data or b"each" in data or b"case" in data) and _CHECK_MARKER.search(data) is not None


def lint_knowledge(root: Path, *, checks_only: bool = False, names: bool = True) -> tuple[list[Entry], list[str]]:
    """Parse every entry under ``root/entries``; return the usable ones and all problems.

    With ``names`` (the default) every fact and placeholder an entry names must be declared
    (:func:`envdoctor.kb.lint.name_problems`): a misspelt name is a load error.
    """

    entries: list[Entry] = []
    problems: list[str] = []
    seen_ids: dict[str, str] = {}
    seen_names: dict[str, str] = {}
    for path in sorted((root / "entries").glob("*.toml")):
        label = path.name
        try:
            raw = path.read_bytes()
            if checks_only and not _may_be_check(raw):
                continue
            # As read_text would give it (universal newlines), without decoding the files skipped.
            data = toml_document(raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n"))
        except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError and UnicodeDecodeError are ValueErrors
            problems.append(f"{label}: cannot be read as TOML: {exc}")
            continue
        entry, entry_problems = parse_entry(data, str(path))
        problems.extend(f"{label}: {p}" for p in entry_problems)
        if entry is None:
            continue
        if names:
            problems.extend(f"{label}: {p}" for p in name_problems(entry))
        if path.stem != entry.id:
            problems.append(f"{label}: file name must be the id ({entry.id}.toml)")
        if entry.id in seen_ids:
            problems.append(f"{label}: id {entry.id} also used by {seen_ids[entry.id]}")
        if entry.name in seen_names:
            problems.append(f"{label}: name {entry.name} also used by {seen_names[entry.name]}")
        seen_ids[entry.id] = label
        seen_names[entry.name] = label
        entries.append(entry)
    return entries, problems


@functools.cache
def _load(root: Path, checks_only: bool = False) -> KnowledgeBase:
    entries, problems = lint_knowledge(root, checks_only=checks_only)
    if problems:
        raise KnowledgeError(f"{len(problems)} problem(s) in {root}: " + "; ".join(problems[:5]))
    if checks_only:
        entries = [e for e in entries if e.is_check]
    return KnowledgeBase(root, tuple(entries))


def load_checks(root: Path | None = None) -> KnowledgeBase:
    """Only the diagnose checks (skips parsing symptom entries; what ``diagnose`` needs)."""
    return _load((root or knowledge_root()).resolve(), checks_only=True)


def load_knowledge(root: Path | None = None) -> KnowledgeBase:
    """Load and validate the knowledge base (cached per root)."""
    return _load((root or knowledge_root()).resolve())


def lint_root(root: Path, *, sources: bool = True) -> list[Problem]:
    """Every problem in a knowledge directory: schema, names, slow regexes and (optionally) sources."""
    entries, schema = lint_knowledge(root, names=False)
    problems = [schema_problem(p) for p in schema]
    for entry in entries:
        label = Path(entry.source_path).name
        problems.extend(Problem(label, "unknown-name", p) for p in name_problems(entry))
        problems.extend(Problem(label, "slow-regex", p) for p in regex_problems(entry))
        if sources:
            problems.extend(Problem(label, "unsourced", p) for p in source_problems(entry))
    return problems


@dataclass(frozen=True)
class Ordering:
    """``knowledge/order.toml``: the state-dict reading order and what explains what."""

    reading: tuple[str, ...]
    causes: Mapping[str, tuple[str, ...]]

    def reading_rank(self, category: str) -> int:
        """Position of a state-dict category in the reading order (unknown ones with ``other``)."""
        if category in self.reading:
            return self.reading.index(category)
        return self.reading.index("other") if "other" in self.reading else len(self.reading)


@functools.cache
def load_ordering(root: Path | None = None) -> Ordering:
    """Read ``order.toml``; every category in it must be a known category."""
    path = (root or knowledge_root()) / "order.toml"
    try:
        data = toml_document(path.read_text(encoding="utf-8"))
        reading = tuple(str(c) for c in data["state_dict"]["reading"])
        causes = {str(k): tuple(str(c) for c in v) for k, v in data["causes"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:  # TOMLDecodeError is a ValueError
        raise KnowledgeError(f"{path}: cannot read the ordering table ({exc})") from None
    unknown = sorted({c for c in (*reading, *causes, *(e for v in causes.values() for e in v)) if c not in CATEGORIES})
    if unknown:
        raise KnowledgeError(f"{path}: unknown categories {unknown}")
    return Ordering(reading, causes)
