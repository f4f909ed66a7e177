"""Recognise what a checkpoint's top object is and which of its tensor dicts is "the state dict".

A pickle gives back one object: a bare state dict, a training dict (``{"model": ...,
"optimizer": ..., "epoch": ...}``), a Lightning or mmengine checkpoint, or a whole pickled
``nn.Module``. :func:`analyse` chooses the state dict by this documented order:

1. the top object itself, when it is a *tensor dict* (string keys, at least one tensor
   value, no dict values, and tensors at least half of the values);
2. otherwise the first of these top-level keys whose value is a tensor dict or a pickled
   ``nn.Module``: :data:`STATE_DICT_KEYS` (``state_dict``, ``model_state_dict``,
   ``model_state``, ``model``, ``module``, ``net``, ``network``, ``params``, ``weights``),
   looking one level further down the same list when the value is a plain dict
   (``{"model": {"state_dict": ...}}``);
3. otherwise, a pickled ``nn.Module`` as the top object, whose parameters and persistent
   buffers are named as ``Module.state_dict()`` would;
4. otherwise the largest tensor dict anywhere, preferring those outside EMA and optimizer
   containers.

Every tensor outside the chosen dict is reported in ``containers`` under the top-level key
it sits below (``optimizer``, ``state_dict_ema``, ``optimizer_states``...), with names
relative to that key. Before any of this, the object graph is sized once (shared references
counted every time they are reached) so that billion-laughs pickles and absurd nesting are
rejected quickly instead of being walked.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from envdoctor.ckpt.dtypes import TORCH_DTYPE_BITS, storage_nbytes
from envdoctor.ckpt.model import (
    Checkpoint,
    CheckpointFormat,
    Layout,
    MetadataValue,
    SecurityIssue,
    TensorInfo,
    make_tensor_info,
    tensor_info_from_fields,
)
from envdoctor.ckpt.pickle_vm import PickleLimits
from envdoctor.ckpt.records import NdArrayRecord, Opaque, OpaqueKey, PickledSet, StorageRef, TensorRecord
from envdoctor.errors import CheckpointError

__all__ = [
    "STATE_DICT_KEYS",
    "EMA_KEYS",
    "EMA_PREFIXES",
    "Inventory",
    "analyse",
    "check_graph",
    "tensor_info",
    "ema_prefixes",
    "checkpoint_from_object",
]

STATE_DICT_KEYS = (
    "state_dict",
    "model_state_dict",
    "model_state",
    "model",
    "module",
    "net",
    "network",
    "params",
    "weights",
)
"""Top-level keys tried, in this order, when the top object is not itself a state dict."""

EMA_KEYS = frozenset(
    {
        "state_dict_ema",
        "model_ema",
        "ema_state_dict",
        "ema",
        "ema_model",
        "model_ema_state_dict",
        "module_ema",
        "params_ema",
        "ema_params",
        "g_ema",
        "shadow_params",
    }
)
"""Top-level keys that hold an exponential-moving-average copy of the weights."""

EMA_PREFIXES = ("ema.", "model_ema.", "ema_model.", "module_ema.", "ema_")
"""Key prefixes that mark EMA weights stored inside the state dict itself."""
_STARTS_LIKE_EMA = operator.methodcaller("startswith", EMA_PREFIXES)

_OPTIMIZER_KEYS = frozenset({"optimizer", "optimizer_states", "optimizers", "optim", "opt"})
_LIGHTNING_KEYS = frozenset({"optimizer_states", "lr_schedulers", "callbacks", "loops", "hyper_parameters"})
_METADATA_DICTS = ("meta", "hyper_parameters", "hparams", "args", "config", "cfg", "opt")
_MAX_METADATA = 256
_MAX_TEXT = 200

_TensorLike = TensorRecord | NdArrayRecord
_RECORD_TYPES = frozenset({TensorRecord, NdArrayRecord})
_SCALAR_TYPES = (str, int, float, type(None))


@dataclass(frozen=True)
class Inventory:
    """What :func:`analyse` found in a pickled top object."""

    layout: Layout
    tensors: tuple[TensorInfo, ...]
    state_dict_path: str | None
    containers: Mapping[str, tuple[TensorInfo, ...]]
    top_level_keys: tuple[str, ...]
    metadata: Mapping[str, MetadataValue]
    ema: tuple[str, ...]


def tensor_info(name: str, record: TensorRecord | NdArrayRecord) -> TensorInfo:
    """The public :class:`TensorInfo` for a record built by the pickle interpreter."""
    if isinstance(record, NdArrayRecord):
        return TensorInfo(name=name, shape=record.shape, dtype=record.dtype, kind="ndarray")
    storage = record.storage
    if storage is None:
        return make_tensor_info(name, record.shape, record.dtype, record.kind, record.device, None, None, None, None)
    return make_tensor_info(
        name,
        record.shape,
        record.dtype,
        record.kind,
        record.device,
        storage.key,
        record.storage_offset,
        storage.numel,
        storage.nbytes,
    )


_SHAPE = operator.attrgetter("shape")
_DTYPE = operator.attrgetter("dtype")
_KIND = operator.attrgetter("kind")
_DEVICE = operator.attrgetter("device")
_OFFSET = operator.attrgetter("storage_offset")
_STORAGE = operator.attrgetter("storage")
_KEY = operator.attrgetter("key")
_NUMEL = operator.attrgetter("numel")
_BYTES_PER_ELEMENT = MappingProxyType({dtype: bits // 8 for dtype, bits in TORCH_DTYPE_BITS.items() if bits % 8 == 0})


def _nbytes_column(dtypes: list[str], numels: list[int]) -> Iterable[int | None]:
    """``storage_nbytes(dtype, numel)`` for each storage, at C speed where every dtype is whole bytes."""
    if all(map(_BYTES_PER_ELEMENT.__contains__, dtypes)):
        return map(operator.mul, numels, map(_BYTES_PER_ELEMENT.__getitem__, dtypes))
    return map(storage_nbytes, dtypes, numels)


def storage_nbytes_of(storages: Iterable[StorageRef]) -> list[int | None]:
    """Each storage's :attr:`~envdoctor.ckpt.records.StorageRef.nbytes`, in order (one C pass when it can)."""
    storages = list(storages)
    return list(_nbytes_column(list(map(_DTYPE, storages)), list(map(_NUMEL, storages))))


