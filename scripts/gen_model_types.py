"""Generate knowledge/compat/hf_model_types.toml: transformers model type -> first release.

transformers resolves a checkpoint's ``config.json`` ``model_type`` through its auto-config
mapping (``CONFIG_MAPPING`` in 2.x/3.x, ``CONFIG_MAPPING_NAMES`` from 4.x, moved to the
generated ``auto_mappings.py`` in 5.x with a few additions kept in ``configuration_auto.py``).
This script reads that mapping from the released wheels themselves (``pip download --no-deps``
from the package index; the same files as the git tags, and what users install), release by
release, and records for each model type the first release that knows it and, if it was
dropped again, the first release without it.

Which releases are read: the first and the last release of every minor line
(``4.40.0`` and ``4.40.2``); when those two differ, every release of that line, so a model
added in a patch release (a rare but real case) gets its exact patch release. Only the two
mapping files of each wheel are kept (``--cache``), so a refresh downloads only new releases.

Run: python scripts/gen_model_types.py [--cache DIR] [--out PATH] [--jobs N]
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import datetime
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from packaging.version import Version

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "knowledge" / "compat" / "hf_model_types.toml"
CACHE = Path(tempfile.gettempdir()) / "envdoctor-transformers-auto"
#: Files (inside the wheel) that hold the auto-config mapping, across 2.x to 5.x layouts.
MAPPING_FILES = (
    "transformers/configuration_auto.py",
    "transformers/models/auto/configuration_auto.py",
    "transformers/models/auto/auto_mappings.py",
)
_MAPPING_NAMES = {"CONFIG_MAPPING", "CONFIG_MAPPING_NAMES"}


def list_releases() -> list[Version]:
    """Every final transformers release on the index, oldest first (``pip index versions``)."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "transformers"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("Available versions:"))
    versions = [Version(v.strip()) for v in line.split(":", 1)[1].split(",")]
    return sorted(v for v in versions if not v.is_prerelease and not v.is_devrelease and v >= Version("2.0"))


def fetch(version: Version, cache: Path) -> Path:
    """The cached mapping files of one release (downloads its wheel once)."""
    target = cache / str(version)
    if (target / "DONE").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.11", "-d", tmp, f"transformers=={version}"],
            check=True,
            timeout=600,
        )  # fmt: skip
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            stamps = []
            for info in archive.infolist():
                stamps.append(info.date_time)
                if info.filename in MAPPING_FILES:
                    name = info.filename.replace("/", "__")
                    (target / name).write_bytes(archive.read(info))
            newest = max(stamps)
            (target / "BUILT").write_text(datetime.date(*newest[:3]).isoformat(), encoding="utf-8")
    (target / "DONE").write_text("", encoding="utf-8")
    return target


def _keys_of(node: ast.AST) -> set[str]:
    """String model types in a mapping expression: ``("bert", BertConfig)`` pairs and dict keys."""
    found: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Tuple) and len(sub.elts) == 2:
            first, second = sub.elts
            named = isinstance(second, (ast.Name, ast.Attribute))
            quoted = isinstance(second, ast.Constant) and isinstance(second.value, str)
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and (named or quoted):
                found.add(first.value)
        elif isinstance(sub, ast.Dict):
            for key in sub.keys:
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    found.add(key.value)
    return found


def model_types(source: str) -> set[str]:
    """Model types one mapping file declares (assignments to and ``.update`` of the mapping)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in _MAPPING_NAMES for t in node.targets
        ):
            if isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") == "_LazyConfigMapping":
                continue  # CONFIG_MAPPING = _LazyConfigMapping(CONFIG_MAPPING_NAMES): no literals
            found |= _keys_of(node.value)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in _MAPPING_NAMES
        ):
            found |= _keys_of(node)
    return found


def release_types(folder: Path) -> set[str]:
    types: set[str] = set()
    for name in MAPPING_FILES:
        path = folder / name.replace("/", "__")
        if path.exists():
            types |= model_types(path.read_text(encoding="utf-8"))
    return types


def _minor(version: Version) -> tuple[int, int]:
    return version.major, version.minor


def read_all(releases: list[Version], cache: Path, jobs: int) -> dict[Version, set[str]]:
    """Model types per release read: first and last of each minor line, all of it where they differ."""
    lines: dict[tuple[int, int], list[Version]] = {}
    for version in releases:
        lines.setdefault(_minor(version), []).append(version)

    def read(versions: list[Version]) -> dict[Version, set[str]]:
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            folders = list(pool.map(lambda v: fetch(v, cache), versions))
        return {v: release_types(f) for v, f in zip(versions, folders, strict=True)}

    ends = sorted({line[0] for line in lines.values()} | {line[-1] for line in lines.values()})
    seen = read(ends)
    middles = [v for line in lines.values() if seen[line[0]] != seen[line[-1]] for v in line[1:-1] if v not in seen]
    seen.update(read(middles))
    return seen


def build_table(seen: dict[Version, set[str]], cache: Path) -> str:
    versions = sorted(v for v, types in seen.items() if types)
    first: dict[str, Version] = {}
    removed: dict[str, Version] = {}
    previous: set[str] = set()
    for version in versions:
        types = seen[version]
        for model_type in types:
            first.setdefault(model_type, version)
            removed.pop(model_type, None)
        for model_type in previous - types:
            removed.setdefault(model_type, version)
        previous = types
    reach = versions[-1]
    built = (cache / str(reach) / "BUILT").read_text(encoding="utf-8").strip()
    lines = [
        "# Generated by scripts/gen_model_types.py from the transformers wheels on PyPI; do not edit by hand.",
        "# Each model type: the first release whose auto-config mapping (CONFIG_MAPPING[_NAMES]) has it,",
        "# and `removed`, the first release without it, where it was dropped and has not come back.",
        'source = "transformers wheels on PyPI: transformers/models/auto/configuration_auto.py, auto_mappings.py'
        ' (2.x/3.x: transformers/configuration_auto.py)"',
        f'reach = "{reach}"',
        f'reach_date = "{built}"',
        f'first_read = "{versions[0]}"',
        f"releases_read = {len(versions)}",
        f'generated = "{datetime.date.today().isoformat()}"',
        "",
        "[model_types]",
    ]
    for model_type in sorted(first):
        row = f'first = "{first[model_type]}"'
        if model_type in removed:
            row += f', removed = "{removed[model_type]}"'
        key = model_type if re.fullmatch(r"[A-Za-z0-9_-]+", model_type) else f'"{model_type}"'
        lines.append(f"{key} = {{ {row} }}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the mapping files of each release are kept")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--jobs", type=int, default=4, help="parallel downloads")
    args = parser.parse_args()
    releases = list_releases()
    seen = read_all(releases, args.cache, args.jobs)
    text = build_table(seen, args.cache)
    args.out.write_text(text, encoding="utf-8")
    rows = text.count("first = ")
    print(f"{args.out}: {rows} model types from {len(seen)} releases read ({releases[0]} .. {releases[-1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
