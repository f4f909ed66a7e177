"""Views of a comparison: the terminal view, Markdown for an issue, and the JSON document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from envdoctor.compare.engine import Comparison, Difference
from envdoctor.model import to_jsonable
from envdoctor.render.safe_text import escape as escape_text

__all__ = ["CompareView", "SCHEMA", "comparison_document", "comparison_markdown"]

SCHEMA = "envdoctor.compare/1"
_MARK = {"error": ("[✗]", "red"), "warning": ("[!]", "yellow"), "harmless": ("[✓]", "green")}
#: Odd ones out listed by name before the rest is counted.
_ODD_SHOWN = 8


def _value(value: str | None) -> str:
    return escape_text(value) if value is not None else "absent"


def _spread(difference: Difference, total: int) -> str:
    """``a: 4.29.1, b: 5.24.0`` for a few environments; majority and odd ones out for many."""
    if total <= 3 or difference.majority is None:
        return ", ".join(f"{escape_text(name)}: {_value(v)}" for name, v in difference.values.items())
    shown = [f"{escape_text(name)}: {_value(difference.values[name])}" for name in difference.odd[:_ODD_SHOWN]]
    more = len(difference.odd) - len(shown)
    if more > 0:
        shown.append(f"and {more} more")
    have = total - len(difference.odd)
    has = "environment has" if have == 1 else "environments have"
    return f"{'; '.join(shown)} where {have} {has} {_value(difference.majority)}"


def _harmless_line(comparison: Comparison) -> str:
    names = [d.dimension for d in comparison.harmless]
    head = ", ".join(escape_text(n) for n in names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    return f"{len(names)} harmless difference(s): {head}"


class CompareView:
    """The terminal view: groups, then each difference most important first, harmless ones in one line."""

    def __init__(self, comparison: Comparison, *, verbose: bool = False) -> None:
        self.comparison = comparison
        self.verbose = verbose

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        comparison = self.comparison
        total = len(comparison.names)
        yield Text(f"Compared {total} environments: " + ", ".join(escape_text(n) for n in comparison.names[:10]))
        if total > 2:
            sizes = ", ".join(str(len(g)) for g in comparison.groups)
            yield Text(f"{len(comparison.groups)} group(s) of identical environments (sizes {sizes})")
        if not comparison.differences and not comparison.only_on:
            yield Text("[✓] No difference that matters.", style="green")
        for difference in comparison.differences:
            mark, style = _MARK[difference.level]
            line = Text(f"{mark} ", style=style)
            line.append(f"{escape_text(difference.dimension)}: ", style="bold")
            line.append(_spread(difference, total))
            yield line
            yield Text(f"    why: {difference.why}")
            if difference.wrong:
                yield Text(f"    wrong side: {', '.join(escape_text(w) for w in difference.wrong)}")
                for title in difference.findings[: None if self.verbose else 3]:
                    yield Text(f"      {escape_text(title)}", style="dim")
            if difference.fix:
                yield Text(f"    fix: {difference.fix}")
        for name, findings in comparison.only_on.items():
            for finding in findings:
                line = Text("[✗] ", style="red")
                line.append(f"only on {escape_text(name)}: ", style="bold")
                line.append(f"{finding.id} {escape_text(finding.title)}")
                yield line
        if comparison.harmless:
            yield Text(f"[✓] {_harmless_line(comparison)}", style="green")
            if self.verbose:
                for difference in comparison.harmless:
                    yield Text(f"    {escape_text(difference.dimension)}: {_spread(difference, total)}", style="dim")
        verdict = "differences matter" if comparison.matters else "no difference matters"
        yield Text(f"Verdict: {verdict}.", style="bold")


def _difference_json(difference: Difference) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(difference)
    return data


def comparison_document(comparison: Comparison, sources: Mapping[str, str]) -> dict[str, Any]:
    """``{"schema": "envdoctor.compare/1", ...}`` (README "envdoctor compare")."""
    return {
        "schema": SCHEMA,
        "environments": [{"name": n, "source": sources.get(n)} for n in comparison.names],
        "groups": [list(g) for g in comparison.groups],
        "matters": comparison.matters,
        "differences": [_difference_json(d) for d in comparison.differences],
        "harmless": [_difference_json(d) for d in comparison.harmless],
        "only_on": {name: [to_jsonable(f) for f in findings] for name, findings in comparison.only_on.items()},
        "knowledge": comparison.reach,
    }


def _cell(text: str) -> str:
    return escape_text(text).replace("|", "\\|").replace("\n", " ")


def comparison_markdown(comparison: Comparison) -> str:
    """A GitHub-ready comparison: a table of what matters, then the harmless differences folded."""
    total = len(comparison.names)
    lines = [f"### envdoctor compare: {total} environments", ""]
    verdict = "**differences matter**" if comparison.matters else "no difference matters"
    lines.append(f"Verdict: {verdict}.")
    lines.append("")
    if comparison.differences:
        lines += ["| | what | values | why | fix |", "| --- | --- | --- | --- | --- |"]
        for d in comparison.differences:
            mark = _MARK[d.level][0]
            wrong = f" (wrong: {', '.join(d.wrong)})" if d.wrong else ""
            lines.append(
                f"| {mark} | {_cell(d.dimension)} | {_cell(_spread(d, total) + wrong)} "
                f"| {_cell(d.why)} | {_cell(d.fix)} |"
            )
        lines.append("")
    for name, findings in comparison.only_on.items():
        for finding in findings:
            lines.append(f"- only on `{_cell(name)}`: **{finding.id}** {_cell(finding.title)}")
    if comparison.harmless:
        lines += ["", "<details><summary>" + _cell(_harmless_line(comparison)) + "</summary>", ""]
        lines += [f"- {_cell(d.dimension)}: {_cell(_spread(d, total))}" for d in comparison.harmless]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
