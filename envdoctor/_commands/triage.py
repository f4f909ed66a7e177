"""``envdoctor triage``: explain a pasted warning log, root cause first, harmless noise last."""

from __future__ import annotations

import argparse
import os

from rich.text import Text

from envdoctor.errors import EXIT_FINDINGS, EXIT_OK, BadInputError
from envdoctor.model import Environment
from envdoctor.render.console import UI
from envdoctor.render.findings import FindingsView
from envdoctor.render.jsonout import dumps, finding_json, findings_document
from envdoctor.render.output import add_output_arguments, chosen_format, emit
from envdoctor.render.triage import TriageView
from envdoctor.triage import LogText, probe_environment, read_environment, triage_log
from envdoctor.triage.engine import environment_facts
from envdoctor.triage.scan import follow_log, open_log

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
    add_output_arguments(parser, schema=SCHEMA)
    parser.add_argument(
        "--follow",
        action="store_true",
        help="keep reading FILE as it grows (like tail -f) and report each new finding as it appears; Ctrl-C stops",
    )
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


#: Files above this size get a progress bar on a terminal.
_PROGRESS_FROM = 50 * 1024 * 1024


def _read(args: argparse.Namespace, ui: UI) -> LogText:
    """The log, streamed when large, with a progress bar for big files on a terminal."""
    size = 0
    if args.file not in (None, "-"):
        try:
            size = os.stat(args.file).st_size
        except OSError:
            size = 0
    if size < _PROGRESS_FROM or not ui.stderr.isatty():
        return open_log(args.file, ui.stdin)
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=ui.err, transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task("reading", total=size)
        return open_log(args.file, ui.stdin, on_progress=lambda done: progress.update(task, completed=done))


def _follow(args: argparse.Namespace, ui: UI, facts: dict[str, object], notes: list[str]) -> int:
    if args.file in (None, "-"):
        raise BadInputError("--follow needs a FILE to follow (standard input cannot be re-read)")
    seen: set[tuple[str, str]] = set()
    harmful = False
    ui.err.print(f"following {args.file} (Ctrl-C stops)", markup=False)
    try:
        for window in follow_log(args.file):
            result = triage_log(window, facts=facts, notes=notes)
            new = [f for f in result.findings if (f.id, f.title) not in seen]
            seen.update((f.id, f.title) for f in new)
            harmful = harmful or any(not f.benign for f in new)
            if not new:
                continue
            if chosen_format(args) == "json":
                for finding in new:
                    ui.write(dumps(finding_json(finding)).replace("\n", " ") + "\n")
            else:
                ui.out.print(FindingsView(new, verbose=args.verbose))
            ui.stdout.flush()
    except KeyboardInterrupt:
        ui.err.print(f"stopped; {len(seen)} finding(s)", markup=False)
    return EXIT_FINDINGS if harmful else EXIT_OK


def run(args: argparse.Namespace, ui: UI) -> int:
    facts, notes, origin = _facts(args)
    if args.follow:
        return _follow(args, ui, facts, notes)
    reads_stdin = args.file is None or args.file == "-"
    if reads_stdin and (ui.stdin is None or getattr(ui.stdin, "closed", False)):
        raise BadInputError("standard input is closed; give the log as a file")
    if reads_stdin and ui.stdin.isatty():
        ui.err.print("Paste the log, then press Ctrl-D on an empty line (Ctrl-Z, Enter on Windows).", markup=False)
    log = _read(args, ui)
    result = triage_log(log, facts=facts, notes=notes)

    def json_text() -> str:
        document = findings_document(
            SCHEMA,
            result.findings,
            log={"source": log.source, "lines": log.physical_lines, "state_dict_reports": len(result.reports)},
            facts=origin,
            notes=list(result.notes),
        )
        return dumps(document) + "\n"

    def markdown_text() -> str:
        from envdoctor.render.markdown import findings_markdown

        title = f"envdoctor triage: {log.source} ({log.physical_lines} lines)"
        return findings_markdown(title, result.findings, notes=result.notes)

    emit(
        args,
        ui,
        json_text=json_text,
        markdown_text=markdown_text,
        view=lambda: TriageView(result, verbose=args.verbose),
    )
    if chosen_format(args) == "text":
        for note in result.notes:
            ui.err.print(Text(f"note: {note}"))
    return EXIT_FINDINGS if result.has_problems else EXIT_OK
