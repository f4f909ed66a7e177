"""``--deep``: import each installed package of the ML stack in its own child process.

Reading metadata says what is installed; only importing says whether it loads. Each
package is imported by a child of the inspected interpreter (``-E -B``: no
``PYTHONPATH`` from envdoctor's caller, no bytecode written into the environment; the
script drops the working directory from ``sys.path``), in a bounded pool of parallel
children, each with a timeout and in its own process group. Where importing alone hides the
usual breakage, the child also runs the smallest operation that shows it: one
``torchvision.ops.nms`` on CPU tensors (a torchvision built for another torch or variant
fails with ``operator torchvision::nms does not exist``), ``import mmcv.ops`` beside an
OpenMMLab package that needs the compiled ops. A failure, a crash or a hang becomes an
:class:`~envdoctor.model.ImportCheck` with the error text; never an exception here.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name

from envdoctor.model import Distribution, ImportCheck
from envdoctor.probe.interpreter import MARKER, child_environment, marked_result
from envdoctor.probe.runner import Runner, RunResult, last_line, signal_name

__all__ = [
    "IMPORT_SCRIPT",
    "IMPORT_TARGETS",
    "ImportTarget",
    "default_workers",
    "heavy_first",
    "import_check_from_result",
    "import_targets",
    "probe_imports",
    "run_import_children",
]


@dataclass(frozen=True)
class ImportTarget:
    """What to import for one installed distribution, and the smoke operation after it."""

    distribution: str
    module: str
    operation: str | None = None


#: Distribution -> module (and smoke operation). The module is what users import first;
#: for namespace distributions (googleapis-common-protos) a generated module that shows
#: the usual break (protobuf 4's "Descriptors cannot be created directly").
_TABLE: tuple[ImportTarget, ...] = (
    ImportTarget("torchvision", "torchvision", "nms"),
    ImportTarget("torchaudio", "torchaudio"),
    ImportTarget("transformers", "transformers"),
    ImportTarget("tokenizers", "tokenizers"),
    ImportTarget("diffusers", "diffusers"),
    ImportTarget("accelerate", "accelerate"),
    ImportTarget("peft", "peft"),
    ImportTarget("sentence-transformers", "sentence_transformers"),
    ImportTarget("timm", "timm"),
    ImportTarget("open-clip-torch", "open_clip"),
    ImportTarget("mmcv", "mmcv", "mmcv.ops"),
    ImportTarget("mmengine", "mmengine"),
    ImportTarget("mmdet", "mmdet"),
    ImportTarget("mmsegmentation", "mmseg"),
    ImportTarget("mmpretrain", "mmpretrain"),
    ImportTarget("mmpose", "mmpose"),
    ImportTarget("xformers", "xformers"),
    ImportTarget("bitsandbytes", "bitsandbytes"),
    ImportTarget("flash-attn", "flash_attn"),
    ImportTarget("triton", "triton"),
    ImportTarget("deepspeed", "deepspeed"),
    ImportTarget("lightning", "lightning"),
    ImportTarget("pytorch-lightning", "pytorch_lightning"),
    ImportTarget("opencv-python", "cv2"),
    ImportTarget("numpy", "numpy"),
    ImportTarget("scipy", "scipy"),
    ImportTarget("pandas", "pandas"),
    ImportTarget("pyarrow", "pyarrow"),
    ImportTarget("scikit-learn", "sklearn"),
    ImportTarget("scikit-image", "skimage"),
    ImportTarget("pillow", "PIL.Image"),
    ImportTarget("safetensors", "safetensors"),
    ImportTarget("huggingface-hub", "huggingface_hub"),
    ImportTarget("datasets", "datasets"),
    ImportTarget("protobuf", "google.protobuf.descriptor_pb2"),
    ImportTarget("googleapis-common-protos", "google.api.annotations_pb2"),
    ImportTarget("tensorflow", "tensorflow"),
    ImportTarget("jax", "jax"),
    ImportTarget("onnxruntime", "onnxruntime"),
)
IMPORT_TARGETS: Mapping[str, ImportTarget] = {t.distribution: t for t in _TABLE}
#: Packages that import ``mmcv.ops`` (so an mmcv without compiled ops breaks them).
_MMCV_OPS_USERS = ("mmdet", "mmsegmentation", "mmpose", "mmrotate", "mmocr", "mmdet3d")

#: Runs in the target interpreter (3.8+ syntax, stdlib only until it imports the module).
IMPORT_SCRIPT = r"""
import json, sys, time
if sys.path and sys.path[0] in ("", "."):
    del sys.path[0]  # the caller's working directory is not part of the environment
module, operation = sys.argv[1], sys.argv[2]
def emit(data):
    sys.stdout.write("\n" + MARKER + "\n" + json.dumps(data) + "\n")
    sys.stdout.flush()
def describe(exc):
    return ("%s: %s" % (type(exc).__name__, exc))[:4000]
start = time.time()
try:
    __import__(module)
