"""Match knowledge entries' ``[match] patterns`` against a normalised log, in one linear pass.

Every pattern is searched (``re.search``) in every logical line; a line that an entry's
``exclude`` pattern also matches is vetoed for that entry. An entry yields at most one
finding per log, carrying every line it matched as evidence. Named groups become facts
``match.<group>`` (the first line that sets a group wins), so an entry can write
``{match.package}`` in its title, cause, steps and ``fix.constraints``; they sit beside the
environment facts (``dist.transformers``, ...) in the namespace handed to
:func:`envdoctor.kb.checks.finding_from_entry`, and also go into ``details["match"]``.

Speed: each pattern is reduced once to literal strings one of which any match must contain
(read from the compiled regex's parse tree); a line is searched only with patterns whose
literal it holds, and one combined regex over all literals skips the many lines (progress,
training logs) that can match nothing. Patterns without a usable literal run on every line.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from envdoctor.kb.checks import finding_from_entry
from envdoctor.kb.conditions import all_hold
from envdoctor.kb.entry import Entry
from envdoctor.kb.lookups import run_lookup
from envdoctor.model import Evidence, Finding
from envdoctor.triage.logs import LogText

_sre_parse: Any
_sre_constants: Any
try:  # the regex parser (re._parser since Python 3.11) is private but stable in practice
    _sre_parse = importlib.import_module("re._parser")
    _sre_constants = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - another layout: patterns then run on every line
    _sre_parse = _sre_constants = None

__all__ = ["MAX_MATCHED", "Matcher", "SymptomMatch", "literal_gate", "required_literals", "match_symptoms"]

#: Characters of a line that patterns are matched against. A message worth matching starts
#: well within this; key lists (which can be megabytes on one line) are read by the report
#: parsers, not by patterns. The bound keeps every pattern's time linear in the log's size,
#: whatever backtracking a pattern allows.
MAX_MATCHED = 16 * 1024

#: Literals shorter than this filter too little to be worth a check.
_MIN_LITERAL = 3


def _sequence_literals(items: Sequence[Any], ignore_case: bool) -> frozenset[str] | None:
    """The best literal set of a parsed sequence: a run of literal characters, or a group's."""
    if _sre_constants is None:
        return None
    constants = _sre_constants
    candidates: list[frozenset[str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            candidates.append(frozenset({"".join(run)}))
            run.clear()

    for op, arg in items:
        if op is constants.LITERAL:
            run.append(chr(arg))
            continue
        flush()
        if op is constants.SUBPATTERN:
            _group, add_flags, del_flags, sub = arg
            if (add_flags | del_flags) & re.IGNORECASE and not ignore_case:
                continue  # a local (?i:...) group: its literals would need case folding
            found = _sequence_literals(list(sub), ignore_case)
            if found is not None:
                candidates.append(found)
        elif op is constants.BRANCH:
            union: set[str] = set()
            for branch in arg[1]:
                found = _sequence_literals(list(branch), ignore_case)
                if found is None:
                    union = set()
                    break
                union |= found
            if union:
                candidates.append(frozenset(union))
        elif op in (constants.MAX_REPEAT, constants.MIN_REPEAT, constants.POSSESSIVE_REPEAT):
            low, _high, sub = arg
            if low >= 1:
                found = _sequence_literals(list(sub), ignore_case)
                if found is not None:
                    candidates.append(found)
        elif op is constants.ATOMIC_GROUP:
            found = _sequence_literals(list(arg), ignore_case)
            if found is not None:
                candidates.append(found)
    flush()
    usable = [c for c in candidates if c and min(len(s) for s in c) >= _MIN_LITERAL]
    if not usable:
        return None
    return max(usable, key=lambda c: (min(len(s) for s in c), -len(c)))


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of ``pattern`` contains; ``None`` when none is known.

    Under ``re.IGNORECASE`` the literals are lower-cased and must be looked up in a
    lower-cased line.
    """
    if _sre_parse is None:
        return None
    ignore_case = bool(pattern.flags & re.IGNORECASE)
    try:
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:
        return None
    found = _sequence_literals(list(parsed), ignore_case)
    if found is None:
        return None
    return frozenset(s.lower() for s in found) if ignore_case else found


def _trie(words: Iterable[str]) -> str:
    """A regex matching exactly ``words``, as a trie: ``(?:ab(?:c|d)|x)``.

    A flat alternation of a few hundred literals makes ``re`` try every one at every position
    of a line (0.8 s for 20,000 training-log lines); sharing prefixes makes each position cost
    a few character comparisons (4-5x faster on the same lines).
    """
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + build(node[char]) for char in sorted(c for c in node if c)]
        if not branches:
            return ""
        if "" in node:  # a word ends here and longer ones go on
            return f"(?:{'|'.join(branches)})?"
        return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"

    return build(root)


def literal_gate(sensitive: Iterable[str], folded: Iterable[str]) -> re.Pattern[str] | None:
    """One regex that finds any of the literals (``folded`` ones case-insensitively); ``None``
    for no literal. A line it does not match can match none of their patterns."""
    parts = [f"(?:{_trie(words)})" for words in (set(sensitive),) if words]
    parts += [f"(?i:{_trie(words)})" for words in (set(folded),) if words]
    return re.compile("|".join(parts)) if parts else None


@dataclass(frozen=True)
class _Rule:
    entry_index: int
    pattern: re.Pattern[str]
    literals: frozenset[str] | None
    ignore_case: bool


@dataclass
class SymptomMatch:
    """The lines one entry matched in one log, and the named groups they captured."""

    entry: Entry
    lines: list[tuple[int, str]] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)


class Matcher:
    """Compiled once per knowledge base: rules, literal prefilters and the combined gate."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = tuple(e for e in entries if e.patterns)
        rules: list[_Rule] = []
        for index, entry in enumerate(self.entries):
            for pattern in entry.patterns:
                rules.append(_Rule(index, pattern, required_literals(pattern), bool(pattern.flags & re.IGNORECASE)))
        self.always = tuple(r for r in rules if r.literals is None)
        by_literal: dict[tuple[str, bool], list[_Rule]] = {}
        for rule in rules:
            for literal in rule.literals or ():
                by_literal.setdefault((literal, rule.ignore_case), []).append(rule)
        self.by_literal = {key: tuple(value) for key, value in by_literal.items()}
        self.any_ignore_case = any(ic for _lit, ic in by_literal)
        self.gate = literal_gate((lit for lit, ic in by_literal if not ic), (lit for lit, ic in by_literal if ic))

    def _candidates(self, text: str) -> list[_Rule]:
        rules: list[_Rule] = list(self.always)
        if self.gate is None or self.gate.search(text) is None:
            return rules
        lowered = text.lower() if self.any_ignore_case else text
        seen: set[int] = set()
        for (literal, ignore_case), bucket in self.by_literal.items():
            if literal in (lowered if ignore_case else text):
                for rule in bucket:
                    if id(rule) not in seen:
                        seen.add(id(rule))
                        rules.append(rule)
        return rules

    def scan(self, log: LogText) -> list[SymptomMatch]:
        """Every entry that matched at least one line, in order of its first matching line."""
        found: dict[int, SymptomMatch] = {}
        for line in log.lines:
            text = line.text[:MAX_MATCHED]  # bounded: a pattern's cost must not grow with a 300 KB line
            if not text or line.noise:
                continue
            rules = self._candidates(text)
            if not rules:
                continue
            for rule in rules:
                match = rule.pattern.search(text)
                if match is None:
                    continue
                entry = self.entries[rule.entry_index]
                if any(ex.search(text) for ex in entry.exclude):
                    continue
                symptom = found.setdefault(rule.entry_index, SymptomMatch(entry))
                if not symptom.lines or symptom.lines[-1][0] != line.number:
                    symptom.lines.append((line.number, text))
                for name, value in match.groupdict().items():
                    if value is not None and name not in symptom.groups:
                        symptom.groups[name] = value
        return sorted(found.values(), key=lambda s: s.lines[0][0])


def match_symptoms(
    log: LogText, entries: Iterable[Entry] | Matcher, facts: Mapping[str, Any] | None = None
) -> list[Finding]:
    """One finding per entry whose patterns match ``log``, texts filled from facts and groups."""
    matcher = entries if isinstance(entries, Matcher) else Matcher(entries)
    findings = []
    for symptom in matcher.scan(log):
        namespace = dict(facts or {})
        namespace.update({f"match.{name}": value for name, value in symptom.groups.items()})
        entry = symptom.entry
        if not all_hold(entry.match_when, namespace):
            continue  # a facts-conditioned reading (e.g. only where a GPU is present)
        if entry.match_unless and all_hold(entry.match_unless, namespace):
            continue
        derived: Mapping[str, Any] | None = None
        if entry.lookup is not None:
            # the lines above the first match (up to 200): a lookup reads traceback frames from them
            first = next(i for i, line in enumerate(log.lines) if line.number == symptom.lines[0][0])
            namespace["log.preceding"] = tuple(line.text for line in log.lines[max(0, first - 200) : first])
            derived = run_lookup(entry.lookup, namespace)
            if derived is None:
                continue  # the table cannot explain this capture: a more general entry speaks
            namespace.update(derived)
        evidence = [Evidence(text, line=number, source=log.source) for number, text in symptom.lines]
        details: dict[str, Any] = {"matched_lines": len(symptom.lines)}
        if symptom.groups:
            details["match"] = dict(symptom.groups)
        if derived:
            details["lookup"] = {entry.lookup: dict(derived)}
        findings.append(finding_from_entry(symptom.entry, namespace, evidence=evidence, details=details))
    return findings
