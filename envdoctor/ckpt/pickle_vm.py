"""A pickle-opcode interpreter that reads checkpoints without resolving a single global.

``pickle.Unpickler`` imports every ``GLOBAL`` it meets and calls what ``REDUCE`` names, so a
checkpoint can run any code at load time. This module walks the opcodes itself (through
:func:`pickletools.genops`) and models the stack, the memo and the marks; a global is only
ever a symbolic :class:`~envdoctor.ckpt.records.Global`. Calls on globals in
:mod:`envdoctor.ckpt.allowlist` build records (:mod:`envdoctor.ckpt.rebuild`); calls on
anything else yield a :class:`~envdoctor.ckpt.records.Poisoned` placeholder, and the opcode
that named the global is reported as a :class:`~envdoctor.ckpt.model.SecurityIssue` while
reading carries on, so the whole inventory is still known. :class:`PickleLimits` bounds
opcodes, memo entries, stack size, MARK nesting and container items; exceeding one raises
:class:`~envdoctor.errors.CheckpointError` (time and memory stay bounded on pickle bombs).
"""

from __future__ import annotations

import pickletools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, cast

from envdoctor.ckpt.allowlist import (
    DICT_CLASSES,
    is_allowed_global,
    is_dangerous_global,
    is_safe_getattr,
    normalise,
)
from envdoctor.ckpt.failure import PickleFailure
from envdoctor.ckpt.fast_engine import ENABLED as FAST_ENGINE_ON
from envdoctor.ckpt.fast_engine import fast_load
from envdoctor.ckpt.model import SecurityIssue
from envdoctor.ckpt.rebuild import HANDLERS, MalformedCallError, as_shape
from envdoctor.ckpt.records import (
    Global,
    NdArrayRecord,
    NumpyDtype,
    Opaque,
    OpaqueKey,
    PickledSet,
    Poisoned,
    describe,
    symbol_of,
)
from envdoctor.ckpt.verdict import call_problem, dunder_keys
from envdoctor.errors import CheckpointError

__all__ = [
    "CappedReader",
    "PickleFailure",
    "PickleLimits",
    "PickleResult",
    "PersistentLoad",
    "run_pickle",
]


_SCALAR_KEY_TYPES = (str, bytes, int, float, complex, bool, type(None), Global)


