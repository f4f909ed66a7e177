"""Decode what a shape mismatch means: class count, vocabulary, position grid, hidden size.

The numbers in ``size mismatch for pos_embed: ... torch.Size([1, 197, 768]) ... torch.Size([1,
257, 768])`` say which setting differs between the run that saved the weights and the model
now: 197 = 14 x 14 patches + 1 class token (224 px at patch 16), 257 = 16 x 16 + 1 (256 px).
These functions compute such values; the wording lives in the knowledge entries.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from envdoctor.model import ShapeMismatch

__all__ = [
    "Grid",
    "PATCH_EMBED_SUFFIXES",
    "decode_grid",
    "patch_size_from_shapes",
    "differing_dims",
    "count_change",
    "dominant_width_change",
    "shape_mismatch",
    "shape_text",
]

#: Keys whose weight is the patch-embedding convolution ``(dim, channels, p, p)``.
PATCH_EMBED_SUFFIXES = (
    "patch_embed.proj.weight",
    "patch_embed.projection.weight",
    "patch_embeddings.projection.weight",
    "conv_proj.weight",
)

#: Extra (non-patch) tokens tried when decoding a token count: class token first, then none,
#: class + distillation token (DeiT), class + 4 registers (DINOv2-reg), 4 registers.
_EXTRA_TOKENS = (1, 0, 2, 5, 4)


@dataclass(frozen=True)
class Grid:
    """A token count decoded as ``side * side`` patches plus ``extra`` tokens."""

    tokens: int
    side: int
    extra: int
    dim: int | None = None
    patch: int | None = None

    @property
    def patches(self) -> int:
        return self.side * self.side

    @property
    def image(self) -> int | None:
        return None if self.patch is None else self.side * self.patch


def shape_text(shape: Sequence[int] | None) -> str:
    """``(1, 197, 768)``, or ``?`` for an unknown shape."""
    return "?" if shape is None else "(" + ", ".join(str(d) for d in shape) + ")"


def _square(n: int) -> int | None:
    if n <= 0:
        return None
    root = math.isqrt(n)
    return root if root * root == n else None


def decode_grid(
    tokens: int, *, dim: int | None = None, patch: int | None = None, prefer_extra: int | None = None
) -> Grid | None:
    """``tokens`` as a square grid plus extra tokens, or ``None`` when no split fits."""
    order = _EXTRA_TOKENS if prefer_extra is None else (prefer_extra, *_EXTRA_TOKENS)
    for extra in order:
        side = _square(tokens - extra)
        if side is not None and side > 1:
            return Grid(tokens, side, extra, dim, patch)
    return None


def token_count(shape: Sequence[int]) -> tuple[int, int | None] | None:
    """(tokens, dim) of a position embedding shaped ``(1, N, D)`` or ``(N, D)``."""
    if len(shape) == 3 and shape[0] == 1:
        return shape[1], shape[2]
    if len(shape) == 2:
        return shape[0], shape[1]
    return None


def patch_size_from_shapes(*shape_maps: Mapping[str, tuple[int, ...]]) -> int | None:
    """The patch size from a patch-embedding conv weight ``(D, C, p, p)`` in any shape map."""
    for shapes in shape_maps:
        for key, shape in shapes.items():
            if key.endswith(PATCH_EMBED_SUFFIXES) and len(shape) == 4 and shape[2] == shape[3]:
                return shape[2]
    return None


def shape_mismatch(
    key: str, checkpoint_shape: Sequence[int] | None, model_shape: Sequence[int] | None
) -> ShapeMismatch | None:
    """The mismatch of ``key`` when both shapes are known and differ, else ``None``."""
    if checkpoint_shape is None or model_shape is None or tuple(checkpoint_shape) == tuple(model_shape):
        return None
    return ShapeMismatch(key, tuple(checkpoint_shape), tuple(model_shape))


def differing_dims(mismatch: ShapeMismatch) -> list[tuple[int, int, int]]:
    """(axis, checkpoint size, model size) for each axis that differs (same rank only)."""
    a, b = mismatch.checkpoint_shape, mismatch.model_shape
    if a is None or b is None or len(a) != len(b):
        return []
    return [(axis, x, y) for axis, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]


def count_change(mismatch: ShapeMismatch) -> tuple[int, int] | None:
    """The (checkpoint, model) size of a head's output axis: the first axis if it differs, else the last."""
    dims = differing_dims(mismatch)
    if not dims:
        return None
    first = [d for d in dims if d[0] == 0]
    chosen = first[0] if first else dims[-1]
    return chosen[1], chosen[2]


def dominant_width_change(mismatches: Sequence[ShapeMismatch]) -> tuple[int, int, int] | None:
    """The (checkpoint, model, count) width pair shared by most mismatches, if most share one.

    Projections scale with the width (qkv is 3x, the MLP 4x), so each key votes for its
    smallest differing pair.
    """
    votes: Counter[tuple[int, int]] = Counter()
    for mismatch in mismatches:
        dims = differing_dims(mismatch)
        if dims:
            pair = min(((x, y) for _, x, y in dims), key=lambda p: min(p))
            votes[pair] += 1
    if not votes:
        return None
    (old, new), count = votes.most_common(1)[0]
    if count * 2 <= len(mismatches) and len(mismatches) > 1:
        return None
    return old, new, count
