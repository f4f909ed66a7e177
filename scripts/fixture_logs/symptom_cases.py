"""Build the hit/miss fixtures of the version, CUDA and environment symptom entries.

Every fixture under ``tests/fixtures/knowledge/{VR1,CU1,EN1}*/`` comes from one of three
sources, declared in :data:`FIXTURES` below, and is recorded in that entry's
``SOURCE.txt``:

* ``run``: the byte-exact combined stdout+stderr of a command run here with the real
  libraries, in the dev venv or in a throwaway venv under ``$ENVDOCTOR_SYMPTOM_VENVS``
  (default ``/tmp/envdoctor-symptom-venvs``); the venv's package versions are recorded.
* ``copy``: a verbatim slice (whole lines) of a real log made by ``generate.py`` in
  ``tests/fixtures/logs/`` (see its MANIFEST.toml for how it was produced).
* ``public``: a verbatim excerpt of a public GitHub issue (error output only), with the
  repository, issue number and URL; excerpts shared with ``generate.py`` are read from
  ``public_sources.py``.

Usage: ``python scripts/fixture_logs/symptom_cases.py [--only ID ...] [--no-run]``.
``--no-run`` rewrites copies and public excerpts but keeps existing ``run`` outputs.
Never installs a torch: venvs that need torch see the dev venv's (2.13.0+cpu) through a
``.pth`` file, and packages that would pull torch are installed with ``--no-deps``.
"""

# ruff: noqa: E501  (the public excerpts below are verbatim log lines and must not be wrapped)
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LOGS = REPO / "tests" / "fixtures" / "logs"
OUT = REPO / "tests" / "fixtures" / "knowledge"
DEV_VENV = REPO / ".venv"
VENV_ROOT = Path(os.environ.get("ENVDOCTOR_SYMPTOM_VENVS", "/tmp/envdoctor-symptom-venvs"))
PY311 = "/root/.pyenv/versions/3.11.7/bin/python3"
PY312 = "/root/.pyenv/versions/3.12.1/bin/python3"

sys.path.insert(0, str(Path(__file__).resolve().parent))
from public_sources import PUBLIC  # noqa: E402

# name -> interpreter, install steps (pip argument lists), whether the dev venv's
# site-packages (torch 2.13.0+cpu, numpy 2.4, opencv) is visible behind the venv's own.
VENVS: dict[str, dict[str, Any]] = {
    "pip311": {"python": PY311, "steps": [], "dev_path": False},
    "pip312": {"python": PY312, "steps": [], "dev_path": False},
    # pip 25.3 ends a failed build-requirements step with "Failed to build 'X' when getting requirements to build wheel"
    "pip253-py312": {"python": PY312, "steps": [["pip==25.3"]], "dev_path": False},
    "tf429-pip": {"python": PY311, "steps": [["transformers==4.29.1", "tokenizers==0.13.3"]], "dev_path": False},
    # torch from this machine's configured wheel source (the local 2.13.0+cpu wheel), no numpy
    "torch-nonumpy": {"python": PY311, "steps": [["torch==2.13.0"]], "dev_path": False, "pip_config": "machine"},
    "hub020": {"python": PY311, "steps": [["huggingface-hub==0.20.3"]], "dev_path": False},
    "mmdet-mmengine070": {
        "python": PY311,
        "steps": [["--no-deps", "mmengine==0.7.0", "mmcv-lite==2.1.0", "mmdet==3.3.0", "addict", "yapf", "termcolor"]],
        "dev_path": True,
    },
    # protobuf 4.21-4.24 spell the upb error "Descriptors cannot not be created directly"
    "tb28-pb421": {
        "python": PY311,
        "steps": [["protobuf==4.21.12", "numpy==1.26.4"], ["--no-deps", "tensorboard==2.8.0"]],
        "dev_path": False,
    },
    # numpy 1.24.0 removed np.float & co. and prints no explanation (1.25.0 added __former_attrs__)
    "np1240": {"python": PY311, "steps": [["numpy==1.24.0"]], "dev_path": False},
    "mmocr100-mmcv210": {
        "python": PY311,
        "steps": [["--no-deps", "mmcv-lite==2.1.0", "mmdet==3.3.0", "mmocr==1.0.0", "addict", "yapf", "termcolor"]],
        "dev_path": True,
    },
    "mmseg027-mmcv220": {
        "python": PY311,
        "steps": [["--no-deps", "mmcv-lite==2.2.0", "mmsegmentation==0.27.0"]],
        "dev_path": True,
    },
    "mmseg-mmcv220": {
        "python": PY311,
        "steps": [["--no-deps", "mmcv-lite==2.2.0", "mmsegmentation==1.2.2"]],
        "dev_path": True,
    },
}

# Packages whose versions are recorded for each venv (those present are written).
RECORDED = [
    "pip", "setuptools", "numpy", "torch", "transformers", "tokenizers", "huggingface-hub",
    "mmengine", "mmcv-lite", "mmdet", "mmsegmentation", "mmocr", "requests", "urllib3", "protobuf", "tensorboard",
]  # fmt: skip

PIP_ENV = {"PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_NO_INPUT": "1"}

