"""Version bounds that packages enforce at import time, read from their installed sources.

pip only knows ``Requires-Dist``; several packages add stricter checks that run on import:
transformers (and diffusers) check ``pkgs_to_check_at_runtime`` against the ``deps`` table
of ``dependency_versions_table.py``, and the OpenMMLab libraries assert
``mmcv_minimum_version <= mmcv < mmcv_maximum_version`` in their ``__init__.py``. These
files are parsed with :mod:`ast`, never imported, so the bounds are exact for the
installed release and reading them cannot run any of its code.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from pathlib import Path

from envdoctor.model import ImportBound

# The package lists live in .launch: it starts the interpreter script before this module loads.
from envdoctor.probe.launch import BOUND_PACKAGES, TABLE_PACKAGES

__all__ = [
    "BOUND_PACKAGES",
    "collect_import_bounds",
    "dependency_table_bounds",
    "openmmlab_bounds",
]

_OPS = {ast.GtE: ">=", ast.Gt: ">", ast.LtE: "<=", ast.Lt: "<", ast.Eq: "==", ast.NotEq: "!="}
_FLIPPED = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}


def collect_import_bounds(
    package_dirs: Mapping[str, Sequence[str]],
    python_version: tuple[int, ...],
) -> tuple[tuple[ImportBound, ...], dict[str, str]]:
    """Bounds of every known package installed in ``package_dirs`` (the active copy).

    Returns the bounds and an ``unknown`` map of files that exist but could not be read.
    """
    bounds: list[ImportBound] = []
    unknown: dict[str, str] = {}
    for package in BOUND_PACKAGES:
        dirs = package_dirs.get(package)
        if not dirs:
            continue
        package_dir = Path(dirs[0])
        try:
            if package in TABLE_PACKAGES:
                bounds.extend(dependency_table_bounds(package_dir, package, python_version))
            else:
                bounds.extend(openmmlab_bounds(package_dir / "__init__.py", package))
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            unknown[f"import_bounds:{package}"] = f"cannot read {dirs[0]}: {type(exc).__name__}: {str(exc)[:200]}"
    return tuple(bounds), unknown


def dependency_table_bounds(package_dir: Path, package: str, python_version: tuple[int, ...]) -> list[ImportBound]:
    """transformers-style bounds: ``deps[name]`` for each name checked at import."""
    table_file = package_dir / "dependency_versions_table.py"
    check_file = package_dir / "dependency_versions_check.py"
    if not table_file.is_file() or not check_file.is_file():
        return []
    deps = _literal_assignment(_parse(table_file), "deps")
    if not isinstance(deps, dict):
        raise ValueError(f"{table_file.name} has no literal `deps` dict")
    names = _runtime_list(_parse(check_file).body, "pkgs_to_check_at_runtime", python_version)
    return [
        ImportBound(package=package, requirement=str(deps[name]), source=str(table_file))
        for name in names
        if isinstance(deps.get(name), str)
    ]


def openmmlab_bounds(init_file: Path, package: str) -> list[ImportBound]:
    """Bounds from ``assert (X_version >= digit_version(min) and X_version < ...)``.

    The comparison operators are read from the assert itself, so mmdet 2.x's inclusive
    ``<=`` maximum and 3.x's exclusive ``<`` both come out exactly.
    """
    if not init_file.is_file():
        return []
    tree = _parse(init_file)
    strings: dict[str, str] = {}
    version_vars: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target = node.targets[0]
        if not isinstance(target, ast.Name):
            continue
        value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            strings[target.id] = value.value
            continue
        inner = _digit_version_arg(value)
        if isinstance(inner, ast.Attribute) and inner.attr == "__version__":
            if isinstance(inner.value, ast.Name):
                version_vars[target.id] = inner.value.id
        elif inner is not None:
            resolved = _resolve_string(inner, strings)
            if resolved is not None:
                strings[target.id] = resolved
    clauses: dict[str, list[str]] = {}
    for compare in ast.walk(tree):
        if not isinstance(compare, ast.Compare):
            continue
        operands = [compare.left, *compare.comparators]
        for left, op, right in zip(operands, compare.ops, operands[1:], strict=False):
            symbol = _OPS.get(type(op))
            if symbol is None:
                continue
            clause = _clause(left, symbol, right, version_vars, strings)
            if clause is not None:
                dependency, text = clause
                if text not in clauses.setdefault(dependency, []):
                    clauses[dependency].append(text)
    return [
        ImportBound(package=package, requirement=dependency + ",".join(parts), source=str(init_file))
        for dependency, parts in clauses.items()
    ]


def _clause(
    left: ast.expr,
    symbol: str,
    right: ast.expr,
    version_vars: Mapping[str, str],
    strings: Mapping[str, str],
) -> tuple[str, str] | None:
    if isinstance(left, ast.Name) and left.id in version_vars:
        bound = _resolve_string(_digit_version_arg(right) or right, strings)
        if bound is not None:
            return version_vars[left.id], f"{symbol}{bound}"
    if isinstance(right, ast.Name) and right.id in version_vars:
        bound = _resolve_string(_digit_version_arg(left) or left, strings)
        if bound is not None:
            return version_vars[right.id], f"{_FLIPPED[symbol]}{bound}"
    return None


def _digit_version_arg(node: ast.expr) -> ast.expr | None:
    """``digit_version(X)`` / ``parse(X)`` / ``version.parse(X)`` -> ``X``."""
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in ("digit_version", "parse", "Version", "LooseVersion"):
            return node.args[0]
    return None


def _resolve_string(node: ast.expr, strings: Mapping[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return strings.get(node.id)
    return None


#: A package's ``__init__.py`` or dependency table is a few KB; a larger one is not read.
MAX_SOURCE = 4 * 1024 * 1024


def _parse(path: Path) -> ast.Module:
    if path.stat().st_size > MAX_SOURCE:
        raise ValueError(f"{path.name} is over {MAX_SOURCE // (1024 * 1024)} MB; not read")
    return ast.parse(path.read_bytes(), filename=str(path))


def _literal_assignment(tree: ast.Module, name: str) -> object:
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return ast.literal_eval(value)
    return None


def _runtime_list(body: Sequence[ast.stmt], name: str, python_version: tuple[int, ...]) -> list[str]:
    """Evaluate the few statement shapes transformers uses to build its check list.

    ``x = [...]``, ``x = "a b".split()``, ``x.append("c")``, ``x.extend([...])``,
    ``x += [...]``, and ``if sys.version_info < (3, 8):`` around any of them.
    """
    names: list[str] = []
    for node in body:
        if isinstance(node, ast.Assign) and _is_name(node.targets, name):
            names = _string_list(node.value) or []
        elif isinstance(node, ast.AugAssign) and _is_name([node.target], name):
            names.extend(_string_list(node.value) or [])
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            func = call.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == name
                and len(call.args) == 1
            ):
                if func.attr == "append":
                    item = call.args[0]
                    if isinstance(item, ast.Constant) and isinstance(item.value, str):
                        names.append(item.value)
                elif func.attr == "extend":
                    names.extend(_string_list(call.args[0]) or [])
        elif isinstance(node, ast.If):
            verdict = _version_condition(node.test, python_version)
            if verdict is True:
                names.extend(_runtime_list(node.body, name, python_version))
            elif verdict is False:
                names.extend(_runtime_list(node.orelse, name, python_version))
    return names


def _is_name(targets: Sequence[ast.expr], name: str) -> bool:
    return len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id == name


def _string_list(node: ast.expr) -> list[str] | None:
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [e.value for e in node.elts if isinstance(e, ast.Constant)]
        return [i for i in items if isinstance(i, str)]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "split"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
        and not node.args
    ):
        return node.func.value.value.split()
    return None


def _version_condition(test: ast.expr, python_version: tuple[int, ...]) -> bool | None:
    """``sys.version_info < (3, 8)`` evaluated for the target interpreter, else ``None``."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if not (
        isinstance(left, ast.Attribute)
        and left.attr == "version_info"
        and isinstance(left.value, ast.Name)
        and left.value.id == "sys"
    ):
        return None
    try:
        bound = ast.literal_eval(right)
    except ValueError:
        return None
    if not isinstance(bound, tuple):
        return None
    current = tuple(python_version[: len(bound)])
    checks = {
        ast.Lt: current < bound,
        ast.LtE: current <= bound,
        ast.Gt: current > bound,
        ast.GtE: current >= bound,
        ast.Eq: current == bound,
        ast.NotEq: current != bound,
    }
    return checks.get(type(op))
