"""Read a text list of expected state-dict keys (``keys --against FILE``) in linear time.

One key per line, optionally followed by a shape: ``blocks.0.attn.qkv.weight 2304,768``,
``w: (2304, 768)``, ``w=(3)``; blank lines and ``#`` comments are skipped. The parser uses no
nested quantifiers (the old single regular expression backtracked exponentially on a line
of 24 digits), bounds each line and each dimension (int64, as torch), and reports the first
bad line with its number.
"""

from __future__ import annotations

import re

from envdoctor.errors import BadInputError

__all__ = ["MAX_LINE", "MAX_KEYS", "parse_key_list"]

MAX_LINE = 4096
"""Longest line accepted (a state-dict key is rarely over 200 characters)."""
MAX_KEYS = 5_000_000
_KEY = re.compile(r"\w[\w.\-]*")
_SEPARATORS = re.compile(r"[\s,]+")
_MAX_DIM = (1 << 63) - 1


def _shape(rest: str) -> tuple[int, ...] | None:
    """The dimensions after a key (``: (2304, 768)``), or ``None``; ``ValueError`` if malformed."""
    rest = rest.strip()
    if rest[:1] in (":", "="):
        rest = rest[1:].strip()
    rest = rest.removeprefix("(").removesuffix(")").strip()
    if not rest:
        return None
    if rest.startswith(","):
        raise ValueError("a shape starts with a comma")
    dims: list[int] = []
    for token in _SEPARATORS.split(rest):
        if not token:
            continue
        if not (token.isascii() and token.isdigit()) or len(token) > 19:
            raise ValueError(f"{token[:30]!r} is not a dimension")
        value = int(token)
        if value > _MAX_DIM:
            raise ValueError(f"{token} is larger than torch allows")
        dims.append(value)
    return tuple(dims) or None


def parse_key_list(text: str, *, source: str = "<keys>") -> dict[str, tuple[int, ...] | None]:
    """Keys (and shapes) of a key list; :class:`BadInputError` naming the first bad line."""
    keys: dict[str, tuple[int, ...] | None] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        shown = raw.strip()[:80] + ("..." if len(raw.strip()) > 80 else "")
        expected = f"{source}:{number}: expected 'KEY' or 'KEY 2304,768', got {shown!r}"
        if len(line) > MAX_LINE:
            raise BadInputError(f"{source}:{number}: line of {len(line):,} characters (at most {MAX_LINE:,})")
        match = _KEY.match(line)
        if match is None:
            raise BadInputError(expected)
        try:
            shape = _shape(line[match.end() :])
        except ValueError as exc:
            raise BadInputError(f"{expected} ({exc})") from None
        keys[match.group()] = shape
        if len(keys) > MAX_KEYS:
            raise BadInputError(f"{source}: more than {MAX_KEYS:,} keys")
    if not keys:
        raise BadInputError(f"{source}: no keys found")
    return keys
