"""``envdoctor diagnose``: probe an environment and report findings by area."""

from __future__ import annotations

import argparse

from envdoctor.diagnosis import diagnose
from envdoctor.errors import EXIT_FINDINGS, EXIT_OK
from envdoctor.render.console import UI
from envdoctor.render.output import add_output_arguments, emit

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
    add_output_arguments(parser, schema=SCHEMA)
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show the facts behind each line and every piece of evidence"
    )


def run(args: argparse.Namespace, ui: UI) -> int:
    diagnosis = diagnose(args.python, deep=args.deep, timeout=args.timeout)

    def json_text() -> str:
        from envdoctor.render.jsonout import dumps, findings_document

        document = findings_document(SCHEMA, diagnosis.findings, environment=diagnosis.environment)
        # Additive to envdoctor.diagnose/1: the checks that could not judge this environment.
        document["not_checked"] = [{"id": k, "reason": v} for k, v in sorted(diagnosis.skipped.items())]
        return dumps(document) + "\n"

    def view() -> object:
        from envdoctor.render.diagnose import DiagnoseView

        return DiagnoseView(diagnosis, verbose=args.verbose)

    def markdown_text() -> str:
        from envdoctor.render.markdown import diagnosis_markdown

        return diagnosis_markdown(diagnosis)

    emit(args, ui, json_text=json_text, markdown_text=markdown_text, view=view)
    return EXIT_FINDINGS if diagnosis.has_errors else EXIT_OK
