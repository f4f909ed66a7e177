"""Subcommands of the ``envdoctor`` CLI, one module each.

A command module exposes ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args, ui) -> int``; :mod:`envdoctor._cli` registers the modules in
:data:`COMMANDS` order. Commands hold no logic of their own beyond wiring the
library layers to the renderers and choosing the exit code.
"""

from __future__ import annotations

__all__ = ["COMMANDS"]

#: Module names under ``envdoctor._commands``, in ``--help`` order.
COMMANDS = ("diagnose", "triage", "constraints", "keys", "explain")
