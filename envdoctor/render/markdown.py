"""GitHub-ready Markdown reports: what ML bug templates ask for, made readable.

``diagnose --format markdown`` gives a summary table of the areas, each finding with its
cause and fix, and the full facts folded in a ``<details>`` block; ``triage --format
markdown`` gives the findings with the log lines they rest on. Every text that came from an
input (a log line, a path, a package name) is escaped: control characters spelt out, table
pipes escaped, code kept in backticks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from envdoctor.model import Finding, gather_constraints, to_jsonable
from envdoctor.render.safe_text import escape

if TYPE_CHECKING:
    from envdoctor.diagnosis import Diagnosis

__all__ = ["diagnosis_markdown", "findings_markdown"]

_MARKS = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}
_AREA_TITLES = {
    "python": "Python & packages",
    "torch": "PyTorch",
    "cuda": "CUDA & GPU",
    "huggingface": "Hugging Face",
    "openmmlab": "OpenMMLab",
}


def _cell(text: str) -> str:
    return escape(text).replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    """Inline code that survives backticks inside it."""
    text = escape(text).replace("\n", " ")
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


def _mark(finding: Finding) -> str:
    return "✅ harmless" if finding.benign else _MARKS.get(finding.severity, "")


def _finding(finding: Finding) -> list[str]:
    lines = [f"#### {_mark(finding)} {finding.id} {_cell(finding.title)}", ""]
    lines.append(f"**Cause:** {_cell(finding.cause)}")
    lines.append("")
    evidence = [e for e in finding.evidence][:8]
    if evidence:
        lines.append("**Evidence:**")
        lines.append("")
        for item in evidence:
            where = f"line {item.line}: " if item.line is not None else ""
            lines.append(f"- {where}{_code(item.text[:500])}")
        lines.append("")
    if finding.fix.steps:
        lines.append("**Fix:**")
        lines.append("")
        lines.extend(f"1. {_cell(step)}" for step in finding.fix.steps)
        lines.append("")
    if finding.fix.constraints:
        optional = " (optional: only silences a harmless message)" if finding.fix.optional else ""
        lines.append(f"**Pins{optional}:** " + ", ".join(_code(c) for c in finding.fix.constraints))
        lines.append("")
    if finding.references:
        lines.append("**See:** " + ", ".join(f"<{escape(r)}>" for r in finding.references))
        lines.append("")
    return lines


def _constraints(findings: Sequence[Finding]) -> list[str]:
    pins = gather_constraints(findings)
    if not pins:
        return []
    body = [escape(p.requirement) + ("  # optional" if p.optional else "") for p in pins]
    return ["### Pins the fixes ask for", "", "```", *body, "```", ""]


def findings_markdown(title: str, findings: Iterable[Finding], *, notes: Iterable[str] = ()) -> str:
    """Findings as Markdown, most relevant first (``triage``, ``keys``)."""
    findings = tuple(findings)
    lines = [f"### {_cell(title)}", ""]
    if not findings:
        lines += ["Nothing recognised: no known error or warning matched.", ""]
    for finding in findings:
        lines += _finding(finding)
    lines += _constraints(findings)
    for note in notes:
        lines.append(f"> note: {_cell(note)}")
    return "\n".join(lines).rstrip() + "\n"


def diagnosis_markdown(diagnosis: Diagnosis) -> str:
    """The ``diagnose`` report as Markdown: area table, findings, facts folded."""
    from envdoctor.render.diagnose import area_summary, not_checked

    env = diagnosis.environment
    lines = [f"### envdoctor diagnose: {_code(env.python.executable)}", ""]
    lines += ["| | area | summary |", "| --- | --- | --- |"]
    for area, title in _AREA_TITLES.items():
        found = [f for f in diagnosis.findings if f.area == area]
        harmful = [f for f in found if not f.benign]
        if any(f.severity == "error" for f in harmful):
            mark = _MARKS["error"]
        elif harmful:
            mark = _MARKS["warning"]
        else:
            mark = "✅"
        count = f" ({len(found)} finding{'s' if len(found) != 1 else ''})" if found else ""
        lines.append(f"| {mark} | {title}{count} | {_cell(area_summary(area, diagnosis))} |")
    lines.append("")
    unchecked = [text for text, _ in not_checked(diagnosis, verbose=False)]
    if unchecked:
        lines += ["**Not checked:**", ""] + [f"- {escape(text)}" for text in unchecked] + [""]
    if diagnosis.findings:
        for finding in diagnosis.findings:
            lines += _finding(finding)
    elif unchecked:
        lines += ["No issues found by the checks that could run (see *Not checked*).", ""]
    else:
        lines += ["No issues found.", ""]
    lines += _constraints(diagnosis.findings)
    facts = json.dumps(to_jsonable(env), indent=1, ensure_ascii=False)
    lines += ["<details><summary>Full facts (envdoctor.diagnose/1 environment)</summary>", "", "```json"]
    lines += [escape(line).replace("```", "` ` `") for line in facts.splitlines()]
    lines += ["```", "", "</details>"]
    return "\n".join(lines).rstrip() + "\n"
