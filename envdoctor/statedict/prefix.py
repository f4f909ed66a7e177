"""Find the prefix renames that turn checkpoint key names into the model's key names.

A checkpoint saved from ``nn.DataParallel`` has ``module.`` in front of every key, one saved
from a ``torch.compile``'d module has ``_orig_mod.``, a backbone checkpoint loaded into a
detector lacks ``backbone.``. Such a difference shows up as many unexpected keys whose tails
equal many missing keys. :func:`find_renames` indexes the missing keys by every dotted tail,
votes for the (from, to) prefix pair each unexpected key suggests, and accepts a pair only
when it maps most keys under its prefix onto a missing key, so a coincidence such as
``cls.predictions.transform.dense.weight`` vs ``pooler.dense.weight`` is not taken for a rename.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Rename", "find_renames", "apply_rename", "rename_code", "rename_regex"]

#: A replacement (both prefixes non-empty) needs this many keys to be believed.
_MIN_REPLACEMENT_HITS = 3


@dataclass(frozen=True)
class Rename:
    """Replace ``old`` at the start of checkpoint keys by ``new``; ``pairs`` = (checkpoint key, model key)."""

    old: str
    new: str
    pairs: tuple[tuple[str, str], ...]

    @property
    def count(self) -> int:
        return len(self.pairs)


def apply_rename(key: str, old: str, new: str) -> str:
    """The key after the rename (unchanged when it does not start with ``old``)."""
    return new + key[len(old) :] if key.startswith(old) else key


def rename_regex(old: str) -> str:
    """A ``^``-anchored regex for ``old`` (mmengine ``revise_keys`` style)."""
    return "^" + re.escape(old)


def rename_code(old: str, new: str) -> str:
    """The one-line Python that renames a state dict's keys from prefix ``old`` to ``new``."""
    if not old:
        return f"sd = {{{new!r} + k: v for k, v in sd.items()}}"
    if not new:
        return f"sd = {{k.removeprefix({old!r}): v for k, v in sd.items()}}"
    return f"sd = {{({new!r} + k[{len(old)}:] if k.startswith({old!r}) else k): v for k, v in sd.items()}}"


def _tails(key: str) -> Iterable[tuple[str, str]]:
    """(prefix, tail) for every dotted split, longest tail first."""
    parts = key.split(".")
    for cut in range(len(parts)):
        prefix = ".".join(parts[:cut])
        yield (prefix + "." if prefix else ""), ".".join(parts[cut:])


def find_renames(unexpected: Sequence[str], missing: Sequence[str]) -> list[Rename]:
    """Renames that explain unexpected/missing pairs, best first; each key is used at most once."""
    if not unexpected or not missing:
        return []
    by_tail: dict[str, list[str]] = {}
    for key in missing:
        for prefix, tail in _tails(key):
            by_tail.setdefault(tail, []).append(prefix)
    votes: Counter[tuple[str, str]] = Counter()
    for key in unexpected:
        for prefix, tail in _tails(key):
            prefixes = by_tail.get(tail)
            if not prefixes:
                continue
            whole = prefix == "" or any(p == "" for p in prefixes)
            if not whole and tail.count(".") < 1:
                break  # a bare leaf name ("weight") proves nothing
            for other in set(prefixes):
                if prefix != other:
                    votes[(prefix, other)] += 1
            break
    renames: list[Rename] = []
    free_unexpected = dict.fromkeys(unexpected)
    free_missing = dict.fromkeys(missing)
    for (old, new), _ in sorted(votes.items(), key=lambda item: (-item[1], item[0])):
        under_old = [k for k in free_unexpected if k.startswith(old)]
        under_new = [k for k in free_missing if k.startswith(new)]
        pairs = []
        for key in under_old:
            target = new + key[len(old) :]
            if target in free_missing:
                pairs.append((key, target))
        if not pairs:
            continue
        share_old = len(pairs) / len(under_old)
        share_new = len(pairs) / len(under_new)
        if old and new:
            accepted = len(pairs) >= _MIN_REPLACEMENT_HITS and share_old >= 0.5 and share_new >= 0.5
        else:
            accepted = share_old >= 0.5 or share_new >= 0.5
        if not accepted:
            continue
        for source, target in pairs:
            free_unexpected.pop(source, None)
            free_missing.pop(target, None)
        renames.append(Rename(old, new, tuple(pairs)))
    return renames
