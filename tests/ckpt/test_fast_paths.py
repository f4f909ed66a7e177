"""The shortcuts behind the speed of ``keys``: each gives what the plain path gives, or stands aside.

* the one-pass central-directory reader (:mod:`envdoctor.ckpt.zipdir`) against
  :mod:`zipfile` on the same bytes, failures included;
* :func:`~envdoctor.ckpt.fast_engine.frame_possible`, which decides that one buffered
  unpickler run reads a pickle exactly as ``io.BytesIO`` does;
* the fast engine's dict stand-in (a real ``model.state_dict()`` ends with ``BUILD``);
* the two-process torch zip read, which trusts the first local entry only when the
  directory names it as the one data pickle (torch loads the one the directory names);
* ``.npy`` members read from already-parsed headers.

Every file is also read with ``fast=False`` (the interpreter alone): the results must be equal.
"""

from __future__ import annotations

import io
import pickle
import struct
import subprocess
import sys
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from envdoctor.ckpt import DEFAULT_LIMITS, read_checkpoint
from envdoctor.ckpt.archive import open_zip, read_zip_parallel
from envdoctor.ckpt.fast_engine import FastPathRefused, fast_load, frame_possible
from envdoctor.ckpt.npz import plain_npy_member, scan_npy_member
from envdoctor.ckpt.records import storage_from_persistent_id
from envdoctor.ckpt.sandbox import spawn
from envdoctor.ckpt.zipdir import ZipDirectory
from envdoctor.errors import CheckpointError
from tests.ckpt.attacks import _payload_pickle, case_variant_zip
from tests.ckpt.helpers import TinyViT

MAX = 1 << 28


def same_as_interpreter(path: Path) -> None:
    assert read_checkpoint(path) == read_checkpoint(path, fast=False)


def zipfile_view(path: Path) -> list[tuple[str, int, int, int, int, int]]:
    with zipfile.ZipFile(path) as archive:
        return [
            (i.filename, i.header_offset, i.compress_size, i.file_size, i.compress_type, i.flag_bits)
            for i in archive.infolist()
        ]


def our_view(path: Path) -> list[tuple[str, int, int, int, int, int]]:
    with open_zip(str(path)) as directory:
        return [
            (e.filename, e.header_offset, e.compress_size, e.file_size, e.compress_type, e.flag_bits)
            for e in directory.entries
        ]


def _archives(tmp_path: Path) -> list[Path]:
    torch_file = tmp_path / "model.pt"
    torch.save(TinyViT().state_dict(), torch_file)
    npz = tmp_path / "arrays.npz"
    np.savez(npz, a=np.zeros(3), b=np.ones((2, 2), np.int8))
    compressed = tmp_path / "compressed.npz"
    np.savez_compressed(compressed, a=np.zeros(300))
    zip64 = tmp_path / "zip64.zip"
    with zipfile.ZipFile(zip64, "w") as archive:
        with archive.open("big.bin", "w", force_zip64=True) as member:  # a zip64 extra field
            member.write(b"x" * 100)
        archive.writestr("ümlaut/naïve.txt", "utf-8 flagged name")
    prepended = tmp_path / "prepended.zip"
    prepended.write_bytes(b"#!/bin/sh\nexit 0\n" + npz.read_bytes())  # offsets shift (zipfile's "concat")
    return [torch_file, npz, compressed, zip64, prepended]


def test_directory_reader_matches_zipfile(tmp_path: Path) -> None:
    for path in _archives(tmp_path):
        assert our_view(path) == zipfile_view(path), path.name
        same_as_interpreter(path) if path.suffix in (".pt", ".npz") else None


def _patched(source: Path, target: Path, old: bytes, new: bytes) -> Path:
    data = source.read_bytes()
    cd = data.rfind(b"PK\x01\x02")
    target.write_bytes(data[:cd] + data[cd:].replace(old, new, 1))
    return target


