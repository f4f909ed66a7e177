"""``constraints --json``: one document (schema ``envdoctor.constraints/1``) with every pin and why."""

from __future__ import annotations

from typing import Any

from envdoctor.model import to_jsonable
from envdoctor.resolve.solve import Solution
from envdoctor.resolve.verify import Verification

__all__ = ["SCHEMA", "solution_document"]

SCHEMA = "envdoctor.constraints/1"


def solution_document(
    solution: Solution,
    *,
    envdoctor_version: str,
    file_text: str,
    output: str | None,
    commands: list[str],
    verification: Verification | None = None,
) -> dict[str, Any]:
    """The JSON document: target, resolver, rules applied, pins with reasons, apply commands."""
    target = solution.target
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "envdoctor_version": envdoctor_version,
        "target": {
            "label": target.label,
            "python_version": target.python_version,
            "platform": target.platform,
            "interpreter": target.interpreter,
        },
        "resolver": {"engine": solution.engine, "index": solution.index, "rounds": solution.rounds},
        "inputs": dict(solution.inputs),
        "index_lines": list(solution.index_lines),
        "rules": [
            {"requirement": r.requirement, "reason": r.reason, "source": r.source, "kind": r.kind}
            for r in solution.rules
        ],
        "pins": [
            {
                "name": p.name,
                "version": p.version,
                "line": p.line,
                "installed": p.installed,
                "status": p.status,
                "reasons": [to_jsonable(r) for r in p.reasons],
                "via": list(p.via),
                "has_wheel": p.has_wheel,
                "source_build": None
                if p.build is None
                else {"needs": p.build.needs, "fails": p.build.fails, "source": p.build.source},
            }
            for p in solution.pins
        ],
        "advisories": list(solution.advisories),
        "apply": {"output": output, "commands": commands},
        "file": file_text,
        "seconds": round(solution.seconds, 3),
    }
    if verification is not None:
        document["verification"] = {
            "ok": verification.ok,
            "tool": verification.tool,
            "message": verification.message,
            "mismatches": list(verification.mismatches),
            "argv": list(verification.argv),
        }
    return document
