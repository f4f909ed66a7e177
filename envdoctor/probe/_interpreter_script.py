"""Print facts about the interpreter that runs this file, as one JSON object on stdout.

envdoctor runs this file inside the inspected interpreter (the current one or ``--python``)
with ``-B`` so nothing is written into that environment. It must stay standard-library
only, import nothing from envdoctor, import no installed package, and run on Python 3.8+:
it reads metadata files and lists directories, and never imports what it describes.
The JSON follows a marker line so that a noisy ``sitecustomize`` cannot corrupt it.
Usage: ``python -B _interpreter_script.py [MODULE ...]`` where each MODULE is a top-level
name whose package directories should be reported.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import site
import sys
import sysconfig
from typing import Any

MARKER = "@@ENVDOCTOR-JSON@@"
SCHEMA = 1

# Compiled extensions whose presence (and Python/ABI tag) matters for diagnosis:
# key -> (package that holds it or None for a top-level module, file-name prefix).
EXTENSIONS = {
    "torch._C": ("torch", "_C."),
    "torchvision._C": ("torchvision", "_C."),
    "torchaudio.lib._torchaudio": ("torchaudio/lib", "_torchaudio."),
    "mmcv._ext": ("mmcv", "_ext."),
    "groundingdino._C": ("groundingdino", "_C."),
    "detectron2._C": ("detectron2", "_C."),
    "xformers._C": ("xformers", "_C."),
    "pytorch3d._C": ("pytorch3d", "_C."),
    "flash_attn_2_cuda": (None, "flash_attn_2_cuda."),
    "flash_attn_3._C": ("flash_attn_3", "_C."),
    "amp_C": (None, "amp_C."),
    "fused_layer_norm_cuda": (None, "fused_layer_norm_cuda."),
    "apex_C": (None, "apex_C."),
    "bitsandbytes.libbitsandbytes": ("bitsandbytes", "libbitsandbytes"),
    "torch_scatter._scatter": ("torch_scatter", "_scatter_"),
    "MultiScaleDeformableAttention": (None, "MultiScaleDeformableAttention."),
}
EXTENSION_SUFFIXES = (".so", ".pyd", ".dylib")

# Top-level names that several distributions legitimately share (namespace packages).
SHARED_TOP_LEVEL = {
    "nvidia",
    "google",
    "jaraco",
    "azure",
    "mpl_toolkits",
    "sphinxcontrib",
    "zope",
    "backports",
    "_distutils_hack",
    "tests",
    "test",
    "docs",
    "examples",
}

HEADER_FIELDS = ("name", "version", "requires-dist")


def parse_headers(text: str) -> dict[str, list[str]]:
    """Parse an RFC 822 style METADATA header block (the body is ignored)."""
    fields: dict[str, list[str]] = {"name": [], "version": [], "requires-dist": []}
    current = None
    for line in text.splitlines():
        if not line.strip():
            break
        if line[0] in " \t":
            if current is not None and fields[current]:
                fields[current][-1] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"malformed header line {line[:80]!r}")
        key = key.strip().lower()
        current = key if key in fields else None
        if current is not None:
            fields[current].append(value.strip())
    return fields


def read_text(path: str) -> str:
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8")


def requires_from_egg(text: str) -> list[str]:
    """Turn an egg-info ``requires.txt`` into PEP 508 strings (as importlib.metadata does)."""
    result = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        extra, _, markers = section.partition(":")
        conditions = []
        if extra:
            conditions.append(f'extra == "{extra}"')
        if markers:
            conditions.append(f"({markers})")
        result.append(line + ("; " + " and ".join(conditions) if conditions else ""))
    return result


def top_level_from_record(text: str) -> list[str]:
    names = []
    for line in text.splitlines():
        path = line.split(",", 1)[0].strip().strip('"')
        if not path or path.startswith(".."):
            continue
        first = path.replace("\\", "/").split("/", 1)
        head = first[0]
        if head.endswith((".dist-info", ".egg-info", ".data", ".pth")) or head == "__pycache__":
            continue
        if len(first) == 1:
            stem = head.split(".", 1)[0]
            if head.endswith((".py", *EXTENSION_SUFFIXES)) and stem.isidentifier():
                names.append(stem)
        elif head.isidentifier():
            names.append(head)
    seen = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen


def describe_distribution(meta_dir: str, location: str, kind: str) -> dict[str, Any]:
    """One distribution from its ``.dist-info``/``.egg-info`` directory or PKG-INFO file."""
    base = os.path.basename(meta_dir)
    stem = base.rsplit(".", 1)[0]
    dir_name, _, dir_version = stem.partition("-")
    dir_version = dir_version.split("-", 1)[0]
    info: dict[str, Any] = {
        "name": dir_name,
        "version": dir_version,
        "location": location,
        "path": meta_dir,
        "requires": [],
        "top_level": [],
        "installer": None,
        "metadata_error": None,
        "has_record": None,
    }
    is_dir = kind != "egg-info-file"
    if kind == "dist-info":
        meta_file = os.path.join(meta_dir, "METADATA")
    elif is_dir:
        meta_file = os.path.join(meta_dir, "PKG-INFO")
    else:
        meta_file = meta_dir
    try:
        fields = parse_headers(read_text(meta_file))
        if not fields["name"] or not fields["version"]:
            raise ValueError("no Name or Version header")
        info["name"] = fields["name"][0]
        info["version"] = fields["version"][0]
        info["requires"] = fields["requires-dist"]
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        info["metadata_error"] = f"{os.path.basename(meta_file)}: {exc}"
    if not is_dir:
        return info
    if kind != "dist-info":
        with contextlib.suppress(OSError, ValueError):
            info["requires"] = requires_from_egg(read_text(os.path.join(meta_dir, "requires.txt")))
    try:
        text = read_text(os.path.join(meta_dir, "top_level.txt"))
        info["top_level"] = [n.strip() for n in text.splitlines() if n.strip()]
    except (OSError, ValueError):
        with contextlib.suppress(OSError, ValueError):
            info["top_level"] = top_level_from_record(read_text(os.path.join(meta_dir, "RECORD")))
    with contextlib.suppress(OSError, ValueError):
        info["installer"] = read_text(os.path.join(meta_dir, "INSTALLER")).strip() or None
    if kind == "dist-info":
        # pip uninstalls a dist-info only through its RECORD; without it pip refuses.
        info["has_record"] = os.path.isfile(os.path.join(meta_dir, "RECORD"))
    return info


def list_dir(path: str, unknown: dict[str, str]) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except PermissionError as exc:
        unknown["sys_path:" + path] = f"cannot list: {exc}"
    except OSError:
        pass  # a missing sys.path entry is normal
    return []


def collect_distributions(paths: list[str], listings: dict[str, list[str]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for location in paths:
        for entry in listings.get(location, ()):
            full = os.path.join(location, entry)
            if entry.endswith(".dist-info"):
                kind = "dist-info"
            elif entry.endswith(".egg-info"):
                kind = "egg-info" if os.path.isdir(full) else "egg-info-file"
            elif entry.endswith(".egg") and os.path.isdir(os.path.join(full, "EGG-INFO")):
                found.append(describe_distribution(os.path.join(full, "EGG-INFO"), full, "egg-info"))
                continue
            else:
                continue
            found.append(describe_distribution(full, location, kind))
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def find_duplicates(distributions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    duplicates: list[dict[str, Any]] = []
    by_name: dict[str, list[dict[str, Any]]] = {}
    for dist in distributions:
        by_name.setdefault(canonical(dist["name"]), []).append(dist)
    for key, dists in by_name.items():
        if len(dists) > 1:
            locations = [d["location"] for d in dists]
            # Two metadata dirs in one directory: which one import sees is undefined.
            ambiguous = locations.count(locations[0]) > 1
            duplicates.append(
                {
                    "kind": "same-distribution",
                    "name": key,
                    "installs": [d["path"] for d in dists],
                    "active": None if ambiguous else dists[0]["path"],
                }
            )
    providers: dict[str, list[dict[str, Any]]] = {}
    for dists in by_name.values():
        active = dists[0]
        for module in active["top_level"]:
            if module not in SHARED_TOP_LEVEL:
                providers.setdefault(module, []).append(active)
    for module, dists in providers.items():
        if len(dists) < 2:
            continue
        # Namespace packages (no __init__.py anywhere) may be shared on purpose.
        if os.path.isdir(os.path.join(dists[0]["location"], module)) and not any(
            os.path.exists(os.path.join(d["location"], module, "__init__.py")) for d in dists
        ):
            continue
        duplicates.append(
            {
                "kind": "same-module",
                "name": module,
                "installs": [d["path"] for d in dists],
                "active": None,
            }
        )
    return duplicates


def package_dirs(modules: list[str], paths: list[str], listings: dict[str, list[str]]) -> dict[str, list[str]]:
    """Directories (in sys.path order) that hold a top-level package of each name."""
    result: dict[str, list[str]] = {}
    for module in modules:
        dirs = []
        for location in paths:
            if module in listings.get(location, ()) and os.path.isdir(os.path.join(location, module)):
                dirs.append(os.path.join(location, module))
        if dirs:
            result[module] = dirs
    return result


def extension_files(paths: list[str], listings: dict[str, list[str]], unknown: dict[str, str]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for key, (package, prefix) in EXTENSIONS.items():
        files = []
        present = False
        for location in paths:
            if package is None:
                names = listings.get(location, ())
                folder = location
            else:
                top = package.split("/", 1)[0]
                if top not in listings.get(location, ()):
                    continue
                folder = os.path.join(location, *package.split("/"))
                if not os.path.isdir(folder):
                    continue
                present = True
                names = list_dir(folder, unknown)
            for name in names:
                if name.startswith(prefix) and name.endswith(EXTENSION_SUFFIXES):
                    files.append(os.path.join(folder, name))
            if present:
                break  # only the first (active) copy of a package is imported
        if files or present:
            result[key] = files
    return result


def path_origins(paths: list[str], listings: dict[str, list[str]]) -> dict[str, str]:
    """What put each ``sys.path`` entry there: a ``.pth`` file's line, or PYTHONPATH.

    site.py adds every existing directory named on a line of a ``.pth`` file in a site
    directory (lines starting with ``import`` are code, not paths).
    """
    origins: dict[str, str] = {}
    wanted = {os.path.normcase(os.path.abspath(p)): p for p in paths}
    for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        key = os.path.normcase(os.path.abspath(entry)) if entry else ""
        if key in wanted:
            origins.setdefault(wanted[key], "PYTHONPATH")
    for location in paths:
        for name in listings.get(location, ()):
            if not name.endswith(".pth"):
                continue
            pth = os.path.join(location, name)
            try:
                lines = read_text(pth).splitlines()
            except (OSError, ValueError):
                continue
            for number, line in enumerate(lines, 1):
                text = line.strip()
                if not text or text.startswith(("#", "import ", "import\t")):
                    continue
                key = os.path.normcase(os.path.abspath(os.path.join(location, text)))
                if key in wanted:
                    origins.setdefault(wanted[key], f"{pth}:{number}")
    return origins


def glibc_version() -> tuple[int, int] | None:
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        return None
    match = re.match(r"glibc (\d+)\.(\d+)", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def platform_tags() -> list[str]:
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    if plat.startswith("linux_"):
        arch = plat[len("linux_") :]
        if arch == "x86_64" and sys.maxsize <= 2**32:
            arch = "i686"
            plat = "linux_i686"
        glibc = glibc_version()
        tags = [plat]  # packaging >= 26 ranks the plain linux tag (local builds) first
        if glibc is not None and glibc[0] == 2:
            oldest = 5 if arch in ("x86_64", "i686") else 17
            legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
            for minor in range(glibc[1], oldest - 1, -1):
                tags.append(f"manylinux_2_{minor}_{arch}")
                if minor in legacy:
                    tags.append(f"{legacy[minor]}_{arch}")
        return tags
    if plat.startswith("macosx_"):
        parts = plat.split("_")
        major, minor, arch = int(parts[1]), int(parts[2]), "_".join(parts[3:])
        tags = []
        if major >= 11:
            for version in range(major, 10, -1):
                tags.append(f"macosx_{version}_0_{arch}")
        else:
            for version in range(minor, 3, -1):
                tags.append(f"macosx_10_{version}_{arch}")
        return tags
    return [plat]


def compatible_tags() -> list[str]:
    """The most specific wheel tags this interpreter accepts, best first (no packaging)."""
    major, minor = sys.version_info[:2]
    impl = {"cpython": "cp", "pypy": "pp"}.get(sys.implementation.name, sys.implementation.name)
    interpreter = f"{impl}{major}{minor}"
    soabi = sysconfig.get_config_var("SOABI") or ""
    abi = None
    match = re.match(r"cpython-(\d+)([a-z]*)", soabi)
    if impl == "cp" and match:
        abi = "cp" + match.group(1) + match.group(2)
    elif soabi:
        abi = re.sub(r"[-.]", "_", "-".join(soabi.split("-")[:2]))
    plats = platform_tags()
    tags: list[str] = []
    if abi:
        tags.extend(f"{interpreter}-{abi}-{p}" for p in plats)
    if impl == "cp" and abi and not abi.endswith("t"):  # no stable ABI when free-threaded
        tags.extend(f"{interpreter}-abi3-{p}" for p in plats)
    tags.extend(f"{interpreter}-none-{p}" for p in plats)
    tags.extend(f"py{major}-none-{p}" for p in plats)
    tags.append(f"{interpreter}-none-any")
    tags.append(f"py{major}-none-any")
    return tags


def full_version(info: Any) -> str:
    text = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        text += info.releaselevel[0] + str(info.serial)
    return text


def marker_environment() -> dict[str, str]:
    """PEP 508 marker values, computed as packaging.markers.default_environment() does."""
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def main(argv: list[str]) -> int:
    unknown: dict[str, str] = {}
    here = os.path.dirname(os.path.abspath(__file__))
    # Running a file puts its own directory first on sys.path: that is envdoctor's, not
    # the environment's, so it is dropped (``python -P`` exists only from 3.11).
    paths = [p for p in sys.path if p and os.path.abspath(p) != here]
    listings: dict[str, list[str]] = {}
    for location in paths:
        if location not in listings:
            listings[location] = list_dir(location, unknown)
    try:
        site_packages = [p for p in site.getsitepackages() if os.path.isdir(p)]
    except AttributeError:  # old virtualenv's site.py
        site_packages = []
        unknown["site_packages"] = "site.getsitepackages() is missing (old virtualenv)"
    user_site = getattr(site, "USER_SITE", None) if getattr(site, "ENABLE_USER_SITE", False) else None
    distributions = collect_distributions(list(dict.fromkeys(paths)), listings)
    conda_meta = os.path.isdir(os.path.join(sys.prefix, "conda-meta"))
    base_prefix = getattr(sys, "base_prefix", sys.prefix)
    result = {
        "schema": SCHEMA,
        "executable": sys.executable,
        "version": platform.python_version(),
        "version_info": list(sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "platform": sys.platform,
        "machine": platform.machine(),
        "sysconfig_platform": sysconfig.get_platform(),
        "prefix": sys.prefix,
        "base_prefix": base_prefix,
        "in_venv": sys.prefix != base_prefix,
        "conda_prefix": sys.prefix if conda_meta else None,
        "sys_path": paths,
        "site_packages": site_packages,
        "user_site": user_site,
        "tags": compatible_tags(),
        "markers": marker_environment(),
        "distributions": distributions,
        "duplicates": find_duplicates(distributions),
        "package_dirs": package_dirs(argv, paths, listings),
        "module_files": extension_files(paths, listings, unknown),
        "path_origins": path_origins(paths, listings),
        "unknown": unknown,
    }
    sys.stdout.write(MARKER + "\n" + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
