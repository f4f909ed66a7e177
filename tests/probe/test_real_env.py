"""End to end on the environment running the tests (torch CPU build, transformers, mmengine)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import sys
import time
from pathlib import Path

import pytest

from envdoctor.model import Environment, from_jsonable, to_jsonable
from envdoctor.probe import collect
from envdoctor.probe.torch_build import read_version_py


@pytest.fixture(scope="module")
def env() -> Environment:
    return collect()


def test_python_facts(env: Environment) -> None:
    assert env.python.executable == sys.executable
    names = {d.key for d in env.python.distributions}
    assert {"torch", "transformers", "tokenizers", "mmengine", "numpy"} <= names
    for name in ("torch", "transformers", "numpy", "mmengine"):
        dist = env.python.distribution(name)
        assert dist is not None and dist.version == importlib.metadata.version(name)


def test_torch_build_without_importing_torch(env: Environment) -> None:
    assert env.torch is not None
    assert env.torch.version == importlib.metadata.version("torch")
    # Whatever build is installed (the CPU wheel here, a CUDA wheel on a GPU runner): the
    # facts must be what its own version.py says, read without importing torch.
    spec = importlib.util.find_spec("torch")  # finds the package without running it
    assert spec is not None and spec.submodule_search_locations
    cuda = read_version_py(Path(next(iter(spec.submodule_search_locations)), "version.py")).get("cuda")
    assert env.torch.cuda == cuda
    if cuda is None:
        assert env.torch.arch_list is None and "CPU" in env.torch.unknown["arch_list"]
    else:
        assert env.torch.arch_list or "arch_list" in env.torch.unknown
    assert env.torch.git_version and len(env.torch.git_version) == 40
    torch_c = env.python.module_files["torch._C"]
    assert torch_c and torch_c[0].endswith(".so")


def test_transformers_runtime_bounds(env: Environment) -> None:
    bounds = {
        b.requirement.split(">")[0].split("<")[0].split("=")[0].split("!")[0]: b
        for b in env.python.import_bounds
        if b.package == "transformers"
    }
    assert "tokenizers" in bounds and "huggingface-hub" in bounds
    assert bounds["tokenizers"].source.endswith("dependency_versions_table.py")


def test_json_round_trip(env: Environment) -> None:
    data = json.loads(json.dumps(to_jsonable(env)))
    assert from_jsonable(Environment, data) == env


def test_host_facts_have_values_or_reasons(env: Environment) -> None:
    host = env.host
    for fact in ("os", "kernel", "libc", "driver_version", "driver_max_cuda", "nvcc_version"):
        assert getattr(host, fact) is not None or fact in host.unknown, fact
    assert host.gpus or "gpus" in host.unknown


def test_collect_is_fast() -> None:
    start = time.monotonic()
    collect()
    assert time.monotonic() - start < 3  # ~0.15 s typically; generous for loaded CI
