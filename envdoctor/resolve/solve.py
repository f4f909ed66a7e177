"""Turn targets, findings' pins, ``--keep`` and the installed set into explained pins.

:func:`solve` builds the root requirements (each with its origin), runs resolvelib's
``Resolver`` over :class:`~envdoctor.resolve.provider.Provider`, and returns a
:class:`Solution`: one :class:`Pin` per package with the chain of requirements that put
it there, advisories for pins that have no wheel for the target (with what a source
build needs, and the nearest pair of versions that does have wheels). When nothing
satisfies every requirement it raises :class:`~envdoctor.errors.ResolutionError` whose
text is the chain of conflicting requirements, each with where it came from.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version
from resolvelib import BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver

from envdoctor.errors import BadInputError, ResolutionError
from envdoctor.kb.compat import Compat
from envdoctor.model import Finding, ImportBound, gather_constraints
from envdoctor.resolve.index import PackageIndex, SourceBuild
from envdoctor.resolve.provider import Candidate, Installed, Origin, Provider, Req
from envdoctor.resolve.wheels import TargetPlatform

__all__ = ["ResolveRequest", "Pin", "Solution", "solve", "parse_target"]

#: Installed tools that are never kept as roots (they are the installer, not the project).
NOT_ROOTS = frozenset({"pip", "setuptools", "wheel", "distribute"})
#: How many versions of a package to try when looking for the nearest pair with wheels.
ALTERNATIVE_TRIES = 12
_KIND_RANK = {"target": 0, "finding": 1, "keep": 2, "import-bound": 3, "compat": 4, "requires": 5, "installed": 6}


@dataclass(frozen=True)
class ResolveRequest:
    """Everything :func:`solve` needs, as plain values."""

    target: TargetPlatform
    targets: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    keep: tuple[str, ...] = ()
    installed: tuple[Installed, ...] = ()
    import_bounds: tuple[ImportBound, ...] = ()
    driver_version: str | None = None
    """The host's NVIDIA driver (``None``: none or unknown), to check proposed torch CUDA builds."""


@dataclass(frozen=True)
class Pin:
    """One line of the constraints file, with why it is there."""

    name: str
    version: Version | None
    installed: Version | None
    reasons: tuple[str, ...]
    has_wheel: bool | None = None
    build: SourceBuild | None = None
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    indexed: bool = True
    """False for packages only known from the environment (editable installs, private ones)."""

    @property
    def status(self) -> str:
        """``kept``, ``changed``, ``added`` or ``unpinned`` (outside the index)."""
        if self.version is None:
            return "unpinned"
        if self.installed is None:
            return "added"
        return "kept" if self.version == self.installed else "changed"

    @property
    def line(self) -> str:
        """The requirement line: ``tokenizers==0.13.3`` (a range for unpinned packages)."""
        if self.version is None:
            return f"{self.name}{self.specifier}"
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class Solution:
    """The outcome of :func:`solve`."""

    target: TargetPlatform
    pins: tuple[Pin, ...]
    advisories: tuple[str, ...] = ()
    inputs: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def pin(self, name: str) -> Pin | None:
        key = canonicalize_name(name)
        return next((p for p in self.pins if p.name == key), None)

    @property
    def changes(self) -> tuple[Pin, ...]:
        """Pins that differ from the environment (changed or added), in file order."""
        return tuple(p for p in self.pins if p.status in ("changed", "added"))


def parse_target(text: str, *, flag: str = "--target") -> Requirement:
    """Parse one user requirement; a clear :class:`BadInputError` names it otherwise."""
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "unparsable"
        raise BadInputError(f"{flag} {text!r}: not a valid requirement ({reason})") from exc
    if req.url:
        raise BadInputError(f"{flag} {text!r}: URL requirements cannot be resolved offline; give a version range")
    return req


