"""A local package index of tiny generated wheels and sdists, as uv's own test scenarios build.

``build_wheelhouse(folder, RELEASES)`` writes one file per release into ``folder`` (a
``--find-links`` folder): a real wheel (zip with ``METADATA``, ``WHEEL``, ``RECORD`` and a
package module) for every tag given, and an sdist (``.tar.gz`` with a static
``PKG-INFO``, Metadata-Version 2.2, which resolvers read without building) where asked.
The releases use real project names so envdoctor's knowledge (compat tables, removed-API
callers) applies to them exactly as to the real ones; their dependency lines copy the
real releases' Requires-Dist for the packages involved (cited per scenario).
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Release", "build_wheelhouse", "SCENARIO"]


@dataclass(frozen=True)
class Release:
    """One release: Requires-Dist lines, wheel tags (``py3-none-any``...) and whether an sdist exists."""

    name: str
    version: str
    requires: Sequence[str] = ()
    tags: Sequence[str] = ("py3-none-any",)
    sdist: bool = False
    requires_python: str | None = None


def _metadata(release: Release, version: str = "2.1") -> str:
    lines = [f"Metadata-Version: {version}", f"Name: {release.name}", f"Version: {release.version}"]
    if release.requires_python:
        lines.append(f"Requires-Python: {release.requires_python}")
    extras = sorted({r.split("extra ==", 1)[1].strip().strip("'\"") for r in release.requires if "extra ==" in r})
    lines += [f"Provides-Extra: {extra}" for extra in extras]
    lines += [f"Requires-Dist: {r}" for r in release.requires]
    return "\n".join(lines) + "\n\n"


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _wheel(folder: Path, release: Release, tag: str) -> Path:
    stem = release.name.replace("-", "_")
    info = f"{stem}-{release.version}.dist-info"
    files = {
        f"{stem}/__init__.py": f"__version__ = {release.version!r}\n".encode(),
        f"{info}/METADATA": _metadata(release).encode(),
        f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: {tag}\n".encode(),
    }
    record = [_record_line(p, d) for p, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / f"{stem}-{release.version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


_PYPROJECT = b'[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'


def _sdist(folder: Path, release: Release) -> Path:
    stem = release.name.replace("-", "_")
    root = f"{stem}-{release.version}"
    files = {
        f"{root}/PKG-INFO": _metadata(release, "2.2").encode(),
        f"{root}/pyproject.toml": _PYPROJECT,
    }
    path = folder / f"{root}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return path


def build_wheelhouse(folder: Path, releases: Iterable[Release]) -> Path:
    """Write every release's files into ``folder``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for release in releases:
        for tag in release.tags:
            _wheel(folder, release, tag)
        if release.sdist:
            _sdist(folder, release)
    return folder


_CP311 = "cp311-cp311-manylinux_2_17_x86_64"
_CP312 = "cp312-cp312-manylinux_2_17_x86_64"
_ANY = "py3-none-any"

#: The releases every offline constraints test resolves over. Dependency lines follow the real
#: releases' Requires-Dist for the packages involved (transformers 4.30.2/4.34.0 on tokenizers
#: and huggingface-hub, torchvision's exact torch pin, sentence-transformers 2.2.2 on
#: huggingface-hub); everything else is left out to keep the index small.
SCENARIO: tuple[Release, ...] = (
    # transformers / tokenizers: 0.13.3 has no CPython 3.12 wheel; 0.14.1 does.
    Release("transformers", "4.17.0", ("tokenizers!=0.11.3,>=0.11.1", "huggingface-hub<1.0,>=0.1.0")),
    Release(
        "transformers",
        "4.30.2",
        (
            "tokenizers!=0.11.3,<0.14,>=0.11.1",
            "huggingface-hub<1.0,>=0.14.1",
            "numpy>=1.17",
            'torch!=1.12.0,>=1.9; extra == "torch"',
        ),
    ),
    Release("transformers", "4.34.0", ("tokenizers<0.15,>=0.14", "huggingface-hub<1.0,>=0.16.4", "numpy>=1.17")),
    Release("tokenizers", "0.13.3", (), (_CP311,), sdist=True),
    Release("tokenizers", "0.14.1", ("huggingface-hub<0.18,>=0.16.4",), (_CP311, _CP312), sdist=True),
    Release("tokenizers", "0.15.2", ("huggingface-hub<1.0,>=0.16.4",), (_CP311, _CP312), sdist=True),
    Release("huggingface-hub", "0.17.3"),
    Release("huggingface-hub", "0.25.2"),
    Release("huggingface-hub", "0.26.0"),
    Release("huggingface-hub", "0.36.0"),
    # sentence-transformers 2.2.2 imports huggingface_hub.cached_download (removed in 0.26).
    Release("sentence-transformers", "2.2.2", ("huggingface-hub>=0.4.0", "numpy")),
    Release("sentence-transformers", "2.3.0", ("huggingface-hub>=0.15.1", "numpy")),
    # numpy: torch 2.1 is built against NumPy 1 (knowledge/compat/torch.toml).
    Release("numpy", "1.26.4", (), (_CP311, _CP312)),
    Release("numpy", "2.1.3", (), (_CP311, _CP312)),
    # torch and torchvision: torchvision pins the exact torch it was built for.
    Release("torch", "2.1.0", ("filelock",), (_CP311,)),
    Release("torch", "2.2.0", ("filelock",), (_CP311, _CP312)),
    Release("torch", "2.8.0", ("filelock",), (_CP311, "cp311-none-macosx_11_0_arm64")),
    Release("torch", "2.9.0", ("filelock",), (_CP311, "cp311-none-macosx_14_0_arm64")),
    Release("torchvision", "0.16.0", ("torch==2.1.0", "numpy"), (_CP311,)),
    Release("torchvision", "0.17.0", ("torch==2.2.0", "numpy"), (_CP311, _CP312)),
    Release("filelock", "3.13.1"),
    # mmdet 3.3.0 declares no mmcv; its __init__ asserts mmcv>=2.0.0rc4,<2.2.0 and mmengine>=0.7.1,<1.0.0.
    Release("mmdet", "3.3.0", ("numpy",)),
    Release("mmcv", "2.1.0", ("mmengine>=0.3.0",), (_CP311,)),
    Release("mmcv", "2.2.0", ("mmengine>=0.3.0",), (_CP311,)),
    Release("mmengine", "0.10.4"),
    # A wheel only for glibc 2.24: installable on manylinux_2_28 hosts.
    Release("glibc-floor", "1.0", (), ("cp311-cp311-manylinux_2_24_x86_64",)),
)
