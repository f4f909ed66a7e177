"""State-dict analysis: explain why a checkpoint's keys and a model's keys differ.

Used by ``triage`` (key lists parsed from a log), ``keys --against`` (two checkpoints or a
key list) and the Python API (:func:`explain_load`, :func:`explain_incompatible`). No log
and no torch is needed here: a :class:`~envdoctor.model.KeyReport` goes in, findings come out.

Modules: ``analyze`` (the analyzers and their order), ``names``, ``prefix``, ``shapes``,
``variants`` (key-name algorithms), ``load`` (reports from live objects, files and key lists),
``checkpoint`` (inventory and safety findings for a read checkpoint), ``api``.
"""

from __future__ import annotations

__all__: list[str] = []
