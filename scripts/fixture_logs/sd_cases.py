#!/usr/bin/env python3
"""Regenerate the SD1xx entry fixtures (tests/fixtures/knowledge/SD1*/hit-*.log, miss-*.log).

    python scripts/fixture_logs/sd_cases.py            # every case
    python scripts/fixture_logs/sd_cases.py SD142      # the cases of some entries

Each case is a tiny but real load: a torch / transformers / mmengine model built on the CPU
and a checkpoint that differs from it in the way the entry describes. The case's code runs
in a fresh directory under /tmp with the current interpreter (the dev venv), stdout and
stderr merged into one pipe, and the bytes are written unmodified. Each entry directory gets
a SOURCE.txt naming the command, the library versions and where copied logs came from.
A hit fixture is designed so that its entry is the main (first) explanation; a miss fixture
looks similar but is another symptom.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "knowledge"
WORK = Path(os.environ.get("ENVDOCTOR_FIXTURE_WORK", "/tmp/envdoctor-sd-cases"))
PACKAGES = ("torch", "transformers", "tokenizers", "mmengine", "numpy")

LIB = r'''
import os, sys
import torch
import torch.nn as nn

def tiny_bert_config(**kw):
    from transformers import BertConfig
    base = dict(vocab_size=64, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                intermediate_size=16, max_position_embeddings=16)
    base.update(kw)
    return BertConfig(**base)

class Block(nn.Module):
    def __init__(self, dim, qkv_bias=True):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.Module()
        self.attn.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(dim, dim * 4)
        self.mlp.fc2 = nn.Linear(dim * 4, dim)

class ViT(nn.Module):
    """timm-style names: patch_embed.proj, cls_token, pos_embed, blocks.N, norm, head."""
    def __init__(self, img=224, patch=16, dim=8, depth=2, classes=10, head=True):
        super().__init__()
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(3, dim, patch, patch)
        grid = img // patch
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid + 1, dim))
        self.blocks = nn.ModuleList([Block(dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        if head:
            self.head = nn.Linear(dim, classes)

class MAE(ViT):
    """An MAE pretraining model: the encoder plus decoder_* and mask_token (flat names)."""
    def __init__(self, img=224, patch=16, dim=8, depth=3, ddim=4, ddepth=2):
        super().__init__(img, patch, dim, depth, head=False)
        grid = img // patch
        self.mask_token = nn.Parameter(torch.zeros(1, 1, ddim))
        self.decoder_embed = nn.Linear(dim, ddim)
        self.decoder_pos_embed = nn.Parameter(torch.zeros(1, grid * grid + 1, ddim))
        self.decoder_blocks = nn.ModuleList([Block(ddim) for _ in range(ddepth)])
        self.decoder_norm = nn.LayerNorm(ddim)
        self.decoder_pred = nn.Linear(ddim, patch * patch * 3)

class Net(nn.Module):
    def __init__(self, head="classifier", classes=10, aux=False, bn_stats=True, kernel=3):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, kernel)
        self.bn1 = nn.BatchNorm2d(8, track_running_stats=bn_stats)
        self.layer1 = nn.Sequential(nn.Conv2d(8, 8, 3), nn.ReLU())
        if head:
            setattr(self, head, nn.Linear(8, classes))
        if aux:
            self.aux_classifier = nn.Sequential(nn.Conv2d(8, 4, 1), nn.Conv2d(4, classes, 1))

class Wrapped(nn.Module):
    def __init__(self, inner, name="backbone"):
        super().__init__()
        setattr(self, name, inner)

def strict(model, sd):
    model.load_state_dict(sd)
'''

# (entry, "hit"|"miss", slug, code run after LIB)
CASES: list[tuple[str, str, str, str]] = [
    (
        "SD101",
        "miss",
        "mmengine-position-ids-only",
        r"""
from transformers import BertModel
from transformers.utils import logging as hf_logging
from mmengine.runner.checkpoint import load_state_dict
hf_logging.set_verbosity_error()
class Lang(nn.Module):
    def __init__(self):
        super().__init__()
        self.bert = BertModel(tiny_bert_config(), add_pooling_layer=False)
m = Lang()
sd = m.state_dict()
sd["bert.embeddings.position_ids"] = torch.arange(16).expand((1, -1))
load_state_dict(m, sd, strict=False, logger="current")
""",
    ),
    (
        "SD102",
        "hit",
        "torch-bert-position-ids",
        r"""
