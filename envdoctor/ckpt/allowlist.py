"""Which pickle globals a checkpoint may name without being reported as a security issue.

Nothing here is ever imported or called: the interpreter only compares names. A name is
allowed when loading it with ``torch.load`` could not run code beyond rebuilding tensors and
plain data. The allowlist (module and name after mapping Python 2 names as ``pickle``
does, e.g. ``__builtin__`` -> ``builtins``; dotted names, which are attribute chains, are
never allowed):

* tensor rebuilders: ``torch._utils._rebuild_tensor``, ``_rebuild_tensor_v2``,
  ``_rebuild_tensor_v3``, ``_rebuild_parameter``, ``_rebuild_parameter_with_state``,
  ``_rebuild_qtensor``, ``_rebuild_sparse_tensor``, ``_rebuild_nested_tensor``,
  ``_rebuild_wrapper_subclass``, ``_rebuild_device_tensor_from_cpu_tensor``,
  ``_rebuild_device_tensor_from_numpy``, ``_rebuild_xla_tensor``,
  ``_rebuild_meta_tensor_no_storage``; ``torch._tensor._rebuild_from_type`` and
  ``_rebuild_from_type_v2``;
* storage classes: ``torch.<X>Storage``, ``torch.cuda.<X>Storage``,
  ``torch.storage.UntypedStorage`` (see :data:`envdoctor.ckpt.dtypes.STORAGE_CLASS_DTYPES`);
* torch values: every dtype (``torch.float32``, ``torch.bfloat16``, ``torch.float8_e4m3fn``...),
  ``torch.Size``, ``torch.device``, ``torch.Tensor``, ``torch.nn.parameter.Parameter``,
  ``torch.nn.parameter.Buffer``, ``torch.serialization._get_layout``, the layouts
  (``torch.strided``, ``torch.sparse_coo``, ``sparse_csr``, ``sparse_csc``, ``sparse_bsr``,
  ``sparse_bsc``, ``_mkldnn``, ``jagged``), the quantization schemes
  (``torch.per_tensor_affine``...), the memory formats (``torch.contiguous_format``...) and
  ``torch.torch_version.TorchVersion``;
* containers and builtins: ``collections.OrderedDict``, ``defaultdict``, ``Counter``;
  ``builtins.set``, ``frozenset``, ``slice``, ``complex``, ``bytearray``, ``bytes``,
  ``object``, and the type objects ``dict``, ``list``, ``tuple``, ``int``, ``float``,
  ``str``, ``bool``; ``_codecs.encode``; ``copyreg._reconstructor``;
* NumPy: ``numpy.core.multiarray.scalar`` and ``_reconstruct``, ``numpy.core.numeric._frombuffer``
  (each also under ``numpy._core``), ``numpy.ndarray``, ``numpy.dtype``, ``numpy.dtypes.<X>DType``;
* harmless data classes, kept as opaque objects: ``argparse.Namespace``, ``typing.Any``,
  ``pathlib`` paths, ``datetime.date``/``datetime``/``time``/``timedelta``/``timezone``,
  ``mmengine.logging.history_buffer.HistoryBuffer``, ``mmengine.config.config.ConfigDict``,
  ``addict.addict.Dict``, Lightning's ``AttributeDict`` (``pytorch_lightning.utilities.parsing``,
  ``lightning.pytorch.utilities.parsing``, ``lightning.fabric.utilities.data``,
  ``lightning_fabric.utilities.data``), and OmegaConf's ``DictConfig``, ``ListConfig``,
  ``base.ContainerMetadata``, ``base.Metadata`` and ``nodes.*Node`` value nodes.

``builtins.getattr`` is dangerous in general (``getattr(os, "system")``), but mmengine's
``HistoryBuffer`` pickles its statistics methods as ``getattr(HistoryBuffer, "mean")``;
those exact lookups (:data:`SAFE_GETATTR`) are not reported, any other use of ``getattr``
in the same pickle is.

Every other global is reported. Those known to run commands or code are marked dangerous:
anything in :data:`DANGEROUS_MODULES` (``os``, ``posix``, ``nt``, ``subprocess``, ``sys``,
``runpy``, ``importlib``, ``shutil``, ``socket``, ``pty``, ``webbrowser``, ``functools``,
``operator``, ``pickle``, ``marshal``, ``types``, ``ctypes``...), the builtins in
:data:`DANGEROUS_BUILTINS` (``eval``, ``exec``, ``compile``, ``getattr``, ``__import__``,
``open``...) and the prefixes in :data:`DANGEROUS_PREFIXES` (``torch.load``,
``torch.hub.``, ``torch.jit.``, ``numpy.load``...). Any other unknown class (a pickled
``nn.Module``, a project's own config class) is reported as "not on the allowlist": loading
it imports that module and runs its ``__setstate__``.
"""

