"""Shared fixtures: the committed package index and compatibility tables (no network)."""

from __future__ import annotations

import pytest

from envdoctor.kb.compat import Compat, load_compat
from envdoctor.resolve.index import PackageIndex, load_index


@pytest.fixture(scope="session")
def index() -> PackageIndex:
    return load_index()


@pytest.fixture(scope="session")
def compat() -> Compat:
    return load_compat()
