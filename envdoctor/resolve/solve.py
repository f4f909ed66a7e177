"""Resolve with a real resolver, then check the result against envdoctor's knowledge, and repeat.

:func:`solve` asks the engine (uv, else pip) for the user's targets plus every installed
package, with the installed versions as preferences (kept unless something rules them
out), the findings' pins, ``--keep`` and the knowledge rules that apply to the installed
set as constraints. Each resolution is then checked: the knowledge rules
(:mod:`envdoctor.resolve.rules`) and diagnose's own checks, run on the *proposed* versions;
a violated rule becomes a constraint and the resolution runs again, until nothing is
violated (or the resolver explains why no set of versions fits). Each changed or added
pin is explained by the requirement that binds it: the parent (from the resolver's
annotations) whose range excludes the installed version, or the rule that does.
Pins without a wheel for the target are found by a wheels-only run and get the
source-build knowledge and the nearest versions that do have wheels.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name as _canonical
from packaging.version import Version

from envdoctor.errors import BadInputError, ResolutionError
from envdoctor.model import Environment, Finding, ImportBound, gather_constraints
from envdoctor.resolve.engine import CONSTRAINED, REQUESTED, Engine, EngineFailure, EngineRequest, Resolution
from envdoctor.resolve.indexes import PYTORCH_INDEX, IndexConfig
from envdoctor.resolve.rules import Knowledge, Rule, SourceBuild, as_versions, rules_for, violated
from envdoctor.resolve.target import TargetPlatform

__all__ = ["ResolveRequest", "Pin", "Solution", "solve", "parse_target", "NOT_ROOTS", "MAX_ROUNDS"]

#: Installed tools that are never requested (they are the installer, not the project).
NOT_ROOTS = frozenset({"pip", "setuptools", "wheel", "distribute", "uv"})
#: Resolve-and-check rounds before giving up on convergence.
MAX_ROUNDS = 8
#: The last setuptools line that ships pkg_resources (removed in 82.0.0).
SETUPTOOLS_WITH_PKG_RESOURCES = "setuptools<82"
#: The torch family: built together, from one index, in one variant.
TORCH_FAMILY = ("torch", "torchvision", "torchaudio")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ResolveRequest:
    """Everything :func:`solve` needs, as plain values."""

    target: TargetPlatform
    indexes: IndexConfig = field(default_factory=IndexConfig)
    targets: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    keep: tuple[str, ...] = ()
    installed: Mapping[str, str] = field(default_factory=dict)
    """Canonical name -> installed version text (empty for a fresh environment)."""
    installed_requires: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    import_bounds: tuple[ImportBound, ...] = ()
    environment: Environment | None = None
    """The probed environment, to run diagnose's checks on proposed versions."""


@dataclass(frozen=True)
class PinReason:
    """Why a pin is what it is: one requirement that decides it, and where it comes from.

    ``kind`` is ``target`` (the user's), ``rule`` (envdoctor's knowledge: ``source`` names
    the entry or table), ``requirement`` (a resolved package's Requires-Dist; ``parent``
    names it) or ``resolver`` (nothing above: the resolver's choice). ``binds`` is true when
    the requirement excludes the installed version, i.e. it is why the pin changed.
    """

    kind: str
    text: str
    requirement: str | None = None
    source: str | None = None
    parent: str | None = None
    binds: bool = False

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Pin:
    """One line of the constraints file, with why it is there."""

    name: str
    version: str
    installed: str | None
    reasons: tuple[PinReason, ...]
    via: tuple[str, ...] = ()
    has_wheel: bool | None = None
    build: SourceBuild | None = None

    @property
    def status(self) -> str:
        """``kept``, ``changed`` or ``added``."""
        if self.installed is None:
            return "added"
        return "kept" if _same(self.installed, self.version) else "changed"

    @property
    def line(self) -> str:
        """``tokenizers==0.13.3`` (a kept pin keeps the installed local variant: ``torch==2.1.0+cu121``)."""
        if self.status == "kept" and self.installed is not None:
            return f"{self.name}=={self.installed}"
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class Solution:
    """The outcome of :func:`solve`."""

    target: TargetPlatform
    pins: tuple[Pin, ...]
    advisories: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    index_lines: tuple[str, ...] = ()
    """Installer options the file needs (``--extra-index-url https://download.pytorch.org/whl/cpu``)."""
    install: tuple[str, ...] = ()
    """The packages to name on the install command line: targets, changed packages, rule additions."""
    engine: str = ""
    index: str = ""
    rounds: int = 0
    inputs: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def pin(self, name: str) -> Pin | None:
        key = canonicalize_name(name)
        return next((p for p in self.pins if p.name == key), None)

    @property
    def changes(self) -> tuple[Pin, ...]:
        """Pins that differ from the environment (changed or added), in file order."""
        return tuple(p for p in self.pins if p.status in ("changed", "added"))


