"""The ``diagnose`` report: one doctor line per area, its findings beneath.

Each area's line summarises what was found (versions, GPUs) and takes the worst mark of
its findings; ``-v`` adds the facts behind the summary and the facts that could not be
collected, with their reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from envdoctor.diagnosis import Diagnosis
from envdoctor.model import AREAS, Finding
from envdoctor.render.findings import FindingView
from envdoctor.render.safe_text import escape

__all__ = ["DiagnoseView", "area_summary", "not_checked"]

_DIAGNOSE_AREAS = ("python", "torch", "cuda", "huggingface", "openmmlab")


def _versions(facts: Mapping[str, Any], names: tuple[str, ...]) -> str:
    shown = [f"{name} {facts[f'dist.{name}']}" for name in names if facts.get(f"dist.{name}")]
    return ", ".join(shown) if shown else "not installed"


def area_summary(area: str, diagnosis: Diagnosis) -> str:
    """The one-line summary of an area, from the facts."""
    facts = diagnosis.facts.scalars
    env = diagnosis.environment
    if area == "python":
        where = "venv" if env.python.in_venv else "interpreter"
        count = len(env.python.distributions)
        return (
            f"Python {env.python.version} ({env.python.implementation}, {env.python.platform}) {where} "
            f"{env.python.prefix}, {count} distribution{'' if count == 1 else 's'}"
        )
    if area == "torch":
        if not facts.get("torch.installed"):
            return "torch not installed"
        build = (
            f"CUDA {facts['torch.cuda']}"
            if facts.get("torch.cuda")
            else (f"ROCm {facts['torch.hip']}" if facts.get("torch.hip") else "CPU-only build")
        )
        extras = [f"cuDNN {facts['torch.cudnn']}"] if facts.get("torch.cudnn") else []
        companions = _versions(facts, ("torchvision", "torchaudio"))
        if companions != "not installed":
            extras.append(companions)
        return f"torch {facts['torch.version']} ({build})" + (f"; {', '.join(extras)}" if extras else "")
    if area == "cuda":
        parts = []
        if facts.get("host.driver_version"):
            cuda = facts.get("host.driver_max_cuda")
            parts.append(f"NVIDIA driver {facts['host.driver_version']}" + (f" (CUDA <= {cuda})" if cuda else ""))
        else:
            parts.append("no NVIDIA driver found")
        gpus = env.host.gpus
        if gpus:
            names = ", ".join(f"{g.name} (sm {g.compute_capability or '?'})" for g in gpus)
            parts.append(f"{len(gpus)} GPU{'s' if len(gpus) != 1 else ''}: {names}")
        if facts.get("host.nvcc_version"):
            parts.append(f"nvcc {facts['host.nvcc_version']}")
        return "; ".join(parts)
    if area == "huggingface":
        return _versions(facts, ("transformers", "tokenizers", "huggingface-hub", "safetensors", "accelerate"))
    if area == "openmmlab":
        return _versions(facts, ("mmengine", "mmcv", "mmcv-full", "mmdet", "mmpretrain", "mmseg"))
    return ""


def _area_mark(findings: list[Finding]) -> tuple[str, str]:
    """``[✗]`` when the area holds any error finding, ``[!]`` for a warning, else ``[✓]``."""
    if any(f.severity == "error" for f in findings):
        return "[✗]", "bold red"
    if any(f.severity == "warning" and not f.benign for f in findings):
        return "[!]", "bold yellow"
    return "[✓]", "green"


#: Skips that always show, not only with -v: the knowledge is older than what is installed.
def _is_reach_skip(reason: str) -> bool:
    return "newer than this knowledge" in reason


def _detail_lines(area: str, diagnosis: Diagnosis) -> list[str]:
    env = diagnosis.environment
    lines: list[str] = []
    if area == "python":
        lines.append(f"executable: {env.python.executable}")
        lines.extend(f"site-packages: {p}" for p in env.python.site_packages)
        lines.extend(f"{k}: unknown ({v})" for k, v in env.python.unknown.items())
    elif area == "torch" and env.torch is not None:
        for name, method in sorted(env.torch.sources.items()):
            lines.append(f"{name}: {getattr(env.torch, name, None)!s}  [from {method}]")
        if env.torch.arch_list:
            lines.append(f"arch list: {' '.join(env.torch.arch_list)}")
        lines.extend(f"{k}: unknown ({v})" for k, v in env.torch.unknown.items())
        if env.deep is not None:
            lines.append(
                f"import check (--deep): {env.deep.status}" + (f": {env.deep.error}" if env.deep.error else "")
            )
            if env.deep.cuda_available is not None:
                lines.append(f"torch.cuda.is_available(): {env.deep.cuda_available}, devices: {env.deep.device_count}")
        for name, version in sorted(env.torch.companions.items()):
            lines.append(f"{name}/version.py: __version__ = {version!r}")
    if area == "python" and env.imports:
        for check in env.imports:
            took = f" in {check.seconds:.1f}s" if check.seconds is not None else ""
            what = f"import {check.module}" + (
                f" + {check.operation}" if check.operation and check.status == "ok" else ""
            )
            first = (check.error or "").splitlines()[0] if check.error else ""
            lines.append(f"{what} (--deep): {check.status}{took}" + (f": {first}" if first else ""))
    if area == "cuda":
        host = env.host
        lines.extend(
            f"GPU {g.index}: {g.name}, {g.memory_total_mib} MiB, compute capability {g.compute_capability}"
            for g in host.gpus
        )
        lines.append(
            f"CUDA_HOME: {host.cuda_home or 'not set'}; CUDA_VISIBLE_DEVICES: {host.cuda_visible_devices or 'not set'}"
        )
        lines.append(f"OS: {host.os}; kernel {host.kernel}; libc {host.libc}")
        lines.extend(f"{k}: from {v}" for k, v in sorted(host.sources.items()))
        lines.extend(f"{k}: unknown ({v})" for k, v in host.unknown.items())
    return lines


def not_checked(diagnosis: Diagnosis, *, verbose: bool) -> list[tuple[str, bool]]:
    """``(line, always shown)`` for what was not checked, in the order the reports list it.

    Checks skipped, by id (without ``verbose`` only those the knowledge is too old for), then
    packages whose import-time requirements could not be read (the import checks skip them).
    """
    lines = [
        (f"{check_id}: {reason}", _is_reach_skip(reason))
        for check_id, reason in sorted(diagnosis.skipped.items())
        if verbose or _is_reach_skip(reason)
    ]
    prefix = "import_bounds:"
    unread = {k[len(prefix) :]: v for k, v in diagnosis.environment.python.unknown.items() if k.startswith(prefix)}
    lines += [(f"what {package} requires at import: {reason}", True) for package, reason in sorted(unread.items())]
    return lines


class DiagnoseView:
    """The whole report."""

    def __init__(self, diagnosis: Diagnosis, *, verbose: bool = False) -> None:
        self.diagnosis = diagnosis
        self.verbose = verbose

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        diagnosis = self.diagnosis
        yield Text(f"envdoctor diagnose: {escape(diagnosis.environment.python.executable)}", style="bold")
        by_area: dict[str, list[Finding]] = {area: [] for area in _DIAGNOSE_AREAS}
        for finding in diagnosis.findings:
            by_area.setdefault(finding.area, []).append(finding)
        for area, findings in by_area.items():
            symbol, style = _area_mark(findings)
            line = Text()
            line.append(symbol, style=style)
            line.append(f" {AREAS.get(area, area)}", style="bold")
            summary = area_summary(area, diagnosis)
            if summary:
                line.append(f": {escape(summary)}")
            yield line
            if self.verbose:
                for detail in _detail_lines(area, diagnosis):
                    yield Text(f"    • {escape(detail)}", style="dim")
            for finding in findings:
                yield FindingView(finding, verbose=self.verbose, indent=4)
        unchecked = not_checked(diagnosis, verbose=self.verbose)
        if unchecked:
            yield Text("")
            for text, always in unchecked:
                yield Text(f"not checked: {escape(text)}", style="yellow" if always else "dim")
        errors = sum(1 for f in diagnosis.findings if f.severity == "error" and not f.benign)
        warnings = sum(1 for f in diagnosis.findings if f.severity == "warning" and not f.benign)
        yield Text("")
        if errors or warnings:
            yield Text(f"{errors} error(s), {warnings} warning(s). Run `envdoctor explain ID` for details.")
        elif any(always for _, always in unchecked):
            yield Text('No issues found by the checks that could run (see "not checked" above).', style="yellow")
        else:
            yield Text("No issues found.", style="green")
        if diagnosis.constraints:
            pins = " ".join(c.requirement for c in diagnosis.constraints if not c.optional)
            if pins:
                yield Text(f"Suggested pins: {pins}  (see `envdoctor constraints`)")
