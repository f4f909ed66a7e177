"""The constraints file's atomic, no-clobber write, and its text as pip and uv parse it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from envdoctor.errors import BadInputError, OutputExistsError
from envdoctor.resolve.output import apply_command, render_constraints, write_atomic
from envdoctor.resolve.rules import Rule
from envdoctor.resolve.solve import Pin, PinReason, Solution
from envdoctor.resolve.target import TargetPlatform

TARGET = "target transformers<4.31"


def _solution() -> Solution:
    pins = (
        Pin(
            "tokenizers",
            "0.13.3",
            "0.15.2",
            (
                PinReason(
                    "requirement",
                    "transformers 4.30.2 requires tokenizers<0.14 <- target transformers<4.31",
                    "tokenizers<0.14",
                    "Requires-Dist",
                    "transformers 4.30.2",
                    binds=True,
                ),
            ),
        ),
        Pin("transformers", "4.30.2", None, (PinReason("target", "target transformers<4.31", "transformers<4.31"),)),
        Pin("torch", "2.1.0", "2.1.0+cu121", (PinReason("resolver", "kept as installed"),)),
    )
    rule = Rule("numpy<2", "torch 2.1.0 is built against NumPy 1", "knowledge/compat/torch.toml", "compat")
    return Solution(
        TargetPlatform((3, 11), "manylinux_2_28_x86_64"),
        pins,
        advisories=("a warning",),
        rules=(rule,),
        index_lines=("--extra-index-url https://download.pytorch.org/whl/cu121",),
        engine="uv",
        index="https://pypi.org/simple (default)",
        inputs={"targets": ["transformers<4.31"]},
    )


def test_every_non_comment_line_is_a_requirement_with_a_reason() -> None:
    text = render_constraints(_solution(), envdoctor_version="0.0")
    body = [line for line in text.splitlines() if line and not line.startswith("#")]
    names = [Requirement(line.split("  #", 1)[0]).name for line in body]
    assert names == ["tokenizers", "transformers", "torch"]
    assert "tokenizers==0.13.3  # transformers 4.30.2 requires tokenizers<0.14 <- target transformers<4.31" in body
    # A kept pin keeps the installed local variant; its index line is in the header.
    assert "torch==2.1.0+cu121  # kept" in body
    assert "# index: --extra-index-url https://download.pytorch.org/whl/cu121" in text
    assert "# rule: torch 2.1.0 is built against NumPy 1: numpy<2 (knowledge/compat/torch.toml)" in text
    assert "# resolved by uv against https://pypi.org/simple (default)" in text


def test_apply_command_carries_the_index_line_and_only_changes() -> None:
    command = apply_command(_solution(), "c.txt", "/venv/bin/python")
    assert command == (
        "/venv/bin/python -m pip install --extra-index-url https://download.pytorch.org/whl/cu121 "
        "-c c.txt tokenizers transformers"
    )


def test_existing_file_is_not_replaced_without_force(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text("original\n")
    with pytest.raises(OutputExistsError) as caught:
        write_atomic(path, "new\n")
    assert caught.value.exit_code == 2
    assert path.read_text() == "original\n"
    write_atomic(path, "new\n", force=True)
    assert path.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt"]


def test_write_goes_through_a_temp_file_and_replace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.txt"
    path.write_text("original\n")
    calls: list[tuple[str, str]] = []
    real_replace = os.replace

    def failing_replace(src: str, dst: str) -> None:
        calls.append((str(src), str(dst)))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(BadInputError, match="No space left"):
        write_atomic(path, "new\n", force=True)
    assert path.read_text() == "original\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt"]
    assert calls and Path(calls[0][0]).parent == tmp_path and calls[0][1] == str(path)
    monkeypatch.setattr(os, "replace", real_replace)


def test_unwritable_and_missing_directories(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="does not exist"):
        write_atomic(tmp_path / "nope" / "c.txt", "x\n")
    with pytest.raises(BadInputError, match="is a directory"):
        write_atomic(tmp_path, "x\n")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user that ignores directory permissions")
        with pytest.raises(BadInputError, match="not writable"):
            write_atomic(locked / "c.txt", "x\n")
    finally:
        locked.chmod(0o700)


def test_each_reason_is_written_once() -> None:
    """The deciding reason sits on the pin's line; it is not also repeated above it."""
    text = render_constraints(_solution(), envdoctor_version="0.0")
    assert text.count("transformers 4.30.2 requires tokenizers<0.14 <- target transformers<4.31") == 1
