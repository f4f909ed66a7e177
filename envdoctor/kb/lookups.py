"""Named lookups: turn what a log line captured into facts read from a generated table.

A symptom entry may name one with ``[match] lookup = "NAME"``. When its patterns match,
the lookup receives the namespace (the entry's ``match.<group>`` captures plus the
environment's facts) and returns the facts it derives (for example the first transformers
release that knows a model type, or the releases of a package that had a removed name), or
``None`` when its table cannot explain the capture: then the entry does not fire, and a
more general entry (or the unexplained-error finding) speaks instead. The facts each lookup
sets are declared here, in :data:`LOOKUPS`, so the knowledge lint can check the entry's
placeholders against them.

Register a lookup with :func:`register` from the module that owns its table; the tables
themselves are data under ``knowledge/`` with their reach (newest release read) recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Lookup", "LOOKUPS", "register", "run_lookup"]

LookupFunction = Callable[[Mapping[str, Any]], "Mapping[str, Any] | None"]


@dataclass(frozen=True)
class Lookup:
    """One named lookup: the function and the facts (name -> one-line doc) it may set."""

    name: str
    function: LookupFunction
    facts: Mapping[str, str]


#: name -> lookup; filled by :func:`register` (see :data:`_BUILTIN` for the shipped ones).
LOOKUPS: dict[str, Lookup] = {}


def register(name: str, facts: Mapping[str, str]) -> Callable[[LookupFunction], LookupFunction]:
    """Decorator: register ``function`` as the lookup ``name`` setting ``facts``."""

    def decorate(function: LookupFunction) -> LookupFunction:
        LOOKUPS[name] = Lookup(name, function, dict(facts))
        return function

    return decorate


#: Modules that register the shipped lookups (imported on first use, so an entry's
#: ``lookup`` name is validated against the full registry).
_BUILTIN: tuple[str, ...] = ("envdoctor.kb.release_tables", "envdoctor.kb.api_history")


def _load_builtin() -> None:
    import importlib

    for module in _BUILTIN:
        importlib.import_module(module)


def known_lookups() -> Mapping[str, Lookup]:
    """Every registered lookup, the shipped ones included."""
    _load_builtin()
    return LOOKUPS


def run_lookup(name: str, namespace: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The facts lookup ``name`` derives from ``namespace``; ``None`` if it cannot explain it."""
    lookup = known_lookups().get(name)
    if lookup is None:
        return None
    values = lookup.function(namespace)
    if values is None:
        return None
    return {key: value for key, value in values.items() if key in lookup.facts}
