"""``envdoctor triage``: explain a pasted warning log, root cause first, harmless noise last."""

from __future__ import annotations

import argparse

from rich.text import Text

from envdoctor.errors import EXIT_FINDINGS, EXIT_OK
from envdoctor.model import Environment
from envdoctor.render.console import UI
from envdoctor.render.findings import FindingsView
from envdoctor.render.jsonout import dumps, findings_document
from envdoctor.triage import TriageResult, probe_environment, read_environment, read_log, triage_log
from envdoctor.triage.engine import environment_facts

SCHEMA = "envdoctor.triage/1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE", help="the log to read; '-' or nothing reads standard input")
    facts = parser.add_mutually_exclusive_group()
    facts.add_argument(
        "--python", metavar="PATH", help="take version facts from this interpreter (default: the current one)"
    )
    facts.add_argument(
        "--env",
        metavar="REPORT.json",
        help="take version facts from a `diagnose --json` report (e.g. from another machine)",
    )
    facts.add_argument("--no-probe", action="store_true", help="use no environment facts at all")
    parser.add_argument("--json", action="store_true", help=f"print one JSON object ({SCHEMA})")
    parser.add_argument("-v", "--verbose", action="store_true", help="show every evidence line, fix step and reference")


def _facts(args: argparse.Namespace) -> tuple[dict[str, object], list[str], str]:
    """The fact namespace, notes on how it was obtained, and its origin for the JSON."""
    if args.no_probe:
        return {}, [], "none"
    if args.env:
        environment: Environment | None = read_environment(args.env)
        origin = f"report:{args.env}"
    else:
        environment, note = probe_environment(args.python)
        origin = f"probe:{environment.python.executable}" if environment is not None else "none"
    if environment is None:
        return {}, [note] if note else [], "none"
    facts, note = environment_facts(environment)
    return facts, [note] if note else [], origin if not note else "none"


def _summary(result: TriageResult) -> Text:
    harmful = sum(1 for f in result.findings if not f.benign)
    harmless = len(result.findings) - harmful
    parts = [f"{harmful} to fix" if harmful else "nothing to fix", f"{harmless} harmless" if harmless else ""]
    return Text(f"{len(result.findings)} finding(s): " + ", ".join(p for p in parts if p) + ".")


def run(args: argparse.Namespace, ui: UI) -> int:
    if (args.file is None or args.file == "-") and ui.stdin.isatty():
        ui.err.print("Paste the log, then press Ctrl-D on an empty line (Ctrl-Z, Enter on Windows).", markup=False)
    log = read_log(args.file, ui.stdin)
    facts, notes, origin = _facts(args)
    result = triage_log(log, facts=facts, notes=notes)
    if args.json:
        document = findings_document(
            SCHEMA,
            result.findings,
            log={"source": log.source, "lines": log.physical_lines, "state_dict_reports": len(result.reports)},
            facts=origin,
            notes=list(result.notes),
        )
        ui.write(dumps(document) + "\n")
    else:
        _print(result, ui, verbose=args.verbose)
    return EXIT_FINDINGS if result.has_problems else EXIT_OK


def _print(result: TriageResult, ui: UI, *, verbose: bool) -> None:
    log = result.log
    if not result.findings:
        ui.out.print(
            Text(f"Nothing recognised in {log.source} ({log.physical_lines} lines): no known error or warning matched.")
        )
    else:
        ui.out.print(Text(f"Triage of {log.source} ({log.physical_lines} lines), most relevant first:"))
        ui.out.print(FindingsView(result.findings, verbose=verbose))
        ui.out.print(_summary(result))
    for note in result.notes:
        ui.err.print(Text(f"note: {note}"))
