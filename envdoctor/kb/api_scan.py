"""Generate a package's API history by reading its released files, never importing them.

For one distribution (a ``[package.NAME]`` of ``knowledge/api/PACKAGES.toml``) it lists the
releases on a PEP 691 simple index, keeps the newest patch of each minor (or major) line,
downloads one file per kept release (the smallest wheel, else the sdist) and reads every
``.py`` (and ``.pyi``) member of the import packages with :mod:`ast`:

* the modules that exist (``pkg.sub.mod``, from the member paths);
* each module's top-level names: definitions, assignments, imports, ``__all__``, and the
  string lists of lazy ``__init__`` tables (``_import_structure``, ``_SUBMOD_ATTRS``) and
  of modules with a ``__getattr__``; star imports inside the package are followed; a module
  whose table is built from its files at import time (transformers' ``define_import_structure``)
  is opaque, like one with a ``__getattr__``;
* the parameters of module-level functions and of methods of module-level classes;
* names a function or class deprecates (a ``warn(...)`` call whose message says
  "deprecated", and the replacement it names), and
* ``from OTHER import NAME`` of the other packages in the list (what a release needs of its
  dependencies).

Only what changes is kept: a module, name, parameter or import present in every release
read says nothing about a removal, so it is dropped. Presence is written as intervals over
the list of releases read (``"0-15,18"``). A module whose ``__getattr__`` answers from a table
built at run time carries its previous release's names forward (their absence is unknown
there). A member that does not parse (a syntax newer
than this interpreter, or Python 2) carries its previous release's reading forward and is
counted in ``unreadable``. Standard library plus ``packaging`` only, so
``python -m envdoctor.kb.api_history refresh PKG`` works from an installed envdoctor.
"""

from __future__ import annotations

import ast
import fnmatch
import io
import json
import re
import sys
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

__all__ = [
    "DEFAULT_INDEX",
    "PackageSpec",
    "ReleaseFile",
    "ScanError",
    "ModuleReading",
    "read_module",
    "choose_releases",
    "scan_package",
    "intervals",
]

DEFAULT_INDEX = "https://pypi.org/simple"
_USER_AGENT = "envdoctor-api-history"
_TIMEOUT = 120.0
#: Files larger than this are not downloaded (a torch CUDA wheel); a smaller one of the
#: same release is taken, else the release is skipped and listed in ``skipped``.
MAX_DOWNLOAD = 400 * 1024 * 1024
_DEPRECATED = re.compile(r"deprecat", re.IGNORECASE)
_REPLACEMENT = re.compile(r"\b(?:[Uu]se|[Pp]lease use|replaced by|in favou?r of)\s+[`'\"]?([A-Za-z_][\w.]*(?:\(\))?)")
_LAZY_TABLES = ("_import_structure", "_SUBMOD_ATTRS", "_submod_attrs", "__lazy_attrs__", "_LAZY_IMPORTS")
_PARAM_METHODS = ("__init__", "__call__", "forward")
_STDLIB = (frozenset(sys.stdlib_module_names) - {"builtins"}) | {"__future__", "typing_extensions"}
_SKIP_DIRS = ("tests", "test", "testing", "_vendor", "vendor", "benchmarks", "examples")


class ScanError(RuntimeError):
    """The index or a release file could not be read."""


@dataclass(frozen=True)
class PackageSpec:
    """One ``[package.NAME]`` of ``PACKAGES.toml``."""

    name: str
    imports: tuple[str, ...]
    since: str = "0"
    group: str = "minor"
    skip_dirs: tuple[str, ...] = _SKIP_DIRS
    only: tuple[str, ...] = ()
    """Parse only modules under these dotted prefixes (a large package: torch); all are listed."""
    skip: tuple[str, ...] = ()
    """``fnmatch`` patterns of modules listed but not parsed (``transformers.models.*.*``)."""

    def parses(self, module: str) -> bool:
        """Whether ``module``'s names and parameters are read (it is listed either way)."""
        if module in self.imports:
            return True  # the top-level namespace is always read
        if self.only and not any(module == o or module.startswith(o + ".") for o in self.only):
            return False
        return not any(fnmatch.fnmatchcase(module, pattern) for pattern in self.skip)

    @classmethod
    def from_toml(cls, name: str, table: Mapping[str, Any]) -> PackageSpec:
        return cls(
            name=canonicalize_name(name),
            imports=tuple(str(i) for i in table.get("imports", [name.replace("-", "_")])),
            since=str(table.get("since", "0")),
            group=str(table.get("group", "minor")),
            skip_dirs=tuple(table.get("skip_dirs", _SKIP_DIRS)),
            only=tuple(str(p) for p in table.get("only", ())),
            skip=tuple(str(p) for p in table.get("skip", ())),
        )


