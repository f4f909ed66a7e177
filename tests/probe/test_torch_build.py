"""torch build facts from files: version.py literals, CUDA library wheels, fatbin scan."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from envdoctor.probe import collect
from envdoctor.probe.fatbin import scan_architectures
from tests.envbuilder import Dist, make_env, site_packages
from tests.probe.replay import FIXTURES, ReplayNvml, ReplayRunner

FATBIN_LIB = FIXTURES / "fatbin" / "libkernel_sm80_sm90_ptx90.so"
NO_NVML = ReplayNvml(init_error=RuntimeError("NVML Shared Library Not Found"))


def test_scan_real_nvcc_output() -> None:
    scan = scan_architectures(FATBIN_LIB)
    assert scan.arches == ("sm_80", "sm_90", "compute_90")
    assert scan.complete and scan.fatbins >= 1


def test_scan_without_elf_sections_falls_back_to_magic_search(tmp_path: Path) -> None:
    data = bytearray(FATBIN_LIB.read_bytes())
    data[:4] = b"NOPE"  # no longer ELF: the whole file is searched for fatbin headers
    raw = tmp_path / "raw.bin"
    raw.write_bytes(bytes(data))
    assert scan_architectures(raw).arches == ("sm_80", "sm_90", "compute_90")


def test_scan_of_a_file_without_gpu_code(tmp_path: Path) -> None:
    plain = tmp_path / "libplain.so"
    plain.write_bytes(b"\x7fELF" + b"\x00" * 200 + struct.pack("<I", 0xBA55ED50) + b"\xff" * 8)
    assert scan_architectures(plain).arches == ()
    empty = tmp_path / "empty.so"
    empty.write_bytes(b"")
    assert scan_architectures(empty).arches == ()


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc")
def test_scan_arch_specific_and_family_targets(tmp_path: Path) -> None:
    source = FIXTURES / "fatbin" / "kernel.cu"
    library = tmp_path / "libk.so"
    gencode = [
        "-gencode",
        "arch=compute_90a,code=sm_90a",
        "-gencode",
        "arch=compute_100f,code=sm_100f",
        "-gencode",
        "arch=compute_75,code=compute_75",
    ]
    build = subprocess.run(
        ["nvcc", "-shared", "-Xcompiler", "-fPIC", "-cudart", "none", *gencode, "-o", str(library), str(source)],
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        pytest.skip(f"this nvcc cannot target these archs: {build.stderr[-200:]}")
    assert scan_architectures(library).arches == ("sm_90a", "sm_100f", "compute_75")


def _collect(python: Path) -> object:
    return collect(python, runner=ReplayRunner({}), nvml=NO_NVML, environ={"PATH": ""}, timeout=30)


def test_cuda_torch_from_files(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={
            "torch": Dist("2.1.0+cu121", top_level=["torch"]),
            "numpy": "2.0.0",
            "nvidia-cudnn-cu12": Dist("8.9.2.26", top_level=["nvidia"]),
            "nvidia-nccl-cu12": Dist("2.18.1", top_level=["nvidia"]),
            "nvidia-cublas-cu12": Dist("12.1.3.1", top_level=["nvidia"]),
        },
        torch_version_py={
            "__version__": "2.1.0+cu121",
            "debug": False,
            "cuda": "12.1",
            "git_version": "7bcf7da3a268b435777fe87c7794c382f444e86d",
            "hip": None,
        },
        files={"torch/__init__.py": "raise SystemExit('torch must not be imported')\n"},
    )
    lib = site_packages(python.parent.parent) / "torch" / "lib"
    lib.mkdir()
    shutil.copy(FATBIN_LIB, lib / "libtorch_cuda.so")
    env = _collect(python)
    torch = env.torch  # type: ignore[attr-defined]
    assert torch.version == "2.1.0+cu121"
    assert torch.cuda == "12.1" and torch.hip is None and torch.debug is False
    assert torch.git_version == "7bcf7da3a268b435777fe87c7794c382f444e86d"
    assert (torch.cudnn, torch.nccl, torch.cublas) == ("8.9.2.26", "2.18.1", "12.1.3.1")
    assert torch.sources["cudnn"] == "dist:nvidia-cudnn-cu12"
    assert torch.arch_list == ("sm_80", "sm_90", "compute_90")
    assert torch.sources["arch_list"].startswith("elf-scan")
    assert torch.sources["cuda"] == "torch/version.py"
    numpy = env.python.distribution("numpy")  # type: ignore[attr-defined]
    assert numpy is not None and numpy.version == "2.0.0"
    # nvidia-* wheels share the `nvidia` namespace on purpose: not a module clash.
    assert not [d for d in env.python.duplicates if d.name == "nvidia"]  # type: ignore[attr-defined]


def test_bundled_libraries_in_torch_lib(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={"torch": Dist("1.13.1+cu117", top_level=["torch"])},
        torch_version_py={"__version__": "1.13.1+cu117", "cuda": "11.7", "debug": False},
    )
    lib = site_packages(python.parent.parent) / "torch" / "lib"
    lib.mkdir()
    for name in ("libcudnn.so.8", "libnccl.so.2", "libcublas.so.11"):
        (lib / name).write_bytes(b"")
    torch = _collect(python).torch  # type: ignore[attr-defined]
    assert (torch.cudnn, torch.nccl, torch.cublas) == ("8", "2", "11")
    assert torch.sources["cudnn"] == "torch/lib:libcudnn.so.8"
    assert torch.arch_list is None and "libtorch_cuda" in torch.unknown["arch_list"]
    assert "git_version" in torch.unknown and "hip" in torch.unknown


def test_cuda_library_without_fatbin_and_no_cuobjdump(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={"torch": Dist("2.1.0+cu121", top_level=["torch"])},
        torch_version_py={"__version__": "2.1.0+cu121", "cuda": "12.1"},
    )
    lib = site_packages(python.parent.parent) / "torch" / "lib"
    lib.mkdir()
    (lib / "libtorch_cuda.so").write_bytes(b"\x7fELF" + b"\x00" * 100)
    torch = _collect(python).torch  # type: ignore[attr-defined]
    assert torch.arch_list is None
    assert "cuobjdump is not on PATH" in torch.unknown["arch_list"]


def test_no_torch(tmp_path: Path) -> None:
    python = make_env(tmp_path, dists={"six": "1.16.0"})
    env = collect(python, runner=ReplayRunner({}), nvml=NO_NVML, environ={"PATH": ""}, deep=True)
    assert env.torch is None
    assert env.deep is not None and env.deep.status == "not-installed"


def test_environment_is_left_untouched(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={"torch": Dist("2.1.0", top_level=["torch"])},
        torch_version_py={"__version__": "2.1.0", "cuda": None},
    )
    before = sorted(os.walk(python.parent.parent))
    collect(python, runner=ReplayRunner({}), nvml=NO_NVML, environ={"PATH": ""}, deep=True, deep_timeout=30)
    assert sorted(os.walk(python.parent.parent)) == before  # deep imported torch: no .pyc
