"""Build the hit/miss fixtures of the breadth entries (issue 10, families 1-3, 7-10, 13, 14).

Entries: VR130-VR159, CU120-CU179, EN110-EN149 (knowledge/entries/). Every fixture comes from
one of three sources, recorded in the entry's ``SOURCE.txt`` (TOML):

* ``run``: the combined stdout+stderr of a short program run here with the real libraries:
  the dev venv (torch 2.13.0+cpu, transformers, safetensors) or a throwaway venv that
  adds sentence-transformers 3.4.1 on top of it (:data:`VENVS`); versions are recorded;
* ``public``: a verbatim excerpt (whole lines of error output) of a public GitHub issue,
  with the repository, issue number and URL (:data:`PUBLIC`);
* ``copy``: a byte copy of another fixture above, stored as a ``.ref`` naming it;
* ``env``: an environment document for ``diagnose`` made from another entry's fixture
  with one distribution added (:data:`ENVIRONMENTS`).

Usage: ``python scripts/fixture_logs/breadth_a.py [--only ID ...] [--no-run]``.
``--no-run`` rewrites public excerpts and environments but keeps existing ``run`` logs.
Runs never use the network (``HF_HUB_OFFLINE=1``) and write only under a scratch folder.
"""

# ruff: noqa: E501  (the public excerpts below are verbatim log lines and must not be wrapped)
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "knowledge"
DEV_PYTHON = REPO / ".venv" / "bin" / "python"
SCRATCH = Path(os.environ.get("ENVDOCTOR_BREADTH_SCRATCH", "/tmp/envdoctor-breadth"))
VENV_ROOT = Path(os.environ.get("ENVDOCTOR_SYMPTOM_VENVS", "/tmp/envdoctor-symptom-venvs"))
PY311 = "/root/.pyenv/versions/3.11.7/bin/python3"

#: Throwaway venvs: name -> pip steps; the dev venv's site-packages is visible behind them.
VENVS: dict[str, list[list[str]]] = {
    "st341": [["--no-deps", "sentence-transformers==3.4.1"], ["scipy", "scikit-learn", "requests"]],
}

# ---------------------------------------------------------------------------------------
# Real runs: (entry id, "hit"/"miss", name, venv or "dev", program). Each program runs in
# its own empty scratch folder (named after the case, so paths in tracebacks are stable).
# ---------------------------------------------------------------------------------------
_SAVE_NS = """
import argparse, torch
torch.save({"args": argparse.Namespace(lr=0.1, epochs=90), "state_dict": {"fc.weight": torch.zeros(2, 2)}}, "checkpoint.pth")
torch.load("checkpoint.pth")
"""
_SAVE_NUMPY = """
import numpy as np, torch
torch.save({"weight": torch.zeros(2), "mean": np.zeros(3)}, "model.pth")
torch.load("model.pth")
"""
_SAVE_OS_SYSTEM = """
import os, torch
class Payload:
    def __reduce__(self):
        return (os.system, ("true",))
torch.save({"weight": torch.zeros(2), "x": Payload()}, "model.pth")
torch.load("model.pth")
"""
_LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\\n"
    "oid sha256:5a1d2c3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccddeeff0\\n"
    "size 102502400\\n"
)
_HTML_PAGE = '<!DOCTYPE html>\\n<html lang=\\"en\\"><head><title>Sign in</title></head><body></body></html>\\n'


def _torch_load(content: str, file: str, weights_only: bool | None) -> str:
    arg = "" if weights_only is None else f", weights_only={weights_only}"
    return f'import torch\nopen("{file}", "w").write("{content}")\ntorch.load("{file}"{arg})\n'


def _safetensors_load(content: str, file: str) -> str:
    return f'from safetensors.torch import load_file\nopen("{file}", "w").write("{content}")\nload_file("{file}")\n'


_TRUNCATED_PTH = """
import torch
torch.save({"fc.weight": torch.zeros(256, 256)}, "full.pth")
data = open("full.pth", "rb").read()
open("model.pth", "wb").write(data[: len(data) // 2])
torch.load("model.pth")
"""
_ZIP_NOT_TORCH = """
import zipfile, torch
with zipfile.ZipFile("model.pth", "w") as archive:
    archive.writestr("readme.txt", "weights are in the release page")
torch.load("model.pth")
"""
_GZIP_ARCHIVE = """
import tarfile, torch
torch.save({"fc.weight": torch.zeros(2, 2)}, "model.pth")
with tarfile.open("model.pth.tar.gz", "w:gz") as archive:
    archive.add("model.pth")
torch.load("model.pth.tar.gz")
"""
_TRUNCATED_SAFETENSORS = """
import torch
from safetensors.torch import load_file, save_file
save_file({"fc.weight": torch.zeros(256, 256)}, "full.safetensors")
data = open("full.safetensors", "rb").read()
open("model.safetensors", "wb").write(data[: len(data) // 2])
load_file("model.safetensors")
"""
_MODEL_TYPE_MISMATCH = """
from transformers import BertConfig, BertModel, RobertaModel
config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37)
BertModel(config).save_pretrained("tiny-bert")
RobertaModel.from_pretrained("tiny-bert")
"""
_UNKNOWN_MODEL_TYPE = """
import json, os
from transformers import AutoConfig
os.makedirs("future-model", exist_ok=True)
json.dump({"model_type": "grounding-dinox", "hidden_size": 32}, open("future-model/config.json", "w"))
AutoConfig.from_pretrained("future-model")
"""
_ST_NEW_POOLING = """
from transformers import BertConfig, BertModel, BertTokenizerFast
from tokenizers import Tokenizer, models, pre_tokenizers
config = BertConfig(vocab_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37)
BertModel(config).save_pretrained("tiny-bert")
vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "a": 5, "b": 6, "c": 7}
tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
tok.pre_tokenizer = pre_tokenizers.Whitespace()
BertTokenizerFast(tokenizer_object=tok).save_pretrained("tiny-bert")
from sentence_transformers import SentenceTransformer
model = SentenceTransformer("tiny-bert")
print(model.encode(["a b c"]).shape)
"""
_ST_SAVED_MODEL = _ST_NEW_POOLING.replace(
    'from sentence_transformers import SentenceTransformer\nmodel = SentenceTransformer("tiny-bert")\n',
    "from sentence_transformers import SentenceTransformer, models\n"
    'word = models.Transformer("tiny-bert")\n'
    'pooling = models.Pooling(word.get_word_embedding_dimension(), "mean")\n'
    'SentenceTransformer(modules=[word, pooling]).save("tiny-st")\n'
    'model = SentenceTransformer("tiny-st")\n',
)
_CUDA_HOME_UNSET = """
import os
os.environ.pop("CUDA_HOME", None); os.environ.pop("CUDA_PATH", None)
from torch.utils import cpp_extension
cpp_extension.CUDA_HOME = None
cpp_extension._join_cuda_home("include")
"""

RUNS: list[tuple[str, str, str, str, str]] = [
    ("VR130", "hit", "argparse-namespace", "dev", _SAVE_NS),
    ("VR130", "hit", "numpy-array-in-dict", "dev", _SAVE_NUMPY),
    ("VR130", "miss", "os-system-global", "dev", _SAVE_OS_SYSTEM),
    ("VR131", "miss", "weights-only-load-failed", "dev", _SAVE_NS),
    ("EN110", "hit", "lfs-pointer-weights-only", "dev", _torch_load(_LFS_POINTER, "pytorch_model.bin", None)),
    ("EN110", "hit", "lfs-pointer-full-load", "dev", _torch_load(_LFS_POINTER, "pytorch_model.bin", False)),
    ("EN110", "miss", "html-page", "dev", _torch_load(_HTML_PAGE, "model.pth", None)),
    ("EN111", "hit", "html-page-weights-only", "dev", _torch_load(_HTML_PAGE, "model.pth", None)),
    ("EN111", "hit", "html-page-full-load", "dev", _torch_load(_HTML_PAGE, "model.pth", False)),
    ("EN111", "miss", "lfs-pointer", "dev", _torch_load(_LFS_POINTER, "pytorch_model.bin", False)),
    (
        "EN112",
        "hit",
        "gzip-archive-full-load",
        "dev",
        _GZIP_ARCHIVE.replace('"model.pth.tar.gz")', '"model.pth.tar.gz", weights_only=False)'),
    ),
    ("EN112", "hit", "gzip-archive-weights-only", "dev", _GZIP_ARCHIVE),
    ("EN112", "miss", "lfs-pointer", "dev", _torch_load(_LFS_POINTER, "pytorch_model.bin", None)),
    ("EN113", "hit", "truncated-download", "dev", _TRUNCATED_PTH),
    ("EN113", "miss", "zip-not-a-checkpoint", "dev", _ZIP_NOT_TORCH),
    ("EN114", "hit", "lfs-pointer-safetensors", "dev", _safetensors_load(_LFS_POINTER, "model.safetensors")),
    ("EN114", "hit", "html-page-safetensors", "dev", _safetensors_load(_HTML_PAGE, "model.safetensors")),
    ("EN114", "miss", "truncated-safetensors", "dev", _TRUNCATED_SAFETENSORS),
    ("EN115", "hit", "truncated-safetensors", "dev", _TRUNCATED_SAFETENSORS),
    ("EN115", "miss", "lfs-pointer-safetensors", "dev", _safetensors_load(_LFS_POINTER, "model.safetensors")),
    ("EN123", "hit", "bert-into-roberta", "dev", _MODEL_TYPE_MISMATCH),
    ("EN123", "miss", "unknown-model-type", "dev", _UNKNOWN_MODEL_TYPE),
    ("EN124", "hit", "plain-bert-dir", "st341", _ST_NEW_POOLING),
    ("EN124", "miss", "saved-sentence-transformer", "st341", _ST_SAVED_MODEL),
    ("CU157", "miss", "cuda-home-unset", "dev", _CUDA_HOME_UNSET),
    ("CU136", "miss", "cuda-home-unset", "dev", _CUDA_HOME_UNSET),
]

