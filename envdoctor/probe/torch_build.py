"""What the installed torch was built with, read from its files without importing it.

* version, CUDA / HIP version, git revision, debug flag: literals of ``torch/version.py``
  (parsed with :mod:`ast`);
* cuDNN / NCCL / cuBLAS: the versions of the ``nvidia-*-cu11/cu12/cu13`` wheels torch
  loads, else the sonames of copies bundled in ``torch/lib`` (``libcudnn.so.8``);
* compiled GPU architectures: the fatbinaries inside ``torch/lib/libtorch_cuda*.so``
  (:mod:`envdoctor.probe.fatbin`), with ``cuobjdump`` as the fallback when that scan
  cannot read the library.

Each fact records in ``sources`` how it was learnt; a missing one gets a reason in
``unknown``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from envdoctor.model import Distribution, TorchBuild, tame_numbers
from envdoctor.probe.fatbin import scan_architectures, sort_architectures
from envdoctor.probe.runner import Runner

__all__ = ["probe_torch_build", "read_version_py", "CUDA_LIBRARY_WHEELS"]

#: Fact -> wheel name stems; a ``-cu11``/``-cu12``/``-cu13`` suffix (or none) is tried.
CUDA_LIBRARY_WHEELS: Mapping[str, str] = {
    "cudnn": "nvidia-cudnn",
    "nccl": "nvidia-nccl",
    "cublas": "nvidia-cublas",
}
_BUNDLED_PREFIX = {"cudnn": "libcudnn.so.", "nccl": "libnccl.so.", "cublas": "libcublas.so."}
_CUDA_LIBRARIES = ("libtorch_cuda.so", "libtorch_cuda_cu.so", "libtorch_cuda_cpp.so")


def read_version_py(path: Path) -> dict[str, object]:
    """Module-level literal assignments of ``torch/version.py`` (``cuda: Optional[str] = None``)."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            try:
                values[target.id] = ast.literal_eval(value)
            except ValueError:
                continue
    return values


def probe_torch_build(
    torch_dirs: Sequence[str],
    distributions: Sequence[Distribution],
    *,
    runner: Runner,
    timeout: float,
    path_env: str | None,
) -> TorchBuild | None:
    """Facts about the active torch install, or ``None`` when torch is not installed."""
    dist = next((d for d in distributions if d.key == "torch"), None)
    if not torch_dirs and dist is None:
        return None
    sources: dict[str, str] = {}
    unknown: dict[str, str] = {}
    location = torch_dirs[0] if torch_dirs else None
    values: dict[str, object] = {}
    version_py = Path(location, "version.py") if location else None
    if version_py is None:
        unknown["version.py"] = "the torch distribution is installed but no torch/ package"
    else:
        try:
            values = read_version_py(version_py)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            unknown["version.py"] = f"cannot read {version_py}: {exc}"

    def literal(name: str, fact: str) -> str | None:
        if name in values:
            sources[fact] = "torch/version.py"
            value = values[name]
            return None if value is None else tame_numbers(str(value))
        if version_py is not None and "version.py" not in unknown:
            unknown[fact] = f"torch/version.py has no `{name}`"
        return None

    version = literal("__version__", "version")
    if version is None and dist is not None:
        unknown.pop("version", None)
        version, sources["version"] = dist.version, "dist:torch"
    cuda = literal("cuda", "cuda")
    hip = literal("hip", "hip")
    git_version = literal("git_version", "git_version")
    debug_value = values.get("debug")
    debug = bool(debug_value) if isinstance(debug_value, bool) else None
    if "debug" in values:
        sources["debug"] = "torch/version.py"

    libs = _library_versions(cuda, location, distributions, sources, unknown)
    arch_list = _arch_list(cuda, hip, location, runner, timeout, path_env, sources, unknown)
    return TorchBuild(
        version=version,
        cuda=cuda,
        hip=hip,
        git_version=git_version,
        debug=debug,
        cudnn=libs.get("cudnn"),
        nccl=libs.get("nccl"),
        cublas=libs.get("cublas"),
        arch_list=arch_list,
        location=location,
        sources=sources,
        unknown=unknown,
    )


