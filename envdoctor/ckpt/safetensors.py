"""Read a safetensors file's header: an 8-byte little-endian length, then that much JSON.

The header maps each tensor name to ``dtype``, ``shape`` and ``data_offsets`` (relative to
the data area that follows the header), plus an optional ``__metadata__`` dict of strings.
The checks mirror the ``safetensors`` library, so a file it would refuse is refused here
with a message saying why: the length field must fit the file and stay under
``max_header_bytes`` (the library's own limit is 100 MB), the header must be a JSON object
starting with ``{``, every dtype must be known, every byte range must match its shape and
dtype, and the ranges must tile the data area exactly.
"""

from __future__ import annotations

import json
import math
import os
import struct
from types import MappingProxyType
from typing import IO

from envdoctor.ckpt.dtypes import SAFETENSORS_DTYPES
from envdoctor.ckpt.layout import ema_prefixes
from envdoctor.ckpt.model import Checkpoint, MetadataValue, TensorInfo
from envdoctor.errors import CheckpointError

__all__ = ["DEFAULT_MAX_HEADER_BYTES", "read_safetensors", "looks_like_safetensors"]

DEFAULT_MAX_HEADER_BYTES = 100_000_000


def looks_like_safetensors(head: bytes, file_size: int) -> bool:
    """True when ``head`` (the file's first bytes) starts like a plausible safetensors file."""
    if len(head) < 9 or head[8:9] != b"{":
        return False
    (header_size,) = struct.unpack("<Q", head[:8])
    return bool(header_size <= file_size - 8)


def _parse_entry(path: str, name: str, entry: object, data_size: int) -> tuple[TensorInfo, int, int]:
    if not isinstance(entry, dict):
        raise CheckpointError(f"{path}: header entry {name!r} is not an object")
    dtype_code = entry.get("dtype")
    shape = entry.get("shape")
    offsets = entry.get("data_offsets")
    if not isinstance(dtype_code, str) or dtype_code not in SAFETENSORS_DTYPES:
        raise CheckpointError(f"{path}: tensor {name!r} has unknown dtype {dtype_code!r}")
    if (
        not isinstance(shape, list)
        or len(shape) > 64
        or not all(isinstance(dim, int) and not isinstance(dim, bool) and 0 <= dim < 1 << 63 for dim in shape)
    ):
        raise CheckpointError(f"{path}: tensor {name!r} has a malformed shape (at most 64 dimensions of 0..2**63-1)")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(value, int) and not isinstance(value, bool) for value in offsets)
    ):
        raise CheckpointError(f"{path}: tensor {name!r} has malformed data_offsets {offsets!r}")
    begin, end = offsets
    if not 0 <= begin <= end:
        raise CheckpointError(f"{path}: tensor {name!r} has data_offsets [{begin}, {end}] out of order")
    if end > data_size:
        raise CheckpointError(
            f"{path}: tensor {name!r} ends at byte {end:,} of the data area, which is only "
            f"{data_size:,} bytes (truncated file or lying header)"
        )
    dtype, bits = SAFETENSORS_DTYPES[dtype_code]
    numel = math.prod(shape)
    if (numel * bits + 7) // 8 != end - begin:
        raise CheckpointError(
            f"{path}: tensor {name!r} is {dtype_code} {tuple(shape)} ({(numel * bits + 7) // 8:,} "
            f"bytes) but its data_offsets span {end - begin:,} bytes"
        )
    info = TensorInfo(
        name=name,
        shape=tuple(shape),
        dtype=dtype,
        device="cpu",
        storage_numel=numel,
        storage_nbytes=end - begin,
    )
    return info, begin, end


def read_safetensors(path: str, handle: IO[bytes], *, max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES) -> Checkpoint:
    """Inventory a safetensors file from its header alone."""
    file_size = os.fstat(handle.fileno()).st_size
    prefix = handle.read(8)
    if len(prefix) < 8:
        raise CheckpointError(f"{path}: {file_size} bytes is too short for a safetensors header")
    (header_size,) = struct.unpack("<Q", prefix)
    if header_size > max_header_bytes:
        raise CheckpointError(
            f"{path}: safetensors header length {header_size:,} exceeds the "
            f"{max_header_bytes:,}-byte limit (corrupt file, or not safetensors)"
        )
    if 8 + header_size > file_size:
        raise CheckpointError(
            f"{path}: safetensors header claims {header_size:,} bytes but only "
            f"{file_size - 8:,} follow the length field (truncated file, or not safetensors)"
        )
    raw = handle.read(header_size)
    if len(raw) != header_size:
        raise CheckpointError(f"{path}: file shrank while reading the safetensors header")
    if not raw.startswith(b"{"):
        raise CheckpointError(f"{path}: safetensors header does not start with '{{' (not safetensors?)")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path}: safetensors header is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: safetensors header is not a JSON object")

    data_size = file_size - 8 - header_size
    metadata: dict[str, MetadataValue] = {}
    warnings: list[str] = []
    raw_metadata = header.pop("__metadata__", None)
    if isinstance(raw_metadata, dict):
        for key, value in raw_metadata.items():
            if isinstance(value, (str, int, float, bool)) or value is None:
                metadata[str(key)] = value
            else:
                warnings.append(f"{path}: __metadata__ entry {key!r} is not a string")
    elif raw_metadata is not None:
        raise CheckpointError(f"{path}: __metadata__ is not a JSON object")

    tensors: list[TensorInfo] = []
    spans: list[tuple[int, int, str]] = []
    for name, entry in header.items():
        info, begin, end = _parse_entry(path, name, entry, data_size)
        tensors.append(info)
        spans.append((begin, end, name))
    expected = 0
    for begin, end, name in sorted(spans):
        if begin != expected:
            problem = "overlaps the previous tensor" if begin < expected else "leaves a gap"
            raise CheckpointError(
                f"{path}: tensor {name!r} starts at data byte {begin:,}, {problem} "
                f"(previous data ends at {expected:,}); safetensors refuses such files"
            )
        expected = end
    if expected != data_size:
        raise CheckpointError(
            f"{path}: {data_size - expected:,} bytes after the last tensor are not described by "
            "the header; safetensors refuses such files"
        )

    names = [tensor.name for tensor in tensors]
    ema = ema_prefixes(names)
    return Checkpoint(
        path=path,
        format="safetensors",
        layout="ema" if ema else "state_dict",
        tensors=tuple(tensors),
        state_dict_path="",
        metadata=MappingProxyType(metadata),
        ema=ema,
        warnings=tuple(warnings),
    )