# ---------------------------------------------------------------------------------------
# Public excerpts: (entry id, kind, name, repo, issue, where, text). Text is verbatim.
# ---------------------------------------------------------------------------------------
PUBLIC: list[tuple[str, str, str, str, int, str, str]] = [
    # -- family 1: torch.load ------------------------------------------------------------
    (
        "VR131",
        "hit",
        "efficientvit-132",
        "mit-han-lab/efficientvit",
        132,
        "issue description, 2024-08-09 (torch 2.4.0+cu118)",
        "FutureWarning: You are using `torch.load` with `weights_only=False` (the current default value), which uses the default pickle module implicitly. It is possible to construct malicious pickle data which will execute arbitrary code during unpickling (See https://github.com/pytorch/pytorch/blob/main/SECURITY.md#untrusted-models for more details). In a future release, the default value for `weights_only` will be flipped to `True`. This limits the functions that could be executed during unpickling. Arbitrary objects will no longer be allowed to be loaded via this mode unless they are explicitly allowlisted by the user via `torch.serialization.add_safe_globals`. We recommend you start setting `weights_only=True` for any use case where you don't have full control of the loaded file. Please open an issue on GitHub for any issues related to this experimental feature.\n",
    ),
    (
        "VR131",
        "hit",
        "hippynn-94",
        "lanl/hippynn",
        94,
        "issue description, 2024-09-03",
        "FutureWarning: You are using `torch.load` with `weights_only=False` (the current default value), which uses the default pickle module implicitly. It is possible to construct malicious pickle data which will execute arbitrary code during unpickling (See https://github.com/pytorch/pytorch/blob/main/SECURITY.md#untrusted-models for more details). In a future release, the default value for `weights_only` will be flipped to `True`. This limits the functions that could be executed during unpickling. Arbitrary objects will no longer be allowed to be loaded via this mode unless they are explicitly allowlisted by the user via `torch.serialization.add_safe_globals`. We recommend you start setting `weights_only=True` for any use case where you don't have full control of the loaded file. Please open an issue on GitHub for any issues related to this experimental feature.\n  structure = torch.load(pfile, **kwargs)\n",
    ),
    (
        "VR132",
        "hit",
        "chainguard-edu-2124",
        "chainguard-dev/edu",
        2124,
        "issue description, 2025-03-18",
        "Traceback (most recent call last):\n  File \"/home/nonroot/octopus-detector/image_classification.py\", line 178, in <module>\n    with torch.serialization.safe_globals(\n         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\nAttributeError: module 'torch.serialization' has no attribute 'safe_globals'\n",
    ),
    (
        "VR132",
        "miss",
        "pytorch-146886",
        "pytorch/pytorch",
        146886,
        "issue description, 2025-02-11 (error quoted by the reporter)",
        "        (2) Alternatively, to load with `weights_only=True` please check the recommended steps in the following error message.\n        WeightsUnpickler error: Unsupported global: GLOBAL numpy.dtype was not an allowed global by default. Please use `torch.serialization.add_safe_globals([dtype])` or the `torch.serialization.safe_globals([dtype])` context manager to allowlist this global if you trust this class/function.\n",
    ),
    (
        "VR130",
        "hit",
        "pytorch-146886-numpy-dtype",
        "pytorch/pytorch",
        146886,
        "issue description, 2025-02-11 (error quoted by the reporter)",
        "        (2) Alternatively, to load with `weights_only=True` please check the recommended steps in the following error message.\n        WeightsUnpickler error: Unsupported global: GLOBAL numpy.dtype was not an allowed global by default. Please use `torch.serialization.add_safe_globals([dtype])` or the `torch.serialization.safe_globals([dtype])` context manager to allowlist this global if you trust this class/function.\n",
    ),
    # -- family 2: bitsandbytes ----------------------------------------------------------
    (
        "CU120",
        "hit",
        "basaran-3",
        "hyperonym/basaran",
        3,
        "issue description, 2023-02-21 (Linux container, MODEL_LOAD_IN_8BIT=true)",
        '===================================BUG REPORT===================================\nWelcome to bitsandbytes. For bug reports, please submit your error trace to: https://github.com/TimDettmers/bitsandbytes/issues\n================================================================================\n/opt/conda/lib/python3.10/site-packages/bitsandbytes/cextension.py:31: UserWarning: The installed version of bitsandbytes was compiled without GPU support. 8-bit optimizers and GPU quantization are unavailable.\n  warn("The installed version of bitsandbytes was compiled without GPU support. "\nTraceback (most recent call last):\n  File "/app/model.py", line 300, in load_model\n    model = AutoModelForCausalLM.from_pretrained(name_or_path, **kwargs)\n',
    ),
    (
        "CU120",
        "hit",
        "cosmos-predict1-35",
        "nvidia-cosmos/cosmos-predict1",
        35,
        "issue description, 2025-04-07 (bitsandbytes >= 0.45 log format)",
        "[WARNING | bitsandbytes.cextension]: The installed version of bitsandbytes was compiled without GPU support. 8-bit optimizers, 8-bit multiplication, and GPU quantization are unavailable.\n",
    ),
    (
        "CU120",
        "miss",
        "bnb-778-libcudart",
        "bitsandbytes-foundation/bitsandbytes",
        778,
        "issue description, 2023-09-19",
        "CUDA_SETUP: WARNING! libcudart.so not found in any environmental path. Searching in backup paths...\nThe following directories listed in your path were found to be non-existent: {PosixPath('/usr/local/cuda/lib64')}\nDEBUG: Possible options found for libcudart.so: set()\nCUDA SETUP: PyTorch settings found: CUDA_VERSION=117, Highest Compute Capability: 7.5.\n",
    ),
    (
        "CU122",
        "hit",
        "bnb-778-title",
        "bitsandbytes-foundation/bitsandbytes",
        778,
        "issue title, 2023-09-19",
        "RuntimeError: CUDA Setup failed despite GPU being available.\n",
    ),
    (
        "CU122",
        "hit",
        "bnb-817-title",
        "bitsandbytes-foundation/bitsandbytes",
        817,
        "issue title, 2023-10-11",
        "CUDA Setup failed despite GPU being available. Please run the following command to get more information\n",
    ),
    (
        "CU122",
        "miss",
        "basaran-3",
        "hyperonym/basaran",
        3,
        "issue description, 2023-02-21",
        '/opt/conda/lib/python3.10/site-packages/bitsandbytes/cextension.py:31: UserWarning: The installed version of bitsandbytes was compiled without GPU support. 8-bit optimizers and GPU quantization are unavailable.\n  warn("The installed version of bitsandbytes was compiled without GPU support. "\n',
    ),
    (
        "CU123",
        "hit",
        "bnb-1848-cuda131",
        "bitsandbytes-foundation/bitsandbytes",
        1848,
        "issue description (torch for CUDA 13.1 in an NGC container)",
        "[bitsandbytes.cextension|ERROR]bitsandbytes library load error: Configured CUDA binary not found at /usr/local/lib/python3.12/dist-packages/bitsandbytes/libbitsandbytes_cuda131.so\n",
    ),
    (
        "CU123",
        "hit",
        "bnb-1190-source-build",
        "bitsandbytes-foundation/bitsandbytes",
        1190,
        "comment, 2024-04-24 (python -m bitsandbytes)",
        "root@1c1b2c566ff1:/workspace/ilya_png# python -m bitsandbytes\nCould not find the bitsandbytes CUDA binary at PosixPath('/usr/local/lib/python3.10/dist-packages/bitsandbytes-0.43.2.dev0-py3.10-linux-x86_64.egg/bitsandbytes/libbitsandbytes_cuda121.so')\nCould not load bitsandbytes native library: /usr/local/lib/python3.10/dist-packages/bitsandbytes-0.43.2.dev0-py3.10-linux-x86_64.egg/bitsandbytes/libbitsandbytes_cpu.so: cannot open shared object file: No such file or directory\n",
    ),
    (
        "CU123",
        "hit",
        "bnb-427-required-library",
        "bitsandbytes-foundation/bitsandbytes",
        427,
        "issue description, 2023-05-24",
        "CUDA SETUP: Detected CUDA version 121\nCUDA SETUP: Required library version not found: libbitsandbytes_cuda121.so. Maybe you need to compile it from source?\nCUDA SETUP: Defaulting to libbitsandbytes_cpu.so...\n",
    ),
    (
        "CU123",
        "miss",
        "bnb-778-libcudart",
        "bitsandbytes-foundation/bitsandbytes",
        778,
        "issue description, 2023-09-19",
        "CUDA_SETUP: WARNING! libcudart.so not found in any environmental path. Searching in backup paths...\nThe following directories listed in your path were found to be non-existent: {PosixPath('/usr/local/cuda/lib64')}\nDEBUG: Possible options found for libcudart.so: set()\n",
    ),
    (
        "CU124",
        "hit",
        "bnb-778-libcudart",
        "bitsandbytes-foundation/bitsandbytes",
        778,
        "issue description, 2023-09-19",
        "/opt/conda/envs/ptl-py310/lib/python3.10/site-packages/bitsandbytes/cuda_setup/main.py:166: UserWarning: /opt/conda/envs/ptl-py310 did not contain ['libcudart.so', 'libcudart.so.11.0', 'libcudart.so.12.0'] as expected! Searching further paths...\n  warn(msg)\nCUDA_SETUP: WARNING! libcudart.so not found in any environmental path. Searching in backup paths...\nThe following directories listed in your path were found to be non-existent: {PosixPath('/usr/local/cuda/lib64')}\nDEBUG: Possible options found for libcudart.so: set()\nCUDA SETUP: PyTorch settings found: CUDA_VERSION=117, Highest Compute Capability: 7.5.\n",
    ),
    (
        "CU124",
        "hit",
        "bnb-51-colab",
        "bitsandbytes-foundation/bitsandbytes",
        51,
        "issue description, 2022-10-04",
        "/usr/local/lib/python3.7/dist-packages/bitsandbytes/cuda_setup/paths.py:99: UserWarning: /usr/lib64-nvidia did not contain libcudart.so as expected! Searching further paths...\n",
    ),
    (
        "CU124",
        "miss",
        "bnb-1848-cuda131",
        "bitsandbytes-foundation/bitsandbytes",
        1848,
        "issue description",
        "[bitsandbytes.cextension|ERROR]bitsandbytes library load error: Configured CUDA binary not found at /usr/local/lib/python3.12/dist-packages/bitsandbytes/libbitsandbytes_cuda131.so\n",
    ),
    (
        "CU125",
        "hit",
        "lora-scripts-225",
        "Akegarasu/lora-scripts",
        225,
        "issue description, 2023-09-07 (Windows)",
        "CUDA_SETUP: WARNING! libcudart.so not found in any environmental path. Searching in backup paths...\nThe following directories listed in your path were found to be non-existent: {WindowsPath('/usr/local/cuda/lib64')}\nDEBUG: Possible options found for libcudart.so: set()\nCUDA SETUP: PyTorch settings found: CUDA_VERSION=118, Highest Compute Capability: 8.9.\nCUDA SETUP: To manually override the PyTorch CUDA version please see:https://github.com/TimDettmers/bitsandbytes/blob/main/how_to_use_nonpytorch_cuda.md\nCUDA SETUP: Loading binary D:\\lora-scripts\\venv\\Lib\\site-packages\\bitsandbytes\\libbitsandbytes_cuda118.so...\nargument of type 'WindowsPath' is not iterable\nCUDA SETUP: Problem: The main issue seems to be that the main CUDA runtime library was not detected.\n",
    ),
    (
        "CU125",
        "hit",
        "deepke-503",
        "zjunlp/DeepKE",
        503,
        "issue description, 2024-05-13 (Windows)",
        "bin D:\\ProgramData\\Anaconda3\\envs\\deepke-llm\\lib\\site-packages\\bitsandbytes\\libbitsandbytes_cpu.so\nD:\\ProgramData\\Anaconda3\\envs\\deepke-llm\\lib\\site-packages\\bitsandbytes\\cextension.py:34: UserWarning: The installed version of bitsandbytes was compiled without GPU support. 8-bit optimizers, 8-bit multiplication, and GPU quantization are unavailable.\n  warn(\"The installed version of bitsandbytes was compiled without GPU support. \"\n'NoneType' object has no attribute 'cadam32bit_grad_fp32'\n",
    ),
    (
        "CU125",
        "miss",
        "basaran-3-linux",
        "hyperonym/basaran",
        3,
        "issue description, 2023-02-21 (Linux)",
        '/opt/conda/lib/python3.10/site-packages/bitsandbytes/cextension.py:31: UserWarning: The installed version of bitsandbytes was compiled without GPU support. 8-bit optimizers and GPU quantization are unavailable.\n  warn("The installed version of bitsandbytes was compiled without GPU support. "\n',
    ),
    # -- family 3: xFormers --------------------------------------------------------------
    (
        "CU127",
        "hit",
        "invokeai-6590",
        "invoke-ai/InvokeAI",
        6590,
        "issue description, 2024-07-09 (Windows, RTX 3060)",
        "Launching Web UI with arguments: xformers\nWARNING:xformers:WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:\n    PyTorch 2.1.2+cu121 with CUDA 1201 (you have 2.0.1+cu118)\n    Python  3.10.11 (you have 3.10.11)\n    Please reinstall xformers (see https://github.com/facebookresearch/xformers#installing-xformers)\n",
    ),
    (
        "CU127",
        "hit",
        "fast-stable-diffusion-2672",
        "TheLastBen/fast-stable-diffusion",
        2672,
        "issue description, 2023-11-29",
        "WARNING:xformers:WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:\n    PyTorch 2.0.1+cu118 with CUDA 1108 (you have 2.1.0+cu121)\n",
    ),
    (
        "CU127",
        "miss",
        "invokeai-4788-cpu-torch",
        "invoke-ai/InvokeAI",
        4788,
        "comment, 2023-10-04",
        "WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:\n    PyTorch 2.0.1+cu118 with CUDA 1108 (you have 2.0.1+cpu)\n    Python  3.10.11 (you have 3.10.11)\n  Please reinstall xformers (see https://github.com/facebookresearch/xformers#installing-xformers)\n  Memory-efficient attention, SwiGLU, sparse and more won't be available.\n  Set XFORMERS_MORE_DETAILS=1 for more details\n",
    ),
    (
        "CU128",
        "hit",
        "invokeai-4788",
        "invoke-ai/InvokeAI",
        4788,
        "comment, 2023-10-04",
        "WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:\n    PyTorch 2.0.1+cu118 with CUDA 1108 (you have 2.0.1+cpu)\n    Python  3.10.11 (you have 3.10.11)\n  Please reinstall xformers (see https://github.com/facebookresearch/xformers#installing-xformers)\n  Memory-efficient attention, SwiGLU, sparse and more won't be available.\n  Set XFORMERS_MORE_DETAILS=1 for more details\n",
    ),
    (
        "CU128",
        "hit",
        "xformers-982",
        "facebookresearch/xformers",
        982,
        "issue description, 2024-02-11 (python -m xformers.info)",
        "python -m xformers.info\nWARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:\n    PyTorch 2.2.0+cu121 with CUDA 1201 (you have 2.2.0+cpu)\n    Python  3.11.7 (you have 3.11.0)\n  Please reinstall xformers (see https://github.com/facebookresearch/xformers#installing-xformers)\n  Memory-efficient attention, SwiGLU, sparse and more won't be available.\n  Set XFORMERS_MORE_DETAILS=1 for more details\n",
    ),
    (
        "CU128",
        "miss",
        "invokeai-6590",
        "invoke-ai/InvokeAI",
        6590,
        "issue description, 2024-07-09",
        "WARNING:xformers:WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:\n    PyTorch 2.1.2+cu121 with CUDA 1201 (you have 2.0.1+cu118)\n    Python  3.10.11 (you have 3.10.11)\n",
    ),
    (
        "CU129",
        "hit",
        "dinov2-513",
        "facebookresearch/dinov2",
        513,
        "issue description, 2025-03-31 (torch.hub.load of dinov2_vits14)",
        'Using cache found in /home/rfez/.cache/torch/hub/facebookresearch_dinov2_main\n/home/xxxx/.cache/torch/hub/facebookresearch_dinov2_main/dinov2/layers/swiglu_ffn.py:51: UserWarning: xFormers is not available (SwiGLU)\n  warnings.warn("xFormers is not available (SwiGLU)")\n/home/xxxx/.cache/torch/hub/facebookresearch_dinov2_main/dinov2/layers/attention.py:33: UserWarning: xFormers is not available (Attention)\n  warnings.warn("xFormers is not available (Attention)")\n/home/xxxx/.cache/torch/hub/facebookresearch_dinov2_main/dinov2/layers/block.py:40: UserWarning: xFormers is not available (Block)\n  warnings.warn("xFormers is not available (Block)")\n',
    ),
    (
        "CU129",
        "hit",
        "depth-anything-v2-125",
        "DepthAnything/Depth-Anything-V2",
        125,
        "issue description, 2024-08-08",
        "/usr/bin/python3 /home/dp/Depth-Anything-V2/test.py \nxFormers not available\nxFormers not available\n",
    ),
    (
        "CU129",
        "miss",
        "dynamicrafter-86",
        "Doubiiu/DynamiCrafter",
        86,
        "issue description, 2024-06-01",
        "Global seed set to 123\nWARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:\n    PyTorch 2.3.0+cu121 with CUDA None (you have 2.0.0+cu117)\n    Python  3.11.9 (you have 3.11.9)\n  Please reinstall xformers (see https://github.com/facebookresearch/xformers#installing-xformers)\n  Memory-efficient attention, SwiGLU, sparse and more won't be available.\n  Set XFORMERS_MORE_DETAILS=1 for more details\n",
    ),
    # -- family 7: FlashAttention --------------------------------------------------------
    (
        "CU131",
        "hit",
        "minference-51",
        "microsoft/MInference",
        51,
        "comment, 2024-07-20 (Tesla V100S, flash-attn 2.6.0.post1)",
        '  File "/opt/huawei/python/3.10.12/lib/python3.10/site-packages/flash_attn/flash_attn_interface.py", line 51, in _flash_attn_forward\n    out, q, k, v, out_padded, softmax_lse, S_dmask, rng_state = flash_attn_cuda.fwd(\nRuntimeError: FlashAttention only supports Ampere GPUs or newer.\n',
    ),
    (
        "CU131",
        "hit",
        "vllm-8189",
        "vllm-project/vllm",
        8189,
        "comment (vLLM engine log)",
        "ERROR 01-11 13:09:40 engine.py:366] RuntimeError: Error in model execution (input dumped to /tmp/err_execute_model_input_20250111-130939.pkl): FlashAttention only supports Ampere GPUs or newer.\n",
    ),
    (
        "CU131",
        "miss",
        "vllm-docker-37-bf16",
        "substratusai/vllm-docker",
        37,
        "issue description, 2024-10-22",
        "ValueError: Bfloat16 is only supported on GPUs with compute capability of at least 8.0. Your Tesla T4 GPU has compute capability 7.5. You can use float16 instead by explicitly setting the`dtype` flag in CLI, for example: --dtype=half.\n",
    ),
    (
        "CU158",
        "hit",
        "vllm-docker-37",
        "substratusai/vllm-docker",
        37,
        "issue description, 2024-10-22",
        "ValueError: Bfloat16 is only supported on GPUs with compute capability of at least 8.0. Your Tesla T4 GPU has compute capability 7.5. You can use float16 instead by explicitly setting the`dtype` flag in CLI, for example: --dtype=half.\n",
    ),
    (
        "CU158",
        "hit",
        "vllm-1284-p100",
        "vllm-project/vllm",
        1284,
        "issue description, 2023-10-07",
        "Bfloat16 is only supported on GPUs with compute capability of at least 8.0. Your Tesla P100-PCIE-16GB GPU has compute capability 6.0.\nRuntimeError: GPUs with compute capability below 7.0 are not supported.\n",
    ),
    (
        "CU158",
        "miss",
        "minference-51-flash-attn",
        "microsoft/MInference",
        51,
        "comment, 2024-07-20",
        "RuntimeError: FlashAttention only supports Ampere GPUs or newer.\n",
    ),
    # -- family 8: NCCL ------------------------------------------------------------------
    (
        "CU134",
        "hit",
        "yolov10-306",
        "THU-MIG/yolov10",
        306,
        "issue title, 2024-06-27",
        "ImportError: /root/.local/conda/envs/yolov10/lib/python3.9/site-packages/torch/lib/libtorch_cuda.so: undefined symbol: ncclCommRegister\n",
    ),
    (
        "CU134",
        "hit",
        "pytorch-120186",
        "pytorch/pytorch",
        120186,
        "issue description, 2024-02-19",
        "torch/lib/libtorch_cuda.so: undefined symbol: ncclCommRegister\n",
    ),
    (
        "CU134",
        "miss",
        "nccl-1784-nccl-tests",
        "NVIDIA/nccl",
        1784,
        "issue title, 2025-07-17 (nccl-tests linked against an older system NCCL, no torch)",
        '[BUG]: undefined symbol: "ncclCommWindowRegister"\n',
    ),
    (
        "CU150",
        "hit",
        "megatron-71",
        "NVIDIA/Megatron-LM",
        71,
        "issue description",
        "    work = group.allreduce([tensor], opts)\nRuntimeError: NCCL error in: ../torch/lib/c10d/ProcessGroupNCCL.cpp:839, unhandled system error, NCCL version 2.8.3\nncclSystemError: System call (socket, malloc, munmap, etc) failed.\n",
    ),
    (
        "CU150",
        "hit",
        "nccl-473",
        "NVIDIA/nccl",
        473,
        "issue description, 2021-03-06 (docker; fixed with --ipc=host)",
        "fastmoe: Test NCCL failure common.cu:777 'unhandled system error'\nRuntimeError: NCCL Error 2: unhandled system error\n",
    ),
    (
        "CU150",
        "miss",
        "llama2-accessory-166",
        "Alpha-VLLM/LLaMA2-Accessory",
        166,
        "issue description, 2024-02-26 (Windows)",
        "RuntimeError: Distributed package doesn't have NCCL built in\n",
    ),
    (
        "CU156",
        "hit",
        "llama2-accessory-166",
        "Alpha-VLLM/LLaMA2-Accessory",
        166,
        "issue description, 2024-02-26 (Windows)",
        "Runtime error on Windows:\n\nRuntimeError: Distributed package doesn't have NCCL built in\n",
    ),
    (
        "CU156",
        "hit",
        "chinese-clip-279",
        "OFA-Sys/Chinese-CLIP",
        279,
        "issue title, 2024-03-26 (Windows, one GPU)",
        "windows单机单卡训练报错RuntimeError: Distributed package doesn't have NCCL built in\n",
    ),
    (
        "CU156",
        "miss",
        "nccl-473",
        "NVIDIA/nccl",
        473,
        "issue description, 2021-03-06",
        "RuntimeError: NCCL Error 2: unhandled system error\n",
    ),
    # -- family 9: whisper on CPU -------------------------------------------------------
    (
        "EN116",
        "hit",
        "whisper-dictation-9",
        "foges/whisper-dictation",
        9,
        "issue description, 2023-07-06 (Intel Mac, no NVIDIA GPU)",
        '/whisper-dictation/venv/lib/python3.8/site-packages/whisper/transcribe.py:114: UserWarning: FP16 is not supported on CPU; using FP32 instead\n  warnings.warn("FP16 is not supported on CPU; using FP32 instead")\n',
    ),
    (
        "EN116",
        "hit",
        "whispering-76",
        "shirayu/whispering",
        76,
        "issue description, 2023-01-06 (--device cpu)",
        "transcriber._set_dtype:35 WARNING -> FP16 is not supported on CPU; using FP32 instead\n",
    ),
    (
        "EN116",
        "miss",
        "faster-whisper-65",
        "SYSTRAN/faster-whisper",
        65,
        "issue description, 2023-03-22 (device=cpu, compute_type=float16)",
        "ValueError: Requested float16 compute type, but the target device or backend do not support efficient float16 computation.\n",
    ),
    # -- family 10: containers and drivers ------------------------------------------------
    (
        "CU136",
        "hit",
        "d-align-1",
        "junhyung-SPALab/D-Align",
        1,
        "issue description, 2023-08-27 (python setup.py build install inside a container)",
        "No CUDA runtime is found, using CUDA_HOME='/usr/local/cuda'\nTraceback (most recent call last):\n  File \"setup.py\", line 69, in <module>\n    ext_modules=get_extensions(),\n  File \"setup.py\", line 47, in get_extensions\n    raise NotImplementedError('Cuda is not availabel')\nNotImplementedError: Cuda is not availabel\n",
    ),
    (
        "CU136",
        "hit",
        "dpft-3-docker-build",
        "TUMFTM/DPFT",
        3,
        "issue description, 2024-10-08 (docker build)",
        "    No CUDA runtime is found, using CUDA_HOME='/usr/local/cuda'\n    Traceback (most recent call last):\n      File \"/app/Deformable-DETR-main/models/ops/setup.py\", line 69, in <module>\n        ext_modules=get_extensions(),\n      File \"/app/Deformable-DETR-main/models/ops/setup.py\", line 47, in get_extensions\n        raise NotImplementedError('Cuda is not availabel')\n    NotImplementedError: Cuda is not availabel\n",
    ),
    (
        "CU137",
        "hit",
        "nvidia-docker-1352",
        "NVIDIA/nvidia-docker",
        1352,
        "issue description, 2020-07-22",
        'docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]].\n',
    ),
    (
        "CU137",
        "hit",
        "ragflow-9573",
        "infiniflow/ragflow",
        9573,
        "issue description, 2025-08-19 (docker compose)",
        'Error response from daemon: could not select device driver "nvidia" with capabilities: [[gpu]]\n',
    ),
    (
        "CU137",
        "miss",
        "libnvidia-container-231",
        "NVIDIA/libnvidia-container",
        231,
        "issue description, 2023-12-13",
        "nvidia-container-cli list\nnvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: cannot open shared object file: no such file or directory\n",
    ),
    (
        "CU138",
        "hit",
        "libnvidia-container-231",
        "NVIDIA/libnvidia-container",
        231,
        "issue description, 2023-12-13 (Rocky Linux 9.3)",
        "nvidia-container-cli list\nnvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: cannot open shared object file: no such file or directory\n",
    ),
    (
        "CU138",
        "hit",
        "docker-for-win-13835",
        "docker/for-win",
        13835,
        "issue title",
        "nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: cannot open shared object file: no such file or directory: unknown.\n",
    ),
    (
        "CU138",
        "miss",
        "nvidia-docker-1352",
        "NVIDIA/nvidia-docker",
        1352,
        "issue description, 2020-07-22",
        'docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]].\n',
    ),
    (
        "CU139",
        "hit",
        "mozilla-translations-1167",
        "mozilla/translations",
        1167,
        "issue description, 2025-07-01 (CI task log)",
        "[task 2025-07-01T05:06:30.004+00:00] [train] nvidia-smi failed with return code 18\n[task 2025-07-01T05:06:30.005+00:00] [train] [nvidia-smi(stdout)] Failed to initialize NVML: Driver/library version mismatch\n[task 2025-07-01T05:06:30.005+00:00] [train] [nvidia-smi(stdout)] NVML library version: 550.144\n[task 2025-07-01T05:06:30.005+00:00] [train] No GPUs were found available on this machine. Exiting with EX_TEMPFAIL (75)\n",
    ),
    (
        "CU139",
        "hit",
        "tinygrad-open-gpu-kernel-modules-47",
        "tinygrad/open-gpu-kernel-modules",
        47,
        "issue description, 2025-10-15",
        "nvidia-smi \nFailed to initialize NVML: Driver/library version mismatch\nNVML library version: 570.124\n",
    ),
    (
        "CU139",
        "miss",
        "libnvidia-container-231",
        "NVIDIA/libnvidia-container",
        231,
        "issue description, 2023-12-13",
        "nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: cannot open shared object file: no such file or directory\n",
    ),
    (
        "CU140",
        "hit",
        "torchpod-43",
        "DeepVAC/TorchPod",
        43,
        "issue description, 2021-06-28 (GeForce GTX 1650 in a container)",
        "/opt/conda/lib/python3.8/site-packages/torch/cuda/__init__.py:52: UserWarning: CUDA initialization: Unexpected error from cudaGetDeviceCount(). Did you run some cuda functions before calling NumCudaDevices() that might have already set an error? Error 804: forward compatibility was attempted on non supported HW (Triggered internally at  /opt/conda/conda-bld/pytorch_1623448278899/work/c10/cuda/CUDAFunctions.cpp:115.)\n  return torch._C._cuda_getDeviceCount() > 0\nFalse\n",
    ),
    (
        "CU140",
        "hit",
        "gump-1",
        "HorizonRobotics/GUMP",
        1,
        "issue description, 2024-07-29 (RTX 3090, driver 525, torch 2.3.1+cu121 container)",
        "/usr/local/lib/python3.9/dist-packages/torch/cuda/__init__.py:118: UserWarning: CUDA initialization: Unexpected error from cudaGetDeviceCount(). Did you run some cuda functions before calling NumCudaDevices() that might have already set an error? Error 804: forward compatibility was attempted on non supported HW (Triggered internally at ../c10/cuda/CUDAFunctions.cpp:108.)\n  return torch._C._cuda_getDeviceCount() > 0\nFalse\n",
    ),
    (
        "CU140",
        "miss",
        "roop-unleashed-465",
        "C0untFloyd/roop-unleashed",
        465,
        "issue description, 2024-02-26",
        "D:\\a\\_work\\1\\s\\onnxruntime\\core\\providers\\cuda\\cuda_call.cc:121 onnxruntime::CudaCall D:\\a\\_work\\1\\s\\onnxruntime\\core\\providers\\cuda\\cuda_call.cc:114 onnxruntime::CudaCall CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version ; GPU=-2011338632 ; hostname=DESKTOP-F9GHF2T ; file=D:\\a\\_work\\1\\s\\onnxruntime\\core\\providers\\cuda\\cuda_execution_provider.cc ; line=236 ; expr=cudaSetDevice(info_.device_id); \n",
    ),
    (
        "CU141",
        "hit",
        "xinference-2865",
        "xorbitsai/inference",
        2865,
        "issue description, 2025-02-15 (llama-cpp-python in a container)",
        '  File "/usr/lib/python3.10/ctypes/__init__.py", line 374, in __init__\n    self._handle = _dlopen(self._name, mode)\nOSError: libcuda.so.1: cannot open shared object file: No such file or directory\n',
    ),
    (
        "CU141",
        "hit",
        "llama-cpp-7822",
        "ggml-org/llama.cpp",
        7822,
        "issue description, 2024-06-07 (docker run --gpus all ...server-cuda)",
        "/server: error while loading shared libraries: libcuda.so.1: cannot open shared object file: No such file or directory\n",
    ),
    (
        "CU141",
        "miss",
        "libnvidia-container-231",
        "NVIDIA/libnvidia-container",
        231,
        "issue description, 2023-12-13",
        "nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: cannot open shared object file: no such file or directory\n",
    ),
    (
        "CU142",
        "hit",
        "roop-unleashed-465",
        "C0untFloyd/roop-unleashed",
        465,
        "issue description, 2024-02-26 (onnxruntime-gpu, CUDA 11.8)",
        "D:\\a\\_work\\1\\s\\onnxruntime\\core\\providers\\cuda\\cuda_call.cc:121 onnxruntime::CudaCall D:\\a\\_work\\1\\s\\onnxruntime\\core\\providers\\cuda\\cuda_call.cc:114 onnxruntime::CudaCall CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version ; GPU=-2011338632 ; hostname=DESKTOP-F9GHF2T ; file=D:\\a\\_work\\1\\s\\onnxruntime\\core\\providers\\cuda\\cuda_execution_provider.cc ; line=236 ; expr=cudaSetDevice(info_.device_id); \n",
    ),
    (
        "CU142",
        "hit",
        "nunif-702",
        "nagadomi/nunif",
        702,
        "issue title, 2026-06-13 (maintainer: CUDA 13 requires a newer driver)",
        "RuntimeError: CUDA error: CUDA driver version is insufficient for CUDA runtime version\n",
    ),
    (
        "CU142",
        "miss",
        "torchpod-43",
        "DeepVAC/TorchPod",
        43,
        "issue description, 2021-06-28",
        "UserWarning: CUDA initialization: Unexpected error from cudaGetDeviceCount(). Did you run some cuda functions before calling NumCudaDevices() that might have already set an error? Error 804: forward compatibility was attempted on non supported HW (Triggered internally at  /opt/conda/conda-bld/pytorch_1623448278899/work/c10/cuda/CUDAFunctions.cpp:115.)\n",
    ),
    # -- family 14: system libraries -----------------------------------------------------
    (
        "CU145",
        "hit",
        "faster-whisper-885",
        "SYSTRAN/faster-whisper",
        885,
        "issue description, 2024-06-30 (cuDNN 9.2 installed)",
        "Could not load library libcudnn_ops_infer.so.8. Error: libcudnn_ops_infer.so.8: cannot open shared object file: No such file or directory\nAborted (core dumped)\n",
    ),
    (
        "CU145",
        "hit",
        "whisper-ctranslate2-27",
        "Softcatala/whisper-ctranslate2",
        27,
        "issue description, 2023-04-23",
        "Run on GPU with float16\nEstimating duration from bitrate, this may be inaccurate\nCould not load library libcudnn_ops_infer.so.8. Error: libcudnn_ops_infer.so.8: cannot open shared object file: No such file or directory\nPlease make sure libcudnn_ops_infer.so.8 is in your library path!\nAborted (core dumped)\n",
    ),
    (
        "CU145",
        "miss",
        "sonitranslate-107-cudnn9",
        "R3gm/SoniTranslate",
        107,
        "issue description, 2024-10-22",
        "Suppressing numeral and symbol tokens\nUnable to load any of {libcudnn_cnn.so.9.1.0, libcudnn_cnn.so.9.1, libcudnn_cnn.so.9, libcudnn_cnn.so}\nInvalid handle. Cannot load symbol cudnnCreateConvolutionDescriptor\n",
    ),
    (
        "CU146",
        "hit",
        "sonitranslate-107",
        "R3gm/SoniTranslate",
        107,
        "issue description, 2024-10-22 (CUDA 11.8 toolkit, cuDNN 9.5)",
        "Suppressing numeral and symbol tokens\nUnable to load any of {libcudnn_cnn.so.9.1.0, libcudnn_cnn.so.9.1, libcudnn_cnn.so.9, libcudnn_cnn.so}\nInvalid handle. Cannot load symbol cudnnCreateConvolutionDescriptor\n",
    ),
    (
        "CU146",
        "hit",
        "xtts-finetune-18-ops",
        "daswer123/xtts-finetune-webui",
        18,
        "comment, 2024-12-17",
        "Model.bin: 100% 3.09G/3.09G [01:13<00:00, 42.1MB/s]\nWarning, existing language does not match target language. Updated lang.txt with target language.\nUnable to load any of {libcudnn_ops.so.9.1.0, libcudnn_ops.so.9.1, libcudnn_ops.so.9, libcudnn_ops.so}\nInvalid handle. Cannot load symbol cudnnCreateTensorDescriptor\n",
    ),
    (
        "CU146",
        "miss",
        "faster-whisper-885-cudnn8",
        "SYSTRAN/faster-whisper",
        885,
        "issue description, 2024-06-30",
        "Could not load library libcudnn_ops_infer.so.8. Error: libcudnn_ops_infer.so.8: cannot open shared object file: No such file or directory\nAborted (core dumped)\n",
    ),
    (
        "CU148",
        "hit",
        "viscpm-3",
        "OpenBMB/VisCPM",
        3,
        "issue title, 2023-07-04 (RTX 4090, torch 1.13.1, CUDA 11.7)",
        "RuntimeError: CUDA error: CUBLAS_STATUS_NOT_INITIALIZED when calling `cublasCreate(handle)`\n",
    ),
    (
        "CU148",
        "hit",
        "tensorflow-9489",
        "tensorflow/tensorflow",
        9489,
        "comment, 2019-02-11",
        "2019-02-11 16:42:08.131786: E tensorflow/stream_executor/cuda/cuda_blas.cc:366] failed to create cublas handle: CUBLAS_STATUS_NOT_INITIALIZED\n2019-02-11 16:42:08.131895: E tensorflow/stream_executor/cuda/cuda_blas.cc:366] failed to create cublas handle: CUBLAS_STATUS_NOT_INITIALIZED\n",
    ),
    (
        "CU148",
        "miss",
        "evo-136-illegal-access",
        "evo-design/evo",
        136,
        "issue description, 2026-03-06",
        "RuntimeError: CUDA error: an illegal memory access was encountered\nCUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1\n",
    ),
    (
        "CU151",
        "hit",
        "evo-136",
        "evo-design/evo",
        136,
        "issue description, 2026-03-06",
        "RuntimeError: CUDA error: an illegal memory access was encountered\nCUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1\nCompile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.\n",
    ),
    (
        "CU151",
        "hit",
        "regtr-33",
        "yewzijian/RegTR",
        33,
        "issue description, 2025-06-26",
        "06/26 18:54:31 [ERROR] trainer - <class 'RuntimeError'> at trainer.py:101 - CUDA error: an illegal memory access was encountered\nCUDA kernel errors might be asynchronously reported at some other API call,so the stacktrace below might be incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1.\n",
    ),
    (
        "CU151",
        "miss",
        "viscpm-3-cublas",
        "OpenBMB/VisCPM",
        3,
        "issue title, 2023-07-04",
        "RuntimeError: CUDA error: CUBLAS_STATUS_NOT_INITIALIZED when calling `cublasCreate(handle)`\n",
    ),
    (
        "CU152",
        "hit",
        "wanvideowrapper-978",
        "kijai/ComfyUI-WanVideoWrapper",
        978,
        "issue description (ComfyUI portable on Windows, torch.compile)",
        '  File "G:\\ComfyUI_windows_portable\\python_embeded\\Lib\\site-packages\\torch\\_inductor\\scheduler.py", line 3957, in create_backend                                                                                                                \n    raise TritonMissing(inspect.currentframe())                                                                         \ntorch._inductor.exc.TritonMissing: Cannot find a working triton installation. Either the package is not installed or it is too old. More information on installing Triton can be found at: https://github.com/triton-lang/triton                \n',
    ),
    (
        "CU152",
        "hit",
        "comfyui-openvino-12",
        "openvino-dev-samples/comfyui_openvino",
        12,
        "issue description, 2025-08-12",
        'Cannot find a working triton installation. Either the package is not installed or it is too old. More information on installing Triton can be found at: https://github.com/triton-lang/triton  Set TORCHDYNAMO_VERBOSE=1 for the internal stack trace (please do this especially if you\'re reporting a bug to PyTorch). For even more developer context, set TORCH_LOGS="+dynamo"\n',
    ),
    (
        "CU152",
        "miss",
        "consistentid-19",
        "JackAILab/ConsistentID",
        19,
        "issue description, 2024-05-05",
        "ERROR: Could not find a version that satisfies the requirement triton==2.0.0 (from versions: none)\nERROR: No matching distribution found for triton==2.0.0\n",
    ),
    (
        "CU154",
        "hit",
        "pyg-3904",
        "pyg-team/pytorch_geometric",
        3904,
        "issue title (CPU-only machine)",
        "On CPU-only machine: OSError: libc10_cuda.so: cannot open shared object file: No such file or directory\n",
    ),
    (
        "CU154",
        "hit",
        "pytorch-110074",
        "pytorch/pytorch",
        110074,
        "issue title",
        "ImportError: libc10_cuda.so: cannot open shared object file: No such file or directory\n",
    ),
    (
        "CU154",
        "miss",
        "nlut-15-torch-cuda-cu",
        "semchan/NLUT",
        15,
        "issue description, 2023-11-20",
        "ImportError: libtorch_cuda_cu.so: cannot open shared object file: No such file or directory\n",
    ),
    (
        "CU157",
        "hit",
        "instant-ngp-1562",
        "NVlabs/instant-ngp",
        1562,
        "issue description, 2024-08-04 (gcc 13, CUDA 12.1)",
        "132 | #error -- unsupported GNU version! gcc versions later than 12 are not supported! The nvcc flag '-allow-unsupported-compiler' can be used to override this version check; however, using an unsupported host compiler may cause compilation failure or incorrect run time execution. Use at your own risk.\n",
    ),
    (
        "CU157",
        "hit",
        "torchproteinlibrary-25",
        "lamoureux-lab/TorchProteinLibrary",
        25,
        "issue description, 2019-09-01 (gcc 8, CUDA 10.0, pip build)",
        "In file included from /gpfs/software/cuda/10.0/include/cuda_runtime.h:83,\n                 from <command-line>:\n/gpfs/software/cuda/10.0/include/crt/host_config.h:129:2: error: #error -- unsupported GNU version! gcc versions later than 7 are not supported!\n #error -- unsupported GNU version! gcc versions later than 7 are not supported!\n  ^~~~~\nerror: command '/gpfs/software/cuda/10.0/bin/nvcc' failed with exit status 1\n",
    ),
    (
        "EN119",
        "hit",
        "pytorch-133397",
        "pytorch/pytorch",
        133397,
        "issue description, 2024-08-14 (Windows 11, Python 3.12)",
        '  File "C:\\Users\\USER\\Downloads\\pytorch\\main.py", line 3, in <module>\n    import torch\n  File "C:\\Users\\USER\\AppData\\Local\\Programs\\Python\\Python312\\Lib\\site-packages\\torch\\__init__.py", line 148, in <module>\n    raise err\nOSError: [WinError 126] The specified module could not be found. Error loading "C:\\Users\\USER\\AppData\\Local\\Programs\\Python\\Python312\\Lib\\site-packages\\torch\\lib\\fbgemm.dll" or one of its dependencies.\n',
    ),
    (
        "EN119",
        "hit",
        "funclip-105",
        "modelscope/FunClip",
        105,
        "issue description, 2024-08-24 (Windows 11)",
        'OSError: [WinError 126] The specified module could not be found. Error loading "C:\\Users\\username\\AppData\\Local\\Programs\\Python\\Python312\\Lib\\site-packages\\torch\\lib\\fbgemm.dll" or one of its dependencies.\n',
    ),
    (
        "EN119",
        "miss",
        "pyg-3904-linux",
        "pyg-team/pytorch_geometric",
        3904,
        "issue title",
        "On CPU-only machine: OSError: libc10_cuda.so: cannot open shared object file: No such file or directory\n",
    ),
    # -- family 13: harmless chatter -----------------------------------------------------
    (
        "EN124",
        "hit",
        "uniem-112",
        "wangyuxinwhy/uniem",
        112,
        "issue description, 2023-11-30 (sentence-transformers 2.x wording)",
        "出现No sentence-transformers model found with name moka-ai/m3e-base. Creating a new one with MEAN pooling.\n",
    ),
    (
        "EN125",
        "hit",
        "yolox-150",
        "Megvii-BaseDetection/YOLOX",
        150,
        "issue description, 2021-07-26 (fine-tuning with num_classes=3)",
        "2021-07-26 14:35:14 | INFO     | yolox.core.trainer:283 - loading checkpoint for fine tuning\n2021-07-26 14:35:16 | WARNING  | yolox.utils.checkpoint:26 - Shape of head.cls_preds.0.weight in checkpoint is torch.Size([80, 128, 1, 1]), while shape of head.cls_preds.0.weight in model is torch.Size([3, 128, 1, 1]).\n2021-07-26 14:35:16 | WARNING  | yolox.utils.checkpoint:26 - Shape of head.cls_preds.0.bias in checkpoint is torch.Size([80]), while shape of head.cls_preds.0.bias in model is torch.Size([3]).\n2021-07-26 14:35:16 | WARNING  | yolox.utils.checkpoint:26 - Shape of head.cls_preds.1.weight in checkpoint is torch.Size([80, 128, 1, 1]), while shape of head.cls_preds.1.weight in model is torch.Size([3, 128, 1, 1]).\n2021-07-26 14:35:16 | WARNING  | yolox.utils.checkpoint:26 - Shape of head.cls_preds.1.bias in checkpoint is torch.Size([80]), while shape of head.cls_preds.1.bias in model is torch.Size([3]).\n",
    ),
    (
        "EN125",
        "hit",
        "yolox-1760",
        "Megvii-BaseDetection/YOLOX",
        1760,
        "issue description, 2024-03-03 (71 classes)",
        "2024-03-03 15:05:35 | WARNING  | yolox.utils.checkpoint:24 - Shape of head.cls_preds.1.bias in checkpoint is torch.Size([80]), while shape of head.cls_preds.1.bias in model is torch.Size([71]).\n2024-03-03 15:05:35 | WARNING  | yolox.utils.checkpoint:24 - Shape of head.cls_preds.2.weight in checkpoint is torch.Size([80, 128, 1, 1]), while shape of head.cls_preds.2.weight in model is torch.Size([71, 128, 1, 1]).\n2024-03-03 15:05:35 | WARNING  | yolox.utils.checkpoint:24 - Shape of head.cls_preds.2.bias in checkpoint is torch.Size([80]), while shape of head.cls_preds.2.bias in model is torch.Size([71]).\n2024-03-03 15:05:35 | INFO     | yolox.data.datasets.coco:63 - loading annotations into memory...\n",
    ),
    (
        "EN125",
        "miss",
        "yolox-1150-strict-load",
        "Megvii-BaseDetection/YOLOX",
        1150,
        "issue description, 2022-02-25 (inference with a 3-class checkpoint)",
        "RuntimeError: Error(s) in loading state_dict for YOLOX:\n        size mismatch for head.cls_preds.0.weight: copying a param with shape torch.Size([3, 128, 1, 1]) from checkpoint, the shape in current model is torch.Size([80, 128, 1, 1]).\n        size mismatch for head.cls_preds.0.bias: copying a param with shape torch.Size([3]) from checkpoint, the shape in current model is torch.Size([80]).\n",
    ),
    # -- added: attention backends, device access, cuDNN, system libraries ---------------
    (
        "CU126",
        "hit",
        "easyr1-384",
        "hiyouga/EasyR1",
        384,
        "issue description, 2025-06-23",
        "ImportError: FlashAttention2 has been toggled on, but it cannot be used due to the following error: the package flash_attn seems to be not installed. Please refer to the documentation of https://huggingface.co/docs/transformers/perf_infer_gpu_one#flashattention-2 to install Flash Attention 2\n",
    ),
    (
        "CU126",
        "hit",
        "comfyui-florence2-17",
        "kijai/ComfyUI-Florence2",
        17,
        "issue title, 2024-06-24",
        "FlashAttention2 has been toggled on, but it cannot be used due to the following error: the package flash_attn seems to be not installed. Please refer to the documentation of https://huggingface.co/doc\n",
    ),
    (
        "CU126",
        "miss",
        "minference-51-ampere",
        "microsoft/MInference",
        51,
        "comment, 2024-07-20",
        "RuntimeError: FlashAttention only supports Ampere GPUs or newer.\n",
    ),
    (
        "CU130",
        "hit",
        "seine-27",
        "Vchitect/SEINE",
        27,
        "issue description, 2024-05-20",
        "    raise NotImplementedError(msg)\nNotImplementedError: No operator found for `memory_efficient_attention_forward` with inputs:\n     query       : shape=(1, 2, 1, 40) (torch.float32)\n     key         : shape=(1, 2, 1, 40) (torch.float32)\n     value       : shape=(1, 2, 1, 40) (torch.float32)\n     attn_bias   : <class 'NoneType'>\n     p           : 0.0\n`decoderF` is not supported because:\n    xFormers wasn't build with CUDA support\n    attn_bias type is <class 'NoneType'>\n    operator wasn't built - see `python -m xformers.info` for more info\n`flshattF@0.0.0` is not supported because:\n    xFormers wasn't build with CUDA support\n    dtype=torch.float32 (supported: {torch.bfloat16, torch.float16})\n    operator wasn't built - see `python -m xformers.info` for more info\n`cutlassF` is not supported because:\n    xFormers wasn't build with CUDA support\n    operator wasn't built - see `python -m xformers.info` for more info\n",
    ),
    (
        "CU130",
        "miss",
        "xformers-1143-cpu-tensors",
        "facebookresearch/xformers",
        1143,
        "issue description, 2024-11-05 (inputs on the CPU; xformers.info shows the kernels available)",
        "NotImplementedError: No operator found for `memory_efficient_attention_forward` with inputs:\n     query       : shape=(1, 257, 6, 64) (torch.float32)\n     key         : shape=(1, 257, 6, 64) (torch.float32)\n     value       : shape=(1, 257, 6, 64) (torch.float32)\n     attn_bias   : <class 'NoneType'>\n     p           : 0.0\n`fa2F@v2.5.7-pt` is not supported because:\n    device=cpu (supported: {'cuda'})\n    dtype=torch.float32 (supported: {torch.float16, torch.bfloat16})\n`cutlassF-pt` is not supported because:\n    device=cpu (supported: {'cuda'})\n",
    ),
    (
        "CU144",
        "hit",
        "instantcharacter-21",
        "Tencent-Hunyuan/InstantCharacter",
        21,
        "issue description, 2025-04-21",
        "RuntimeError: CUDA error: CUDA-capable device(s) is/are busy or unavailable\nCUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1\nCompile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.\n",
    ),
    (
        "CU144",
        "hit",
        "pamir-17",
        "ZhengZerong/PaMIR",
        17,
        "issue title, 2022-11-13",
        "RuntimeError: CUDA error: all CUDA-capable devices are busy or unavailable\n",
    ),
    (
        "CU144",
        "miss",
        "alphapose-305-no-device",
        "MVIG-SJTU/AlphaPose",
        305,
        "issue description, 2019-03-29",
        "THCudaCheck FAIL file=/opt/conda/conda-bld/pytorch_1525909934016/work/aten/src/THC/THCGeneral.cpp line=70 error=38 : no CUDA-capable device is detected\n",
    ),
    (
        "CU147",
        "hit",
        "alphapose-305",
        "MVIG-SJTU/AlphaPose",
        305,
        "issue description, 2019-03-29 (nvidia-smi shows four TITAN Xp)",
        "THCudaCheck FAIL file=/opt/conda/conda-bld/pytorch_1525909934016/work/aten/src/THC/THCGeneral.cpp line=70 error=38 : no CUDA-capable device is detected\n",
    ),
    (
        "CU147",
        "hit",
        "faster-rcnn-377",
        "jwyang/faster-rcnn.pytorch",
        377,
        "issue description, 2018-11-29",
        'THCudaCheck FAIL file=/opt/conda/conda-bld/pytorch_1532584813488/work/aten/src/THC/THCGeneral.cpp line=74 error=38 : no CUDA-capable device is detected\nTraceback (most recent call last):\n  File "trainval_net.py", line 222, in <module>\n    im_data = im_data.cuda()\nRuntimeError: cuda runtime error (38) : no CUDA-capable device is detected at /opt/conda/conda-bld/pytorch_1532584813488/work/aten/src/THC/THCGeneral.cpp:74\n',
    ),
    (
        "CU147",
        "miss",
        "pamir-17-busy",
        "ZhengZerong/PaMIR",
        17,
        "issue title, 2022-11-13",
        "RuntimeError: CUDA error: all CUDA-capable devices are busy or unavailable\n",
    ),
    (
        "CU149",
        "hit",
        "deepseek-vl-30",
        "deepseek-ai/DeepSeek-VL",
        30,
        "issue description, 2024-03-14 (torch 2.0.1, CUDA 11.7/11.8)",
        "    return F.conv2d(input, weight, bias, self.stride,\nRuntimeError: cuDNN error: CUDNN_STATUS_NOT_INITIALIZED\n",
    ),
    (
        "CU149",
        "hit",
        "deeplab-xception-174",
        "jfzhang95/pytorch-deeplab-xception",
        174,
        "issue description, 2020-06-24 (cuda9.0 pytorch1.1.0)",
        "RuntimeError: cuDNN error: CUDNN_STATUS_NOT_INITIALIZED\ncuda9.0 pytorch1.1.0 python3.6.2\n",
    ),
    (
        "CU149",
        "miss",
        "viscpm-3-cublas",
        "OpenBMB/VisCPM",
        3,
        "issue title, 2023-07-04",
        "RuntimeError: CUDA error: CUBLAS_STATUS_NOT_INITIALIZED when calling `cublasCreate(handle)`\n",
    ),
    (
        "EN117",
        "hit",
        "pytorch-150724",
        "pytorch/pytorch",
        150724,
        "issue description, 2025-04-05 (CentOS 7.9, glibc 2.17, conda)",
        'Traceback (most recent call last):\n  File "<stdin>", line 1, in <module>\n  File "/home/wanglei/anaconda3/envs/trl/lib/python3.11/site-packages/torch/__init__.py", line 367, in <module>\n    from torch._C import *  # noqa: F403\n    ^^^^^^^^^^^^^^^^^^^^^^\nImportError: /lib64/libm.so.6: version `GLIBC_2.27\' not found (required by /home/wanglei/anaconda3/envs/trl/lib/python3.11/site-packages/torch/lib/../../../../libcurand.so.10)\n',
    ),
    (
        "EN117",
        "hit",
        "pyg-lib-548",
        "pyg-team/pyg-lib",
        548,
        "issue description, 2025-12-01 (Ubuntu 20.04, glibc 2.31)",
        '  File "/home/ee615/anaconda3/envs/qcnet/lib/python3.10/ctypes/__init__.py", line 374, in __init__\n    self._handle = _dlopen(self._name, mode)\nOSError: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.33\' not found (required by /home/ee615/anaconda3/envs/qcnet/lib/python3.10/site-packages/libpyg.so)\n',
    ),
    (
        "EN118",
        "hit",
        "tianshou-527",
        "thu-ml/tianshou",
        527,
        "issue description, 2022-02-12 (Windows, RTX 3070)",
        'test_fqf.py:7: in <module>\n    import torch\nE:\\Anaconda3\\lib\\site-packages\\torch\\__init__.py:124: in <module>\n    raise err\nE   OSError: [WinError 1455] The paging file is too small for this operation to complete. Error loading "E:\\Anaconda3\\lib\\site-packages\\torch\\lib\\caffe2_detectron_ops_gpu.dll" or one of its dependencies.\n',
    ),
    (
        "EN118",
        "hit",
        "kair-127",
        "cszn/KAIR",
        127,
        "issue description, 2022-03-21 (two GPUs, DataLoader workers)",
        'OSError: [WinError 1455] The paging file is too small for this operation to complete. Error loading "D:\\Anaconda\\envs\\swin-train\\lib\\site-packages\\torch\\lib\\shm.dll" or one of its dependencies.\n',
    ),
    (
        "EN118",
        "miss",
        "funclip-105-winerror-126",
        "modelscope/FunClip",
        105,
        "issue description, 2024-08-24",
        'OSError: [WinError 126] The specified module could not be found. Error loading "C:\\Users\\username\\AppData\\Local\\Programs\\Python\\Python312\\Lib\\site-packages\\torch\\lib\\fbgemm.dll" or one of its dependencies.\n',
    ),
    # -- added: generic weights-only failure, NVRTC, ptxas, container cgroups, CUDA init, builds
    (
        "VR133",
        "hit",
        "instantid-255",
        "cubiq/ComfyUI_InstantID",
        255,
        "issue description, 2025-02-18",
        "Weights only load failed. In PyTorch 2.6, we changed the default value of the weights_only argument in torch.load from False to True. Re-running torch.load with weights_only set to False will likely succeed, but it can result in arbitrary code execution. Do it only if you got the file from a trusted source.\nPlease file an issue with the following so that we can make weights_only=True compatible with your use case: WeightsUnpickler error: unsupported persistent id encountered\n",
    ),
    (
        "CU143",
        "hit",
        "yolact-edge-186",
        "WisconsinAIVision/yolact_edge",
        186,
        "issue description, 2022-03-04 (system CUDA 11.6, torch for 11.1)",
        "RuntimeError: nvrtc: error: failed to open libnvrtc-builtins.so.11.1.\n  Make sure that libnvrtc-builtins.so.11.1 is installed correctly.\nnvrtc compilation failed: \n",
    ),
    (
        "CU143",
        "hit",
        "wenet-1335",
        "wenet-e2e/wenet",
        1335,
        "issue description, 2022-07-27 (libtorch GPU build)",
        "terminate called after throwing an instance of 'std::runtime_error'\n  what():  nvrtc: error: failed to open libnvrtc-builtins.so.11.3.\n  Make sure that libnvrtc-builtins.so.11.3 is installed correctly.\nnvrtc compilation failed:\n",
    ),
    (
        "CU153",
        "hit",
        "triton-8539",
        "triton-lang/triton",
        8539,
        "issue description, 2025-10-25 (DGX Spark, torch 2.10 nightly cu130)",
        "riton.runtime.errors.PTXASError: PTXAS error: Internal Triton PTX codegen error\n`ptxas` stderr:\nptxas fatal   : Value 'sm_121a' is not defined for option 'gpu-name'\n",
    ),
    (
        "CU153",
        "hit",
        "triton-server-8632",
        "triton-inference-server/server",
        8632,
        "issue description, 2026-02-02 (Jetson Thor, torch.compile)",
        "torch._inductor.runtime.triton_heuristics.NoTritonConfigsError: No valid triton configs. PTXASError: PTXAS error: Internal Triton PTX codegen error\n`ptxas` stderr:\nptxas-blackwell fatal   : Value 'sm_110a' is not defined for option 'gpu-name'\n",
    ),
    (
        "CU155",
        "hit",
        "nvidia-docker-1671",
        "NVIDIA/nvidia-docker",
        1671,
        "comment, 2022-09-02 (after systemctl daemon-reload on the host)",
        "root@098b49afe624:/# nvidia-smi \nFailed to initialize NVML: Unknown Error\n",
    ),
    (
        "CU159",
        "hit",
        "pytorch-159954",
        "pytorch/pytorch",
        159954,
        "issue description, 2025-08-06 (laptop RTX 3060, torch 2.7.1)",
        "/home/krish/miniconda3/envs/ass-test/lib/python3.10/site-packages/torch/cuda/__init__.py:174: UserWarning: CUDA initialization: CUDA unknown error - this may be due to an incorrectly set up environment, e.g. changing env variable CUDA_VISIBLE_DEVICES after program start. Setting the available devices to be zero. (Triggered internally at /pytorch/c10/cuda/CUDAFunctions.cpp:109.)\n  return torch._C._cuda_getDeviceCount() > 0\n",
    ),
    (
        "CU159",
        "hit",
        "bringing-old-photos-52",
        "microsoft/Bringing-Old-Photos-Back-to-Life",
        52,
        "comment, 2020-12-06",
        '  File "/usr/local/lib/python3.8/dist-packages/torch/cuda/__init__.py", line 172, in _lazy_init\n    torch._C._cuda_init()\nRuntimeError: CUDA unknown error - this may be due to an incorrectly set up environment, e.g. changing env variable CUDA_VISIBLE_DEVICES after program start. Setting the available devices to be zero.\n',
    ),
    (
        "EN120",
        "hit",
        "atropos-142",
        "jdidion/atropos",
        142,
        "issue description (pip build on RHEL 8, Python 3.11)",
        "      atropos/align/_align.c:29:10: fatal error: Python.h: No such file or directory\n         29 | #include \"Python.h\"\n            |          ^~~~~~~~~~\n      compilation terminated.\n      error: command '/nas/longleaf/rhel8/apps/gcc/11.2.0/bin/gcc' failed with exit code 1\n      [end of output]\n",
    ),
    (
        "EN120",
        "hit",
        "restatic-2",
        "Mebus/restatic",
        2,
        "issue description, 2019-03-19 (Ubuntu 18)",
        "  psutil/_psutil_common.c:9:10: fatal error: Python.h: No such file or directory\n   #include <Python.h>\n            ^~~~~~~~~~\n  compilation terminated.\n  error: command 'x86_64-linux-gnu-gcc' failed with exit status 1\n  \n  ----------------------------------------\n  Failed building wheel for psutil\n",
    ),
    (
        "EN121",
        "hit",
        "pyopenjtalk-108",
        "r9y9/pyopenjtalk",
        108,
        "issue description, 2025-08-09",
        'error: Microsoft Visual C++ 14.0 or greater is required.\nGet it with "Microsoft C++ Build Tools":\nhttps://visualstudio.microsoft.com/visual-cpp-build-tools/\n',
    ),
    (
        "EN121",
        "hit",
        "xtts-finetune-46",
        "daswer123/xtts-finetune-webui",
        46,
        "issue description, 2024-08-16",
        '      error: Microsoft Visual C++ 14.0 or greater is required. Get it with "Microsoft C++ Build Tools": \n',
    ),
    # -- added: vLLM / FlashInfer ----------------------------------------------------------
    (
        "CU160",
        "hit",
        "vllm-3147",
        "vllm-project/vllm",
        3147,
        "issue description, 2024-03-01 (torch 2.2.1 with vllm 0.3.2)",
        "`ImportError: /usr/local/lib/python3.10/dist-packages/vllm/_C.cpython-310-x86_64-linux-gnu.so: undefined symbol: _ZN2at4_ops15to_dtype_layout4callERKNS_6TensorEN3c108optionalINS5_10ScalarTypeEEENS6_INS5_6LayoutEEENS6_INS5_6DeviceEEENS6_IbEEbbNS6_INS5_12MemoryFormatEEE`\n",
    ),
    (
        "CU160",
        "hit",
        "vllm-5501",
        "vllm-project/vllm",
        5501,
        "issue description, 2024-06-13",
        " import vllm\nWARNING 06-13 11:42:20 _custom_ops.py:11] Failed to import from vllm._C with ImportError('/usr/local/lib/python3.8/dist-packages/vllm/_C.abi3.so: undefined symbol: _ZN5torch7LibraryC1ENS0_4KindESsSt8optionalIN3c1011DispatchKeyEEPKcj')\n",
    ),
    (
        "CU161",
        "hit",
        "vllm-49804",
        "vllm-project/vllm",
        49804,
        "issue description (vLLM 0.26.0)",
        "flashinfer-cubin version (0.6.13) does not match flashinfer version (0.6.14). Please install the same version of both packages. Set FLASHINFER_DISABLE_VERSION_CHECK=1 to bypass this check.\n",
    ),
    (
        "CU162",
        "hit",
        "vllm-17898",
        "vllm-project/vllm",
        17898,
        "issue title, 2025-05-09",
        "[Bug]: WARNING 05-09 10:18:05 [topk_topp_sampler.py:69] FlashInfer is not available. Falling back to the PyTorch-native implementation of top-p & top-k sampling. For the best performance, please insta\n",
    ),
]

