"""Dtype tables shared by the readers: torch dtypes, legacy storage classes, safetensors and NumPy codes.

Everything here is plain data, so no reader ever needs to import torch or NumPy to name a
dtype. Sizes are in bits because a few formats pack elements below one byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "TORCH_DTYPE_BITS",
    "TORCH_DTYPE_ALIASES",
    "STORAGE_CLASS_DTYPES",
    "SAFETENSORS_DTYPES",
    "torch_dtype_name",
    "storage_nbytes",
    "numpy_dtype_name",
    "numpy_itemsize",
]

TORCH_DTYPE_BITS: Mapping[str, int] = MappingProxyType(
    {
        "bool": 8,
        "uint8": 8,
        "int8": 8,
        "int16": 16,
        "uint16": 16,
        "int32": 32,
        "uint32": 32,
        "int64": 64,
        "uint64": 64,
        "float16": 16,
        "bfloat16": 16,
        "float32": 32,
        "float64": 64,
        "complex32": 32,
        "complex64": 64,
        "complex128": 128,
        "qint8": 8,
        "quint8": 8,
        "qint32": 32,
        "quint4x2": 8,
        "quint2x4": 8,
        "float8_e4m3fn": 8,
        "float8_e4m3fnuz": 8,
        "float8_e5m2": 8,
        "float8_e5m2fnuz": 8,
        "float8_e8m0fnu": 8,
        "float4_e2m1fn_x2": 8,
        "bits8": 8,
        "bits16": 16,
        "bits1x8": 8,
        "bits2x4": 8,
        "bits4x2": 8,
        **{f"uint{bits}": bits for bits in range(1, 8)},
        **{f"int{bits}": bits for bits in range(1, 8)},
    }
)
"""Canonical torch dtype name (``str(dtype)`` without ``torch.``) to element size in bits."""

TORCH_DTYPE_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "float": "float32",
        "double": "float64",
        "half": "float16",
        "long": "int64",
        "int": "int32",
        "short": "int16",
        "cfloat": "complex64",
        "cdouble": "complex128",
        "chalf": "complex32",
    }
)

_STORAGE_CLASS_NAMES = {
    "DoubleStorage": "float64",
    "FloatStorage": "float32",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
    "ComplexDoubleStorage": "complex128",
    "ComplexFloatStorage": "complex64",
    "QInt8Storage": "qint8",
    "QInt32Storage": "qint32",
    "QUInt8Storage": "quint8",
    "QUInt4x2Storage": "quint4x2",
    "QUInt2x4Storage": "quint2x4",
}

STORAGE_CLASS_DTYPES: Mapping[str, str] = MappingProxyType(
    {
        **{f"torch.{name}": dtype for name, dtype in _STORAGE_CLASS_NAMES.items()},
        # Checkpoints saved from GPU tensors by torch < 1.? name the CUDA storage classes.
        **{f"torch.cuda.{name}": dtype for name, dtype in _STORAGE_CLASS_NAMES.items()},
        # torch >= 2.0 pickles dtypes without a legacy class (float8, uint16...) as untyped
        # byte storage plus a dtype argument to _rebuild_tensor_v3.
        "torch.storage.UntypedStorage": "uint8",
        "torch.UntypedStorage": "uint8",
    }
)
"""Storage class named in a persistent id to the dtype of its elements."""

SAFETENSORS_DTYPES: Mapping[str, tuple[str, int]] = MappingProxyType(
    {
        "BOOL": ("bool", 8),
        "U8": ("uint8", 8),
        "I8": ("int8", 8),
        "U16": ("uint16", 16),
        "I16": ("int16", 16),
        "U32": ("uint32", 32),
        "I32": ("int32", 32),
        "U64": ("uint64", 64),
        "I64": ("int64", 64),
        "F16": ("float16", 16),
        "BF16": ("bfloat16", 16),
        "F32": ("float32", 32),
        "F64": ("float64", 64),
        "C64": ("complex64", 64),
        "F8_E4M3": ("float8_e4m3fn", 8),
        "F8_E4M3FNUZ": ("float8_e4m3fnuz", 8),
        "F8_E5M2": ("float8_e5m2", 8),
        "F8_E5M2FNUZ": ("float8_e5m2fnuz", 8),
        "F8_E8M0": ("float8_e8m0fnu", 8),
        "F6_E2M3": ("float6_e2m3fn", 6),
        "F6_E3M2": ("float6_e3m2fn", 6),
        "F4": ("float4_e2m1fn", 4),
    }
)
"""safetensors dtype code to (torch-style name, bits per element)."""


def torch_dtype_name(name: str) -> str | None:
    """Canonical dtype name for ``torch.<name>``, or ``None`` when it is not a dtype."""
    name = TORCH_DTYPE_ALIASES.get(name, name)
    return name if name in TORCH_DTYPE_BITS else None


def storage_nbytes(dtype: str, numel: int) -> int | None:
    """Bytes a storage of ``numel`` elements of ``dtype`` holds on disk."""
    bits = TORCH_DTYPE_BITS.get(dtype)
    return None if bits is None else (numel * bits + 7) // 8


_NUMPY_KINDS = {
    ("b", 1): "bool",
    ("i", 1): "int8",
    ("i", 2): "int16",
    ("i", 4): "int32",
    ("i", 8): "int64",
    ("u", 1): "uint8",
    ("u", 2): "uint16",
    ("u", 4): "uint32",
    ("u", 8): "uint64",
    ("f", 2): "float16",
    ("f", 4): "float32",
    ("f", 8): "float64",
    ("f", 16): "longdouble",
    ("f", 12): "longdouble",
    ("c", 8): "complex64",
    ("c", 16): "complex128",
    ("c", 32): "clongdouble",
}
_NUMPY_CHAR_CODES = {
    "?": "b1",
    "b": "i1",
    "B": "u1",
    "h": "i2",
    "H": "u2",
    "i": "i4",
    "I": "u4",
    "l": "i8",
    "L": "u8",
    "q": "i8",
    "Q": "u8",
    "e": "f2",
    "f": "f4",
    "d": "f8",
    "F": "c8",
    "D": "c16",
    "O": "O",
}


def _split_descr(descr: str) -> tuple[str, int] | None:
    """``'<f4'`` -> ``('f', 4)``; ``None`` when the string is not a simple array-protocol code."""
    code = descr.lstrip("<>|=!")
    code = _NUMPY_CHAR_CODES.get(code, code)
    if not code or not code[0].isalpha():
        return None
    kind, size_text = code[0], code[1:].split("[", 1)[0]
    if kind == "O" and not size_text:
        return ("O", 8)
    if not (size_text.isascii() and size_text.isdigit()) or len(size_text) > 18:
        return None
    return kind, int(size_text)


def numpy_dtype_name(descr: object) -> str:
    """NumPy's name for an ``.npy`` header ``descr`` (``'<f4'`` -> ``'float32'``).

    Strings, bytes, datetimes and structured dtypes keep their array-protocol spelling
    (``'<U5'``), because NumPy has no shorter canonical name for them.
    """
    if not isinstance(descr, str):
        return "structured"
    split = _split_descr(descr)
    if split is None:
        return descr
    if split[0] == "O":
        return "object"
    return _NUMPY_KINDS.get(split, descr)


def numpy_itemsize(descr: object) -> int | None:
    """Bytes per element for a simple ``descr``; ``None`` for object or structured dtypes."""
    if not isinstance(descr, str):
        return None
    split = _split_descr(descr)
    if split is None or split[0] in ("O", "V"):
        return None
    kind, size = split
    if kind == "U":
        return 4 * size
    if kind in ("M", "m"):
        return 8
    return size
