"""safetensors, NumPy and Hugging Face index files, compared with what their own libraries report."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from envdoctor.ckpt import read_checkpoint
from envdoctor.errors import CheckpointError
from tests.ckpt.helpers import TinyViT, read_inventory, torch_inventory


def numpy_inventory(arrays: dict[str, np.ndarray]) -> dict[str, tuple[tuple[int, ...], str]]:
    return {name: (tuple(array.shape), str(array.dtype)) for name, array in arrays.items()}


def test_safetensors_from_torch(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    state = {k: v.contiguous() for k, v in TinyViT().state_dict().items()}
    state.update(
        {
            "half": torch.zeros(3, 2, dtype=torch.float16),
            "brain": torch.zeros(5, dtype=torch.bfloat16),
            "int8": torch.zeros(2, 2, dtype=torch.int8),
            "mask": torch.zeros(7, dtype=torch.bool),
            "fp8": torch.zeros(4, dtype=torch.float8_e4m3fn),
            "empty": torch.zeros(0, 3),
        }
    )
    path = tmp_path / "model.safetensors"
    save_file(state, path, metadata={"format": "pt", "note": "tiny vit"})
    checkpoint = read_checkpoint(path)
    assert checkpoint.format == "safetensors"
    assert checkpoint.layout == "state_dict"
    assert read_inventory(checkpoint.tensors) == torch_inventory(load_file(path))
    assert dict(checkpoint.metadata) == {"format": "pt", "note": "tiny vit"}
    by_name = {tensor.name: tensor for tensor in checkpoint.tensors}
    assert by_name["brain"].storage_nbytes == 10
    assert checkpoint.security == ()


def test_safetensors_from_numpy(tmp_path: Path) -> None:
    from safetensors.numpy import load_file, save_file

    arrays: dict[str, np.ndarray] = {
        "a": np.zeros((2, 3), np.float32),
        "b": np.ones(4, np.int64),
        "c": np.zeros((1, 1, 2), np.float16),
        "d": np.zeros(3, np.bool_),
        "e": np.zeros(2, np.uint8),
    }
    path = tmp_path / "arrays.safetensors"
    save_file(arrays, path, metadata={"source": "numpy"})
    checkpoint = read_checkpoint(path)
    assert read_inventory(checkpoint.tensors) == numpy_inventory(load_file(path))
    assert checkpoint.metadata["source"] == "numpy"


def test_safetensors_recognised_without_extension(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    path = tmp_path / "weights.bin"
    save_file({"w": torch.zeros(2, 2)}, path)
    assert read_checkpoint(path).format == "safetensors"


@pytest.mark.parametrize("compressed", [False, True])
def test_npz(tmp_path: Path, compressed: bool) -> None:
    arrays: dict[str, Any] = {
        "conv1/W": np.zeros((3, 3, 3, 8), np.float32),
        "fc.b": np.zeros(10, np.float64),
        "labels": np.array(["cat", "dog"]),
        "steps": np.int64(7),
        "fortran": np.asfortranarray(np.zeros((4, 5), np.int16)),
        "flags": np.zeros(3, np.bool_),
    }
    path = tmp_path / "weights.npz"
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    checkpoint = read_checkpoint(path)
    assert checkpoint.format == "npz"
    with np.load(path, allow_pickle=False) as loaded:
        expected = numpy_inventory({name: loaded[name] for name in loaded.files})
    assert read_inventory(checkpoint.tensors) == expected
    assert all(tensor.kind == "ndarray" for tensor in checkpoint.tensors)


def test_npy(tmp_path: Path) -> None:
    path = tmp_path / "embedding.npy"
    np.save(path, np.zeros((100, 16), np.float16))
    checkpoint = read_checkpoint(path)
    assert checkpoint.format == "npy"
    assert read_inventory(checkpoint.tensors) == {"embedding": ((100, 16), "float16")}


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_plain_pickle_of_numpy_arrays(tmp_path: Path, protocol: int) -> None:
    # detectron2's model-zoo .pkl files: a dict of NumPy arrays under "model".
    weights: dict[str, np.ndarray] = {
        "backbone.conv1.weight": np.zeros((8, 3, 7, 7), np.float32),
        "head.bias": np.zeros(5, np.float64),
    }
    obj = {
        "model": weights,
        "__author__": "Detectron",
        "matching_heuristics": True,
        "best_score": np.float64(0.75),
        "seen": {1, 2},
        "blob": b"\x00\x01",
        "pair": (1, 2.5),
    }
    path = tmp_path / "model_final.pkl"
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    checkpoint = read_checkpoint(path)
    assert checkpoint.format == "pickle"
    assert checkpoint.state_dict_path == "model"
    assert read_inventory(checkpoint.tensors) == numpy_inventory(weights)
    assert checkpoint.metadata["__author__"] == "Detectron"
    assert checkpoint.metadata["best_score"] == 0.75
    assert checkpoint.security == ()


def save_sharded(tmp_path: Path) -> tuple[Path, dict[str, torch.Tensor]]:
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37
    )
    model = transformers.BertModel(config)
    model.save_pretrained(tmp_path, max_shard_size="20KB")
    index = next(tmp_path.glob("*.index.json"))
    return index, model.state_dict()


def test_hf_sharded_index(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    index, state = save_sharded(tmp_path)
    checkpoint = read_checkpoint(index)
    assert checkpoint.format == "hf-index"
    assert checkpoint.layout == "hf-sharded-index"
    assert len(checkpoint.shards) > 1
    saved: dict[str, torch.Tensor] = {}
    for shard in checkpoint.shards:
        saved.update(load_file(tmp_path / shard))
    assert read_inventory(checkpoint.tensors) == torch_inventory(saved)
    assert set(saved) <= set(state)
    assert checkpoint.metadata["shards"] == len(checkpoint.shards)
    assert checkpoint.warnings == ()


def test_hf_index_with_a_missing_shard(tmp_path: Path) -> None:
    index, _ = save_sharded(tmp_path)
    first = read_checkpoint(index)
    missing = first.shards[0]
    (tmp_path / missing).unlink()
    checkpoint = read_checkpoint(index)
    weight_map = json.loads(index.read_text())["weight_map"]
    unknown = {tensor.name for tensor in checkpoint.tensors if tensor.shape is None}
    assert unknown == {name for name, shard in weight_map.items() if shard == missing}
    assert any(missing in warning for warning in checkpoint.warnings)


def test_hf_index_refuses_escaping_shard_names(tmp_path: Path) -> None:
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {}, "weight_map": {"w": "../../etc/passwd"}}))
    with pytest.raises(CheckpointError, match="leaves the index's folder"):
        read_checkpoint(index)