#: Fixtures that are another entry's fixture (a ``.ref``): (entry, kind, name, target under tests/fixtures).
REFS: list[tuple[str, str, str, str]] = [
    ("EN117", "miss", "glibcxx-3429", "knowledge/EN102/hit-glibcxx-3429.log"),
    ("VR133", "miss", "futurewarning", "knowledge/VR131/hit-efficientvit-132.log"),
    ("CU143", "miss", "libcudart-so-11", "knowledge/CU110/hit-libcudart-so-11.log"),
    ("CU153", "miss", "ampere-flash-attention", "knowledge/CU131/hit-minference-51.log"),
    ("CU155", "miss", "driver-library-mismatch", "knowledge/CU139/hit-tinygrad-open-gpu-kernel-modules-47.log"),
    ("CU159", "miss", "no-device-detected", "knowledge/CU147/hit-alphapose-305.log"),
    ("EN120", "miss", "msvc-required", "knowledge/EN121/hit-pyopenjtalk-108.log"),
    ("EN121", "miss", "python-h-missing", "knowledge/EN120/hit-restatic-2.log"),
    ("CU160", "miss", "flash-attn-undefined-symbol", "logs/public/flash-attn-undefined-symbol.log"),
    ("CU161", "miss", "sampler-fallback", "knowledge/CU162/hit-vllm-17898.log"),
    ("CU162", "miss", "cubin-mismatch", "knowledge/CU161/hit-vllm-49804.log"),
]

