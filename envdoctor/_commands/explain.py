"""``envdoctor explain ID``: print one knowledge entry; ``--list`` prints them all."""

from __future__ import annotations

import argparse
import difflib

from rich.text import Text

from envdoctor.errors import EXIT_OK, BadInputError
from envdoctor.kb.loader import load_knowledge
from envdoctor.render.console import UI
from envdoctor.render.explain import EntryView, entry_json
from envdoctor.render.jsonout import dumps


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", nargs="?", metavar="ID", help="entry id or kebab-case name")
    parser.add_argument("--list", action="store_true", help="list every entry: id, category, title")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace, ui: UI) -> int:
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
