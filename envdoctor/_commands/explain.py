"""``envdoctor explain ID``: print one knowledge entry; ``--list`` prints them all; ``--lint [DIR]`` checks them."""

from __future__ import annotations

import argparse
import difflib
from pathlib import Path

from rich.text import Text

from envdoctor.errors import EXIT_FINDINGS, EXIT_OK, BadInputError
from envdoctor.kb.loader import knowledge_root, lint_root, load_knowledge
from envdoctor.render.console import UI
from envdoctor.render.explain import EntryView, entry_json
from envdoctor.render.jsonout import dumps


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", nargs="?", metavar="ID", help="entry id or kebab-case name")
    parser.add_argument("--list", action="store_true", help="list every entry: id, category, title")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--lint",
        nargs="?",
        const="",
        metavar="DIR",
        help="check every entry in DIR (default: the shipped knowledge): schema, fact names, placeholders, "
        "sourced version boundaries; exit 1 on any problem",
    )


def _lint(directory: str, ui: UI) -> int:
    root = Path(directory) if directory else knowledge_root()
    if not (root / "entries").is_dir():
        raise BadInputError(f"--lint {root}: no entries/ folder (expected a knowledge directory)")
    problems = lint_root(root)
    for problem in problems:
        ui.write(f"{problem}\n")
    count = len(list((root / "entries").glob("*.toml")))
    ui.err.print(f"{len(problems)} problem(s) in {count} entries under {root}")
    return EXIT_FINDINGS if problems else EXIT_OK


def run(args: argparse.Namespace, ui: UI) -> int:
    if args.lint is not None:
        return _lint(args.lint, ui)
    knowledge = load_knowledge()
    if args.list or args.id is None:
        if args.json:
            ui.write(
                dumps({"schema": "envdoctor.entries/1", "entries": [entry_json(e) for e in knowledge.entries]}) + "\n"
            )
            return EXIT_OK
        for listed in knowledge.entries:
            line = Text(f"{listed.id}  ", style="bold")
            line.append(f"{listed.name:<40} ", style="cyan")
            line.append(f"{listed.category:<30} ", style="dim")
            line.append(listed.title)
            ui.out.print(line)
        return EXIT_OK
    entry = knowledge.get(args.id)
    if entry is None:
        names = [e.id for e in knowledge.entries] + [e.name for e in knowledge.entries]
        close = difflib.get_close_matches(args.id, names, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `envdoctor explain --list` shows them all"
        raise BadInputError(f"no knowledge entry {args.id!r}{hint}")
    if args.json:
        ui.write(dumps(entry_json(entry)) + "\n")
    else:
        ui.out.print(EntryView(entry))
    return EXIT_OK
