"""A fast proof that a pickle is clean: CPython's C unpickler over stand-ins, in a child process.

The symbolic interpreter in :mod:`envdoctor.ckpt.pickle_vm` is the authority on what a
pickle would do, but it walks opcodes in Python (about 0.5 s per 600,000 opcodes, the size
of a 20,000-tensor state dict). This engine lets the real ``_pickle.Unpickler`` walk them
instead, with every global replaced by a *stand-in* class that never imports anything:
``find_class`` answers only for allowlisted names, calls and ``NEWOBJ`` on a stand-in go
to the same handlers (:mod:`envdoctor.ckpt.rebuild`) and the same rules
(:mod:`envdoctor.ckpt.verdict`) as the interpreter, and ``BUILD`` on a stand-in class is
refused. The engine never reports a finding: at the first thing that is not plainly clean
(a global off the allowlist, a call of anything but a stand-in, BUILD on a class, a
dunder in state, a malformed argument, any error) it raises :class:`FastPathRefused` and
the caller re-reads the file with the interpreter, which gives the findings, offsets and
messages. The C unpickler can be crashed or made to allocate without bound by hostile
input (hashing a 10-million-deep tuple overflows the C stack; a memo index near 2**32
sizes an array to it), so it only ever runs in a forked child under memory and time limits
(:mod:`envdoctor.ckpt.sandbox`); a crash there just means "use the interpreter".

Why it is no weaker than the interpreter. The C unpickler calls nothing of its own accord:
it calls what ``find_class`` returns (``REDUCE``, ``NEWOBJ``, ``NEWOBJ_EX``, ``OBJ``,
``INST``), ``persistent_load``, and ``__setstate__`` / ``__setitem__`` / ``append`` /
``extend`` / ``add`` of the objects on its stack (``BUILD``, ``SETITEM(S)``, ``APPEND(S)``,
``ADDITEMS``). Every value on that stack is a builtin scalar or container the unpickler made
itself, a stand-in class, or a record of :mod:`envdoctor.ckpt.records` that a handler built;
so every callable it can reach is one of ours: a stand-in's metaclass ``__call__`` (to the
handler or :meth:`_Context.call`, which checks the global and the arguments with the
interpreter's rules; for torch's tensor rebuilders, whose arguments no rule restricts, a
C-level ``functools.partial`` of the handler itself), ``_StandIn.__new__``
(:meth:`_Context.instantiate`), the dict stand-in (:class:`_PickledDict`: ``dict.__new__``
and a C ``__init__`` that takes no argument), a record's ``__setstate__`` (the ``BUILD``
hook, which refuses dunder state and ``BUILD`` on anything but the records the interpreter
gives state to), the reader's ``persistent_load`` (which only builds a
:class:`~envdoctor.ckpt.records.StorageRef`), or the C methods of builtin containers.
Anything unusual (an argument tuple the handler does not expect, ``OrderedDict(pairs)``, a
class used as a value where a rule applies, a ``FRAME`` that may change what a loader reads)
raises, which sends the whole file to the interpreter. So the engine answers "clean" only
where the interpreter would too, with the same inventory (``tests/ckpt/test_fast_paths.py``
and the differential fuzzer check both).

What a pickle does depends on how its loader reads it only when a ``FRAME`` opcode runs
(:func:`frame_possible`); where none can, one run over one in-memory buffer (the fastest
way) stands for ``pickle.load`` on a file and ``torch.load``'s ``io.BytesIO`` read alike.
"""

from __future__ import annotations

import functools
import io
import pickle
import re
from collections.abc import Callable
from typing import IO

from envdoctor.ckpt.allowlist import DICT_CLASSES, is_allowed_global, normalise
from envdoctor.ckpt.dtypes import STORAGE_CLASS_DTYPES
from envdoctor.ckpt.failure import PickleFailure
from envdoctor.ckpt.model import SecurityIssue
from envdoctor.ckpt.rebuild import HANDLERS, SPREAD_HANDLERS, MalformedCallError
from envdoctor.ckpt.records import (
    BUILD_HOOKS,
    Global,
    NdArrayRecord,
    NumpyDtype,
    Opaque,
    symbol_of,
)
from envdoctor.ckpt.verdict import call_problem, call_problem_free, dunder_keys

__all__ = ["FastPathRefused", "ENABLED", "fast_load", "fast_load_stream", "frame_possible"]

ENABLED: list[bool] = []
"""Non-empty (``[True]``) only inside the sandbox child: :func:`run_pickle` then uses this engine."""


class FastPathRefused(Exception):
    """The pickle is not plainly clean (or not plainly readable): use the interpreter."""


