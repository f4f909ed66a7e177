"""envdoctor: diagnose broken machine-learning Python environments.

The public API returns the same data the CLI prints:

* :func:`probe` collects facts about an interpreter and its host;
* :func:`diagnose` compares those facts with each other and with the knowledge base;
* :func:`triage` explains a pasted warning log;
* :func:`explain_load` / :func:`explain_incompatible` explain a state-dict load.

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
]

if TYPE_CHECKING:
    from envdoctor.diagnosis import Diagnosis
    from envdoctor.model import Environment


def probe(python: str | None = None, *, deep: bool = False) -> Environment:
    """Collect facts about ``python`` (default: this interpreter) and the host."""
    from envdoctor.probe import collect

    return collect(python, deep=deep)


def diagnose(python: str | None = None, *, deep: bool = False) -> Diagnosis:
    """Probe and check an environment; the result holds facts, findings and constraints."""
    from envdoctor.diagnosis import diagnose as _diagnose

    return _diagnose(python, deep=deep)


def triage(text: str, **kwargs: Any) -> Any:
    """Explain a warning log; see :func:`envdoctor.triage.triage_text`."""
    from envdoctor.triage import triage_text

    return triage_text(text, **kwargs)


def explain_load(model: Any, checkpoint: Any, **kwargs: Any) -> Any:
    """Explain loading ``checkpoint`` (a state dict or path) into ``model``, without mutating it."""
    from envdoctor.statedict.api import explain_load as _explain_load

    return _explain_load(model, checkpoint, **kwargs)


def explain_incompatible(result: Any, **kwargs: Any) -> Any:
    """Explain torch's ``_IncompatibleKeys`` (what ``load_state_dict(strict=False)`` returns)."""
    from envdoctor.statedict.api import explain_incompatible as _explain_incompatible

    return _explain_incompatible(result, **kwargs)
