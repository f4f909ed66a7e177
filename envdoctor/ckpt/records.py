"""The symbolic values the pickle interpreter builds instead of real objects.

A :class:`Global` is a name, never an imported object; tensors are :class:`TensorRecord`
(shape, dtype, storage) and NumPy arrays :class:`NdArrayRecord`; anything allowlisted but
not modelled is an :class:`Opaque`, and anything a non-allowlisted global would have
produced is :class:`Poisoned`. Sets and unusual dict keys are wrapped so that no pickled
value is ever hashed (hashing a deeply nested tuple can exhaust the C stack).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from envdoctor.ckpt.dtypes import STORAGE_CLASS_DTYPES, numpy_dtype_name, storage_nbytes

__all__ = [
    "Global",
    "StorageRef",
    "TensorRecord",
    "NdArrayRecord",
    "NumpyDtype",
    "Opaque",
    "Poisoned",
    "PickledSet",
    "OpaqueKey",
    "describe",
    "storage_from_persistent_id",
    "storage_loader",
    "symbol_of",
    "tensor_record",
    "BUILD_HOOKS",
]

BUILD_HOOKS: list[Callable[[object, object], None]] = []
"""The fast engine's ``BUILD`` handler (see :mod:`envdoctor.ckpt.fast_engine`); empty otherwise."""


class _Buildable:
    """Routes the real unpickler's ``BUILD`` on a record to the fast engine, never to ``__dict__``."""

    __slots__ = ()

    def __setstate__(self, state: object) -> None:
        if not BUILD_HOOKS:
            raise TypeError("BUILD on a symbolic record outside the fast engine")
        BUILD_HOOKS[-1](self, state)


@dataclass(frozen=True)
class Global(_Buildable):
    """A ``GLOBAL``/``STACK_GLOBAL``/``INST`` reference, never resolved."""

    module: str
    name: str
    allowed: bool

    @functools.cached_property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class StorageRef(_Buildable):
    """A tensor storage named by a torch persistent id; the bytes are never read."""

    storage_type: str
    dtype: str
    key: str
    location: str
    numel: int
    view_offset: int = 0
    """Element offset of a legacy storage view inside its root storage."""

    @property
    def nbytes(self) -> int | None:
        return storage_nbytes(self.dtype, self.numel)


@dataclass(frozen=True)
class TensorRecord(_Buildable):
    """What a tensor rebuild call would produce: shape, dtype and where its bytes live."""

    shape: tuple[int, ...] | None
    dtype: str | None
    kind: str = "tensor"
    device: str | None = None
    storage: StorageRef | None = None
    storage_offset: int | None = None


@dataclass(eq=False)
class NdArrayRecord(_Buildable):
    """A NumPy array rebuilt by ``_reconstruct`` + ``BUILD`` or ``_frombuffer``."""

    shape: tuple[int, ...] | None = None
    dtype: str | None = None


@dataclass(eq=False)
class NumpyDtype(_Buildable):
    """``numpy.dtype(descr, ...)``; ``BUILD`` supplies the byte order."""

    descr: str
    byteorder: str = "="

    @property
    def name(self) -> str:
        return numpy_dtype_name(self.descr)


@dataclass(eq=False)
class Opaque(_Buildable):
    """An allowlisted object whose class we do not model (``argparse.Namespace``...)."""

    cls: str
    args: object = None
    state: object = None


@dataclass(eq=False)
class Poisoned(Opaque):
    """The would-be result of calling a global outside the allowlist.

    ``cls`` names the global. It still takes ``BUILD`` state, so the tensors inside a
    pickled ``nn.Module`` (an unknown class, hence poisoned) are found all the same.
    """


@dataclass(eq=False)
class PickledSet(_Buildable):
    """A ``set``/``frozenset``; kept as a list so no pickled value is ever hashed."""

    items: list[object] = field(default_factory=list)


@dataclass(eq=False)
class OpaqueKey(_Buildable):
    """Stands in for a dict key that is not a plain scalar (hashing it could recurse)."""

    value: object


def symbol_of(value: object) -> Global | None:
    """The global a value names: a :class:`Global`, or the fast engine's stand-in class for one."""
    if type(value) is Global:
        return value
    if isinstance(value, type):
        symbol = value.__dict__.get("_envdoctor_symbol")
        if type(symbol) is Global:
            return symbol
    return None


def tensor_record(
    shape: tuple[int, ...] | None,
    dtype: str | None,
    kind: str,
    device: str | None,
    storage: StorageRef | None,
    storage_offset: int | None,
) -> TensorRecord:
    """A :class:`TensorRecord` without the frozen-dataclass ``__init__`` (hot: once per tensor)."""
    record = object.__new__(TensorRecord)
    fields = record.__dict__
    fields["shape"] = shape
    fields["dtype"] = dtype
    fields["kind"] = kind
    fields["device"] = device
    fields["storage"] = storage
    fields["storage_offset"] = storage_offset
    return record


_new_object = object.__new__


