"""Read the environments to compare: ``diagnose --json`` reports, standard input, or a live interpreter.

A report is read by :mod:`envdoctor.diagnose_report` (bounded, schema-checked, exit 2 for
anything that is not a report). A path to an interpreter or a venv/conda directory is probed on the spot.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from envdoctor.diagnose_report import MAX_REPORT_BYTES, SCHEMA, environment_of, read_bounded, read_report_bytes
from envdoctor.errors import BadInputError
from envdoctor.model import Environment

__all__ = ["MAX_REPORT_BYTES", "NamedEnvironment", "SCHEMA", "load_all", "read_environment_source"]


@dataclass(frozen=True)
class NamedEnvironment:
    """One environment to compare and the name it is shown under (a node, a file)."""

    name: str
    source: str
    environment: Environment
    fingerprint: str = ""
    """Equal for environments that differ at most in their collection time ("" = unknown)."""


#: The one field of a report that differs between the nodes of an identical fleet.
_COLLECTED_AT = re.compile(rb'"collected_at"\s*:\s*("(?:[^"\\]|\\.)*"|null)')


def _parse(data: bytes, label: str) -> tuple[Environment, str]:
    """The environment of a report and its fingerprint (equal for identical environments).

    The nodes of a cluster mostly hold the same environment: a report whose bytes equal an
    earlier one's, but for the collection time, reuses the environment already built.
    """
    found = _COLLECTED_AT.search(data)
    masked = data if found is None else data[: found.start(1)] + b"null" + data[found.end(1) :]
    fingerprint = hashlib.sha256(masked).hexdigest()
    built = _BUILT.get(fingerprint)
    if built is None:
        built = _BUILT[fingerprint] = environment_of(data, label)
    collected_at = json.loads(found.group(1)) if found is not None else None
    if collected_at == built.collected_at:
        return built, fingerprint
    return dataclasses.replace(built, collected_at=collected_at), fingerprint


_BUILT: dict[str, Environment] = {}


def _node_name(path: Path) -> str:
    """``reports/node-17.json`` -> ``node-17``: per-node reports are named after the node."""
    return path.name.removesuffix(".gz").removesuffix(".json")


def _is_interpreter_like(path: Path) -> bool:
    if path.is_dir():
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError:
        return False
    return head == b"\x7fELF" or head.startswith(b"#!") or os.access(path, os.X_OK)


def read_environment_source(source: str, *, stdin: IO[bytes] | None = None) -> NamedEnvironment:
    """One environment from a report file, ``-`` (standard input), or an interpreter/venv path."""
    if source == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        environment, fingerprint = _parse(read_bounded(stream, "<stdin>"), "<stdin>")
        return NamedEnvironment("stdin", "-", environment, fingerprint)
    path = Path(source)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise BadInputError(f"{source}: cannot read ({exc.strerror or exc})") from None
    report_name = source.endswith((".json", ".json.gz"))
    if stat.S_ISDIR(mode) or (stat.S_ISREG(mode) and not report_name and _is_interpreter_like(path)):
        from envdoctor.probe import collect

        environment = collect(source)
        return NamedEnvironment(path.name or source, source, environment)
    environment, fingerprint = _parse(read_report_bytes(path, source), source)
    return NamedEnvironment(_node_name(path), source, environment, fingerprint)


def load_all(sources: list[str], *, stdin: IO[bytes] | None = None) -> list[NamedEnvironment]:
    """Every source, names made unique (``a.json`` twice becomes ``a`` and ``a#2``)."""
    if sum(1 for s in sources if s == "-") > 1:
        raise BadInputError("standard input ('-') can be given once")
    seen: dict[str, int] = {}
    loaded = []
    for source in sources:
        named = read_environment_source(source, stdin=stdin)
        count = seen.get(named.name, 0) + 1
        seen[named.name] = count
        if count > 1:
            named = NamedEnvironment(f"{named.name}#{count}", named.source, named.environment, named.fingerprint)
        loaded.append(named)
    return loaded