def canonicalize_name(name: str) -> str:
    """The PEP 503 name as a plain ``str``."""
    return str(_canonical(name))


def _public_text(version: str) -> str:
    try:
        return Version(version).public
    except ValueError:  # InvalidVersion, or a release number int() refuses
        return version


def _same(installed: str, proposed: str) -> bool:
    """Equal public versions: a local variant the index does not serve is still the same release."""
    try:
        return Version(installed).public == Version(proposed).public
    except ValueError:  # InvalidVersion, or a release number int() refuses
        return installed == proposed


def parse_target(text: str, *, flag: str = "--target") -> Requirement:
    """Parse one user requirement; a clear :class:`BadInputError` names it otherwise."""
    shown = text if len(text) <= 60 else text[:60] + "..."
    if len(text) > 1000 or re.search(r"\d{20}", text):
        # no real release number is that long, and resolvers reject it with pages of digits
        raise BadInputError(f"{flag} {shown!r}: not a valid requirement (a number or the text is too long)")
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "unparsable"
        raise BadInputError(f"{flag} {shown!r}: not a valid requirement ({reason[:200]})") from exc


# ---------------------------------------------------------------------- the loop


@dataclass
class _State:
    requirements: dict[str, str]
    """name -> requirement line (targets as written, installed names bare, rule additions)."""
    rules: dict[str, Rule] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    build_constraints: tuple[str, ...] = ()
    rejected: set[str] = field(default_factory=set)
    """Findings' and checks' pins dropped after a conflict: never added again."""
    binding: set[str] = field(default_factory=set)
    """Rules that ruled out an installed or proposed version (the ones the file lists)."""


def _finding_rules(findings: Sequence[Finding], targeted: set[str], notes: list[str]) -> list[Rule]:
    out = []
    for constraint in gather_constraints(findings):
        if constraint.optional:
            continue
        try:
            req = Requirement(constraint.requirement)
        except InvalidRequirement:
            notes.append(f"finding {', '.join(constraint.findings)}: unreadable pin {constraint.requirement!r} skipped")
            continue
        name = canonicalize_name(req.name)
        label = f"finding {', '.join(constraint.findings)}"
        if name in targeted:
            notes.append(f"{label} asks for {constraint.requirement}; your --target on {name} wins")
            continue
        out.append(Rule(f"{name}{req.specifier}", label, "", "finding"))
    return out


def _check_rules(
    environment: Environment | None, pins: Mapping[str, str], knowledge: Knowledge, notes: list[str]
) -> list[Rule]:
    """Diagnose's checks on the proposed versions: the same entries, a copy of the environment."""
    if environment is None:
        return []
    from envdoctor.kb.checks import run_checks
    from envdoctor.kb.facts import build_facts
    from envdoctor.kb.loader import load_checks
    from envdoctor.model import Distribution

    dists = tuple(Distribution(name=n, version=v, location="(proposed)") for n, v in sorted(pins.items()))
    torch = replace(environment.torch, version=pins["torch"]) if environment.torch and "torch" in pins else None
    proposed = replace(
        environment,
        python=replace(environment.python, distributions=dists, import_bounds=(), duplicates=(), module_files={}),
        torch=torch,
        deep=None,
    )
    try:
        findings = run_checks(load_checks().entries, build_facts(proposed, knowledge.compat))
    except Exception as exc:  # one failing check must not block the constraints
        notes.append(f"diagnose checks on the proposed versions failed ({type(exc).__name__}: {exc})")
        return []
    out = []
    for finding in findings:
        if finding.fix.optional or finding.severity != "error":
            continue
        for text in finding.fix.constraints:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            out.append(
                Rule(f"{canonicalize_name(req.name)}{req.specifier}", f"{finding.id} {finding.title}", "", "check")
            )
    return out


