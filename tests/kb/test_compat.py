"""Tests for ``knowledge/compat/*.toml`` and the typed loader in ``envdoctor.kb.compat``.

Structural checks (every table parses, every version and specifier parses with
``packaging``, sources are URLs) plus spot checks of well-known facts that would fail
if either the data or the loader were wrong.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envdoctor.errors import KnowledgeError
from envdoctor.kb.compat import Compat, load_compat

COMPAT = Path(__file__).resolve().parents[2] / "knowledge" / "compat"
TABLES = ("cuda_driver.toml", "torch.toml", "openmmlab.toml", "numpy2.toml")


@pytest.fixture(scope="module")
def compat() -> Compat:
    return load_compat(COMPAT.parent)


def _load(name: str) -> dict[str, object]:
    with (COMPAT / name).open("rb") as fh:
        return tomllib.load(fh)


def _urls(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    assert isinstance(value, list)
    return [str(v) for v in value]


@pytest.mark.parametrize("name", TABLES)
def test_every_table_parses(name: str) -> None:
    assert _load(name)


def test_cuda_rows_are_versions_and_sourced() -> None:
    doc = _load("cuda_driver.toml")
    assert str(doc["source"]).startswith("https://docs.nvidia.com/")
    rows = doc["cuda"]
    assert isinstance(rows, list)
    for row in rows:
        Version(row["version"])
        Version(row["min_driver_linux"])
        for key in ("min_driver_windows", "minor_compat_linux", "minor_compat_windows"):
            if key in row:
                Version(row[key])


def test_torch_rows_complete() -> None:
    table = _load("torch.toml")
    rows = table["release"]
    assert isinstance(rows, list)
    meta = table["meta"]
    assert isinstance(meta, dict)
    newest = Version(meta["reach"]["torch"])
    for row in rows:
        # Only the newest torch line may still wait for its torchvision on the index.
        needed: tuple[str, ...] = ("torch", "torch_spec", "python", "cuda", "numpy_abi")
        needed += () if Version(row["torch"]).release[:2] == newest.release[:2] else ("torchvision",)
        for key in needed:
            assert key in row, (row.get("torch"), key)
        assert Version(row["torch"]) in SpecifierSet(row["torch_spec"])
        SpecifierSet(row["python"])
        for c in row["cuda"]:
            Version(c)
        assert row["sources"]
        assert all(u.startswith("https://") for u in row["sources"])
    majors = {Version(r["torch"]).release[:2] for r in rows}
    for minor in range(0, 10):
        assert (2, minor) in majors
    assert (1, 12) in majors and (1, 13) in majors


def test_openmmlab_and_numpy2_rows_sourced() -> None:
    mm = _load("openmmlab.toml")
    for row in mm["bounds"]:  # type: ignore[attr-defined]
        Version(row["version"])
        Version(row["mmcv_min"])
        assert row["compare"] in ("pep440", "digit_list")
        assert all(u.startswith("https://") for u in _urls(row["sources"]))
    for row in _load("numpy2.toml")["package"]:  # type: ignore[attr-defined]
        Version(row["numpy2_from"])
        assert row["source"].startswith("https://")


def test_loader_builds_everything(compat: Compat) -> None:
    assert compat.cuda_drivers and compat.torch_releases and compat.mm_bounds
    assert compat.mmcv_wheels and compat.numpy2


# --- CUDA / driver -------------------------------------------------------------------


def test_driver_to_max_cuda(compat: Compat) -> None:
    assert compat.driver_max_cuda(Version("535.104.05")) == Version("12.2")
    assert compat.driver_max_cuda(Version("535.54.03")) == Version("12.2")
    # The CUDA a driver implements is fixed per branch: any 535.x is 12.2, as nvidia-smi
    # shows for 535.247.01 (tests/fixtures/host/nvidia-smi/banner-dcgm-232.txt).
    assert compat.driver_max_cuda(Version("535.247.01")) == Version("12.2")
    assert compat.driver_max_cuda(Version("520.56.06")) == Version("11.8")
    assert compat.driver_max_cuda(Version("470.82.01")) == Version("11.4")
    assert compat.driver_max_cuda(Version("550.54.14")) == Version("12.4")
    assert compat.driver_max_cuda(Version("580.65.06")) == Version("13.0")
    assert compat.driver_max_cuda(Version("400.0")) is None


def test_cuda_min_driver(compat: Compat) -> None:
    assert compat.cuda_min_driver(Version("12.1")) == Version("530.30.02")
    assert compat.cuda_min_driver(Version("12.1.105")) == Version("530.30.02")
    assert compat.cuda_min_driver(Version("12.1"), windows=True) == Version("531.14")
    assert compat.cuda_min_driver(Version("11.8")) == Version("520.61.05")
    assert compat.cuda_min_driver(Version("12.7")) is None
    assert compat.cuda_minor_compat_driver(Version("12.4")) == Version("525.60.13")
    assert compat.cuda_minor_compat_driver(Version("11.8")) == Version("450.80.02")


def test_driver_runs_cuda_minor_compat(compat: Compat) -> None:
    assert compat.driver_runs_cuda(Version("535.104.05"), Version("12.4")) is True
    assert compat.driver_runs_cuda(Version("535.104.05"), Version("12.4"), minor_compat=False) is False
    assert compat.driver_runs_cuda(Version("520.61.05"), Version("12.1")) is False


# --- torch -----------------------------------------------------------------------------


def test_torch_release_matching(compat: Compat) -> None:
    rel = compat.torch_release("2.1.2+cu121")
    assert rel is not None and rel.torch == Version("2.1.0")
    assert compat.torch_release("2.1.0a0+git1234") is rel
    assert compat.torch_release("1.11.0") is None


def test_expected_torchvision(compat: Compat) -> None:
    spec = compat.expected_torchvision("2.1.0")
    assert spec is not None
    assert "0.16.0" in spec and "0.16.2+cu121" in spec and "0.17.0" not in spec
    assert "0.14.1" in (compat.expected_torchvision("1.13.1") or SpecifierSet("==0"))
    assert compat.torch_for_torchvision("0.16.1") == SpecifierSet("==2.1.*")
    assert compat.torch_for_torchvision("0.24.0") == SpecifierSet("==2.9.*")


def test_torch_arch(compat: Compat) -> None:
    sm = ("sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90")
    assert compat.torch_arch("2.1.0+cu121") == sm
    assert compat.torch_arch("2.1.0") == sm  # PyPI default is cu121
    assert compat.torch_arch("2.1.0", Version("11.8")) == ("sm_37", *sm)
    assert compat.torch_arch("1.12.1+cu102") == ("sm_37", "sm_50", "sm_60", "sm_70")
    assert compat.torch_arch("2.1.0+cu117") is None


def test_torch_numpy_abi_and_python(compat: Compat) -> None:
    for v, abi in (("2.2.2", 1), ("2.3.0", 2), ("1.13.1", 1)):
        rel = compat.torch_release(v)
        assert rel is not None and rel.numpy_abi == abi
    rel = compat.torch_release("2.1.0")
    assert rel is not None and "3.11" in rel.python and "3.12" not in rel.python
    assert rel.pypi_default_cuda == Version("12.1")


# --- OpenMMLab -------------------------------------------------------------------------


def test_mmdet_330_bounds(compat: Compat) -> None:
    b = compat.mmdet_bounds("3.3.0")
    assert b is not None
    assert b.mmcv_specifier == SpecifierSet(">=2.0.0rc4,<2.2.0")
    assert b.mmcv_ok(Version("2.1.0")) and b.mmcv_ok(Version("2.0.0rc4"))
    assert not b.mmcv_ok(Version("2.2.0"))
    assert b.mmengine_ok(Version("0.10.7")) is True
    assert b.mmcv_message == (
        "MMCV=={mmcv.__version__} is used but incompatible. "
        "Please install mmcv>={mmcv_minimum_version}, <{mmcv_maximum_version}."
    )


def test_mmdet_2x_inclusive_and_list_compare(compat: Compat) -> None:
    b = compat.mmdet_bounds("2.28.2")
    assert b is not None and b.compare == "digit_list" and b.mmcv_max_inclusive
    assert b.mmcv_ok(Version("1.7.2")) and b.mmcv_ok(Version("1.8.0"))
    assert not b.mmcv_ok(Version("2.0.0"))
    old = compat.mmdet_bounds("2.10.0")
    assert old is not None and old.mmcv_max == Version("1.3")
    assert old.mmcv_ok(Version("1.2.7"))
    assert not old.mmcv_ok(Version("1.3.0"))  # [1, 3, 0] > [1, 3] in mmdet's own check
    assert compat.mmdet_bounds("9.9.9") is None


def test_other_openmmlab_bounds(compat: Compat) -> None:
    seg = compat.bounds("mmsegmentation", "1.2.2")
    assert seg is not None and seg.mmcv_specifier == SpecifierSet(">=2.0.0rc4,<2.2.0")
    pre = compat.bounds("mmpretrain", "1.2.0")
    assert pre is not None and pre.mmcv_max == Version("2.4.0")


def test_mmcv_wheels(compat: Compat) -> None:
    assert compat.mmcv_wheel_available("2.1.0", "2.1.2", Version("12.1")) is True
    assert compat.mmcv_wheel_available("2.1.0", "2.1.0", Version("11.8")) is True
    assert compat.mmcv_wheel_available("2.1.0", "2.1.0", None) is True
    assert compat.mmcv_wheel_available("2.1.0", "2.2.0", Version("12.1")) is False
    assert compat.mmcv_wheel_available("2.2.0", "2.4.1", Version("12.1")) is True
    assert compat.mmcv_wheel_available("2.2.0", "2.5.0", Version("12.4")) is False
    assert compat.mmcv_wheel_available("1.7.2", "1.13.0", Version("11.7")) is None
    assert compat.mmcv_mmengine_floor("2.1.0") == Version("0.3.0")


# --- NumPy 2 ---------------------------------------------------------------------------


def test_numpy2(compat: Compat) -> None:
    cv = compat.numpy2_from("opencv-python")
    assert cv == Version("4.10.0.84")
    assert Version("4.9.0.80") < cv
    assert compat.numpy2_from("torch") == Version("2.3.0")
    assert compat.numpy2_from("Scikit_Learn") == Version("1.4.2")
    assert compat.numpy2_from("no-such-package") is None


# --- malformed data ----------------------------------------------------------------------


def test_malformed_table_raises(tmp_path: Path) -> None:
    folder = tmp_path / "compat"
    shutil.copytree(COMPAT, folder)
    path = folder / "numpy2.toml"
    path.write_text(path.read_text().replace('numpy2_from = "2.3.0"', 'numpy2_from = "two"'))
    with pytest.raises(KnowledgeError):
        load_compat(tmp_path)
    path.write_text("[[package]\n")
    with pytest.raises(KnowledgeError):
        load_compat(tmp_path)
