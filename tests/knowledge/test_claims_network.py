"""Claims of the knowledge base that the package index can decide, checked against PyPI.

Run by hand (they need the network and are skipped by default)::

    python -m pytest -m network tests/knowledge -q

* every fix pin of every entry: an exact ``==`` pin names a release that exists and is not
  yanked; a range (with its environment marker, if any) is satisfied, for each Python the
  marker admits, by a non-yanked final release with a wheel for that Python;
* every version a boundary names (a ``[sources]`` key such as ``huggingface-hub<0.26`` or
  ``mmdet>=3.2.0``) is a release on the index;
* the Python-specific claims the entries' texts make (which releases have wheels for which
  Python) and the release facts their causes rest on (:data:`CLAIMS`);
* ``knowledge/compat/numpy2.toml``: each ``last_numpy1_only`` is regenerated as the release
  just before ``numpy2_from`` on the index and compared with the committed value.

The index is read through PyPI's JSON simple API (PEP 691) and, for dependency metadata,
the wheels' PEP 658 ``.metadata`` files; nothing is installed.
"""

from __future__ import annotations

import io
import json
import re
import tomllib
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from envdoctor.kb.entry import Entry
from envdoctor.kb.loader import knowledge_root, lint_knowledge
from envdoctor.kb.vocabulary import FACTS

pytestmark = pytest.mark.network

INDEX = "https://pypi.org/simple"
#: Pythons a fix pin must serve when its marker admits them.
PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_VERSION_IN_SPEC = re.compile(r"(?:===|==|!=|<=|>=|~=|<|>)\s*([0-9][^,;\s]*)")


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str
    yanked: bool


