"""Build key reports from live objects and files: a torch module, a state dict, a checkpoint, a key list.

Torch is never imported here: modules and tensors are duck-typed (``state_dict()``, ``.shape``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envdoctor.errors import BadInputError
from envdoctor.model import KeyReport
from envdoctor.statedict.shapes import shape_mismatch

if TYPE_CHECKING:
    from envdoctor.ckpt.model import Checkpoint

__all__ = [
    "KeyShapes",
    "report_from_key_sets",
    "shapes_of_state_dict",
    "shapes_of_checkpoint",
    "parse_expected_keys",
    "installed_facts",
    "model_shapes",
    "checkpoint_shapes",
]

KeyShapes = Mapping[str, "tuple[int, ...] | None"]

#: Distributions whose versions entries' notes may name (``dist.transformers``...).
_FACT_DISTRIBUTIONS = ("torch", "transformers", "tokenizers", "mmengine", "mmdet", "mmpretrain", "timm")


def report_from_key_sets(
    checkpoint: KeyShapes,
    model: KeyShapes,
    *,
    source: str = "comparison",
    checkpoint_name: str | None = None,
    model_name: str | None = None,
) -> KeyReport:
    """The report ``load_state_dict(checkpoint)`` would produce on ``model`` (keys in file order)."""
    model_keys = set(model)
    checkpoint_keys = set(checkpoint)
    mismatched = []
    for key, shape in checkpoint.items():
        mismatch = shape_mismatch(key, shape, model.get(key)) if key in model_keys else None
        if mismatch is not None:
            mismatched.append(mismatch)
    return KeyReport(
        source=source,
        unexpected=tuple(k for k in checkpoint if k not in model_keys),
        missing=tuple(k for k in model if k not in checkpoint_keys),
        mismatched=tuple(mismatched),
        checkpoint_keys=tuple(checkpoint),
        model_keys=tuple(model),
        checkpoint_shapes={k: tuple(v) for k, v in checkpoint.items() if v is not None},
        model_shapes={k: tuple(v) for k, v in model.items() if v is not None},
        checkpoint_name=checkpoint_name,
        model_name=model_name,
    )


def _shape(value: Any) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)
    if shape is None:
        return None
    try:
        return tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        return None


def shapes_of_state_dict(state_dict: Mapping[Any, Any]) -> dict[str, tuple[int, ...] | None]:
    """Key -> shape of a state dict; values without a shape (``epoch``, nested dicts) map to ``None``."""
    return {str(k): _shape(v) for k, v in state_dict.items()}


def shapes_of_checkpoint(checkpoint: Checkpoint) -> dict[str, tuple[int, ...] | None]:
    """Key -> shape of the state dict the checkpoint reader chose."""
    return {t.name: t.shape for t in checkpoint.tensors}


def parse_expected_keys(text: str, *, source: str = "<keys>") -> dict[str, tuple[int, ...] | None]:
    """Read a key list: one key per line, optionally a shape (``w 2304,768`` or ``w (2304, 768)``).

    Blank lines and ``#`` comments are skipped; any other line raises :class:`BadInputError`.
    """
    from envdoctor.ckpt.key_list import parse_key_list  # linear time, bounded lines (issue 15)

    return parse_key_list(text, source=source)


def installed_facts() -> dict[str, Any]:
    """``dist.<name>`` versions of the libraries whose behaviour the SD entries describe."""
    facts: dict[str, Any] = {}
    for name in _FACT_DISTRIBUTIONS:
        try:
            facts[f"dist.{name}"] = metadata.version(name)
        except metadata.PackageNotFoundError:
            facts[f"dist.{name}"] = None
    return facts


def model_shapes(model: Any) -> dict[str, tuple[int, ...] | None]:
    state_dict = getattr(model, "state_dict", None)
    if not callable(state_dict):
        raise BadInputError(f"{type(model).__name__} has no state_dict(); pass a torch.nn.Module")
    return shapes_of_state_dict(state_dict())


def checkpoint_shapes(checkpoint: Any) -> tuple[dict[str, tuple[int, ...] | None], str | None]:
    if isinstance(checkpoint, (str, os.PathLike)):
        from envdoctor.ckpt import read_checkpoint

        read = read_checkpoint(Path(checkpoint))
        return shapes_of_checkpoint(read), str(checkpoint)
    if isinstance(checkpoint, Mapping):
        return shapes_of_state_dict(checkpoint), None
    tensors = getattr(checkpoint, "tensors", None)
    if tensors is not None:
        return {t.name: t.shape for t in tensors}, getattr(checkpoint, "path", None)
    raise BadInputError(f"cannot read keys from {type(checkpoint).__name__}; pass a state dict or a path")
