"""Explain a state-dict key difference group by group, as a maintainer would.

:func:`analyze_keys` takes one :class:`~envdoctor.model.KeyReport` (parsed from a log, or
computed by comparing two key sets) and returns one finding per explanation, each built
from an SD1xx knowledge entry (text in TOML, numbers computed here). Keys are claimed in
this order, each key by the first analysis that explains it:

1. a training dict passed as a state dict (``state_dict``/``optimizer``/``epoch`` keys);
2. prefix renames (``module.``, ``_orig_mod.``, ``backbone.``...), with the exact rename;
3. shape mismatches, decoded (classes, vocabulary, position grid, hidden size, other);
4. tied output embeddings (``lm_head.weight`` missing);
5. key-pattern entries: buffers whose persistence changed, unused weights, task heads;
6. a config/weights mismatch: a leaf repeated across a module list, plus what remains;
7. whatever is left: one "unexplained keys" finding, never dropped silently.

The returned list is ordered for reading, not by claim order: non-benign first (config
mismatch, wrapped checkpoint, prefix, shape, new head, unexplained), then benign (buffer
drift, unused weights, tied weights); ties by the entry's ``priority``, then id. The triage
orchestrator keeps this order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from envdoctor.kb.checks import finding_from_entry
from envdoctor.kb.conditions import fill
from envdoctor.kb.entry import Entry
from envdoctor.kb.loader import KnowledgeBase, load_knowledge, load_ordering
from envdoctor.model import Evidence, Finding, KeyReport, ShapeMismatch
from envdoctor.statedict.load import report_from_key_sets
from envdoctor.statedict.names import collapse_keys
from envdoctor.statedict.prefix import find_renames, rename_code, rename_regex
from envdoctor.statedict.shapes import (
    count_change,
    decode_grid,
    differing_dims,
    dominant_width_change,
    patch_size_from_shapes,
    shape_mismatch,
    shape_text,
    token_count,
)
from envdoctor.statedict.variants import find_variant_runs, submodules

__all__ = [
    "analyze_keys",
    "report_from_key_sets",
    "state_dict_entries",
]

_SIDE_LABEL = {"missing": "missing", "unexpected": "unexpected", "mismatch": "size mismatch"}
_EVIDENCE_SIDES = ("missing", "unexpected", "mismatch")


@dataclass
class _Group:
    entry: Entry
    keys: dict[str, list[str]] = field(default_factory=lambda: {"missing": [], "unexpected": [], "mismatch": []})
    details: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    evidence_first: list[Evidence] = field(default_factory=list)
    keys_in_evidence: bool = True

    def count(self) -> int:
        return sum(len(v) for v in self.keys.values())


@dataclass
class _State:
    report: KeyReport
    unexpected: dict[str, None]
    missing: dict[str, None]
    mismatched: dict[str, ShapeMismatch]
    groups: list[_Group] = field(default_factory=list)

    all_mismatches: dict[str, ShapeMismatch] = field(default_factory=dict)

    def claim(self, group: _Group, side: str, keys: Iterable[str]) -> None:
        pool: dict[str, Any]
        if side == "unexpected":
            pool = self.unexpected
        elif side == "missing":
            pool = self.missing
        else:
            pool = self.mismatched
        for key in keys:
            if key in pool:
                del pool[key]
                group.keys[side].append(key)


def state_dict_entries(knowledge: KnowledgeBase) -> list[Entry]:
    """Entries that recognise state-dict keys, in claim order (priority, then id)."""
    entries = [e for e in knowledge.entries if e.keys is not None]
    return sorted(entries, key=lambda e: (e.priority, e.id))


def _matches(entry: Entry, key: str) -> bool:
    assert entry.keys is not None
    return any(p.search(key) for p in entry.keys.patterns)


def _sibling_on_side(entry: Entry, key: str, pool: Mapping[str, Any]) -> bool:
    """Whether a sibling named in ``unless_siblings`` differs on the same side as ``key``."""
    assert entry.keys is not None
    module = key.rpartition(".")[0]
    return any((f"{module}.{leaf}" if module else leaf) in pool for leaf in entry.keys.unless_siblings)


def _sides(entry: Entry) -> tuple[str, ...]:
    assert entry.keys is not None
    side = entry.keys.side
    return ("unexpected", "missing") if side == "any" else (side,)


# --------------------------------------------------------------------------- analyses


def _wrapped(state: _State, entries: list[Entry]) -> None:
    top_level = [k for k in state.unexpected if "." not in k]
    for entry in entries:
        assert entry.keys is not None
        if entry.keys.analyzer != "wrapped" or not top_level:
            continue
        known = set(entry.keys.top_level_keys) if entry.keys else set()
        containers = list(entry.keys.containers) if entry.keys else []
        found = [k for k in top_level if k in known]
        holders = [c for c in containers if c in found]
        if not holders and len(found) < 2:
            continue
        container = holders[0] if holders else containers[0] if containers else "state_dict"
        group = _Group(entry)
        state.claim(group, "unexpected", found)
        state.claim(group, "unexpected", [k for k in list(state.unexpected) if k.startswith(container + ".")])
        state.claim(group, "missing", list(state.missing))
        group.values.update({"wrapped.container": container, "wrapped.keys": tuple(found)})
        group.details.update({"container": container, "top_level_keys": found, "unwrap": f'sd = ckpt["{container}"]'})
        state.groups.append(group)
        return


def _prefix_entry(entries: list[Entry], old: str, new: str) -> Entry | None:
    generic: Entry | None = None
    for entry in entries:
        assert entry.keys is not None
        if entry.keys.analyzer not in ("prefix", "wrapped"):
            continue
        prefixes = entry.keys.prefixes if entry.keys else ()
        if prefixes and (old in prefixes or new in prefixes):
            return entry
        if not prefixes and entry.keys.analyzer == "prefix" and generic is None:
            generic = entry
    return generic


def _renames(state: _State, entries: list[Entry]) -> None:
    report = state.report
    renames = find_renames(list(state.unexpected), list(state.missing))
    made: list[_Group] = []
    for rename in renames:
        entry = _prefix_entry(entries, rename.old, rename.new)
        if entry is None:
            continue
        group = _Group(entry)
        sources = [s for s, _ in rename.pairs]
        targets = [t for _, t in rename.pairs]
        state.claim(group, "unexpected", sources)
        state.claim(group, "missing", targets)
        lines = report.lines
        group.evidence_first = [
            Evidence(f"renamed: {source} -> {target}", lines.get(source, lines.get(target)), report.source)
            for source, target in rename.pairs
        ]
        group.keys_in_evidence = False
        changed_shape = []
        for source, target in rename.pairs:
            mismatch = shape_mismatch(target, report.checkpoint_shapes.get(source), report.model_shapes.get(target))
            if mismatch is not None:
                changed_shape.append(target)
                state.mismatched[target] = mismatch
        shown_old = rename.old or "(nothing)"
        shown_new = rename.new or "(nothing)"
        container = rename.old.rstrip(".") or rename.new.rstrip(".")
        group.values.update(
            {
                "rename.from": rename.old,
                "rename.to": rename.new,
                "rename.from_shown": shown_old,
                "rename.to_shown": shown_new,
                "rename.from_regex": rename_regex(rename.old),
                "rename.code": rename_code(rename.old, rename.new),
                "rename.count": rename.count,
                "wrapped.container": container,
            }
        )
        group.details.update(
            {
                "rename": {"from": rename.old, "to": rename.new},
                "renamed": rename.count,
                "pairs_sample": [list(p) for p in rename.pairs[:5]],
                "shape_changes_after_rename": changed_shape,
            }
        )
        if entry.keys is not None and entry.keys.analyzer == "wrapped":
            group.details.update({"container": container, "unwrap": f'sd = ckpt["{container}"]'})
        state.groups.append(group)
        made.append(group)
    for group in made:
        remaining = {"unexpected": len(state.unexpected), "missing": len(state.missing)}
        group.details["remaining"] = remaining
        group.values["rename.remaining_unexpected"] = remaining["unexpected"]
        group.values["rename.remaining_missing"] = remaining["missing"]


#: First components of an image/text encoder's own keys (timm, mmpretrain, torchvision,
#: transformers): unexpected at the top level, they belong under the model's backbone prefix.
_ENCODER_TOP = frozenset(
    {
        "cls_token", "pos_embed", "patch_embed", "blocks", "layers", "stages", "stem", "conv1", "bn1",
        "layer1", "layer2", "layer3", "layer4", "ln1", "fc_norm",
        "downsample_layers", "absolute_pos_embed", "patch_embed1", "dist_token",
    }
)  # fmt: skip


def _rename_group(entry: Entry, old: str, new: str, pairs: list[tuple[str, str]], shown_new: str) -> _Group:
    group = _Group(entry)
    group.values.update(
        {
            "rename.from": old,
            "rename.to": new,
            "rename.from_shown": old or "(nothing)",
            "rename.to_shown": shown_new,
            "rename.from_regex": rename_regex(old),
            "rename.code": rename_code(old, new),
            "rename.count": len(pairs),
            "wrapped.container": old.rstrip(".") or new.rstrip("."),
        }
    )
    group.details.update({"rename": {"from": old, "to": new}, "renamed": len(pairs), "one_sided": True})
    return group


def _lone_prefix(state: _State, entries: list[Entry]) -> None:
    """Prefixes shown on one side only: a list cut short, or one side left out of the paste.

    One ``module.`` / ``_orig_mod.`` key is enough to name the wrapper, with its exact
    rename; an encoder's own keys (``cls_token``, ``patch_embed.*``, ``layers.N.*``)
    unexpected at the top level mean the model holds them under a prefix (its missing keys
    name it, when shown). Keys on the other side are claimed with them: they are the same
    weights under the other names.
    """
    prefix_entries = [e for e in entries if e.keys is not None and e.keys.analyzer == "prefix"]
    explained = [e for e in entries if e.keys is not None and e.keys.analyzer is None and e.keys.patterns]

    def known(key: str) -> bool:  # a buffer or head that a key-pattern entry explains on its own
        return any(_matches(e, key) for e in explained)

    for entry in prefix_entries:
        assert entry.keys is not None
        for prefix in entry.keys.prefixes:
            for side in ("unexpected", "missing"):
                pool = state.unexpected if side == "unexpected" else state.missing
                other = state.missing if side == "unexpected" else state.unexpected
                keys = [k for k in pool if k.startswith(prefix) and not known(k)]
                if not keys or len(keys) * 2 < len(pool) or any(k.startswith(prefix) for k in other):
                    continue
                old, new = (prefix, "") if side == "unexpected" else ("", prefix)
                pairs = [(k, k[len(prefix) :]) if side == "unexpected" else (k[len(prefix) :], k) for k in keys]
                group = _rename_group(entry, old, new, pairs, new or "(nothing)")
                state.claim(group, side, keys)
                state.claim(group, "missing" if side == "unexpected" else "unexpected", list(other))
                group.evidence_first = [
                    Evidence(f"renamed: {a} -> {b}", state.report.lines.get(a if side == "unexpected" else b), None)
                    for a, b in pairs[:5]
                ]
                state.groups.append(group)
    generic = next((e for e in prefix_entries if e.keys is not None and not e.keys.prefixes), None)
    top = [k for k in state.unexpected if k.split(".", 1)[0] in _ENCODER_TOP and not known(k)]
    if generic is None or not top or len(top) * 10 < len(state.unexpected) * 6:
        return
    if not state.missing and len({k.split(".", 1)[0] for k in top}) < 2:
        return  # one module's keys alone (a stray bn1 or conv1.bias) do not make an encoder
    heads = [k.split(".", 1)[0] for k in state.missing if "." in k and k.split(".", 1)[0] not in _ENCODER_TOP]
    if len(heads) < len(state.missing) * 0.6:
        return  # the model's missing keys are top-level too: not a prefix
    new = ""
    if heads:
        counts: dict[str, int] = {}
        for head in heads:
            counts[head] = counts.get(head, 0) + 1
        new = max(counts, key=lambda h: counts[h]) + "."
    pairs = [(k, new + k) for k in top]
    group = _rename_group(generic, "", new, pairs, new or "the model's prefix for its encoder (e.g. `backbone.`)")
    if not new:  # the model's side is not in the paste: the prefix is the user's to fill in
        group.values["rename.to"] = "PREFIX"
        group.values["rename.code"] = (
            "sd = {PREFIX + k: v for k, v in sd.items()}  # PREFIX: the model's attribute that holds the encoder"
        )
    state.claim(group, "unexpected", top)
    state.claim(group, "missing", [k for k in state.missing if k.startswith(new)] if new else [])
    group.details["encoder_at_top_level"] = sorted({k.split(".", 1)[0] for k in top})
    state.groups.append(group)


def _shape_values(
    group: _Group, kind: str, mismatches: list[ShapeMismatch], report: KeyReport, facts: Mapping[str, Any]
) -> None:
    entry = group.entry
    if kind in ("classes", "vocab"):
        counts = [c for c in (count_change(m) for m in mismatches) if c is not None]
        if counts:
            old, new = counts[0]
            known = dict(entry.keys.known_sizes) if entry.keys else {}
            group.values.update(
                {
                    f"{kind}.checkpoint": old,
                    f"{kind}.model": new,
                    f"{kind}.checkpoint_known": known.get(str(old), "no common preset"),
                    f"{kind}.model_known": known.get(str(new), "no common preset"),
                }
            )
            group.details["decoded"] = {
                "checkpoint": old,
                "model": new,
                "checkpoint_known": known.get(str(old)),
                "model_known": known.get(str(new)),
            }
    elif kind == "grid":
        patch = facts.get("model.patch_size")
        if not isinstance(patch, int):
            patch = patch_size_from_shapes(report.model_shapes, report.checkpoint_shapes)
        for mismatch in mismatches:
            if mismatch.checkpoint_shape is None or mismatch.model_shape is None:
                continue
            a, b = token_count(mismatch.checkpoint_shape), token_count(mismatch.model_shape)
            if a is None or b is None:
                continue
            model_grid = decode_grid(b[0], dim=b[1], patch=patch)
            ckpt_grid = decode_grid(a[0], dim=a[1], patch=patch, prefer_extra=model_grid.extra if model_grid else None)
            if ckpt_grid is None or model_grid is None:
                continue
            for side, grid in (("checkpoint", ckpt_grid), ("model", model_grid)):
                group.values.update(
                    {
                        f"grid.{side}_tokens": grid.tokens,
                        f"grid.{side}_side": grid.side,
                        f"grid.{side}_extra": grid.extra,
                        f"grid.{side}_image": grid.image,
                    }
                )
            group.values["grid.patch"] = patch
            group.details["decoded"] = {
                "key": mismatch.key,
                "patch_size": patch,
                "checkpoint": {
                    "tokens": ckpt_grid.tokens,
                    "grid": [ckpt_grid.side, ckpt_grid.side],
                    "extra_tokens": ckpt_grid.extra,
                    "image_size": ckpt_grid.image,
                },
                "model": {
                    "tokens": model_grid.tokens,
                    "grid": [model_grid.side, model_grid.side],
                    "extra_tokens": model_grid.extra,
                    "image_size": model_grid.image,
                },
            }
            if patch is not None and entry.keys is not None and entry.keys.image_note:
                group.notes.append(fill(entry.keys.image_note, {**facts, **group.values}))
            break
    elif kind == "hidden":
        change = dominant_width_change(mismatches)
        if change is not None:
            old, new, _ = change
            known = dict(entry.keys.known_sizes) if entry.keys else {}
            group.values.update(
                {
                    "hidden.checkpoint": old,
                    "hidden.model": new,
                    "hidden.checkpoint_known": known.get(str(old), "no common preset"),
                    "hidden.model_known": known.get(str(new), "no common preset"),
                }
            )
            group.details["decoded"] = {"checkpoint": old, "model": new}
    group.details["mismatches"] = [
        {"key": m.key, "checkpoint": list(m.checkpoint_shape or ()), "model": list(m.model_shape or ())}
        for m in mismatches
    ]


def _shapes(state: _State, entries: list[Entry], facts: Mapping[str, Any]) -> None:
    for entry in entries:
        assert entry.keys is not None
        if entry.keys.analyzer != "shape" or not state.mismatched:
            continue
        kind = entry.keys.shape_kind
        if entry.keys.patterns:
            chosen = [k for k, m in state.mismatched.items() if _matches(entry, k) and _kind_fits(kind, m)]
            if kind == "grid":
                chosen = [k for k in chosen if _grid_changes(state.mismatched[k], state.report, facts)]
        elif kind == "hidden":
            change = dominant_width_change(list(state.mismatched.values()))
            chosen = []
            if change is not None and len(state.mismatched) > 1:
                old, new, _ = change
                chosen = [
                    k
                    for k, m in state.mismatched.items()
                    if any(
                        (x, y) == (old, new) or (x % old == 0 and y % new == 0 and x // old == y // new)
                        for x, y in _pairs(m)
                    )
                ]
        else:
            chosen = list(state.mismatched)
        if kind == "hidden" and len({k.rpartition(".")[0] for k in chosen}) < 2:
            chosen = []  # one layer's weight and bias: a layer setting, not the model's width
        if not chosen:
            continue
        mismatches = [state.mismatched[k] for k in chosen]
        group = _Group(entry)
        state.claim(group, "mismatch", chosen)
        _shape_values(group, kind, mismatches, state.report, facts)
        state.groups.append(group)


def _is_shape(entry: Entry) -> bool:
    return entry.keys is not None and entry.keys.analyzer == "shape"


def _is_generic_shape(entry: Entry) -> bool:
    """The catch-all shape entry (any kind, no key patterns)."""
    return _is_shape(entry) and entry.keys is not None and entry.keys.shape_kind == "any" and not entry.keys.patterns


def _kind_fits(kind: str, mismatch: ShapeMismatch) -> bool:
    """Whether the differing axis is the one the kind decodes (a width change is not a class change)."""
    axes = [axis for axis, _, _ in differing_dims(mismatch)]
    if kind == "classes":
        # a classifier is a Linear (rank <= 2) or a 1x1 conv; EDSR's `head.0` is a 3x3 conv
        # whose output channels are the model width, not classes
        shape = mismatch.model_shape or mismatch.checkpoint_shape or ()
        stem = len(shape) == 4 and shape[1] in (1, 3) and any(d > 1 for d in shape[2:])  # takes the image
        return axes == [0] and not stem
    if kind == "vocab":
        return 0 in axes
    if kind == "grid":
        shape = mismatch.model_shape or ()
        token_axis = 1 if len(shape) == 3 else 0
        return token_axis in axes
    return True


def _grid_changes(mismatch: ShapeMismatch, report: KeyReport, facts: Mapping[str, Any]) -> bool:
    """Whether a position embedding differs in its patch grid (an image size), not only in
    its extra tokens (198 = 196 + 2 vs 197 = 196 + 1 is another token layout, a config
    difference that no image size explains)."""
    if mismatch.checkpoint_shape is None or mismatch.model_shape is None:
        return True
    a, b = token_count(mismatch.checkpoint_shape), token_count(mismatch.model_shape)
    if a is None or b is None:
        return True
    patch = facts.get("model.patch_size")
    if not isinstance(patch, int):
        patch = patch_size_from_shapes(report.model_shapes, report.checkpoint_shapes)
    model_grid = decode_grid(b[0], dim=b[1], patch=patch)
    ckpt_grid = decode_grid(a[0], dim=a[1], patch=patch, prefer_extra=model_grid.extra if model_grid else None)
    if model_grid is None or ckpt_grid is None:
        return True
    return bool(model_grid.side != ckpt_grid.side)


def _pairs(mismatch: ShapeMismatch) -> list[tuple[int, int]]:
    a, b = mismatch.checkpoint_shape, mismatch.model_shape
    if a is None or b is None or len(a) != len(b):
        return []
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


def _tied(state: _State, entries: list[Entry]) -> None:
    ckpt_keys = state.report.checkpoint_keys
    for entry in entries:
        assert entry.keys is not None
        if entry.keys.analyzer != "tied":
            continue
        chosen = [k for k in state.missing if _matches(entry, k)]
        if not chosen:
            continue
        sources = entry.keys.tie_sources if entry.keys else ()
        present: list[str] = []
        if ckpt_keys is not None:
            present = [k for k in ckpt_keys if k.endswith(sources)]
            if not present:
                continue  # nothing in the checkpoint to tie to: not this explanation
        group = _Group(entry)
        state.claim(group, "missing", chosen)
        group.values["tied.source"] = present[0] if present else "the input embedding"
        group.details["tied_to"] = present
        state.groups.append(group)


def _output_note(group: _Group, report: KeyReport, facts: Mapping[str, Any]) -> None:
    template = group.entry.keys.output_note if group.entry.keys else ""
    if not template:
        return
    for shapes in (report.model_shapes, report.checkpoint_shapes):
        for key, shape in shapes.items():
            if not (key == "pos_embed" or key.endswith(".pos_embed")) or key.split(".")[-1].startswith("decoder"):
                continue
            counted = token_count(shape)
            if counted is None:
                continue
            grid = decode_grid(counted[0], dim=counted[1], prefer_extra=1)
            if grid is None:
                continue
            group.values.update(
                {
                    "grid.tokens": grid.tokens,
                    "grid.side": grid.side,
                    "grid.patches": grid.patches,
                    "grid.extra": grid.extra,
                    "grid.dim": grid.dim,
                    "grid.key": key,
                }
            )
            group.details["output"] = {
                "pos_embed": key,
                "tokens": grid.tokens,
                "patches": grid.patches,
                "extra_tokens": grid.extra,
                "raw_shape": ["B", grid.tokens, grid.dim],
                "featmap_shape": ["B", grid.dim, grid.side, grid.side],
            }
            group.notes.append(fill(str(template), {**facts, **group.values}))
            return


def _patterns(state: _State, entries: list[Entry], facts: Mapping[str, Any]) -> None:
    for entry in entries:
        assert entry.keys is not None
        if entry.keys.analyzer is not None or not entry.keys.patterns:
            continue
        group = _Group(entry)
        sides = _sides(entry)
        if entry.category == "state_dict.new_head" and not any(_matches(entry, k) for k in state.missing):
            # no head is missing: the checkpoint's head is merely unused (a later entry says so)
            sides = tuple(side for side in sides if side != "unexpected")
        for side in sides:
            pool = state.unexpected if side == "unexpected" else state.missing
            state.claim(group, side, [k for k in pool if _matches(entry, k) and not _sibling_on_side(entry, k, pool)])
        if not group.count():
            continue
        if entry.category == "state_dict.new_head":
            group.details["new"] = list(group.keys["missing"])
            group.details["dropped"] = list(group.keys["unexpected"])
        _output_note(group, state.report, facts)
        state.groups.append(group)


#: Report formats whose missing keys the library itself calls newly initialised weights.
_NEWLY_INITIALISED = ("transformers2", "transformers4", "transformers5")


def _transformers_new(state: _State, entries: list[Entry]) -> None:
    """transformers' "newly initialized" / "not initialized from pretrained model" keys that no
    pattern named: from_pretrained loads the base model and initialises every other layer of the
    task model afresh, so what remains missing is the task's own new layers (a head under
    another name: ``rank_classifier``, ``qa_affine``), unless a repeated leaf says config variant."""
    if state.report.source not in _NEWLY_INITIALISED or not state.missing:
        return
    if find_variant_runs(state.missing, "missing"):
        return  # every block lacks a parameter: a config variant, not new layers
    entry = next((e for e in entries if e.category == "state_dict.new_head" and e.keys is not None), None)
    if entry is None:
        return
    group = _Group(entry)
    state.claim(group, "missing", list(state.missing))
    group.details["new"] = list(group.keys["missing"])
    group.details["dropped"] = []
    state.groups.append(group)


def _variants(state: _State, entries: list[Entry]) -> None:
    for entry in entries:
        assert entry.keys is not None
        if entry.keys.analyzer != "config-variant":
            continue
        runs = find_variant_runs(state.missing, "missing") + find_variant_runs(state.unexpected, "unexpected")
        if not runs:
            continue
        group = _Group(entry)
        for run in runs:
            state.claim(group, run.side, run.keys)
        rest_missing, rest_unexpected = list(state.missing), list(state.unexpected)
        state.claim(group, "missing", rest_missing)
        state.claim(group, "unexpected", rest_unexpected)
        group.details["variants"] = [
            {"side": r.side, "pattern": r.pattern, "indices": list(r.indices), "keys": list(r.keys)} for r in runs
        ]
        group.details["submodules"] = {"missing": submodules(rest_missing), "unexpected": submodules(rest_unexpected)}
        group.values["variant.patterns"] = tuple(r.pattern for r in runs)
        group.values["variant.submodules"] = tuple(m for m in submodules(rest_missing + rest_unexpected) if m) or (
            "none",
        )
        state.groups.append(group)
        return


def _residual(state: _State, entries: list[Entry]) -> None:
    if not (state.unexpected or state.missing or state.mismatched):
        return
    entry = next((e for e in entries if e.keys is not None and e.keys.analyzer == "residual"), None)
    if entry is None:
        return
    group = _Group(entry)
    state.claim(group, "missing", list(state.missing))
    state.claim(group, "unexpected", list(state.unexpected))
    state.claim(group, "mismatch", list(state.mismatched))
    state.groups.append(group)


# --------------------------------------------------------------------------- findings


def _evidence(group: _Group, report: KeyReport, mismatches: Mapping[str, ShapeMismatch]) -> list[Evidence]:
    evidence = list(group.evidence_first)
    for side in _EVIDENCE_SIDES if group.keys_in_evidence else ("mismatch",):
        keys = group.keys[side]
        if side == "mismatch":
            for key in keys:
                m = mismatches.get(key)
                shapes = ""
                if m is not None:
                    shapes = f" checkpoint {shape_text(m.checkpoint_shape)} vs model {shape_text(m.model_shape)}"
                evidence.append(Evidence(f"{_SIDE_LABEL[side]}: {key}{shapes}", report.lines.get(key), report.source))
            continue
        for collapsed in collapse_keys(keys):
            lines = [report.lines[k] for k in collapsed.keys if k in report.lines]
            evidence.append(
                Evidence(f"{_SIDE_LABEL[side]}: {collapsed.text}", min(lines) if lines else None, report.source)
            )
    return evidence


def _finding(
    group: _Group, report: KeyReport, facts: Mapping[str, Any], mismatches: Mapping[str, ShapeMismatch]
) -> Finding:
    keys = {side: list(v) for side, v in group.keys.items() if v}
    namespace: dict[str, Any] = dict(facts)
    namespace.update(
        {
            "keys.count": group.count(),
            "keys.missing": len(group.keys["missing"]),
            "keys.unexpected": len(group.keys["unexpected"]),
            "keys.mismatched": len(group.keys["mismatch"]),
            "report.model": f"the model {report.model_name}" if report.model_name else "the model",
            "report.checkpoint": report.checkpoint_name or "the checkpoint",
        }
    )
    namespace.update(group.values)
    details: dict[str, Any] = {"keys": keys}
    details.update(group.details)
    return finding_from_entry(
        group.entry,
        namespace,
        evidence=_evidence(group, report, mismatches),
        details=details,
        extra_steps=group.steps,
        extra_notes=group.notes,
    )


def analyze_keys(
    report: KeyReport,
    *,
    facts: Mapping[str, Any] | None = None,
    knowledge: KnowledgeBase | None = None,
) -> list[Finding]:
    """Explain every missing, unexpected and mismatched key of ``report``; see the module docstring."""
    facts = dict(facts or {})
    kb = knowledge if knowledge is not None else load_knowledge()
    entries = state_dict_entries(kb)
    mismatched = {m.key: m for m in report.mismatched}
    if report.checkpoint_keys is not None and report.model_keys is not None:
        model_keys = set(report.model_keys)
        for key in report.checkpoint_keys:
            if key not in model_keys or key in mismatched:
                continue
            mismatch = shape_mismatch(key, report.checkpoint_shapes.get(key), report.model_shapes.get(key))
            if mismatch is not None:
                mismatched[key] = mismatch
    state = _State(report, dict.fromkeys(report.unexpected), dict.fromkeys(report.missing), mismatched)
    _wrapped(state, entries)
    _renames(state, entries)
    _lone_prefix(state, entries)
    state.all_mismatches = dict(state.mismatched)
    _shapes(state, entries, facts)
    _tied(state, entries)
    _patterns(state, entries, facts)
    _transformers_new(state, entries)
    _variants(state, entries)
    _residual(state, entries)
    ordering = load_ordering(kb.root)
    positions = {id(g): i for i, g in enumerate(state.groups)}
    specific_shapes = any(_is_shape(g.entry) and not _is_generic_shape(g.entry) for g in state.groups)

    def rank(group: _Group) -> float:
        # the generic shape entry holds what the specific decoders left: with a decoded head
        # or vocabulary in the same report, it is the rest of that change, read after it
        if specific_shapes and _is_generic_shape(group.entry):
            return ordering.reading_rank("state_dict.shape_mismatch") + 0.5
        return ordering.reading_rank(group.entry.category)

    ordered = sorted(state.groups, key=lambda g: (rank(g), g.entry.priority, positions[id(g)]))
    return [_finding(g, report, facts, state.all_mismatches) for g in ordered]