except BaseException as exc:
    import traceback
    emit({"status": "import-error", "error": describe(exc),
          "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-6000:]})
    sys.exit(0)
done = {"status": "ok", "seconds": round(time.time() - start, 3)}
if operation == "nms":
    try:
        import torch, torchvision
        torchvision.ops.nms(torch.zeros((1, 4)), torch.zeros(1), 0.5)
    except BaseException as exc:
        import traceback
        done = {"status": "import-error", "error": describe(exc), "operation": "torchvision.ops.nms on CPU tensors",
                "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-6000:]}
elif operation not in ("", "-"):
    try:
        __import__(operation)
    except BaseException as exc:
        import traceback
        done = {"status": "import-error", "error": describe(exc), "operation": "import " + operation,
                "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-6000:]}
emit(done)
""".replace("MARKER", repr(MARKER))


def import_targets(distributions: Sequence[Distribution], *, skip: Sequence[str] = ()) -> list[ImportTarget]:
    """The packages to import for these installed distributions, in table order.

    A distribution that provides another's import package counts as it: ``mmcv-lite``
    and ``mmcv-full`` import ``mmcv``, ``opencv-python-headless`` imports ``cv2``.
    """
    installed = {d.key: d for d in distributions}
    modules_provided = {m: d for d in reversed(distributions) for m in d.top_level}
    chosen: list[ImportTarget] = []
    for target in _TABLE:
        top = target.module.split(".", 1)[0]
        dist = installed.get(target.distribution)
        if dist is None and top not in ("google", "PIL"):
            dist = modules_provided.get(top)
        if dist is None or target.module in skip:
            continue
        operation = target.operation
        if target.module == "mmcv" and not any(u in installed for u in _MMCV_OPS_USERS):
            operation = None  # mmcv-lite alone is fine without ops; only its users need them
        chosen.append(ImportTarget(dist.name, target.module, operation))
    return chosen


def _import_one(
    executable: str, target: ImportTarget, *, runner: Runner, timeout: float, environ: Mapping[str, str]
) -> ImportCheck:
    start = time.monotonic()
    env = child_environment(environ)
    env.setdefault("MPLBACKEND", "Agg")
    operation = target.operation or "-"
    argv = [executable, "-E", "-B", "-c", IMPORT_SCRIPT, target.module, operation]
    result = runner.run(argv, timeout=timeout, env=env)
    return import_check_from_result(target, result, seconds=round(time.monotonic() - start, 3), timeout=timeout)


def import_check_from_result(target: ImportTarget, result: RunResult, *, seconds: float, timeout: float) -> ImportCheck:
    """The :class:`ImportCheck` that one run of :data:`IMPORT_SCRIPT` (fresh or forked) shows."""
    base: dict[str, Any] = {"module": target.module, "distribution": target.distribution, "seconds": seconds}
    if result.timed_out:
        return ImportCheck(
            **base, status="timed-out", error=f"`import {target.module}` did not finish within {timeout:g}s (killed)"
        )
    if result.error is not None:
        return ImportCheck(**base, status="crashed", error=result.describe_failure())
    if result.returncode is not None and result.returncode < 0:
        detail = last_line(result.stderr)
        return ImportCheck(
            **base,
            status="crashed",
            error=f"`import {target.module}` was killed by {signal_name(-result.returncode)}"
            + (f": {detail}" if detail else ""),
        )
    data = marked_result(result.stdout)
    if data is None:
        detail = last_line(result.stderr) or result.describe_failure() or "no result printed"
        return ImportCheck(**base, status="crashed", error=f"`import {target.module}` ended early: {detail}")
    if data.get("status") == "ok":
        return ImportCheck(**base, status="ok", operation=target.operation)
    # The traceback's last lines carry the message triage knows; keep the warnings printed
    # before it too (NumPy's "compiled using NumPy 1.x" banner goes to stderr).
    text = "\n".join(part for part in (result.stderr.strip()[-4000:], str(data.get("traceback") or "")) if part)
    return ImportCheck(
        **base,
        status="import-error",
        error=str(data.get("error")) + ("\n" + text if text else ""),
        operation=data.get("operation"),
    )


def default_workers(*, beside_torch: bool) -> int:
    """How many import children run at once: all cores, less one while the torch probe runs beside them.

    The torch import is the longest single child (about as long as all the others together
    on two cores), so it keeps a core of its own; without it, up to six children share the cores.
    """
    cores = os.cpu_count() or 2
    if beside_torch:
        return max(1, min(6, cores - 1))
    return max(2, min(6, cores))


def heavy_first(targets: Sequence[ImportTarget]) -> list[ImportTarget]:
    """``targets`` with the slow imports (transformers, mmengine, peft, ...) first, so a pool's tail is short."""
    return sorted(targets, key=lambda target: canonicalize_name(target.distribution) not in _HEAVY)


def run_import_children(
    executable: str,
    targets: Sequence[ImportTarget],
    *,
    runner: Runner,
    timeout: float,
    environ: Mapping[str, str],
    workers: int,
) -> tuple[ImportCheck, ...]:
    """Import each target in a fresh child (at most ``workers`` at once), results in target order."""
    if not targets:
        return ()
    results: list[ImportCheck | None] = [None] * len(targets)
    position = {id(target): index for index, target in enumerate(targets)}
    queue = [position[id(target)] for target in heavy_first(targets)]
    lock = threading.Lock()

    def work() -> None:
        # Each worker takes the next target, heaviest first (a semaphore would not keep the order).
        while True:
            with lock:
                if not queue:
                    return
                index = queue.pop(0)
            results[index] = _import_one(executable, targets[index], runner=runner, timeout=timeout, environ=environ)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(max(1, min(workers, len(targets))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tuple(r for r in results if r is not None)


def probe_imports(
    executable: str,
    distributions: Sequence[Distribution],
    *,
    runner: Runner,
    timeout: float,
    environ: Mapping[str, str],
    skip: Sequence[str] = (),
    workers: int | None = None,
) -> tuple[ImportCheck, ...]:
    """Import every target in parallel fresh children (at most ``workers`` at once)."""
    targets = import_targets(distributions, skip=skip)
    limit = workers or default_workers(beside_torch=False)
    return run_import_children(executable, targets, runner=runner, timeout=timeout, environ=environ, workers=limit)


_HEAVY = frozenset(
    {
        "torchvision",
        "torchaudio",
        "transformers",
        "sentence-transformers",
        "diffusers",
        "mmdet",
        "mmengine",
        "timm",
        "peft",
    }
)
