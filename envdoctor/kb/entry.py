"""The knowledge entry: one TOML file in ``knowledge/entries/``, named after its id.

An entry is data, in the shape of a ruff rule doc: a stable code (``HF101``) and a
kebab-case name, what it means, why it happens, the fix and how safe the fix is, and
references to the upstream issue or PR that established it. It says how it is
recognised, in one or more of three ways:

* ``[match]`` regex ``patterns`` searched in each logical line of a triaged log;
* ``[match.keys]`` regexes over state-dict key names (``side`` = unexpected, missing,
  mismatch or any) or a built-in key ``analyzer`` (prefix, wrapped, config-variant,
  shape) whose text lives here;
* ``[[when]]`` fact conditions (PEP 440 specifiers and comparisons over probe facts),
  evaluated by ``diagnose``, optionally once per item of a collection (``each``), and
  ``[[case]]`` alternatives (each with its own ``when`` list and ``facts`` it sets as
  ``case.<name>``); an entry may have both log patterns and conditions, and then serves
  ``triage`` and ``diagnose`` alike.

``[match] lookup = "NAME"`` turns a match's captures into facts read from a generated table
(:mod:`envdoctor.kb.lookups`); the entry fires only where the lookup explains the capture.
``[match] when`` / ``unless`` gate a log match on facts (a match counts only where ``when``
holds, and never where ``unless`` holds). ``[sources]`` cites every version boundary the
entry states (a fix pin or a ``spec`` condition): ``"huggingface-hub<0.26" = "URL or file@tag"``.
Every fact and ``{placeholder}`` an entry names must be declared (:mod:`envdoctor.kb.vocabulary`);
``{a|b}`` takes the first known of its alternatives (``{match.name|case.name}``: the log's
capture in triage, the case's fact in diagnose).

Parsing never raises on the first problem: :func:`parse_entry` returns the entry and a
list of problems so the lint test can report every broken entry in one run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from envdoctor.model import AREAS, CATEGORIES, SEVERITIES, Severity

__all__ = [
    "ID_PATTERN",
    "NAME_PATTERN",
    "KEY_SIDES",
    "ANALYZERS",
    "COLLECTIONS",
    "CONDITION_OPS",
    "Condition",
    "Note",
    "KeyMatch",
    "Case",
    "Entry",
    "parse_entry",
]

ID_PATTERN = re.compile(r"^[A-Z]{2,5}[0-9]{3}$")
NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
KEY_SIDES = ("unexpected", "missing", "mismatch", "any")
#: Built-in state-dict analyzers an entry may name; the algorithm is code, the text is data.
ANALYZERS = ("prefix", "wrapped", "config-variant", "shape", "tied", "residual")
#: Collections a diagnose check may iterate over with ``each``.
COLLECTIONS = (
    "gpus",
    "requirement_violations",
    "import_bound_violations",
    "duplicates",
    "numpy1_builds",
    "torch_family_mismatches",
    "ld_shadows",
    "missing_extensions",
    "unknown_facts",
    "broken_metadata",
    "torch_variant_mismatches",
    "missing_record",
    "import_failures",
    "api_conflicts",
)
CONDITION_OPS = (
    "present",
    "spec",
    "equals",
    "not_equals",
    "one_of",
    "contains",
    "gt_fact",
    "ge_fact",
    "lt_fact",
    "le_fact",
    "eq_fact",
    "ne_fact",
)
_TEMPLATE = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True)
class Condition:
    """One fact condition: ``fact`` plus exactly one operator.

    ``spec`` tests a version fact against a PEP 440 specifier set; ``*_fact`` operators
    compare two version facts; ``present`` tests that a fact is known and truthy.
    """

    fact: str
    op: str
    value: Any


@dataclass(frozen=True)
class Note:
    """A remark added to a finding when its conditions hold (e.g. which version is installed)."""

    when: tuple[Condition, ...]
    text: str


#: Kinds of shape mismatch the ``shape`` analyzer decodes.
SHAPE_KINDS = ("classes", "vocab", "grid", "hidden", "any")

#: Typed analyzer parameters: which ``[match.keys]`` fields each analyzer reads.
ANALYZER_PARAMS: Mapping[str | None, frozenset[str]] = {
    None: frozenset({"output_note"}),
    "prefix": frozenset({"prefixes"}),
    "wrapped": frozenset({"containers", "top_level_keys", "prefixes"}),
    "config-variant": frozenset(),
    "shape": frozenset({"shape_kind", "known_sizes", "image_note"}),
    "tied": frozenset({"tie_sources"}),
    "residual": frozenset(),
}


@dataclass(frozen=True)
class KeyMatch:
    """How an entry recognises state-dict keys, with its analyzer's typed parameters."""

    side: str = "any"
    patterns: tuple[re.Pattern[str], ...] = ()
    analyzer: str | None = None
    unless_siblings: tuple[str, ...] = ()
    """Leaf names: a key does not match when a sibling (same module) with one of these
    names is on the same side, e.g. ``num_batches_tracked`` is only drift when the
    module's ``running_mean`` loads normally."""
    prefixes: tuple[str, ...] = ()
    """``prefix``: the wrapper prefixes this entry names; ``wrapped``: dotted containers."""
    containers: tuple[str, ...] = ()
    """``wrapped``: top-level keys that hold the real state dict (``state_dict``, ``model``)."""
    top_level_keys: tuple[str, ...] = ()
    """``wrapped``: keys a training dict has beside the state dict (``optimizer``, ``epoch``)."""
    shape_kind: str = "any"
    """``shape``: which dimension change this entry explains (:data:`SHAPE_KINDS`)."""
    known_sizes: Mapping[str, str] = field(default_factory=dict)
    """``shape``: well-known sizes and their names (``1000`` = ImageNet-1k)."""
    image_note: str = ""
    """``shape`` with ``grid``: note on the image size, filled from ``grid.*``."""
    output_note: str = ""
    """Note on the encoder's output shape when a position grid is decoded."""
    tie_sources: tuple[str, ...] = ()
    """``tied``: embedding leaf names an output head is tied to."""


