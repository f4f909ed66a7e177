"""Every hostile input of issue 15 for ``triage``, ``diagnose``, ``constraints``, ``compare``.

Each ends with its documented exit code (never 3), no traceback and no raw control
character from the input in the output. ``envdoctor`` runs in a subprocess (a hang would
otherwise hang the suite; the timeout here is a guard, the 10 s / 500 MB figures come from
``benchmarks/bench_bounds.py``, which runs the same inputs).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile_cli import BUILDERS

ROOT = Path(__file__).resolve().parents[1]

EXPECTED = {
    "compare-dev-zero": 2,
    "compare-nested": 2,
    "constraints-log-dev-zero": 2,
    "constraints-log-endless-stdin": 2,
    "constraints-platform-digits": 2,
    "constraints-python-version-digits": 2,
    "constraints-target-digits": 2,
    "diagnose-chatty-python": 2,
    "diagnose-control-characters": 0,
    "diagnose-huge-versions": 1,
    "diagnose-nested-sources": 0,
    "triage-closed-stdin": 2,
    "triage-control-characters": 1,
    "triage-dev-zero": 2,
    "triage-endless-stdin": 2,
    "triage-env-dev-zero": 2,
    "triage-env-nested": 2,
    "triage-fifo": 2,
    "triage-huge-numbers": 1,
    "triage-long-junk-lines": 1,
    "triage-long-key-line": 1,
    "triage-size-mismatches": 1,
    "triage-tf5-digits": 1,
    "triage-tf5-range": 1,
}
# What a terminal acts on: C0 controls but tab and newline, DEL, and C1 controls.
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def test_every_input_has_an_expected_exit() -> None:
    assert set(BUILDERS) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_hostile_input_gets_an_answer(tmp_path: Path, name: str) -> None:
    args, note, stdin = BUILDERS[name](tmp_path)
    source = subprocess.DEVNULL if stdin is None or stdin == "closed" else open(stdin, "rb")  # noqa: SIM115
    try:
        result = subprocess.run(
            [sys.executable, "-m", "envdoctor", *args],
            stdin=source,
            capture_output=True,
            timeout=120,
            check=False,
            env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), "COLUMNS": "100"},
            preexec_fn=(lambda: os.close(0)) if stdin == "closed" else None,
        )
    finally:
        if not isinstance(source, int):
            source.close()
    output = (result.stdout + result.stderr).decode("utf-8", "replace")
    assert result.returncode == EXPECTED[name], f"{note}: exit {result.returncode}\n{output[-2000:]}"
    assert "Traceback" not in output and "internal error" not in output, note
    assert RAW_CONTROL.search(output) is None, f"{note}: a raw control character reached the output"
    if name == "triage-control-characters":
        assert "b.\\x07bell" in output  # a bell is shown escaped; ANSI colour codes are stripped as noise
        assert "a.red" in output
    if name == "triage-closed-stdin":
        assert "standard input is closed" in output
    if name == "diagnose-nested-sources":  # unreadable, so unjudged: said, not passed over
        for package, file in (("transformers", "dependency_versions_table.py"), ("mmdet", "__init__.py")):
            assert f"not checked: what {package} requires at import: cannot read" in output
            assert f"too many nested parentheses ({file}, line 1)" in output
        assert "No issues found by the checks that could run" in output


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_escapes_from_a_log_reach_no_output_format_raw(tmp_path: Path, fmt: str) -> None:
    args, _, _ = BUILDERS["triage-control-characters"](tmp_path)
    log = tmp_path / "more.log"
    log.write_bytes(
        Path(args[-1]).read_bytes() + b"ModuleNotFoundError: No module named 'x\x08y\xc2\x9b2J'\n"  # a C1 CSI too
    )
    result = subprocess.run(
        [sys.executable, "-m", "envdoctor", "triage", "--no-probe", str(log), "--format", fmt],
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)},
    )
    output = result.stdout.decode("utf-8", "replace")
    assert result.returncode == 1, result.stderr
    assert RAW_CONTROL.search(output) is None
    assert "x\\x08y" in output and "b.\\x07bell" in output


def test_unread_import_bounds_are_named_in_markdown_too(tmp_path: Path) -> None:
    args, _, _ = BUILDERS["diagnose-nested-sources"](tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "envdoctor", *args, "--format", "markdown"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert "**Not checked:**" in result.stdout
    assert "- what transformers requires at import: cannot read" in result.stdout
    assert "No issues found by the checks that could run" in result.stdout


def test_numbers_packaging_cannot_parse_are_tamed_where_they_enter() -> None:
    from envdoctor.model import Distribution, from_jsonable, parse_version, tame_numbers, to_jsonable

    huge = "9" * 5000
    assert tame_numbers(f"torch<2.{huge}") == "torch<2.<5,000 digits>"
    assert tame_numbers("12345678901234567890") == "12345678901234567890"  # ordinary numbers stay
    assert parse_version(tame_numbers(f"4.{huge}")) is None  # not PEP 440, not a crash
    report = to_jsonable(Distribution("x", f"1.{huge}", "/site", requires=(f"y<{huge}",)))
    read = from_jsonable(Distribution, report)
    assert read.version == "1.<5,000 digits>" and read.requires == ("y<<5,000 digits>",)
