"""Resolution over the committed index: the reference cases, minimal change, explanations."""

from __future__ import annotations

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envdoctor.errors import BadInputError, ResolutionError
from envdoctor.kb.compat import Compat
from envdoctor.model import Finding, Fix, ImportBound
from envdoctor.resolve.index import PackageIndex
from envdoctor.resolve.provider import Installed
from envdoctor.resolve.solve import ResolveRequest, Solution, solve
from envdoctor.resolve.wheels import TargetPlatform

PY311 = TargetPlatform((3, 11))
PY312 = TargetPlatform((3, 12))


def _version(solution: Solution, name: str) -> Version:
    pin = solution.pin(name)
    assert pin is not None and pin.version is not None, name
    return pin.version


def _inst(**versions: str) -> tuple[Installed, ...]:
    return tuple(Installed(name.replace("_", "-"), Version(v)) for name, v in versions.items())


def _requires_hold(solution: Solution, index: PackageIndex, name: str, version: str, target: TargetPlatform) -> None:
    """Every base requirement of ``name`` ``version`` holds for the pins of ``solution``."""
    release = index.release(name, Version(version))
    assert release is not None and release.requires_dist is not None
    for line in release.requires_dist:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({**target.markers(), "extra": ""}):
            continue
        pin = solution.pin(req.name)
        assert pin is not None and pin.version is not None, line
        assert req.specifier.contains(pin.version, prereleases=True), (line, pin.version)


def test_reference_case_python_311(index: PackageIndex, compat: Compat) -> None:
    solution = solve(ResolveRequest(PY311, targets=("transformers<4.31",)), index, compat)
    assert _version(solution, "transformers") < Version("4.31")
    assert _version(solution, "tokenizers") == Version("0.13.3")
    assert _version(solution, "huggingface-hub") < Version("1.0")
    # the pins also satisfy transformers 4.29.1 (the release of the fixture logs)
    _requires_hold(solution, index, "transformers", "4.29.1", PY311)
    assert not [a for a in solution.advisories if "no wheel" in a]
    tokenizers = solution.pin("tokenizers")
    assert tokenizers is not None
    assert tokenizers.reasons[0].startswith(f"transformers {_version(solution, 'transformers')} requires tokenizers")
    assert "<- target transformers<4.31" in tokenizers.reasons[0]


def test_reference_case_exact_4291(index: PackageIndex, compat: Compat) -> None:
    solution = solve(ResolveRequest(PY311, targets=("transformers==4.29.1",)), index, compat)
    assert _version(solution, "transformers") == Version("4.29.1")
    assert _version(solution, "tokenizers") == Version("0.13.3")
    _requires_hold(solution, index, "transformers", "4.29.1", PY311)


def test_reference_case_python_312_warns_and_names_wheel_pair(index: PackageIndex, compat: Compat) -> None:
    solution = solve(ResolveRequest(PY312, targets=("transformers<4.31",)), index, compat)
    pin = solution.pin("tokenizers")
    assert pin is not None and pin.version == Version("0.13.3") and pin.has_wheel is False
    advice = [a for a in solution.advisories if a.startswith("tokenizers==0.13.3 has no wheel")]
    assert len(advice) == 1, solution.advisories
    text = advice[0]
    assert "CPython 3.12" in text and "Rust" in text
    assert "Nearest versions with wheels: transformers==" in text
    pair = text.split("Nearest versions with wheels: ")[1]
    transformers_v = Version(pair.split("transformers==")[1].split()[0])
    tokenizers_v = Version(pair.split("tokenizers==")[1].split()[0])
    assert transformers_v >= Version("4.31")
    release = index.release("tokenizers", tokenizers_v)
    assert release is not None and release.has_wheel(PY312)


def test_installed_versions_that_satisfy_everything_are_kept(index: PackageIndex, compat: Compat) -> None:
    installed = _inst(
        transformers="4.29.1",
        tokenizers="0.23.0",
        huggingface_hub="0.16.4",
        numpy="1.26.4",
        safetensors="0.4.3",
        regex="2024.11.6",
        requests="2.32.3",
        tqdm="4.67.1",
        pyyaml="6.0.2",
        filelock="3.16.1",
        packaging="24.2",
        fsspec="2024.12.0",
        typing_extensions="4.12.2",
        certifi="2024.12.14",
        charset_normalizer="3.4.1",
        idna="3.10",
        urllib3="2.3.0",
    )
    solution = solve(ResolveRequest(PY311, installed=installed), index, compat)
    changed = {p.name: p for p in solution.changes}
    assert set(changed) == {"tokenizers"}
    assert changed["tokenizers"].version == Version("0.13.3")
    for item in installed:
        if item.name != "tokenizers":
            assert _version(solution, item.name) == item.version


