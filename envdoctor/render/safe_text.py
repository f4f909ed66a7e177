"""Make text that came from an input (a checkpoint, a log, a path) safe to print on a terminal.

A key, a global name or a file name can carry ESC sequences, carriage returns or bidi
overrides that rewrite what the terminal shows (``\\x1b]52`` even writes the clipboard).
:func:`escape` spells every such character as a visible ``\\xNN`` / ``\\uNNNN`` escape and
cuts very long text, so what is shown is what the input holds. Printable text, including
non-ASCII letters, passes unchanged.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["escape"]

# C0/C1 controls, DEL, and the Unicode format characters that reorder or hide text
# (bidi embeddings/overrides/isolates, zero-width joiners, BOM): category Cc and Cf,
# plus line and paragraph separators (Zl, Zp), which terminals treat as line breaks.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")


def _spell(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape(text: str, *, limit: int = 10_000) -> str:
    """``text`` with control and format characters escaped, cut to ``limit`` characters."""
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text) - limit:,} more characters)"
    text = _UNSAFE.sub(_spell, text)
    if text.isprintable():
        return text
    # Rare: other non-printable code points (unassigned, private use, surrogates).
    return "".join(
        char if char.isprintable() or unicodedata.category(char) == "Zs" else f"\\u{ord(char):04x}" for char in text
    )
