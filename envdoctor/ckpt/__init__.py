"""Safe checkpoint readers: the tensor inventory of a checkpoint without running its code.

:func:`read_checkpoint` recognises the format from the file's first bytes (not its
extension): torch zip (``torch.save`` >= 1.6), legacy torch pickles, plain pickles,
safetensors, NumPy ``.npz``/``.npy`` and Hugging Face ``*.index.json`` shard indexes. It
never imports torch or NumPy and never unpickles: pickles go through the symbolic
interpreter in :mod:`envdoctor.ckpt.pickle_vm`, which reports globals outside its allowlist
as :class:`SecurityIssue` instead of calling them. Only headers, zip central directories
and pickles are read, never tensor bytes, so time and memory do not grow with the weights.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from envdoctor.ckpt.allowlist import is_allowed_global, is_dangerous_global
from envdoctor.ckpt.hf_index import looks_like_json, read_hf_index
from envdoctor.ckpt.layout import EMA_KEYS, EMA_PREFIXES, STATE_DICT_KEYS
from envdoctor.ckpt.legacy import read_pickle_file
from envdoctor.ckpt.model import (
    Checkpoint,
    CheckpointFormat,
    Layout,
    MetadataValue,
    SecurityIssue,
    TensorInfo,
)
from envdoctor.ckpt.npz import NPY_MAGIC, read_npy, read_npz
from envdoctor.ckpt.pickle_vm import PickleLimits
from envdoctor.ckpt.safetensors import (
    DEFAULT_MAX_HEADER_BYTES,
    looks_like_safetensors,
    read_safetensors,
)
from envdoctor.ckpt.torch_zip import find_data_pickle, read_torch_zip
from envdoctor.errors import CheckpointError, UnsafeCheckpointError

__all__ = [
    "DEFAULT_MAX_PICKLE_BYTES",
    "DEFAULT_MAX_HEADER_BYTES",
    "DEFAULT_LIMITS",
    "EMA_KEYS",
    "EMA_PREFIXES",
    "STATE_DICT_KEYS",
    "Checkpoint",
    "CheckpointFormat",
    "Layout",
    "MetadataValue",
    "PickleLimits",
    "SecurityIssue",
    "TensorInfo",
    "is_allowed_global",
    "is_dangerous_global",
    "read_checkpoint",
]

DEFAULT_MAX_PICKLE_BYTES = 256 * 1024 * 1024
"""Largest pickle read (a 7B-parameter state dict's data.pkl is well under 1 MB)."""

DEFAULT_LIMITS = PickleLimits()

_HEAD_BYTES = 512
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_PROTOCOL_0_STARTS = (b"(", b"]", b"}", b"c")
_NOT_CHECKPOINTS = (
    (b"version https://git-lfs", "a Git LFS pointer, not the checkpoint: run `git lfs pull`"),
    (b"GGUF", "a GGUF file (llama.cpp), not a PyTorch/NumPy/safetensors checkpoint"),
    (b"\x89HDF", "an HDF5 file (Keras .h5?), not a PyTorch/NumPy/safetensors checkpoint"),
    (b"<!doctype html", "an HTML page (a failed download?), not a checkpoint"),
    (b"<html", "an HTML page (a failed download?), not a checkpoint"),
)


def _directory_error(path: str) -> CheckpointError:
    folder = Path(path)
    candidates = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name.endswith((".index.json", ".safetensors", ".bin", ".pt", ".pth", ".ckpt"))
    )[:5]
    hint = f"; try one of: {', '.join(candidates)}" if candidates else ""
    return CheckpointError(f"{path}: is a directory, not a checkpoint file{hint}")


