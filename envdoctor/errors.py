"""The one error hierarchy of envdoctor, and the exit codes the CLI maps it to.

Every error envdoctor raises on purpose derives from :class:`EnvdoctorError` and carries
the exit code the command line should end with. Errors caused by what the user handed us
(a bad path, an unparsable requirement, a corrupt checkpoint) also subclass the matching
builtin, as ``packaging`` does (``InvalidVersion(ValueError)``), so library callers can
catch them either way.
"""

from __future__ import annotations

import os
import stat

__all__ = [
    "EXIT_OK",
    "EXIT_FINDINGS",
    "EXIT_USAGE",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EnvdoctorError",
    "UsageError",
    "BadInputError",
    "InterpreterError",
    "KnowledgeError",
    "CheckpointError",
    "UnsafeCheckpointError",
    "ResolutionError",
    "OutputExistsError",
]

EXIT_OK = 0
"""Nothing wrong: no error finding (benign and warning findings may exist)."""
EXIT_FINDINGS = 1
"""At least one error finding (diagnose), non-benign finding (triage), or unsafe checkpoint."""
EXIT_USAGE = 2
"""Usage error or bad input: the message names the offending input."""
EXIT_INTERNAL = 3
"""A bug in envdoctor: a short "please report" line with versions is printed."""
EXIT_INTERRUPTED = 130
"""Interrupted by the user (Ctrl-C)."""


class EnvdoctorError(Exception):
    """Base of every error envdoctor raises deliberately."""

    exit_code: int = EXIT_INTERNAL


class UsageError(EnvdoctorError):
    """The command line itself is wrong (conflicting flags, missing argument)."""

    exit_code = EXIT_USAGE


class BadInputError(EnvdoctorError, ValueError):
    """An input the user gave cannot be used (file missing, unparsable, wrong kind)."""

    exit_code = EXIT_USAGE


class InterpreterError(BadInputError):
    """``--python`` does not name a working Python interpreter."""


class KnowledgeError(EnvdoctorError, ValueError):
    """A knowledge entry or compatibility table is malformed (a bug in envdoctor's data)."""

    exit_code = EXIT_INTERNAL


class CheckpointError(BadInputError):
    """A checkpoint file cannot be read: truncated, wrong magic, lying header, pickle bomb."""


class UnsafeCheckpointError(EnvdoctorError):
    """A checkpoint's pickle references globals outside the tensor allowlist.

    Raised only by callers that ask for strict reading; the ``keys`` command reports the
    offending globals as findings instead and exits 1.
    """

    exit_code = EXIT_FINDINGS


class ResolutionError(EnvdoctorError):
    """No set of pins satisfies every requirement; ``str()`` explains the conflict chain."""

    exit_code = EXIT_USAGE


class OutputExistsError(BadInputError, FileExistsError):
    """The output file exists and ``--force`` was not given."""


def require_regular_file(path: str | os.PathLike[str], label: str, *, kind: str, not_regular: str) -> None:
    """Raise :class:`BadInputError` (exit 2) unless ``path`` is a regular file one can stat.

    ``kind`` names what was expected ("a log file", "a report") in the directory message;
    ``not_regular`` says what to do with a device or FIFO (which envdoctor never reads: it could
    block forever or never end).
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise BadInputError(f"{label}: no such file") from None
    except OSError as exc:
        raise BadInputError(f"{label}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise BadInputError(f"{label}: is a directory, not {kind}")
    if not stat.S_ISREG(mode):
        raise BadInputError(f"{label}: not a regular file (a device or FIFO); {not_regular}")
