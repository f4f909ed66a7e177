"""The issue's "done when" checks against the real package index (``pytest -m network``).

These use this machine's pip configuration (the index a user's ``pip install`` would use)
and never install anything: the fresh-venv install of sentence-transformers 2.2.2 and
diffusers 0.20.0 with the pinned huggingface-hub was run by hand (see the issue's closing
note), since it downloads torch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version

from envdoctor._cli import main

pytestmark = pytest.mark.network
LINUX = ("--platform", "manylinux_2_28_x86_64")


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    code = main(["--color", "never", "constraints", "--json", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    document = json.loads(out)
    assert document["schema"] == "envdoctor.constraints/1"
    return document  # type: ignore[no-any-return]


def _pins(document: dict[str, object]) -> dict[str, str]:
    return {p["name"]: p["version"] for p in document["pins"]}  # type: ignore[attr-defined]


@pytest.mark.parametrize("target", ["sentence-transformers==2.2.2", "diffusers==0.20.0"])
def test_removed_hub_api_callers_get_a_hub_below_026(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    document = _json(capsys, "--python-version", "3.11", *LINUX, "--target", target)
    assert Version(_pins(document)["huggingface-hub"]) < Version("0.26")
    assert any(r["requirement"] == "huggingface-hub<0.26" for r in document["rules"])  # type: ignore[attr-defined]


def test_packages_outside_any_snapshot_resolve(capsys: pytest.CaptureFixture[str]) -> None:
    pins = _pins(
        _json(capsys, "--python-version", "3.11", *LINUX, "--target", "xformers", "--target", "open-clip-torch")
    )
    assert "xformers" in pins and "open-clip-torch" in pins and "torch" in pins


def test_reference_case_311(capsys: pytest.CaptureFixture[str]) -> None:
    document = _json(capsys, "--python-version", "3.11", *LINUX, "--target", "transformers<4.31")
    tokenizers = next(p for p in document["pins"] if p["name"] == "tokenizers")  # type: ignore[attr-defined]
    assert tokenizers["version"] == "0.13.3"
    assert tokenizers["reasons"][0]["text"].startswith("transformers 4.30.2 requires tokenizers")
    assert tokenizers["reasons"][0]["text"].endswith("<- target transformers<4.31")


def test_reference_case_312_warns_and_names_the_nearest_pair(capsys: pytest.CaptureFixture[str]) -> None:
    document = _json(capsys, "--python-version", "3.12", *LINUX, "--target", "transformers<4.31")
    advice = " ".join(document["advisories"])  # type: ignore[arg-type]
    assert "tokenizers==0.13.3 has no wheel for CPython 3.12" in advice
    assert "Nearest versions with wheels: transformers==4.34.0 with tokenizers==0.14.1" in advice


def test_python_venv_dir_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    venv = tmp_path / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)], check=True)
    code = main(["--color", "never", "constraints", "--python", str(venv), "--target", "diffusers==0.20.0", "--verify"])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert f"{venv / 'bin' / 'python'} -m pip install -c constraints.txt diffusers" in " ".join(err.split())
    assert "[✓] verify: pip accepts the constraints" in err