@dataclass(frozen=True)
class ReleaseFile:
    """One file of a release on the index."""

    filename: str
    url: str
    version: Version
    size: int
    wheel: bool


# --- the index ---------------------------------------------------------------------------


def _get(url: str, headers: Mapping[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            data: bytes = response.read()
            return data
    except (urllib.error.URLError, OSError) as exc:
        raise ScanError(f"{url}: {exc}") from exc


def list_files(project: str, index: str = DEFAULT_INDEX) -> list[ReleaseFile]:
    """Every wheel and sdist of ``project`` the index lists (yanked ones left out)."""
    url = f"{index.rstrip('/')}/{canonicalize_name(project)}/"
    try:
        data = json.loads(_get(url, {"Accept": "application/vnd.pypi.simple.v1+json"}))
    except json.JSONDecodeError as exc:
        raise ScanError(f"{url}: not a PEP 691 JSON listing ({exc})") from exc
    out = []
    for item in data.get("files", []):
        name = str(item.get("filename", ""))
        if item.get("yanked"):
            continue
        try:
            if name.endswith(".whl"):
                version, wheel = parse_wheel_filename(name)[1], True
            elif name.endswith((".tar.gz", ".zip")):
                version, wheel = parse_sdist_filename(name)[1], False
            else:
                continue
        except (ValueError, InvalidVersion):
            continue
        out.append(ReleaseFile(name, str(item["url"]), version, int(item.get("size") or 0), wheel))
    return out


def choose_releases(versions: Iterable[Version], since: str = "0", group: str = "minor") -> list[Version]:
    """The newest final release of each minor (``group="minor"``) or major line from ``since``."""
    floor = Version(since)
    lines: dict[tuple[int, ...], Version] = {}
    for version in versions:
        if version.is_prerelease or version.is_devrelease or version.local or version < floor:
            continue
        key = (version.major,) if group == "major" else (version.major, version.minor)
        if key not in lines or version > lines[key]:
            lines[key] = version
    return sorted(lines.values())


def _pick_file(files: Sequence[ReleaseFile], version: Version) -> ReleaseFile | None:
    same = [f for f in files if f.version == version and f.size <= MAX_DOWNLOAD]
    wheels = [f for f in same if f.wheel]
    pool = wheels or same
    # a Python 3 file first: a cp27 wheel can carry Python 2 only sources
    return (
        min(pool, key=lambda f: ("py3" not in f.filename and "cp3" not in f.filename, f.size, f.filename))
        if pool
        else None
    )


# --- reading one module --------------------------------------------------------------------


@dataclass
class ModuleReading:
    """What one module's source says."""

    names: set[str] = field(default_factory=set)
    stars: list[str] = field(default_factory=list)
    params: dict[str, frozenset[str]] = field(default_factory=dict)
    deprecated: dict[str, str] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)
    opaque: bool = False
    """A module-level ``__getattr__`` answers names this reading cannot list (a table built at run time)."""


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    base = ".".join(parts)
    if target:
        return f"{base}.{target}" if base else target
    return base


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef) -> frozenset[str]:
    a = node.args
    names = {x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)}
    names.discard("self")
    names.discard("cls")
    if a.kwarg is not None:
        names.add("**")
    return frozenset(names)


def _warn_message(body: Iterable[ast.stmt]) -> str | None:
    """The text of a deprecation warning issued directly in ``body`` (not in nested defs)."""
    for node in _walk_shallow(body):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if "warn" not in called and "deprecat" not in called.lower():
            continue
        texts = []
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            for sub in ast.walk(arg):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                    texts.append(sub.value)
        text = " ".join(texts)
        if _DEPRECATED.search(text) or "deprecat" in called.lower() or "Deprecation" in ast.unparse(node):
            return " ".join(text.split())[:240]
    return None


