"""Where and in which format a command's result goes: ``--format``, ``--json``, ``-o FILE``.

Every reporting command offers the same three formats: ``text`` (the terminal view),
``json`` (the versioned document) and ``markdown`` (a GitHub-ready report). ``-o FILE``
writes the chosen format to a file atomically (a temporary file beside it, then
``os.replace``), never over an existing file unless ``--force`` is given. The file name may
hold placeholders for cluster runs, so one command line serves every node:
``%N`` the node name (``SLURMD_NODENAME``, else the short host name), ``%h`` the host name,
``%j`` the Slurm job id (``SLURM_JOB_ID``), ``%t`` the task rank (``SLURM_PROCID``), ``%%`` a
percent sign. A name ending in ``.gz`` is written gzip-compressed (a report of ~70 KB takes
~10 KB), and ``compare`` reads such files as they are.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from envdoctor.errors import BadInputError
from envdoctor.render.console import UI

__all__ = ["FORMATS", "add_output_arguments", "chosen_format", "emit", "expand_placeholders", "write_atomic"]

FORMATS = ("text", "json", "markdown")
_PLACEHOLDER = re.compile(r"%(.)")


def add_output_arguments(parser: argparse.ArgumentParser, *, schema: str) -> None:
    """``--format``, ``--json`` (short for ``--format json``), ``-o FILE`` and ``--force``."""
    parser.add_argument("--format", choices=FORMATS, default=None, help="output format (default: text)")
    parser.add_argument("--json", action="store_true", help=f"print one JSON object ({schema}); --format json")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to FILE atomically instead of standard output; %%N node name, %%h host, %%j Slurm job id, "
        "%%t task rank (e.g. reports/%%N.json)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def chosen_format(args: argparse.Namespace) -> str:
    """The format asked for; ``--json`` with another ``--format`` is a usage error."""
    fmt = getattr(args, "format", None)
    if getattr(args, "json", False):
        if fmt not in (None, "json"):
            raise BadInputError(f"--json and --format {fmt} contradict each other")
        return "json"
    return fmt or "text"


def expand_placeholders(template: str, environ: Mapping[str, str] | None = None) -> str:
    """``reports/%N.json`` -> ``reports/node-17.json`` (see the module docstring)."""
    env = os.environ if environ is None else environ
    import socket

    host = socket.gethostname()
    values = {
        "N": env.get("SLURMD_NODENAME") or host.split(".")[0],
        "h": host,
        "j": env.get("SLURM_JOB_ID", "nojob"),
        "t": env.get("SLURM_PROCID", "0"),
        "%": "%",
    }

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise BadInputError(f"-o {template}: unknown placeholder %{key} (use %N, %h, %j, %t or %%)")
        return values[key]

    return _PLACEHOLDER.sub(replace, template)


def write_atomic(path: Path, text: str, *, force: bool = False) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace`` (gzip for ``*.gz``)."""
    if path.exists() and not force:
        raise BadInputError(f"{path} exists; add --force to overwrite it")
    if path.exists() and not path.is_file():
        raise BadInputError(f"{path} is not a regular file")
    import gzip
    import tempfile

    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise BadInputError(f"{directory}: no such directory for -o")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise BadInputError(f"cannot write in {directory}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            data = text.encode("utf-8")
            stream.write(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as open() would create it, not mkstemp's 0600
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise BadInputError(f"cannot write {path}: {exc.strerror or exc}") from None


def emit(
    args: argparse.Namespace,
    ui: UI,
    *,
    json_text: Callable[[], str],
    markdown_text: Callable[[], str],
    view: Callable[[], Any],
) -> None:
    """Print or write the result in the chosen format."""
    fmt = chosen_format(args)
    target = getattr(args, "output", None)
    if fmt == "text" and target is None:
        # crop=False: fix commands are not wrapped or cut (render/findings.py); the terminal
        # folds a long line on screen and a copied command stays whole.
        ui.out.print(view(), crop=False)
        return
    if fmt == "json":
        text = json_text()
        if target is not None:  # reports collected from many nodes: compact on disk
            text = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False) + "\n"
    elif fmt == "markdown":
        text = markdown_text()
    else:
        import tempfile

        from envdoctor.render.console import make_console

        with tempfile.TemporaryFile("w+", encoding="utf-8") as buffer:
            make_console(buffer, color=False).print(view())
            buffer.seek(0)
            text = buffer.read()
    if target is None:
        ui.write(text)
        return
    path = Path(expand_placeholders(target))
    write_atomic(path, text, force=bool(getattr(args, "force", False)))
    ui.err.print(f"wrote {path}", markup=False)
