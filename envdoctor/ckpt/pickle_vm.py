"""A pickle-opcode interpreter that reads checkpoints without resolving a single global.

``pickle.Unpickler`` imports every ``GLOBAL`` it meets and calls what ``REDUCE`` names, so a
checkpoint can run any code at load time. This module walks the opcodes itself (through
:func:`pickletools.genops`) and models the stack, the memo and the marks; a global is only
ever a symbolic :class:`Global` record. Calls on allowlisted globals build plain records
(:class:`TensorRecord`, :class:`NdArrayRecord`, dicts, tuples); calls on anything else
yield a :class:`Poisoned` placeholder and the global's opcode is reported as a
:class:`~envdoctor.ckpt.model.SecurityIssue`, while reading carries on so the whole
inventory is still known.

The allowlist (names after mapping Python 2 module names, as ``pickle`` does):

* tensor rebuilders, which become :class:`TensorRecord`: ``torch._utils._rebuild_tensor``,
  ``_rebuild_tensor_v2``, ``_rebuild_tensor_v3``, ``_rebuild_parameter``,
  ``_rebuild_parameter_with_state``, ``_rebuild_qtensor``, ``_rebuild_sparse_tensor``,
  ``_rebuild_nested_tensor``, ``_rebuild_wrapper_subclass``,
  ``_rebuild_device_tensor_from_cpu_tensor``, ``_rebuild_device_tensor_from_numpy``,
  ``_rebuild_xla_tensor``, ``_rebuild_meta_tensor_no_storage``, and
  ``torch._tensor._rebuild_from_type`` / ``_rebuild_from_type_v2``;
* storage classes in persistent ids: ``torch.<X>Storage``, ``torch.cuda.<X>Storage``,
  ``torch.storage.UntypedStorage``;
* torch values: every dtype (``torch.float32``, ``torch.bfloat16``...), ``torch.Size``,
  ``torch.device``, ``torch.Tensor``, ``torch.nn.parameter.Parameter``,
  ``torch.nn.parameter.Buffer``, ``torch.serialization._get_layout``, layouts
  (``torch.strided``, ``torch.sparse_coo``...), quantization schemes, memory formats,
  ``torch.torch_version.TorchVersion``;
* containers and builtins: ``collections.OrderedDict``, ``collections.defaultdict``,
  ``collections.Counter``, ``builtins.set``, ``frozenset``, ``slice``, ``complex``,
  ``bytearray``, ``bytes``, ``object``, the type objects ``dict``, ``list``, ``tuple``,
  ``int``, ``float``, ``str``, ``bool``, ``_codecs.encode``, ``copyreg._reconstructor``;
* NumPy: ``numpy.core.multiarray.scalar`` and ``_reconstruct``, the same under
  ``numpy._core.multiarray``, ``numpy.core.numeric._frombuffer`` / ``numpy._core.numeric``,
  ``numpy.ndarray``, ``numpy.dtype``, ``numpy.dtypes.<X>DType``;
* harmless classes kept as opaque objects: ``argparse.Namespace``, ``typing.Any``,
  ``pathlib.(Pure)PosixPath`` / ``(Pure)WindowsPath``, ``datetime.date`` / ``datetime`` /
  ``time`` / ``timedelta`` / ``timezone``, ``mmengine.logging.history_buffer.HistoryBuffer``,
  ``mmengine.config.config.ConfigDict``, ``addict.addict.Dict``, Lightning's
  ``AttributeDict`` (``pytorch_lightning.utilities.parsing``,
  ``lightning.pytorch.utilities.parsing``, ``lightning.fabric.utilities.data``,
  ``lightning_fabric.utilities.data``) and OmegaConf's ``DictConfig``, ``ListConfig``,
  ``ContainerMetadata``, ``Metadata`` and node classes.

Every other global is a security issue; those that run commands or code (``os``, ``posix``,
``nt``, ``subprocess``, ``builtins.eval``/``exec``/``getattr``/``__import__``, ``runpy``,
``importlib``, ``functools``, ``operator``, ``torch.load``...) are marked ``dangerous``.
Limits on opcodes, memo entries, stack size, mark nesting and container items bound time
and memory; exceeding one raises :class:`~envdoctor.errors.CheckpointError`.
"""

from __future__ import annotations

import _compat_pickle
import pickletools
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import IO, cast

from envdoctor.ckpt.dtypes import (
    STORAGE_CLASS_DTYPES,
    numpy_dtype_name,
    storage_nbytes,
    torch_dtype_name,
)
from envdoctor.ckpt.model import SecurityIssue
from envdoctor.errors import CheckpointError

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
    "PickleLimits",
    "PickleResult",
    "PersistentLoad",
    "is_allowed_global",
    "is_dangerous_global",
    "storage_from_persistent_id",
    "run_pickle",
]


@dataclass(frozen=True)
class Global:
    """A ``GLOBAL``/``STACK_GLOBAL``/``INST`` reference, never resolved."""

    module: str
    name: str
    allowed: bool

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class StorageRef:
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
class TensorRecord:
    """What a tensor rebuild call would produce: shape, dtype and where its bytes live."""

    shape: tuple[int, ...] | None
    dtype: str | None
    kind: str = "tensor"
    device: str | None = None
    storage: StorageRef | None = None
    storage_offset: int | None = None


