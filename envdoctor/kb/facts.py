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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from envdoctor.kb.compat import Compat
from envdoctor.kb.conditions import as_version
from envdoctor.kb.requires import applies, is_extra_only, parse_requirement
from envdoctor.model import Distribution, Environment, small_number

__all__ = ["FactView", "build_facts", "driver_text"]


@dataclass(frozen=True)
class FactView:
    """The scalar namespace plus the named collections of item namespaces.

    ``skipped`` maps a check id to why it could not judge this environment (a version
    newer than the knowledge reaches, a fact that could not be collected): a report says
    "not checked", never passes silently.
    """

    scalars: Mapping[str, Any]
    collections: Mapping[str, tuple[Mapping[str, Any], ...]]
    skipped: Mapping[str, str] = field(default_factory=dict)

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
        if len(digits) < 2 or not small_number(digits, 6):
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
    # A provider stands in for the distribution it provides (mmcv-lite for mmcv): the
    # finding and its pin name the provider that is really installed.
    provided_by = (
        dependency.name if dependency is not None and dependency.key != canonicalize_name(requirement.name) else None
    )
    base = {
        "package": owner.name,
        "package_version": owner.version,
        "requirement": requirement_text,
        "dependency": provided_by or requirement.name,
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
    for dist in {id(d): d for d in installed.values()}.values():
        for text in dist.requires:
            if is_extra_only(text):
                continue
            requirement = parse_requirement(text)
            if requirement is not None and canonicalize_name(requirement.name) == key:
                owners.append(f"{dist.name} {dist.version}")
    # Never "unknown": nothing requiring it means it was installed on its own.
    return ", ".join(owners) or "no installed distribution (installed directly)"


#: Import names whose distribution is not named after them.
_IMPORT_DISTRIBUTION = {
    "cv2": "opencv-python",
    "PIL": "pillow",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "yaml": "pyyaml",
}
#: Top-level names many distributions share (namespace packages, test folders).
_SHARED_TOP_LEVEL = frozenset({"google", "nvidia", "tests", "test", "docs", "examples", "_distutils_hack", "azure"})


def providers(env: Environment) -> dict[str, Distribution]:
    """Distribution name -> the installed distribution that provides its import package.

    ``mmcv-lite`` and ``mmcv-full`` provide ``mmcv``, ``opencv-python-headless`` provides
    ``cv2`` (so ``opencv-python``), ``tensorflow-cpu`` provides ``tensorflow``: read from each
    distribution's top_level.txt (or RECORD). A distribution installed under its own name
    always wins; the first provider on sys.path wins among several.
    """
    installed = {d.key for d in env.python.distributions}
    aliases: dict[str, Distribution] = {}
    for dist in env.python.distributions:
        for module in dist.top_level:
            if module in _SHARED_TOP_LEVEL or module.startswith("_"):
                continue
            alias = canonicalize_name(_IMPORT_DISTRIBUTION.get(module, module))
            if alias == dist.key or alias in installed:
                continue
            aliases.setdefault(alias, dist)
    return aliases


def _installed(env: Environment) -> dict[str, Distribution]:
    """Canonical name -> active distribution, providers standing in for what they provide."""
    installed: dict[str, Distribution] = {}
    for dist in env.python.distributions:
        installed.setdefault(dist.key, dist)  # first on sys.path wins, as at import time
    for alias, dist in providers(env).items():
        installed.setdefault(alias, dist)
    return installed


def _requirement_items(env: Environment) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
    installed = _installed(env)
    markers = _marker_env(env)
    metadata = []
    for key, dist in installed.items():
        if key != dist.key:
            continue  # an alias: its provider's own requirements are read once
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
    # One range, one finding: a bound the package also declares in its metadata is reported
    # once, as the import-time error (pip check's warning would repeat it with a second pin).
    seen = {(canonicalize_name(i["package"]), canonicalize_name(i["dependency"]), _spec_key(i)) for i in import_time}
    metadata = [
        i
        for i in metadata
        if (canonicalize_name(i["package"]), canonicalize_name(i["dependency"]), _spec_key(i)) not in seen
    ]
    return tuple(metadata), tuple(import_time)


def _spec_key(item: Mapping[str, Any]) -> SpecifierSet | str:
    try:
        return SpecifierSet(str(item["specifier"]))
    except InvalidSpecifier:
        return str(item["specifier"])


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


_TORCH_INDEX = "https://download.pytorch.org/whl/"


def _variant(label: str | None) -> str | None:
    """cpu, cuXYZ or rocmX.Y from a local version label; ``None`` when there is none."""
    if not label:
        return None
    label = label.lower()
    if label == "cpu" or re.fullmatch(r"cu\d{3,4}", label) or re.fullmatch(r"rocm\d+(\.\d+)*", label):
        return label
    return None


def _torch_variant(facts: Mapping[str, Any]) -> str | None:
    variant = _variant(facts.get("torch.local"))
    if variant is None and facts.get("torch.installed"):
        cuda, hip = as_version(facts.get("torch.cuda")), facts.get("torch.hip")
        if cuda is not None:
            variant = f"cu{cuda.major}{cuda.minor}"
        elif hip:
            variant = None
        elif facts.get("torch.version"):
            variant = "cpu"
    return variant


def _install_command(package: str, version: str, dist_torch: str | None) -> str:
    """pip command that installs exactly ``package==version`` for the installed torch, torch kept.

    ``--no-deps`` keeps pip from "upgrading" torch to satisfy the companion's pin of another
    patch release; the index is torch's own (its dist-info version carries the local label
    when it came from download.pytorch.org), else PyPI.
    """
    parsed = as_version(dist_torch)
    label = _variant(parsed.local) if parsed is not None else None
    index = f" --index-url {_TORCH_INDEX}{label}" if label else ""
    return f"pip install --no-deps '{package}=={version}'{index}"


def _torch_family_items(
    facts: Mapping[str, Any], compat: Compat, skipped: dict[str, str]
) -> tuple[dict[str, Any], ...]:
    """torchvision / torchaudio built for another torch release (TH002).

    The exact partner comes from the generated table (each companion's own
    ``Requires-Dist: torch==X``); a companion or torch newer than the table reaches is
    "not checked", never passed.
    """
    torch = as_version(facts.get("torch.version") or facts.get("dist.torch"))
    if torch is None:
        return ()
    torch_public = Version(torch.public)
    items = []
    for package in ("torchvision", "torchaudio"):
        installed = as_version(facts.get(f"dist.{package}"))
        if installed is None:
            continue
        public = Version(installed.public)
        for name, version in (("torch", torch_public), (package, public)):
            if compat.beyond_reach(name, version):
                reach = compat.reach(name)
                skipped.setdefault(
                    "TH002",
                    f"{name} {version} is newer than this knowledge ({reach}, generated "
                    f"{compat.torch_meta.generated or 'at an unknown date'}); "
                    "refresh it with `python -m envdoctor.kb.refresh`",
                )
        needs_torch = compat.torch_for_companion(package, public)
        partner = compat.companion_partner(package, torch_public)
        series = compat.expected_torchvision(torch) if package == "torchvision" else compat.expected_torchaudio(torch)
        if needs_torch is not None:
            # Patch partners (0.16.2 pins torch==2.1.2) share the ABI of their line; pip check
            # (PY001) reports the exact pin, this check the broken pairing across lines.
            mismatch = needs_torch.release[:2] != torch_public.release[:2]
        elif series is not None:
            mismatch = not series.contains(public, prereleases=True)
        else:
            continue
        if not mismatch:
            continue
        if partner is not None:
            expected = f"=={partner}"
            fix = _install_command(package, str(partner), facts.get("dist.torch"))
        elif series is not None:
            expected = str(series)
            fix = f"pip install --no-deps '{package}{expected}'"
        else:
            # The companion is certainly built for another torch line, but no release for
            # this torch was on the index when the knowledge was generated.
            expected = f" built for torch {torch_public.major}.{torch_public.minor} (none known yet)"
            fix = (
                f"no {package} for torch {torch_public.major}.{torch_public.minor} is known yet: "
                f"install torch=={needs_torch} to match {package} {public}, or refresh the knowledge "
                "(python -m envdoctor.kb.refresh) and install the new release"
            )
        items.append(
            {
                "package": package,
                "version": str(installed),
                "expected": expected,
                "torch": str(torch),
                "torch_public": str(torch_public),
                "needs_torch": str(needs_torch) if needs_torch is not None else "a torch " + str(series),
                "install": fix,
            }
        )
    return tuple(items)


def _variant_items(env: Environment, facts: Mapping[str, Any], compat: Compat) -> tuple[dict[str, Any], ...]:
    """torchvision / torchaudio built for another variant (CPU, a CUDA, ROCm) than torch.

    The variant is the local label of the ``__version__`` literal in each package's
    ``version.py`` (``0.28.0+cu130``): the PyPI torchvision is a CUDA build, so beside a
    ``+cpu`` torch its operators fail to load (``operator torchvision::nms does not exist``).
    """
    if env.torch is None:
        return ()
    torch_variant = _torch_variant(facts)
    if torch_variant is None:
        return ()
    items = []
    for package, version_text in sorted(env.torch.companions.items()):
        version = as_version(version_text)
        variant = _variant(version.local) if version is not None else None
        if version is None or variant is None or variant == torch_variant:
            continue
        kinds = {
            v: ("cpu" if v == "cpu" else "rocm" if v.startswith("rocm") else "cuda") for v in (variant, torch_variant)
        }
        # torchvision refuses only a different CUDA major ("compiled with different CUDA
        # major versions", torchvision/extension.py _check_cuda_version).
        if kinds[variant] == kinds[torch_variant] == "cuda" and variant[2:-1] == torch_variant[2:-1]:
            continue
        torch_public = as_version(facts.get("torch.version"))
        partner = (compat.companion_partner(package, torch_public) if torch_public is not None else None) or Version(
            version.public
        )
        index = f"{_TORCH_INDEX}{torch_variant}"
        items.append(
            {
                "package": package,
                "version": version_text,
                "variant": variant,
                "torch": str(facts.get("torch.version")),
                "torch_variant": torch_variant,
                "partner": str(partner),
                "index_url": index,
                "install": f"pip install --no-deps --force-reinstall '{package}=={partner}' --index-url {index}",
            }
        )
    return tuple(items)


_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)', re.MULTILINE)


