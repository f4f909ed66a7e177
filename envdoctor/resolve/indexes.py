"""Which package index to resolve against: the one the user's pip or uv configuration names.

pip reads ``pip.conf`` files and ``PIP_*`` variables
(https://pip.pypa.io/en/stable/topics/configuration/); uv reads ``uv.toml`` and ``UV_*``
variables but not pip's files. So that ``uv pip compile`` answers for the index that
``pip install`` will use, pip's settings (index URL, extra index URLs, find-links,
no-index, constraint files) are read here and passed to uv as flags, unless the user has
configured uv itself, which then wins. Flags given to envdoctor win over both.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["IndexConfig", "read_index_config", "pip_config_files", "PYTORCH_INDEX"]

#: PyTorch's own index; ``/cpu``, ``/cu128``, ... serve each build variant.
PYTORCH_INDEX = "https://download.pytorch.org/whl"
_UV_SETTINGS = ("UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS", "UV_NO_INDEX")


@dataclass(frozen=True)
class IndexConfig:
    """Index settings, and where they came from (``pip.conf``, ``uv``, ``flags``, ``default``)."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    constraints: tuple[str, ...] = ()
    origin: str = "default"
    uv_configured: bool = False

    def uv_args(self) -> list[str]:
        """The flags that make uv use these settings (none when uv is configured itself)."""
        args: list[str] = []
        if self.uv_configured and self.origin == "uv":
            return args
        if self.no_index:
            args.append("--no-index")
        elif self.index_url:
            args += ["--index-url", self.index_url]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        for link in self.find_links:
            args += ["--find-links", link]
        if self.extra_index_urls or self.find_links:
            # pip weighs every index alike; uv by default takes a package from the first index
            # that has it (https://docs.astral.sh/uv/configuration/indexes/#searching-across-multiple-indexes).
            args += ["--index-strategy", "unsafe-best-match"]
        return args

    def pip_args(self) -> list[str]:
        """Flags for pip: only what envdoctor's own flags changed (pip reads its config)."""
        if self.origin != "flags":
            return []
        args = ["--no-index"] if self.no_index else (["--index-url", self.index_url] if self.index_url else [])
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        for link in self.find_links:
            args += ["--find-links", link]
        return args

    def describe(self) -> str:
        """``https://pypi.org/simple (default)`` or the configured locations."""
        if self.origin == "uv":
            return "uv's own configuration (uv.toml / UV_* variables)"
        parts = ["no index" if self.no_index else (self.index_url or "https://pypi.org/simple")]
        parts += [f"extra {u}" for u in self.extra_index_urls]
        parts += [f"find-links {u}" for u in self.find_links]
        return ", ".join(parts) + f" ({self.origin})"


def pip_config_files(environ: Mapping[str, str], prefix: str | None = None) -> list[Path]:
    """pip's configuration files in load order (later wins); none when ``PIP_CONFIG_FILE`` is os.devnull."""
    named = environ.get("PIP_CONFIG_FILE")
    if named is not None and named == os.devnull:
        return []
    files: list[Path] = []
    xdg_dirs = environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    files += [Path(d) / "pip" / "pip.conf" for d in xdg_dirs if d]
    files.append(Path("/etc/pip.conf"))
    home = Path(environ.get("HOME", str(Path.home())))
    files.append(home / ".pip" / "pip.conf")
    files.append(Path(environ.get("XDG_CONFIG_HOME", str(home / ".config"))) / "pip" / "pip.conf")
    files.append(Path(prefix or sys.prefix) / "pip.conf")
    if named:
        files.append(Path(named))
    return [f for f in files if f.is_file()]


def _split(value: str) -> tuple[str, ...]:
    return tuple(value.split())


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def read_index_config(
    environ: Mapping[str, str] | None = None,
    *,
    index_url: str | None = None,
    extra_index_urls: Sequence[str] = (),
    find_links: Sequence[str] = (),
    prefix: str | None = None,
) -> IndexConfig:
    """The index settings in effect: envdoctor's flags, else uv's own, else pip's."""
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME", str(Path.home())))
    uv_files = [Path("/etc/uv/uv.toml"), Path(env.get("XDG_CONFIG_HOME", str(home / ".config"))) / "uv" / "uv.toml"]
    uv_configured = any(env.get(k) for k in _UV_SETTINGS) or any(f.is_file() for f in uv_files)
    if index_url or extra_index_urls or find_links:
        return IndexConfig(
            index_url=index_url,
            extra_index_urls=tuple(extra_index_urls),
            find_links=tuple(find_links),
            origin="flags",
            uv_configured=uv_configured,
        )
    values: dict[str, str] = {}
    for path in pip_config_files(env, prefix):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue  # pip itself would refuse the file; the index stays as pip's default
        for section in ("global", "install"):
            if parser.has_section(section):
                values.update({k.replace("_", "-"): v for k, v in parser.items(section)})
    for key in ("index-url", "extra-index-url", "find-links", "no-index", "constraint"):
        variable = "PIP_" + key.upper().replace("-", "_")
        if env.get(variable) is not None:
            values[key] = env[variable]
    constraints = _split(values.get("constraint", ""))
    if uv_configured:
        return IndexConfig(constraints=constraints, origin="uv", uv_configured=True)
    configured = any(k in values for k in ("index-url", "extra-index-url", "find-links", "no-index"))
    return IndexConfig(
        index_url=values.get("index-url") or None,
        extra_index_urls=_split(values.get("extra-index-url", "")),
        find_links=_split(values.get("find-links", "")),
        no_index=_truthy(values.get("no-index", "")),
        constraints=constraints,
        origin="pip configuration" if configured else "default",
    )
