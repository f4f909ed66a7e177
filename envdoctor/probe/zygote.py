"""``--deep`` with one torch import: a fork server ("zygote") in the inspected interpreter.

Every package built on torch imports torch first (1.5 s of CPU for the CPU wheel, more
for a CUDA one), so one fresh child per package pays that again and again. Instead one
child of the inspected interpreter (``-E -B``, ``PYTHONDONTWRITEBYTECODE=1``, as the import
children) imports torch once under a timer and then forks one grandchild per check: the
torch probe of :mod:`.deep` (CUDA availability, one op per GPU) and the import of each
package that requires torch (:func:`needs_torch`). Each grandchild runs the very script a
fresh child would (:data:`~envdoctor.probe.deep.DEEP_SCRIPT`,
:data:`~envdoctor.probe.imports.IMPORT_SCRIPT`) with its own timeout, its own process group
(killed whole on a timeout) and its own bounded pipes, and is read back by the same
functions, so a crash, a hang or an error reads exactly as from a fresh child. Packages
that do not require torch fork from a second, bare zygote that imports nothing but the
standard-library modules a fresh child's script loads anyway (``json``, ``time``, ...), so
their imports see nothing preloaded and skip only the interpreter's start-up (about 20 ms
a package).

Why forking after ``import torch`` is safe here: the zygote runs no tensor operation and
never touches CUDA before it forks, so torch's intra-op pool (OpenMP) is not started
and there is no CUDA context to inherit (a forked child may initialise CUDA itself,
https://pytorch.org/docs/stable/notes/multiprocessing.html#cuda-in-multiprocessing; the
zygote checks ``torch.cuda.is_initialized()`` and refuses to fork if an import hook did
it). It forks on Linux only: "macOS system libraries may start threads", which is why
Python made spawn multiprocessing's default there (https://bugs.python.org/issue33725).
The only other thread after ``import torch`` is OpenBLAS's pool, started when torch
imports NumPy; OpenBLAS shuts that pool down before every fork (``openblas_fork_handler``
registers ``blas_thread_shutdown_`` with ``pthread_atfork``, OpenMathLib/OpenBLAS
driver/others/memory.c), which is what makes ``multiprocessing``'s fork and PyTorch's
DataLoader workers safe too. The zygote also refuses to fork when a Python thread runs
(a thread could hold a lock the child would inherit held). Whatever refuses or breaks,
the checks fall back to fresh children: where torch itself does not import (error,
crash or hang), the torch probe reports that from the zygote's run, exactly as a fresh
torch child would, and the torch-based packages get fresh children of their own.

Before forking, the zygote moves torch's objects out of the collector's reach
(``gc.freeze()``, what https://docs.python.org/3/library/gc.html#gc.freeze advises before
a fork): no grandchild's collector walks them again, which also spares their pages from
being copied; a package's own objects are collected as in a fresh child. The torch
probe's grandchild unfreezes them, so its exit collects torch's objects as a fresh torch
child's does.

A grandchild that crashed is re-run in a fresh child and the fresh result is reported:
a crash must be the package's, not the fork's. A timeout is not re-run (it would double
a wait of ``--timeout`` seconds); ``-E`` leaves ``PYTHON*`` variables out, so where one
that matters is set the torch probe keeps its own fresh child (:func:`zygote_suits`).
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name

from envdoctor.kb.requires import is_extra_only, parse_requirement
from envdoctor.model import DeepTorch, Distribution, ImportCheck
from envdoctor.probe._tasks import Task
from envdoctor.probe.deep import DEEP_SCRIPT, deep_from_result, probe_deep
from envdoctor.probe.imports import (
    IMPORT_SCRIPT,
    ImportTarget,
    default_workers,
    heavy_first,
    import_check_from_result,
    import_targets,
    run_import_children,
)
from envdoctor.probe.interpreter import MARKER, child_environment, marked_result
from envdoctor.probe.runner import MAX_OUTPUT, Runner, RunResult

__all__ = [
    "ZYGOTE_SCRIPT",
    "ZygoteRun",
    "needs_torch",
    "probe_deep_and_imports",
    "run_zygote",
    "zygote_suits",
]

#: What ``-E`` would drop that cannot change what the torch probe sees.
_HARMLESS_UNDER_E = frozenset({"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTHONIOENCODING", "PYTHONHASHSEED"})
#: Bytes of each grandchild stream sent back: the tail, where the result and the error are.
_KEPT = 64 * 1024

#: Runs in the target interpreter (3.8+ syntax, stdlib + torch). argv[1] is a JSON spec:
#: timeout, workers, limit (bytes a stream may print), kept (bytes of each stream sent
#: back), tasks [{key, script, argv, pooled, env, unfreeze}].
ZYGOTE_SCRIPT = r"""
import json, os, selectors, signal, sys, time
if sys.path and sys.path[0] in ("", "."):
    del sys.path[0]  # the caller's working directory is not part of the environment