def _raised_in(error: str | None) -> str:
    """The innermost traceback frame of a captured error (``path:line``), or why there is none."""
    frames = list(_FRAME.finditer(error or ""))
    if not frames:
        return "no traceback (a crash or a hang)"
    last = frames[-1]
    return f"{last.group('file')}:{last.group('line')}"


def _record_items(env: Environment) -> tuple[dict[str, Any], ...]:
    return tuple(
        {"name": d.name, "version": d.version, "location": d.location}
        for d in env.python.distributions
        if d.has_record is False
    )


def _duplicate_items(env: Environment) -> tuple[dict[str, Any], ...]:
    """Duplicates, each with what put its other copies on sys.path (a .pth line, PYTHONPATH, ...)."""
    items = []
    for duplicate in env.python.duplicates:
        origins = []
        for install in duplicate.installs:
            if install == duplicate.active:
                continue
            entry = str(install).rsplit("/", 1)[0]
            origin = env.python.path_origins.get(entry)
            if origin is None and env.python.user_site and entry == env.python.user_site:
                origin = "the user site (pip install --user; PYTHONNOUSERSITE=1 hides it)"
            if origin is None and entry in env.python.site_packages:
                origin = "this interpreter's own site-packages"
            origins.append(f"{entry} (put on sys.path by {origin or 'the interpreter default sys.path'})")
        items.append(
            {
                "kind": duplicate.kind,
                "name": duplicate.name,
                "installs": duplicate.installs,
                "active": duplicate.active,
                "origin": "; ".join(origins) or "unknown",
            }
        )
    return tuple(items)


