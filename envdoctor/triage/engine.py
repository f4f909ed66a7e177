"""Triage one log: extract state-dict reports, match symptom patterns, order the findings.

The steps: normalise the log (:mod:`.logs`); parse every state-dict load report into a
:class:`~envdoctor.model.KeyReport` (:mod:`.reports`) and hand each to the key analyser
(``envdoctor.statedict.analyze.analyze_keys``); match every entry's ``[match] patterns``
(:mod:`.symptoms`); merge findings of one entry into one; order them (:mod:`.order`).
Two rules make a failed run never look harmless: the findings of a load report that raised
(a strict ``load_state_dict``) are folded with the strict-load entry (``OT101``: not benign,
its ``why`` added to the cause, its fix steps first), and an error line no harmful finding
explains becomes the unexplained-error finding (``OT100``, :mod:`.errors`).
Facts come from a probed :class:`~envdoctor.model.Environment` (or a ``diagnose --json``
report) through :func:`envdoctor.kb.facts.build_facts`; without them findings still come,
only without their version-dependent notes. Nothing here prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from envdoctor.errors import InterpreterError
from envdoctor.kb.checks import finding_from_entry
from envdoctor.kb.entry import Entry
from envdoctor.kb.loader import KnowledgeBase, load_knowledge
from envdoctor.model import Constraint, Environment, Evidence, Finding, gather_constraints
from envdoctor.triage.errors import FALLBACK_ID, find_error, is_explained
from envdoctor.triage.logs import LogText, normalize
from envdoctor.triage.order import order_findings
from envdoctor.triage.reports import ParsedReport, extract_reports
from envdoctor.triage.symptoms import Matcher, match_symptoms

__all__ = [
    "TriageResult",
    "triage_log",
    "triage_text",
    "environment_facts",
    "probe_environment",
    "read_environment",
]


@dataclass(frozen=True)
class TriageResult:
    """What one log says: its reports, the ordered findings, their pins, and reading notes."""

    log: LogText
    reports: tuple[ParsedReport, ...]
    findings: tuple[Finding, ...]
    constraints: tuple[Constraint, ...]
    notes: tuple[str, ...] = ()

    @property
    def has_problems(self) -> bool:
        """True when a non-benign finding is present (exit code 1)."""
        return any(not f.benign for f in self.findings)


_MATCHERS: dict[int, tuple[KnowledgeBase, Matcher]] = {}


def _matcher(knowledge: KnowledgeBase) -> Matcher:
    cached = _MATCHERS.get(id(knowledge))
    if cached is None or cached[0] is not knowledge:
        cached = (knowledge, Matcher(e for e in knowledge.symptoms if e.id != FALLBACK_ID))
        _MATCHERS[id(knowledge)] = cached
    return cached[1]


def environment_facts(
    environment: Environment, knowledge: KnowledgeBase | None = None
) -> tuple[dict[str, Any], str | None]:
    """The fact namespace of ``environment`` and, if it could not be built, why not."""
    knowledge = knowledge or load_knowledge()
    try:
        from envdoctor.kb.compat import load_compat
        from envdoctor.kb.facts import build_facts

        return dict(build_facts(environment, load_compat(knowledge.root)).scalars), None
    except Exception as exc:
        return {}, f"environment facts unavailable ({type(exc).__name__}: {exc}); findings carry no version notes"


def probe_environment(python: str | None = None) -> tuple[Environment | None, str | None]:
    """Probe ``python`` (default: this interpreter); on failure, ``None`` and the reason.

    A ``--python`` that is no interpreter is the user's input and raises
    :class:`InterpreterError`; any other failure is recorded and triage goes on.
    """
    try:
        from envdoctor.probe import collect
    except ImportError as exc:
        return None, f"environment not probed: the probe is unavailable ({exc})"
    try:
        return collect(python), None
    except InterpreterError:
        raise
    except Exception as exc:
        return None, f"environment not probed ({type(exc).__name__}: {exc}); findings carry no version notes"


def read_environment(path: str) -> Environment:
    """The environment of a ``diagnose --json`` report (or a bare environment object) at ``path``."""
    from envdoctor.diagnose_report import read_report

    return read_report(path, f"--env {path}", bare=True)


def _analyze(parsed: ParsedReport, facts: Mapping[str, Any], knowledge: KnowledgeBase) -> list[Finding]:
    from envdoctor.statedict.analyze import analyze_keys

    findings = analyze_keys(parsed.report, facts=facts, knowledge=knowledge)
    report = parsed.report
    anchored = []
    for finding in findings:
        if not any(e.line is not None for e in finding.evidence) and report.header_line is not None:
            header = Evidence(report.header_text or "", line=report.header_line, source="log")
            finding = dataclasses.replace(finding, evidence=(header, *finding.evidence))
        anchored.append(finding)
    return anchored


#: The entry whose texts say that a strict load raised (folded into that report's findings).
STRICT_LOAD_ID = "OT101"


def _strict(findings: Sequence[Finding], entry: Entry | None) -> list[Finding]:
    """The findings of a load report that raised: none of them is harmless any more.

    A harmless difference (a buffer, an unused head) keeps its cause, which says it is
    harmless, plus the strict-load entry's ``why``; its fix starts with that entry's steps
    (drop the keys, ``strict=False``, or the version pin already in the fix)."""
    if entry is None:
        return list(findings)
    out = []
    for finding in findings:
        details = {**finding.details, "strict_load_raised": True}
        if not finding.benign:
            out.append(dataclasses.replace(finding, details=details))
            continue
        cause = f"{finding.cause} {entry.why.strip()}"
        fix = dataclasses.replace(finding.fix, steps=(*entry.fix_steps, *finding.fix.steps))
        out.append(dataclasses.replace(finding, benign=False, severity="error", cause=cause, fix=fix, details=details))
    return out


def _fallback(
    log: LogText, findings: Sequence[Finding], knowledge: KnowledgeBase, reports: Sequence[ParsedReport]
) -> Finding | None:
    """The unexplained-error finding (:mod:`.errors`) when the log shows an error no finding explains."""
    entry = knowledge.get(FALLBACK_ID)
    if entry is None:
        return None
    signal = find_error(log, entry)
    report_lines = [n for p in reports for n in (p.report.header_line, *p.report.lines.values()) if n is not None]
    if signal is None or is_explained(signal, findings, report_lines):
        return None
    if signal.package is not None:
        package, raised_in = signal.package, signal.frame or "site-packages"
    elif signal.frame is not None:
        package, raised_in = "code outside site-packages (your script or the standard library)", signal.frame
    else:
        package, raised_in = "a place the paste does not show", "no traceback frame in the log"
    namespace = {"match.exception": signal.text, "match.package": package, "match.raised_in": raised_in}
    details = {"match": {"exception": signal.text, "package": signal.package, "raised_in": signal.frame}}
    evidence = [Evidence(signal.text, line=signal.line, source=log.source)]
    return finding_from_entry(entry, namespace, evidence=evidence, details=details)


def _merge(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per entry: later duplicates add their evidence lines to the first."""
    merged: dict[str, Finding] = {}
    for finding in findings:
        first = merged.get(finding.id)
        if first is None:
            merged[finding.id] = finding
            continue
        seen = {(e.line, e.text) for e in first.evidence}
        extra = tuple(e for e in finding.evidence if (e.line, e.text) not in seen)
        merged[finding.id] = dataclasses.replace(first, evidence=first.evidence + extra)
    return list(merged.values())


