"""analyze_keys on key reports: the reference cases from the issue and the decoding rules."""

from __future__ import annotations

from envdoctor.model import KeyReport, ShapeMismatch, gather_constraints
from envdoctor.statedict.analyze import analyze_keys
from envdoctor.statedict.names import collapse_keys
from envdoctor.statedict.prefix import apply_rename, find_renames
from envdoctor.statedict.shapes import decode_grid

LANG = "language_model.language_backbone.body.model."
GDINO = KeyReport(
    source="gdino.log",
    unexpected=(LANG + "pooler.dense.weight", LANG + "pooler.dense.bias", LANG + "embeddings.position_ids"),
    missing=(*(f"bbox_head.cls_branches.{i}.log_scale" for i in range(7)), "dn_query_generator.label_embedding.weight"),
    lines={LANG + "pooler.dense.weight": 5, "bbox_head.cls_branches.0.log_scale": 7},
)


def test_grounding_dino_reference_case_gives_exactly_three_findings_in_order() -> None:
    findings = analyze_keys(GDINO, facts={"dist.transformers": "4.40.2"})
    assert [f.id for f in findings] == ["SD101", "SD102", "SD110"]
    config, buffer, pooler = findings
    assert config.category == "state_dict.config_mismatch"
    assert (config.severity, config.benign) == ("error", False)
    assert "bbox_head.cls_branches.{0..6}.log_scale" in [e.text.split(": ", 1)[1] for e in config.evidence]
    assert config.evidence[0].line == 7
    assert config.details["variants"][0]["indices"] == list(range(7))
    assert config.details["submodules"]["missing"] == ["dn_query_generator.label_embedding"]
    assert any("config that matches the checkpoint" in s for s in config.fix.steps)
    assert buffer.benign and buffer.category == "state_dict.buffer_drift"
    assert buffer.fix.optional and buffer.fix.constraints == ("transformers==4.29.1", "tokenizers==0.13.3")
    assert "https://github.com/huggingface/transformers/pull/24505" in buffer.references
    assert any(r.startswith("https://github.com/open-mmlab/mmdetection/issues/") for r in buffer.references)
    assert "transformers 4.40.2 is installed" in buffer.cause
    assert pooler.benign and pooler.category == "state_dict.unused_weights"
    assert pooler.evidence[0].line == 5
    pins = gather_constraints(findings)
    assert [(c.requirement, c.optional) for c in pins] == [("transformers==4.29.1", True), ("tokenizers==0.13.3", True)]


def test_every_key_is_explained_exactly_once() -> None:
    findings = analyze_keys(GDINO)
    claimed = [k for f in findings for side in f.details["keys"].values() for k in side]
    assert sorted(claimed) == sorted(GDINO.unexpected + GDINO.missing)


def _mae_report(with_prefix: bool) -> KeyReport:
    encoder = ["cls_token", "pos_embed", "patch_embed.projection.weight", "patch_embed.projection.bias"]
    encoder += [
        f"layers.{i}.{leaf}" for i in range(4) for leaf in ("ln1.weight", "attn.qkv.weight", "ffn.layers.1.weight")
    ]
    encoder += ["ln1.weight", "ln1.bias"]
    decoder = ["mask_token", "decoder_pos_embed", "decoder_embed.weight", "decoder_norm.weight", "decoder_pred.weight"]
    decoder += [f"decoder_blocks.{i}.attn.qkv.weight" for i in range(2)]
    prefix = "backbone." if with_prefix else ""
    ckpt: dict[str, tuple[int, ...]] = {
        k: (1, 4097, 1024) if k.endswith("pos_embed") else (1024,) for k in encoder + decoder
    }
    ckpt["patch_embed.projection.weight"] = (1024, 3, 16, 16)
    model = {prefix + k: v for k, v in ckpt.items() if k in encoder}
    from envdoctor.statedict.load import report_from_key_sets

    return report_from_key_sets(ckpt, model, source="sapiens")


def test_mae_pretraining_checkpoint_with_backbone_prefix() -> None:
    findings = analyze_keys(_mae_report(with_prefix=True))
    assert [f.id for f in findings] == ["SD133", "SD112"]
    prefix, mae = findings
    assert prefix.details["rename"] == {"from": "", "to": "backbone."}
    assert prefix.details["remaining"] == {"unexpected": 7, "missing": 0}
    assert mae.benign
    output = mae.details["output"]
    assert (output["tokens"], output["patches"], output["extra_tokens"]) == (4097, 4096, 1)
    assert output["featmap_shape"] == ["B", 1024, 64, 64]
    note = mae.cause  # an explanation, shown by default, not a fix step
    assert "4097 tokens = 64 x 64 = 4096 patches + 1 class token" in note
    assert "out_type='featmap'" in note and "(B, 1024, 64, 64)" in note