#: Packages whose compiled extension must be present for their ops to work, with the
#: distribution names that ship without it on purpose (lite builds).
_EXTENSIONS = {"mmcv": ("mmcv._ext", ("mmcv-lite",))}


def _extension_items(env: Environment, facts: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    items = []
    provided = providers(env)
    for package, (module, _lite) in _EXTENSIONS.items():
        version = facts.get(f"dist.{package}")
        if version is None:
            continue
        if not env.python.module_files.get(module):
            provider = provided[package].name if package in provided else package
            items.append({"package": package, "version": version, "module": module, "provider": provider})
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


def _api_conflict_items(env: Environment) -> tuple[dict[str, Any], ...]:
    """Installed packages whose own source imports a name the installed dependency lacks
    (:func:`envdoctor.kb.api_history.import_conflicts`, from the generated API history)."""
    from envdoctor.kb.api_history import import_conflicts

    active = {dist.key: dist for dist in reversed(env.python.distributions) if dist.version}
    installed = {key: dist.version for key, dist in active.items()}
    try:
        conflicts = import_conflicts(installed)
    except (OSError, ValueError, KeyError):  # an unreadable history never loses the other checks
        return ()
    kept = [c for c in conflicts if not _installed_files_disagree(c, active.get(c["dependency"]))]
    return tuple(_one_item_per_pair(kept))


def _one_item_per_pair(conflicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One item per (package, dependency): transformers 5 beside huggingface-hub 0.26 lacks nine
    names for one reason, and says so once. The pins of every name are joined into one."""
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for conflict in conflicts:
        pairs.setdefault((conflict["package"], conflict["dependency"]), []).append(conflict)
    out = []
    for group in pairs.values():
        group.sort(key=lambda c: c["symbol"])
        first, more = group[0], len(group) - 1
        item = dict(first)
        item["symbols"] = ", ".join(c["symbol"] for c in group)
        if more:
            item["symbol"] = f"{first['symbol']} (and {more} more name{'s' if more > 1 else ''})"
            item["present_in"] = "; ".join(f"{c['symbol']}: {c['present_in']}" for c in group)
            item["pin"] = _joined_pin([c["pin"] for c in group]) or first["pin"]
            item["caller_pin"] = _joined_pin([c["caller_pin"] for c in group if c["caller_pin"]]) or ""
        out.append(item)
    return out


def _joined_pin(pins: list[str]) -> str | None:
    """``dep>=1.0``, ``dep>=1.2`` and ``dep<3`` as ``dep>=1.2,<3`` (the tightest bound each way);
    ``None`` if they do not parse, name different packages, or leave no release between them."""
    try:
        requirements = [Requirement(pin) for pin in pins]
    except ValueError:
        return None
    if not requirements or len({canonicalize_name(r.name) for r in requirements}) != 1:
        return None
    lowers: list[tuple[Version, bool]] = []  # (version, exclusive)
    uppers: list[tuple[Version, bool]] = []  # (version, inclusive)
    others: set[str] = set()
    for spec in (spec for requirement in requirements for spec in requirement.specifier):
        try:
            version = Version(spec.version)
        except ValueError:
            others.add(str(spec))
            continue
        if spec.operator in (">=", ">"):
            lowers.append((version, spec.operator == ">"))
        elif spec.operator in ("<", "<="):
            uppers.append((version, spec.operator == "<="))
        else:
            others.add(str(spec))
    parts = []
    lower = max(lowers) if lowers else None
    upper = min(uppers) if uppers else None
    if (
        lower is not None
        and upper is not None
        and (lower[0] > upper[0] or (lower[0] == upper[0] and (lower[1] or not upper[1])))
    ):
        return None  # a removal and an addition that no release reconciles: each pin alone says more
    if lower is not None:
        parts.append(f"{'>' if lower[1] else '>='}{lower[0]}")
    if upper is not None:
        parts.append(f"{'<=' if upper[1] else '<'}{upper[0]}")
    return requirements[0].name + ",".join(parts + sorted(others))


def _installed_files_disagree(conflict: Mapping[str, Any], dist: Distribution | None) -> bool:
    """Whether the dependency's installed files show the name the history says it lacks.

    Read only where this machine holds that very install (its dist-info for the version is
    in the location): a report from another machine is judged by the history alone.
    """
    from envdoctor.kb.api_history import installed_has

    if dist is None or not dist.location:
        return False
    site = Path(dist.location)
    stem = f"{dist.name.replace('-', '_')}-{dist.version}"
    if not any((site / f"{variant}.dist-info").is_dir() for variant in (stem, stem.lower())):
        return False
    return installed_has(site, str(conflict["module"]), str(conflict["name"])) is True


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
    for alias, provider in providers(env).items():  # mmcv-lite counts as mmcv
        facts[f"dist.{alias}"] = provider.version
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
    skipped: dict[str, str] = {}
    family = _torch_family_items(facts, compat, skipped)
    torch_version = as_version(facts.get("torch.version"))
    if torch_version is not None and compat.beyond_reach("torch", torch_version):
        reach = f"torch {Version(torch_version.public)} is newer than this knowledge ({compat.reach('torch')})"
        skipped.setdefault("PY006", f"{reach}: the NumPy ABI it was built for is not known")
        if facts.get("torch.is_cuda_build") and not (env.torch and env.torch.arch_list):
            skipped.setdefault("CU003", f"{reach}: its compiled GPU architectures are not known")
    # A companion's `torch==X` pin that TH002 explains is not repeated as PY001 with a
    # second, conflicting pin (torch==2.12.0 beside torch==2.13.0 kept as installed).
    explained = {canonicalize_name(i["package"]) for i in family}
    metadata = tuple(
        i
        for i in metadata
        if not (canonicalize_name(i["package"]) in explained and canonicalize_name(i["dependency"]) == "torch")
    )
    collections = {
        "gpus": _gpu_items(env, facts, compat),
        "requirement_violations": metadata,
        "import_bound_violations": import_time,
        "duplicates": _duplicate_items(env),
        "numpy1_builds": _numpy1_items(env, facts, compat),
        "torch_family_mismatches": family,
        "torch_variant_mismatches": _variant_items(env, facts, compat),
        "missing_record": _record_items(env),
        "import_failures": tuple(
            {
                "module": c.module,
                "distribution": c.distribution,
                "status": c.status,
                "error": c.error,
                "first_line": (c.error or "").splitlines()[0] if c.error else c.status,
                "operation": c.operation or f"import {c.module}",
                "raised_in": _raised_in(c.error),
            }
            for c in env.imports
            if c.status != "ok"
        ),
        "ld_shadows": tuple({"path": p} for p in env.host.ld_shadows),
        "missing_extensions": _extension_items(env, facts),
        "unknown_facts": _unknown_items(env),
        "broken_metadata": tuple(
            {"name": d.name, "version": d.version, "location": d.location, "error": d.metadata_error}
            for d in env.python.distributions
            if d.metadata_error
        ),
        "api_conflicts": _api_conflict_items(env),
    }
    facts["gpus.unsupported"] = tuple(g["sm"] for g in collections["gpus"] if g["supported"] is False)
    return FactView(facts, collections, skipped)
