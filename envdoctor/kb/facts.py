"""Turn an :class:`~envdoctor.model.Environment` into the flat namespace checks are written in.

Scalars (``dist.transformers``, ``torch.cuda``, ``host.driver_max_cuda``) come straight from
the probe. Derived facts compare facts with each other and with the compatibility tables
(``cuda.driver_status``, ``nvcc.torch_relation``), and collections (``gpus``,
``requirement_violations``, ...) give ``each`` checks one item namespace per problem.
Knowledge entries name these facts; README "Fact names" lists them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from envdoctor.kb.compat import Compat
from envdoctor.kb.conditions import as_version
from envdoctor.kb.requires import applies, is_extra_only, parse_requirement
from envdoctor.model import Distribution, Environment

__all__ = ["FactView", "build_facts", "driver_text"]


@dataclass(frozen=True)
class FactView:
    """The scalar namespace plus the named collections of item namespaces."""

    scalars: Mapping[str, Any]
    collections: Mapping[str, tuple[Mapping[str, Any], ...]]

    def items(self, collection: str) -> Iterator[Mapping[str, Any]]:
        """Namespaces for ``each`` checks: the scalars overlaid with ``item.*`` facts."""
        for item in self.collections.get(collection, ()):
            merged = dict(self.scalars)
            merged.update({f"item.{k}": v for k, v in item.items()})
            yield merged


def _major_minor(version: Version | None) -> Version | None:
    return None if version is None else Version(f"{version.major}.{version.minor}")


def _torch_facts(env: Environment, compat: Compat) -> dict[str, Any]:
    torch = env.torch
    if torch is None or torch.version is None:
        return {"torch.installed": False}
    version = as_version(torch.version)
    local = version.local if version is not None else None
    facts: dict[str, Any] = {
        "torch.installed": True,
        "torch.version": torch.version,
        "torch.local": local,
        "torch.cuda": torch.cuda,
        "torch.hip": torch.hip,
        "torch.cudnn": torch.cudnn,
        "torch.nccl": torch.nccl,
        "torch.arch_list": torch.arch_list,
        "torch.is_cuda_build": torch.cuda is not None,
        "torch.is_cpu_build": torch.cuda is None and torch.hip is None,
    }
    release = compat.torch_release(version) if version is not None else None
    if release is not None:
        facts["torch.numpy_abi"] = release.numpy_abi
        facts["torch.python"] = str(release.python) if release.python is not None else None
    cuda = as_version(torch.cuda)
    if cuda is not None:
        facts["cuda.min_driver"] = driver_text(compat.cuda_min_driver(cuda))
    return facts


def _str(value: object | None) -> str | None:
    return None if value is None else str(value)


def driver_text(version: Version | None) -> str | None:
    """A driver version as NVIDIA writes it: the patch has two digits (530.30.02, not 530.30.2)."""
    if version is None:
        return None
    parts = [str(p) for p in version.release]
    if len(parts) >= 3:
        parts[2] = f"{version.release[2]:02d}"
    return ".".join(parts)


def _host_facts(env: Environment, compat: Compat) -> dict[str, Any]:
    host = env.host
    driver_max = as_version(host.driver_max_cuda)
    driver = as_version(host.driver_version)
    if driver_max is None and driver is not None:
        # Not observed (no NVML, no nvidia-smi banner): derived from the driver branch.
        windows = (host.os or "").lower().startswith("windows")
        driver_max = compat.driver_max_cuda(driver, windows=windows)
    return {
        "host.os": host.os,
        "host.libc": host.libc,
        "host.driver_version": host.driver_version,
        "host.driver_max_cuda": _str(driver_max),
        "host.gpu_count": len(host.gpus),
        "host.gpu_names": tuple(g.name for g in host.gpus),
        "host.has_nvidia_gpu": bool(host.gpus) or host.driver_version is not None,
        "host.nvcc_version": host.nvcc_version,
        "host.cuda_home": host.cuda_home,
        "host.cuda_visible_devices": host.cuda_visible_devices,
    }


def _driver_status(facts: Mapping[str, Any], env: Environment, compat: Compat) -> str | None:
    """ok, minor-compat (same major, older minor: runs, PTX JIT may fail) or too-old."""
    torch_cuda = _major_minor(as_version(facts.get("torch.cuda")))
    driver_max = as_version(facts.get("host.driver_max_cuda"))
    if torch_cuda is None or driver_max is None:
        return None
    if driver_max >= torch_cuda:
        return "ok"
    # CUDA minor version compatibility (11.1+): a driver of the same major runs binaries
    # built with a newer minor toolkit, if it is above the major's floor.
    # https://docs.nvidia.com/deploy/cuda-compatibility/#minor-version-compatibility
    driver = as_version(env.host.driver_version)
    floor = compat.cuda_minor_compat_driver(torch_cuda)
    if (
        driver_max.major == torch_cuda.major
        and torch_cuda.major >= 11
        and (driver is None or floor is None or driver >= floor)
    ):
        return "minor-compat"
    return "too-old"


def _nvcc_relation(facts: Mapping[str, Any]) -> str | None:
    nvcc = _major_minor(as_version(facts.get("host.nvcc_version")))
    torch_cuda = _major_minor(as_version(facts.get("torch.cuda")))
    if nvcc is None or torch_cuda is None:
        return None
    if nvcc == torch_cuda:
        return "match"
    return "minor" if nvcc.major == torch_cuda.major else "major"


def _gpu_items(env: Environment, facts: Mapping[str, Any], compat: Compat) -> tuple[dict[str, Any], ...]:
    arch_list = env.torch.arch_list if env.torch is not None else None
    arch_source = "binary" if arch_list else None
    if not arch_list and env.deep is not None and env.deep.arch_list:
        arch_list, arch_source = env.deep.arch_list, "torch.cuda.get_arch_list()"
    version = as_version(facts.get("torch.version"))
    cuda = as_version(facts.get("torch.cuda"))
    if not arch_list and version is not None and cuda is not None:
        arch_list = compat.torch_arch(version, cuda)
        arch_source = "compat table" if arch_list else None
    items = []
    for gpu in env.host.gpus:
        capability = gpu.compute_capability
        sm = f"sm_{capability.replace('.', '')}" if capability else None
        items.append(
            {
                "index": gpu.index,
                "name": gpu.name,
                "memory_mib": gpu.memory_total_mib,
                "cc": capability,
                "sm": sm,
                "arch_list": tuple(arch_list) if arch_list else None,
                "arch_source": arch_source,
                "supported": _arch_supported(capability, arch_list),
            }
        )
    return tuple(items)


def _arch_supported(capability: str | None, arch_list: tuple[str, ...] | None) -> bool | None:
    """Whether a GPU can run this build: an exact SASS match, same-major binary
    compatibility (sm_80 SASS runs on 8.6), or PTX of an older arch to JIT from."""
    if capability is None or not arch_list:
        return None
    try:
        major, minor = (int(p) for p in capability.split(".")[:2])
    except ValueError:
        return None
    for arch in arch_list:
        kind, _, number = arch.partition("_")
        digits = number.rstrip("af")
        if not digits.isdigit() or len(digits) < 2:
            continue
        arch_major, arch_minor = int(digits[:-1]), int(digits[-1])
        if kind == "sm" and arch_major == major and arch_minor <= minor and not number.endswith(("a", "f")):
            return True
        if kind == "sm" and number.endswith(("a", "f")) and (arch_major, arch_minor) == (major, minor):
            return True
        if kind == "compute" and (arch_major, arch_minor) <= (major, minor):
            return True
    return False


def _marker_env(env: Environment) -> dict[str, str]:
    markers = dict(env.python.markers)
    markers.setdefault("python_version", ".".join(env.python.version.split(".")[:2]))
    markers.setdefault("python_full_version", env.python.version)
    markers["extra"] = ""
    return markers


def _violation(
    owner: Distribution,
    requirement_text: str,
    installed: Mapping[str, Distribution],
    markers: dict[str, str],
    source: str,
) -> dict[str, Any] | None:
    if is_extra_only(requirement_text):
        return None
    requirement = parse_requirement(requirement_text)
    if requirement is None or not applies(requirement, markers):
        return None
    dependency = installed.get(canonicalize_name(requirement.name))
    base = {
        "package": owner.name,
        "package_version": owner.version,
        "requirement": requirement_text,
        "dependency": requirement.name,
        "specifier": _specifier_as_written(requirement, requirement_text),
        "source": source,
    }
    if dependency is None:
        return {**base, "installed": None, "problem": "missing"}
    version = dependency.parsed_version
    if version is None or not requirement.specifier.contains(version, prereleases=True):
        return {**base, "installed": dependency.version, "problem": "version"}
    return None


def _specifier_as_written(requirement: Requirement, text: str) -> str:
    """The version range in the order its author wrote it (packaging sorts its clauses).

    ``tokenizers>=0.11.1,!=0.11.3,<0.14`` should read as transformers prints it.
    """
    if not requirement.specifier:
        return "any version"
    head = text.split(";", 1)[0].strip()
    written = re.sub(r"^[A-Za-z0-9._-]+\s*(\[[^\]]*\])?\s*", "", head).strip().strip("()").replace(" ", "")
    try:
        same = SpecifierSet(written) == requirement.specifier
    except InvalidSpecifier:
        same = False
    return written if same else str(requirement.specifier)


def _required_by(key: str, installed: Mapping[str, Distribution]) -> str | None:
    """Who declares a dependency on distribution ``key`` (for the chain in a finding)."""
    owners = []
    for dist in installed.values():
        for text in dist.requires:
            if is_extra_only(text):
                continue
            requirement = parse_requirement(text)
            if requirement is not None and canonicalize_name(requirement.name) == key:
                owners.append(f"{dist.name} {dist.version}")
    return ", ".join(owners) or None


def _requirement_items(env: Environment) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
    installed: dict[str, Distribution] = {}
    for dist in env.python.distributions:
        installed.setdefault(dist.key, dist)  # first on sys.path wins, as at import time
    markers = _marker_env(env)
    metadata = []
    for dist in installed.values():
        for text in dist.requires:
            item = _violation(dist, text, installed, markers, "metadata")
            if item is not None:
                item["required_by"] = _required_by(dist.key, installed)
                metadata.append(item)
    import_time = []
    for bound in env.python.import_bounds:
        owner = installed.get(canonicalize_name(bound.package))
        if owner is None:
            continue
        item = _violation(owner, bound.requirement, installed, markers, bound.source)
        if item is not None and item["problem"] == "version":
            item["required_by"] = _required_by(owner.key, installed)
            import_time.append(item)
    return tuple(metadata), tuple(import_time)


def _numpy1_items(env: Environment, facts: Mapping[str, Any], compat: Compat) -> tuple[dict[str, Any], ...]:
    numpy = as_version(facts.get("dist.numpy"))
    if numpy is None or numpy.major < 2:
        return ()
    items = []
    for dist in env.python.distributions:
        version = dist.parsed_version
        first_ready = compat.numpy2_from(dist.name)
        if version is None or first_ready is None:
            continue
        if Version(version.public) < first_ready:
            items.append(
                {"package": dist.name, "version": dist.version, "numpy2_from": str(first_ready), "numpy": str(numpy)}
            )
    return tuple(items)


def _torch_family_items(facts: Mapping[str, Any], compat: Compat) -> tuple[dict[str, Any], ...]:
    torch = as_version(facts.get("torch.version") or facts.get("dist.torch"))
    if torch is None:
        return ()
    expected_by_package = {
        "torchvision": compat.expected_torchvision(torch),
        "torchaudio": compat.expected_torchaudio(torch),
    }
    items = []
    for package, expected in expected_by_package.items():
        installed = as_version(facts.get(f"dist.{package}"))
        if installed is None or expected is None:
            continue
        if not expected.contains(Version(installed.public), prereleases=True):
            items.append(
                {"package": package, "version": str(installed), "expected": str(expected), "torch": str(torch)}
            )
    return tuple(items)


#: Packages whose compiled extension must be present for their ops to work, with the
#: distribution names that ship without it on purpose (lite builds).
_EXTENSIONS = {"mmcv": ("mmcv._ext", ("mmcv-lite",))}


def _extension_items(env: Environment, facts: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    items = []
    for package, (module, _lite) in _EXTENSIONS.items():
        version = facts.get(f"dist.{package}")
        if version is None:
            continue
        if not env.python.module_files.get(module):
            items.append({"package": package, "version": version, "module": module})
    return tuple(items)


def _unknown_items(env: Environment) -> tuple[dict[str, Any], ...]:
    items = []
    for prefix, unknown in (
        ("python", env.python.unknown),
        ("torch", env.torch.unknown if env.torch else {}),
        ("host", env.host.unknown),
    ):
        for fact, reason in unknown.items():
            items.append({"fact": f"{prefix}.{fact}", "reason": reason})
    return tuple(items)


def build_facts(env: Environment, compat: Compat) -> FactView:
    """The namespace and collections for one environment."""
    facts: dict[str, Any] = {
        "python.version": env.python.version,
        "python.implementation": env.python.implementation,
        "python.executable": env.python.executable,
        "python.in_venv": env.python.in_venv,
        "python.platform": env.python.platform,
    }
    for dist in reversed(env.python.distributions):  # the first on sys.path wins
        facts[f"dist.{dist.key}"] = dist.version
    facts.update(_torch_facts(env, compat))
    facts.update(_host_facts(env, compat))
    facts["cuda.driver_status"] = _driver_status(facts, env, compat)
    facts["nvcc.torch_relation"] = _nvcc_relation(facts)
    if env.deep is not None:
        facts.update(
            {
                "deep.status": env.deep.status,
                "deep.cuda_available": env.deep.cuda_available,
                "deep.device_count": env.deep.device_count,
                "deep.cudnn_version": env.deep.cudnn_version,
                "deep.error": env.deep.error,
            }
        )
    metadata, import_time = _requirement_items(env)
    collections = {
        "gpus": _gpu_items(env, facts, compat),
        "requirement_violations": metadata,
        "import_bound_violations": import_time,
        "duplicates": tuple(
            {"kind": d.kind, "name": d.name, "installs": d.installs, "active": d.active} for d in env.python.duplicates
        ),
        "numpy1_builds": _numpy1_items(env, facts, compat),
        "torch_family_mismatches": _torch_family_items(facts, compat),
        "ld_shadows": tuple({"path": p} for p in env.host.ld_shadows),
        "missing_extensions": _extension_items(env, facts),
        "unknown_facts": _unknown_items(env),
        "broken_metadata": tuple(
            {"name": d.name, "version": d.version, "location": d.location, "error": d.metadata_error}
            for d in env.python.distributions
            if d.metadata_error
        ),
    }
    facts["gpus.unsupported"] = tuple(g["sm"] for g in collections["gpus"] if g["supported"] is False)
    return FactView(facts, collections)