def emit(data):
    # "@" only occurs inside JSON strings, so escaping it keeps the grandchildren's own
    # markers (in their stdout) from reading as this result's.
    sys.stdout.write("\n" + MARKER + "\n" + json.dumps(data).replace("@", "\\u0040") + "\n")
    sys.stdout.flush()
spec = json.loads(sys.argv[1])
timeout = float(spec["timeout"])
import_seconds = 0.0
blockers = []
if not sys.platform.startswith("linux"):  # macOS's system libraries start threads (bpo-33725)
    blockers.append("the fork server runs on Linux only")
if spec["torch"]:
    timer = hasattr(signal, "setitimer")
    if timer:  # a hang inside import torch (C code included) ends the zygote with SIGALRM
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    started = time.time()
    try:
        import torch
    except BaseException as exc:
        if timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
        missing = isinstance(exc, ImportError) and getattr(exc, "name", None) == "torch"
        emit({"status": "not-installed" if missing else "import-error",
              "error": ("%s: %s" % (type(exc).__name__, exc))[:2000]})
        sys.exit(0)
    if timer:
        signal.setitimer(signal.ITIMER_REAL, 0)
    import_seconds = round(time.time() - started, 3)
    try:
        if torch.cuda.is_initialized():
            blockers.append("import torch initialised CUDA")
    except Exception as exc:
        blockers.append("torch.cuda.is_initialized() failed: %s: %s" % (type(exc).__name__, exc))
if "threading" in sys.modules and sys.modules["threading"].active_count() > 1:
    blockers.append("%d Python threads run" % sys.modules["threading"].active_count())
if blockers:
    emit({"stage": "unforkable", "reason": "; ".join(blockers), "import_seconds": import_seconds})
    sys.exit(0)
emit({"stage": "imported", "import_seconds": import_seconds})
import gc
gc.freeze()  # torch's objects: no grandchild's collector walks (and copies) them again
limit, kept, workers = int(spec["limit"]), int(spec["kept"]), max(1, int(spec["workers"]))
pending = list(spec["tasks"])
running = {}
finished = []
selector = selectors.DefaultSelector()
def start(task):
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        become(task, out_r, out_w, err_r, err_w)
    os.close(out_w)
    os.close(err_w)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass  # the child did it first, or has already ended
    state = {"task": task, "pid": pid, "start": time.time(), "open": 2, "status": None,
             "timed_out": False, "error": None, "out": bytearray(), "err": bytearray(), "sizes": [0, 0],
             "reaped": False}
    selector.register(out_r, selectors.EVENT_READ, (state, "out", 0))
    selector.register(err_r, selectors.EVENT_READ, (state, "err", 1))
    running[pid] = state