@dataclass(frozen=True)
class PickleLimits:
    """Bounds on one pickle's interpretation; each guards time or memory against bombs."""

    max_opcodes: int = 5_000_000
    """About 160,000 tensors' worth (a 20,000-tensor state dict is 640,000 opcodes)."""
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
        self.deferred: dict[int, tuple[Global, SecurityIssue]] = {}
        self.deferred_safe: set[int] = set()
        self.opname = ""

    # -- errors and accounting

    def fail(self, message: str, *, limit: bool = False) -> CheckpointError:
        return PickleFailure(f"{self.where}: {message} (pickle offset {self.offset})", limit=limit)

    def unsafe(self, what: str, reason: str) -> None:
        """Report an unsafe step at the current opcode (a call, BUILD or instantiation)."""
        self.issues.append(
            SecurityIssue(
                global_name=what,
                offset=self.offset,
                opcode=self.opname,
                member=self.member,
                dangerous=True,
                reason=reason,
            )
        )

    def warn(self, message: str) -> None:
        if len(self.warnings) < 100:
            self.warnings.append(f"{self.where}: {message} (pickle offset {self.offset})")

    def count_items(self, count: int) -> None:
        self.items += count
        if self.items > self.limits.max_items:
            raise self.fail(
                f"more than {self.limits.max_items:,} container items; refusing a likely pickle bomb", limit=True
            )

    def push(self, value: object) -> None:
        self.stack.append(value)
        if len(self.stack) > self.limits.max_stack:
            raise self.fail(f"pickle stack deeper than {self.limits.max_stack:,} entries", limit=True)

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
        if isinstance(value, tuple) and len(value) <= 16 and all(isinstance(item, _SCALAR_KEY_TYPES) for item in value):
            return value
        return OpaqueKey(value)

    # -- globals and calls

    def reference(self, module: str, name: str, opcode: str) -> Global:
        module, name = normalise(module, name)
        allowed = is_allowed_global(module, name)
        symbol = Global(module, name, allowed)
        if allowed:
            return symbol
        dangerous = is_dangerous_global(module, name)
        issue = SecurityIssue(
            global_name=f"{module}.{name}",
            offset=self.offset,
            opcode=opcode,
            member=self.member,
            dangerous=dangerous,
            reason="runs commands or code when loaded"
            if dangerous
            else "not on the allowlist: loading imports and calls it",
        )
        if symbol.qualname == "builtins.getattr":
            # Reported only if some call is not a known-harmless lookup (see SAFE_GETATTR);
            # every way a pickle can invoke it goes through call().
            self.deferred[id(symbol)] = (symbol, issue)
        else:
            self.issues.append(issue)
        return symbol

    def is_deferred(self, value: object) -> bool:
        return id(value) in self.deferred and self.deferred[id(value)][0] is value

    def report_deferred(self, value: object) -> None:
        symbol, issue = self.deferred.pop(id(value))
        self.issues.append(issue)
        self.deferred_safe.discard(id(symbol))

    def finish(self, value: object) -> None:
        """Report deferred globals never used harmlessly, or kept as a value in the result."""
        for key, (_, issue) in list(self.deferred.items()):
            if key not in self.deferred_safe:
                self.issues.append(issue)
                del self.deferred[key]
        if self.deferred and _reaches(value, set(self.deferred)):
            # builtins.getattr itself stored in the result (not just a lookup's result):
            # whoever later calls that value gets a free getattr.
            self.issues.extend(issue for _, issue in self.deferred.values())
        self.deferred.clear()
        self.issues.sort(key=lambda issue: issue.offset)

    def call(self, target: object, args: object) -> object:
        """What ``target(*args)`` would be, computed symbolically."""
        if isinstance(target, Poisoned):
            return Poisoned(target.cls, args)
        func = symbol_of(target)
        if func is None:
            self.unsafe(
                f"<call of {describe(target)}>",
                "calls a value that is not an allowlisted global (something the pickle built or looked up)",
            )
            return Poisoned("<call>", args)
        if self.is_deferred(func):
            if is_safe_getattr(args):
                self.deferred_safe.add(id(func))
                return Opaque(f"getattr{describe(args)}")
            self.report_deferred(func)
            return Poisoned(func.qualname, args)
        if not func.allowed:
            return Poisoned(func.qualname, args)
        problem = call_problem(func, args)
        if problem is not None:
            self.unsafe(f"<{func.qualname} call: {problem}>", "not a plain data constructor call")
            return Poisoned(func.qualname, args)
        handler = HANDLERS.get(func.qualname)
        if handler is None:
            return Opaque(func.qualname, args)
        if not isinstance(args, tuple):
            self.warn(f"{func.qualname} called with {describe(args)} instead of a tuple")
            return Opaque(func.qualname, args)
        if self.call_depth > 8:
            raise self.fail("tensor rebuild calls nested too deeply", limit=True)
        self.call_depth += 1
        try:
            return handler(self, args)
        except MalformedCallError as exc:
            self.warn(f"malformed call to {func.qualname}: {exc}")
            return Opaque(func.qualname, args)
        finally:
            self.call_depth -= 1

    def instantiate(self, target: object, args: object) -> object:
        """``cls.__new__(cls, *args)`` as NEWOBJ does it."""
        cls = symbol_of(target)
        if cls is not None and self.is_deferred(cls):
            self.report_deferred(cls)
            return Poisoned(cls.qualname, args)
        if cls is not None and cls.allowed:
            if cls.qualname in DICT_CLASSES:
                return {}
            if cls.qualname == "torch.torch_version.TorchVersion":
                return self.call(cls, args)
            return Opaque(cls.qualname, args)
        if cls is not None:
            return Poisoned(cls.qualname, args)
        if isinstance(target, Poisoned):
            return Poisoned(target.cls, args)
        self.unsafe(
            f"<instantiate {describe(target)}>",
            "creates an object from a value that is not an allowlisted class (calls it)",
        )
        return Poisoned("<new>", args)

    def build(self, obj: object, state: object) -> None:
        """BUILD: ``obj.__setstate__(state)`` for the records that care."""
        symbol = symbol_of(obj)
        if symbol is not None:
            self.unsafe(
                f"<BUILD on {symbol.qualname}>",
                "sets attributes on a class or module-level object: every later use of it runs what the pickle set",
            )
            return
        dunders = dunder_keys(state)
        if dunders:
            self.unsafe(
                f"<BUILD sets {', '.join(dunders[:3])} on {describe(obj)}>",
                "sets a special attribute, which changes what the object does",
            )
        if isinstance(obj, Opaque):
            obj.state = state
        elif isinstance(obj, NdArrayRecord):
            # ndarray.__setstate__((version, shape, dtype, is_fortran, rawdata))
            if isinstance(state, tuple) and len(state) == 5:
                try:
                    obj.shape = as_shape(state[1], "shape")
                except MalformedCallError as exc:
                    self.warn(f"malformed ndarray state: {exc}")
                if isinstance(state[2], NumpyDtype):
                    obj.dtype = state[2].name
        elif isinstance(obj, NumpyDtype) and isinstance(state, tuple) and len(state) >= 2 and isinstance(state[1], str):
            # dtype.__setstate__((version, byteorder, ...))
            obj.byteorder = state[1]

    def frame_crossed(self, offset: int) -> None:
        """An opcode runs past the end of its FRAME: loaders disagree on the bytes that follow.

        ``pickle.loads`` reads on; the C unpickler over a file without ``peek`` (torch reads
        ``data.pkl`` through ``io.BytesIO``) drops the rest of the frame and reads on after
        it. A pickler never writes this; it is how a file shows one set of globals to a
        scanner and another to torch.
        """
        saved = self.offset
        self.offset = offset
        self.unsafe(
            "<opcode across a FRAME end>",
            "loaders read different bytes from here on (a parser-differential trick)",
        )
        self.offset = saved

    # -- the loop

    def run(self, ops: Iterator[tuple[pickletools.OpcodeInfo, object, int | None]]) -> object:
        count = 0
        max_opcodes = self.limits.max_opcodes
        dispatch = _DISPATCH
        previous: int | None = None
        frame_end: int | None = None
        crossed = False
        try:
            for opcode, arg, position in ops:
                count += 1
                if count > max_opcodes:
                    raise self.fail(f"more than {max_opcodes:,} pickle opcodes", limit=True)
                self.offset = here = position or 0
                name = self.opname = opcode.name
                if frame_end is not None:
                    if previous is not None and previous < frame_end < here and not crossed:
                        crossed = True
                        self.frame_crossed(previous)
                    if here >= frame_end:
                        frame_end = None
                if name == "FRAME" and isinstance(arg, int):
                    end = here + 9 + arg
                    if frame_end is not None and end > frame_end and not crossed:
                        crossed = True
                        self.frame_crossed(here)
                    frame_end = end
                previous = here
                if name == "STOP":
                    return self.pop()
                handler = dispatch.get(name)
                if handler is not None:
                    handler(self, arg)
                else:
                    # An opcode that only pushes its decoded argument (ints, strings...).
                    self.push(bytes(arg) if isinstance(arg, bytearray) else arg)
        except PickleFailure as exc:
            raise PickleFailure(str(exc), tuple(self.issues), limit=exc.limit) from None
        except CheckpointError as exc:  # CappedReader's size limit
            raise PickleFailure(str(exc), tuple(self.issues), limit=True) from None
        except (MemoryError, RecursionError) as exc:
            raise PickleFailure(
                f"{self.where}: {type(exc).__name__} (pickle offset {self.offset})", tuple(self.issues), limit=True
            ) from None
        except (ValueError, EOFError, OverflowError, UnicodeError) as exc:
            if isinstance(exc, UnicodeDecodeError) and exc.encoding == "ascii" and _importable(exc.object):
                # pickletools reads GLOBAL/INST names as ASCII; pickle.load decodes them as UTF-8
                # and imports them. Such a name is not "corrupt": it is a global outside the
                # allowlist (a protocol-0 STRING holding a dotted identifier is judged the same).
                self.issues.append(
                    SecurityIssue(
                        global_name=f"<non-ASCII name {bytes(exc.object)[:80].decode('utf-8', 'replace')!r}>",
                        offset=self.offset,
                        opcode="GLOBAL",
                        member=self.member,
                        dangerous=True,
                        reason="a global name that is not ASCII: pickle.load decodes it as UTF-8 and imports it",
                    )
                )
            raise PickleFailure(
                f"{self.where}: corrupt or truncated pickle: {str(exc)[:200]} (pickle offset {self.offset})",
                tuple(self.issues),
            ) from None
        raise PickleFailure(f"{self.where}: pickle ended without STOP", tuple(self.issues))


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
        raise m.fail(f"MARKs nested deeper than {m.limits.max_depth}", limit=True)


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
        raise m.fail(f"malformed pickle: memo key {describe(arg)} was never stored")
    m.push(m.memo[arg])