def _infos(names: Iterable[str], records: Iterable[_TensorLike]) -> tuple[TensorInfo, ...]:
    """:func:`tensor_info` for each tensor; without a Python call per tensor when all are plain tensors.

    Hot (once per tensor of a 20,000-tensor state dict, in the sandbox child and in the
    interpreter): when every record is a :class:`TensorRecord` with a :class:`StorageRef`
    (what torch's rebuilders give), the fields are read column by column with C-level
    ``attrgetter`` and ``zip``, giving the records :func:`tensor_info` gives
    (``tests/ckpt/test_fast_paths.py``).
    """
    names = list(names)
    records = list(records)
    if not records or set(map(type, records)) != {TensorRecord}:
        return tuple(map(tensor_info, names, records))
    storages = list(map(_STORAGE, records))
    if set(map(type, storages)) != {StorageRef}:
        return tuple(map(tensor_info, names, records))
    numels = list(map(_NUMEL, storages))
    columns = zip(
        names,
        map(_SHAPE, records),
        map(_DTYPE, records),
        map(_KIND, records),
        map(_DEVICE, records),
        map(_KEY, storages),
        map(_OFFSET, records),
        numels,
        _nbytes_column(list(map(_DTYPE, storages)), numels),
        strict=True,
    )
    return tuple(map(tensor_info_from_fields, columns))


def _children(obj: object) -> Iterator[object]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield key
            yield value
    elif isinstance(obj, (list, tuple)):
        yield from obj
    elif isinstance(obj, PickledSet):
        yield from obj.items
    elif isinstance(obj, Opaque):
        yield obj.args
        yield obj.state
    elif isinstance(obj, OpaqueKey):
        yield obj.value


_NODE_TYPES = (dict, list, tuple, PickledSet, Opaque, OpaqueKey)


def _any_node_type(types: set[type]) -> bool:
    """Whether any of ``types`` is a node of the object graph (a container or an opaque record)."""
    return any(issubclass(kind, _NODE_TYPES) for kind in types)


def _is_node(obj: object) -> bool:
    return isinstance(obj, _NODE_TYPES)


def _child_count(obj: object) -> int:
    if isinstance(obj, dict):
        return 2 * len(obj)
    if isinstance(obj, (list, tuple)):
        return len(obj)
    if isinstance(obj, PickledSet):
        return len(obj.items)
    if isinstance(obj, Opaque):
        return 2
    return 1  # OpaqueKey


