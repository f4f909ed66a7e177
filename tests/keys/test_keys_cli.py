"""``envdoctor keys``: real checkpoints written by torch, read by the safe readers."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from envdoctor._cli import main  # noqa: E402
from envdoctor.render.console import UI  # noqa: E402


def run_cli(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    ui = UI(color=False, stdout=out, stderr=err, stdin=io.StringIO())
    monkeypatch.setattr("envdoctor._cli.make_ui", lambda color=None: ui)
    code = main(argv)
    return code, out.getvalue(), err.getvalue()


def net() -> Any:
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(), torch.nn.Linear(4, 10)
    )


def test_lists_tensors_of_a_training_dict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "last.pth"
    torch.save({"epoch": 2, "state_dict": net().state_dict()}, path)
    code, out, _ = run_cli(["keys", str(path), "-v"], monkeypatch)
    assert code == 0
    assert "training_dict" in out and "weights under 'state_dict'" in out
    assert "3.weight  (10, 4)  float32" in out


def test_against_key_list_explains_prefix_and_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "dp.pth"
    torch.save(torch.nn.DataParallel(net()).state_dict(), path)
    keys = tmp_path / "expected.txt"
    keys.write_text("".join(f"{k} {','.join(map(str, v.shape))}\n" for k, v in net().state_dict().items()))
    code, out, _ = run_cli(["keys", str(path), "--against", str(keys), "--json"], monkeypatch)
    assert code == 1
    document = json.loads(out)
    assert document["schema"] == "envdoctor.keys/1"
    assert document["checkpoint"]["layout"] == "state_dict"
    assert [f["id"] for f in document["findings"]] == ["SD131"]
    assert document["findings"][0]["details"]["rename"] == {"from": "module.", "to": ""}


def test_against_other_checkpoint_with_only_benign_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ckpt, other = tmp_path / "a.pth", tmp_path / "b.pth"
    state = net().state_dict()
    torch.save(state, ckpt)
    torch.save({k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}, other)
    code, out, _ = run_cli(["keys", str(ckpt), "--against", str(other)], monkeypatch)
    assert code == 0
    assert "SD103" in out and "(harmless)" in out


def test_unsafe_global_is_a_security_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Payload:
        def __reduce__(self) -> tuple[Any, tuple[str]]:
            return (os.system, ("echo never runs",))

    path = tmp_path / "evil.pth"
    torch.save({"w": torch.zeros(2), "x": Payload()}, path)
    code, out, _ = run_cli(["keys", str(path), "--json"], monkeypatch)
    assert code == 1
    (finding,) = json.loads(out)["findings"]
    assert finding["id"] == "SD190" and finding["category"] == "security.unsafe_pickle"
    assert "system" in finding["evidence"][0]["text"] and "at byte" in finding["evidence"][0]["text"]


def test_bad_file_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "broken.pth"
    path.write_bytes(b"PK\x03\x04 truncated")
    code, _, err = run_cli(["keys", str(path)], monkeypatch)
    assert code == 2 and "envdoctor: error:" in err and "Traceback" not in err


def test_bad_key_list_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.pth"
    torch.save(net().state_dict(), path)
    keys = tmp_path / "keys.txt"
    keys.write_text("fc.weight 10 x 4 !!\n")
    code, _, err = run_cli(["keys", str(path), "--against", str(keys)], monkeypatch)
    assert code == 2 and "keys.txt:1" in err


def test_numbered_modules_are_one_row_of_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from envdoctor.statedict.checkpoint import ModuleGroup, collapse_groups

    def block() -> Any:
        return torch.nn.ModuleDict({"attn": torch.nn.Linear(4, 4), "norm": torch.nn.LayerNorm(4)})

    model = torch.nn.Module()
    model.layers = torch.nn.ModuleList(block() for _ in range(12))
    model.layers[11].half()  # another dtype: its own row
    path = tmp_path / "blocks.pt"
    torch.save(model.state_dict(), path)  # one top-level module: the table goes one level down
    code, out, _ = run_cli(["keys", str(path)], monkeypatch)
    assert code == 0
    rows = [line.split() for line in out.splitlines() if line.startswith("layers.")]
    assert rows == [
        ["layers.{0..10}", "44", "308", "float32"],  # 11 x (attn 4x4+4, norm 4+4)
        ["layers.11", "4", "28", "float16"],
    ]
    # JSON keeps every module; only the text table is collapsed, and only runs of one index.
    code, out, _ = run_cli(["keys", str(path), "--json"], monkeypatch)
    assert len(json.loads(out)["checkpoint"]["groups"]) == 12
    groups = [
        ModuleGroup("blocks.0", 2, 8, ("float32",)),
        ModuleGroup("blocks.1", 2, 8, ("float32",)),
        ModuleGroup("blocks.3", 2, 8, ("bfloat16",)),  # dtype differs: not merged
        ModuleGroup("blocks.4", 2, 8, ("bfloat16",)),
        ModuleGroup("blocks.6", 2, 8, ("bfloat16",)),
        ModuleGroup("stage.1.block.0", 1, 1, ("float32",)),  # two indices: left alone
        ModuleGroup("stage.1.block.1", 1, 1, ("float32",)),
        ModuleGroup("blocks.7", 2, 8, ("bfloat16",)),  # not next to the run
    ]
    assert [(g.prefix, g.tensors) for g in collapse_groups(groups)] == [
        ("blocks.{0..1}", 4),
        ("blocks.{3,4,6}", 6),
        ("stage.1.block.0", 1),
        ("stage.1.block.1", 1),
        ("blocks.7", 2),
    ]
