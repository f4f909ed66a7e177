"""The resolvers envdoctor drives: ``uv pip compile``, else pip's resolver in a dry run.

envdoctor does not resolve: it hands requirements, constraints and preferences (the
installed versions) to a real resolver and reads back the pins and why each is there.
:class:`UvEngine` runs ``uv pip compile`` (https://docs.astral.sh/uv/pip/compile/): the
installed versions go into the output file before the run, which uv reads as
preferences, and its ``# via`` annotations name each pin's parents. :class:`PipEngine`
runs ``pip install --dry-run --report`` (https://pip.pypa.io/en/stable/reference/installation-report/)
where uv is absent; parents come from the report's ``requires_dist``. Both go through the
probe's runner (no shell, a timeout). A failure is an :class:`EngineFailure` carrying the
resolver's own words.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from envdoctor.kb.requires import applies, parse_requirement
from envdoctor.probe.runner import Runner, SubprocessRunner
from envdoctor.resolve.indexes import IndexConfig
from envdoctor.resolve.target import TargetPlatform

__all__ = [
    "EngineRequest",
    "Resolution",
    "EngineFailure",
    "Engine",
    "UvEngine",
    "PipEngine",
    "find_uv",
    "pick_engine",
    "REQUESTED",
    "CONSTRAINED",
]

#: ``# via`` markers for the user's requirements and envdoctor's constraints.
REQUESTED = "-r"
CONSTRAINED = "-c"
FailureKind = Literal["conflict", "not-found", "no-wheel", "index", "tool", "pkg-resources"]
#: pip gained ``--dry-run`` and ``--report`` in 22.2 (https://pip.pypa.io/en/stable/news/#v22-2).
PIP_DRY_RUN = Version("22.2")


@dataclass(frozen=True)
class EngineRequest:
    """One resolution: requirement lines, constraint lines, preferred versions, target, index."""

    requirements: tuple[str, ...]
    target: TargetPlatform
    indexes: IndexConfig
    constraints: tuple[str, ...] = ()
    preferences: Mapping[str, str] = field(default_factory=dict)
    wheels_only: bool | tuple[str, ...] = False
    """True: no source builds at all; a tuple: no source builds for these packages."""
    lowest_direct: bool = False
    build_constraints: tuple[str, ...] = ()
    """Constraints on the tools that build sdists for their metadata (``setuptools<82``)."""


@dataclass(frozen=True)
class Resolution:
    """Pins (canonical name -> version text) and each pin's parents (names, ``-r``, ``-c``)."""

    pins: Mapping[str, str]
    via: Mapping[str, tuple[str, ...]]
    engine: str
    argv: tuple[str, ...] = ()
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()
    requires: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """``parent==version`` -> dependency name -> the range it asks for (PEP 440 text)."""


