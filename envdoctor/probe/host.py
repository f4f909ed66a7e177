"""Facts about the machine outside the interpreter: OS, libc, NVIDIA driver, GPUs, CUDA.

Collected in envdoctor's own process. The driver and GPUs come from NVML first, then
``/sys/module/nvidia/version`` or ``/proc/driver/nvidia/version``, then ``nvidia-smi``
(query, retried without ``compute_cap`` for old drivers, plus its banner for the "CUDA
Version"); the toolkit from ``nvcc --version`` found the way torch's ``cpp_extension``
finds it. Files are read relative to ``host_root`` so tests can replay a recorded
``/proc`` and ``/sys``; processes go through the injected :class:`Runner`. The slow
probes run in threads. Whatever cannot be learnt is ``None`` with a reason.
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from envdoctor.model import Gpu, HostFacts
from envdoctor.probe._tasks import Task
from envdoctor.probe.nvml import NvmlLibrary, load_pynvml, query_nvml
from envdoctor.probe.parsers import (
    SMI_FIELDS,
    parse_nvcc_version,
    parse_os_release,
    parse_proc_driver_version,
    parse_smi_banner,
    parse_smi_driver_column,
    parse_smi_query,
    smi_failure,
)
from envdoctor.probe.runner import Runner

__all__ = ["LD_SHADOW_PREFIXES", "probe_host", "start_host_probe"]

#: Libraries in LD_LIBRARY_PATH that win over the copies torch's nvidia-* wheels bring.
LD_SHADOW_PREFIXES = (
    "libcudart.so",
    "libcudnn.so",
    "libcudnn_",
    "libcublas.so",
    "libcublasLt.so",
    "libnccl.so",
)


@dataclass
class _Part:
    values: dict[str, object] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)

    def merge(self, other: _Part) -> None:
        self.values.update(other.values)
        self.sources.update(other.sources)
        self.unknown.update(other.unknown)


def start_host_probe(
    *,
    runner: Runner,
    timeout: float,
    host_root: Path,
    environ: Mapping[str, str],
    nvml: NvmlLibrary | None,
) -> Task[HostFacts]:
    """Start the host probes in threads; the task's result is the :class:`HostFacts`."""
    gpu = Task(lambda: _gpu_facts(runner, timeout, host_root, environ, nvml), "envdoctor-gpu")
    toolkit = Task(lambda: _toolkit_facts(runner, timeout, host_root, environ), "envdoctor-nvcc")

    def finish() -> HostFacts:
        part = _system_facts(host_root, environ, runner, timeout)
        part.merge(gpu.result())
        part.merge(toolkit.result())
        values = part.values
        gpus = values.get("gpus", ())
        return HostFacts(
            os=_str(values.get("os")),
            kernel=_str(values.get("kernel")),
            libc=_str(values.get("libc")),
            driver_version=_str(values.get("driver_version")),
            driver_max_cuda=_str(values.get("driver_max_cuda")),
            gpus=tuple(g for g in gpus if isinstance(g, Gpu)) if isinstance(gpus, list) else (),
            nvcc_version=_str(values.get("nvcc_version")),
            nvcc_path=_str(values.get("nvcc_path")),
            cuda_home=_str(values.get("cuda_home")),
            cuda_visible_devices=environ.get("CUDA_VISIBLE_DEVICES"),
            ld_library_path=tuple(_str_items(values.get("ld_library_path"))),
            ld_shadows=tuple(_str_items(values.get("ld_shadows"))),
            sources=part.sources,
            unknown=part.unknown,
        )

    return Task(finish, "envdoctor-host")


def probe_host(
    *,
    runner: Runner,
    timeout: float,
    host_root: Path = Path("/"),
    environ: Mapping[str, str] | None = None,
    nvml: NvmlLibrary | None = None,
) -> HostFacts:
    """Collect :class:`HostFacts` (blocking; :func:`start_host_probe` overlaps them)."""
    return start_host_probe(
        runner=runner,
        timeout=timeout,
        host_root=host_root,
        environ=os.environ if environ is None else environ,
        nvml=nvml,
    ).result()


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _str_items(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, (list, tuple)) else []


def _read(root: Path, path: str) -> str | None:
    try:
        return (root / path.lstrip("/")).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


# --------------------------------------------------------------------------- system


