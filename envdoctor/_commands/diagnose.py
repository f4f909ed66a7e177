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
        "--deep",
        action="store_true",
        help="also import each installed ML package in its own child process (torch with a tiny op on each GPU)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="limit for each external command (default 20) and for each --deep import child (default 120)",
    )
    parser.add_argument("--json", action="store_true", help=f"print one JSON object ({SCHEMA})")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show the facts behind each line and every piece of evidence"
    )


def run(args: argparse.Namespace, ui: UI) -> int:
    diagnosis = diagnose(args.python, deep=args.deep, timeout=args.timeout)
    if args.json:
        document = findings_document(SCHEMA, diagnosis.findings, environment=diagnosis.environment)
        # Additive to envdoctor.diagnose/1: the checks that could not judge this environment.
        document["not_checked"] = [{"id": k, "reason": v} for k, v in sorted(diagnosis.skipped.items())]
        ui.write(dumps(document) + "\n")
    else:
        from envdoctor.render.diagnose import DiagnoseView

        ui.out.print(DiagnoseView(diagnosis, verbose=args.verbose))
    return EXIT_FINDINGS if diagnosis.has_errors else EXIT_OK