def test_finding_pin_is_explained_by_its_finding(index: PackageIndex, compat: Compat) -> None:
    finding = Finding(
        id="SD104",
        name="position-ids-buffer",
        category="state_dict.buffer_drift",
        severity="info",
        benign=True,
        title="t",
        cause="c",
        fix=Fix(constraints=("transformers<4.31",)),
    )
    installed = _inst(transformers="4.40.0", tokenizers="0.19.1", huggingface_hub="0.23.0")
    solution = solve(ResolveRequest(PY311, findings=(finding,), installed=installed), index, compat)
    pin = solution.pin("transformers")
    assert pin is not None and pin.status == "changed"
    assert pin.version is not None and pin.version < Version("4.31")
    assert any("finding SD104" in r for r in pin.reasons)
    assert solution.inputs["findings"] == ["SD104"]


def test_keep_pins_the_installed_version(index: PackageIndex, compat: Compat) -> None:
    installed = _inst(transformers="4.29.1", tokenizers="0.13.3", huggingface_hub="0.16.4")
    with pytest.raises(ResolutionError) as caught:
        solve(
            ResolveRequest(PY311, targets=("tokenizers>=0.14",), keep=("transformers",), installed=installed),
            index,
            compat,
        )
    text = str(caught.value)
    assert "--keep transformers (installed 4.29.1)" in text
    assert "target tokenizers>=0.14" in text
    assert "transformers 4.29.1 requires tokenizers" in text


def test_contradictory_targets_explain_both(index: PackageIndex, compat: Compat) -> None:
    with pytest.raises(ResolutionError) as caught:
        solve(ResolveRequest(PY311, targets=("transformers<4.31", "transformers>=4.40")), index, compat)
    text = str(caught.value)
    assert "target transformers<4.31" in text and "target transformers>=4.40" in text
    assert caught.value.exit_code == 2


def test_dependency_conflict_chain_names_parents(index: PackageIndex, compat: Compat) -> None:
    with pytest.raises(ResolutionError) as caught:
        solve(ResolveRequest(PY311, targets=("transformers==4.29.1", "tokenizers==0.15.0")), index, compat)
    text = str(caught.value)
    assert "transformers 4.29.1 requires tokenizers!=0.11.3,<0.14,>=0.11.1" in text
    assert "<- target transformers==4.29.1" in text
    assert "target tokenizers==0.15.0" in text


def test_python_floor_is_named(index: PackageIndex, compat: Compat) -> None:
    with pytest.raises(ResolutionError) as caught:
        solve(ResolveRequest(TargetPlatform((3, 8)), targets=("transformers>=4.50",)), index, compat)
    assert "requires Python" in str(caught.value)


def test_unknown_package_and_bad_requirement(index: PackageIndex, compat: Compat) -> None:
    with pytest.raises(BadInputError, match="unknown package 'no-such-pkg-envdoctor'"):
        solve(ResolveRequest(PY311, targets=("no-such-pkg-envdoctor>=1",)), index, compat)
    with pytest.raises(BadInputError, match="'transformers<<4'"):
        solve(ResolveRequest(PY311, targets=("transformers<<4",)), index, compat)
    with pytest.raises(BadInputError, match="--keep 'torch'"):
        solve(ResolveRequest(PY311, keep=("torch",)), index, compat)


def test_hidden_import_time_bound_of_installed_transformers(index: PackageIndex, compat: Compat) -> None:
    """transformers >= 4.31 checks accelerate on import when it is installed; pip does not."""
    installed = _inst(transformers="4.40.0", tokenizers="0.19.1", huggingface_hub="0.23.0", accelerate="0.20.3")
    solution = solve(ResolveRequest(PY311, installed=installed), index, compat)
    pin = solution.pin("accelerate")
    assert pin is not None and pin.version is not None
    release = index.release("transformers", Version("4.40.0"))
    assert release is not None
    assert pin.version in SpecifierSet(release.extras_bounds["accelerate"])
    assert any("checks on import" in r for r in pin.reasons)


