"""Throwaway virtualenv specs for the fixture-log generator.

Each spec is a list of pip install steps run in order inside a fresh venv.
torch is always pinned to 2.13.0 explicitly (the local CPU wheel) in the same
pip command as anything that depends on it, so nothing pulls a CUDA build.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

PY311 = "/root/.pyenv/versions/3.11.7/bin/python3"
PY312 = "/root/.pyenv/versions/3.12.1/bin/python3"
CACHE = Path(os.environ.get("ENVDOCTOR_FIXTURE_VENVS", "/tmp/envdoctor-fixture-venvs"))
REPO = Path(__file__).resolve().parents[2]
DEV_VENV = REPO / ".venv"

TORCH = "torch==2.13.0"

# name -> {"python": interpreter, "steps": [ {"args": [...], "env": {...}} ]}
VENVS: dict[str, dict] = {
    # transformers 4.29.1 era (saves pytorch_model.bin with persistent position_ids)
    "tf429": {
        "python": PY311,
        "steps": [
            {"args": [TORCH, "transformers==4.29.1", "tokenizers==0.13.3",
                      "huggingface-hub==0.15.1", "numpy==1.26.4"]},
        ],
    },
    # transformers 4.40.2 (position_ids buffer non-persistent) + mmengine
    "tf440": {
        "python": PY311,
        "steps": [
            {"args": [TORCH, "transformers==4.40.2", "tokenizers==0.19.1",
                      "huggingface-hub==0.23.5", "numpy==1.26.4", "safetensors==0.4.5",
                      "mmengine==0.10.7", "opencv-python==4.10.0.84"]},
        ],
    },
    # transformers 4.29.1 with a tokenizers outside its pinned range
    "tf429-tok015": {
        "python": PY311,
        "steps": [
            {"args": ["transformers==4.29.1", "huggingface-hub==0.15.1", "numpy==1.26.4"]},
            {"args": ["--no-deps", "tokenizers==0.15.2"]},
        ],
    },
    # transformers 4.40.2 with huggingface-hub 1.x (outside <1.0)
    "tf440-hub1": {
        "python": PY311,
        "steps": [
            {"args": ["transformers==4.40.2", "tokenizers==0.19.1", "numpy==1.26.4"]},
            {"args": ["huggingface-hub==1.0.0"]},
        ],
    },
    # recent huggingface-hub without cached_download
    "hub026": {
        "python": PY311,
        "steps": [{"args": ["huggingface-hub==0.26.5"]}],
    },
    # sentence-transformers 2.2.2 (imports huggingface_hub.cached_download) with hub 0.26.5
    "st222-hub026": {
        "python": PY311,
        "steps": [
            {"args": [TORCH, "transformers==4.40.2", "tokenizers==0.19.1", "huggingface-hub==0.26.5",
                      "numpy==1.26.4", "scikit-learn==1.5.2", "scipy==1.14.1", "nltk==3.9.1",
                      "sentencepiece==0.2.0", "tqdm"]},
            {"args": ["--no-deps", "sentence-transformers==2.2.2"]},
        ],
    },
    # NumPy 2 with wheels compiled against NumPy 1.x
    "np2-abi": {
        "python": PY311,
        "steps": [
            {"args": ["numpy==2.2.6", "python-dateutil", "pytz", "tzdata"]},
            {"args": ["--no-deps", "pandas==2.1.4", "opencv-python==4.8.1.78"]},
        ],
    },
    "np126": {
        "python": PY311,
        "steps": [{"args": ["numpy==1.26.4"]}],
    },
    # old generated _pb2 modules with protobuf >= 4.21
    "tb28-pb4": {
        "python": PY311,
        "steps": [
            {"args": ["protobuf==4.25.3", "numpy==1.26.4"]},
            {"args": ["--no-deps", "tensorboard==2.8.0"]},
        ],
    },
    # torchvision from PyPI next to the CPU torch 2.13.0
    "tv-nms": {
        "python": PY311,
        "steps": [
            {"args": [TORCH, "numpy==2.2.6", "pillow==11.3.0"]},  # torchvision's own deps, minus torch
            {"args": ["--no-deps", "torchvision==0.28.0"]},
        ],
    },
    "lightning": {
        "python": PY311,
        "steps": [{"args": [TORCH, "lightning==2.5.6"]}],
    },
    # mmcv-lite 2.2.0 (OpenMMLab's official build without compiled ops; module name `mmcv`,
    # mmcv.__version__ == "2.2.0") + mmdet 3.3.0
    "mmcv220": {
        "python": PY311,
        "steps": [
            {"args": [TORCH, "mmengine==0.10.7", "numpy==1.26.4", "opencv-python==4.10.0.84"]},
            {"args": ["--no-deps", "mmcv-lite==2.2.0", "mmdet==3.3.0"]},
        ],
    },
    # bare venv: pip install of the mmcv sdist with an isolated (latest setuptools) build
    "bare311": {
        "python": PY311,
        "steps": [],
    },
    # Python 3.12 venv: only used to show the no-wheel build of tokenizers 0.13.3
    "py312": {
        "python": PY312,
        "steps": [],
    },
}


def spec_hash(name: str) -> str:
    return hashlib.sha256(json.dumps(VENVS[name], sort_keys=True).encode()).hexdigest()[:16]


def venv_python(name: str | None) -> Path:
    if name is None:
        return DEV_VENV / "bin" / "python"
    return CACHE / name / "bin" / "python"


def ensure_venv(name: str | None, log=print) -> Path:
    """Create (or reuse) the venv `name`; returns its python."""
    if name is None:
        return venv_python(None)
    spec = VENVS[name]
    root = CACHE / name
    root.parent.mkdir(parents=True, exist_ok=True)
    import fcntl
    with open(CACHE / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two generators must not build one venv at once
        return _ensure_locked(name, spec, root, log)


def _ensure_locked(name, spec, root, log) -> Path:
    marker = root / ".envdoctor-spec"
    if marker.exists() and marker.read_text().strip() == spec_hash(name):
        return venv_python(name)
    if root.exists():
        import shutil
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    log(f"[venv] creating {root}")
    subprocess.run([spec["python"], "-m", "venv", str(root)], check=True)
    py = venv_python(name)
    for step in spec["steps"]:
        env = dict(os.environ)
        env.update(step.get("env", {}))
        cmd = [str(py), "-m", "pip", "install", "-q", *step["args"]]
        log(f"[venv] {name}: pip install {' '.join(step['args'])}")
        subprocess.run(cmd, check=True, env=env)
    marker.write_text(spec_hash(name) + "\n")
    return py


if __name__ == "__main__":
    for n in sys.argv[1:] or list(VENVS):
        try:
            ensure_venv(n)
        except subprocess.CalledProcessError as e:
            print(f"[venv] {n} FAILED: {e}", file=sys.stderr)
