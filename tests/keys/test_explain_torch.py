"""explain_load / explain_incompatible against real torch and transformers models (CPU).

The ground truth is torch itself: ``load_state_dict(strict=False)`` on a fresh copy of the
model; our key report must agree with it, and the user's model must not change.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import pytest
import torch
from torch import nn

from envdoctor import explain_incompatible, explain_load


class Block(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, dim * 3)
        self.fc1 = nn.Linear(dim, dim * 2)


class ViT(nn.Module):
    def __init__(self, img: int = 224, patch: int = 16, dim: int = 8, depth: int = 2, classes: int | None = 10) -> None:
        super().__init__()
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (img // patch) ** 2 + 1, dim))
        self.blocks = nn.ModuleList([Block(dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        if classes:
            self.head = nn.Linear(dim, classes)


class MAE(ViT):
    def __init__(self, img: int = 1024, dim: int = 8) -> None:
        super().__init__(img=img, dim=dim, depth=3, classes=None)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, 4))
        self.decoder_embed = nn.Linear(dim, 4)
        self.decoder_pos_embed = nn.Parameter(torch.zeros(1, (img // 16) ** 2 + 1, 4))
        self.decoder_blocks = nn.ModuleList([Block(4) for _ in range(2)])
        self.decoder_norm = nn.LayerNorm(4)
        self.decoder_pred = nn.Linear(4, 16 * 16 * 3)


class Backboned(nn.Module):
    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(8, 17)


def torch_truth(model: nn.Module, state_dict: dict[str, Any]) -> tuple[set[str], set[str]]:
    result = copy.deepcopy(model).load_state_dict(state_dict, strict=False)
    return set(result.missing_keys), set(result.unexpected_keys)


def keys_of(findings: list[Any], side: str) -> set[str]:
    return {k for f in findings for k in f.details["keys"].get(side, [])}


def assert_agrees_with_torch(model: nn.Module, state_dict: dict[str, Any], findings: list[Any]) -> None:
    missing, unexpected = torch_truth(model, state_dict)
    renamed = [f for f in findings if f.category in ("state_dict.prefix", "state_dict.wrapped_checkpoint")]
    assert keys_of(findings, "missing") == missing
    assert keys_of(findings, "unexpected") == unexpected or renamed


def snapshot(model: nn.Module) -> dict[str, Any]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_vit_image_size_224_vs_256() -> None:
    model, ckpt = ViT(img=256), ViT(img=224).state_dict()
    with pytest.raises(RuntimeError, match=r"size mismatch for pos_embed"):
        copy.deepcopy(model).load_state_dict(ckpt, strict=False)
    before = snapshot(model)
    findings = explain_load(model, ckpt)
    assert [f.id for f in findings] == ["SD142"]
    decoded = findings[0].details["decoded"]
    assert (decoded["checkpoint"]["tokens"], decoded["model"]["tokens"]) == (197, 257)
    assert (decoded["checkpoint"]["image_size"], decoded["model"]["image_size"]) == (224, 256)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def tiny_bert(**kw: Any) -> Any:
    transformers = pytest.importorskip("transformers")
    base = dict(
        vocab_size=64,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=16,
    )
    base.update(kw)
    return transformers.BertConfig(**base)


def test_bert_pretraining_checkpoint_into_bert_model() -> None:
    transformers = pytest.importorskip("transformers")
    model = transformers.BertModel(tiny_bert(), add_pooling_layer=False)
    ckpt = transformers.BertForPreTraining(tiny_bert()).state_dict()
    findings = explain_load(model, ckpt)
    assert_agrees_with_torch(model, ckpt, findings)
    assert [f.id for f in findings] == ["SD133", "SD110", "SD111"]
    assert findings[0].details["rename"] == {"from": "bert.", "to": ""}
    assert findings[0].details["remaining"]["missing"] == 0
    assert all(f.benign for f in findings[1:])


def test_bert_model_into_sequence_classification_with_position_ids() -> None:
    transformers = pytest.importorskip("transformers")
    model = transformers.BertForSequenceClassification(tiny_bert(num_labels=3))
    ckpt = {"bert." + k: v for k, v in transformers.BertModel(tiny_bert()).state_dict().items()}
    ckpt["bert.embeddings.position_ids"] = torch.arange(16).expand((1, -1))
    findings = explain_load(model, ckpt)
    assert_agrees_with_torch(model, ckpt, findings)
    assert [f.id for f in findings] == ["SD120", "SD102"]
    head, buffer = findings
    assert head.details["new"] == ["classifier.weight", "classifier.bias"] and not head.benign
    assert buffer.benign and buffer.fix.optional


def test_explain_incompatible_matches_explain_load() -> None:
    transformers = pytest.importorskip("transformers")
    model = transformers.BertModel(tiny_bert(), add_pooling_layer=False)
    ckpt = transformers.BertModel(tiny_bert()).state_dict()
    ckpt["embeddings.position_ids"] = torch.arange(16).expand((1, -1))
    result = copy.deepcopy(model).load_state_dict(ckpt, strict=False)
    from_result = explain_incompatible(result, model=model)
    from_load = explain_load(model, ckpt)
    assert [f.id for f in from_result] == [f.id for f in from_load] == ["SD102", "SD110"]
    assert [f.details["keys"] for f in from_result] == [f.details["keys"] for f in from_load]


def test_dataparallel_checkpoint() -> None:
    model = ViT()
    ckpt = nn.DataParallel(ViT()).state_dict()
    findings = explain_load(model, ckpt)
    assert_agrees_with_torch(model, ckpt, findings)
    (finding,) = findings
    assert finding.id == "SD131" and finding.details["rename"] == {"from": "module.", "to": ""}
    renamed = {k.removeprefix("module."): v for k, v in ckpt.items()}
    assert torch_truth(model, renamed) == (set(), set())


def test_compiled_module_checkpoint() -> None:
    model = ViT()
    compiled = torch.compile(ViT())  # OptimizedModule; nothing is compiled until it is called
    ckpt = compiled.state_dict()  # type: ignore[attr-defined]
    assert next(iter(ckpt)).startswith("_orig_mod.")
    findings = explain_load(model, ckpt)
    assert_agrees_with_torch(model, ckpt, findings)
    assert [f.id for f in findings] == ["SD132"]


def test_lightning_style_training_dict() -> None:
    model = ViT()
    ckpt = {
        "epoch": 3,
        "global_step": 120,
        "pytorch-lightning_version": "2.4.0",
        "state_dict": {"model." + k: v for k, v in ViT().state_dict().items()},
        "optimizer_states": [],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        missing, unexpected = torch_truth(model, ckpt)
    findings = explain_load(model, ckpt)
    assert [f.id for f in findings] == ["SD130"]
    assert keys_of(findings, "missing") == missing
    assert keys_of(findings, "unexpected") == unexpected
    assert findings[0].details["unwrap"] == 'sd = ckpt["state_dict"]'


def test_mae_pretraining_checkpoint_into_backboned_model() -> None:
    model = Backboned(ViT(img=1024, depth=3, classes=None))
    ckpt = MAE().state_dict()
    findings = explain_load(model, ckpt)
    assert_agrees_with_torch(model, ckpt, findings)
    assert [f.id for f in findings] == ["SD133", "SD120", "SD112"]
    prefix, head, mae = findings
    assert prefix.details["rename"] == {"from": "", "to": "backbone."}
    assert head.details["new"] == ["head.weight", "head.bias"]
    assert mae.details["output"]["tokens"] == 4097 and mae.details["output"]["featmap_shape"] == ["B", 8, 64, 64]


def test_explain_load_reads_a_checkpoint_path(tmp_path: Any) -> None:
    path = tmp_path / "dp.pth"
    torch.save({"state_dict": nn.DataParallel(ViT()).state_dict(), "epoch": 1}, path)
    findings = explain_load(ViT(), str(path))
    assert [f.id for f in findings] == ["SD131"]
