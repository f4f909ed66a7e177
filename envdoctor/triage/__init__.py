"""Explain a pasted warning log: state-dict load reports, version conflicts, CUDA symptoms.

:func:`triage_text` (and :func:`triage_log` for an already read log) returns a
:class:`TriageResult` whose findings are ordered root cause first, harmless noise last.
The submodules: :mod:`.logs` reads and normalises logs, :mod:`.reports` parses state-dict
load reports into key reports, :mod:`.symptoms` matches knowledge patterns, :mod:`.order`
holds the ordering rule, :mod:`.engine` ties them together; key reports are explained by
:mod:`envdoctor.statedict`.
"""

from __future__ import annotations

from envdoctor.triage.engine import (
    TriageResult,
    environment_facts,
    probe_environment,
    read_environment,
    triage_log,
    triage_text,
)
from envdoctor.triage.logs import LogLine, LogText, normalize, read_log
from envdoctor.triage.order import order_findings
from envdoctor.triage.reports import ParsedReport, expand_collapsed, extract_reports

__all__ = [
    "LogLine",
    "LogText",
    "ParsedReport",
    "TriageResult",
    "environment_facts",
    "expand_collapsed",
    "extract_reports",
    "normalize",
    "order_findings",
    "probe_environment",
    "read_environment",
    "read_log",
    "triage_log",
    "triage_text",
]
