"""``diagnose``: probe an environment, then compare its facts with each other and with the KB."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from envdoctor.kb.checks import run_checks
from envdoctor.kb.compat import Compat, load_compat
from envdoctor.kb.facts import FactView, build_facts
from envdoctor.kb.loader import load_knowledge
from envdoctor.model import Constraint, Environment, Finding, gather_constraints

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
    return load_compat(root)


def check_environment(environment: Environment) -> Diagnosis:
    """Run every diagnose check over already collected facts."""
    knowledge = load_knowledge()
    view = build_facts(environment, _compat(knowledge.root))
    findings = tuple(run_checks(knowledge.checks, view))
    return Diagnosis(environment, findings, gather_constraints(findings), view)


def diagnose(python: str | None = None, *, deep: bool = False, timeout: float | None = None) -> Diagnosis:
    """Probe ``python`` (default: this interpreter) and check it."""
    from envdoctor.probe import collect

    environment = collect(python, deep=deep) if timeout is None else collect(python, deep=deep, timeout=timeout)
    return check_environment(environment)