#: Environments for diagnose: (entry, kind, name, base fixture, distributions to add (or ``@field``\n#: paths of the environment to set), note).
ENVIRONMENTS: list[tuple[str, str, str, str, dict[str, str], str]] = [
    (
        "CU135",
        "hit",
        "whisper-cpu-wheel-on-a100",
        "TH001/hit-cpu-wheel-on-a100.json",
        {"openai-whisper": "20240930"},
        "TH001's A100 host with torch 2.13.0+cpu, plus openai-whisper",
    ),
    (
        "CU135",
        "miss",
        "whisper-cpu-wheel-no-gpu",
        "TH001/miss-cpu-wheel-no-gpu.json",
        {"openai-whisper": "20240930"},
        "TH001's host without a GPU, torch 2.13.0+cpu, plus openai-whisper",
    ),
    (
        "CU128",
        "hit",
        "xformers-with-cpu-torch",
        "TH001/hit-cpu-wheel-on-a100.json",
        {"xformers": "0.0.28.post3"},
        "TH001's A100 host with torch 2.13.0+cpu, plus xformers",
    ),
    (
        "CU128",
        "miss",
        "xformers-with-cuda-torch",
        "TH004/miss-cuda-available.json",
        {"xformers": "0.0.22.post7"},
        "TH004's host with torch 2.1.0+cu121, plus the xformers release built for it",
    ),
    (
        "CU125",
        "hit",
        "bitsandbytes-041-on-windows",
        "TH004/miss-cuda-available.json",
        {"bitsandbytes": "0.41.1", "@python.platform": "win-amd64", "@python.markers.sys_platform": "win32"},
        "TH004's environment moved to Windows (platform and markers), plus bitsandbytes 0.41.1",
    ),
    (
        "CU125",
        "miss",
        "bitsandbytes-043-on-windows",
        "TH004/miss-cuda-available.json",
        {"bitsandbytes": "0.43.3", "@python.platform": "win-amd64", "@python.markers.sys_platform": "win32"},
        "TH004's environment moved to Windows (platform and markers), plus bitsandbytes 0.43.3",
    ),
    (
        "CU134",
        "hit",
        "nccl-cu12-and-cu13",
        "TH004/miss-cuda-available.json",
        {"nvidia-nccl-cu12": "2.29.3", "nvidia-nccl-cu13": "2.29.7"},
        "TH004's environment plus both NCCL wheels (the versions reported in pytorch/pytorch#186591)",
    ),
    (
        "CU134",
        "miss",
        "nccl-cu13-only",
        "TH004/miss-cuda-available.json",
        {"nvidia-nccl-cu13": "2.29.7"},
        "TH004's environment plus one NCCL wheel",
    ),
]


