"""Scenario registry for generate.py.

name        -> tests/fixtures/logs/<name>.log
venv        -> key of venvs.VENVS, or None for the repo dev venv (.venv)
files       -> scripts from scenarios/ copied into the work dir
setup       -> commands run first in the work dir (output not captured)
args        -> argv after `python` for the captured command
packages    -> distributions whose versions are recorded
"""

TORCH_PKGS = ["torch", "numpy"]
TF_PKGS = ["torch", "transformers", "tokenizers", "huggingface-hub", "safetensors", "numpy"]
MM_PKGS = ["torch", "mmengine", "transformers", "numpy"]

SCENARIOS: list[dict] = []


def add(name, description, args, packages, venv=None, files=(), setup=(), **kw):
    SCENARIOS.append(dict(name=name, description=description, args=list(args),
                          packages=list(packages), venv=venv, files=list(files),
                          setup=list(setup), **kw))


# ------------------------------------------------------------------ 4. mmengine
for case, desc in [
    ("gdino-keys", "mmengine load_checkpoint(strict=False) warning on a Grounding-DINO-shaped model: "
                   "unexpected BERT pooler.dense.* + embeddings.position_ids, missing "
                   "bbox_head.cls_branches.0..6.log_scale and dn_query_generator.label_embedding.weight"),
    ("gdino-keys-strict", "same Grounding-DINO key mismatch with strict=True: RuntimeError traceback"),
    ("size-mismatch", "mmengine load_state_dict(strict=False) warning with 'size mismatch for "
                      "class_embed.*' (80 vs 4 classes) plus an unexpected position_ids key"),
    ("size-mismatch-strict", "same size mismatch through mmengine with strict=True: RuntimeError traceback"),
]:
    add(f"mmengine-{case}", desc, ["mmengine_load.py", case], MM_PKGS, files=["mmengine_load.py"])

# ------------------------------------------------------------------ 5. torch
for case, desc in [
    ("missing-unexpected", "torch strict load_state_dict: Missing key(s) fc.* + Unexpected key(s) classifier.*"),
    ("strict-false-result", "print(model.load_state_dict(sd, strict=False)) -> _IncompatibleKeys(...)"),
    ("size-mismatch", "torch strict load: size mismatch for fc.weight/fc.bias (1000 vs 10 classes)"),
    ("dataparallel-prefix", "nn.DataParallel-saved state dict ('module.' prefix) loaded into the plain model"),
    ("compile-prefix", "torch.compile'd module state dict ('_orig_mod.' prefix) loaded into the plain model"),
    ("training-dict", "full training checkpoint {'epoch','state_dict','optimizer'} passed straight to load_state_dict"),
    ("bn-missing-num-batches-tracked", "state dict without bn1.num_batches_tracked loaded strictly "
                                       "(this torch reports it as a missing key)"),
    ("bn-unexpected-running-stats",
     "checkpoint with BN running stats loaded into BatchNorm2d(track_running_stats=False)"),
    ("pos-embed-257", "ViT pos_embed (1,197,768) checkpoint into a model expecting (1,257,768): size mismatch"),
    ("pos-embed-4097", "ViT pos_embed (1,197,768) checkpoint into a model expecting (1,4097,768): size mismatch"),
    ("cuda-not-compiled", "torch.zeros(1).cuda() on a CPU-only torch build: 'Torch not compiled with CUDA enabled'"),
    ("cuda-map-location", "torch.load of a checkpoint whose storages are tagged cuda:0 (tag rewritten in the "
                          "pickle to emulate a GPU-saved file) on a CPU-only build: use map_location"),
]:
    add(f"torch-{case}", desc, ["torch_load.py", case], TORCH_PKGS, files=["torch_load.py"])

# ------------------------------------------------------------------ 1. transformers 5.x (dev venv)
_TF5 = [
    ("pretraining-as-base", ["save-pretraining"], "load-pretraining-as-base",
     "transformers 5 LOAD REPORT: BertForPreTraining checkpoint into BertModel -> cls.* UNEXPECTED"),
    ("pretraining-as-seqcls", ["save-pretraining"], "load-pretraining-as-seqcls",
     "transformers 5 LOAD REPORT: BertForPreTraining checkpoint into BertForSequenceClassification "
     "-> cls.* UNEXPECTED and classifier.* MISSING"),
    ("base-as-seqcls", ["save-base"], "load-base-as-seqcls",
     "transformers 5 LOAD REPORT: BertModel checkpoint into BertForSequenceClassification -> classifier.* MISSING"),
    ("num-labels-mismatch-ignore", ["save-seqcls3"], "load-seqcls3-as-seqcls5-ignore",
     "transformers 5 LOAD REPORT: num_labels 3 -> 5 with ignore_mismatched_sizes=True -> classifier.* MISMATCH"),
    ("num-labels-mismatch", ["save-seqcls3"], "load-seqcls3-as-seqcls5",
     "transformers 5: num_labels 3 -> 5 without ignore_mismatched_sizes -> MISMATCH report then RuntimeError"),
    ("position-ids", ["save-seqcls3", "add-position-ids"], "load-position-ids",
     "transformers 5: model.safetensors with an extra bert.embeddings.position_ids loads silently "
     "(only the progress bar; the key is in _keys_to_ignore_on_load_unexpected)"),
]
for case, setups, action, desc in _TF5:
    add(f"transformers5-{case}", desc, ["tf_load.py", action], TF_PKGS, files=["tf_load.py"],
        setup=[{"venv": None, "args": ["tf_load.py", s]} for s in setups])

