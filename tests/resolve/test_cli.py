"""``envdoctor constraints`` end to end: exit codes, messages naming the bad input, the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from envdoctor._cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--color", "never", "constraints", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_fresh_311_writes_file_and_prints_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "constraints.txt"
    code, out, err = _run(capsys, "--python-version", "3.11", "--target", "transformers<4.31", "-o", str(path))
    assert code == 0, err
    text = path.read_text()
    assert "tokenizers==0.13.3  # transformers " in text
    assert "# for CPython 3.11 on manylinux_x86_64 (fresh environment)" in text
    assert "tokenizers" in out and "0.13.3" in out
    assert f"apply with: pip install -c {path} " in " ".join(out.split())


def test_fresh_312_warns_about_the_rust_build(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--python-version", "3.12", "--target", "transformers<4.31")
    assert code == 0, err
    assert "tokenizers==0.13.3" in out
    assert "# warning: tokenizers==0.13.3 has no wheel for CPython 3.12" in out
    flat = " ".join(err.split())
    assert "warning: tokenizers==0.13.3 has no wheel" in flat and "Rust" in flat


def test_existing_output_not_touched_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "constraints.txt"
    path.write_text("keep me\n")
    code, _, err = _run(capsys, "--python-version", "3.11", "--target", "transformers<4.31", "-o", str(path))
    assert code == 2
    assert "file exists; pass --force" in err and str(path) in err
    assert path.read_text() == "keep me\n"
    code, _, err = _run(capsys, "--python-version", "3.11", "--target", "transformers<4.31", "-o", str(path), "--force")
    assert code == 0, err
    assert "tokenizers==0.13.3" in path.read_text()


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("--target", "transformers<<4.31"), "--target 'transformers<<4.31': not a valid requirement"),
        (("--target", "no-such-pkg-envdoctor"), "unknown package 'no-such-pkg-envdoctor'"),
        (("--target", "transformers<4.31", "--target", "transformers>=4.40"), "target transformers>=4.40"),
        (("--python-version", "three"), "--python-version 'three'"),
        (("--platform", "solaris_sparc"), "--platform 'solaris_sparc'"),
    ],
)
def test_bad_input_exits_2_naming_it(argv: tuple[str, ...], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    if "--python-version" not in argv:
        argv = ("--python-version", "3.11", *argv)
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert needle in err
    assert "Traceback" not in err + out


def test_contradictory_targets_print_the_chain(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(
        capsys, "--python-version", "3.11", "--target", "transformers==4.29.1", "--target", "tokenizers>=0.15"
    )
    assert code == 2
    assert "no set of versions satisfies every requirement for CPython 3.11" in err
    assert "transformers 4.29.1 requires tokenizers!=0.11.3,<0.14,>=0.11.1 <- target transformers==4.29.1" in err
    assert "target tokenizers>=0.15" in err


def test_unwritable_output_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = _run(
        capsys, "--python-version", "3.11", "--target", "transformers<4.31", "-o", str(blocker / "c.txt")
    )
    assert code == 2
    assert str(blocker / "c.txt") in err


def test_python_and_platform_conflict(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--python", "/usr/bin/python3", "--platform", "win_amd64")
    assert code == 2
    assert "--platform" in err


def test_current_environment_keeps_what_satisfies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The dev venv (transformers 5.x, tokenizers 0.2x) probed for real, with an old transformers target."""
    path = tmp_path / "c.txt"
    code, _, err = _run(capsys, "--target", "transformers<4.31", "-o", str(path))
    assert code == 0, err
    text = path.read_text()
    assert "tokenizers==0.13.3" in text
    assert "# kept as installed" in text
    import torch  # the dev venv's torch stays: nothing about transformers 4.30 requires a change

    assert f"torch=={torch.__version__}  #" in text
