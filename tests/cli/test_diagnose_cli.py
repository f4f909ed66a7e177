"""``envdoctor diagnose`` and ``explain`` end to end, on the real environment of the test run."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envdoctor._cli import main

GOOD_ENTRY = Path(__file__).resolve().parents[2] / "knowledge" / "entries" / "CU001.toml"


def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it: a separate process, output through pipes."""
    return subprocess.run(
        [sys.executable, "-m", "envdoctor", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_diagnose_json_describes_the_real_environment() -> None:
    result = run_cli("diagnose", "--json")
    assert result.returncode in (0, 1), result.stderr
    document = json.loads(result.stdout)
    assert document["schema"] == "envdoctor.diagnose/1"
    assert list(document) == ["schema", "environment", "findings", "constraints", "not_checked"]
    environment = document["environment"]
    assert (
        environment["python"]["executable"] == sys.executable
        or Path(environment["python"]["executable"]).resolve() == Path(sys.executable).resolve()
    )
    versions = {d["name"].lower(): d["version"] for d in environment["python"]["distributions"]}
    for name in ("torch", "transformers", "tokenizers", "mmengine", "safetensors"):
        assert versions[name] == importlib.metadata.version(name)
    torch = environment["torch"]
    assert torch["version"] == importlib.metadata.version("torch")
    # The test run uses the CPU build: no CUDA, and no GPU arch list to read.
    assert torch["cuda"] is None
    for finding in document["findings"]:
        assert set(finding) >= {
            "id",
            "category",
            "severity",
            "benign",
            "title",
            "cause",
            "evidence",
            "fix",
            "references",
        }
        assert finding["severity"] in ("error", "warning", "info")
        assert set(finding["fix"]) >= {"constraints", "steps"}
    errors = [f for f in document["findings"] if f["severity"] == "error" and not f["benign"]]
    assert result.returncode == (1 if errors else 0)


def test_diagnose_report_is_grouped_by_area_and_plain_in_a_pipe() -> None:
    result = run_cli("diagnose", env={"NO_COLOR": "1"})
    assert result.returncode in (0, 1), result.stderr
    lines = result.stdout.splitlines()
    for heading in ("Python & packages", "PyTorch", "CUDA & GPU", "Hugging Face", "OpenMMLab"):
        assert any(heading in line and line.startswith(("[✓]", "[!]", "[✗]")) for line in lines), heading
    assert "\x1b[" not in result.stdout
    assert f"torch {importlib.metadata.version('torch')}" in result.stdout


def test_color_always_wins_over_no_color_before_or_after_the_subcommand() -> None:
    for argv in (("--color", "always", "explain", "CU001"), ("explain", "CU001", "--color", "always")):
        result = run_cli(*argv, env={"NO_COLOR": "1"})
        assert result.returncode == 0, result.stderr
        assert "\x1b[" in result.stdout
    # NO_COLOR still decides when no --color is given.
    assert "\x1b[" not in run_cli("explain", "CU001", env={"NO_COLOR": "1"}).stdout
    assert "\x1b[" not in run_cli("explain", "CU001", "--color=never").stdout


@pytest.mark.parametrize("bad", ["/bin/true", "/etc/hostname", "/nonexistent/python"])
def test_diagnose_rejects_a_non_interpreter_in_one_line(bad: str) -> None:
    result = run_cli("diagnose", "--python", bad)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert bad in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_explain_prints_the_entry_sections(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "CU001"]) == 0
    out = capsys.readouterr().out
    for section in (
        "CU001 (torch-cuda-newer-than-driver)",
        "## What it means",
        "## Why it happens",
        "## Fix",
        "## References",
    ):
        assert section in out


def test_explain_by_name_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "torch-cuda-newer-than-driver"]) == 0
    assert "CU001" in capsys.readouterr().out
    assert main(["explain", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "PY003" in listing and "TH001" in listing


def test_explain_unknown_id_suggests_close_matches(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "CU01"]) == 2
    err = capsys.readouterr().err
    assert "no knowledge entry 'CU01'" in err and "did you mean" in err


def test_usage_error_exits_2() -> None:
    result = run_cli("diagnose", "--no-such-flag")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_broken_knowledge_is_an_internal_error_with_a_report_line(tmp_path: Path) -> None:
    (tmp_path / "entries").mkdir()
    (tmp_path / "entries" / "CU001.toml").write_text(
        GOOD_ENTRY.read_text().replace('category = "cuda.driver_too_old"', 'category = "bogus"')
    )
    result = run_cli("explain", "CU001", env={"ENVDOCTOR_KNOWLEDGE": str(tmp_path)})
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert "please report" in result.stderr


def _report(fixture: str, *, width: int = 80, terminal: bool = False) -> str:
    import io
    from pathlib import Path

    from rich.console import Console

    from envdoctor.diagnosis import check_environment
    from envdoctor.model import Environment, from_jsonable
    from envdoctor.render.diagnose import DiagnoseView

    path = Path(__file__).resolve().parents[1] / "fixtures" / "knowledge" / fixture
    diagnosis = check_environment(from_jsonable(Environment, json.loads(path.read_text())["environment"]))
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=terminal)
    console.print(DiagnoseView(diagnosis), crop=False)  # as `envdoctor diagnose` prints it (render/output.py)
    return buffer.getvalue()


def test_fix_commands_are_never_split_at_80_columns() -> None:
    text = _report("TH101/hit-cpu-torch-pypi-cuda-torchvision.json", terminal=True)
    command = (
        "pip install --no-deps --force-reinstall 'torchvision==0.28.0' --index-url https://download.pytorch.org/whl/cpu"
    )
    assert any(command in line for line in text.splitlines()), text


def test_an_area_with_an_error_finding_is_never_green() -> None:
    text = _report("TH101/hit-cpu-torch-pypi-cuda-torchvision.json")
    torch_line = next(line for line in text.splitlines() if "PyTorch:" in line)
    assert torch_line.startswith("[✗]")
