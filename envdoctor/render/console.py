"""The consoles every command prints through, honouring NO_COLOR and plain pipes."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import IO

from rich.console import Console

__all__ = ["UI", "make_console", "make_ui"]


def make_console(file: IO[str], *, color: bool | None = None, width: int | None = None) -> Console:
    """A console for ``file``: colour only on a terminal and never under ``NO_COLOR``."""
    no_color = bool(os.environ.get("NO_COLOR")) or color is False
    console = Console(
        file=file,
        no_color=no_color,
        color_system=None if no_color else "auto",
        force_terminal=True if color else None,
        highlight=False,
        soft_wrap=False,
        width=width,
        emoji=False,
    )
    # Off a terminal (a pipe, a file, CI logs) lines stay whole: no wrapping at 80 columns.
    console.soft_wrap = not console.is_terminal
    return console


@dataclass(frozen=True)
class UI:
    """Where a command writes: results to ``out``, messages to ``err``."""

    out: Console
    err: Console
    stdin: IO[str]

    @property
    def plain(self) -> bool:
        """True when stdout is not a terminal: no spinners, no box art."""
        return not self.out.is_terminal


def make_ui(color: bool | None = None) -> UI:
    """The UI of a real run (stdout, stderr, stdin)."""
    return UI(make_console(sys.stdout, color=color), make_console(sys.stderr, color=color), sys.stdin)
