"""What ``envdoctor keys`` reports about one checkpoint: module groups, security, a comparison.

Turns a :class:`~envdoctor.ckpt.model.Checkpoint` from the safe readers into a per-module
inventory (tensor counts, parameter totals, dtypes), security findings (SD190, one per
file, with each global and its opcode offset as evidence), and the key report of comparing it
with another checkpoint, a Hugging Face index or a text list of expected keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envdoctor.ckpt.model import Checkpoint, TensorInfo
from envdoctor.errors import BadInputError, CheckpointError, KnowledgeError
from envdoctor.kb.checks import finding_from_entry
from envdoctor.kb.loader import KnowledgeBase, load_knowledge
from envdoctor.model import Evidence, Finding, KeyReport
from envdoctor.statedict.load import parse_expected_keys, report_from_key_sets, shapes_of_checkpoint
from envdoctor.statedict.names import IndexedKey, format_indices, render_template, split_indices

__all__ = [
    "SECURITY_ENTRY",
    "ModuleGroup",
    "collapse_groups",
    "module_groups",
    "security_findings",
    "read_expected",
    "compare_checkpoint",
    "checkpoint_summary",
]

SECURITY_ENTRY = "SD190"
_TEXT_SUFFIXES = (".txt", ".keys", ".lst", ".list")


@dataclass(frozen=True)
class ModuleGroup:
    """Tensors under one module prefix."""

    prefix: str
    tensors: int
    parameters: int
    dtypes: tuple[str, ...]


def _group_prefix(name: str, depth: int) -> str:
    parts = name.split(".")
    return (
        ".".join(parts[:depth])
        if len(parts) > depth
        else "(top level)"
        if depth == 1
        else ".".join(parts[:-1]) or "(top level)"
    )


def module_groups(tensors: Iterable[TensorInfo]) -> list[ModuleGroup]:
    """Tensors grouped by their first path component (two when one prefix holds everything)."""
    tensors = list(tensors)
    for depth in (1, 2):
        grouped: dict[str, list[TensorInfo]] = {}
        for tensor in tensors:
            grouped.setdefault(_group_prefix(tensor.name, depth), []).append(tensor)
        if len(grouped) > 1 or depth == 2:
            break
    return [
        ModuleGroup(
            prefix,
            len(items),
            sum(t.numel or 0 for t in items),
            tuple(sorted({t.dtype for t in items if t.dtype is not None})),
        )
        for prefix, items in grouped.items()
    ]


def collapse_groups(groups: Iterable[ModuleGroup]) -> list[ModuleGroup]:
    """Runs of numbered modules with the same dtypes as one group: ``layers.{0..79}``.

    A model of 80 blocks lists one row for its blocks, not 80; groups stay in file order,
    and a run is merged only while the prefixes differ in their one index.
    """
    merged: list[tuple[ModuleGroup, IndexedKey, list[int]]] = []
    for group in groups:
        item = split_indices(group.prefix)
        if merged and len(item.indices) == 1:
            last, last_item, indices = merged[-1]
            if last_item.template == item.template and len(last_item.indices) == 1 and last.dtypes == group.dtypes:
                tensors, parameters = last.tensors + group.tensors, last.parameters + group.parameters
                indices.append(item.indices[0])
                merged[-1] = (ModuleGroup(last.prefix, tensors, parameters, last.dtypes), last_item, indices)
                continue
        merged.append((group, item, list(item.indices) if len(item.indices) == 1 else []))
    result = []
    for group, item, indices in merged:
        if len(indices) > 1:
            group = ModuleGroup(
                render_template(item.template, [format_indices(indices)]), group.tensors, group.parameters, group.dtypes
            )
        result.append(group)
    return result


def _security_records(checkpoint: Checkpoint) -> list[dict[str, Any]]:
    """The globals outside the allowlist as JSON records (SD190 details and ``keys --json``)."""
    return [
        {
            "global": i.global_name,
            "offset": i.offset,
            "opcode": i.opcode,
            "member": i.member,
            "dangerous": i.dangerous,
        }
        for i in checkpoint.security
    ]


def security_findings(checkpoint: Checkpoint, *, knowledge: KnowledgeBase | None = None) -> list[Finding]:
    """One SD190 finding when any pickle in the file names a global outside the allowlist."""
    if not checkpoint.security:
        return []
    kb = knowledge if knowledge is not None else load_knowledge()
    entry = kb.get(SECURITY_ENTRY)
    if entry is None:
        raise KnowledgeError(f"knowledge entry {SECURITY_ENTRY} is missing")
    names = tuple(dict.fromkeys(issue.global_name for issue in checkpoint.security))
    evidence = [
        Evidence(
            f"{issue.global_name} ({issue.opcode} at byte {issue.offset}"
            + (f" of {issue.member}" if issue.member else "")
            + f"; {'dangerous' if issue.dangerous else issue.reason})",
            source=checkpoint.path,
        )
        for issue in checkpoint.security
    ]
    details = {"globals": _security_records(checkpoint)}
    return [finding_from_entry(entry, {"unsafe.globals": names}, evidence=evidence, details=details)]


def read_expected(path: str) -> tuple[dict[str, tuple[int, ...] | None], str]:
    """Keys (and shapes) from another checkpoint, a HF index, or a text list; plus its kind."""
    from envdoctor.ckpt import read_checkpoint

    if not path.endswith(_TEXT_SUFFIXES):
        try:
            other = read_checkpoint(path)
        except CheckpointError as exc:
            text = _as_text(path)
            if text is None:
                raise exc from None
            return parse_expected_keys(text, source=path), "key list"
        return shapes_of_checkpoint(other), other.format
    text = _as_text(path)
    if text is None:
        raise BadInputError(f"{path}: cannot be read as a UTF-8 key list")
    return parse_expected_keys(text, source=path), "key list"


def _as_text(path: str) -> str | None:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if b"\x00" in data[:4096]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def compare_checkpoint(checkpoint: Checkpoint, against: str) -> KeyReport:
    """The key report of loading ``checkpoint`` into a model whose keys are listed by ``against``."""
    expected, _ = read_expected(against)
    return report_from_key_sets(
        shapes_of_checkpoint(checkpoint),
        expected,
        source=f"{checkpoint.path} vs {against}",
        checkpoint_name=checkpoint.path,
        model_name=against,
    )


def checkpoint_summary(checkpoint: Checkpoint) -> dict[str, Any]:
    """The ``checkpoint`` object of ``keys --json``."""
    groups = module_groups(checkpoint.tensors)
    metadata: Mapping[str, Any] = dict(checkpoint.metadata)
    return {
        "path": checkpoint.path,
        "format": checkpoint.format,
        "layout": checkpoint.layout,
        "state_dict_path": checkpoint.state_dict_path,
        "top_level_keys": list(checkpoint.top_level_keys),
        "ema": list(checkpoint.ema),
        "shards": list(checkpoint.shards),
        "warnings": list(checkpoint.warnings),
        "metadata": metadata,
        "tensor_count": len(checkpoint.tensors),
        "parameter_count": sum(t.numel or 0 for t in checkpoint.tensors),
        "groups": [
            {"prefix": g.prefix, "tensors": g.tensors, "parameters": g.parameters, "dtypes": list(g.dtypes)}
            for g in groups
        ],
        "containers": {name: len(items) for name, items in checkpoint.containers.items()},
        "tensors": [
            {"name": t.name, "shape": None if t.shape is None else list(t.shape), "dtype": t.dtype}
            for t in checkpoint.tensors
        ],
        "security": _security_records(checkpoint),
    }
