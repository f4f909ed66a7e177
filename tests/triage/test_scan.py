"""Find, then read: the streaming prefilter gives the same findings as reading the whole log.

Every fixture log and every real paste of the dev corpus is triaged twice, whole and through
the prefilter's regions, and must give the same findings with the same evidence lines; the
anchors come from the knowledge itself, so an entry the prefilter could miss fails here.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from envdoctor.errors import BadInputError
from envdoctor.kb.loader import load_knowledge
from envdoctor.model import Finding
from envdoctor.triage import read_log, triage_log
from envdoctor.triage.scan import WHOLE_LIMIT, anchors_for, open_log, prefilter_for, read_log_regions, scan_regions

ROOT = Path(__file__).resolve().parents[2]
LOGS = sorted(
    [*ROOT.glob("tests/fixtures/**/*.log"), *ROOT.glob("tests/corpus/cases/*.log")],
)


def _summary(findings: Iterable[Finding]) -> list[tuple[str, str, tuple[int | None, ...]]]:
    return [(f.id, f.title, tuple(e.line for e in f.evidence)) for f in findings]


def test_every_entry_has_an_anchor() -> None:
    _sensitive, _folded, unanchored = anchors_for(load_knowledge())
    assert unanchored == (), f"patterns without a literal the prefilter can search: {unanchored}"


@pytest.mark.parametrize("path", LOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_regions_give_the_same_findings(path: Path) -> None:
    knowledge = load_knowledge()
    try:
        whole = read_log(str(path))
    except BadInputError:
        pytest.skip("not a triageable log (empty or binary on purpose)")
    expected = _summary(triage_log(whole, facts={}, knowledge=knowledge).findings)
    with path.open("rb") as stream:
        regions = read_log_regions(stream, source=str(path), knowledge=knowledge)
    assert _summary(triage_log(regions, facts={}, knowledge=knowledge).findings) == expected


def test_a_wrapped_anchor_is_still_found() -> None:
    line = 'RuntimeError: Error(s) in loading state_dict for ResNet: Missing key(s) in state_dict: "fc.weight".'
    wrapped = "\n".join(line[i : i + 37] for i in range(0, len(line), 37))  # wraps inside the anchors
    regions = list(scan_regions(io.BytesIO(("noise\n" * 500 + wrapped + "\n").encode()), prefilter_for()))
    assert regions and any(b"Missing" in b"".join(r.lines) for r in regions)


def test_only_regions_are_kept_and_line_numbers_hold(tmp_path: Path) -> None:
    report = (ROOT / "tests/fixtures/logs/mmengine-gdino-keys.log").read_text()
    noise = "".join(f"Epoch [1][{i}/9000] loss: 0.{i:04d}\n" for i in range(9000))
    path = tmp_path / "train.log"
    path.write_text(noise + report + noise)
    with path.open("rb") as stream:
        log = read_log_regions(stream, source=str(path))
    assert log.physical_lines == 18000 + report.count("\n")
    assert len(log.lines) < 2500  # the report and its context, not 18,000 loss lines
    findings = triage_log(log, facts={}).findings
    assert [f.id for f in findings] == ["SD101", "SD102", "SD110"]
    assert min(e.line for e in findings[0].evidence if e.line) > 9000


def _cli(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envdoctor", "triage", "--no-probe", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        input=input,
    )


def test_a_large_standard_input_streams(tmp_path: Path) -> None:
    report = (ROOT / "tests/fixtures/logs/mmengine-gdino-keys.log").read_text()
    text = "x" * 100 + "\n"
    body = text * (WHOLE_LIMIT // len(text) + 1000) + report
    result = _cli("-", "--json", input=body)
    assert result.returncode == 1, result.stderr
    assert '"id": "SD101"' in result.stdout


@pytest.mark.parametrize("kind", ["device", "fifo", "directory", "binary", "closed-stdin"])
def test_inputs_that_cannot_be_logs_exit_2(tmp_path: Path, kind: str) -> None:
    if kind == "device":
        result = _cli("/dev/zero")
    elif kind == "fifo":
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        result = _cli(str(fifo))
    elif kind == "directory":
        result = _cli(str(tmp_path))
    elif kind == "binary":
        (tmp_path / "x.log").write_bytes(b"\0" * (WHOLE_LIMIT + 10))
        result = _cli(str(tmp_path / "x.log"))
    else:
        result = subprocess.run(
            f"{sys.executable} -m envdoctor triage --no-probe - <&-",
            shell=True,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "envdoctor: error:" in result.stderr


def test_a_single_huge_line_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "one.log"
    path.write_bytes(b"x" * (30 * 1024 * 1024))
    log = open_log(str(path))
    assert sum(len(line.raw) for line in log.lines) <= 2 * 1024 * 1024


def test_follow_reports_a_finding_as_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "growing.log"
    path.write_text("Epoch 1 loss 0.5\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "envdoctor", "triage", "--no-probe", "--follow", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(3)
        with path.open("a") as stream:
            stream.write((ROOT / "tests/fixtures/logs/mmengine-gdino-keys.log").read_text())
        deadline = time.time() + 30
        seen = ""
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        while time.time() < deadline and "SD101" not in seen:
            try:
                seen += os.read(process.stdout.fileno(), 65536).decode()
            except BlockingIOError:
                time.sleep(0.2)
        assert "SD101" in seen
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
    assert code == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [("[" * 100_000 + "]" * 100_000, "nested too deeply"), (None, "not a regular file")],
)
def test_a_hostile_env_report_exits_2(tmp_path: Path, content: str | None, message: str) -> None:
    log = tmp_path / "x.log"
    log.write_text("RuntimeError: CUDA error: no kernel image is available for execution on the device\n")
    report = "/dev/zero"
    if content is not None:
        (tmp_path / "env.json").write_text(content)
        report = str(tmp_path / "env.json")
    result = subprocess.run(
        [sys.executable, "-m", "envdoctor", "triage", str(log), "--env", report],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and message in result.stderr


def test_pathological_lines_get_an_answer(tmp_path: Path) -> None:
    """A 300 KB line that backtracking patterns would chew on, and 20,000 size-mismatch lines.

    Guarded by a generous timeout only (speed is measured in benchmarks/): before the bounds
    these took minutes (a pattern's cost grew with the line; report grouping was quadratic).
    """
    keys = ", ".join(f'"a{i}.' + "b" * 20 + '"' for i in range(10_000))
    long_line = tmp_path / "long.log"
    long_line.write_text(
        f"RuntimeError: Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: {keys}.\n"
    )
    mismatches = tmp_path / "mismatch.log"
    mismatches.write_text(
        "RuntimeError: Error(s) in loading state_dict for Net:\n"
        + "".join(
            f"\tsize mismatch for layer{i}.weight: copying a param with shape torch.Size([10, {i}]) from checkpoint, "
            f"the shape in current model is torch.Size([11, {i}]).\n"
            for i in range(20_000)
        )
    )
    for path in (long_line, mismatches):
        result = subprocess.run(
            [sys.executable, "-m", "envdoctor", "triage", "--no-probe", str(path), "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 1, result.stderr


def test_a_large_log_from_a_text_stream_reads_as_from_bytes() -> None:
    from envdoctor.triage.scan import WHOLE_LIMIT, open_log

    body = "step 1 loss 0.5 ünïcode\n" * (WHOLE_LIMIT // 20)  # over the limit: streamed
    text = body + "RuntimeError: CUDA error: no kernel image is available for execution on the device\n"
    as_text = open_log("-", stdin=io.StringIO(text))  # a notebook's stdin: no .buffer
    as_bytes = open_log("-", stdin=io.BytesIO(text.encode()))
    assert [line.text for line in as_text.lines] == [line.text for line in as_bytes.lines]
    assert any("no kernel image" in line.text for line in as_text.lines)
