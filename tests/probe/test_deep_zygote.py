"""--deep's fork server: the real torch imported once, packages built on it forked from there.

Each test builds a throwaway venv that sees this environment's real packages (torch CPU,
transformers, ...) through a ``.pth`` line, plus hand-written packages that break the way
real ones do (an exception, a segfault, a hang) after importing the real torch.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import site
import sys
import time
from pathlib import Path

import pytest

from envdoctor.model import Distribution
from envdoctor.probe.deep import probe_deep
from envdoctor.probe.imports import ImportTarget, import_targets, run_import_children
from envdoctor.probe.runner import SubprocessRunner
from envdoctor.probe.zygote import needs_torch, probe_deep_and_imports, run_zygote, zygote_suits
from tests.envbuilder import Dist, make_env

RUNNER = SubprocessRunner()
#: The environment of these tests' children: this one's, less what -E would drop anyway.
ENVIRON = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
TORCH = Distribution("torch", importlib.metadata.version("torch"), "", top_level=("torch",))


def real_site_packages() -> str:
    return next(p for p in site.getsitepackages() if Path(p, "torch").is_dir())


def env_with_real_torch(tmp_path: Path, packages: dict[str, str], extra_files: dict[str, str] | None = None) -> Path:
    """A venv whose own site-packages hold ``packages`` (name -> __init__.py), the real torch behind them."""
    files = {f"{name}/__init__.py": text for name, text in packages.items()}
    files["zz_real_packages.pth"] = real_site_packages() + "\n"
    files.update(extra_files or {})
    return make_env(tmp_path, files=files)


def dist(name: str, *requires: str) -> Distribution:
    return Distribution(name, "1.0", "", requires=requires, top_level=(name.replace("-", "_"),))


def test_needs_torch_reads_requires_dist_and_operations() -> None:
    transformers = importlib.metadata.distribution("transformers")
    real = Distribution("transformers", transformers.version, "", requires=tuple(transformers.requires or ()))
    assert any("torch" in line for line in real.requires)  # only behind an extra
    assert not needs_torch(ImportTarget("transformers", "transformers"), [real])
    assert needs_torch(ImportTarget("timm", "timm"), [dist("timm", "torch>=1.7", "pyyaml")])
    assert needs_torch(ImportTarget("peft", "peft"), [dist("peft", 'torch>=1.13; python_version >= "3.8"')])
    assert not needs_torch(ImportTarget("peft", "peft"), [dist("peft", 'torch; extra == "test"')])
    assert needs_torch(ImportTarget("torchvision", "torchvision", "nms"), [dist("torchvision")])


def test_zygote_suits_only_without_python_variables_that_e_drops() -> None:
    assert zygote_suits({"PATH": "/bin", "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    assert not zygote_suits({"PYTHONPATH": "/somewhere"})
    assert not zygote_suits({"PYTHONUSERBASE": "/home/u/.local"})


@pytest.mark.slow
def test_forked_checks_read_as_fresh_ones(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    python = env_with_real_torch(
        tmp_path,
        {
            "timm": "import torch\nx = torch.zeros(2).sum()\n",
            "peft": ("import torch\nfrom huggingface_hub import cached_download  # hub 0.26 removed it\n"),
            "accelerate": (
                "import subprocess, sys, time, torch\n"
                f"child = subprocess.Popen(['sleep', '60'])\nopen({str(pids)!r}, 'w').write(str(child.pid))\n"
                "time.sleep(60)\n"
            ),
            "xformers": "import os, signal, torch\nos.kill(os.getpid(), signal.SIGSEGV)\n",
        },
    )
    distributions = [TORCH] + [dist(name, "torch") for name in ("timm", "peft", "accelerate", "xformers")]
    targets = import_targets(distributions)
    start = time.monotonic()
    run = run_zygote(str(python), targets, runner=RUNNER, timeout=5, environ=ENVIRON, workers=4)
    assert time.monotonic() - start < 40
    assert run.reason is None
    assert run.deep is not None and run.deep.status == "ok", run.deep
    assert run.deep.cuda_available is False and run.deep.device_count == 0
    assert run.imports["timm"].status == "ok"
    error = run.imports["peft"]
    assert error.status == "import-error" and error.error is not None
    assert error.error.startswith("ImportError: cannot import name 'cached_download' from 'huggingface_hub'")
    assert 'File "<string>"' in error.error and "peft/__init__.py" in error.error  # the traceback
    hang = run.imports["accelerate"]
    assert hang.status == "timed-out" and hang.error == "`import accelerate` did not finish within 5s (killed)"
    assert hang.seconds is not None and 4.5 < hang.seconds < 15
    sleeper = int(pids.read_text())
    time.sleep(0.2)
    assert not Path(f"/proc/{sleeper}").exists() or "Z" in Path(f"/proc/{sleeper}/stat").read_text().split()[2]
    # A crash is confirmed in a fresh child, never reported from the fork alone.
    assert [t.module for t in run.fallback] == ["xformers"]
    (fresh,) = run_import_children(str(python), run.fallback, runner=RUNNER, timeout=30, environ=ENVIRON, workers=1)
    assert fresh.status == "crashed" and fresh.error == "`import xformers` was killed by SIGSEGV"
    # Nothing written into the inspected environment.
    assert not list(python.parent.parent.rglob("__pycache__"))


@pytest.mark.slow
def test_the_whole_deep_probe_matches_fresh_children(tmp_path: Path) -> None:
    python = env_with_real_torch(
        tmp_path,
        {
            "timm": "import torch\n",
            "xformers": "import os, signal, torch\nos.kill(os.getpid(), signal.SIGSEGV)\n",
            "pandas": "raise ImportError('pandas broke here')\n",  # not built on torch: the bare zygote
            "scipy": "import sys\nassert 'torch' not in sys.modules, 'torch preloaded'\n",
        },
    )
    distributions = [TORCH, dist("timm", "torch"), dist("xformers", "torch"), dist("pandas"), dist("scipy")]
    deep, checks = probe_deep_and_imports(
        str(python), distributions, has_torch=True, runner=RUNNER, timeout=30, environ=ENVIRON
    )
    fresh_deep = probe_deep(str(python), runner=RUNNER, timeout=30, environ=ENVIRON)
    fresh_checks = run_import_children(
        str(python), import_targets(distributions), runner=RUNNER, timeout=30, environ=ENVIRON, workers=2
    )
    assert deep is not None
    assert dataclasses.replace(deep, seconds=None) == dataclasses.replace(fresh_deep, seconds=None)
    assert [dataclasses.replace(c, seconds=None) for c in checks] == [
        dataclasses.replace(c, seconds=None) for c in fresh_checks
    ]
    assert [(c.module, c.status) for c in checks] == [
        ("timm", "ok"),
        ("xformers", "crashed"),
        ("scipy", "ok"),
        ("pandas", "import-error"),
    ]


BROKEN_TORCH = {
    "segfault": "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
    "hang": "import time\ntime.sleep(60)\n",
    "import-error": "raise OSError('libcudnn.so.8: cannot open shared object file: No such file or directory')\n",
    "exit": "import sys\nsys.stderr.write('fatal: bad ABI\\n')\nimport os\nos._exit(4)\n",
}


@pytest.mark.parametrize("how", sorted(BROKEN_TORCH))
def test_torch_that_does_not_import_reads_as_a_fresh_torch_child(tmp_path: Path, how: str) -> None:
    python = make_env(
        tmp_path,
        dists={"torch": Dist("2.1.0", top_level=["torch"]), "timm": Dist("1.0.0", requires=["torch"])},
        files={"torch/__init__.py": BROKEN_TORCH[how], "timm/__init__.py": "import torch\n"},
    )
    distributions = [dist("torch"), dist("timm", "torch")]
    timeout = 2.0 if how == "hang" else 30.0
    start = time.monotonic()
    deep, checks = probe_deep_and_imports(
        str(python), distributions, has_torch=True, runner=RUNNER, timeout=timeout, environ=ENVIRON
    )
    assert time.monotonic() - start < 20
    fresh = probe_deep(str(python), runner=RUNNER, timeout=timeout, environ=ENVIRON)
    assert deep is not None
    assert (deep.status, deep.error) == (fresh.status, fresh.error)
    # timm then imports in a fresh child of its own, and fails as torch does.
    (timm,) = checks
    (fresh_timm,) = run_import_children(
        str(python), import_targets(distributions), runner=RUNNER, timeout=timeout, environ=ENVIRON, workers=1
    )
    assert (timm.status, timm.error) == (fresh_timm.status, fresh_timm.error)
    assert timm.status != "ok"


@pytest.mark.slow
def test_a_thread_running_after_import_torch_means_no_fork(tmp_path: Path) -> None:
    python = env_with_real_torch(
        tmp_path,
        {"timm": "import torch\n"},
        # A .pth line runs at start-up: a Python thread now lives in every interpreter here.
        {"aa_thread.pth": "import threading as t, time; t.Thread(target=time.sleep, args=(60,), daemon=1).start()\n"},
    )
    distributions = [TORCH, dist("timm", "torch")]
    run = run_zygote(str(python), import_targets(distributions), runner=RUNNER, timeout=30, environ=ENVIRON, workers=2)
    assert run.deep is None and run.imports == {} and [t.module for t in run.fallback] == ["timm"]
    assert run.reason is not None and "Python threads" in run.reason
    deep, checks = probe_deep_and_imports(
        str(python), distributions, has_torch=True, runner=RUNNER, timeout=30, environ=ENVIRON
    )
    assert deep is not None and deep.status == "ok"
    assert [(c.module, c.status) for c in checks] == [("timm", "ok")]


@pytest.mark.slow
def test_pythonpath_keeps_the_torch_probe_in_its_own_child(tmp_path: Path) -> None:
    # The torch probe never ran under -E: a PYTHONPATH torch is the one it must see. The
    # import checks ran under -E and still do (in the zygote).
    shadow = tmp_path / "shadow"
    (shadow / "torch").mkdir(parents=True)
    (shadow / "torch" / "__init__.py").write_text("raise ImportError('the PYTHONPATH torch')\n")
    python = env_with_real_torch(tmp_path, {"timm": "import torch\n"})
    distributions = [TORCH, dist("timm", "torch")]
    environ = {**ENVIRON, "PYTHONPATH": str(shadow)}
    deep, checks = probe_deep_and_imports(
        str(python), distributions, has_torch=True, runner=RUNNER, timeout=30, environ=environ
    )
    assert deep is not None and deep.status == "import-error" and deep.error == "ImportError: the PYTHONPATH torch"
    assert [(c.module, c.status) for c in checks] == [("timm", "ok")]


def test_real_environment_in_one_tree() -> None:
    from envdoctor.probe.interpreter import probe_python

    facts, _ = probe_python(sys.executable, runner=RUNNER, timeout=30, environ=ENVIRON)
    deep, checks = probe_deep_and_imports(
        sys.executable, facts.distributions, has_torch=True, runner=RUNNER, timeout=120, environ=ENVIRON
    )
    assert deep is not None and deep.status == "ok", deep
    assert {"transformers", "tokenizers", "mmengine", "numpy", "safetensors"} <= {c.module for c in checks}
    assert all(c.status == "ok" for c in checks), [c for c in checks if c.status != "ok"]
