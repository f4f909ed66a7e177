"""Broken, lying and hostile inputs: a CheckpointError naming the file and the problem, quickly."""

from __future__ import annotations

import json
import shutil
import struct
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from envdoctor.ckpt import PickleLimits, read_checkpoint
from envdoctor.errors import EXIT_USAGE, CheckpointError
from tests.ckpt.helpers import TinyViT, deadline

SANITY_SECONDS = 10


def expect_error(path: Path, pattern: str, **options: object) -> CheckpointError:
    with deadline(SANITY_SECONDS), pytest.raises(CheckpointError, match=pattern) as caught:
        read_checkpoint(path, **options)  # type: ignore[arg-type]
    message = str(caught.value)
    assert str(path) in message
    assert "\n" not in message
    assert caught.value.exit_code == EXIT_USAGE
    return caught.value


def saved_vit(tmp_path: Path, name: str = "vit.pt", **options: object) -> Path:
    path = tmp_path / name
    torch.save(TinyViT().state_dict(), path, **options)  # type: ignore[arg-type]
    return path


def test_missing_file(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope.pt", "no such file")


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors.index.json").write_text("{}")
    expect_error(tmp_path, r"is a directory.*model\.safetensors\.index\.json")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pt"
    path.touch()
    expect_error(path, r"empty file \(0 bytes\)")


def test_truncated_zip(tmp_path: Path) -> None:
    path = saved_vit(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    expect_error(path, "truncated or corrupt")


def test_zip_missing_a_storage(tmp_path: Path) -> None:
    source = saved_vit(tmp_path)
    broken = tmp_path / "broken.pt"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(broken, "w") as copy:
        for info in original.infolist():
            if info.filename != "vit/data/0":
                copy.writestr(info, original.read(info))
    expect_error(broken, r"storage broken/data/0|storage vit/data/0")


def test_zip_with_garbage_pickle(tmp_path: Path) -> None:
    path = tmp_path / "garbage.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("garbage/data.pkl", b"\x80\x02}q\x00(X\x01\x00\x00\x00a\xff\xff")
    expect_error(path, "corrupt or truncated pickle")


def test_zip_without_known_members(tmp_path: Path) -> None:
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    expect_error(path, "neither")


def test_legacy_file_truncated_in_the_data(tmp_path: Path) -> None:
    path = saved_vit(tmp_path, "legacy.pt", _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    expect_error(path, "truncated: storages need")


def test_legacy_file_truncated_in_the_pickle(tmp_path: Path) -> None:
    path = saved_vit(tmp_path, "legacy.pt", _use_new_zipfile_serialization=False)
    path.write_bytes(path.read_bytes()[:300])
    expect_error(path, "corrupt or truncated pickle")


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"\x00\x01\x02\x03 random bytes that mean nothing", "unrecognised format"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n", "Git LFS pointer"),
        (b"<!DOCTYPE html><html><body>Rate limited</body></html>", "HTML page"),
        (b"GGUF\x03\x00\x00\x00", "GGUF"),
        (b"\x89HDF\r\n\x1a\n", "HDF5"),
    ],
)
def test_wrong_magic(tmp_path: Path, content: bytes, pattern: str) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    expect_error(path, pattern)


def test_old_tar_format(tmp_path: Path) -> None:
    member = tmp_path / "sys_info"
    member.write_bytes(b"x")
    path = tmp_path / "old.pt"
    with tarfile.open(path, "w") as archive:
        archive.add(member, arcname="sys_info")
    expect_error(path, "tar archive")


def safetensors_file(path: Path, header: bytes, data: bytes = b"", length: int | None = None) -> Path:
    path.write_bytes(struct.pack("<Q", len(header) if length is None else length) + header + data)
    return path


def entry(dtype: str, shape: list[int], begin: int, end: int) -> dict[str, object]:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


@pytest.mark.parametrize(
    ("header", "data", "length", "pattern"),
    [
        (b'{"a": 1}', b"", 10_000, "header claims 10,000 bytes"),
        (b"{}", b"", 2**62, "exceeds the 100,000,000-byte limit"),
        (b"{not json!}", b"", None, "not valid JSON"),
        (b"[1, 2, 3]", b"", None, r"does not start with '\{'"),
        (json.dumps({"w": entry("F32", [2, 2], 0, 16)}).encode(), b"\x00" * 8, None, "ends at byte 16"),
        (json.dumps({"w": entry("F32", [2, 2], 0, 12)}).encode(), b"\x00" * 12, None, "span 12 bytes"),
        (json.dumps({"w": entry("Q7", [1], 0, 4)}).encode(), b"\x00" * 4, None, "unknown dtype"),
        (json.dumps({"w": entry("F32", [-1], 0, 4)}).encode(), b"\x00" * 4, None, "malformed shape"),
        (
            json.dumps({"a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 4, 12)}).encode(),
            b"\x00" * 12,
            None,
            "overlaps",
        ),
        (json.dumps({"w": entry("F32", [1], 0, 4)}).encode(), b"\x00" * 10, None, "6 bytes after the last tensor"),
        (json.dumps({"w": entry("F32", [1], 0, 4), "__metadata__": [1]}).encode(), b"\x00" * 4, None, "__metadata__"),
    ],
)
def test_lying_safetensors_header(tmp_path: Path, header: bytes, data: bytes, length: int | None, pattern: str) -> None:
    expect_error(safetensors_file(tmp_path / "bad.safetensors", header, data, length), pattern)


def test_truncated_safetensors(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    path = tmp_path / "model.safetensors"
    save_file({"w": torch.zeros(64, 64)}, path)
    path.write_bytes(path.read_bytes()[:-1000])
    expect_error(path, "ends at byte")


def test_truncated_npz_member(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    np.savez(path, big=np.zeros((100, 100), np.float32))
    header_only = tmp_path / "bad.npz"
    with zipfile.ZipFile(path) as original, zipfile.ZipFile(header_only, "w") as copy:
        copy.writestr("big.npy", original.read("big.npy")[:200])
    expect_error(header_only, "needs 40,000 data bytes")


def test_npy_with_a_bad_header(tmp_path: Path) -> None:
    path = tmp_path / "bad.npy"
    header = b"{'descr': __import__('os').system('true'), 'shape': (1,), 'fortran_order': False}"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header)
    expect_error(path, "not a Python literal")


def test_index_without_weight_map(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"architectures": ["BertModel"]}))
    expect_error(path, "without a weight_map")


def test_pickle_over_the_size_limit(tmp_path: Path) -> None:
    expect_error(saved_vit(tmp_path), "over the 100-byte limit", max_pickle_bytes=100)
    legacy = saved_vit(tmp_path, "legacy.pt", _use_new_zipfile_serialization=False)
    expect_error(legacy, "100-byte limit", max_pickle_bytes=100)


# --- pickle bombs ---------------------------------------------------------------------------


def write_pickle(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "bomb.pkl"
    path.write_bytes(data)
    return path


def billion_laughs(levels: int, width: int = 10) -> bytes:
    """[[..."lol"...]*10]*10 ... built through the memo: tiny file, 10**levels items when walked."""
    out = bytearray(b"\x80\x02X\x03\x00\x00\x00lolq\x00")  # "lol", memo 0
    for level in range(1, levels + 1):
        previous = b"h" + bytes([level - 1])  # BINGET level-1
        out += b"(" + previous * width + b"l" + b"q" + bytes([level])  # MARK, gets, LIST, BINPUT
    return bytes(out + b".")


def test_billion_laughs_is_rejected_fast(tmp_path: Path) -> None:
    data = billion_laughs(9)
    assert len(data) < 400
    expect_error(write_pickle(tmp_path, data), "shared references")


def test_billion_laughs_inside_a_real_torch_checkpoint(tmp_path: Path) -> None:
    bomb: list[object] = ["lol"]
    for _ in range(9):
        bomb = [bomb] * 10
    path = tmp_path / "bomb.pt"
    torch.save({"state_dict": TinyViT().state_dict(), "history": bomb}, path)
    expect_error(path, "shared references")


def test_deep_nesting_is_rejected(tmp_path: Path) -> None:
    depth = 100_000
    data = b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."
    expect_error(write_pickle(tmp_path, data), "nested deeper than 1000")


def test_deep_nesting_through_the_memo_is_rejected(tmp_path: Path) -> None:
    # Constant stack: each step wraps the memoized list in a new one and memoizes that.
    step = b"]h\x00aq\x000"  # EMPTY_LIST, BINGET 0, APPEND, BINPUT 0, POP
    data = b"\x80\x02]q\x000" + step * 50_000 + b"h\x00."
    expect_error(write_pickle(tmp_path, data), "nested deeper than 1000")


def test_deep_marks_are_rejected(tmp_path: Path) -> None:
    expect_error(write_pickle(tmp_path, b"\x80\x02" + b"(" * 50_000 + b"."), "MARKs nested deeper")


def test_huge_stack_is_rejected(tmp_path: Path) -> None:
    # The interpreter's own bound (the sandboxed fast path loads this in bounded memory).
    expect_error(
        write_pickle(tmp_path, b"\x80\x02]" + b"N" * 30_000 + b"."),
        "stack deeper than 10,000",
        limits=PickleLimits(max_stack=10_000),
    )


def test_limits_on_opcodes_memo_and_items(tmp_path: Path) -> None:
    many_items = b"\x80\x02](" + b"K\x01" * 5_000 + b"e."
    path = write_pickle(tmp_path, many_items)
    expect_error(path, "more than 1,000 pickle opcodes", limits=PickleLimits(max_opcodes=1_000))
    expect_error(path, "more than 100 container items", limits=PickleLimits(max_items=100))
    many_memo = b"\x80\x02N" + b"".join(b"r" + struct.pack("<I", index) for index in range(500)) + b"."
    expect_error(write_pickle(tmp_path, many_memo), "more than 100 memo entries", limits=PickleLimits(max_memo=100))


def test_unknown_opcode(tmp_path: Path) -> None:
    expect_error(write_pickle(tmp_path, b"\x80\x02\xfe."), "corrupt or truncated pickle")


def test_self_referencing_list_is_fine(tmp_path: Path) -> None:
    # A cycle is legal pickle (pickle.dumps produces one for a list that contains itself).
    import pickle

    cyclic: list[object] = [np.zeros(2, np.float32)]
    cyclic.append(cyclic)
    path = write_pickle(tmp_path, pickle.dumps({"model": {"w": np.zeros(3, np.float32)}, "loop": cyclic}))
    with deadline(SANITY_SECONDS):
        checkpoint = read_checkpoint(path)
    assert [tensor.name for tensor in checkpoint.tensors] == ["w"]


def test_copy_of_real_file_is_read_in_place(tmp_path: Path) -> None:
    # The reader never writes next to the checkpoint (no temp files, no extraction).
    path = saved_vit(tmp_path)
    folder = tmp_path / "ro"
    folder.mkdir()
    target = folder / "vit.pt"
    shutil.copy(path, target)
    before = sorted(folder.iterdir())
    read_checkpoint(target)
    assert sorted(folder.iterdir()) == before
