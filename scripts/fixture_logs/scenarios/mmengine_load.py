"""mmengine checkpoint loading with mismatching keys. Usage: python mmengine_load.py CASE

gdino-keys: Grounding-DINO-shaped model (7 cls_branches with log_scale, a
dn_query_generator, a BERT language backbone built with add_pooling_layer=False)
loading a checkpoint from the other variant (no log_scale, no dn_query_generator,
a BERT pooler and a persistent embeddings.position_ids buffer).
"""
import sys

import torch
import torch.nn as nn
from mmengine.runner.checkpoint import load_checkpoint, load_state_dict
from transformers import BertConfig, BertModel
from transformers.utils import logging as hf_logging

BERT_CFG = dict(vocab_size=64, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                intermediate_size=37, max_position_embeddings=64)


class ContrastiveEmbed(nn.Module):
    def __init__(self, log_scale):
        super().__init__()
        if log_scale:
            self.log_scale = nn.Parameter(torch.Tensor([0.0]))
        self.bias = nn.Parameter(torch.Tensor([0.0]))


class BboxHead(nn.Module):
    def __init__(self, log_scale):
        super().__init__()
        self.cls_branches = nn.ModuleList([ContrastiveEmbed(log_scale) for _ in range(7)])
        self.reg_branches = nn.ModuleList([nn.Linear(32, 4) for _ in range(7)])


class DnQueryGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.label_embedding = nn.Embedding(256, 32)


class Body(nn.Module):
    def __init__(self, pooler):
        super().__init__()
        self.model = BertModel(BertConfig(**BERT_CFG), add_pooling_layer=pooler)


class LanguageBackbone(nn.Module):
    def __init__(self, pooler):
        super().__init__()
        self.body = Body(pooler)


class LanguageModel(nn.Module):
    def __init__(self, pooler):
        super().__init__()
        self.language_backbone = LanguageBackbone(pooler)


class GroundingDINO(nn.Module):
    def __init__(self, new_variant=True, num_classes=4):
        super().__init__()
        self.backbone = nn.Conv2d(3, 32, 4, 4)
        self.language_model = LanguageModel(pooler=not new_variant)
        self.bbox_head = BboxHead(log_scale=new_variant)
        if new_variant:
            self.dn_query_generator = DnQueryGenerator()
        self.query_embedding = nn.Embedding(900, 32)
        self.class_embed = nn.Linear(32, num_classes)


def old_checkpoint(num_classes=4):
    sd = GroundingDINO(new_variant=False, num_classes=num_classes).state_dict()
    # checkpoints written with transformers<4.31 also carry the persistent buffer
    sd["language_model.language_backbone.body.model.embeddings.position_ids"] = \
        torch.arange(BERT_CFG["max_position_embeddings"]).expand((1, -1))
    return {"meta": {"epoch": 12}, "state_dict": sd}


hf_logging.set_verbosity_error()  # model construction is not what this fixture shows
case = sys.argv[1]
if case == "gdino-keys":
    torch.save(old_checkpoint(), "groundingdino_swint_ogc_mmdet.pth")
    model = GroundingDINO(new_variant=True)
    load_checkpoint(model, "groundingdino_swint_ogc_mmdet.pth", map_location="cpu",
                    strict=False, logger="current")
elif case == "gdino-keys-strict":
    torch.save(old_checkpoint(), "groundingdino_swint_ogc_mmdet.pth")
    model = GroundingDINO(new_variant=True)
    load_checkpoint(model, "groundingdino_swint_ogc_mmdet.pth", map_location="cpu",
                    strict=True, logger="current")
elif case == "size-mismatch":
    ckpt = old_checkpoint(num_classes=80)
    model = GroundingDINO(new_variant=False, num_classes=4)
    load_state_dict(model, ckpt["state_dict"], strict=False, logger="current")
elif case == "size-mismatch-strict":
    ckpt = old_checkpoint(num_classes=80)
    model = GroundingDINO(new_variant=False, num_classes=4)
    load_state_dict(model, ckpt["state_dict"], strict=True, logger="current")
else:
    raise SystemExit(f"unknown case {case}")
