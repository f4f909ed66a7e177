"""Checkpoints carrying code-execution payloads: reported, never run, tensors still listed.

Every payload would create MARKER (an absolute path) if it ever ran. The files are written
by the real torch.save / pickle, which only record the payload's __reduce__ result; nothing
here loads them with torch or pickle.
"""

from __future__ import annotations

import functools
import importlib
import os
import pickletools
import runpy
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from envdoctor.ckpt import Checkpoint, read_checkpoint
from envdoctor.errors import UnsafeCheckpointError
from tests.ckpt.helpers import TinyViT, read_inventory, torch_inventory


class Payload:
    """Pickles as ``func(*args)``: the classic __reduce__ exploit."""

    def __init__(self, func: Callable[..., Any], *args: Any) -> None:
        self.func = func
        self.args = args

    def __call__(self, *args: Any) -> Any:  # pickle insists a reduce function is callable
        raise AssertionError("never called")

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.func, self.args


def payloads(marker: Path) -> dict[str, tuple[Any, str]]:
    """name -> (payload object, the global the report must name)."""
    command = f"touch {marker}"
    code = f"open({str(marker)!r}, 'w').close()"
    getattr_chain = Payload(Payload(getattr, Payload(importlib.import_module, "os"), "system"), command)
    return {
        "os.system": (Payload(os.system, command), f"{os.system.__module__}.system"),
        "builtins.exec": (Payload(exec, code), "builtins.exec"),
        "builtins.eval": (Payload(eval, code), "builtins.eval"),
        "subprocess.Popen": (Payload(subprocess.Popen, ["touch", str(marker)]), "subprocess.Popen"),
        "runpy._run_code": (Payload(runpy._run_code, code, {}), "runpy._run_code"),  # type: ignore[attr-defined]
        "importlib+getattr": (getattr_chain, "importlib.import_module"),
        "getattr": (getattr_chain, "builtins.getattr"),
        "functools.partial": (Payload(functools.partial(os.system, command)), "functools.partial"),
        "torch.load": (Payload(torch.load, str(marker)), "torch.serialization.load"),
    }


CASES = list(payloads(Path("/unused")))


def assert_reported(checkpoint: Checkpoint, global_name: str, pickle_bytes: bytes | None) -> None:
    issues = [issue for issue in checkpoint.security if issue.global_name == global_name]
    assert issues, f"{global_name} not reported; got {[i.global_name for i in checkpoint.security]}"
    issue = issues[0]
    assert issue.dangerous
    assert issue.opcode in ("GLOBAL", "STACK_GLOBAL")
    if pickle_bytes is not None:
        # The offset points at the opcode that names the global.
        for opcode, arg, position in pickletools.genops(pickle_bytes):
            if position == issue.offset:
                assert opcode.name == issue.opcode
                if opcode.name == "GLOBAL":
                    _module, name = str(arg).split(" ")
                    assert name == global_name.rsplit(".", 1)[1]
                break
        else:
            raise AssertionError(f"no opcode at offset {issue.offset}")


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("protocol", [2, 4])
def test_payload_in_torch_zip_state_dict(tmp_path: Path, case: str, protocol: int) -> None:
    marker = tmp_path / "MARKER"
    payload, global_name = payloads(marker)[case]
    state = TinyViT().state_dict()
    ckpt = {"state_dict": {**state, "evil": payload}, "epoch": 1}
    path = tmp_path / "evil.pth"
    torch.save(ckpt, path, pickle_protocol=protocol)

    checkpoint = read_checkpoint(path)

    assert not marker.exists()
    with zipfile.ZipFile(path) as archive:
        data = archive.read("evil/data.pkl")
    assert_reported(checkpoint, global_name, data)
    assert checkpoint.security[0].member == "evil/data.pkl"
    assert read_inventory(checkpoint.tensors) == torch_inventory(state)
    assert checkpoint.metadata["epoch"] == 1
    with pytest.raises(UnsafeCheckpointError, match=global_name):
        read_checkpoint(path, strict=True)
    assert not marker.exists()


