"""Shared helpers for the checkpoint-reader tests: small real models and inventory comparisons."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from envdoctor.ckpt import TensorInfo

Inventory = dict[str, tuple[tuple[int, ...], str]]


def torch_inventory(state: Mapping[str, Any]) -> Inventory:
    """What torch reports for a state dict: name -> (shape, dtype without ``torch.``)."""
    return {
        name: (tuple(value.shape), str(value.dtype).removeprefix("torch."))
        for name, value in state.items()
        if isinstance(value, torch.Tensor)
    }


def read_inventory(tensors: tuple[TensorInfo, ...]) -> Inventory:
    """The same mapping built from what the reader found."""
    result: Inventory = {}
    for tensor in tensors:
        assert tensor.shape is not None and tensor.dtype is not None, tensor
        result[tensor.name] = (tensor.shape, tensor.dtype)
    return result


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Sanity guard: the block must finish within ``seconds`` of wall time."""
    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    assert elapsed < seconds, f"took {elapsed:.2f}s, more than {seconds}s"


class Block(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 2), nn.GELU(), nn.Linear(dim * 2, dim))


class TinyViT(nn.Module):
    """A ViT-shaped module: patch embedding, cls token, position embedding, blocks, head."""

    def __init__(self, dim: int = 16, depth: int = 2, patch: int = 4, image: int = 16, classes: int = 10) -> None:
        super().__init__()
        grid = image // patch
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, grid * grid + 1, dim))
        self.blocks = nn.ModuleList(Block(dim) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)
        self.bn = nn.BatchNorm1d(dim)  # buffers: running_mean/var and an int64 counter


class TinyMAE(nn.Module):
    """MAE pretraining layout: an encoder plus decoder_* modules and a mask token."""

    def __init__(self, dim: int = 16, decoder_dim: int = 8) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, 4, 4)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 17, dim), requires_grad=False)
        self.blocks = nn.ModuleList(Block(dim) for _ in range(2))
        self.norm = nn.LayerNorm(dim)
        self.decoder_embed = nn.Linear(dim, decoder_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_dim))
        self.decoder_pos_embed = nn.Parameter(torch.zeros(1, 17, decoder_dim), requires_grad=False)
        self.decoder_blocks = nn.ModuleList(Block(decoder_dim) for _ in range(1))
        self.decoder_norm = nn.LayerNorm(decoder_dim)
        self.decoder_pred = nn.Linear(decoder_dim, 4 * 4 * 3)


def trained_optimizer(model: nn.Module) -> torch.optim.Optimizer:
    """An AdamW that has taken one step, so its state holds exp_avg/exp_avg_sq tensors."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for parameter in model.parameters():
        parameter.grad = torch.ones_like(parameter)
    optimizer.step()
    return optimizer