@dataclass(eq=False)
class NdArrayRecord:
    """A NumPy array rebuilt by ``_reconstruct`` + ``BUILD`` or ``_frombuffer``."""

    shape: tuple[int, ...] | None = None
    dtype: str | None = None


@dataclass(eq=False)
class NumpyDtype:
    """``numpy.dtype(descr, ...)``; ``BUILD`` supplies the byte order."""

    descr: str
    byteorder: str = "="

    @property
    def name(self) -> str:
        return numpy_dtype_name(self.descr)


@dataclass(eq=False)
class Opaque:
    """An allowlisted object whose class we do not model (``argparse.Namespace``...)."""

    cls: str
    args: object = None
    state: object = None


@dataclass(eq=False)
class Poisoned:
    """The would-be result of calling a global outside the allowlist."""

    origin: str


@dataclass(eq=False)
class PickledSet:
    """A ``set``/``frozenset``; kept as a list so no pickled value is ever hashed."""

    items: list[object] = field(default_factory=list)


@dataclass(eq=False)
class OpaqueKey:
    """Stands in for a dict key that is not a plain scalar (hashing it could recurse)."""

    value: object


@dataclass(frozen=True)
class PickleLimits:
    """Bounds on one pickle's interpretation; each guards time or memory against bombs."""

    max_opcodes: int = 20_000_000
    max_memo: int = 1_000_000
    max_stack: int = 1_000_000
    max_depth: int = 1_000
    """Deepest MARK nesting, and deepest object nesting the layout walk will follow."""
    max_items: int = 10_000_000
    """Container items, counted once per insertion and again per shared reference when walked."""


@dataclass(frozen=True)
class PickleResult:
    value: object
    issues: tuple[SecurityIssue, ...]
    warnings: tuple[str, ...]


PersistentLoad = Callable[[object], object]
"""Turns a persistent id into a value; raises ``ValueError`` when the id is malformed."""

# --- the allowlist -------------------------------------------------------------------------

_REBUILDERS = (
    "_rebuild_tensor",
    "_rebuild_tensor_v2",
    "_rebuild_tensor_v3",
    "_rebuild_parameter",
    "_rebuild_parameter_with_state",
    "_rebuild_qtensor",
    "_rebuild_sparse_tensor",
    "_rebuild_nested_tensor",
    "_rebuild_wrapper_subclass",
    "_rebuild_device_tensor_from_cpu_tensor",
    "_rebuild_device_tensor_from_numpy",
    "_rebuild_xla_tensor",
    "_rebuild_meta_tensor_no_storage",
)
_TORCH_VALUES = (
    "Size",
    "device",
    "Tensor",
    "strided",
    "sparse_coo",
    "sparse_csr",
    "sparse_csc",
    "sparse_bsr",
    "sparse_bsc",
    "_mkldnn",
    "jagged",
    "per_tensor_affine",
    "per_tensor_symmetric",
    "per_channel_affine",
    "per_channel_symmetric",
    "per_channel_affine_float_qparams",
    "contiguous_format",
    "channels_last",
    "channels_last_3d",
    "preserve_format",
)
_DICT_CLASSES = frozenset(
    {
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.Counter",
        "pytorch_lightning.utilities.parsing.AttributeDict",
        "lightning.pytorch.utilities.parsing.AttributeDict",
        "lightning.fabric.utilities.data.AttributeDict",
        "lightning_fabric.utilities.data.AttributeDict",
        "mmengine.config.config.ConfigDict",
        "addict.addict.Dict",
    }
)
_OPAQUE_CLASSES = frozenset(
    {
        "argparse.Namespace",
        "typing.Any",
        "pathlib.Path",
        "pathlib.PosixPath",
        "pathlib.WindowsPath",
        "pathlib.PurePosixPath",
        "pathlib.PureWindowsPath",
        "datetime.date",
        "datetime.datetime",
        "datetime.time",
        "datetime.timedelta",
        "datetime.timezone",
        "builtins.slice",
        "builtins.object",
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.int",
        "builtins.float",
        "builtins.str",
        "builtins.bool",
        "mmengine.logging.history_buffer.HistoryBuffer",
        "omegaconf.dictconfig.DictConfig",
        "omegaconf.listconfig.ListConfig",
        "omegaconf.base.ContainerMetadata",
        "omegaconf.base.Metadata",
        "omegaconf.nodes.AnyNode",
        "omegaconf.nodes.StringNode",
        "omegaconf.nodes.IntegerNode",
        "omegaconf.nodes.FloatNode",
        "omegaconf.nodes.BooleanNode",
        "omegaconf.nodes.PathNode",
        "numpy.ndarray",
        "torch.nn.parameter.Parameter",
        "torch.nn.parameter.Buffer",
    }
)
_NUMPY_CORES = ("numpy.core", "numpy._core")