def _system_facts(host_root: Path, environ: Mapping[str, str], runner: Runner, timeout: float) -> _Part:
    part = _Part()
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        text = _read(host_root, path)
        name = parse_os_release(text) if text else None
        if name:
            part.values["os"], part.sources["os"] = name, path
            break
    else:
        if host_root == Path("/") and platform.system() != "Linux":
            part.values["os"], part.sources["os"] = platform.platform(), "platform.platform()"
        else:
            part.unknown["os"] = "no /etc/os-release or /usr/lib/os-release"
    kernel = _read(host_root, "/proc/sys/kernel/osrelease")
    if kernel and kernel.strip():
        part.values["kernel"] = kernel.strip()
        part.sources["kernel"] = "/proc/sys/kernel/osrelease"
    elif host_root == Path("/"):
        part.values["kernel"], part.sources["kernel"] = platform.release(), "uname"
    else:
        part.unknown["kernel"] = "no /proc/sys/kernel/osrelease"
    _libc(part, runner, timeout, environ)
    entries = [e for e in environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if e]
    part.values["ld_library_path"] = entries
    part.values["ld_shadows"] = _ld_shadows(entries)
    if entries:
        part.sources["ld_shadows"] = "LD_LIBRARY_PATH listing"
    return part


def _libc(part: _Part, runner: Runner, timeout: float, environ: Mapping[str, str]) -> None:
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        text = None
    if text:
        part.values["libc"] = text.replace(" ", "-", 1)  # "glibc 2.36" -> "glibc-2.36"
        part.sources["libc"] = "confstr(CS_GNU_LIBC_VERSION)"
        return
    if platform.system() != "Linux":
        part.unknown["libc"] = f"not applicable on {platform.system()}"
        return
    ldd = runner.which("ldd", environ.get("PATH"))
    if ldd is None:
        part.unknown["libc"] = "not glibc, and no ldd on PATH"
        return
    result = runner.run([ldd, "--version"], timeout=timeout)
    match = re.search(r"(musl) libc.*?Version ([\d.]+)", result.stdout + result.stderr, re.S)
    if match:
        part.values["libc"], part.sources["libc"] = f"musl-{match.group(2)}", "ldd --version"
    else:
        part.unknown["libc"] = "not glibc, and `ldd --version` names no libc version"


def _ld_shadows(entries: list[str]) -> list[str]:
    shadows: list[str] = []
    for entry in entries:
        try:
            names = sorted(os.listdir(entry))
        except OSError:
            continue
        shadows.extend(os.path.join(entry, n) for n in names if n.startswith(LD_SHADOW_PREFIXES))
    return shadows


# --------------------------------------------------------------------------- toolkit


def _toolkit_facts(runner: Runner, timeout: float, host_root: Path, environ: Mapping[str, str]) -> _Part:
    part = _Part()
    path_env = environ.get("PATH")
    on_path = runner.which("nvcc", path_env)
    # torch.utils.cpp_extension's order: CUDA_HOME, CUDA_PATH, nvcc on PATH, /usr/local/cuda.
    cuda_home: str | None = None
    cuda_home_on_disk: Path | None = None  # environment paths are real; defaults sit in root
    for variable in ("CUDA_HOME", "CUDA_PATH"):
        if environ.get(variable):
            cuda_home, part.sources["cuda_home"] = environ[variable], f"env:{variable}"
            cuda_home_on_disk = Path(cuda_home)
            break
    else:
        if on_path:
            cuda_home = os.path.dirname(os.path.dirname(os.path.realpath(on_path)))
            part.sources["cuda_home"] = "nvcc on PATH"
        elif (host_root / "usr/local/cuda").is_dir():
            cuda_home, part.sources["cuda_home"] = "/usr/local/cuda", "/usr/local/cuda"
            cuda_home_on_disk = host_root / "usr/local/cuda"
        else:
            part.unknown["cuda_home"] = "CUDA_HOME/CUDA_PATH unset, no nvcc, no /usr/local/cuda"
    part.values["cuda_home"] = cuda_home
    nvcc = on_path
    if nvcc is None and cuda_home_on_disk is not None:
        candidate = cuda_home_on_disk / "bin" / "nvcc"
        nvcc = str(candidate) if candidate.is_file() else None
    if nvcc is None:
        reason = "nvcc is not on PATH" + (f" nor in {cuda_home}/bin" if cuda_home else "")
        part.unknown["nvcc_version"] = reason
        return part
    part.values["nvcc_path"] = nvcc
    result = runner.run([nvcc, "--version"], timeout=timeout)
    version = parse_nvcc_version(result.stdout) if result.ok else None
    if version:
        part.values["nvcc_version"], part.sources["nvcc_version"] = version, "nvcc --version"
    else:
        part.unknown["nvcc_version"] = result.describe_failure() or "no version in `nvcc --version`"
    return part