@dataclass(frozen=True)
class Case:
    """One alternative of a check: its conditions and the facts it sets (``case.<name>``)."""

    when: tuple[Condition, ...]
    facts: Mapping[str, str]


@dataclass(frozen=True)
class Entry:
    """One knowledge entry (see the module docstring for the TOML shape)."""

    id: str
    name: str
    title: str
    category: str
    severity: Severity
    benign: bool
    area: str
    what: str
    why: str
    cause: str
    fix_steps: tuple[str, ...] = ()
    fix_constraints: tuple[str, ...] = ()
    fix_optional: bool = False
    fix_safety: str = ""
    references: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    match_when: tuple[Condition, ...] = ()
    match_unless: tuple[Condition, ...] = ()
    lookup: str | None = None
    """A named lookup (:mod:`envdoctor.kb.lookups`) that derives facts from the match."""
    keys: KeyMatch | None = None
    when: tuple[Condition, ...] = ()
    each: str | None = None
    cases: tuple[Case, ...] = ()
    evidence: tuple[str, ...] = ()
    notes: tuple[Note, ...] = ()
    priority: int = 50
    explains: tuple[str, ...] = ()
    """Entry ids or categories this entry's problem causes (for ordering findings)."""
    sources: Mapping[str, str] = field(default_factory=dict)
    """Version boundary (a pin or ``fact<spec``) -> where it is established."""
    source_path: str = ""

    @property
    def is_check(self) -> bool:
        """True when ``diagnose`` evaluates this entry (it has fact conditions or cases)."""
        return bool(self.when or self.each or self.cases)

    @property
    def is_symptom(self) -> bool:
        """True when triage can recognise this entry in a log."""
        return bool(self.patterns) or self.keys is not None


_KNOWN_KEYS = {
    "id", "name", "title", "category", "severity", "benign", "area", "what", "why",
    "cause", "fix", "references", "match", "when", "each", "case", "evidence", "note", "priority",
    "explains", "sources",
}  # fmt: skip


def _strings(value: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where} must be a list of strings")
        return ()
    return tuple(value)


def _compile(patterns: tuple[str, ...], where: str, problems: list[str]) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            problems.append(f"{where}: regex {pattern!r} does not compile: {exc}")
    return tuple(compiled)


