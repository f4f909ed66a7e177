"""``--verify``: ask an installer whether the constraints file installs, without installing.

For a real interpreter this is the apply command as a dry run, in that interpreter:
``python -m pip install --dry-run --report FILE -c CONSTRAINTS <changed packages>`` (pip
>= 22.2 has ``--dry-run`` and ``--report``; the report goes to a file so pip's own
messages stay visible and are shown when it fails). Where that pip is older or absent,
``uv pip install --dry-run --python <interpreter>`` answers instead. A fresh target
(``--python-version``/``--platform``) has no interpreter: uv resolves the file for the
target's platform tags with wheels only (``--only-binary :all:``), which is what an
install there without a compiler would do; pip with ``--platform`` is the fallback.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from envdoctor.probe.runner import Runner, SubprocessRunner
from envdoctor.resolve.engine import PIP_DRY_RUN, EngineFailure, EngineRequest, PipEngine, UvEngine, find_uv
from envdoctor.resolve.indexes import IndexConfig
from envdoctor.resolve.solve import Solution

__all__ = ["Verification", "verify"]

_UV_LINE = re.compile(r"^\s*[+]\s*(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)")


@dataclass(frozen=True)
class Verification:
    """What the installer's dry run said."""

    ok: bool
    argv: tuple[str, ...]
    tool: str
    chosen: Mapping[str, str] = field(default_factory=dict)
    mismatches: tuple[str, ...] = ()
    message: str = ""


def _compare(solution: Solution, chosen: Mapping[str, str], names: Sequence[str]) -> list[str]:
    out = []
    for pin in solution.pins:
        # Every pin the installer touches must be the pinned one; kept pins it leaves alone.
        if pin.name not in names and pin.name not in chosen:
            continue
        got = chosen.get(pin.name)
        try:
            same = got is not None and Version(got).public == Version(pin.version).public
        except ValueError:  # InvalidVersion, or a release number int() refuses
            same = got == pin.version
        if not same:
            out.append(f"{pin.name}: pinned {pin.version}, the installer chose {got or 'nothing'}")
    return out


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def verify(
    solution: Solution,
    path: str,
    indexes: IndexConfig,
    *,
    runner: Runner | None = None,
    timeout: float = 900.0,
) -> Verification:
    """Dry-run an installer on the constraints at ``path`` for the solution's target."""
    run = runner or SubprocessRunner()
    target = solution.target
    options = [part for line in solution.index_lines for part in line.split()]
    uv = find_uv(run)
    if target.interpreter is None:
        names = [p.name for p in solution.pins]
        if uv is not None:
            return _uv_compile(solution, path, names, indexes, options, uv, run)
        return _pip(solution, path, names, indexes, options, run, timeout, python=None)
    names = list(solution.install) or [p.name for p in solution.changes]
    if not names:
        return Verification(True, (), "", message="nothing to install: every pin is already installed")
    version = PipEngine(target.interpreter, runner=run).pip_version(target.interpreter)
    if version is not None and version >= PIP_DRY_RUN:
        return _pip(solution, path, names, indexes, options, run, timeout, python=target.interpreter)
    if uv is None:
        have = f"pip {version}" if version else "no pip"
        return Verification(
            False, (), "pip", message=f"{target.interpreter} has {have}; --verify needs pip >= {PIP_DRY_RUN} or uv"
        )
    argv = [uv, "pip", "install", "--dry-run", "--python", target.interpreter, "-c", path, *options]
    argv += [*indexes.uv_args(), "--color", "never", *names]
    result = run.run(argv, timeout=timeout)
    if not result.ok:
        return Verification(
            False, tuple(argv), "uv", message=f"uv would not install the constraints:\n{_tail(result.stderr)}"
        )
    chosen: dict[str, str] = {}
    for line in (result.stderr + result.stdout).splitlines():
        if match := _UV_LINE.match(line):
            chosen[str(canonicalize_name(match["name"]))] = match["version"]
    return _verdict(solution, tuple(argv), "uv", chosen, names)


def _verdict(
    solution: Solution, argv: tuple[str, ...], tool: str, chosen: Mapping[str, str], names: Sequence[str]
) -> Verification:
    mismatches = _compare(solution, chosen, names)
    message = f"{tool} accepts the constraints" if not mismatches else f"{tool} chose differently"
    return Verification(not mismatches, argv, tool, chosen, tuple(mismatches), message)


def _uv_compile(
    solution: Solution,
    path: str,
    names: Sequence[str],
    indexes: IndexConfig,
    options: Sequence[str],
    uv: str,
    run: Runner,
) -> Verification:
    extra = [options[i + 1] for i, o in enumerate(options) if o == "--extra-index-url" and i + 1 < len(options)]
    config = IndexConfig(
        index_url=indexes.index_url,
        extra_index_urls=(*indexes.extra_index_urls, *extra),
        find_links=indexes.find_links,
        no_index=indexes.no_index,
        constraints=(*indexes.constraints, path),
        origin=indexes.origin,
        uv_configured=indexes.uv_configured,
    )
    engine = UvEngine(uv, runner=run)
    request = EngineRequest(requirements=tuple(names), target=solution.target, indexes=config, wheels_only=True)
    try:
        got = engine.resolve(request)
    except EngineFailure as failure:
        return Verification(
            False, (), "uv", message=f"uv (wheels only) would not install the constraints:\n{_tail(failure.message)}"
        )
    return _verdict(solution, got.argv, "uv (wheels only)", got.pins, names)


def _pip(
    solution: Solution,
    path: str,
    names: Sequence[str],
    indexes: IndexConfig,
    options: Sequence[str],
    run: Runner,
    timeout: float,
    *,
    python: str | None,
) -> Verification:
    import sys

    with tempfile.TemporaryDirectory(prefix="envdoctor-verify-") as tmp:
        report = Path(tmp) / "report.json"
        argv = [python or sys.executable, "-m", "pip", "install", "--dry-run", "--report", str(report)]
        argv += ["--disable-pip-version-check", "--no-input", "-c", path, *options, *indexes.pip_args()]
        if python is None:
            # pip < 23.3 refuses --platform/--python-version without --target, even in a dry run.
            argv += ["--ignore-installed", "--target", str(Path(tmp) / "target"), *solution.target.pip_args()]
        argv += list(names)
        result = run.run(argv, timeout=timeout)
        if not result.ok:
            output = _tail(result.stderr + "\n" + result.stdout) or result.describe_failure()
            return Verification(False, tuple(argv), "pip", message=f"pip would not install the constraints:\n{output}")
        try:
            document = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return Verification(False, tuple(argv), "pip", message=f"pip wrote no installation report: {exc}")
    chosen: dict[str, str] = {}
    for item in document.get("install", []):
        meta = item.get("metadata", {})
        if "name" in meta and "version" in meta:
            chosen[str(canonicalize_name(meta["name"]))] = str(meta["version"])
    if python is not None:
        # Already-installed packages that satisfy the file are not in the report.
        for pin in solution.pins:
            if pin.status == "kept":
                chosen.setdefault(pin.name, pin.version)
    return _verdict(solution, tuple(argv), "pip", chosen, names)
