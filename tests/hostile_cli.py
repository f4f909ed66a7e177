"""Hostile inputs of issue 15 for ``triage``, ``diagnose``, ``constraints`` and ``compare``.

Each must end with exit 0, 1 or 2 (never 3, never a hang) within 10 s and 500 MB, and show
no raw control character from the input. Builders only: :mod:`tests.test_bounds_cli` runs
each in a subprocess (exit code, no traceback, escaped output) and
``benchmarks/bench_bounds.py`` prints each one's time and peak memory against the bound,
together with the ``keys`` inputs of :mod:`tests.ckpt.hostile`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["BUILDERS", "Case"]

Case = tuple[list[str], str, str | None]
"""``envdoctor`` arguments, a note of what the input is, and stdin: ``None`` (empty),
``"closed"``, or a path read as stdin."""

_TF5_HEADER = (
    "[transformers] BertModel LOAD REPORT from: ./bert-tiny\n"
    "Key                                        | Status     |  | \n"
    "-------------------------------------------+------------+--+-\n"
)
_TF5_NOTES = "\nNotes:\n- UNEXPECTED:\tcan be ignored when loading from different task/architecture.\n"
_MISSING = "RuntimeError: Error(s) in loading state_dict for Net:\n"


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _fifo(folder: Path) -> str:
    path = folder / "pipe"
    os.mkfifo(path)
    return str(path)


def _log(folder: Path) -> str:
    return _write(folder, "cuda.log", "RuntimeError: CUDA error: no kernel image is available for execution\n")


def triage_dev_zero(folder: Path) -> Case:
    return ["triage", "--no-probe", "/dev/zero"], "/dev/zero as the log", None


def triage_fifo(folder: Path) -> Case:
    return ["triage", "--no-probe", _fifo(folder)], "a FIFO as the log", None


def triage_closed_stdin(folder: Path) -> Case:
    return ["triage", "--no-probe", "-"], "the log from a closed stdin", "closed"


def triage_endless_stdin(folder: Path) -> Case:
    return ["triage", "--no-probe", "-"], "the log from stdin that never ends (/dev/zero)", "/dev/zero"


def triage_long_key_line(folder: Path) -> Case:
    keys = ", ".join(f'"a{i}.' + "b" * 20 + '"' for i in range(10_000))
    text = f"{_MISSING}\tMissing key(s) in state_dict: {keys}.\n"
    return ["triage", "--no-probe", _write(folder, "long.log", text)], "a 300 KB line of missing keys", None


def triage_long_junk_lines(folder: Path) -> Case:
    lines = [
        "RuntimeError: " + "a." * 150_000,  # key-like characters without an end
        "size mismatch for " + "x" * 300_000,
        "Missing key(s) in state_dict: " + '"' * 100_000 + ", " * 100_000,
        "ImportError: cannot import name " + "'" * 200_000,
        "(" * 100_000 + "torch.Size([" * 20_000,
    ]
    # Lines made of the literals knowledge patterns wait for, 16 KB each (what a pattern reads
    # of a line), 250 of them: 4 MB that a quadratic pattern would take minutes over.
    knowledge_bait = [
        "a requires " * 1500,
        "a==" * 5500 + " is required for a normal functioning of this module, but found a==1",
        "x.so " * 3300 + ": undefined symbol: ",
        "x() got an unexpected keyword argument " + "x() " * 4000,
        "a " * 8000 + "version solving failed",
        "w requires the " * 1000 + " library but it was not found",
        "a b has requirement " * 800,
    ]
    lines += [knowledge_bait[index % len(knowledge_bait)] for index in range(250)]
    text = "\n".join(lines) + "\n"
    note = "200-300 KB lines and 250 lines of 16 KB built to backtrack"
    return ["triage", "--no-probe", _write(folder, "junk.log", text)], note, None


def triage_size_mismatches(folder: Path) -> Case:
    text = _MISSING + "".join(
        f"\tsize mismatch for layer{i}.weight: copying a param with shape torch.Size([10, {i}]) from checkpoint, "
        f"the shape in current model is torch.Size([11, {i}]).\n"
        for i in range(20_000)
    )
    return ["triage", "--no-probe", _write(folder, "mismatch.log", text)], "20,000 size-mismatch lines", None


def triage_tf5_range(folder: Path) -> Case:
    rows = "encoder.layer.{0...100000000}.attention.weight | UNEXPECTED |  | \n"
    rows += "encoder.{0...99999}.layer.{0...99999}.w | MISSING |  | \n"
    text = _TF5_HEADER + rows + _TF5_NOTES
    return ["triage", "--no-probe", _write(folder, "range.log", text)], "transformers 5 index sets of 10**8", None


def triage_tf5_digits(folder: Path) -> Case:
    rows = "encoder.layer.{0..." + "9" * 5000 + "}.weight | UNEXPECTED |  | \n"
    rows += "decoder.{" + ", ".join(["1" * 5000] * 3) + "}.weight | MISSING |  | \n"
    text = _TF5_HEADER + rows + _TF5_NOTES
    note = "transformers 5 index sets of 5,000 digits"
    return ["triage", "--no-probe", _write(folder, "digits.log", text)], note, None


def triage_huge_numbers(folder: Path) -> Case:
    huge = "9" * 5000
    text = (
        "ImportError: tokenizers>=0.11.1,!=0.11.3,<0.14 is required for a normal functioning of this module, "
        f"but found tokenizers==0.{huge}.\n"
        f"RuntimeError: Error(s) in loading state_dict for Net:\n\tsize mismatch for w: copying a param with shape "
        f"torch.Size([{huge}]) from checkpoint, the shape in current model is torch.Size([1{huge}]).\n"
        f"NVIDIA A100 with CUDA capability sm_{huge} is not compatible with the current PyTorch installation.\n"
        f"RuntimeError: The NVIDIA driver on your system is too old (found version {huge}).\n"
        f"AssertionError: MMCV=={huge}.0 is used but incompatible. Please install mmcv>=2.0.0rc4, <2.2.0.\n"
        f"numpy 2.{huge} A module that was compiled using NumPy 1.x cannot be run in NumPy 2.{huge}\n"
    )
    note = "versions, shapes and sm_ of 5,000 digits"
    return ["triage", "--no-probe", _write(folder, "numbers.log", text)], note, None


def triage_control_characters(folder: Path) -> Case:
    text = (
        "\x1b]0;owned\x07\x1b[2J"
        + _MISSING
        + '\tMissing key(s) in state_dict: "a.\x1b[31mred\x1b[0m", "b.\x07bell".\n'
        + "ModuleNotFoundError: No module named 'x\x1b[1mbold'\n"
    )
    return ["triage", "--no-probe", _write(folder, "escapes.log", text)], "escape sequences in keys and messages", None


def triage_env_dev_zero(folder: Path) -> Case:
    return ["triage", "--no-probe", _log(folder), "--env", "/dev/zero"], "/dev/zero as --env", None


def triage_env_nested(folder: Path) -> Case:
    report = _write(folder, "env.json", "[" * 100_000 + "]" * 100_000)
    return ["triage", "--no-probe", _log(folder), "--env", report], "--env nested 100,000 deep", None


def constraints_target_digits(folder: Path) -> Case:
    return ["constraints", "--target", "torch==" + "9" * 5000], "a 5,000-digit --target version", None


def constraints_python_version_digits(folder: Path) -> Case:
    return ["constraints", "--python-version", "3." + "9" * 5000], "a 5,000-digit --python-version", None


def constraints_platform_digits(folder: Path) -> Case:
    args = ["constraints", "--python-version", "3.11", "--platform", "manylinux_2_" + "9" * 5000 + "_x86_64"]
    return args, "a 5,000-digit --platform glibc", None


def constraints_log_dev_zero(folder: Path) -> Case:
    return ["constraints", "--python-version", "3.11", "--log", "/dev/zero"], "/dev/zero as --log", None


def constraints_log_endless_stdin(folder: Path) -> Case:
    args = ["constraints", "--python-version", "3.11", "--log", "-"]
    return args, "--log from stdin that never ends (/dev/zero)", "/dev/zero"


def diagnose_chatty_python(folder: Path) -> Case:
    script = folder / "chatty"
    script.write_text('#!/bin/sh\nhead -c 100000000 /dev/zero | tr "\\\\0" "x"\n')
    script.chmod(0o755)
    return ["diagnose", "--python", str(script)], "an interpreter that prints 100 MB", None


def diagnose_nested_sources(folder: Path) -> Case:
    from tests.envbuilder import make_env

    deep = "(" * 100_000 + "1" + ")" * 100_000
    python = make_env(
        folder,
        dists={"transformers": "4.29.1", "mmdet": "2.7.0", "mmcv-full": "1.2.0"},
        files={
            "transformers/__init__.py": "",
            "transformers/dependency_versions_table.py": "deps = {'tokenizers': " + deep + "}\n",
            "transformers/dependency_versions_check.py": "pkgs_to_check_at_runtime = ['tokenizers']\n",
            "mmdet/__init__.py": "mmcv_minimum_version = " + "[" * 100_000 + "]" * 100_000 + "\n",
        },
    )
    note = "dependency_versions_table.py and mmdet/__init__.py nested 100,000 deep"
    return ["diagnose", "--python", str(python)], note, None


def diagnose_control_characters(folder: Path) -> Case:
    from tests.envbuilder import make_env

    python = make_env(folder, name="venv\x1b]0;owned\x07\x1b[2J", dists={"transformers": "4.29.1"})
    return ["diagnose", "--python", str(python), "-v"], "escape sequences in the inspected venv's path", None


def diagnose_huge_versions(folder: Path) -> Case:
    from tests.envbuilder import Dist, make_env

    huge = "9" * 5000

    def dist(name: str, version: str, *requires: str) -> Dist:  # the METADATA says it; the folder says 1.0
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        lines += [f"Requires-Dist: {r}" for r in requires]
        return Dist("1.0", metadata="\n".join(lines) + "\n\n")

    python = make_env(
        folder,
        dists={
            "transformers": dist("transformers", f"4.{huge}", f"tokenizers<0.{huge}", "huggingface-hub>=0.\u00b2"),
            "tokenizers": dist("tokenizers", "0.\u00b2"),
            "torch": dist("torch", f"2.{huge}+cu{huge}"),
            "mmcv": dist("mmcv", "2.\u0663.0"),
            "mmdet": dist("mmdet", "3.3.0", f"mmcv<2.{huge}"),
        },
        torch_version_py={"__version__": f"2.{huge}+cu{huge}", "cuda": huge},
    )
    return ["diagnose", "--python", str(python)], "installed versions and requirements of 5,000 digits", None


def compare_dev_zero(folder: Path) -> Case:
    return ["compare", "/dev/zero", "/dev/zero"], "/dev/zero as two reports", None


def compare_nested(folder: Path) -> Case:
    report = _write(folder, "report.json", "{" + '"a":{' * 100_000 + "}" * 100_001)
    return ["compare", report, report], "reports nested 100,000 deep", None


BUILDERS: dict[str, Callable[[Path], Case]] = {
    name.replace("_", "-"): builder
    for name, builder in sorted(vars(sys.modules[__name__]).items())
    if callable(builder) and name.split("_")[0] in ("triage", "constraints", "diagnose", "compare")
}
