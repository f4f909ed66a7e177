"""``--deep``: import torch in a child of the inspected interpreter and touch each GPU.

The only probe that runs torch's code, so it runs in its own process group with a
timeout: a segfaulting import (a bad CUDA library, an ABI-broken extension) becomes
``status="crashed"`` with the signal's name, a hang becomes ``"timed-out"``, an exception
``"import-error"``. Nothing escapes as an exception.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from envdoctor.model import DeepTorch
from envdoctor.probe.interpreter import MARKER, child_environment, marked_result
from envdoctor.probe.runner import Runner, RunResult, last_line, signal_name

__all__ = ["DEEP_SCRIPT", "deep_from_result", "probe_deep"]

#: Runs in the target interpreter (3.8+ syntax, stdlib + torch).
DEEP_SCRIPT = r"""
import json, sys
if sys.path and sys.path[0] == "":
    del sys.path[0]  # the caller's working directory is not part of the environment
def emit(data):
    sys.stdout.write("\n" + MARKER + "\n" + json.dumps(data) + "\n")
    sys.stdout.flush()
try:
    import torch
except BaseException as exc:
    missing = isinstance(exc, ImportError) and getattr(exc, "name", None) == "torch"
    emit({"status": "not-installed" if missing else "import-error",
          "error": ("%s: %s" % (type(exc).__name__, exc))[:2000]})
    sys.exit(0)
out = {"status": "ok", "version": getattr(torch, "__version__", None)}
problems = []
def attempt(key, call):
    try:
        out[key] = call()
    except Exception as exc:
        problems.append("%s: %s: %s" % (key, type(exc).__name__, exc))
attempt("cuda_available", lambda: bool(torch.cuda.is_available()))
attempt("device_count", lambda: int(torch.cuda.device_count()))
attempt("arch_list", lambda: list(torch.cuda.get_arch_list()))
attempt("cudnn_version", lambda: torch.backends.cudnn.version())
ops = []
for index in range(out.get("device_count") or 0):
    try:
        value = (torch.ones(1, device="cuda:%d" % index) + 1).item()
        ops.append([index, "ok" if value == 2 else "wrong result %r" % value])
    except Exception as exc:
        ops.append([index, ("%s: %s" % (type(exc).__name__, exc))[:500]])
out["device_ops"] = ops
if problems:
    out["error"] = "; ".join(problems)[:2000]
emit(out)
""".replace("MARKER", repr(MARKER))


def probe_deep(
    executable: str,
    *,
    runner: Runner,
    timeout: float,
    environ: Mapping[str, str],
) -> DeepTorch:
    """Import torch in ``executable`` and report what happened."""
    start = time.monotonic()
    result = runner.run([executable, "-B", "-c", DEEP_SCRIPT], timeout=timeout, env=child_environment(environ))
    return deep_from_result(result, seconds=round(time.monotonic() - start, 3), timeout=timeout)


def deep_from_result(result: RunResult, *, seconds: float, timeout: float) -> DeepTorch:
    """The :class:`DeepTorch` that one run of :data:`DEEP_SCRIPT` (fresh or forked) shows."""
    if result.timed_out:
        return DeepTorch(
            status="timed-out",
            error=f"importing torch did not finish within {timeout:g}s (process group killed)",
            seconds=seconds,
        )
    if result.error is not None:
        return DeepTorch(status="crashed", error=result.describe_failure(), seconds=seconds)
    if result.returncode is not None and result.returncode < 0:
        detail = last_line(result.stderr)
        return DeepTorch(
            status="crashed",
            error=f"importing torch was killed by {signal_name(-result.returncode)}"
            + (f": {detail}" if detail else ""),
            seconds=seconds,
        )
    data = marked_result(result.stdout)
    if data is None:
        return DeepTorch(
            status="crashed",
            error=result.describe_failure() or "the torch probe printed no result",
            seconds=seconds,
        )
    status = data.get("status")
    if status != "ok":
        return DeepTorch(
            status="not-installed" if status == "not-installed" else "import-error",
            error=str(data.get("error")),
            seconds=seconds,
        )
    cudnn = data.get("cudnn_version")
    arch_list = data.get("arch_list")
    return DeepTorch(
        status="ok",
        cuda_available=data.get("cuda_available"),
        device_count=data.get("device_count"),
        arch_list=tuple(str(a) for a in arch_list) if isinstance(arch_list, list) else None,
        cudnn_version=str(cudnn) if cudnn is not None else None,
        device_ops=tuple((int(i), str(s)) for i, s in data.get("device_ops", [])),
        error=data.get("error"),
        seconds=seconds,
    )
