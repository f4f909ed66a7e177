"""Host facts from recorded real outputs, replayed through a fake runner, host root and NVML."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pynvml
import pytest

from envdoctor.model import Environment, Gpu, HostFacts
from envdoctor.probe.host import probe_host
from envdoctor.probe.parsers import (
    parse_nvcc_version,
    parse_proc_driver_version,
    parse_smi_banner,
    parse_smi_query,
)
from envdoctor.probe.runner import SubprocessRunner
from tests.probe.replay import (
    Recording,
    ReplayNvml,
    ReplayRunner,
    args_contain,
    fixture,
    no_args,
)

NO_NVML = ReplayNvml(init_error=pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND))


def host_root(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    root = tmp_path / "root"
    for relative, text in (files or {}).items():
        path = root / relative.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    root.mkdir(exist_ok=True)
    return root


def run_host(
    tmp_path: Path,
    runner: object,
    *,
    files: dict[str, str] | None = None,
    environ: dict[str, str] | None = None,
    nvml: object = NO_NVML,
    timeout: float = 5,
) -> HostFacts:
    return probe_host(
        runner=runner,  # type: ignore[arg-type]
        timeout=timeout,
        host_root=host_root(tmp_path, files),
        environ=environ if environ is not None else {"PATH": "/replay/bin"},
        nvml=nvml,  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------- parsers


def test_parse_query_with_header_in_any_order() -> None:
    gpus = parse_smi_query(fixture("nvidia-smi/query-triton-8070.csv"))
    assert gpus == [
        Gpu(index=0, name="NVIDIA TITAN V", compute_capability="7.0"),
        Gpu(index=1, name="NVIDIA RTX 5880 Ada Generation", compute_capability="8.9"),
    ]


def test_parse_banners() -> None:
    dcgm = parse_smi_banner(fixture("nvidia-smi/banner-dcgm-232.txt"))
    assert (dcgm.driver_version, dcgm.cuda_version) == ("535.247.01", "12.2")
    assert dcgm.gpus == (Gpu(index=0, name="NVIDIA A10G", memory_total_mib=23028),)
    snap = parse_smi_banner(fixture("nvidia-smi/banner-inference-snaps-89.txt"))
    assert (snap.smi_version, snap.driver_version, snap.cuda_version) == (
        "470.256.02",
        "580.95.05",
        "13.0",
    )
    assert snap.gpus == (Gpu(index=0, name="NVIDIA RTX PRO ...", memory_total_mib=8151),)


def test_parse_proc_driver_versions() -> None:
    assert parse_proc_driver_version(fixture("proc/driver-version-384.98.txt")) == "384.98"
    assert parse_proc_driver_version(fixture("proc/driver-version-open-565.57.01.txt")) == "565.57.01"


def test_parse_nvcc_versions() -> None:
    assert parse_nvcc_version(fixture("nvcc/nvcc-11.1.txt")) == "11.1.105"
    assert parse_nvcc_version(fixture("nvcc/nvcc-10.1.txt")) == "10.1.243"


# --------------------------------------------------------------------------- NVML


def test_nvml_replay_gives_driver_gpus_and_cuda(tmp_path: Path) -> None:
    # Values of the triton-inference-server/server#8070 machine (SOURCES.toml); NVML's
    # CUDA version integer for the 570 branch is 12080.
    nvml = ReplayNvml(
        driver=b"570.86.15",  # old nvidia-ml-py returned bytes
        cuda=12080,
        devices=[
            {
                "name": "NVIDIA TITAN V",
                "memory": pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED),
                "cc": (7, 0),
                "uuid": "GPU-b5169cef-2205-c30e-f2b3-220cfa14bafd",
            },
            {
                "name": "NVIDIA RTX 5880 Ada Generation",
                "memory": type("Memory", (), {"total": 51527024640})(),
                "cc": (8, 9),
                "uuid": "GPU-7518f6b0-991f-ce2b-3d37-c779130d3137",
            },
        ],
    )
    runner = ReplayRunner({})
    host = run_host(tmp_path, runner, nvml=nvml)
    assert host.driver_version == "570.86.15"
    assert host.driver_max_cuda == "12.8"
    assert host.sources["driver_version"] == "nvml"
    assert [g.compute_capability for g in host.gpus] == ["7.0", "8.9"]
    assert host.gpus[0].memory_total_mib is None
    assert host.gpus[1].memory_total_mib == 49140
    assert host.gpus[1].uuid == "GPU-7518f6b0-991f-ce2b-3d37-c779130d3137"
    assert "GPU 0 memory" in host.unknown["nvml"]
    assert runner.calls == []  # NVML answered: nvidia-smi is not run
    assert nvml.shutdown_called


def test_real_pynvml_without_driver_is_unknown(tmp_path: Path) -> None:
    host = probe_host(runner=ReplayRunner({}), timeout=5, host_root=host_root(tmp_path), environ={"PATH": ""})
    if host.driver_version is not None:
        pytest.skip("this machine has an NVIDIA driver")
    assert "NVML" in host.unknown["driver_version"]
    assert "nvidia-smi: not found on PATH" in host.unknown["gpus"]
    assert host.gpus == ()


# --------------------------------------------------------------------------- files & smi


def _derived_max_cuda(host: HostFacts) -> str | None:
    """host.driver_max_cuda as the checks see it (derived from the driver when not observed)."""
    from envdoctor.kb.compat import load_compat
    from envdoctor.kb.facts import build_facts
    from envdoctor.model import PythonFacts

    python = PythonFacts(
        executable=sys.executable,
        version="3.11.7",
        implementation="cpython",
        platform="linux-x86_64",
        machine="x86_64",
        prefix=sys.prefix,
        base_prefix=sys.base_prefix,
        in_venv=True,
    )
    value = build_facts(Environment(python=python, host=host), load_compat()).scalars["host.driver_max_cuda"]
    return None if value is None else str(value)


def test_proc_driver_version_when_nvml_fails(tmp_path: Path) -> None:
    host = run_host(
        tmp_path,
        ReplayRunner({}),
        files={"/proc/driver/nvidia/version": fixture("proc/driver-version-open-565.57.01.txt")},
    )
    assert host.driver_version == "565.57.01"
    assert host.sources["driver_version"] == "/proc/driver/nvidia/version"
    # Not observed: the probe leaves it unknown and the checks derive it from the driver branch.
    # nvidia-smi prints "CUDA Version: 12.7" for the 565 branch; the compatibility table
    # (toolkit releases only, no 12.7 toolkit) answers 12.6.
    assert host.driver_max_cuda is None
    assert "derive it from the driver version" in host.unknown["driver_max_cuda"]
    assert _derived_max_cuda(host) in ("12.6", "12.7")
    assert "nvidia-smi: not found on PATH" in host.unknown["gpus"]


def test_sys_module_version_is_preferred(tmp_path: Path) -> None:
    host = run_host(
        tmp_path,
        ReplayRunner({}),
        files={
            "/sys/module/nvidia/version": "565.57.01\n",
            "/proc/driver/nvidia/version": fixture("proc/driver-version-384.98.txt"),
        },
    )
    assert host.driver_version == "565.57.01"
    assert host.sources["driver_version"] == "/sys/module/nvidia/version"


def test_smi_query_when_nvml_fails(tmp_path: Path) -> None:
    runner = ReplayRunner(
        {"nvidia-smi": [(args_contain("--query-gpu"), Recording(fixture("nvidia-smi/query-triton-8070.csv")))]}
    )
    host = run_host(tmp_path, runner)
    assert [g.name for g in host.gpus] == ["NVIDIA TITAN V", "NVIDIA RTX 5880 Ada Generation"]
    assert host.driver_version == "570.86.15"
    assert host.sources["gpus"] == "nvidia-smi --query-gpu"
    assert host.driver_max_cuda is None  # no banner recorded: derived by the checks
    assert _derived_max_cuda(host) == "12.8"


def test_old_nvidia_smi_without_compute_cap_is_retried(tmp_path: Path) -> None:
    invalid = Recording(fixture("nvidia-smi/compute-cap-invalid.txt"), returncode=2)
    runner = ReplayRunner(
        {
            "nvidia-smi": [
                (args_contain("compute_cap"), invalid),
                (no_args, Recording(fixture("nvidia-smi/banner-inference-snaps-89.txt"))),
            ]
        }
    )
    host = run_host(tmp_path, runner)
    queries = [c for c in runner.calls if any("--query-gpu" in a for a in c)]
    assert len(queries) == 2 and "compute_cap" not in queries[1][1]
    assert host.driver_version == "580.95.05"
    assert host.driver_max_cuda == "13.0"
    assert host.sources["driver_max_cuda"] == "nvidia-smi banner"
    assert host.gpus == (Gpu(index=0, name="NVIDIA RTX PRO ...", memory_total_mib=8151),)
    assert "not a valid field" in host.unknown["compute_capability"]


@pytest.mark.parametrize(
    ("name", "code"),
    [("nvidia-smi/failed-communicate.txt", 9), ("nvidia-smi/nvml-mismatch.txt", 18)],
)
def test_nvidia_smi_error_text_is_recorded(tmp_path: Path, name: str, code: int) -> None:
    text = fixture(name)
    runner = ReplayRunner({"nvidia-smi": [(lambda argv: True, Recording(text, returncode=code))]})
    host = run_host(tmp_path, runner)
    assert host.driver_version is None and host.gpus == ()
    assert text.strip() in host.unknown["driver_version"]
    assert len(runner.calls) == 1  # the banner would fail the same way


def test_hanging_nvidia_smi_times_out(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "nvidia-smi"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    start = time.monotonic()
    host = run_host(tmp_path, SubprocessRunner(), environ={"PATH": str(bin_dir)}, timeout=1)
    assert time.monotonic() - start < 5
    assert "did not finish within" in host.unknown["gpus"]
    assert host.os is not None or "os" in host.unknown  # other facts still collected


def test_missing_nvidia_smi(tmp_path: Path) -> None:
    host = run_host(tmp_path, SubprocessRunner(), environ={"PATH": str(tmp_path)})
    assert "nvidia-smi: not found on PATH" in host.unknown["driver_version"]


# --------------------------------------------------------------------------- toolkit & system


def test_nvcc_under_cuda_home(tmp_path: Path) -> None:
    root = host_root(tmp_path, {"/usr/local/cuda-11.1/bin/nvcc": ""})
    runner = ReplayRunner({"nvcc": [(args_contain("--version"), Recording(fixture("nvcc/nvcc-11.1.txt")))]})
    # nvcc is found through the replay PATH; CUDA_HOME is reported as the user set it.
    host = probe_host(
        runner=runner,
        timeout=5,
        host_root=root,
        environ={"PATH": "/replay/bin", "CUDA_HOME": "/usr/local/cuda-11.1"},
        nvml=NO_NVML,
    )
    assert host.nvcc_version == "11.1.105"
    assert host.cuda_home == "/usr/local/cuda-11.1"
    assert host.sources["cuda_home"] == "env:CUDA_HOME"


def test_nvcc_found_only_in_cuda_home(tmp_path: Path) -> None:
    cuda = tmp_path / "cuda-10.1"
    (cuda / "bin").mkdir(parents=True)
    nvcc = cuda / "bin" / "nvcc"
    nvcc.write_text("#!/bin/sh\ncat '%s'\n" % (Path(__file__).parents[1] / "fixtures/host/nvcc/nvcc-10.1.txt"))
    nvcc.chmod(0o755)
    host = run_host(tmp_path, SubprocessRunner(), environ={"PATH": str(tmp_path / "none"), "CUDA_PATH": str(cuda)})
    assert host.nvcc_version == "10.1.243"
    assert host.nvcc_path == str(nvcc)


def test_no_toolkit(tmp_path: Path) -> None:
    host = run_host(tmp_path, ReplayRunner({}), environ={"PATH": ""})
    assert host.nvcc_version is None and "nvcc" in host.unknown["nvcc_version"]
    assert host.cuda_home is None and "cuda_home" in host.unknown


def test_os_kernel_env_and_ld_shadows(tmp_path: Path) -> None:
    libs = tmp_path / "cuda-libs"
    libs.mkdir()
    for name in ("libcudart.so.11.0", "libcudnn.so.8", "libcudnn_ops_infer.so.8", "libz.so.1"):
        (libs / name).write_text("")
    host = run_host(
        tmp_path,
        ReplayRunner({}),
        files={
            "/etc/os-release": (
                'NAME="Ubuntu"\nVERSION="22.04.3 LTS (Jammy Jellyfish)"\nPRETTY_NAME="Ubuntu 22.04.3 LTS"\n'
            ),
            "/proc/sys/kernel/osrelease": "5.15.0-88-generic\n",
        },
        environ={
            "PATH": "",
            "LD_LIBRARY_PATH": f"{libs}:/nonexistent",
            "CUDA_VISIBLE_DEVICES": "1,0",
        },
    )
    assert host.os == "Ubuntu 22.04.3 LTS"
    assert host.kernel == "5.15.0-88-generic"
    assert host.cuda_visible_devices == "1,0"
    assert host.ld_library_path == (str(libs), "/nonexistent")
    assert [os.path.basename(p) for p in host.ld_shadows] == [
        "libcudart.so.11.0",
        "libcudnn.so.8",
        "libcudnn_ops_infer.so.8",
    ]
    assert host.libc is None or host.libc.startswith(("glibc-", "musl-"))