def test_directory_reader_fails_like_zipfile(tmp_path: Path) -> None:
    npz = tmp_path / "arrays.npz"
    np.savez(npz, a=np.zeros(3))
    cp437 = _patched(npz, tmp_path / "cp437.npz", b"a.npy", b"\x81.npy")  # no UTF-8 flag: cp437
    assert our_view(cp437) == zipfile_view(cp437)
    nul = _patched(npz, tmp_path / "nul.npz", b"a.npy", b"a\x00npy")  # cut at the NUL, as ZipInfo does
    assert our_view(nul) == zipfile_view(nul)

    utf8 = tmp_path / "utf8.zip"
    with zipfile.ZipFile(utf8, "w") as archive:
        archive.writestr("é.npy", b"x")
    bad_utf8 = _patched(utf8, tmp_path / "bad.zip", "é".encode(), b"\xff\xfe")
    truncated = tmp_path / "truncated.npz"
    data = npz.read_bytes()
    cd = data.rfind(b"PK\x01\x02")
    truncated.write_bytes(data[: cd + 20] + data[data.rfind(b"PK\x05\x06") :])
    for broken in (bad_utf8, truncated):
        with pytest.raises(Exception) as ours, open(broken, "rb") as handle:
            from envdoctor.ckpt.zipdir import read_directory

            read_directory(handle, zipfile._EndRecData(handle))  # type: ignore[attr-defined]
        with pytest.raises(Exception) as theirs:
            zipfile.ZipFile(broken)
        assert type(ours.value) is type(theirs.value), broken.name


def test_frame_possible() -> None:
    framed = pickle.dumps({"w": list(range(20_000))}, protocol=4)
    assert b"\x95" in framed and frame_possible(framed, len(framed))
    buffer = io.BytesIO()
    torch.save(TinyViT().state_dict(), buffer)
    with zipfile.ZipFile(buffer) as archive:
        data_pkl = archive.read(next(name for name in archive.namelist() if name.endswith("data.pkl")))
    assert not frame_possible(data_pkl, len(data_pkl))
    # 0x95 inside a string, followed by 8 bytes that read as a length that fits: counted.
    text = pickle.dumps("a\x95" + "\x05" + "\x00" * 7 + "tail", protocol=2)
    assert frame_possible(text, len(text)) == (b"\x95\x05" + b"\x00" * 7 in text)
    # the same bytes with a length past the end of the input: no FRAME can run there.
    assert not frame_possible(b"(\x95\xff\xff\xff\x00\x00\x00\x00\x00.", 11)


def test_real_state_dict_is_proved_clean_by_the_fast_engine(tmp_path: Path) -> None:
    state = TinyViT().state_dict()
    assert isinstance(state, OrderedDict) and hasattr(state, "_metadata")  # pickled with BUILD
    shape = OrderedDict(w=1)
    shape._metadata = state._metadata  # type: ignore[attr-defined]
    data = pickle.dumps(shape, protocol=2)
    assert data.rstrip(b".").endswith(b"b")  # ... BUILD, STOP
    value, issues, _ = fast_load(data, None)
    assert value == {"w": 1} and not issues
    # With tensors, as torch.save writes them (persistent ids for the storages):
    path = tmp_path / "sd.pt"
    torch.save(state, path)
    with zipfile.ZipFile(path) as archive:
        data_pkl = archive.read(next(name for name in archive.namelist() if name.endswith("data.pkl")))
    value, _, _ = fast_load(data_pkl, storage_from_persistent_id, as_bytesio=True)
    assert isinstance(value, dict) and set(value) == set(state)
    same_as_interpreter(path)


def _ordered_dict_pickle(state: bytes, call_args: bytes = b")") -> bytes:
    return b"\x80\x02ccollections\nOrderedDict\nq\x00" + call_args + b"R" + state + b"b."


