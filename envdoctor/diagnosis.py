"""``diagnose``: probe an environment, then compare its facts with each other and with the KB.

The probe spends most of its time waiting for the inspected interpreter, so the knowledge
base (its imports included) is loaded in a thread meanwhile: ``diagnose`` is meant to run
in a fraction of a second.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envdoctor.model import Constraint, Environment, Finding, gather_constraints

if TYPE_CHECKING:
    from envdoctor.kb.compat import Compat
    from envdoctor.kb.entry import Entry
    from envdoctor.kb.facts import FactView

__all__ = ["Diagnosis", "check_environment", "diagnose"]


@dataclass(frozen=True)
class Diagnosis:
    """The facts, what the checks found, and the pins their fixes gather."""

    environment: Environment
    findings: tuple[Finding, ...]
    constraints: tuple[Constraint, ...]
    facts: FactView

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" and not f.benign for f in self.findings)


@functools.cache
def _compat(root: Path) -> Compat:
    from envdoctor.kb.compat import load_compat

    return load_compat(root)


def _prepare() -> tuple[tuple[Entry, ...], Compat]:
    """The diagnose checks and the compatibility tables (imports included)."""
    from envdoctor.kb.loader import load_checks

    checks = load_checks()
    return checks.entries, _compat(checks.root)


def check_environment(
    environment: Environment, *, prepared: tuple[tuple[Entry, ...], Compat] | None = None
) -> Diagnosis:
    """Run every diagnose check over already collected facts."""
    from envdoctor.kb.checks import run_checks
    from envdoctor.kb.facts import build_facts

    checks, compat = prepared if prepared is not None else _prepare()
    view = build_facts(environment, compat)
    findings = tuple(run_checks(checks, view))
    return Diagnosis(environment, findings, gather_constraints(findings), view)


def diagnose(python: str | None = None, *, deep: bool = False, timeout: float | None = None) -> Diagnosis:
    """Probe ``python`` (default: this interpreter) and check it."""
    from envdoctor.probe import collect

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="envdoctor-kb") as pool:
        prepared = pool.submit(_prepare)
        environment = collect(python, deep=deep) if timeout is None else collect(python, deep=deep, timeout=timeout)
        return check_environment(environment, prepared=prepared.result())
