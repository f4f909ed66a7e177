"""``envdoctor compare REPORT REPORT [...]``: what differs between environments that matters."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from envdoctor.errors import EXIT_FINDINGS, EXIT_OK, BadInputError
from envdoctor.render.console import UI
from envdoctor.render.jsonout import dumps
from envdoctor.render.output import add_output_arguments, emit

if TYPE_CHECKING:
    from envdoctor.compare.reports import NamedEnvironment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "reports",
        nargs="+",
        metavar="REPORT",
        help="a `diagnose --json` report, '-' for one on standard input, or an interpreter/venv to probe now",
    )
    add_output_arguments(parser, schema="envdoctor.compare/1")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every harmless difference and finding")


def compare_and_emit(args: argparse.Namespace, ui: UI, environments: Sequence[NamedEnvironment]) -> bool:
    """Compare ``environments`` and print or write the result in the chosen format (``compare``
    and ``fleet`` alike); whether a difference matters."""
    from envdoctor.compare.engine import compare_environments
    from envdoctor.render.compare import CompareView, comparison_document, comparison_markdown

    comparison = compare_environments(environments)
    sources = {e.name: e.source for e in environments}
    emit(
        args,
        ui,
        json_text=lambda: dumps(comparison_document(comparison, sources)) + "\n",
        markdown_text=lambda: comparison_markdown(comparison),
        view=lambda: CompareView(comparison, verbose=args.verbose),
    )
    return comparison.matters


def run(args: argparse.Namespace, ui: UI) -> int:
    from envdoctor.compare.reports import load_all

    if len(args.reports) < 2:
        raise BadInputError("compare needs at least two environments (reports, '-' or interpreters)")
    stdin = getattr(ui.stdin, "buffer", None) or sys.stdin.buffer
    environments = load_all(list(args.reports), stdin=stdin)
    return EXIT_FINDINGS if compare_and_emit(args, ui, environments) else EXIT_OK