def solve(
    request: ResolveRequest,
    engine: Engine,
    knowledge: Knowledge,
    *,
    progress: Progress | None = None,
) -> Solution:
    """Resolve, check against the knowledge, repeat; explain every changed or added pin."""
    start = time.perf_counter()
    say = progress or (lambda _text: None)
    notes: list[str] = []
    targets = [parse_target(t) for t in request.targets]
    targeted = {canonicalize_name(t.name) for t in targets}
    installed = {canonicalize_name(k): v for k, v in request.installed.items()}
    installed_versions = as_versions(installed)
    state = _State(requirements={canonicalize_name(t.name): str(t) for t in targets})
    # Several targets on one name are one requirement line each: keep them all.
    extra_lines = [str(t) for t in targets if str(t) != state.requirements[canonicalize_name(t.name)]]
    for name in sorted(installed):
        if name not in NOT_ROOTS and name not in state.requirements:
            state.requirements[name] = name
    for kept in request.keep:
        key = canonicalize_name(kept)
        if key not in installed:
            where = "the inspected environment" if installed else "a fresh environment (--python-version/--platform)"
            raise BadInputError(f"--keep {kept!r}: not installed in {where}")
        # The public version: the index may not serve the installed local variant (+cu121).
        pinned = f"{key}=={_public_text(installed[key])}"
        _add_rule(state, Rule(pinned, f"--keep {kept} (installed {installed[key]})", "", "keep"))
    # Knowledge on the installed set first: for packages no target is about to move.
    anchored = {n: v for n, v in installed_versions.items() if n not in targeted}
    if targeted & set(TORCH_FAMILY):
        anchored = {n: v for n, v in anchored.items() if n not in TORCH_FAMILY}
    upfront = rules_for(anchored, knowledge, import_bounds=request.import_bounds, installed=installed_versions)
    for rule in upfront:
        if rule.name not in targeted:
            _add_rule(state, rule)
    state.binding |= {r.requirement for r in violated(upfront, installed_versions) if r.requirement in state.rules}
    # Findings' pins come after the knowledge: they describe the broken state and may
    # contradict each other (PY001 asks for torchvision's torch, TH002 for torch's
    # torchvision); on a conflict they yield (see _resolve).
    for rule in _finding_rules(request.findings, targeted, notes):
        _add_rule(state, rule)
    # Preferences on the public version: the index may not serve the installed local variant.
    preferences = {n: _public_text(v) for n, v in installed.items() if n not in targeted}
    resolution: Resolution | None = None
    rounds = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        say(f"resolving with {engine.name} (round {rounds})")
        resolution = _resolve(engine, request, state, preferences, extra_lines, targeted, notes)
        proposed = as_versions(resolution.pins)
        say(f"checking {len(proposed)} proposed versions against envdoctor's knowledge")
        found = rules_for(proposed, knowledge, import_bounds=request.import_bounds, installed=installed_versions)
        found += _check_rules(request.environment, resolution.pins, knowledge, notes)
        new = [
            r
            for r in violated(found, proposed)
            if r.requirement not in state.rules
            and r.requirement not in state.rejected
            and not (r.kind == "check" and r.name in targeted)
        ]
        if not new:
            break
        for rule in new:
            _add_rule(state, rule)
            state.binding.add(rule.requirement)
    assert resolution is not None
    if rounds == MAX_ROUNDS:
        notes.append(
            f"knowledge checks still found violations after {MAX_ROUNDS} resolutions; the pins may be incomplete"
        )
    install = _install_roots(resolution, targets, state, installed)
    resolution, unneeded = _prune(resolution, installed, install)
    if unneeded:
        notes.append(
            f"left out {len(unneeded)} package(s) that only already-installed packages would pull from the index "
            f"({', '.join(sorted(unneeded)[:6])}{', ...' if len(unneeded) > 6 else ''}): the installed builds "
            "have what they need (an installed local variant such as torch +cpu declares fewer dependencies)"
        )
    wheels = _wheel_check(engine, request, state, resolution, preferences, extra_lines, say)
    say("explaining the pins")
    pins = _pins(resolution, request, state, installed, knowledge, wheels)
    advisories = list(notes) + state.dropped
    for pin in pins:
        if pin.has_wheel is False and pin.status != "kept":
            say(f"looking for the nearest versions with wheels for {pin.name}")
            advisories.append(_no_wheel_advice(pin, engine, request, state, resolution, targets, extra_lines))
    index_lines, variant_notes = _torch_variant(pins, installed, request.indexes)
    advisories += variant_notes
    advisories += [w.removeprefix("warning: ") for w in resolution.warnings if "Python version" not in w]
    order = {"changed": 0, "added": 1, "kept": 2}
    pins.sort(key=lambda p: (order[p.status], p.name))
    return Solution(
        target=request.target,
        pins=tuple(pins),
        advisories=tuple(dict.fromkeys(advisories)),
        rules=tuple(r for r in state.rules.values() if r.requirement in state.binding or r.kind in ("keep", "finding")),
        index_lines=index_lines,
        install=tuple(n for n in sorted(install) if n in resolution.pins),
        engine=resolution.engine,
        index=request.indexes.describe(),
        rounds=rounds,
        inputs={
            "targets": list(request.targets),
            "findings": sorted({f.id for f in request.findings if f.fix.constraints}),
            "keep": list(request.keep),
            "installed": len(installed),
        },
        seconds=time.perf_counter() - start,
    )


