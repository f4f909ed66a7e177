"""Build the hit/miss fixtures of the model-type, adapter and everyday-breakage entries.

Entries HF101-HF199, VR160-VR199, EN150-EN199 and MM101-MM149 (issue 10, families 11, 12 and
15). The machinery is :mod:`symptom_cases` (same row shapes: ``run`` in a throwaway venv or
the dev venv, ``public`` excerpts with repository, issue and URL); this file only adds its
venvs, public excerpts and rows, and writes each entry's ``SOURCE.txt``.

Usage: ``python scripts/fixture_logs/family_cases.py [--only ID ...] [--no-run]``.
Never installs a torch: venvs that need one see the dev venv's (2.13.0+cpu) through a ``.pth``.
"""

# ruff: noqa: E501, W293  (public excerpts are verbatim log lines: not wrapped, blank lines kept as pasted)
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import symptom_cases as base

PY311, PY312 = base.PY311, base.PY312
WORK = base.VENV_ROOT / "work"

VENVS: dict[str, dict[str, Any]] = {
    "fc-tf4291": {
        "python": PY311,
        "steps": [["transformers==4.29.1", "tokenizers==0.13.3", "huggingface-hub==0.15.1", "numpy<2"]],
        "dev_path": False,
    },
    "fc-tf4402": {
        "python": PY311,
        "steps": [
            ["--no-deps", "transformers==4.40.2", "tokenizers==0.19.1", "huggingface-hub==0.23.5", "safetensors==0.4.5"]
        ],
        "dev_path": True,
    },
    "fc-peft": {
        "python": PY311,
        "steps": [["--no-deps", "peft==0.21.2", "accelerate==1.15.0", "psutil==7.1.3"]],
        "dev_path": True,
    },
    "fc-diffusers": {
        "python": PY311,
        "steps": [["--no-deps", "diffusers==0.36.0", "importlib-metadata==8.7.0", "zipp==3.23.0"]],
        "dev_path": True,
    },
    "fc-flask22": {"python": PY311, "steps": [["flask==2.2.2", "werkzeug==3.0.1"]], "dev_path": False},
    "fc-py312-st65": {"python": PY312, "steps": [["setuptools==65.5.0"]], "dev_path": False},
    "fc-py311-st65": {"python": PY311, "steps": [["setuptools==65.5.0"]], "dev_path": False},
    "fc-typing-ext411": {"python": PY311, "steps": [["typing-extensions==4.1.1"]], "dev_path": False},
    "fc-py38": {"python": "/root/.pyenv/versions/3.8.18/bin/python3", "steps": [], "dev_path": False},
    "fc-py39": {"python": "/root/.pyenv/versions/3.9.18/bin/python3", "steps": [], "dev_path": False},
    "fc-py310": {"python": "/root/.pyenv/versions/3.10.13/bin/python3", "steps": [], "dev_path": False},
    "fc-py313": {"python": "/root/.pyenv/versions/3.13.0/bin/python3", "steps": [], "dev_path": False},
}

RECORDED_EXTRA = [
    "peft", "accelerate", "diffusers", "scikit-learn", "jinja2", "markupsafe", "flask", "werkzeug",
    "gensim", "scipy", "protobuf", "googleapis-common-protos", "typing-extensions", "sentence-transformers",
    "pillow", "pydantic", "matplotlib", "mmcv-lite",
]  # fmt: skip


def _py(code: str) -> list[str]:
    return ["python", "-c", code]


def _write(path: str, text: str) -> list[str]:
    """A setup step writing one file under the work directory (config.json and friends)."""
    return _py(
        f"import pathlib; p = pathlib.Path({str(WORK / path)!r}); p.parent.mkdir(parents=True, exist_ok=True); p.write_text({text!r})"
    )


CUSTOM_MODELING = "import flash_attn\nfrom transformers import PreTrainedModel\n"
AUTO_MAP_CONFIG = json.dumps(
    {
        "model_type": "phi_custom",
        "auto_map": {
            "AutoConfig": "configuration_custom.CustomConfig",
            "AutoModelForCausalLM": "modeling_custom.CustomModel",
        },
    }
)
CUSTOM_CONFIG = (
    "from transformers import PretrainedConfig\nclass CustomConfig(PretrainedConfig):\n    model_type = 'phi_custom'\n"
)

