"""The generated transformers model-type table and its lookup (``transformers_model_type``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from packaging.version import Version

from envdoctor.kb.lookups import known_lookups, run_lookup
from envdoctor.kb.release_tables import load_model_types

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gen_model_types.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_model_types", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_table_says_how_far_it_reaches_and_knows_well_known_first_releases() -> None:
    table = load_model_types()
    assert table.reach >= Version("5.0.0") and table.reach_date
    assert table.first_read == Version("2.4.0")  # 2.0-2.3 matched names, no model_type mapping
    assert len(table.first) > 800
    # spot checks against the transformers release notes (v4.28.0 LLaMA, v4.42.0 Gemma 2)
    assert table.first_release("llama") == Version("4.28.0")
    assert table.first_release("gemma2") == Version("4.42.0")
    assert table.first_release("bert") == Version("2.4.0")
    assert table.first_release("not-a-model") is None


def test_lookups_split_known_and_unknown_model_types() -> None:
    assert {"transformers_model_type", "transformers_model_type_absent"} <= set(known_lookups())
    known = run_lookup("transformers_model_type", {"match.model_type": "grounding-dino"})
    assert known is not None and known["lookup.first"] == "4.40.0"
    assert run_lookup("transformers_model_type_absent", {"match.model_type": "grounding-dino"}) is None
    removed = run_lookup("transformers_model_type", {"match.model_type": "retribert"})
    assert removed is not None and removed["lookup.removed"] == "5.0.0"
    assert run_lookup("transformers_model_type", {"match.model_type": "openvla"}) is None
    unknown = run_lookup("transformers_model_type_absent", {"match.model_type": "openvla"})
    assert unknown is not None and unknown["lookup.reach"] == str(load_model_types().reach)
    assert run_lookup("transformers_model_type", {}) is None
    assert run_lookup("transformers_model_type_absent", {}) is None


def test_generator_reads_every_mapping_layout() -> None:
    generator = _generator()
    v2 = (
        'CONFIG_MAPPING = OrderedDict([("t5", T5Config,), ("bert", BertConfig)])\n'
        'MODEL_MAPPING = OrderedDict([("x", Y)])\n'
    )
    assert generator.model_types(v2) == {"t5", "bert"}
    v4 = (
        'CONFIG_MAPPING_NAMES = OrderedDict([("llama", "LlamaConfig")])\n'
        "CONFIG_MAPPING = _LazyConfigMapping(CONFIG_MAPPING_NAMES)\n"
    )
    assert generator.model_types(v4) == {"llama"}
    v5 = (
        'CONFIG_MAPPING_NAMES.update({"mimi_decoder": "MimiDecoderConfig"})\n'
        'CONFIG_MAPPING_NAMES = OrderedDict(**{"gpt-sw3": "GPT2Config"}, **CONFIG_MAPPING_NAMES)\n'
    )
    assert generator.model_types(v5) == {"mimi_decoder", "gpt-sw3"}
