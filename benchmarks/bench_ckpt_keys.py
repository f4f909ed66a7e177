"""Time and peak memory of ``read_checkpoint`` against torch.load(mmap=True): big and many-tensor files.

Run by hand (not in CI): ``python benchmarks/bench_ckpt_keys.py --many 20000 [--repeat 5]``
writes a state dict of 20,000 small tensors in every layout (torch zip, legacy torch,
safetensors, npz, and the torch zip of an ``nn.Module.state_dict()``-shaped ``OrderedDict``),
reads each with ``read_checkpoint`` in fresh subprocesses (warm cache, the best of
``--repeat`` runs, so other load on the machine counts least), and prints the ratio to
``torch.load(path, mmap=True, weights_only=True)`` on the torch-zip file (the anchor of
issue 15: at least 10x on every layout; ``mmap=True`` needs the zip format, so this one file
is the anchor for all), plus each layout's own loader; then the whole commands a user runs on
the torch-zip file (interpreter start, imports and output included): ``envdoctor keys``, with
and without ``--json``, against ``python -c`` running that ``torch.load``. Without ``--many``:
``python benchmarks/bench_ckpt_keys.py [--dir DIR] [--gb 2]``. It
writes, in a temporary folder that is removed afterwards, a transformer-shaped float32 state
dict saved three ways (torch zip, legacy torch, safetensors), then reads each one in a fresh
subprocess and prints wall time and the child's peak RSS (``ru_maxrss`` from ``wait4``;
the files are written by another subprocess so that this parent, whose peak a forked child
inherits in ``ru_maxrss``, stays small and torch-free). Each file is
evicted from the page cache (``posix_fadvise(DONTNEED)``) before a "cold" run, so the
numbers include real disk reads of whatever the reader touches. Anchors, also in fresh
subprocesses: ``torch.load(path, mmap=True, weights_only=True)`` and safetensors'
``safe_open`` listing every key's shape. A bare ``python -c "import envdoctor.ckpt"`` row
shows the interpreter's own share of the RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

CHILD_TEMPLATE = r"""
import json, resource, sys, time
path = sys.argv[1]
{setup}
start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
hwm = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")]
print(json.dumps({{"seconds": elapsed, "tensors": count, "hwm_mb": int(hwm[0]) / 1024 if hwm else None}}))
"""

READERS = {
    "envdoctor read_checkpoint": (
        "from envdoctor.ckpt import read_checkpoint",
        "count = len(read_checkpoint(path).tensors)",
    ),
    "torch.load(mmap=True, weights_only=True)": (
        "import torch",
        "state = torch.load(path, mmap=True, weights_only=True)\n"
        "count = len({k: (tuple(v.shape), v.dtype) for k, v in state.items()})",
    ),
    "safetensors safe_open (keys + shapes)": (
        "import torch\nfrom safetensors import safe_open",
        "with safe_open(path, 'pt') as f:\n    count = len({k: f.get_slice(k).get_shape() for k in f.keys()})",
    ),
    "baseline: import envdoctor.ckpt only": ("from envdoctor.ckpt import read_checkpoint", "count = 0"),
    "torch.load(weights_only=True)": (
        "import torch",
        "state = torch.load(path, weights_only=True)\n"
        "count = len({k: (tuple(v.shape), v.dtype) for k, v in state.items()})",
    ),
    "numpy np.load (keys + shapes)": (
        "import numpy as np",
        "with np.load(path) as f:\n    count = len({k: f[k].shape for k in f.files})",
    ),
}

MANY_FILES = {
    "torch-zip": "many.pt",
    "torch-legacy": "many_legacy.pt",
    "safetensors": "many.safetensors",
    "npz": "many.npz",
    "module-sd": "many_module_sd.pt",
}
OWN_ANCHOR = {
    "torch-zip": "torch.load(mmap=True, weights_only=True)",
    "torch-legacy": "torch.load(weights_only=True)",
    "safetensors": "safetensors safe_open (keys + shapes)",
    "npz": "numpy np.load (keys + shapes)",
    "module-sd": "torch.load(mmap=True, weights_only=True)",
}
"""Each layout's own loader. ``module-sd`` is the torch-zip file as ``nn.Module.state_dict()``
makes it (an ``OrderedDict`` with ``_metadata``, pickled with a final ``BUILD``), not a plain dict."""


def build_state(target_gb: float) -> dict[str, object]:
    """A transformer-shaped state dict of about ``target_gb`` GB of float32, never written to.

    ``torch.empty`` pages that are only read map the shared zero page, so the writer's own
    memory stays modest even though torch.save streams every byte.
    """
    import torch

    hidden, ffn, vocab = 1280, 5120, 50_000
    state: dict[str, object] = {"embed_tokens.weight": torch.empty(vocab, hidden)}
    per_layer = (4 * hidden * hidden + 2 * hidden * ffn + 4 * hidden) * 4
    layers = max(1, int((target_gb * 1e9 - vocab * hidden * 4) / per_layer))
    for layer in range(layers):
        prefix = f"layers.{layer}"
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            state[f"{prefix}.attn.{name}.weight"] = torch.empty(hidden, hidden)
        state[f"{prefix}.mlp.up.weight"] = torch.empty(ffn, hidden)
        state[f"{prefix}.mlp.down.weight"] = torch.empty(hidden, ffn)
        for norm in ("ln1", "ln2"):
            state[f"{prefix}.{norm}.weight"] = torch.empty(hidden)
            state[f"{prefix}.{norm}.bias"] = torch.empty(hidden)
    state["norm.weight"] = torch.empty(hidden)
    return state


def evict(path: Path) -> None:
    with open(path, "rb") as handle:
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def measure(label: str, path: Path, cold: bool) -> dict[str, object]:
    setup, body = READERS[label]
    if cold:
        evict(path)
    script = CHILD_TEMPLATE.format(setup=setup, body=body)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert child.stdout is not None and child.stderr is not None
    stdout, stderr = child.stdout.read(), child.stderr.read()
    # wait4 gives this child's own rusage; its ru_maxrss includes what it inherited from
    # this (small, torch-free) parent at fork, hence the VmHWM column as a cross-check.
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    process_seconds = time.perf_counter() - start
    if child.returncode != 0:
        return {"error": stderr.decode().strip().splitlines()[-1]}
    report: dict[str, object] = json.loads(stdout)
    report["process_seconds"] = process_seconds
    report["maxrss_mb"] = usage.ru_maxrss / 1024
    return report


def write_files(folder: Path, target_gb: float) -> dict[str, Path]:
    """Write the three checkpoints (runs in a subprocess so torch never loads in the parent)."""
    import torch
    from safetensors.torch import save_file

    state = build_state(target_gb)
    files = {
        "torch-zip": folder / "model.pt",
        "torch-legacy": folder / "legacy.pt",
        "safetensors": folder / "model.safetensors",
    }
    torch.save(state, files["torch-zip"])
    torch.save(state, files["torch-legacy"], _use_new_zipfile_serialization=False)
    save_file(state, files["safetensors"])  # type: ignore[arg-type]
    return files


def write_many(folder: Path, count: int) -> None:
    """``count`` small (4x4 float32) tensors, ten per module, in every layout."""
    import numpy as np
    import torch
    from safetensors.torch import save_file

    state = {f"layers.{index // 10}.m{index % 10}.weight": torch.zeros(4, 4) for index in range(count)}
    module_state: OrderedDict[str, object] = OrderedDict(state)
    prefixes = ["", "layers"] + [f"layers.{layer}" for layer in range((count + 9) // 10)]
    prefixes += [name.rsplit(".", 1)[0] for name in state]
    module_state._metadata = OrderedDict((prefix, {"version": 1}) for prefix in prefixes)  # type: ignore[attr-defined]
    torch.save(module_state, folder / MANY_FILES["module-sd"])
    torch.save(state, folder / MANY_FILES["torch-zip"])
    torch.save(state, folder / MANY_FILES["torch-legacy"], _use_new_zipfile_serialization=False)
    save_file(state, folder / MANY_FILES["safetensors"])
    arrays = {name: tensor.numpy() for name, tensor in state.items()}
    np.savez(folder / MANY_FILES["npz"], **arrays)  # type: ignore[arg-type]  # numpy's stubs read the keywords as allow_pickle


def best_of(label: str, path: Path, repeat: int) -> dict[str, object]:
    runs = [measure(label, path, cold=False) for _ in range(repeat)]
    good = [run for run in runs if "error" not in run]
    if not good:
        return runs[0]
    return min(good, key=lambda run: float(run["seconds"]))  # type: ignore[arg-type]


def main_many(options: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench_ckpt_many_", dir=options.dir))
    try:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--write-many-into", str(folder), "--many", str(options.many)], check=True
        )
        print(f"wrote {options.many:,} tensors x {len(MANY_FILES)} layouts in {time.perf_counter() - started:.1f}s")
        anchor = best_of("torch.load(mmap=True, weights_only=True)", folder / MANY_FILES["torch-zip"], options.repeat)
        anchor_seconds = float(anchor["seconds"])  # type: ignore[arg-type]
        print(f"anchor: torch.load(mmap=True, weights_only=True) on the torch-zip file: {anchor_seconds:.3f}s")
        header = f"{'layout':<13} {'reader':<42} {'read s':>8} {'x vs anchor':>11} {'x vs own':>9} {'VmHWM MB':>9}"
        print(header)
        print("-" * len(header))
        for kind, name in MANY_FILES.items():
            path = folder / name
            own = best_of(OWN_ANCHOR[kind], path, options.repeat)
            ours = best_of("envdoctor read_checkpoint", path, options.repeat)
            for label, report in ((OWN_ANCHOR[kind], own), ("envdoctor read_checkpoint", ours)):
                if "error" in report:
                    print(f"{kind:<13} {label:<42} error: {report['error']}")
                    continue
                seconds = float(report["seconds"])  # type: ignore[arg-type]
                own_seconds = float(own.get("seconds", "nan"))  # type: ignore[arg-type]
                print(
                    f"{kind:<13} {label:<42} {seconds:>8.3f} {anchor_seconds / seconds:>11.1f} "
                    f"{own_seconds / seconds:>9.1f} {report['hwm_mb']:>9.1f}"
                )
        whole_process(folder, options.repeat)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def whole_process(folder: Path, repeat: int) -> None:
    """What a user waits for: the whole command, interpreter start and imports included."""
    path = folder / MANY_FILES["torch-zip"]
    load = (
        "import torch; s = torch.load(__import__('sys').argv[1], mmap=True, weights_only=True); "
        "print(len({k: (tuple(v.shape), v.dtype) for k, v in s.items()}))"
    )
    commands = {
        "python -c 'torch.load(mmap=True, weights_only=True)'": [sys.executable, "-c", load, str(path)],
        "envdoctor keys FILE": [sys.executable, "-m", "envdoctor", "keys", str(path)],
        "envdoctor keys FILE --json": [sys.executable, "-m", "envdoctor", "keys", str(path), "--json"],
    }
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "NO_COLOR": "1"}
    print(f"\nwhole process on the torch-zip file (best of {repeat}):")
    anchor = None
    for label, command in commands.items():
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
            best = min(best, time.perf_counter() - started)
        anchor = anchor or best
        print(f"  {label:<54} {best:>7.3f}s {anchor / best:>6.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="where to write the temporary files")
    parser.add_argument("--gb", type=float, default=2.0, help="approximate size of each checkpoint")
    parser.add_argument("--many", type=int, default=0, help="instead: this many small tensors in every layout")
    parser.add_argument("--repeat", type=int, default=5, help="runs per reader with --many (the best counts)")
    parser.add_argument("--write-into", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--write-many-into", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.write_into is not None:
        write_files(options.write_into, options.gb)
        return
    if options.write_many_into is not None:
        write_many(options.write_many_into, options.many)
        return
    if options.many:
        main_many(options)
        return

    folder = Path(tempfile.mkdtemp(prefix="bench_ckpt_", dir=options.dir))
    try:
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--write-into", str(folder), "--gb", str(options.gb)], check=True)
        files = {
            "torch-zip": folder / "model.pt",
            "torch-legacy": folder / "legacy.pt",
            "safetensors": folder / "model.safetensors",
        }
        print(f"wrote {len(files)} files in {time.perf_counter() - started:.1f}s to {folder}")
        print(f"parent peak RSS before measuring: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB")

        plans = [
            ("torch-zip", "envdoctor read_checkpoint"),
            ("torch-zip", "torch.load(mmap=True, weights_only=True)"),
            ("torch-legacy", "envdoctor read_checkpoint"),
            ("safetensors", "envdoctor read_checkpoint"),
            ("safetensors", "safetensors safe_open (keys + shapes)"),
            ("torch-zip", "baseline: import envdoctor.ckpt only"),
        ]
        header = (
            f"{'file':<13} {'size':>8} {'reader':<42} {'cache':<5} {'read s':>8} {'process s':>9} "
            f"{'maxrss MB':>9} {'VmHWM MB':>9} {'tensors':>7}"
        )
        print(header)
        print("-" * len(header))
        for kind, label in plans:
            path = files[kind]
            size = f"{path.stat().st_size / 1e9:.2f}GB"
            for cold in (True, False):
                report = measure(label, path, cold)
                cache = "cold" if cold else "warm"
                if "error" in report:
                    print(f"{kind:<13} {size:>8} {label:<42} {cache:<5} error: {report['error']}")
                    continue
                print(
                    f"{kind:<13} {size:>8} {label:<42} {cache:<5} {report['seconds']:>8.3f} "
                    f"{report['process_seconds']:>9.2f} {report['maxrss_mb']:>9.1f} {report['hwm_mb']:>9.1f} "
                    f"{report['tensors']:>7}"
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
