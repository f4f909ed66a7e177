"""Run the fast engine in a forked child under memory and time limits, and bring back plain JSON.

:func:`spawn` forks; the child sets an address-space limit, turns on
:mod:`envdoctor.ckpt.fast_engine` and runs its work (for :func:`read_clean_in_child`: the
ordinary readers on the whole file). If the work is plainly clean it writes plain JSON data
to a pipe and exits 0; on anything else (a finding, an unreadable file, a crash, the time
limit) :meth:`Child.reply` gives ``None`` and the caller reads the file again with the
symbolic interpreter, which gives the findings and the error messages. The parent only ever
parses JSON from the child, never a pickle, and may do other work while the child runs
(:func:`envdoctor.ckpt.archive.read_zip_parallel`). Tensors cross the pipe as one JSON array
per field (runs of one value for the repetitive fields, each distinct shape once) and are
rebuilt without a Python call per tensor. Only on Linux: elsewhere (no ``fork`` or a fork
that is unsafe) the interpreter alone is used, and only the speed differs.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import operator
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from envdoctor.ckpt.model import Checkpoint, TensorInfo, tensor_info_from_fields

__all__ = [
    "SANDBOX_MEMORY_BYTES",
    "SANDBOX_SECONDS",
    "Child",
    "checkpoint_from_reply",
    "checkpoint_to_json",
    "clean_reply",
    "read_clean_in_child",
    "spawn",
]

SANDBOX_MEMORY_BYTES = 448 * 1024 * 1024
"""Address space the child may add on top of what the parent had mapped when it forked."""
SANDBOX_SECONDS = 6.0
"""The child's time limit; past it the parent kills it and uses the interpreter."""
_MAX_REPLY = 512 * 1024 * 1024
_ENCODER = json.JSONEncoder(allow_nan=True, check_circular=False, separators=(",", ":"))

_TENSOR_FIELDS = (
    "name",
    "shape",
    "dtype",
    "kind",
    "device",
    "storage_key",
    "storage_offset",
    "storage_numel",
    "storage_nbytes",
)
assert TensorInfo._fields == _TENSOR_FIELDS


_REPEATING = frozenset({"dtype", "kind", "device", "storage_offset", "storage_numel", "storage_nbytes"})
"""Columns that are mostly runs of one value: sent as ``[[value, count], ...]``."""
_NAME = operator.itemgetter(0)


def _runs(column: tuple[Any, ...]) -> list[list[Any]]:
    first = column[0]
    if type(first) in (str, int) and column.count(first) == len(column):
        return [[first, len(column)]]  # one value throughout (the usual dtype, kind, device...)
    return [[value, sum(1 for _ in group)] for value, group in itertools.groupby(column)]


def _shape_table(shapes: tuple[tuple[int, ...] | None, ...]) -> list[Any]:
    """Shapes as ``[distinct shapes, index of each tensor's]``: a model repeats a few dozen shapes."""
    distinct = list(dict.fromkeys(shapes))
    position = {shape: index for index, shape in enumerate(distinct)}
    return [distinct, list(map(position.__getitem__, shapes))]


def _tensor_columns(tensors: tuple[TensorInfo, ...]) -> list[Any]:
    """The tensors as one JSON array per field (runs for the repetitive ones, a table for shapes)."""
    if not tensors:
        return [[] for _ in _TENSOR_FIELDS]
    columns = list(zip(*tensors, strict=True))
    encoded: list[Any] = [
        _runs(column) if field in _REPEATING else column for field, column in zip(_TENSOR_FIELDS, columns, strict=True)
    ]
    encoded[1] = _shape_table(columns[1])
    return encoded