def _op_put(m: _Machine, arg: object) -> None:
    if not isinstance(arg, int) or arg < 0:
        raise m.fail("malformed pickle: bad memo key")
    if arg not in m.memo and len(m.memo) >= m.limits.max_memo:
        raise m.fail(f"more than {m.limits.max_memo:,} memo entries", limit=True)
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


def _op_extend(m: _Machine, arg: object) -> None:
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


def _importable(raw: object) -> bool:
    """Whether bytes pickle would decode (UTF-8) into a dotted name ``import`` accepts."""
    try:
        text = bytes(raw).decode("utf-8")  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False
    return bool(text) and all(part.isidentifier() for part in text.split("."))


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
            global_name=f"<computed: {describe(module)}.{describe(name)}>",
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
            global_name=f"<copyreg extension {describe(arg)}>",
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
    args = tuple(m.pop_mark())
    # pickle's INST/OBJ call a non-class directly (klass(*args)).
    m.push(m.call(cls, args) if m.is_deferred(cls) else m.instantiate(cls, args))


def _op_obj(m: _Machine, arg: object) -> None:
    items = m.pop_mark()
    if not items:
        raise m.fail("malformed pickle: OBJ without a class")
    cls, args = items[0], tuple(items[1:])
    m.push(m.call(cls, args) if m.is_deferred(cls) else m.instantiate(cls, args))


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
    "APPENDS": _op_extend,
    "ADDITEMS": _op_extend,
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


