"""The four attack files of issue 15: each runs code under a real loader, each is SD190 with exit 1.

The real loaders run only in child processes (:func:`tests.ckpt.attacks.run_real_loader`);
the marker file proves the payload ran there. envdoctor reads the same file in this process.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from envdoctor._cli import main
from envdoctor.ckpt import read_checkpoint
from envdoctor.render.console import UI
from tests.ckpt.attacks import (
    case_variant_zip,
    namespace_getattr_chain,
    object_field_npz,
    run_real_loader,
    safetensors_pickle_polyglot,
)


def keys_exit(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    ui = UI(color=False, stdout=out, stderr=err, stdin=io.StringIO())
    monkeypatch.setattr("envdoctor._cli.make_ui", lambda color=None: ui)
    code = main(["keys", str(path)])
    return code, out.getvalue() + err.getvalue()


def test_namespace_getattr_chain_runs_under_pickle_and_is_unsafe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("mmengine")
    marker = tmp_path / "MARKER"
    path = tmp_path / "chain.pkl"
    path.write_bytes(namespace_getattr_chain(marker))

    checkpoint = read_checkpoint(path)
    assert not marker.exists()
    names = [issue.global_name for issue in checkpoint.security]
    assert "<BUILD on argparse.Namespace>" in names
    assert any(name.startswith("<call of ") for name in names)
    build = next(issue for issue in checkpoint.security if issue.global_name == "<BUILD on argparse.Namespace>")
    assert path.read_bytes()[build.offset : build.offset + 1] == b"b"  # the BUILD opcode itself
    assert build.opcode == "BUILD" and build.dangerous
    code, out = keys_exit(path, monkeypatch)
    assert code == 1 and "SD190" in out
    assert not marker.exists()

    result = run_real_loader("pickle", path)
    assert marker.exists(), result.stderr


@pytest.mark.parametrize("payload_first", [False, True])
def test_case_variant_data_pickle_is_scanned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, payload_first: bool
) -> None:
    marker = tmp_path / "MARKER"
    path = tmp_path / "case.pt"
    case_variant_zip(path, marker, payload_first=payload_first)

    checkpoint = read_checkpoint(path)
    issue = next(issue for issue in checkpoint.security if issue.global_name == "posix.system")
    assert issue.member is not None and issue.member.endswith("/DATA.PKL")
    assert any("differ only in case" in warning for warning in checkpoint.warnings)
    assert [t.name for t in checkpoint.tensors] == ["w"]
    code, _ = keys_exit(path, monkeypatch)
    assert code == 1
    assert not marker.exists()
    if not payload_first:
        result = run_real_loader("torch", path)
        assert marker.exists(), result.stderr


@pytest.mark.parametrize(
    ("member", "dtype", "clean_side"),
    [
        ("weights", "field", 2),
        ("x.NPY", "field", 2),
        ("sub.npy", "subarray", 2),
        ("plain", "subarray", 2),
        # Big members: each member's first bytes are looked at instead of the whole file.
        ("weights", "field", 256),
        ("plain", "subarray", 256),
    ],
)
def test_objects_hidden_in_dtypes_and_member_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, member: str, dtype: str, clean_side: int
) -> None:
    marker = tmp_path / "MARKER"
    path = tmp_path / "arrays.npz"
    object_field_npz(path, marker, member=member, dtype=dtype, clean_side=clean_side)

    checkpoint = read_checkpoint(path)
    assert checkpoint.format == "npz"
    hits = [issue for issue in checkpoint.security if issue.global_name == "posix.system"]
    assert hits and hits[0].member == member
    assert {t.name for t in checkpoint.tensors} >= {"clean"}
    code, _ = keys_exit(path, monkeypatch)
    assert code == 1
    assert not marker.exists()
    result = run_real_loader("numpy", path, member)
    assert marker.exists(), result.stderr


def test_safetensors_pickle_polyglot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    safe_open = pytest.importorskip("safetensors").safe_open
    marker = tmp_path / "MARKER"
    path = tmp_path / "model.bin"
    path.write_bytes(safetensors_pickle_polyglot(marker))
    with safe_open(str(path), "pt") as handle:  # really valid safetensors
        assert len(list(handle.keys())) == 1

    checkpoint = read_checkpoint(path)
    assert [issue.global_name for issue in checkpoint.security] == ["posix.system"]
    assert any("polyglot" in warning for warning in checkpoint.warnings)
    assert checkpoint.metadata.get("polyglot") in ("safetensors+pickle", "pickle+safetensors")
    code, out = keys_exit(path, monkeypatch)
    assert code == 1 and "SD190" in out
    assert not marker.exists()

    result = run_real_loader("torch", path)
    assert marker.exists(), result.stderr


def _frame_crossing_pickle() -> bytes:
    frame = b"}ccollections\nOr"  # the GLOBAL's name line runs past the end of the frame
    return b"\x80\x04\x95" + len(frame).to_bytes(8, "little") + frame + b"deredDict\n)R0."


def test_an_opcode_across_a_frame_end_is_unsafe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Found by the differential fuzzer: pickletools (and scanners built on it) read
    # collections.OrderedDict here, while the C unpickler over io.BytesIO (how torch reads
    # data.pkl) drops the rest of the frame and resolves collections.deredDict.
    import pickle
    import pickletools

    data = _frame_crossing_pickle()
    seen: list[str] = []

    class Recorder(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> object:
            seen.append(f"{module}.{name}")
            return dict

    Recorder(io.BytesIO(data)).load()
    assert seen == ["collections.deredDict"]
    assert [arg for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"] == ["collections OrderedDict"]

    path = tmp_path / "frame.pkl"
    path.write_bytes(data)
    checkpoint = read_checkpoint(path)
    assert [(issue.global_name, issue.offset) for issue in checkpoint.security] == [
        ("<opcode across a FRAME end>", data.index(b"ccollections"))
    ]
    code, _ = keys_exit(path, monkeypatch)
    assert code == 1


@pytest.mark.parametrize("container", ["pickle", "torch-zip"])
def test_a_global_name_that_is_not_ascii_is_unsafe_not_corrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, container: str
) -> None:
    # Found by the differential fuzzer: pickletools reads GLOBAL names as ASCII and gives up,
    # while pickle.load decodes them as UTF-8 and imports them (here it tries `ös`).
    import pickle
    import zipfile

    data = b"\x80\x02c" + "ös".encode() + b"\nsystem\nX\x02\x00\x00\x00id\x85R."
    seen: list[str] = []

    class Recorder(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> object:
            seen.append(f"{module}.{name}")
            return print

    Recorder(io.BytesIO(data)).load()
    assert seen == ["ös.system"]  # what a real load would import
    path = tmp_path / ("global.pkl" if container == "pickle" else "global.pt")
    if container == "pickle":
        path.write_bytes(data)
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("global/data.pkl", data)
            archive.writestr("global/version", "3\n")
    checkpoint = read_checkpoint(path)
    assert [issue.dangerous for issue in checkpoint.security] == [True]
    assert "ös" in checkpoint.security[0].global_name
    code, out = keys_exit(path, monkeypatch)
    assert code == 1 and "SD190" in out
