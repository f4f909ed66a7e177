"""``envdoctor diagnose``: probe an environment and report findings by area."""

from __future__ import annotations

import argparse

from envdoctor.diagnosis import diagnose
from envdoctor.errors import EXIT_FINDINGS, EXIT_OK
from envdoctor.render.console import UI
from envdoctor.render.jsonout import dumps, findings_document

SCHEMA = "envdoctor.diagnose/1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--python", metavar="PATH", help="inspect this interpreter (or venv/conda directory) instead of the current one"
    )
    parser.add_argument(
        "--deep", action="store_true", help="also import torch in a child process and run a tiny op on each GPU"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="limit for each external command (default 10; --deep child 60)",
    )
    parser.add_argument("--json", action="store_true", help=f"print one JSON object ({SCHEMA})")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show the facts behind each line and every piece of evidence"
    )


def run(args: argparse.Namespace, ui: UI) -> int:
    diagnosis = diagnose(args.python, deep=args.deep, timeout=args.timeout)
    if args.json:
        document = findings_document(SCHEMA, diagnosis.findings, environment=diagnosis.environment)
        ui.write(dumps(document) + "\n")
    else:
        from envdoctor.render.diagnose import DiagnoseView

        ui.out.print(DiagnoseView(diagnosis, verbose=args.verbose))
    return EXIT_FINDINGS if diagnosis.has_errors else EXIT_OK
