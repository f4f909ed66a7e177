"""One knowledge entry on screen, in the shape of ``ruff rule CODE``."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from envdoctor.kb.entry import Entry
from envdoctor.model import AREAS

__all__ = ["EntryView", "entry_json"]


def entry_json(entry: Entry) -> dict[str, object]:
    """An entry as JSON (``envdoctor explain --json``)."""
    return {
        "id": entry.id,
        "name": entry.name,
        "title": entry.title,
        "category": entry.category,
        "severity": entry.severity,
        "benign": entry.benign,
        "area": entry.area,
        "what": entry.what,
        "why": entry.why,
        "cause": entry.cause,
        "fix": {
            "steps": list(entry.fix_steps),
            "constraints": list(entry.fix_constraints),
            "optional": entry.fix_optional,
            "safety": entry.fix_safety,
        },
        "references": list(entry.references),
        "recognised_by": {
            "log_patterns": [p.pattern for p in entry.patterns],
            "key_patterns": [p.pattern for p in entry.keys.patterns] if entry.keys else [],
            "key_analyzer": entry.keys.analyzer if entry.keys else None,
            "conditions": [{"fact": c.fact, c.op: c.value} for c in entry.when],
            "each": entry.each,
        },
    }


class EntryView:
    """``ID (name)`` then the sections: what it means, why, fix, fix safety, references."""

    def __init__(self, entry: Entry) -> None:
        self.entry = entry

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        entry = self.entry
        harm = "harmless" if entry.benign else entry.severity
        yield Text(f"{entry.id} ({entry.name})", style="bold")
        yield Text(f"{entry.title}", style="")
        yield Text(f"category {entry.category} · {harm} · area {AREAS.get(entry.area, entry.area)}", style="dim")
        sections: list[tuple[str, list[str]]] = [
            ("What it means", [entry.what]),
            ("Why it happens", [entry.why]),
            ("Fix", [f"- {step}" for step in entry.fix_steps]),
        ]
        if entry.fix_constraints:
            label = "Optional pins (only silence a harmless message)" if entry.fix_optional else "Pins"
            sections.append((label, [f"  {c}" for c in entry.fix_constraints]))
        if entry.fix_safety:
            sections.append(("Fix safety", [entry.fix_safety]))
        if entry.patterns or entry.keys or entry.when:
            how = [f"log: /{p.pattern}/" for p in entry.patterns[:5]]
            if entry.keys:
                how += [f"{entry.keys.side} key: /{p.pattern}/" for p in entry.keys.patterns[:5]]
                if entry.keys.analyzer:
                    how.append(f"key analyzer: {entry.keys.analyzer}")
            how += [f"fact: {c.fact} {c.op} {c.value}" for c in entry.when]
            sections.append(("Recognised by", how))
        if entry.references:
            sections.append(("References", [f"- {url}" for url in entry.references]))
        for heading, lines in sections:
            if not any(lines):
                continue
            yield Text("")
            yield Text(f"## {heading}", style="bold")
            for line in lines:
                yield Text(line)
