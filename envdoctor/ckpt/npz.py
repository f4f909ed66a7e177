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
import math
import struct
import zipfile
from types import MappingProxyType
from typing import IO

from envdoctor.ckpt.dtypes import numpy_dtype_name, numpy_itemsize
from envdoctor.ckpt.layout import ema_prefixes
from envdoctor.ckpt.model import Checkpoint, SecurityIssue, TensorInfo
from envdoctor.ckpt.pickle_vm import PickleLimits, run_pickle
from envdoctor.errors import CheckpointError

__all__ = ["NPY_MAGIC", "read_npy_header", "read_npz", "read_npy"]

NPY_MAGIC = b"\x93NUMPY"
_MAX_NPY_HEADER = 1 << 20


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
    try:
        text = raw.decode("utf-8" if major == 3 else "latin-1")
        header = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{where}: .npy header is not a Python literal: {exc}") from None
    if not isinstance(header, dict) or not {"descr", "shape", "fortran_order"} <= header.keys():
        raise CheckpointError(f"{where}: .npy header lacks descr/shape/fortran_order")
    shape = header["shape"]
    if not isinstance(shape, tuple) or not all(
        isinstance(dim, int) and not isinstance(dim, bool) and dim >= 0 for dim in shape
    ):
        raise CheckpointError(f"{where}: .npy shape {shape!r} is malformed")
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


def _scan_object_array(
    stream: IO[bytes], where: str, member: str | None, max_pickle_bytes: int, limits: PickleLimits
) -> tuple[SecurityIssue, ...]:
    result = run_pickle(stream, where=where, member=member, limits=limits, max_bytes=max_pickle_bytes)
    return result.issues


def read_npz(path: str, archive: zipfile.ZipFile, *, max_pickle_bytes: int, limits: PickleLimits) -> Checkpoint:
    """Inventory an ``.npz`` archive from each member's ``.npy`` header."""
    tensors: list[TensorInfo] = []
    security: list[SecurityIssue] = []
    warnings: list[str] = []
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            warnings.append(f"{path}: member {info.filename} is not an .npy array; skipped")
            continue
        name = info.filename[: -len(".npy")]
        where = f"{path} ({info.filename})"
        try:
            with archive.open(info) as member:
                shape, descr, header_bytes = read_npy_header(member, where)
                tensor = _array_info(name, shape, descr, header_bytes, info.file_size, where)
                if tensor.dtype == "object":
                    warnings.append(f"{where}: object array; np.load needs allow_pickle=True for it")
                    security.extend(_scan_object_array(member, where, info.filename, max_pickle_bytes, limits))
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise CheckpointError(f"{where}: cannot read member: {exc} (corrupt archive)") from None
        tensors.append(tensor)
    names = [tensor.name for tensor in tensors]
    ema = ema_prefixes(names)
    return Checkpoint(
        path=path,
        format="npz",
        layout="ema" if ema else "state_dict",
        tensors=tuple(tensors),
        state_dict_path="",
        top_level_keys=tuple(names),
        metadata=MappingProxyType({}),
        security=tuple(security),
        ema=ema,
        warnings=tuple(warnings),
    )


def read_npy(path: str, handle: IO[bytes], size: int, *, max_pickle_bytes: int, limits: PickleLimits) -> Checkpoint:
    """Inventory a single ``.npy`` file; its one array is named after the file's stem."""
    shape, descr, header_bytes = read_npy_header(handle, path)
    stem = path.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".npy")
    tensor = _array_info(stem, shape, descr, header_bytes, size, path)
    security: tuple[SecurityIssue, ...] = ()
    warnings: tuple[str, ...] = ()
    if tensor.dtype == "object":
        warnings = (f"{path}: object array; np.load needs allow_pickle=True for it",)
        security = _scan_object_array(handle, path, None, max_pickle_bytes, limits)
    return Checkpoint(
        path=path,
        format="npy",
        layout="state_dict",
        tensors=(tensor,),
        state_dict_path="",
        security=security,
        warnings=warnings,
    )
