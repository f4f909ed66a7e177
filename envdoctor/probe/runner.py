"""The one way envdoctor runs an external program: argv list, no shell, a timeout.

Every probe that needs a process (the interpreter script, ``nvidia-smi``, ``nvcc``,
``cuobjdump``, the ``--deep`` torch import) goes through a :class:`Runner`. The real one,
:class:`SubprocessRunner`, starts the program in its own session so a timeout can kill the
whole process group (a hung driver call in a grandchild included), closes stdin, and
captures both streams. Failures are data on the returned :class:`RunResult`, never
exceptions, so one missing tool cannot hide the other facts. Tests pass a runner that
replays recorded outputs instead.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["RunResult", "Runner", "SubprocessRunner", "last_line", "signal_name"]


@dataclass(frozen=True)
class RunResult:
    """What one program run produced.

    ``returncode`` is ``None`` when the program never ran (``error`` says why) or was
    killed after ``timed_out``; a negative code is the signal that ended it.
    """

    argv: tuple[str, ...]
    returncode: int | None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the program ran to completion and exited 0."""
        return self.returncode == 0 and not self.timed_out and self.error is None

    def describe_failure(self) -> str:
        """One line saying why the run did not succeed (empty when it did)."""
        name = os.path.basename(self.argv[0]) if self.argv else "program"
        if self.error is not None:
            return f"{name}: {self.error}"
        if self.timed_out:
            return f"{name} did not finish within {self.seconds:.1f}s (killed)"
        if self.returncode is not None and self.returncode < 0:
            return f"{name} was killed by {signal_name(-self.returncode)}"
        if self.returncode:
            text = last_line(self.stderr) or last_line(self.stdout)
            return f"{name} exited with status {self.returncode}" + (f": {text}" if text else "")
        return ""


class Runner(Protocol):
    """Runs programs and finds them on PATH; swapped for a replaying fake in tests."""

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
    ) -> RunResult:
        """Run ``argv`` (no shell) and return what happened, whatever happened."""
        ...

    def which(self, program: str, path: str | None = None) -> str | None:
        """The full path ``program`` would run as, or ``None`` when it is not found."""
        ...


def last_line(text: str) -> str:
    """The last non-blank line of ``text``, stripped."""
    for line in reversed(text.strip().splitlines()):
        if line.strip():
            return line.strip()
    return ""


def signal_name(number: int) -> str:
    """``11`` -> ``"SIGSEGV"``; unknown numbers read ``"signal 99"``."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class SubprocessRunner:
    """The real runner: :mod:`subprocess` with a process-group kill on timeout."""

    def which(self, program: str, path: str | None = None) -> str | None:
        return shutil.which(program, path=path)

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
    ) -> RunResult:
        args = tuple(argv)
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(env) if env is not None else None,
                start_new_session=True,
            )
        except FileNotFoundError:
            return RunResult(args, None, error="not found")
        except PermissionError:
            return RunResult(args, None, error="permission denied (not executable)")
        except OSError as exc:
            return RunResult(args, None, error=exc.strerror or str(exc))
        out, err, state = _collect(proc, timeout=timeout, limit=MAX_OUTPUT)
        if state == "timeout":
            _kill_group(proc)
            more_out, more_err = _drain(proc)
            return RunResult(
                args,
                None,
                _decode(out + more_out[: max(0, MAX_OUTPUT - len(out))]),
                _decode(err + more_err[: max(0, MAX_OUTPUT - len(err))]),
                timed_out=True,
                seconds=time.monotonic() - start,
            )
        if state == "too-much":
            _kill_group(proc)
            _drain(proc)
            return RunResult(
                args,
                None,
                _decode(out[:4096]),
                _decode(err[:4096]),
                error=f"printed more than {MAX_OUTPUT // (1024 * 1024)} MB; stopped",
                seconds=time.monotonic() - start,
            )
        return RunResult(args, proc.returncode, _decode(out), _decode(err), seconds=time.monotonic() - start)


#: A command that prints more than this (on either stream) is stopped: an interpreter that
#: prints 100 MB on start-up must not cost envdoctor 100 MB, let alone a gigabyte.
MAX_OUTPUT = 32 * 1024 * 1024


def _collect(proc: subprocess.Popen[bytes], *, timeout: float, limit: int) -> tuple[bytes, bytes, str]:
    """Read both pipes until the process ends (``done``), ``timeout`` passes, or one passes ``limit``."""
    assert proc.stdout is not None and proc.stderr is not None
    deadline = time.monotonic() + timeout
    buffers = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
    with selectors.DefaultSelector() as selector:
        for stream in (proc.stdout, proc.stderr):
            selector.register(stream, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(buffers[proc.stdout.fileno()]), bytes(buffers[proc.stderr.fileno()]), "timeout"
            for key, _ in selector.select(timeout=min(left, 1.0)):
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                buffer = buffers[key.fd]
                buffer.extend(chunk)
                if len(buffer) > limit:
                    return bytes(buffers[proc.stdout.fileno()]), bytes(buffers[proc.stderr.fileno()]), "too-much"
    try:
        proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return bytes(buffers[proc.stdout.fileno()]), bytes(buffers[proc.stderr.fileno()]), "timeout"
    return bytes(buffers[proc.stdout.fileno()]), bytes(buffers[proc.stderr.fileno()]), "done"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _drain(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    # A grandchild that left the group could still hold the pipes open: give up after
    # a short wait rather than hang on it.
    try:
        return proc.communicate(timeout=2.0)
    except subprocess.TimeoutExpired:
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        proc.wait()
        return b"", b""


def _decode(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")
