"""Knowledge that package metadata lacks, as constraints with reasons.

Given a set of versions (installed, requested or proposed by the resolver), :func:`rules_for`
returns every rule that applies to it: torch and its family built for one release,
NumPy-1 builds that need ``numpy<2``, OpenMMLab's import-time asserts (mmdet needs an mmcv
it never declares), releases that import an API a newer dependency removed
(``knowledge/resolve/removed_apis.toml``), and the import-time bounds the probe read from
installed sources. :func:`violated` says which of them a resolution breaks; the solver adds
those as constraints and resolves again. :func:`source_build` says what building a
wheel-less pin needs (``knowledge/resolve/source_builds.toml``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from envdoctor.errors import KnowledgeError
from envdoctor.kb.compat import Compat, read_toml
from envdoctor.model import ImportBound

__all__ = [
    "Rule",
    "RemovedApi",
    "SourceBuild",
    "Knowledge",
    "load_knowledge",
    "rules_for",
    "violated",
    "as_versions",
]

RuleKind = Literal["compat", "removed-api", "import-bound", "check", "finding", "keep", "pip-config"]


@dataclass(frozen=True)
class Rule:
    """One constraint and why: ``numpy<2`` because ``torch 2.1.0 is built against NumPy 1``.

    ``adds`` marks a package the rule's owner imports without declaring it (mmdet -> mmcv):
    it is a requirement, not only a constraint.
    """

    requirement: str
    reason: str
    source: str
    kind: RuleKind
    adds: bool = False

    @property
    def name(self) -> str:
        return str(canonicalize_name(Requirement(self.requirement).name))

    @property
    def specifier(self) -> SpecifierSet:
        return Requirement(self.requirement).specifier

    def describe(self) -> str:
        """``torch 2.1.0 is built against NumPy 1: numpy<2 (knowledge/compat/torch.toml)``."""
        return f"{self.reason}: {self.requirement}" + (f" ({self.source})" if self.source else "")


@dataclass(frozen=True)
class RemovedApi:
    """Releases of ``package`` that import an API that ``dependency`` outside ``requires`` lacks."""

    package: str
    versions: SpecifierSet
    dependency: str
    requires: SpecifierSet
    api: str
    entry: str
    source: str


@dataclass(frozen=True)
class SourceBuild:
    """What building a package from its sdist needs, and how it tends to fail."""

    name: str
    needs: str
    fails: str
    versions: SpecifierSet = field(default_factory=SpecifierSet)
    hint: str = ""
    source: str = ""


@dataclass(frozen=True)
class Knowledge:
    """The tables resolution reads: compat, removed APIs, source builds."""

    compat: Compat
    removed_apis: tuple[RemovedApi, ...] = ()
    source_builds: tuple[SourceBuild, ...] = ()

    def source_build(self, name: str, version: Version) -> SourceBuild | None:
        """What building ``name`` ``version`` from source needs, if recorded."""
        key = canonicalize_name(name)
        return next(
            (b for b in self.source_builds if b.name == key and b.versions.contains(version, prereleases=True)), None
        )


def _spec(row: Mapping[str, object], key: str, path: Path) -> SpecifierSet:
    try:
        return SpecifierSet(str(row.get(key, "")))
    except InvalidSpecifier as exc:
        raise KnowledgeError(f"{path}: bad {key} {row.get(key)!r}: {exc}") from exc


def _removed_apis(path: Path) -> tuple[RemovedApi, ...]:
    if not path.is_file():
        return ()
    out = []
    for row in read_toml(path).get("caller", []):
        try:
            out.append(
                RemovedApi(
                    package=canonicalize_name(row["package"]),
                    versions=_spec(row, "versions", path),
                    dependency=canonicalize_name(row["dependency"]),
                    requires=_spec(row, "requires", path),
                    api=row["api"],
                    entry=row.get("entry", ""),
                    source=row["source"],
                )
            )
        except (KeyError, TypeError) as exc:
            raise KnowledgeError(f"{path}: bad [[caller]] row {row!r}: missing {exc}") from exc
    return tuple(out)


def _source_builds(path: Path) -> tuple[SourceBuild, ...]:
    if not path.is_file():
        return ()
    out = []
    for row in read_toml(path).get("build", []):
        try:
            out.append(
                SourceBuild(
                    name=canonicalize_name(row["name"]),
                    needs=row["needs"],
                    fails=row.get("fails", ""),
                    versions=_spec(row, "versions", path),
                    hint=row.get("hint", ""),
                    source=row.get("source", ""),
                )
            )
        except (KeyError, TypeError) as exc:
            raise KnowledgeError(f"{path}: bad [[build]] row {row!r}: missing {exc}") from exc
    return tuple(out)


@functools.cache
def load_knowledge(root: Path | None = None) -> Knowledge:
    """Compat tables and ``knowledge/resolve/*.toml`` under the knowledge root."""
    from envdoctor.kb.compat import load_compat
    from envdoctor.kb.loader import knowledge_root

    base = root or knowledge_root()
    folder = base / "resolve"
    return Knowledge(
        compat=load_compat(base),
        removed_apis=_removed_apis(folder / "removed_apis.toml"),
        source_builds=_source_builds(folder / "source_builds.toml"),
    )


def as_versions(pins: Mapping[str, str]) -> dict[str, Version]:
    """Canonical name -> parsed version; unreadable versions are left out."""
    out: dict[str, Version] = {}
    for name, text in pins.items():
        try:
            out[canonicalize_name(name)] = Version(text)
        except ValueError:  # InvalidVersion, or a release number int() refuses
            continue
    return out


def _public(version: Version) -> Version:
    return Version(version.public)


def rules_for(
    versions: Mapping[str, Version],
    knowledge: Knowledge,
    *,
    import_bounds: Iterable[ImportBound] = (),
    installed: Mapping[str, Version] | None = None,
) -> list[Rule]:
    """Every rule that applies to the packages in ``versions`` (canonical names)."""
    compat = knowledge.compat
    rules: list[Rule] = []
    torch_table = "knowledge/compat/torch.toml"
    torch = versions.get("torch")
    if torch is not None:
        for family, expected in (
            ("torchvision", compat.expected_torchvision(torch)),
            ("torchaudio", compat.expected_torchaudio(torch)),
        ):
            if family in versions and expected is not None:
                rules.append(
                    Rule(f"{family}{expected}", f"torch {torch} pairs with {family}{expected}", torch_table, "compat")
                )
    if "numpy" in versions:
        for name, version in versions.items():
            if name == "numpy":
                continue
            row = compat.numpy2_row(name)
            if row is not None and _public(version) < row.numpy2_from:
                rules.append(Rule("numpy<2", f"{name} {version} is built against NumPy 1", row.source, "compat"))
        if torch is not None:
            release = compat.torch_release(torch)
            if release is not None and release.numpy_abi == 1:
                rules.append(Rule("numpy<2", f"torch {torch} is built against NumPy 1", torch_table, "compat"))
    for name, version in versions.items():
        bounds = compat.bounds(name, version)
        if bounds is not None:
            where = f"{name}/__init__.py asserts on import (knowledge/compat/openmmlab.toml)"
            mmcv = "mmcv-full" if "mmcv-full" in versions and "mmcv" not in versions else "mmcv"
            rules.append(
                Rule(f"{mmcv}{bounds.mmcv_specifier}", f"{name} {version} imports {mmcv}", where, "compat", True)
            )
            if bounds.mmengine_specifier is not None:
                rules.append(
                    Rule(
                        f"mmengine{bounds.mmengine_specifier}",
                        f"{name} {version} imports mmengine",
                        where,
                        "compat",
                        True,
                    )
                )
        if name in ("mmcv", "mmcv-full"):
            floor = compat.mmcv_mmengine_floor(version)
            if floor is not None:
                rules.append(
                    Rule(
                        f"mmengine>={floor}",
                        f"{name} {version} runs on mmengine",
                        "knowledge/compat/openmmlab.toml",
                        "compat",
                        True,
                    )
                )
        for caller in knowledge.removed_apis:
            applies = caller.package == name and caller.versions.contains(_public(version), prereleases=True)
            if applies and caller.dependency in versions:
                reason = f"{name} {version} imports {caller.api}"
                if caller.entry:
                    reason += f"; see `envdoctor explain {caller.entry}`"
                rules.append(Rule(f"{caller.dependency}{caller.requires}", reason, caller.source, "removed-api"))
    kept = installed or {}
    for bound in import_bounds:
        owner = canonicalize_name(bound.package)
        if owner not in versions or kept.get(owner) != versions[owner]:
            continue  # the bound was read from the installed source, which is being replaced
        try:
            req = Requirement(bound.requirement)
        except InvalidRequirement:
            continue
        dependency = canonicalize_name(req.name)
        if dependency == "python" or not str(req.specifier) or dependency not in versions:
            continue
        rules.append(
            Rule(
                f"{dependency}{req.specifier}",
                f"{owner} {versions[owner]} checks {dependency} on import",
                bound.source,
                "import-bound",
            )
        )
    return rules


def violated(rules: Iterable[Rule], versions: Mapping[str, Version]) -> list[Rule]:
    """The rules that ``versions`` breaks (a missing package breaks only a rule that adds it)."""
    out = []
    for rule in rules:
        version = versions.get(rule.name)
        if version is None:
            if rule.adds:
                out.append(rule)
            continue
        if not rule.specifier.contains(_public(version), prereleases=True) and not rule.specifier.contains(
            version, prereleases=True
        ):
            out.append(rule)
    return out