def become(task, out_r, out_w, err_r, err_w):
    # The grandchild: its own process group, its own pipes, then the fresh child's script.
    # No try/finally or with-block of the zygote encloses this, so sys.exit leaves cleanly.
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    for fd in [out_r, err_r] + [key.fd for key in selector.get_map().values()]:
        os.close(fd)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    os.close(out_w)
    os.close(err_w)
    if task["unfreeze"]:
        gc.unfreeze()  # the torch probe's exit collects torch's objects, as a fresh child's does
    for name, value in task["env"].items():
        os.environ.setdefault(name, value)
    sys.argv = ["-c"] + list(task["argv"])
    exec(compile(task["script"], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
    sys.exit(0)
def kill(state):
    try:
        os.killpg(state["pid"], signal.SIGKILL)
    except OSError:
        try:
            os.kill(state["pid"], signal.SIGKILL)
        except OSError:
            pass
def close(state):
    for key in list(selector.get_map().values()):
        if key.data[0] is state:
            selector.unregister(key.fd)
            os.close(key.fd)
    state["open"] = 0
def reap(state, block):
    if state["reaped"]:
        return True
    pid, status = os.waitpid(state["pid"], 0 if block else os.WNOHANG)
    if pid == 0:
        return False
    state["reaped"] = True
    if os.WIFSIGNALED(status):
        state["status"] = -os.WTERMSIG(status)
    elif os.WIFEXITED(status):
        state["status"] = os.WEXITSTATUS(status)
    return True
def done(state):
    del running[state["pid"]]
    stopped = state["timed_out"] or state["error"] is not None
    text = lambda data: bytes(data[-kept:]).decode("utf-8", "replace")
    finished.append({"key": state["task"]["key"], "returncode": None if stopped else state["status"],
                     "timed_out": state["timed_out"], "error": state["error"],
                     "stdout": text(state["out"]), "stderr": text(state["err"]),
                     "seconds": round(time.time() - state["start"], 3)})
while pending or running:
    while pending and (not pending[0]["pooled"] or sum(s["task"]["pooled"] for s in running.values()) < workers):
        start(pending.pop(0))
    now = time.time()
    wait = min(s["start"] + timeout for s in running.values()) - now
    if any(s["open"] == 0 for s in running.values()):
        wait = min(wait, 0.005)  # pipes closed: the process is ending, poll for its status
    for key, _ in selector.select(timeout=max(0.0, min(wait, 1.0))):
        state, name, index = key.data
        chunk = os.read(key.fd, 65536)
        if not chunk:
            selector.unregister(key.fd)
            os.close(key.fd)
            state["open"] -= 1
            continue
        state[name] += chunk
        state["sizes"][index] += len(chunk)
        if len(state[name]) > 2 * kept:
            del state[name][:-kept]
        if state["sizes"][index] > limit and state["error"] is None:
            state["error"] = "printed more than %d MB; stopped" % (limit // (1024 * 1024))
    now = time.time()
    for state in list(running.values()):
        ended = state["open"] == 0 and reap(state, False)
        if ended:
            done(state)
        elif state["error"] is not None or now >= state["start"] + timeout:
            # As the runner: still running, or its pipes still held open, at the deadline.
            state["timed_out"] = state["error"] is None
            kill(state)
            close(state)
            reap(state, True)
            done(state)
emit({"stage": "done", "import_seconds": import_seconds, "results": finished})
sys.stderr.flush()
os._exit(0)  # the torch probe's grandchild already went through the interpreter's exit
""".replace("MARKER", repr(MARKER))


def needs_torch(target: ImportTarget, distributions: Sequence[Distribution]) -> bool:
    """Whether importing ``target`` imports torch anyway (so it may fork from the zygote).

    True when its distribution requires torch outside any extra (torchvision, timm, peft,
    accelerate, sentence-transformers, ...) or its smoke operation runs on torch
    (``torchvision.ops.nms``, ``mmcv.ops``).
    """
    if target.operation is not None:
        return True
    for dist in distributions:
        if dist.name != target.distribution:
            continue
        for line in dist.requires:
            if is_extra_only(line):
                continue
            requirement = parse_requirement(line)
            if requirement is None or canonicalize_name(requirement.name) != "torch":
                continue
            if requirement.marker is None or "extra" not in str(requirement.marker):
                return True
    return False


def zygote_suits(environ: Mapping[str, str]) -> bool:
    """Whether the torch probe may run under the zygote's ``-E``: no ``PYTHON*`` variable it would drop matters."""
    return not any(name.startswith("PYTHON") and name not in _HARMLESS_UNDER_E for name in environ)


@dataclass(frozen=True)
class ZygoteRun:
    """What the zygote showed: the torch probe (if torch imported or failed there) and the checks it forked.

    ``deep`` is ``None`` where the torch probe needs a fresh child: the zygote could not serve
    (it refused to fork, or broke after importing torch) or the forked probe crashed.
    ``fallback`` lists the targets that need a fresh child (torch did not import, or the
    grandchild crashed and the crash must be confirmed). ``reason`` says why, for -v and tests.
    """

    deep: DeepTorch | None
    imports: dict[str, ImportCheck]
    fallback: tuple[ImportTarget, ...]
    reason: str | None = None


def run_zygote(
    executable: str,
    targets: Sequence[ImportTarget],
    *,
    runner: Runner,
    timeout: float,
    environ: Mapping[str, str],
    workers: int,
    with_deep: bool = True,
    with_torch: bool = True,
) -> ZygoteRun:
    """Import torch once in ``executable``, then fork the torch probe and one import per target."""
    tasks: list[dict[str, Any]] = []
    if with_deep:
        tasks.append({"key": "deep", "script": DEEP_SCRIPT, "argv": [], "pooled": False, "env": {}, "unfreeze": True})
    tasks += [
        {
            "key": target.module,
            "script": IMPORT_SCRIPT,
            "argv": [target.module, target.operation or "-"],
            "pooled": True,
            "env": {"MPLBACKEND": "Agg"},
            "unfreeze": False,
        }
        for target in targets
    ]
    spec = {
        "timeout": timeout,
        "workers": workers,
        "limit": MAX_OUTPUT,
        "kept": _KEPT,
        "tasks": tasks,
        "torch": with_torch,
    }
    rounds = -(-len(targets) // max(1, workers))
    # The zygote times its own import and each grandchild; this outer limit only catches
    # the zygote itself stuck (it runs nothing but a select loop after importing torch).
    budget = timeout * (2 + rounds) + 10.0
    start = time.monotonic()
    result = runner.run(
        [executable, "-E", "-B", "-c", ZYGOTE_SCRIPT, json.dumps(spec)], timeout=budget, env=child_environment(environ)
    )
    seconds = round(time.monotonic() - start, 3)
    data = marked_result(result.stdout)
    stage = data.get("stage") if data is not None else None
    if stage is None and not with_torch:
        return ZygoteRun(None, {}, tuple(targets), reason=f"the zygote ended early: {result.describe_failure()}")
    if stage is None:
        # torch did not import (an error, a crash, a hang): the zygote's run is the torch
        # probe's, read as a fresh one; its timer's SIGALRM is the fresh child's timeout.
        if result.returncode == -signal.SIGALRM:
            result = RunResult(result.argv, None, result.stdout, result.stderr, timed_out=True, seconds=result.seconds)
        deep = deep_from_result(result, seconds=seconds, timeout=timeout)
        return ZygoteRun(deep, {}, tuple(targets), reason=f"torch did not import ({deep.status})")
    if stage != "done" or data is None:
        reason = str(data.get("reason")) if data is not None and stage == "unforkable" else None
        reason = reason or f"the zygote ended early: {result.describe_failure()}"
        return ZygoteRun(None, {}, tuple(targets), reason=reason)
    import_seconds = float(data.get("import_seconds") or 0.0)
    records = {str(r.get("key")): r for r in data.get("results", []) if isinstance(r, dict)}
    deep_record = records.get("deep")
    forked_deep = (
        deep_from_result(
            _as_result(result.argv, deep_record),
            seconds=round(import_seconds + float(deep_record.get("seconds") or 0.0), 3),
            timeout=timeout,
        )
        if deep_record is not None
        else None
    )
    if forked_deep is not None and forked_deep.status == "crashed":
        forked_deep = None  # confirmed by a fresh torch child, as a crashed import is
    checks: dict[str, ImportCheck] = {}
    fallback: list[ImportTarget] = []
    for target in targets:
        record = records.get(target.module)
        if record is None:
            fallback.append(target)
            continue
        check = import_check_from_result(
            target, _as_result(result.argv, record), seconds=float(record.get("seconds") or 0.0), timeout=timeout
        )
        if check.status == "crashed":
            fallback.append(target)  # confirmed in a fresh child: a crash must be the package's
        else:
            checks[target.module] = check
    return ZygoteRun(forked_deep, checks, tuple(fallback), reason=None)


def _as_result(argv: tuple[str, ...], record: Mapping[str, Any]) -> RunResult:
    """One grandchild's record as the :class:`RunResult` a fresh child would have given."""
    returncode = record.get("returncode")
    return RunResult(
        argv,
        int(returncode) if isinstance(returncode, int) else None,
        str(record.get("stdout") or ""),
        str(record.get("stderr") or ""),
        timed_out=bool(record.get("timed_out")),
        error=str(record["error"]) if record.get("error") else None,
        seconds=float(record.get("seconds") or 0.0),
    )


def probe_deep_and_imports(
    executable: str,
    distributions: Sequence[Distribution],
    *,
    has_torch: bool,
    runner: Runner,
    timeout: float,
    environ: Mapping[str, str],
) -> tuple[DeepTorch | None, tuple[ImportCheck, ...]]:
    """``--deep``: the torch probe and every import check, torch imported once where it can be.

    Packages that do not require torch fork meanwhile from a bare zygote (no torch), on
    the cores the torch import leaves free. Returns the torch probe (``None`` without
    torch) and the checks in :func:`~envdoctor.probe.imports.import_targets` order.
    """
    targets = import_targets(distributions)
    alone = default_workers(beside_torch=False)
    beside = default_workers(beside_torch=True) if has_torch else alone
    torch_based = heavy_first([t for t in targets if has_torch and needs_torch(t, distributions)])
    others = heavy_first([t for t in targets if t not in torch_based])

    def fresh_deep() -> Task[DeepTorch]:
        return Task(lambda: probe_deep(executable, runner=runner, timeout=timeout, environ=environ), name="deep")

    def zygote(chosen: list[ImportTarget], workers: int, *, with_deep: bool, with_torch: bool) -> ZygoteRun:
        return run_zygote(
            executable,
            chosen,
            runner=runner,
            timeout=timeout,
            environ=environ,
            workers=workers,
            with_deep=with_deep,
            with_torch=with_torch,
        )

    # The torch probe forks from the zygote too, unless PYTHON* variables are set that the
    # zygote's -E would drop (the probe never ran under -E); with nothing to fork it keeps
    # its fresh child, as before.
    deep_task = fresh_deep() if has_torch and not (torch_based and zygote_suits(environ)) else None
    with_deep = has_torch and deep_task is None
    torch_task = (
        Task(lambda: zygote(torch_based, alone, with_deep=with_deep, with_torch=True), name="envdoctor-zygote")
        if torch_based
        else None
    )
    # The other packages fork from a bare zygote (the interpreter and the stdlib modules a
    # fresh child loads anyway), on the cores the torch import leaves free.
    bare = zygote(others, beside, with_deep=False, with_torch=False) if others else ZygoteRun(None, {}, ())
    checks = dict(bare.imports)
    fresh = list(bare.fallback)
    deep: DeepTorch | None = None
    if torch_task is not None:
        outcome = torch_task.result()
        checks.update(outcome.imports)
        fresh += outcome.fallback
        if with_deep:
            deep = outcome.deep
            if deep is None:  # the zygote could not serve, or the forked probe crashed
                deep_task = fresh_deep()
    if fresh:
        workers = beside if deep_task is not None else alone
        checks.update(
            (c.module, c)
            for c in run_import_children(
                executable, fresh, runner=runner, timeout=timeout, environ=environ, workers=workers
            )
        )
    if deep_task is not None:
        deep = deep_task.result()
    return deep, tuple(checks[t.module] for t in targets if t.module in checks)
