"""The consoles every command prints through, honouring NO_COLOR and plain pipes.

rich is imported only when a console is first used, so ``--json`` runs never pay for it.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["UI", "make_console", "make_ui"]


def make_console(file: IO[str], *, color: bool | None = None, width: int | None = None) -> Console:
    """A console for ``file``: colour only on a terminal and never under ``NO_COLOR``."""
    from rich.console import Console

    # An explicit --color always wins over NO_COLOR (https://no-color.org: "user-level
    # configuration ... may override"); NO_COLOR decides only the automatic case.
    no_color = color is False or (color is None and bool(os.environ.get("NO_COLOR")))
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


class UI:
    """Where a command writes: results to ``out``, messages to ``err``, raw text via ``write``."""

    def __init__(
        self,
        *,
        color: bool | None = None,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        stdin: IO[str] | None = None,
    ) -> None:
        self.color = color
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.stdin = stdin or sys.stdin

    @functools.cached_property
    def out(self) -> Console:
        return make_console(self.stdout, color=self.color)

    @functools.cached_property
    def err(self) -> Console:
        return make_console(self.stderr, color=self.color)

    def write(self, text: str) -> None:
        """Write text to stdout as is (JSON documents, constraints files)."""
        self.stdout.write(text)


def make_ui(color: bool | None = None) -> UI:
    """The UI of a real run (stdout, stderr, stdin)."""
    return UI(color=color)
