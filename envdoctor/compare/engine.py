"""Compare environments: what differs that matters, why, which side is wrong, and the fix.

Each environment is checked on its own first (the same checks as ``diagnose``); then the
facts are compared dimension by dimension (``knowledge/compare.toml``): the torch build and
its CUDA, GPU support by the build, the driver and its CUDA ceiling, the NumPy ABI, the
Python minor version, then the package families whose releases are bound to each other,
packages present on some sides only, and everything else collapsed into one harmless line.
A side is named wrong where its own check reports an error the others do not have.

With many environments (a cluster's nodes) the environments are grouped by their facts and
each difference names the odd ones out against the majority ("node-17: driver 535.54 where
63 nodes have 550.90").
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from envdoctor.compare.reports import NamedEnvironment
from envdoctor.errors import KnowledgeError
from envdoctor.kb.compat import read_toml
from envdoctor.kb.paths import knowledge_root
from envdoctor.kb.requires import applies, is_extra_only, parse_requirement
from envdoctor.kb.vocabulary import KNOWN_DISTRIBUTIONS
from envdoctor.model import Finding

__all__ = ["Comparison", "Difference", "Rules", "compare_environments", "load_rules"]

LEVELS = ("error", "warning", "harmless")


@dataclass(frozen=True)
class Dimension:
    """One compared fact and what a difference in it means (``knowledge/compare.toml``)."""

    name: str
    fact: str
    level: str
    why: str
    fix: str


@dataclass(frozen=True)
class Rules:
    """The comparison knowledge: dimensions in reporting order, package families, reach."""

    dimensions: tuple[Dimension, ...]
    families: Mapping[str, tuple[str, ...]]
    reach: str


@dataclass(frozen=True)
class Difference:
    """One fact that differs: each environment's value, the majority, the odd ones out."""

    dimension: str
    level: str
    values: Mapping[str, str | None]
    majority: str | None
    odd: tuple[str, ...]
    why: str
    fix: str
    wrong: tuple[str, ...] = ()
    """Environments whose own check has an error the others lack (the side to fix)."""
    findings: tuple[str, ...] = ()
    """Titles of the error findings that make those environments wrong."""


@dataclass(frozen=True)
class Comparison:
    """The outcome: groups of identical environments, differences by importance, findings per side."""

    names: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...]
    differences: tuple[Difference, ...]
    harmless: tuple[Difference, ...]
    only_on: Mapping[str, tuple[Finding, ...]] = field(default_factory=dict)
    """Error findings of each environment that not every environment has."""
    reach: str = ""

    @property
    def matters(self) -> bool:
        """Whether any difference matters (exit 1)."""
        return any(d.level == "error" for d in self.differences) or any(self.only_on.values())


@functools.cache
def load_rules(root: Path | None = None) -> Rules:
    """Read ``knowledge/compare.toml``."""
    path = (root or knowledge_root()) / "compare.toml"
    data = read_toml(path)
    try:
        dimensions = tuple(
            Dimension(str(d["name"]), str(d["fact"]), str(d["level"]), str(d["why"]), str(d.get("fix", "")))
            for d in data["dimension"]
        )
        families = {str(k): tuple(canonicalize_name(str(p)) for p in v) for k, v in data["families"].items()}
    except (KeyError, TypeError) as exc:
        raise KnowledgeError(f"{path}: malformed ({exc})") from None
    bad = [d.name for d in dimensions if d.level not in LEVELS]
    if bad:
        raise KnowledgeError(f"{path}: level must be one of {LEVELS} ({', '.join(bad)})")
    return Rules(dimensions, families, str(data.get("reach", "")))


def _minor(version: str | None) -> str | None:
    if not version:
        return None
    parts = version.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else version