# One row per fixture file: entry id, file name, and exactly one of run / copy / public.
FIXTURES: list[dict[str, Any]] = [
    # --- VR101 transformers import-time dependency range ---------------------------
    {"id": "VR101", "file": "hit-transformers429-tokenizers015.log", "copy": "transformers429-tokenizers-conflict.log"},
    {"id": "VR101", "file": "miss-transformers440-hub1.log", "copy": "transformers440-hub1.log"},
    # --- VR102 huggingface-hub range refused by transformers 4.x -------------------
    {"id": "VR102", "file": "hit-transformers440-hub1.log", "copy": "transformers440-hub1.log"},
    {
        "id": "VR102",
        "file": "miss-transformers429-tokenizers015.log",
        "copy": "transformers429-tokenizers-conflict.log",
    },
    # --- VR103 mmcv version assert in mmdet / mmseg / mmpretrain -------------------
    {"id": "VR103", "file": "hit-mmdet330-mmcv220.log", "copy": "mmdet330-mmcv220-incompatible.log"},
    {
        "id": "VR103",
        "file": "hit-mmocr100-mmcv210.log",
        "venv": "mmocr100-mmcv210",
        "run": ["python", "-c", "import mmocr"],
    },
    # mmseg 1.0.0rc5-1.2.2 name only the floor ("mmcv>=2.0.0rc4."): VR124, a near miss of VR103
    {"id": "VR103", "file": "miss-mmseg122-mmcv220.log", "copy": "../knowledge/VR124/hit-mmseg122-mmcv220.log"},
    {
        "id": "VR103",
        "file": "miss-mmdet330-mmengine070.log",
        "venv": "mmdet-mmengine070",
        "run": ["python", "-c", "import mmdet"],
    },
    # --- VR124 mmseg's mmcv assert without a usable range -----------------------------
    {
        "id": "VR124",
        "file": "hit-mmseg122-mmcv220.log",
        "venv": "mmseg-mmcv220",
        "run": ["python", "-c", "import mmseg"],
    },
    # mmseg 0.x prints digit_version tuples: OT110's wording, a near miss of VR124
    {
        "id": "VR124",
        "file": "miss-mmseg027-mmcv220-tuples.log",
        "venv": "mmseg027-mmcv220",
        "run": ["python", "-c", "import mmseg"],
    },
    {"id": "VR124", "file": "miss-mmdet330-mmcv220.log", "copy": "mmdet330-mmcv220-incompatible.log"},
    # --- VR104 mmengine version assert ----------------------------------------------
    {
        "id": "VR104",
        "file": "hit-mmdet330-mmengine070.log",
        "venv": "mmdet-mmengine070",
        "run": ["python", "-c", "import mmdet"],
    },
    {"id": "VR104", "file": "miss-mmdet330-mmcv220.log", "copy": "mmdet330-mmcv220-incompatible.log"},
    # --- VR105 pip's after-install conflict report ----------------------------------
    {
        "id": "VR105",
        "file": "hit-pip-tokenizers015-breaks-transformers429.log",
        "venv": "tf429-pip",
        "setup": [["python", "-m", "pip", "install", "-q", "tokenizers==0.13.3"]],
        "run": ["python", "-m", "pip", "install", "tokenizers==0.15.2"],
    },
    # pip 10.0-20.1 legacy wording (src/pip/_internal/commands/install.py@19.3): "has requirement ..., but you'll have"
    {"id": "VR105", "file": "hit-pip19-legacy-has-requirement.log", "public": "pip19-legacy-has-requirement"},
    {
        "id": "VR105",
        "file": "miss-pip-resolution-impossible.log",
        "venv": "pip311",
        "run": ["python", "-m", "pip", "install", "--dry-run", "transformers==4.29.1", "tokenizers==0.15.2"],
    },
    # --- VR106 ResolutionImpossible -------------------------------------------------
    {
        "id": "VR106",
        "file": "hit-pip-transformers429-tokenizers015.log",
        "venv": "pip311",
        "run": ["python", "-m", "pip", "install", "--dry-run", "transformers==4.29.1", "tokenizers==0.15.2"],
    },
    {
        "id": "VR106",
        "file": "miss-pip-conflict-report.log",
        "venv": "tf429-pip",
        "setup": [["python", "-m", "pip", "install", "-q", "tokenizers==0.13.3"]],
        "run": ["python", "-m", "pip", "install", "tokenizers==0.15.2"],
    },
    # --- VR107 torchvision built for another torch ----------------------------------
    {"id": "VR107", "file": "hit-torchvision-nms.log", "copy": "torchvision-nms-missing.log"},
    {
        "id": "VR107",
        "file": "miss-torch-numpy-missing-warning.log",
        "venv": "torch-nonumpy",
        "run": ["python", "-c", "import torch"],
    },
    # --- VR108 no matching distribution (no wheel for this Python) ------------------
    {
        "id": "VR108",
        "file": "hit-pip-torch1131-py312.log",
        "venv": "pip312",
        "run": ["python", "-m", "pip", "install", "--dry-run", "torch==1.13.1"],
    },
    {
        "id": "VR108",
        "file": "miss-pip-no-index.log",
        "venv": "pip312",
        "run": ["python", "-m", "pip", "install", "--dry-run", "--no-index", "torch==1.13.1"],
    },
    # --- VR110 NumPy 1.24 removed aliases (np.float, np.int, ...) --------------------
    {"id": "VR110", "file": "hit-numpy126-np-float.log", "copy": "numpy126-np-float.log"},
    {"id": "VR110", "file": "hit-numpy2-np-float.log", "copy": "numpy2-np-float.log"},
    {
        "id": "VR110",
        "file": "hit-numpy1240-np-float.log",
        "venv": "np1240",
        "run": ["python", "-c", "import numpy as np; x = np.float(1)"],
    },
    {
        "id": "VR110",
        "file": "miss-numpy2-np-product.log",
        "venv": "dev",
        "run": ["python", "-c", "import numpy as np; np.product([1, 2])"],
    },
    # --- VR111 NumPy 2 removed names (np.NaN, np.product, ...) -----------------------
    {
        "id": "VR111",
        "file": "hit-numpy2-np-nan.log",
        "venv": "dev",
        "run": ["python", "-c", "import numpy as np; x = np.NaN"],
    },
    {
        "id": "VR111",
        "file": "hit-numpy2-np-product.log",
        "venv": "dev",
        "run": ["python", "-c", "import numpy as np; np.product([1, 2])"],
    },
    {"id": "VR111", "file": "miss-numpy2-np-float.log", "copy": "numpy2-np-float.log"},
    # --- VR112 huggingface_hub 0.26 removed APIs ----------------------------------------
    {"id": "VR112", "file": "hit-hub026-cached-download.log", "copy": "hub-cached-download-removed.log"},
    {
        "id": "VR112",
        "file": "miss-hub020-too-old.log",
        "venv": "hub020",
        "run": ["python", "-c", "from huggingface_hub import split_torch_state_dict_into_shards"],
    },
    # --- VR123 huggingface_hub 1.0 removed APIs --------------------------------------
    {
        "id": "VR123",
        "file": "hit-hub24-hffolder.log",
        "venv": "dev",
        "run": ["python", "-c", "from huggingface_hub import HfFolder"],
    },
    {"id": "VR123", "file": "miss-hub026-cached-download.log", "copy": "hub-cached-download-removed.log"},
    # --- VR113 protobuf 4 with old generated code ----------------------------------
    {"id": "VR113", "file": "hit-tensorboard28-protobuf4.log", "copy": "protobuf4-descriptors-tensorboard28.log"},
    {
        "id": "VR113",
        "file": "hit-tensorboard28-protobuf421.log",
        "venv": "tb28-pb421",
        "run": ["python", "-c", "from tensorboard.compat.proto import summary_pb2"],
    },
    {"id": "VR113", "file": "miss-protobuf-gencode-warning.log", "public": "authzed-gencode"},
    # --- VR114 torch._six removed --------------------------------------------------
    {
        "id": "VR114",
        "file": "hit-torch213-six.log",
        "venv": "dev",
        "run": ["python", "-c", "from torch._six import inf"],
    },
    {
        "id": "VR114",
        "file": "miss-torch213-utils-ffi.log",
        "venv": "dev",
        "run": ["python", "-c", "from torch.utils.ffi import create_extension"],
    },
    # --- VR115 torch.utils.ffi removed ---------------------------------------------
    {
        "id": "VR115",
        "file": "hit-torch213-utils-ffi.log",
        "venv": "dev",
        "run": ["python", "-c", "from torch.utils.ffi import create_extension"],
    },
    {
        "id": "VR115",
        "file": "miss-torch213-six.log",
        "venv": "dev",
        "run": ["python", "-c", "from torch._six import inf"],
    },
    # --- VR116 transformers removed AdamW -------------------------------------------
    {
        "id": "VR116",
        "file": "hit-transformers5-adamw.log",
        "venv": "dev",
        "run": ["python", "-c", "from transformers import AdamW"],
    },
    {
        "id": "VR116",
        "file": "miss-hub24-hffolder.log",
        "venv": "dev",
        "run": ["python", "-c", "from huggingface_hub import HfFolder"],
    },
    # --- VR117 module built for NumPy 1.x under NumPy 2 -----------------------------
    {
        "id": "VR117",
        "file": "hit-numpy2-opencv4881.log",
        "copy": "numpy2-opencv4881-abi.log",
        "expect": {"top": "VR117", "also": ["VR119"]},
    },
    {"id": "VR117", "file": "miss-numpy2-pandas214.log", "copy": "numpy2-pandas214-abi.log"},
    # --- VR118 dtype/ndarray size changed ---------------------------------------------
    {"id": "VR118", "file": "hit-numpy2-pandas214.log", "copy": "numpy2-pandas214-abi.log"},
    {"id": "VR118", "file": "miss-numpy2-opencv4881.log", "copy": "numpy2-opencv4881-abi.log"},
    # --- VR119 compiled against a newer NumPy C API -----------------------------------
    {"id": "VR119", "file": "hit-api-version-0x10-0xf.log", "public": "numpy-api-version"},
    {"id": "VR119", "file": "miss-numpy2-pandas214.log", "copy": "numpy2-pandas214-abi.log"},
    # --- VR120 Rust compiler missing (tokenizers sdist) ------------------------------
    {
        "id": "VR120",
        "file": "hit-pip-tokenizers0133-py312.log",
        "copy": "pip-tokenizers0133-py312-no-rust.log",
        "expect": {"top": "VR120", "also": ["VR121"]},
    },
    {"id": "VR120", "file": "miss-pip-mmcv220-pkg-resources.log", "copy": "pip-mmcv220-sdist-no-pkg-resources.log"},
    # --- VR121 generic wheel build failure -----------------------------------------
    {
        "id": "VR121",
        "file": "hit-pip-wheel-build-failed.log",
        "copy": "pip-tokenizers0133-py312-no-rust.log",
        "lines": [84, 87],
    },
    {
        "id": "VR121",
        "file": "hit-pip253-mmcv220-get-requires.log",
        "venv": "pip253-py312",
        "run": ["python", "-m", "pip", "install", "--no-cache-dir", "mmcv==2.2.0"],
        "expect": {"top": "EN103", "also": ["VR121"]},
    },
    {
        "id": "VR121",
        "file": "miss-pip-no-index.log",
        "venv": "pip312",
        "run": ["python", "-m", "pip", "install", "--dry-run", "--no-index", "torch==1.13.1"],
    },
    # --- VR122 protobuf gencode older than runtime (benign warning) ------------------
    {"id": "VR122", "file": "hit-protobuf-gencode-warning.log", "public": "authzed-gencode"},
    {"id": "VR122", "file": "miss-tensorboard28-protobuf4.log", "copy": "protobuf4-descriptors-tensorboard28.log"},
    # --- CU101 CPU-only torch asked for CUDA -----------------------------------------
    {"id": "CU101", "file": "hit-torch213cpu-cuda.log", "copy": "torch-cuda-not-compiled.log"},
    {"id": "CU101", "file": "miss-torch-load-cuda-checkpoint.log", "copy": "torch-cuda-map-location.log"},
    # --- CU102 driver too old --------------------------------------------------------
    {"id": "CU102", "file": "hit-driver-9000-assert.log", "public": "cuda-driver-too-old-assert"},
    {"id": "CU102", "file": "hit-driver-11000-warning.log", "public": "cuda-driver-too-old-warning"},
    {"id": "CU102", "file": "miss-no-nvidia-driver.log", "public": "cuda-no-nvidia-driver"},
    # --- CU103 GPU arch not in the build ---------------------------------------------
    {"id": "CU103", "file": "hit-sm86-not-compatible.log", "public": "cuda-sm86-not-compatible"},
    {"id": "CU103", "file": "miss-no-kernel-image.log", "public": "cuda-no-kernel-image"},
    # --- CU104 no kernel image ---------------------------------------------------------
    {"id": "CU104", "file": "hit-no-kernel-image.log", "public": "cuda-no-kernel-image"},
    {"id": "CU104", "file": "miss-device-side-assert.log", "public": "cuda-device-side-assert"},
    # --- CU105 mmcv._ext undefined symbol ----------------------------------------------
    {"id": "CU105", "file": "hit-mmcv-ext-undefined-symbol.log", "public": "mmcv-ext-undefined-symbol"},
    {"id": "CU105", "file": "miss-flash-attn-undefined-symbol.log", "public": "flash-attn-undefined-symbol"},
    # --- CU106 flash-attn undefined symbol ---------------------------------------------
    {"id": "CU106", "file": "hit-flash-attn-undefined-symbol.log", "public": "flash-attn-undefined-symbol"},
    {"id": "CU106", "file": "miss-mmcv-ext-undefined-symbol.log", "public": "mmcv-ext-undefined-symbol"},
    # --- CU107 other compiled extension undefined symbol -----------------------------
    {"id": "CU107", "file": "hit-detectron2-c-undefined-symbol.log", "public": "detectron2-undefined-symbol"},
    {"id": "CU107", "file": "miss-mmcv-ext-undefined-symbol.log", "public": "mmcv-ext-undefined-symbol"},
    # --- CU108 mmcv without compiled ops -------------------------------------------------
    {
        "id": "CU108",
        "file": "hit-mmcv-lite220-no-ext.log",
        "venv": "mmseg-mmcv220",
        "run": ["python", "-c", "from mmcv.ops import nms"],
    },
    {"id": "CU108", "file": "miss-mmcv-ext-undefined-symbol.log", "public": "mmcv-ext-undefined-symbol"},
    # --- CU109 GroundingDINO _C not built -------------------------------------------------
    {"id": "CU109", "file": "hit-groundingdino-c-not-defined.log", "public": "groundingdino-c"},
    {"id": "CU109", "file": "miss-detectron2-c-undefined-symbol.log", "public": "detectron2-undefined-symbol"},
    # --- CU110 CUDA library not found ---------------------------------------------------
    {"id": "CU110", "file": "hit-libcudart-so-11.log", "public": "libcudart-so-11-missing"},
    {"id": "CU110", "file": "miss-libgl.log", "public": "libgl-missing"},
    # --- CU111 cuDNN version incompatibility ----------------------------------------------
    {"id": "CU111", "file": "hit-cudnn-850-841.log", "public": "cudnn-version-incompatibility"},
    {"id": "CU111", "file": "miss-libcudart-so-11.log", "public": "libcudart-so-11-missing"},
    # torch 0.2-0.4 "version mismatch" (pytorch/pytorch PR 1586) and 1.x "version incompatibility", version codes
    {"id": "CU111", "file": "hit-torch04-version-mismatch.log", "public": "cudnn-version-mismatch-codes"},
    {"id": "CU111", "file": "hit-torch10-version-incompatibility.log", "public": "cudnn-version-incompatibility-codes"},
    # --- CU112 pip cuBLAS shadowed by another CUDA on the library path --------------------
    {"id": "CU112", "file": "hit-cublas-lt-symbol.log", "public": "cublaslt-undefined-symbol"},
    {"id": "CU112", "file": "miss-flash-attn-undefined-symbol.log", "public": "flash-attn-undefined-symbol"},
    # --- CU113 CUDA out of memory -----------------------------------------------------------
    {"id": "CU113", "file": "hit-cuda-oom.log", "public": "cuda-out-of-memory"},
    {
        "id": "CU113",
        "file": "miss-cpu-oom.log",
        "venv": "dev",
        "run": ["python", "-c", "import torch; torch.empty(2**45)"],
    },
    # --- CU114 CUDA toolkit missing for an extension build -----------------------------------
    {"id": "CU114", "file": "hit-pip-bmtrain-cuda-home.log", "public": "cuda-home-not-set"},
    {"id": "CU114", "file": "miss-cuda-version-mismatch.log", "public": "cuda-version-mismatch"},
    # --- CU115 nvcc's CUDA differs from torch's -----------------------------------------------
    {"id": "CU115", "file": "hit-cuda-version-mismatch.log", "public": "cuda-version-mismatch"},
    # torch >= 2.8 raises RuntimeError(CUDA_MISMATCH_MESSAGE, nvcc's CUDA, torch's CUDA), printed as a
    # tuple. No CUDA toolkit here: the dev venv's torch 2.13 raises its own message constant exactly as
    # torch/utils/cpp_extension.py:_check_cuda_version does, with the two versions supplied.
    {
        "id": "CU115",
        "file": "hit-torch213-tuple-message.log",
        "venv": "dev",
        "note": "no CUDA toolkit or CUDA torch here: torch 2.13's own CUDA_MISMATCH_MESSAGE raised as _check_cuda_version raises it (torch/utils/cpp_extension.py, torch >= 2.8.0), versions supplied",
        "run": [
            "python",
            "-c",
            "from torch.utils.cpp_extension import CUDA_MISMATCH_MESSAGE; raise RuntimeError(CUDA_MISMATCH_MESSAGE, '12.1', '11.8')",
        ],
    },
    {"id": "CU115", "file": "miss-pip-bmtrain-cuda-home.log", "public": "cuda-home-not-set"},
    # --- CU116 no NVIDIA driver -------------------------------------------------------------
    {"id": "CU116", "file": "hit-no-nvidia-driver.log", "public": "cuda-no-nvidia-driver"},
    {"id": "CU116", "file": "miss-torch213cpu-cuda.log", "copy": "torch-cuda-not-compiled.log"},
    # --- CU117 no CUDA GPUs visible -------------------------------------------------------------
    {"id": "CU117", "file": "hit-no-cuda-gpus.log", "public": "no-cuda-gpus"},
    {"id": "CU117", "file": "miss-no-nvidia-driver.log", "public": "cuda-no-nvidia-driver"},
    # --- CU118 device-side assert -----------------------------------------------------------
    {"id": "CU118", "file": "hit-nll-target-out-of-range.log", "public": "cuda-device-side-assert"},
    {"id": "CU118", "file": "miss-no-kernel-image.log", "public": "cuda-no-kernel-image"},
    # --- CU119 CUDA checkpoint on a machine without CUDA -----------------------------------
    {"id": "CU119", "file": "hit-torch-load-cuda-checkpoint.log", "copy": "torch-cuda-map-location.log"},
    {"id": "CU119", "file": "miss-torch213cpu-cuda.log", "copy": "torch-cuda-not-compiled.log"},
    # --- EN101 OpenCV GUI system libraries missing -------------------------------------------
    {"id": "EN101", "file": "hit-libgl.log", "public": "libgl-missing"},
    {"id": "EN101", "file": "miss-libcudart-so-11.log", "public": "libcudart-so-11-missing"},
    # --- EN102 libstdc++ too old (GLIBCXX) -------------------------------------------------------
    {"id": "EN102", "file": "hit-glibcxx-3429.log", "public": "glibcxx-not-found"},
    {"id": "EN102", "file": "miss-mmcv-ext-undefined-symbol.log", "public": "mmcv-ext-undefined-symbol"},
    # --- EN103 pkg_resources gone from the build environment --------------------------------------
    {"id": "EN103", "file": "hit-pip-mmcv220-sdist.log", "copy": "pip-mmcv220-sdist-no-pkg-resources.log"},
    {"id": "EN103", "file": "miss-pip-tokenizers0133-py312.log", "copy": "pip-tokenizers0133-py312-no-rust.log"},
    # --- EN104 CPU out of memory ----------------------------------------------------------
    {
        "id": "EN104",
        "file": "hit-cpu-oom.log",
        "venv": "dev",
        "run": ["python", "-c", "import torch; torch.empty(2**45)"],
    },
    {"id": "EN104", "file": "miss-cuda-oom.log", "public": "cuda-out-of-memory"},
    # --- EN105 torch without NumPy ----------------------------------------------------------
    {
        "id": "EN105",
        "file": "hit-torch-numpy-missing-warning.log",
        "venv": "torch-nonumpy",
        "run": ["python", "-c", "import torch"],
    },
    {"id": "EN105", "file": "miss-numpy2-opencv4881.log", "copy": "numpy2-opencv4881-abi.log"},
]

