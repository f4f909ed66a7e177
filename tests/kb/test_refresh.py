"""The torch-family table generator (``python -m envdoctor.kb.refresh``) and its user copy."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.version import Version

from envdoctor.kb import refresh
from envdoctor.kb.compat import load_compat, read_toml
from envdoctor.kb.loader import knowledge_root

ISSUE11 = Path(__file__).resolve().parents[1] / "cli" / "data" / "issue11"
SHIPPED = knowledge_root() / "compat" / "torch.toml"


def test_exact_torch_pin_is_read_from_real_torchvision_metadata() -> None:
    metadata = (ISSUE11 / "tv28" / "torchvision-0.28.0.dist-info" / "METADATA").read_text(encoding="utf-8")
    assert refresh.exact_torch(metadata) == Version("2.13.0")
    # torchvision 0.29.1 declares only a floor: no exact partner is invented from it.
    assert refresh.exact_torch("Name: torchvision\nRequires-Dist: torch (>=2.14.0)\n\n") is None


def test_default_cuda_and_python_range() -> None:
    torch = (ISSUE11 / "tv28" / "torch-2.13.0+cpu.dist-info" / "METADATA").read_text(encoding="utf-8")
    assert refresh.default_cuda(torch) is None  # the CPU build declares no CUDA runtime
    assert refresh.default_cuda("Requires-Dist: nvidia-cuda-runtime-cu12==12.8.90; platform_system == 'Linux'\n") == (
        Version("12.8")
    )
    assert refresh.default_cuda("Requires-Dist: cuda-toolkit[cudart]==13.0.2; platform_system == 'Linux'\n") == (
        Version("13.0")
    )
    tags = [
        "cp37-cp37m-manylinux1_x86_64",
        "cp310-cp310-manylinux_2_28_x86_64",
        "cp313-cp313-manylinux_2_28_x86_64",
        "cp314-cp314t-manylinux_2_28_x86_64",  # free-threaded only: not counted
    ]
    assert refresh.python_range(tags) == ">=3.7,<3.14"


def _generated() -> refresh.Generated:
    old = refresh.FamilyRelease(
        torch=Version("2.1.0"),
        torchvision=Version("0.16.0"),
        torchaudio=Version("2.1.0"),
        python=">=3.8,<3.12",
        pypi_default_cuda=Version("12.1"),
        patches=[{"torch": "2.1.0", "torchvision": "0.16.0"}, {"torch": "2.1.2", "torchvision": "0.16.2"}],
    )
    new = refresh.FamilyRelease(torch=Version("2.16.0"), python=">=3.11,<3.16", patches=[{"torch": "2.16.0"}])
    return refresh.Generated(
        index="https://example.invalid/simple",
        generated="2099-01-01T00:00:00+00:00",
        releases=[old, new],
        reach={"torch": "2.16.0", "torchvision": "0.30.0"},
    )


def test_render_keeps_hand_curated_fields_and_marks_new_lines_unverified(tmp_path: Path) -> None:
    text = refresh.render_torch_toml(_generated(), read_toml(SHIPPED))
    table = tomllib.loads(text)
    rows = {r["torch"]: r for r in table["release"]}
    shipped = {r["torch"]: r for r in read_toml(SHIPPED)["release"]}
    assert rows["2.1.0"]["arch"] == shipped["2.1.0"]["arch"] and rows["2.1.0"]["cuda"] == shipped["2.1.0"]["cuda"]
    assert rows["2.1.0"]["patch"][1] == {"torch": "2.1.2", "torchvision": "0.16.2"}
    assert "cuda" in rows["2.16.0"]["unverified"] and "torchvision" not in rows["2.16.0"]
    assert table["meta"]["reach"] == {"torch": "2.16.0", "torchvision": "0.30.0"}
    (tmp_path / "compat").mkdir()
    for name in ("cuda_driver.toml", "openmmlab.toml", "numpy2.toml"):
        (tmp_path / "compat" / name).write_bytes((SHIPPED.parent / name).read_bytes())
    (tmp_path / "compat" / "torch.toml").write_text(text, encoding="utf-8")
    compat = load_compat(tmp_path)
    assert compat.companion_partner("torchvision", "2.1.2+cu121") == Version("0.16.2")
    assert compat.torch_for_companion("torchvision", "0.16.0") == Version("2.1.0")
    assert compat.beyond_reach("torch", "2.17.0") and not compat.beyond_reach("torch", "2.16.0")


def test_loader_prefers_a_newer_user_copy_and_ignores_an_older_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVDOCTOR_DATA_DIR", str(tmp_path))
    (tmp_path / "compat").mkdir()
    user = tmp_path / "compat" / "torch.toml"
    user.write_text(refresh.render_torch_toml(_generated(), read_toml(SHIPPED)), encoding="utf-8")
    assert refresh.user_knowledge_dir() == tmp_path
    compat = load_compat()
    assert compat.torch_meta.path == user and compat.reach("torch") == Version("2.16.0")
    older = _generated()
    older.generated = "2000-01-01T00:00:00+00:00"
    user.write_text(refresh.render_torch_toml(older, read_toml(SHIPPED)), encoding="utf-8")
    assert load_compat().torch_meta.path == SHIPPED
    user.write_text("not toml [", encoding="utf-8")  # a broken copy never breaks envdoctor
    assert load_compat().torch_meta.path == SHIPPED


def test_shipped_table_says_how_far_it_reaches() -> None:
    meta = read_toml(SHIPPED)["meta"]
    assert meta["generated"] and meta["index"].startswith("https://")
    assert Version(meta["reach"]["torch"]) >= Version("2.15.0")
    assert Version(meta["reach"]["torchvision"]) >= Version("0.29.0")


@pytest.mark.network
def test_committed_pairs_match_the_index_metadata() -> None:
    generated = refresh.generate(refresh.IndexClient())
    shipped = {r["torch"]: r for r in read_toml(SHIPPED)["release"]}
    for line in generated.releases:
        row = shipped.get(str(line.torch))
        if row is None:  # a release newer than the committed table: reach says so
            continue
        assert row.get("torchvision") == (str(line.torchvision) if line.torchvision else None), line.torch
        assert [dict(p) for p in row.get("patch", [])][: len(line.patches)] == line.patches, line.torch