_DANGEROUS_MODULES = frozenset(
    {
        "os",
        "posix",
        "nt",
        "posixpath",
        "ntpath",
        "subprocess",
        "_posixsubprocess",
        "sys",
        "runpy",
        "importlib",
        "imp",
        "zipimport",
        "pkgutil",
        "shutil",
        "socket",
        "pty",
        "webbrowser",
        "ctypes",
        "code",
        "codeop",
        "pdb",
        "bdb",
        "timeit",
        "trace",
        "profile",
        "cProfile",
        "marshal",
        "pickle",
        "_pickle",
        "dill",
        "cloudpickle",
        "joblib",
        "types",
        "functools",
        "operator",
        "inspect",
        "pydoc",
        "asyncio",
        "multiprocessing",
        "threading",
        "_thread",
        "signal",
        "platform",
        "commands",
        "popen2",
        "urllib",
        "urllib2",
        "http",
        "httplib",
        "ftplib",
        "smtplib",
        "telnetlib",
        "requests",
        "tempfile",
        "glob",
        "pip",
        "setuptools",
        "distutils",
        "site",
        "sysconfig",
    }
)
_DANGEROUS_BUILTINS = frozenset(
    {
        "eval",
        "exec",
        "execfile",
        "compile",
        "getattr",
        "setattr",
        "delattr",
        "__import__",
        "open",
        "input",
        "breakpoint",
        "globals",
        "locals",
        "vars",
        "apply",
        "reload",
        "help",
    }
)
_DANGEROUS_PREFIXES = (
    "torch.load",
    "torch.serialization.load",
    "torch.serialization._load",
    "torch.hub.",
    "torch.jit.",
    "torch.utils.cpp_extension.",
    "torch._dynamo.",
    "torch._inductor.",
    "torch.package.",
    "torch.ops.",
    "torch._ops.",
    "torch.classes.",
    "numpy.load",
    "numpy.testing.",
    "numpy.f2py.",
    "numpy.distutils.",
)