# ------------------------------------------------------------------ 2. transformers 4.29.1 / 4.40.2
_TF4 = [
    ("pretraining-as-base", ["save-pretraining"], "load-pretraining-as-base",
     "transformers 4.29 warning 'Some weights of the model checkpoint at ... were not used when "
     "initializing BertModel: [cls.*]'"),
    ("pretraining-as-seqcls", ["save-pretraining"], "load-pretraining-as-seqcls",
     "transformers 4.29: both 'were not used' (cls.*) and 'were not initialized ... newly initialized' (classifier.*)"),
    ("base-as-seqcls", ["save-base"], "load-base-as-seqcls",
     "transformers 4.29 warning 'Some weights of BertForSequenceClassification were not initialized from "
     "the model checkpoint ... newly initialized: [classifier.*]'"),
    ("num-labels-mismatch-ignore", ["save-seqcls3"], "load-seqcls3-as-seqcls5-ignore",
     "transformers 4.29 with ignore_mismatched_sizes=True: '... newly initialized because the shapes did not match'"),
    ("num-labels-mismatch", ["save-seqcls3"], "load-seqcls3-as-seqcls5",
     "transformers 4.29 without ignore_mismatched_sizes: RuntimeError 'Error(s) in loading state_dict "
     "for BertForSequenceClassification: size mismatch ... use ignore_mismatched_sizes=True'"),
]
for case, setups, action, desc in _TF4:
    add(f"transformers429-{case}", desc, ["tf_load.py", action], TF_PKGS, venv="tf429",
        files=["tf_load.py"], setup=[{"args": ["tf_load.py", s]} for s in setups])

_FROM_429 = [{"venv": "tf429", "args": ["tf_load.py", "save-base"]}]
add("transformers440-load-state-dict-position-ids",
    "bert pytorch_model.bin saved by transformers 4.29.1 (persistent embeddings.position_ids) loaded "
    "with plain torch load_state_dict(strict=False) into a transformers 4.40.2 BertModel; prints _IncompatibleKeys",
    ["tf_load.py", "load-state-dict-position-ids"], TF_PKGS, venv="tf440", files=["tf_load.py"],
    setup=_FROM_429)
add("transformers440-load-state-dict-position-ids-strict",
    "same 4.29.1-saved checkpoint, strict load into 4.40.2 BertModel: Unexpected key(s) "
    "\"embeddings.position_ids\"",
    ["tf_load.py", "load-state-dict-position-ids-strict"], TF_PKGS, venv="tf440", files=["tf_load.py"],
    setup=_FROM_429)
add("transformers440-mmengine-position-ids",
    "same 4.29.1-saved checkpoint through mmengine load_state_dict(strict=False, logger='current') "
    "into a 4.40.2 BertModel: 'unexpected key in source state_dict: embeddings.position_ids'",
    ["tf_load.py", "mmengine-position-ids"], [*TF_PKGS, "mmengine"], venv="tf440", files=["tf_load.py"],
    setup=_FROM_429)

# ------------------------------------------------------------------ 3. version conflicts at import
add("transformers429-tokenizers-conflict",
    "import transformers 4.29.1 with tokenizers 0.15.2 installed: ImportError from the import-time "
    "dependency check (tokenizers>=0.11.1,!=0.11.3,<0.14 is required)",
    ["-c", "import transformers"], ["transformers", "tokenizers", "huggingface-hub"], venv="tf429-tok015")
add("transformers440-hub1",
    "import transformers 4.40.2 with huggingface-hub 1.0.0: 'huggingface-hub>=0.19.3,<1.0 is required ...'",
    ["-c", "import transformers"], ["transformers", "tokenizers", "huggingface-hub"], venv="tf440-hub1")
add("hub-cached-download-removed",
    "from huggingface_hub import cached_download with huggingface-hub 0.26.5 (API removed in 0.26)",
    ["-c", "from huggingface_hub import cached_download"], ["huggingface-hub"], venv="hub026")

add("sentence-transformers222-cached-download",
    "import sentence_transformers 2.2.2 with huggingface-hub 0.26.5: ImportError cannot import name "
    "'cached_download' from 'huggingface_hub' inside SentenceTransformer.py",
    ["-c", "import sentence_transformers"],
    ["sentence-transformers", "huggingface-hub", "transformers", "torch"], venv="st222-hub026")