from transformers import BertModel
m = BertModel(tiny_bert_config())
sd = m.state_dict()
sd["embeddings.position_ids"] = torch.arange(16).expand((1, -1))
strict(m, sd)
""",
    ),
    (
        "SD102",
        "miss",
        "torch-pos-embed-size",
        r"""
strict(ViT(img=256), ViT(img=224).state_dict())
""",
    ),
    (
        "SD103",
        "hit",
        "torch-missing-num-batches-tracked",
        r"""
m = Net()
sd = m.state_dict()  # keeps _metadata (BatchNorm version 2), so torch reports the key missing
del sd["bn1.num_batches_tracked"]
strict(m, sd)
""",
    ),
    (
        "SD103",
        "miss",
        "torch-bn-running-stats-unexpected",
        r"""
strict(Net(bn_stats=False), Net().state_dict())
""",
    ),
    (
        "SD104",
        "hit",
        "torch-gpt2-attn-bias",
        r"""
from transformers import GPT2Config, GPT2Model
from transformers.utils import logging as hf_logging
hf_logging.set_verbosity_error()
cfg = GPT2Config(n_layer=2, n_embd=8, n_head=2, vocab_size=64, n_positions=16, bos_token_id=0, eos_token_id=0)
m = GPT2Model(cfg)
sd = m.state_dict()
for i in range(2):
    sd[f"h.{i}.attn.bias"] = torch.tril(torch.ones(16, 16, dtype=torch.bool)).view(1, 1, 16, 16)
    sd[f"h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
strict(m, sd)
""",
    ),
    (
        "SD104",
        "miss",
        "torch-gpt2-c-attn-bias-missing",
        r"""
from transformers import GPT2Config, GPT2Model
from transformers.utils import logging as hf_logging
hf_logging.set_verbosity_error()
cfg = GPT2Config(n_layer=2, n_embd=8, n_head=2, vocab_size=64, n_positions=16, bos_token_id=0, eos_token_id=0)
m = GPT2Model(cfg)
sd = {k: v for k, v in m.state_dict().items() if k != "ln_f.bias"}
strict(m, sd)
""",
    ),
    (
        "SD105",
        "hit",
        "torch-llama-inv-freq",
        r"""
from transformers import LlamaConfig, LlamaModel
m = LlamaModel(LlamaConfig(num_hidden_layers=2, hidden_size=8, intermediate_size=16, num_attention_heads=2,
                           num_key_value_heads=2, vocab_size=64))
sd = m.state_dict()
for i in range(2):
    sd[f"layers.{i}.self_attn.rotary_emb.inv_freq"] = torch.ones(2)
strict(m, sd)
""",
    ),
    (
        "SD105",
        "miss",
        "torch-llama-o-proj-missing",
        r"""
from transformers import LlamaConfig, LlamaModel
m = LlamaModel(LlamaConfig(num_hidden_layers=2, hidden_size=8, intermediate_size=16, num_attention_heads=2,
                           num_key_value_heads=2, vocab_size=64))
sd = {k: v for k, v in m.state_dict().items() if not k.endswith("self_attn.o_proj.weight")}
strict(m, sd)
""",
    ),
    (
        "SD110",
        "hit",
        "torch-bert-pooler-unexpected",
        r"""
from transformers import BertModel
strict(BertModel(tiny_bert_config(), add_pooling_layer=False), BertModel(tiny_bert_config()).state_dict())
""",
    ),
    (
        "SD110",
        "miss",
        "torch-bert-pooler-missing",
        r"""
from transformers import BertModel
strict(BertModel(tiny_bert_config()), BertModel(tiny_bert_config(), add_pooling_layer=False).state_dict())
""",
    ),
    (
        "SD111",
        "hit",
        "torch-bert-pretraining-heads",
        r"""
from transformers import BertForPreTraining, BertModel
sd = {k.removeprefix("bert."): v for k, v in BertForPreTraining(tiny_bert_config()).state_dict().items()}
strict(BertModel(tiny_bert_config()), sd)
""",
    ),
    (
        "SD111",
        "miss",
        "torch-bert-pretraining-heads-missing",
        r"""
from transformers import BertForPreTraining, BertModel
sd = {"bert." + k: v for k, v in BertModel(tiny_bert_config()).state_dict().items()}
strict(BertForPreTraining(tiny_bert_config()), sd)
""",
    ),
    (
        "SD112",
        "hit",
        "mmengine-mae-decoder-unused",
        r"""
from mmengine.runner.checkpoint import load_state_dict
load_state_dict(ViT(depth=3, head=False), MAE().state_dict(), strict=False, logger="current")
""",
    ),
    (
        "SD112",
        "miss",
        "mmengine-mae-decoder-missing",
        r"""
from mmengine.runner.checkpoint import load_state_dict
load_state_dict(MAE(), ViT(depth=3, head=False).state_dict(), strict=False, logger="current")
""",
    ),
    (
        "SD113",
        "hit",
        "torch-ema-copies",
        r"""
m = Net()
sd = dict(m.state_dict())
sd.update({"ema." + k: v.clone() for k, v in m.state_dict().items()})
strict(m, sd)
""",
    ),
    (
        "SD113",
        "miss",
        "torch-ema-model-missing",
        r"""
class WithEma(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = Net(head="fc")
        self.ema = Net(head="fc")
m = WithEma()
strict(m, {k: v for k, v in m.state_dict().items() if not k.startswith("ema.")})
""",
    ),
    (
        "SD114",
        "hit",
        "torch-aux-classifier-unexpected",
        r"""
strict(Net(aux=False), Net(aux=True).state_dict())
""",
    ),
    (
        "SD114",
        "miss",
        "torch-aux-classifier-missing",
        r"""
strict(Net(aux=True), Net(aux=False).state_dict())
""",
    ),
    (
        "SD120",
        "hit",
        "torch-new-classifier",
        r"""
strict(Net(head="classifier"), Net(head=None).state_dict())
""",
    ),
    (
        "SD120",
        "miss",
        "torch-head-norm-missing",
        r"""
class HeadWithNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.head = nn.Module()
        self.head.norm = nn.LayerNorm(4)
m = HeadWithNorm()
strict(m, {"body.weight": m.body.weight, "body.bias": m.body.bias})
""",
    ),
    (
        "SD121",
        "hit",
        "torch-gpt2-lm-head-tied",
        r"""
from transformers import GPT2Config, GPT2LMHeadModel
from transformers.utils import logging as hf_logging
hf_logging.set_verbosity_error()
cfg = GPT2Config(n_layer=2, n_embd=8, n_head=2, vocab_size=64, n_positions=16, bos_token_id=0, eos_token_id=0)
m = GPT2LMHeadModel(cfg)
strict(m, {k: v for k, v in m.state_dict().items() if k != "lm_head.weight"})
""",
    ),
    (
        "SD121",
        "miss",
        "torch-gpt2-lm-head-vocab",
        r"""
from transformers import GPT2Config, GPT2LMHeadModel
from transformers.utils import logging as hf_logging
hf_logging.set_verbosity_error()
def cfg(v):
    return GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=v, n_positions=16, bos_token_id=0, eos_token_id=0)
strict(GPT2LMHeadModel(cfg(72)), GPT2LMHeadModel(cfg(64)).state_dict())
""",
    ),
    (
        "SD130",
        "hit",
        "torch-training-dict",
        r"""
m = Net()
optimizer = torch.optim.SGD(m.parameters(), lr=0.1)
torch.save({"epoch": 12, "state_dict": m.state_dict(), "optimizer": optimizer.state_dict()}, "last.pth")
strict(m, torch.load("last.pth"))
""",
    ),
    (
        "SD130",
        "miss",
        "torch-model-prefix",
        r"""
strict(Net(), Wrapped(Net(), "model").state_dict())
""",
    ),
    (
        "SD131",
        "hit",
        "torch-dataparallel-prefix",
        r"""
strict(Net(), nn.DataParallel(Net()).state_dict())
""",
    ),
    (
        "SD131",
        "miss",
        "torch-compile-prefix",
        r"""
strict(Net(), torch.compile(Net()).state_dict())
""",
    ),
    (
        "SD132",
        "hit",
        "torch-compile-prefix",
        r"""
strict(Net(), torch.compile(Net()).state_dict())
""",
    ),
    (
        "SD132",
        "miss",
        "torch-dataparallel-prefix",
        r"""
strict(Net(), nn.DataParallel(Net()).state_dict())
""",
    ),
    (
        "SD133",
        "hit",
        "torch-backbone-prefix",
        r"""
strict(Wrapped(ViT(head=False)), ViT(head=False).state_dict())
""",
    ),
    (
        "SD133",
        "miss",
        "torch-dataparallel-prefix",
        r"""
strict(ViT(), nn.DataParallel(ViT()).state_dict())
""",
    ),
    (
        "SD140",
        "hit",
        "torch-fc-1000-vs-10",
        r"""
strict(Net(head="fc", classes=10), Net(head="fc", classes=1000).state_dict())
""",
    ),
    (
        "SD140",
        "miss",
        "torch-pos-embed-197-vs-257",
        r"""
strict(ViT(img=256), ViT(img=224).state_dict())
""",
    ),
    (
        "SD141",
        "hit",
        "torch-bert-vocab-30522-vs-21128",
        r"""
from transformers import BertModel
strict(BertModel(tiny_bert_config(vocab_size=21128)), BertModel(tiny_bert_config(vocab_size=30522)).state_dict())
""",
    ),
    (
        "SD141",
        "miss",
        "torch-classifier-3-vs-5",
        r"""
strict(Net(head="classifier", classes=5), Net(head="classifier", classes=3).state_dict())
""",
    ),
    (
        "SD142",
        "hit",
        "torch-pos-embed-197-vs-257",
        r"""
strict(ViT(img=256, head=False), ViT(img=224, head=False).state_dict())
""",
    ),
    (
        "SD142",
        "miss",
        "torch-head-1000-vs-10",
        r"""
strict(ViT(classes=10), ViT(classes=1000).state_dict())
""",
    ),
    (
        "SD143",
        "hit",
        "torch-vit-width-8-vs-12",
        r"""
strict(ViT(dim=12, head=False), ViT(dim=8, head=False).state_dict())
""",
    ),
    (
        "SD143",
        "miss",
        "torch-conv-kernel",
        r"""
strict(Net(kernel=5), Net(kernel=3).state_dict())
""",
    ),
    (
        "SD144",
        "hit",
        "torch-conv-kernel",
        r"""
strict(Net(kernel=5), Net(kernel=3).state_dict())
""",
    ),
    (
        "SD144",
        "miss",
        "torch-fc-1000-vs-10",
        r"""
strict(Net(head="fc", classes=10), Net(head="fc", classes=1000).state_dict())
""",
    ),
    (
        "SD190",
        "hit",
        "torch-load-os-system",
        r"""
class Payload:
    def __reduce__(self):
        return (os.system, ("echo this would run",))
torch.save({"weight": torch.zeros(2), "hook": Payload()}, "model.pth")
torch.load("model.pth")
""",
    ),
    (
        "SD190",
        "miss",
        "torch-load-numpy-global",
        r"""
import numpy as np
torch.save({"weight": torch.zeros(2), "mean": np.zeros(3)}, "model.pth")
torch.load("model.pth")
""",
    ),
    (
        "SD199",
        "hit",
        "torch-unrelated-keys",
        r"""
class A(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 4)
class B(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)
strict(A(), B().state_dict())
""",
    ),
    (
        "SD199",
        "miss",
        "torch-bert-pooler-unexpected",
        r"""
from transformers import BertModel
strict(BertModel(tiny_bert_config(), add_pooling_layer=False), BertModel(tiny_bert_config()).state_dict())
""",
    ),
]

#: Fixtures copied verbatim from tests/fixtures/logs (generated by scripts/fixture_logs/generate.py).
# Triage's own entries (issue 9): the unexplained-error fallback and the strict-load fold.
CASES += [
    (
        "OT100",
        "hit",
        "numpy-reshape-valueerror",
        r"""
import numpy as np
np.reshape(np.zeros(6), (4,))
""",
    ),
    (
        "OT100",
        "hit",
        "torch-load-missing-file",
        r"""
torch.load("no-such-checkpoint.pth", map_location="cpu")
""",
    ),
    (
        "OT100",
        "miss",
        "numpy-runtime-warning-only",
        r"""
import warnings
import numpy as np
warnings.simplefilter("always")
print(np.array([1.0]) / 0)
""",
    ),
    (
        "OT100",
        "miss",
        "torch-dataparallel-prefix-explained",
        r"""
strict(Net(), nn.DataParallel(Net()).state_dict())
""",
    ),
    (
        "OT101",
        "miss",
        "torch-strict-load-with-keys",
        r"""
strict(Net(), nn.DataParallel(Net()).state_dict())
""",
    ),
]


# Issue 9 / issue 10 families 4-6 (SD153-SD156): one CLIP tower, SD 1.x vs 2.x layout,
# InstanceNorm running stats, a missing checkpoint container.
_CLIP = r"""
from transformers import CLIPConfig, CLIPModel, CLIPTextModel, CLIPVisionModel
from transformers.utils import logging as hf_logging
hf_logging.set_verbosity_warning()
def tiny_clip():
    return CLIPConfig(
        text_config=dict(vocab_size=64, hidden_size=8, intermediate_size=16, num_hidden_layers=1,
                         num_attention_heads=2, max_position_embeddings=16),
        vision_config=dict(hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2,
                           image_size=8, patch_size=4),
        projection_dim=8,
    )
"""
_SD_UNET = r"""
class SpatialTransformer(nn.Module):
    def __init__(self, ch, context, linear):
        super().__init__()
        self.proj_in = nn.Linear(ch, ch) if linear else nn.Conv2d(ch, ch, 1)
        self.transformer_blocks = nn.ModuleList([nn.Module()])
        blk = self.transformer_blocks[0]
        blk.attn2 = nn.Module()
        blk.attn2.to_q = nn.Linear(ch, ch, bias=False)
        blk.attn2.to_k = nn.Linear(context, ch, bias=False)
        blk.attn2.to_v = nn.Linear(context, ch, bias=False)
        self.proj_out = nn.Linear(ch, ch) if linear else nn.Conv2d(ch, ch, 1)

class UNet(nn.Module):
    # the layout of ldm's openaimodel.UNetModel keys: input_blocks.N.1 is a SpatialTransformer
    def __init__(self, context, linear, ch=8):
        super().__init__()
        self.input_blocks = nn.ModuleList([nn.Sequential(nn.Conv2d(4, ch, 3, padding=1))])
        block = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), SpatialTransformer(ch, context, linear))
        self.input_blocks.append(block)

