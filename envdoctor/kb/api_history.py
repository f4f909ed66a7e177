"""The API history of the ML stack: which releases of a package had a name, module or parameter.

``knowledge/api/<name>.json.gz`` is generated (:mod:`envdoctor.kb.api_scan`, from the released
files on the package index, read with :mod:`ast`) for the packages of
``knowledge/api/PACKAGES.toml``. This module reads it and registers the ``api-history``
lookup (:mod:`envdoctor.kb.lookups`): given what an error line captured (a module and a
name, a missing module, a function and a keyword), it says which releases have the symbol,
whether the installed release (``dist.<name>`` when facts are known) lies before or after
them, the pin that restores it, the replacement a deprecation message names, and which
package's code made the call (from the traceback frames above the error line), or
``None`` when the history cannot explain the error (then the generic entry stays silent).

``python -m envdoctor.kb.api_history refresh NAME...`` regenerates histories into the
user's data directory (:func:`envdoctor.kb.refresh.user_knowledge_dir`, never
site-packages); :func:`load_history` prefers that copy when it was generated later than the
shipped one. ``python -m envdoctor.kb.api_history show NAME SYMBOL`` prints one symbol's
history.
"""

from __future__ import annotations

import argparse
import contextvars
import functools
import gzip
import json
import re
import sys
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envdoctor.kb.lookups import register
from envdoctor.kb.paths import knowledge_root

if TYPE_CHECKING:
    from envdoctor.kb.api_scan import PackageSpec

__all__ = [
    "History",
    "clear_cache",
    "Explanation",
    "load_history",
    "known_packages",
    "package_of",
    "explain_name",
    "explain_module",
    "explain_keyword",
    "callers_in",
    "import_conflicts",
    "api_history_lookup",
    "refresh_packages",
    "write_history",
    "main",
]

#: Frames in a traceback: ``File "path", line N`` and Jupyter's ``path.py in f(...)``.
_FRAME = re.compile(
    r'^\s*File "(?P<path>[^"]+)", line \d+|^(?P<jpath>(?:[A-Za-z]:)?[~\\/][^\s]+\.py) in (?:<module>|\S+\()'
)
_LIBRARY = re.compile(r"(?:site|dist)-packages[\\/]+(?P<package>[A-Za-z_][\w.\-]*?)(?:[\\/]|\.py\b|-)")
_TRACEBACK_START = re.compile(r"Traceback \(most recent call last\)")
#: Function names too common to say which callee raised (``forward() got an unexpected ...``).
_AMBIGUOUS_FUNCTIONS = frozenset(
    {"__init__", "forward", "__call__", "__new__", "call", "run", "main", "__init_subclass__"}
)


def _data_dirs() -> list[Path]:
    from envdoctor.kb.user_dir import user_knowledge_dir

    return [knowledge_root() / "api", user_knowledge_dir() / "api"]


@dataclass(frozen=True)
class History:
    """One package's generated history (the JSON document, parsed)."""

    package: str
    imports: tuple[str, ...]
    releases: tuple[Version, ...]
    group: str
    generated: str
    modules: Mapping[str, str]
    names: Mapping[str, Mapping[str, str]]
    params: Mapping[str, Mapping[str, str]]
    imports_of: Mapping[str, str]
    deprecated: Mapping[str, Sequence[str]]
    path: Path

    @classmethod
    def from_document(cls, document: Mapping[str, Any], path: Path) -> History:
        return cls(
            package=str(document["package"]),
            imports=tuple(document.get("imports", ())),
            releases=tuple(Version(v) for v in document["releases"]),
            group=str(document.get("group", "minor")),
            generated=str(document.get("generated", "")),
            modules=document.get("modules", {}),
            names=document.get("names", {}),
            params=document.get("params", {}),
            imports_of=document.get("imports_of", {}),
            deprecated=document.get("deprecated", {}),
            path=path,
        )

    def line(self, index: int) -> str:
        """The release line of ``releases[index]``: ``0.26`` (or ``60`` for major lines)."""
        version = self.releases[index]
        return str(version.major) if self.group == "major" else f"{version.major}.{version.minor}"

    def line_index(self, version: Version) -> int | None:
        """Index of the release line ``version`` belongs to; ``None`` outside the history."""
        return self._line_indices.get(self._line_key(version))

    def _line_key(self, version: Version) -> tuple[int, int]:
        release = version.release
        return (release[0], 0 if self.group == "major" else (release[1] if len(release) > 1 else 0))

    @functools.cached_property
    def _line_indices(self) -> dict[tuple[int, int], int]:
        """Release line -> index of its first release (what the linear search used to return)."""
        indices: dict[tuple[int, int], int] = {}
        for index, release in enumerate(self.releases):
            indices.setdefault(self._line_key(release), index)
        return indices

    @property
    def reach(self) -> str:
        return f"{self.package} {self.line(0)}-{self.line(len(self.releases) - 1)}"

    @property
    def describe(self) -> str:
        """Where the history comes from, for a finding's stated confidence."""
        return (
            f"envdoctor's API history of {self.reach} ({len(self.releases)} release lines), "
            f"read from the released files on {self.generated[:10]}"
        )