class EngineFailure(Exception):
    """The resolver found no solution or could not run; ``message`` is its own text."""

    def __init__(self, kind: FailureKind, message: str, package: str | None = None, engine: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.package = package
        self.engine = engine


class Engine(Protocol):
    """A resolver envdoctor can drive."""

    name: str

    def resolve(self, request: EngineRequest) -> Resolution:
        """Resolve ``request`` or raise :class:`EngineFailure`."""
        ...


def find_uv(runner: Runner | None = None) -> str | None:
    """The uv binary: the one the ``uv`` package ships, else ``uv`` on PATH."""
    try:
        import uv  # type: ignore[import-not-found,unused-ignore]

        found = str(uv.find_uv_bin())
        if os.access(found, os.X_OK):
            return found
    except (ImportError, FileNotFoundError, AttributeError):
        pass
    return (runner or SubprocessRunner()).which("uv") or shutil.which("uv")


def pick_engine(runner: Runner | None = None, *, python: str | None = None, prefer: str = "auto") -> Engine:
    """uv when it is installed (or ``prefer='uv'``), else pip in ``python``."""
    uv = find_uv(runner) if prefer in ("auto", "uv") else None
    if uv is not None:
        return UvEngine(uv, runner=runner)
    if prefer == "uv":
        raise EngineFailure("tool", "uv is not installed: pip install uv (or drop --resolver uv)")
    return PipEngine(python, runner=runner)


def _write(path: Path, lines: Sequence[str]) -> str:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------------- uv

_NOT_FOUND = re.compile(
    r"Because (?P<name>[A-Za-z0-9._-]+) was not found in the (?:package registry|provided package locations)"
)
_NO_WHEEL = re.compile(
    # Names start where a run of name characters starts, versions are short: linear searches.
    r"(?<![A-Za-z0-9._-])(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S{1,64}?) has no (?:usable )?wheels?"
    r"|(?<![A-Za-z0-9._-])(?P<name2>[A-Za-z0-9._-]+)==(?P<version2>\S{1,64}?) "
    r"(?:only has|has only) (?:a )?source distribution"
)
_BUILD_FAILED = re.compile(r"Failed to build `(?P<name>[A-Za-z0-9._-]+)(?:==|@)")
_INDEX_TROUBLE = re.compile(r"Failed to fetch|error sending request|dns error|Could not connect|Network is unreachable")


class UvEngine:
    """``uv pip compile`` with installed versions as preferences."""

    name = "uv"

    def __init__(self, uv: str, *, runner: Runner | None = None, timeout: float = 600.0) -> None:
        self.uv = uv
        self.runner = runner or SubprocessRunner()
        self.timeout = timeout

    def argv(self, request: EngineRequest, folder: Path) -> tuple[list[str], dict[str, str]]:
        """The command line and environment for ``request`` (files written into ``folder``)."""
        argv = [self.uv, "pip", "compile", _write(folder / "requirements.in", request.requirements)]
        argv += ["--output-file", _write(folder / "pins.txt", [f"{n}=={v}" for n, v in request.preferences.items()])]
        if request.constraints:
            argv += ["--constraints", _write(folder / "envdoctor.txt", request.constraints)]
        for path in request.indexes.constraints:
            argv += ["--constraints", path]
        if request.build_constraints:
            argv += ["--build-constraints", _write(folder / "build.txt", request.build_constraints)]
        # -v: uv logs each dependency it adds with its range, which explains the pins for free.
        argv += ["--no-header", "--annotation-style", "split", "--color", "never", "--no-progress", "-v"]
        target_args, target_env = request.target.uv_args()
        argv += target_args + request.indexes.uv_args()
        if request.wheels_only is True:
            argv += ["--only-binary", ":all:"]
        elif request.wheels_only:
            for name in request.wheels_only:
                argv += ["--no-build-package", name]
        if request.lowest_direct:
            argv += ["--resolution", "lowest-direct"]
        env = dict(os.environ)
        env.setdefault("UV_PYTHON_DOWNLOADS", "never")  # never fetch an interpreter to resolve for
        env.update(target_env)
        return argv, env

    def resolve(self, request: EngineRequest) -> Resolution:
        with tempfile.TemporaryDirectory(prefix="envdoctor-uv-") as tmp:
            folder = Path(tmp)
            argv, env = self.argv(request, folder)
            result = self.runner.run(argv, timeout=self.timeout, env=env)
            if not result.ok:
                raise _uv_failure(result.stderr or result.describe_failure(), result.describe_failure())
            text = (folder / "pins.txt").read_text(encoding="utf-8")
        pins, via = parse_compiled(text)
        warnings = tuple(line for line in result.stderr.splitlines() if line.startswith("warning:"))
        requires = parse_added_dependencies(result.stderr)
        return Resolution(pins, via, self.name, tuple(argv), result.seconds, warnings, requires)


_ADDED = re.compile(
    r"Adding transitive dependency for (?P<parent>[A-Za-z0-9._-]+)==(?P<version>\S+?): "
    r"(?P<name>[A-Za-z0-9._-]+)(?:\[[^\]]*\])?(?P<range>.*)$"
)
_NOT_EQUAL = re.compile(r"<(?P<a>[^\s,|]+) \| >=?(?P<b>[^\s,|]+?)\+?(?=$|,)")


def uv_range(text: str) -> str:
    """uv's logged range as PEP 440 text: ``>=0.11.1, <0.11.3 | >0.11.3, <0.14`` -> ``>=0.11.1,!=0.11.3,<0.14``.

    uv logs ranges as unions of intervals; an exclusion (``!=X``) shows as ``<X | >X``. Text
    that is not such an exclusion is returned as uv wrote it (``*`` becomes empty).
    """
    text = text.strip()
    if text == "*":
        return ""
    merged = _NOT_EQUAL.sub(lambda m: f"!={m['a']}" if m["a"] == m["b"] else m[0], text)
    return merged.replace(", ", ",")


def parse_added_dependencies(log: str) -> dict[str, dict[str, str]]:
    """``parent==version`` -> dependency -> range, from ``uv -v``'s "Adding transitive dependency" lines."""
    out: dict[str, dict[str, str]] = {}
    for line in log.splitlines():
        match = _ADDED.search(line)
        if match is None:
            continue
        key = f"{canonicalize_name(match['parent'])}=={match['version']}"
        name = str(canonicalize_name(match["name"]))
        # uv logs the parent's own range first; a later line for the same pair is a
        # constraint applied to it (from -c), which is not the parent's requirement.
        out.setdefault(key, {}).setdefault(name, uv_range(match["range"]))
    return out


def _uv_failure(stderr: str, fallback: str) -> EngineFailure:
    lines = stderr.strip().splitlines()
    text = "\n".join(line for line in lines if not line.startswith(("warning:", "DEBUG ", "TRACE "))) or fallback
    if "No module named 'pkg_resources'" in text and (match := _BUILD_FAILED.search(text)):
        return EngineFailure("pkg-resources", text, canonicalize_name(match["name"]), "uv")
    if match := _NOT_FOUND.search(text):
        return EngineFailure("not-found", text, canonicalize_name(match["name"]), "uv")
    if match := _NO_WHEEL.search(text):
        return EngineFailure("no-wheel", text, canonicalize_name(match["name"] or match["name2"]), "uv")
    if "No solution found" in text:
        return EngineFailure("conflict", text, None, "uv")
    if _INDEX_TROUBLE.search(text):
        return EngineFailure("index", text, None, "uv")
    return EngineFailure("tool", text, None, "uv")


def parse_compiled(text: str) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Pins and ``# via`` parents from ``uv pip compile`` output (split annotations)."""
    pins: dict[str, str] = {}
    via: dict[str, list[str]] = {}
    current: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            head = line.split(";", 1)[0].split("#", 1)[0].strip()
            name, sep, version = head.partition("==")
            if not sep:
                current = None
                continue
            current = str(canonicalize_name(name.split("[", 1)[0].strip()))
            pins[current] = version.strip()
            via[current] = []
            continue
        if current is None:
            continue
        note = line.lstrip("#").strip()
        if note.startswith("via"):
            note = note[3:].strip()
        if not note:
            continue
        if note.startswith("-r "):
            via[current].append(REQUESTED)
        elif note.startswith("-c "):
            via[current].append(CONSTRAINED)
        else:
            via[current].append(str(canonicalize_name(note.split("[", 1)[0].split(" ", 1)[0])))
    return pins, {k: tuple(dict.fromkeys(v)) for k, v in via.items()}


# ---------------------------------------------------------------------- pip


class PipEngine:
    """``pip install --dry-run --report`` in the target interpreter (or this one, for a fresh target)."""

    name = "pip"

    def __init__(self, python: str | None, *, runner: Runner | None = None, timeout: float = 900.0) -> None:
        import sys

        self.python = python or sys.executable
        self.runner = runner or SubprocessRunner()
        self.timeout = timeout

    def pip_version(self, python: str) -> Version | None:
        """The version of pip in ``python`` (``None``: no pip there)."""
        result = self.runner.run([python, "-m", "pip", "--version"], timeout=60)
        match = re.match(r"pip (\S+)", result.stdout)
        if not result.ok or match is None:
            return None
        try:
            return Version(match[1])
        except ValueError:  # InvalidVersion, or a release number int() refuses
            return None

    def resolve(self, request: EngineRequest) -> Resolution:
        import sys

        python = request.target.interpreter or sys.executable
        version = self.pip_version(python)
        if version is None or version < PIP_DRY_RUN:
            have = f"pip {version}" if version else "no pip"
            raise EngineFailure(
                "tool", f"{python} has {have}; resolving needs pip >= {PIP_DRY_RUN} or uv (pip install uv)", None, "pip"
            )
        with tempfile.TemporaryDirectory(prefix="envdoctor-pip-") as tmp:
            folder = Path(tmp)
            report = folder / "report.json"
            argv = [python, "-m", "pip", "install", "--dry-run", "--report", str(report)]
            argv += [
                "--disable-pip-version-check",
                "--no-input",
                "-r",
                _write(folder / "requirements.in", request.requirements),
            ]
            if request.constraints:
                argv += ["-c", _write(folder / "envdoctor.txt", request.constraints)]
            if request.target.cross:
                argv += ["--ignore-installed", "--target", str(folder / "nowhere"), *request.target.pip_args()]
            argv += request.indexes.pip_args()
            if request.wheels_only is True and not request.target.cross:
                argv += ["--only-binary", ":all:"]
            elif isinstance(request.wheels_only, tuple) and request.wheels_only:
                argv += ["--only-binary", ",".join(request.wheels_only)]
            result = self.runner.run(argv, timeout=self.timeout)
            if not result.ok:
                raise _pip_failure(result.stderr + result.stdout, result.describe_failure())
            try:
                document = json.loads(report.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise EngineFailure("tool", f"pip wrote no installation report: {exc}", None, "pip") from exc
        pins: dict[str, str] = {}
        if not request.target.cross:
            pins.update({str(canonicalize_name(n)): v for n, v in request.preferences.items()})
        requires: dict[str, list[Requirement]] = {}
        requested: set[str] = set()
        for item in document.get("install", []):
            meta = item.get("metadata", {})
            name = str(canonicalize_name(str(meta.get("name", ""))))
            if not name:
                continue
            pins[name] = str(meta.get("version", ""))
            if item.get("requested"):
                requested.add(name)
            requires[name] = [
                r for r in (parse_requirement(t) for t in meta.get("requires_dist") or ()) if r is not None
            ]
        via: dict[str, list[str]] = {name: [] for name in pins}
        markers = {**dict(document.get("environment") or {}), "extra": ""}
        for parent, reqs in requires.items():
            for req in reqs:
                child = str(canonicalize_name(req.name))
                if child in via and applies(req, markers):
                    via[child].append(parent)
        for name in requested:
            via[name].insert(0, REQUESTED)
        ranges: dict[str, dict[str, str]] = {}
        for parent, reqs in requires.items():
            for req in reqs:
                if applies(req, markers):
                    ranges.setdefault(f"{parent}=={pins[parent]}", {})[str(canonicalize_name(req.name))] = str(
                        req.specifier
                    )
        frozen = {k: tuple(v) for k, v in via.items()}
        return Resolution(pins, frozen, self.name, tuple(argv), result.seconds, requires=ranges)


_PIP_NOT_FOUND = re.compile(r"No matching distribution found for (?P<name>[A-Za-z0-9._-]+)")


def _pip_failure(output: str, fallback: str) -> EngineFailure:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    text = "\n".join(lines[-30:]) or fallback
    if "ResolutionImpossible" in text or "conflicting dependencies" in text:
        return EngineFailure("conflict", text, None, "pip")
    if match := _PIP_NOT_FOUND.search(text):
        return EngineFailure("not-found", text, canonicalize_name(match["name"]), "pip")
    return EngineFailure("tool", text, None, "pip")
