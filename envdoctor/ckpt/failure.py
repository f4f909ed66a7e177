"""The error a pickle engine raises when a pickle cannot be read to its end."""

from __future__ import annotations

from envdoctor.ckpt.model import SecurityIssue
from envdoctor.errors import CheckpointError

__all__ = ["PickleFailure"]


class PickleFailure(CheckpointError):
    """A pickle could not be read to its end; ``issues`` are the unsafe steps met before that.

    The real unpickler runs each opcode as it meets it, so a payload placed before a
    corrupt byte still runs: those findings must survive the error.
    """

    def __init__(self, message: str, issues: tuple[SecurityIssue, ...] = (), *, limit: bool = False) -> None:
        super().__init__(message)
        self.issues = issues
        self.limit = limit
        """True when one of envdoctor's own bounds stopped the reading (the real loader would go on)."""