def _install_roots(
    resolution: Resolution, targets: Sequence[Requirement], state: _State, installed: Mapping[str, str]
) -> set[str]:
    """What the install command names; everything else comes in as their dependencies."""
    roots = {canonicalize_name(t.name) for t in targets}
    roots |= {r.name for r in state.rules.values() if r.adds}
    roots |= {n for n, v in resolution.pins.items() if n in installed and not _same(installed[n], v)}
    return roots


def _prune(resolution: Resolution, installed: Mapping[str, str], roots: set[str]) -> tuple[Resolution, set[str]]:
    """Drop new packages reachable only through kept, installed ones.

    uv reads a kept package's dependencies from the index, which may describe another
    build than the installed one (PyPI's torch needs nvidia-* wheels, the installed +cpu
    build does not); those additions would never be installed and are left out.
    """
    children: dict[str, set[str]] = {}
    for child, parents in resolution.via.items():
        for parent in parents:
            children.setdefault(parent, set()).add(child)
    reachable: set[str] = set()
    frontier = [r for r in roots if r in resolution.pins]
    while frontier:
        name = frontier.pop()
        if name in reachable:
            continue
        reachable.add(name)
        if name in installed and _same(installed[name], resolution.pins[name]):
            continue  # kept as installed: its installed dependencies are already there
        frontier.extend(children.get(name, ()))
    unneeded = {n for n in resolution.pins if n not in installed and n not in reachable}
    if not unneeded:
        return resolution, set()
    pins = {n: v for n, v in resolution.pins.items() if n not in unneeded}
    via = {n: tuple(p for p in resolution.via.get(n, ()) if p not in unneeded) for n in pins}
    return replace(resolution, pins=pins, via=via), unneeded


def _add_rule(state: _State, rule: Rule) -> None:
    if rule.requirement in state.rules:
        return
    state.rules[rule.requirement] = rule
    if rule.adds and rule.name not in state.requirements:
        state.requirements[rule.name] = rule.name


def _engine_request(
    request: ResolveRequest,
    state: _State,
    preferences: Mapping[str, str],
    extra_lines: Sequence[str],
    **changes: Any,
) -> EngineRequest:
    return EngineRequest(
        requirements=(*state.requirements.values(), *extra_lines),
        target=request.target,
        indexes=request.indexes,
        constraints=tuple(state.rules),
        preferences=preferences,
        build_constraints=state.build_constraints,
        **changes,
    )