def parse_intervals(text: str) -> set[int]:
    """Indices of ``"0-3,5"``."""
    out: set[int] = set()
    for part in filter(None, text.split(",")):
        start, _, end = part.partition("-")
        out.update(range(int(start), int(end or start) + 1))
    return out


#: The packages whose histories a caller needs (``None``: all). ``diagnose`` judges only
#: installed packages, so it reads only their histories (each is a few hundred KB of JSON).
_SCOPE: contextvars.ContextVar[frozenset[str] | None] = contextvars.ContextVar("api_history_scope", default=None)


@cache
def _paths() -> dict[str, tuple[Path, ...]]:
    """Package (the file's name) -> its history files, shipped and refreshed."""
    found: dict[str, list[Path]] = {}
    for directory in _data_dirs():
        if directory.is_dir():
            for path in sorted(directory.glob("*.json.gz")):
                found.setdefault(canonicalize_name(path.name.removesuffix(".json.gz")), []).append(path)
    return {name: tuple(paths) for name, paths in found.items()}


@cache
def _load_package(package: str) -> History | None:
    """The newest readable history of ``package`` (a broken user copy never hides the shipped one)."""
    best: History | None = None
    for path in _paths().get(package, ()):
        try:
            document = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
            history = History.from_document(document, path)
        except (OSError, ValueError, KeyError, TypeError, InvalidVersion):
            continue
        if history.releases and (best is None or history.generated > best.generated):
            best = history
    return best


def clear_cache() -> None:
    """Forget the histories read so far (after a refresh, or when the data dir changes)."""
    _paths.cache_clear()
    _load_package.cache_clear()
    _scoped.cache_clear()


@cache
def _scoped(scope: frozenset[str] | None) -> tuple[dict[str, History], tuple[tuple[str, History], ...]]:
    """The histories in ``scope`` and their import names, longest first (for :func:`package_of`)."""
    names = [n for n in _paths() if scope is None or n in scope]
    histories = {history.package: history for n in names if (history := _load_package(n)) is not None}
    imports = sorted(
        ((name, history) for history in histories.values() for name in history.imports), key=lambda p: -len(p[0])
    )
    return histories, tuple(imports)


def _histories() -> dict[str, History]:
    return _scoped(_SCOPE.get())[0]


def load_history(package: str) -> History | None:
    """The newest history of ``package`` (shipped, or refreshed into the user's data dir)."""
    return _histories().get(canonicalize_name(package))


def known_packages() -> list[str]:
    """Every package with a history."""
    return sorted(_histories())


def package_of(module: str) -> History | None:
    """The history whose import package holds dotted ``module`` (the longest import name wins)."""
    for name, history in _scoped(_SCOPE.get())[1]:
        if module == name or module.startswith(name + "."):
            return history
    return None