def _venv_python(name: str) -> Path:
    """The interpreter of throwaway venv ``name``, created on first use."""
    root = VENV_ROOT / name
    python = root / "bin" / "python"
    if python.exists():
        return python
    subprocess.run([PY311, "-m", "venv", str(root)], check=True)
    site = next((root / "lib").glob("python3.*/site-packages"))
    dev_site = next((REPO / ".venv" / "lib").glob("python3.*/site-packages"))
    (site / "envdoctor-dev.pth").write_text(f"{dev_site}\n", encoding="utf-8")
    for step in VENVS[name]:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *step], check=True)
    return python


def _versions(python: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, platform\n"
        "names = ['torch', 'transformers', 'tokenizers', 'safetensors', 'numpy', 'sentence-transformers']\n"
        "found = {'python': platform.python_version()}\n"
        "for n in names:\n"
        "    try: found[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(found))\n"
    )
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    found: dict[str, str] = json.loads(done.stdout)
    return found


def _run(entry: str, kind: str, name: str, venv: str, code: str) -> dict[str, Any]:
    python = DEV_PYTHON if venv == "dev" else _venv_python(venv)
    folder = SCRATCH / f"{entry}-{kind}-{name}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "case.py").write_text(code.lstrip(), encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONWARNINGS": "default"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [str(python), "case.py"], cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600
    )
    log = OUT / entry / f"{kind}-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(done.stdout)
    return {
        "kind": "run",
        "venv": venv,
        "command": "python case.py (the program below, in an empty folder)",
        "program": code.strip(),
        "exit_code": done.returncode,
        "packages": _versions(python),
        "generated": datetime.date.today().isoformat(),
    }