def _open_zip(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise CheckpointError(
            f"{path}: starts like a zip archive but its central directory is unreadable "
            f"({exc}): the file is truncated or corrupt (an interrupted save or download?)"
        ) from None
    except (OSError, EOFError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot read zip archive: {exc}") from None


def _read_zip(path: str, max_pickle_bytes: int, limits: PickleLimits) -> Checkpoint:
    with _open_zip(path) as archive:
        names = archive.namelist()
        if find_data_pickle(names) is not None:
            return read_torch_zip(path, archive, max_pickle_bytes=max_pickle_bytes, limits=limits)
        if names and any(name.endswith(".npy") for name in names):
            return read_npz(path, archive, max_pickle_bytes=max_pickle_bytes, limits=limits)
    raise CheckpointError(f"{path}: a zip archive with neither <folder>/data.pkl (torch) nor .npy members (NumPy)")


def _dispatch(
    path: str, head: bytes, size: int, max_pickle_bytes: int, max_header_bytes: int, limits: PickleLimits
) -> Checkpoint:
    if head.startswith(_ZIP_MAGICS):
        return _read_zip(path, max_pickle_bytes, limits)
    with open(path, "rb") as handle:
        if head.startswith(NPY_MAGIC):
            return read_npy(path, handle, size, max_pickle_bytes=max_pickle_bytes, limits=limits)
        if head.startswith(b"\x80"):
            return read_pickle_file(path, handle, max_pickle_bytes=max_pickle_bytes, limits=limits)
        # A JSON text read as a little-endian u64 is astronomically large, so a plausible
        # length field tells safetensors from JSON even when byte 8 of the JSON is "{".
        if looks_like_safetensors(head, size) or path.endswith(".safetensors"):
            return read_safetensors(path, handle, max_header_bytes=max_header_bytes)
        if looks_like_json(head):
            return read_hf_index(
                path,
                handle,
                max_bytes=max_header_bytes,
                read_shard=lambda shard: read_checkpoint(
                    shard,
                    max_pickle_bytes=max_pickle_bytes,
                    max_header_bytes=max_header_bytes,
                    limits=limits,
                ),
            )
        if head[8:9] == b"{":
            return read_safetensors(path, handle, max_header_bytes=max_header_bytes)
        if head.startswith(_PROTOCOL_0_STARTS):
            return read_pickle_file(path, handle, max_pickle_bytes=max_pickle_bytes, limits=limits)
    if len(head) > 262 and head[257:262] == b"ustar":
        raise CheckpointError(
            f"{path}: a tar archive: the pre-0.4 PyTorch tar format is not supported "
            "(load and re-save it with an old torch)"
        )
    lowered = head.lstrip().lower()
    for magic, description in _NOT_CHECKPOINTS:
        if lowered.startswith(magic.lower()):
            raise CheckpointError(f"{path}: {description}")
    raise CheckpointError(
        f"{path}: unrecognised format (first bytes {head[:8].hex(' ')}); expected torch, "
        "safetensors, NumPy or a Hugging Face index"
    )


def read_checkpoint(
    path: str | os.PathLike[str],
    *,
    max_pickle_bytes: int = DEFAULT_MAX_PICKLE_BYTES,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    limits: PickleLimits = DEFAULT_LIMITS,
    strict: bool = False,
) -> Checkpoint:
    """Read the tensor inventory of the checkpoint at ``path`` without executing it.

    ``max_pickle_bytes`` caps the pickle bytes read (torch ``data.pkl``, legacy pickles);
    ``max_header_bytes`` caps a safetensors header or index JSON; ``limits`` bounds the
    pickle interpreter (opcodes, memo, stack, nesting, items). Raises
    :class:`~envdoctor.errors.CheckpointError` for a missing, empty, truncated, corrupt or
    bomb-like file, naming the file and the problem. Globals outside the allowlist are
    reported in :attr:`Checkpoint.security`; with ``strict=True`` they raise
    :class:`~envdoctor.errors.UnsafeCheckpointError` instead.
    """
    text = os.fspath(path)
    try:
        info = os.stat(text)
    except FileNotFoundError:
        raise CheckpointError(f"{text}: no such file") from None
    except OSError as exc:
        raise CheckpointError(f"{text}: cannot access: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise _directory_error(text)
    if not stat.S_ISREG(info.st_mode):
        raise CheckpointError(f"{text}: not a regular file (a pipe or device?)")
    if info.st_size == 0:
        raise CheckpointError(f"{text}: empty file (0 bytes): an interrupted save or download?")
    try:
        with open(text, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
        checkpoint = _dispatch(text, head, info.st_size, max_pickle_bytes, max_header_bytes, limits)
    except PermissionError:
        raise CheckpointError(f"{text}: permission denied") from None
    except OSError as exc:
        raise CheckpointError(f"{text}: read failed: {exc}") from None
    if strict and checkpoint.security:
        names = sorted({issue.global_name for issue in checkpoint.security})
        raise UnsafeCheckpointError(
            f"{text}: references {len(names)} globals outside the allowlist: "
            + ", ".join(names[:5])
            + (" ..." if len(names) > 5 else "")
        )
    return checkpoint
