"""Produce the triage test logs that the shared fixture set lacks, with the real libraries.

Usage: python scripts/fixture_logs/triage_cases.py [OUTDIR]   (default tests/triage/data)

* transformers5-renamed-layers-{3,12}.log: a BertModel checkpoint whose ``encoder.layer.N.``
  keys were renamed ``encoder.layers.N.``, loaded with transformers 5 ``from_pretrained``:
  the LOAD REPORT collapses the layer indices (``{0, 1, 2}`` for 3 layers, ``{0...11}`` for
  12), which triage must expand back into concrete keys.

Each log is the captured stderr+stdout of a child Python; MANIFEST.toml records versions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import tomllib
from importlib import metadata
from pathlib import Path

CHILD = r"""
import sys, torch
from safetensors.torch import load_file, save_file
from transformers import BertConfig, BertModel
layers = int(sys.argv[1])
torch.manual_seed(0)
cfg = BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=layers, num_attention_heads=4,
                 intermediate_size=37, max_position_embeddings=64)
BertModel(cfg).save_pretrained("ckpt")
sd = load_file("ckpt/model.safetensors")
sd = {k.replace("encoder.layer.", "encoder.layers."): v for k, v in sd.items()}
save_file(sd, "ckpt/model.safetensors", metadata={"format": "pt"})
BertModel.from_pretrained("./ckpt")
"""


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/triage/data")
    out.mkdir(parents=True, exist_ok=True)
    manifest = ["# Logs made by scripts/fixture_logs/triage_cases.py with the dev venv's libraries."]
    versions = {name: metadata.version(name) for name in ("torch", "transformers", "safetensors")}
    for layers in (3, 12):
        name = f"transformers5-renamed-layers-{layers}"
        with tempfile.TemporaryDirectory() as work:
            env = dict(os.environ, COLUMNS="80", PYTHONWARNINGS="ignore")
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(layers)],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
        (out / f"{name}.log").write_text(done.stderr + done.stdout, encoding="utf-8")
        manifest += [
            f'[fixtures."{name}"]',
            f'file = "{name}.log"',
            f'command = "python -c CHILD {layers}  (scripts/fixture_logs/triage_cases.py)"',
            f"exit_code = {done.returncode}",
            f'python = "{sys.version.split()[0]}"',
            *(f'packages.{k} = "{v}"' for k, v in versions.items()),
            "",
        ]
    # Records of logs other scripts made (fvcore_cases.py) stay as they are.
    path = out / "MANIFEST.toml"
    old = tomllib.loads(path.read_text(encoding="utf-8")).get("fixtures", {}) if path.exists() else {}
    for name, record in old.items():
        if name.startswith("transformers5-renamed-layers-"):
            continue
        manifest.append(f'[fixtures."{name}"]')
        for key, value in record.items():
            items = value.items() if isinstance(value, dict) else [(None, value)]
            for sub, item in items:
                shown = str(item) if isinstance(item, int) else json.dumps(item)
                manifest.append(f"{key}.{sub} = {shown}" if sub else f"{key} = {shown}")
        manifest.append("")
    path.write_text("\n".join(manifest), encoding="utf-8")


if __name__ == "__main__":
    main()