class _Context:
    """The :class:`~envdoctor.ckpt.rebuild.CallContext` the handlers call back into."""

    def __init__(self) -> None:
        self.depth = 0

    def call(self, func: object, args: object) -> object:
        symbol = symbol_of(func)
        if symbol is None or not symbol.allowed:
            raise FastPathRefused("call of something other than an allowlisted global")
        if not isinstance(args, tuple):
            raise FastPathRefused("call arguments are not a tuple")
        if call_problem(symbol, args) is not None:
            raise FastPathRefused("allowlisted call with unsafe arguments")
        handler = HANDLERS.get(symbol.qualname)
        if handler is None:
            return Opaque(symbol.qualname, args)
        if self.depth > 8:
            raise FastPathRefused("rebuild calls nested too deeply")
        self.depth += 1
        try:
            return handler(self, args)
        except MalformedCallError:
            raise FastPathRefused("malformed rebuild call") from None
        finally:
            self.depth -= 1

    def caller(self, symbol: Global) -> Callable[[tuple[object, ...]], object]:
        """The function a call of the stand-in for ``symbol`` goes to (with the argument tuple)."""
        handler = HANDLERS.get(symbol.qualname)
        if handler is not None and call_problem_free(symbol.qualname):
            # No argument rule applies to this global (hence not a container constructor nor
            # anything that takes a class: no handler of these calls back into the context):
            # straight to its handler. MalformedCallError, like any error, refuses the fast path.
            return functools.partial(handler, self)
        return functools.partial(self.call, symbol)

    def instantiate(self, cls: object, args: object) -> object:
        symbol = symbol_of(cls)
        if symbol is None or not symbol.allowed:
            raise FastPathRefused("instantiation of something other than an allowlisted class")
        if symbol.qualname == "torch.torch_version.TorchVersion":
            return self.call(cls, args)
        return Opaque(symbol.qualname, args)

    def key(self, value: object) -> object:
        return value

    def build(self, obj: object, state: object) -> None:
        # The same effect as the interpreter's _Machine.build on the records that care.
        if dunder_keys(state):
            raise FastPathRefused("BUILD sets a dunder attribute")
        if isinstance(obj, Opaque):
            obj.state = state
        elif isinstance(obj, _PickledDict):
            pass  # OrderedDict state (torch's ``_metadata``): the interpreter keeps none either
        elif isinstance(obj, NdArrayRecord):
            if not (isinstance(state, tuple) and len(state) == 5):
                raise FastPathRefused("unexpected ndarray state")
            shape = state[1]
            if not isinstance(shape, tuple) or not all(
                isinstance(dim, int) and not isinstance(dim, bool) for dim in shape
            ):
                raise FastPathRefused("malformed ndarray shape")
            obj.shape = shape
            if isinstance(state[2], NumpyDtype):
                obj.dtype = state[2].name
        elif isinstance(obj, NumpyDtype):
            if isinstance(state, tuple) and len(state) >= 2 and isinstance(state[1], str):
                obj.byteorder = state[1]
        else:
            raise FastPathRefused("BUILD on a record that takes no state")


class _PickledDict(dict):  # type: ignore[type-arg]
    """The stand-in for ``OrderedDict`` and the other dict classes: a dict type of our own.

    ``OrderedDict()`` runs once per tensor (every tensor's empty ``backward_hooks``), so the
    call is C only: ``dict.__new__`` ignores arguments (as ``NEWOBJ`` of the real class does,
    and as the interpreter does), and ``__init__`` is the ``clear`` method of an empty dict
    of our own, a C function that returns ``None`` and refuses any argument:
    ``OrderedDict(pairs)`` is left to the interpreter, whose rules check what the pairs are.
    A state dict is an ``OrderedDict`` with a ``_metadata`` attribute, so its pickle ends
    with ``BUILD``: that goes to the engine's hook, which refuses dunder names and otherwise
    keeps nothing, as the interpreter does. ``BUILD`` on the class itself finds this method
    unbound and fails, which refuses the fast path too.
    """

    __slots__ = ()
    __init__ = staticmethod({}.clear)  # C: () -> None; any argument -> TypeError (refused)

    def __setstate__(self, state: object) -> None:
        if not BUILD_HOOKS:
            raise TypeError("BUILD on a symbolic dict outside the fast engine")
        BUILD_HOOKS[-1](self, state)


class _DictStandInMeta(type):
    """The type of the dict-class stand-ins: no attribute of the class can be set or deleted."""

    def __setattr__(cls, name: str, value: object) -> None:
        raise FastPathRefused("attribute set on a class")

    def __delattr__(cls, name: str) -> None:
        raise FastPathRefused("attribute deleted from a class")


