"""Hostile inputs of issue 15 for ``envdoctor keys``: each must end with exit 0, 1 or 2, quickly.

Builders only; :mod:`tests.ckpt.test_bounds` runs ``keys`` on each in a subprocess (exit code,
no hang) and ``benchmarks/bench_bounds.py`` prints each one's time and peak memory
against the 10 s / 500 MB bound.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

__all__ = ["BUILDERS", "Case"]

Case = tuple[list[str], str]
"""``keys`` arguments (after ``keys``) and a note of what the input is."""


def _torch_zip(path: Path, data_pickle: bytes, storages: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", data_pickle)
        archive.writestr("archive/byteorder", "little")
        for key, data in storages.items():
            archive.writestr(f"archive/data/{key}", data)
        archive.writestr("archive/version", "3\n")


class _Storage:
    def __init__(self, key: str, numel: int) -> None:
        self.key = key
        self.numel = numel


class _Tensor:
    def __init__(self, storage: _Storage, size: tuple[int, ...]) -> None:
        self.storage = storage
        self.size = size

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        import torch._utils

        stride = tuple(1 for _ in self.size)
        return torch._utils._rebuild_tensor_v2, (self.storage, 0, self.size, stride, False, OrderedDict())


class _TorchPickler(pickle.Pickler):
    def persistent_id(self, obj: object) -> object:
        if isinstance(obj, _Storage):
            import torch

            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel)
        return None


def torch_pickle(state: object) -> bytes:
    """``state`` pickled the way torch.save does (persistent ids for storages), protocol 2."""
    buffer = io.BytesIO()
    _TorchPickler(buffer, protocol=2).dump(state)
    return buffer.getvalue()


def huge_int_key(folder: Path) -> Case:
    path = folder / "huge_key.pt"
    storage = _Storage("0", 4)
    _torch_zip(
        path, torch_pickle({10**5000 - 1: _Tensor(storage, (4,)), "w": _Tensor(storage, (4,))}), {"0": b"\0" * 16}
    )
    return [str(path), "-v"], "a dict key of 5,000 digits"


def huge_shape(folder: Path) -> Case:
    path = folder / "huge_shape.pt"
    storage = _Storage("0", 1)
    state = {"big": _Tensor(storage, (2**62, 2**62, 2**62)), "absurd": _Tensor(storage, (10**400,))}
    _torch_zip(path, torch_pickle(state), {"0": b"\0" * 4})
    return [str(path), "-v"], "shapes of 2**186 elements and of 10**400"


def _set_name_bytes(data: bytes, old: bytes, new: bytes) -> bytes:
    assert len(old) == len(new)
    return data.replace(old, new)


def bad_utf8_name(folder: Path) -> Case:
    path = folder / "bad_name.pt"
    storage = _Storage("0", 1)
    _torch_zip(path, torch_pickle({"w": _Tensor(storage, (1,))}), {"0": b"\0" * 4})
    data = path.read_bytes()
    # Mark every name as UTF-8 (flag bit 11) and make one name invalid UTF-8.
    data = data.replace(b"archive/byteorder", b"archive/byte\xff\xfeder")
    patched = bytearray(data)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            (flags,) = struct.unpack_from("<H", patched, start + flag_offset)
            struct.pack_into("<H", patched, start + flag_offset, flags | 0x800)
            start += 4
    path.write_bytes(bytes(patched))
    return [str(path)], "a zip member name that is not UTF-8 despite the UTF-8 flag"


def unknown_compression(folder: Path, *, npz: bool) -> Case:
    path = folder / ("bad_method.npz" if npz else "bad_method.pt")
    if npz:
        buffer = io.BytesIO()
        import numpy as np

        np.lib.format.write_array(buffer, np.zeros(3, np.float32))
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("w.npy", buffer.getvalue())
        member = b"w.npy"
    else:
        storage = _Storage("0", 1)
        _torch_zip(path, torch_pickle({"w": _Tensor(storage, (1,))}), {"0": b"\0" * 4})
        member = b"archive/data.pkl"
    data = bytearray(path.read_bytes())
    for signature, method_offset, name_offset in ((b"PK\x03\x04", 8, 30), (b"PK\x01\x02", 10, 46)):
        start = 0
        while (start := bytes(data).find(signature, start)) >= 0:
            if bytes(data[start + name_offset : start + name_offset + len(member)]) == member:
                struct.pack_into("<H", data, start + method_offset, 99)  # no such method
            start += 4
    path.write_bytes(bytes(data))
    return [str(path)], f"{'an npz' if npz else 'a torch zip'} member with compression method 99"


def duplicate_entries(folder: Path, copies: int = 120) -> Case:
    """A small archive whose central directory lists data.pkl ``copies`` times."""
    path = folder / "duplicates.pt"
    storage = _Storage("0", 1)
    # A pickle that is slow-ish to walk, so re-scanning it per entry would show.
    state: dict[str, object] = {f"k{i}": [list(range(50)) for _ in range(20)] for i in range(20)}
    state["w"] = _Tensor(storage, (1,))
    _torch_zip(path, torch_pickle(state), {"0": b"\0" * 4})
    data = path.read_bytes()
    end = data.rfind(b"PK\x05\x06")
    (cd_size, cd_offset) = struct.unpack_from("<II", data, end + 12)
    (entries,) = struct.unpack_from("<H", data, end + 10)
    directory = data[cd_offset : cd_offset + cd_size]
    first_length = 46 + sum(struct.unpack_from("<HHH", directory, 28))
    record = directory[:first_length]  # the data.pkl entry
    new_directory = directory + record * copies
    eocd = bytearray(data[end:])
    struct.pack_into("<HH", eocd, 8, entries + copies, entries + copies)
    struct.pack_into("<I", eocd, 12, len(new_directory))
    path.write_bytes(data[:cd_offset] + new_directory + bytes(eocd))
    return [str(path)], f"data.pkl listed {copies + 1} times in the central directory"


def self_index(folder: Path) -> Case:
    path = folder / "model.safetensors.index.json"
    path.write_text(json.dumps({"weight_map": {"a": path.name, "b": "other.index.json"}}))
    (folder / "other.index.json").write_text(json.dumps({"weight_map": {"c": path.name}}))
    return [str(path)], "an index naming itself as a shard (and a loop through another index)"


def many_absent_shards(folder: Path, count: int = 1_000_000) -> Case:
    path = folder / "many.index.json"
    with open(path, "w") as handle:
        handle.write('{"weight_map": {')
        handle.write(",".join(f'"t{i}": "shard-{i}.safetensors"' for i in range(count)))
        handle.write("}}")
    return [str(path)], f"{count:,} absent shards"


def shard_link_out(folder: Path) -> Case:
    inside = folder / "ckpt"
    inside.mkdir(exist_ok=True)
    secret = folder / "secret.txt"
    secret.write_bytes(b"SECRET!!" * 8)
    (inside / "model-1.safetensors").symlink_to(secret)
    index = inside / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": {"w": "model-1.safetensors"}}))
    return [str(index)], "a shard that is a symlink out of the index's folder"


def fifo(folder: Path) -> Case:
    path = folder / "pipe.pt"
    os.mkfifo(path)
    return [str(path)], "a FIFO as the checkpoint"


def fifo_against(folder: Path) -> Case:
    storage = _Storage("0", 1)
    ckpt = folder / "ok.pt"
    _torch_zip(ckpt, torch_pickle({"w": _Tensor(storage, (1,))}), {"0": b"\0" * 4})
    path = folder / "keys.txt"
    os.mkfifo(path)
    return [str(ckpt), "--against", str(path)], "a FIFO as --against"


def device(folder: Path) -> Case:
    return ["/dev/zero"], "/dev/zero as the checkpoint"


def long_digit_line(folder: Path) -> Case:
    storage = _Storage("0", 1)
    ckpt = folder / "ok2.pt"
    _torch_zip(ckpt, torch_pickle({"w": _Tensor(storage, (1,))}), {"0": b"\0" * 4})
    path = folder / "expected.txt"
    path.write_text("w 1\nbias " + "1" * 24 + "x\n")
    return [str(ckpt), "--against", str(path)], "a 24-digit line in --against"


def digit_key_parts(folder: Path) -> Case:
    storage = _Storage("0", 1)
    ckpt = folder / "digits.pt"
    huge = "9" * 5000
    state = {
        f"blocks.{huge}.w": _Tensor(storage, (1,)),
        f"blocks.{huge}0.w": _Tensor(storage, (1,)),
        "blocks.\u00b2.w": _Tensor(storage, (1,)),  # a superscript: str.isdigit() says yes, int() says no
        "blocks.\u0663.w": _Tensor(storage, (1,)),  # an Arabic-Indic three
    }
    _torch_zip(ckpt, torch_pickle(state), {"0": b"\0" * 4})
    path = folder / "expected.txt"
    path.write_text(f"blocks.1.w\nblocks.{huge[:4080]}.b\nblocks.\u00b3.w\n")  # lines up to 4,096
    return [str(ckpt), "--against", str(path)], "key parts of 5,000 digits and Unicode digits, both sides"


def control_characters(folder: Path) -> Case:
    storage = _Storage("0", 1)
    path = folder / "esc\x1b[31m.pt"
    state = {"\x1b]0;pwned\x07w": _Tensor(storage, (1,)), "\x1b[2J": _Tensor(storage, (1,))}
    data = torch_pickle(state).replace(b"\x80\x02}", b"\x80\x02}", 1)
    evil = b"\x80\x02c\x1b[2Jos\nsystem\x1b]0;x\x07\n."  # a global whose name carries escapes
    _torch_zip(path, data, {"0": b"\0" * 4})
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("archive/extra.pkl", evil)
    return [str(path), "-v"], "escape sequences in the path, keys and a global name"


BUILDERS: dict[str, Callable[[Path], Case]] = {
    "huge-int-key": huge_int_key,
    "huge-shape": huge_shape,
    "bad-utf8-name": bad_utf8_name,
    "unknown-compression-zip": lambda folder: unknown_compression(folder, npz=False),
    "unknown-compression-npz": lambda folder: unknown_compression(folder, npz=True),
    "duplicate-entries": duplicate_entries,
    "self-index": self_index,
    "absent-shards": many_absent_shards,
    "shard-link-out": shard_link_out,
    "fifo": fifo,
    "fifo-against": fifo_against,
    "device": device,
    "digit-line": long_digit_line,
    "digit-key-parts": digit_key_parts,
    "control-characters": control_characters,
}
