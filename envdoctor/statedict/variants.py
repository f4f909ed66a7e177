"""Recognise a config/weights mismatch: the same leaf missing across every copy of a repeated module.

When a model variant adds a parameter to each block (``log_scale`` in each of Grounding
DINO's seven ``cls_branches``, ``qkv.bias``, layer-scale ``gamma`` in every layer) or adds
blocks (24 layers instead of 12), the keys that differ repeat with an integer index. One such
run, missing or unexpected, is the signature of a config that does not match the weights;
a key present on one side only beside it (``dn_query_generator.label_embedding.weight``) is a
submodule of the same variant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from envdoctor.statedict.names import (
    IndexedKey,
    format_indices,
    parent_module,
    render_template,
    split_indices,
)

__all__ = ["VariantRun", "find_variant_runs", "submodules"]


@dataclass(frozen=True)
class VariantRun:
    """Keys on one side that share a template and differ in one index position."""

    side: str
    template: str
    pattern: str
    indices: tuple[int, ...]
    keys: tuple[str, ...]


def find_variant_runs(keys: Iterable[str], side: str) -> list[VariantRun]:
    """Runs of two or more indices of the same template, in first-seen order."""
    by_template: dict[str, list[IndexedKey]] = {}
    for key in dict.fromkeys(keys):
        item = split_indices(key)
        if item.is_indexed:
            by_template.setdefault(item.template, []).append(item)
    runs: list[VariantRun] = []
    for template, items in by_template.items():
        positions = len(items[0].indices)
        varying = [p for p in range(positions) if len({i.indices[p] for i in items}) > 1]
        if not varying:
            continue
        position = varying[0]
        values = tuple(sorted({i.indices[position] for i in items}))
        shown = [str(v) for v in items[0].indices]
        for other in varying[1:]:
            shown[other] = format_indices(i.indices[other] for i in items)
        shown[position] = format_indices(values)
        keys_in_run = tuple(i.key for i in items)
        runs.append(VariantRun(side, template, render_template(template, shown), values, keys_in_run))
    return runs


def submodules(keys: Iterable[str]) -> list[str]:
    """The distinct owning modules of ``keys`` (``""`` for top-level parameters), in order."""
    return list(dict.fromkeys(parent_module(k) for k in keys))