PEFT_MISSING = """
import json, pathlib
from transformers import BertConfig, BertModel
from peft import LoraConfig, PeftModel, get_peft_model
config = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37)
base = BertModel(config)
get_peft_model(base, LoraConfig(target_modules=["query", "value"])).save_pretrained("adapter")
# the adapter is loaded with a config that also targets `key` (as after editing adapter_config.json
# or loading an adapter trained for other target modules): those LoRA weights are not in the file
cfg = pathlib.Path("adapter/adapter_config.json")
data = json.loads(cfg.read_text()); data["target_modules"] = ["query", "key", "value"]; cfg.write_text(json.dumps(data))
PeftModel.from_pretrained(BertModel(config), "adapter")
"""
PEFT_NOT_FOUND = (
    "from transformers import BertConfig, BertModel; from peft import LoraConfig, get_peft_model; "
    "get_peft_model(BertModel(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37)), "
    "LoraConfig(target_modules=['q_proj', 'v_proj']))"
)
DIFFUSERS_NO_PEFT = (
    "from diffusers import UNet2DConditionModel; "
    "unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=8, in_channels=4, out_channels=4, "
    "down_block_types=('CrossAttnDownBlock2D', 'DownBlock2D'), up_block_types=('UpBlock2D', 'CrossAttnUpBlock2D'), cross_attention_dim=32, attention_head_dim=8); "
    "unet.set_adapters('style')"
)

VOCAB = "[PAD]\\n[UNK]\\n[CLS]\\n[SEP]\\n[MASK]\\nhello\\nworld\\n"
TOKENIZER_TOO_LONG = (
    "import pathlib; pathlib.Path('vocab.txt').write_text('" + VOCAB + "'); "
    "from transformers import BertTokenizerFast; t = BertTokenizerFast('vocab.txt', model_max_length=8); "
    "print(len(t('hello world ' * 20)['input_ids']))"
)
TOKENIZER_TRUNCATED = (
    "import pathlib; pathlib.Path('vocab.txt').write_text('" + VOCAB + "'); "
    "from transformers import BertTokenizerFast; t = BertTokenizerFast('vocab.txt', model_max_length=8); "
    "print(len(t('hello world ' * 20, truncation=True)['input_ids']))"
)
GPT2_GENERATE = (
    "import torch; from transformers import GPT2Config, GPT2LMHeadModel; torch.manual_seed(0); "
    "m = GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=50, n_positions=32, bos_token_id=0, eos_token_id=0)); "
    "print(m.generate(torch.tensor([[1, 2, 3]]), max_new_tokens=2, do_sample=False).shape)"
)

PEFT_HEAD = """from transformers import BertConfig, BertModel, BertForSequenceClassification
from peft import LoraConfig, get_peft_model
config = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37)
BertModel(config).save_pretrained("bert-tiny-base")
model = BertForSequenceClassification.from_pretrained("bert-tiny-base", num_labels=3)
# task_type SEQ_CLS: PEFT adds the classifier to modules_to_save (trained and saved with the adapter)
model = get_peft_model(model, LoraConfig(task_type="SEQ_CLS", target_modules=["query", "value"]))
model.print_trainable_parameters()
"""
HEAD_ONLY = """config = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37)
BertModel(config).save_pretrained("bert-tiny-base")
BertForSequenceClassification.from_pretrained("bert-tiny-base", num_labels=3)
"""

GPT2_GENERATE_MASKED = GPT2_GENERATE.replace(
    "max_new_tokens=2", "attention_mask=torch.ones(1, 3, dtype=torch.long), max_new_tokens=2"
)

PUBLIC: dict[str, dict[str, Any]] = {
    "pulid-97": {
        "repo": "ToTheBeginning/PuLID",
        "issue": 97,
        "url": "https://github.com/ToTheBeginning/PuLID/issues/97",
        "where": "issue description, 2024-09-26",
        "excerpt": """raise _format(GatedRepoError, message, response) from e
huggingface_hub.errors.GatedRepoError: 401 Client Error. (Request ID: Root=1-66f4b037-1bf3d7d219afbc904ee05694;5601d2c9-8fd8-4ed8-b38d-d8a432e1fa59)

Cannot access gated repo for url https://huggingface.co/black-forest-labs/FLUX.1-dev/resolve/main/ae.safetensors.
Access to model black-forest-labs/FLUX.1-dev is restricted. You must have access to it and be authenticated to access it. Please log in.
""",
    },
    "gemma3-od-5": {
        "repo": "ariG23498/gemma3-object-detection",
        "issue": 5,
        "url": "https://github.com/ariG23498/gemma3-object-detection/issues/5",
        "where": "issue description, 2025-05-14",
        "excerpt": """Make sure to have access to it at https://huggingface.co/google/gemma-3-4b-pt.
403 Client Error. (Request ID: Root=1-6824e511-0a1d60376d4eefac56a9c456;85e8458c-a7d7-452d-b8fe-576bb259b500)

Cannot access gated repo for url https://huggingface.co/google/gemma-3-4b-pt/resolve/main/config.json.
Access to model google/gemma-3-4b-pt is restricted and you are not in the authorized list. Visit https://huggingface.co/google/gemma-3-4b-pt to ask for access.
""",
    },
    "comfyui-3554": {
        "repo": "Comfy-Org/ComfyUI",
        "issue": 3554,
        "url": "https://github.com/Comfy-Org/ComfyUI/issues/3554",
        "where": "issue description, 2024-05-24",
        "excerpt": """error: externally-managed-environment

\u00d7 This environment is externally managed
\u2570\u2500> To install Python packages system-wide, try apt install
    python3-xyz, where xyz is the package you are trying to
    install.
    
    If you wish to install a non-Debian-packaged Python package,
    create a virtual environment using python3 -m venv path/to/venv.
    Then use path/to/venv/bin/python and path/to/venv/bin/pip. Make
    sure you have python3-full installed.
    
    If you wish to install a non-Debian packaged Python application,
    it may be easiest to use pipx install xyz, which will manage a
    virtual environment for you. Make sure you have pipx installed.
    
    See /usr/share/doc/python3.12/README.venv for more information.

note: If you believe this is a mistake, please contact your Python installation or OS distribution provider. You can override this, at the risk of breaking your Python installation or OS, by passing --break-system-packages.
""",
    },
    "gladia-165": {
        "repo": "gladiaio/gladia",
        "issue": 165,
        "url": "https://github.com/gladiaio/gladia/issues/165",
        "where": "issue description, 2022-04-10",
        "excerpt": """huggingface/tokenizers: The current process just got forked, after parallelism has already been used. Disabling parallelism to avoid deadlocks...
To disable this warning, you can either:
\t- Avoid using `tokenizers` before the fork if possible
\t- Explicitly set the environment variable TOKENIZERS_PARALLELISM=(true | false)
""",
    },
}

