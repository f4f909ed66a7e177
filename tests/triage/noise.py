"""Documented transformations that add real-world noise to real logs, for the parser tests.

Each takes a log's text and returns the text as it would reach us after that kind of
damage; none changes what the libraries printed, only how it was carried:

* :func:`colorize`: ANSI SGR colours around every non-empty line (a colouring handler);
* :func:`crlf`: Windows line ends;
* :func:`tqdm_noise`: a tqdm bar redrawn with carriage returns on its own line before every
  line, and one bar left in front of the first line (``bar\\rmessage``, as ``tqdm.write``);
* :func:`relabel_prefix`: mmengine's ``MM/DD HH:MM:SS - mmengine - LEVEL - `` prefix
  replaced by another logger's (``WARNING:mmengine:``, a bracketed timestamp, loguru, torchrun);
* :func:`terminal_wrap`: every physical line longer than ``width`` cut into ``width``
  characters, which is what copying from a terminal gives;
* :func:`split_lists`: key-list lines broken after every ``every``-th comma (a list split
  across lines by the program or by hand);
* :func:`ellipsize`: the middle keys of a list replaced by ``...`` (a shortened paste);
* :func:`cut`: the paste ends ``chars`` characters before the end of the log.
"""

from __future__ import annotations

import re

__all__ = ["colorize", "crlf", "tqdm_noise", "relabel_prefix", "terminal_wrap", "split_lists", "ellipsize", "cut"]

_BAR = (
    "\r  0%|          | 0/10 [00:00<?, ?it/s]\r 50%|█████     | 5/10 [00:01<00:01,  4.90it/s]"
    "\r100%|██████████| 10/10 [00:02<00:00,  4.95it/s]"
)
_MM_PREFIX = re.compile(r"^\d{2}/\d{2} \d{2}:\d{2}:\d{2} - mmengine - (\w+) - ", re.MULTILINE)
PREFIX_STYLES = {
    "logging": "{level}:mmengine:",
    "bracketed": "[2024-03-01 12:00:00,123] {level} mmengine: ",
    "iso": "2024-03-01 12:00:00,123 - mmengine - {level} - ",
    "loguru": "2024-03-01 12:00:00.123 | {level:<8} | mmengine.logging:warning:12 - ",
    "torchrun": "[rank0]: 11/22 05:39:37 - mmengine - {level} - ",
}


def _lines(text: str) -> list[str]:
    return text.split("\n")


def colorize(text: str) -> str:
    return "\n".join(f"\x1b[33m{line}\x1b[0m" if line.strip() else line for line in _lines(text))


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def tqdm_noise(text: str) -> str:
    lines = _lines(text)
    out = [f"{_BAR}\r{lines[0]}"]
    for line in lines[1:]:
        out += [_BAR, line]
    return "\n".join(out)


def relabel_prefix(text: str, style: str) -> str:
    return _MM_PREFIX.sub(lambda m: PREFIX_STYLES[style].format(level=m.group(1)), text)


_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def terminal_wrap(text: str, width: int = 80) -> str:
    """Cut lines every ``width`` visible characters (colour codes take no room)."""
    out = []
    for line in _lines(text):
        pieces, current, shown, position = [], "", 0, 0
        while position < len(line):
            escape = _ESCAPE.match(line, position)
            if escape is not None:
                current += escape.group()
                position = escape.end()
                continue
            if shown == width:
                pieces.append(current)
                current, shown = "", 0
            current += line[position]
            shown += 1
            position += 1
        out += [*pieces, current]
    return "\n".join(out)


_LIST_LINE = re.compile(r"state_dict: |initializing \w+: \[|newly initialized: \[|_IncompatibleKeys\(|checkpoint: \[")


def split_lists(text: str, every: int = 2) -> str:
    out = []
    for line in _lines(text):
        if line.count(", ") < every or not _LIST_LINE.search(line):
            out.append(line)
            continue
        pieces = line.split(", ")
        chunk = []
        for index, piece in enumerate(pieces, start=1):
            chunk.append(piece)
            if index % every == 0 and index < len(pieces):
                out.append(", ".join(chunk) + ",")
                chunk = []
        out.append(", ".join(chunk))
    return "\n".join(out)


def ellipsize(text: str, marker: str = "...") -> str:
    """Replace the middle items of the longest comma-separated line by ``marker``."""
    lines = _lines(text)
    index = max(range(len(lines)), key=lambda i: lines[i].count(", "))
    head, sep, tail = lines[index].partition(": ")
    items = tail.split(", ")
    keep = max(1, len(items) // 4)
    lines[index] = head + sep + ", ".join([*items[:keep], marker, *items[-keep:]])
    return "\n".join(lines)


def cut(text: str, chars: int) -> str:
    return text.rstrip("\n")[:-chars]