@pytest.mark.parametrize("case", CASES)
def test_payload_in_legacy_file(tmp_path: Path, case: str) -> None:
    marker = tmp_path / "MARKER"
    payload, global_name = payloads(marker)[case]
    state = TinyViT().state_dict()
    path = tmp_path / "evil_legacy.pth"
    torch.save(
        {"model": state, "optimizer": {"state": {0: {"hook": payload}}}}, path, _use_new_zipfile_serialization=False
    )

    checkpoint = read_checkpoint(path)

    assert not marker.exists()
    assert checkpoint.format == "torch-legacy"
    assert_reported(checkpoint, global_name, None)
    assert checkpoint.security[0].member is None
    # Offsets in a legacy file are file offsets: the named opcode is really there.
    raw = path.read_bytes()
    issue = next(issue for issue in checkpoint.security if issue.global_name == global_name)
    assert raw[issue.offset : issue.offset + 1] in (b"c", b"\x93")
    assert read_inventory(checkpoint.tensors) == torch_inventory(state)


def test_payload_in_parameter_state_and_nested_containers(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    parameter = torch.nn.Parameter(torch.zeros(4, 4))
    parameter.hook = Payload(os.system, f"touch {marker}")  # type: ignore[attr-defined]
    state = {"weight": parameter, "bias": torch.zeros(4)}
    nested = {"model": state, "extra": [{"deep": ({"deeper": Payload(exec, "1")},)}]}
    path = tmp_path / "nested.pt"
    torch.save(nested, path)

    checkpoint = read_checkpoint(path)

    assert not marker.exists()
    names = {issue.global_name for issue in checkpoint.security}
    assert {f"{os.system.__module__}.system", "builtins.exec"} <= names
    assert read_inventory(checkpoint.tensors) == {"weight": ((4, 4), "float32"), "bias": ((4,), "float32")}


def test_hand_written_protocol0_inst_payload(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    # INST names the class inline and calls it: os.system("touch MARKER").
    data = b"(S'touch " + str(marker).encode() + b"'\nios\nsystem\n."
    path = tmp_path / "inst.pkl"
    path.write_bytes(data)
    checkpoint = read_checkpoint(path)
    assert not marker.exists()
    assert checkpoint.format == "pickle"
    assert [(issue.global_name, issue.opcode, issue.offset) for issue in checkpoint.security] == [
        ("os.system", "INST", data.index(b"\nios\n") + 1)
    ]


def test_computed_stack_global_is_reported(tmp_path: Path) -> None:
    # STACK_GLOBAL whose operands are not plain strings (here None) cannot be checked by name.
    data = b"\x80\x04N\x8c\x06system\x93."
    path = tmp_path / "computed.pkl"
    path.write_bytes(data)
    checkpoint = read_checkpoint(path)
    assert [(issue.opcode, issue.offset, issue.dangerous) for issue in checkpoint.security] == [
        ("STACK_GLOBAL", len(data) - 2, True)
    ]


def test_object_array_payload_in_npz(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    path = tmp_path / "evil.npz"
    np.savez(
        path, weights=np.zeros((3, 2), np.float32), meta=np.array([Payload(os.system, f"touch {marker}")], dtype=object)
    )
    checkpoint = read_checkpoint(path)
    assert not marker.exists()
    assert f"{os.system.__module__}.system" in {issue.global_name for issue in checkpoint.security}
    assert checkpoint.security[0].member == "meta.npy"
    assert read_inventory(checkpoint.tensors) == {"weights": ((3, 2), "float32"), "meta": ((1,), "object")}


def test_mmengine_history_buffer_getattr_is_not_reported_but_other_getattr_is(tmp_path: Path) -> None:
    history_buffer = pytest.importorskip("mmengine.logging.history_buffer")
    buffer = history_buffer.HistoryBuffer()
    buffer.update(1.0)
    path = tmp_path / "hub.pth"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "message_hub": {"loss": buffer}}, path)
    assert read_checkpoint(path).security == ()

    marker = tmp_path / "MARKER"
    torch.save(
        {"state_dict": {"w": torch.zeros(2)}, "message_hub": {"loss": buffer}, "x": payloads(marker)["getattr"][0]},
        path,
    )
    checkpoint = read_checkpoint(path)
    assert "builtins.getattr" in {issue.global_name for issue in checkpoint.security}
    assert not marker.exists()
