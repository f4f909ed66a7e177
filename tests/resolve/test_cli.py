"""``envdoctor constraints`` end to end, offline: the real uv (and pip) over a local wheelhouse.

Every test resolves over ``tests/resolve/wheelhouse.py``'s generated releases through the
same path a user's run takes: envdoctor reads pip's settings from the environment
(``PIP_NO_INDEX``, ``PIP_FIND_LINKS``), drives uv, checks the answer against the knowledge
tables and resolves again.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envdoctor._cli import main
from tests.envbuilder import Dist, make_env

pytestmark = pytest.mark.usefixtures("offline_index")
LINUX_311 = ("--python-version", "3.11", "--platform", "manylinux_2_28_x86_64")
LINUX_312 = ("--python-version", "3.12", "--platform", "manylinux_2_28_x86_64")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--color", "never", "constraints", *argv])
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


def test_reference_case_311_pins_tokenizers_with_its_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "constraints.txt"
    code, out, err = _run(capsys, *LINUX_311, "--target", "transformers<4.31", "-o", str(path))
    assert code == 0, err
    text = path.read_text()
    chain = "transformers 4.30.2 requires tokenizers!=0.11.3,<0.14,>=0.11.1 <- target transformers<4.31"
    line = f"tokenizers==0.13.3  # {chain}"
    assert line in text
    assert "# for CPython 3.11 on manylinux_2_28_x86_64 (fresh environment)" in text
    assert "# resolved by uv against no index, find-links" in text
    assert f"apply with: pip install -c {path} " in " ".join(out.split())


def test_reference_case_312_warns_and_names_the_nearest_pair_with_wheels(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, *LINUX_312, "--target", "transformers<4.31")
    assert code == 0, err
    assert "tokenizers==0.13.3" in out
    assert "# warning: tokenizers==0.13.3 has no wheel for CPython 3.12 on manylinux_2_28_x86_64" in out
    assert "Rust 1.73" in err
    # 4.17.0 (inside the range, with wheels) is further from 4.30.2 than 4.34.0 just above it.
    assert "Nearest versions with wheels: transformers==4.34.0 with tokenizers==0.14.1 (outside target" in err


def test_removed_api_caller_gets_an_importable_hub(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, *LINUX_311, "--target", "sentence-transformers==2.2.2", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["schema"] == "envdoctor.constraints/1"
    hub = next(p for p in document["pins"] if p["name"] == "huggingface-hub")
    assert hub["version"] == "0.25.2" and hub["status"] == "added"
    assert "imports huggingface_hub.cached_download" in hub["reasons"][0]["text"]
    assert "VR112" in hub["reasons"][0]["text"]
    assert hub["reasons"][0]["kind"] == "rule" and hub["reasons"][0]["requirement"] == "huggingface-hub<0.26"
    assert document["resolver"] == {"engine": "uv", "index": document["resolver"]["index"], "rounds": 2}
    assert document["apply"]["commands"][0].startswith("pip install -c constraints.txt ")
    # Without the rule uv takes the newest hub, which sentence-transformers 2.2.2 cannot import.
    code, out, _ = _run(capsys, *LINUX_311, "--target", "sentence-transformers==2.3.0", "--json")
    assert next(p for p in json.loads(out)["pins"] if p["name"] == "huggingface-hub")["version"] == "0.36.0"


def test_hidden_mmcv_bound_adds_mmcv_and_mmengine(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, *LINUX_311, "--target", "mmdet==3.3.0")
    assert code == 0, err
    assert "mmcv==2.1.0  # mmdet 3.3.0 imports mmcv: mmcv<2.2.0,>=2.0.0rc4" in out
    assert "mmengine==0.10.4" in out


def test_numpy1_build_gets_numpy_below_2_even_when_numpy_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, *LINUX_311, "--target", "torch==2.1.0", "--target", "numpy")
    assert code == 0, err
    assert "numpy==1.26.4  # torch 2.1.0 is built against NumPy 1: numpy<2" in out


def test_extras_are_kept(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, *LINUX_311, "--target", "transformers[torch]==4.30.2")
    assert code == 0, err
    assert "torch==2.9.0  # transformers 4.30.2 requires torch" in out
    assert "transformers[torch]==4.30.2" in err  # the table shows the target as written (no markup eaten)


def test_macos_floor_comes_from_the_platform_tag(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--python-version", "3.11", "--platform", "macosx_11_0_arm64", "--target", "torch")
    assert code == 0, err
    assert "torch==2.8.0" in out  # torch 2.9.0's only macOS wheel needs macOS 14
    code, out, err = _run(capsys, "--python-version", "3.11", "--platform", "macosx_14_0_arm64", "--target", "torch")
    assert "torch==2.9.0" in out


def test_verify_a_fresh_target_with_a_glibc_2_24_wheel(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, *LINUX_311, "--target", "glibc-floor", "--verify")
    assert code == 0, err
    assert "[✓] verify: uv (wheels only) accepts the constraints" in err


def test_verify_fails_with_the_installers_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, *LINUX_312, "--target", "transformers<4.31", "--verify")
    assert code == 1
    assert "[✗] verify: uv (wheels only) would not install the constraints" in err
    assert "tokenizers==0.13.3 has no usable wheels" in err


def test_pip_resolver_as_fallback(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, *LINUX_311, "--resolver", "pip", "--target", "sentence-transformers==2.2.2")
    assert code == 0, err
    assert "# resolved by pip against" in out
    assert "huggingface-hub==0.25.2" in out


def test_torch_torchvision_mismatch_is_fixed_keeping_torch_and_its_variant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The README's example: torch 2.1.0+cu121 with torchvision 0.17.0 (built for torch 2.2.0).
    make_env(
        tmp_path,
        dists={
            "torch": Dist("2.1.0+cu121", requires=["filelock"]),
            "torchvision": Dist("0.17.0", requires=["torch==2.2.0", "numpy"]),
            "filelock": "3.13.1",
            "numpy": "2.1.3",
        },
        torch_version_py={"__version__": "2.1.0+cu121", "cuda": "12.1"},
    )
    venv = tmp_path / "venv"
    code, out, err = _run(capsys, "--python", str(venv), "--verify")
    assert code == 0, err
    assert "torchvision==0.16.0  # torch 2.1.0+cu121 pairs with torchvision==0.16.*" in out
    assert "numpy==1.26.4  # torch 2.1.0+cu121 is built against NumPy 1: numpy<2" in out
    assert "torch==2.1.0+cu121  # kept" in out
    assert "# index: --extra-index-url https://download.pytorch.org/whl/cu121" in out
    python = str(venv / "bin" / "python")
    assert f"apply with: {python} -m pip install --extra-index-url https://download.pytorch.org/whl/cu121" in err
    # The venv has no pip (python -m venv --without-pip): uv verifies in its place.
    assert "[✓] verify: uv accepts the constraints" in err


def test_installed_package_missing_from_the_index_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_env(tmp_path, dists={"my-private-lib": "1.0", "filelock": "3.13.1"})
    code, out, err = _run(capsys, "--python", str(tmp_path / "venv"), "--target", "mmdet==3.3.0")
    assert code == 0, err
    assert "my-private-lib (installed 1.0) is not on no index" in err
    assert "filelock==3.13.1  # kept" in out
    assert "mmcv==2.1.0" in out


def test_existing_output_not_touched_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "constraints.txt"
    path.write_text("keep me\n")
    code, _, err = _run(capsys, *LINUX_311, "--target", "mmdet==3.3.0", "-o", str(path))
    assert code == 2
    assert "file exists; pass --force" in err and str(path) in err
    assert path.read_text() == "keep me\n"
    code, _, err = _run(capsys, *LINUX_311, "--target", "mmdet==3.3.0", "-o", str(path), "--force")
    assert code == 0, err
    assert "mmcv==2.1.0" in path.read_text()


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("--target", "transformers<<4.31"), "--target 'transformers<<4.31': not a valid requirement"),
        (("--target", "no-such-pkg-envdoctor"), "finds no package 'no-such-pkg-envdoctor'"),
        (("--python-version", "three"), "--python-version 'three'"),
        (("--platform", "solaris_sparc"), "--platform 'solaris_sparc'"),
    ],
)
def test_bad_input_exits_2_naming_it(argv: tuple[str, ...], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--python-version", "3.11", *argv)
    assert code == 2
    assert needle in err
    assert "Traceback" not in err


def test_contradictory_targets_print_the_resolvers_chain(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, *LINUX_311, "--target", "transformers==4.30.2", "--target", "tokenizers>=0.15")
    assert code == 2
    assert "no set of versions satisfies every requirement" in err
    assert "Because transformers==4.30.2 depends on one of: tokenizers>=0.11.1,<0.11.3" in err
    assert "your targets: transformers==4.30.2, tokenizers>=0.15" in err


def test_python_and_platform_conflict(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--python", "/usr/bin/python3", "--platform", "win_amd64")
    assert code == 2
    assert "--platform describes a fresh environment" in err


@pytest.mark.slow
def test_verify_in_a_venv_with_the_pip_python_m_venv_gives(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess
    import sys

    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True)
    pip = subprocess.run([venv / "bin" / "python", "-m", "pip", "--version"], capture_output=True, text=True)
    code, out, err = _run(capsys, "--python", str(venv), "--target", "sentence-transformers==2.2.2", "--verify")
    assert code == 0, err
    assert "huggingface-hub==0.25.2" in out
    assert f"apply with: {venv / 'bin' / 'python'} -m pip install -c constraints.txt sentence-transformers" in err
    assert "[✓] verify: pip accepts the constraints" in err, pip.stdout


def test_keep_that_contradicts_a_target_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_env(tmp_path, dists={"tokenizers": Dist("0.15.2", requires=["huggingface-hub<1.0,>=0.16.4"])})
    venv = str(tmp_path / "venv")
    code, _, err = _run(capsys, "--python", venv, "--keep", "tokenizers", "--target", "transformers>=4.30,<4.31")
    assert code == 2
    assert "--keep tokenizers (installed 0.15.2): tokenizers==0.15.2" in err
    assert "your targets: transformers>=4.30,<4.31" in err
    code, out, err = _run(capsys, "--python", venv, "--target", "transformers>=4.30,<4.31")
    assert code == 0, err
    assert "# tokenizers: installed 0.15.2 -> 0.13.3" in out
    # uv's log lists a constraint on the parent after the parent's own range: only the latter is quoted.
    assert "# transformers 4.30.2 requires huggingface-hub<1.0,>=0.14.1 <- target" in out
    code, _, err = _run(capsys, "--python", venv, "--keep", "torch")
    assert code == 2 and "--keep 'torch': not installed in the inspected environment" in err


def test_an_index_that_cannot_be_read_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "missing"))
    code, _, err = _run(capsys, *LINUX_311, "--target", "mmdet==3.3.0")
    assert code == 2
    assert f"uv could not resolve against no index, find-links {tmp_path / 'missing'}" in err
    assert "Traceback" not in err


def test_the_python_api_runs_the_same_flow() -> None:
    import envdoctor

    outcome = envdoctor.constraints(["transformers<4.31"], python_version="3.11", platform="manylinux_2_28_x86_64")
    assert "tokenizers==0.13.3" in outcome.text
    assert outcome.solution.target.label.startswith("CPython 3.11")
    assert outcome.command.startswith("pip install -c constraints.txt")


TOKENIZERS_LOG = (
    "Traceback (most recent call last):\n"
    '  File "train.py", line 1, in <module>\n'
    "    import transformers\n"
    "ImportError: tokenizers>=0.11.1,!=0.11.3,<0.14 is required for a normal functioning of this module, "
    "but found tokenizers==0.15.2.\n"
)


def test_log_pins_come_from_a_file_or_stdin_read_as_triage_reads_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    log = tmp_path / "import.log"
    log.write_text(TOKENIZERS_LOG)
    code, without, err = _run(capsys, *LINUX_311, "--target", "transformers")
    assert code == 0 and "tokenizers==0.14.1" in without, err  # the newest pair
    code, from_file, err = _run(capsys, *LINUX_311, "--target", "transformers", "--log", str(log))
    assert code == 0, err
    assert "tokenizers==0.13.3  # finding VR101: tokenizers!=0.11.3,<0.14,>=0.11.1" in from_file
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(TOKENIZERS_LOG.encode())))
    code, from_stdin, err = _run(capsys, *LINUX_311, "--target", "transformers", "--log", "-")
    assert code == 0, err
    assert from_stdin.splitlines()[1:] == from_file.splitlines()[1:]  # the first line is the date
    for bad, needle in (("/dev/zero", "not a regular file"), (str(tmp_path / "none.log"), "none.log")):
        code, _, err = _run(capsys, *LINUX_311, "--log", bad)
        assert code == 2 and err.startswith("envdoctor: error: --log:") and needle in err, err
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"\x00" * (5 << 20))))  # endless in spirit
    code, _, err = _run(capsys, *LINUX_311, "--log", "-")
    assert code == 2 and "binary file" in err, err
