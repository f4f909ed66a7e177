"""The resolvelib provider: candidates from the index and the environment, requirements with origins.

resolvelib (pip's resolver library) does the search; this module only answers its
questions. A candidate is one release of one package: the installed copy (tried first,
so "keep what is installed wherever it satisfies everything"), then index releases by
closeness to the installed version (newest first when nothing is installed), releases
with a wheel for the target before wheel-less ones. A package neither in the index nor
installed is an *external* candidate: envdoctor does not pin it and says so. Every
requirement carries its :class:`Origin` (a target, a finding, ``--keep``, an installed
package, a dependency, an import-time bound, a compatibility table) so pins and
conflicts can be explained as chains.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version
from resolvelib import AbstractProvider

from envdoctor.kb.compat import Compat
from envdoctor.model import ImportBound
from envdoctor.resolve.index import PackageIndex, Release
from envdoctor.resolve.wheels import TargetPlatform

__all__ = [
    "OriginKind",
    "Origin",
    "Req",
    "Candidate",
    "Installed",
    "Provider",
]

OriginKind = Literal["target", "finding", "keep", "installed", "requires", "import-bound", "compat"]


@dataclass(frozen=True)
class Origin:
    """Where a requirement came from, in words: ``target transformers<4.31``."""

    kind: OriginKind
    label: str
    source: str | None = None


@dataclass(frozen=True)
class Req:
    """A requirement on one package (extras dropped, marker already evaluated)."""

    name: str
    specifier: SpecifierSet
    origin: Origin

    @property
    def text(self) -> str:
        """``tokenizers!=0.11.3,<0.14,>=0.11.1`` (bare name when unconstrained)."""
        return f"{self.name}{self.specifier}"

    def describe(self) -> str:
        """``transformers 4.30.2 requires tokenizers<0.14`` or ``target tokenizers==0.13.3``."""
        if self.origin.kind == "requires":
            return f"{self.origin.label} requires {self.text}"
        if self.origin.kind in ("import-bound", "compat"):
            where = f" ({self.origin.source})" if self.origin.source else ""
            return f"{self.origin.label}: {self.text}{where}"
        if self.origin.kind == "installed":
            return f"installed {self.origin.label}"
        return f"{self.origin.label}"


@dataclass(frozen=True)
class Installed:
    """An installed distribution as resolution needs it."""

    name: str
    version: Version
    requires: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Candidate:
    """One release of one package; ``version is None`` for an external (unpinned) package."""

    name: str
    version: Version | None
    installed: bool = field(default=False, compare=False)
    has_wheel: bool | None = field(default=None, compare=False)
    release: Release | None = field(default=None, compare=False, repr=False)
    requires: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}" if self.version is not None else f"{self.name} (unpinned)"


def _contains(spec: SpecifierSet, version: Version) -> bool:
    return spec.contains(version, prereleases=True)


class Provider(AbstractProvider[Req, Candidate, str]):
    """Answers resolvelib over a :class:`PackageIndex`, the environment and the compat tables."""

    def __init__(
        self,
        index: PackageIndex,
        target: TargetPlatform,
        *,
        installed: Mapping[str, Installed],
        import_bounds: Sequence[ImportBound] = (),
        compat: Compat | None = None,
        present: Iterable[str] = (),
        wheels_only: bool = False,
    ) -> None:
        self.index = index
        self.target = target
        self.installed: dict[str, Installed] = {str(canonicalize_name(k)): v for k, v in installed.items()}
        self.compat = compat
        self.present: set[str] = {str(canonicalize_name(p)) for p in present} | set(self.installed)
        self.wheels_only = wheels_only
        self.markers = target.markers()
        self._candidates: dict[str, tuple[Candidate, ...]] = {}
        self._deps: dict[Candidate, tuple[Req, ...]] = {}
        self.bounds: dict[str, list[ImportBound]] = {}
        for bound in import_bounds:
            self.bounds.setdefault(canonicalize_name(bound.package), []).append(bound)
        #: name -> requirements seen on it, with the candidate that asked (None for roots).
        self.seen: dict[str, list[tuple[Req, Candidate | None]]] = {}
        #: Dependency lines that could not be read, by candidate label.
        self.skipped: dict[str, list[str]] = {}

    # ------------------------------------------------------------------ resolvelib API

    def identify(self, requirement_or_candidate: Req | Candidate) -> str:
        return requirement_or_candidate.name

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> tuple[bool, bool, bool, bool, str]:
        infos = list(information[identifier])
        direct = any(i.parent is None and i.requirement.origin.kind != "installed" for i in infos)
        pinned = any(
            s.operator in ("==", "===") and "*" not in s.version for i in infos for s in i.requirement.specifier
        )
        causes = {c.requirement.name for c in backtrack_causes} | {
            c.parent.name for c in backtrack_causes if c.parent is not None
        }
        # Installed packages are decided early, so backtracking (newest decision first)
        # changes a newly added package before it changes one that is installed.
        return (identifier not in causes, not pinned, not direct, identifier not in self.installed, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> list[Candidate]:
        reqs = list(requirements[identifier])
        bad = {c.version for c in incompatibilities[identifier]}
        exact = {s.version for r in reqs for s in r.specifier if s.operator in ("==", "===")}
        out = []
        for candidate in self.candidates(identifier):
            if candidate.version is None:
                if candidate not in bad:
                    out.append(candidate)
                continue
            if candidate.version in bad:
                continue
            yanked = candidate.release is not None and candidate.release.yanked and not candidate.installed
            if yanked and str(candidate.version) not in exact:
                continue
            if all(_contains(r.specifier, candidate.version) for r in reqs):
                out.append(candidate)
        return out

    def is_satisfied_by(self, requirement: Req, candidate: Candidate) -> bool:
        if candidate.version is None:
            return True
        return _contains(requirement.specifier, candidate.version)

    def get_dependencies(self, candidate: Candidate) -> list[Req]:
        if candidate not in self._deps:
            self._deps[candidate] = tuple(self._dependencies(candidate))
        deps = self._deps[candidate]
        for req in deps:
            self.note(req, candidate)
        return list(deps)

    # ------------------------------------------------------------------ candidates

    def note(self, req: Req, parent: Candidate | None) -> None:
        """Remember that ``parent`` (or the user, for ``None``) asked for ``req``."""
        entries = self.seen.setdefault(req.name, [])
        if (req, parent) not in entries:
            entries.append((req, parent))

    def candidates(self, name: str) -> tuple[Candidate, ...]:
        """Every candidate of ``name`` in preference order (cached)."""
        key = str(canonicalize_name(name))
        if key not in self._candidates:
            self._candidates[key] = self._build_candidates(key)
        return self._candidates[key]

    def _build_candidates(self, name: str) -> tuple[Candidate, ...]:
        installed = self.installed.get(name)
        releases = self.index.releases(name)
        found: list[Candidate] = []
        if installed is not None:
            release = self.index.release(name, installed.version) if releases else None
            found.append(
                Candidate(
                    name,
                    installed.version,
                    installed=True,
                    has_wheel=None if release is None else release.has_wheel(self.target),
                    release=release,
                    requires=installed.requires,
                )
            )
        if releases is None:
            # Not in the index: any other version is pip's choice, not ours.
            found.append(Candidate(name, None))
            return tuple(found)
        others = []
        for release in releases:
            if installed is not None and release.version == Version(installed.version.public):
                continue
            if not release.python_ok(self.target):
                continue
            has_wheel = release.has_wheel(self.target)
            if self.wheels_only and not has_wheel:
                continue
            if not has_wheel and not release.sdist:
                continue
            others.append(Candidate(name, release.version, has_wheel=has_wheel, release=release))
        ordered = sorted(range(len(others)), key=lambda i: self._rank(others, i, installed))
        found.extend(others[i] for i in ordered)
        return tuple(found)

    @staticmethod
    def _rank(others: list[Candidate], i: int, installed: Installed | None) -> tuple[int, int, int]:
        candidate = others[i]
        assert candidate.version is not None
        wheel_last = 0 if candidate.has_wheel else 1
        if installed is None:
            return (wheel_last, 0, -i)
        # Closeness to the installed version, counted in releases; newer wins a tie.
        position = sum(1 for o in others if o.version is not None and o.version < installed.version)
        distance = abs(i - position) if i >= position else abs(position - 1 - i)
        return (wheel_last, distance, 0 if i >= position else 1)

    # ------------------------------------------------------------------ dependencies

    def _dependencies(self, candidate: Candidate) -> Iterator[Req]:
        if candidate.version is None:
            return
        label = candidate.label
        lines = candidate.requires
        if lines is None and candidate.release is not None:
            lines = candidate.release.requires_dist
        listed: set[str] = set()
        for line in lines or ():
            req = self._parse(line, label)
            if req is None or req.name == candidate.name:
                continue
            listed.add(req.name)
            yield Req(req.name, req.specifier, Origin("requires", label))
        yield from self._import_bounds(candidate, listed)
        yield from self._compat(candidate, listed)

    def _parse(self, line: str, label: str) -> Req | None:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            self.skipped.setdefault(label, []).append(line)
            return None
        if req.marker is not None:
            try:
                if not req.marker.evaluate({**self.markers, "extra": ""}):
                    return None
            except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
                self.skipped.setdefault(label, []).append(line)
                return None
        if req.url:
            return None
        return Req(canonicalize_name(req.name), req.specifier, Origin("requires", label))

    def _import_bounds(self, candidate: Candidate, listed: set[str]) -> Iterator[Req]:
        assert candidate.version is not None
        check = self.index.checks_for(candidate.name, candidate.version)
        only_if_installed = set(check.only_if_installed) if check else set()
        done: set[str] = set()
        if candidate.installed:
            for bound in self.bounds.get(candidate.name, ()):
                req = self._parse(bound.requirement, candidate.label)
                if req is None or req.name == "python" or not str(req.specifier):
                    continue
                if req.name in only_if_installed and req.name not in self.present:
                    continue
                if req.name not in listed and req.name not in self.present:
                    continue
                done.add(req.name)
                yield Req(
                    req.name,
                    req.specifier,
                    Origin("import-bound", f"{candidate.label} checks on import", bound.source),
                )
        if check is not None and candidate.release is not None:
            for name in check.only_if_installed:
                spec = candidate.release.extras_bounds.get(name)
                if spec and name not in done and name not in listed and name in self.present:
                    yield Req(
                        name,
                        SpecifierSet(spec),
                        Origin("import-bound", f"{candidate.label} checks on import", check.table),
                    )

    def _compat(self, candidate: Candidate, listed: set[str]) -> Iterator[Req]:
        compat = self.compat
        version = candidate.version
        if compat is None or version is None:
            return
        bounds = compat.bounds(candidate.name, version)
        if bounds is not None:
            where = f"{candidate.name}/__init__.py"
            mmcv = "mmcv-full" if "mmcv-full" in self.installed and "mmcv" not in self.installed else "mmcv"
            yield Req(
                mmcv, bounds.mmcv_specifier, Origin("import-bound", f"{candidate.label} asserts on import", where)
            )
            engine = bounds.mmengine_specifier
            if engine is not None:
                yield Req("mmengine", engine, Origin("import-bound", f"{candidate.label} asserts on import", where))
        if candidate.name in ("mmcv", "mmcv-full"):
            floor = compat.mmcv_mmengine_floor(version)
            if floor is not None and "mmengine" not in listed:
                yield Req(
                    "mmengine",
                    SpecifierSet(f">={floor}"),
                    Origin("compat", f"{candidate.label} runtime requirements", "knowledge/compat/openmmlab.toml"),
                )
        if "numpy" in self.present and candidate.name != "numpy":
            row = compat.numpy2_row(candidate.name)
            if row is not None and version < row.numpy2_from:
                yield Req(
                    "numpy",
                    SpecifierSet("<2"),
                    Origin("compat", f"{candidate.label} is built against NumPy 1", row.source),
                )
            if candidate.name == "torch":
                release = compat.torch_release(version)
                if release is not None and release.numpy_abi == 1:
                    yield Req(
                        "numpy",
                        SpecifierSet("<2"),
                        Origin("compat", f"{candidate.label} is built against NumPy 1", "knowledge/compat/torch.toml"),
                    )
        if candidate.name == "torchvision" and "torch" not in listed:
            series = compat.torch_for_torchvision(version)
            if series is not None:
                yield Req(
                    "torch",
                    series,
                    Origin("compat", f"{candidate.label} is built for torch", "knowledge/compat/torch.toml"),
                )