def _tensors(columns: list[Any]) -> tuple[TensorInfo, ...]:
    """Inverse of :func:`_tensor_columns`; builds the records without a Python call per tensor."""
    if not isinstance(columns, list) or len(columns) != len(_TENSOR_FIELDS):
        raise ValueError("malformed tensor columns")
    count = len(columns[0])
    expanded: list[list[Any]] = []
    for field, column in zip(_TENSOR_FIELDS, columns, strict=True):
        if field == "shape" and count:
            distinct, indexes = column
            if not set(map(type, indexes)) <= {int} or (indexes and min(indexes) < 0):
                raise ValueError("malformed shape index")
            table = [None if shape is None else tuple(shape) for shape in distinct]
            column = list(map(table.__getitem__, indexes))  # IndexError (malformed) is refused too
        elif field in _REPEATING:
            values: list[Any] = []
            for value, length in column:
                if type(length) is not int or not 0 <= length <= count - len(values):
                    raise ValueError("malformed run length")
                values += [value] * length
            column = values
        if len(column) != count:
            raise ValueError("tensor columns of different lengths")
        expanded.append(column)
    return tuple(map(tensor_info_from_fields, zip(*expanded, strict=True)))


def _names_are_keys(checkpoint: Checkpoint) -> bool:
    keys = checkpoint.top_level_keys
    return len(keys) == len(checkpoint.tensors) and list(keys) == list(map(_NAME, checkpoint.tensors))


def checkpoint_to_json(checkpoint: Checkpoint) -> dict[str, Any]:
    """A clean checkpoint as plain JSON data (no findings: only clean ones cross the pipe)."""
    return {
        "path": checkpoint.path,
        "format": checkpoint.format,
        "layout": checkpoint.layout,
        "tensors": _tensor_columns(checkpoint.tensors),
        "state_dict_path": checkpoint.state_dict_path,
        "containers": {k: _tensor_columns(v) for k, v in checkpoint.containers.items()},
        # A bare state dict's top-level keys are its tensor names: not sent twice.
        "top_level_keys": None if _names_are_keys(checkpoint) else list(checkpoint.top_level_keys),
        "metadata": [[k, v] for k, v in checkpoint.metadata.items()],
        "ema": list(checkpoint.ema),
        "shards": list(checkpoint.shards),
        "warnings": list(checkpoint.warnings),
    }


def _checkpoint_from_json(data: dict[str, Any]) -> Checkpoint:
    return Checkpoint(
        path=data["path"],
        format=data["format"],
        layout=data["layout"],
        tensors=_tensors(data["tensors"]),
        state_dict_path=data["state_dict_path"],
        containers=MappingProxyType({k: _tensors(v) for k, v in data["containers"].items()}),
        top_level_keys=tuple(data["tensors"][0] if data["top_level_keys"] is None else data["top_level_keys"]),
        metadata=MappingProxyType({k: v for k, v in data["metadata"]}),
        security=(),
        ema=tuple(data["ema"]),
        shards=tuple(data["shards"]),
        warnings=tuple(data["warnings"]),
    )


def _available() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def _child(write_fd: int, work: Callable[[], dict[str, Any] | None]) -> None:
    """Runs in the forked child; never returns."""
    status = 10
    try:
        import resource

        from envdoctor.ckpt.fast_engine import ENABLED

        signal.signal(signal.SIGINT, signal.SIG_DFL)
        # Nothing the child prints is meant for the user: CPython writes "SystemError:
        # deallocated bytearray object has exported buffers" when a hostile length makes a
        # bytearray allocation fail (the refusal itself goes through the exit status).
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        os.close(quiet)
        # The child lives for one read and then exits: the cyclic collector would only
        # rescan the tens of thousands of records it builds, again and again.
        gc.disable()
        with open("/proc/self/statm", "rb") as handle:
            mapped = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = mapped + SANDBOX_MEMORY_BYTES
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        ENABLED.append(True)
        reply = work()
        if reply is not None:
            payload = _ENCODER.encode(reply).encode("utf-8")
            view = memoryview(payload)
            while view:
                written = os.write(write_fd, view[: 1 << 20])
                view = view[written:]
            # The parent sees the end of the reply now, not after the kernel has torn down
            # this process's memory (tens of milliseconds for a big read).
            os.close(write_fd)
            status = 0
    except BaseException:
        status = 10
    os._exit(status)