#: Lookups whose findings are generic readings: a curated entry about the same lines says it better.
_GENERIC_LOOKUPS = frozenset({"api-history"})


def _fold_generic(findings: Sequence[Finding], knowledge: KnowledgeBase) -> list[Finding]:
    """Fold each generic API-history reading into a curated finding on the same log lines.

    ``torch._six`` or ``cached_download`` is explained by a curated entry (the maintainers'
    answer, VR114, VR112) and by the generic API-history reading of the same error line
    (VR200-VR204): two findings for one cause. When a harmful finding from an entry without
    such a lookup has the same category and rests on a line the generic one rests on, the
    generic finding is dropped and what it read (its title, its pins) stays in the curated
    finding's ``details["api_history"]``. Its pins for packages the curated fix does not pin
    join that fix (VR114 says why ``torch._six`` is gone; the history adds the exact
    ``torch<1.9`` for ``container_abcs`` and the caller's release that stopped using it).
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    def package(pin: str) -> str | None:
        try:
            return canonicalize_name(Requirement(pin).name)
        except InvalidRequirement:
            return None

    generic = {e.id for e in knowledge.entries if e.lookup in _GENERIC_LOOKUPS}
    out = list(findings)
    for finding in findings:
        if finding.id not in generic:
            continue
        lines = {e.line for e in finding.evidence if e.line is not None}
        host = next(
            (
                index
                for index, other in enumerate(out)
                if other.id not in generic
                and not other.benign
                and other.category == finding.category
                and lines & {e.line for e in other.evidence}
            ),
            None,
        )
        if host is None:
            continue
        curated = out[host]
        pinned = {package(pin) for pin in curated.fix.constraints}
        added = tuple(pin for pin in finding.fix.constraints if package(pin) not in pinned)
        folded = {"id": finding.id, "title": finding.title, "pins": list(finding.fix.constraints)}
        out[host] = dataclasses.replace(
            curated,
            fix=dataclasses.replace(curated.fix, constraints=curated.fix.constraints + added),
            details={**curated.details, "api_history": folded},
        )
        out.remove(finding)
    return out


def _explains(knowledge: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    return {entry.id: entry.explains for entry in knowledge.entries if entry.explains}


def triage_log(
    log: LogText,
    *,
    facts: Mapping[str, Any] | None = None,
    knowledge: KnowledgeBase | None = None,
    notes: Sequence[str] = (),
) -> TriageResult:
    """Triage an already normalised log against ``knowledge`` with the fact namespace ``facts``."""
    knowledge = knowledge or load_knowledge()
    namespace = dict(facts or {})
    all_notes = list(log.notes) + list(notes)
    reports = tuple(extract_reports(log))
    findings: list[Finding] = []
    sequences: list[list[str]] = []
    strict_entry = knowledge.get(STRICT_LOAD_ID)
    if reports:
        try:
            for parsed in reports:
                analysed = _analyze(parsed, namespace, knowledge)
                if parsed.raised:
                    analysed = _strict(analysed, strict_entry)
                sequences.append([f.id for f in analysed])
                findings.extend(analysed)
        except ImportError as exc:
            all_notes.append(
                f"state-dict key analysis unavailable ({exc}); {len(reports)} load report(s) not explained"
            )
    for parsed in reports:
        if parsed.truncated:
            all_notes.append(
                f"the key list of the load report at line {parsed.report.header_line} is cut short "
                "('...' or the end of the paste); findings rest on the keys shown"
            )
    symptoms = match_symptoms(log, _matcher(knowledge), namespace)
    explained_load = bool(sequences) and any(parsed.raised for parsed in reports)
    explained_load = explained_load or any(
        f.area == "state_dict" and not f.benign for f in [*findings, *symptoms] if f.id != STRICT_LOAD_ID
    )
    if explained_load:
        # folded into the report's findings, or another state-dict finding explains the failed load
        symptoms = [f for f in symptoms if f.id != STRICT_LOAD_ID]
    findings.extend(symptoms)
    fallback = _fallback(log, findings, knowledge, reports)
    if fallback is not None:
        findings.append(fallback)
    ordered = order_findings(
        _fold_generic(_merge(findings), knowledge),
        priorities={e.id: e.priority for e in knowledge.entries},
        explains=_explains(knowledge),
        sequences=sequences,
    )
    return TriageResult(log, reports, tuple(ordered), gather_constraints(ordered), tuple(all_notes))


def triage_text(
    text: str,
    *,
    source: str = "<text>",
    facts: Mapping[str, Any] | None = None,
    environment: Environment | None = None,
    knowledge: KnowledgeBase | None = None,
) -> TriageResult:
    """Triage log ``text``. Facts come from ``facts``, else from ``environment``, else none."""
    knowledge = knowledge or load_knowledge()
    notes: list[str] = []
    if facts is None and environment is not None:
        facts, note = environment_facts(environment, knowledge)
        if note:
            notes.append(note)
    return triage_log(normalize(text, source=source), facts=facts, knowledge=knowledge, notes=notes)
