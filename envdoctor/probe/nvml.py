"""Driver and GPU facts through NVML (the library behind ``nvidia-smi``), in-process.

The NVML layer is a tiny protocol, :class:`NvmlLibrary`: the handful of ``pynvml``
functions envdoctor calls. The real one is the ``pynvml`` module of ``nvidia-ml-py``
(imported lazily, and only here); tests pass an object replaying recorded values. Any
failure (library not found, driver not loaded, a GPU that fails one query) is data: it is
returned as a reason, never raised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from envdoctor.model import Gpu

T = TypeVar("T")

__all__ = ["NvmlLibrary", "NvmlReport", "load_pynvml", "query_nvml", "cuda_version_text"]


class NvmlLibrary(Protocol):
    """The subset of ``pynvml`` envdoctor uses (return types as ``pynvml`` gives them)."""

    def nvmlInit(self) -> None: ...
    def nvmlShutdown(self) -> None: ...
    def nvmlSystemGetDriverVersion(self) -> str | bytes: ...
    def nvmlSystemGetCudaDriverVersion(self) -> int: ...
    def nvmlDeviceGetCount(self) -> int: ...
    def nvmlDeviceGetHandleByIndex(self, index: int) -> Any: ...
    def nvmlDeviceGetName(self, handle: Any) -> str | bytes: ...
    def nvmlDeviceGetMemoryInfo(self, handle: Any) -> Any: ...
    def nvmlDeviceGetCudaComputeCapability(self, handle: Any) -> tuple[int, int]: ...
    def nvmlDeviceGetUUID(self, handle: Any) -> str | bytes: ...


@dataclass(frozen=True)
class NvmlReport:
    """What NVML answered; ``error`` is set (and the rest empty) when it could not start."""

    driver_version: str | None = None
    driver_max_cuda: str | None = None
    gpus: tuple[Gpu, ...] = ()
    error: str | None = None
    problems: tuple[str, ...] = ()


def load_pynvml() -> NvmlLibrary | str:
    """The ``pynvml`` module, or the reason NVML cannot be used (no library, no ``pynvml``).

    Off Windows, ``nvmlInit`` needs ``libnvidia-ml.so.1`` (pynvml opens exactly that name);
    on a host without the driver's library that is the answer, and importing pynvml (a
    5,000-line module, tens of milliseconds) is skipped.
    """
    import sys

    if not sys.platform.startswith("win"):
        import ctypes

        try:
            ctypes.CDLL("libnvidia-ml.so.1")  # what pynvml's nvmlInit loads; cheap when it is there
        except OSError:
            return "NVML: NVML Shared Library Not Found"
    try:
        import pynvml  # lazy: ~20 ms, and only the host probe needs it
    except ImportError as exc:
        return f"pynvml (nvidia-ml-py) is not importable: {exc}"
    library: NvmlLibrary = pynvml
    return library


def cuda_version_text(value: int) -> str:
    """NVML's integer CUDA version (``12020``) as ``"12.2"``."""
    return f"{value // 1000}.{value % 1000 // 10}"


def _text(value: str | bytes) -> str:
    # nvidia-ml-py < 11.515 returned bytes.
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def query_nvml(library: NvmlLibrary) -> NvmlReport:
    """Ask NVML for the driver version, the CUDA version it supports, and each GPU."""
    try:
        library.nvmlInit()
    except Exception as exc:  # pynvml.NVMLError_* and OSError from ctypes
        return NvmlReport(error=f"NVML: {_describe(exc)}")
    problems: list[str] = []
    try:
        driver = _attempt(lambda: _text(library.nvmlSystemGetDriverVersion()), problems, "driver")
        cuda_int = _attempt(library.nvmlSystemGetCudaDriverVersion, problems, "CUDA version")
        count = _attempt(library.nvmlDeviceGetCount, problems, "device count") or 0
        gpus = []
        for index in range(count):
            gpu = _gpu(library, index, problems)
            if gpu is not None:
                gpus.append(gpu)
    finally:
        try:
            library.nvmlShutdown()
        except Exception as exc:  # shutdown trouble must not hide facts
            problems.append(f"nvmlShutdown: {_describe(exc)}")
    return NvmlReport(
        driver_version=driver,
        driver_max_cuda=cuda_version_text(cuda_int) if cuda_int else None,
        gpus=tuple(gpus),
        problems=tuple(problems),
    )


def _attempt(call: Callable[[], T], problems: list[str], what: str) -> T | None:
    try:
        return call()
    except Exception as exc:  # one failing query must not hide the others
        problems.append(f"NVML {what}: {_describe(exc)}")
        return None


def _gpu(library: NvmlLibrary, index: int, problems: list[str]) -> Gpu | None:
    try:
        handle = library.nvmlDeviceGetHandleByIndex(index)
    except Exception as exc:  # e.g. NVML_ERROR_GPU_IS_LOST for one board
        problems.append(f"NVML GPU {index}: {_describe(exc)}")
        return None
    name = _attempt(lambda: _text(library.nvmlDeviceGetName(handle)), problems, f"GPU {index} name")
    memory = _attempt(lambda: library.nvmlDeviceGetMemoryInfo(handle), problems, f"GPU {index} memory")
    capability = _attempt(
        lambda: library.nvmlDeviceGetCudaComputeCapability(handle),
        problems,
        f"GPU {index} compute capability",
    )
    uuid = _attempt(lambda: _text(library.nvmlDeviceGetUUID(handle)), problems, f"GPU {index} uuid")
    total = getattr(memory, "total", None)
    return Gpu(
        index=index,
        name=name or "unknown",
        memory_total_mib=int(total) // (1024 * 1024) if isinstance(total, int) else None,
        compute_capability=f"{capability[0]}.{capability[1]}" if capability else None,
        uuid=uuid,
    )
