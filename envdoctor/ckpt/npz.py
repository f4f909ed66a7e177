"""Read NumPy ``.npz`` archives and ``.npy`` files from their array headers only.

An ``.npy`` file is ``\\x93NUMPY``, a version, a header length and a Python-literal dict
(``descr``, ``fortran_order``, ``shape``), then the data. The header is parsed with
:func:`ast.literal_eval`, never ``eval``, and NumPy itself is not imported. Object arrays
store a pickle after the header; ``np.load`` runs it only with ``allow_pickle=True``, which
this module never does: it interprets that pickle with the symbolic interpreter so its
globals are reported as security issues.
"""

from __future__ import annotations

import ast
import io
import math
import mmap
import struct
from typing import IO

from envdoctor.ckpt.dtypes import numpy_dtype_name, numpy_itemsize
from envdoctor.ckpt.model import Checkpoint, SecurityIssue, TensorInfo, make_tensor_info
from envdoctor.ckpt.pickle_vm import PickleFailure, PickleLimits, run_pickle
from envdoctor.ckpt.torch_zip import read_member
from envdoctor.ckpt.zipdir import ZipDirectory, ZipEntry
from envdoctor.errors import CheckpointError

__all__ = ["NPY_MAGIC", "descr_has_object", "plain_npy_member", "read_npy_header", "read_npy", "scan_npy_member"]

NPY_MAGIC = b"\x93NUMPY"
_MAX_NPY_HEADER = 1 << 20


_HEADER_CACHE: dict[tuple[bytes, int], object] = {}
"""Parsed headers by their bytes: the arrays of one archive mostly share a few headers."""


def _parse_header(raw: bytes, major: int, where: str) -> object:
    cached = _HEADER_CACHE.get((raw, major))
    if cached is not None:
        return cached
    try:
        text = raw.decode("utf-8" if major == 3 else "latin-1")
        header = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, UnicodeDecodeError, TypeError) as exc:
        raise CheckpointError(f"{where}: .npy header is not a Python literal: {str(exc)[:200]}") from None
    if len(_HEADER_CACHE) > 1024:
        _HEADER_CACHE.clear()
    if len(raw) <= 4096:
        _HEADER_CACHE[(raw, major)] = header
    return header


def read_npy_header(stream: IO[bytes], where: str) -> tuple[tuple[int, ...], object, int]:
    """``(shape, descr, header_bytes)`` of an ``.npy`` stream positioned at its start."""
    preamble = stream.read(8)
    if len(preamble) < 8 or not preamble.startswith(NPY_MAGIC):
        raise CheckpointError(f"{where}: not an .npy array (bad magic)")
    major = preamble[6]
    if major == 1:
        length_field = stream.read(2)
        (length,) = struct.unpack("<H", length_field) if len(length_field) == 2 else (-1,)
    elif major in (2, 3):
        length_field = stream.read(4)
        (length,) = struct.unpack("<I", length_field) if len(length_field) == 4 else (-1,)
    else:
        raise CheckpointError(f"{where}: unsupported .npy format version {major}")
    if length < 0:
        raise CheckpointError(f"{where}: truncated .npy header")
    if length > _MAX_NPY_HEADER:
        raise CheckpointError(f"{where}: .npy header of {length:,} bytes is absurd")
    raw = stream.read(length)
    if len(raw) != length:
        raise CheckpointError(f"{where}: truncated .npy header")
    header = _parse_header(raw, major, where)
    if not isinstance(header, dict) or not {"descr", "shape", "fortran_order"} <= header.keys():
        raise CheckpointError(f"{where}: .npy header lacks descr/shape/fortran_order")
    shape = header["shape"]
    if (
        not isinstance(shape, tuple)
        or len(shape) > 64
        or not all(isinstance(dim, int) and not isinstance(dim, bool) and 0 <= dim < 1 << 63 for dim in shape)
    ):
        raise CheckpointError(f"{where}: .npy shape is malformed (NumPy allows 64 dimensions of 0..2**63-1)")
    return shape, header["descr"], len(preamble) + len(length_field) + length


def _array_info(
    name: str, shape: tuple[int, ...], descr: object, header_bytes: int, size: int, where: str
) -> TensorInfo:
    itemsize = numpy_itemsize(descr)
    nbytes = None if itemsize is None else math.prod(shape) * itemsize
    if nbytes is not None and size - header_bytes < nbytes:
        raise CheckpointError(
            f"{where}: array {name!r} {shape} needs {nbytes:,} data bytes but only "
            f"{size - header_bytes:,} are stored (truncated)"
        )
    return TensorInfo(
        name=name,
        shape=shape,
        dtype=numpy_dtype_name(descr),
        kind="ndarray",
        device="cpu",
        storage_numel=math.prod(shape),
        storage_nbytes=nbytes,
    )


def descr_has_object(descr: object) -> bool:
    """True when an ``.npy`` ``descr`` holds Python objects anywhere (``np.load`` then unpickles).

    Covers ``'|O'``, ``'object'``, comma strings (``'i4,O'``), structured dtypes with an
    object field, object sub-arrays (``('O', (2,))``) and anything nested in them; unknown
    shapes of ``descr`` count as objects, since scanning a pickle that is not there is harmless.
    """
    work: list[tuple[object, int]] = [(descr, 0)]
    seen = 0
    while work:
        value, depth = work.pop()
        seen += 1
        if depth > 64 or seen > 100_000:
            return True
        if isinstance(value, str):
            if "O" in value or "object" in value.lower():
                return True
        elif isinstance(value, (list, tuple)):
            work.extend((item, depth + 1) for item in value)
        elif isinstance(value, dict):
            work.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif not isinstance(value, (int, bool, bytes)) and value is not None:
            return True
    return False