def _walk_shallow(body: Iterable[ast.stmt]) -> Iterable[ast.AST]:
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
                stack.append(child)


def _strings(node: ast.AST) -> Iterable[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.List | ast.Tuple | ast.Set):
            for element in sub.elts:
                if isinstance(element, ast.Constant) and isinstance(element.value, str):
                    yield element.value


def _is_export_table(node: ast.AST) -> bool:
    """``__all__``, a lazy table (``_import_structure``), one of its items, or a tuple holding one."""
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Name):
        return node.id in (*_LAZY_TABLES, "__all__", "__getattr__")
    if isinstance(node, ast.Tuple | ast.List):
        return any(_is_export_table(e) for e in node.elts)
    return False


def _module_getattr(node: ast.FunctionDef | ast.AsyncFunctionDef, out: ModuleReading) -> None:
    """Names a module-level ``__getattr__`` answers: dict keys and ``name == "X"`` / ``name in (...)``.

    When it warns (a deprecation shim, Pillow 9's ``ANTIALIAS``), a dict's string value is the
    replacement it names."""
    warns = _warn_message(node.body) is not None or "deprecat" in ast.unparse(node).lower()
    literal = {
        t.id
        for sub in ast.walk(node)
        if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Dict | ast.Set | ast.List | ast.Tuple)
        for t in sub.targets
        if isinstance(t, ast.Name)
    }
    for sub in ast.walk(node):
        if isinstance(sub, ast.Compare) and any(isinstance(op, ast.In | ast.NotIn) for op in sub.ops):
            for comparator in sub.comparators:
                readable = isinstance(comparator, ast.Tuple | ast.List | ast.Set | ast.Dict)
                if not readable and not (isinstance(comparator, ast.Name) and comparator.id in literal):
                    out.opaque = True  # e.g. numpy's ``attr in __former_attrs__`` (built by a comprehension)
        if isinstance(sub, ast.Dict):
            for key, value in zip(sub.keys, sub.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.isidentifier():
                    out.names.add(key.value)
                    if warns and isinstance(value, ast.Constant) and isinstance(value.value, str):
                        out.deprecated.setdefault(key.value, f"{key.value} is deprecated; use {value.value} instead")
        elif isinstance(sub, ast.Compare) and isinstance(sub.left, ast.Name):
            for comparator in sub.comparators:
                if isinstance(comparator, ast.Constant) and isinstance(comparator.value, str):
                    out.names.add(comparator.value)
                elif isinstance(comparator, ast.Tuple | ast.List | ast.Set):
                    out.names.update(_strings(comparator))


def read_module(source: str, module: str, is_package: bool, foreign: Sequence[str] = ()) -> ModuleReading:
    """The top-level names, parameters, deprecations and foreign imports of one module's source.

    Raises :class:`SyntaxError` (or ``ValueError``) when the source does not parse here.
    """
    tree = ast.parse(source)
    out = ModuleReading()
    lines = source.splitlines()
    warns_anywhere = "warn" in source or "deprecat" in source.lower()

    def may_warn(node: ast.AST) -> bool:
        if not warns_anywhere:
            return False
        start, end = getattr(node, "lineno", 1), getattr(node, "end_lineno", None) or len(lines)
        text = "\n".join(lines[start - 1 : end])
        return "warn" in text or "deprecat" in text.lower()

    def add_target(target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            out.names.add(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                add_target(element)

    def visit(body: Iterable[ast.stmt], guarded: bool = False) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                out.names.add(node.name)
                if node.name == "__getattr__":
                    _module_getattr(node, out)
                    continue
                out.params[node.name] = _params(node)
                message = _warn_message(node.body) if may_warn(node) else None
                if message is not None:
                    out.deprecated[node.name] = message
            elif isinstance(node, ast.ClassDef):
                out.names.add(node.name)
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and (
                        not item.name.startswith("_") or item.name in _PARAM_METHODS
                    ):
                        out.params[f"{node.name}.{item.name}"] = _params(item)
                        if item.name == "__init__" and may_warn(item):
                            message = _warn_message(item.body)
                            if message is not None:
                                out.deprecated[node.name] = message
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    add_target(target)
                if node.value is not None and any(_is_export_table(t) for t in targets):
                    out.names.update(_strings(node.value))  # __all__, _import_structure[...] = [...]
            elif isinstance(node, ast.Import):
                pass  # module aliases (np, torch, os) are no API anyone imports from this module
            elif isinstance(node, ast.ImportFrom):
                source_module = (
                    _resolve_relative(module, is_package, node.level, node.module) if node.level else node.module or ""
                )
                for alias in node.names:
                    if alias.name == "*":
                        out.stars.append(source_module)
                        continue
                    if node.level or source_module.split(".")[0] not in _STDLIB:
                        out.names.add(alias.asname or alias.name)  # a re-export (stdlib helpers churn: left out)
                    # an import under try/if may have a fallback: not a requirement of the release
                    foreign_module = any(source_module == f or source_module.startswith(f + ".") for f in foreign)
                    if not node.level and not guarded and foreign_module:
                        out.imports.add(f"{source_module}:{alias.name}")
            elif isinstance(node, ast.If | ast.Try | ast.With | ast.TryStar):
                inner = guarded or not isinstance(node, ast.With)
                visit(node.body, inner)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body, True)
                visit(getattr(node, "orelse", []), inner)
                visit(getattr(node, "finalbody", []), inner)
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                # _import_structure["x"].extend([...]) / __all__.append("Name")
                func = node.value.func
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr in ("extend", "append", "update")
                    and _is_export_table(func.value)
                ):
                    for arg in node.value.args:
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                            out.names.add(arg.value)
                        else:
                            out.names.update(_strings(arg))

    visit(tree.body)
    out.names = {n for n in out.names if n.isidentifier() and not n.startswith("_")}
    if "define_import_structure" in source and any(_builds_structure(node) for node in ast.walk(tree)):
        out.opaque = True
    return out


def _builds_structure(node: ast.AST) -> bool:
    """A call that builds the module's namespace from its files at import time.

    transformers >= 4.52 (and its model packages) build ``_LazyModule``'s table with
    ``define_import_structure(path)``, which reads every submodule's ``__all__`` when imported:
    the names are in other files, so this reading cannot list them and their absence here is
    unknown (the module is read as opaque, like one whose ``__getattr__`` answers from a table).
    """
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name == "define_import_structure"


# --- reading one release ---------------------------------------------------------------------


@dataclass
class ReleaseReading:
    """What one release's files say, by module."""

    modules: set[str] = field(default_factory=set)
    names: dict[str, set[str]] = field(default_factory=dict)
    params: dict[str, frozenset[str]] = field(default_factory=dict)
    deprecated: dict[str, str] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)
    unreadable: set[str] = field(default_factory=set)
    opaque: set[str] = field(default_factory=set)