# --- explaining one symbol -------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    """Why a symbol is missing from the installed release, and what restores it."""

    history: History
    symbol: str
    kind: str
    present: frozenset[int]
    direction: str
    """``removed`` (the installed release is newer), ``added`` (older), or ``window``."""
    pin: str
    installed: str

    def ranges(self) -> str:
        """``0.10 - 0.25, 0.28`` from the present indices."""
        parts = []
        ordered = sorted(self.present)
        start = previous = ordered[0]
        for index in [*ordered[1:], None]:
            if index is not None and index == previous + 1:
                previous = index
                continue
            first, last = self.history.line(start), self.history.line(previous)
            parts.append(first if first == last else f"{first} - {last}")
            if index is not None:
                start = previous = index
        return ", ".join(parts)

    @property
    def change(self) -> str:
        h = self.history
        last, first = max(self.present), min(self.present)
        if self.direction == "removed":
            return f"gone from {h.package} {h.line(last + 1)} on (last in {h.line(last)})"
        if self.direction == "added":
            return f"added in {h.package} {h.line(first)}"
        return f"only in {h.package} {self.ranges()}"


def _explain(
    history: History, symbol: str, kind: str, present: set[int], installed: Version | None
) -> Explanation | None:
    total = len(history.releases)
    if not present or len(present) >= total:
        return None
    last, first = max(present), min(present)
    index = history.line_index(installed) if installed is not None else None
    if installed is not None and index is not None and index in present:
        return None  # the history says the installed release has it: something else is wrong
    name = history.package
    if installed is not None and index is None and installed > history.releases[-1]:
        index = total  # newer than the history reaches: judged as after its last line
    if installed is not None and index is None and installed < history.releases[0]:
        index = -1
    if index is not None:
        if index > last:
            direction = "removed"
        elif index < first:
            direction = "added"
        else:  # in a gap: the nearest release line that has it
            below = max(i for i in present if i < index)
            return Explanation(
                history,
                symbol,
                kind,
                frozenset(present),
                "removed",
                f"{name}<{history.line(below + 1)}",
                str(installed),
            )
    elif last < total - 1 and first == 0:
        direction = "removed"
    elif last == total - 1:
        direction = "added"
    else:
        direction = "window"
    if direction == "removed":
        pin = f"{name}<{history.line(last + 1)}"
        if first > 0 and installed is None:
            pin = f"{name}>={history.line(first)},<{history.line(last + 1)}"
    elif direction == "added":
        pin = f"{name}>={history.line(first)}"
        if last < total - 1:
            pin = f"{name}>={history.line(first)},<{history.line(last + 1)}"
    else:
        pin = f"{name}>={history.line(first)},<{history.line(last + 1)}"
    gaps = [i for i in range(first, last + 1) if i not in present]
    if gaps and index is None and len(gaps) <= 2:  # lines inside the range that lack it (Pillow 7.0's PILLOW_VERSION)
        pin += "".join(f",!={history.line(i)}.*" for i in gaps)
    elif gaps and index is None:  # many holes: the newest unbroken run of lines that has it
        start = last
        while start - 1 in present:
            start -= 1
        pin = f"{name}>={history.line(start)}" + (f",<{history.line(last + 1)}" if last < total - 1 else "")
    shown = str(installed) if installed is not None else ""
    return Explanation(history, symbol, kind, frozenset(present), direction, pin, shown)


def _installed(namespace: Mapping[str, Any], package: str) -> Version | None:
    value = namespace.get(f"dist.{package}")
    if value in (None, ""):
        return None
    try:
        return Version(str(value))
    except ValueError:  # InvalidVersion, or a release number int() refuses
        return None


def explain_name(module: str | None, name: str, namespace: Mapping[str, Any] | None = None) -> Explanation | None:
    """Why ``from module import name`` / ``module.name`` fails; ``module`` may be unknown (old spelling)."""
    facts = namespace or {}
    if module is None:
        candidates = [(h, m) for h in _histories().values() for m, table in h.names.items() if name in table]
        packages = {h.package for h, _m in candidates}
        if len(packages) != 1:
            return None
        found = [e for h, m in candidates if (e := explain_name(m, name, facts)) is not None]
        return found[0] if found and len({e.pin for e in found}) == 1 else None
    history = package_of(module)
    if history is None:
        return None
    present: set[int] | None = None
    table = history.names.get(module, {})
    if name in table:
        text = table[name]
        if text == "=":  # exactly when its module exists (a module absent from the table: always)
            text = history.modules.get(module, f"0-{len(history.releases) - 1}")
        present = parse_intervals(text)
        kind = "name"
    elif f"{module}.{name}" in history.modules:
        present = parse_intervals(history.modules[f"{module}.{name}"])
        kind = "module"
    if present is None:
        return None
    return _explain(history, f"{module}.{name}", kind, present, _installed(facts, history.package))


