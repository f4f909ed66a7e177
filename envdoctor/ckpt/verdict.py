"""What makes an allowlisted call or a ``BUILD`` unsafe: the rules both pickle engines share.

"Safe" means that loading the pickle with ``pickle.load`` / ``torch.load(weights_only=False)``
/ ``np.load(allow_pickle=True)`` calls nothing beyond constructing allowlisted data types.
A global on the allowlist is therefore not enough on its own: ``BUILD`` applied to a class
or module-level object rewrites shared state (``argparse.Namespace.__call__ = getattr``
turns every later ``Namespace()`` call into a free ``getattr``), a dunder in ``BUILD`` state
changes how an object behaves, and a data constructor handed an *object* runs that object's
methods (``dict(obj)`` calls ``obj.keys()``). :func:`call_problem` and :func:`dunder_keys`
name those cases; the engines report them as SD190 findings.
"""

from __future__ import annotations

from envdoctor.ckpt.allowlist import DICT_CLASSES, NUMPY_CORES
from envdoctor.ckpt.records import Global, Opaque, symbol_of

__all__ = ["CONTAINER_CONSTRUCTORS", "call_problem", "call_problem_free", "dunder_keys"]

CONTAINER_CONSTRUCTORS = frozenset(
    {
        *DICT_CLASSES,
        "builtins.set",
        "builtins.frozenset",
        "builtins.bytes",
        "builtins.bytearray",
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.complex",
    }
)
"""Constructors that iterate or convert their argument: given an object, its methods run."""

_CODECS = frozenset({"latin1", "latin-1", "latin_1", "iso-8859-1", "iso8859-1", "utf-8", "utf8", "ascii"})
_CLASS_ARGUMENTS = {
    "copyreg._reconstructor": (0, 1),
    "torch._tensor._rebuild_from_type": (1,),
    "torch._tensor._rebuild_from_type_v2": (1,),
    "torch._utils._rebuild_wrapper_subclass": (0,),
    **{f"{core}.multiarray._reconstruct": (0,) for core in NUMPY_CORES},
}
_STATE_ARGUMENTS = {
    "torch._tensor._rebuild_from_type": 3,
    "torch._tensor._rebuild_from_type_v2": 3,
    "torch._utils._rebuild_parameter_with_state": 3,
}


def dunder_keys(state: object) -> list[str]:
    """Dunder names (``__class__``, ``__call__``...) that ``state`` would set as attributes.

    ``state`` is what ``BUILD`` (or torch's ``_set_obj_state``) receives: a dict, or a
    ``(dict, slot_dict)`` pair.
    """
    parts = list(state) if isinstance(state, tuple) and len(state) == 2 else [state]
    found: list[str] = []
    for part in parts:
        if isinstance(part, dict):
            for key in part:
                if isinstance(key, str) and key.startswith("__") and key.endswith("__") and len(key) > 4:
                    found.append(key)
    return found


def _is_allowed_class(value: object) -> bool:
    symbol = symbol_of(value)
    return symbol is not None and symbol.allowed


def call_problem_free(qualname: str) -> bool:
    """True when :func:`call_problem` can never object to a call of ``qualname``."""
    return (
        qualname not in CONTAINER_CONSTRUCTORS
        and qualname not in _CLASS_ARGUMENTS
        and qualname not in _STATE_ARGUMENTS
        and qualname != "_codecs.encode"
    )


def call_problem(symbol: Global, args: object) -> str | None:
    """Why calling the allowlisted ``symbol`` with ``args`` could run more than a data constructor."""
    qualname = symbol.qualname
    if not isinstance(args, tuple):
        return None  # the real call fails with TypeError before anything runs
    if qualname in CONTAINER_CONSTRUCTORS and any(isinstance(arg, Opaque) for arg in args):
        return "builds data from an object, which runs that object's methods"
    for index in _CLASS_ARGUMENTS.get(qualname, ()):
        if index < len(args) and not _is_allowed_class(args[index]):
            return "its class argument is not an allowlisted class"
    state_index = _STATE_ARGUMENTS.get(qualname)
    if state_index is not None and state_index < len(args):
        dunders = dunder_keys(args[state_index])
        if dunders:
            return f"sets {', '.join(dunders[:3])} on the tensor"
    if qualname == "_codecs.encode":
        encoding = args[1] if len(args) > 1 else "utf-8"
        if not (isinstance(encoding, str) and encoding.lower() in _CODECS) or len(args) > 2:
            return "an encoding other than latin-1/UTF-8/ASCII (codec lookups import modules)"
    return None