@cache
def index_files(name: str) -> tuple[IndexFile, ...]:
    """Every file of ``name`` on the index (PEP 691 JSON)."""
    request = urllib.request.Request(
        f"{INDEX}/{canonicalize_name(name)}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        document = json.load(response)
    return tuple(IndexFile(f["filename"], f["url"], bool(f.get("yanked"))) for f in document["files"])


def _version_of(name: str, filename: str) -> Version | None:
    if filename.endswith(".whl"):
        try:
            return parse_wheel_filename(filename)[1]
        except (InvalidWheelFilename, InvalidVersion):
            return None
    stem = re.sub(r"\.(tar\.gz|zip|tar\.bz2|tgz)$", "", filename)
    parts = re.split(r"[-_.]+", canonicalize_name(name))
    prefix = re.compile("^" + "[-_.]".join(re.escape(p) for p in parts) + "-", re.I)
    if not prefix.match(stem):
        return None
    try:
        return Version(prefix.sub("", stem))
    except InvalidVersion:
        return None


@cache
def releases(name: str) -> dict[Version, tuple[IndexFile, ...]]:
    """Version -> its files (releases whose every file is yanked included)."""
    out: dict[Version, list[IndexFile]] = {}
    for file in index_files(name):
        version = _version_of(name, file.filename)
        if version is not None:
            out.setdefault(version, []).append(file)
    return {v: tuple(fs) for v, fs in out.items()}


def is_yanked(name: str, version: Version) -> bool:
    files = releases(name)[version]
    return all(f.yanked for f in files)


def live_releases(name: str) -> list[Version]:
    """Final, non-yanked releases that have at least one file, oldest first."""
    return sorted(v for v in releases(name) if not v.is_prerelease and not v.is_devrelease and not is_yanked(name, v))


def find_release(name: str, version: str | Version) -> Version | None:
    """The index's release equal to ``version`` (4.31 == 4.31.0), or ``None``."""
    wanted = Version(str(version))
    return next((v for v in releases(name) if v == wanted), None)


def has_wheel_for(name: str, version: Version, python: str) -> bool:
    """A non-yanked wheel of ``version`` installs on CPython ``python`` (any platform)."""
    major, minor = (int(x) for x in python.split("."))
    for file in releases(name).get(version, ()):
        if file.yanked or not file.filename.endswith(".whl"):
            continue
        for tag in parse_wheel_filename(file.filename)[3]:
            if tag.interpreter in (f"py{major}", f"py{major}{minor}") and tag.abi == "none":
                return True
            match = re.fullmatch(r"cp(\d)(\d+)", tag.interpreter)
            if not match or int(match.group(1)) != major:
                continue
            if int(match.group(2)) == minor or (tag.abi == "abi3" and int(match.group(2)) <= minor):
                return True
    return False


@cache
def requires_dist(name: str, version: str) -> tuple[str, ...]:
    """Requires-Dist of a release, from a wheel's PEP 658 metadata file (or the wheel itself)."""
    release = find_release(name, version)
    assert release is not None, f"{name} {version} is not on the index"
    for file in releases(name)[release]:
        if not file.filename.endswith(".whl"):
            continue
        try:
            with urllib.request.urlopen(file.url + ".metadata", timeout=60) as response:
                text = response.read().decode("utf-8")
        except urllib.error.HTTPError:
            continue
        return _requires(text)
    # no PEP 658 file (older uploads): read METADATA from the smallest wheel itself
    wheels = [f for f in releases(name)[release] if f.filename.endswith(".whl") and not f.yanked]
    assert wheels, f"{name} {version} has no wheel to read metadata from"
    with urllib.request.urlopen(wheels[0].url, timeout=120) as response:
        archive = zipfile.ZipFile(io.BytesIO(response.read()))
    member = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    return _requires(archive.read(member).decode("utf-8"))


def _requires(metadata: str) -> tuple[str, ...]:
    return tuple(line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:"))


def requirement_of(name: str, version: str, dependency: str) -> SpecifierSet:
    """The (unconditional) specifier ``name==version`` declares for ``dependency``."""
    for text in requires_dist(name, version):
        requirement = Requirement(text)
        if canonicalize_name(requirement.name) == canonicalize_name(dependency) and requirement.marker is None:
            return requirement.specifier
    raise AssertionError(f"{name} {version} declares no {dependency}")


# --------------------------------------------------------------------------- fix pins


def _entries() -> list[Entry]:
    # lint_knowledge parses every entry it can and never raises, so a broken entry elsewhere
    # does not turn this module into a collection error
    entries, _problems = lint_knowledge(knowledge_root(), names=False)
    return sorted(entries, key=lambda e: e.id)


def _pins() -> list[tuple[str, str]]:
    out = []
    for entry in _entries():
        for pin in entry.fix_constraints:
            if not _PLACEHOLDER.search(pin):
                out.append((entry.id, pin))
    return out


def _boundaries() -> list[tuple[str, str, str, str]]:
    out = []
    for entry in _entries():
        for key in entry.sources:
            try:
                requirement = Requirement(key)
            except InvalidRequirement:
                continue
            if requirement.name in FACTS:
                continue  # a fact boundary such as python.version>=3.13
            for spec in requirement.specifier:
                if _VERSION_IN_SPEC.fullmatch(str(spec)):
                    out.append((entry.id, requirement.name, spec.operator, spec.version))
    return out


@pytest.mark.parametrize(("entry_id", "pin"), _pins(), ids=lambda v: str(v))
def test_fix_pin_is_installable(entry_id: str, pin: str) -> None:
    requirement = Requirement(pin)
    name = requirement.name
    exact = [s for s in requirement.specifier if s.operator in ("==", "===") and "*" not in s.version]
    if exact:
        release = find_release(name, exact[0].version)
        assert release is not None, f"{entry_id}: {pin}: no such release on the index"
        assert not is_yanked(name, release), f"{entry_id}: {pin}: the release is yanked"
        return
    candidates = [v for v in live_releases(name) if requirement.specifier.contains(v, prereleases=False)]
    assert candidates, f"{entry_id}: {pin}: no non-yanked release satisfies it"
    marker = requirement.marker or Marker('python_version >= "0"')
    for python in PYTHONS:
        if not marker.evaluate({"python_version": python, "python_full_version": f"{python}.0"}):
            continue
        assert any(has_wheel_for(name, v, python) for v in candidates), (
            f"{entry_id}: {pin}: no release in the range has a wheel for Python {python}; "
            "condition the pin with a python_version marker"
        )


@pytest.mark.parametrize(("entry_id", "name", "operator", "version"), _boundaries(), ids=lambda v: str(v))
def test_boundary_version_is_a_release(entry_id: str, name: str, operator: str, version: str) -> None:
    """A boundary names a release; a short one (``>=4``, ``<1.3``) names a series.

    A series boundary needs a release in that series, except a cap (``<``) beyond every
    release on the index, which only says how far the entry reaches.
    """
    if find_release(name, version) is not None:
        return
    wanted = Version(version)
    assert len(wanted.release) < 3, f"{entry_id}: {name} {version} is not a release on the index"
    prefix = wanted.release
    in_series = [v for v in releases(name) if v.release[: len(prefix)] == prefix]
    if operator == "<" and not in_series:
        newest = max(releases(name))
        assert wanted > newest, f"{entry_id}: {name}<{version} caps inside the index but no {version} series exists"
        return
    assert in_series, f"{entry_id}: no {name} release in the {version} series"


# --------------------------------------------------------------------------- claims in entry texts


def _wheels(name: str, version: str, *, has: tuple[str, ...] = (), lacks: tuple[str, ...] = ()) -> Callable[[], None]:
    def check() -> None:
        release = find_release(name, version)
        assert release is not None, f"{name} {version} is not on the index"
        for python in has:
            assert has_wheel_for(name, release, python), f"{name} {version} has no wheel for Python {python}"
        for python in lacks:
            assert not has_wheel_for(name, release, python), f"{name} {version} has a wheel for Python {python}"

    return check


def _no_release_with_wheel(name: str, spec: str, python: str) -> Callable[[], None]:
    def check() -> None:
        found = [v for v in live_releases(name) if v in SpecifierSet(spec) and has_wheel_for(name, v, python)]
        assert not found, f"{name}{spec} has wheels for Python {python}: {found}"

    return check


def _cap(name: str, version: str, dependency: str, spec: str) -> Callable[[], None]:
    def check() -> None:
        assert str(requirement_of(name, version, dependency)) == str(SpecifierSet(spec))

    return check


def _newest(name: str, version: str, *, below: str | None = None) -> Callable[[], None]:
    def check() -> None:
        pool = [v for v in live_releases(name) if below is None or v < Version(below)]
        assert pool and pool[-1] == Version(version), f"newest {name}{'<' + below if below else ''}: {pool[-1:]}"

    return check


def _yanked(name: str, version: str, yanked: bool) -> Callable[[], None]:
    def check() -> None:
        release = find_release(name, version)
        assert release is not None and is_yanked(name, release) is yanked

    return check


#: (entries that state it, what they state, the check).
CLAIMS: list[tuple[str, str, Callable[[], None]]] = [
    ("VR108", "torch 1.13.1 has cp311 wheels (Linux x86_64), none for 3.12",
     _wheels("torch", "1.13.1", has=("3.10", "3.11"), lacks=("3.12",))),
    ("VR108 VR120 HF001 SD102", "tokenizers 0.13.3 stops at Python 3.11",
     _wheels("tokenizers", "0.13.3", has=("3.11",), lacks=("3.12",))),
    ("PY006 VR111 VR117 VR118", "no numpy<2 release has a wheel for Python 3.13",
     _no_release_with_wheel("numpy", "<2", "3.13")),
    ("PY006 VR111 VR117 VR118", "numpy 1.26.4 is the last 1.x and has cp312 wheels",
     _newest("numpy", "1.26.4", below="2")),
    ("PY006 VR111 VR117 VR118", "numpy 1.26.4 has cp312 wheels", _wheels("numpy", "1.26.4", has=("3.12",))),
    ("VR110", "no numpy<1.24 release has a wheel for Python 3.12", _no_release_with_wheel("numpy", "<1.24", "3.12")),
    ("VR102", "transformers 4.12.2 declares no hub cap", _cap("transformers", "4.12.2", "huggingface-hub", ">=0.0.17")),
    ("VR102", "transformers 4.57.1 caps hub below 1.0",
     _cap("transformers", "4.57.1", "huggingface-hub", ">=0.34.0,<1.0")),
    ("VR102", "transformers 5.0.0 caps hub below 2.0",
     _cap("transformers", "5.0.0", "huggingface-hub", ">=1.3.0,<2.0")),
    ("VR102", "transformers 4.57.6 is the last 4.x", _newest("transformers", "4.57.6", below="5")),
    ("VR112", "diffusers 0.29.0 exists (first release without cached_download)",
     _wheels("diffusers", "0.29.0", has=("3.11",))),
    ("VR113", "protobuf 3.20.3 is the last 3.x", _newest("protobuf", "3.20.3", below="4")),
    ("VR124", "mmsegmentation 1.2.2 is the newest release (the notes reach it)", _newest("mmsegmentation", "1.2.2")),
    ("HF001", "mmdet 3.2.0 exists", _wheels("mmdet", "3.2.0", has=("3.11",))),
    ("VR104 VR103 PY003", "mmdet 3.3.0's base metadata declares neither mmcv nor mmengine",
     lambda: _assert_only_in_extra("mmdet", "3.3.0", ("mmcv", "mmengine"))),
    ("numpy2.toml", "scikit-image 0.23.0 is yanked", _yanked("scikit-image", "0.23.0", True)),
    ("numpy2.toml", "scikit-image 0.23.1 is not yanked", _yanked("scikit-image", "0.23.1", False)),
    ("MM001 CU108", "mmcv 2.x publishes only sdists on PyPI", lambda: _assert_no_wheels("mmcv", ">=2.0.0,<2.3")),
]  # fmt: skip


def _assert_only_in_extra(name: str, version: str, dependencies: tuple[str, ...]) -> None:
    for text in requires_dist(name, version):
        requirement = Requirement(text)
        if canonicalize_name(requirement.name) in dependencies:
            assert requirement.marker is not None and "extra" in str(requirement.marker), text


def _assert_no_wheels(name: str, spec: str) -> None:
    for version, files in releases(name).items():
        if version in SpecifierSet(spec, prereleases=True):
            assert not any(f.filename.endswith(".whl") for f in files), f"{name} {version} has a wheel on PyPI"


@pytest.mark.parametrize(("entries", "claim", "check"), CLAIMS, ids=[c[1] for c in CLAIMS])
def test_claim(entries: str, claim: str, check: Callable[[], None]) -> None:
    check()


# --------------------------------------------------------------------------- numpy2.toml


def _numpy2_rows() -> list[dict[str, str]]:
    with (Path(knowledge_root()) / "compat" / "numpy2.toml").open("rb") as handle:
        return list(tomllib.load(handle)["package"])


@pytest.mark.parametrize("row", _numpy2_rows(), ids=lambda r: r["name"])
def test_numpy2_last_numpy1_only_regenerated_from_the_index(row: dict[str, str]) -> None:
    name = row["name"]
    first = find_release(name, row["numpy2_from"])
    assert first is not None, f"{name} {row['numpy2_from']} is not on the index"
    before = [v for v in live_releases(name) if v < first]
    assert before, f"{name}: no release before {first}"
    assert str(before[-1]) == row["last_numpy1_only"], (
        f"{name}: the release before {first} on the index is {before[-1]}, the table says {row['last_numpy1_only']}"
    )