def _members(data: bytes, filename: str) -> Iterable[tuple[str, bytes]]:
    if filename.endswith((".whl", ".zip")):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if info.filename.endswith((".py", ".pyi")):
                    yield info.filename, archive.read(info)
        return
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for member in archive:
            if member.isfile() and member.name.endswith((".py", ".pyi")):
                handle = archive.extractfile(member)
                if handle is not None:
                    yield member.name, handle.read()


def _module_of(path: str, spec: PackageSpec) -> tuple[str, bool] | None:
    """``(dotted module, is_package)`` of an archive member inside one of the import packages."""
    parts = path.replace("\\", "/").split("/")
    for imp in spec.imports:
        top = imp.split(".")
        for start in range(len(parts)):
            if parts[start : start + len(top)] != top:
                continue
            rest = parts[start + len(top) :]
            if not rest:
                continue
            if any(p in spec.skip_dirs for p in rest[:-1]) or any("-" in p for p in rest[:-1]):
                return None
            leaf = rest[-1].rsplit(".", 1)[0]
            if not leaf.isidentifier():
                return None
            is_package = leaf == "__init__"
            dotted = ".".join([*top, *rest[:-1]] + ([] if is_package else [leaf]))
            return dotted, is_package
    return None


_CACHE: dict[tuple[str, int, bool], ModuleReading | None] = {}


