"""The values the checkpoint readers hand back: one tensor, one security finding, one checkpoint.

Every reader (torch zip, legacy torch pickle, plain pickle, safetensors, npz/npy, Hugging Face
sharded index) produces the same frozen :class:`Checkpoint`, so the key-difference analysis
never needs to know which format a file was in.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, NamedTuple

__all__ = [
    "CheckpointFormat",
    "Layout",
    "MetadataValue",
    "TensorInfo",
    "SecurityIssue",
    "Checkpoint",
    "make_tensor_info",
    "tensor_info_from_fields",
]

CheckpointFormat = Literal["torch-zip", "torch-legacy", "pickle", "safetensors", "npz", "npy", "hf-index"]
"""How the file is stored. ``pickle`` is a plain pickle that is not a torch legacy file."""

Layout = Literal[
    "state_dict",
    "training_dict",
    "lightning",
    "mmengine",
    "ema",
    "hf-sharded-index",
    "unknown",
]
"""Which container the tensors sit in; see :mod:`envdoctor.ckpt.layout` for the rules."""

MetadataValue = str | int | float | bool | None


def _no_containers() -> Mapping[str, tuple[TensorInfo, ...]]:
    return MappingProxyType({})


def _no_metadata() -> Mapping[str, MetadataValue]:
    return MappingProxyType({})


class TensorInfo(NamedTuple):
    """One tensor (or NumPy array) as recorded in a checkpoint, without its data.

    ``shape`` and ``dtype`` are ``None`` only when they cannot be known without a file that
    is absent (a shard named by a Hugging Face index). ``dtype`` uses torch's spelling
    without the ``torch.`` prefix (``"float32"``, ``"bfloat16"``, ``"bool"``); NumPy arrays
    use NumPy's (``"float32"``, ``"<U5"``). The ``storage_*`` fields describe the buffer the
    tensor views: tensors that share ``storage_key`` share memory (tied weights, views).

    A named tuple rather than a dataclass: a 20,000-tensor checkpoint builds 20,000 of them
    (in the sandbox child and again in the parent), and a tuple is built from its fields in
    one C call (``tuple.__new__``), where a frozen dataclass costs a ``__dict__`` each.
    """

    name: str
    shape: tuple[int, ...] | None
    dtype: str | None
    kind: str = "tensor"
    """``tensor``, ``parameter``, ``quantized``, ``sparse``, ``meta`` or ``ndarray``."""
    device: str | None = None
    storage_key: str | None = None
    storage_offset: int | None = None
    storage_numel: int | None = None
    storage_nbytes: int | None = None

    @property
    def numel(self) -> int | None:
        """Number of elements, or ``None`` when the shape is unknown."""
        return None if self.shape is None else math.prod(self.shape)


tensor_info_from_fields: Callable[[Iterable[object]], TensorInfo] = functools.partial(tuple.__new__, TensorInfo)
"""A :class:`TensorInfo` from an iterable of all nine fields in order: one C call, for ``map``."""


def make_tensor_info(
    name: str,
    shape: tuple[int, ...] | None,
    dtype: str | None,
    kind: str,
    device: str | None,
    storage_key: str | None,
    storage_offset: int | None,
    storage_numel: int | None,
    storage_nbytes: int | None,
) -> TensorInfo:
    """A :class:`TensorInfo` from all its fields, positionally (one C call; hot)."""
    return tensor_info_from_fields(
        (name, shape, dtype, kind, device, storage_key, storage_offset, storage_numel, storage_nbytes)
    )


@dataclass(frozen=True)
class SecurityIssue:
    """A reference to code outside the allowlist found in a pickle.

    ``offset`` is the byte offset of the opcode inside the pickle stream named by
    ``member`` (a file inside a zip archive, ``shard:member`` for an index shard, or
    ``None`` when the pickle is the whole file or a legacy file's main pickle).
    """

    global_name: str
    offset: int
    opcode: str
    member: str | None
    dangerous: bool = False
    """True for globals known to run commands or code (``os.system``, ``builtins.exec``...)."""
    reason: str = "not on the allowlist"


@dataclass(frozen=True)
class Checkpoint:
    """The tensor inventory of one checkpoint, read without running any of its code."""

    path: str
    format: CheckpointFormat
    layout: Layout
    tensors: tuple[TensorInfo, ...]
    """The state dict chosen by :func:`envdoctor.ckpt.layout.choose_state_dict`."""
    state_dict_path: str | None = None
    """Dotted path of the chosen state dict inside the top object (``""`` for the top)."""
    containers: Mapping[str, tuple[TensorInfo, ...]] = field(default_factory=_no_containers)
    """Every other group of tensors, keyed by its top-level key (``optimizer``...)."""
    top_level_keys: tuple[str, ...] = ()
    metadata: Mapping[str, MetadataValue] = field(default_factory=_no_metadata)
    security: tuple[SecurityIssue, ...] = ()
    ema: tuple[str, ...] = ()
    """Where EMA weights live: container names, or key prefixes (ending in ``.``) in ``tensors``."""
    shards: tuple[str, ...] = ()
    """Shard files named by a Hugging Face index, in first-use order."""
    warnings: tuple[str, ...] = ()
    """Oddities that did not stop reading (an absent shard, a big-endian archive...)."""

    @property
    def is_safe(self) -> bool:
        """True when no pickle in the file references a global outside the allowlist."""
        return not self.security

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the chosen state dict's tensors, in file order."""
        return tuple(tensor.name for tensor in self.tensors)
