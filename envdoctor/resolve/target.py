"""The interpreter and platform a constraints file is made for, as the resolvers name them.

A target is either a real interpreter (``--python`` or this one: the resolver asks it for
its markers and wheel tags) or a fresh environment described by ``--python-version`` and a
wheel platform tag (``--platform manylinux_2_28_x86_64``). uv takes a platform as a target
triple (``--python-platform x86_64-manylinux_2_28``) and reads the macOS floor from
``MACOSX_DEPLOYMENT_TARGET`` (https://docs.astral.sh/uv/reference/cli/#uv-pip-compile--python-platform),
so a macOS 11 target never gets a wheel that needs macOS 14; pip takes the tag itself.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

from envdoctor.errors import BadInputError
from envdoctor.model import small_number

__all__ = ["TargetPlatform", "uv_platform", "pip_platforms", "parse_python_version"]

_MANYLINUX = re.compile(
    r"^manylinux_(?P<major>[0-9]{1,4})_(?P<minor>[0-9]{1,4})_(?P<arch>x86_64|aarch64|ppc64le|s390x|i686|armv7l)$"
)
_LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_MUSL = re.compile(r"^musllinux_(?P<major>[0-9]{1,4})_(?P<minor>[0-9]{1,4})_(?P<arch>x86_64|aarch64|i686|armv7l)$")
_MAC = re.compile(r"^macosx_(?P<major>[0-9]{1,4})_(?P<minor>[0-9]{1,4})_(?P<arch>arm64|x86_64|universal2)$")
_WINDOWS = {
    "win_amd64": "x86_64-pc-windows-msvc",
    "win32": "i686-pc-windows-msvc",
    "win_arm64": "aarch64-pc-windows-msvc",
}
_LINUX_PLAIN = {"linux_x86_64": "x86_64-unknown-linux-gnu", "linux_aarch64": "aarch64-unknown-linux-gnu"}
#: The oldest manylinux uv names as a triple (x86_64-manylinux_2_17 ... _2_40).
_UV_MANYLINUX_FLOOR = (2, 17)


def uv_platform(tag: str) -> tuple[str, str | None]:
    """``manylinux_2_28_x86_64`` -> (``x86_64-manylinux_2_28``, None); macOS also gives its floor.

    Raises :class:`BadInputError` naming the tag when uv has no equivalent.
    """
    text = tag.strip().lower().replace("-", "_").replace(".", "_")
    for legacy, (major, minor) in _LEGACY.items():
        if text.startswith(legacy + "_"):
            text = f"manylinux_{major}_{minor}_{text[len(legacy) + 1 :]}"
    if match := _MANYLINUX.match(text):
        glibc = max((int(match["major"]), int(match["minor"])), _UV_MANYLINUX_FLOOR)
        return f"{match['arch']}-manylinux_{glibc[0]}_{glibc[1]}", None
    if match := _MUSL.match(text):
        return f"{match['arch']}-unknown-linux-musl", None
    if match := _MAC.match(text):
        arch = {"arm64": "aarch64", "x86_64": "x86_64", "universal2": "aarch64"}[match["arch"]]
        return f"{arch}-apple-darwin", f"{match['major']}.{match['minor']}"
    if text in _WINDOWS:
        return _WINDOWS[text], None
    if text in _LINUX_PLAIN:
        return _LINUX_PLAIN[text], None
    raise BadInputError(
        f"--platform {tag!r}: unknown platform; use a wheel platform tag such as "
        "manylinux_2_28_x86_64, manylinux2014_aarch64, musllinux_1_2_x86_64, macosx_11_0_arm64, win_amd64"
    )


def pip_platforms(tag: str) -> list[str]:
    """The tags pip should accept for ``tag``: pip does not widen an explicit ``--platform``
    to older glibc or macOS releases, so ``manylinux_2_28_x86_64`` is spelled out down to
    ``manylinux_2_17`` (and ``manylinux2014``), ``macosx_14_0_arm64`` down to 11.0."""
    text = tag.strip().lower().replace("-", "_").replace(".", "_")
    for legacy, (major, minor) in _LEGACY.items():
        if text.startswith(legacy + "_"):
            text = f"manylinux_{major}_{minor}_{text[len(legacy) + 1 :]}"
    if match := _MANYLINUX.match(text):
        arch, top = match["arch"], int(match["minor"])
        out = [f"manylinux_2_{minor}_{arch}" for minor in range(top, 16, -1)]
        out += [f"manylinux2014_{arch}"] if top >= 17 else []
        out += [f"manylinux_2_{minor}_{arch}" for minor in range(min(top, 16), 4, -1)]
        return out
    if match := _MAC.match(text):
        major, arch = int(match["major"]), match["arch"]
        out = []
        for version in range(major, 10, -1):
            out += [f"macosx_{version}_0_{arch}", f"macosx_{version}_0_universal2"]
        if arch == "x86_64" or major <= 10:
            out += [f"macosx_10_{minor}_{a}" for minor in range(15, 8, -1) for a in ("x86_64", "universal2")]
        return out
    return [tag]


def parse_python_version(text: str) -> tuple[int, int]:
    """``3.12`` (or ``3.12.4``) as ``(3, 12)``; exit 2 naming the flag otherwise."""
    parts = text.strip().split(".")
    numbers = all(small_number(p, 3) for p in parts)
    if len(parts) not in (2, 3) or not numbers or parts[0] != "3":
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise BadInputError(f"--python-version {shown!r}: expected X.Y, e.g. 3.12")
    return int(parts[0]), int(parts[1])


@dataclass(frozen=True)
class TargetPlatform:
    """A real interpreter (``interpreter``) or a fresh Python ``python`` on ``platform``."""

    python: tuple[int, int]
    platform: str | None = None
    interpreter: str | None = None
    python_full_version: str | None = None

    @classmethod
    def fresh(cls, python_version: str | None, platform: str | None) -> TargetPlatform:
        """``--python-version X.Y [--platform TAG]`` (both optional: this Python, this host)."""
        python = (
            parse_python_version(python_version)
            if python_version is not None
            else (sys.version_info.major, sys.version_info.minor)
        )
        if platform is not None:
            uv_platform(platform)  # exit 2 now for a tag no resolver knows
        return cls(python, platform)

    @property
    def python_version(self) -> str:
        return f"{self.python[0]}.{self.python[1]}"

    @property
    def cross(self) -> bool:
        """True for a fresh target (no interpreter to ask)."""
        return self.interpreter is None

    @property
    def label(self) -> str:
        """``CPython 3.12 on manylinux_2_28_x86_64`` or ``CPython 3.11.7 (/venv/bin/python)``."""
        if self.interpreter is not None:
            return f"CPython {self.python_full_version or self.python_version} ({self.interpreter})"
        return f"CPython {self.python_version} on {self.platform or 'this platform'}"

    def uv_args(self) -> tuple[list[str], dict[str, str]]:
        """Arguments and environment that describe this target to ``uv pip compile``."""
        if self.interpreter is not None:
            return ["--python", self.interpreter], {}
        args = ["--python-version", self.python_version]
        env: dict[str, str] = {}
        if self.platform is not None:
            triple, macos = uv_platform(self.platform)
            args += ["--python-platform", triple]
            if macos is not None:
                env["MACOSX_DEPLOYMENT_TARGET"] = macos
        return args, env

    def pip_args(self) -> list[str]:
        """Arguments that describe a fresh target to ``pip install --dry-run`` (wheels only)."""
        if self.interpreter is not None:
            return []
        args = ["--python-version", self.python_version, "--implementation", "cp", "--only-binary", ":all:"]
        for platform in pip_platforms(self.platform) if self.platform is not None else ():
            args += ["--platform", platform]
        return args
