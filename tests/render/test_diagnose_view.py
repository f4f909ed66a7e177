"""The diagnose report as text: marks per area, findings beneath, -v details."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from envdoctor.diagnosis import check_environment
from envdoctor.model import Environment, from_jsonable
from envdoctor.render.diagnose import DiagnoseView

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "knowledge"


def render(fixture: str, *, verbose: bool = False) -> str:
    data = json.loads((FIXTURES / fixture).read_text())
    diagnosis = check_environment(from_jsonable(Environment, data["environment"]))
    buffer = io.StringIO()
    Console(file=buffer, width=100, color_system=None).print(DiagnoseView(diagnosis, verbose=verbose))
    return buffer.getvalue()


def test_driver_too_old_report() -> None:
    text = render("CU001/hit-driver-470-cuda-121.json")
    lines = text.splitlines()
    assert lines[0] == "envdoctor diagnose: /opt/venv/bin/python"
    cuda_line = next(line for line in lines if "CUDA & GPU" in line)
    assert cuda_line.startswith("[✗] CUDA & GPU: NVIDIA driver 470.182.03 (CUDA <= 11.4); 1 GPU: NVIDIA A100-SXM4-80GB")
    assert "    [✗] CU001 The NVIDIA driver 470.182.03 is too old for torch built with CUDA 12.1" in lines
    flat = " ".join(text.split())
    assert "cause: The driver supports CUDA up to 11.4; this torch needs a driver for CUDA 12.1 (>= 530.30.02)." in flat
    assert next(line for line in lines if "PyTorch" in line).startswith("[✓] PyTorch: torch 2.1.0+cu121 (CUDA 12.1)")
    assert "1 error(s)" in text


def test_benign_finding_keeps_the_area_green() -> None:
    text = render("HF001/hit-transformers-446-mmdet-330.json")
    hf_line = next(line for line in text.splitlines() if "Hugging Face" in line)
    assert hf_line.startswith("[✓] Hugging Face: transformers 4.46.3")
    assert "(harmless)" in text
    assert "optional pins: transformers==4.29.1 tokenizers==0.13.3" in text
    assert "No issues found." in text


def test_verbose_shows_facts_and_all_fix_steps() -> None:
    quiet = render("CU004/hit-nvcc-118-torch-121.json")
    verbose = render("CU004/hit-nvcc-118-torch-121.json", verbose=True)
    assert "CUDA_HOME: /usr/local/cuda-11.8" in verbose and "CUDA_HOME: /usr/local/cuda-11.8;" not in quiet
    assert verbose.count("fix:") > quiet.count("fix:")
