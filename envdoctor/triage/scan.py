"""Find, then read: one pass over a log's raw bytes picks the regions that can hold a symptom.

A training log is mostly progress bars and loss lines. Instead of normalising and matching
every line in Python, :class:`Prefilter` runs one multi-literal search over the raw bytes
(RE2's DFA where ``google-re2`` is installed, Python's ``re`` otherwise) for *anchors*:
literals one of which every knowledge pattern's match must contain (read from the compiled
patterns, :func:`envdoctor.triage.symptoms.required_literals`), the literals of the
load-report parsers (:mod:`envdoctor.triage.reports`) and of tracebacks. A literal of 16
characters or more is searched as its two halves as well, so a terminal that wrapped the line
inside the literal still leaves one half whole.

:func:`scan_regions` streams the input in chunks (bounded memory: a chunk, the context
kept before it, and the regions found) and yields each region - the lines around anchor hits,
:data:`BEFORE` lines before and :data:`AFTER` after, merged when they touch - with its first
line number. :func:`read_log_regions` turns them into the same :class:`LogText` that
:func:`envdoctor.triage.logs.normalize` gives for the whole text, restricted to those lines,
with the original line numbers: the rest of triage is unchanged, and so are its findings (a
test proves it on every fixture).
"""

from __future__ import annotations

import functools
import importlib
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import IO, Any, Protocol, cast

from envdoctor.errors import BadInputError, require_regular_file
from envdoctor.kb.loader import KnowledgeBase, load_knowledge
from envdoctor.triage.logs import LogLine, LogText, normalize
from envdoctor.triage.symptoms import required_literals

__all__ = [
    "AFTER",
    "BEFORE",
    "CHUNK",
    "MAX_LINE",
    "Prefilter",
    "Region",
    "anchors_for",
    "prefilter_for",
    "read_log_regions",
    "scan_regions",
]

#: Lines kept before an anchor hit (a traceback's frames, a report's header lines).
BEFORE = 60
#: Lines kept after an anchor hit (a key list wrapped by a terminal, a LOAD REPORT table).
AFTER = 2000
#: Bytes read at a time.
CHUNK = 8 * 1024 * 1024
#: A longer line is cut to this many bytes before it is read (a 100 MB line of garbage).
MAX_LINE = 1024 * 1024
#: Literals searched in every log besides the knowledge's: tracebacks and exception lines.
_BUILTIN_ANCHORS = ("Traceback (most recent call last)", "Error", "Exception", "error:", "Killed", "Segmentation fault")
_MIN_ANCHOR = 3
_SPLIT_AT = 16


