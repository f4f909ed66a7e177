"""The JSON documents envdoctor prints: one object per run, with a versioned schema name."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from envdoctor.model import Finding, gather_constraints, to_jsonable

__all__ = ["finding_json", "findings_document", "dumps"]


def finding_json(finding: Finding) -> dict[str, Any]:
    """One finding in the public JSON contract (README "JSON output")."""
    data: dict[str, Any] = to_jsonable(finding)
    return data


def findings_document(schema: str, findings: Iterable[Finding], **extra: Any) -> dict[str, Any]:
    """``{"schema": ..., **extra, "findings": [...], "constraints": [...]}``."""
    findings = tuple(findings)
    document: dict[str, Any] = {"schema": schema}
    document.update({k: to_jsonable(v) for k, v in extra.items()})
    document["findings"] = [finding_json(f) for f in findings]
    document["constraints"] = to_jsonable(gather_constraints(findings))
    return document


def dumps(document: Mapping[str, Any]) -> str:
    """Stable, readable JSON text."""
    return json.dumps(document, indent=2, ensure_ascii=False)
