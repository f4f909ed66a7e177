"""Read what resolution needs out of a probed :class:`~envdoctor.model.Environment`.

The installed distributions (name, version, their own ``Requires-Dist``), the import-time
bounds the probe read from installed sources, and the target: the interpreter's
``major.minor`` and the platform family of its most specific wheel tag.
"""

from __future__ import annotations

import platform as _platform

from envdoctor.errors import BadInputError
from envdoctor.model import Environment, ImportBound
from envdoctor.resolve.provider import Installed
from envdoctor.resolve.wheels import PLATFORM_FAMILIES, TargetPlatform, platform_family

__all__ = ["installed_from", "target_from", "target_from_flags", "host_family"]


def installed_from(env: Environment) -> tuple[tuple[Installed, ...], tuple[ImportBound, ...]]:
    """Installed distributions (first copy on ``sys.path`` wins) and import-time bounds."""
    found: dict[str, Installed] = {}
    for dist in env.python.distributions:
        version = dist.parsed_version
        if dist.key in found or version is None:
            continue
        requires = None if dist.metadata_error else tuple(dist.requires)
        found[dist.key] = Installed(dist.key, version, requires)
    return tuple(found.values()), tuple(env.python.import_bounds)


def target_from(env: Environment) -> TargetPlatform:
    """The target of a probed interpreter."""
    parts = env.python.version.split(".")
    python = (int(parts[0]), int(parts[1]))
    family = None
    for tag in env.python.tags:
        platform = tag.split("-")[-1]
        if platform != "any":
            family = platform_family(platform)[0]
            break
    if family is None:
        family = host_family(env.python.markers.get("sys_platform"), env.python.markers.get("platform_machine"))
    return TargetPlatform(python, family, env.python.version)


def host_family(sys_platform: str | None = None, machine: str | None = None) -> str:
    """The platform family of a host (this one by default)."""
    import sys

    system = sys_platform or sys.platform
    arch = (machine or _platform.machine()).lower()
    if system.startswith("linux"):
        return f"manylinux_{'aarch64' if arch in ('aarch64', 'arm64') else arch}"
    if system == "darwin":
        return "macosx_arm64" if arch == "arm64" else "macosx_x86_64"
    if system == "win32":
        return "win_arm64" if arch == "arm64" else "win_amd64"
    return arch


def target_from_flags(python_version: str | None, platform: str | None) -> TargetPlatform:
    """``--python-version 3.12 --platform manylinux_2_28_x86_64`` as a target (exit 2 if unreadable)."""
    import sys

    if python_version is None:
        python = (sys.version_info.major, sys.version_info.minor)
    else:
        parts = python_version.strip().split(".")
        if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts) or parts[0] != "3":
            raise BadInputError(f"--python-version {python_version!r}: expected X.Y, e.g. 3.12")
        python = (int(parts[0]), int(parts[1]))
    family = host_family() if platform is None else platform_family(platform)[0]
    if family not in PLATFORM_FAMILIES:
        raise BadInputError(
            f"--platform {platform!r}: unknown platform; use a wheel platform tag such as "
            f"manylinux_2_28_x86_64, macosx_11_0_arm64, win_amd64, or one of: {', '.join(PLATFORM_FAMILIES)}"
        )
    return TargetPlatform(python, family)
