"""Real checkpoints written by torch.save: the reader's inventory must equal torch's own."""

from __future__ import annotations

import argparse
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from envdoctor.ckpt import read_checkpoint
from tests.ckpt.helpers import TinyMAE, TinyViT, read_inventory, torch_inventory, trained_optimizer

SERIALIZATIONS = [
    pytest.param({}, "torch-zip", id="zip"),
    pytest.param({"_use_new_zipfile_serialization": False}, "torch-legacy", id="legacy"),
    pytest.param({"pickle_protocol": 4}, "torch-zip", id="zip-protocol4"),
]


def save(obj: Any, path: Path, **options: Any) -> Path:
    torch.save(obj, path, **options)
    return path


@pytest.mark.parametrize(("options", "fmt"), SERIALIZATIONS)
def test_vit_state_dict(tmp_path: Path, options: dict[str, Any], fmt: str) -> None:
    state = TinyViT().state_dict()
    checkpoint = read_checkpoint(save(state, tmp_path / "vit.pth", **options))
    assert checkpoint.format == fmt
    assert checkpoint.layout == "state_dict"
    assert checkpoint.state_dict_path == ""
    assert read_inventory(checkpoint.tensors) == torch_inventory(state)
    assert list(checkpoint.names) == list(state)  # file order is state-dict order
    assert checkpoint.security == ()
    assert checkpoint.containers == {}
    by_name = {tensor.name: tensor for tensor in checkpoint.tensors}
    assert by_name["pos_embed"].shape == (1, 17, 16)
    assert by_name["cls_token"].numel == 16
    assert by_name["bn.num_batches_tracked"].dtype == "int64"
    assert by_name["pos_embed"].storage_nbytes == 17 * 16 * 4


def test_storage_sizes_match_the_archive(tmp_path: Path) -> None:
    state = TinyViT().state_dict()
    path = save(state, tmp_path / "vit.pt")
    checkpoint = read_checkpoint(path)
    with zipfile.ZipFile(path) as archive:
        sizes = {
            info.filename.rsplit("/", 1)[-1]: info.file_size for info in archive.infolist() if "/data/" in info.filename
        }
    for tensor in checkpoint.tensors:
        assert tensor.storage_key is not None
        assert tensor.storage_nbytes == sizes[tensor.storage_key]
    assert checkpoint.metadata["archive.byteorder"] == "little"


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_bert_from_transformers(tmp_path: Path, dtype: torch.dtype) -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
    )
    state = transformers.BertModel(config).to(dtype).state_dict()
    checkpoint = read_checkpoint(save(state, tmp_path / "pytorch_model.bin"))
    assert read_inventory(checkpoint.tensors) == torch_inventory(state)
    assert checkpoint.tensors[0].name == "embeddings.word_embeddings.weight"
    assert {tensor.dtype for tensor in checkpoint.tensors} >= {str(dtype).removeprefix("torch.")}


def test_tied_weights_share_a_storage(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37
    )
    model = transformers.BertForMaskedLM(config)
    state = model.state_dict()
    checkpoint = read_checkpoint(save(state, tmp_path / "mlm.bin"))
    assert read_inventory(checkpoint.tensors) == torch_inventory(state)
    by_name = {tensor.name: tensor for tensor in checkpoint.tensors}
    embedding = by_name["bert.embeddings.word_embeddings.weight"]
    decoder = by_name.get("cls.predictions.decoder.weight")
    if decoder is None:
        pytest.skip("this transformers version drops tied weights from state_dict()")
    assert decoder.storage_key == embedding.storage_key


def test_dataparallel_prefix(tmp_path: Path) -> None:
    state = nn.DataParallel(TinyViT()).state_dict()
    checkpoint = read_checkpoint(save(state, tmp_path / "dp.pth"))
    assert read_inventory(checkpoint.tensors) == torch_inventory(state)
    assert all(name.startswith("module.") for name in checkpoint.names)


