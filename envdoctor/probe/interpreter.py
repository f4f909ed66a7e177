"""Facts about a Python interpreter, learnt by running a stdlib-only script inside it.

:func:`resolve_interpreter` turns ``--python`` (an interpreter, or a venv / conda
directory) into an executable path; :func:`probe_python` runs
``_interpreter_script.py`` in it with ``-B`` and ``PYTHONDONTWRITEBYTECODE=1`` (nothing is
written into the inspected environment) and builds :class:`PythonFacts` from its JSON,
adding the import-time bounds read from the installed sources. The child keeps the user's
environment variables and user site (``-I``/``-s``/``-E`` would hide exactly the
``PYTHONPATH`` and user-site installs that break environments). Anything that is not a
working interpreter raises :class:`InterpreterError` with a one-line message naming it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from envdoctor.errors import InterpreterError
from envdoctor.model import Distribution, Duplicate, PythonFacts, tame_numbers
from envdoctor.probe.bounds import collect_import_bounds
from envdoctor.probe.launch import (
    INTERPRETER_SCRIPT,
    MARKER,
    PACKAGE_DIRS,
    Started,
    child_environment,
    resolve_interpreter,
    start_interpreter_script,
)
from envdoctor.probe.runner import Runner, RunResult, last_line, signal_name

__all__ = [
    "INTERPRETER_SCRIPT",
    "MARKER",
    "marked_result",
    "PACKAGE_DIRS",
    "child_environment",
    "probe_python",
    "resolve_interpreter",
]


def probe_python(
    executable: str,
    *,
    runner: Runner,
    timeout: float,
    environ: Mapping[str, str],
    started: Started | None = None,
) -> tuple[PythonFacts, dict[str, tuple[str, ...]]]:
    """Run the interpreter script (or wait for the ``started`` run); return the facts and package directories."""
    if started is None or started.executable != executable:
        started = start_interpreter_script(executable, runner=runner, timeout=timeout, environ=environ)
    data = _decode(executable, started.result())
    try:
        facts, package_dirs = _build(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise InterpreterError(
            f"--python {executable}: printed envdoctor output of an unexpected shape ({exc})"
        ) from None
    return facts, package_dirs


def _decode(executable: str, result: RunResult) -> dict[str, Any]:
    name = f"--python {executable}"
    stdout, stderr = result.stdout, result.stderr
    if result.error is not None:
        raise InterpreterError(f"{name}: cannot run it: {result.error}")
    if result.timed_out:
        raise InterpreterError(f"{name}: did not answer within {result.seconds:.1f}s (hangs?)")
    if result.returncode is not None and result.returncode < 0:
        raise InterpreterError(f"{name}: killed by {signal_name(-result.returncode)}")
    if result.returncode:
        detail = last_line(stderr) or last_line(stdout) or "no output"
        raise InterpreterError(f"{name}: exited with status {result.returncode}: {detail}")
    _, marker, tail = stdout.rpartition(MARKER)
    if not marker:
        shown = last_line(stdout) or last_line(stderr)
        detail = f"it printed {shown[:60]!r}" if shown else "it printed nothing"
        raise InterpreterError(f"{name}: not a Python interpreter ({detail})")
    try:
        data = json.loads(tail)
    except json.JSONDecodeError as exc:
        raise InterpreterError(f"{name}: printed malformed JSON ({exc.msg})") from None
    if not isinstance(data, dict) or data.get("schema") != 1:
        raise InterpreterError(f"{name}: printed JSON of an unknown schema")
    return data


def marked_result(stdout: str) -> dict[str, Any] | None:
    """The JSON object a child printed after :data:`MARKER` (its last one); ``None`` if none."""
    _, marker, tail = stdout.rpartition(MARKER)
    if not marker:
        return None
    try:
        data = json.loads(tail)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return tuple(str(v) for v in value)


def _build(data: Mapping[str, Any]) -> tuple[PythonFacts, dict[str, tuple[str, ...]]]:
    distributions = tuple(
        Distribution(
            name=str(d["name"]),
            version=tame_numbers(str(d["version"])),
            location=str(d["location"]),
            requires=tuple(map(tame_numbers, _strings(d["requires"]))),
            top_level=_strings(d["top_level"]),
            installer=d.get("installer"),
            metadata_error=d.get("metadata_error"),
            has_record=d.get("has_record"),
        )
        for d in data["distributions"]
    )
    duplicates = tuple(
        Duplicate(kind=d["kind"], name=str(d["name"]), installs=_strings(d["installs"]), active=d["active"])
        for d in data["duplicates"]
    )
    package_dirs = {str(k): _strings(v) for k, v in dict(data["package_dirs"]).items()}
    version_info = tuple(int(v) for v in data["version_info"])
    bounds, bound_unknown = collect_import_bounds(package_dirs, version_info)
    unknown = {str(k): str(v) for k, v in dict(data["unknown"]).items()}
    unknown.update(bound_unknown)
    facts = PythonFacts(
        executable=str(data["executable"]),
        version=str(data["version"]),
        implementation=str(data["implementation"]),
        platform=str(data["platform"]),
        machine=str(data["machine"]),
        prefix=str(data["prefix"]),
        base_prefix=str(data["base_prefix"]),
        in_venv=bool(data["in_venv"]),
        conda_prefix=data.get("conda_prefix"),
        sys_path=_strings(data["sys_path"]),
        site_packages=_strings(data["site_packages"]),
        user_site=data.get("user_site"),
        tags=_strings(data["tags"]),
        markers={str(k): str(v) for k, v in dict(data["markers"]).items()},
        distributions=distributions,
        duplicates=duplicates,
        import_bounds=bounds,
        module_files={str(k): _strings(v) for k, v in dict(data["module_files"]).items()},
        unknown=unknown,
        path_origins={str(k): str(v) for k, v in dict(data.get("path_origins", {})).items()},
    )
    return facts, package_dirs