def _resolve(
    engine: Engine,
    request: ResolveRequest,
    state: _State,
    preferences: Mapping[str, str],
    extra_lines: Sequence[str],
    targeted: set[str],
    notes: list[str],
) -> Resolution:
    while True:
        try:
            return engine.resolve(_engine_request(request, state, preferences, extra_lines))
        except EngineFailure as failure:
            name = failure.package
            if failure.kind == "not-found" and name is not None and name in state.requirements:
                if name in targeted:
                    raise BadInputError(
                        f"--target {state.requirements[name]!r}: {failure.engine} finds no package {name!r} on "
                        f"{request.indexes.describe()}"
                    ) from failure
                # Installed but not on the index (a private or editable install): not pinned.
                del state.requirements[name]
                state.dropped.append(
                    f"{name} (installed {request.installed.get(name, '?')}) is not on {request.indexes.describe()}: "
                    "left out of the resolution and not pinned"
                )
                continue
            if failure.kind == "pkg-resources" and SETUPTOOLS_WITH_PKG_RESOURCES not in state.build_constraints:
                # Old setup.py files import pkg_resources, which setuptools 82.0.0 removed
                # (https://github.com/pypa/setuptools/blob/v82.0.1/NEWS.rst); their metadata
                # then only builds with an older setuptools.
                state.build_constraints += (SETUPTOOLS_WITH_PKG_RESOURCES,)
                notes.append(
                    f"{name}'s setup.py imports pkg_resources, which setuptools 82 removed: its metadata was built "
                    f"with {SETUPTOOLS_WITH_PKG_RESOURCES}; building it from source needs the same "
                    "(uv pip install --build-constraints FILE, or PIP_CONSTRAINT=FILE for pip; "
                    f"FILE holding {SETUPTOOLS_WITH_PKG_RESOURCES})"
                )
                continue
            if failure.kind == "conflict":
                text = failure.message.lower()
                soft = [r for r in state.rules.values() if r.kind in ("finding", "check") and r.name in text]
                if soft:
                    for rule in soft:
                        del state.rules[rule.requirement]
                        state.rejected.add(rule.requirement)
                    dropped = ", ".join(f"{r.reason}: {r.requirement}" for r in soft)
                    notes.append(
                        f"dropped pins from findings and checks that conflict with the other requirements ({dropped}); "
                        "the resolver and envdoctor's knowledge decide those packages instead"
                    )
                    continue
            raise ResolutionError(_explain_failure(failure, state, request)) from failure


def _explain_failure(failure: EngineFailure, state: _State, request: ResolveRequest) -> str:
    if failure.kind in ("index", "tool"):
        heading = f"{failure.engine or 'the resolver'} could not resolve against {request.indexes.describe()}:"
        return "\n".join([heading, *(f"  {line}" for line in failure.message.splitlines() if line.strip())])
    lines = [f"no set of versions satisfies every requirement for {request.target.label}."]
    lines.append(f"{failure.engine or 'the resolver'} says:")
    lines += [f"  {line}" for line in failure.message.splitlines() if line.strip()]
    ours = [r for r in state.rules.values() if r.name in failure.message.lower() or r.name in failure.message]
    if ours:
        lines.append("envdoctor's constraints involved, with their sources:")
        lines += [f"  - {r.describe()}" for r in ours]
    named = [line for line in request.targets if canonicalize_name(Requirement(line).name) in failure.message.lower()]
    if named:
        lines.append("your targets: " + ", ".join(named))
    return "\n".join(lines)


# ---------------------------------------------------------------------- explanations


def _requires_of(
    parent: str, version: str, request: ResolveRequest, installed: Mapping[str, str], cache: dict[str, Any]
) -> tuple[str, ...] | None:
    key = f"{parent}=={version}"
    if key in cache:
        return cache[key]  # type: ignore[no-any-return]
    found: tuple[str, ...] | None = None
    if parent in installed and _same(installed[parent], version) and parent in request.installed_requires:
        found = request.installed_requires[parent]
    else:
        from envdoctor.resolve.metadata import requires_dist

        found = requires_dist(parent, version, request.indexes)
    cache[key] = found
    return found


