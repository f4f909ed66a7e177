"""Findings + facts + package metadata -> an installable, explained constraints file.

:func:`solve` resolves with resolvelib over the committed package index
(``knowledge/index``) and the compatibility tables; :func:`render_constraints` and
:func:`write_atomic` produce the file; :func:`verify` asks pip's own resolver about it.
"""

from __future__ import annotations

from envdoctor.resolve.index import PackageIndex, Release, load_index
from envdoctor.resolve.output import apply_command, render_constraints, write_atomic
from envdoctor.resolve.provider import Installed, Origin, Req
from envdoctor.resolve.solve import Pin, ResolveRequest, Solution, parse_target, solve
from envdoctor.resolve.verify import Verification, verify
from envdoctor.resolve.wheels import TargetPlatform

__all__ = [
    "Installed",
    "Origin",
    "PackageIndex",
    "Pin",
    "Release",
    "Req",
    "ResolveRequest",
    "Solution",
    "TargetPlatform",
    "Verification",
    "apply_command",
    "load_index",
    "parse_target",
    "render_constraints",
    "solve",
    "verify",
    "write_atomic",
]