def _comparison_facts(
    named: NamedEnvironment, scalars: Mapping[str, Any], gpus: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The derived facts ``compare.toml`` may name beside the fact vocabulary's."""
    numpy = scalars.get("dist.numpy")
    unsupported = sorted({str(g.get("sm")) for g in gpus if g.get("supported") is False})
    names = Counter(f"{g.get('name')} (sm {g.get('cc')})" for g in gpus)
    return {
        "compare.python_minor": _minor(named.environment.python.version),
        "compare.numpy_abi": None if not numpy else ("2" if str(numpy).split(".")[0] not in ("0", "1") else "1"),
        "compare.unsupported_gpus": ", ".join(unsupported) if unsupported else ("none" if gpus else None),
        "compare.gpus": ", ".join(f"{count}x {name}" for name, count in sorted(names.items())) if gpus else None,
    }


@dataclass
class _Side:
    named: NamedEnvironment
    facts: dict[str, Any]
    versions: dict[str, str]
    errors: tuple[Finding, ...]
    required_by: dict[str, set[str]]
    """distribution -> the installed distributions that require it (plain installs, no extras)."""


def _side(named: NamedEnvironment) -> _Side:
    from envdoctor.diagnosis import check_environment

    diagnosis = check_environment(named.environment)
    scalars = dict(diagnosis.facts.scalars)
    scalars.update(_comparison_facts(named, scalars, diagnosis.facts.collections.get("gpus", ())))
    versions: dict[str, str] = {}
    for dist in named.environment.python.distributions:
        versions.setdefault(dist.key, dist.version)  # the first on sys.path is the one imported
    errors = tuple(f for f in diagnosis.findings if f.severity == "error" and not f.benign)
    required_by: dict[str, set[str]] = {}
    markers = {**named.environment.python.markers, "extra": ""}
    for dist in named.environment.python.distributions:
        for text in dist.requires:
            requirement = None if is_extra_only(text) else parse_requirement(text)
            if requirement is not None and applies(requirement, markers):
                required_by.setdefault(canonicalize_name(requirement.name), set()).add(dist.key)
    return _Side(named, scalars, versions, errors, required_by)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _majority(values: Mapping[str, str | None]) -> tuple[str | None, tuple[str, ...]]:
    """The most common value and the environments that do not have it."""
    counts = Counter(values.values())
    top = counts.most_common()
    if len(top) > 1 and top[0][1] == top[1][1]:
        return None, tuple(values)  # no majority: every environment is listed
    winner = top[0][0]
    return winner, tuple(name for name, value in values.items() if value != winner)


def _wrong(sides: Sequence[_Side], odd: Sequence[str], keys: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Sides whose own error findings name one of ``keys`` (or the odd sides' unique errors)."""
    wrong: list[str] = []
    titles: list[str] = []
    common = set.intersection(*({f.id + f.title for f in s.errors} for s in sides)) if sides else set()
    for side in sides:
        own = [f for f in side.errors if f.id + f.title not in common]
        related = [f for f in own if any(k in f.title.lower() or k in f.cause.lower() for k in keys)]
        if related:
            wrong.append(side.named.name)
            titles.extend(f"{f.id} {f.title}" for f in related)
    return tuple(wrong), tuple(dict.fromkeys(titles))


def _fill(template: str, **values: str | None) -> str:
    text = template
    for key, value in values.items():
        text = text.replace("{" + key + "}", value or "unknown")
    return text


def _dimension_differences(sides: Sequence[_Side], rules: Rules) -> list[Difference]:
    found = []
    for dimension in rules.dimensions:
        values = {s.named.name: _text(s.facts.get(dimension.fact)) for s in sides}
        if len(set(values.values())) < 2:
            continue
        majority, odd = _majority(values)
        keys = [dimension.fact.rpartition(".")[2].replace("_", " "), dimension.name.lower()]
        wrong, titles = _wrong(sides, odd, keys)
        known = sorted(v for v in values.values() if v)
        fix = _fill(
            dimension.fix,
            value=majority or (known[-1] if known else None),
            variant=(majority or "").partition("+")[2] or "same",
            lowest=known[0] if known else None,
        )
        found.append(
            Difference(dimension.name, dimension.level, values, majority, odd, dimension.why, fix, wrong, titles)
        )
    return found


def _family_of(package: str, rules: Rules) -> str | None:
    for family, members in rules.families.items():
        if package in members:
            return family
    return None


def _package_differences(sides: Sequence[_Side], rules: Rules) -> tuple[list[Difference], list[Difference]]:
    matters: list[Difference] = []
    harmless: list[Difference] = []
    packages = sorted({p for s in sides for p in s.versions})
    for package in packages:
        if package == "torch":
            continue  # the torch build dimension covers it
        values = {s.named.name: s.versions.get(package) for s in sides}
        if len(set(values.values())) < 2:
            continue
        majority, odd = _majority(values)
        family = _family_of(package, rules)
        absent = [name for name, value in values.items() if value is None]
        wrong, titles = _wrong(sides, odd, [package, package.replace("-", "_")])
        # who imports it where it is missing: a package installed there that requires it
        lacking = [s for s in sides if s.named.name in absent]
        importers = sorted({q for s in lacking for q in s.required_by.get(package, set())})
        if absent and importers:
            why = (
                f"{package} is missing on {', '.join(absent[:3])}, where {', '.join(importers[:3])} "
                "requires it: importing that fails there."
            )
            level = "error"
        elif absent and package in KNOWN_DISTRIBUTIONS:
            why = f"{package} is installed on some sides only: code that imports it fails where it is missing."
            level = "warning"
        elif absent:
            why = "Installed on some sides only, and nothing installed everywhere requires it."
            level = "harmless"
        elif family is not None:
            why = (
                f"{package} belongs to the {family}, whose releases are bound to each other: "
                "a combination that works on one side can fail to import or load on the other."
            )
            level = "error"
        else:
            why = "Versions differ; no knowledge says this matters."
            level = "harmless"
        if wrong:
            level = "error"
        target = majority or next((v for v in values.values() if v), None)
        fix = (
            f"Install {package} on {', '.join(absent)} (pip install '{package}=={target}')"
            if absent and target and len(absent) < len(values)
            else f"Use one {package} release everywhere: pip install '{package}=={target}'"
            if target
            else ""
        )
        difference = Difference(package, level, values, majority, odd, why, fix, wrong, titles)
        (matters if level != "harmless" else harmless).append(difference)
    return matters, harmless


def compare_environments(environments: Sequence[NamedEnvironment], *, rules: Rules | None = None) -> Comparison:
    """Compare two or more environments (see the module docstring)."""
    rules = rules or load_rules()
    sides = []
    checked: dict[str, _Side] = {}
    for named in environments:
        # identical environments (a cluster's nodes) are checked once
        fingerprint = named.fingerprint or repr(dataclasses.replace(named.environment, collected_at=None))
        first = checked.get(fingerprint)
        if first is None:
            first = checked[fingerprint] = _side(named)
        sides.append(_Side(named, first.facts, first.versions, first.errors, first.required_by))
    differences = _dimension_differences(sides, rules)
    packages, harmless = _package_differences(sides, rules)
    differences.extend(packages)
    harmless.extend(d for d in differences if d.level == "harmless")
    differences = [d for d in differences if d.level != "harmless"]
    order = {level: i for i, level in enumerate(LEVELS)}
    dimensions = {d.name: i for i, d in enumerate(rules.dimensions)}
    differences.sort(
        key=lambda d: (
            order[d.level],
            dimensions.get(d.dimension, len(dimensions)),  # the build and host first, as listed
            0 if d.wrong else 1,  # then what a side's own check blames
            0 if _family_of(d.dimension, rules) else 1,  # then bound families
        )
    )
    common = set.intersection(*({f.id + f.title for f in s.errors} for s in sides)) if sides else set()
    only_on = {
        s.named.name: tuple(f for f in s.errors if f.id + f.title not in common)
        for s in sides
        if any(f.id + f.title not in common for f in s.errors)
    }
    return Comparison(
        names=tuple(s.named.name for s in sides),
        groups=_groups(sides, differences),
        differences=tuple(differences),
        harmless=tuple(harmless),
        only_on=only_on,
        reach=rules.reach,
    )


def _groups(sides: Sequence[_Side], differences: Sequence[Difference]) -> tuple[tuple[str, ...], ...]:
    """Environments alike in every difference that is not harmless, largest group first."""
    buckets: dict[tuple[str | None, ...], list[str]] = {}
    for side in sides:
        key = tuple(d.values.get(side.named.name) for d in differences)
        buckets.setdefault(key, []).append(side.named.name)
    return tuple(sorted((tuple(v) for v in buckets.values()), key=lambda g: (-len(g), g)))
