"""Build throwaway Python environments with hand-written installed distributions.

``make_env`` creates a real venv (``python -m venv --without-pip``, about 50 ms) and
writes ``.dist-info`` directories (METADATA, top_level.txt, RECORD, INSTALLER) and any
package files into its site-packages, so the probe sees exactly what pip would have left
behind, without installing anything. Used by the probe tests and by diagnose tests.

Example::

    python = make_env(
        tmp_path,
        dists={"transformers": "4.29.1", "tokenizers": Dist("0.15.2", requires=["x>1"])},
        torch_version_py={"__version__": "2.1.0+cu121", "cuda": "12.1"},
        files={"mmdet/__init__.py": "mmcv_minimum_version = '2.0.0rc4'\\n"},
    )
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Dist", "make_env", "site_packages", "write_dist", "user_site_env"]


@dataclass(frozen=True)
class Dist:
    """One distribution to write; ``metadata`` (raw METADATA text) overrides the rest."""

    version: str
    requires: tuple[str, ...] | list[str] = ()
    top_level: tuple[str, ...] | list[str] | None = None
    installer: str = "pip"
    metadata: str | None = None
    record: bool = True
    files: Mapping[str, str] = field(default_factory=dict)


def make_env(
    root: Path,
    *,
    dists: Mapping[str, str | Dist] | None = None,
    files: Mapping[str, str] | None = None,
    torch_version_py: Mapping[str, object] | None = None,
    system_site_packages: bool = False,
    name: str = "venv",
    base_python: str | None = None,
) -> Path:
    """Create ``root/name`` as a venv holding ``dists`` and ``files``; return its python.

    ``files`` maps paths relative to site-packages to their text. ``torch_version_py``
    writes ``torch/version.py`` (and an empty ``torch/__init__.py`` unless ``files`` has
    one) with the given module-level values. ``system_site_packages`` also enables the
    user site, which a plain venv switches off.
    """
    env_dir = root / name
    command = [base_python or _base_python(), "-m", "venv", "--without-pip"]
    if system_site_packages:
        command.append("--system-site-packages")
    subprocess.run([*command, str(env_dir)], check=True, capture_output=True)
    target = site_packages(env_dir)
    for dist_name, spec in (dists or {}).items():
        write_dist(target, dist_name, spec)
    all_files = dict(files or {})
    if torch_version_py is not None:
        all_files.setdefault("torch/__init__.py", "")
        all_files["torch/version.py"] = _version_py(torch_version_py)
    for relative, text in all_files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return env_dir / "bin" / "python"


def site_packages(env_dir: Path) -> Path:
    """The site-packages directory of a venv made by :func:`make_env`."""
    found = sorted((env_dir / "lib").glob("python3.*/site-packages"))
    if found:
        return found[0]
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return env_dir / "lib" / version / "site-packages"


def user_site_env(user_base: Path, dists: Mapping[str, str | Dist]) -> dict[str, str]:
    """Write ``dists`` into a user site under ``user_base``; return env vars selecting it."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    target = user_base / "lib" / version / "site-packages"
    target.mkdir(parents=True, exist_ok=True)
    for dist_name, spec in dists.items():
        write_dist(target, dist_name, spec)
    env = {**os.environ, "PYTHONUSERBASE": str(user_base)}
    env.pop("PYTHONNOUSERSITE", None)
    return env


def write_dist(target: Path, name: str, spec: str | Dist) -> Path:
    """Write one ``NAME-VERSION.dist-info`` into ``target``; return its path."""
    dist = Dist(spec) if isinstance(spec, str) else spec
    stem = name.replace("-", "_")
    info = target / f"{stem}-{dist.version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    if dist.metadata is not None:
        (info / "METADATA").write_text(dist.metadata, encoding="utf-8")
    else:
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {dist.version}"]
        lines += [f"Requires-Dist: {r}" for r in dist.requires]
        (info / "METADATA").write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    top_level = dist.top_level if dist.top_level is not None else [stem.lower()]
    if top_level:
        (info / "top_level.txt").write_text("\n".join(top_level) + "\n", encoding="utf-8")
    (info / "INSTALLER").write_text(dist.installer + "\n", encoding="utf-8")
    for relative, text in dist.files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if dist.record:
        entries = [*dist.files, *(f"{info.name}/{n}" for n in ("METADATA", "INSTALLER"))]
        (info / "RECORD").write_text(_record(entries), encoding="utf-8")
    return info


def _record(entries: Iterable[str]) -> str:
    return "".join(f"{entry},,\n" for entry in entries)


def _version_py(values: Mapping[str, object]) -> str:
    lines = ["from typing import Optional", ""]
    for key, value in values.items():
        annotation = ": Optional[str]" if key in ("cuda", "hip") else ""
        lines.append(f"{key}{annotation} = {value!r}")
    return "\n".join(lines) + "\n"


def _base_python() -> str:
    # Inside a venv, sys.executable works too, but the base interpreter is faster to copy.
    return getattr(sys, "_base_executable", None) or sys.executable


#: mmdet 3.3.0's own ``mmdet/__init__.py`` (its import-time mmcv and mmengine asserts).
MMDET_330_INIT = """\
# Copyright (c) OpenMMLab. All rights reserved.
import mmcv
import mmengine
from mmengine.utils import digit_version

from .version import __version__, version_info

mmcv_minimum_version = '2.0.0rc4'
mmcv_maximum_version = '2.2.0'
mmcv_version = digit_version(mmcv.__version__)

mmengine_minimum_version = '0.7.1'
mmengine_maximum_version = '1.0.0'
mmengine_version = digit_version(mmengine.__version__)

assert (mmcv_version >= digit_version(mmcv_minimum_version)
        and mmcv_version < digit_version(mmcv_maximum_version)), \\
    f'MMCV=={mmcv.__version__} is used but incompatible. ' \\
    f'Please install mmcv>={mmcv_minimum_version}, <{mmcv_maximum_version}.'

assert (mmengine_version >= digit_version(mmengine_minimum_version)
        and mmengine_version < digit_version(mmengine_maximum_version)), \\
    f'MMEngine=={mmengine.__version__} is used but incompatible. ' \\
    f'Please install mmengine>={mmengine_minimum_version}, ' \\
    f'<{mmengine_maximum_version}.'

__all__ = ['__version__', 'version_info', 'digit_version']
"""