class _StandInMeta(type):
    """The type of every stand-in: calling one is the symbolic call, never an import."""

    _envdoctor_symbol: Global
    _envdoctor_context: _Context
    _envdoctor_call: Callable[[tuple[object, ...]], object]

    def __call__(cls, *args: object, **kwargs: object) -> object:
        if kwargs:
            raise FastPathRefused("keyword call")
        # One call per tensor lands here: the handler was chosen when the global was found.
        # Every stand-in class sets _envdoctor_call in its own namespace; no class can be
        # given attributes afterwards (__setattr__ below), so the cached lookup is the same.
        return cls._envdoctor_call(args)

    def __setstate__(cls, state: object) -> None:
        raise FastPathRefused("BUILD on a class")

    def __setattr__(cls, name: str, value: object) -> None:
        raise FastPathRefused("attribute set on a class")

    def __delattr__(cls, name: str) -> None:
        raise FastPathRefused("attribute deleted from a class")


class _StandIn(metaclass=_StandInMeta):
    def __new__(cls, *args: object, **kwargs: object) -> object:  # type: ignore[misc]  # NEWOBJ / NEWOBJ_EX
        if kwargs:
            raise FastPathRefused("NEWOBJ_EX with keyword arguments")
        context: _Context = cls.__dict__["_envdoctor_context"]
        return context.instantiate(cls, args)


class _Unpickler(pickle.Unpickler):
    def __init__(
        self,
        file: IO[bytes],
        context: _Context,
        persistent: Callable[[object], object] | None,
        record: bool,
    ) -> None:
        super().__init__(file)
        self.context = context
        self.persistent = persistent
        self.stand_ins: dict[tuple[str, str], type] = {}
        self.events: list[object] = []
        self.record = record
        # The C unpickler calls this attribute for every persistent id (once per tensor): the
        # reader's own function unless the ids must be recorded. Any error it raises
        # (ValueError for a malformed id) refuses the fast path, like every other error.
        self.persistent_load = (  # type: ignore[method-assign]  # the C unpickler's own attribute
            self.recording_persistent_load if record or persistent is None else persistent
        )

    def find_class(self, module: str, name: str) -> type:
        if self.record:
            self.events.append((module, name))
        module, name = normalise(module, name)
        if not is_allowed_global(module, name):
            raise FastPathRefused("global off the allowlist")
        stand_in = self.stand_ins.get((module, name))
        if stand_in is None and f"{module}.{name}" in DICT_CLASSES:
            namespace: dict[str, object] = {"_envdoctor_symbol": Global(module, name, True), "__slots__": ()}
            stand_in = _DictStandInMeta(f"{module}.{name}", (_PickledDict,), namespace)
            self.stand_ins[(module, name)] = stand_in
        if stand_in is None:
            symbol = Global(module, name, True)
            namespace = {
                "_envdoctor_symbol": symbol,
                "_envdoctor_context": self.context,
                "_envdoctor_call": self.context.caller(symbol),
                "__slots__": (),
            }
            storage_dtype = STORAGE_CLASS_DTYPES.get(symbol.qualname)
            if storage_dtype is not None:
                namespace["_envdoctor_storage"] = (symbol.qualname, storage_dtype)
            meta: type[_StandInMeta] = _StandInMeta
            spread = SPREAD_HANDLERS.get(symbol.qualname)
            if spread is not None and call_problem_free(symbol.qualname):
                # A metaclass of its own whose __call__ is a C-level partial of the handler:
                # calling the stand-in (once per tensor) runs no Python but the handler.
                call = staticmethod(functools.partial(spread, self.context))
                meta = type(f"{module}.{name} (type)", (_StandInMeta,), {"__call__": call})
            stand_in = meta(f"{module}.{name}", (_StandIn,), namespace)
            self.stand_ins[(module, name)] = stand_in
        return stand_in

    def recording_persistent_load(self, pid: object) -> object:
        if self.persistent is None:
            raise FastPathRefused("persistent id outside a torch checkpoint")
        key = pid[2] if isinstance(pid, tuple) and len(pid) > 2 and isinstance(pid[2], str) else None
        self.events.append(("persistent id", key))
        try:
            return self.persistent(pid)
        except ValueError:
            raise FastPathRefused("malformed persistent id") from None


