"""Run ``diagnose`` checks: knowledge entries with fact conditions, over one environment.

Each check is an entry with ``[[when]]`` conditions and, optionally, ``each`` naming a
collection; it yields one finding per namespace (the environment, or each item) in
which every condition holds, or, with ``[[case]]`` alternatives, one per case that holds
there (its ``facts`` become ``case.<name>``). Title, cause, evidence and pins are filled from the facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from envdoctor.kb.conditions import all_hold, fill
from envdoctor.kb.entry import Entry
from envdoctor.kb.facts import FactView
from envdoctor.model import Evidence, Finding, Fix

__all__ = ["finding_from_entry", "run_checks"]


def _valid_pins(pins: Iterable[str]) -> tuple[str, ...]:
    valid = []
    for pin in pins:
        try:
            Requirement(pin)
        except InvalidRequirement:
            continue  # a template whose fact was unknown; never emit a broken pin
        valid.append(pin)
    return tuple(valid)


def finding_from_entry(
    entry: Entry,
    facts: Mapping[str, Any],
    *,
    evidence: Iterable[Evidence] = (),
    details: Mapping[str, Any] | None = None,
    extra_steps: Iterable[str] = (),
    extra_notes: Iterable[str] = (),
) -> Finding:
    """Build a finding from an entry's text, filled from ``facts``.

    Notes whose conditions hold are appended to the cause, so a finding says which
    installed version it depends on; ``extra_notes`` (already filled, e.g. a decoded output
    shape) follow them.
    """
    cause = fill(entry.cause, facts)
    notes = [fill(note.text, facts) for note in entry.notes if all_hold(note.when, facts)]
    notes.extend(extra_notes)
    if notes:
        cause = " ".join([cause, *notes])
    entry_evidence = tuple(Evidence(fill(text, facts), source="facts") for text in entry.evidence)
    return Finding(
        id=entry.id,
        name=entry.name,
        category=entry.category,
        severity=entry.severity,
        benign=entry.benign,
        title=fill(entry.title, facts),
        cause=cause,
        area=entry.area,
        evidence=tuple(evidence) + entry_evidence,
        fix=Fix(
            constraints=_valid_pins(fill(c, facts) for c in entry.fix_constraints),
            steps=tuple(fill(s, facts) for s in entry.fix_steps) + tuple(extra_steps),
            optional=entry.fix_optional,
        ),
        references=entry.references,
        details=dict(details or {}),
    )


def run_checks(entries: Iterable[Entry], view: FactView) -> list[Finding]:
    """Every finding the checks yield, most relevant first."""
    findings: list[Finding] = []
    for entry in entries:
        if not entry.is_check:
            continue
        namespaces = view.items(entry.each) if entry.each else iter([view.scalars])
        for facts in namespaces:
            if not all_hold(entry.when, facts):
                continue
            # an item's fields stay with its finding (JSON readers; diagnose folds by them)
            details = {"item": {k[5:]: v for k, v in facts.items() if k.startswith("item.")}} if entry.each else None
            if not entry.cases:
                findings.append(finding_from_entry(entry, facts, details=details))
                continue
            for case in entry.cases:
                if all_hold(case.when, facts):
                    filled = {f"case.{name}": fill(text, facts) for name, text in case.facts.items()}
                    findings.append(finding_from_entry(entry, {**facts, **filled}, details=details))
    findings.sort(key=lambda f: (f.sort_key, f.title))
    return findings
