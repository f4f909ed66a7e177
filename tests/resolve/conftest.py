"""Shared fixtures: a local index of generated wheels, and an environment that points pip and uv at it.

No test here needs the network: pip's configuration is switched off (``PIP_CONFIG_FILE``
= os.devnull), ``PIP_NO_INDEX`` and ``PIP_FIND_LINKS`` name the generated wheelhouse, and
uv gets a private cache. envdoctor reads those settings like a user's and passes them on.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.resolve.wheelhouse import SCENARIO, build_wheelhouse


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheelhouse(tmp_path_factory.mktemp("wheelhouse"), SCENARIO)


@pytest.fixture(scope="session")
def uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("uv-cache")


@pytest.fixture
def offline_index(wheelhouse: Path, uv_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point envdoctor (and through it uv and pip) at the wheelhouse only."""
    for name in list(os.environ):
        if name.startswith(("UV_", "PIP_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(uv_cache))
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(uv_cache / "no-config"))
    return wheelhouse