def _reaches(root: object, targets: set[int]) -> bool:
    """True when an object whose id is in ``targets`` is reachable from ``root``."""
    seen: set[int] = set()
    work = [root]
    while work:
        obj = work.pop()
        if id(obj) in targets:
            return True
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, dict):
            work.extend(obj.keys())
            work.extend(obj.values())
        elif isinstance(obj, (list, tuple)):
            work.extend(obj)
        elif isinstance(obj, PickledSet):
            work.extend(obj.items)
        elif isinstance(obj, Opaque):
            work.append(obj.args)
            work.append(obj.state)
        elif isinstance(obj, OpaqueKey):
            work.append(obj.value)
    return False


class CappedReader:
    """A file view that refuses to hand out more than ``cap`` bytes in all.

    The legacy torch format chains several pickles in one file; sharing one reader across
    them makes ``max_pickle_bytes`` a bound on all of them together.
    """

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

    def peek(self, size: int = 0) -> bytes:
        """Look ahead without consuming (lets the C unpickler read in chunks); capped like read."""
        peek = getattr(self.raw, "peek", None)
        data: bytes = peek(size) if peek is not None else b""
        return data[: self.remaining + 1]

    def tell(self) -> int:
        return self.raw.tell()


def run_pickle(
    source: bytes | IO[bytes] | CappedReader,
    *,
    where: str,
    member: str | None = None,
    limits: PickleLimits | None = None,
    persistent_load: PersistentLoad | None = None,
    max_bytes: int | None = None,
    as_bytesio: bool = False,
) -> PickleResult:
    """Interpret one pickle stream symbolically and return its top value and findings.

    ``source`` is either the whole pickle or a binary file positioned at its start (the
    legacy torch format chains several pickles); with a file, ``max_bytes`` caps how much is
    read and the file is left just past the ``STOP`` opcode. ``where`` names the input in
    error messages; ``as_bytesio`` says the loader reads these bytes through ``io.BytesIO``
    (torch's ``data.pkl``), which matters to the fast engine only.
    Raises :class:`CheckpointError` for corrupt input or an exceeded limit.
    """
    stream: bytes | CappedReader
    if isinstance(source, (bytes, CappedReader)):
        stream = source
    else:
        stream = CappedReader(source, max_bytes if max_bytes is not None else 1 << 62, where)
    if FAST_ENGINE_ON:
        # Inside the sandbox child: the C unpickler over stand-ins, or FastPathRefused.
        value, issues, warnings = fast_load(cast("IO[bytes]", stream), persistent_load, as_bytesio=as_bytesio)
        return PickleResult(value, issues, warnings)
    machine = _Machine(where, member, limits or PickleLimits(), persistent_load)
    # genops only needs read/readline/tell, which CappedReader provides.
    value = machine.run(pickletools.genops(cast("IO[bytes]", stream)))
    machine.finish(value)
    return PickleResult(value, tuple(machine.issues), tuple(machine.warnings))
