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

import gc
import os
import stat
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from envdoctor.ckpt import fast_engine
from envdoctor.ckpt.allowlist import is_allowed_global, is_dangerous_global
from envdoctor.ckpt.archive import read_zip, read_zip_parallel
from envdoctor.ckpt.hf_index import MAX_INDEX_BYTES, looks_like_json, read_hf_index
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
from envdoctor.ckpt.npz import NPY_MAGIC, read_npy
from envdoctor.ckpt.pickle_vm import PickleFailure, PickleLimits
from envdoctor.ckpt.safetensors import (
    DEFAULT_MAX_HEADER_BYTES,
    looks_like_safetensors,
    read_safetensors,
)
from envdoctor.ckpt.sandbox import read_clean_in_child
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
    try:
        entries = [entry.name for _, entry in zip(range(10_000), folder.iterdir(), strict=False)]
    except OSError:
        entries = []
    candidates = sorted(
        name for name in entries if name.endswith((".index.json", ".safetensors", ".bin", ".pt", ".pth", ".ckpt"))
    )[:5]
    hint = f"; try one of: {', '.join(candidates)}" if candidates else ""
    return CheckpointError(f"{path}: is a directory, not a checkpoint file{hint}")


def _probe_pickle(path: str, max_pickle_bytes: int, limits: PickleLimits) -> Checkpoint | None:
    """The file read as a pickle, as ``torch.load`` / ``pickle.load`` would; ``None`` if it is not one.

    ``torch.load`` unpickles any file that is not a zip archive, whatever its name, so a
    file that is valid safetensors (or anything else) *and* a pickle must be scanned as both.
    """
    try:
        with open(path, "rb") as handle:
            return read_pickle_file(path, handle, max_pickle_bytes=max_pickle_bytes, limits=limits)
    except PickleFailure as exc:
        if exc.issues:
            return _unsafe_only(path, "pickle", exc)
        return None
    except CheckpointError:
        return None


def _unsafe_only(path: str, fmt: CheckpointFormat, exc: PickleFailure) -> Checkpoint:
    """A pickle that breaks off after unsafe steps: the steps still run under the real loader."""
    return Checkpoint(
        path=path,
        format=fmt,
        layout="unknown",
        tensors=(),
        security=exc.issues,
        warnings=(f"{exc} (the unsafe steps before it still run when the file is loaded)",),
    )


def _with_polyglot(primary: Checkpoint, pickled: Checkpoint) -> Checkpoint:
    what = "a pickle with unsafe steps" if pickled.security else "a valid pickle"
    note = (
        f"{primary.path}: a polyglot: besides {primary.format}, the file is {what}, which "
        "torch.load(weights_only=False) / pickle.load would unpickle"
    )
    metadata = dict(primary.metadata)
    metadata["polyglot"] = f"{primary.format}+pickle"
    return replace(
        primary,
        security=primary.security + pickled.security,
        metadata=MappingProxyType(metadata),
        warnings=(*primary.warnings, note, *pickled.warnings),
    )


def _dispatch(
    path: str,
    head: bytes,
    size: int,
    max_pickle_bytes: int,
    max_header_bytes: int,
    limits: PickleLimits,
    nested: bool,
) -> Checkpoint:
    if head.startswith(_ZIP_MAGICS):
        return read_zip(path, max_pickle_bytes=max_pickle_bytes, limits=limits)
    if head.startswith(NPY_MAGIC):
        with open(path, "rb") as handle:
            return read_npy(path, handle, size, max_pickle_bytes=max_pickle_bytes, limits=limits)
    if head.startswith(b"\x80") or (
        head.startswith(_PROTOCOL_0_STARTS) and not looks_like_safetensors(head, size) and not looks_like_json(head)
    ):
        with open(path, "rb") as handle:
            pickled = read_pickle_file(path, handle, max_pickle_bytes=max_pickle_bytes, limits=limits)
        if looks_like_safetensors(head, size):
            try:
                with open(path, "rb") as handle:
                    other = read_safetensors(path, handle, max_header_bytes=max_header_bytes)
            except CheckpointError:
                return pickled
            return _with_polyglot(other, pickled) if path.endswith(".safetensors") else _with_polyglot(pickled, other)
        return pickled
    try:
        primary = _dispatch_other(path, head, size, max_pickle_bytes, max_header_bytes, limits, nested)
    except CheckpointError:
        probed = _probe_pickle(path, max_pickle_bytes, limits)
        if probed is not None:
            return probed
        raise
    probed = _probe_pickle(path, max_pickle_bytes, limits)
    return primary if probed is None else _with_polyglot(primary, probed)


def _dispatch_other(
    path: str,
    head: bytes,
    size: int,
    max_pickle_bytes: int,
    max_header_bytes: int,
    limits: PickleLimits,
    nested: bool,
) -> Checkpoint:
    with open(path, "rb") as handle:
        # A JSON text read as a little-endian u64 is astronomically large, so a plausible
        # length field tells safetensors from JSON even when byte 8 of the JSON is "{".
        if looks_like_safetensors(head, size) or path.endswith(".safetensors"):
            return read_safetensors(path, handle, max_header_bytes=max_header_bytes)
        if looks_like_json(head):
            if nested:
                raise CheckpointError(f"{path}: a shard that is itself an index (or the index itself)")
            return read_hf_index(
                path,
                handle,
                max_bytes=min(max_header_bytes, MAX_INDEX_BYTES),
                read_shard=lambda shard: _read(
                    os.fspath(shard),
                    max_pickle_bytes=max_pickle_bytes,
                    max_header_bytes=max_header_bytes,
                    limits=limits,
                    nested=True,
                ),
            )
        if head[8:9] == b"{":
            return read_safetensors(path, handle, max_header_bytes=max_header_bytes)
    if len(head) > 262 and head[257:262] == b"ustar":
        raise CheckpointError(
            f"{path}: a tar archive: the pre-0.4 PyTorch tar format is not supported "
            "(load and re-save it with an old torch)"
        )
    lowered = head.lstrip().lower()
    for magic, description in _NOT_CHECKPOINTS:
        if lowered.startswith(magic.lower()):
            raise CheckpointError(f"{path}: {description}")
    raise CheckpointError(f"{path}: unrecognised format; expected torch, safetensors, NumPy or a Hugging Face index")


