"""A runner that replays recorded program outputs, and a recorded NVML.

``ReplayRunner`` answers for the fake programs it was given (``nvidia-smi``, ``nvcc``,
...) from recordings under ``tests/fixtures/host/``, and runs everything else (the
inspected Python interpreter) for real, so a test exercises the whole probe with only
the outside world that cannot exist here replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from envdoctor.probe.runner import RunResult, SubprocessRunner

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "host"


def fixture(relative: str) -> str:
    """The text of one recorded output."""
    return (FIXTURES / relative).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Recording:
    """One recorded run: what the program printed and how it exited."""

    stdout: str = ""
    stderr: str = ""
    returncode: int = 0


Matcher = Callable[[tuple[str, ...]], bool]


def args_contain(*needles: str) -> Matcher:
    """Match a call whose arguments (after the program) contain every needle."""
    return lambda argv: all(any(n in a for a in argv[1:]) for n in needles)


def no_args(argv: tuple[str, ...]) -> bool:
    return len(argv) == 1


@dataclass
class ReplayRunner:
    """``programs`` maps a program name to its ordered (matcher, recording) rules."""

    programs: Mapping[str, Sequence[tuple[Matcher, Recording]]]
    calls: list[tuple[str, ...]] = field(default_factory=list)
    real: SubprocessRunner = field(default_factory=SubprocessRunner)

    def which(self, program: str, path: str | None = None) -> str | None:
        return f"/replay/bin/{program}" if program in self.programs else None

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None) -> RunResult:
        args = tuple(argv)
        name = Path(args[0]).name
        if not args[0].startswith("/replay/bin/"):
            return self.real.run(args, timeout=timeout, env=env)
        self.calls.append(args)
        for matcher, recording in self.programs.get(name, ()):
            if matcher(args):
                return RunResult(args, recording.returncode, recording.stdout, recording.stderr)
        return RunResult(args, None, error="no recording for this call")


class ReplayNvml:
    """Replays NVML answers; any value that is an exception is raised instead."""

    def __init__(
        self,
        *,
        init_error: Exception | None = None,
        driver: str | bytes = "",
        cuda: int = 0,
        devices: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.init_error = init_error
        self.driver = driver
        self.cuda = cuda
        self.devices = list(devices)
        self.shutdown_called = False

    def _value(self, value: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        return value

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise self.init_error

    def nvmlShutdown(self) -> None:
        self.shutdown_called = True

    def nvmlSystemGetDriverVersion(self) -> str | bytes:
        return cast("str | bytes", self._value(self.driver))

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        return cast("int", self._value(self.cuda))

    def nvmlDeviceGetCount(self) -> int:
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> Any:
        return self.devices[index]

    def nvmlDeviceGetName(self, handle: Any) -> str | bytes:
        return cast("str | bytes", self._value(handle["name"]))

    def nvmlDeviceGetMemoryInfo(self, handle: Any) -> Any:
        return self._value(handle["memory"])

    def nvmlDeviceGetCudaComputeCapability(self, handle: Any) -> tuple[int, int]:
        return cast("tuple[int, int]", self._value(handle["cc"]))

    def nvmlDeviceGetUUID(self, handle: Any) -> str | bytes:
        return cast("str | bytes", self._value(handle["uuid"]))
