"""Parsers for the text NVIDIA tools and kernel files print; pure functions, no I/O.

Every format here is pinned by a recorded real output under ``tests/fixtures/host/``
(sources in its ``SOURCES.toml``).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from envdoctor.model import Gpu, small_number

__all__ = [
    "SMI_FIELDS",
    "SmiBanner",
    "parse_nvcc_version",
    "parse_os_release",
    "parse_proc_driver_version",
    "parse_smi_banner",
    "parse_smi_driver_column",
    "parse_smi_query",
    "smi_failure",
]

#: The ``--query-gpu`` fields envdoctor asks for, in order.
SMI_FIELDS = ("index", "name", "memory.total", "compute_cap", "uuid", "driver_version")

_PROC_VERSION = re.compile(r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+(?:\.\d+)+)")
_NVCC = re.compile(r"release (\d+(?:\.\d+)*),\s*V(\d+(?:\.\d+)*)")
_NVCC_RELEASE = re.compile(r"release (\d+(?:\.\d+)*)")
_BANNER_DRIVER = re.compile(r"Driver Version:\s*([\d.]+)")
_BANNER_CUDA = re.compile(r"CUDA Version:\s*([\d.]+)")
_BANNER_SMI = re.compile(r"NVIDIA-SMI\s+([\d.]+)")
_BANNER_GPU = re.compile(r"^\|\s+([0-9]{1,6})\s+(.+?)\s+(?:On|Off)\s*\|")
_BANNER_MEMORY = re.compile(r"(?<![0-9])([0-9]{1,12})MiB\s*/\s*([0-9]{1,12})MiB")
_FAILURE_MARKERS = (
    "NVIDIA-SMI has failed",
    "Failed to initialize NVML",
    "No devices were found",
    "is not a valid field to query",
    "Unable to determine the device handle",
)


def parse_proc_driver_version(text: str) -> str | None:
    """The driver version in ``/proc/driver/nvidia/version`` (proprietary or open module)."""
    match = _PROC_VERSION.search(text)
    return match.group(1) if match else None


def parse_nvcc_version(text: str) -> str | None:
    """``release 12.1, V12.1.105`` -> ``"12.1.105"`` (the release when V is absent)."""
    match = _NVCC.search(text)
    if match:
        return match.group(2)
    match = _NVCC_RELEASE.search(text)
    return match.group(1) if match else None


def parse_os_release(text: str) -> str | None:
    """``PRETTY_NAME`` (else ``NAME VERSION``) of an ``/etc/os-release`` file."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"').strip("'")
    if values.get("PRETTY_NAME"):
        return values["PRETTY_NAME"]
    name = " ".join(v for v in (values.get("NAME"), values.get("VERSION")) if v)
    return name or None


def smi_failure(text: str) -> str | None:
    """The error line when nvidia-smi printed one of its known failure messages."""
    for line in text.splitlines():
        if any(marker in line for marker in _FAILURE_MARKERS):
            return line.strip()
    return None


def _field(header: str) -> str:
    # "memory.total [MiB]" -> "memory.total"; nvidia-smi echoes the requested names.
    return header.split("[", 1)[0].strip()


def _value(text: str) -> str | None:
    text = text.strip()
    return None if not text or text in ("N/A", "[N/A]", "[Not Supported]") else text


def _smi_table(text: str) -> tuple[list[str] | None, list[list[str]]]:
    """The CSV of a ``--query-gpu`` output: its column names (``None`` without a header row) and data rows."""
    rows = [r for r in csv.reader(io.StringIO(text), skipinitialspace=True) if r]
    names = [_field(h) for h in rows[0]] if rows else []
    if {"index", "name", "uuid", "driver_version", "memory.total"} & set(names):
        return names, rows[1:]
    return None, rows


def parse_smi_query(text: str, fields: tuple[str, ...] = SMI_FIELDS) -> list[Gpu]:
    """GPUs from ``nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]``.

    With a header row the columns are matched by name (any order, units or not);
    without one they are taken to be ``fields`` in order.
    """
    names, rows = _smi_table(text)
    if names is None:
        names = list(fields)
    gpus = []
    for position, row in enumerate(rows):
        values = {name: _value(cell) for name, cell in zip(names, row, strict=False)}
        memory = values.get("memory.total")
        memory_match = re.match(r"([0-9]{1,12})(?![0-9])", memory or "")
        index_text = values.get("index")
        gpus.append(
            Gpu(
                index=int(index_text) if index_text and small_number(index_text, 6) else position,
                name=values.get("name") or "unknown",
                memory_total_mib=int(memory_match.group(1)) if memory_match else None,
                compute_capability=values.get("compute_cap"),
                uuid=values.get("uuid"),
            )
        )
    return gpus


def parse_smi_driver_column(text: str) -> str | None:
    """The ``driver_version`` column of a query output with a header, if present."""
    names, rows = _smi_table(text)
    if names is None or not rows or "driver_version" not in names:
        return None
    position = names.index("driver_version")
    return _value(rows[0][position]) if position < len(rows[0]) else None


@dataclass(frozen=True)
class SmiBanner:
    """What the plain ``nvidia-smi`` table says."""

    smi_version: str | None
    driver_version: str | None
    cuda_version: str | None
    gpus: tuple[Gpu, ...]


def parse_smi_banner(text: str) -> SmiBanner:
    """Driver version, "CUDA Version" and GPU rows of the plain ``nvidia-smi`` table.

    Names in the table may be truncated (``NVIDIA A100-SXM...``); memory is the total.
    """
    smi = _BANNER_SMI.search(text)
    driver = _BANNER_DRIVER.search(text)
    cuda = _BANNER_CUDA.search(text)
    gpus: list[Gpu] = []
    pending: tuple[int, str] | None = None
    for line in text.splitlines():
        gpu_row = _BANNER_GPU.match(line)
        if gpu_row and "MiB" not in line:
            pending = (int(gpu_row.group(1)), gpu_row.group(2).strip())
            continue
        memory = _BANNER_MEMORY.search(line)
        if pending is not None and memory:
            gpus.append(Gpu(index=pending[0], name=pending[1], memory_total_mib=int(memory.group(2))))
            pending = None
        elif "Processes:" in line:
            break
    return SmiBanner(
        smi_version=smi.group(1) if smi else None,
        driver_version=driver.group(1) if driver else None,
        cuda_version=cuda.group(1) if cuda else None,
        gpus=tuple(gpus),
    )