def _prefetch(
    resolution: Resolution, request: ResolveRequest, installed: Mapping[str, str], cache: dict[str, Any]
) -> None:
    """Read the Requires-Dist of every parent of a changed or added pin, several at a time."""
    from concurrent.futures import ThreadPoolExecutor

    parents = {
        parent
        for name, version in resolution.pins.items()
        if name not in installed or not _same(installed[name], version)
        for parent in resolution.via.get(name, ())
        if parent in resolution.pins and f"{parent}=={resolution.pins[parent]}" not in resolution.requires
    }
    if not parents:
        return
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="envdoctor-metadata") as pool:
        for parent in parents:
            pool.submit(_requires_of, parent, resolution.pins[parent], request, installed, cache)


def _logged_range(resolution: Resolution, parent: str, version: str, name: str) -> SpecifierSet | str | None:
    """The range ``parent`` asks of ``name``, as the resolver logged it (``None``: not logged)."""
    ranges = resolution.requires.get(f"{parent}=={version}")
    if ranges is None or name not in ranges:
        return None
    try:
        return SpecifierSet(ranges[name])
    except InvalidSpecifier:
        return ranges[name]


def _range_from(parent_requires: Iterable[str], name: str) -> SpecifierSet | None:
    spec: SpecifierSet | None = None
    for line in parent_requires:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(req.name) != name:
            continue
        if req.marker is not None and "extra" in str(req.marker):
            continue
        spec = req.specifier if spec is None else spec & req.specifier
    return spec


def _parent_chain(name: str, resolution: Resolution, targets: Mapping[str, str], depth: int, seen: set[str]) -> str:
    """`` <- target transformers<4.31``: how ``name`` got into the resolution."""
    if name in targets:
        return f" <- target {targets[name]}"
    if depth <= 0:
        return ""
    for parent in resolution.via.get(name, ()):
        if parent in (REQUESTED, CONSTRAINED) or parent in seen or parent not in resolution.pins:
            continue
        return f" <- {parent} {resolution.pins[parent]}" + _parent_chain(
            parent, resolution, targets, depth - 1, seen | {parent}
        )
    return ""


def _pins(
    resolution: Resolution,
    request: ResolveRequest,
    state: _State,
    installed: Mapping[str, str],
    knowledge: Knowledge,
    no_wheel: set[str],
) -> list[Pin]:
    targets = {canonicalize_name(Requirement(t).name): t for t in request.targets}
    cache: dict[str, Any] = {}
    _prefetch(resolution, request, installed, cache)
    pins = []
    for name, version in resolution.pins.items():
        have = installed.get(name)
        via = resolution.via.get(name, ())
        if have is not None and _same(have, version):
            pins.append(Pin(name, version, have, (PinReason("resolver", "kept as installed"),), via))
            continue
        reasons = _reasons(name, version, have, via, resolution, request, state, targets, installed, cache)
        has_wheel = (name not in no_wheel) if _checked(resolution) else None
        build = None
        if name in no_wheel:
            try:
                build = knowledge.source_build(name, Version(version))
            except ValueError:  # InvalidVersion, or a release number int() refuses
                build = None
        pins.append(Pin(name, version, have, tuple(reasons), via, has_wheel, build))
    return pins


def _checked(resolution: Resolution) -> bool:
    return resolution.engine == "uv"


