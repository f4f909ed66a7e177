"""--deep: importing torch in a child, with crashes and hangs turned into data."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from envdoctor.probe.deep import probe_deep
from envdoctor.probe.runner import SubprocessRunner
from tests.envbuilder import Dist, make_env

RUNNER = SubprocessRunner()


def fake_torch(tmp_path: Path, init: str) -> Path:
    return make_env(tmp_path, dists={"torch": Dist("2.1.0", top_level=["torch"])}, files={"torch/__init__.py": init})


def test_segfaulting_import_is_crashed(tmp_path: Path) -> None:
    python = fake_torch(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    deep = probe_deep(str(python), runner=RUNNER, timeout=30, environ=os.environ)
    assert deep.status == "crashed"
    assert deep.error is not None and "SIGSEGV" in deep.error


def test_hanging_import_is_timed_out(tmp_path: Path) -> None:
    python = fake_torch(tmp_path, "import time\ntime.sleep(60)\n")
    start = time.monotonic()
    deep = probe_deep(str(python), runner=RUNNER, timeout=1.5, environ=os.environ)
    assert time.monotonic() - start < 6
    assert deep.status == "timed-out" and "1.5s" in (deep.error or "")


def test_failing_import_is_import_error(tmp_path: Path) -> None:
    python = fake_torch(
        tmp_path,
        "raise OSError('libcudnn.so.8: cannot open shared object file: No such file or directory')\n",
    )
    deep = probe_deep(str(python), runner=RUNNER, timeout=30, environ=os.environ)
    assert deep.status == "import-error"
    assert deep.error == "OSError: libcudnn.so.8: cannot open shared object file: No such file or directory"


def test_exit_during_import_is_crashed(tmp_path: Path) -> None:
    python = fake_torch(tmp_path, "import sys\nsys.stderr.write('fatal: bad ABI\\n')\nimport os\nos._exit(4)\n")
    deep = probe_deep(str(python), runner=RUNNER, timeout=30, environ=os.environ)
    assert deep.status == "crashed" and "status 4" in (deep.error or "") and "bad ABI" in (deep.error or "")


def test_real_cpu_torch(tmp_path: Path) -> None:
    deep = probe_deep(sys.executable, runner=RUNNER, timeout=120, environ=os.environ)
    assert deep.status == "ok", deep.error
    assert deep.cuda_available is False and deep.device_count == 0
    assert deep.device_ops == ()
    assert deep.seconds is not None and deep.seconds > 0
