"""Start the interpreter script first: the rest of envdoctor loads while the child runs.

The child (``_interpreter_script.py`` in the inspected interpreter) is the longest single
step of ``diagnose``; everything else is this process importing and parsing. This module
needs only the standard library and :mod:`.runner`, so ``diagnose`` can start the child
within milliseconds of starting up and import the probe, the knowledge and the renderers
while it runs (:func:`start_interpreter_script`, then ``collect(..., started=...)``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from envdoctor.errors import InterpreterError
from envdoctor.probe._tasks import Task
from envdoctor.probe.runner import Runner, RunResult

__all__ = [
    "BOUND_PACKAGES",
    "DEFAULT_DEEP_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "INTERPRETER_SCRIPT",
    "MARKER",
    "PACKAGE_DIRS",
    "Started",
    "child_environment",
    "resolve_interpreter",
    "start_interpreter_script",
]

INTERPRETER_SCRIPT = Path(__file__).with_name("_interpreter_script.py")
MARKER = "@@ENVDOCTOR-JSON@@"
#: Packages that keep a ``deps`` table plus a runtime-check list (:mod:`.bounds`).
TABLE_PACKAGES = ("transformers", "diffusers")
#: OpenMMLab packages whose ``__init__.py`` asserts mmcv / mmengine bounds (:mod:`.bounds`).
OPENMMLAB_PACKAGES = (
    "mmdet",
    "mmseg",
    "mmpretrain",
    "mmcls",
    "mmpose",
    "mmdet3d",
    "mmocr",
    "mmaction",
    "mmrotate",
    "mmyolo",
    "mmtrack",
    "mmagic",
    "mmedit",
)
#: Every top-level package whose import-time bounds :mod:`.bounds` reads from its sources.
BOUND_PACKAGES = TABLE_PACKAGES + OPENMMLAB_PACKAGES
#: Top-level packages whose directories the script reports (files read in-process later).
PACKAGE_DIRS = ("torch", "torchvision", "torchaudio", *BOUND_PACKAGES)
#: Seconds any one external program (interpreter script, nvidia-smi, nvcc) may take.
DEFAULT_TIMEOUT = 20.0
#: Seconds the ``--deep`` torch import may take (a cold CUDA torch import is slow).
DEFAULT_DEEP_TIMEOUT = 120.0
_CANDIDATES = ("bin/python", "bin/python3", "Scripts/python.exe", "python.exe")


def resolve_interpreter(python: str | os.PathLike[str] | None) -> str:
    """The interpreter to inspect: ``sys.executable``, or ``--python`` checked and resolved.

    A directory is taken as a venv or conda environment and its ``bin/python`` is used.
    Symlinks are kept: a venv's ``bin/python`` link is what makes it that venv.
    """
    if python is None:
        if not sys.executable:
            raise InterpreterError("cannot inspect the current interpreter: sys.executable is empty")
        return sys.executable
    given = os.fspath(python)
    path = Path(given).expanduser()
    if not path.exists():
        raise InterpreterError(f"--python {given}: no such file or directory")
    if path.is_dir():
        for candidate in _CANDIDATES:
            if (path / candidate).is_file():
                path = path / candidate
                break
        else:
            raise InterpreterError(f"--python {given}: directory has no bin/python (not a venv or conda environment)")
    if not path.is_file():
        raise InterpreterError(f"--python {given}: not a regular file")
    if not os.access(path, os.X_OK):
        raise InterpreterError(f"--python {given}: not executable")
    return os.path.abspath(path)


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The user's environment, made safe for a child that must not write or wait."""
    env = dict(environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTHONINSPECT", None)  # would drop into a prompt after the script
    return env


class Started:
    """The interpreter script running (in a daemon thread) for one executable."""

    def __init__(self, executable: str, task: Task[RunResult]) -> None:
        self.executable = executable
        self._task = task

    def result(self) -> RunResult:
        return self._task.result()


def start_interpreter_script(executable: str, *, runner: Runner, timeout: float, environ: Mapping[str, str]) -> Started:
    """Run the interpreter script in ``executable`` in the background; ``.result()`` waits for it."""
    argv = [executable, "-B", str(INTERPRETER_SCRIPT), *PACKAGE_DIRS]
    env = child_environment(environ)
    return Started(executable, Task(lambda: runner.run(argv, timeout=timeout, env=env), name="envdoctor-python"))