def _library_versions(
    cuda: str | None,
    location: str | None,
    distributions: Sequence[Distribution],
    sources: dict[str, str],
    unknown: dict[str, str],
) -> dict[str, str]:
    found: dict[str, str] = {}
    if cuda is None:
        for fact in CUDA_LIBRARY_WHEELS:
            unknown[fact] = "not a CUDA build of torch (torch/version.py cuda is None)"
        return found
    by_key = {d.key: d for d in reversed(distributions)}  # first on sys.path wins
    major = cuda.split(".", 1)[0]
    suffixes = [f"-cu{major}"] + [s for s in ("-cu13", "-cu12", "-cu11", "") if s != f"-cu{major}"]
    lib_dir = Path(location, "lib") if location else None
    try:
        bundled = sorted(p.name for p in lib_dir.iterdir()) if lib_dir else []
    except OSError:
        bundled = []
    for fact, stem in CUDA_LIBRARY_WHEELS.items():
        for suffix in suffixes:
            dist = by_key.get(stem + suffix)
            if dist is not None:
                found[fact] = dist.version
                sources[fact] = f"dist:{dist.key}"
                break
        else:
            names = [n for n in bundled if n.startswith(_BUNDLED_PREFIX[fact])]
            if names:
                # The longest soname carries the most version (libcudnn.so.8.9.2 > .so.8).
                name = max(names, key=len)
                found[fact] = name[len(_BUNDLED_PREFIX[fact]) :]
                sources[fact] = f"torch/lib:{name}"
            else:
                unknown[fact] = f"no {stem}-cu{major} wheel and no {_BUNDLED_PREFIX[fact]}* in torch/lib"
    return found


def _arch_list(
    cuda: str | None,
    hip: str | None,
    location: str | None,
    runner: Runner,
    timeout: float,
    path_env: str | None,
    sources: dict[str, str],
    unknown: dict[str, str],
) -> tuple[str, ...] | None:
    if cuda is None:
        unknown["arch_list"] = (
            f"ROCm build (hip {hip}): gfx targets are not scanned"
            if hip is not None
            else "CPU-only build (torch/version.py cuda is None): no GPU code compiled in"
        )
        return None
    libraries = [Path(location, "lib", n) for n in _CUDA_LIBRARIES] if location else []
    libraries = [p for p in libraries if p.is_file()]
    if not libraries:
        unknown["arch_list"] = f"no {' / '.join(_CUDA_LIBRARIES)} in torch/lib"
        return None
    arches: set[str] = set()
    problems: list[str] = []
    for library in libraries:
        try:
            scan = scan_architectures(library, budget_seconds=max(timeout, 1.0))
        except OSError as exc:
            problems.append(f"cannot read {library.name}: {exc.strerror or exc}")
            continue
        if not scan.complete:
            problems.append(f"scan of {library.name} stopped at the time limit (partial list)")
        arches.update(scan.arches)
    if arches:
        sources["arch_list"] = "elf-scan:" + ",".join(p.name for p in libraries)
        if problems:
            unknown["arch_list"] = "; ".join(problems)
        return sort_architectures(arches)
    from_tool = _cuobjdump(libraries, runner, timeout, path_env, problems)
    if from_tool:
        sources["arch_list"] = "cuobjdump"
        return sort_architectures(from_tool)
    unknown["arch_list"] = "; ".join(problems) or "no fatbinary found in the torch CUDA libraries"
    return None


def _cuobjdump(
    libraries: Sequence[Path],
    runner: Runner,
    timeout: float,
    path_env: str | None,
    problems: list[str],
) -> set[str]:
    tool = runner.which("cuobjdump", path_env)
    if tool is None:
        problems.append("no fatbinary found by the ELF scan and cuobjdump is not on PATH")
        return set()
    found: set[str] = set()
    for library in libraries:
        for flag, prefix in (("--list-elf", "sm"), ("--list-ptx", "compute")):
            result = runner.run([tool, flag, str(library)], timeout=timeout)
            if not result.ok:
                problems.append(result.describe_failure())
                continue
            for match in re.finditer(r"\.sm_(\d+[af]?)\.(?:cubin|ptx)", result.stdout):
                found.add(f"{prefix}_{match.group(1)}")
    return found