def test_compiled_module_prefix(tmp_path: Path) -> None:
    # torch.compile wraps lazily in OptimizedModule; nothing is compiled until a call.
    compiled = torch.compile(TinyViT())
    state = compiled.state_dict()  # type: ignore[attr-defined]
    checkpoint = read_checkpoint(save(state, tmp_path / "compiled.pth"))
    assert read_inventory(checkpoint.tensors) == torch_inventory(state)
    assert all(name.startswith("_orig_mod.") for name in checkpoint.names)


@pytest.mark.parametrize(("options", "fmt"), SERIALIZATIONS)
def test_lightning_checkpoint(tmp_path: Path, options: dict[str, Any], fmt: str) -> None:
    model = nn.Sequential(OrderedDict(backbone=nn.Linear(4, 8), head=nn.Linear(8, 2)))
    optimizer = trained_optimizer(model)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3)
    state = OrderedDict((f"model.{name}", value) for name, value in model.state_dict().items())
    ckpt = {
        "epoch": 7,
        "global_step": 1400,
        "pytorch-lightning_version": "2.4.0",
        "state_dict": state,
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 8}}}},
        "callbacks": {
            "ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min'}": {
                "best_model_score": torch.tensor(0.25),
                "best_model_path": "/runs/epoch=6.ckpt",
            }
        },
        "optimizer_states": [optimizer.state_dict()],
        "lr_schedulers": [scheduler.state_dict()],
        "hparams_name": "kwargs",
        "hyper_parameters": {"lr": 1e-3, "backbone": "linear", "batch_size": 32},
    }
    checkpoint = read_checkpoint(save(ckpt, tmp_path / "last.ckpt", **options))
    assert checkpoint.format == fmt
    assert checkpoint.layout == "lightning"
    assert checkpoint.state_dict_path == "state_dict"
    assert read_inventory(checkpoint.tensors) == torch_inventory(state)
    optimizer_tensors = read_inventory(checkpoint.containers["optimizer_states"])
    expected = {
        f"0.state.{index}.{key}": (tuple(value.shape), str(value.dtype).removeprefix("torch."))
        for index, slot in optimizer.state_dict()["state"].items()
        for key, value in slot.items()
    }
    assert optimizer_tensors == expected
    assert read_inventory(checkpoint.containers["callbacks"]) == {
        "ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min'}.best_model_score": ((), "float32")
    }
    assert checkpoint.metadata["epoch"] == 7
    assert checkpoint.metadata["global_step"] == 1400
    assert checkpoint.metadata["pytorch-lightning_version"] == "2.4.0"
    assert checkpoint.metadata["hyper_parameters.lr"] == 1e-3
    assert "optimizer_states" in checkpoint.top_level_keys
    assert checkpoint.security == ()


def test_mmengine_checkpoint(tmp_path: Path) -> None:
    history_buffer = pytest.importorskip("mmengine.logging.history_buffer")
    model = TinyViT()
    optimizer = trained_optimizer(model)
    buffer = history_buffer.HistoryBuffer()
    buffer.update(0.5)
    buffer.update(0.25)
    config_text = "model = dict(type='ViT', depth=2)\n" * 40
    ckpt = {
        "meta": {
            "epoch": 12,
            "iter": 3000,
            "mmengine_version": "0.10.7",
            "mmdet_version": "3.3.0",
            "cfg": config_text,
            "seed": 42,
            "dataset_meta": {"classes": ("cat", "dog")},
        },
        "state_dict": model.state_dict(),
        "ema_state_dict": OrderedDict(
            [("steps", torch.tensor(3)), *((f"module.{k}", v.clone()) for k, v in model.state_dict().items())]
        ),
        "optimizer": optimizer.state_dict(),
        "message_hub": {"log_scalars": {"train/loss": buffer}, "runtime_info": {"epoch": 12}},
    }
    checkpoint = read_checkpoint(save(ckpt, tmp_path / "epoch_12.pth"))
    assert checkpoint.layout == "mmengine"
    assert checkpoint.state_dict_path == "state_dict"
    assert read_inventory(checkpoint.tensors) == torch_inventory(model.state_dict())
    assert read_inventory(checkpoint.containers["ema_state_dict"]) == torch_inventory(ckpt["ema_state_dict"])
    assert checkpoint.ema == ("ema_state_dict",)
    assert checkpoint.metadata["meta.mmdet_version"] == "3.3.0"
    assert checkpoint.metadata["meta.iter"] == 3000
    assert checkpoint.metadata["meta.cfg"] == f"<text: {len(config_text)} characters>"
    # HistoryBuffer keeps NumPy arrays: reported as arrays, and the class is allowlisted.
    hub = checkpoint.containers["message_hub"]
    assert {tensor.kind for tensor in hub} == {"ndarray"}
    assert checkpoint.security == ()