def _scan_object_array(
    stream: IO[bytes] | bytes, where: str, member: str | None, max_pickle_bytes: int, limits: PickleLimits
) -> tuple[tuple[SecurityIssue, ...], tuple[str, ...]]:
    """Findings in an object array's pickle; a pickle that does not parse only warns (np.load fails too)."""
    try:
        if isinstance(stream, bytes):
            result = run_pickle(stream, where=where, member=member, limits=limits)
        else:
            result = run_pickle(stream, where=where, member=member, limits=limits, max_bytes=max_pickle_bytes)
    except PickleFailure as exc:
        if exc.issues:
            raise
        return (), (f"{where}: object array whose pickle does not parse ({exc}); np.load fails on it too",)
    return result.issues, result.warnings


def scan_npy_member(
    path: str,
    archive: ZipDirectory,
    info: ZipEntry,
    max_pickle_bytes: int,
    limits: PickleLimits,
    raw: memoryview | None = None,
) -> tuple[TensorInfo, tuple[SecurityIssue, ...], tuple[str, ...]] | None:
    """One archive member as ``np.load`` reads it (any name: it goes by the magic), or ``None``."""
    where = f"{path} ({info.filename})"
    data = read_member(archive, info, 16, where, prefix_only=True, raw=raw)
    if not data.startswith(NPY_MAGIC):
        return None
    if len(data) >= 12 and data[6] in (2, 3):
        (length,) = struct.unpack_from("<I", data, 8)
        wanted = 12 + min(length, _MAX_NPY_HEADER + 1)
    else:
        wanted = 10 + (struct.unpack_from("<H", data, 8)[0] if len(data) >= 10 else 0)
    data = read_member(archive, info, wanted, where, prefix_only=True, raw=raw)
    shape, descr, header_bytes = read_npy_header(io.BytesIO(data), where)
    name = info.filename[: -len(".npy")] if info.filename.endswith(".npy") else info.filename
    tensor = _array_info(name, shape, descr, header_bytes, info.file_size, where)
    if not descr_has_object(descr):
        return tensor, (), ()
    notes = (f"{where}: array of Python objects; np.load(allow_pickle=True) unpickles it",)
    body = read_member(archive, info, header_bytes + max_pickle_bytes, where, prefix_only=True, raw=raw)
    issues, warnings = _scan_object_array(body[header_bytes:], where, info.filename, max_pickle_bytes, limits)
    return tensor, issues, notes + warnings


_PLAIN_ARRAYS: dict[bytes, tuple[tuple[int, ...], str, int, int, int | None]] = {}
"""Headers of object-free arrays already read, by their bytes: (shape, dtype, header bytes, numel, nbytes)."""
_MAX_PLAIN_HEADER = 4096


def plain_npy_member(path: str, info: ZipEntry, mapped: mmap.mmap, start: int) -> TensorInfo | None:
    """What :func:`scan_npy_member` gives for a stored array without objects, read at C speed.

    ``start`` is where the member's bytes begin in the mapped file (they start with the
    ``.npy`` magic and lie inside the file). The header bytes are looked up among those
    already parsed (the arrays of one archive mostly share a few headers), so the same bytes
    always give the same answer. ``None`` (read the member with :func:`scan_npy_member`,
    which reports any problem) for an array of objects, a header that does not parse, or
    data shorter than the header says.
    """
    head = mapped[start : start + 12]
    if len(head) >= 10 and head[6] == 1:
        length = 10 + int.from_bytes(head[8:10], "little")
    elif len(head) >= 12 and head[6] in (2, 3):
        length = 12 + int.from_bytes(head[8:12], "little")
    else:
        return None
    if length > _MAX_PLAIN_HEADER or length > info.file_size:
        return None
    header = mapped[start : start + length]
    known = _PLAIN_ARRAYS.get(header)
    if known is None:
        try:
            shape, descr, header_bytes = read_npy_header(io.BytesIO(header), path)
        except CheckpointError:
            return None
        if descr_has_object(descr):
            return None
        itemsize = numpy_itemsize(descr)
        numel = math.prod(shape)
        known = (shape, numpy_dtype_name(descr), header_bytes, numel, None if itemsize is None else numel * itemsize)
        if len(_PLAIN_ARRAYS) >= 1024:
            _PLAIN_ARRAYS.clear()
        _PLAIN_ARRAYS[header] = known
    shape, dtype, header_bytes, numel, nbytes = known
    if nbytes is not None and info.file_size - header_bytes < nbytes:
        return None
    name = info.filename[: -len(".npy")] if info.filename.endswith(".npy") else info.filename
    return make_tensor_info(name, shape, dtype, "ndarray", "cpu", None, None, numel, nbytes)


def read_npy(path: str, handle: IO[bytes], size: int, *, max_pickle_bytes: int, limits: PickleLimits) -> Checkpoint:
    """Inventory a single ``.npy`` file; its one array is named after the file's stem."""
    shape, descr, header_bytes = read_npy_header(handle, path)
    stem = path.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".npy")
    tensor = _array_info(stem, shape, descr, header_bytes, size, path)
    security: tuple[SecurityIssue, ...] = ()
    warnings: tuple[str, ...] = ()
    if descr_has_object(descr):
        security, notes = _scan_object_array(handle, path, None, max_pickle_bytes, limits)
        warnings = (f"{path}: array of Python objects; np.load(allow_pickle=True) unpickles it", *notes)
    return Checkpoint(
        path=path,
        format="npy",
        layout="state_dict",
        tensors=(tensor,),
        state_dict_path="",
        security=security,
        warnings=warnings,
    )
