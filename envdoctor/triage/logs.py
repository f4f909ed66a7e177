"""Read a pasted log and normalise it into logical lines that patterns can be written against.

Logs reach us as files, pipes or terminal pastes, and carry noise the messages never had:
ANSI colour codes (also with the ESC byte lost in a copy, ``[31m``), tqdm progress bars
(redrawn with carriage returns, or written one per line), CRLF line ends, and prefixes
added by whoever logged the message: mmengine's ``11/22 10:31:02 - mmengine - WARNING - ``,
Python logging's ``WARNING:root:``, bracketed or ISO timestamps (``[2024-03-01
12:00:00,123]``), loguru's ``| WARNING  | mod:fn:12 - `` and torchrun's ``[rank0]:``.
:func:`normalize` removes them, one physical line at a time, keeping the 1-based physical
line number for evidence. Bare ``ERROR: `` (pip) is *not* a prefix: patterns may rely on it.
Terminal wrapping is repaired here: a run of lines cut at one width is joined back into one
logical line (numbered by its first physical line). Lists a program itself split over lines
are joined later, by the state-dict report parser, which knows where a list ends.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from envdoctor.errors import BadInputError

__all__ = ["LogLine", "LogText", "normalize", "normalize_line", "is_progress", "decode_log", "read_log"]

#: Escape sequences: CSI (colours, cursor moves), OSC (titles, hyperlinks), charset selects.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>]")
#: SGR colour codes whose ESC byte a copy from a web page or CI viewer dropped (``[0m``, ``[38;5;208m``).
_BARE_SGR = re.compile(r"\[(?:\d{1,3};){0,4}\d{1,3}m")
#: A tqdm (or tqdm-like) progress bar: ``45%|████▌     | 45/100 [00:10<00:12, 4.50it/s]``.
_PROGRESS = re.compile(
    r"^\s*[^|]{0,80}?\d{1,3}%\|[^|]*\|\s*[\d.]+[kMG]?/[\d.?]+[kMG]?"
    r"|^\s*[^|]{0,80}?\d{1,3}%\|[^|]*\|\s*$"
    r"|\|\s*[\d.]+[kMGT]?(?:B|it)?/[\d.?]+[kMGT]?(?:B|it)?\s*\[\d+:\d+(?::\d+)?<"
)
_LEVEL = r"(?:TRACE|DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|CRITICAL|FATAL|SUCCESS)"
#: A markdown quote (``> text``, nested ``> > text``); ``>>>`` (a Python prompt) is not one.
_QUOTE = re.compile(r"^ {0,3}(?:>(?!>) ?)+")
#: rich's RichHandler record: time and level columns, the message, then lines indented to
#: the message column that continue it (rich wraps at spaces). Seen in SD.Next and
#: ComfyUI logs: ``14:16:51-800339 ERROR    Error(s) in loading state_dict for ...``.
_RICH_RECORD = re.compile(rf"^\[?\d{{2}}:\d{{2}}:\d{{2}}(?:[-.,]\d{{3,6}})?\]? {_LEVEL}\s+(?=\S)")
#: Prefixes removed from the start of a line, tried in order until none applies.
_PREFIXES = (
    # rich's RichHandler: "14:16:51-800339 ERROR    ", "[12:00:00] WARNING  "
    _RICH_RECORD,
    # detectron2's setup_logger: "[07/14 10:12:08 fvcore.common.checkpoint]: ", "WARNING [07/14 ...]: "
    re.compile(r"^(?:(?:WARNING|ERROR|CRITICAL) )?\[\d{2}/\d{2} \d{2}:\d{2}:\d{2} [\w.@\-]+\]: ?"),
    # library log tags: "[transformers] " (transformers 5's default handler)
    re.compile(r"^\[(?:transformers|diffusers|accelerate|peft|datasets|huggingface_hub)\] "),
    # torchrun / torch.distributed.elastic rank tags: "[rank0]: ", "[default0]:"
    re.compile(r"^\[(?:rank\s?\d+|default\d+)\]:\s?"),
    # mmengine MMLogger: "11/22 10:31:02 - mmengine - WARNING - "
    re.compile(rf"^\d{{2}}/\d{{2}} \d{{2}}:\d{{2}}:\d{{2}} - [\w.\-]+ - {_LEVEL} - "),
    # loguru default: "2024-03-01 12:00:00.123 | WARNING  | module:function:12 - "
    re.compile(
        rf"^\d{{4}}-\d{{2}}-\d{{2}} \d{{2}}:\d{{2}}:\d{{2}}(?:[.,]\d+)? \| {_LEVEL}\s*\| [\w.<>\-]+:[\w.<>\-]+:\d+ - "
    ),
    # "[2024-03-01 12:00:00,123] [WARNING] [name] ", "[2024-03-01 12:00:00,123] WARNING name: "
    re.compile(
        r"^\[\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]"
        rf"(?:\s*\[?{_LEVEL}\]?)?(?:\s*\[[\w.\-]+(?::\d+)?\])?(?:\s*[\w.\-]+(?::\d+)?\s*:(?=\s))?\s*(?:-\s+)?"
    ),
    # ISO timestamp, optionally "- name - LEVEL - " (logging's asctime formats) or "LEVEL "
    re.compile(
        r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
        rf"(?:\s+-\s+[\w.\-]+\s+-\s+{_LEVEL}\s+-\s+|\s+{_LEVEL}\s+(?:[\w.\-]+:\s+|-\s+)?|\s+-\s+|\s+)"
    ),
    # transformers/pytorch-transformers example scripts (run_glue.py v2.x): "%(asctime)s - %(levelname)s -
    # %(name)s -   %(message)s" with datefmt "%m/%d/%Y %H:%M:%S"
    re.compile(rf"^\d{{2}}/\d{{2}}/\d{{4}} \d{{2}}:\d{{2}}:\d{{2}} - {_LEVEL} - [\w.\-<>]+ -\s+"),
    # Python logging.basicConfig default: "WARNING:root:", "WARNING:transformers.modeling_utils:"
    re.compile(rf"^{_LEVEL}:[\w.\-]+:"),
    # glog-style "I0301 12:00:00.123456 12345 file.cc:12] "
    re.compile(r"^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ [\w./\-]+:\d+\] "),
)


@dataclass(frozen=True)
class LogLine:
    """One logical line after normalisation.

    ``number`` is its first 1-based physical line in the log and ``last`` its last: a line
    the terminal wrapped spans several physical lines and is joined back into one.
    """

    number: int
    text: str
    raw: str
    noise: bool = False
    prefixed: bool = False
    last: int = 0


@dataclass(frozen=True)
class LogText:
    """A normalised log: its logical lines, where it came from, and notes on how it was read."""

    source: str
    lines: tuple[LogLine, ...]
    notes: tuple[str, ...] = ()
    ends_with_newline: bool = True
    physical_lines: int = 0


def is_progress(text: str) -> bool:
    """Whether ``text`` is a progress bar redraw (tqdm and look-alikes)."""
    return "|" in text and _PROGRESS.search(text) is not None


#: One regex for "does any prefix apply", so most lines cost a single match.
_ANY_PREFIX = re.compile("|".join(f"(?:{p.pattern})" for p in _PREFIXES))


def strip_prefixes(text: str) -> str:
    """Remove logger, timestamp and rank prefixes from the start of one line."""
    changed = True
    while changed and text:
        if _ANY_PREFIX.match(text) is None:  # one match instead of a pass that would change nothing
            return text
        changed = False
        for prefix in _PREFIXES:
            match = prefix.match(text)
            if match is not None and match.end() > 0:
                text = text[match.end() :]
                changed = True
    return text


def _visible(raw: str) -> tuple[str, bool]:
    """What a terminal shows of one physical line, and whether that is only progress noise.

    A line redrawn with carriage returns shows its last segment; progress bar segments are
    dropped first, so a message printed after a bar survives.
    """
    text = raw
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "m" in text and "[" in text:
        text = _BARE_SGR.sub("", text)
    if ">" in text[:8]:
        text = _QUOTE.sub("", text)
    if text.startswith("`") and not text.startswith("```"):
        text = text[1:]  # a paste opened with a markdown code span
    if "\r" in text:
        segments = [s for s in text.split("\r") if s.strip()]
        kept = [s for s in segments if not is_progress(s)]
        if not kept:
            return "", bool(segments)
        return kept[-1], False
    if is_progress(text):
        return "", True
    return text, False


def normalize_line(raw: str) -> tuple[str, bool, bool]:
    """The text a pattern sees for one physical line, whether it is only progress noise, and
    whether a logger prefix was removed (the line starts a new log record)."""
    text, noise = _visible(raw)
    if noise:
        return "", True, False
    text = text.rstrip()
    stripped = strip_prefixes(text)
    return stripped, False, len(stripped) != len(text)


#: Narrowest terminal whose wrapping we repair; shorter equal-length lines are coincidence.
_MIN_WRAP_WIDTH = 40
#: Terminal widths common enough that one cut at them (two pieces) is taken as a wrap; at
#: any other width, two full-width pieces in a row (three or more pieces) are needed.
COMMON_WIDTHS = frozenset({80, 100, 120, 132, 140, 150, 160, 180, 200, 220, 240, 250, 256})
_TABLE_ROW = re.compile(r" \| |-\+-|\|\s*$")


#: Beginnings of messages and traceback lines: a piece starting so is a new line, not a wrap
#: (a line exactly W or 2W wide is followed by a fresh line that a copy cannot tell apart).
_LINE_STARTS = re.compile(
    r"Traceback |During handling|The above exception|  File \"|(?<!\w)\w*(?:Error|Exception|Warning)\b:|"
    r"(?:size mismatch for|unexpected key in source|missing keys in source|Missing key\(s\)|Unexpected key\(s\)|"
    r"Some weights |All the weights |You should probably|- This IS|Error\(s\) in loading|_IncompatibleKeys\()"
)


def _wraps_into(first: str, current: str, following: str, width: int) -> bool:
    """Whether ``following`` continues ``current`` (a run that began with ``first``), a line
    the terminal cut at ``width``."""
    if len(current) != width or not following.strip():
        return False
    if _ANY_PREFIX.match(following) is not None:
        return False  # a new log record is never a wrap (tested early: training logs repeat widths)
    if _TABLE_ROW.search(current) and _TABLE_ROW.search(following):
        return False  # rows of one padded table share a width
    if _LINE_STARTS.match(following.lstrip()):
        return False
    if not first[:1].isalnum() and following[:2] == first[:2]:
        return False  # sibling lines ("- key: ...", indented lines) that happen to be W wide
    if first[:1].isspace() and following[:1] == first[:1]:
        return False
    # sibling lines of one list (fvcore's "head.{bias, weight}" groups) are not a cut line
    return not (
        current.endswith(("}", ")", "]")) and "." in following and following.split(".", 1)[0] == first.split(".", 1)[0]
    )


def _rich_continuation(visible: list[tuple[str, str, bool]], index: int, column: int) -> tuple[str, int]:
    """A rich record and the lines indented to its message column, joined with spaces."""
    joined, last = visible[index][1], index
    cursor = index + 1
    while cursor < len(visible):
        _raw, shown, noise = visible[cursor]
        if noise or len(shown) <= column or shown[:column].strip() or shown[column] == " ":
            break
        joined += " " + shown[column:].strip()
        last = cursor
        cursor += 1
    return joined, last


def normalize(text: str, *, source: str = "<text>", notes: tuple[str, ...] = ()) -> LogText:
    """Split ``text`` into normalised logical :class:`LogLine` values.

    Terminal wrapping is repaired: a line of width W (at least :data:`_MIN_WRAP_WIDTH`,
    not a padded table row) is joined, without a separator, with the
    next non-noise line, and so on while the joined pieces are exactly W wide; the last
    piece may be shorter. W must be a :data:`COMMON_WIDTHS` width, or the run must hold at
    least two full-width pieces. A piece that starts with a logger prefix starts a new record.
    """
    ends_with_newline = text.endswith("\n")
    physical = text.split("\n")
    if ends_with_newline:
        physical.pop()
    visible = []
    for raw in physical:
        raw = raw.removesuffix("\r")
        shown, noise = _visible(raw)
        visible.append((raw, shown, noise))
    lines = []
    index = 0
    while index < len(visible):
        raw, shown, noise = visible[index]
        number = index + 1
        if noise:
            lines.append(LogLine(number, "", raw, True, False, number))
            index += 1
            continue
        width = len(shown)
        joined, last = shown, index
        rich = _RICH_RECORD.match(shown)
        if rich is not None:
            joined, last = _rich_continuation(visible, index, rich.end())
        elif width >= _MIN_WRAP_WIDTH:
            pieces = [index]
            cursor = index + 1
            current = shown
            while cursor < len(visible):
                if visible[cursor][2]:
                    cursor += 1
                    continue
                following = visible[cursor][1]
                if not _wraps_into(shown, current, following, width):
                    break
                pieces.append(cursor)
                current = following
                cursor += 1
            full_width = sum(1 for p in pieces[:-1] if len(visible[p][1]) == width)
            if len(pieces) > 1 and (width in COMMON_WIDTHS or full_width >= 2):
                joined = "".join(visible[p][1] for p in pieces)
                last = pieces[-1]
        cleaned = joined.rstrip()
        stripped = strip_prefixes(cleaned)
        lines.append(LogLine(number, stripped, raw, False, len(stripped) != len(cleaned), last + 1))
        # progress lines inside a wrapped run are kept as noise, in order
        for skipped in range(index + 1, last + 1):
            if visible[skipped][2]:
                lines.append(LogLine(skipped + 1, "", visible[skipped][0], True, False, skipped + 1))
        index = last + 1
    return LogText(source, tuple(lines), notes, ends_with_newline, len(physical))


def decode_log(data: bytes, source: str) -> tuple[str, tuple[str, ...]]:
    """Decode a log's bytes: UTF-8 (BOM allowed), UTF-16 with a BOM (PowerShell ``>``), else
    UTF-8 with replacement characters and a note. NUL bytes mean a binary file: refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), ()
        except UnicodeDecodeError as exc:
            raise BadInputError(
                f"{source}: starts with a UTF-16 byte-order mark but is not UTF-16 ({exc.reason})"
            ) from None
    if b"\x00" in data[:65536]:
        raise BadInputError(
            f"{source}: looks like a binary file (it contains NUL bytes), not a text log; "
            "to inspect a checkpoint use `envdoctor keys`"
        )
    try:
        return data.decode("utf-8-sig"), ()
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        return text, (
            f"{source} is not valid UTF-8 (first bad byte at offset {exc.start}); "
            f"{bad} undecodable byte(s) were replaced with U+FFFD",
        )


def _read_stream(stream: IO[str]) -> bytes | str:
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        data: bytes = buffer.read()
        return data
    return stream.read()


def read_log(path: str | None, stdin: IO[str] | None = None) -> LogText:
    """Read and normalise a log from ``path``, or from ``stdin`` when ``path`` is ``None`` or ``-``.

    Raises :class:`BadInputError` for a missing file, a directory, a binary file or an
    empty log (nothing to triage).
    """
    if path is None or path == "-":
        source = "<stdin>"
        raw = _read_stream(stdin if stdin is not None else sys.stdin)
        text, notes = decode_log(raw, source) if isinstance(raw, bytes) else (raw, ())
    else:
        source = path
        file = Path(path)
        if file.is_dir():
            raise BadInputError(f"{path}: is a directory, not a log file")
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            raise BadInputError(f"{path}: no such file") from None
        except PermissionError:
            raise BadInputError(f"{path}: permission denied") from None
        except OSError as exc:
            raise BadInputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        text, notes = decode_log(data, source)
    if not text.strip():
        raise BadInputError(f"{source}: the log is empty; nothing to triage")
    return normalize(text, source=source, notes=notes)