def test_mae_pretraining_checkpoint(tmp_path: Path) -> None:
    model = TinyMAE()
    args = argparse.Namespace(model="mae_vit_base_patch16", mask_ratio=0.75, blr=1.5e-4, epochs=400)
    ckpt = {
        "model": model.state_dict(),
        "optimizer": trained_optimizer(model).state_dict(),
        "epoch": 399,
        "scaler": {"scale": 65536.0, "growth_factor": 2.0, "_growth_tracker": 10},
        "args": args,
    }
    checkpoint = read_checkpoint(save(ckpt, tmp_path / "mae_pretrain.pth"))
    assert checkpoint.layout == "training_dict"
    assert checkpoint.state_dict_path == "model"
    assert read_inventory(checkpoint.tensors) == torch_inventory(model.state_dict())
    names = set(checkpoint.names)
    assert {"mask_token", "decoder_pos_embed", "decoder_pred.weight", "cls_token"} <= names
    assert checkpoint.metadata["epoch"] == 399
    assert checkpoint.metadata["args.mask_ratio"] == 0.75
    assert checkpoint.security == ()


def test_timm_style_ema(tmp_path: Path) -> None:
    state = TinyViT().state_dict()
    ema = {name: value.clone() for name, value in state.items()}
    checkpoint = read_checkpoint(
        save({"epoch": 5, "arch": "vit_tiny", "state_dict": state, "state_dict_ema": ema}, tmp_path / "ema.pth.tar")
    )
    assert checkpoint.layout == "ema"
    assert checkpoint.ema == ("state_dict_ema",)
    assert read_inventory(checkpoint.tensors) == torch_inventory(state)
    assert read_inventory(checkpoint.containers["state_dict_ema"]) == torch_inventory(ema)


def test_ema_prefix_inside_state_dict(tmp_path: Path) -> None:
    base = TinyViT().state_dict()
    state = {
        **{f"model.{k}": v for k, v in base.items()},
        **{f"model_ema.{k.replace('.', '')}": v for k, v in base.items()},
    }
    checkpoint = read_checkpoint(save({"state_dict": state, "global_step": 10}, tmp_path / "sd.ckpt"))
    assert "model_ema." in checkpoint.ema
    assert read_inventory(checkpoint.tensors) == torch_inventory(state)


DTYPES = [
    torch.float32,
    torch.float64,
    torch.float16,
    torch.bfloat16,
    torch.int8,
    torch.uint8,
    torch.int16,
    torch.int32,
    torch.int64,
    torch.bool,
    torch.complex64,
    torch.float8_e4m3fn,
    torch.float8_e5m2,
    torch.uint16,
]