def test_mae_without_prefix_is_benign_only() -> None:
    findings = analyze_keys(_mae_report(with_prefix=False))
    assert [f.id for f in findings] == ["SD112"]
    assert all(f.benign for f in findings)


def test_rename_makes_key_sets_equal() -> None:
    model = [f"blocks.{i}.attn.qkv.weight" for i in range(3)] + ["head.weight", "head.bias"]
    ckpt = ["module." + k for k in model]
    (rename,) = find_renames(ckpt, model)
    assert (rename.old, rename.new) == ("module.", "")
    assert sorted(apply_rename(k, rename.old, rename.new) for k in ckpt) == sorted(model)


def test_coincidental_suffix_is_not_a_rename() -> None:
    unexpected = [
        "cls.predictions.transform.dense.weight",
        "cls.predictions.transform.dense.bias",
        "cls.predictions.transform.LayerNorm.weight",
        "cls.predictions.transform.LayerNorm.bias",
    ]
    assert find_renames(unexpected, ["pooler.dense.weight", "pooler.dense.bias"]) == []


def test_shape_mismatches_are_decoded() -> None:
    report = KeyReport(
        source="log",
        mismatched=(
            ShapeMismatch("fc.weight", (1000, 512), (10, 512)),
            ShapeMismatch("fc.bias", (1000,), (10,)),
            ShapeMismatch("pos_embed", (1, 197, 768), (1, 257, 768)),
            ShapeMismatch("embeddings.word_embeddings.weight", (30522, 768), (21128, 768)),
        ),
        model_shapes={"patch_embed.proj.weight": (768, 3, 16, 16)},
    )
    by_id = {f.id: f for f in analyze_keys(report)}
    assert set(by_id) == {"SD140", "SD141", "SD142"}
    assert "1000 classes" in by_id["SD140"].title and "10 in the model" in by_id["SD140"].title
    assert "ImageNet-1k" in by_id["SD140"].cause
    assert "bert-base-uncased" in by_id["SD141"].cause and "bert-base-chinese" in by_id["SD141"].cause
    decoded = by_id["SD142"].details["decoded"]
    assert decoded["checkpoint"]["image_size"] == 224 and decoded["model"]["image_size"] == 256
    assert "224 px" in by_id["SD142"].cause and "256 px" in by_id["SD142"].cause


def test_hidden_size_change_across_many_keys() -> None:
    report = KeyReport(
        source="log",
        mismatched=(
            ShapeMismatch("blocks.0.norm1.weight", (768,), (1024,)),
            ShapeMismatch("blocks.0.attn.qkv.weight", (2304, 768), (3072, 1024)),
            ShapeMismatch("blocks.0.mlp.fc1.weight", (3072, 768), (4096, 1024)),
        ),
    )
    (finding,) = analyze_keys(report)
    assert finding.id == "SD143"
    assert finding.details["decoded"] == {"checkpoint": 768, "model": 1024}


def test_wrapped_training_dict() -> None:
    report = KeyReport(source="log", unexpected=("epoch", "state_dict", "optimizer"), missing=("fc.weight", "fc.bias"))
    (finding,) = analyze_keys(report)
    assert finding.id == "SD130" and not finding.benign
    assert finding.details["unwrap"] == 'sd = ckpt["state_dict"]'
    assert 'sd = ckpt["state_dict"]' in finding.fix.steps[0]


def test_unexplained_keys_are_never_dropped() -> None:
    report = KeyReport(source="log", unexpected=("bar.weight",), missing=("foo.weight",))
    (finding,) = analyze_keys(report)
    assert finding.id == "SD199" and finding.severity == "warning"
    assert finding.details["keys"] == {"missing": ["foo.weight"], "unexpected": ["bar.weight"]}


def test_benign_findings_come_after_non_benign() -> None:
    report = KeyReport(
        source="log",
        unexpected=(
            "module.embeddings.position_ids",
            "module.pooler.dense.weight",
            "module.enc.a.weight",
            "module.enc.b.weight",
        ),
        missing=("enc.a.weight", "enc.b.weight", "classifier.weight"),
    )
    findings = analyze_keys(report)
    benign = [f.benign for f in findings]
    assert benign == sorted(benign)
    assert [f.id for f in findings] == ["SD131", "SD120", "SD102", "SD110"]


def test_collapse_and_grid_helpers() -> None:
    collapsed = collapse_keys([f"layers.{i}.ffn.layers.0.0.weight" for i in range(12)] + ["norm.weight"])
    assert [c.text for c in collapsed] == ["layers.{0..11}.ffn.layers.0.0.weight", "norm.weight"]
    grid = decode_grid(4097, dim=1024, patch=16)
    assert grid is not None and (grid.side, grid.extra, grid.image) == (64, 1, 1024)
    assert decode_grid(197) is not None and decode_grid(196).extra == 0  # type: ignore[union-attr]
