"""Wheel tags reduced to what envdoctor decides with: (interpreter, ABI, platform family).

A wheel file name carries exact tags (``cp312-cp312-manylinux_2_17_x86_64``); whether a
version "has a wheel" for a target only needs the platform *family* (manylinux x86_64,
macOS arm64, Windows amd64, any), so the package index stores one compact string per
family, ``cp312-cp312-manylinux_x86_64``, and :func:`compatible` answers with the tag
sets of :mod:`packaging.tags` built for the target Python: abi3 wheels count for newer
Pythons and ``py3-none-any`` counts everywhere, exactly as pip would decide (glibc
floors of ``manylinux_2_X`` are not modelled).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from packaging import tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

__all__ = [
    "PLATFORM_FAMILIES",
    "TargetPlatform",
    "platform_family",
    "wheel_family_tags",
    "compatible",
]

#: Family name -> the PEP 508 marker values of a typical host of that family.
PLATFORM_FAMILIES: dict[str, dict[str, str]] = {
    "manylinux_x86_64": {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
    },
    "manylinux_aarch64": {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "aarch64",
        "os_name": "posix",
    },
    "musllinux_x86_64": {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
    },
    "musllinux_aarch64": {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "aarch64",
        "os_name": "posix",
    },
    "macosx_arm64": {
        "sys_platform": "darwin",
        "platform_system": "Darwin",
        "platform_machine": "arm64",
        "os_name": "posix",
    },
    "macosx_x86_64": {
        "sys_platform": "darwin",
        "platform_system": "Darwin",
        "platform_machine": "x86_64",
        "os_name": "posix",
    },
    "win_amd64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64", "os_name": "nt"},
    "win32": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "x86", "os_name": "nt"},
    "win_arm64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "ARM64", "os_name": "nt"},
}

_LINUX = re.compile(r"^(?:manylinux_\d+_\d+|manylinux\d+|linux)_(?P<arch>.+)$")
_MUSL = re.compile(r"^musllinux_\d+_\d+_(?P<arch>.+)$")
_MAC = re.compile(r"^macosx_\d+_\d+_(?P<arch>.+)$")


def platform_family(platform: str) -> tuple[str, ...]:
    """The families a platform tag serves: ``manylinux2014_x86_64`` -> ``manylinux_x86_64``.

    ``macosx_*_universal2`` serves both macOS families; ``any`` stays ``any``; an
    unknown tag is returned unchanged (it then matches only itself).
    """
    platform = platform.lower().replace("-", "_").replace(".", "_")
    if platform == "any" or platform in PLATFORM_FAMILIES:
        return (platform,)
    if match := _LINUX.match(platform):
        arch = match["arch"]
        return (f"manylinux_{arch}",)
    if match := _MUSL.match(platform):
        return (f"musllinux_{match['arch']}",)
    if match := _MAC.match(platform):
        arch = match["arch"]
        if arch in ("universal2", "universal"):
            return ("macosx_arm64", "macosx_x86_64")
        if arch in ("intel", "x86_64", "fat64", "fat3", "fat32"):
            return ("macosx_x86_64",)
        return (f"macosx_{arch}",)
    return (platform,)


def wheel_family_tags(filename: str) -> tuple[str, ...]:
    """``interp-abi-family`` strings for one wheel file name (empty for non-wheels)."""
    try:
        _, _, _, file_tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return ()
    out: set[str] = set()
    for tag in file_tags:
        for family in platform_family(tag.platform):
            out.add(f"{tag.interpreter}-{tag.abi}-{family}")
    return tuple(sorted(out))


@dataclass(frozen=True)
class TargetPlatform:
    """The interpreter and platform a constraints file is made for."""

    python: tuple[int, int]
    family: str = "manylinux_x86_64"
    python_full_version: str | None = None

    @property
    def python_version(self) -> str:
        return f"{self.python[0]}.{self.python[1]}"

    @property
    def label(self) -> str:
        """``CPython 3.12 on manylinux_x86_64``."""
        return f"CPython {self.python_version} on {self.family}"

    def markers(self) -> dict[str, str]:
        """A PEP 508 marker environment for this target (CPython assumed)."""
        env = {
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "python_version": self.python_version,
            "python_full_version": self.python_full_version or f"{self.python_version}.0",
            "implementation_version": self.python_full_version or f"{self.python_version}.0",
            "platform_release": "",
            "platform_version": "",
        }
        env.update(PLATFORM_FAMILIES.get(self.family, PLATFORM_FAMILIES["manylinux_x86_64"]))
        return env

    def supported(self) -> frozenset[str]:
        """Every ``interp-abi-family`` string a wheel may carry to install here."""
        return _supported(self.python, self.family)


@lru_cache(maxsize=32)
def _supported(python: tuple[int, int], family: str) -> frozenset[str]:
    platforms = [family]
    found: set[str] = set()
    for tag in tags.cpython_tags(python, platforms=platforms):
        found.add(str(tag))
    for tag in tags.compatible_tags(python, f"cp{python[0]}{python[1]}", platforms=platforms):
        found.add(str(tag))
    return frozenset(found)


def compatible(wheel_tags: Iterable[str], target: TargetPlatform) -> bool:
    """Whether any of a version's wheel family tags installs on ``target``."""
    supported = target.supported()
    return any(tag in supported for tag in wheel_tags)