class Child:
    """A sandboxed child at work; :meth:`reply` waits for its JSON reply, :meth:`cancel` ends it.

    Whoever spawns a child calls :meth:`cancel` when done with it (it reaps the process).
    """

    def __init__(self, pid: int, read_fd: int) -> None:
        self.pid = pid
        self.read_fd = read_fd
        self.deadline = time.monotonic() + SANDBOX_SECONDS
        self.done = False
        self.reaped = False

    def reply(self) -> Any:
        """The child's decoded reply, or ``None`` (refused, crashed, too slow, too big, not JSON).

        The child closes its end of the pipe once the whole reply is written, and only then
        (on success) exits: the reply is complete exactly when it parses as one JSON object,
        since no proper prefix of a JSON object does. So the reply is used as soon as the
        pipe ends, while the kernel may still be tearing the child down; :meth:`cancel`
        reaps it afterwards.
        """
        if self.done:
            return None
        chunks: list[bytes] = []
        size = 0
        finished = False
        try:
            while True:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    break
                ready, _, _ = select.select([self.read_fd], [], [], left)
                if not ready:
                    break
                chunk = os.read(self.read_fd, 1 << 20)
                if not chunk:
                    finished = True
                    break
                size += len(chunk)
                if size > _MAX_REPLY:
                    break
                chunks.append(chunk)
        finally:
            self._stop_reading()
            if not finished:
                self._reap()
        if not finished or not chunks or chunks[0][:1] != b"{":
            return None
        enabled = gc.isenabled()
        gc.disable()  # thousands of small lists (shapes): no collection passes while they are built
        try:
            data = json.loads(b"".join(chunks))
        except ValueError:
            return None
        finally:
            if enabled:
                gc.enable()
        return data if isinstance(data, dict) else None

    def cancel(self) -> None:
        """End the child if it still runs (its work is no longer wanted) and reap it."""
        self._stop_reading()
        self._reap()

    def _stop_reading(self) -> None:
        if not self.done:
            self.done = True
            os.close(self.read_fd)

    def _reap(self) -> None:
        """Kill the child (harmless once it has exited) and wait for it, once."""
        if self.reaped:
            return
        self.reaped = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def spawn(work: Callable[[], dict[str, Any] | None]) -> Child | None:
    """Start ``work()`` in a sandboxed child with the fast engine; ``None`` where there is no sandbox.

    ``work`` returns plain JSON data (only ever parsed as JSON here) or ``None`` to refuse.
    """
    if not _available():
        return None
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # pragma: no cover - the child
        os.close(read_fd)
        _child(write_fd, work)
    os.close(write_fd)
    return Child(pid, read_fd)


def clean_reply(checkpoint: Checkpoint) -> dict[str, Any] | None:
    """What a child sends for a checkpoint: its JSON when plainly clean, else ``None``."""
    return None if checkpoint.security else checkpoint_to_json(checkpoint)


def checkpoint_from_reply(data: Any) -> Checkpoint | None:
    """The checkpoint a child sent (see :func:`clean_reply`), or ``None`` if malformed."""
    enabled = gc.isenabled()
    gc.disable()  # building 20,000 records would otherwise trigger dozens of collections
    try:
        return _checkpoint_from_json(data)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None
    finally:
        if enabled:
            gc.enable()


def read_clean_in_child(read: Callable[[], Checkpoint]) -> Checkpoint | None:
    """``read()`` run in a sandboxed child with the fast engine; ``None`` unless plainly clean."""
    child = spawn(lambda: clean_reply(read()))
    if child is None:
        return None
    try:
        data = child.reply()
        return None if data is None else checkpoint_from_reply(data)
    finally:
        child.cancel()