def _roots(request: ResolveRequest, index: PackageIndex, include_optional: bool) -> tuple[list[Req], list[str]]:
    installed: dict[str, Installed] = {str(canonicalize_name(i.name)): i for i in request.installed}
    env = request.target.markers()
    roots: list[Req] = []
    notes: list[str] = []

    def known(name: str) -> bool:
        return name in installed or index.releases(name) is not None

    for text in request.targets:
        req = parse_target(text)
        if req.marker is not None and not req.marker.evaluate({**env, "extra": ""}):
            notes.append(f"target {text} does not apply to {request.target.label} (marker)")
            continue
        name = canonicalize_name(req.name)
        if not known(name):
            raise BadInputError(
                f"--target {text!r}: unknown package {req.name!r}: not installed and not in envdoctor's package "
                f"index ({len(index.names())} packages; refresh with scripts/refresh_index.py)"
            )
        roots.append(Req(name, req.specifier, Origin("target", f"target {text}")))
    for constraint in gather_constraints(request.findings):
        if constraint.optional and not include_optional:
            continue
        try:
            req = Requirement(constraint.requirement)
        except InvalidRequirement:
            notes.append(f"finding {', '.join(constraint.findings)}: unreadable pin {constraint.requirement!r} skipped")
            continue
        if req.marker is not None and not req.marker.evaluate({**env, "extra": ""}):
            continue
        label = f"finding {', '.join(constraint.findings)} ({constraint.requirement})"
        roots.append(Req(canonicalize_name(req.name), req.specifier, Origin("finding", label)))
    for kept in request.keep:
        key = str(canonicalize_name(kept))
        if key not in installed:
            where = "the inspected environment" if installed else "a fresh environment (--python-version/--platform)"
            raise BadInputError(f"--keep {kept!r}: not installed in {where}")
        version = installed[key].version
        roots.append(Req(key, SpecifierSet(f"=={version}"), Origin("keep", f"--keep {kept} (installed {version})")))
    for key, item in installed.items():
        if key not in NOT_ROOTS:
            roots.append(Req(key, SpecifierSet(), Origin("installed", f"{key} {item.version}")))
    return roots, notes


def _resolve(provider: Provider, roots: Sequence[Req]) -> Any:
    for req in roots:
        provider.note(req, None)
    return Resolver(provider, BaseReporter()).resolve(roots, max_rounds=5000)


def solve(
    request: ResolveRequest,
    index: PackageIndex,
    compat: Compat | None = None,
) -> Solution:
    """Resolve ``request`` over ``index``; raise :class:`ResolutionError` with the conflict chain."""
    start = time.perf_counter()
    installed: dict[str, Installed] = {str(canonicalize_name(i.name)): i for i in request.installed}
    roots, notes = _roots(request, index, include_optional=True)
    present = set(installed) | {r.name for r in roots}

    def provider(wheels_only: bool = False) -> Provider:
        return Provider(
            index,
            request.target,
            installed=installed,
            import_bounds=request.import_bounds,
            compat=compat,
            present=present,
            wheels_only=wheels_only,
        )

    main = provider()
    try:
        result = _resolve(main, roots)
    except ResolutionImpossible as exc:
        optional = [r for r in roots if r.origin.kind == "finding"]
        plain_roots, _ = _roots(request, index, include_optional=False)
        if len(plain_roots) < len(roots):
            try:
                main = provider()
                result = _resolve(main, plain_roots)
                notes.append(
                    "optional pins of findings were dropped because they conflict: "
                    + "; ".join(r.origin.label for r in optional if r not in plain_roots)
                )
            except ResolutionImpossible as again:
                raise ResolutionError(explain_conflict(again.causes, main, request.target)) from again
        else:
            raise ResolutionError(explain_conflict(exc.causes, main, request.target)) from exc
    except ResolutionTooDeep as exc:
        raise ResolutionError(f"resolution gave up after {exc.args[0]} rounds; narrow the targets") from exc

    pins: list[Pin] = []
    for name, candidate in result.mapping.items():
        infos = list(result.criteria[name].information)
        pins.append(_pin(name, candidate, infos, installed, index, result))
    advisories = list(notes)
    for name, candidate in result.mapping.items():
        unknown = candidate.requires is None and (candidate.release is None or candidate.release.requires_dist is None)
        if candidate.version is not None and unknown and (candidate.release is not None or candidate.installed):
            advisories.append(
                f"{name} {candidate.version}: its own requirements are unknown to envdoctor (no wheel metadata); "
                "pins for its dependencies may be missing: --verify asks pip"
            )
    for pin in pins:
        if pin.version is None:
            advisories.append(
                f"{pin.name} is not in envdoctor's package index: left to the installer"
                + (f" within {pin.specifier}" if str(pin.specifier) else "")
            )
        if pin.has_wheel is False and pin.status != "kept":
            advisories.append(_no_wheel_advice(pin, request, roots, result, provider, index, compat))
    advisories.extend(_torch_build_advice(pins, request, compat))
    for label, lines in main.skipped.items():
        advisories.append(f"{label}: ignored unreadable requirement(s) {', '.join(lines)}")
    order = {"changed": 0, "added": 1, "unpinned": 2, "kept": 3}
    pins.sort(key=lambda p: (order[p.status], p.name))
    return Solution(
        target=request.target,
        pins=tuple(pins),
        advisories=tuple(advisories),
        inputs={
            "targets": list(request.targets),
            "findings": sorted({f.id for f in request.findings if f.fix.constraints}),
            "keep": list(request.keep),
            "installed": len(request.installed),
        },
        seconds=time.perf_counter() - start,
    )


