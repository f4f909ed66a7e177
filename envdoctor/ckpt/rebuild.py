"""What calls on allowlisted globals produce: tensor records, dicts, tuples, NumPy records.

Each handler receives the call's argument tuple exactly as the pickle built it and returns
a symbolic value. Arguments torch itself would reject raise :class:`MalformedCallError`,
which the interpreter turns into a warning and an :class:`~envdoctor.ckpt.records.Opaque`
value, so a damaged tensor entry never hides the rest of the inventory.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from envdoctor.ckpt.allowlist import DICT_CLASSES, NUMPY_CORES
from envdoctor.ckpt.dtypes import torch_dtype_name
from envdoctor.ckpt.records import (
    NdArrayRecord,
    NumpyDtype,
    Opaque,
    PickledSet,
    StorageRef,
    TensorRecord,
    describe,
    symbol_of,
    tensor_record,
)

__all__ = ["CallContext", "Handler", "HANDLERS", "SPREAD_HANDLERS", "MalformedCallError", "as_shape"]


class CallContext(Protocol):
    """What a handler may ask of the interpreter."""

    def call(self, func: object, args: object) -> object: ...

    def instantiate(self, cls: object, args: object) -> object: ...

    def key(self, value: object) -> object: ...


class MalformedCallError(Exception):
    """An allowlisted call got arguments torch itself would reject; becomes a warning."""


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedCallError(f"{what} is {type(value).__name__}, not an int")
    return value


_MAX_DIM = (1 << 63) - 1
"""torch sizes are int64; anything outside 0..2**63-1 is refused by torch too."""


def as_shape(value: object, what: str = "size") -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)):
        raise MalformedCallError(f"{what} is {type(value).__name__}, not a tuple")
    if len(value) > 64:
        raise MalformedCallError(f"{what} has {len(value)} dimensions")
    shape = tuple(_int(item, what) for item in value)
    if any(not 0 <= dim <= _MAX_DIM for dim in shape):
        raise MalformedCallError(f"{what} has a dimension outside 0..2**63-1")
    return shape


def _dtype_arg(value: object) -> str:
    symbol = symbol_of(value)
    if symbol is not None and symbol.module == "torch":
        name = torch_dtype_name(symbol.name)
        if name is not None:
            return name
    raise MalformedCallError("dtype argument is not a torch dtype")


def _device(value: object) -> str | None:
    if isinstance(value, str):
        return value
    return None


# --- call handlers: (machine, args) -> value -------------------------------------------------

Handler = Callable[[CallContext, tuple[object, ...]], object]


def _from_storage(args: tuple[object, ...], *, dtype_index: int | None, kind: str) -> TensorRecord:
    if len(args) < 4:
        raise MalformedCallError(f"{len(args)} arguments")
    storage = args[0]
    if not isinstance(storage, StorageRef):
        raise MalformedCallError(f"storage is {describe(storage)}")
    dtype = storage.dtype
    if dtype_index is not None:
        if len(args) <= dtype_index:
            raise MalformedCallError("missing dtype argument")
        dtype = _dtype_arg(args[dtype_index])
    size, offset = args[2], args[1]
    if type(size) is tuple:
        for dim in size:
            if type(dim) is not int or not 0 <= dim <= _MAX_DIM:
                size = as_shape(size)  # raises, or gives the same tuple
                break
    else:
        size = as_shape(size)
    if type(offset) is not int:
        offset = _int(offset, "storage_offset")
    return tensor_record(size, dtype, kind, storage.location, storage, offset + storage.view_offset)


_new_object = object.__new__


def rebuild_tensor_spread(machine: CallContext, *args: object) -> object:
    """``torch._utils._rebuild_tensor(_v2)`` with its arguments spread (how the fast engine calls it).

    Hot (once per tensor): the usual arguments inline; anything else through
    :func:`_from_storage`, which gives the same record or refuses.
    """
    if len(args) >= 4:
        storage, offset, size = args[0], args[1], args[2]
        if type(storage) is StorageRef and type(offset) is int and type(size) is tuple:
            for dim in size:
                if type(dim) is not int or not 0 <= dim <= _MAX_DIM:
                    break
            else:
                record = _new_object(TensorRecord)
                fields = record.__dict__
                fields["shape"] = size
                fields["dtype"] = storage.dtype
                fields["kind"] = "tensor"
                fields["device"] = storage.location
                fields["storage"] = storage
                fields["storage_offset"] = offset + storage.view_offset
                return record
    return _from_storage(args, dtype_index=None, kind="tensor")


def _rebuild_tensor(machine: CallContext, args: tuple[object, ...]) -> object:
    return rebuild_tensor_spread(machine, *args)


def _rebuild_tensor_v3(machine: CallContext, args: tuple[object, ...]) -> object:
    return _from_storage(args, dtype_index=6, kind="tensor")


def _rebuild_qtensor(machine: CallContext, args: tuple[object, ...]) -> object:
    return _from_storage(args, dtype_index=None, kind="quantized")


def _rebuild_parameter(machine: CallContext, args: tuple[object, ...]) -> object:
    data = args[0] if args else None
    if isinstance(data, TensorRecord):
        return replace(data, kind="parameter") if data.kind == "tensor" else data
    raise MalformedCallError(f"data is {describe(data)}")


def _rebuild_from_type(machine: CallContext, args: tuple[object, ...]) -> object:
    # (func, new_type, args, state): tensor subclasses and tensors with Python attributes.
    if len(args) != 4 or not isinstance(args[2], tuple):
        raise MalformedCallError("expected (func, type, args, state)")
    inner = machine.call(args[0], args[2])
    new_type = symbol_of(args[1])
    if (
        isinstance(inner, TensorRecord)
        and inner.kind == "tensor"
        and new_type is not None
        and new_type.qualname == "torch.nn.parameter.Parameter"
    ):
        return replace(inner, kind="parameter")
    return inner


def _rebuild_sparse_tensor(machine: CallContext, args: tuple[object, ...]) -> object:
    if len(args) != 2 or not isinstance(args[1], tuple):
        raise MalformedCallError("expected (layout, data)")
    # The layout comes as _get_layout("torch.sparse_coo") (a string) or as the global itself.
    symbol = symbol_of(args[0])
    layout = symbol.qualname if symbol is not None else args[0]
    data = args[1]
    if layout == "torch.sparse_coo" and len(data) in (3, 4):
        values, size = data[1], data[2]
    elif len(data) == 4:
        values, size = data[2], data[3]
    else:
        raise MalformedCallError(f"unknown sparse layout {describe(layout)}")
    if not isinstance(values, TensorRecord):
        raise MalformedCallError("sparse values are not a tensor")
    return TensorRecord(shape=as_shape(size), dtype=values.dtype, kind="sparse", device=values.device)


def _rebuild_nested_tensor(machine: CallContext, args: tuple[object, ...]) -> object:
    buffer = args[0] if args else None
    if not isinstance(buffer, TensorRecord):
        raise MalformedCallError("nested buffer is not a tensor")
    return replace(buffer, shape=None, kind="nested")


def _rebuild_from_numpy(machine: CallContext, args: tuple[object, ...]) -> object:
    if len(args) != 4 or not isinstance(args[0], NdArrayRecord):
        raise MalformedCallError("expected (ndarray, dtype, device, requires_grad)")
    return TensorRecord(shape=args[0].shape, dtype=_dtype_arg(args[1]), device=_device(args[2]))


def _rebuild_from_cpu_tensor(machine: CallContext, args: tuple[object, ...]) -> object:
    if len(args) != 4 or not isinstance(args[0], TensorRecord):
        raise MalformedCallError("expected (tensor, dtype, device, requires_grad)")
    return replace(args[0], dtype=_dtype_arg(args[1]), device=_device(args[2]))


def _rebuild_meta(machine: CallContext, args: tuple[object, ...]) -> object:
    if len(args) != 4:
        raise MalformedCallError("expected (dtype, size, stride, requires_grad)")
    return TensorRecord(shape=as_shape(args[1]), dtype=_dtype_arg(args[0]), kind="meta", device="meta")


def _rebuild_wrapper_subclass(machine: CallContext, args: tuple[object, ...]) -> object:
    if len(args) != 8:
        raise MalformedCallError("expected 8 arguments")
    return TensorRecord(shape=as_shape(args[2]), dtype=_dtype_arg(args[1]), device=_device(args[6]))


def _ordered_dict(machine: CallContext, args: tuple[object, ...]) -> object:
    result: dict[object, object] = {}
    source = args[0] if args else None
    if isinstance(source, dict):
        result.update(source)
    elif isinstance(source, (list, tuple)):
        for pair in source:
            if isinstance(pair, (list, tuple)) and len(pair) == 2:
                result[machine.key(pair[0])] = pair[1]
    return result


def _torch_size(machine: CallContext, args: tuple[object, ...]) -> object:
    return as_shape(args[0] if args else (), "torch.Size")


def _torch_device(machine: CallContext, args: tuple[object, ...]) -> object:
    if not args or not isinstance(args[0], str):
        raise MalformedCallError("device type is not a string")
    if len(args) > 1 and isinstance(args[1], int) and not isinstance(args[1], bool):
        return f"{args[0]}:{args[1]}"
    return args[0]


def _first_str(machine: CallContext, args: tuple[object, ...]) -> object:
    if not args or not isinstance(args[0], str):
        raise MalformedCallError("expected a string")
    return args[0]


def _make_set(machine: CallContext, args: tuple[object, ...]) -> object:
    source = args[0] if args else []
    return PickledSet(list(source) if isinstance(source, (list, tuple)) else [])


def _complex(machine: CallContext, args: tuple[object, ...]) -> object:
    parts = [part for part in args if isinstance(part, (int, float)) and not isinstance(part, bool)]
    if len(parts) != len(args) or len(parts) > 2:
        raise MalformedCallError("complex parts are not numbers")
    return complex(*parts)


def _to_bytes(machine: CallContext, args: tuple[object, ...]) -> object:
    source = args[0] if args else b""
    if isinstance(source, bytes):
        return source
    if isinstance(source, str):
        # Protocol 2 stores bytes as (latin-1 text, "latin1"); see pickle's save_bytes.
        try:
            return source.encode("latin-1")
        except UnicodeEncodeError:
            return source.encode("utf-8")
    if isinstance(source, (list, tuple)) and all(isinstance(item, int) for item in source):
        return bytes(item & 0xFF for item in source if isinstance(item, int))
    raise MalformedCallError("expected bytes or text")


_SCALAR_FORMATS = {
    ("b", 1): "?",
    ("i", 1): "b",
    ("i", 2): "h",
    ("i", 4): "i",
    ("i", 8): "q",
    ("u", 1): "B",
    ("u", 2): "H",
    ("u", 4): "I",
    ("u", 8): "Q",
    ("f", 2): "e",
    ("f", 4): "f",
    ("f", 8): "d",
}


def _numpy_scalar(machine: CallContext, args: tuple[object, ...]) -> object:
    if len(args) != 2 or not isinstance(args[0], NumpyDtype):
        raise MalformedCallError("expected (dtype, data)")
    dtype, data = args[0], args[1]
    descr = dtype.descr.lstrip("<>|=")
    if isinstance(data, bytes) and 2 <= len(descr) <= 4 and descr[1:].isascii() and descr[1:].isdigit():
        code = _SCALAR_FORMATS.get((descr[0], int(descr[1:])))
        if code is not None and struct.calcsize(code) == len(data):
            order = ">" if dtype.byteorder == ">" else "<"
            value: object = struct.unpack(order + code, data)[0]
            return value
    return Opaque(f"numpy.{dtype.name}", args)


def _numpy_dtype(machine: CallContext, args: tuple[object, ...]) -> object:
    if not args or not isinstance(args[0], str):
        raise MalformedCallError("dtype descr is not a string")
    return NumpyDtype(args[0])


def _numpy_reconstruct(machine: CallContext, args: tuple[object, ...]) -> object:
    return NdArrayRecord()


def _numpy_frombuffer(machine: CallContext, args: tuple[object, ...]) -> object:
    if len(args) != 4 or not isinstance(args[1], NumpyDtype):
        raise MalformedCallError("expected (buffer, dtype, shape, order)")
    return NdArrayRecord(shape=as_shape(args[2], "shape"), dtype=args[1].name)


def _reconstructor(machine: CallContext, args: tuple[object, ...]) -> object:
    # copyreg._reconstructor(cls, base, state) is protocol 0/1's spelling of cls.__new__.
    if not args:
        raise MalformedCallError("no class")
    return machine.instantiate(args[0], args[1:])


HANDLERS: dict[str, Handler] = {
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
    "torch._utils._rebuild_qtensor": _rebuild_qtensor,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch._utils._rebuild_sparse_tensor": _rebuild_sparse_tensor,
    "torch._utils._rebuild_nested_tensor": _rebuild_nested_tensor,
    "torch._utils._rebuild_wrapper_subclass": _rebuild_wrapper_subclass,
    "torch._utils._rebuild_device_tensor_from_cpu_tensor": _rebuild_from_cpu_tensor,
    "torch._utils._rebuild_device_tensor_from_numpy": _rebuild_from_numpy,
    "torch._utils._rebuild_xla_tensor": _rebuild_from_numpy,
    "torch._utils._rebuild_meta_tensor_no_storage": _rebuild_meta,
    "torch._tensor._rebuild_from_type": _rebuild_from_type,
    "torch._tensor._rebuild_from_type_v2": _rebuild_from_type,
    "torch.Size": _torch_size,
    "torch.device": _torch_device,
    "torch.serialization._get_layout": _first_str,
    "torch.torch_version.TorchVersion": _first_str,
    "builtins.set": _make_set,
    "builtins.frozenset": _make_set,
    "builtins.complex": _complex,
    "builtins.bytearray": _to_bytes,
    "builtins.bytes": _to_bytes,
    "_codecs.encode": _to_bytes,
    "copyreg._reconstructor": _reconstructor,
    "numpy.dtype": _numpy_dtype,
    **{name: _ordered_dict for name in DICT_CLASSES},
    **{f"{core}.multiarray.scalar": _numpy_scalar for core in NUMPY_CORES},
    **{f"{core}.multiarray._reconstruct": _numpy_reconstruct for core in NUMPY_CORES},
    **{f"{core}.numeric._frombuffer": _numpy_frombuffer for core in NUMPY_CORES},
}

SPREAD_HANDLERS: dict[str, Callable[..., object]] = {
    "torch._utils._rebuild_tensor": rebuild_tensor_spread,
    "torch._utils._rebuild_tensor_v2": rebuild_tensor_spread,
}
"""The hottest handlers with their arguments spread: ``HANDLERS[name](machine, args)`` is
``SPREAD_HANDLERS[name](machine, *args)``, so the fast engine can call them through C alone."""