class LatentDiffusion(nn.Module):
    def __init__(self, context, linear):
        super().__init__()
        self.model = nn.Module()
        self.model.diffusion_model = UNet(context, linear)
"""
CASES += [
    (
        "SD153",
        "hit",
        "transformers-clip-text-from-full-clip",
        _CLIP
        + r"""
CLIPModel(tiny_clip()).save_pretrained("clip-full")
CLIPTextModel.from_pretrained("clip-full")
""",
    ),
    (
        "SD153",
        "miss",
        "transformers-clip-full-from-text-only",
        _CLIP
        + r"""
CLIPTextModel(tiny_clip().text_config).save_pretrained("clip-text")
CLIPModel.from_pretrained("clip-text", config=tiny_clip())
""",
    ),
    (
        "SD154",
        "hit",
        "torch-sd2-weights-sd1-config",
        _SD_UNET
        + r"""
strict(LatentDiffusion(context=768, linear=False), LatentDiffusion(context=1024, linear=True).state_dict())
""",
    ),
    (
        "SD154",
        "miss",
        "torch-proj-in-outside-unet",
        r"""
class Adapter(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj_in = nn.Linear(dim, 8)
strict(Adapter(16), Adapter(32).state_dict())
""",
    ),
    (
        "SD155",
        "hit",
        "torch-instancenorm-old-running-stats",
        r"""
class Style(nn.Module):
    def __init__(self, track):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.norm = nn.InstanceNorm2d(4, affine=True, track_running_stats=track)
# dict() drops the state dict's _metadata: the checkpoint then reads as saved before torch 0.4
strict(Style(track=False), dict(Style(track=True).state_dict()))
""",
    ),
    (
        "SD155",
        "miss",
        "torch-batchnorm-running-stats-unexpected",
        r"""
class Net2(nn.Module):
    def __init__(self, bn):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        if bn:
            self.norm = nn.BatchNorm2d(4)
strict(Net2(bn=False), Net2(bn=True).state_dict())
""",
    ),
    (
        "SD156",
        "hit",
        "torch-load-params-key",
        r"""
torch.save(Net().state_dict(), "EDVR_old.pth")
load_net = torch.load("EDVR_old.pth", map_location="cpu")
load_net = load_net["params"]  # BasicSR's load_network(param_key="params")
""",
    ),
    (
        "SD156",
        "miss",
        "torch-load-layer-key",
        r"""
torch.save(Net().state_dict(), "old_arch.pth")
sd = torch.load("old_arch.pth", map_location="cpu")
print(sd["model.0.weight"].shape)  # an old architecture's key read directly
""",
    ),
]


CASES += [
    (
        "SD157",
        "hit",
        "torch-backbone-from-classifier-checkpoint",
        r"""
strict(Net(head=None), Net(head="classifier").state_dict())
""",
    ),
    (
        "SD157",
        "miss",
        "torch-classifier-renamed",
        r"""
strict(Net(head="classifier"), Net(head="fc").state_dict())
""",
    ),
]


CASES += [
    (
        "SD120",
        "hit",
        "transformers-custom-task-layers",
        r"""
from transformers import BertModel, BertPreTrainedModel
from transformers.utils import logging as hf_logging
hf_logging.set_verbosity_warning()

class BertForRanking(BertPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.bert = BertModel(config)
        self.rank_dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.rank_affine = nn.Linear(config.hidden_size, 1)
        self.post_init()

BertModel(tiny_bert_config()).save_pretrained("bert-base")
BertForRanking.from_pretrained("bert-base")
""",
    ),
]


CASES += [
    (
        "SD157",
        "hit",
        "torch-efficientnet-names-features-only",
        r"""
class EffNet(nn.Module):
    # timm's EfficientNet names; the features_only model has no conv_head / bn2 / classifier
    def __init__(self, features_only):
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 8, 3)
        self.bn1 = nn.BatchNorm2d(8)
        self.blocks = nn.Sequential(nn.Conv2d(8, 8, 3))
        if not features_only:
            self.conv_head = nn.Conv2d(8, 16, 1)
            self.bn2 = nn.BatchNorm2d(16)
            self.classifier = nn.Linear(16, 10)
strict(EffNet(features_only=True), EffNet(features_only=False).state_dict())
""",
    ),
]


CASES += [
    (
        "OT100",
        "hit",
        "torch-view-error-in-a-log-line",
        r"""
# a loader that logs the failure instead of raising (VMamba-style "Failed loading checkpoint from ...: {e}")
import logging
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
try:
    torch.zeros(18432).view(96, 96)
except RuntimeError as exc:
    logging.getLogger("ckpt").error(f"Failed loading checkpoint from vssm_tiny.pth: {exc}")
""",
    ),
]


COPIES: list[tuple[str, str, str]] = [
    ("SD101", "hit", "mmengine-gdino-keys.log"),
    ("SD101", "hit", "mmengine-gdino-keys-strict.log"),
]


def versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return f"python {platform.python_version()}; " + ", ".join(found)


def run_case(entry: str, kind: str, slug: str, code: str) -> tuple[Path, int]:
    work = WORK / f"{entry}-{kind}-{slug}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    script = work / "case.py"
    script.write_text(LIB + code)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    env.update({"PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1", "LANG": "C.UTF-8", "NO_COLOR": "1"})
    proc = subprocess.run(
        [sys.executable, "case.py"],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=600,
        check=False,
    )
    target = OUT / entry / f"{kind}-{slug}.log"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(proc.stdout)
    return target, proc.returncode


def main(argv: list[str]) -> int:
    wanted = set(argv)
    sources: dict[str, list[str]] = {}
    stamp = f"generated {_dt.date.today().isoformat()} by scripts/fixture_logs/sd_cases.py; {versions()}"
    for entry, kind, slug, code in CASES:
        if wanted and entry not in wanted:
            continue
        target, code_rc = run_case(entry, kind, slug, code)
        sources.setdefault(entry, []).append(
            f"{target.name}: case {slug!r} in scripts/fixture_logs/sd_cases.py (exit {code_rc}); {stamp}"
        )
        print(f"{entry} {kind:4s} {slug} -> exit {code_rc}")
    manifest = REPO / "tests" / "fixtures" / "logs"
    for entry, kind, name in COPIES:
        if wanted and entry not in wanted:
            continue
        source = manifest / name
        if not source.exists():
            print(f"{entry}: {source} not generated yet; skipped")
            continue
        target = OUT / entry / f"{kind}-{name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        sources.setdefault(entry, []).append(
            f"{target.name}: verbatim copy of tests/fixtures/logs/{name} (see tests/fixtures/logs/MANIFEST.toml)"
        )
    for entry, lines in sources.items():
        (OUT / entry / "SOURCE.txt").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