def read_release(data: bytes, filename: str, spec: PackageSpec, foreign: Sequence[str]) -> ReleaseReading:
    """Read every module of one release file."""
    out = ReleaseReading()
    readings: dict[str, ModuleReading] = {}
    stub_only: dict[str, tuple[bytes, bool]] = {}
    for path, raw in _members(data, filename):
        located = _module_of(path, spec)
        if located is None:
            continue
        module, is_package = located
        if not spec.parses(module):
            out.modules.add(module)  # listed (``No module named``), its names not read
            continue
        if path.endswith(".pyi"):
            stub_only[module] = (raw, is_package)
            continue
        out.modules.add(module)
        reading = _read_cached(raw, module, is_package, foreign)
        if reading is None:
            out.unreadable.add(module)
        else:
            readings[module] = reading
    for module, (raw, is_package) in stub_only.items():  # compiled modules typed by stubs (cv2, tokenizers)
        out.modules.add(module)
        stub = _read_cached(raw, module, is_package, ())
        if stub is None:
            continue
        if module not in readings:
            readings[module] = stub
            continue
        source = readings[module]  # a loader .py beside its stub: the stub names what the binary exports
        readings[module] = ModuleReading(
            names=source.names | stub.names,
            stars=source.stars + stub.stars,
            params={**stub.params, **source.params},
            deprecated=source.deprecated,
            imports=source.imports,
            opaque=source.opaque,
        )
    for module in list(out.modules):  # parents of namespace packages
        parts = module.split(".")
        for end in range(1, len(parts)):
            out.modules.add(".".join(parts[:end]))

    def names_of(module: str, seen: frozenset[str]) -> set[str]:
        reading = readings.get(module)
        if reading is None or module in seen:
            return set()
        names = set(reading.names)
        for star in reading.stars:
            names |= {n for n in names_of(star, seen | {module}) if not n.startswith("_")}
        return names

    for module, reading in readings.items():
        out.names[module] = names_of(module, frozenset())
        for qualname, params in reading.params.items():
            out.params[f"{module}:{qualname}"] = params
        for name, message in reading.deprecated.items():
            out.deprecated[f"{module}:{name}"] = message
        out.imports |= reading.imports
        if reading.opaque:
            out.opaque.add(module)
    return out


def _read_cached(raw: bytes, module: str, is_package: bool, foreign: Sequence[str]) -> ModuleReading | None:
    key = (module, hash(raw), is_package)
    if key in _CACHE:
        return _CACHE[key]
    try:
        reading: ModuleReading | None = read_module(raw.decode("utf-8", "replace"), module, is_package, foreign)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        reading = None
    _CACHE[key] = reading
    return reading


# --- the history -------------------------------------------------------------------------------


def intervals(indices: Iterable[int]) -> str:
    """``"0-3,5"`` for indices 0, 1, 2, 3, 5."""
    ordered = sorted(set(indices))
    parts: list[str] = []
    start = previous = None
    for index in ordered:
        if previous is not None and index == previous + 1:
            previous = index
            continue
        if start is not None:
            parts.append(f"{start}-{previous}" if start != previous else str(start))
        start = previous = index
    if start is not None:
        parts.append(f"{start}-{previous}" if start != previous else str(start))
    return ",".join(parts)


def _changing(presence: Mapping[str, set[int]], total: int) -> dict[str, str]:
    return {key: intervals(found) for key, found in sorted(presence.items()) if len(found) < total}