def check_graph(root: object, *, where: str, limits: PickleLimits) -> None:
    """Reject object graphs that would explode when walked or nest absurdly deep.

    Computes, once per distinct object, how many items a full walk would visit (shared
    references count each time they are reached, cycles once). Raises
    :class:`CheckpointError` past ``limits.max_items`` or ``limits.max_depth``.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    # (node, None) to open it; (node, its children that are nodes) to finish it.
    work: list[tuple[object, list[object] | None]] = [(root, None)]
    while work:
        obj, kids = work.pop()
        node_id = id(obj)
        if kids is not None:
            open_nodes.discard(node_id)
            # Every child counts 1, a node child its whole size (1 while it is still open).
            total = 1 + _child_count(obj) - len(kids)
            for child in kids:
                total += sizes.get(id(child), 1)
            if total > limits.max_items:
                raise CheckpointError(
                    f"{where}: the pickled object expands to more than {limits.max_items:,} "
                    "items through shared references; refusing a likely pickle bomb"
                )
            sizes[node_id] = total
            continue
        if node_id in sizes or node_id in open_nodes or not isinstance(obj, _NODE_TYPES):
            continue
        open_nodes.add(node_id)
        if len(open_nodes) > limits.max_depth:
            raise CheckpointError(
                f"{where}: objects nested deeper than {limits.max_depth} levels; refusing a likely pickle bomb"
            )
        if isinstance(obj, dict):
            # Most values of a big dict are tensors and its keys strings: told apart at C speed.
            kids = []
            if _any_node_type(set(map(type, obj)) | set(map(type, obj.values()))):
                kids = [child for child in _children(obj) if isinstance(child, _NODE_TYPES)]  # in walk order
        else:
            kids = [child for child in _children(obj) if isinstance(child, _NODE_TYPES)]
        work.append((obj, kids))
        for child in kids:
            if id(child) not in sizes and id(child) not in open_nodes:
                work.append((child, None))


def _int_text(value: int) -> str:
    """``str(value)``, or a short description for integers too long to print (and to convert)."""
    if value.bit_length() > 64:
        return f"<{value.bit_length()}-bit integer>"
    return str(value)


def _key_text(key: object) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return _int_text(key)
    if isinstance(key, (float, bool)) or key is None:
        return str(key)
    if isinstance(key, bytes):
        return key.decode("utf-8", "replace")
    return "<key>"


def _module_state(module: Opaque) -> dict[str, _TensorLike] | None:
    """Parameters and persistent buffers of a pickled ``nn.Module``, named like ``state_dict()``."""
    if not isinstance(module.state, dict) or "_parameters" not in module.state:
        return None
    result: dict[str, _TensorLike] = {}
    seen: set[int] = set()
    work: list[tuple[str, Opaque]] = [("", module)]
    while work:
        prefix, current = work.pop(0)
        if id(current) in seen or not isinstance(current.state, dict):
            continue
        seen.add(id(current))
        state = current.state
        skipped = state.get("_non_persistent_buffers_set")
        non_persistent = (
            {item for item in skipped.items if isinstance(item, str)} if isinstance(skipped, PickledSet) else set()
        )
        for group in ("_parameters", "_buffers"):
            members = state.get(group)
            if not isinstance(members, dict):
                continue
            for name, value in members.items():
                if isinstance(value, (TensorRecord, NdArrayRecord)) and name not in non_persistent:
                    result[prefix + _key_text(name)] = value
        children = state.get("_modules")
        if isinstance(children, dict):
            for name, child in children.items():
                if isinstance(child, Opaque):
                    work.append((f"{prefix}{_key_text(name)}.", child))
    return result


def _tensor_dict(obj: object) -> dict[str, _TensorLike] | None:
    """``obj`` as a name -> tensor mapping when it qualifies as a state dict."""
    if isinstance(obj, Opaque):
        return _module_state(obj)
    if not isinstance(obj, dict) or not obj:
        return None
    if set(map(type, obj)) == {str} and set(map(type, obj.values())) <= _RECORD_TYPES:
        return dict(obj)  # the usual state dict: string keys, nothing but tensors (C speed)
    tensors: dict[str, _TensorLike] = {}
    for key, value in obj.items():
        if not isinstance(key, str) or isinstance(value, dict):
            return None
        if isinstance(value, (TensorRecord, NdArrayRecord)):
            tensors[key] = value
    if not tensors or 2 * len(tensors) < len(obj):
        return None
    return tensors


def _choose(top: object) -> tuple[tuple[object, ...], dict[str, _TensorLike]] | None:
    direct = _tensor_dict(top) if isinstance(top, dict) else None
    if direct is not None:
        return (), direct
    if isinstance(top, dict):
        for key in STATE_DICT_KEYS:
            if key not in top:
                continue
            found = _tensor_dict(top[key])
            if found is not None:
                return (key,), found
            inner = top[key]
            if isinstance(inner, dict):
                for inner_key in STATE_DICT_KEYS:
                    found = _tensor_dict(inner.get(inner_key))
                    if found is not None:
                        return (key, inner_key), found
    if isinstance(top, Opaque):
        module = _module_state(top)
        if module:
            return (), module
    best: tuple[int, tuple[object, ...], dict[str, _TensorLike]] | None = None
    for path, obj in _walk_nodes(top):
        candidate = _tensor_dict(obj) if isinstance(obj, dict) else None
        if candidate is None:
            continue
        avoided = bool(path) and path[0] in EMA_KEYS | _OPTIMIZER_KEYS
        score = len(candidate) - (1 << 40 if avoided else 0)
        if best is None or score > best[0]:
            best = (score, path, candidate)
    return None if best is None else (best[1], best[2])


def _path_children(path: tuple[object, ...], obj: object) -> list[tuple[tuple[object, ...], object]]:
    """The children a walk descends into, each with its path (a pickled module by its state-dict names)."""
    if isinstance(obj, dict):
        return [((*path, key), value) for key, value in obj.items()]
    if isinstance(obj, (list, tuple)):
        return [((*path, index), value) for index, value in enumerate(obj)]
    if isinstance(obj, Opaque):
        module = _module_state(obj)
        if module is not None:
            return [((*path, name), value) for name, value in module.items()]
        return [(path, obj.state)]
    return []


def _walk_nodes(root: object) -> Iterator[tuple[tuple[object, ...], object]]:
    """Every container reachable from ``root`` once, with the path it was first reached by."""
    seen: set[int] = set()
    work: list[tuple[tuple[object, ...], object]] = [((), root)]
    while work:
        path, obj = work.pop()
        if not _is_node(obj) or id(obj) in seen:
            continue
        seen.add(id(obj))
        yield path, obj
        work.extend(reversed(_path_children(path, obj)))


def _walk_tensors(roots: list[tuple[tuple[object, ...], object]]) -> Iterator[tuple[tuple[object, ...], _TensorLike]]:
    seen: set[int] = set()
    work = list(reversed(roots))
    while work:
        path, obj = work.pop()
        if isinstance(obj, (TensorRecord, NdArrayRecord)):
            yield path, obj
            continue
        if not _is_node(obj) or id(obj) in seen:
            continue
        seen.add(id(obj))
        work.extend(reversed(_path_children(path, obj)))


def ema_prefixes(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """EMA key prefixes present among state-dict ``names`` (``model_ema.``...)."""
    found = []
    names = list(filter(_STARTS_LIKE_EMA, names))  # usually none: one pass at C speed
    for prefix in EMA_PREFIXES:
        hits = sum(1 for name in names if name.startswith(prefix))
        # "ema_" alone is a common word start (ema_decay); ask for a few keys.
        if hits >= (2 if prefix == "ema_" else 1):
            found.append(prefix)
    return tuple(found)


def _scalar(value: object) -> tuple[bool, MetadataValue]:
    if isinstance(value, str):
        if len(value) > _MAX_TEXT:
            return True, f"<text: {len(value)} characters>"
        return True, value
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return True, _int_text(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return True, value
    return False, None


def _metadata(top: object) -> dict[str, MetadataValue]:
    metadata: dict[str, MetadataValue] = {}
    if not isinstance(top, dict):
        return metadata
    # A state dict's values are all tensors: its 20,000 items need no look (types at C speed).
    scalars = any(issubclass(kind, _SCALAR_TYPES) for kind in set(map(type, top.values())))
    for key, value in top.items() if scalars else ():
        if len(metadata) >= _MAX_METADATA:
            break
        if not isinstance(value, _SCALAR_TYPES):
            continue  # a tensor or a container (what _scalar refuses), skipped without a call
        ok, scalar = _scalar(value)
        if ok:
            metadata[_key_text(key)] = scalar
    for group in _METADATA_DICTS:
        source = top.get(group)
        if isinstance(source, Opaque) and isinstance(source.state, dict):
            source = source.state  # argparse.Namespace and friends keep their fields here
        if not isinstance(source, dict):
            continue
        for key, value in source.items():
            if len(metadata) >= _MAX_METADATA:
                break
            ok, scalar = _scalar(value)
            if ok:
                metadata[f"{group}.{_key_text(key)}"] = scalar
    return metadata


def _layout(top: object, path: tuple[object, ...] | None, ema: tuple[str, ...]) -> Layout:
    if path is None:
        return "unknown"
    # Only a string equals a string key, so looking the names up in the dict itself is the
    # same test as in the set of its string keys (without building that set).
    keys: dict[object, object] | frozenset[str] = top if isinstance(top, dict) else frozenset()
    if "pytorch-lightning_version" in keys or ("state_dict" in keys and any(key in keys for key in _LIGHTNING_KEYS)):
        return "lightning"
    if "meta" in keys and "state_dict" in keys:
        return "mmengine"
    if ema:
        return "ema"
    if not path:
        return "state_dict"
    return "training_dict"


def analyse(top: object, *, where: str, limits: PickleLimits) -> Inventory:
    """Choose the state dict, group the other tensors, and collect scalar metadata."""
    check_graph(top, where=where, limits=limits)
    chosen = _choose(top)
    tensors: tuple[TensorInfo, ...] = ()
    chosen_path: tuple[object, ...] | None = None
    chosen_ids: set[int] = set()
    if chosen is not None:
        chosen_path, mapping = chosen
        tensors = _infos(mapping.keys(), mapping.values())

    grouped: dict[str, list[TensorInfo]] = {}
    roots: list[tuple[tuple[object, ...], object]] = [((), top)]
    if chosen is not None and chosen_path == () and isinstance(top, dict) and len(chosen[1]) == len(top):
        roots = []  # the top object is the state dict and holds nothing but its tensors
    elif chosen is not None:
        chosen_ids = {id(record) for record in chosen[1].values()}
        if chosen_path == () and isinstance(top, dict):
            # The top object is the state dict: walk only what is not one of its tensors.
            roots = [((key,), value) for key, value in top.items() if id(value) not in chosen_ids]
    for path, record in _walk_tensors(roots):
        if id(record) in chosen_ids and chosen_path is not None and path[: len(chosen_path)] == chosen_path:
            continue
        group = _key_text(path[0]) if path else ""
        name = ".".join(_key_text(part) for part in path[1:])
        grouped.setdefault(group, []).append(_infos((name,), (record,))[0])
    containers = MappingProxyType({group: tuple(infos) for group, infos in grouped.items()})

    ema = tuple(group for group in containers if group in EMA_KEYS)
    ema += ema_prefixes(list(chosen[1]) if chosen is not None else [])
    top_keys: tuple[str, ...] = ()
    if isinstance(top, dict):
        all_text = set(map(type, top)) == {str}
        top_keys = tuple(top) if all_text else tuple(_key_text(key) for key in top)
    return Inventory(
        layout=_layout(top, chosen_path, ema),
        tensors=tensors,
        state_dict_path=None if chosen_path is None else ".".join(_key_text(part) for part in chosen_path),
        containers=containers,
        top_level_keys=top_keys,
        metadata=MappingProxyType(_metadata(top)),
        ema=ema,
    )


def checkpoint_from_object(
    path: str,
    fmt: CheckpointFormat,
    top: object,
    *,
    limits: PickleLimits,
    security: tuple[SecurityIssue, ...],
    warnings: tuple[str, ...],
    extra_metadata: Mapping[str, MetadataValue] | None = None,
) -> Checkpoint:
    """Assemble the public :class:`Checkpoint` for a pickled top object."""
    inventory = analyse(top, where=path, limits=limits)
    metadata = dict(inventory.metadata)
    metadata.update(extra_metadata or {})
    return Checkpoint(
        path=path,
        format=fmt,
        layout=inventory.layout,
        tensors=inventory.tensors,
        state_dict_path=inventory.state_dict_path,
        containers=inventory.containers,
        top_level_keys=inventory.top_level_keys,
        metadata=MappingProxyType(metadata),
        security=security,
        ema=inventory.ema,
        warnings=warnings,
    )