def _public(
    entry: str, kind: str, name: str, repo: str, issue: int, where: str, text: str, written: dict[str, Path]
) -> dict[str, Any]:
    """Write an excerpt; a byte copy of one already written becomes a ``.ref`` to it."""
    log = OUT / entry / f"{kind}-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    first = written.get(text)
    if first is not None and first != log:
        log.unlink(missing_ok=True)
        log.with_suffix(".ref").write_text(f"{first.relative_to(OUT.parent).as_posix()}\n", encoding="utf-8")
        return {"kind": "copy", "log": first.relative_to(REPO).as_posix()}
    log.with_suffix(".ref").unlink(missing_ok=True)
    log.write_text(text, encoding="utf-8")
    written[text] = log
    return {
        "kind": "public",
        "repo": repo,
        "issue": issue,
        "url": f"https://github.com/{repo}/issues/{issue}",
        "where": where,
    }


def _environment(entry: str, kind: str, name: str, base: str, add: dict[str, str], note: str) -> dict[str, Any]:
    document = json.loads((OUT / base).read_text(encoding="utf-8"))
    environment = document.get("environment", document)
    distributions = environment["python"]["distributions"]
    template = distributions[0]
    for dist, version in add.items():
        if dist.startswith("@"):  # "@python.platform": a field of the environment to set
            *parents, leaf = dist[1:].split(".")
            target = environment
            for part in parents:
                target = target[part]
            target[leaf] = version
            continue
        distributions.append({**template, "name": dist, "version": version, "requires": [], "top_level": []})
    path = OUT / entry / f"{kind}-{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return {
        "kind": "env",
        "script": "scripts/fixture_logs/breadth_a.py",
        "base": f"tests/fixtures/knowledge/{base}",
        "note": note,
    }


