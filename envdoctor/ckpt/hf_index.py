"""Read a Hugging Face sharded-checkpoint index (``model.safetensors.index.json``...).

The index's ``weight_map`` maps every tensor name to the shard file holding it. Names come
from the index alone; shapes and dtypes come from each shard that is present next to the
index, read with the same safe readers (for safetensors shards, only their headers). A
missing shard leaves its tensors with unknown shape and adds a warning, since downloading
only the index is a normal state for a cache. Shard names must stay inside the index's
folder: absolute paths and ``..`` are refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import IO

from envdoctor.ckpt.layout import ema_prefixes
from envdoctor.ckpt.model import Checkpoint, MetadataValue, SecurityIssue, TensorInfo
from envdoctor.errors import CheckpointError

__all__ = ["MAX_INDEX_BYTES", "MAX_SHARDS", "read_hf_index", "looks_like_json"]

ShardReader = Callable[[Path], Checkpoint]


def looks_like_json(head: bytes) -> bool:
    """True when ``head`` starts (after whitespace or a BOM) with a JSON object."""
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"{"


MAX_INDEX_BYTES = 32 * 1024 * 1024
"""Largest index JSON read: 60 bytes a tensor name makes room for 500,000 tensors."""
MAX_SHARDS = 20_000
"""More shard files than any published index names (the largest have a few hundred)."""


def _shard_path(index_path: Path, shard: str) -> Path:
    relative = PurePosixPath(shard.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or not relative.parts or "\x00" in shard:
        raise CheckpointError(f"{index_path}: shard name {shard!r} leaves the index's folder")
    return index_path.parent.joinpath(*relative.parts)


def _inside(path: Path, folder: str) -> bool:
    """True when ``path`` (symlinks resolved) is inside ``folder`` (already resolved)."""
    try:
        resolved = os.path.realpath(path)
    except (OSError, ValueError):
        return False
    return os.path.commonpath([resolved, folder]) == folder


def read_hf_index(path: str, handle: IO[bytes], *, max_bytes: int, read_shard: ShardReader) -> Checkpoint:
    """Inventory an index JSON, filling shapes from the shards found beside it."""
    size = os.fstat(handle.fileno()).st_size
    if size > max_bytes:
        raise CheckpointError(f"{path}: index JSON of {size:,} bytes exceeds the {max_bytes:,}-byte limit")
    try:
        index = json.loads(handle.read(size).decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path}: not valid JSON: {exc}") from None
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not all(
        isinstance(name, str) and isinstance(shard, str) for name, shard in weight_map.items()
    ):
        raise CheckpointError(
            f"{path}: JSON without a weight_map of tensor name -> shard file (not a sharded-checkpoint index)"
        )

    index_path = Path(path)
    shards = tuple(dict.fromkeys(weight_map.values()))
    if len(shards) > MAX_SHARDS:
        raise CheckpointError(
            f"{path}: the index names {len(shards):,} shard files, over the {MAX_SHARDS:,} limit (not a real index?)"
        )
    folder = os.path.realpath(index_path.parent)
    shard_tensors: dict[str, dict[str, TensorInfo] | None] = {}
    security: list[SecurityIssue] = []
    warnings: list[str] = []
    for shard in shards:
        shard_path = _shard_path(index_path, shard)
        if not _inside(shard_path, folder):
            # A symlink (or a folder link) out of the index's folder: not followed, so
            # nothing of the target is read or shown.
            shard_tensors[shard] = None
            warnings.append(f"{path}: shard {shard} links outside the index's folder; not read")
            continue
        if not shard_path.is_file():
            shard_tensors[shard] = None
            warnings.append(f"{path}: shard {shard} is not present; its tensors' shapes are unknown")
            continue
        checkpoint = read_shard(shard_path)
        if checkpoint.format == "hf-index":
            raise CheckpointError(f"{path}: shard {shard} is itself an index")
        shard_tensors[shard] = {tensor.name: tensor for tensor in checkpoint.tensors}
        security.extend(
            replace(issue, member=f"{shard}:{issue.member}" if issue.member else shard) for issue in checkpoint.security
        )
        warnings.extend(checkpoint.warnings)
        mapped = {name for name, owner in weight_map.items() if owner == shard}
        extra = sorted(set(shard_tensors[shard] or {}) - mapped)
        if extra:
            warnings.append(
                f"{path}: shard {shard} holds {len(extra)} tensors the index does not map (first: {extra[0]})"
            )

    tensors: list[TensorInfo] = []
    absent: list[str] = []
    for name, shard in weight_map.items():
        found = shard_tensors.get(shard)
        if found is not None and name in found:
            tensors.append(found[name])
            continue
        tensors.append(TensorInfo(name=name, shape=None, dtype=None))
        if found is not None:
            absent.append(name)
    if absent:
        warnings.append(
            f"{path}: {len(absent)} mapped tensors are missing from their shards "
            f"(first: {absent[0]} in {weight_map[absent[0]]})"
        )

    metadata: dict[str, MetadataValue] = {"shards": len(shards)}
    raw_metadata = index.get("metadata")
    if isinstance(raw_metadata, dict):
        for key, value in raw_metadata.items():
            if isinstance(value, (str, int, float, bool)) or value is None:
                metadata[f"metadata.{key}"] = value
    return Checkpoint(
        path=path,
        format="hf-index",
        layout="hf-sharded-index",
        tensors=tuple(tensors),
        state_dict_path="weight_map",
        top_level_keys=tuple(str(key) for key in index),
        metadata=MappingProxyType(metadata),
        security=tuple(security),
        ema=ema_prefixes([tensor.name for tensor in tensors]),
        shards=shards,
        warnings=tuple(warnings),
    )
