"""``diagnose``: probe an environment, then compare its facts with each other and with the KB.

The probe spends most of its time waiting for the inspected interpreter, so the knowledge
base (its imports included) is loaded in a thread meanwhile: ``diagnose`` is meant to run
in a fraction of a second.

With ``--deep`` each failed import (:data:`TH102 <IMPORT_FAILED_ID>`) is read by the same
knowledge ``triage`` uses: when its error text matches a known cause, that cause's finding
(with the import as evidence) replaces the generic one.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envdoctor.kb.compat import Compat
    from envdoctor.kb.entry import Entry
    from envdoctor.kb.facts import FactView
    from envdoctor.model import Constraint, Environment, Finding

__all__ = ["IMPORT_FAILED_ID", "Diagnosis", "check_environment", "diagnose"]

#: The generic "import failed" check; replaced by a known cause when triage recognises the error.
IMPORT_FAILED_ID = "TH102"
#: The API history's import conflict: it gives way to a finding that already names its cause.
API_CONFLICT_ID = "VR204"
_UNEXPLAINED_ID = "OT100"


@dataclass(frozen=True)
class Diagnosis:
    """The facts, what the checks found, the pins their fixes gather, and what was not checked.

    ``skipped`` maps a check id to why it could not judge this environment.
    """

    environment: Environment
    findings: tuple[Finding, ...]
    constraints: tuple[Constraint, ...]
    facts: FactView
    skipped: Mapping[str, str] = field(default_factory=dict)

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


def _unknown_fact_skips(checks: Iterable[Entry], scalars: Mapping[str, Any]) -> dict[str, str]:
    """Checks over scalar facts that could not run because a fact they need is unknown."""
    skipped: dict[str, str] = {}
    for entry in checks:
        if not entry.is_check or entry.each:
            continue
        missing = [
            c.fact
            for c in entry.when
            if c.op != "present" and c.fact in scalars and scalars[c.fact] is None and not c.fact.startswith("dist.")
        ]
        if missing:
            skipped[entry.id] = (
                f"needs {', '.join(sorted(set(missing)))}, which could not be collected or does not apply"
            )
    return skipped


def _collection_skips(checks: Iterable[Entry], environment: Environment) -> dict[str, str]:
    """``each`` checks whose collection could not be gathered here, and why."""
    reasons: dict[str, str] = {}
    if "gpus" in environment.host.unknown:
        reasons["gpus"] = f"the GPUs are unknown ({environment.host.unknown['gpus']})"
    if environment.deep is None and not environment.imports:
        reasons["import_failures"] = "runs only with --deep (imports each package in a child process)"
    return {e.id: reasons[e.each] for e in checks if e.is_check and e.each in reasons}


def _names_package(finding: Finding, names: Iterable[str]) -> bool:
    """Whether a static finding is about one of ``names`` (its title opens with it)."""
    title = finding.title
    return any(title.startswith((f"{name} ", f"`import {name}`")) for name in names if name)


def _explain_imports(findings: list[Finding], facts: Mapping[str, Any]) -> list[Finding]:
    """Replace each generic import failure by what explains it.

    A static check that already names the failing package (TH002/TH101 for torchvision,
    PY003 for ``import mmdet``) is confirmed instead: the import joins its evidence and
    no second finding repeats the cause. Otherwise the error text goes through triage's
    knowledge and its first known cause replaces the generic TH102; an unknown error stays
    TH102, quoting the exception.
    """
    if not any(f.id == IMPORT_FAILED_ID for f in findings):
        return findings
    from packaging.utils import canonicalize_name

    from envdoctor.model import Evidence
    from envdoctor.triage import triage_text

    out = [f for f in findings if f.id != IMPORT_FAILED_ID]
    seen: set[str] = set()
    for finding in (f for f in findings if f.id == IMPORT_FAILED_ID):
        dist = str(finding.details.get("distribution") or "")
        module = str(finding.details.get("module") or "")
        version = facts.get(f"dist.{canonicalize_name(dist)}") if dist else None
        who = f" ({dist} {version})" if version else ""
        first = str(finding.details.get("first_line") or "")
        import_evidence = Evidence(
            f"{finding.details.get('operation')}{who} failed in a child process (--deep): {first}", source="deep"
        )
        names = (dist, str(canonicalize_name(dist)) if dist else "", module)
        missing = _missing_requirements(out, str(finding.details.get("error") or ""), names)
        if missing:  # "requires nltk, which is not installed" (a warning) is why the import fails
            for index in missing:
                out[index] = dataclasses.replace(
                    out[index], severity="error", benign=False, evidence=(*out[index].evidence, import_evidence)
                )
            continue
        static = [i for i, f in enumerate(out) if f.severity == "error" and _names_package(f, names)]
        if static:
            for index in static:
                out[index] = dataclasses.replace(out[index], evidence=(*out[index].evidence, import_evidence))
            continue
        error = str(finding.details.get("error") or "")
        result = triage_text(error, source=str(finding.details.get("operation")), facts=facts)
        known = [f for f in result.findings if not f.benign and f.id != _UNEXPLAINED_ID]
        if not known:
            out.append(finding)
            continue
        cause = known[0]
        same = [i for i, f in enumerate(out) if f.id == cause.id]
        if same:  # a static [[case]] of the same entry already reports it: the import confirms it
            index = same[0]
            out[index] = dataclasses.replace(
                out[index], severity="error", benign=False, evidence=(import_evidence, *out[index].evidence)
            )
            continue
        if cause.id in seen:
            continue
        seen.add(cause.id)
        # Line numbers of the captured error text mean nothing in a report; keep each text once.
        texts = list(dict.fromkeys(e.text for e in cause.evidence))
        evidence = tuple(Evidence(text, source="deep") for text in texts)
        out.append(
            dataclasses.replace(
                cause,
                severity="error",
                benign=False,
                evidence=(import_evidence, *evidence),
                details={**cause.details, "import": dict(finding.details)},
            )
        )
    return out


_NO_MODULE = re.compile(r"No module named '([A-Za-z_][\w.]*)'")


def _missing_requirements(findings: list[Finding], error: str, names: Iterable[str]) -> list[int]:
    """Findings (by index) of a requirement of the failing package that is not installed and
    whose module the import error says is missing (``No module named 'nltk'``)."""
    from packaging.utils import canonicalize_name

    found = _NO_MODULE.findall(error)
    if not found:
        return []
    wanted = canonicalize_name(found[-1].split(".")[0])
    packages = {canonicalize_name(n) for n in names if n}
    out = []
    for index, finding in enumerate(findings):
        item = finding.details.get("item")
        if (
            isinstance(item, dict)
            and item.get("problem") == "missing"
            and canonicalize_name(str(item.get("dependency", ""))) == wanted
            and canonicalize_name(str(item.get("package", ""))) in packages
        ):
            out.append(index)
    return out


def check_environment(
    environment: Environment, *, prepared: tuple[tuple[Entry, ...], Compat] | None = None
) -> Diagnosis:
    """Run every diagnose check over already collected facts."""
    from envdoctor.kb.checks import run_checks
    from envdoctor.kb.facts import build_facts
    from envdoctor.model import gather_constraints

    checks, compat = prepared if prepared is not None else _prepare()
    view = build_facts(environment, compat)
    found = run_checks(checks, view)
    found = [_with_import_details(f, view) for f in found]
    findings = _explain_imports(_fold_api_conflicts(found), view.scalars)
    findings.sort(key=lambda f: (f.sort_key, f.title))
    skipped = {
        **_unknown_fact_skips(checks, view.scalars),
        **_collection_skips(checks, environment),
        **view.skipped,
    }
    return Diagnosis(environment, tuple(findings), gather_constraints(findings), view, skipped)


def _fold_api_conflicts(findings: list[Finding]) -> list[Finding]:
    """Fold each API-history import conflict (VR204) into a finding that already names its cause.

    transformers 5 beside huggingface-hub 0.26 is PY003 (transformers' own import-time bound)
    and, read from the history, "imports nine names the hub lacks": one cause. So is
    sentence-transformers 2.2 importing ``cached_download`` (VR112, the maintainers' answer).
    A VR204 is taken in by a harmful finding about the same two distributions (an ``each``
    check's item) or one whose title or cause names one of its symbols; what the history read
    joins that finding's evidence and ``details["api_history"]``.
    """
    from packaging.utils import canonicalize_name

    from envdoctor.model import Evidence

    def pair(finding: Finding) -> tuple[str, str] | None:
        item = finding.details.get("item")
        if not isinstance(item, dict) or not item.get("package") or not item.get("dependency"):
            return None
        return canonicalize_name(str(item["package"])), canonicalize_name(str(item["dependency"]))

    out = list(findings)
    for finding in findings:
        if finding.id != API_CONFLICT_ID or pair(finding) is None:
            continue
        item = finding.details["item"]
        symbols = [s for s in str(item.get("symbols") or item.get("symbol") or "").split(", ") if s]
        host = next(
            (
                index
                for index, other in enumerate(out)
                if other.id != API_CONFLICT_ID
                and other.severity == "error"
                and not other.benign
                and (pair(other) == pair(finding) or any(s in f"{other.title} {other.cause}" for s in symbols))
            ),
            None,
        )
        if host is None:
            continue
        agrees = Evidence(
            f"envdoctor's API history agrees: {item['package']} {item['package_version']} imports "
            f"{', '.join(symbols)}, which {item['dependency']} {item['installed']} lacks",
            source="api-history",
        )
        other = out[host]
        out[host] = dataclasses.replace(
            other, evidence=(*other.evidence, agrees), details={**other.details, "api_history": dict(item)}
        )
        out.remove(finding)
    return out


def _with_import_details(finding: Finding, view: FactView) -> Finding:
    if finding.id != IMPORT_FAILED_ID:
        return finding
    for item in view.collections.get("import_failures", ()):
        if finding.title.startswith(f"`{item['operation']}`") and str(item["first_line"]) in finding.title:
            return dataclasses.replace(finding, details={**finding.details, **item})
    return finding


def diagnose(python: str | None = None, *, deep: bool = False, timeout: float | None = None) -> Diagnosis:
    """Probe ``python`` (default: this interpreter) and check it.

    The interpreter script starts before the probe and the knowledge are even imported;
    the probe then mostly waits for children, and the knowledge loads meanwhile.
    """
    import os

    from envdoctor.probe.launch import (
        DEFAULT_DEEP_TIMEOUT,
        DEFAULT_TIMEOUT,
        resolve_interpreter,
        start_interpreter_script,
    )
    from envdoctor.probe.runner import SubprocessRunner

    each = DEFAULT_TIMEOUT if timeout is None else timeout
    deep_each = DEFAULT_DEEP_TIMEOUT if timeout is None else timeout
    started = start_interpreter_script(
        resolve_interpreter(python), runner=SubprocessRunner(), timeout=each, environ=os.environ
    )
    from envdoctor.probe import collect
    from envdoctor.probe._tasks import Task

    environment = Task(lambda: collect(python, deep=deep, timeout=each, deep_timeout=deep_each, started=started))
    prepared = _prepare()
    return check_environment(environment.result(), prepared=prepared)
