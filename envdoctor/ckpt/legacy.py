"""Read legacy torch checkpoints (``_use_new_zipfile_serialization=False``) and plain pickles.

A legacy file is a chain of pickles followed by raw storage bytes: the magic number
``0x1950a86a20f9469cfc6c``, the protocol version ``1001``, a ``sys_info`` dict, the object
itself (tensors as persistent ids), the list of storage keys, then for each key an 8-byte
element count and the storage's bytes. Only the pickles are read; shapes come from the
rebuild arguments, and the file size is checked against what the storages need. A file
whose first pickle is not the magic number is treated as a plain pickle (``format ==
"pickle"``), such as a detectron2 ``.pkl`` of NumPy arrays.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO

from envdoctor.ckpt.dtypes import TORCH_DTYPE_BITS
from envdoctor.ckpt.layout import checkpoint_from_object
from envdoctor.ckpt.model import Checkpoint, MetadataValue, SecurityIssue
from envdoctor.ckpt.pickle_vm import CappedReader, PickleFailure, PickleLimits, PickleResult, run_pickle
from envdoctor.ckpt.records import StorageRef, storage_loader
from envdoctor.errors import CheckpointError

__all__ = ["LEGACY_MAGIC", "LEGACY_PROTOCOL", "read_pickle_file"]

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001


def read_pickle_file(
    path: str,
    handle: IO[bytes],
    *,
    max_pickle_bytes: int,
    limits: PickleLimits,
) -> Checkpoint:
    """Inventory a legacy torch file or a plain pickle read from ``handle`` (at offset 0)."""
    file_size = os.fstat(handle.fileno()).st_size
    storages: dict[str, StorageRef] = {}

    persistent_load = storage_loader(storages)

    reader = CappedReader(handle, max_pickle_bytes, path)

    def next_pickle(what: str, load: bool) -> PickleResult:
        return run_pickle(
            reader,
            where=f"{path} ({what})",
            limits=limits,
            persistent_load=persistent_load if load else None,
        )

    first = next_pickle("first pickle", True)
    magic = first.value
    if not (isinstance(magic, int) and not isinstance(magic, bool) and magic == LEGACY_MAGIC):
        return checkpoint_from_object(
            path,
            "pickle",
            first.value,
            limits=limits,
            security=first.issues,
            warnings=first.warnings,
        )

    try:
        return _read_legacy(path, handle, file_size, first, next_pickle, storages, limits)
    except PickleFailure as exc:
        raise PickleFailure(str(exc), first.issues + exc.issues) from None
    except CheckpointError as exc:
        if first.issues:
            raise PickleFailure(str(exc), first.issues) from None
        raise


def _read_legacy(
    path: str,
    handle: IO[bytes],
    file_size: int,
    first: PickleResult,
    next_pickle: Callable[[str, bool], PickleResult],
    storages: dict[str, StorageRef],
    limits: PickleLimits,
) -> Checkpoint:
    issues: tuple[SecurityIssue, ...] = ()

    def scanned(what: str, load: bool) -> PickleResult:
        nonlocal issues
        try:
            result = next_pickle(what, load)
        except PickleFailure as exc:
            raise PickleFailure(str(exc), issues + exc.issues) from None
        issues += result.issues
        return result

    try:
        return _read_legacy_chain(path, handle, file_size, first, scanned, storages, limits)
    except PickleFailure:
        raise
    except CheckpointError as exc:
        if issues:
            raise PickleFailure(str(exc), issues) from None
        raise


def _read_legacy_chain(
    path: str,
    handle: IO[bytes],
    file_size: int,
    first: PickleResult,
    next_pickle: Callable[[str, bool], PickleResult],
    storages: dict[str, StorageRef],
    limits: PickleLimits,
) -> Checkpoint:
    protocol = next_pickle("protocol version", False)
    if protocol.value != LEGACY_PROTOCOL:
        raise CheckpointError(
            f"{path}: legacy torch file with protocol version {protocol.value!r}, expected "
            f"{LEGACY_PROTOCOL} (corrupt file?)"
        )
    sys_info = next_pickle("sys_info", False)
    main = next_pickle("main pickle", True)
    keys_result = next_pickle("storage keys", False)
    keys = keys_result.value
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise CheckpointError(f"{path}: legacy storage key list is malformed")

    missing = sorted(set(storages) - set(keys))
    if missing:
        raise CheckpointError(
            f"{path}: storages {', '.join(missing[:5])} are used but not in the key list (corrupt file)"
        )
    data_start = handle.tell()
    needed = 8 * len(keys)  # each storage: its element count, then its bytes (StorageRef.nbytes inlined)
    for key in keys:
        storage = storages.get(key)
        if storage is not None:
            bits = TORCH_DTYPE_BITS.get(storage.dtype)
            if bits is not None:
                needed += (storage.numel * bits + 7) // 8
    if data_start + needed > file_size:
        raise CheckpointError(
            f"{path}: truncated: storages need {needed:,} bytes after offset {data_start:,}, "
            f"but the file has only {file_size - data_start:,}"
        )

    metadata: dict[str, MetadataValue] = {"legacy.protocol_version": LEGACY_PROTOCOL}
    warnings = list(main.warnings)
    if isinstance(sys_info.value, dict):
        for key, value in sys_info.value.items():
            if isinstance(key, str) and isinstance(value, (bool, int, str)):
                metadata[f"legacy.{key}"] = value
        if sys_info.value.get("little_endian") is False:
            warnings.append(f"{path}: saved on a big-endian machine")

    return checkpoint_from_object(
        path,
        "torch-legacy",
        main.value,
        limits=limits,
        security=first.issues + protocol.issues + sys_info.issues + main.issues + keys_result.issues,
        warnings=tuple(warnings),
        extra_metadata=metadata,
    )
