"""The ``triage`` report: the findings most relevant first, a one-line summary, or "nothing recognised"."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from envdoctor.render.findings import FindingsView
from envdoctor.render.safe_text import escape
from envdoctor.triage import TriageResult

__all__ = ["TriageView", "summary_text"]


def summary_text(result: TriageResult) -> str:
    """``3 finding(s): 1 to fix, 2 harmless.``"""
    harmful = sum(1 for f in result.findings if not f.benign)
    harmless = len(result.findings) - harmful
    parts = [f"{harmful} to fix" if harmful else "nothing to fix", f"{harmless} harmless" if harmless else ""]
    return f"{len(result.findings)} finding(s): " + ", ".join(p for p in parts if p) + "."


class TriageView:
    """What ``envdoctor triage`` prints on a terminal."""

    def __init__(self, result: TriageResult, *, verbose: bool = False) -> None:
        self.result = result
        self.verbose = verbose

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        result, log = self.result, self.result.log
        source = escape(log.source)
        if not result.findings:
            yield Text(
                f"Nothing recognised in {source} ({log.physical_lines} lines): no known error or warning matched."
            )
            return
        yield Text(f"Triage of {source} ({log.physical_lines} lines), most relevant first:")
        yield FindingsView(result.findings, verbose=self.verbose)
        yield Text(summary_text(result))
