"""Release-history tables generated from packages' own releases, and the lookups that read them.

``knowledge/compat/hf_model_types.toml`` maps every transformers ``model_type`` to the first
release whose auto-config mapping has it (and the release that dropped it, if one did); it is
written by ``scripts/gen_model_types.py`` from the released wheels and records its reach (the
newest release read). The lookup ``transformers_model_type`` (``[match] lookup =
"transformers_model_type"``) turns a captured ``match.model_type`` into ``lookup.*`` facts, so
an entry can pin ``transformers>={lookup.first}``. ``transformers_model_type_absent``
explains only model types that no release knows (custom code, a fork, or newer than the table), so
that case can be its own entry with its own category, silent for every known type.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import Version

from envdoctor.errors import KnowledgeError
from envdoctor.kb.lookups import register
from envdoctor.kb.paths import knowledge_root

__all__ = ["ModelTypeTable", "load_model_types", "transformers_model_type", "transformers_model_type_absent"]


@dataclass(frozen=True)
class ModelTypeTable:
    """transformers model types: first release (and the release that dropped one), and the reach."""

    reach: Version
    reach_date: str
    first_read: Version
    first: Mapping[str, Version]
    removed: Mapping[str, Version]

    def first_release(self, model_type: str) -> Version | None:
        """The first release that knows ``model_type``; ``None`` if none up to :attr:`reach` does."""
        return self.first.get(model_type)


def _version(value: Any, where: str) -> Version:
    try:
        return Version(str(value))
    except ValueError as exc:  # InvalidVersion, or a release number int() refuses
        raise KnowledgeError(f"hf_model_types.toml: {where}: {value!r} is not a version") from exc


@functools.cache
def load_model_types(root: Path | None = None) -> ModelTypeTable:
    """Parse ``<root>/compat/hf_model_types.toml`` (``root`` defaults to the knowledge root)."""
    import tomllib

    from envdoctor.kb.cache import toml_document

    path = (root or knowledge_root()) / "compat" / "hf_model_types.toml"
    try:
        data = toml_document(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{path}: {exc}") from exc
    rows = data.get("model_types")
    if not isinstance(rows, dict) or not rows:
        raise KnowledgeError(f"{path}: no [model_types] table")
    first: dict[str, Version] = {}
    removed: dict[str, Version] = {}
    for name, row in rows.items():
        if not isinstance(row, dict) or "first" not in row:
            raise KnowledgeError(f"{path}: model type {name!r} needs `first`")
        first[name] = _version(row["first"], name)
        if "removed" in row:
            removed[name] = _version(row["removed"], name)
    return ModelTypeTable(
        reach=_version(data.get("reach"), "reach"),
        reach_date=str(data.get("reach_date", "")),
        first_read=_version(data.get("first_read"), "first_read"),
        first=first,
        removed=removed,
    )


@register(
    "transformers_model_type",
    {
        "lookup.first": "the first transformers release whose auto-config mapping has the model type",
        "lookup.removed": "the first release without it, where transformers dropped it again",
        "lookup.reach": "the newest transformers release the table was generated from",
        "lookup.reach_date": "the build date of that release",
    },
)
def transformers_model_type(namespace: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The first release that knows ``match.model_type``; ``None`` when none up to the reach does."""
    model_type = namespace.get("match.model_type")
    if not model_type:
        return None
    table = load_model_types()
    first = table.first_release(str(model_type))
    if first is None:
        return None  # no release knows it: transformers_model_type_absent explains that
    facts: dict[str, Any] = {
        "lookup.first": str(first),
        "lookup.reach": str(table.reach),
        "lookup.reach_date": table.reach_date,
    }
    if str(model_type) in table.removed:
        facts["lookup.removed"] = str(table.removed[str(model_type)])
    return facts


@register(
    "transformers_model_type_absent",
    {
        "lookup.reach": "the newest transformers release the table was generated from",
        "lookup.reach_date": "the build date of that release",
        "lookup.first_read": "the oldest release whose auto-config mapping was read",
    },
)
def transformers_model_type_absent(namespace: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Facts for a ``match.model_type`` that no release up to the reach knows; ``None`` otherwise."""
    model_type = namespace.get("match.model_type")
    if not model_type:
        return None
    table = load_model_types()
    if table.first_release(str(model_type)) is not None:
        return None
    return {
        "lookup.reach": str(table.reach),
        "lookup.reach_date": table.reach_date,
        "lookup.first_read": str(table.first_read),
    }