from __future__ import annotations

import _compat_pickle
from collections.abc import Mapping
from types import MappingProxyType

from envdoctor.ckpt.dtypes import STORAGE_CLASS_DTYPES, torch_dtype_name
from envdoctor.ckpt.records import Global

__all__ = [
    "DANGEROUS_BUILTINS",
    "DANGEROUS_MODULES",
    "DANGEROUS_PREFIXES",
    "DICT_CLASSES",
    "NUMPY_CORES",
    "OPAQUE_CLASSES",
    "REBUILDERS",
    "is_allowed_global",
    "is_dangerous_global",
    "is_safe_getattr",
    "SAFE_GETATTR",
    "normalise",
]

REBUILDERS = frozenset(
    [
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
    ]
)
"""Names in ``torch._utils`` that rebuild tensors."""

_TORCH_VALUES = frozenset(
    [
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
    ]
)

DICT_CLASSES = frozenset(
    [
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.Counter",
        "pytorch_lightning.utilities.parsing.AttributeDict",
        "lightning.pytorch.utilities.parsing.AttributeDict",
        "lightning.fabric.utilities.data.AttributeDict",
        "lightning_fabric.utilities.data.AttributeDict",
        "mmengine.config.config.ConfigDict",
        "addict.addict.Dict",
    ]
)
"""Mapping classes, rebuilt as plain dicts so their items stay visible."""

OPAQUE_CLASSES = frozenset(
    [
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
    ]
)
"""Classes whose instances are kept as :class:`~envdoctor.ckpt.records.Opaque` objects."""

_OTHER_ALLOWED = frozenset(
    [
        "torch.serialization._get_layout",
        "torch.torch_version.TorchVersion",
        "builtins.set",
        "builtins.frozenset",
        "builtins.complex",
        "builtins.bytearray",
        "builtins.bytes",
        "_codecs.encode",
        "copyreg._reconstructor",
    ]
)

NUMPY_CORES = ("numpy.core", "numpy._core")
_NUMPY_FUNCTIONS = frozenset(
    f"{core}.{suffix}"
    for core in NUMPY_CORES
    for suffix in ("multiarray.scalar", "multiarray._reconstruct", "numeric._frombuffer")
)

DANGEROUS_MODULES = frozenset(
    [
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
    ]
)
"""Top-level modules whose globals can run commands, code, or reach the network or files."""

DANGEROUS_BUILTINS = frozenset(
    [
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
    ]
)

DANGEROUS_PREFIXES = (
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


SAFE_GETATTR: Mapping[str, frozenset[str]] = MappingProxyType(
    {"mmengine.logging.history_buffer.HistoryBuffer": frozenset({"min", "max", "mean", "current"})}
)
"""``getattr(cls, name)`` lookups known to be harmless: class -> attribute names."""


def is_safe_getattr(args: object) -> bool:
    """True for ``getattr`` arguments listed in :data:`SAFE_GETATTR`."""
    if not isinstance(args, tuple) or len(args) != 2:
        return False
    target, name = args
    return (
        isinstance(target, Global)
        and target.allowed
        and isinstance(name, str)
        and name in SAFE_GETATTR.get(target.qualname, ())
    )


def normalise(module: str, name: str) -> tuple[str, str]:
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
        return name in REBUILDERS
    if module == "torch._tensor":
        return name in ("_rebuild_from_type", "_rebuild_from_type_v2")
    if module == "torch" and (name in _TORCH_VALUES or torch_dtype_name(name) is not None):
        return True
    if module == "numpy":
        return name in ("dtype", "ndarray")
    if module == "numpy.dtypes":
        return name.endswith("DType")
    return (
        qualname in STORAGE_CLASS_DTYPES
        or qualname in _NUMPY_FUNCTIONS
        or qualname in DICT_CLASSES
        or qualname in OPAQUE_CLASSES
        or qualname in _OTHER_ALLOWED
    )


def is_dangerous_global(module: str, name: str) -> bool:
    """True for globals known to run commands or arbitrary code when a pickle is loaded."""
    if module.split(".", 1)[0] in DANGEROUS_MODULES:
        return True
    if module == "builtins":
        return name.split(".", 1)[0] in DANGEROUS_BUILTINS
    return f"{module}.{name}".startswith(DANGEROUS_PREFIXES)