def frame_possible(window: bytes, remaining: int) -> bool:
    """True when some byte of ``window`` could be a ``FRAME`` opcode the unpickler can execute.

    ``FRAME`` is the byte ``0x95`` followed by an 8-byte little-endian length; the C
    unpickler runs it whatever the protocol, and fails (as every loader does) when the length
    runs past the end of the input. ``remaining`` is how many bytes follow ``window[0]`` in
    the input the loader reads (the member, or the rest of the file). Without such a byte,
    no ``FRAME`` executes, so every way of reading the bytes (``pickle.loads``, a buffered
    file, ``io.BytesIO``) resolves and calls exactly the same things. Bytes ``0x95`` inside
    arguments (a memo index, a string) are counted too: a false alarm only costs speed.
    """
    # A length that fits the input has its high bytes zero: let the regex skip the rest.
    needed = max(1, min(8, (max(remaining, 0).bit_length() + 7) // 8))
    pattern = _FRAME_PATTERNS[needed]
    for match in pattern.finditer(window):
        start = match.start()
        length = int.from_bytes(window[start + 1 : start + 9], "little")
        if start + 9 + length <= remaining:
            return True
    return False


_FRAME_PATTERNS = {
    width: re.compile(b"\\x95(?=[\\x00-\\xff]{%d}" % width + b"\\x00" * (8 - width) + b")") for width in range(1, 9)
}


def fast_load(
    source: bytes | IO[bytes],
    persistent_load: Callable[[object], object] | None,
    *,
    as_bytesio: bool = False,
) -> tuple[object, tuple[SecurityIssue, ...], tuple[str, ...]]:
    """Unpickle ``source`` over stand-ins: ``(value, (), ())`` or :class:`FastPathRefused`.

    ``source`` is the whole pickle or a file positioned at its start (left just past STOP);
    ``as_bytesio`` reads bytes the way ``torch.load`` reads ``data.pkl`` (``io.BytesIO``).
    """
    # The C unpickler reads a file with peek() in big chunks (buffered files: torch.load on
    # a path, np.load) or one read() per need (io.BytesIO: how torch.load reads data.pkl).
    # The two read different bytes only when an opcode runs past the end of a FRAME, so a
    # pickle in which no FRAME can execute is loaded once, from one buffer (the fastest
    # way: io.BytesIO costs a read() call per opcode); otherwise each pickle is loaded the
    # way its loader reads it. The interpreter reports any opcode across a FRAME end.
    if isinstance(source, bytes):
        if as_bytesio and frame_possible(source, len(source)):
            stream: IO[bytes] = io.BytesIO(source)
        else:
            stream = io.BufferedReader(io.BytesIO(source), max(len(source), 1))
        value, _ = _load(stream, persistent_load)
        return value, (), ()
    # A file (legacy torch, plain pickles, .npy): torch.load / pickle.load / np.load read it
    # buffered from a path, or through io.BytesIO from memory. When a FRAME can execute in
    # the pickle, it is loaded both ways (again, recording what each resolves) and both must
    # resolve the same things.
    start = source.tell()
    value, _ = _load(source, persistent_load)
    end = source.tell()
    raw = getattr(source, "raw", source)
    if not hasattr(raw, "seek"):
        raise FastPathRefused("cannot re-read the stream")
    raw.seek(0, io.SEEK_END)
    total = raw.tell()
    raw.seek(start)
    window = raw.read(end - start + (1 << 16))
    if frame_possible(window[: end - start], total - start):
        raw.seek(start)
        _, events = _load(raw, persistent_load, record=True)  # the same buffered read, recorded
        if raw.tell() != end:
            raise FastPathRefused("the pickle read differently the second time")
        try:
            _, other = _load(io.BytesIO(window), persistent_load, record=True)
        except PickleFailure:
            other = None  # ran past the window: it reads something else than the buffered run
        if other != events:
            raise FastPathRefused("loaders read this pickle differently (FRAME)")
    raw.seek(end)
    return value, (), ()


def fast_load_stream(stream: IO[bytes], persistent_load: Callable[[object], object] | None) -> object:
    """One run over ``stream`` as it reads (left just past ``STOP``); the caller rules out FRAME."""
    value, _ = _load(stream, persistent_load)
    return value


def _load(
    stream: IO[bytes], persistent_load: Callable[[object], object] | None, *, record: bool = False
) -> tuple[object, list[object]]:
    """One C-unpickler run over stand-ins: the value and (``record``) what it resolved, in order."""
    context = _Context()
    unpickler = _Unpickler(stream, context, persistent_load, record)
    BUILD_HOOKS.append(context.build)
    try:
        value = unpickler.load()
    except FastPathRefused:
        raise
    except (pickle.UnpicklingError, EOFError) as exc:
        # A structural error of the stream itself (bad opcode, truncation, stack underflow):
        # the real loader stops at the same byte, and every step before it was clean.
        raise PickleFailure(f"corrupt or truncated pickle: {str(exc)[:200]}") from None
    except Exception as exc:  # anything else: the interpreter decides and explains
        raise FastPathRefused(f"{type(exc).__name__}") from None
    finally:
        BUILD_HOOKS.pop()
    return value, unpickler.events