# Public excerpts not shared with generate.py: error output as posted, reporter prose left out.
EXTRA_PUBLIC: dict[str, dict[str, Any]] = {
    "pip19-legacy-has-requirement": {
        "repo": "pretix/pretix",
        "issue": 1691,
        "url": "https://github.com/pretix/pretix/issues/1691",
        "where": "issue description, 2020-05-31 (pip 19.x/20.1 legacy wording)",
        "excerpt": """Successfully built paypalrestsdk pycparser mt-940 vobject cbor2
ERROR: celery 4.4.2 has requirement kombu<4.7,>=4.6.8, but you'll have kombu 4.6.7 which is incompatible.
""",
    },
    "cudnn-version-mismatch-codes": {
        "repo": "VisionLearningGroup/DA_Detection",
        "issue": 19,
        "url": "https://github.com/VisionLearningGroup/DA_Detection/issues/19",
        "where": "issue description, 2019-09-26 (torch 0.4 wording)",
        "excerpt": """RuntimeError: cuDNN version mismatch: PyTorch was compiled against 7102 but linked against 7600
""",
    },
    "cudnn-version-incompatibility-codes": {
        "repo": "akanimax/T2F",
        "issue": 6,
        "url": "https://github.com/akanimax/T2F/issues/6",
        "where": "issue title, 2019-05-06 (torch 1.0.0 wording)",
        "excerpt": """RuntimeError: cuDNN version incompatibility: PyTorch was compiled against 7401 but linked against 7301
""",
    },
    "authzed-gencode": {
        "repo": "authzed/authzed-py",
        "issue": 201,
        "url": "https://github.com/authzed/authzed-py/issues/201",
        "where": "issue description, 2024-09-10 (first two warnings)",
        "excerpt": """/.venv/lib64/python3.11/site-packages/google/protobuf/runtime_version.py:112: UserWarning: Protobuf gencode version 5.27.3 is older than the runtime version 5.28.0 at authzed/api/v1/core.proto. Please avoid checked-in Protobuf gencode that can be obsolete.
  warnings.warn(
/.venv/lib64/python3.11/site-packages/google/protobuf/runtime_version.py:112: UserWarning: Protobuf gencode version 5.27.3 is older than the runtime version 5.28.0 at authzed/api/v1/error_reason.proto. Please avoid checked-in Protobuf gencode that can be obsolete.
  warnings.warn(
""",
    },
    "numpy-api-version": {
        "repo": "dillonalaird/shared_numpy",
        "issue": 10,
        "url": "https://github.com/dillonalaird/shared_numpy/issues/10",
        "where": "issue description, 2023-10-06 (IPython output; Python 3.8.3, numpy 1.22.4)",
        "excerpt": """---------------------------------------------------------------------------
RuntimeError                              Traceback (most recent call last)
RuntimeError: module compiled against API version 0x10 but this version of numpy is 0xf . Check the section C-API incompatibility at the Troubleshooting ImportError section at https://numpy.org/devdocs/user/troubleshooting-importerror.html#c-api-incompatibility for indications on how to solve this problem .
---------------------------------------------------------------------------
ImportError                               Traceback (most recent call last)
Cell In [38], line 1
----> 1 import SharedArray as sa

ImportError: numpy.core.multiarray failed to import
""",
    },
    "detectron2-undefined-symbol": {
        "repo": "facebookresearch/detectron2",
        "issue": 593,
        "url": "https://github.com/facebookresearch/detectron2/issues/593",
        "where": "issue description, 2019-12-30 (traceback tail as posted)",
        "excerpt": """  File "/root/detectron2/detectron2/layers/__init__.py", line 3, in <module>
    from .deform_conv import DeformConv, ModulatedDeformConv
  File "/root/detectron2/detectron2/layers/deform_conv.py", line 10, in <module>
    from detectron2 import _C
ImportError: /root/detectron2/detectron2/_C.cpython-37m-x86_64-linux-gnu.so: undefined symbol: _ZN3c105ErrorC1ENS_14SourceLocationERKSs
""",
    },
    "groundingdino-c": {
        "repo": "IDEA-Research/Grounded-Segment-Anything",
        "issue": 436,
        "url": "https://github.com/IDEA-Research/Grounded-Segment-Anything/issues/436",
        "where": "issue description, 2024-01-18 (torch 2.0.1, CUDA 11.6; output as posted)",
        "excerpt": """NameError: name '_C' is not defined
 UserWarning: Failed to load custom C++ ops. Running on CPU mode Only!
 warnings.warn("Failed to load custom C++ ops. Running on CPU mode Only!")
""",
    },
    "cublaslt-undefined-symbol": {
        "repo": "hcnoh/gail-pytorch",
        "issue": 5,
        "url": "https://github.com/hcnoh/gail-pytorch/issues/5",
        "where": "issue description, 2023-03-06 (first part of the traceback, as posted)",
        "excerpt": """$ python3 train.py --env_name=BipedalWalker-v3
Traceback (most recent call last):
  File "/home/dl/GAIL/GAIL/lib/python3.8/site-packages/torch/__init__.py", line 172, in _load_global_deps
    ctypes.CDLL(lib_path, mode=ctypes.RTLD_GLOBAL)
  File "/usr/lib/python3.8/ctypes/__init__.py", line 373, in __init__
    self._handle = _dlopen(self._name, mode)
OSError: /home/dl/GAIL/GAIL/lib/python3.8/site-packages/torch/lib/../../nvidia/cublas/lib/libcublas.so.11: undefined symbol: cublasLtGetStatusString, version libcublasLt.so.11
""",
    },
    "cuda-version-mismatch": {
        "repo": "OpenGVLab/InternImage",
        "issue": 188,
        "url": "https://github.com/OpenGVLab/InternImage/issues/188",
        "where": "issue title, 2023-06-17",
        "excerpt": """RuntimeError: The detected CUDA version (12.1) mismatches the version that was used to compile PyTorch (11.7). Please make sure to use the same CUDA versions.
""",
    },
    "no-cuda-gpus": {
        "repo": "jiaw-z/CoR-GS",
        "issue": 23,
        "url": "https://github.com/jiaw-z/CoR-GS/issues/23",
        "where": "issue description, 2024-08-01 (traceback, as posted)",
        "excerpt": """Traceback (most recent call last):
  File "train.py", line 469, in <module>
    safe_state(args.quiet)
  File "./exp/CoR-GS/utils/general_utils.py", line 139, in safe_state
    torch.cuda.set_device(torch.device("cuda:0"))
  File "./.local/lib/python3.8/site-packages/torch/cuda/__init__.py", line 399, in set_device
    torch._C._cuda_setDevice(device)
  File "./.local/lib/python3.8/site-packages/torch/cuda/__init__.py", line 293, in _lazy_init
    torch._C._cuda_init()
RuntimeError: No CUDA GPUs are available
""",
    },
    "libgl-missing": {
        "repo": "CraftJarvis/MC-Planner",
        "issue": 7,
        "url": "https://github.com/CraftJarvis/MC-Planner/issues/7",
        "where": "issue description, 2023-05-17 (traceback)",
        "excerpt": """Traceback (most recent call last):
  File "/root/nas/MC/MC-Planner/main.py", line 5, in <module>
    from controller import *
  File "/root/nas/MC/MC-Planner/controller.py", line 1, in <module>
    import cv2
  File "/opt/conda/envs/planner/lib/python3.9/site-packages/cv2/__init__.py", line 181, in <module>
    bootstrap()
  File "/opt/conda/envs/planner/lib/python3.9/site-packages/cv2/__init__.py", line 153, in bootstrap
    native_module = importlib.import_module("cv2")
  File "/opt/conda/envs/planner/lib/python3.9/importlib/__init__.py", line 127, in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
ImportError: libGL.so.1: cannot open shared object file: No such file or directory
""",
    },
    "glibcxx-not-found": {
        "repo": "vietanhdev/anylabeling",
        "issue": 110,
        "url": "https://github.com/vietanhdev/anylabeling/issues/110",
        "where": "issue description, 2023-06-25",
        "excerpt": """ImportError: /lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.29' not found (required by /home/zk/conda/envs/anylabeling/lib/python3.8/site-packages/matplotlib/_path.cpython-38-x86_64-linux-gnu.so)
""",
    },
}


