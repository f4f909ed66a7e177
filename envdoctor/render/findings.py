"""Findings on screen, in pip's diagnostic shape under flutter-doctor marks.

```
[✗] PY002 transformers 4.29.1 cannot import: tokenizers 0.15.2 is outside tokenizers>=0.11.1,!=0.11.3,<0.14
    cause: ...
    evidence: ...
    fix: pip install ...
    see: https://...
```
Errors get ``[✗]``, warnings ``[!]``, info and benign findings ``[i]`` / ``[✓]``. Every text
that may come from an input (titles and causes quote keys, log lines, paths) is shown with
control and bidi characters escaped (:mod:`envdoctor.render.safe_text`).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from envdoctor.model import Finding
from envdoctor.render.safe_text import escape

__all__ = ["mark", "FindingView", "FindingsView"]

_MARKS = {"error": ("[✗]", "bold red"), "warning": ("[!]", "bold yellow"), "info": ("[i]", "cyan")}


def mark(finding: Finding) -> tuple[str, str]:
    """The doctor mark and its style for a finding."""
    if finding.benign:
        return "[✓]", "green"
    return _MARKS[finding.severity]


class FindingView:
    """One finding: a mark line, then indented cause, evidence, fix and references."""

    def __init__(self, finding: Finding, *, verbose: bool = False, indent: int = 0) -> None:
        self.finding = finding
        self.verbose = verbose
        self.indent = " " * indent

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        finding = self.finding
        symbol, style = mark(finding)
        head = Text(self.indent)
        head.append(symbol, style=style)
        head.append(f" {finding.id} ", style="dim")
        head.append(escape(finding.title), style="bold" if not finding.benign else "")
        if finding.benign:
            head.append("  (harmless)", style="green")
        yield head
        pad = self.indent + "    "
        yield Text(f"{pad}cause: {escape(finding.cause)}")
        evidence = finding.evidence if self.verbose else finding.evidence[:3]
        for item in evidence:
            where = f"line {item.line}: " if item.line is not None else ""
            yield Text(f"{pad}  > {where}{escape(item.text)}", style="dim")
        hidden = len(finding.evidence) - len(evidence)
        if hidden > 0:
            yield Text(f"{pad}  > ... {hidden} more (-v to show)", style="dim")
        steps = finding.fix.steps if self.verbose else finding.fix.steps[:1]
        # Commands are copied and pasted: never wrapped in the middle (the terminal folds
        # a long line visually, the text stays one line).
        for step in steps:
            yield Text(f"{pad}fix: {escape(step)}", style="", no_wrap=True, overflow="ignore")
        if finding.fix.constraints:
            label = "optional pins" if finding.fix.optional else "pins"
            pins = escape(" ".join(finding.fix.constraints))
            yield Text(f"{pad}{label}: {pins}", no_wrap=True, overflow="ignore")
        references = finding.references if self.verbose else finding.references[:1]
        for url in references:
            yield Text(f"{pad}see: {escape(url)}", style="blue")


class FindingsView:
    """A list of findings, one block each."""

    def __init__(self, findings: Iterable[Finding], *, verbose: bool = False, indent: int = 0) -> None:
        self.findings = tuple(findings)
        self.verbose = verbose
        self.indent = indent

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for finding in self.findings:
            yield FindingView(finding, verbose=self.verbose, indent=self.indent)
