"""The committed package index reads cleanly and records the wheel facts the issue names."""

from __future__ import annotations

import json

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envdoctor.resolve.index import PackageIndex
from envdoctor.resolve.wheels import TargetPlatform

CURATED = (
    "transformers",
    "tokenizers",
    "huggingface-hub",
    "torch",
    "torchvision",
    "numpy",
    "mmcv",
    "mmdet",
    "mmengine",
)


def test_refreshed_record_says_when_and_how(index: PackageIndex) -> None:
    refreshed = index.refreshed
    assert str(refreshed["refreshed"]).startswith("20")
    assert "refresh_index.py" in refreshed["command"]
    assert refreshed["missing"] == []
    assert refreshed["unreadable"] == []


def test_every_file_parses_and_every_requirement_is_pep508(index: PackageIndex) -> None:
    problems = []
    for name in index.names():
        releases = index.releases(name)
        assert releases, name
        for release in releases:
            for line in release.requires_dist or ():
                try:
                    Requirement(line)
                except Exception as exc:
                    problems.append(f"{name} {release.version}: {line!r}: {exc}")
            for spec in release.extras_bounds.values():
                SpecifierSet(spec)
    assert problems == []


def test_curated_packages_present_with_metadata(index: PackageIndex) -> None:
    for name in CURATED:
        assert name in index, name
        for release in index.releases(name) or ():
            assert release.requires_dist is not None or not release.wheels, (name, release.version)
    release = index.release("transformers", Version("4.29.1"))
    assert release is not None
    assert release.requires_dist is not None
    assert "tokenizers!=0.11.3,<0.14,>=0.11.1" in release.requires_dist


def test_tokenizers_0133_has_no_cp312_wheel(index: PackageIndex) -> None:
    release = index.release("tokenizers", Version("0.13.3"))
    assert release is not None
    assert release.has_wheel(TargetPlatform((3, 11)))
    assert not release.has_wheel(TargetPlatform((3, 12)))
    assert release.sdist
    build = index.source_build("tokenizers", release.version)
    assert build is not None and "Rust" in build.needs and "1.73" in build.fails


def test_transformers_import_checks_by_release(index: PackageIndex) -> None:
    old = index.checks_for("transformers", Version("4.29.1"))
    new = index.checks_for("transformers", Version("4.40.0"))
    assert old is not None and "accelerate" not in old.checks
    assert new is not None and "accelerate" in new.only_if_installed
    release = index.release("transformers", Version("4.40.0"))
    assert release is not None and "accelerate" in release.extras_bounds


def test_index_stays_small(index: PackageIndex) -> None:
    total = sum(p.stat().st_size for p in index.root.iterdir())
    assert total < 8 * 1024 * 1024
    for path in index.root.glob("*.json"):
        document = json.loads(path.read_text())
        assert document["name"] == path.stem
