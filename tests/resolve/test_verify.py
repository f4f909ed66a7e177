"""``--verify`` offline: pip's recorded report and failure replayed through the runner interface."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pip_api
from packaging.version import Version

from envdoctor.probe.runner import RunResult
from envdoctor.resolve.solve import Pin, Solution
from envdoctor.resolve.verify import verify, verify_argv
from envdoctor.resolve.wheels import TargetPlatform

FIXTURES = Path(__file__).parent / "fixtures"
CONSTRAINTS = FIXTURES / "constraints-transformers-lt-4.31-cp311.txt"


class Replay:
    """A runner that returns one recorded pip run and remembers the command it was given."""

    def __init__(self, result: RunResult) -> None:
        self.result = result
        self.argv: list[str] = []

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None) -> RunResult:
        self.argv = list(argv)
        return self.result

    def which(self, program: str, path: str | None = None) -> str | None:
        return None


def _solution(target: TargetPlatform, path: Path = CONSTRAINTS) -> Solution:
    pins = tuple(
        Pin(name, Version(str(req.specifier)[2:]), None, ("recorded",))
        for name, req in pip_api.parse_requirements(str(path)).items()
    )
    return Solution(target, pins)


def test_argv_for_a_fresh_target() -> None:
    argv = verify_argv("c.txt", ["tokenizers"], python=None, target=TargetPlatform((3, 12)))
    assert argv[1:6] == ["-m", "pip", "install", "--dry-run", "--ignore-installed"]
    assert argv[argv.index("--python-version") + 1] == "3.12"
    assert "--only-binary" in argv and "manylinux2014_x86_64" in argv
    assert argv[-1] == "tokenizers"
    own = verify_argv("c.txt", ["tokenizers"], python="/venv/bin/python")
    assert own[0] == "/venv/bin/python" and "--python-version" not in own


def test_recorded_report_matches_the_pins() -> None:
    report = (FIXTURES / "pip-report-transformers-lt-4.31-cp311.json").read_text()
    solution = _solution(TargetPlatform((3, 11)))
    runner = Replay(RunResult(("pip",), 0, stdout=report))
    result = verify(solution, str(CONSTRAINTS), python=None, cross=True, runner=runner)
    assert result.ok, result.mismatches
    assert result.chosen["tokenizers"] == "0.13.3"
    assert Version(result.chosen["huggingface-hub"]) < Version("1.0")
    assert set(runner.argv[-len(solution.pins) :]) == {p.name for p in solution.pins}


def test_a_pin_pip_would_not_choose_is_reported() -> None:
    report = json.loads((FIXTURES / "pip-report-transformers-lt-4.31-cp311.json").read_text())
    solution = _solution(TargetPlatform((3, 11)))
    changed = tuple(
        Pin(p.name, Version("0.13.2"), None, p.reasons) if p.name == "tokenizers" else p for p in solution.pins
    )
    runner = Replay(RunResult(("pip",), 0, stdout=json.dumps(report)))
    result = verify(Solution(solution.target, changed), "c.txt", python=None, cross=True, runner=runner)
    assert not result.ok
    assert result.mismatches == ("tokenizers: pinned 0.13.2, pip chose 0.13.3",)


def test_pip_failure_is_reported_with_its_message() -> None:
    stderr = (FIXTURES / "pip-stderr-tokenizers-0.13.3-cp312.txt").read_text()
    runner = Replay(RunResult(("pip",), 1, stderr=stderr))
    result = verify(_solution(TargetPlatform((3, 12))), "c.txt", python=None, cross=True, runner=runner)
    assert not result.ok
    assert "Cannot install tokenizers" in result.message