def _storage_ref(storage_type: str, dtype: str, key: str, location: str, numel: int, view_offset: int) -> StorageRef:
    """A :class:`StorageRef` without the frozen-dataclass ``__init__`` (hot: once per tensor)."""
    ref = object.__new__(StorageRef)
    fields = ref.__dict__
    fields["storage_type"] = storage_type
    fields["dtype"] = dtype
    fields["key"] = key
    fields["location"] = location
    fields["numel"] = numel
    fields["view_offset"] = view_offset
    return ref


def storage_from_persistent_id(pid: object, storages: dict[str, StorageRef] | None = None) -> StorageRef:
    """Decode torch's ``('storage', storage_type, key, location, numel[, view_metadata])``.

    The zip format has five fields; the legacy format adds ``view_metadata``, either ``None``
    or ``(view_key, offset, view_size)``. Raises ``ValueError`` when the id is malformed.
    With ``storages``, the first storage seen for each key is remembered there (the readers
    check them against the file); a reader's ``persistent_load`` is :func:`storage_loader`.
    """
    ref = _decode_storage(pid)
    if storages is not None:
        storages.setdefault(ref.key, ref)
    return ref


def storage_loader(storages: dict[str, StorageRef]) -> Callable[[object], StorageRef]:
    """A reader's ``persistent_load``: :func:`storage_from_persistent_id` remembering into ``storages``.

    Hot (the unpickler calls it once per tensor), so it is a closure with the usual id, a
    fast engine's storage stand-in, checked and built inline (a ``functools.partial`` with
    a keyword would build a dict on every call); anything else goes the general way.
    """
    remember = storages.setdefault

    def load(pid: object) -> StorageRef:
        size = len(pid) if type(pid) is tuple else 0
        if size == 5 or (size == 6 and pid[5] is None):  # type: ignore[index]  # a tuple here
            storage_class, key, location, numel = pid[1], pid[2], pid[3], pid[4]  # type: ignore[index]
            if (
                isinstance(storage_class, type)
                and type(key) is str
                and type(location) is str
                and type(numel) is int
                and numel >= 0
                and pid[0] == "storage"  # type: ignore[index]
            ):
                # The fast engine's stand-in for a storage class carries its (qualname, dtype).
                known = storage_class.__dict__.get("_envdoctor_storage")
                if known is not None:
                    ref = _new_object(StorageRef)
                    fields = ref.__dict__
                    fields["storage_type"] = known[0]
                    fields["dtype"] = known[1]
                    fields["key"] = key
                    fields["location"] = location
                    fields["numel"] = numel
                    fields["view_offset"] = 0
                    remember(key, ref)
                    return ref
        ref = _decode_storage(pid)
        remember(ref.key, ref)
        return ref

    return load


def _decode_storage(pid: object) -> StorageRef:
    """The :class:`StorageRef` a persistent id names; ``ValueError`` when it is malformed."""
    if not isinstance(pid, tuple) or len(pid) not in (5, 6) or pid[0] != "storage":
        raise ValueError(f"unexpected persistent id {describe(pid)}")
    storage_class, key, location, numel = pid[1:5]
    if (
        (len(pid) == 5 or pid[5] is None)
        and type(key) is str
        and type(location) is str
        and type(numel) is int
        and numel >= 0
    ):
        symbol = symbol_of(storage_class)
        if symbol is not None:
            qualname = symbol.qualname
            dtype = STORAGE_CLASS_DTYPES.get(qualname)
            if dtype is not None:
                return _storage_ref(qualname, dtype, key, location, numel, 0)
    storage_type = symbol_of(storage_class)
    if storage_type is None or storage_type.qualname not in STORAGE_CLASS_DTYPES:
        raise ValueError(f"unknown storage type {describe(storage_class)}")
    if not isinstance(key, str) or not isinstance(location, str):
        raise ValueError("storage key or location is not a string")
    if isinstance(numel, bool) or not isinstance(numel, int) or numel < 0:
        raise ValueError("storage size is not a non-negative int")
    view_offset = 0
    if len(pid) == 6 and pid[5] is not None:
        view = pid[5]
        if (
            not isinstance(view, tuple)
            or len(view) != 3
            or not isinstance(view[1], int)
            or not isinstance(view[0], str)
        ):
            raise ValueError("malformed legacy view metadata")
        view_offset = view[1]
    return _storage_ref(
        storage_type.qualname, STORAGE_CLASS_DTYPES[storage_type.qualname], key, location, numel, view_offset
    )


def describe(value: object) -> str:
    """A short, non-recursive description of a pickled value for messages."""
    symbol = symbol_of(value)
    if symbol is not None:
        return symbol.qualname
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"<int of {value.bit_length()} bits>"
    if isinstance(value, (str, int, float, bool)) or value is None:
        text = repr(value[:80] if isinstance(value, str) else value)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, tuple):
        return f"tuple of {len(value)}"
    if isinstance(value, Poisoned):
        return f"what {value.cls} returns"
    if isinstance(value, Opaque):
        return f"{value.cls} object"
    return type(value).__name__
