"""Build the hit/miss fixtures of the model-type, adapter and everyday-breakage entries.

Entries HF101-HF199, VR160-VR199, EN150-EN199 and MM101-MM149 (issue 10, families 11, 12 and
15). The machinery is :mod:`symptom_cases` (same row shapes: ``run`` in a throwaway venv or
the dev venv, ``public`` excerpts with repository, issue and URL); this file only adds its
venvs, public excerpts and rows, and writes each entry's ``SOURCE.txt``.

Usage: ``python scripts/fixture_logs/family_cases.py [--only ID ...] [--no-run]``.
Never installs a torch: venvs that need one see the dev venv's (2.13.0+cpu) through a ``.pth``.
"""

# ruff: noqa: E501  (public excerpts are verbatim log lines and must not be wrapped)
from __future__ import annotations

import argparse
import json
import sys
import tomllib
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
        "steps": [["--no-deps", "peft==0.18.1", "accelerate==1.12.0", "psutil==7.1.3"]],
        "dev_path": True,
    },
    "fc-diffusers": {
        "python": PY311,
        "steps": [["--no-deps", "diffusers==0.36.0", "importlib-metadata==8.7.0", "zipp==3.23.0"]],
        "dev_path": True,
    },
    "fc-sklearn": {"python": PY311, "steps": [["scikit-learn==1.5.2"]], "dev_path": False},
    "fc-jinja211": {
        "python": PY311,
        "steps": [["--no-deps", "jinja2==2.11.3", "markupsafe==2.1.5"]],
        "dev_path": False,
    },
    "fc-flask22": {"python": PY311, "steps": [["flask==2.2.2", "werkzeug==3.0.1"]], "dev_path": False},
    "fc-py312-st65": {"python": PY312, "steps": [["setuptools==65.5.0"]], "dev_path": False},
    "fc-py311-st65": {"python": PY311, "steps": [["setuptools==65.5.0"]], "dev_path": False},
    "fc-gensim": {"python": PY311, "steps": [["gensim==4.3.2", "scipy==1.13.1", "numpy==1.26.4"]], "dev_path": False},
    "fc-pb319": {
        "python": PY311,
        "steps": [["--no-deps", "protobuf==3.19.6", "googleapis-common-protos==1.63.0"]],
        "dev_path": False,
    },
    "fc-pb425": {
        "python": PY311,
        "steps": [["--no-deps", "protobuf==4.25.3", "googleapis-common-protos==1.70.0"]],
        "dev_path": False,
    },
    "fc-gcp153-pb4": {
        "python": PY311,
        "steps": [["--no-deps", "protobuf==4.21.12", "googleapis-common-protos==1.53.0"]],
        "dev_path": False,
    },
    "fc-gcp1562-pb4": {
        "python": PY311,
        "steps": [["--no-deps", "protobuf==4.21.12", "googleapis-common-protos==1.56.2"]],
        "dev_path": False,
    },
    "fc-pip202": {"python": PY311, "steps": [["pip==20.2.4"]], "dev_path": False},
    "fc-typing-ext411": {"python": PY311, "steps": [["typing-extensions==4.1.1"]], "dev_path": False},
    "fc-st222-hub026": {
        "python": PY311,
        "steps": [["--no-deps", "sentence-transformers==2.2.2", "huggingface-hub==0.26.0"]],
        "dev_path": True,
    },
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

PUBLIC: dict[str, dict[str, str]] = {}

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
        "id": "HF101",
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
        "copy_fixture": "HF101/hit-tf524-custom-model-type.log",
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
]


def _records_dir(entry_id: str) -> Path:
    return base.OUT / entry_id


def produce(row: dict[str, Any], run: bool) -> tuple[str | None, dict[str, Any]]:
    if "copy_fixture" in row:  # a .ref naming another entry's recorded fixture, never a byte copy
        return f"knowledge/{row['copy_fixture']}\n", {
            "kind": "ref",
            "fixture": f"tests/fixtures/knowledge/{row['copy_fixture']}",
        }
    return base.produce(row, run)


def write_source(entry_id: str, records: dict[str, dict[str, Any]]) -> None:
    path = _records_dir(entry_id) / "SOURCE.txt"
    old: dict[str, Any] = {}
    if path.exists():
        old = tomllib.loads(path.read_text(encoding="utf-8")).get("files", {})
    lines = [f"# Where the fixtures of {entry_id} come from; written by scripts/fixture_logs/family_cases.py.", ""]
    for file_name in sorted(records):
        record = records[file_name]
        if record["kind"] == "run" and "exit_code" not in record and file_name in old:
            record = old[file_name]
        lines.append(f'[files."{file_name}"]')
        lines.extend(f"{key} = {base._toml_value(value)}" for key, value in record.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="entry ids to rebuild")
    parser.add_argument("--no-run", action="store_true", help="keep existing outputs of `run` rows")
    args = parser.parse_args(argv)
    base.VENVS.update(VENVS)
    base.EXTRA_PUBLIC.update(PUBLIC)
    base.RECORDED.extend(n for n in RECORDED_EXTRA if n not in base.RECORDED)
    by_entry: dict[str, dict[str, dict[str, Any]]] = {}
    for row in FIXTURES:
        if args.only and row["id"] not in args.only:
            continue
        text, record = produce(row, run=not args.no_run)
        target = base.OUT / row["id"] / row["file"]
        if "copy_fixture" in row:
            target = target.with_suffix(".ref")
        target.parent.mkdir(parents=True, exist_ok=True)
        if text is not None:
            target.write_text(text, encoding="utf-8")
        if "expect" in row:
            expect = row["expect"]
            also = ", ".join(json.dumps(i) for i in expect.get("also", []))
            target.with_name(target.name.removesuffix(".log") + ".expect.toml").write_text(
                f'top = "{expect["top"]}"\nalso = [{also}]\n', encoding="utf-8"
            )
        by_entry.setdefault(row["id"], {})[target.name] = record
        print(f"{row['id']}/{row['file']}: {record['kind']} exit={record.get('exit_code')}", flush=True)
    for entry_id, records in by_entry.items():
        write_source(entry_id, records)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