def _resolve_ref(target: str) -> str:
    """``target`` (relative to tests/fixtures/), following a ``.ref`` that stands for it."""
    path = OUT.parent / target
    ref = path.with_suffix(".ref")
    if not path.exists() and ref.exists():
        return _resolve_ref(ref.read_text(encoding="utf-8").strip())
    return target


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if "\n" in text:
        # The newline after the opening quotes is not part of the value; none is added before the
        # closing ones, so reading a record back and writing it again gives the same bytes.
        return "'''\n" + text.replace("'''", "' ''") + "'''"
    return json.dumps(text, ensure_ascii=False)


def _write_sources(entry: str, files: dict[str, dict[str, Any]]) -> None:
    lines = [f"# Where the fixtures of {entry} come from; written by scripts/fixture_logs/breadth_a.py.", ""]
    for file_name in sorted(files):
        lines.append(f'[files."{file_name}"]')
        for key, value in files[file_name].items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    (OUT / entry / "SOURCE.toml").unlink(missing_ok=True)
    (OUT / entry / "SOURCE.txt").write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="entry ids to rebuild")
    parser.add_argument("--no-run", action="store_true", help="keep existing run outputs")
    args = parser.parse_args(argv)
    only = set(args.only or [])
    sources: dict[str, dict[str, dict[str, Any]]] = {}

    def wanted(entry: str) -> bool:
        return not only or entry in only

    for entry, kind, name, venv, code in RUNS:
        if not wanted(entry):
            continue
        file_name = f"{kind}-{name}.log"
        existing = OUT / entry / "SOURCE.txt"
        if args.no_run and (OUT / entry / file_name).exists() and existing.exists():
            previous = tomllib.loads(existing.read_text(encoding="utf-8")).get("files", {}).get(file_name)
            if previous:
                sources.setdefault(entry, {})[file_name] = previous
                continue
        sources.setdefault(entry, {})[file_name] = _run(entry, kind, name, venv, code)
    written: dict[str, Path] = {}
    for entry, kind, name, repo, issue, where, text in PUBLIC:
        if wanted(entry):
            record = _public(entry, kind, name, repo, issue, where, text, written)
            sources.setdefault(entry, {})[f"{kind}-{name}.log"] = record
    for entry, kind, name, target in REFS:
        if wanted(entry):
            target = _resolve_ref(target)
            ref = OUT / entry / f"{kind}-{name}.ref"
            ref.parent.mkdir(parents=True, exist_ok=True)
            ref.write_text(f"{target}\n", encoding="utf-8")
            sources.setdefault(entry, {})[f"{kind}-{name}.log"] = {"kind": "copy", "log": f"tests/fixtures/{target}"}
    for entry, kind, name, base, add, note in ENVIRONMENTS:
        if wanted(entry):
            sources.setdefault(entry, {})[f"{kind}-{name}.json"] = _environment(entry, kind, name, base, add, note)
    for entry, files in sources.items():
        _write_sources(entry, files)
    print(f"wrote fixtures for {len(sources)} entries", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