def test_dict_stand_in_refuses_dunder_state_and_arguments(tmp_path: Path) -> None:
    dunder = _ordered_dict_pickle(b"}X\x09\x00\x00\x00__class__K\x01s")
    with pytest.raises(FastPathRefused):
        fast_load(dunder, None)
    path = tmp_path / "dunder.pkl"
    path.write_bytes(dunder)
    assert read_checkpoint(path).security  # the interpreter's finding (SD190)

    pairs = _ordered_dict_pickle(b"}", call_args=b"(]](X\x01\x00\x00\x00aK\x01eat")  # OrderedDict([["a", 1]])
    with pytest.raises(FastPathRefused):
        fast_load(pairs, None)
    path = tmp_path / "pairs.pkl"
    path.write_bytes(pairs)
    assert not read_checkpoint(path).security
    same_as_interpreter(path)


def orphan_first_entry(path: Path, marker: Path) -> None:
    """A zip whose first local entry is a clean ``a/data.pkl`` that the directory does not name.

    The directory names a second ``a/data.pkl`` (a payload) instead; ``torch.load`` follows
    the directory and runs it.
    """
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        warnings.simplefilter("ignore")  # the duplicate name is the point
        archive.writestr("a/data.pkl", pickle.dumps({"w": 1}, protocol=2))
        archive.writestr("a/data.pkl", _payload_pickle(marker))
        archive.writestr("a/version", "3\n")
    data = buffer.getvalue()
    end = data.rfind(b"PK\x05\x06")
    signature, disk, cd_disk, on_disk, total, size, offset, comment = struct.unpack_from("<4sHHHHLLH", data, end)
    directory = data[offset : offset + size]
    name_length, extra_length, comment_length = struct.unpack_from("<HHH", directory, 28)
    kept = directory[46 + name_length + extra_length + comment_length :]  # drop the first entry's record
    record = struct.pack("<4sHHHHLLH", signature, disk, cd_disk, on_disk - 1, total - 1, len(kept), offset, comment)
    path.write_bytes(data[:offset] + kept + record + data[end + 22 :])


