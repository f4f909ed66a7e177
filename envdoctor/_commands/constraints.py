"""``envdoctor constraints``: a pinned, explained constraints file that pip and uv accept.

Parses the arguments and hands them to :func:`envdoctor.resolve.flow.make_constraints` (the
whole flow: probe, findings, resolution by a real resolver, the knowledge's checks, the
file, the dry run); then writes the file atomically and picks a view: the file on stdout
with the installed -> proposed table on stderr, the table alone with ``-o``, or JSON.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from envdoctor._version import __version__
from envdoctor.errors import EXIT_FINDINGS, EXIT_OK, BadInputError
from envdoctor.render.console import UI

if TYPE_CHECKING:
    from envdoctor.triage.logs import LogText


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log", metavar="FILE", help="also fix what `envdoctor triage` finds in this log ('-' = stdin)"
    )
    parser.add_argument(
        "--target",
        metavar="REQ",
        action="append",
        default=[],
        help="a requirement you want, e.g. 'mmdet==3.3.0' or 'transformers<4.31' (repeatable)",
    )
    parser.add_argument(
        "--keep", metavar="PKG", action="append", default=[], help="keep this package at its installed version"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--python", metavar="PATH", help="make constraints for this interpreter's environment")
    where.add_argument(
        "--python-version",
        metavar="X.Y",
        help="make constraints for a fresh environment of this Python (no installed packages are kept)",
    )
    parser.add_argument(
        "--platform",
        metavar="TAG",
        help="platform of a fresh environment, e.g. manylinux_2_28_x86_64, macosx_11_0_arm64, win_amd64",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write the constraints here (default: print them)")
    parser.add_argument("--force", action="store_true", help="replace an existing output file")
    parser.add_argument(
        "--verify", action="store_true", help="dry-run pip's resolver against the file (needs the package index)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="also list packages kept as installed")
    parser.add_argument("--json", action="store_true", help="print one JSON object (envdoctor.constraints/1)")
    parser.add_argument(
        "--resolver",
        choices=("auto", "uv", "pip"),
        default="auto",
        help="resolver to drive (default: uv if installed)",
    )
    parser.add_argument(
        "--index-url", metavar="URL", help="resolve against this index instead of pip's/uv's configuration"
    )
    parser.add_argument(
        "--extra-index-url", metavar="URL", action="append", default=[], help="an additional index (repeatable)"
    )
    parser.add_argument(
        "--find-links", metavar="PATH", action="append", default=[], help="a folder or page of wheels (repeatable)"
    )


def _read_log(log: str | None, ui: UI) -> LogText | None:
    """``--log``, read as ``triage`` reads a log: the same checks, bounds and streaming."""
    if log is None:
        return None
    from envdoctor.triage.scan import open_log

    if log == "-" and (ui.stdin is None or getattr(ui.stdin, "closed", False)):
        raise BadInputError("--log -: standard input is closed")
    try:
        return open_log(log, stdin=ui.stdin)
    except BadInputError as exc:
        raise BadInputError(f"--log: {exc}") from None


@contextlib.contextmanager
def _progress(ui: UI) -> Iterator[Callable[[str], None]]:
    """A rich status line on stderr when it is a terminal; a no-op otherwise."""
    if not ui.stderr.isatty():
        yield lambda _text: None
        return
    with ui.err.status("resolving") as status:

        def say(text: str) -> None:
            status.update(text)

        yield say


def run(args: argparse.Namespace, ui: UI) -> int:
    from envdoctor.render.constraints import ConstraintsView, VerificationView
    from envdoctor.render.jsonout import dumps
    from envdoctor.resolve.flow import ConstraintsOptions, make_constraints
    from envdoctor.resolve.output import check_output_path, write_atomic
    from envdoctor.resolve.report import solution_document

    output = Path(args.output) if args.output else None
    if output is not None:
        check_output_path(output, force=args.force)
    options = ConstraintsOptions(
        targets=tuple(args.target),
        keep=tuple(args.keep),
        python=args.python,
        python_version=args.python_version,
        platform=args.platform,
        log=_read_log(args.log, ui),
        resolver=args.resolver,
        index_url=args.index_url,
        extra_index_urls=tuple(args.extra_index_url),
        find_links=tuple(args.find_links),
        verify=args.verify,
        file_name=str(output) if output is not None else "constraints.txt",
    )
    with _progress(ui) as say:
        outcome = make_constraints(options, progress=say)
    if output is not None:
        write_atomic(output, outcome.text, force=args.force)
    if args.json:
        document = solution_document(
            outcome.solution,
            envdoctor_version=__version__,
            file_text=outcome.text,
            output=str(output) if output is not None else None,
            commands=[outcome.command] if outcome.command else [],
            verification=outcome.verification,
        )
        ui.write(dumps(document) + "\n")
    elif output is not None:
        ui.out.print(
            ConstraintsView(outcome.solution, command=outcome.command, written=str(output), verbose=args.verbose)
        )
    else:
        ui.write(outcome.text)
        ui.err.print(ConstraintsView(outcome.solution, command=outcome.command, verbose=args.verbose))
    if outcome.verification is None:
        return EXIT_OK
    if not args.json:
        (ui.out if output is not None else ui.err).print(VerificationView(outcome.verification))
    return EXIT_OK if outcome.verification.ok else EXIT_FINDINGS
