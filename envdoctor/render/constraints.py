"""Rich views of a solution: the installed -> proposed table, warnings, the apply command."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from envdoctor.resolve.solve import Solution
from envdoctor.resolve.verify import Verification

__all__ = ["ConstraintsView", "VerificationView"]


class ConstraintsView:
    """What changes (and why), the warnings, and how to apply the file."""

    def __init__(self, solution: Solution, *, command: str = "", written: str | None = None, verbose: bool = False):
        self.solution = solution
        self.command = command
        self.written = written
        self.verbose = verbose

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        solution = self.solution
        rows = [p for p in solution.pins if self.verbose or p.status != "kept"]
        kept = sum(1 for p in solution.pins if p.status == "kept")
        yield Text(
            f"Constraints for {solution.target.label}: {len(solution.changes)} change(s), {kept} kept as installed"
            f" ({solution.engine}, {solution.rounds} resolution(s), {solution.seconds:.1f}s)"
        )
        if rows:
            table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
            table.add_column("package")
            table.add_column("installed")
            table.add_column("proposed")
            table.add_column("why", overflow="fold")
            for pin in rows:
                proposed = pin.version
                if pin.has_wheel is False and pin.status != "kept":
                    proposed += " (no wheel)"
                table.add_row(
                    Text(pin.name),
                    Text(pin.installed or "-"),
                    Text(proposed),
                    Text(pin.reasons[0].text),
                )
            yield table
        for advisory in solution.advisories:
            yield Text(f"warning: {advisory}", style="yellow")
        if self.written:
            yield Text(f"wrote {self.written}")
        if self.command:
            yield Text(f"apply with: {self.command}")
        elif not solution.changes:
            yield Text("nothing to change: every installed package satisfies every requirement")


class VerificationView:
    """pip's verdict on the constraints file."""

    def __init__(self, verification: Verification) -> None:
        self.verification = verification

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        v = self.verification
        mark = "[✓]" if v.ok else "[✗]"
        yield Text(f"{mark} verify: {v.message}", style="green" if v.ok else "red")
        for line in v.mismatches:
            yield Text(f"    {line}")
        if v.argv and not v.ok:
            yield Text(f"    ran: {' '.join(v.argv)}")
