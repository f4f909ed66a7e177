"""Find regexes whose ``search`` can take time quadratic in the line they search.

Python's ``re`` backtracks. A search tries every start position; when a pattern can start
with an unbounded repeat (``\\w+ requires``, ``.*\\(core dumped\\)``, ``[A-Za-z][\\w.-]*==``),
each start inside a long run of the repeated characters scans the rest of the run before it
fails, so a 16 KB line of such characters costs ~10^8 steps. The cure keeps what the pattern
matches: start it where a run starts (``(?<![\\w.-])[A-Za-z][\\w.-]*``; a leftmost match
never starts inside a run, since the repeat could take one more character) or anchor it
(``^.*\\(core dumped\\)``). :func:`quadratic_start` says which shape a pattern has, read
from its parse tree; :mod:`envdoctor.kb.lint` reports it for every knowledge pattern.
"""

from __future__ import annotations

import importlib
import re
import string
from typing import Any

__all__ = ["quadratic_start"]

_parser: Any
_compiler: Any
_constants: Any
try:  # the regex parser and compiler are private but stable (re._parser since Python 3.11)
    _parser = importlib.import_module("re._parser")
    _compiler = importlib.import_module("re._compiler")
    _constants = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - another layout: no verdict
    _parser = _compiler = _constants = None

#: Characters a run in a log line is likely made of; two elements overlap when one of these
#: matches both.
_SAMPLES = string.ascii_letters + string.digits + string.punctuation + " \t" + "éß€…"


def quadratic_start(pattern: re.Pattern[str]) -> str | None:
    """Why ``pattern.search`` can be quadratic in the line, or ``None`` when its start is safe."""
    if _parser is None:
        return None
    try:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
    except Exception:
        return None
    return _start(list(parsed), parsed.state, pattern.flags)


def _unbounded(op: Any, arg: Any) -> bool:
    return op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT) and arg[1] is _constants.MAXREPEAT


def _chars(item: tuple[Any, Any], state: Any, flags: int) -> set[str]:
    """The sample characters one single-character element matches."""
    try:
        compiled = _compiler.compile(_parser.SubPattern(state, [item]), flags)
    except Exception:
        return set()
    return {char for char in _SAMPLES if compiled.fullmatch(char)}


_SINGLE = ("LITERAL", "NOT_LITERAL", "IN", "ANY", "CATEGORY")


def _single(op: Any) -> bool:
    return any(op is getattr(_constants, name, None) for name in _SINGLE)


def _run_chars(sub: list[tuple[Any, Any]], state: Any, flags: int) -> set[str]:
    """Every sample character some single-character element inside ``sub`` matches."""
    found: set[str] = set()
    for op, arg in sub:
        if _single(op):
            found |= _chars((op, arg), state, flags)
        elif op is _constants.SUBPATTERN:
            found |= _run_chars(list(arg[3]), state, flags)
        elif op is _constants.BRANCH:
            for branch in arg[1]:
                found |= _run_chars(list(branch), state, flags)
        elif op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT):
            found |= _run_chars(list(arg[2]), state, flags)
    return found


def _start(items: list[tuple[Any, Any]], state: Any, flags: int) -> str | None:
    """Why a search of ``items`` can be quadratic, or ``None``."""
    found = _run(items, state, flags)
    return None if found is None else found[0]


def _run(items: list[tuple[Any, Any]], state: Any, flags: int) -> tuple[str, set[str]] | None:
    """``(why, the characters of the run each start may scan)`` for a quadratic start, else ``None``."""
    if not items:
        return None
    op, arg = items[0]
    if op is _constants.AT:
        return None  # anchored: one start per line (or per word boundary)
    if op is _constants.ASSERT_NOT and arg[0] == -1 and len(arg[1]) == 1 and _single(arg[1][0][0]):
        # (?<![C]) starts only where a run of C starts; enough when the run is made of C.
        found = _run(items[1:], state, flags)
        if found is None or found[1] <= _chars(arg[1][0], state, flags):
            return None
        return f"{found[0]}, of characters its lookbehind allows before a start", found[1]
    if op in (_constants.ASSERT, _constants.ASSERT_NOT):
        return None  # another lookaround at the start: guarded on purpose
    if op is _constants.SUBPATTERN:
        return _run([*arg[3], *items[1:]], state, flags)
    if op is _constants.BRANCH:
        for branch in arg[1]:
            found = _run([*branch, *items[1:]], state, flags)
            if found is not None:
                return found
        return None
    if _unbounded(op, arg):
        return "it can start with an unbounded repeat", _run_chars(list(arg[2]), state, flags)
    if op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT):
        low, _high, sub = arg
        found = _run([*sub, *items[1:]], state, flags)
        if found is None and low == 0:
            found = _run(items[1:], state, flags)
        return found
    if _single(op) and len(items) > 1:
        next_op, next_arg = items[1]
        if _unbounded(next_op, next_arg) and len(next_arg[2]) == 1 and _single(next_arg[2][0][0]):
            run = _chars(next_arg[2][0], state, flags)
            if _chars((op, arg), state, flags) & run:
                return "it can start with one character and an unbounded repeat of it", run
    return None
