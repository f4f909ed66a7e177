"""Rows added to knowledge/compat/numpy2.toml reach diagnose (PY006), with their boundaries."""

from __future__ import annotations

import pytest

from envdoctor.diagnosis import check_environment
from envdoctor.model import Distribution, Environment, HostFacts, PythonFacts

SITE = "/opt/venv/lib/python3.11/site-packages"


def _environment(*dists: tuple[str, str]) -> Environment:
    python = PythonFacts(
        executable="/opt/venv/bin/python",
        version="3.11.7",
        implementation="cpython",
        platform="linux-x86_64",
        machine="x86_64",
        prefix="/opt/venv",
        base_prefix="/usr",
        in_venv=True,
        site_packages=(SITE,),
        distributions=tuple(Distribution(name, version, SITE, ()) for name, version in dists),
    )
    return Environment(python=python, host=HostFacts())


def _py006(*dists: tuple[str, str]) -> list[str]:
    return [f.title for f in check_environment(_environment(*dists)).findings if f.id == "PY006"]


@pytest.mark.parametrize(
    ("package", "old", "new"),
    [("numexpr", "2.9.0", "2.10.0"), ("bottleneck", "1.3.8", "1.4.0"), ("statsmodels", "0.14.1", "0.14.2"),
     ("pywavelets", "1.5.0", "1.6.0"), ("spacy", "3.7.5", "3.8.2")],
)  # fmt: skip
def test_numpy1_build_under_numpy2_is_reported_and_the_first_numpy2_build_is_not(
    package: str, old: str, new: str
) -> None:
    flagged = _py006(("numpy", "2.0.0"), (package, old))
    assert flagged and package in flagged[0]
    assert not _py006(("numpy", "2.0.0"), (package, new))
    assert not _py006(("numpy", "1.26.4"), (package, old))