def explain_module(missing: str, namespace: Mapping[str, Any] | None = None) -> Explanation | None:
    """Why ``import missing`` fails: the deepest changing module on its path."""
    history = package_of(missing)
    if history is None or missing in history.imports:
        return None
    parts = missing.split(".")
    for end in range(len(parts), 0, -1):
        module = ".".join(parts[:end])
        if module in history.imports:
            return None
        if module in history.modules:
            present = parse_intervals(history.modules[module])
            return _explain(history, module, "module", present, _installed(namespace or {}, history.package))
    return None


def explain_keyword(function: str, keyword: str, namespace: Mapping[str, Any] | None = None) -> Explanation | None:
    """Why ``function(keyword=...)`` is refused: one package's callables agree on when it took it."""
    function = function.strip().removesuffix("()")
    leaf = function.rsplit(".", 1)[-1]
    if leaf in _AMBIGUOUS_FUNCTIONS and "." not in function:
        return None
    found: list[Explanation] = []
    for history in _histories().values():
        for key, table in history.params.items():
            qualname = key.split(":", 1)[1]
            if qualname != function and not qualname.endswith("." + function):
                continue
            if keyword not in table:
                continue
            alive = parse_intervals(table["@"])
            accepts = parse_intervals(table[keyword]) | parse_intervals(table.get("**", ""))
            if not alive - accepts:
                continue
            # before the callable existed it says nothing about the keyword: count those lines as taking
            # it, so callables of different ages that dropped the keyword together agree on one pin
            accepts |= set(range(min(alive)))
            module = key.split(":", 1)[0]
            explained = _explain(
                history,
                f"{module}.{qualname}({keyword}=...)",
                "parameter",
                accepts,
                _installed(namespace or {}, history.package),
            )
            if explained is not None:
                found.append(explained)
    # callables of one package agree when they lost (or gained) the keyword at the same release line
    bounds = {(e.history.package, _upper(e)) for e in found}
    if not found or len(bounds) != 1:
        return None
    return min(found, key=lambda e: (e.symbol.count("."), len(e.symbol), e.symbol))


def _upper(explained: Explanation) -> str:
    """The clause of a pin that says when a keyword went away (or, if it never did, the whole pin)."""
    clauses = explained.pin.removeprefix(explained.history.package).split(",")
    return next((c for c in clauses if c.startswith("<")), ",".join(clauses))


# --- who made the call --------------------------------------------------------------------------


def _frame_package(path: str) -> str | None:
    match = _LIBRARY.search(path)
    if match is None:
        return None
    name = match.group("package")
    history = package_of(name)
    return history.package if history is not None else canonicalize_name(name)


def callers_in(preceding: Sequence[str]) -> tuple[str | None, str | None]:
    """``(package, path)`` of the frame closest above the error line (``None`` package: user code)."""
    for text in reversed(preceding):
        match = _FRAME.match(text)
        if match is not None:
            path = match.group("path") or match.group("jpath")
            if path.startswith("<frozen") or "importlib" in path:
                continue
            return _frame_package(path), path
        if _TRACEBACK_START.search(text):
            break
    return None, None


def _caller_pin(caller: str, symbol: str, direction: str = "removed") -> str:
    """The caller's releases that do not import ``symbol``: for a name the dependency removed,
    ``caller>=X`` (X: its first release line after it stopped importing it); for a name the
    dependency added late, ``caller<Y`` (Y: its first release line that imports it). Else empty."""
    history = load_history(caller)
    if history is None:
        return ""
    module, _, name = symbol.rpartition(".")
    present = history.imports_of.get(f"{module}:{name}")
    if present is None:
        return ""
    indices = parse_intervals(present)
    if direction == "added":
        first = min(indices)
        return f"{history.package}<{history.line(first)}" if first > 0 else ""
    last = max(indices)
    if last >= len(history.releases) - 1:
        return ""
    return f"{history.package}>={history.line(last + 1)}"