def test_probe_import_bound_applies_to_installed_release(index: PackageIndex, compat: Compat) -> None:
    installed = _inst(transformers="4.40.0", tokenizers="0.19.1", huggingface_hub="0.23.0", accelerate="0.20.3")
    bound = ImportBound("transformers", "accelerate>=0.21.0", "site-packages/transformers/dependency_versions_table.py")
    solution = solve(ResolveRequest(PY311, installed=installed, import_bounds=(bound,)), index, compat)
    pin = solution.pin("accelerate")
    assert pin is not None and pin.version is not None and pin.version >= Version("0.21.0")
    assert any("dependency_versions_table.py" in r for r in pin.reasons)


def test_mmdet_import_time_mmcv_bound(index: PackageIndex, compat: Compat) -> None:
    """mmdet 3.3.0 asserts mmcv<2.2.0 on import (not in its Requires-Dist)."""
    installed = _inst(mmcv="2.2.0", mmengine="0.10.4", numpy="1.26.4")
    solution = solve(ResolveRequest(PY311, targets=("mmdet==3.3.0",), installed=installed), index, compat)
    pin = solution.pin("mmcv")
    assert pin is not None and pin.version is not None and pin.version < Version("2.2.0")
    assert any("mmdet 3.3.0 asserts on import" in r for r in pin.reasons)
    advice = [a for a in solution.advisories if a.startswith("mmcv==")]
    assert advice and "CUDA toolkit" in advice[0]


def test_torch_family_and_numpy_abi(index: PackageIndex, compat: Compat) -> None:
    installed = _inst(torch="2.1.2", numpy="2.1.0")
    solution = solve(ResolveRequest(PY311, targets=("torchvision==0.16.2",), installed=installed), index, compat)
    assert _version(solution, "torch") == Version("2.1.2")
    numpy = solution.pin("numpy")
    assert numpy is not None and numpy.version is not None and numpy.version < Version("2")
    assert any("built against NumPy 1" in r for r in numpy.reasons)


def test_mmcv_without_wheel_points_to_openmmlab_wheels(index: PackageIndex, compat: Compat) -> None:
    installed = _inst(torch="2.1.0", mmengine="0.10.4", numpy="1.26.4")
    solution = solve(ResolveRequest(PY311, targets=("mmdet==3.3.0",), installed=installed), index, compat)
    assert _version(solution, "torch") == Version("2.1.0")
    mmcv = solution.pin("mmcv")
    assert mmcv is not None and mmcv.has_wheel is False
    advice = next(a for a in solution.advisories if a.startswith(f"mmcv=={mmcv.version} has no wheel"))
    assert "https://download.openmmlab.com/mmcv/dist/cu121/torch2.1/index.html" in advice
    # PyPI has only mmcv sdists: its requirements are unknown, and the file says so
    assert any(a.startswith(f"mmcv {mmcv.version}: its own requirements are unknown") for a in solution.advisories)


def test_proposed_torch_too_new_for_the_host_driver(index: PackageIndex, compat: Compat) -> None:
    request = ResolveRequest(PY311, targets=("torch==2.7.0",), driver_version="470.57.02")
    solution = solve(request, index, compat)
    advice = [a for a in solution.advisories if a.startswith("torch 2.7.0 from PyPI is built with CUDA")]
    assert advice and "needs NVIDIA driver >=" in advice[0] and "470.57.02" in advice[0]
    quiet = solve(ResolveRequest(PY311, targets=("torch==2.7.0",), driver_version="580.65.06"), index, compat)
    assert not [a for a in quiet.advisories if "NVIDIA driver" in a]


def test_local_torch_build_sends_torchvision_to_the_pytorch_index(index: PackageIndex, compat: Compat) -> None:
    installed = _inst(torch="2.1.0+cu118")
    solution = solve(ResolveRequest(PY311, targets=("torchvision==0.16.0",), installed=installed), index, compat)
    assert _version(solution, "torch") == Version("2.1.0+cu118")
    assert any("https://download.pytorch.org/whl/cu118" in a and "torchvision" in a for a in solution.advisories)