class ByteReader(Protocol):
    """Anything with ``read(size) -> bytes`` (a binary file, a pipe, standard input's buffer)."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Region:
    """Consecutive lines of the log (``first`` is the 1-based number of the first)."""

    first: int
    lines: tuple[bytes, ...]


def _report_patterns() -> Iterable[re.Pattern[str]]:
    reports = importlib.import_module("envdoctor.triage.reports")
    return [value for value in vars(reports).values() if isinstance(value, re.Pattern)]


def anchors_for(knowledge: KnowledgeBase) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """Case-sensitive anchors, lower-cased case-insensitive anchors, and entries with none.

    An entry listed last has a pattern no literal anchors: the prefilter cannot see it, so
    :func:`prefilter_for` refuses to run (and the lint test keeps the list empty).
    """
    sensitive: set[str] = set(_BUILTIN_ANCHORS)
    folded: set[str] = set()
    unanchored: list[str] = []
    for entry in knowledge.entries:
        for pattern in entry.patterns:
            literals = required_literals(pattern)
            if not literals or any(len(lit) < _MIN_ANCHOR for lit in literals):
                unanchored.append(entry.id)
                continue
            (folded if pattern.flags & re.IGNORECASE else sensitive).update(literals)
    for pattern in _report_patterns():
        literals = required_literals(pattern)
        if literals and all(len(lit) >= _MIN_ANCHOR for lit in literals):
            (folded if pattern.flags & re.IGNORECASE else sensitive).update(literals)
    return frozenset(sensitive), frozenset(folded), tuple(dict.fromkeys(unanchored))


def _with_halves(literals: Iterable[str]) -> set[str]:
    out = set()
    for literal in literals:
        out.add(literal)
        if len(literal) >= _SPLIT_AT:
            middle = len(literal) // 2
            out.update((literal[:middle], literal[middle:]))
    return out


class Prefilter:
    """One multi-literal search over bytes: RE2 when installed, else Python's ``re``."""

    def __init__(self, sensitive: Iterable[str], folded: Iterable[str]) -> None:
        parts = [re.escape(s.encode()) for s in sorted(_with_halves(sensitive), key=len, reverse=True)]
        parts += [b"(?i:" + re.escape(s.encode()) + b")" for s in sorted(_with_halves(folded), key=len, reverse=True)]
        pattern = b"|".join(parts)
        self.engine = "re"
        self._search: Callable[[bytes, int], Any]
        try:
            re2 = importlib.import_module("re2")
            options = re2.Options()
            options.max_mem = 64 << 20
            compiled = re2.compile(pattern, options)
            self.engine = "re2"
        except (ImportError, Exception):  # no wheel for this platform, or a pattern RE2 refuses
            compiled = re.compile(pattern)
        self._search = compiled.search

    def first_hit(self, data: bytes, start: int = 0) -> int:
        """Offset of the first anchor at or after ``start``; -1 if none."""
        match = self._search(data, start)
        return -1 if match is None else int(match.start())


@functools.lru_cache(maxsize=4)
def _prefilter(root: Any) -> Prefilter:
    knowledge = load_knowledge(root)
    sensitive, folded, unanchored = anchors_for(knowledge)
    if unanchored:
        raise BadInputError(f"knowledge entries without an anchor literal cannot be prefiltered: {unanchored}")
    return Prefilter(sensitive, folded)


def prefilter_for(knowledge: KnowledgeBase | None = None) -> Prefilter:
    """The prefilter of a knowledge base (built once per knowledge root)."""
    return _prefilter((knowledge or load_knowledge()).root)


def _hit_lines(block: bytes, prefilter: Prefilter) -> list[int]:
    """0-based indexes of the lines of ``block`` holding an anchor."""
    hits: list[int] = []
    position = prefilter.first_hit(block)
    line = 0
    counted_to = 0
    while position >= 0:
        line += block.count(b"\n", counted_to, position)
        counted_to = position
        hits.append(line)
        end = block.find(b"\n", position)
        if end < 0:
            break
        line += 1
        counted_to = end + 1
        position = prefilter.first_hit(block, end + 1)
    return hits


def _chunks(stream: ByteReader, chunk: int) -> Iterator[bytes]:
    while True:
        data = stream.read(chunk)
        if not data:
            return
        yield data


def scan_regions(
    stream: ByteReader,
    prefilter: Prefilter,
    *,
    before: int = BEFORE,
    after: int = AFTER,
    chunk: int = CHUNK,
    on_progress: Callable[[int], None] | None = None,
    totals: dict[str, int] | None = None,
) -> Iterator[Region]:
    """Stream ``stream`` and yield the regions around anchor hits, in order.

    ``totals`` (if given) receives ``lines`` and ``bytes`` read once the stream is exhausted.
    """
    recent: deque[bytes] = deque(maxlen=before)  # the last lines not yet in a region
    line_no = 0  # complete lines consumed so far
    open_lines: list[bytes] = []  # the region being built
    open_first = 0
    open_until = 0  # its last line number, as far as known
    carry = b""
    read = 0
    pieces = _chunks(stream, chunk)
    while True:
        data = next(pieces, None)
        final = data is None
        if data is not None:
            read += len(data)
            if on_progress is not None:
                on_progress(read)
            data = carry + data
            cut = data.rfind(b"\n") + 1
            if cut == 0 and len(data) <= MAX_LINE:
                carry = data
                continue
            if cut == 0:  # one line longer than MAX_LINE: keep its head, drop the rest until its end
                cut = len(data)
            block, carry = data[:cut], data[cut:]
        else:
            block, carry = carry, b""
            if not block:
                break
        hits = _hit_lines(block, prefilter)
        lines_in_block = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
        if not hits and not open_lines:
            tail = block.rsplit(b"\n", before + 1)
            if tail and tail[-1] == b"":
                tail.pop()
            recent.extend(_cut(line) for line in tail[-before:])
            line_no += lines_in_block
            if final:
                break
            continue
        lines = block.split(b"\n")
        if block.endswith(b"\n"):
            lines.pop()
        hit_set = set(hits)
        for index, raw in enumerate(lines):
            number = line_no + index + 1
            if index in hit_set:
                if not open_lines:
                    open_first = number - len(recent)
                    open_lines = list(recent)
                    recent.clear()
                open_until = number + after
            if open_lines or index in hit_set:
                if number <= open_until:
                    open_lines.append(_cut(raw))
                    continue
                yield Region(open_first, tuple(open_lines))
                open_lines = []
            recent.append(_cut(raw))
        line_no += len(lines)
        if final:
            break
    if open_lines:
        yield Region(open_first, tuple(open_lines))
    if totals is not None:
        totals.update(lines=line_no, bytes=read)