# ---------------------------------------------------------------------- explanations


def _sort_infos(infos: Iterable[Any]) -> list[Any]:
    return sorted(infos, key=lambda i: (_KIND_RANK[i.requirement.origin.kind], not str(i.requirement.specifier)))


def _why_parent(parent: Candidate, criteria: Mapping[str, Any], depth: int, seen: set[str]) -> str:
    """`` <- target transformers<4.31``: why ``parent`` is in the solution at all."""
    if depth <= 0 or parent.name in seen or parent.name not in criteria:
        return ""
    seen = seen | {parent.name}
    infos = [i for i in _sort_infos(criteria[parent.name].information) if i.requirement.origin.kind != "installed"]
    if not infos:
        return f" <- installed {parent.name}"
    best = infos[0]
    text = f" <- {best.requirement.describe()}"
    if best.parent is not None:
        text += _why_parent(best.parent, criteria, depth - 1, seen)
    return text


def _pin(
    name: str,
    candidate: Candidate,
    infos: list[Any],
    installed: Mapping[str, Installed],
    index: PackageIndex,
    result: Any,
) -> Pin:
    have = installed.get(name)
    constraining = [
        i
        for i in _sort_infos(infos)
        if str(i.requirement.specifier) or i.requirement.origin.kind in ("target", "finding", "keep")
    ]
    reasons = []
    for info in constraining[:4]:
        line = info.requirement.describe()
        if info.parent is not None:
            line += _why_parent(info.parent, result.criteria, 3, {name})
        reasons.append(line)
    if not reasons:
        others = [i for i in _sort_infos(infos) if i.requirement.origin.kind != "installed"]
        if have is not None and candidate.version == have.version:
            reasons.append("kept as installed")
        elif others:
            info = others[0]
            line = info.requirement.describe()
            if info.parent is not None:
                line += _why_parent(info.parent, result.criteria, 3, {name})
            reasons.append(line)
        else:
            reasons.append("the installed version conflicts with the other pins; this is the nearest that fits")
    specifier = SpecifierSet(",".join(str(i.requirement.specifier) for i in infos if str(i.requirement.specifier)))
    build = None
    if candidate.version is not None and candidate.has_wheel is False:
        build = index.source_build(name, candidate.version)
    return Pin(
        name=name,
        version=candidate.version,
        installed=None if have is None else have.version,
        reasons=tuple(reasons),
        has_wheel=candidate.has_wheel,
        build=build,
        specifier=specifier,
        indexed=index.releases(name) is not None,
    )


def _root_of(name: str, result: Any, roots: Sequence[Req]) -> Req | None:
    """The user-facing root (target/finding/keep) that pulls ``name`` in."""
    seen: set[str] = set()
    current = name
    while current not in seen:
        seen.add(current)
        infos = _sort_infos(result.criteria[current].information) if current in result.criteria else []
        for info in infos:
            if info.parent is None and info.requirement.origin.kind in ("target", "finding", "keep"):
                return info.requirement  # type: ignore[no-any-return]
        parents = [i.parent for i in infos if i.parent is not None]
        if not parents:
            return None
        current = parents[0].name
    return None


def _no_wheel_advice(
    pin: Pin,
    request: ResolveRequest,
    roots: Sequence[Req],
    result: Any,
    provider: Any,
    index: PackageIndex,
    compat: Compat | None = None,
) -> str:
    label = request.target.label
    text = f"{pin.name}=={pin.version} has no wheel for {label}: pip will build it from source"
    if pin.build is not None:
        text += f", which needs {pin.build.needs}"
        if pin.build.fails:
            text += f"; it {pin.build.fails}"
        if pin.build.source:
            text += f" [{pin.build.source}]"
    root = _root_of(pin.name, result, roots)
    # No release of it has a wheel here (mmcv on PyPI is sdist only): no pair to look for.
    any_wheel = any(r.has_wheel(request.target) for r in index.releases(pin.name) or ())
    alternative = None
    if root is not None and any_wheel:
        chain = {pin.name} | {i.parent.name for i in result.criteria[pin.name].information if i.parent is not None}
        alternative = _nearest_with_wheels(pin, root, roots, provider, index, chain)
    openmmlab = _openmmlab_wheel(pin, result, compat)
    if alternative:
        text += f". Nearest versions with wheels: {alternative}"
    elif openmmlab:
        text += f". {openmmlab}"
    elif pin.build is not None and pin.build.hint:
        text += f". {pin.build.hint}"
    return text


