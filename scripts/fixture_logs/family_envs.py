"""Write the environment (diagnose) fixtures of the entries built for issue 10's families.

Each scenario is an environment as the probe reports it, built with the helpers of
``scripts/make_check_fixtures.py``: a hit holds the installed versions that break at import,
a near miss differs in the one version that matters (the first fixed release, or the runtime
release before the break). The versions are those the entries' ``[sources]`` cite.

Run: python scripts/fixture_logs/family_envs.py   (rewrites the listed *.json fixtures only)
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from make_check_fixtures import ROOT, dist, env

from envdoctor.model import Environment, to_jsonable

ST222 = dist("sentence-transformers", "2.2.2", "huggingface-hub>=0.4.0", "transformers<5.0.0,>=4.6.0")
GCP153 = dist("googleapis-common-protos", "1.53.0", "protobuf>=3.12.0")

#: Why the environments hold what they hold (recorded in each entry's SOURCE.txt).
NOTES = {
    "VR112": "installed versions only (METADATA-level); the importers are verified in VR112's [sources]",
    "VR113": "installed versions only (METADATA-level); the old gencode is verified in VR113's [sources]",
    "HF112": "installed versions only; diffusers' USE_PEFT_BACKEND thresholds are in HF112's [sources]",
    "VR166": "installed versions only; the unguarded ImpImporter registration is verified in VR166's [sources]",
    "VR174": "installed versions only; Flask's werkzeug.urls imports are verified in VR174's [sources]",
}

SCENARIOS: dict[str, dict[str, Environment]] = {
    "VR112": {
        "hit-sentence-transformers-222-hub-026": env(ST222, dist("huggingface-hub", "0.26.0")),
        "hit-diffusers-0281-hub-0262": env(
            dist("diffusers", "0.28.2", "huggingface-hub>=0.20.2"), dist("huggingface-hub", "0.26.2")
        ),
        "miss-sentence-transformers-222-hub-0252": env(ST222, dist("huggingface-hub", "0.25.2")),
        "miss-diffusers-029-hub-026": env(
            dist("diffusers", "0.29.0", "huggingface-hub>=0.23.2"), dist("huggingface-hub", "0.26.0")
        ),
    },
    "VR113": {
        "hit-googleapis-common-protos-153-protobuf-4": env(GCP153, dist("protobuf", "4.21.12")),
        "hit-tensorboard-280-protobuf-4": env(
            dist("tensorboard", "2.8.0", "protobuf>=3.6.0"), dist("protobuf", "4.21.12")
        ),
        "miss-googleapis-common-protos-153-protobuf-3203": env(GCP153, dist("protobuf", "3.20.3")),
        "miss-googleapis-common-protos-1561-protobuf-4": env(
            dist("googleapis-common-protos", "1.56.1", "protobuf>=3.15.0"), dist("protobuf", "4.21.12")
        ),
    },
    "HF112": {
        "hit-diffusers0272-peft050": env(
            dist("diffusers", "0.27.2"), dist("peft", "0.5.0"), dist("transformers", "4.40.2")
        ),
        "hit-diffusers0272-transformers4333": env(
            dist("diffusers", "0.27.2"), dist("peft", "0.10.0"), dist("transformers", "4.33.3")
        ),
        "miss-diffusers0272-peft0100-transformers4402": env(
            dist("diffusers", "0.27.2"), dist("peft", "0.10.0"), dist("transformers", "4.40.2")
        ),
        "miss-diffusers0272-without-peft": env(dist("diffusers", "0.27.2"), dist("transformers", "4.33.3")),
    },
    "VR166": {
        "hit-py312-setuptools655": env(dist("setuptools", "65.5.0"), version="3.12.1"),
        "miss-py312-setuptools661": env(dist("setuptools", "66.1.0"), version="3.12.1"),
        "miss-py311-setuptools655": env(dist("setuptools", "65.5.0"), version="3.11.7"),
    },
    "VR174": {
        "hit-flask222-werkzeug301": env(dist("flask", "2.2.2", "Werkzeug>=2.2.2"), dist("werkzeug", "3.0.1")),
        "miss-flask225-werkzeug301": env(dist("flask", "2.2.5", "Werkzeug>=2.2.2"), dist("werkzeug", "3.0.1")),
        "miss-flask222-werkzeug233": env(dist("flask", "2.2.2", "Werkzeug>=2.2.2"), dist("werkzeug", "2.3.3")),
    },
}


def record_sources(folder: Path, names: list[str]) -> None:
    """Add a ``kind = "env"`` record per fixture to SOURCE.txt, leaving every other record as it is."""
    path = folder / "SOURCE.txt"
    text = path.read_text(encoding="utf-8") if path.exists() else f"# Where the fixtures of {folder.name} come from.\n"
    known = tomllib.loads(text).get("files", {})
    blocks = [
        f'\n[files."{name}.json"]\nkind = "env"\nscript = "scripts/fixture_logs/family_envs.py"\n'
        f'note = "{NOTES[folder.name]}"\n'
        for name in names
        if f"{name}.json" not in known
    ]
    if blocks:
        path.write_text(text.rstrip("\n") + "\n" + "".join(blocks), encoding="utf-8")


def main() -> None:
    for entry_id, cases in SCENARIOS.items():
        folder = ROOT / entry_id
        folder.mkdir(parents=True, exist_ok=True)
        for name, environment in cases.items():
            text = json.dumps({"environment": to_jsonable(environment)}, indent=1, sort_keys=True)
            (folder / f"{name}.json").write_text(text + "\n", encoding="utf-8")
        record_sources(folder, list(cases))
    print(f"wrote {sum(len(c) for c in SCENARIOS.values())} fixtures under {ROOT}")


if __name__ == "__main__":
    main()