def known_importers(symbol: str, direction: str = "removed") -> list[tuple[str, str]]:
    """``(package, pin)`` for each package in the history whose releases import ``symbol``
    (``pkg.mod.Name``) and whose other releases do not (:func:`_caller_pin`)."""
    module, _, name = symbol.rpartition(".")
    out = []
    for history in _histories().values():
        if f"{module}:{name}" in history.imports_of:
            pin = _caller_pin(history.package, symbol, direction)
            if pin:
                out.append((history.package, pin))
    return sorted(out)


def _replacement(message: str) -> str:
    match = re.search(
        r"\b(?:[Uu]se|[Pp]lease use|replaced by|in favou?r of)\s+[`'\"]?([A-Za-z_][\w.]*(?:\(\))?)", message
    )
    return match.group(1) if match else ""


_FACTS = {
    "api.package": "the distribution whose API changed (from the error's module)",
    "api.symbol": "the dotted name, module or parameter the error names",
    "api.kind": "name, module or parameter",
    "api.present_in": "the release lines that have it, e.g. 0.10 - 0.25",
    "api.change": "what happened to it: gone from X on / added in X / only in X",
    "api.pin": "the requirement that restores it, e.g. huggingface-hub<0.26",
    "api.installed": "the installed release of the package ('' when not known)",
    "api.deprecated": "from which release line its source deprecates it, and the warning's words ('' if none)",
    "api.replacement": "the replacement a deprecation message names ('' if none)",
    "api.caller": "the package whose frame made the call, e.g. sentence-transformers ('your code' or '')",
    "api.caller_pin": "the caller's first release that no longer imports it ('' if not known)",
    "api.history": "the history the explanation rests on: package, release lines, date read",
    "api.importers": "packages some of whose releases import it, with the releases that do not ('' if none)",
}