def _reasons(
    name: str,
    version: str,
    have: str | None,
    via: Sequence[str],
    resolution: Resolution,
    request: ResolveRequest,
    state: _State,
    targets: Mapping[str, str],
    installed: Mapping[str, str],
    cache: dict[str, Any],
) -> list[PinReason]:
    """The requirements that decide ``name``: those that exclude the installed version first."""
    try:
        old = Version(have) if have is not None else None
    except ValueError:  # InvalidVersion, or a release number int() refuses
        old = None
    binding: list[PinReason] = []
    narrowing: list[PinReason] = []
    other: list[PinReason] = []

    def sort_in(reason: PinReason, spec: SpecifierSet | None) -> None:
        excludes = old is not None and spec is not None and not spec.contains(Version(old.public), prereleases=True)
        reason = dataclasses.replace(reason, binds=bool(excludes))
        (binding if excludes else narrowing if spec else other).append(reason)

    if name in targets:
        requirement = Requirement(targets[name])
        sort_in(PinReason("target", f"target {targets[name]}", targets[name], "your targets"), requirement.specifier)
    for rule in state.rules.values():
        if rule.name == name:
            sort_in(PinReason("rule", rule.describe(), rule.requirement, rule.source or None), rule.specifier)
    for parent in via:
        if parent in (REQUESTED, CONSTRAINED) or parent not in resolution.pins:
            continue
        parent_version = resolution.pins[parent]
        logged = _logged_range(resolution, parent, parent_version, name)
        if isinstance(logged, str):  # a union uv could not say in PEP 440 terms
            text = f"{parent} {parent_version} requires {name} {logged}"
            spec: SpecifierSet | None = None
        else:
            if logged is None:
                requires = _requires_of(parent, parent_version, request, installed, cache)
                logged = _range_from(requires, name) if requires is not None else None
            spec = logged
            text = f"{parent} {parent_version} requires {name}{spec or ''}"
        text += _parent_chain(parent, resolution, targets, 3, {name, parent})
        required = f"{name}{spec}" if spec else None
        sort_in(PinReason("requirement", text, required, "Requires-Dist", f"{parent} {parent_version}"), spec)
    reasons = binding + narrowing + other
    if not reasons:
        if have is None:
            reasons.append(PinReason("resolver", "needed by the resolved set"))
        else:
            text = f"installed {have} is not available for {request.target.label}; nearest the resolver found"
            reasons.append(PinReason("resolver", text))
    return reasons


# ---------------------------------------------------------------------- wheels


def _wheel_check(
    engine: Engine,
    request: ResolveRequest,
    state: _State,
    resolution: Resolution,
    preferences: Mapping[str, str],
    extra_lines: Sequence[str],
    say: Progress,
) -> set[str]:
    """Pins that have no wheel for the target: a wheels-only run on the same pins, per failure."""
    if engine.name != "uv":
        return set()
    say("checking that every pin has a wheel for the target")
    pinned = tuple(f"{n}=={v}" for n, v in resolution.pins.items())
    probe = _State(dict(state.requirements), dict(state.rules), build_constraints=state.build_constraints)
    for line in pinned:
        probe.rules.setdefault(line, Rule(line, "proposed", "", "check"))
    no_wheel: set[str] = set()
    names = [n for n in resolution.pins if n not in _installed_names(request)]
    for _ in range(6):
        wheels_only: bool | tuple[str, ...] = tuple(n for n in names if n not in no_wheel) if no_wheel else True
        if not wheels_only:
            break
        try:
            engine.resolve(_engine_request(request, probe, preferences, extra_lines, wheels_only=wheels_only))
            break
        except EngineFailure as failure:
            if failure.kind != "no-wheel" or failure.package is None or failure.package in no_wheel:
                break
            no_wheel.add(failure.package)
    return no_wheel


def _installed_names(request: ResolveRequest) -> set[str]:
    """Installed packages already on disk: their wheels do not matter any more."""
    return {canonicalize_name(n) for n in request.installed}


def _no_wheel_advice(
    pin: Pin,
    engine: Engine,
    request: ResolveRequest,
    state: _State,
    resolution: Resolution,
    targets: Sequence[Requirement],
    extra_lines: Sequence[str],
) -> str:
    text = f"{pin.name}=={pin.version} has no wheel for {request.target.label}: the installer will build it from source"
    if pin.build is not None:
        text += f", which needs {pin.build.needs}"
        if pin.build.fails:
            text += f"; it {pin.build.fails}"
        if pin.build.source:
            text += f" [{pin.build.source}]"
    root = _root_target(pin.name, resolution, targets)
    alternative = _nearest_with_wheels(pin, root, engine, request, state, resolution, extra_lines) if root else None
    if alternative:
        text += f". Nearest versions with wheels: {alternative}"
    elif pin.build is not None and pin.build.hint:
        text += f". {pin.build.hint}"
    return text


