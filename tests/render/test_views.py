"""Every view renders at a fixed width the way rich's own tests check renderables.

Rendered into ``Console(file=StringIO(), width=80, color_system=None)`` and compared as text:
the triage report, a findings list, a knowledge entry, a comparison (terminal and Markdown),
the diagnose report as Markdown, and hostile text (escape sequences) shown escaped.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path
from typing import Any

from rich.console import Console

from envdoctor.compare.engine import compare_environments
from envdoctor.compare.reports import NamedEnvironment
from envdoctor.diagnosis import check_environment
from envdoctor.kb.loader import load_knowledge
from envdoctor.model import Environment, from_jsonable
from envdoctor.render.compare import CompareView, comparison_markdown
from envdoctor.render.explain import EntryView
from envdoctor.render.findings import FindingsView
from envdoctor.render.markdown import diagnosis_markdown, findings_markdown
from envdoctor.render.triage import TriageView
from envdoctor.triage import normalize, read_log, triage_log

ROOT = Path(__file__).resolve().parents[2]
GDINO = ROOT / "tests" / "fixtures" / "logs" / "mmengine-gdino-keys.log"
ENVIRONMENT = ROOT / "tests" / "fixtures" / "knowledge" / "CU001" / "hit-driver-470-cuda-121.json"


def render(renderable: Any, width: int = 80) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(renderable)
    return buffer.getvalue()


def _environment() -> Environment:
    data = json.loads(ENVIRONMENT.read_text())
    return from_jsonable(Environment, data.get("environment", data))


def test_triage_view_of_the_reference_log() -> None:
    result = triage_log(read_log(str(GDINO)), facts={})
    text = render(TriageView(result))
    lines = text.splitlines()
    flat = " ".join(text.split())
    assert flat.startswith(f"Triage of {GDINO} ({result.log.physical_lines} lines), most relevant first:")
    ids = [m.group(1) for line in lines if (m := re.match(r"^\[.\] ([A-Z]+\d+) ", line))]
    assert ids == ["SD101", "SD102", "SD110"]
    assert lines[-1] == "3 finding(s): 1 to fix, 2 harmless."
    assert all(len(line) <= 80 for line in lines)


def test_triage_view_when_nothing_is_recognised() -> None:
    result = triage_log(normalize("epoch 1 loss 0.5\nepoch 2 loss 0.4\n", source="train.log"), facts={})
    assert render(TriageView(result)) == (
        "Nothing recognised in train.log (2 lines): no known error or warning matched.\n"
    )


def test_findings_view_escapes_control_characters_from_the_log() -> None:
    hostile = 'module.\x1b]52;c;aGk=\x07fc.weight"'
    log = f'RuntimeError: Error(s) in loading state_dict for Net:\n\tUnexpected key(s) in state_dict: "{hostile}.\n'
    result = triage_log(normalize(log), facts={})
    text = render(FindingsView(result.findings, verbose=True), width=200)
    assert result.findings
    assert "\x1b" not in text and "\x07" not in text  # the OSC 52 clipboard write never reaches the terminal


def test_entry_view() -> None:
    entry = load_knowledge().get("SD102")
    assert entry is not None
    text = render(EntryView(entry))
    assert text.splitlines()[0] == "SD102 (position-ids-buffer)"
    assert "transformers==4.29.1" in text


def test_compare_view_and_markdown() -> None:
    env = _environment()
    assert env.torch is not None
    other = dataclasses.replace(env, torch=dataclasses.replace(env.torch, version="2.2.0+cu121"))
    comparison = compare_environments([NamedEnvironment("a", "a.json", env), NamedEnvironment("b", "b.json", env)])
    assert render(CompareView(comparison)).splitlines()[-1] == "Verdict: no difference matters."
    comparison = compare_environments([NamedEnvironment("a", "a.json", env), NamedEnvironment("b", "b.json", other)])
    markdown = comparison_markdown(comparison)
    assert markdown.startswith("### envdoctor compare: 2 environments\n")
    assert "| --- | --- | --- | --- | --- |" in markdown


def test_diagnosis_markdown_is_a_github_table() -> None:
    diagnosis = check_environment(_environment())
    markdown = diagnosis_markdown(diagnosis)
    lines = markdown.splitlines()
    assert lines[2:4] == ["| | area | summary |", "| --- | --- | --- |"]
    assert any(line.startswith("| ❌ | CUDA & GPU") for line in lines)
    assert "#### ❌ CU001 " in markdown
    assert "<details><summary>Full facts" in markdown and markdown.rstrip().endswith("</details>")


def test_findings_markdown_of_the_reference_log() -> None:
    result = triage_log(read_log(str(GDINO)), facts={})
    markdown = findings_markdown("triage", result.findings)
    headings = [m.group(1) for line in markdown.splitlines() if (m := re.match(r"^#### .*?([A-Z]+\d+) ", line))]
    assert headings == ["SD101", "SD102", "SD110"]
    assert "**Pins (optional: only silences a harmless message):** `transformers==4.29.1`" in markdown


def test_c1_controls_escape_and_bidi_overrides_from_a_log_are_escaped() -> None:
    log = (
        "RuntimeError: Error(s) in loading state_dict for Net:\n"
        '\tUnexpected key(s) in state_dict: "module.a\x9b2Jb.weight", "x\x1bc.weight", "\u202eevil.weight". \n'
    )
    result = triage_log(normalize(log), facts={})
    text = render(FindingsView(result.findings, verbose=True), width=300)
    for raw in ("\x9b", "\x1b", "\u202e"):
        assert raw not in text
    assert "\\u202e" in text or "\\x9b" in text