FIXTURES: list[dict[str, Any]] = [
    # --- HF101 model type unknown to the installed transformers -----------------------
    {
        "id": "HF101",
        "file": "hit-tf4291-keyerror-gemma2.log",
        "venv": "fc-tf4291",
        "setup": [_write("gemma2/config.json", '{"model_type": "gemma2"}')],
        "run": _py("from transformers import AutoConfig; AutoConfig.from_pretrained('gemma2')"),
    },
    {
        "id": "HF101",
        "file": "hit-tf4402-valueerror-qwen3.log",
        "venv": "fc-tf4402",
        "setup": [_write("qwen3/config.json", '{"model_type": "qwen3"}')],
        "run": _py("from transformers import AutoConfig; AutoConfig.from_pretrained('qwen3')"),
    },
    {
        "id": "HF107",
        "file": "hit-tf524-custom-model-type.log",
        "venv": "dev",
        "setup": [_write("vla/config.json", '{"model_type": "openvla"}')],
        "run": _py("from transformers import AutoConfig; AutoConfig.from_pretrained('vla')"),
    },
    {
        "id": "HF101",
        "file": "miss-environ-keyerror.log",
        "venv": "dev",
        "run": _py("import os; os.environ['HF_TOKEN_NOT_SET']"),
    },
    # --- HF102 config known, no model class for this Auto class ------------------------
    {
        "id": "HF102",
        "file": "hit-tf524-clip-causal-lm.log",
        "venv": "dev",
        "run": _py(
            "from transformers import AutoModelForCausalLM, CLIPConfig; AutoModelForCausalLM.from_config(CLIPConfig())"
        ),
    },
    {
        "id": "HF102",
        "file": "miss-tf524-custom-model-type.log",
        "copy_fixture": "HF107/hit-tf524-custom-model-type.log",
    },
    {
        "id": "HF107",
        "file": "miss-tf4402-valueerror-qwen3.log",
        "copy_fixture": "HF101/hit-tf4402-valueerror-qwen3.log",
    },
    {
        "id": "HF101",
        "file": "miss-tf524-custom-model-type.log",
        "copy_fixture": "HF107/hit-tf524-custom-model-type.log",
    },
    # --- HF103 directory config without model_type --------------------------------------
    {
        "id": "HF103",
        "file": "hit-tf524-config-without-model-type.log",
        "venv": "dev",
        "setup": [_write("st-model/config.json", '{"__version__": {"sentence_transformers": "2.2.2"}}')],
        "run": _py("from transformers import AutoConfig; AutoConfig.from_pretrained('st-model')"),
    },
    {"id": "HF103", "file": "miss-tf524-clip-causal-lm.log", "copy_fixture": "HF102/hit-tf524-clip-causal-lm.log"},
    # --- HF104 tokenizer class unknown to this transformers ------------------------------
    {
        "id": "HF104",
        "file": "hit-tf4291-gemma-tokenizer.log",
        "venv": "fc-tf4291",
        "setup": [
            _write("gemma-tok/tokenizer_config.json", '{"tokenizer_class": "GemmaTokenizer"}'),
            _write("gemma-tok/config.json", '{"model_type": "llama"}'),
        ],
        "run": _py("from transformers import AutoTokenizer; AutoTokenizer.from_pretrained('gemma-tok')"),
    },
    {"id": "HF104", "file": "miss-tf4291-keyerror-gemma2.log", "copy_fixture": "HF101/hit-tf4291-keyerror-gemma2.log"},
    # --- HF105 remote code needs trust_remote_code ----------------------------------------
    {
        "id": "HF105",
        "file": "hit-tf524-auto-map-without-trust.log",
        "venv": "dev",
        "setup": [
            _write("custom/config.json", AUTO_MAP_CONFIG),
            _write("custom/configuration_custom.py", CUSTOM_CONFIG),
            _write("custom/modeling_custom.py", CUSTOM_MODELING),
        ],
        "run": _py("from transformers import AutoConfig; AutoConfig.from_pretrained('custom')"),
    },
    {
        "id": "HF105",
        "file": "miss-remote-code-missing-flash-attn.log",
        "copy_fixture": "HF106/hit-tf524-remote-code-needs-flash-attn.log",
    },
    # --- HF106 remote code imports a package that is not installed -------------------------
    {
        "id": "HF106",
        "file": "hit-tf524-remote-code-needs-flash-attn.log",
        "venv": "dev",
        "setup": [
            _write("custom/config.json", AUTO_MAP_CONFIG),
            _write("custom/configuration_custom.py", CUSTOM_CONFIG),
            _write("custom/modeling_custom.py", CUSTOM_MODELING),
        ],
        "run": _py(
            "from transformers import AutoModelForCausalLM; AutoModelForCausalLM.from_pretrained('custom', trust_remote_code=True)"
        ),
    },
    {"id": "HF106", "file": "miss-no-module-flash-attn.log", "venv": "dev", "run": _py("import flash_attn")},
    # ===== family 15: Python's own removals ======================================
    {
        "id": "VR160",
        "file": "hit-py311-collections-mapping.log",
        "venv": "dev",
        "run": _py("from collections import Mapping"),
    },
    {
        "id": "VR160",
        "file": "hit-py310-collections-attribute.log",
        "venv": "fc-py310",
        "run": _py("import collections; collections.MutableMapping"),
    },
    {
        "id": "VR160",
        "file": "miss-py39-collections-ok.log",
        "venv": "fc-py39",
        "run": _py("import collections; print(collections.MutableMapping)"),
    },
    {
        "id": "VR161",
        "file": "hit-py311-asyncio-coroutine.log",
        "venv": "dev",
        "run": _py("import asyncio\n@asyncio.coroutine\ndef f(): pass"),
    },
    {
        "id": "VR161",
        "file": "miss-py310-asyncio-coroutine-deprecated.log",
        "venv": "fc-py310",
        "run": _py("import warnings, asyncio; warnings.simplefilter('default')\n@asyncio.coroutine\ndef f(): pass"),
    },
    {
        "id": "VR162",
        "file": "hit-py311-inspect-getargspec.log",
        "venv": "dev",
        "run": _py("import inspect; inspect.getargspec(len)"),
    },
    {
        "id": "VR162",
        "file": "miss-py311-asyncio-coroutine.ref",
        "copy_fixture": "VR161/hit-py311-asyncio-coroutine.log",
    },
    {"id": "VR163", "file": "hit-py39-fractions-gcd.log", "venv": "fc-py39", "run": _py("from fractions import gcd")},
    {
        "id": "VR163",
        "file": "hit-py39-base64-encodestring.log",
        "venv": "fc-py39",
        "run": _py("import base64; base64.encodestring(b'x')"),
    },
    {
        "id": "VR163",
        "file": "miss-py38-fractions-gcd-deprecated.log",
        "venv": "fc-py38",
        "run": _py("import warnings; warnings.simplefilter('default'); from fractions import gcd; print(gcd(4, 6))"),
    },
    {"id": "VR164", "file": "hit-py312-imp.log", "venv": "pip312", "run": _py("import imp")},
    {
        "id": "VR164",
        "file": "miss-py311-imp-deprecated.log",
        "venv": "fc-py311-st65",
        "run": _py("import warnings; warnings.simplefilter('default'); import imp"),
    },
    {
        "id": "VR165",
        "file": "hit-py312-distutils.log",
        "venv": "pip312",
        "run": _py("from distutils.version import LooseVersion"),
    },
    {"id": "VR165", "file": "miss-py312-imp.ref", "copy_fixture": "VR164/hit-py312-imp.log"},
    {
        "id": "VR166",
        "file": "hit-py312-setuptools65-pkg-resources.log",
        "venv": "fc-py312-st65",
        "run": _py("import pkg_resources"),
    },
    {"id": "VR166", "file": "miss-py312-distutils.ref", "copy_fixture": "VR165/hit-py312-distutils.log"},
    {
        "id": "VR167",
        "file": "hit-py311-setuptools65-distutils-version.log",
        "venv": "fc-py311-st65",
        "run": _py("import distutils\nLooseVersion = distutils.version.LooseVersion"),
    },
    {"id": "VR167", "file": "miss-py312-distutils.ref", "copy_fixture": "VR165/hit-py312-distutils.log"},
    {"id": "VR168", "file": "hit-py313-imghdr.log", "venv": "fc-py313", "run": _py("import imghdr")},
    {"id": "VR168", "file": "hit-py313-cgi.log", "venv": "fc-py313", "run": _py("import cgi")},
    {"id": "VR168", "file": "miss-py313-flash-attn.log", "venv": "fc-py313", "run": _py("import flash_attn")},
    {"id": "VR169", "file": "hit-py38-time-clock.log", "venv": "fc-py38", "run": _py("import time; time.clock()")},
    {
        "id": "VR169",
        "file": "miss-py311-inspect-getargspec.ref",
        "copy_fixture": "VR162/hit-py311-inspect-getargspec.log",
    },
    # ===== family 15: packages too old or too new for their caller ===================
    {
        "id": "VR170",
        "file": "hit-typing-extensions411-override.log",
        "venv": "fc-typing-ext411",
        "run": _py("from typing_extensions import override"),
    },
    {
        "id": "VR170",
        "file": "miss-py311-collections-mapping.ref",
        "copy_fixture": "VR160/hit-py311-collections-mapping.log",
    },
    {
        "id": "VR171",
        "file": "hit-tf4402-trainer-without-accelerate.log",
        "venv": "fc-tf4402",
        "run": _py("from transformers import TrainingArguments; TrainingArguments('out')"),
    },
    {
        "id": "VR171",
        "file": "miss-tf4402-device-map-without-accelerate.ref",
        "copy_fixture": "EN151/hit-tf4402-device-map-without-accelerate.log",
    },
    {
        "id": "VR172",
        "file": "hit-tokenizers0133-json-from-0233.log",
        "venv": "fc-tf4291",
        "setup": [
            [
                str(base.DEV_VENV / "bin" / "python"),
                "-c",
                f"import pathlib; pathlib.Path({str(WORK / 'tok-new')!r}).mkdir(parents=True, exist_ok=True); from tokenizers import Tokenizer, models, pre_tokenizers; t = Tokenizer(models.BPE()); t.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme='first'); t.save({str(WORK / 'tok-new' / 'tokenizer.json')!r})",
            ]
        ],
        "run": _py("from tokenizers import Tokenizer; Tokenizer.from_file('tok-new/tokenizer.json')"),
    },
    {"id": "VR172", "file": "miss-tf4291-gemma-tokenizer.ref", "copy_fixture": "HF104/hit-tf4291-gemma-tokenizer.log"},
    {
        "id": "VR173",
        "file": "hit-matplotlib311-tostring-rgb.log",
        "venv": "dev",
        "run": _py(
            "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt; f = plt.figure(); f.canvas.draw(); f.canvas.tostring_rgb()"
        ),
    },
    {
        "id": "VR173",
        "file": "miss-matplotlib311-buffer-rgba.log",
        "venv": "dev",
        "run": _py(
            "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt; f = plt.figure(); f.canvas.draw(); print(len(f.canvas.buffer_rgba()))"
        ),
    },
    {"id": "VR174", "file": "hit-flask222-werkzeug301.log", "venv": "fc-flask22", "run": _py("import flask")},
    {
        "id": "VR174",
        "file": "miss-flask222-werkzeug301-other-name.log",
        "venv": "fc-flask22",
        "run": _py("from werkzeug.urls import url_quote_plus"),
    },
    # ===== family 15: environment ====================================================
    {
        "id": "EN150",
        "file": "hit-tf4402-llama-tokenizer-no-sentencepiece.log",
        "venv": "fc-tf4402",
        "run": _py("from transformers import LlamaTokenizer; LlamaTokenizer('tokenizer.model')"),
    },
    {
        "id": "EN150",
        "file": "hit-tf4291-vit-processor-no-pillow.log",
        "venv": "fc-tf4291",
        "run": _py("from transformers import ViTImageProcessor; ViTImageProcessor()"),
    },
    {
        "id": "EN150",
        "file": "miss-tf4402-trainer-without-accelerate.ref",
        "copy_fixture": "VR171/hit-tf4402-trainer-without-accelerate.log",
    },
    {
        "id": "EN151",
        "file": "hit-tf4402-device-map-without-accelerate.log",
        "venv": "fc-tf4402",
        "run": _py("from transformers import BertModel; BertModel.from_pretrained('no-such-dir', device_map='auto')"),
    },
    {
        "id": "EN151",
        "file": "miss-tf4402-trainer-without-accelerate.ref",
        "copy_fixture": "VR171/hit-tf4402-trainer-without-accelerate.log",
    },
    {
        "id": "EN152",
        "file": "hit-tf524-offline-no-cache.log",
        "venv": "dev",
        "run": _py(
            "import os; os.environ['HF_HUB_OFFLINE'] = '1'\nfrom transformers import AutoConfig; AutoConfig.from_pretrained('google-bert/bert-base-uncased')"
        ),
    },
    {
        "id": "EN152",
        "file": "hit-tf4291-offline-no-cache.log",
        "venv": "fc-tf4291",
        "run": _py(
            "import os; os.environ['HF_HUB_OFFLINE'] = '1'\nfrom transformers import AutoConfig; AutoConfig.from_pretrained('google-bert/bert-base-uncased')"
        ),
    },
    {
        "id": "EN152",
        "file": "miss-tf524-config-without-model-type.ref",
        "copy_fixture": "HF103/hit-tf524-config-without-model-type.log",
    },
    {
        "id": "EN155",
        "file": "hit-tf524-directory-without-weights.log",
        "venv": "dev",
        "setup": [
            _write(
                "no-weights/config.json",
                '{"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 37}',
            )
        ],
        "run": _py("from transformers import AutoModel; AutoModel.from_pretrained('no-weights')"),
    },
    {
        "id": "EN155",
        "file": "hit-tf4402-directory-without-weights.log",
        "venv": "fc-tf4402",
        "setup": [
            _write(
                "no-weights/config.json",
                '{"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 37}',
            )
        ],
        "run": _py("from transformers import AutoModel; AutoModel.from_pretrained('no-weights')"),
    },
    {
        "id": "EN155",
        "file": "miss-tf524-config-without-model-type.ref",
        "copy_fixture": "HF103/hit-tf524-config-without-model-type.log",
    },
    {
        "id": "EN156",
        "file": "hit-setuptools65-no-wheel-bdist-wheel.log",
        "venv": "fc-py311-st65",
        "setup": [_write("pkg/setup.py", "from setuptools import setup\nsetup(name='demo', version='0.1')\n")],
        "run": ["python", str(WORK / "pkg" / "setup.py"), "-q", "bdist_wheel"],
    },
    {
        "id": "EN156",
        "file": "miss-setuptools65-bdist-egg-ok.log",
        "venv": "fc-py311-st65",
        "run": _py("import setuptools.command.bdist_egg; print('bdist_egg available')"),
    },
    # ===== family 12: PEFT / diffusers adapters ======================================
    {
        "id": "HF110",
        "file": "hit-peft0212-missing-adapter-keys.log",
        "venv": "fc-peft",
        "setup": [_write("peft_missing.py", PEFT_MISSING)],
        "run": ["python", str(WORK / "peft_missing.py")],
    },
    {
        "id": "HF110",
        "file": "miss-peft0212-target-modules-not-found.ref",
        "copy_fixture": "HF111/hit-peft0212-target-modules-not-found.log",
    },
    {
        "id": "HF111",
        "file": "hit-peft0212-target-modules-not-found.log",
        "venv": "fc-peft",
        "run": _py(PEFT_NOT_FOUND),
    },
    {
        "id": "HF111",
        "file": "miss-peft0212-missing-adapter-keys.ref",
        "copy_fixture": "HF110/hit-peft0212-missing-adapter-keys.log",
    },
    {
        "id": "HF112",
        "file": "hit-diffusers0360-without-peft.log",
        "venv": "fc-diffusers",
        "run": _py(DIFFUSERS_NO_PEFT),
    },
    {
        "id": "HF112",
        "file": "miss-peft0212-target-modules-not-found.ref",
        "copy_fixture": "HF111/hit-peft0212-target-modules-not-found.log",
    },
    # ===== family 15: warnings of torch and transformers that people paste ==========
    {
        "id": "EN157",
        "file": "hit-torch213-typed-storage.log",
        "venv": "dev",
        "run": _py("import torch; torch.FloatStorage(4)"),
    },
    {
        "id": "EN157",
        "file": "miss-torch213-untyped-storage.log",
        "venv": "dev",
        "run": _py("import torch; print(torch.UntypedStorage(4).nbytes())"),
    },
    {
        "id": "EN158",
        "file": "hit-torch213-meshgrid-indexing.log",
        "venv": "dev",
        "run": _py("import torch; torch.meshgrid(torch.arange(2), torch.arange(3))"),
    },
    {
        "id": "EN158",
        "file": "miss-torch213-meshgrid-ij.log",
        "venv": "dev",
        "run": _py("import torch; print(len(torch.meshgrid(torch.arange(2), torch.arange(3), indexing='ij')))"),
    },
    {
        "id": "EN159",
        "file": "hit-torch213-numpy-not-writable.log",
        "venv": "dev",
        "run": _py("import numpy as np, torch; a = np.zeros(3); a.setflags(write=False); torch.from_numpy(a)"),
    },
    {"id": "EN159", "file": "miss-torch213-typed-storage.ref", "copy_fixture": "EN157/hit-torch213-typed-storage.log"},
    {
        "id": "EN160",
        "file": "hit-torch213-scheduler-before-optimizer.log",
        "venv": "dev",
        "run": _py(
            "import torch; p = torch.nn.Parameter(torch.zeros(1)); o = torch.optim.SGD([p], lr=0.1); s = torch.optim.lr_scheduler.StepLR(o, 1); s.step()"
        ),
    },
    {
        "id": "EN160",
        "file": "miss-torch213-meshgrid-indexing.ref",
        "copy_fixture": "EN158/hit-torch213-meshgrid-indexing.log",
    },
    {
        "id": "EN161",
        "file": "hit-torch213-mse-target-size.log",
        "venv": "dev",
        "run": _py("import torch; import torch.nn.functional as F; F.mse_loss(torch.zeros(4, 1), torch.zeros(4))"),
    },
    {
        "id": "EN161",
        "file": "miss-torch213-mse-same-size.log",
        "venv": "dev",
        "run": _py(
            "import torch; import torch.nn.functional as F; print(F.mse_loss(torch.zeros(4, 1), torch.zeros(4, 1)).item())"
        ),
    },
    {
        "id": "EN162",
        "file": "hit-torch213-softmax-implicit-dim.log",
        "venv": "dev",
        "run": _py("import torch; import torch.nn.functional as F; F.softmax(torch.zeros(2, 3))"),
    },
    {
        "id": "EN162",
        "file": "miss-torch213-mse-target-size.ref",
        "copy_fixture": "EN161/hit-torch213-mse-target-size.log",
    },
    {
        "id": "EN163",
        "file": "hit-torch213-cuda-amp-gradscaler.log",
        "venv": "dev",
        "run": _py("import torch; torch.cuda.amp.GradScaler()"),
    },
    {
        "id": "EN163",
        "file": "hit-torch213-cuda-amp-autocast.log",
        "venv": "dev",
        "run": _py("import torch\nwith torch.cuda.amp.autocast(enabled=False):\n    pass"),
    },
    {
        "id": "EN163",
        "file": "miss-torch213-amp-gradscaler.log",
        "venv": "dev",
        "run": _py("import torch; torch.amp.GradScaler('cpu'); print('ok')"),
    },
    # tokenizers 0.23.3 here printed nothing after a fork on this 2-core machine: public excerpt instead
    {"id": "EN164", "file": "hit-gladia-165-fork-after-parallelism.log", "public": "gladia-165"},
    {
        "id": "EN164",
        "file": "miss-torch213-numpy-not-writable.ref",
        "copy_fixture": "EN159/hit-torch213-numpy-not-writable.log",
    },
    {"id": "EN165", "file": "hit-tf524-sequence-longer-than-max.log", "venv": "dev", "run": _py(TOKENIZER_TOO_LONG)},
    {
        "id": "EN165",
        "file": "hit-tf4402-sequence-longer-than-max.log",
        "venv": "fc-tf4402",
        "run": _py(TOKENIZER_TOO_LONG),
    },
    {"id": "EN165", "file": "miss-tf524-truncated-to-max.log", "venv": "dev", "run": _py(TOKENIZER_TRUNCATED)},
    {
        "id": "EN166",
        "file": "hit-tf4402-generate-pad-token.log",
        "venv": "fc-tf4402",
        "run": _py(GPT2_GENERATE),
        "expect": {"top": "EN167", "also": []},
    },
    {
        "id": "EN166",
        "file": "miss-tf524-sequence-longer-than-max.ref",
        "copy_fixture": "EN165/hit-tf524-sequence-longer-than-max.log",
    },
    {
        "id": "EN169",
        "file": "hit-tf4402-transformers-cache-env.log",
        "venv": "fc-tf4402",
        "run": _py(
            "import os; os.environ['TRANSFORMERS_CACHE'] = '/tmp/envdoctor-tf-cache'\nimport transformers.utils.hub"
        ),
    },
    {
        "id": "EN169",
        "file": "miss-tf4402-generate-pad-token.ref",
        "copy_fixture": "EN166/hit-tf4402-generate-pad-token.log",
    },
    {
        "id": "EN170",
        "file": "hit-hub0235-resume-download.log",
        "venv": "fc-tf4402",
        "run": _py(
            "import os; os.environ['HF_HUB_OFFLINE'] = '1'\nfrom huggingface_hub import hf_hub_download\ntry:\n    hf_hub_download('google-bert/bert-base-uncased', 'config.json', resume_download=True)\nexcept Exception:\n    pass  # offline: the file is not cached; only the warning matters"
        ),
    },
    {
        "id": "EN170",
        "file": "miss-tf4402-transformers-cache-env.ref",
        "copy_fixture": "EN169/hit-tf4402-transformers-cache-env.log",
    },
    {
        "id": "EN171",
        "file": "hit-torch213-checkpoint-no-grad-inputs.log",
        "venv": "dev",
        "run": _py(
            "import torch, torch.utils.checkpoint as cp\nlin = torch.nn.Linear(2, 2)\nfor p in lin.parameters(): p.requires_grad_(False)\ncp.checkpoint(lin, torch.zeros(1, 2), use_reentrant=True)"
        ),
    },
    {
        "id": "EN171",
        "file": "miss-torch213-checkpoint-nonreentrant.log",
        "venv": "dev",
        "run": _py(
            "import torch, torch.utils.checkpoint as cp\nlin = torch.nn.Linear(2, 2)\nprint(cp.checkpoint(lin, torch.zeros(1, 2, requires_grad=True), use_reentrant=False).shape)"
        ),
    },
    {
        "id": "HF113",
        "file": "hit-tf524-peft0212-seq-cls-head.log",
        "venv": "fc-peft",
        "expect": {"top": "SD120", "also": []},
        "setup": [_write("peft_head.py", PEFT_HEAD)],
        "run": ["python", str(WORK / "peft_head.py")],
    },
    {
        "id": "HF113",
        "file": "miss-tf524-seq-cls-head-without-peft.log",
        "venv": "dev",
        "setup": [_write("head_only.py", PEFT_HEAD.split("from peft")[0] + HEAD_ONLY)],
        "run": ["python", str(WORK / "head_only.py")],
    },
    # ===== more warnings (batch 2) ======================================================
    {
        "id": "EN166",
        "file": "hit-tf4402-generate-with-attention-mask.log",
        "venv": "fc-tf4402",
        "run": _py(GPT2_GENERATE_MASKED),
    },
    {
        "id": "EN167",
        "file": "hit-tf4402-generate-without-attention-mask.log",
        "copy_fixture": "EN166/hit-tf4402-generate-pad-token.log",
    },
    {
        "id": "EN167",
        "file": "miss-tf4402-generate-with-attention-mask.log",
        "copy_fixture": "EN166/hit-tf4402-generate-with-attention-mask.log",
    },
    {
        "id": "EN172",
        "file": "hit-torch213-weight-norm.log",
        "venv": "dev",
        "run": _py("import torch; torch.nn.utils.weight_norm(torch.nn.Linear(2, 2))"),
    },
    {
        "id": "EN172",
        "file": "miss-torch213-parametrizations-weight-norm.log",
        "venv": "dev",
        "run": _py(
            "import torch; print(type(torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(2, 2))).__name__)"
        ),
    },
    {
        "id": "EN173",
        "file": "hit-torch213-nested-tensor-batch-first.log",
        "venv": "dev",
        "run": _py("import torch; torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2), 1)"),
    },
    {
        "id": "EN173",
        "file": "miss-torch213-nested-tensor-ok.log",
        "venv": "dev",
        "run": _py(
            "import torch; torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, batch_first=True), 1); print('ok')"
        ),
    },
    {
        "id": "EN174",
        "file": "hit-torch213-tensor-from-tensor.log",
        "venv": "dev",
        "run": _py("import torch; x = torch.zeros(2); torch.tensor(x)"),
    },
    {
        "id": "EN174",
        "file": "miss-torch213-clone-detach.log",
        "venv": "dev",
        "run": _py("import torch; x = torch.zeros(2); print(x.clone().detach().shape)"),
    },
    {
        "id": "EN175",
        "file": "hit-torch213-dataloader-too-many-workers.log",
        "venv": "dev",
        "run": _py(
            "import torch\nif __name__ == '__main__':\n    next(iter(torch.utils.data.DataLoader(list(range(4)), num_workers=8)))"
        ),
    },
    {
        "id": "EN175",
        "file": "miss-torch213-dataloader-two-workers.log",
        "venv": "dev",
        "run": _py(
            "import torch\nif __name__ == '__main__':\n    print(next(iter(torch.utils.data.DataLoader(list(range(4)), num_workers=2))))"
        ),
    },
    {
        "id": "EN176",
        "file": "hit-torch213-register-pytree-node.log",
        "venv": "dev",
        "run": _py(
            "import torch.utils._pytree as p\nclass Box: pass\np._register_pytree_node(Box, lambda b: ([], None), lambda values, context: Box())"
        ),
    },
    {"id": "EN176", "file": "miss-torch213-weight-norm.ref", "copy_fixture": "EN172/hit-torch213-weight-norm.log"},
    # ===== public excerpts: environments this machine cannot be (Hub auth, OS-managed pip) =====
    {"id": "EN177", "file": "hit-pulid-97-gated-401.log", "public": "pulid-97"},
    {"id": "EN177", "file": "hit-gemma3-od-5-gated-403.log", "public": "gemma3-od-5"},
    {"id": "EN177", "file": "miss-tf524-offline-no-cache.log", "copy_fixture": "EN152/hit-tf524-offline-no-cache.log"},
    {"id": "EN178", "file": "hit-comfyui-3554-externally-managed.log", "public": "comfyui-3554"},
    {
        "id": "EN178",
        "file": "miss-setuptools65-no-wheel-bdist-wheel.log",
        "copy_fixture": "EN156/hit-setuptools65-no-wheel-bdist-wheel.log",
    },
]


def main(argv: list[str] | None = None) -> int:
    base.VENVS.update(VENVS)
    base.EXTRA_PUBLIC.update(PUBLIC)
    base.RECORDED.extend(n for n in RECORDED_EXTRA if n not in base.RECORDED)
    return base.emit_rows(FIXTURES, argv, "family_cases.py", __doc__ or "")


if __name__ == "__main__":
    raise SystemExit(main())