def _root_target(name: str, resolution: Resolution, targets: Sequence[Requirement]) -> Requirement | None:
    by_name = {canonicalize_name(t.name): t for t in targets}
    frontier, seen = [name], {name}
    while frontier:
        current = frontier.pop(0)
        if current in by_name and current != name:
            return by_name[current]
        for parent in resolution.via.get(current, ()):
            if parent not in seen and parent not in (REQUESTED, CONSTRAINED):
                seen.add(parent)
                frontier.append(parent)
    return by_name.get(name)


def _upper_bound(spec: SpecifierSet) -> str | None:
    """``>=4.31`` for ``<4.31``: the releases just above a range."""
    for item in spec:
        if item.operator == "<":
            return f">={item.version}"
        if item.operator in ("<=", "==", "~=", "==="):
            return f">{item.version.rstrip('.*')}"
    return None


def _distance(a: str, b: str) -> tuple[int, int, int]:
    va, vb = Version(a), Version(b)
    ra, rb = [*va.release, 0, 0, 0][:3], [*vb.release, 0, 0, 0][:3]
    return (abs(ra[0] - rb[0]), abs(ra[1] - rb[1]), abs(ra[2] - rb[2]))


def _nearest_with_wheels(
    pin: Pin,
    root: Requirement,
    engine: Engine,
    request: ResolveRequest,
    state: _State,
    resolution: Resolution,
    extra_lines: Sequence[str],
) -> str | None:
    """The nearest version of the target that pulls ``pin`` in, whose whole set has wheels.

    Two wheels-only resolutions: inside the target's range (newest first) and just above it
    (oldest first, uv's ``lowest-direct``); the one closer to the version resolved now wins.
    """
    key = canonicalize_name(root.name)
    current = resolution.pins.get(key)
    found: list[tuple[tuple[int, int, int], str]] = []
    trials = [(str(root), False, "")]
    upper = _upper_bound(root.specifier)
    if upper is not None:
        extras = f"[{','.join(sorted(root.extras))}]" if root.extras else ""
        trials.append((f"{key}{extras}{upper}", True, f" (outside target {root})"))
    for line, lowest, where in trials:
        trial = _State(
            dict(state.requirements),
            {k: r for k, r in state.rules.items() if r.kind != "keep"},
            build_constraints=state.build_constraints,
        )
        trial.requirements[key] = line
        lines = [x for x in extra_lines if canonicalize_name(Requirement(x).name) != key]
        try:
            got = engine.resolve(_engine_request(request, trial, {}, lines, wheels_only=True, lowest_direct=lowest))
        except EngineFailure:
            continue
        if key not in got.pins or pin.name not in got.pins:
            continue
        pair = f" with {pin.name}=={got.pins[pin.name]}" if pin.name != key else ""
        text = f"{key}=={got.pins[key]}{pair}{where}"
        found.append((_distance(got.pins[key], current) if current else (0, 0, 0), text))
    if not found:
        return None
    return min(found)[1]


# ---------------------------------------------------------------------- torch variants


def _torch_variant(
    pins: Sequence[Pin], installed: Mapping[str, str], indexes: IndexConfig
) -> tuple[tuple[str, ...], list[str]]:
    """Keep torch's build variant (``+cpu``, ``+cu128``): the index line that serves it."""
    have = installed.get("torch")
    if have is None:
        return (), []
    try:
        variant = Version(have).local
    except ValueError:  # InvalidVersion, or a release number int() refuses
        return (), []
    if not variant:
        return (), []
    moved = [p for p in pins if p.name in TORCH_FAMILY and p.status != "kept" and f"+{variant}" not in p.version]
    if not moved:
        return (), []
    url = f"{PYTORCH_INDEX}/{variant}"
    if url in (indexes.index_url, *indexes.extra_index_urls):
        return (), []
    names = ", ".join(f"{p.name} {p.version}" for p in moved)
    line = f"--extra-index-url {url}"
    note = (
        f"installed torch {have} is a +{variant} build; {names} must come from the same variant: install with "
        f"`{line}` (the +{variant} wheels sort above the plain ones there), never from PyPI alone"
    )
    return (line,), [note]
