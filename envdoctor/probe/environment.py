"""collect(): one Environment from the interpreter script, the host probe, the torch build and ``--deep``."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from envdoctor._version import __version__
from envdoctor.model import DeepTorch, Environment, ImportCheck
from envdoctor.probe._tasks import Task
from envdoctor.probe.host import start_host_probe
from envdoctor.probe.interpreter import probe_python, resolve_interpreter
from envdoctor.probe.launch import DEFAULT_DEEP_TIMEOUT, DEFAULT_TIMEOUT, Started, start_interpreter_script
from envdoctor.probe.nvml import NvmlLibrary
from envdoctor.probe.runner import Runner, SubprocessRunner
from envdoctor.probe.torch_build import probe_torch_build, read_version_py
from envdoctor.probe.zygote import probe_deep_and_imports

__all__ = ["collect"]


def collect(
    python: str | os.PathLike[str] | None = None,
    *,
    deep: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    deep_timeout: float = DEFAULT_DEEP_TIMEOUT,
    runner: Runner | None = None,
    host_root: Path | None = None,
    environ: Mapping[str, str] | None = None,
    nvml: NvmlLibrary | None = None,
    started: Started | None = None,
) -> Environment:
    """Collect the :class:`~envdoctor.model.Environment` of ``python`` (default: this one).

    ``python`` may be an interpreter or a venv/conda directory. ``runner``, ``host_root``
    (where ``/proc``, ``/sys`` and ``/etc`` are read), ``environ`` and ``nvml`` replace the
    outside world in tests. ``started`` is the interpreter script already running for this
    interpreter (:func:`~envdoctor.probe.launch.start_interpreter_script`). Raises
    :class:`~envdoctor.errors.InterpreterError` when ``python`` is not a working interpreter;
    every other problem is recorded as data.
    """
    runner = runner if runner is not None else SubprocessRunner()
    environ = os.environ if environ is None else environ
    root = host_root if host_root is not None else Path("/")
    executable = resolve_interpreter(python)
    if started is None or started.executable != executable:  # the longest step: first
        started = start_interpreter_script(executable, runner=runner, timeout=timeout, environ=environ)
    host_task = start_host_probe(runner=runner, timeout=timeout, host_root=root, environ=environ, nvml=nvml)
    # An InterpreterError propagates at once; the host threads are daemons and end
    # within their own timeouts.
    python_facts, package_dirs = probe_python(
        executable, runner=runner, timeout=timeout, environ=environ, started=started
    )
    torch_dirs = package_dirs.get("torch", ())
    has_torch = bool(torch_dirs) or python_facts.distribution("torch") is not None
    # --deep: the torch probe and the import checks share one torch import (.zygote).
    deep_task: Task[tuple[DeepTorch | None, tuple[ImportCheck, ...]]] | None = None
    if deep:
        distributions = python_facts.distributions
        deep_task = Task(
            lambda: probe_deep_and_imports(
                executable, distributions, has_torch=has_torch, runner=runner, timeout=deep_timeout, environ=environ
            )
        )
    torch_build = probe_torch_build(
        torch_dirs,
        python_facts.distributions,
        runner=runner,
        timeout=timeout,
        path_env=environ.get("PATH"),
    )
    if torch_build is not None:
        torch_build = dataclasses.replace(torch_build, companions=_companion_versions(package_dirs))
    host = host_task.result()
    deep_torch, imports = deep_task.result() if deep_task is not None else (None, ())
    if deep and not has_torch:
        deep_torch = DeepTorch(status="not-installed", error="torch is not installed")
    return Environment(
        python=python_facts,
        host=host,
        torch=torch_build,
        deep=deep_torch,
        collected_at=datetime.now(UTC).isoformat(timespec="seconds"),
        envdoctor_version=_envdoctor_version(),
        imports=imports,
    )


def _companion_versions(package_dirs: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """``__version__`` of the active torchvision / torchaudio, a literal of their version.py."""
    versions: dict[str, str] = {}
    for package in ("torchvision", "torchaudio"):
        dirs = package_dirs.get(package, ())
        if not dirs:
            continue
        try:
            value = read_version_py(Path(dirs[0], "version.py")).get("__version__")
        except (OSError, SyntaxError, ValueError):
            continue
        if isinstance(value, str):
            versions[package] = value
    return versions


def _envdoctor_version() -> str | None:
    return __version__
