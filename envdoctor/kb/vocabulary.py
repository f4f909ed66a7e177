"""The fact vocabulary: every fact, collection and placeholder a knowledge entry may name.

Declared once here, with its type and a one-line doc. :func:`envdoctor.kb.facts.build_facts`
produces exactly these names (a test keeps the two equal), the key analyzers declare what
they fill, and :func:`envdoctor.kb.lint.lint_entry` refuses any other name in an entry's
conditions and ``{placeholders}``, so a typo such as ``{dist.transformerz}`` fails the lint
instead of printing "unknown" to a user. README "Fact names" is generated from this module
(:func:`markdown_table`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "Fact",
    "FACTS",
    "FAMILIES",
    "COLLECTIONS",
    "ANALYZER_FACTS",
    "KEY_REPORT_FACTS",
    "KNOWN_DISTRIBUTIONS",
    "is_declared_scalar",
    "markdown_table",
]


@dataclass(frozen=True)
class Fact:
    """One declared fact: its type (``str``, ``version``, ``bool``, ``int``, ``list``) and meaning."""

    type: str
    doc: str


#: Scalar facts of one environment (``diagnose``; ``triage`` with ``--python``/``--env``).
FACTS: Mapping[str, Fact] = {
    "python.version": Fact("version", "the interpreter's version, e.g. 3.11.7"),
    "python.implementation": Fact("str", "cpython, pypy, ..."),
    "python.executable": Fact("str", "path of the inspected interpreter"),
    "python.in_venv": Fact("bool", "whether it runs in a virtual environment"),
    "python.platform": Fact("str", "sysconfig platform, e.g. linux-x86_64"),
    "torch.installed": Fact("bool", "whether torch is installed"),
    "torch.version": Fact("version", "torch's version with its local label, e.g. 2.1.0+cu121"),
    "torch.local": Fact("str", "torch's local version label (cu121, cpu, rocm6.1) or none"),
    "torch.cuda": Fact("version", "the CUDA version torch was built with (none for CPU/ROCm builds)"),
    "torch.hip": Fact("version", "the HIP version of a ROCm build"),
    "torch.cudnn": Fact("version", "the cuDNN torch ships or links"),
    "torch.nccl": Fact("version", "the NCCL torch ships"),
    "torch.arch_list": Fact("list", "GPU architectures compiled into the build (sm_80, compute_90, ...)"),
    "torch.is_cuda_build": Fact("bool", "torch was built with CUDA"),
    "torch.is_cpu_build": Fact("bool", "torch has neither CUDA nor HIP"),
    "torch.numpy_abi": Fact("str", "the NumPy ABI the torch release was built against (1 or 2), from the compat table"),
    "torch.python": Fact("str", "the Pythons the torch release has wheels for, from the compat table"),
    "cuda.min_driver": Fact("version", "the oldest NVIDIA driver that runs torch's CUDA"),
    "cuda.driver_status": Fact("str", "ok, minor-compat or too-old: the driver against torch's CUDA"),
    "nvcc.torch_relation": Fact("str", "match, minor or major: nvcc's CUDA against torch's"),
    "host.os": Fact("str", "operating system and release"),
    "host.libc": Fact("str", "C library and version, e.g. glibc 2.35"),
    "host.driver_version": Fact("version", "the NVIDIA driver version"),
    "host.driver_max_cuda": Fact("version", "the newest CUDA the driver supports"),
    "host.gpu_count": Fact("int", "number of NVIDIA GPUs seen"),
    "host.gpu_names": Fact("list", "the GPUs' names"),
    "host.has_nvidia_gpu": Fact("bool", "a GPU or an NVIDIA driver is present"),
    "host.nvcc_version": Fact("version", "the CUDA version of the nvcc torch's extension builder finds"),
    "host.cuda_home": Fact("str", "CUDA_HOME as torch's extension builder resolves it"),
    "host.cuda_visible_devices": Fact("str", "the CUDA_VISIBLE_DEVICES variable"),
    "deep.status": Fact("str", "--deep child import: ok, import-error, crash, timeout"),
    "deep.cuda_available": Fact("bool", "torch.cuda.is_available() in the --deep child"),
    "deep.device_count": Fact("int", "torch.cuda.device_count() in the --deep child"),
    "deep.cudnn_version": Fact("version", "the cuDNN torch loaded in the --deep child"),
    "deep.error": Fact("str", "the --deep child's error text"),
    "gpus.unsupported": Fact("list", "sm_XY of GPUs the build cannot run on"),
    "model.patch_size": Fact("int", "the model's patch size, when the caller knows it (explain_load facts)"),
}

#: Families of scalar facts, one per name: ``dist.<canonical distribution name>``.
FAMILIES: Mapping[str, Fact] = {
    "dist.": Fact("version", "installed version of a distribution, by canonical name (dist.huggingface-hub)"),
}

#: ``each`` collections and the ``item.<field>`` facts of their items.
COLLECTIONS: Mapping[str, Mapping[str, str]] = {
    "gpus": {
        "index": "the GPU's index",
        "name": "the GPU's name",
        "memory_mib": "its memory in MiB",
        "cc": "compute capability, e.g. 8.0",
        "sm": "sm_XY",
        "arch_list": "the architectures the build has",
        "arch_source": "where the arch list came from (binary, torch, compat table)",
        "supported": "whether the build runs on it (true/false/unknown)",
    },
    "requirement_violations": {
        "package": "the distribution that declares the requirement",
        "package_version": "its version",
        "requirement": "the requirement as written",
        "dependency": "the required distribution",
        "specifier": "the range, as its author wrote it",
        "source": "metadata, or the file an import-time bound was read from",
        "installed": "the installed version of the dependency (none if missing)",
        "problem": "missing or version",
        "required_by": "who declares a dependency on the package",
    },
    "import_bound_violations": {},  # same fields as requirement_violations (filled below)
    "duplicates": {
        "kind": "same-distribution or same-module",
        "name": "the distribution or module",
        "installs": "the installs involved",
        "active": "the one imported first",
        "origin": "the other copies' sys.path entries and what put them there (a .pth line, PYTHONPATH)",
    },
    "numpy1_builds": {
        "package": "a package built for NumPy 1",
        "version": "its version",
        "numpy2_from": "its first NumPy 2 build",
        "numpy": "the installed NumPy",
    },
    "torch_family_mismatches": {
        "package": "torchvision or torchaudio",
        "version": "its installed version",
        "expected": "the exact release (or range) that matches torch",
        "torch": "the installed torch",
        "torch_public": "the installed torch without its local label",
        "needs_torch": "the torch the installed companion was built for (its Requires-Dist)",
        "install": "the pip command that installs the matching companion and keeps torch",
    },
    "torch_variant_mismatches": {
        "package": "torchvision or torchaudio",
        "version": "its version.py __version__, with the variant label",
        "variant": "its variant: cpu, cuXYZ or rocmX.Y",
        "torch": "the installed torch",
        "torch_variant": "torch's variant",
        "partner": "the companion release that matches torch",
        "index_url": "the download.pytorch.org index of torch's variant",
        "install": "the pip command that installs the matching variant and keeps torch",
    },
    "missing_record": {
        "name": "a distribution whose .dist-info has no RECORD",
        "version": "its version",
        "location": "where it is installed",
    },
    "import_failures": {
        "module": "the module a --deep child imported",
        "distribution": "the distribution that provides it",
        "status": "import-error, crashed or timed-out",
        "error": "the captured error text",
        "first_line": "the error's first line",
        "operation": "what failed: the import or its smoke operation",
        "raised_in": "the innermost traceback frame (path:line)",
    },
    "ld_shadows": {"path": "an LD_LIBRARY_PATH entry holding CUDA libraries"},
    "missing_extensions": {
        "package": "the package",
        "version": "its version",
        "module": "the compiled module it lacks",
        "provider": "the distribution that provides the package (mmcv-lite for mmcv)",
    },
    "unknown_facts": {"fact": "a fact the probe could not collect", "reason": "why"},
    "broken_metadata": {
        "name": "the distribution",
        "version": "its version",
        "location": "where it is installed",
        "error": "what is wrong with its metadata",
    },
    "api_conflicts": {
        "package": "an installed package whose source imports a name (from its API history)",
        "package_version": "its installed version",
        "symbol": "the dotted name it imports, e.g. markupsafe.soft_unicode ('(and N more names)' when several)",
        "symbols": "every such name it imports from that dependency, comma-separated",
        "module": "the module it imports from, e.g. markupsafe",
        "name": "the name it imports, e.g. soft_unicode",
        "dependency": "the installed distribution that should provide it",
        "installed": "that distribution's installed version",
        "present_in": "the dependency's release lines that have the name",
        "pin": "the dependency pin that restores it, e.g. markupsafe<2.1",
        "caller_pin": "the package's first release that no longer imports it ('' if none)",
        "upgrade": "how to upgrade the package past the import (a pip command)",
        "history": "the API history the finding rests on",
    },
}
COLLECTIONS = {
    **COLLECTIONS,
    "import_bound_violations": COLLECTIONS["requirement_violations"],
}

#: Facts the state-dict key analysis sets for every finding it makes.
KEY_REPORT_FACTS: Mapping[str, str] = {
    "keys.count": "keys in this group",
    "keys.missing": "missing keys in this group",
    "keys.unexpected": "unexpected keys in this group",
    "keys.mismatched": "size-mismatched keys in this group",
    "report.model": "the model's name as the report gives it",
    "report.checkpoint": "the checkpoint's name or path",
    "unsafe.globals": "globals outside the allowlist (SD190)",
}

_GRID_SIDES = {
    f"grid.{side}_{part}": f"the {side}'s position grid: {part}"
    for side in ("checkpoint", "model")
    for part in ("tokens", "side", "extra", "image")
}

#: Facts each key analyzer fills (entries with that analyzer, or any ``[match.keys]`` entry
#: for the grid facts, which come with a decoded position embedding).
ANALYZER_FACTS: Mapping[str | None, Mapping[str, str]] = {
    None: {
        "grid.key": "the position-embedding key decoded",
        "grid.tokens": "its token count",
        "grid.side": "the grid's side",
        "grid.patches": "patches in the grid",
        "grid.extra": "extra tokens (class, distillation)",
        "grid.dim": "the embedding width",
    },
    "prefix": {
        "rename.from": "the prefix to replace",
        "rename.to": "its replacement",
        "rename.from_shown": "the prefix as shown",
        "rename.to_shown": "the replacement as shown",
        "rename.from_regex": "a regex for the prefix",
        "rename.code": "code that renames the keys",
        "rename.count": "keys renamed",
        "rename.remaining_unexpected": "unexpected keys left after the rename",
        "rename.remaining_missing": "missing keys left after the rename",
        "wrapped.container": "the wrapper's attribute name",
    },
    "wrapped": {"wrapped.container": "the key that holds the state dict", "wrapped.keys": "the training dict's keys"},
    "config-variant": {
        "variant.patterns": "the repeated key patterns",
        "variant.submodules": "variant-only submodules",
    },
    "shape": {
        **{
            f"{kind}.{side}": f"{kind} on the {side} side"
            for kind in ("classes", "vocab", "hidden")
            for side in ("checkpoint", "model")
        },
        **{
            f"{kind}.{side}_known": f"the preset a {kind} size on the {side} side belongs to"
            for kind in ("classes", "vocab", "hidden")
            for side in ("checkpoint", "model")
        },
        **_GRID_SIDES,
        "grid.patch": "the patch size used to decode the grid",
    },
    "tied": {"tied.source": "the embedding the head is tied to"},
    "residual": {},
}


#: Distributions ``dist.<name>`` may name without a pin of their own in the knowledge
#: (the lint also accepts any distribution an entry pins or a compat table lists). A name
#: outside both is a typo until declared here: ``dist.transformerz`` fails the lint.
KNOWN_DISTRIBUTIONS: frozenset[str] = frozenset(
    """
    accelerate apex auto-gptq bitsandbytes cupy-cuda11x cupy-cuda12x datasets deepspeed detectron2
    diffusers einops evaluate fairseq flash-attn fvcore gradio huggingface-hub jax jaxlib keras
    lightning llama-cpp-python mmcv mmcv-full mmcv-lite mmdet mmdet3d mmengine mmocr mmpose
    mmpretrain mmsegmentation mmseg mmaction2 mmrotate mmtrack numba numpy onnx onnxruntime
    onnxruntime-gpu open-clip-torch openai-whisper opencv-contrib-python opencv-python
    opencv-python-headless optimum pandas peft pillow protobuf pyarrow pydantic pytorch-lightning
    safetensors scikit-image scikit-learn scipy sentence-transformers sentencepiece setuptools
    spacy tensorboard tensorflow tensorflow-cpu tensorrt timm tokenizers torch torchaudio
    torchmetrics torchtext torchvision tqdm transformers triton ultralytics vllm wandb xformers
    googleapis-common-protos grpcio jinja2 markupsafe packaging pip typing-extensions urllib3
    nvidia-cudnn-cu11 nvidia-cudnn-cu12 nvidia-nccl-cu11 nvidia-nccl-cu12 nvidia-nccl-cu13
    nvidia-cublas-cu12 nvidia-cuda-runtime-cu12 mamba-ssm causal-conv1d segment-anything
    """.split()  # noqa: SIM905 - a word list reads better than 100 quoted strings
)


def is_declared_scalar(name: str, distributions: frozenset[str] = frozenset()) -> bool:
    """Whether ``name`` is a declared scalar fact or a member of a declared family.

    ``dist.<name>`` must name a known distribution (:data:`KNOWN_DISTRIBUTIONS`, or one of
    ``distributions``: those the knowledge itself pins or tabulates).
    """
    if name in FACTS:
        return True
    if name.startswith("dist."):
        dist = name[len("dist.") :]
        return dist in KNOWN_DISTRIBUTIONS or dist in distributions
    return False


def markdown_table() -> str:
    """README "Fact names": every declared fact and collection, as Markdown."""
    lines = ["| fact | type | meaning |", "| --- | --- | --- |"]
    for name, fact in FACTS.items():
        lines.append(f"| `{name}` | {fact.type} | {fact.doc} |")
    for prefix, fact in FAMILIES.items():
        lines.append(f"| `{prefix}<name>` | {fact.type} | {fact.doc} |")
    lines.append("")
    lines.append("| collection (`each`) | `item.*` fields |")
    lines.append("| --- | --- |")
    for name, fields in COLLECTIONS.items():
        lines.append(f"| `{name}` | {', '.join(f'`{f}`' for f in fields)} |")
    return "\n".join(lines)


if __name__ == "__main__":  # regenerate README "Fact names": python -m envdoctor.kb.vocabulary
    print(markdown_table())
