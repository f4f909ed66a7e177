"""envdoctor: diagnose broken machine-learning Python environments.

The public API returns the same data the CLI prints:

* :func:`probe` collects facts about an interpreter and its host;
* :func:`diagnose` compares those facts with each other and with the knowledge base;
* :func:`triage` explains a pasted warning log;
* :func:`explain_load` / :func:`explain_incompatible` explain a state-dict load;
* :func:`constraints` proposes pinned, explained constraints (a real resolver plus the knowledge);
* :func:`compare` says what differs between environments that matters.

Heavy modules load on first use, so ``import envdoctor`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from envdoctor._version import __version__

__all__ = [
    "__version__",
    "probe",
    "diagnose",
    "triage",
    "explain_load",
    "explain_incompatible",
    "constraints",
    "compare",
]

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from envdoctor.compare.engine import Comparison
    from envdoctor.diagnosis import Diagnosis
    from envdoctor.kb.loader import KnowledgeBase
    from envdoctor.model import Environment, Finding
    from envdoctor.resolve.flow import ConstraintsOutcome
    from envdoctor.triage import TriageResult


def probe(python: str | None = None, *, deep: bool = False) -> Environment:
    """Collect facts about ``python`` (default: this interpreter) and the host."""
    from envdoctor.probe import collect

    return collect(python, deep=deep)


def diagnose(python: str | None = None, *, deep: bool = False) -> Diagnosis:
    """Probe and check an environment; the result holds facts, findings and constraints."""
    from envdoctor.diagnosis import diagnose as _diagnose

    return _diagnose(python, deep=deep)


def triage(
    text: str,
    *,
    source: str = "<text>",
    facts: Mapping[str, Any] | None = None,
    environment: Environment | None = None,
    knowledge: KnowledgeBase | None = None,
) -> TriageResult:
    """Explain a warning log; facts come from ``facts``, else ``environment``, else none."""
    from envdoctor.triage import triage_text

    return triage_text(text, source=source, facts=facts, environment=environment, knowledge=knowledge)


def explain_load(
    model: Any, checkpoint: Any, *, knowledge: KnowledgeBase | None = None, facts: Mapping[str, Any] | None = None
) -> list[Finding]:
    """Explain loading ``checkpoint`` (a state dict or path) into ``model``, without mutating it."""
    from envdoctor.statedict.api import explain_load as _explain_load

    return _explain_load(model, checkpoint, knowledge=knowledge, facts=facts)


def explain_incompatible(
    result: Any, *, model: Any = None, knowledge: KnowledgeBase | None = None, facts: Mapping[str, Any] | None = None
) -> list[Finding]:
    """Explain torch's ``_IncompatibleKeys`` (what ``load_state_dict(strict=False)`` returns)."""
    from envdoctor.statedict.api import explain_incompatible as _explain_incompatible

    return _explain_incompatible(result, model=model, knowledge=knowledge, facts=facts)


def constraints(
    targets: Sequence[str] = (),
    *,
    python: str | None = None,
    python_version: str | None = None,
    platform: str | None = None,
    log: str | None = None,
    keep: Sequence[str] = (),
    verify: bool = False,
) -> ConstraintsOutcome:
    """Pinned, explained constraints for an environment (``python``) or a fresh target.

    Same flow as ``envdoctor constraints`` (:func:`envdoctor.resolve.flow.make_constraints`):
    ``log`` is a log's text whose findings also ask for pins. Needs the package index the
    user's pip/uv configuration names (resolution is done by uv, else pip).
    """
    from envdoctor.resolve.flow import ConstraintsOptions, make_constraints

    options = ConstraintsOptions(
        targets=tuple(targets),
        keep=tuple(keep),
        python=python,
        python_version=python_version,
        platform=platform,
        log_text=log,
        verify=verify,
    )
    return make_constraints(options)


def compare(environments: Sequence[str | Environment]) -> Comparison:
    """Compare environments: ``diagnose --json`` report paths, interpreter paths, or probed environments."""
    from envdoctor.compare.engine import compare_environments
    from envdoctor.compare.reports import NamedEnvironment, read_environment_source

    named = [
        read_environment_source(item) if isinstance(item, str) else NamedEnvironment(f"env{index + 1}", "<api>", item)
        for index, item in enumerate(environments)
    ]
    return compare_environments(named)
