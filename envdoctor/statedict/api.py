"""The state-dict API: explain a load before (or after) it happens.

:func:`explain_load` compares ``model.state_dict()`` with a checkpoint the way
``load_state_dict`` does (unexpected = checkpoint keys the model lacks, missing = the
reverse, size mismatch = same key, other shape) without calling it, so the user's model is
never touched. :func:`explain_incompatible` explains torch's ``_IncompatibleKeys``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from envdoctor.errors import BadInputError
from envdoctor.model import Finding, KeyReport
from envdoctor.statedict.analyze import analyze_keys
from envdoctor.statedict.load import checkpoint_shapes, installed_facts, model_shapes, report_from_key_sets

if TYPE_CHECKING:
    from envdoctor.kb.loader import KnowledgeBase

__all__ = ["explain_incompatible", "explain_load"]


def explain_load(
    model: Any, checkpoint: Any, *, knowledge: KnowledgeBase | None = None, facts: Mapping[str, Any] | None = None
) -> list[Finding]:
    """Explain loading ``checkpoint`` (state dict, path, or read Checkpoint) into ``model``.

    Compares keys and shapes only; never calls ``load_state_dict`` and never mutates ``model``.
    """
    model_side = model_shapes(model)
    ckpt_shapes, name = checkpoint_shapes(checkpoint)
    report = report_from_key_sets(
        ckpt_shapes, model_side, source="explain_load", checkpoint_name=name, model_name=type(model).__name__
    )
    return analyze_keys(report, facts={**installed_facts(), **(facts or {})}, knowledge=knowledge)


def explain_incompatible(
    result: Any, *, model: Any = None, knowledge: KnowledgeBase | None = None, facts: Mapping[str, Any] | None = None
) -> list[Finding]:
    """Explain what ``load_state_dict(..., strict=False)`` returned (``missing_keys``/``unexpected_keys``).

    With ``model``, its key set and shapes are used too (the checkpoint's are unknown).
    """
    try:
        missing = tuple(str(k) for k in result.missing_keys)
        unexpected = tuple(str(k) for k in result.unexpected_keys)
    except AttributeError as exc:
        raise BadInputError(f"{type(result).__name__} has no missing_keys/unexpected_keys") from exc
    model_known: dict[str, tuple[int, ...]] = {}
    model_keys: tuple[str, ...] | None = None
    model_name = None
    if model is not None:
        shapes = model_shapes(model)
        model_keys = tuple(shapes)
        model_known = {k: v for k, v in shapes.items() if v is not None}
        model_name = type(model).__name__
    report = KeyReport(
        source="load_state_dict",
        unexpected=unexpected,
        missing=missing,
        model_keys=model_keys,
        model_shapes=model_known,
        model_name=model_name,
    )
    return analyze_keys(report, facts={**installed_facts(), **(facts or {})}, knowledge=knowledge)