@pytest.mark.parametrize(("options", "fmt"), SERIALIZATIONS)
def test_dtypes_views_and_special_tensors(tmp_path: Path, options: dict[str, Any], fmt: str) -> None:
    state: dict[str, torch.Tensor] = {str(dtype): torch.zeros(2, 3).to(dtype) for dtype in DTYPES}
    base = torch.arange(24, dtype=torch.float32)
    state["view.whole"] = base
    state["view.slice"] = base[4:10]
    state["view.reshaped"] = base.view(4, 6)[1:]
    state["transposed"] = torch.zeros(3, 5).t()
    state["scalar"] = torch.tensor(3.5)
    state["empty"] = torch.zeros(0, 4)
    checkpoint = read_checkpoint(save(state, tmp_path / "dtypes.pt", **options))
    assert checkpoint.format == fmt
    assert read_inventory(checkpoint.tensors) == torch_inventory(state)
    by_name = {tensor.name: tensor for tensor in checkpoint.tensors}
    assert by_name["view.slice"].storage_key == by_name["view.whole"].storage_key
    assert by_name["view.slice"].storage_offset == 4
    assert by_name["view.reshaped"].storage_offset == 6
    assert by_name["view.slice"].storage_numel == 24
    assert by_name["torch.bfloat16"].storage_nbytes == 12
    assert by_name["torch.float8_e4m3fn"].storage_nbytes == 6


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning")
def test_quantized_sparse_and_meta_tensors(tmp_path: Path) -> None:
    state = {
        "quantized": torch.quantize_per_tensor(torch.zeros(4, 2), 0.1, 0, torch.qint8),
        "sparse": torch.eye(3).to_sparse(),
        "meta": torch.empty(5, 7, device="meta", dtype=torch.bfloat16),
        "parameter": nn.Parameter(torch.zeros(2)),
    }
    checkpoint = read_checkpoint(save(state, tmp_path / "special.pt"))
    assert read_inventory(checkpoint.tensors) == torch_inventory(state)
    kinds = {tensor.name: tensor.kind for tensor in checkpoint.tensors}
    assert kinds == {"quantized": "quantized", "sparse": "sparse", "meta": "meta", "parameter": "parameter"}
    assert {tensor.name: tensor.device for tensor in checkpoint.tensors}["meta"] == "meta"


def test_parameter_with_python_attributes(tmp_path: Path) -> None:
    parameter = nn.Parameter(torch.zeros(3, 3))
    parameter.tag = "frozen"  # type: ignore[attr-defined]
    checkpoint = read_checkpoint(save({"w": parameter}, tmp_path / "attr.pt"))
    assert read_inventory(checkpoint.tensors) == {"w": ((3, 3), "float32")}
    assert checkpoint.tensors[0].kind == "parameter"


def test_whole_pickled_module(tmp_path: Path) -> None:
    model = TinyViT()
    model.register_buffer("scratch", torch.zeros(2), persistent=False)
    checkpoint = read_checkpoint(save({"model": model, "epoch": 3}, tmp_path / "whole.pt"))
    # Names come from the pickled module tree, exactly as Module.state_dict() names them.
    assert read_inventory(checkpoint.tensors) == torch_inventory(model.state_dict())
    assert checkpoint.state_dict_path == "model"
    # Loading a pickled module imports its classes: reported, but not as dangerous.
    globals_named = {issue.global_name for issue in checkpoint.security}
    assert "tests.ckpt.helpers.TinyViT" in globals_named
    assert "torch.nn.modules.linear.Linear" in globals_named
    assert not any(issue.dangerous for issue in checkpoint.security)


def test_reading_never_imports_torch_or_numpy(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = save({"state_dict": TinyViT().state_dict(), "epoch": 1}, tmp_path / "ckpt.pth")
    legacy = save(TinyViT().state_dict(), tmp_path / "legacy.pth", _use_new_zipfile_serialization=False)
    script = (
        "import sys\n"
        "sys.modules['torch'] = None\n"
        "sys.modules['numpy'] = None\n"
        "from envdoctor.ckpt import read_checkpoint\n"
        f"print(len(read_checkpoint({str(path)!r}).tensors), len(read_checkpoint({str(legacy)!r}).tensors))\n"
    )
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=repo)
    assert result.returncode == 0, result.stderr
    count = len(TinyViT().state_dict())
    assert result.stdout.split() == [str(count), str(count)]
