"""Wheel tags reduced to platform families, and compatibility as pip decides it."""

from __future__ import annotations

import pytest

from envdoctor.resolve.wheels import TargetPlatform, compatible, platform_family, wheel_family_tags

PY311 = TargetPlatform((3, 11))
PY312 = TargetPlatform((3, 12))


@pytest.mark.parametrize(
    ("tag", "family"),
    [
        ("manylinux_2_17_x86_64", ("manylinux_x86_64",)),
        ("manylinux2014_x86_64", ("manylinux_x86_64",)),
        ("manylinux1_x86_64", ("manylinux_x86_64",)),
        ("linux_x86_64", ("manylinux_x86_64",)),
        ("manylinux_2_28_aarch64", ("manylinux_aarch64",)),
        ("musllinux_1_2_x86_64", ("musllinux_x86_64",)),
        ("macosx_10_9_universal2", ("macosx_arm64", "macosx_x86_64")),
        ("macosx_11_0_arm64", ("macosx_arm64",)),
        ("win_amd64", ("win_amd64",)),
        ("any", ("any",)),
    ],
)
def test_platform_family(tag: str, family: tuple[str, ...]) -> None:
    assert platform_family(tag) == family


def test_cpython_specific_wheel_only_fits_its_python() -> None:
    tags = wheel_family_tags("tokenizers-0.13.3-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    assert tags == ("cp311-cp311-manylinux_x86_64",)
    assert compatible(tags, PY311)
    assert not compatible(tags, PY312)
    assert not compatible(tags, TargetPlatform((3, 11), "macosx_arm64"))


def test_abi3_counts_for_newer_pythons_only() -> None:
    tags = wheel_family_tags("tokenizers-0.15.0-cp37-abi3-manylinux_2_17_x86_64.whl")
    assert compatible(tags, PY312)
    assert not compatible(wheel_family_tags("x-1.0-cp313-abi3-manylinux_2_17_x86_64.whl"), PY312)


def test_pure_python_wheel_fits_everywhere() -> None:
    tags = wheel_family_tags("transformers-4.29.1-py3-none-any.whl")
    assert compatible(tags, PY312)
    assert compatible(tags, TargetPlatform((3, 11), "win_amd64"))


def test_not_a_wheel_has_no_tags() -> None:
    assert wheel_family_tags("tokenizers-0.13.3.tar.gz") == ()


def test_target_markers_follow_the_family() -> None:
    markers = TargetPlatform((3, 12), "macosx_arm64").markers()
    assert markers["python_version"] == "3.12"
    assert markers["sys_platform"] == "darwin"
    assert markers["platform_machine"] == "arm64"