# --------------------------------------------------------------------------- driver & GPUs


def _gpu_facts(
    runner: Runner,
    timeout: float,
    host_root: Path,
    environ: Mapping[str, str],
    nvml: NvmlLibrary | None,
) -> _Part:
    part = _Part()
    reasons: list[str] = []
    library = nvml if nvml is not None else load_pynvml()
    if isinstance(library, str):
        reasons.append(library)
    else:
        report = query_nvml(library)
        if report.problems:
            part.unknown["nvml"] = "; ".join(report.problems)
        if report.error is None and report.driver_version:
            part.values["driver_version"] = report.driver_version
            part.values["gpus"] = list(report.gpus)
            part.sources["driver_version"] = part.sources["gpus"] = "nvml"
            if report.driver_max_cuda:
                part.values["driver_max_cuda"] = report.driver_max_cuda
                part.sources["driver_max_cuda"] = "nvml"
            else:
                part.unknown["driver_max_cuda"] = "NVML did not report it; checks derive it from the driver version"
            return part
        reasons.append(report.error or "NVML reported no driver version")
    for path, parse in (
        ("/sys/module/nvidia/version", str.strip),
        ("/proc/driver/nvidia/version", parse_proc_driver_version),
    ):
        text = _read(host_root, path)
        version = parse(text) if text else None
        if version:
            part.values["driver_version"], part.sources["driver_version"] = version, path
            break
        reasons.append(f"{path}: {'unparsable' if text else 'absent'}")
    _nvidia_smi(part, runner, timeout, environ, reasons)
    if "driver_version" in part.values and "driver_max_cuda" not in part.values:
        # The probe records observations only; kb.facts derives the ceiling from the driver
        # version with the compatibility table (one place for that rule).
        part.unknown["driver_max_cuda"] = (
            "not reported by NVML or the nvidia-smi banner; checks derive it from the driver version"
        )
    summary = "; ".join(reasons)
    for fact in ("driver_version", "driver_max_cuda", "gpus"):
        if not part.values.get(fact) and fact not in part.unknown:
            part.unknown[fact] = summary
    return part


def _nvidia_smi(
    part: _Part,
    runner: Runner,
    timeout: float,
    environ: Mapping[str, str],
    reasons: list[str],
) -> None:
    smi = runner.which("nvidia-smi", environ.get("PATH"))
    if smi is None:
        reasons.append("nvidia-smi: not found on PATH")
        return
    fields: tuple[str, ...] = SMI_FIELDS
    for _attempt in range(2):
        query = runner.run([smi, f"--query-gpu={','.join(fields)}", "--format=csv,nounits"], timeout=timeout)
        text = query.stdout + query.stderr
        failure = smi_failure(text)
        if failure and "compute_cap" in failure and "compute_cap" in fields:
            # Drivers before ~510 do not know the field: ask again without it.
            fields = tuple(f for f in fields if f != "compute_cap")
            part.unknown["compute_capability"] = f"nvidia-smi: {failure}"
            continue
        break
    if not query.ok or failure:
        reasons.append(f"nvidia-smi: {failure or query.describe_failure()}")
        if query.timed_out or failure:
            return  # the banner would hang or fail the same way
    else:
        gpus = parse_smi_query(query.stdout, fields)
        if gpus:
            part.values["gpus"], part.sources["gpus"] = gpus, "nvidia-smi --query-gpu"
        driver = parse_smi_driver_column(query.stdout)
        if driver and "driver_version" not in part.values:
            part.values["driver_version"] = driver
            part.sources["driver_version"] = "nvidia-smi --query-gpu"
    banner_run = runner.run([smi], timeout=timeout)
    if not banner_run.ok:
        reasons.append(f"nvidia-smi: {smi_failure(banner_run.stdout) or banner_run.describe_failure()}")
        return
    banner = parse_smi_banner(banner_run.stdout)
    if banner.cuda_version:
        part.values["driver_max_cuda"] = banner.cuda_version
        part.sources["driver_max_cuda"] = "nvidia-smi banner"
    if banner.driver_version and "driver_version" not in part.values:
        part.values["driver_version"] = banner.driver_version
        part.sources["driver_version"] = "nvidia-smi banner"
    if banner.gpus and "gpus" not in part.values:
        part.values["gpus"], part.sources["gpus"] = list(banner.gpus), "nvidia-smi banner"
