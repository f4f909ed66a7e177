"""The committed package index: releases, requirements and wheel tags that resolution reads.

``knowledge/index/<name>.json`` (written by ``scripts/refresh_index.py`` from PyPI) holds,
per release, ``Requires-Python``, the base ``Requires-Dist``, the bounds its extras put on
curated packages, the wheel tags per platform family, whether an sdist exists and whether
it is yanked. Two hand-written tables sit beside them: ``source_builds.toml`` (what
building a package from source needs, so a wheel-less pin is never proposed silently) and
``import_checks.toml`` (the packages a library version-checks when imported, which pip
cannot see). Files are parsed on first use, one package at a time, so resolving a few
names never reads the whole index.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envdoctor.errors import KnowledgeError
from envdoctor.kb.compat import read_toml
from envdoctor.resolve.wheels import TargetPlatform, compatible

__all__ = [
    "Release",
    "SourceBuild",
    "ImportCheck",
    "PackageIndex",
    "index_root",
    "load_index",
]


@dataclass(frozen=True)
class Release:
    """One release of one package as the index describes it."""

    name: str
    version: Version
    requires_python: SpecifierSet | None
    requires_dist: tuple[str, ...] | None
    extras_bounds: Mapping[str, str]
    wheels: tuple[str, ...]
    sdist: bool
    yanked: bool
    uploaded: str

    def has_wheel(self, target: TargetPlatform) -> bool:
        """Whether pip finds a wheel of this release for ``target``."""
        return compatible(self.wheels, target)

    def python_ok(self, target: TargetPlatform) -> bool:
        """Whether ``Requires-Python`` admits the target interpreter."""
        if self.requires_python is None:
            return True
        return self.requires_python.contains(target.python_full_version or f"{target.python_version}.0")


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
class ImportCheck:
    """Packages a library checks against its own version table when it is imported."""

    package: str
    versions: SpecifierSet
    checks: tuple[str, ...]
    only_if_installed: tuple[str, ...]
    table: str
    source: str


def index_root() -> Path:
    """``knowledge/index`` of the knowledge root (checkout or installed wheel)."""
    from envdoctor.kb.loader import knowledge_root

    return knowledge_root() / "index"


class PackageIndex:
    """Read-only view of ``knowledge/index``; releases are parsed on first request."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._releases: dict[str, tuple[Release, ...] | None] = {}
        self._refreshed: dict[str, Any] | None = None
        self.source_builds: Mapping[str, tuple[SourceBuild, ...]] = _source_builds(root / "source_builds.toml")
        self.import_checks: tuple[ImportCheck, ...] = _import_checks(root / "import_checks.toml")

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.releases(name) is not None

    def names(self) -> tuple[str, ...]:
        """Every package the index knows, canonical names, sorted."""
        return tuple(sorted(p.stem for p in self.root.glob("*.json")))

    def releases(self, name: str) -> tuple[Release, ...] | None:
        """Releases of ``name``, oldest first; ``None`` if the index does not know it."""
        key = canonicalize_name(name)
        if key not in self._releases:
            self._releases[key] = self._load(key)
        return self._releases[key]

    def release(self, name: str, version: Version) -> Release | None:
        """One release, matched on the public version (``2.1.0+cu121`` finds ``2.1.0``)."""
        public = Version(version.public)
        for release in self.releases(name) or ():
            if release.version == public:
                return release
        return None

    def source_build(self, name: str, version: Version) -> SourceBuild | None:
        """What building ``name`` ``version`` from source needs, if recorded."""
        for build in self.source_builds.get(canonicalize_name(name), ()):
            if build.versions.contains(version, prereleases=True):
                return build
        return None

    def checks_for(self, package: str, version: Version) -> ImportCheck | None:
        """The import-time check list of ``package`` at ``version``, if recorded."""
        key = canonicalize_name(package)
        for check in self.import_checks:
            if check.package == key and check.versions.contains(version, prereleases=True):
                return check
        return None

    @property
    def refreshed(self) -> Mapping[str, Any]:
        """``REFRESHED.toml``: when and how the index was last refreshed."""
        if self._refreshed is None:
            path = self.root / "REFRESHED.toml"
            self._refreshed = read_toml(path) if path.is_file() else {}
        return self._refreshed

    def _load(self, key: str) -> tuple[Release, ...] | None:
        path = self.root / f"{key}.json"
        if not path.is_file():
            return None
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            releases = (_release(key, v, r) for v, r in document["releases"].items())
            return tuple(sorted(releases, key=lambda r: r.version))
        except (OSError, ValueError, KeyError, TypeError, InvalidVersion, InvalidSpecifier) as exc:
            raise KnowledgeError(f"{path}: malformed package index file: {exc}") from exc


def _release(name: str, version: str, record: Mapping[str, Any]) -> Release:
    requires_python = record.get("requires_python")
    requires = record.get("requires_dist")
    return Release(
        name=name,
        version=Version(version),
        requires_python=_lenient_specifier(requires_python),
        requires_dist=None if requires is None else tuple(requires),
        extras_bounds=dict(record.get("extras_bounds") or {}),
        wheels=tuple(record.get("wheels") or ()),
        sdist=bool(record.get("sdist")),
        yanked=bool(record.get("yanked")),
        uploaded=str(record.get("uploaded") or ""),
    )


def _lenient_specifier(text: str | None) -> SpecifierSet | None:
    """Requires-Python as pip reads it; a few old releases carry junk, which pip ignores."""
    if not text:
        return None
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def _source_builds(path: Path) -> dict[str, tuple[SourceBuild, ...]]:
    if not path.is_file():
        return {}
    out: dict[str, list[SourceBuild]] = {}
    for row in read_toml(path).get("build", []):
        try:
            build = SourceBuild(
                name=canonicalize_name(row["name"]),
                needs=row["needs"],
                fails=row.get("fails", ""),
                versions=SpecifierSet(row.get("versions", "")),
                hint=row.get("hint", ""),
                source=row.get("source", ""),
            )
        except (KeyError, TypeError, InvalidSpecifier) as exc:
            raise KnowledgeError(f"{path}: bad [[build]] row {row!r}: {exc}") from exc
        out.setdefault(build.name, []).append(build)
    return {k: tuple(v) for k, v in out.items()}


def _import_checks(path: Path) -> tuple[ImportCheck, ...]:
    if not path.is_file():
        return ()
    out = []
    for row in read_toml(path).get("check", []):
        try:
            out.append(
                ImportCheck(
                    package=canonicalize_name(row["package"]),
                    versions=SpecifierSet(row["versions"]),
                    checks=tuple(canonicalize_name(c) for c in row["checks"]),
                    only_if_installed=tuple(canonicalize_name(c) for c in row.get("only_if_installed", [])),
                    table=row["table"],
                    source=row["source"],
                )
            )
        except (KeyError, TypeError, InvalidSpecifier) as exc:
            raise KnowledgeError(f"{path}: bad [[check]] row {row!r}: {exc}") from exc
    return tuple(out)


_CACHE: dict[Path, PackageIndex] = {}


def load_index(root: Path | None = None) -> PackageIndex:
    """The package index under ``root`` (default: ``knowledge/index``), cached per root."""
    path = (root or index_root()).resolve()
    if not path.is_dir():
        raise KnowledgeError(f"package index {path} not found (broken install?)")
    if path not in _CACHE:
        _CACHE[path] = PackageIndex(path)
    return _CACHE[path]
