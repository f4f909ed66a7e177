"""``envdoctor diagnose --python`` against throwaway interpreters holding the versions a case needs.

The environments are real venvs (``python -m venv --without-pip``) whose site-packages
carry dist-info metadata, transformers' own 4.29.1 dependency table, mmdet's version
literals and a ``torch/version.py``; the real probe runs inside them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.envbuilder import MMDET_330_INIT, Dist, make_env, write_dist

DATA = Path(__file__).resolve().parents[1] / "probe" / "data" / "transformers-4.29.1"
TRANSFORMERS_4291 = {
    "transformers/__init__.py": "",
    "transformers/dependency_versions_table.py": (DATA / "dependency_versions_table.py.txt").read_text(),
    "transformers/dependency_versions_check.py": (DATA / "dependency_versions_check.py.txt").read_text(),
}


def diagnose(python: Path, **env: str) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "envdoctor", "diagnose", "--python", str(python), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def finding(document: dict[str, Any], entry_id: str) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [f for f in document["findings"] if f["id"] == entry_id]
    assert matches, f"{entry_id} not in {[f['id'] for f in document['findings']]}"
    return matches[0]


@pytest.mark.slow
def test_transformers_4291_with_tokenizers_0152(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={
            "transformers": Dist(
                "4.29.1", requires=("tokenizers!=0.11.3,<0.14,>=0.11.1", "huggingface-hub<1.0,>=0.14.1")
            ),
            "tokenizers": "0.15.2",
            "huggingface-hub": "0.16.4",
        },
        files=TRANSFORMERS_4291,
    )
    code, document = diagnose(python)
    assert code == 1
    bound = finding(document, "PY003")
    assert bound["severity"] == "error"
    assert "tokenizers>=0.11.1,!=0.11.3,<0.14" in bound["title"]
    assert bound["fix"]["constraints"] == ["tokenizers>=0.11.1,!=0.11.3,<0.14"]
    assert any("dependency_versions_table.py" in e["text"] for e in bound["evidence"])
    # pip check sees the same range in the metadata: one range is one finding and one pin.
    assert "PY001" not in [f["id"] for f in document["findings"]]
    assert not any("unknown" in e["text"] for f in document["findings"] for e in f["evidence"])
    assert {"requirement": "tokenizers>=0.11.1,!=0.11.3,<0.14", "findings": ["PY003"], "optional": False} in document[
        "constraints"
    ]


@pytest.mark.slow
def test_torch_21_cuda_build_with_numpy_2(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={"torch": "2.1.0+cu121", "numpy": "2.0.0", "torchvision": "0.17.0"},
        torch_version_py={
            "__version__": "2.1.0+cu121",
            "cuda": "12.1",
            "hip": None,
            "debug": False,
            "git_version": "a8e7c98",
        },
    )
    code, document = diagnose(python)
    assert code == 1
    environment = document["environment"]
    assert environment["torch"]["version"] == "2.1.0+cu121" and environment["torch"]["cuda"] == "12.1"
    assert environment["torch"]["sources"]["cuda"] == "torch/version.py"
    numpy_abi = finding(document, "PY006")
    assert "torch 2.1.0+cu121 was built for NumPy 1.x" in numpy_abi["title"]
    assert "numpy<2" in numpy_abi["fix"]["constraints"]
    mismatch = finding(document, "TH002")
    # The exact patch partner, torch kept: 0.16.* would let pip take 0.16.2 and upgrade torch.
    assert mismatch["fix"]["constraints"] == ["torchvision==0.16.0", "torch==2.1.0"]
    assert "--no-deps 'torchvision==0.16.0'" in mismatch["fix"]["steps"][0]


@pytest.mark.slow
def test_grounding_dino_stack_gets_the_harmless_position_ids_note(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={"transformers": "4.46.3", "mmdet": "3.3.0", "mmcv": "2.1.0", "mmengine": "0.10.7"},
        files={
            "mmdet/__init__.py": MMDET_330_INIT,
            "mmcv/__init__.py": "",
            "mmcv/_ext.cpython-311-x86_64-linux-gnu.so": "",
        },
    )
    code, document = diagnose(python)
    note = finding(document, "HF001")
    assert note["benign"] is True and note["severity"] == "info"
    assert note["fix"]["constraints"] == ["transformers==4.29.1", "tokenizers==0.13.3"]
    assert {"requirement": "transformers==4.29.1", "findings": ["HF001"], "optional": True} in document["constraints"]
    assert "MM001" not in [f["id"] for f in document["findings"]]  # mmcv has its compiled ops
    assert code == 0


@pytest.mark.slow
def test_mmcv_without_ops_and_out_of_range_for_mmdet(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={"mmdet": "3.3.0", "mmcv": "2.2.0", "mmengine": "0.10.7"},
        files={"mmdet/__init__.py": MMDET_330_INIT, "mmcv/__init__.py": ""},
    )
    code, document = diagnose(python)
    assert code == 1
    bound = finding(document, "PY003")
    assert "mmcv>=2.0.0rc4,<2.2.0" in bound["title"] and "2.2.0" in bound["title"]
    assert finding(document, "MM001")["severity"] == "error"


@pytest.mark.slow
def test_broken_metadata_is_reported_and_the_rest_still_checked(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={"transformers": Dist("4.29.1", requires=("tokenizers!=0.11.3,<0.14,>=0.11.1",)), "tokenizers": "0.15.2"},
        files=TRANSFORMERS_4291,
    )
    site = next(python.parent.parent.glob("lib/python*/site-packages"))
    (site / "tokenizers-0.15.2.dist-info" / "METADATA").write_bytes(b"\xff\xfe\x00garbage")
    code, document = diagnose(python)
    assert "PY007" in [f["id"] for f in document["findings"]]
    assert "PY003" in [f["id"] for f in document["findings"]]  # the version still came from the folder name
    assert code == 1


@pytest.mark.slow
def test_deep_torch_import_segfault_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={"torch": "2.1.0+cu121", "transformers": "4.46.3"},
        torch_version_py={"__version__": "2.1.0+cu121", "cuda": "12.1", "hip": None},
        files={"torch/__init__.py": "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"},
    )
    result = subprocess.run(
        [sys.executable, "-m", "envdoctor", "diagnose", "--python", str(python), "--deep", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert "Traceback" not in result.stderr
    document = json.loads(result.stdout)
    crashed = finding(document, "TH003")
    assert "crashed" in crashed["title"] and "SIGSEGV" in crashed["cause"]
    # Everything else was still collected: the build facts and the other packages.
    assert document["environment"]["torch"]["cuda"] == "12.1"
    assert any(d["name"] == "transformers" for d in document["environment"]["python"]["distributions"])
    assert result.returncode == 1


# --- issue 11: the four environments diagnose used to pass -----------------------------------

ISSUE11 = Path(__file__).resolve().parent / "data" / "issue11"


def real_env(tmp_path: Path, case: str) -> Path:
    """A venv holding the real metadata (and version files) of one issue-11 environment."""
    python = make_env(tmp_path)
    site = next(python.parent.parent.glob("lib/python*/site-packages"))
    source = ISSUE11 / case
    for info in sorted(source.glob("*.dist-info")):
        target = site / info.name
        target.mkdir()
        for file in info.iterdir():
            (target / file.name).write_bytes(file.read_bytes())
        (target / "RECORD").write_text(f"{info.name}/METADATA,,\n{info.name}/RECORD,,\n", encoding="utf-8")
    for file in sorted((source / "files").rglob("*.txt")) if (source / "files").is_dir() else ():
        relative = file.relative_to(source / "files").with_suffix("")  # version.py.txt -> version.py
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_bytes(file.read_bytes())
        (site / relative.parent / "__init__.py").touch()
    return python


@pytest.mark.slow
def test_cpu_torch_with_the_pypi_cuda_torchvision_is_a_variant_error(tmp_path: Path) -> None:
    code, document = diagnose(real_env(tmp_path, "tv28"))
    assert code == 1
    variant = finding(document, "TH101")
    assert variant["severity"] == "error"
    assert "torchvision 0.28.0+cu130 is a cu130 build" in variant["title"] and "2.13.0+cpu" in variant["title"]
    assert "--index-url https://download.pytorch.org/whl/cpu" in variant["fix"]["steps"][0]
    assert "--no-deps" in variant["fix"]["steps"][0]
    assert document["environment"]["torch"]["companions"] == {"torchvision": "0.28.0+cu130"}


@pytest.mark.slow
def test_torchvision_of_the_previous_release_is_th002_from_the_generated_table(tmp_path: Path) -> None:
    code, document = diagnose(real_env(tmp_path, "tv27"))
    assert code == 1
    mismatch = finding(document, "TH002")
    assert "built for torch 2.12.0" in mismatch["title"] and "expected torchvision==0.28.0" in mismatch["title"]
    assert mismatch["fix"]["constraints"] == ["torchvision==0.28.0", "torch==2.13.0"]
    # The companion's own torch==2.12.0 pin is explained by TH002, not pinned a second time.
    assert not any(c["requirement"].startswith("torch==2.12") for c in document["constraints"])


@pytest.mark.slow
def test_mmcv_lite_counts_as_mmcv_for_mmdets_import_bound(tmp_path: Path) -> None:
    code, document = diagnose(real_env(tmp_path, "mmlite"))
    assert code == 1
    bound = finding(document, "PY003")
    assert "mmcv>=2.0.0rc4,<2.2.0" in bound["title"] and "mmcv-lite 2.2.0" in bound["title"]
    assert finding(document, "MM001")["title"].startswith("mmcv-lite 2.2.0 has no compiled ops")


@pytest.mark.slow
def test_torch_newer_than_the_knowledge_is_not_checked_not_passed(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={"torch": "2.99.0", "torchvision": "0.99.0"},
        torch_version_py={"__version__": "2.99.0+cpu", "cuda": None, "hip": None},
    )
    _code, document = diagnose(python)
    skipped = {s["id"]: s["reason"] for s in document["not_checked"]}
    assert "torch 2.99.0 is newer than this knowledge" in skipped["TH002"]
    text = subprocess.run(
        [sys.executable, "-m", "envdoctor", "diagnose", "--python", str(python)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    assert "not checked: TH002: torch 2.99.0 is newer than this knowledge" in text
    assert "No issues found." not in text


@pytest.mark.slow
def test_sentence_transformers_222_with_hub_026_without_deep(tmp_path: Path) -> None:
    # The [[case]] conditions of VR112 / VR113 (knowledge/entries) judge the metadata alone.
    code, document = diagnose(real_env(tmp_path, "hub"))
    assert code == 1
    assert finding(document, "VR112")["severity"] == "error"  # sentence-transformers 2.2.2 + hub 0.26
    assert finding(document, "VR113")["severity"] == "error"  # googleapis-common-protos 1.53 + protobuf 4
    # The API history reads the same cause (sentence-transformers imports cached_download): it
    # joins VR112 instead of standing beside it as a second finding.
    assert "VR204" not in [f["id"] for f in document["findings"]]
    vr112 = finding(document, "VR112")
    assert vr112["details"]["api_history"]["symbols"] == "huggingface_hub.cached_download"
    assert any(e["text"].startswith("envdoctor's API history agrees") for e in vr112["evidence"])


@pytest.mark.slow
def test_py004_names_the_pth_file_that_added_the_second_copy(tmp_path: Path) -> None:
    python = make_env(tmp_path, dists={"numpy": "2.4.6"})
    site = next(python.parent.parent.glob("lib/python*/site-packages"))
    other = tmp_path / "leftover-target"
    write_dist(other, "numpy", "1.26.4")
    (site / "zz-leftover.pth").write_text(f"{other}\n", encoding="utf-8")
    _code, document = diagnose(python)
    twice = finding(document, "PY004")
    assert f"{site / 'zz-leftover.pth'}:1" in twice["fix"]["steps"][0]
    assert any("zz-leftover.pth" in e["text"] for e in twice["evidence"])


@pytest.mark.slow
def test_dist_info_without_record_is_reported(tmp_path: Path) -> None:
    python = make_env(tmp_path, dists={"numpy": Dist("2.4.6", record=False), "scipy": "1.14.1"})
    _code, document = diagnose(python)
    missing = [f for f in document["findings"] if f["id"] == "PY101"]
    assert [f["title"].split()[0] for f in missing] == ["numpy"]


@pytest.mark.slow
def test_two_distributions_providing_mmcv_are_py005(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={"mmcv": Dist("2.1.0", top_level=("mmcv",)), "mmcv-lite": Dist("2.2.0", top_level=("mmcv",))},
        files={"mmcv/__init__.py": ""},
    )
    _code, document = diagnose(python)
    twice = finding(document, "PY005")
    assert "`mmcv`" in twice["title"]
    assert "mmcv_lite-2.2.0.dist-info" in twice["title"] and "mmcv-2.1.0.dist-info" in twice["title"]


@pytest.mark.slow
def test_deep_import_failing_on_a_missing_requirement_makes_that_requirement_the_error(tmp_path: Path) -> None:
    # sentence-transformers 2.2.2 installed with --no-deps: `import sentence_transformers` fails
    # on `import nltk`. The static PY002 (a warning: "requires nltk, which is not installed")
    # is what the import proves: it becomes the error, with the import as evidence, not a TH102.
    python = make_env(
        tmp_path,
        dists={
            "sentence-transformers": Dist(
                "2.2.2",
                requires=("nltk",),
                top_level=("sentence_transformers",),
                files={"sentence_transformers/__init__.py": "import nltk\n"},
            )
        },
    )
    result = subprocess.run(
        [sys.executable, "-m", "envdoctor", "diagnose", "--python", str(python), "--deep", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    document = json.loads(result.stdout)
    assert result.returncode == 1
    missing = finding(document, "PY002")
    assert missing["severity"] == "error" and "requires nltk" in missing["title"]
    assert any("No module named 'nltk'" in e["text"] for e in missing["evidence"] if e.get("source") == "deep")
    assert "TH102" not in [f["id"] for f in document["findings"]]