def test_first_local_entry_is_trusted_only_when_the_directory_names_it(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    path = tmp_path / "orphan.pt"
    orphan_first_entry(path, marker)
    assert read_zip_parallel(str(path), max_pickle_bytes=MAX, limits=DEFAULT_LIMITS) == (None, False)
    checkpoint = read_checkpoint(path)
    assert [issue.global_name for issue in checkpoint.security] == ["posix.system"]
    assert not marker.exists()
    same_as_interpreter(path)
    loaded = subprocess.run(
        [sys.executable, "-c", "import torch, sys; torch.load(sys.argv[1], weights_only=False)", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert marker.exists(), loaded.stderr  # torch ran the entry the directory names


def test_two_process_read_is_the_plain_read_or_stands_aside(tmp_path: Path) -> None:
    plain = tmp_path / "model.pt"
    torch.save({"model": TinyViT().state_dict(), "epoch": 3}, plain)
    parallel, refused = read_zip_parallel(str(plain), max_pickle_bytes=MAX, limits=DEFAULT_LIMITS)
    assert parallel is not None and parallel == read_checkpoint(plain, fast=False) and not refused

    for payload_first in (False, True):  # two data pickles (issue 15's case-variant attack)
        attack = tmp_path / f"case{payload_first}.pt"
        case_variant_zip(attack, tmp_path / "MARKER", payload_first=payload_first)
        assert read_zip_parallel(str(attack), max_pickle_bytes=MAX, limits=DEFAULT_LIMITS)[0] is None
        assert read_checkpoint(attack).security
    scripted = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(nn.Linear(2, 2)), str(scripted))  # constants.pkl besides data.pkl
    assert read_zip_parallel(str(scripted), max_pickle_bytes=MAX, limits=DEFAULT_LIMITS) == (None, False)
    same_as_interpreter(scripted)
    assert read_zip_parallel(str(plain), max_pickle_bytes=100, limits=DEFAULT_LIMITS) == (None, False)  # over the cap
    payload = tmp_path / "payload.pt"  # one data pickle, first, naming os.system: the child refuses
    with zipfile.ZipFile(payload, "w") as archive:
        archive.writestr("a/data.pkl", _payload_pickle(tmp_path / "MARKER"))
    assert read_zip_parallel(str(payload), max_pickle_bytes=MAX, limits=DEFAULT_LIMITS) == (None, True)
    assert [issue.global_name for issue in read_checkpoint(payload).security] == ["posix.system"]


def test_plain_npy_members_match_the_full_reader(tmp_path: Path) -> None:
    path = tmp_path / "arrays.npz"
    arrays = {f"a{index}": np.zeros((index + 1, 3), dtype) for index, dtype in enumerate(["<f4", ">i8", "u1", "<c8"])}
    arrays["same_header"] = np.zeros((1, 3), "<f4")  # the header of a0, read from the cache
    np.savez(path, **arrays)  # type: ignore[arg-type]  # numpy's stubs read the keywords as allow_pickle
    with open(path, "rb") as handle:
        import mmap

        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        directory: ZipDirectory = open_zip(str(path))
        for entry in directory.entries:
            offset = entry.header_offset
            name_length, extra_length = struct.unpack_from("<HH", mapped, offset + 26)
            fast = plain_npy_member(str(path), entry, mapped, offset + 30 + name_length + extra_length)
            full = scan_npy_member(str(path), directory, entry, MAX, DEFAULT_LIMITS)
            assert full is not None and fast == full[0], entry.filename
        directory.close()
        mapped.close()
    same_as_interpreter(path)
    # A member whose header was seen, but whose data is cut short, is left to the full reader.
    data = path.read_bytes()
    truncated = tmp_path / "truncated.npz"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(truncated, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            target.writestr(info.filename, body[:-4] if info.filename == "same_header.npy" else body)
    assert data  # the original is untouched
    with pytest.raises(CheckpointError, match=r"same_header.*truncated"):  # np.load fails on it too
        read_checkpoint(truncated)


def test_sandbox_children_reply_refuse_and_end() -> None:
    child = spawn(lambda: {"answer": [1, 2]})
    if child is None:
        pytest.skip("no fork sandbox on this platform")
    assert child.reply() == {"answer": [1, 2]}
    child.cancel()
    refusing = spawn(lambda: None)
    assert refusing is not None and refusing.reply() is None
    refusing.cancel()
    failing = spawn(lambda: {"x": 1 // 0})
    assert failing is not None and failing.reply() is None
    failing.cancel()
    import time

    def sleeps() -> dict[str, object]:
        time.sleep(30)
        return {}

    slow = spawn(sleeps)
    assert slow is not None
    started = time.monotonic()
    slow.cancel()
    assert time.monotonic() - started < 5 and slow.reply() is None


def test_column_inventory_gives_the_per_tensor_records() -> None:
    from envdoctor.ckpt.layout import _infos, storage_nbytes_of, tensor_info
    from envdoctor.ckpt.records import NdArrayRecord, StorageRef, TensorRecord

    def storage(dtype: str, key: str, numel: int) -> StorageRef:
        return StorageRef(f"torch.{dtype}Storage", dtype, key, "cpu", numel)

    whole = [storage("float32", "0", 12), storage("bool", "1", 3), storage("bfloat16", "2", 5)]
    mixed = [*whole, storage("uint4", "3", 7), storage("not-a-dtype", "4", 2)]  # 4 bits; no size known
    for storages in (whole, mixed):
        records = [
            TensorRecord((3, 4), ref.dtype, "parameter" if index % 2 else "tensor", "cpu", ref, index)
            for index, ref in enumerate(storages)
        ]
        names = [f"w{index}" for index in range(len(records))]
        expected = tuple(map(tensor_info, names, records))
        assert _infos(names, records) == expected  # the C-speed columns
        assert storage_nbytes_of(storages) == [ref.nbytes for ref in storages]
        assert [info.storage_nbytes for info in expected] == [ref.nbytes for ref in storages]
        # Any record that is not a plain tensor with a storage: the per-tensor way, same result.
        odd: list[TensorRecord | NdArrayRecord] = [*records, TensorRecord((2,), "float32"), NdArrayRecord((2,))]
        assert _infos([*names, "meta", "array"], odd) == tuple(map(tensor_info, [*names, "meta", "array"], odd))
    assert _infos([], []) == () and storage_nbytes_of([]) == []


def test_storage_loader_is_storage_from_persistent_id() -> None:
    from envdoctor.ckpt.fast_engine import _Context, _Unpickler
    from envdoctor.ckpt.records import Global, storage_loader

    stand_in = _Unpickler(io.BytesIO(b""), _Context(), None, False).find_class("torch", "FloatStorage")
    symbol = Global("torch", "HalfStorage", True)  # what the interpreter passes
    ids: list[object] = [
        ("storage", stand_in, "0", "cpu", 4),
        ("storage", symbol, "1", "cuda:0", 0),
        ("storage", stand_in, "0", "cpu", 9),  # the same key again: the first is remembered
        ("storage", stand_in, "2", "cpu", 6, None),  # legacy, no view
        ("storage", symbol, "3", "cpu", 6, ("3", 2, 4)),  # legacy view
    ]
    bad: list[object] = [
        ("storage", stand_in, "0", "cpu", -1),
        ("storage", stand_in, 0, "cpu", 1),
        ("storage", stand_in, "0", "cpu", True),
        ("other", stand_in, "0", "cpu", 1),
        ("storage", Global("os", "system", False), "0", "cpu", 1),
        ("storage", stand_in, "0", "cpu", 1, ("x",)),
        ["storage", stand_in, "0", "cpu", 1],
        "storage",
    ]
    remembered: dict[str, object] = {}
    expected: dict[str, object] = {}
    load = storage_loader(remembered)  # type: ignore[arg-type]
    for pid in ids:
        assert load(pid) == storage_from_persistent_id(pid, expected)  # type: ignore[arg-type]
    assert remembered == expected and remembered["0"].numel == 4  # type: ignore[attr-defined]
    for pid in bad:
        with pytest.raises(ValueError):
            storage_from_persistent_id(pid)
        with pytest.raises(ValueError):
            load(pid)
    assert remembered == expected


def test_two_process_read_sends_storages_once_or_in_full(tmp_path: Path) -> None:
    # One storage per tensor (the usual file): the tensors carry the storage list. Tied
    # weights, views and a storage pickled on its own: the child sends the list itself.
    base = torch.arange(12, dtype=torch.float32)
    cases = {
        "plain": OrderedDict(a=torch.zeros(3), b=torch.ones(2, dtype=torch.int8)),
        "tied": OrderedDict(a=base, b=base, c=base[4:].view(2, 4)),
        "storage": {"w": torch.zeros(2), "raw": torch.ones(5).untyped_storage(), "step": 7},
        "empty": OrderedDict(),
    }
    for label, state in cases.items():
        path = tmp_path / f"{label}.pt"
        torch.save(state, path)
        parallel, refused = read_zip_parallel(str(path), max_pickle_bytes=MAX, limits=DEFAULT_LIMITS)
        assert not refused, label
        assert parallel is not None and parallel == read_checkpoint(path, fast=False), label
    # A storage too short for its tensor is found from the directory's sizes, with the usual message.
    short = tmp_path / "short.pt"
    torch.save({"w": torch.zeros(64)}, short)
    data = short.read_bytes()
    name_at = data.index(b"short/data/0", data.index(b"PK\x01\x02"))  # its name in the central directory
    at = name_at - 46 + 20  # compressed and uncompressed size in that member's directory record
    assert data[name_at - 46 : name_at - 42] == b"PK\x01\x02" and struct.unpack_from("<II", data, at) == (256, 256)
    broken = tmp_path / "broken.pt"
    broken.write_bytes(data[:at] + struct.pack("<II", 16, 16) + data[at + 8 :])
    assert read_zip_parallel(str(broken), max_pickle_bytes=MAX, limits=DEFAULT_LIMITS) == (None, False)
    with pytest.raises(CheckpointError, match=r"data/0 holds 16 bytes but its tensors need 256"):
        read_checkpoint(broken)


def test_child_reply_names_the_storages_only_when_the_tensors_do_not(tmp_path: Path) -> None:
    import mmap

    from envdoctor.ckpt.archive import _first_member_start, _first_pickle_reply

    base = torch.arange(12, dtype=torch.float32)
    for state, expected in (
        ({"a": torch.zeros(3), "b": torch.ones(2)}, "tensors"),
        ({"a": base, "b": base}, [["0"], [48]]),  # tied: one storage for two tensors
    ):
        path = tmp_path / "reply.pt"
        torch.save(state, path)
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            start = _first_member_start(mapped)
            assert start is not None
            reply = _first_pickle_reply(str(path), mapped, start, MAX, DEFAULT_LIMITS)
        assert reply is not None and reply["storages"] == expected


def test_sandbox_reply_is_checked_and_children_are_reaped() -> None:
    import os

    from envdoctor.ckpt.model import Checkpoint, TensorInfo
    from envdoctor.ckpt.sandbox import checkpoint_from_reply, checkpoint_to_json

    child = spawn(lambda: {"answer": 1})
    if child is None:
        pytest.skip("no fork sandbox on this platform")
    assert child.reply() == {"answer": 1}
    child.cancel()
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, os.WNOHANG)  # reaped: no zombie left
    for reply in ([1, 2], "text", 3):  # anything but one JSON object is no reply
        other = spawn(lambda reply=reply: reply)  # type: ignore[misc]
        assert other is not None and other.reply() is None
        other.cancel()
    tensors = (TensorInfo("a", (2,), "float32", "tensor", "cpu", "0", 0, 2, 8), TensorInfo("b", None, None))
    checkpoint = Checkpoint(
        path="x", format="torch-zip", layout="state_dict", tensors=tensors, top_level_keys=("a", "b")
    )
    data = checkpoint_to_json(checkpoint)
    assert data["top_level_keys"] is None  # the names, not sent twice
    rebuilt = checkpoint_from_reply(json_round_trip(data))
    assert rebuilt == checkpoint and type(rebuilt.tensors[0]) is TensorInfo
    for field, runs in (("dtype", [["float32", 10**12]]), ("kind", [["tensor", -1], ["tensor", 3]])):
        hostile: Any = json_round_trip(data)
        hostile["tensors"][TensorInfo._fields.index(field)] = runs
        assert checkpoint_from_reply(hostile) is None  # a run longer than the names: refused, not allocated
    assert data["tensors"][1] == [[(2,), None], [0, 1]]  # each distinct shape once, then an index per tensor
    for index in ([0, 2], [0, -1], [0, True]):
        hostile = json_round_trip(data)
        hostile["tensors"][1][1] = index
        assert checkpoint_from_reply(hostile) is None


def json_round_trip(data: object) -> dict[str, object]:
    import json

    result = json.loads(json.dumps(data))
    assert isinstance(result, dict)
    return result


def test_big_members_are_never_searched_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Real weights: a few big members. Finding the arrays among them must not read the tensor
    # bytes (a whole-file search would read a 10 GB checkpoint from disk).
    import envdoctor.ckpt.archive as archive_module

    big = tmp_path / "big.pt"
    torch.save({"w": torch.zeros(256, 256), "b": torch.zeros(256)}, big)
    npz = tmp_path / "big.npz"
    np.savez(npz, w=np.zeros((256, 256), np.float32), b=np.zeros(3))
    expected = {path: read_checkpoint(path, fast=False) for path in (big, npz)}

    def refuse(raw: object) -> list[int]:
        raise AssertionError("the whole file was searched")

    monkeypatch.setattr(archive_module, "_magic_positions", refuse)
    for path, checkpoint in expected.items():
        assert read_checkpoint(path) == checkpoint
        assert read_checkpoint(path, fast=False) == checkpoint
    assert [t.name for t in expected[npz].tensors] == ["w", "b"]
