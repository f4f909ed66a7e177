"""Order triage findings most relevant first: the root cause first, harmless noise last.

The rule, applied in this order:

1. harmful findings before benign ones (``benign = true`` entries are always last);
2. within each of those two tiers, a finding that *explains* another comes before it, even
   against rule 3: a driver too old for the torch build before the ``CUDA unavailable`` it
   causes, a NumPy ABI break before the ImportError chain it triggers, a config/weights
   mismatch before the buffer drift and unused weights that come with it. The causal links
   are ``knowledge/order.toml`` ``[causes]`` (category to categories) plus an entry's own
   ``explains`` list of entry ids or categories, plus the order in which the key
   analyser returned the findings of one state-dict report (it orders its groups by cause:
   a config mismatch before the buffer drift and unused weights it comes with);
3. otherwise by severity (error, warning, info), then entry ``priority`` (higher first,
   default 50), then the first log line the finding rests on (earlier first: in a
   traceback chain the first error is the cause), then the order findings were produced
   (state-dict findings in the key analyser's order, then pattern findings).

A cycle of links falls back to rule 3 for the findings in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from envdoctor.model import SEVERITY_RANK, Finding

__all__ = ["order_findings"]


def _causal_categories() -> Mapping[str, tuple[str, ...]]:
    """category -> categories of findings it explains when both are in one log (knowledge/order.toml)."""
    from envdoctor.kb.loader import load_ordering

    return load_ordering().causes


@dataclass(frozen=True)
class _Links:
    """What precedes what: category causes, entries' own ``explains``, and kept sequences."""

    categories: Mapping[str, tuple[str, ...]]
    entries: Mapping[str, tuple[str, ...]]
    before: Mapping[str, set[str]]


def _explains(cause: Finding, effect: Finding, links: _Links) -> bool:
    if cause.id == effect.id:
        return False
    if effect.id in links.before.get(cause.id, ()):
        return True
    if cause.id in links.before.get(effect.id, ()):
        return False  # the key analyser read the effect first: one report's own order wins
    targets = (*links.categories.get(cause.category, ()), *links.entries.get(cause.id, ()))
    return effect.category in targets or effect.id in targets


def _first_line(finding: Finding) -> float:
    lines = [e.line for e in finding.evidence if e.line is not None]
    return min(lines) if lines else float("inf")


def _tier(findings: Sequence[tuple[int, Finding]], priorities: Mapping[str, int], links: _Links) -> list[Finding]:
    def base(item: tuple[int, Finding]) -> tuple[int, int, float, int]:
        index, finding = item
        return (SEVERITY_RANK[finding.severity], -priorities.get(finding.id, 50), _first_line(finding), index)

    remaining = sorted(findings, key=base)
    placed: list[Finding] = []
    while remaining:
        placed.append(remaining.pop(_first_unexplained(remaining, links))[1])
    return placed


def _first_unexplained(remaining: Sequence[tuple[int, Finding]], links: _Links) -> int:
    """The first finding no other remaining finding explains (0 inside a cycle)."""
    for index, (_order, candidate) in enumerate(remaining):
        blocked = any(
            _explains(other, candidate, links) and not _explains(candidate, other, links)
            for _j, other in remaining
            if other is not candidate
        )
        if not blocked:
            return index
    return 0


def order_findings(
    findings: Iterable[Finding],
    *,
    priorities: Mapping[str, int] | None = None,
    explains: Mapping[str, Iterable[str]] | None = None,
    sequences: Iterable[Sequence[str]] = (),
) -> list[Finding]:
    """Findings in the documented order (module docstring).

    ``priorities`` maps entry id to its ``priority``; ``explains`` maps an entry id to the
    ids or categories it explains (its ``extra.explains``); each of ``sequences`` is a list
    of finding ids whose relative order is kept (one key report's findings, as analysed).
    """
    indexed = list(enumerate(findings))
    before: dict[str, set[str]] = {}
    for sequence in sequences:
        for position, cause in enumerate(sequence):
            before.setdefault(cause, set()).update(sequence[position + 1 :])
    links = _Links(
        categories=_causal_categories(),
        entries={key: tuple(value) for key, value in (explains or {}).items()},
        before=before,
    )
    weights = dict(priorities or {})
    harmful = [(i, f) for i, f in indexed if not f.benign]
    harmless = [(i, f) for i, f in indexed if f.benign]
    return _tier(harmful, weights, links) + _tier(harmless, weights, links)