def build_history(
    spec: PackageSpec, readings: Sequence[tuple[Version, ReleaseReading]], *, index: str, skipped: Sequence[str]
) -> dict[str, Any]:
    """The compact JSON document of one package (module docstring)."""
    total = len(readings)
    modules: dict[str, set[int]] = {}
    names: dict[str, dict[str, set[int]]] = {}
    params: dict[str, dict[str, set[int]]] = {}
    functions: dict[str, set[int]] = {}
    imports: dict[str, set[int]] = {}
    deprecated: dict[str, tuple[int, str]] = {}
    unreadable: dict[str, int] = {}
    previous: ReleaseReading | None = None
    for position, (version, reading) in enumerate(readings):
        if reading.unreadable:
            unreadable[str(version)] = len(reading.unreadable)
        for module in reading.modules:
            modules.setdefault(module, set()).add(position)
        for module in reading.modules:
            found = reading.names.get(module)
            if found is None and module in reading.unreadable and previous is not None:
                found = previous.names.get(module, set())  # carried forward: see module docstring
                reading.names[module] = found
            elif found is not None and module in reading.opaque and previous is not None:
                # a run-time __getattr__ table may still answer the previous release's names:
                # absence here is unknown, not a removal
                found = found | previous.names.get(module, set())
                reading.names[module] = found
            for name in found or ():
                names.setdefault(module, {}).setdefault(name, set()).add(position)
        for key, values in reading.params.items():
            functions.setdefault(key, set()).add(position)
            for param in values:
                params.setdefault(key, {}).setdefault(param, set()).add(position)
        for item in reading.imports:
            imports.setdefault(item, set()).add(position)
        for key, message in reading.deprecated.items():
            deprecated.setdefault(key, (position, message))
        previous = reading
    changed_names: dict[str, dict[str, str]] = {}
    # a name that shares its spelling with a submodule that comes and goes is kept even when it is
    # always there (hub's snapshot_download function beside its old snapshot_download module)
    shadowing = {
        (parent, leaf)
        for child, found in modules.items()
        if len(found) < total and "." in child
        for parent, _, leaf in [child.rpartition(".")]
    }
    for module, table in sorted(names.items()):
        changed = _changing(table, total)
        changed.update(
            {
                name: intervals(found)
                for name, found in table.items()
                if (module, name) in shadowing and name not in changed
            }
        )
        own = intervals(modules.get(module, ()))
        if changed:  # "=": present exactly when its module is
            changed_names[module] = {name: "=" if text == own else text for name, text in changed.items()}
    changed_params: dict[str, dict[str, str]] = {}
    for key, table in sorted(params.items()):
        alive = functions[key]
        if table.get("**") == alive:
            continue  # takes **kwargs in every release: never "unexpected keyword"
        changed = {p: intervals(found) for p, found in sorted(table.items()) if found != alive}
        if changed:
            changed_params[key] = {"@": intervals(alive), **changed}
    releases = [str(v) for v, _ in readings]
    removed = {f"{m}:{n}" for m, t in changed_names.items() for n in t} | {
        m.rsplit(".", 1)[0] + ":" + m.rsplit(".", 1)[-1] for m in modules if len(modules[m]) < total
    }
    return {
        "package": spec.name,
        "imports": list(spec.imports),
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "index": index,
        "generator": "envdoctor.kb.api_scan",
        "group": spec.group,
        "releases": releases,
        "skipped": list(skipped),
        "unreadable": unreadable,
        "modules": _changing(modules, total),
        "names": changed_names,
        "params": changed_params,
        "imports_of": _changing(imports, total),
        "deprecated": {
            key: [releases[pos], message] for key, (pos, message) in sorted(deprecated.items()) if key in removed
        },
    }


def scan_package(
    spec: PackageSpec,
    *,
    index: str = DEFAULT_INDEX,
    foreign: Sequence[str] = (),
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Read every kept release of ``spec`` from ``index`` and return its history document."""
    say = log or (lambda _text: None)
    files = list_files(spec.name, index)
    if not files:
        raise ScanError(f"{spec.name}: no release files on {index}")
    own = set(spec.imports)
    foreign = [f for f in foreign if f not in own]
    readings: list[tuple[Version, ReleaseReading]] = []
    skipped: list[str] = []
    for version in choose_releases({f.version for f in files}, spec.since, spec.group):
        chosen = _pick_file(files, version)
        if chosen is None:
            skipped.append(f"{version} (no file under {MAX_DOWNLOAD >> 20} MiB)")
            continue
        data = _get(chosen.url)
        reading = read_release(data, chosen.filename, spec, foreign)
        if not reading.modules:
            skipped.append(f"{version} ({chosen.filename}: no module of {', '.join(spec.imports)})")
            continue
        readings.append((version, reading))
        say(f"{spec.name} {version}: {chosen.filename} ({len(data) >> 10} KiB), {len(reading.modules)} modules")
    if not readings:
        raise ScanError(f"{spec.name}: no release could be read")
    return build_history(spec, readings, index=index, skipped=skipped)