def _conditions(value: Any, where: str, problems: list[str]) -> tuple[Condition, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(f"{where} must be an array of tables ([[{where}]])")
        return ()
    conditions = []
    for index, table in enumerate(value):
        label = f"{where}[{index}]"
        if not isinstance(table, dict) or not isinstance(table.get("fact"), str):
            problems.append(f"{label} needs a string 'fact'")
            continue
        ops = [k for k in table if k != "fact"]
        if len(ops) != 1 or ops[0] not in CONDITION_OPS:
            problems.append(f"{label} needs exactly one operator of {', '.join(CONDITION_OPS)}")
            continue
        op = ops[0]
        if op == "spec":
            try:
                SpecifierSet(str(table[op]))
            except InvalidSpecifier:
                problems.append(f"{label}: specifier {table[op]!r} does not parse")
                continue
        conditions.append(Condition(table["fact"], op, table[op]))
    return tuple(conditions)


def _key_match(
    table: Mapping[str, Any],
    side: str,
    patterns: tuple[re.Pattern[str], ...],
    analyzer: str | None,
    problems: list[str],
) -> KeyMatch:
    base = {"side", "patterns", "analyzer", "unless_siblings"}
    allowed = ANALYZER_PARAMS.get(analyzer, frozenset()) | ANALYZER_PARAMS[None]
    unknown = set(table) - base - allowed
    if unknown:
        problems.append(f"match.keys: fields {sorted(unknown)} are not parameters of analyzer {analyzer or 'none'}")
    shape_kind = table.get("shape_kind", "any")
    if shape_kind not in SHAPE_KINDS:
        problems.append(f"match.keys.shape_kind must be one of {SHAPE_KINDS}")
        shape_kind = "any"
    known = table.get("known_sizes", {})
    if not isinstance(known, dict) or not all(isinstance(v, str) for v in known.values()):
        problems.append('match.keys.known_sizes must be a table of size = "name"')
        known = {}
    notes = {}
    for name in ("image_note", "output_note"):
        value = table.get(name, "")
        if not isinstance(value, str):
            problems.append(f"match.keys.{name} must be a string")
            value = ""
        notes[name] = value
    return KeyMatch(
        side=side,
        patterns=patterns,
        analyzer=analyzer,
        unless_siblings=_strings(table.get("unless_siblings"), "match.keys.unless_siblings", problems),
        prefixes=_strings(table.get("prefixes"), "match.keys.prefixes", problems),
        containers=_strings(table.get("containers"), "match.keys.containers", problems),
        top_level_keys=_strings(table.get("top_level_keys"), "match.keys.top_level_keys", problems),
        shape_kind=str(shape_kind),
        known_sizes={str(k): str(v) for k, v in known.items()},
        image_note=notes["image_note"],
        output_note=notes["output_note"],
        tie_sources=_strings(table.get("tie_sources"), "match.keys.tie_sources", problems),
    )


def _cases(value: Any, problems: list[str]) -> tuple[Case, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append("case must be an array of tables ([[case]])")
        return ()
    cases = []
    for index, table in enumerate(value):
        label = f"case[{index}]"
        if not isinstance(table, dict):
            problems.append(f"{label} must be a table")
            continue
        unknown = set(table) - {"when", "facts"}
        if unknown:
            problems.append(f"{label}: unknown fields {sorted(unknown)}")
        when = _conditions(table.get("when"), f"{label}.when", problems)
        if not when:
            problems.append(f"{label} needs a non-empty `when` list")
        facts = table.get("facts", {})
        if not isinstance(facts, dict) or not all(isinstance(v, str) for v in facts.values()):
            problems.append(f'{label}.facts must be a table of name = "text"')
            facts = {}
        cases.append(Case(when, {str(k): str(v) for k, v in facts.items()}))
    return tuple(cases)


def parse_entry(data: Mapping[str, Any], source_path: str = "") -> tuple[Entry | None, list[str]]:
    """Validate one entry's TOML table; return the entry (if usable) and every problem."""
    problems: list[str] = []
    for key in data:
        if key not in _KNOWN_KEYS:
            problems.append(f"unknown field {key!r}")
    for key in ("id", "name", "title", "category", "severity", "what", "why", "cause"):
        if not isinstance(data.get(key), str) or not data.get(key):
            problems.append(f"missing or empty string field {key!r}")
    if problems and any(p.startswith("missing") for p in problems):
        return None, problems
    entry_id = data["id"]
    if not ID_PATTERN.match(entry_id):
        problems.append(f"id {entry_id!r} must look like ABC123")
    if not NAME_PATTERN.match(data["name"]):
        problems.append(f"name {data['name']!r} must be kebab-case")
    if data["category"] not in CATEGORIES:
        problems.append(f"unknown category {data['category']!r}")
    if data["severity"] not in SEVERITIES:
        problems.append(f"severity must be one of {SEVERITIES}")
    benign = data.get("benign", False)
    if not isinstance(benign, bool):
        problems.append("benign must be true or false")
        benign = False
    if benign and data["severity"] == "error":
        problems.append("an error cannot be benign")
    area = data.get("area", "python")
    if area not in AREAS:
        problems.append(f"unknown area {area!r}; one of {', '.join(AREAS)}")

    fix = data.get("fix", {})
    if not isinstance(fix, dict):
        problems.append("fix must be a table")
        fix = {}
    constraints = _strings(fix.get("constraints"), "fix.constraints", problems)
    for requirement in constraints:
        if _TEMPLATE.search(requirement):
            continue  # filled from facts at evaluation time
        try:
            Requirement(requirement)
        except InvalidRequirement as exc:
            problems.append(f"fix.constraints: {requirement!r} is not PEP 508: {exc}")
    fix_optional = fix.get("optional", False)
    if not isinstance(fix_optional, bool):
        problems.append("fix.optional must be true or false")
        fix_optional = False
    unknown_fix = set(fix) - {"steps", "constraints", "optional", "safety"}
    if unknown_fix:
        problems.append(f"unknown fix fields {sorted(unknown_fix)}")

    references = _strings(data.get("references"), "references", problems)
    for url in references:
        if not url.startswith("https://"):
            problems.append(f"reference {url!r} must be an https URL")

    match = data.get("match", {})
    if not isinstance(match, dict):
        problems.append("match must be a table")
        match = {}
    patterns = _compile(_strings(match.get("patterns"), "match.patterns", problems), "match.patterns", problems)
    exclude = _compile(_strings(match.get("exclude"), "match.exclude", problems), "match.exclude", problems)
    keys: KeyMatch | None = None
    if "keys" in match:
        table = match["keys"]
        if not isinstance(table, dict):
            problems.append("match.keys must be a table")
        else:
            side = table.get("side", "any")
            if side not in KEY_SIDES:
                problems.append(f"match.keys.side must be one of {KEY_SIDES}")
            analyzer = table.get("analyzer")
            if analyzer is not None and analyzer not in ANALYZERS:
                problems.append(f"match.keys.analyzer must be one of {ANALYZERS}")
            key_patterns = _compile(
                _strings(table.get("patterns"), "match.keys.patterns", problems), "match.keys.patterns", problems
            )
            if not key_patterns and analyzer is None:
                problems.append("match.keys needs patterns or an analyzer")
            keys = _key_match(table, side, key_patterns, analyzer, problems)
    match_when = _conditions(match.get("when"), "match.when", problems)
    match_unless = _conditions(match.get("unless"), "match.unless", problems)
    if (match_when or match_unless) and not patterns:
        problems.append("match.when/unless gate log patterns: give [match] patterns")
    lookup = match.get("lookup")
    if lookup is not None:
        from envdoctor.kb.lookups import known_lookups

        if not isinstance(lookup, str) or lookup not in known_lookups():
            problems.append(f"match.lookup {lookup!r} is not a registered lookup ({', '.join(known_lookups())})")
            lookup = None
        elif not patterns:
            problems.append("match.lookup reads a log match: give [match] patterns")
    unknown_match = set(match) - {"patterns", "exclude", "keys", "when", "unless", "lookup"}
    if unknown_match:
        problems.append(f"unknown match fields {sorted(unknown_match)}")

    when = _conditions(data.get("when"), "when", problems)
    cases = _cases(data.get("case"), problems)
    each = data.get("each")
    if each is not None and each not in COLLECTIONS:
        problems.append(f"each must be one of {COLLECTIONS}")
    notes = []
    raw_notes = data.get("note", [])
    if not isinstance(raw_notes, list):
        problems.append("note must be an array of tables ([[note]])")
        raw_notes = []
    for index, raw in enumerate(raw_notes):
        if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
            problems.append(f"note[{index}] needs a string 'text'")
            continue
        notes.append(Note(_conditions(raw.get("when", []), f"note[{index}].when", problems), raw["text"]))
    item_facts = [c.fact for c in when if c.fact.startswith("item.")]
    if item_facts and each is None:
        problems.append(f"conditions on {', '.join(item_facts)} need `each` to name a collection")
    if not patterns and keys is None and not when and each is None and not cases:
        problems.append("entry is never recognised: give [match] patterns, [match.keys], [[when]] or [[case]]")
    priority = data.get("priority", 50)
    if not isinstance(priority, int) or isinstance(priority, bool):
        problems.append("priority must be an integer")
        priority = 50
    explains = _strings(data.get("explains"), "explains", problems)
    sources = data.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(v, str) and v.strip() for v in sources.values()):
        problems.append('sources must be a table of boundary = "where it is established"')
        sources = {}

    entry = Entry(
        id=entry_id,
        name=data["name"],
        title=data["title"],
        category=data["category"],
        severity=data["severity"] if data["severity"] in SEVERITIES else "error",
        benign=benign,
        area=area if area in AREAS else "python",
        what=data["what"].strip(),
        why=data["why"].strip(),
        cause=data["cause"].strip(),
        fix_steps=_strings(fix.get("steps"), "fix.steps", problems),
        fix_constraints=constraints,
        fix_optional=fix_optional,
        fix_safety=str(fix.get("safety", "")).strip(),
        references=references,
        patterns=patterns,
        exclude=exclude,
        match_when=match_when,
        match_unless=match_unless,
        lookup=lookup,
        keys=keys,
        when=when,
        each=each,
        cases=cases,
        evidence=_strings(data.get("evidence"), "evidence", problems),
        notes=tuple(notes),
        priority=priority,
        explains=explains,
        sources={str(k): str(v) for k, v in sources.items()},
        source_path=source_path,
    )
    return entry, problems
