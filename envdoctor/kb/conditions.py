"""Evaluate fact conditions and fill ``{fact}`` templates against a flat fact namespace.

A namespace maps dotted fact names (``dist.transformers``, ``torch.cuda``,
``host.driver_max_cuda``, ``item.requirement``) to plain values: strings, numbers,
booleans, tuples, or ``None`` for unknown. Version facts stay strings and are parsed
here with :mod:`packaging`, never compared as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from envdoctor.kb.entry import Condition
from envdoctor.model import parse_version

__all__ = ["Namespace", "holds", "all_hold", "fill", "as_version"]

Namespace = Mapping[str, Any]
#: ``{fact}``, or ``{fact|other}``: the first of the alternatives that is known (an entry read
#: from a log in triage and from facts in diagnose names the same thing two ways).
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.\-]*(?:\|[A-Za-z_][\w.\-]*)*)\}")


def as_version(value: Any) -> Version | None:
    """A fact as a :class:`Version`; ``None`` when unknown or not a version."""
    if value is None or isinstance(value, bool):
        return None
    return parse_version(str(value))


def _public(version: Version) -> Version:
    # "2.1.0+cu121" satisfies ">=2.1" already, but "==2.1.0" should also match a local
    # build: compare on the public part, as pip does for installed local versions.
    return Version(version.public)


def holds(condition: Condition, facts: Namespace) -> bool:
    """Whether one condition holds. An unknown fact makes every operator but ``present`` false."""
    value = facts.get(condition.fact)
    op, expected = condition.op, condition.value
    if op == "present":
        known = value is not None and value is not False and value != () and value != ""
        return known is bool(expected)
    if value is None:
        return False
    if op == "spec":
        version = as_version(value)
        if version is None:
            return False
        try:
            specifier = SpecifierSet(str(expected))
        except InvalidSpecifier:
            return False
        return specifier.contains(_public(version), prereleases=True)
    if op == "equals":
        return bool(value == expected)
    if op == "not_equals":
        return bool(value != expected)
    if op == "one_of":
        return value in expected
    if op == "contains":
        return isinstance(value, (list, tuple, set, frozenset)) and expected in value
    other = as_version(facts.get(str(expected)))
    mine = as_version(value)
    if other is None or mine is None:
        return False
    comparisons = {
        "gt_fact": mine > other,
        "ge_fact": mine >= other,
        "lt_fact": mine < other,
        "le_fact": mine <= other,
        "eq_fact": mine == other,
        "ne_fact": mine != other,
    }
    return comparisons[op]


def all_hold(conditions: Iterable[Condition], facts: Namespace) -> bool:
    """Whether every condition holds (true for no conditions)."""
    return all(holds(c, facts) for c in conditions)


def _show(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v) for v in value) if value else "none"
    return str(value)


def fill(template: str, facts: Namespace) -> str:
    """Replace ``{dotted.fact}`` (or ``{a|b}``: the first known) placeholders; unknown facts read "unknown"."""

    def value(match: re.Match[str]) -> str:
        for name in match.group(1).split("|"):
            known = facts.get(name)
            if known is not None:
                return _show(known)
        return _show(None)

    return _PLACEHOLDER.sub(value, template)