def _torch_build_advice(pins: Sequence[Pin], request: ResolveRequest, compat: Compat | None) -> list[str]:
    """Where the torch family must come from, and whether the host driver runs it."""
    if compat is None or request.target.family != "manylinux_x86_64":
        return []
    by_name = {p.name: p for p in pins}
    torch = by_name.get("torch")
    if torch is None or torch.version is None:
        return []
    out: list[str] = []
    local = torch.version.local or ""
    moved = [by_name[n] for n in ("torchvision", "torchaudio") if n in by_name and by_name[n].status != "kept"]
    if local and moved:
        names = ", ".join(p.name for p in moved)
        out.append(
            f"torch {torch.version} is a +{local} build: install {names} from https://download.pytorch.org/whl/{local} "
            f"(pip install --index-url https://download.pytorch.org/whl/{local} ...) so their build matches; "
            "PyPI has only the default build"
        )
    if torch.status == "kept" or local or request.driver_version is None:
        return out
    release = compat.torch_release(torch.version)
    cuda = release.pypi_default_cuda if release is not None else None
    try:
        driver = Version(request.driver_version)
    except ValueError:
        return out
    if cuda is not None and compat.driver_runs_cuda(driver, cuda) is False:
        floor = compat.cuda_min_driver(cuda)
        out.append(
            f"torch {torch.version} from PyPI is built with CUDA {cuda}, which needs NVIDIA driver >= {floor}; "
            f"this host has {request.driver_version}: install a build for an older CUDA from "
            "https://download.pytorch.org/whl/ (see `envdoctor explain CU001`) or update the driver"
        )
    return out


def _openmmlab_wheel(pin: Pin, result: Any, compat: Compat | None) -> str:
    """Whether OpenMMLab's own index has a prebuilt mmcv for the solution's torch build."""
    if compat is None or pin.name not in ("mmcv", "mmcv-full") or pin.version is None:
        return ""
    torch = result.mapping.get("torch")
    if torch is None or torch.version is None:
        return ""
    local = torch.version.local or ""
    cuda = None
    if local.startswith("cu") and local[2:].isdigit() and len(local) >= 5:
        cuda = Version(f"{int(local[2:-1])}.{local[-1]}")
    elif not local:  # a PyPI wheel: its default CUDA build on Linux
        release = compat.torch_release(torch.version)
        cuda = release.pypi_default_cuda if release is not None else None
    available = compat.mmcv_wheel_available(pin.version, torch.version, cuda)
    series = f"{torch.version.major}.{torch.version.minor}"
    variant = "cpu" if cuda is None else f"cu{cuda.major}{cuda.minor}"
    if available is None:
        return ""
    if available:
        url = f"https://download.openmmlab.com/mmcv/dist/{variant}/torch{series}/index.html"
        wheel = f"{pin.name} {pin.version} wheel for torch {series} ({variant})"
        return f"OpenMMLab publishes a prebuilt {wheel}: add -f {url}"
    rows = sorted({str(w.torch) for w in compat.mmcv_wheels if w.mmcv == Version(pin.version.public)}, key=Version)
    return (
        f"OpenMMLab publishes no prebuilt {pin.name} {pin.version} wheel for torch {series} ({variant}) either; "
        f"it has wheels for torch {', '.join(rows)} (knowledge/compat/openmmlab.toml)"
    )


