"""A minimal background task: run a function in a daemon thread, collect its result.

:mod:`concurrent.futures` would do, but importing it pulls in :mod:`logging` and
:mod:`traceback` (tens of milliseconds of the < 0.3 s budget). Daemon threads also let
the process exit without waiting for a probe that is still inside its own timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Task"]

T = TypeVar("T")


class Task(Generic[T]):
    """``call()`` started at once in a daemon thread; :meth:`result` waits for it."""

    def __init__(self, call: Callable[[], T], name: str = "envdoctor-probe") -> None:
        self._call = call
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._call()
        except BaseException as exc:  # re-raised in the caller's thread by result()
            self._error = exc

    def result(self) -> T:
        """The function's return value (or its exception, raised here)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