def _normalized_at(text: str, source: str, first: int) -> tuple[LogLine, ...]:
    """``text`` normalised as lines of the log starting at line ``first`` (original numbers)."""
    offset = first - 1
    return tuple(
        replace(line, number=line.number + offset, last=(line.last or line.number) + offset)
        for line in normalize(text, source=source).lines
    )


def _cut(line: bytes) -> bytes:
    return line if len(line) <= MAX_LINE else line[:MAX_LINE]


def read_log_regions(
    stream: ByteReader,
    *,
    source: str,
    knowledge: KnowledgeBase | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> LogText:
    """The :class:`LogText` of the regions of ``stream`` that can hold a symptom."""
    prefilter = prefilter_for(knowledge)
    lines: list[LogLine] = []
    notes: list[str] = []
    bad_bytes = 0
    total = 0
    totals: dict[str, int] = {}
    for region in scan_regions(stream, prefilter, on_progress=on_progress, totals=totals):
        data = b"\n".join(region.lines) + b"\n"
        if b"\x00" in data:
            raise BadInputError(f"{source}: contains NUL bytes: a binary file, not a text log")
        text = data.decode("utf-8", errors="replace")
        bad_bytes += text.count("\ufffd")
        lines.extend(_normalized_at(text, source, region.first))
        total = max(total, region.first + len(region.lines) - 1)
        # a gap between regions: a noise line keeps wrapped lines from joining across it
        lines.append(LogLine(total + 1, "", "", True, False, total + 1))
    if bad_bytes:
        notes.append(f"{source} is not valid UTF-8: {bad_bytes} undecodable byte(s) were replaced with U+FFFD")
    return LogText(source, tuple(lines), tuple(notes), True, max(total, totals.get("lines", 0)))


#: Inputs up to this size are read whole, exactly as a paste always was; larger ones stream.
WHOLE_LIMIT = 4 * 1024 * 1024


class _Prefixed:
    """A byte stream that first returns ``head`` (already read to decide), then the rest."""

    def __init__(self, head: bytes, rest: ByteReader) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            return head
        return self._rest.read(size)


class _Encoded:
    """A text stream read as UTF-8 bytes (what the streaming reader takes)."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text

    def read(self, size: int = -1) -> bytes:
        return self._text.read(size).encode("utf-8", errors="surrogateescape")


def _whole(data: bytes, source: str) -> LogText:
    from envdoctor.triage.logs import decode_log

    text, notes = decode_log(data, source)
    if not text.strip():
        raise BadInputError(f"{source}: the log is empty; nothing to triage")
    return normalize(text, source=source, notes=notes)


def open_log(
    path: str | None,
    stdin: IO[Any] | None = None,
    *,
    knowledge: KnowledgeBase | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> LogText:
    """Read a log from ``path`` (``None`` or ``-``: standard input), streaming large ones.

    Up to :data:`WHOLE_LIMIT` bytes the log is read and normalised whole; beyond, only the
    regions around anchors are read (:func:`read_log_regions`). Devices, FIFOs and
    directories are refused (exit 2), as are binary files and a closed standard input.
    """
    import sys

    if path is None or path == "-":
        source = "<stdin>"
        handle = stdin if stdin is not None else sys.stdin
        if handle is None or getattr(handle, "closed", False):
            raise BadInputError("standard input is closed; give the log as a file")
        stream = cast(ByteReader, getattr(handle, "buffer", None) or handle)
        try:
            head = stream.read(WHOLE_LIMIT + 1)
        except (OSError, ValueError) as exc:
            raise BadInputError(f"cannot read standard input ({exc})") from None
        if isinstance(head, str):  # a text stream without a buffer (tests, notebooks)
            head = head.encode("utf-8", errors="surrogateescape")
            stream = _Encoded(cast(IO[str], stream))
        if len(head) <= WHOLE_LIMIT:
            return _whole(head, source)
        _refuse_binary(head, source)
        return read_log_regions(_Prefixed(head, stream), source=source, knowledge=knowledge, on_progress=on_progress)
    source = path
    require_regular_file(path, path, kind="a log file", not_regular="pipe it to `envdoctor triage -` instead")
    try:
        with open(path, "rb") as file:
            head = file.read(WHOLE_LIMIT + 1)
            if len(head) <= WHOLE_LIMIT:
                return _whole(head, source)
            _refuse_binary(head, source)
            return read_log_regions(_Prefixed(head, file), source=source, knowledge=knowledge, on_progress=on_progress)
    except PermissionError:
        raise BadInputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise BadInputError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _refuse_binary(head: bytes, source: str) -> None:
    if b"\x00" in head[:65536]:
        raise BadInputError(
            f"{source}: looks like a binary file (it contains NUL bytes), not a text log; "
            "to inspect a checkpoint use `envdoctor keys`"
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadInputError(f"{source}: a UTF-16 log over {WHOLE_LIMIT // (1024 * 1024)} MB; convert it to UTF-8 first")


def follow_log(
    path: str,
    *,
    knowledge: KnowledgeBase | None = None,
    poll: float = 0.5,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[LogText]:
    """Follow a log that is still being written (``tail -f``): yield a window each time new anchors arrive.

    The file is read from its start, then polled every ``poll`` seconds. Once new lines
    with an anchor have arrived and the writer pauses (a poll finds nothing new), the window
    of the last :data:`BEFORE` + :data:`AFTER` lines is yielded as a :class:`LogText` with
    the original line numbers; the caller triages it and reports what is new. A file that
    shrinks (rotated or truncated) is read again from its start. Memory stays bounded by
    the window.
    """
    import os
    import time

    prefilter = prefilter_for(knowledge)
    window: deque[tuple[int, bytes]] = deque(maxlen=BEFORE + AFTER)
    line_no = 0
    carry = b""
    dirty = False
    try:
        handle = open(path, "rb")  # noqa: SIM115 - kept open while following
    except OSError as exc:
        raise BadInputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    with handle:
        while not stop():
            if os.fstat(handle.fileno()).st_size < handle.tell():
                handle.seek(0)
                window.clear()
                line_no, carry = 0, b""
            data = handle.read(CHUNK)
            if data:
                data = carry + data
                cut = data.rfind(b"\n") + 1
                block, carry = data[:cut], data[cut:]
                if len(carry) > MAX_LINE:
                    carry = carry[:MAX_LINE]
                if block:
                    if _hit_lines(block, prefilter):
                        dirty = True
                    for raw in block.split(b"\n")[:-1]:
                        line_no += 1
                        window.append((line_no, _cut(raw)))
                continue
            if dirty and window:
                dirty = False
                first = window[0][0]
                text = (b"\n".join(line for _, line in window) + b"\n").decode("utf-8", errors="replace")
                yield LogText(path, _normalized_at(text, path, first), (), True, line_no)
            time.sleep(poll)