def _nearest_with_wheels(
    pin: Pin, root: Req, roots: Sequence[Req], provider: Any, index: PackageIndex, chain: set[str]
) -> str | None:
    """The nearest versions of the root package whose whole solution has wheels.

    First the user's own range, wheels only (resolvelib backtracks through it); then the
    releases just outside the range, nearest first, each pinned in a wheels-only trial in
    which the user's other pins on the packages of the chain (``chain``) are lifted.
    """
    try:
        found = _resolve(provider(wheels_only=True), roots)
    except (ResolutionImpossible, ResolutionTooDeep):
        found = None
    if found is not None and root.name in found.mapping:
        return _pair(root, found.mapping[root.name].version, chain, found, inside=True)
    releases = index.releases(root.name) or ()
    versions = [r.version for r in releases if not r.yanked]
    inside = [i for i, v in enumerate(versions) if root.specifier.contains(v, prereleases=True)]
    low = min(inside) if inside else 0
    high = max(inside) if inside else len(versions) - 1
    outside = [i for i in range(len(versions)) if i > high or i < low]
    outside.sort(key=lambda i: (i - high, 0) if i > high else (low - i, 1))
    lifted = chain | {root.name}
    others = [r for r in roots if r.name not in lifted or r.origin.kind in ("requires", "import-bound", "compat")]
    # A lifted package stays in the trial, at any version.
    others += [Req(n, SpecifierSet(), Origin("target", f"trial {n}")) for n in sorted(lifted - {root.name})]
    for i in outside[:ALTERNATIVE_TRIES]:
        version = versions[i]
        pinned = Req(root.name, SpecifierSet(f"=={version}"), Origin("target", f"trial {root.name}=={version}"))
        try:
            found = _resolve(provider(wheels_only=True), [*others, pinned])
        except (ResolutionImpossible, ResolutionTooDeep):
            continue
        return _pair(root, version, chain, found, inside=False)
    return None


def _pair(root: Req, version: Version | None, chain: set[str], found: Any, *, inside: bool) -> str:
    where = "" if inside else f" (outside {root.origin.label})"
    names = [n for n in sorted(chain) if n != root.name and n in found.mapping]
    pins = [f"{root.name}=={version}", *(f"{n}=={found.mapping[n].version}" for n in names)]
    return " with ".join(pins) + where


def explain_conflict(causes: Collection[Any], provider: Provider, target: TargetPlatform) -> str:
    """The chain of requirements that cannot all hold, each with where it came from."""
    lines = [f"no set of versions satisfies every requirement for {target.label}:"]
    by_name: dict[str, list[Any]] = {}
    for cause in causes:
        by_name.setdefault(cause.requirement.name, []).append(cause)
    for name, items in by_name.items():
        lines.append(f"  {name}:")
        shown: set[str] = set()
        for cause in _sort_infos(items):
            text = cause.requirement.describe()
            if cause.parent is not None:
                text += _seen_chain(cause.parent, provider, 3, {name})
            if text not in shown:
                shown.add(text)
                lines.append(f"    - {text}")
        combined = SpecifierSet(",".join(str(c.requirement.specifier) for c in items))
        why = _why_empty(name, combined, provider, target)
        if why:
            lines.append(f"    {why}")
    return "\n".join(lines)


def _seen_chain(parent: Candidate, provider: Provider, depth: int, seen: set[str]) -> str:
    if depth <= 0 or parent.name in seen or parent.version is None:
        return ""
    seen = seen | {parent.name}
    entries = [
        (req, grand)
        for req, grand in provider.seen.get(parent.name, [])
        if req.specifier.contains(parent.version, prereleases=True)
    ]
    entries.sort(key=lambda e: (_KIND_RANK[e[0].origin.kind], not str(e[0].specifier)))
    entries = [e for e in entries if e[0].origin.kind != "installed"] or entries
    if not entries:
        return ""
    req, grand = entries[0]
    text = f" <- {req.describe()}"
    if grand is not None:
        text += _seen_chain(grand, provider, depth - 1, seen)
    return text


def _why_empty(name: str, spec: SpecifierSet, provider: Provider, target: TargetPlatform) -> str:
    """A note when the index itself has nothing in ``spec`` for the target."""
    releases = provider.index.releases(name)
    installed = provider.installed.get(name)
    if releases is None:
        if installed is not None and not spec.contains(installed.version, prereleases=True):
            return f"(only the installed {name} {installed.version} is known to envdoctor's index)"
        return ""
    matching = [r for r in releases if spec.contains(r.version, prereleases=True)]
    if installed is not None and spec.contains(installed.version, prereleases=True):
        return ""
    if not matching:
        return f"(no release of {name} in envdoctor's package index matches {spec})"
    python_ok = [r for r in matching if r.python_ok(target)]
    if not python_ok:
        floors = sorted({str(r.requires_python) for r in matching if r.requires_python is not None})
        needs = " or ".join(floors)
        return f"(every {name} release matching {spec} requires Python {needs}; target is {target.python_version})"
    return ""


def with_target(request: ResolveRequest, target: TargetPlatform) -> ResolveRequest:
    """The same request for another interpreter/platform."""
    return replace(request, target=target)
