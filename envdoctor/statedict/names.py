"""Key-name helpers for the state-dict analysis: dotted paths, numeric indices, collapsed ranges.

A state-dict key is a dotted module path ending in a leaf name (``bbox_head.cls_branches.3.log_scale``).
Repeated modules (``nn.ModuleList``, ``nn.Sequential``) put an integer in the path; this module
turns a run of such keys into one readable template (``bbox_head.cls_branches.{0..6}.log_scale``)
so evidence stays short, and tells which keys belong to a repeated module at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from envdoctor.model import small_number

__all__ = [
    "IndexedKey",
    "CollapsedKey",
    "split_indices",
    "format_indices",
    "collapse_keys",
    "parent_module",
    "render_template",
]


@dataclass(frozen=True)
class IndexedKey:
    """A key with its integer path components replaced by ``{}``."""

    key: str
    template: str
    indices: tuple[int, ...]

    @property
    def is_indexed(self) -> bool:
        return bool(self.indices)


@dataclass(frozen=True)
class CollapsedKey:
    """Several keys shown as one: ``text`` with one index position written as a range."""

    text: str
    keys: tuple[str, ...]


def split_indices(key: str) -> IndexedKey:
    """Split ``a.3.b.0.w`` into the template ``a.{}.b.{}.w`` and indices ``(3, 0)``."""
    parts = key.split(".")
    indices: list[int] = []
    template: list[str] = []
    for part in parts:
        if small_number(part, 18):
            indices.append(int(part))
            template.append("{}")
        else:
            template.append(part)
    return IndexedKey(key, ".".join(template), tuple(indices))


def format_indices(values: Iterable[int]) -> str:
    """``{0..6}`` for a contiguous run, ``{0,2,5}`` otherwise, the bare number for one value."""
    ordered = sorted(set(values))
    if len(ordered) == 1:
        return str(ordered[0])
    if ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{{{ordered[0]}..{ordered[-1]}}}"
    return "{" + ",".join(str(v) for v in ordered) + "}"


def render_template(template: str, indices: Sequence[str]) -> str:
    """``a.{}.b.{}.w`` with ``("3", "{0..6}")`` -> ``a.3.b.{0..6}.w``."""
    pieces = template.split("{}")
    out = [pieces[0]]
    for value, piece in zip(indices, pieces[1:], strict=True):
        out.append(value)
        out.append(piece)
    return "".join(out)


def collapse_keys(keys: Iterable[str]) -> list[CollapsedKey]:
    """Group keys that differ only in their first varying index, in first-seen order.

    ``layers.0.ffn.w`` ... ``layers.11.ffn.w`` become ``layers.{0..11}.ffn.w``; keys with no
    index, or alone in their group, stay as they are.
    """
    items = [split_indices(key) for key in dict.fromkeys(keys)]
    groups: dict[tuple[str, int, tuple[int, ...]], list[IndexedKey]] = {}
    by_template: dict[str, list[IndexedKey]] = {}
    for item in items:
        by_template.setdefault(item.template, []).append(item)
    for item in items:
        siblings = by_template[item.template]
        position = 0
        if item.indices:
            # the leftmost index position whose value varies among same-template keys
            for pos in range(len(item.indices)):
                if len({s.indices[pos] for s in siblings}) > 1:
                    position = pos
                    break
        others = tuple(v for i, v in enumerate(item.indices) if i != position)
        groups.setdefault((item.template, position, others), []).append(item)
    result: list[CollapsedKey] = []
    for (template, position, _), members in groups.items():
        if len(members) == 1 or not members[0].indices:
            result.extend(CollapsedKey(i.key, (i.key,)) for i in members)
            continue
        first = [str(v) for v in members[0].indices]
        first[position] = format_indices(i.indices[position] for i in members)
        result.append(CollapsedKey(render_template(template, first), tuple(i.key for i in members)))
    return result


def parent_module(key: str) -> str:
    """The module path that owns a key (``a.b.weight`` -> ``a.b``; ``cls_token`` -> ``""``)."""
    return key.rsplit(".", 1)[0] if "." in key else ""
