"""The ``envdoctor`` command line: argparse, dispatch and exit codes, no logic.

Exit codes (README "Exit codes"): 0 nothing wrong, 1 error findings, 2 usage or bad
input, 3 internal error (with a "please report" line), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from envdoctor._commands import COMMANDS
from envdoctor._version import __version__
from envdoctor.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, EnvdoctorError
from envdoctor.render.console import UI, make_ui
from envdoctor.render.safe_text import escape

__all__ = ["main", "main_exit", "build_parser"]

ISSUES_URL = "https://github.com/envdoctor/envdoctor/issues"


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"envdoctor: error: {message}\n")


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(f"envdoctor._commands.{name}")


def _selected_command(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line, found without importing any command."""
    # The first word naming a command is it: global options come before it, and only
    # `--color` takes a value, which is never a command name.
    return next((arg for arg in argv if arg in COMMANDS), None)


def _hoist_color(argv: list[str]) -> list[str]:
    """Move ``--color X`` / ``--color=X`` given after the subcommand in front of it.

    ``--color`` is a global option; users type it anywhere (``envdoctor diagnose --color always``).
    """
    command_at = next((i for i, arg in enumerate(argv) if arg in COMMANDS), None)
    if command_at is None:
        return argv
    head, tail = argv[: command_at + 1], argv[command_at + 1 :]
    moved: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(tail):
        arg = tail[index]
        if arg == "--":
            rest.extend(tail[index:])
            break
        if arg.startswith("--color="):
            moved.append(arg)
        elif arg == "--color" and index + 1 < len(tail):
            moved.extend(tail[index : index + 2])
            index += 1
        else:
            rest.append(arg)
        index += 1
    return [*head[:command_at], *moved, *head[command_at:], *rest]


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the ``selected`` command's module is imported (all if ``None``)."""
    parser = _Parser(
        prog="envdoctor",
        description="Diagnose broken machine-learning Python environments.",
    )
    parser.add_argument("--version", action="version", version=f"envdoctor {__version__}")
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour output (default: auto; NO_COLOR is honoured)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help_text in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if selected is None or name == selected:
            module = _command_module(name)
            module.add_arguments(sub)
            sub.set_defaults(_run=module.run)
    return parser


def _shown(exc: BaseException) -> str:
    """An error message with control characters from inputs escaped, its line breaks kept."""
    return "\n".join(escape(line) for line in str(exc).split("\n"))


def _internal_error(ui: UI, exc: BaseException) -> int:
    import platform

    ui.err.print(f"envdoctor: internal error: {type(exc).__name__}: {_shown(exc)}", markup=False, soft_wrap=True)
    ui.err.print(
        f"This is a bug in envdoctor {__version__} (Python {platform.python_version()}, {platform.platform()}); "
        f"please report it at {ISSUES_URL} with the command you ran.",
        markup=False,
    )
    return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    arguments = _hoist_color(list(sys.argv[1:] if argv is None else argv))
    ui = make_ui(None)
    try:
        parser = build_parser(_selected_command(arguments) or "")
        args = parser.parse_args(arguments)
        if args.color != "auto":
            ui = make_ui(args.color == "always")
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        code: int = args._run(args, ui)
        return code
    except EnvdoctorError as exc:
        if exc.exit_code == EXIT_INTERNAL:
            return _internal_error(ui, exc)
        ui.err.print(f"envdoctor: error: {_shown(exc)}", markup=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        ui.err.print("envdoctor: interrupted", markup=False)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: never a traceback
        return _internal_error(ui, exc)


def main_exit() -> None:
    """Console-script entry point."""
    sys.exit(main())
