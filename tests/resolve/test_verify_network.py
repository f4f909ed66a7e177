"""``--verify`` for real: pip's resolver against the package index (marker ``network``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from envdoctor._cli import main

pytestmark = pytest.mark.network


def test_reference_case_311_passes_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "constraints.txt"
    code = main(
        [
            "--color",
            "never",
            "constraints",
            "--python-version",
            "3.11",
            "--platform",
            "manylinux_2_28_x86_64",
            "--target",
            "transformers<4.31",
            "-o",
            str(path),
            "--verify",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "[✓] verify: pip's resolver accepts the constraints" in out
    assert "tokenizers==0.13.3" in path.read_text()


def test_reference_case_312_fails_verify_without_a_wheel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With --only-binary (a fresh 3.12 target), pip cannot install tokenizers 0.13.3: as warned."""
    path = tmp_path / "constraints.txt"
    code = main(
        [
            "--color",
            "never",
            "constraints",
            "--python-version",
            "3.12",
            "--platform",
            "manylinux_2_28_x86_64",
            "--target",
            "transformers<4.31",
            "-o",
            str(path),
            "--verify",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "[✗] verify" in out
    assert "tokenizers" in out
