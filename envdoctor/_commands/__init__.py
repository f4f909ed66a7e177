"""Subcommands of the ``envdoctor`` CLI, one module each.

A command module exposes ``add_arguments(parser)`` and ``run(args, ui) -> int``.
:data:`COMMANDS` lists the commands with their one-line help so that
the CLI imports only the module of the command being run (start-up time matters:
``diagnose`` must finish in a fraction of a second). Commands hold no logic beyond
wiring the library layers to the renderers and choosing the exit code.
"""

from __future__ import annotations

__all__ = ["COMMANDS"]

#: Command name -> one-line help, in ``--help`` order. Module: ``envdoctor._commands.<name>``.
COMMANDS: dict[str, str] = {
    "diagnose": "Probe an environment (packages, torch build, CUDA driver, GPUs) and report what is wrong.",
    "triage": "Explain a pasted warning log: each symptom, whether it is harmless or fatal, and the fix.",
    "constraints": "Write a pinned, explained constraints.txt for the findings and your targets (never installs).",
    "keys": "List a checkpoint's tensors, or explain its difference from a model, without running pickle code.",
    "compare": "Compare environments (reports, stdin or interpreters): what differs that matters, which side is wrong.",
    "fleet": "Probe every node of a Ray cluster (envdoctor[ray]) and compare them: the odd nodes out.",
    "explain": "Explain a knowledge entry by id (e.g. SD102) or name; --list shows every entry.",
}