@register("api-history", facts=_FACTS)
def api_history_lookup(namespace: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``api-history`` lookup: ``match.module``/``match.name``, ``match.missing`` or
    ``match.function``/``match.keyword`` (plus ``log.preceding``, the lines above the error)."""
    explained: Explanation | None = None
    name = namespace.get("match.name")
    if namespace.get("match.missing"):
        explained = explain_module(str(namespace["match.missing"]).strip(".'\"` "), namespace)
    elif namespace.get("match.keyword") and namespace.get("match.function"):
        explained = explain_keyword(str(namespace["match.function"]), str(namespace["match.keyword"]), namespace)
    elif name:
        module = namespace.get("match.module")
        explained = explain_name(str(module).strip() if module else None, str(name), namespace)
    if explained is None:
        return None
    history = explained.history
    preceding = namespace.get("log.preceding") or ()
    caller, path = callers_in([str(t) for t in preceding])
    caller_text = ""
    caller_pin = ""
    direction = explained.direction
    importers = known_importers(explained.symbol, direction) if explained.kind != "parameter" else []
    if caller is not None and caller != history.package:
        version = namespace.get(f"dist.{caller}")
        caller_text = f"{caller} {version}" if version else caller
        caller_pin = _caller_pin(caller, explained.symbol, direction) if explained.kind != "parameter" else ""
    elif path is not None and caller is None:
        caller_text = "your code"
    elif path is None and len(importers) == 1:
        # no traceback frame in the paste: the one package the history knows to import it
        caller_pin = importers[0][1]
    module, _, leaf = explained.symbol.rpartition(".")
    deprecation = history.deprecated.get(f"{module}:{leaf}")
    if deprecation and leaf not in deprecation[1] and "`" in deprecation[1]:
        deprecation = None  # the warning is about something else (an argument, another name)
    deprecated = ""
    if deprecation:
        since = next((history.line(i) for i, v in enumerate(history.releases) if str(v) == deprecation[0]), "")
        deprecated = f'deprecates it from {since or deprecation[0]} on: "{deprecation[1]}"'
    return {
        "api.package": history.package,
        "api.symbol": explained.symbol,
        "api.kind": explained.kind,
        "api.present_in": explained.ranges(),
        "api.change": explained.change,
        "api.pin": explained.pin,
        "api.installed": explained.installed,
        "api.deprecated": deprecated,
        "api.replacement": _replacement(deprecation[1]) if deprecation else "",
        "api.caller": caller_text,
        "api.caller_pin": caller_pin,
        "api.importers": ", ".join(f"{package} ({pin})" for package, pin in importers),
        "api.history": history.describe,
    }


# --- diagnose: installed releases that disagree -------------------------------------------------


def import_conflicts(installed: Mapping[str, str]) -> list[dict[str, str]]:
    """Installed packages whose own source imports a name the installed dependency lacks.

    ``installed`` maps canonical distribution names to versions. For each package with a
    history, the ``from DEP import NAME`` statements of its installed release line (those that
    change across its releases, outside try/if blocks) are checked against the history of
    DEP at its installed version. A release outside a history's reach is not judged."""
    from envdoctor.kb.cache import digest, memo

    scope = frozenset(canonicalize_name(name) for name in installed)
    judged = {name: str(version) for name, version in sorted(installed.items()) if name in _paths()}
    try:
        # Every input of the result: this code, each history file in scope, the versions judged.
        parts = [Path(__file__).read_bytes(), json.dumps(judged).encode()]
        parts += [path.read_bytes() for name in sorted(judged) for path in _paths()[name]]
    except OSError:
        parts = []

    def compute() -> list[dict[str, str]]:
        token = _SCOPE.set(scope)
        try:
            return _import_conflicts(installed)
        finally:
            _SCOPE.reset(token)

    if not parts:
        return compute()
    key = digest(b"".join(digest(part).encode() for part in parts))
    return memo("api-import-conflicts", key, compute)


def _import_conflicts(installed: Mapping[str, str]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for history in _histories().values():
        version = installed.get(history.package)
        index = _line_of(history, version)
        if index is None:
            continue
        for key, present in sorted(history.imports_of.items()):
            if index not in parse_intervals(present):
                continue
            module, _, name = key.partition(":")
            dependency = package_of(module)
            if dependency is None or dependency.package not in installed:
                continue
            facts = {f"dist.{dependency.package}": installed[dependency.package]}
            if _line_of(dependency, installed[dependency.package]) is None:
                continue  # newer than its history reaches: not checked
            explained = explain_name(module, name, facts) or explain_module(module, facts)
            if explained is None:
                continue
            out.append(
                {
                    "package": history.package,
                    "package_version": str(version),
                    "symbol": f"{module}.{name}",
                    "module": module,
                    "name": name,
                    "dependency": dependency.package,
                    "installed": installed[dependency.package],
                    "present_in": explained.ranges(),
                    "pin": explained.pin,
                    "caller_pin": (upgrade := _caller_pin(history.package, f"{module}.{name}", explained.direction)),
                    "upgrade": f"pip install '{upgrade}'"
                    if upgrade
                    else f"its current release (pip install -U {history.package})",
                    "history": dependency.describe,
                }
            )
    return out


def installed_has(site: Path, module: str, name: str) -> bool | None:
    """Whether the installed source under ``site`` shows ``from module import name`` working.

    ``True`` when ``module.name`` is a submodule file, or the module's own source binds the
    name at top level (a definition, an assignment, or any import, the standard library's
    included: ``torch.hub`` still has ``urlparse`` from ``urllib.parse``); ``False`` when the
    module's source is there and binds nothing of that name; ``None`` when the source is not
    there, does not parse, or answers names at run time (a ``__getattr__``). The history
    records what changes across releases and leaves some names out; this is the installed
    files' own word, checked before an import conflict is reported.
    """
    import ast

    base = site.joinpath(*module.split("."))
    if (base / f"{name}.py").is_file() or (base / name / "__init__.py").is_file():
        return True
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            break
    else:
        return None
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError):
        return None
    bound: set[str] = set()
    tables = False  # the name as a string (__all__, a lazy map): answered at run time, perhaps

    def visit(body: list[ast.stmt]) -> None:
        nonlocal tables
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bound.add(node.name)
                continue
            if isinstance(node, ast.If | ast.Try | ast.With | ast.TryStar):  # blocks at top level
                for block in (node.body, getattr(node, "orelse", []), getattr(node, "finalbody", [])):
                    visit(block)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                continue
            if isinstance(node, ast.Import | ast.ImportFrom):
                bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
            for child in ast.walk(node):  # a simple statement: no function body inside
                if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                    bound.add(child.id)
                elif isinstance(child, ast.Constant) and child.value == name:
                    tables = True

    visit(tree.body)
    if name in bound:
        return True
    return None if tables or "__getattr__" in bound else False


def _line_of(history: History, version: str | None) -> int | None:
    if not version:
        return None
    try:
        return history.line_index(Version(version))
    except ValueError:  # InvalidVersion, or a release number int() refuses
        return None


# --- refresh ----------------------------------------------------------------------------------------


def _specs() -> dict[str, PackageSpec]:
    from envdoctor.kb.api_scan import PackageSpec

    path = knowledge_root() / "api" / "PACKAGES.toml"
    with path.open("rb") as handle:
        table = tomllib.load(handle)
    return {
        canonicalize_name(name): PackageSpec.from_toml(name, value) for name, value in table.get("package", {}).items()
    }


def write_history(document: Mapping[str, Any], path: Path) -> None:
    """Write one history as gzip-compressed JSON (a fixed mtime: the same data gives the same bytes)."""
    text = json.dumps(document, separators=(",", ":"), sort_keys=True) + "\n"
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    temporary.replace(path)


def refresh_packages(
    packages: Iterable[str], output: Path, *, index: str | None = None, log: Callable[[str], None] | None = None
) -> list[tuple[Path, float]]:
    """Regenerate the histories of ``packages`` (all of PACKAGES.toml when empty) into ``output``."""
    from envdoctor.kb.api_scan import DEFAULT_INDEX, ScanError, scan_package

    specs = _specs()
    wanted: list[str] = [canonicalize_name(p) for p in packages] or list(specs)
    unknown = [p for p in wanted if p not in specs]
    if unknown:
        raise ScanError(f"not in PACKAGES.toml: {', '.join(unknown)} (known: {', '.join(sorted(specs))})")
    foreign = sorted({imp for spec in specs.values() for imp in spec.imports})
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for name in wanted:
        start = time.monotonic()
        document = scan_package(specs[name], index=index or DEFAULT_INDEX, foreign=foreign, log=log)
        path = output / f"{name}.json.gz"
        write_history(document, path)
        written.append((path, time.monotonic() - start))
    clear_cache()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m envdoctor.kb.api_history refresh NAME...`` / ``show NAME SYMBOL``."""
    from envdoctor.kb.api_scan import DEFAULT_INDEX, ScanError
    from envdoctor.kb.user_dir import user_knowledge_dir

    parser = argparse.ArgumentParser(prog="python -m envdoctor.kb.api_history", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    refresh = commands.add_parser("refresh", help="regenerate histories into your data directory")
    refresh.add_argument("packages", nargs="*", help="distribution names (default: every package of PACKAGES.toml)")
    default = user_knowledge_dir() / "api"
    refresh.add_argument("--output", type=Path, default=default, help=f"folder to write (default {default})")
    refresh.add_argument("--index", default=DEFAULT_INDEX, help=f"PEP 691 simple index (default {DEFAULT_INDEX})")
    refresh.add_argument("-q", "--quiet", action="store_true")
    show = commands.add_parser("show", help="print what the history says of one symbol")
    show.add_argument("symbol", help="pkg.module.name, pkg.module (a module), or function:keyword")
    args = parser.parse_args(argv)
    if args.command == "refresh":
        log = None if args.quiet else (lambda text: print(text, file=sys.stderr))
        try:
            written = refresh_packages(args.packages, args.output, index=args.index, log=log)
        except ScanError as exc:
            print(f"envdoctor: API history refresh failed: {exc}", file=sys.stderr)
            return 2
        for path, seconds in written:
            print(f"wrote {path} ({path.stat().st_size >> 10} KiB) in {seconds:.0f} s")
        return 0
    symbol: str = args.symbol
    if ":" in symbol:
        function, _, keyword = symbol.partition(":")
        explained = explain_keyword(function, keyword)
    else:
        module, _, name = symbol.rpartition(".")
        explained = explain_name(module or None, name) or explain_module(symbol)
    if explained is None:
        print(f"{symbol}: the history does not explain it (unknown, or present in every release read)")
        return 1
    print(
        f"{explained.symbol} ({explained.kind}): present in {explained.ranges()}; {explained.change}; "
        f"pin {explained.pin}\n  {explained.history.describe}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
