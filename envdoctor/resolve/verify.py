"""``--verify``: ask pip's own resolver whether a constraints file installs, without installing.

Runs ``python -m pip install --dry-run --ignore-installed --quiet --report - -c FILE NAMES``
for the target interpreter (through the probe's runner: no shell, with a timeout) and
reads pip's JSON installation report (https://pip.pypa.io/en/stable/reference/installation-report/)
to say what pip would choose. For a target that is not a real interpreter
(``--python-version``/``--platform``), pip's ``--python-version``, ``--platform`` and
``--only-binary=:all:`` are passed, so a pin without a wheel fails verification there, as
it would fail to install without a compiler. This needs the package index.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envdoctor.probe.runner import Runner, SubprocessRunner
from envdoctor.resolve.solve import Solution
from envdoctor.resolve.wheels import TargetPlatform

__all__ = ["Verification", "verify_argv", "verify", "PIP_PLATFORMS"]

#: pip ``--platform`` values for a platform family (pip accepts several).
PIP_PLATFORMS: Mapping[str, tuple[str, ...]] = {
    "manylinux_x86_64": ("manylinux_2_28_x86_64", "manylinux2014_x86_64", "manylinux_2_17_x86_64", "linux_x86_64"),
    "manylinux_aarch64": ("manylinux_2_28_aarch64", "manylinux2014_aarch64", "manylinux_2_17_aarch64"),
    "macosx_arm64": ("macosx_14_0_arm64", "macosx_11_0_arm64", "macosx_12_0_arm64"),
    "macosx_x86_64": ("macosx_10_15_x86_64", "macosx_10_9_x86_64"),
    "win_amd64": ("win_amd64",),
}


@dataclass(frozen=True)
class Verification:
    """What pip's dry run said."""

    ok: bool
    argv: tuple[str, ...]
    chosen: Mapping[str, str] = field(default_factory=dict)
    mismatches: tuple[str, ...] = ()
    message: str = ""


def verify_argv(
    path: str,
    names: Sequence[str],
    *,
    python: str | None,
    target: TargetPlatform | None = None,
) -> list[str]:
    """The pip command line for a dry run (``python`` ``None``: this interpreter + target flags)."""
    argv = [python or sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"]
    argv += ["--report", "-", "--disable-pip-version-check", "--no-input", "-c", path]
    if python is None and target is not None:
        argv += ["--python-version", target.python_version, "--only-binary", ":all:"]
        for platform in PIP_PLATFORMS.get(target.family, (target.family,)):
            argv += ["--platform", platform]
        argv += ["--implementation", "cp"]
    argv += list(names)
    return argv


def verify(
    solution: Solution,
    path: str,
    *,
    python: str | None,
    cross: bool = False,
    runner: Runner | None = None,
    timeout: float = 600.0,
) -> Verification:
    """Dry-run pip for every pinned package of ``solution`` under the constraints at ``path``.

    Packages known only from the environment (an editable install, a private package) are
    not requested: the index pip reads may not have them; their pins still constrain.
    """
    names = [p.name for p in solution.pins if p.version is not None and p.indexed]
    argv = verify_argv(path, names, python=None if cross else python, target=solution.target if cross else None)
    result = (runner or SubprocessRunner()).run(argv, timeout=timeout)
    if not result.ok:
        tail = "\n".join(result.stderr.strip().splitlines()[-25:]) or result.describe_failure()
        return Verification(False, tuple(argv), message=f"pip could not install the constraints:\n{tail}")
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        return Verification(False, tuple(argv), message=f"pip printed no installation report: {exc}")
    chosen: dict[str, str] = {}
    for item in report.get("install", []):
        meta = item.get("metadata", {})
        if "name" in meta and "version" in meta:
            chosen[canonicalize_name(meta["name"])] = meta["version"]
    mismatches = []
    for pin in solution.pins:
        if pin.version is None or not pin.indexed:
            continue
        got = chosen.get(pin.name)
        try:
            same = got is not None and Version(got).public == pin.version.public
        except InvalidVersion:
            same = False
        if not same:
            mismatches.append(f"{pin.name}: pinned {pin.version}, pip chose {got or 'nothing'}")
    ok = not mismatches
    message = "pip's resolver accepts the constraints" if ok else "pip chose differently"
    return Verification(ok, tuple(argv), chosen, tuple(mismatches), message)