def _venv_python(name: str) -> Path:
    if name == "dev":
        return DEV_VENV / "bin" / "python"
    return VENV_ROOT / name / "bin" / "python"


def _env(name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") or k == "PIP_CERT"}
    env.update(PIP_ENV)
    env.pop("PIP_FIND_LINKS", None)
    env["PATH"] = f"{_venv_python(name).parent}:{env.get('PATH', '')}"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["NO_COLOR"] = "1"
    env["TERM"] = "dumb"
    return env


def ensure_venv(name: str) -> Path:
    """Create the named throwaway venv once (a marker file records a finished setup)."""
    python = _venv_python(name)
    if name == "dev":
        return python
    spec = VENVS[name]
    marker = VENV_ROOT / name / ".envdoctor-ready"
    if marker.exists() and marker.read_text() == json.dumps(spec):
        return python
    subprocess.run([spec["python"], "-m", "venv", "--clear", str(VENV_ROOT / name)], check=True)
    # "machine": install with this machine's pip configuration (its local torch wheel), not PyPI.
    step_env = dict(os.environ) if spec.get("pip_config") == "machine" else _env(name)
    for step in spec["steps"]:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *step], check=True, env=step_env)
    if spec["dev_path"]:
        dev_site = subprocess.run(
            [str(DEV_VENV / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        own_site = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        Path(own_site, "zz-envdoctor-dev-venv.pth").write_text(dev_site + "\n")
    marker.write_text(json.dumps(spec))
    return python


def _versions(name: str) -> dict[str, str]:
    code = (
        "import json, importlib.metadata as m, platform\n"
        f"names = {RECORDED!r}\n"
        "out = {'python': platform.python_version()}\n"
        "for n in names:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([str(_venv_python(name)), "-c", code], capture_output=True, text=True, env=_env(name))
    return dict(json.loads(done.stdout)) if done.returncode == 0 else {}


def produce(row: dict[str, Any], run: bool) -> tuple[str | None, dict[str, Any]]:
    """Return (text or None to keep the existing file, the SOURCE.txt record)."""
    if "copy_fixture" in row:  # another entry's recorded fixture
        row = {**row, "copy": f"../knowledge/{row['copy_fixture']}"}
    if "copy" in row:
        copied = os.path.normpath(LOGS / row["copy"])
        record: dict[str, Any] = {"kind": "copy", "log": os.path.relpath(copied, REPO)}
        if "lines" not in row:  # a whole file: a .ref naming the one copy, never a second copy of its bytes
            return os.path.relpath(copied, OUT.parent) + "\n", record
        lines = Path(copied).read_text(encoding="utf-8").splitlines(keepends=True)
        first, last = row["lines"]
        record["lines"] = f"{first}-{last}"
        return "".join(lines[first - 1 : last]), record
    if "public" in row:
        source = _public(row)
        record = {"kind": "public", "repo": source["repo"], "issue": source["issue"], "url": source["url"],
                  "where": source["where"]}  # fmt: skip
        if "file" in source:  # kept once under tests/fixtures/logs/ (generate.py): a .ref to it
            return f"logs/{source['file']}\n", record
        return source["excerpt"], record
    name = row["venv"]
    record = {"kind": "run", "venv": name, "command": " ".join(row["run"])}
    if "note" in row:
        record["note"] = row["note"]
    if name != "dev":
        record["venv_spec"] = [" ".join(step) for step in VENVS[name]["steps"]]
        if VENVS[name]["dev_path"]:
            record["venv_spec"].append("(+ .pth to the dev venv's site-packages: torch 2.13.0+cpu, numpy, opencv)")
    if not run:
        return None, record
    python = ensure_venv(name)
    env = _env(name)
    for setup in row.get("setup", []):
        subprocess.run([str(python) if setup[0] == "python" else setup[0], *setup[1:]], check=True, env=env,
                       capture_output=True)  # fmt: skip
        record.setdefault("setup", []).append(" ".join(setup))
    command = [str(python) if row["run"][0] == "python" else row["run"][0], *row["run"][1:]]
    work = VENV_ROOT / "work"
    work.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=work,
                          timeout=600)  # fmt: skip
    record["exit_code"] = done.returncode
    record["packages"] = _versions(name)
    record["generated"] = datetime.date.today().isoformat()
    return done.stdout.decode("utf-8", "replace"), record


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    source: dict[str, Any] = EXTRA_PUBLIC.get(row["public"]) or PUBLIC[row["public"]]
    return source


def is_ref(row: dict[str, Any]) -> bool:
    """A row whose fixture is a ``.ref`` file (a whole recorded log named, not copied)."""
    if "copy_fixture" in row:
        return True
    if "public" in row:
        return "file" in _public(row)
    return ("copy" in row or "copy_fixture" in row) and "lines" not in row


def _shared_excerpts(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Rows (by position) whose excerpt another row holds, rewritten as a ``.ref`` to that row's file.

    An excerpt used by several rows is kept once: by its first ``hit-`` row (else its first
    row); the others name that file.
    """
    users: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        if "public" in row and not is_ref(row):
            users.setdefault(row["public"], []).append(index)
    out: dict[int, dict[str, Any]] = {}
    for indices in users.values():
        holder = next((i for i in indices if rows[i]["file"].startswith("hit-")), indices[0])
        for index in indices:
            if index != holder:
                out[index] = {**rows[index], "copy_fixture": f"{rows[holder]['id']}/{rows[holder]['file']}"}
    return out


def write_source(entry_id: str, records: dict[str, dict[str, Any]], script: str) -> None:
    """SOURCE.txt of one entry's fixtures (TOML text; the fixture test admits it beside the logs).

    Records of environment fixtures (``kind = "env"``, written by family_envs.py) are kept.
    """
    path = OUT / entry_id / "SOURCE.txt"
    old: dict[str, Any] = {}
    if path.exists():
        old = tomllib.loads(path.read_text(encoding="utf-8")).get("files", {})
    records = {**{k: v for k, v in old.items() if v.get("kind") == "env"}, **records}
    lines = [f"# Where the fixtures of {entry_id} come from; written by scripts/fixture_logs/{script}.", ""]
    for file_name in sorted(records):
        record = records[file_name]
        if record["kind"] == "run" and "exit_code" not in record and file_name in old:
            record = old[file_name]  # kept from the last real run
        lines.append(f'[files."{file_name}"]')
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in record.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def emit_rows(rows: list[dict[str, Any]], argv: list[str] | None, script: str, doc: str) -> int:
    """The command line of a fixture table: build every row (or ``--only`` ids), then SOURCE.txt."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="entry ids to rebuild")
    parser.add_argument("--no-run", action="store_true", help="keep existing outputs of `run` rows")
    args = parser.parse_args(argv)
    by_entry: dict[str, dict[str, dict[str, Any]]] = {}
    shared = _shared_excerpts(rows)
    for index, row in enumerate(rows):
        if args.only and row["id"] not in args.only:
            continue
        text, record = produce(row, run=not args.no_run)
        if index in shared:  # the excerpt's bytes stay with the row that holds them; the record stays public
            row = shared[index]
            text = produce(row, run=False)[0]
        target = OUT / row["id"] / row["file"]
        if is_ref(row):
            target = target.with_suffix(".ref")
        target.parent.mkdir(parents=True, exist_ok=True)
        if text is not None:
            target.write_text(text, encoding="utf-8")
        if "expect" in row:
            expect = row["expect"]
            also = ", ".join(json.dumps(i) for i in expect.get("also", []))
            target.with_name(target.name.removesuffix(target.suffix) + ".expect.toml").write_text(
                f'top = "{expect["top"]}"\nalso = [{also}]\n', encoding="utf-8"
            )
        # SOURCE.txt names a .ref by the .log it stands for (tests/kb/test_symptom_entries.py)
        by_entry.setdefault(row["id"], {})[target.with_suffix(".log").name] = record
        print(f"{row['id']}/{row['file']}: {record['kind']} exit={record.get('exit_code')}", flush=True)
    for entry_id, records in by_entry.items():
        write_source(entry_id, records, script)
    return 0


def main(argv: list[str] | None = None) -> int:
    return emit_rows(FIXTURES, argv, "symptom_cases.py", __doc__ or "")


if __name__ == "__main__":
    raise SystemExit(main())
