"""Build the hit/miss fixtures of the generic API-history entries (VR200-VR204).

Every log is the byte-exact combined stdout+stderr of a command run here, in the dev venv or
in a throwaway venv (``symptom_cases.py``'s machinery: ``$ENVDOCTOR_SYMPTOM_VENVS``), with
the real released packages; the versions are recorded in each entry's ``SOURCE.txt``.

Usage: ``python scripts/fixture_logs/api_history_cases.py [--only ID ...]``.
"""

# ruff: noqa: E501  (one fixture per line: the commands read as they ran)
from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import symptom_cases as base

PY311 = base.PY311

VENVS: dict[str, dict[str, Any]] = {
    "api-markupsafe21": {"python": PY311, "steps": [["markupsafe==2.1.5"]], "dev_path": False},
    "api-jinja211-markupsafe21": {
        "python": PY311,
        "steps": [["jinja2==2.11.3"], ["markupsafe==2.1.5"]],
        "dev_path": False,
    },
    "api-markupsafe20": {"python": PY311, "steps": [["markupsafe==2.0.1"]], "dev_path": False},
    "api-jinja211-markupsafe20": {
        "python": PY311,
        "steps": [["jinja2==2.11.3", "markupsafe==2.0.1"]],
        "dev_path": False,
    },
    "api-hub020": {"python": PY311, "steps": [["huggingface-hub==0.20.3"]], "dev_path": False},
}
base.VENVS.update(VENVS)
base.RECORDED.extend(["markupsafe", "jinja2", "pillow", "scikit-learn"])

_IMPORT_ERROR = "from markupsafe import soft_unicode"

FIXTURES: list[dict[str, Any]] = [
    # --- VR200 cannot import name ---------------------------------------------------------
    {"id": "VR200", "file": "hit-markupsafe21-soft-unicode.log", "venv": "api-markupsafe21", "run": ["python", "-c", _IMPORT_ERROR]},
    {"id": "VR200", "file": "hit-jinja211-markupsafe21.log", "venv": "api-jinja211-markupsafe21", "run": ["python", "-c", "import jinja2"]},
    {"id": "VR200", "file": "hit-hub020-split-state-dict.log", "venv": "api-hub020", "run": ["python", "-c", "from huggingface_hub import split_torch_state_dict_into_shards"]},
    {"id": "VR200", "file": "miss-markupsafe20-typo.log", "venv": "api-markupsafe20", "run": ["python", "-c", "from markupsafe import soft_unicod"]},
    # --- VR201 module has no attribute ------------------------------------------------------
    {"id": "VR201", "file": "hit-pillow13-antialias.log", "venv": "dev", "run": ["python", "-c", "import PIL.Image; PIL.Image.ANTIALIAS"]},
    {"id": "VR201", "file": "miss-pillow13-typo.log", "venv": "dev", "run": ["python", "-c", "import PIL.Image; PIL.Image.LANCZOZ"]},
    # --- VR202 no module named --------------------------------------------------------------
    {"id": "VR202", "file": "hit-hub-commands-removed.log", "venv": "dev", "run": ["python", "-c", "import huggingface_hub.commands.huggingface_cli"]},
    {"id": "VR202", "file": "miss-hub-never-had.log", "venv": "dev", "run": ["python", "-c", "import huggingface_hub.no_such_module"]},
    # --- VR203 unexpected keyword -----------------------------------------------------------
    {"id": "VR203", "file": "hit-hub-legacy-cache-layout.log", "venv": "dev", "run": ["python", "-c", "from huggingface_hub import hf_hub_download; hf_hub_download('gpt2', 'config.json', legacy_cache_layout=True)"]},
    {"id": "VR203", "file": "miss-torch-forward-kwarg.log", "venv": "dev", "run": ["python", "-c", "import torch; torch.nn.Linear(2, 2)(torch.zeros(2), past=None)"]},
]  # fmt: skip

#: diagnose fixtures: the probed environment of a throwaway venv (``envdoctor diagnose --python ... --json``)
ENVIRONMENTS: list[dict[str, Any]] = [
    {"id": "VR204", "file": "hit-jinja211-markupsafe21.json", "venv": "api-jinja211-markupsafe21"},
    {"id": "VR204", "file": "miss-jinja211-markupsafe20.json", "venv": "api-jinja211-markupsafe20"},
]


def produce_environment(row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    python = base.ensure_venv(row["venv"])
    envdoctor = base.DEV_VENV / "bin" / "envdoctor"
    done = subprocess.run(
        [str(envdoctor), "diagnose", "--python", str(python), "--json"], capture_output=True, text=True, timeout=300
    )
    document = json.loads(done.stdout)
    record = {
        "kind": "diagnose",
        "venv": row["venv"],
        "command": f"envdoctor diagnose --python {python} --json (environment object kept)",
        "venv_spec": [" ".join(step) for step in VENVS[row["venv"]]["steps"]],
        "generated": datetime.date.today().isoformat(),
    }
    return json.dumps({"environment": document["environment"]}, indent=1) + "\n", record


def write_source(entry_id: str, records: dict[str, dict[str, Any]]) -> None:
    path = base.OUT / entry_id / "SOURCE.txt"
    lines = [f"# Where the fixtures of {entry_id} come from; written by scripts/fixture_logs/api_history_cases.py.", ""]
    for file_name in sorted(records):
        lines.append(f'[files."{file_name}"]')
        lines.extend(f"{key} = {base._toml_value(value)}" for key, value in records[file_name].items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="entry ids to rebuild")
    args = parser.parse_args(argv)
    by_entry: dict[str, dict[str, dict[str, Any]]] = {}
    for row in FIXTURES:
        if args.only and row["id"] not in args.only:
            continue
        text, record = base.produce(row, run=True)
        target = base.OUT / row["id"] / row["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if text is not None:
            target.write_text(text, encoding="utf-8")
        by_entry.setdefault(row["id"], {})[row["file"]] = record
        print(f"{row['id']}/{row['file']}: {json.dumps(record.get('exit_code'))}")
    for row in ENVIRONMENTS:
        if args.only and row["id"] not in args.only:
            continue
        text, record = produce_environment(row)
        target = base.OUT / row["id"] / row["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        by_entry.setdefault(row["id"], {})[row["file"]] = record
        print(f"{row['id']}/{row['file']}: environment")
    for entry_id, records in by_entry.items():
        write_source(entry_id, records)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