def _read(
    text: str,
    *,
    max_pickle_bytes: int,
    max_header_bytes: int,
    limits: PickleLimits,
    nested: bool = False,
) -> Checkpoint:
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
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise CheckpointError(f"{text}: not a regular file (a pipe or device?)")
            head = handle.read(_HEAD_BYTES)
        return _dispatch(text, head, info.st_size, max_pickle_bytes, max_header_bytes, limits, nested)
    except PickleFailure as exc:
        if exc.issues:
            return _unsafe_only(text, "torch-zip" if head.startswith(_ZIP_MAGICS) else "pickle", exc)
        raise CheckpointError(str(exc)) from None
    except PermissionError:
        raise CheckpointError(f"{text}: permission denied") from None
    except (RecursionError, MemoryError) as exc:
        raise CheckpointError(f"{text}: too deeply nested or too large to read ({type(exc).__name__})") from None
    except OSError as exc:
        raise CheckpointError(f"{text}: read failed: {exc.strerror or exc}") from None


def _mostly_pickle(path: str) -> bool:
    """True when reading ``path`` is mostly unpickling (the fast engine pays for its fork).

    Legacy and plain pickles, and zip archives whose first member is a ``.pkl`` (torch
    writes ``<folder>/data.pkl`` first). safetensors, ``.npy``, ``.npz`` and index files
    are mostly headers; the interpreter reads them at least as fast in this process. Only
    the speed depends on this guess, never the verdict.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False  # opening a pipe would block; _read refuses it
        with open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError:
        return False
    if head.startswith(b"PK\x03\x04") and len(head) >= 30:
        name_length = int.from_bytes(head[26:28], "little")
        return head[30 : 30 + name_length].lower().endswith(b".pkl")
    return head.startswith(b"\x80") or (head.startswith(_PROTOCOL_0_STARTS) and not looks_like_json(head))


def _is_regular_zip(path: str) -> bool:
    """A non-empty regular file that starts with a zip local header (what :func:`_read` sends to ``read_zip``)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
            return False
        with open(path, "rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def read_checkpoint(
    path: str | os.PathLike[str],
    *,
    max_pickle_bytes: int = DEFAULT_MAX_PICKLE_BYTES,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    limits: PickleLimits = DEFAULT_LIMITS,
    strict: bool = False,
    fast: bool = True,
) -> Checkpoint:
    """Read the tensor inventory of the checkpoint at ``path`` without executing it.

    ``max_pickle_bytes`` caps the pickle bytes read (torch ``data.pkl``, legacy pickles);
    ``max_header_bytes`` caps a safetensors header or index JSON; ``limits`` bounds the
    pickle interpreter (opcodes, memo, stack, nesting, items). Raises
    :class:`~envdoctor.errors.CheckpointError` for a missing, empty, truncated, corrupt or
    bomb-like file, naming the file and the problem. Globals outside the allowlist are
    reported in :attr:`Checkpoint.security`; with ``strict=True`` they raise
    :class:`~envdoctor.errors.UnsafeCheckpointError` instead.

    With ``fast`` (the default, Linux only, default ``limits`` only) the file is first read
    in a sandboxed child by CPython's unpickler over stand-ins
    (:mod:`envdoctor.ckpt.fast_engine`); anything that is not plainly clean is read again
    by the interpreter, which alone produces findings and error messages.
    """
    text = os.fspath(path)
    checkpoint = None
    if fast and limits == DEFAULT_LIMITS and not fast_engine.ENABLED and _mostly_pickle(text):
        refused = False
        if _is_regular_zip(text):
            checkpoint, refused = read_zip_parallel(text, max_pickle_bytes=max_pickle_bytes, limits=limits)
        if checkpoint is None and not refused:  # refused: a second sandbox would refuse too
            checkpoint = read_clean_in_child(
                lambda: _read(text, max_pickle_bytes=max_pickle_bytes, max_header_bytes=max_header_bytes, limits=limits)
            )
    if checkpoint is None:
        # Not plainly clean, unreadable, or no sandbox here: the interpreter decides and explains.
        enabled = gc.isenabled()
        gc.disable()  # one read builds tens of thousands of acyclic records; collect once after
        try:
            checkpoint = _read(
                text, max_pickle_bytes=max_pickle_bytes, max_header_bytes=max_header_bytes, limits=limits
            )
        finally:
            if enabled:
                gc.enable()
    if strict and checkpoint.security:
        names = sorted({issue.global_name for issue in checkpoint.security})
        raise UnsafeCheckpointError(
            f"{text}: references {len(names)} globals outside the allowlist: "
            + ", ".join(names[:5])
            + (" ..." if len(names) > 5 else "")
        )
    return checkpoint