# ------------------------------------------------------------------ 8. numpy
add("numpy2-pandas214-abi",
    "import pandas 2.1.4 (wheel built against NumPy 1.x) under numpy 2.2.6: "
    "'numpy.dtype size changed, may indicate binary incompatibility'",
    ["-c", "import pandas"], ["numpy", "pandas"], venv="np2-abi")
add("numpy2-opencv4881-abi",
    "import cv2 from opencv-python 4.8.1.78 (built against NumPy 1.x) under numpy 2.2.6: "
    "'A module that was compiled using NumPy 1.x cannot be run in NumPy 2.2.6 ...'",
    ["-c", "import cv2"], ["numpy", "opencv-python"], venv="np2-abi")
add("numpy126-np-float",
    "np.float under numpy 1.26.4: AttributeError 'module numpy has no attribute float' with the "
    "1.20 deprecation explanation",
    ["-c", "import numpy as np; x = np.float(1)"], ["numpy"], venv="np126")
add("numpy2-np-float",
    "np.float under numpy 2.4 (dev venv): AttributeError text as worded by NumPy 2",
    ["-c", "import numpy as np; x = np.float(1)"], ["numpy"])

# ------------------------------------------------------------------ 9. protobuf
add("protobuf4-descriptors-tensorboard28",
    "tensorboard 2.8.0 generated _pb2 modules with protobuf 4.25.3: "
    "'TypeError: Descriptors cannot be created directly.'",
    ["-c", "from tensorboard.compat.proto import summary_pb2"], ["tensorboard", "protobuf"], venv="tb28-pb4")

# ------------------------------------------------------------------ 10. torchvision
add("torchvision-nms-missing",
    "import torchvision 0.28.0 (PyPI wheel; its _C.so does not load) beside the local torch 2.13.0+cpu: "
    "'RuntimeError: operator torchvision::nms does not exist'",
    ["-c", "import torchvision"], ["torch", "torchvision"], venv="tv-nms")

# ------------------------------------------------------------------ 7. lightning
for case, desc in [
    ("strict-false", "Lightning load_from_checkpoint(strict=False) with renamed head: its "
                     "'Found keys that are in the model state dict but not in the checkpoint' warnings"),
    ("strict", "Lightning load_from_checkpoint (strict default) with renamed head: RuntimeError traceback"),
]:
    add(f"lightning-load-{case}", desc, ["lightning_load.py", case], ["torch", "lightning", "numpy"],
        venv="lightning", files=["lightning_load.py"],
        setup=[{"args": ["lightning_load.py", "save"]}])

# ------------------------------------------------------------------ 11. mmcv / mmdet
add("mmdet330-mmcv220-incompatible",
    "import mmdet 3.3.0 with mmcv 2.2.0 (mmcv-lite wheel): AssertionError 'MMCV==2.2.0 is used but incompatible. "
    "Please install mmcv>=2.0.0rc4, <2.2.0.'",
    ["-c", "import mmdet"], ["torch", "mmcv-lite", "mmdet", "mmengine"], venv="mmcv220")
add("mmcv220-no-ext",
    "mmcv-lite 2.2.0 (mmcv without compiled ops, as MMCV_WITH_OPS=0 builds it): from mmcv.ops import nms -> "
    "ModuleNotFoundError: No module named 'mmcv._ext'",
    ["-c", "from mmcv.ops import nms"], ["torch", "mmcv-lite", "mmengine"], venv="mmcv220")

# ------------------------------------------------------------------ 12. no wheel -> source build
add("pip-tokenizers0133-py312-no-rust",
    "pip install tokenizers==0.13.3 on Python 3.12 (no cp312 wheel -> sdist build) with no Rust "
    "toolchain on PATH: setuptools-rust 'can't find Rust compiler' build failure",
    ["-m", "pip", "install", "--no-cache-dir", "tokenizers==0.13.3"], ["pip"], venv="py312",
    path_drop=[".cargo"], env={"PIP_CONFIG_FILE": "/dev/null"},
    env_unset=["PIP_FIND_LINKS", "CARGO_HOME", "RUSTUP_HOME"],
    env_notes="~/.cargo/bin removed from PATH (a user without Rust); PIP_CONFIG_FILE=/dev/null and "
              "PIP_FIND_LINKS unset so this machine's local wheel mirrors do not add noise",
    timeout=900)

add("pip-mmcv220-sdist-no-pkg-resources",
    "pip install mmcv==2.2.0 (sdist only) with build isolation: setup.py imports pkg_resources, "
    "which the latest setuptools no longer ships -> metadata-generation-failed",
    ["-m", "pip", "install", "--no-cache-dir", "mmcv==2.2.0"], ["pip"], venv="bare311",
    env={"PIP_CONFIG_FILE": "/dev/null"}, env_unset=["PIP_FIND_LINKS"],
    env_notes="PIP_CONFIG_FILE=/dev/null and PIP_FIND_LINKS unset so this machine's local wheel "
              "mirrors do not add noise", timeout=900)
