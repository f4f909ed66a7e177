"""Lint knowledge entries against the fact vocabulary and the sourcing rule.

:func:`name_problems` checks every fact an entry's conditions name and every
``{placeholder}`` in its texts against :mod:`envdoctor.kb.vocabulary`, the entry's own regex
groups (``match.<group>``), its collection's item fields (``item.<field>``), its key
analyzer's declared names and its cases' facts (``case.<name>``).
:func:`source_problems` requires a ``[sources]`` citation for every version boundary the entry
states: each fix pin with a version range and each ``spec`` condition. :func:`lint_root` runs
both; :func:`envdoctor.kb.loader.lint_root` adds the schema checks over a whole knowledge
directory and reports every problem in one run (``envdoctor explain --lint [DIR]``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envdoctor.kb.entry import Condition, Entry
from envdoctor.kb.regex_shape import quadratic_start
from envdoctor.kb.vocabulary import (
    ANALYZER_FACTS,
    COLLECTIONS,
    KEY_REPORT_FACTS,
    is_declared_scalar,
)

__all__ = [
    "Problem",
    "boundaries",
    "name_problems",
    "regex_problems",
    "source_problems",
    "schema_problem",
    "unsourced_entries",
]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.\-]*(?:\|[A-Za-z_][\w.\-]*)*)\}")


@dataclass(frozen=True)
class Problem:
    """One lint problem: the file, a short code and the message."""

    path: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.code}: {self.message}"


def _conditions(entry: Entry) -> Iterator[tuple[str, Condition]]:
    for condition in entry.when:
        yield "when", condition
    for index, case in enumerate(entry.cases):
        for condition in case.when:
            yield f"case[{index}].when", condition
    for index, note in enumerate(entry.notes):
        for condition in note.when:
            yield f"note[{index}].when", condition
    for condition in entry.match_when:
        yield "match.when", condition
    for condition in entry.match_unless:
        yield "match.unless", condition


def _texts(entry: Entry) -> Iterator[tuple[str, str]]:
    yield "title", entry.title
    yield "cause", entry.cause
    for index, step in enumerate(entry.fix_steps):
        yield f"fix.steps[{index}]", step
    for index, pin in enumerate(entry.fix_constraints):
        yield f"fix.constraints[{index}]", pin
    for index, text in enumerate(entry.evidence):
        yield f"evidence[{index}]", text
    for index, note in enumerate(entry.notes):
        yield f"note[{index}].text", note.text
    for index, case in enumerate(entry.cases):
        for name, text in case.facts.items():
            yield f"case[{index}].facts.{name}", text
    if entry.keys is not None:
        yield "match.keys.image_note", entry.keys.image_note
        yield "match.keys.output_note", entry.keys.output_note


def _allowed(entry: Entry) -> tuple[set[str], list[str]]:
    """Names this entry may use beyond the declared scalars, and why some are absent."""
    names: set[str] = set()
    for pattern in (*entry.patterns, *entry.exclude):
        names.update(f"match.{group}" for group in pattern.groupindex)
    if entry.each is not None:
        names.update(f"item.{field}" for field in COLLECTIONS.get(entry.each, {}))
    if entry.keys is not None:
        names.update(KEY_REPORT_FACTS)
        names.update(ANALYZER_FACTS[None])
        names.update(ANALYZER_FACTS.get(entry.keys.analyzer, {}))
    if entry.lookup is not None:
        from envdoctor.kb.lookups import known_lookups

        lookup = known_lookups().get(entry.lookup)
        names.update(lookup.facts if lookup else ())
    if entry.category == "security.unsafe_pickle":
        names.add("unsafe.globals")
    for case in entry.cases:
        names.update(f"case.{name}" for name in case.facts)
    return names, []


def _pinned(entry: Entry) -> frozenset[str]:
    names = set()
    for pin in entry.fix_constraints:
        try:
            names.add(canonicalize_name(Requirement(pin).name))
        except InvalidRequirement:
            continue
    return frozenset(names)


def _known(name: str, allowed: set[str], distributions: frozenset[str] = frozenset()) -> bool:
    return name in allowed or is_declared_scalar(name, distributions)


def _why_unknown(name: str, entry: Entry) -> str:
    if name.startswith("item.") and entry.each is None:
        return "item.* facts need `each` to name a collection"
    if name.startswith("item.") and entry.each is not None:
        fields = ", ".join(COLLECTIONS.get(entry.each, {}))
        return f"collection {entry.each} has no such field (it has: {fields})"
    if name.startswith("match."):
        return "no named group (?P<...>) of that name in the entry's patterns"
    if name.startswith("case."):
        return "no [[case]] sets that fact"
    if name.startswith("dist."):
        return "not a known distribution: declare it in KNOWN_DISTRIBUTIONS (envdoctor/kb/vocabulary.py)"
    return "not declared in envdoctor/kb/vocabulary.py"


def name_problems(entry: Entry, distributions: frozenset[str] = frozenset()) -> list[str]:
    """Every undeclared fact or placeholder the entry names.

    ``distributions``: canonical names the knowledge pins or tabulates elsewhere, which
    ``dist.<name>`` may also name.
    """
    allowed, _ = _allowed(entry)
    known_dists = distributions | _pinned(entry)
    problems = []
    for where, condition in _conditions(entry):
        if not _known(condition.fact, allowed, known_dists):
            problems.append(f"{where}: unknown fact {condition.fact!r} ({_why_unknown(condition.fact, entry)})")
        if condition.op.endswith("_fact") and not _known(str(condition.value), allowed, known_dists):
            problems.append(f"{where}: unknown fact {condition.value!r} ({_why_unknown(str(condition.value), entry)})")
    for where, text in _texts(entry):
        for name in (alt for group in _PLACEHOLDER.findall(text) for alt in group.split("|")):
            if not _known(name, allowed, known_dists):
                problems.append(f"{where}: unknown placeholder {{{name}}} ({_why_unknown(name, entry)})")
    return problems


def boundaries(entry: Entry) -> list[str]:
    """The version boundaries an entry states, spelt as ``[sources]`` keys.

    A fix pin with a version range as written (``huggingface-hub<0.26``); a ``spec``
    condition on ``dist.NAME`` as ``NAME`` + specifier (``transformers>=4.31``), on another
    fact as ``fact`` + specifier (``torch.cuda>=12``). Templated pins are filled from facts
    at run time and state no boundary of their own.
    """
    found: list[str] = []
    for pin in entry.fix_constraints:
        if _PLACEHOLDER.search(pin):
            continue
        try:
            requirement = Requirement(pin)
        except InvalidRequirement:
            continue
        if requirement.specifier:
            found.append(pin)
    for _where, condition in _conditions(entry):
        if condition.op != "spec":
            continue
        fact = condition.fact
        if fact.startswith("item.") or fact.startswith("match."):
            continue  # compared with a value read from data or the log, not a stated boundary
        name = fact[len("dist.") :] if fact.startswith("dist.") else fact
        found.append(f"{name}{str(condition.value).replace(' ', '')}")
    return list(dict.fromkeys(found))


def source_problems(entry: Entry) -> list[str]:
    """Boundaries without a ``[sources]`` citation, and citations of no boundary."""
    stated = boundaries(entry)
    problems = [f"version boundary {b!r} has no [sources] citation" for b in stated if b not in entry.sources]
    problems.extend(
        f"[sources] cites {key!r}, which is no boundary of this entry" for key in entry.sources if key not in stated
    )
    return problems


def regex_problems(entry: Entry) -> list[str]:
    """Patterns whose search can take time quadratic in a line (:mod:`envdoctor.kb.regex_shape`).

    Every pattern runs on up to 16 KB of each line that holds its literal; one that can start
    inside a long run of characters makes such a line cost seconds.
    """
    problems = []
    for where, patterns in (("match.patterns", entry.patterns), ("match.exclude", entry.exclude)):
        for pattern in patterns:
            why = quadratic_start(pattern)
            if why is not None:
                problems.append(
                    f"{where}: {pattern.pattern[:80]!r} can take time quadratic in the line ({why}); "
                    "start it with a lookbehind of its run's characters, e.g. (?<![\\w.-]), or anchor it with ^"
                )
    return problems


def schema_problem(text: str) -> Problem:
    """A loader problem (``FILE: message``) as a :class:`Problem`."""
    path, _, message = text.partition(": ")
    return Problem(path, "schema", message)


def unsourced_entries(problems: Iterable[Problem]) -> set[str]:
    """Entry file names with an ``unsourced`` problem."""
    return {p.path for p in problems if p.code == "unsourced"}
