"""The one process runner: no shell, timeouts that kill the whole group, errors as data."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from envdoctor.probe.runner import SubprocessRunner

RUNNER = SubprocessRunner()


def test_captures_output_and_status() -> None:
    result = RUNNER.run(
        [sys.executable, "-c", "import sys; print('out'); sys.stderr.write('err'); sys.exit(3)"], timeout=30
    )
    assert (result.returncode, result.stdout.strip(), result.stderr) == (3, "out", "err")
    assert not result.ok and "status 3: err" in result.describe_failure()


def test_no_shell_is_involved() -> None:
    result = RUNNER.run(["echo", "$HOME", "; ls"], timeout=10)
    assert result.stdout == "$HOME ; ls\n"


def test_missing_executable_is_an_error_value() -> None:
    result = RUNNER.run(["/nonexistent/tool", "--version"], timeout=5)
    assert result.returncode is None and result.error == "not found"
    assert result.describe_failure() == "tool: not found"


def test_timeout_kills_the_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild.pid"
    script = f"sleep 60 & echo $! > {marker}; wait"
    start = time.monotonic()
    result = RUNNER.run(["/bin/sh", "-c", script], timeout=1)
    assert time.monotonic() - start < 5
    assert result.timed_out and result.returncode is None
    grandchild = int(marker.read_text())
    time.sleep(0.2)
    try:
        os.kill(grandchild, 0)
        alive = Path(f"/proc/{grandchild}/stat").read_text().split()[2] != "Z"
    except ProcessLookupError:
        alive = False
    assert not alive


def test_signal_is_named() -> None:
    result = RUNNER.run([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGABRT)"], timeout=30)
    assert result.returncode == -6
    assert "SIGABRT" in result.describe_failure()


def test_stdin_is_closed() -> None:
    result = RUNNER.run([sys.executable, "-c", "import sys; print(repr(sys.stdin.read()))"], timeout=10)
    assert result.stdout.strip() == "''"


def test_a_command_that_prints_without_end_is_stopped(tmp_path: Path) -> None:
    """An interpreter that prints 100 MB costs envdoctor at most the limit, not the output."""
    from envdoctor.probe.runner import MAX_OUTPUT

    script = tmp_path / "chatty"
    script.write_text('#!/bin/sh\nhead -c 100000000 /dev/zero | tr "\\\\0" "x"\n')
    script.chmod(0o755)
    result = SubprocessRunner().run([str(script)], timeout=30)
    assert result.returncode is None and result.error is not None
    assert f"more than {MAX_OUTPUT // (1024 * 1024)} MB" in result.error
    assert len(result.stdout) <= 4096
