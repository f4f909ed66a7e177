"""Order triage findings most relevant first: the root cause first, harmless noise last.

The rule, applied in this order:

1. harmful findings before benign ones (``benign = true`` entries are always last);
2. within each of those two tiers, a finding that *explains* another comes before it, even
   against rule 3: a driver too old for the torch build before the ``CUDA unavailable`` it
   causes, a NumPy ABI break before the ImportError chain it triggers, a config/weights
   mismatch before the buffer drift and unused weights that come with it. The causal links
   are :data:`CAUSAL_CATEGORIES` (category to categories) plus an entry's own
   ``extra.explains`` list of entry ids or categories, plus the order in which the key
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

from envdoctor.model import SEVERITY_RANK, Finding

__all__ = ["CAUSAL_CATEGORIES", "order_findings"]

_STATE_DICT_EFFECTS = (
    "state_dict.buffer_drift",
    "state_dict.unused_weights",
    "state_dict.new_head",
    "state_dict.shape_mismatch",
    "state_dict.tied_weights",
)

#: category -> categories of findings it explains when both are in one log.
CAUSAL_CATEGORIES: Mapping[str, tuple[str, ...]] = {
    "state_dict.wrapped_checkpoint": ("state_dict.prefix", "state_dict.config_mismatch", *_STATE_DICT_EFFECTS),
    "state_dict.prefix": ("state_dict.config_mismatch", *_STATE_DICT_EFFECTS),
    "state_dict.config_mismatch": _STATE_DICT_EFFECTS,
    "cuda.driver_too_old": ("cuda.no_device", "cuda.library_mismatch", "cuda.extension_abi", "cuda.arch_unsupported"),
    "cuda.cpu_build": ("cuda.no_device", "cuda.extension_abi", "cuda.toolkit_missing"),
    "cuda.library_mismatch": ("cuda.no_device", "cuda.extension_abi"),
    "cuda.arch_unsupported": ("cuda.device_assert",),
    "version.numpy_abi": ("version.api_removed", "version.requirement_conflict", "env.missing_system_lib", "other"),
    "version.requirement_conflict": ("version.api_removed", "other"),
    "env.duplicate_install": ("version.requirement_conflict", "version.api_removed", "version.numpy_abi"),
    "env.missing_system_lib": ("cuda.extension_abi", "other"),
}


def _explains(cause: Finding, effect: Finding, extra_links: Mapping[str, list[str]]) -> bool:
    if cause.id == effect.id:
        return False
    targets = (*CAUSAL_CATEGORIES.get(cause.category, ()), *extra_links.get(cause.id, ()))
    return effect.category in targets or effect.id in targets or f"#{effect.id}" in targets


def _first_line(finding: Finding) -> float:
    lines = [e.line for e in finding.evidence if e.line is not None]
    return min(lines) if lines else float("inf")


def _tier(
    findings: Sequence[tuple[int, Finding]], priorities: Mapping[str, int], extra_links: Mapping[str, list[str]]
) -> list[Finding]:
    def base(item: tuple[int, Finding]) -> tuple[int, int, float, int]:
        index, finding = item
        return (SEVERITY_RANK[finding.severity], -priorities.get(finding.id, 50), _first_line(finding), index)

    remaining = sorted(findings, key=base)
    placed: list[Finding] = []
    while remaining:
        placed.append(remaining.pop(_first_unexplained(remaining, extra_links))[1])
    return placed


def _first_unexplained(remaining: Sequence[tuple[int, Finding]], extra_links: Mapping[str, list[str]]) -> int:
    """The first finding no other remaining finding explains (0 inside a cycle)."""
    for index, (_order, candidate) in enumerate(remaining):
        blocked = any(
            _explains(other, candidate, extra_links) and not _explains(candidate, other, extra_links)
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
    links = {key: list(value) for key, value in (explains or {}).items()}
    for sequence in sequences:
        for position, cause in enumerate(sequence):
            links.setdefault(cause, []).extend(f"#{effect}" for effect in sequence[position + 1 :])
    weights = dict(priorities or {})
    harmful = [(i, f) for i, f in indexed if not f.benign]
    harmless = [(i, f) for i, f in indexed if f.benign]
    return _tier(harmful, weights, links) + _tier(harmless, weights, links)