def _normalise(module: str, name: str) -> tuple[str, str]:
    """Map Python 2 names as ``pickle`` does with ``fix_imports`` (``__builtin__`` -> ``builtins``)."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def is_allowed_global(module: str, name: str) -> bool:
    """True when ``module.name`` is on the allowlist described in the module docstring."""
    if "." in name or not name:
        # Dotted names are attribute chains resolved with getattr; none is allowlisted.
        return False
    qualname = f"{module}.{name}"
    if module == "torch._utils":
        return name in _REBUILDERS
    if module == "torch._tensor":
        return name in ("_rebuild_from_type", "_rebuild_from_type_v2")
    if module == "torch":
        return name in _TORCH_VALUES or torch_dtype_name(name) is not None or (
            qualname in STORAGE_CLASS_DTYPES
        )
    if qualname in STORAGE_CLASS_DTYPES:
        return True
    if module in _NUMPY_CORES or module.startswith(tuple(f"{core}." for core in _NUMPY_CORES)):
        return qualname in {
            f"{core}.{suffix}"
            for core in _NUMPY_CORES
            for suffix in ("multiarray.scalar", "multiarray._reconstruct", "numeric._frombuffer")
        }
    if module == "numpy":
        return name in ("dtype", "ndarray")
    if module == "numpy.dtypes":
        return name.endswith("DType")
    return (
        qualname in _DICT_CLASSES
        or qualname in _OPAQUE_CLASSES
        or qualname
        in (
            "torch.serialization._get_layout",
            "torch.torch_version.TorchVersion",
            "builtins.set",
            "builtins.frozenset",
            "builtins.complex",
            "builtins.bytearray",
            "builtins.bytes",
            "_codecs.encode",
            "copyreg._reconstructor",
        )
    )


def is_dangerous_global(module: str, name: str) -> bool:
    """True for globals known to run commands or arbitrary code when a pickle is loaded."""
    root = module.split(".", 1)[0]
    if root in _DANGEROUS_MODULES:
        return True
    if module == "builtins":
        return name.split(".", 1)[0] in _DANGEROUS_BUILTINS
    return f"{module}.{name}".startswith(_DANGEROUS_PREFIXES)


# --- helpers shared by the call handlers ---------------------------------------------------


class _MalformedError(Exception):
    """An allowlisted call got arguments torch itself would reject; becomes a warning."""


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _MalformedError(f"{what} is {type(value).__name__}, not an int")
    return value


def _shape(value: object, what: str = "size") -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)):
        raise _MalformedError(f"{what} is {type(value).__name__}, not a tuple")
    return tuple(_int(item, what) for item in value)


def _dtype_arg(value: object) -> str:
    if isinstance(value, Global) and value.module == "torch":
        name = torch_dtype_name(value.name)
        if name is not None:
            return name
    raise _MalformedError("dtype argument is not a torch dtype")


def _device(value: object) -> str | None:
    if isinstance(value, str):
        return value
    return None


def storage_from_persistent_id(pid: object) -> StorageRef:
    """Decode torch's ``('storage', storage_type, key, location, numel[, view_metadata])``.

    The zip format has five fields; the legacy format adds ``view_metadata``, either ``None``
    or ``(view_key, offset, view_size)``. Raises ``ValueError`` when the id is malformed.
    """
    if not isinstance(pid, tuple) or len(pid) not in (5, 6) or pid[0] != "storage":
        raise ValueError(f"unexpected persistent id {_describe(pid)}")
    storage_type, key, location, numel = pid[1:5]
    if not isinstance(storage_type, Global) or storage_type.qualname not in STORAGE_CLASS_DTYPES:
        raise ValueError(f"unknown storage type {_describe(storage_type)}")
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
    return StorageRef(
        storage_type=storage_type.qualname,
        dtype=STORAGE_CLASS_DTYPES[storage_type.qualname],
        key=key,
        location=location,
        numel=numel,
        view_offset=view_offset,
    )


def _describe(value: object) -> str:
    """A short, non-recursive description of a pickled value for messages."""
    if isinstance(value, Global):
        return value.qualname
    if isinstance(value, (str, int, float, bool)) or value is None:
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, tuple):
        return f"tuple of {len(value)}"
    return type(value).__name__


# --- call handlers: (machine, args) -> value -------------------------------------------------

_Handler = Callable[["_Machine", tuple[object, ...]], object]


def _from_storage(args: tuple[object, ...], *, dtype_index: int | None, kind: str) -> TensorRecord:
    if len(args) < 4:
        raise _MalformedError(f"{len(args)} arguments")
    storage = args[0]
    if not isinstance(storage, StorageRef):
        raise _MalformedError(f"storage is {_describe(storage)}")
    dtype = storage.dtype
    if dtype_index is not None:
        if len(args) <= dtype_index:
            raise _MalformedError("missing dtype argument")
        dtype = _dtype_arg(args[dtype_index])
    return TensorRecord(
        shape=_shape(args[2]),
        dtype=dtype,
        kind=kind,
        device=storage.location,
        storage=storage,
        storage_offset=_int(args[1], "storage_offset") + storage.view_offset,
    )


def _rebuild_tensor(machine: _Machine, args: tuple[object, ...]) -> object:
    return _from_storage(args, dtype_index=None, kind="tensor")


def _rebuild_tensor_v3(machine: _Machine, args: tuple[object, ...]) -> object:
    return _from_storage(args, dtype_index=6, kind="tensor")


def _rebuild_qtensor(machine: _Machine, args: tuple[object, ...]) -> object:
    return _from_storage(args, dtype_index=None, kind="quantized")


def _rebuild_parameter(machine: _Machine, args: tuple[object, ...]) -> object:
    data = args[0] if args else None
    if isinstance(data, TensorRecord):
        return replace(data, kind="parameter") if data.kind == "tensor" else data
    raise _MalformedError(f"data is {_describe(data)}")


def _rebuild_from_type(machine: _Machine, args: tuple[object, ...]) -> object:
    # (func, new_type, args, state): tensor subclasses and tensors with Python attributes.
    if len(args) != 4 or not isinstance(args[2], tuple):
        raise _MalformedError("expected (func, type, args, state)")
    inner = machine.call(args[0], args[2])
    new_type = args[1]
    if (
        isinstance(inner, TensorRecord)
        and inner.kind == "tensor"
        and isinstance(new_type, Global)
        and new_type.qualname == "torch.nn.parameter.Parameter"
    ):
        return replace(inner, kind="parameter")
    return inner


def _rebuild_sparse_tensor(machine: _Machine, args: tuple[object, ...]) -> object:
    if len(args) != 2 or not isinstance(args[1], tuple):
        raise _MalformedError("expected (layout, data)")
    layout, data = args
    if layout == "torch.sparse_coo" and len(data) in (3, 4):
        values, size = data[1], data[2]
    elif len(data) == 4:
        values, size = data[2], data[3]
    else:
        raise _MalformedError(f"unknown sparse layout {_describe(layout)}")
    if not isinstance(values, TensorRecord):
        raise _MalformedError("sparse values are not a tensor")
    return TensorRecord(shape=_shape(size), dtype=values.dtype, kind="sparse", device=values.device)


def _rebuild_nested_tensor(machine: _Machine, args: tuple[object, ...]) -> object:
    buffer = args[0] if args else None
    if not isinstance(buffer, TensorRecord):
        raise _MalformedError("nested buffer is not a tensor")
    return replace(buffer, shape=None, kind="nested")


def _rebuild_from_numpy(machine: _Machine, args: tuple[object, ...]) -> object:
    if len(args) != 4 or not isinstance(args[0], NdArrayRecord):
        raise _MalformedError("expected (ndarray, dtype, device, requires_grad)")
    return TensorRecord(shape=args[0].shape, dtype=_dtype_arg(args[1]), device=_device(args[2]))


def _rebuild_from_cpu_tensor(machine: _Machine, args: tuple[object, ...]) -> object:
    if len(args) != 4 or not isinstance(args[0], TensorRecord):
        raise _MalformedError("expected (tensor, dtype, device, requires_grad)")
    return replace(args[0], dtype=_dtype_arg(args[1]), device=_device(args[2]))


def _rebuild_meta(machine: _Machine, args: tuple[object, ...]) -> object:
    if len(args) != 4:
        raise _MalformedError("expected (dtype, size, stride, requires_grad)")
    return TensorRecord(shape=_shape(args[1]), dtype=_dtype_arg(args[0]), kind="meta", device="meta")


def _rebuild_wrapper_subclass(machine: _Machine, args: tuple[object, ...]) -> object:
    if len(args) != 8:
        raise _MalformedError("expected 8 arguments")
    return TensorRecord(shape=_shape(args[2]), dtype=_dtype_arg(args[1]), device=_device(args[6]))


def _ordered_dict(machine: _Machine, args: tuple[object, ...]) -> object:
    result: dict[object, object] = {}
    source = args[0] if args else None
    if isinstance(source, dict):
        result.update(source)
    elif isinstance(source, (list, tuple)):
        for pair in source:
            if isinstance(pair, (list, tuple)) and len(pair) == 2:
                result[machine.key(pair[0])] = pair[1]
    return result


def _torch_size(machine: _Machine, args: tuple[object, ...]) -> object:
    return _shape(args[0] if args else (), "torch.Size")


def _torch_device(machine: _Machine, args: tuple[object, ...]) -> object:
    if not args or not isinstance(args[0], str):
        raise _MalformedError("device type is not a string")
    if len(args) > 1 and isinstance(args[1], int) and not isinstance(args[1], bool):
        return f"{args[0]}:{args[1]}"
    return args[0]


def _first_str(machine: _Machine, args: tuple[object, ...]) -> object:
    if not args or not isinstance(args[0], str):
        raise _MalformedError("expected a string")
    return args[0]


def _make_set(machine: _Machine, args: tuple[object, ...]) -> object:
    source = args[0] if args else []
    return PickledSet(list(source) if isinstance(source, (list, tuple)) else [])


def _complex(machine: _Machine, args: tuple[object, ...]) -> object:
    parts = [part for part in args if isinstance(part, (int, float)) and not isinstance(part, bool)]
    if len(parts) != len(args) or len(parts) > 2:
        raise _MalformedError("complex parts are not numbers")
    return complex(*parts)


def _to_bytes(machine: _Machine, args: tuple[object, ...]) -> object:
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
    raise _MalformedError("expected bytes or text")


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


def _numpy_scalar(machine: _Machine, args: tuple[object, ...]) -> object:
    if len(args) != 2 or not isinstance(args[0], NumpyDtype):
        raise _MalformedError("expected (dtype, data)")
    dtype, data = args
    descr = dtype.descr.lstrip("<>|=")
    if isinstance(data, bytes) and len(descr) >= 2 and descr[1:].isdigit():
        code = _SCALAR_FORMATS.get((descr[0], int(descr[1:])))
        if code is not None and struct.calcsize(code) == len(data):
            order = ">" if dtype.byteorder == ">" else "<"
            value: object = struct.unpack(order + code, data)[0]
            return value
    return Opaque(f"numpy.{dtype.name}", args)


def _numpy_dtype(machine: _Machine, args: tuple[object, ...]) -> object:
    if not args or not isinstance(args[0], str):
        raise _MalformedError("dtype descr is not a string")
    return NumpyDtype(args[0])


def _numpy_reconstruct(machine: _Machine, args: tuple[object, ...]) -> object:
    return NdArrayRecord()


def _numpy_frombuffer(machine: _Machine, args: tuple[object, ...]) -> object:
    if len(args) != 4 or not isinstance(args[1], NumpyDtype):
        raise _MalformedError("expected (buffer, dtype, shape, order)")
    return NdArrayRecord(shape=_shape(args[2], "shape"), dtype=args[1].name)


def _reconstructor(machine: _Machine, args: tuple[object, ...]) -> object:
    # copyreg._reconstructor(cls, base, state) is protocol 0/1's spelling of cls.__new__.
    if not args:
        raise _MalformedError("no class")
    return machine.instantiate(args[0], args[1:])


_HANDLERS: dict[str, _Handler] = {
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
    **{name: _ordered_dict for name in _DICT_CLASSES},
    **{f"{core}.multiarray.scalar": _numpy_scalar for core in _NUMPY_CORES},
    **{f"{core}.multiarray._reconstruct": _numpy_reconstruct for core in _NUMPY_CORES},
    **{f"{core}.numeric._frombuffer": _numpy_frombuffer for core in _NUMPY_CORES},
}

_SCALAR_KEY_TYPES = (str, bytes, int, float, complex, bool, type(None), Global)


# --- the machine -------------------------------------------------------------------------


class _Machine:
    """One run over one pickle stream; see :func:`run_pickle`."""

    def __init__(
        self,
        where: str,
        member: str | None,
        limits: PickleLimits,
        persistent_load: PersistentLoad | None,
    ) -> None:
        self.where = where
        self.member = member
        self.limits = limits
        self.persistent_load = persistent_load
        self.stack: list[object] = []
        self.marks: list[int] = []
        self.memo: dict[int, object] = {}
        self.items = 0
        self.issues: list[SecurityIssue] = []
        self.warnings: list[str] = []
        self.offset = 0
        self.call_depth = 0

    # -- errors and accounting

    def fail(self, message: str) -> CheckpointError:
        return CheckpointError(f"{self.where}: {message} (pickle offset {self.offset})")

    def warn(self, message: str) -> None:
        if len(self.warnings) < 100:
            self.warnings.append(f"{self.where}: {message} (pickle offset {self.offset})")

    def count_items(self, count: int) -> None:
        self.items += count
        if self.items > self.limits.max_items:
            raise self.fail(
                f"more than {self.limits.max_items:,} container items; refusing a likely pickle bomb"
            )

    def push(self, value: object) -> None:
        self.stack.append(value)
        if len(self.stack) > self.limits.max_stack:
            raise self.fail(f"pickle stack deeper than {self.limits.max_stack:,} entries")

    def pop(self) -> object:
        if not self.stack or (self.marks and len(self.stack) <= self.marks[-1]):
            raise self.fail("malformed pickle: stack underflow")
        return self.stack.pop()

    def top(self) -> object:
        if not self.stack:
            raise self.fail("malformed pickle: empty stack")
        return self.stack[-1]

    def pop_mark(self) -> list[object]:
        if not self.marks:
            raise self.fail("malformed pickle: no MARK on the stack")
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def key(self, value: object) -> object:
        """A dict key that is safe to hash: scalars and shallow tuples of them, else wrapped."""
        if isinstance(value, _SCALAR_KEY_TYPES):
            return value
        if isinstance(value, tuple) and len(value) <= 16:
            if all(isinstance(item, _SCALAR_KEY_TYPES) for item in value):
                return value
        return OpaqueKey(value)

    # -- globals and calls

    def reference(self, module: str, name: str, opcode: str) -> Global:
        module, name = _normalise(module, name)
        allowed = is_allowed_global(module, name)
        if not allowed:
            dangerous = is_dangerous_global(module, name)
            self.issues.append(
                SecurityIssue(
                    global_name=f"{module}.{name}",
                    offset=self.offset,
                    opcode=opcode,
                    member=self.member,
                    dangerous=dangerous,
                    reason="runs commands or code when loaded"
                    if dangerous
                    else "not on the allowlist: loading imports and calls it",
                )
            )
        return Global(module, name, allowed)

    def call(self, func: object, args: object) -> object:
        """What ``func(*args)`` would be, computed symbolically."""
        if isinstance(func, Poisoned):
            return Poisoned(func.origin)
        if not isinstance(func, Global):
            self.warn(f"call on a non-global {_describe(func)}")
            return Opaque("<call>", args)
        if not func.allowed:
            return Poisoned(func.qualname)
        handler = _HANDLERS.get(func.qualname)
        if handler is None:
            return Opaque(func.qualname, args)
        if not isinstance(args, tuple):
            self.warn(f"{func.qualname} called with {_describe(args)} instead of a tuple")
            return Opaque(func.qualname, args)
        if self.call_depth > 8:
            raise self.fail("tensor rebuild calls nested too deeply")
        self.call_depth += 1
        try:
            return handler(self, args)
        except _MalformedError as exc:
            self.warn(f"malformed call to {func.qualname}: {exc}")
            return Opaque(func.qualname, args)
        finally:
            self.call_depth -= 1

    def instantiate(self, cls: object, args: object) -> object:
        """``cls.__new__(cls, *args)`` as NEWOBJ does it."""
        if isinstance(cls, Global) and cls.allowed:
            if cls.qualname in _DICT_CLASSES:
                return {}
            if cls.qualname == "torch.torch_version.TorchVersion":
                return self.call(cls, args)
            return Opaque(cls.qualname, args)
        if isinstance(cls, Global):
            return Poisoned(cls.qualname)
        if isinstance(cls, Poisoned):
            return Poisoned(cls.origin)
        self.warn(f"instantiating a non-class {_describe(cls)}")
        return Opaque("<new>", args)

    def build(self, obj: object, state: object) -> None:
        """BUILD: ``obj.__setstate__(state)`` for the records that care."""
        if isinstance(obj, Opaque):
            obj.state = state
        elif isinstance(obj, NdArrayRecord):
            # ndarray.__setstate__((version, shape, dtype, is_fortran, rawdata))
            if isinstance(state, tuple) and len(state) == 5:
                try:
                    obj.shape = _shape(state[1], "shape")
                except _MalformedError as exc:
                    self.warn(f"malformed ndarray state: {exc}")
                if isinstance(state[2], NumpyDtype):
                    obj.dtype = state[2].name
        elif isinstance(obj, NumpyDtype):
            # dtype.__setstate__((version, byteorder, ...))
            if isinstance(state, tuple) and len(state) >= 2 and isinstance(state[1], str):
                obj.byteorder = state[1]

    # -- the loop

    def run(self, ops: Iterator[tuple[pickletools.OpcodeInfo, object, int | None]]) -> object:
        count = 0
        max_opcodes = self.limits.max_opcodes
        dispatch = _DISPATCH
        try:
            for opcode, arg, position in ops:
                count += 1
                if count > max_opcodes:
                    raise self.fail(f"more than {max_opcodes:,} pickle opcodes")
                self.offset = position or 0
                name = opcode.name
                if name == "STOP":
                    return self.pop()
                handler = dispatch.get(name)
                if handler is not None:
                    handler(self, arg)
                else:
                    # An opcode that only pushes its decoded argument (ints, strings...).
                    self.push(bytes(arg) if isinstance(arg, bytearray) else arg)
        except CheckpointError:
            raise
        except (ValueError, EOFError, OverflowError, UnicodeError) as exc:
            raise self.fail(f"corrupt or truncated pickle: {exc}") from None
        raise self.fail("pickle ended without STOP")


# --- opcode handlers -------------------------------------------------------------------------


def _op_push_none(m: _Machine, arg: object) -> None:
    m.push(None)


def _op_true(m: _Machine, arg: object) -> None:
    m.push(True)


def _op_false(m: _Machine, arg: object) -> None:
    m.push(False)


def _op_ignore(m: _Machine, arg: object) -> None:
    return None


def _op_mark(m: _Machine, arg: object) -> None:
    m.marks.append(len(m.stack))
    if len(m.marks) > m.limits.max_depth:
        raise m.fail(f"MARKs nested deeper than {m.limits.max_depth}")


def _op_pop(m: _Machine, arg: object) -> None:
    if m.marks and len(m.stack) == m.marks[-1]:
        m.marks.pop()  # pickle's POP discards a bare MARK as well
    else:
        m.pop()


def _op_pop_mark(m: _Machine, arg: object) -> None:
    m.pop_mark()


def _op_dup(m: _Machine, arg: object) -> None:
    m.push(m.top())


def _op_get(m: _Machine, arg: object) -> None:
    if not isinstance(arg, int) or arg not in m.memo:
        raise m.fail(f"malformed pickle: memo key {_describe(arg)} was never stored")
    m.push(m.memo[arg])


def _op_put(m: _Machine, arg: object) -> None:
    if not isinstance(arg, int) or arg < 0:
        raise m.fail("malformed pickle: bad memo key")
    if arg not in m.memo and len(m.memo) >= m.limits.max_memo:
        raise m.fail(f"more than {m.limits.max_memo:,} memo entries")
    m.memo[arg] = m.top()


def _op_memoize(m: _Machine, arg: object) -> None:
    _op_put(m, len(m.memo))


def _op_empty_list(m: _Machine, arg: object) -> None:
    m.push([])


def _op_empty_dict(m: _Machine, arg: object) -> None:
    m.push({})


def _op_empty_tuple(m: _Machine, arg: object) -> None:
    m.push(())


def _op_empty_set(m: _Machine, arg: object) -> None:
    m.push(PickledSet())


def _op_tuple_n(size: int) -> Callable[[_Machine, object], None]:
    def handler(m: _Machine, arg: object) -> None:
        items = [m.pop() for _ in range(size)]
        items.reverse()
        m.count_items(size)
        m.push(tuple(items))

    return handler


def _op_tuple(m: _Machine, arg: object) -> None:
    items = m.pop_mark()
    m.count_items(len(items))
    m.push(tuple(items))


def _op_list(m: _Machine, arg: object) -> None:
    items = m.pop_mark()
    m.count_items(len(items))
    m.push(items)


def _op_frozenset(m: _Machine, arg: object) -> None:
    items = m.pop_mark()
    m.count_items(len(items))
    m.push(PickledSet(items))


def _op_dict(m: _Machine, arg: object) -> None:
    items = m.pop_mark()
    m.count_items(len(items))
    m.push({m.key(items[i]): items[i + 1] for i in range(0, len(items) - 1, 2)})


def _extend(m: _Machine, target: object, items: list[object]) -> None:
    m.count_items(len(items))
    if isinstance(target, list):
        target.extend(items)
    elif isinstance(target, PickledSet):
        target.items.extend(items)


def _op_append(m: _Machine, arg: object) -> None:
    value = m.pop()
    _extend(m, m.top(), [value])


def _op_appends(m: _Machine, arg: object) -> None:
    items = m.pop_mark()
    _extend(m, m.top(), items)


def _op_additems(m: _Machine, arg: object) -> None:
    items = m.pop_mark()
    _extend(m, m.top(), items)


def _set_items(m: _Machine, target: object, items: list[object]) -> None:
    m.count_items(len(items))
    if isinstance(target, dict):
        for i in range(0, len(items) - 1, 2):
            target[m.key(items[i])] = items[i + 1]


def _op_setitem(m: _Machine, arg: object) -> None:
    value = m.pop()
    key = m.pop()
    _set_items(m, m.top(), [key, value])


def _op_setitems(m: _Machine, arg: object) -> None:
    items = m.pop_mark()
    _set_items(m, m.top(), items)


def _split_pair(m: _Machine, arg: object) -> tuple[str, str]:
    if not isinstance(arg, str) or " " not in arg:
        raise m.fail("malformed GLOBAL argument")
    module, name = arg.split(" ", 1)
    return module, name


def _op_global(m: _Machine, arg: object) -> None:
    module, name = _split_pair(m, arg)
    m.push(m.reference(module, name, "GLOBAL"))


def _op_stack_global(m: _Machine, arg: object) -> None:
    name = m.pop()
    module = m.pop()
    if isinstance(module, str) and isinstance(name, str):
        m.push(m.reference(module, name, "STACK_GLOBAL"))
        return
    m.issues.append(
        SecurityIssue(
            global_name=f"<computed: {_describe(module)}.{_describe(name)}>",
            offset=m.offset,
            opcode="STACK_GLOBAL",
            member=m.member,
            dangerous=True,
            reason="global name computed at load time",
        )
    )
    m.push(Poisoned("<computed global>"))


def _op_ext(m: _Machine, arg: object) -> None:
    m.issues.append(
        SecurityIssue(
            global_name=f"<copyreg extension {_describe(arg)}>",
            offset=m.offset,
            opcode="EXT",
            member=m.member,
            dangerous=False,
            reason="copyreg extension registry resolves an unknown global",
        )
    )
    m.push(Poisoned("<copyreg extension>"))


def _op_reduce(m: _Machine, arg: object) -> None:
    args = m.pop()
    func = m.pop()
    m.push(m.call(func, args))


def _op_newobj(m: _Machine, arg: object) -> None:
    args = m.pop()
    cls = m.pop()
    m.push(m.instantiate(cls, args))


def _op_newobj_ex(m: _Machine, arg: object) -> None:
    m.pop()  # kwargs
    args = m.pop()
    cls = m.pop()
    m.push(m.instantiate(cls, args))


def _op_inst(m: _Machine, arg: object) -> None:
    module, name = _split_pair(m, arg)
    cls = m.reference(module, name, "INST")
    m.push(m.instantiate(cls, tuple(m.pop_mark())))


def _op_obj(m: _Machine, arg: object) -> None:
    items = m.pop_mark()
    if not items:
        raise m.fail("malformed pickle: OBJ without a class")
    m.push(m.instantiate(items[0], tuple(items[1:])))


def _op_build(m: _Machine, arg: object) -> None:
    state = m.pop()
    m.build(m.top(), state)


def _op_persid(m: _Machine, arg: object) -> None:
    _persistent(m, arg)


def _op_binpersid(m: _Machine, arg: object) -> None:
    _persistent(m, m.pop())


def _persistent(m: _Machine, pid: object) -> None:
    if m.persistent_load is None:
        m.warn("persistent id in a pickle that is not a torch checkpoint")
        m.push(Opaque("<persistent id>", pid))
        return
    try:
        m.push(m.persistent_load(pid))
    except ValueError as exc:
        m.warn(str(exc))
        m.push(Opaque("<persistent id>", pid))


def _op_next_buffer(m: _Machine, arg: object) -> None:
    raise m.fail("pickle needs out-of-band buffers (protocol 5), which a file cannot carry")


_DISPATCH: dict[str, Callable[[_Machine, object], None]] = {
    "PROTO": _op_ignore,
    "FRAME": _op_ignore,
    "READONLY_BUFFER": _op_ignore,
    "NEXT_BUFFER": _op_next_buffer,
    "NONE": _op_push_none,
    "NEWTRUE": _op_true,
    "NEWFALSE": _op_false,
    "MARK": _op_mark,
    "POP": _op_pop,
    "POP_MARK": _op_pop_mark,
    "DUP": _op_dup,
    "GET": _op_get,
    "BINGET": _op_get,
    "LONG_BINGET": _op_get,
    "PUT": _op_put,
    "BINPUT": _op_put,
    "LONG_BINPUT": _op_put,
    "MEMOIZE": _op_memoize,
    "EMPTY_LIST": _op_empty_list,
    "EMPTY_DICT": _op_empty_dict,
    "EMPTY_TUPLE": _op_empty_tuple,
    "EMPTY_SET": _op_empty_set,
    "TUPLE": _op_tuple,
    "TUPLE1": _op_tuple_n(1),
    "TUPLE2": _op_tuple_n(2),
    "TUPLE3": _op_tuple_n(3),
    "LIST": _op_list,
    "DICT": _op_dict,
    "FROZENSET": _op_frozenset,
    "APPEND": _op_append,
    "APPENDS": _op_appends,
    "ADDITEMS": _op_additems,
    "SETITEM": _op_setitem,
    "SETITEMS": _op_setitems,
    "GLOBAL": _op_global,
    "STACK_GLOBAL": _op_stack_global,
    "EXT1": _op_ext,
    "EXT2": _op_ext,
    "EXT4": _op_ext,
    "REDUCE": _op_reduce,
    "NEWOBJ": _op_newobj,
    "NEWOBJ_EX": _op_newobj_ex,
    "INST": _op_inst,
    "OBJ": _op_obj,
    "BUILD": _op_build,
    "PERSID": _op_persid,
    "BINPERSID": _op_binpersid,
}


class _CappedReader:
    """A file view that refuses to hand out more than ``cap`` bytes (for streamed pickles)."""

    def __init__(self, raw: IO[bytes], cap: int, where: str) -> None:
        self.raw = raw
        self.remaining = cap
        self.cap = cap
        self.where = where

    def _take(self, data: bytes) -> bytes:
        self.remaining -= len(data)
        if self.remaining < 0:
            raise CheckpointError(
                f"{self.where}: pickle larger than the {self.cap:,}-byte limit "
                "(raise max_pickle_bytes if the file is trusted to be this big)"
            )
        return data

    def read(self, size: int = -1) -> bytes:
        limit = self.remaining + 1 if size < 0 else min(size, self.remaining + 1)
        return self._take(self.raw.read(limit))

    def readline(self, size: int = -1) -> bytes:
        limit = self.remaining + 1 if size < 0 else min(size, self.remaining + 1)
        return self._take(self.raw.readline(limit))

    def tell(self) -> int:
        return self.raw.tell()


def run_pickle(
    source: bytes | IO[bytes],
    *,
    where: str,
    member: str | None = None,
    limits: PickleLimits = PickleLimits(),
    persistent_load: PersistentLoad | None = None,
    max_bytes: int | None = None,
) -> PickleResult:
    """Interpret one pickle stream symbolically and return its top value and findings.

    ``source`` is either the whole pickle or a binary file positioned at its start (the
    legacy torch format chains several pickles); with a file, ``max_bytes`` caps how much is
    read and the file is left just past the ``STOP`` opcode. ``where`` names the input in
    error messages. Raises :class:`CheckpointError` for corrupt input or an exceeded limit.
    """
    machine = _Machine(where, member, limits, persistent_load)
    stream: bytes | _CappedReader
    if isinstance(source, bytes):
        stream = source
    else:
        stream = _CappedReader(source, max_bytes if max_bytes is not None else 1 << 62, where)
    # genops only needs read/readline/tell, which _CappedReader provides.
    value = machine.run(pickletools.genops(cast("IO[bytes]", stream)))
    return PickleResult(value, tuple(machine.issues), tuple(machine.warnings))
