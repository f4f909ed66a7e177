"""The probe: collect the facts of one Python environment and its host, fast.

:func:`collect` is the entry point behind ``envdoctor diagnose [--python PATH] [--deep]``.
It runs a stdlib-only script inside the inspected interpreter (packages, paths, tags,
duplicates, compiled extensions), reads torch's build facts and import-time bounds from
installed files in this process, and probes the host (NVML, ``/proc``/``/sys``,
``nvidia-smi``, ``nvcc``) in threads meanwhile; ``deep`` adds a torch import child
(:mod:`.deep`) and one import child per installed ML package (:mod:`.imports`). It imports
no heavy library itself, writes
nothing into the inspected environment, and turns every fact it cannot learn into
``None`` plus a reason. Only a ``--python`` that is not a working interpreter raises
(:class:`~envdoctor.errors.InterpreterError`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "DEFAULT_DEEP_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "NvmlLibrary",
    "RunResult",
    "Runner",
    "SubprocessRunner",
    "collect",
    "probe_host",
    "resolve_interpreter",
]

if TYPE_CHECKING:
    from envdoctor.probe.environment import collect
    from envdoctor.probe.host import probe_host
    from envdoctor.probe.launch import DEFAULT_DEEP_TIMEOUT, DEFAULT_TIMEOUT, resolve_interpreter
    from envdoctor.probe.nvml import NvmlLibrary
    from envdoctor.probe.runner import Runner, RunResult, SubprocessRunner

# Submodules load on first use: ``diagnose`` imports only .launch and .runner to start the
# interpreter script, and the rest of the probe while that child runs.
_WHERE = {
    "collect": "environment",
    "probe_host": "host",
    "DEFAULT_DEEP_TIMEOUT": "launch",
    "DEFAULT_TIMEOUT": "launch",
    "resolve_interpreter": "launch",
    "NvmlLibrary": "nvml",
    "RunResult": "runner",
    "Runner": "runner",
    "SubprocessRunner": "runner",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
