"""End to end: the Grounding DINO reference case, exit codes, JSON, stdin, --env, bad input.

Logs are real (tests/fixtures/logs, made by mmengine/torch/transformers; MANIFEST.toml there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from envdoctor._cli import main
from envdoctor.model import Distribution, Environment, HostFacts, PythonFacts, to_jsonable
from envdoctor.triage import read_log, triage_log
from tests.triage import noise
from tests.triage.test_reports import GDINO_MISSING, GDINO_UNEXPECTED, TRANSFORMS

LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
ROOT = Path(__file__).resolve().parents[2]
GDINO_ORDER = ["state_dict.config_mismatch", "state_dict.buffer_drift", "state_dict.unused_weights"]


def _gdino_checks(findings: list, strict: bool = False) -> None:  # type: ignore[type-arg]
    assert [f.category for f in findings] == GDINO_ORDER
    assert [f.id for f in findings] == ["SD101", "SD102", "SD110"]
    config, drift, pooler = findings
    if strict:  # the strict load raised: the run stopped, so nothing is harmless (issue 9)
        assert not config.benign and not drift.benign and not pooler.benign
        assert all(f.details.get("strict_load_raised") for f in findings)
        assert "constant index buffer" in drift.cause and "strict" in drift.cause
        assert "strict=False" in drift.fix.steps[0]
    else:
        assert not config.benign and drift.benign and pooler.benign
    evidence = " ".join(e.text for e in config.evidence)
    assert "log_scale" in evidence and "dn_query_generator.label_embedding" in evidence
    assert any("position_ids" in e.text for e in drift.evidence)
    assert drift.fix.optional and drift.fix.constraints == ("transformers==4.29.1", "tokenizers==0.13.3")
    assert {e.text.split(": ")[-1] for e in pooler.evidence if e.line} == set(GDINO_UNEXPECTED[:2])
    assert all(e.line is not None for f in findings for e in f.evidence if e.source != "facts")


@pytest.mark.parametrize("name", ["mmengine-gdino-keys", "mmengine-gdino-keys-strict"])
def test_grounding_dino_reference_case(name: str) -> None:
    result = triage_log(read_log(str(LOGS / f"{name}.log")), facts={})
    [parsed] = result.reports
    assert parsed.report.unexpected == GDINO_UNEXPECTED and parsed.report.missing == GDINO_MISSING
    _gdino_checks(list(result.findings), strict=name.endswith("-strict"))
    assert result.has_problems


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
def test_grounding_dino_order_survives_noise(transform: str) -> None:
    text = TRANSFORMS[transform]((LOGS / "mmengine-gdino-keys.log").read_text(encoding="utf-8"))
    from envdoctor.triage import triage_text

    _gdino_checks(list(triage_text(text, facts={}).findings))


def test_version_note_from_facts() -> None:
    result = triage_log(read_log(str(LOGS / "mmengine-gdino-keys.log")), facts={"dist.transformers": "4.46.0"})
    assert "transformers 4.46.0 is installed" in result.findings[1].cause


def test_cli_text_output_and_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--color", "never", "triage", "--no-probe", str(LOGS / "mmengine-gdino-keys.log")])
    out = capsys.readouterr().out
    assert code == 1
    assert out.index("config") < out.index("position_ids") < out.index("pooler")
    assert "3 finding(s): 1 to fix, 2 harmless." in out


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["triage", "--no-probe", "--json", str(LOGS / "mmengine-gdino-keys.log")])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert document["schema"] == "envdoctor.triage/1"
    assert [f["category"] for f in document["findings"]] == GDINO_ORDER
    assert set(document["findings"][0]) >= {
        "id",
        "name",
        "category",
        "severity",
        "benign",
        "title",
        "cause",
        "evidence",
        "fix",
    }
    assert document["findings"][1]["evidence"][0]["line"] == 4
    assert [c["requirement"] for c in document["constraints"]] == ["transformers==4.29.1", "tokenizers==0.13.3"]
    assert all(c["optional"] for c in document["constraints"])
    assert document["log"]["lines"] == 7 and document["facts"] == "none"


def test_cli_nothing_recognised_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "train.log"
    path.write_text("epoch 1 loss 0.3\nepoch 2 loss 0.2\n")
    assert main(["triage", "--no-probe", str(path)]) == 0
    assert "Nothing recognised" in capsys.readouterr().out


def test_cli_benign_only_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["triage", "--no-probe", str(LOGS / "transformers440-mmengine-position-ids.log")]) == 0


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: p / "absent.log", "no such file"),
        (lambda p: p, "is a directory"),
        (lambda p: (p / "ckpt.pth").write_bytes(b"PK\x03\x04\x00\x00") and p / "ckpt.pth", "binary"),
        (lambda p: (p / "empty.log").write_text("") == 0 and p / "empty.log", "empty"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: Callable[[Path], Path], message: str
) -> None:
    path = setup(tmp_path)
    assert main(["triage", "--no-probe", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.startswith("envdoctor: error:") and "\n" not in err and "Traceback" not in err


def _environment(transformers: str) -> Environment:
    python = PythonFacts(
        executable="/usr/bin/python3", version="3.11.7", implementation="CPython", platform="linux", machine="x86_64",
        prefix="/usr", base_prefix="/usr", in_venv=False,
        distributions=(Distribution("transformers", transformers, "/usr/lib/python3/site-packages"),),
    )  # fmt: skip
    return Environment(python=python, host=HostFacts())


def test_cli_env_report_supplies_facts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps({"schema": "envdoctor.diagnose/1", "environment": to_jsonable(_environment("4.46.0"))})
    )
    assert main(["triage", "--json", "--env", str(report), str(LOGS / "mmengine-gdino-keys.log")]) == 1
    document = json.loads(capsys.readouterr().out)
    assert "transformers 4.46.0 is installed" in document["findings"][1]["cause"]
    assert document["facts"] == f"report:{report}"


def test_cli_env_report_may_be_gzipped_as_written_with_o(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `diagnose -o NAME.json.gz` writes gzip; --env reads what compare reads (one reader).
    import gzip

    report = tmp_path / "report.json.gz"
    document = {"schema": "envdoctor.diagnose/1", "environment": to_jsonable(_environment("4.46.0"))}
    report.write_bytes(gzip.compress(json.dumps(document).encode()))
    assert main(["triage", "--json", "--env", str(report), str(LOGS / "mmengine-gdino-keys.log")]) == 1
    assert "transformers 4.46.0 is installed" in json.loads(capsys.readouterr().out)["findings"][1]["cause"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"schema": "envdoctor.triage/1", "findings": []}', "not a diagnose report"),
        ('{"schema": "envdoctor.diagnose/1"}', 'no "environment" object'),
        ('{"schema": "envdoctor.diagnose/2", "environment": {}}', "newer than this envdoctor reads"),
        ('{"schema": "envdoctor.diagnose/1", "environment": {"python": 3, "host": {}}}', "malformed environment"),
    ],
)
def test_cli_bad_env_report(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str) -> None:
    report = tmp_path / "report.json"
    report.write_text(content)
    assert main(["triage", "--env", str(report), str(LOGS / "mmengine-gdino-keys.log")]) == 2
    assert message in capsys.readouterr().err


def test_cli_non_utf8_log_gets_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.log"
    path.write_bytes((LOGS / "torch-missing-unexpected.log").read_bytes() + b"caf\xe9\n")
    assert main(["triage", "--no-probe", str(path)]) == 1
    assert "not valid UTF-8" in capsys.readouterr().err


def _run(args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "envdoctor", *args], input=stdin, capture_output=True, env=env, cwd=ROOT, timeout=120
    )


@pytest.mark.parametrize("args", [["triage", "--no-probe"], ["triage", "--no-probe", "-"]])
def test_stdin_via_python_m(args: list[str]) -> None:
    done = _run(args, noise.colorize((LOGS / "mmengine-gdino-keys.log").read_text()).encode())
    assert done.returncode == 1, done.stderr
    out = done.stdout.decode()
    assert "<stdin>" in out and out.index("config") < out.index("pooler")
    assert b"Paste the log" not in done.stderr  # stdin is a pipe, not a terminal


def test_stdin_empty_via_python_m() -> None:
    done = _run(["triage", "--no-probe"], b"")
    assert done.returncode == 2 and b"empty" in done.stderr


def test_probe_of_this_interpreter_is_used_or_recorded(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["triage", "--json", str(LOGS / "mmengine-gdino-keys.log")])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    if document["facts"].startswith("probe:"):
        assert "is installed" in document["findings"][1]["cause"]
    else:
        assert any("not probed" in n or "unavailable" in n for n in document["notes"])
