"""Findings + facts + the user's targets -> an installable, explained constraints file.

A real resolver does the resolving (:mod:`~envdoctor.resolve.engine`: uv, else pip) against
the index the user's configuration names (:mod:`~envdoctor.resolve.indexes`);
:func:`solve` feeds it what only envdoctor knows (:mod:`~envdoctor.resolve.rules`), checks
each answer against that knowledge and resolves again until nothing is violated;
:func:`render_constraints` and :func:`write_atomic` produce the file; :func:`verify` asks an
installer for a dry run.
"""

from __future__ import annotations

from envdoctor.resolve.engine import Engine, EngineFailure, EngineRequest, PipEngine, Resolution, UvEngine, pick_engine
from envdoctor.resolve.indexes import IndexConfig, read_index_config
from envdoctor.resolve.output import apply_command, render_constraints, write_atomic
from envdoctor.resolve.rules import Knowledge, Rule, load_knowledge
from envdoctor.resolve.solve import Pin, ResolveRequest, Solution, parse_target, solve
from envdoctor.resolve.target import TargetPlatform
from envdoctor.resolve.verify import Verification, verify

__all__ = [
    "Engine",
    "EngineFailure",
    "EngineRequest",
    "IndexConfig",
    "Knowledge",
    "Pin",
    "PipEngine",
    "Resolution",
    "ResolveRequest",
    "Rule",
    "Solution",
    "TargetPlatform",
    "UvEngine",
    "Verification",
    "apply_command",
    "load_knowledge",
    "parse_target",
    "pick_engine",
    "read_index_config",
    "render_constraints",
    "solve",
    "verify",
    "write_atomic",
]
