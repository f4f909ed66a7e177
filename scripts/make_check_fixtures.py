"""Write the hit/miss Environment fixtures of the diagnose checks (PY0xx, TH0xx, CU0xx, HF0xx, MM0xx).

Each scenario is an environment as the probe would report it: a hit makes the check fire,
a near miss differs in the one fact that matters. Host values (driver versions, GPU names,
compute capabilities) are those real machines report; the driver/CUDA pairs follow
NVIDIA's release-notes table in knowledge/compat/cuda_driver.toml.

Run: python scripts/make_check_fixtures.py   (rewrites tests/fixtures/knowledge/<ID>/*.json)
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from envdoctor.model import (
    DeepTorch,
    Distribution,
    Duplicate,
    Environment,
    Gpu,
    HostFacts,
    ImportBound,
    PythonFacts,
    TorchBuild,
    to_jsonable,
)

ROOT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "knowledge"
SITE = "/opt/venv/lib/python3.11/site-packages"
MARKERS = {
    "implementation_name": "cpython",
    "implementation_version": "3.11.7",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "python_full_version": "3.11.7",
    "python_version": "3.11",
    "sys_platform": "linux",
}
MARKERS_313 = {
    **MARKERS,
    "implementation_version": "3.13.1",
    "python_full_version": "3.13.1",
    "python_version": "3.13",
}
TOKENIZERS_BOUND = "tokenizers>=0.11.1,!=0.11.3,<0.14"
ARCH_CU121 = ("sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90")
A100 = Gpu(0, "NVIDIA A100-SXM4-80GB", 81920, "8.0", "GPU-6f1b2c1e-0000-0000-0000-000000000000")
RTX5090 = Gpu(0, "NVIDIA GeForce RTX 5090", 32607, "12.0", "GPU-2a9c0d5b-0000-0000-0000-000000000000")


def dist(name: str, version: str, *requires: str) -> Distribution:
    return Distribution(name, version, SITE, tuple(requires))


def env(
    *dists: Distribution,
    torch: TorchBuild | None = None,
    host: HostFacts | None = None,
    deep: DeepTorch | None = None,
    **python: Any,
) -> Environment:
    facts = PythonFacts(
        executable="/opt/venv/bin/python",
        version="3.11.7",
        implementation="cpython",
        platform="linux-x86_64",
        machine="x86_64",
        prefix="/opt/venv",
        base_prefix="/usr",
        in_venv=True,
        site_packages=(SITE,),
        markers=MARKERS,
        distributions=dists,
    )
    return Environment(python=dataclasses.replace(facts, **python), host=host or HostFacts(), torch=torch, deep=deep)


def cuda_torch(
    version: str = "2.1.0+cu121", cuda: str = "12.1", arch: tuple[str, ...] | None = ARCH_CU121
) -> TorchBuild:
    return TorchBuild(version=version, cuda=cuda, cudnn="8.9.2.26", arch_list=arch, location=f"{SITE}/torch")


CPU_TORCH = TorchBuild(version="2.13.0+cpu", location=f"{SITE}/torch")


def gpu_host(driver: str = "535.104.05", max_cuda: str | None = "12.2", gpu: Gpu = A100, **extra: Any) -> HostFacts:
    return HostFacts(
        os="Ubuntu 22.04.4 LTS",
        libc="glibc 2.35",
        driver_version=driver,
        driver_max_cuda=max_cuda,
        gpus=(gpu,),
        **extra,
    )


def torch_dists(torch_version: str = "2.1.0+cu121", *extra: Distribution) -> tuple[Distribution, ...]:
    return (dist("torch", torch_version), *extra)


SCENARIOS: dict[str, dict[str, Environment]] = {
    "PY001": {
        "hit-tokenizers-too-new": env(dist("transformers", "4.29.1", TOKENIZERS_BOUND), dist("tokenizers", "0.15.2")),
        "miss-tokenizers-in-range": env(dist("transformers", "4.29.1", TOKENIZERS_BOUND), dist("tokenizers", "0.13.3")),
    },
    "PY002": {
        "hit-hub-missing": env(dist("transformers", "4.29.1", "huggingface-hub<1.0,>=0.14.1")),
        "miss-extra-only-dependency": env(dist("transformers", "4.29.1", 'torch>=1.9,!=1.12.0; extra == "torch"')),
    },
    "PY003": {
        "hit-transformers-import-bound": env(
            dist("transformers", "4.29.1"),
            dist("tokenizers", "0.15.2"),
            import_bounds=(
                ImportBound("transformers", TOKENIZERS_BOUND, f"{SITE}/transformers/dependency_versions_table.py"),
            ),
        ),
        "miss-mmdet-bound-satisfied": env(
            dist("mmdet", "3.3.0"),
            dist("mmcv", "2.1.0"),
            import_bounds=(ImportBound("mmdet", "mmcv>=2.0.0rc4,<2.2.0", f"{SITE}/mmdet/__init__.py"),),
            module_files={"mmcv._ext": (f"{SITE}/mmcv/_ext.cpython-311-x86_64-linux-gnu.so",)},
        ),
    },
    "PY004": {
        "hit-user-site-shadows-venv": env(
            dist("numpy", "1.26.4"),
            duplicates=(
                Duplicate(
                    "same-distribution",
                    "numpy",
                    ("numpy 1.26.4 @ /root/.local/lib/python3.11/site-packages", f"numpy 2.0.0 @ {SITE}"),
                    "numpy 1.26.4 @ /root/.local/lib/python3.11/site-packages",
                ),
            ),
        ),
        "miss-two-providers-of-cv2": env(
            dist("opencv-python", "4.10.0.84"),
            dist("opencv-python-headless", "4.10.0.84"),
            duplicates=(
                Duplicate("same-module", "cv2", ("opencv-python 4.10.0.84", "opencv-python-headless 4.10.0.84")),
            ),
        ),
    },
    "PY005": {
        "hit-opencv-both-variants": env(
            dist("opencv-python", "4.10.0.84"),
            dist("opencv-python-headless", "4.10.0.84"),
            duplicates=(
                Duplicate("same-module", "cv2", ("opencv-python 4.10.0.84", "opencv-python-headless 4.10.0.84")),
            ),
        ),
        "miss-same-distribution-twice": env(
            dist("numpy", "1.26.4"),
            duplicates=(Duplicate("same-distribution", "numpy", ("numpy 1.26.4 @ /a", "numpy 1.26.4 @ /b")),),
        ),
    },
    "PY006": {
        "hit-opencv-built-for-numpy1": env(dist("numpy", "2.0.0"), dist("opencv-python", "4.9.0.80")),
        "miss-numpy1-still-installed": env(dist("numpy", "1.26.4"), dist("opencv-python", "4.9.0.80")),
        # 4.10.0.82 is the last NumPy-1-only opencv (abi3: it installs on 3.13, where no numpy<2 wheel exists)
        "hit-opencv-41082-py313": env(
            dist("numpy", "2.4.6"), dist("opencv-python", "4.10.0.82"), version="3.13.1", markers=MARKERS_313
        ),
    },
    "PY007": {
        "hit-metadata-not-utf8": env(
            Distribution(
                "opencv-python",
                "",
                SITE,
                metadata_error="METADATA is not valid UTF-8: 'utf-8' codec can't decode byte 0xff in position 0",
            ),
            dist("numpy", "1.26.4"),
        ),
        "miss-all-metadata-readable": env(dist("opencv-python", "4.10.0.84"), dist("numpy", "1.26.4")),
    },
    "TH001": {
        "hit-cpu-wheel-on-a100": env(*torch_dists("2.13.0+cpu"), torch=CPU_TORCH, host=gpu_host()),
        "miss-cpu-wheel-no-gpu": env(
            *torch_dists("2.13.0+cpu"), torch=CPU_TORCH, host=HostFacts(os="Debian GNU/Linux 12 (bookworm)")
        ),
    },
    "TH002": {
        "hit-torchvision-from-next-release": env(
            *torch_dists("2.1.0+cu121", dist("torchvision", "0.17.0")), torch=cuda_torch(), host=gpu_host()
        ),
        "miss-torchvision-matches": env(
            *torch_dists("2.1.0+cu121", dist("torchvision", "0.16.2+cu121")), torch=cuda_torch(), host=gpu_host()
        ),
    },
    "TH003": {
        "hit-import-segfault": env(
            *torch_dists(),
            torch=cuda_torch(),
            host=gpu_host(),
            deep=DeepTorch("crashed", error="child process killed by SIGSEGV while importing torch"),
        ),
        "miss-import-ok": env(
            *torch_dists(),
            torch=cuda_torch(),
            host=gpu_host(),
            deep=DeepTorch(
                "ok",
                cuda_available=True,
                device_count=1,
                arch_list=ARCH_CU121,
                cudnn_version="8902",
                device_ops=((0, "ok"),),
            ),
        ),
    },
    "TH004": {
        "hit-cuda-unavailable": env(
            *torch_dists(),
            torch=cuda_torch(),
            host=gpu_host(cuda_visible_devices=""),
            deep=DeepTorch("ok", cuda_available=False, device_count=0),
        ),
        "miss-cuda-available": env(
            *torch_dists(),
            torch=cuda_torch(),
            host=gpu_host(),
            deep=DeepTorch("ok", cuda_available=True, device_count=1),
        ),
    },
    "CU001": {
        "hit-driver-470-cuda-121": env(*torch_dists(), torch=cuda_torch(), host=gpu_host("470.182.03", "11.4")),
        "miss-driver-535-cuda-121": env(*torch_dists(), torch=cuda_torch(), host=gpu_host("535.104.05", "12.2")),
    },
    "CU002": {
        "hit-driver-525-cuda-121": env(*torch_dists(), torch=cuda_torch(), host=gpu_host("525.60.13", "12.0")),
        "miss-driver-535-cuda-121": env(*torch_dists(), torch=cuda_torch(), host=gpu_host("535.104.05", "12.2")),
    },
    "CU003": {
        "hit-rtx5090-on-cu121-build": env(
            *torch_dists(), torch=cuda_torch(), host=gpu_host("570.124.06", "12.8", RTX5090)
        ),
        "miss-a100-on-cu121-build": env(*torch_dists(), torch=cuda_torch(), host=gpu_host()),
    },
    "CU004": {
        "hit-nvcc-118-torch-121": env(
            *torch_dists(), torch=cuda_torch(), host=gpu_host(nvcc_version="11.8", cuda_home="/usr/local/cuda-11.8")
        ),
        "miss-nvcc-121": env(
            *torch_dists(), torch=cuda_torch(), host=gpu_host(nvcc_version="12.1", cuda_home="/usr/local/cuda-12.1")
        ),
    },
    "CU005": {
        "hit-nvcc-124-torch-121": env(
            *torch_dists(), torch=cuda_torch(), host=gpu_host(nvcc_version="12.4", cuda_home="/usr/local/cuda-12.4")
        ),
        "miss-nvcc-118-major-differs": env(
            *torch_dists(), torch=cuda_torch(), host=gpu_host(nvcc_version="11.8", cuda_home="/usr/local/cuda-11.8")
        ),
    },
    "CU006": {
        "hit-gpu-no-toolkit": env(*torch_dists(), torch=cuda_torch(), host=gpu_host()),
        "miss-toolkit-present": env(
            *torch_dists(), torch=cuda_torch(), host=gpu_host(nvcc_version="12.1", cuda_home="/usr/local/cuda-12.1")
        ),
    },
    "CU007": {
        "hit-system-cuda-on-ld-path": env(
            *torch_dists(),
            torch=cuda_torch(),
            host=gpu_host(ld_library_path=("/usr/local/cuda-11.8/lib64",), ld_shadows=("/usr/local/cuda-11.8/lib64",)),
        ),
        "miss-ld-path-without-cuda": env(
            *torch_dists(),
            torch=cuda_torch(),
            host=gpu_host(ld_library_path=("/opt/intel/oneapi/lib",)),
        ),
    },
    "HF001": {
        "hit-transformers-446-mmdet-330": env(dist("transformers", "4.46.3"), dist("mmdet", "3.3.0")),
        "miss-transformers-430": env(dist("transformers", "4.30.2"), dist("mmdet", "3.3.0")),
        # mmdet ships Grounding DINO from 3.2.0 on (mmdet/models/detectors/grounding_dino.py in the 3.2.0 wheel)
        "hit-transformers-446-mmdet-320": env(dist("transformers", "4.46.3"), dist("mmdet", "3.2.0")),
        "miss-transformers-446-mmdet-310": env(dist("transformers", "4.46.3"), dist("mmdet", "3.1.0")),
    },
    "MM001": {
        "hit-mmcv-lite-build": env(dist("mmcv", "2.1.0"), dist("mmdet", "3.3.0")),
        "miss-mmcv-with-ops": env(
            dist("mmcv", "2.1.0"),
            dist("mmdet", "3.3.0"),
            module_files={"mmcv._ext": (f"{SITE}/mmcv/_ext.cpython-311-x86_64-linux-gnu.so",)},
        ),
    },
}


def main() -> None:
    for entry_id, cases in SCENARIOS.items():
        folder = ROOT / entry_id
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.json"):
            old.unlink()
        for name, environment in cases.items():
            text = json.dumps({"environment": to_jsonable(environment)}, indent=1, sort_keys=True)
            (folder / f"{name}.json").write_text(text + "\n", encoding="utf-8")
    print(f"wrote {sum(len(c) for c in SCENARIOS.values())} fixtures under {ROOT}")


if __name__ == "__main__":
    main()
