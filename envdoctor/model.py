"""Frozen values passed between envdoctor's layers: environment facts, findings, constraints.

The probe produces an :class:`Environment`; the knowledge base turns facts (or log lines,
or state-dict keys) into :class:`Finding` values; renderers print them. A fact that could
not be collected is ``None`` and its reason sits in the owning object's ``unknown`` map,
so one missing tool never hides the other facts.

Every class round-trips through plain JSON (:func:`to_jsonable` / :func:`from_jsonable`),
which is what ``diagnose --json`` prints and what ``triage --env REPORT.json`` reads back.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from packaging.utils import canonicalize_name
from packaging.version import Version

__all__ = [
    "Severity",
    "SEVERITIES",
    "SEVERITY_RANK",
    "CATEGORIES",
    "AREAS",
    "Distribution",
    "Duplicate",
    "ImportBound",
    "PythonFacts",
    "TorchBuild",
    "Gpu",
    "HostFacts",
    "DeepTorch",
    "ImportCheck",
    "Environment",
    "ShapeMismatch",
    "KeyReport",
    "Evidence",
    "Fix",
    "Finding",
    "Constraint",
    "gather_constraints",
    "parse_version",
    "small_number",
    "tame_numbers",
    "to_jsonable",
    "from_jsonable",
]

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

#: The public category set (README "Categories"); every finding carries exactly one.
CATEGORIES: frozenset[str] = frozenset(
    {
        "state_dict.buffer_drift",
        "state_dict.unused_weights",
        "state_dict.new_head",
        "state_dict.config_mismatch",
        "state_dict.prefix",
        "state_dict.shape_mismatch",
        "state_dict.tied_weights",
        "state_dict.wrapped_checkpoint",
        "version.requirement_conflict",
        "version.api_removed",
        "version.numpy_abi",
        "version.no_wheel",
        "cuda.cpu_build",
        "cuda.driver_too_old",
        "cuda.arch_unsupported",
        "cuda.extension_abi",
        "cuda.library_mismatch",
        "cuda.oom",
        "cuda.toolkit_missing",
        "cuda.no_device",
        "cuda.device_assert",
        "env.missing_system_lib",
        "env.duplicate_install",
        "env.probe_incomplete",
        "security.unsafe_pickle",
        "other",
    }
)

#: Report areas of ``diagnose``, in display order, with their headings.
AREAS: Mapping[str, str] = {
    "python": "Python & packages",
    "torch": "PyTorch",
    "cuda": "CUDA & GPU",
    "huggingface": "Hugging Face",
    "openmmlab": "OpenMMLab",
    "state_dict": "State dict",
    "checkpoint": "Checkpoint",
}

#: Severity -> sort rank, most severe first.
SEVERITY_RANK: Mapping[str, int] = {severity: rank for rank, severity in enumerate(SEVERITIES)}


_LONG_NUMBER = re.compile(r"[0-9]{65,}")


def tame_numbers(text: str) -> str:
    """``text`` with each run of more than 64 digits written as ``<N digits>``.

    No version, requirement, index or size has such a number, and ``packaging`` (through
    ``int()``) raises a plain ``ValueError`` past 4,300 digits, wherever it meets one. Text
    from an inspected environment or a report is tamed where it enters, so that such a
    version is simply not PEP 440 (:func:`parse_version` gives ``None``).
    """
    if len(text) <= 64:
        return text
    return _LONG_NUMBER.sub(lambda match: f"<{len(match.group()):,} digits>", text)


def small_number(text: str, most_digits: int) -> bool:
    """Whether ``text`` is ASCII digits only, at most ``most_digits`` of them.

    What ``int()`` reads and an index, count or version part can be: ``str.isdigit`` also
    says yes to ``²``, which ``int()`` refuses, and to 5,000 digits, which it refuses past 4,300.
    """
    return len(text) <= most_digits and text.isascii() and text.isdigit()


def parse_version(text: str | None) -> Version | None:
    """Parse a version string, returning ``None`` for missing or non-PEP 440 text."""
    if text is None:
        return None
    try:
        return Version(text)
    except ValueError:  # InvalidVersion, or a release number int() refuses
        return None


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class Distribution:
    """One installed distribution, as its metadata describes it."""

    name: str
    version: str
    location: str
    requires: tuple[str, ...] = ()
    top_level: tuple[str, ...] = ()
    installer: str | None = None
    metadata_error: str | None = None
    #: Whether a ``.dist-info`` has its RECORD (``None`` for egg-info, which has none).
    has_record: bool | None = None

    @property
    def key(self) -> str:
        """The canonical (PEP 503) name used for lookups."""
        return canonicalize_name(self.name)

    @property
    def parsed_version(self) -> Version | None:
        return parse_version(self.version)


@dataclass(frozen=True)
class Duplicate:
    """Two installs that collide: one distribution twice, or two providing one module."""

    kind: Literal["same-distribution", "same-module"]
    name: str
    installs: tuple[str, ...]
    active: str | None = None


@dataclass(frozen=True)
class ImportBound:
    """A version bound a package enforces when imported, which pip cannot see.

    Read from the installed package's own source (e.g. transformers'
    ``dependency_versions_table.py``, mmdet's ``__init__.py``), so it is exact for the
    installed release.
    """

    package: str
    requirement: str
    source: str


@dataclass(frozen=True)
class PythonFacts:
    """The interpreter and its installed distributions."""

    executable: str
    version: str
    implementation: str
    platform: str
    machine: str
    prefix: str
    base_prefix: str
    in_venv: bool
    conda_prefix: str | None = None
    sys_path: tuple[str, ...] = ()
    site_packages: tuple[str, ...] = ()
    user_site: str | None = None
    tags: tuple[str, ...] = ()
    markers: Mapping[str, str] = field(default_factory=dict)
    distributions: tuple[Distribution, ...] = ()
    duplicates: tuple[Duplicate, ...] = ()
    import_bounds: tuple[ImportBound, ...] = ()
    module_files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unknown: Mapping[str, str] = field(default_factory=dict)
    #: ``sys.path`` entry -> what put it there (``/venv/.../x.pth:1``, ``PYTHONPATH``).
    path_origins: Mapping[str, str] = field(default_factory=dict)

    def distribution(self, name: str) -> Distribution | None:
        """The active (first on sys.path) distribution called ``name``, if installed."""
        key = canonicalize_name(name)
        for dist in self.distributions:
            if dist.key == key:
                return dist
        return None


@dataclass(frozen=True)
class TorchBuild:
    """What the installed torch was built with, read from files, never by importing it."""

    version: str | None = None
    cuda: str | None = None
    hip: str | None = None
    git_version: str | None = None
    debug: bool | None = None
    cudnn: str | None = None
    nccl: str | None = None
    cublas: str | None = None
    arch_list: tuple[str, ...] | None = None
    location: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    unknown: Mapping[str, str] = field(default_factory=dict)
    #: ``__version__`` literals of torchvision/version.py and torchaudio/version.py, whose
    #: local label (``+cu130``, ``+cpu``) names the variant they were built for.
    companions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Gpu:
    """One NVIDIA GPU as the driver reports it."""

    index: int
    name: str
    memory_total_mib: int | None = None
    compute_capability: str | None = None
    uuid: str | None = None


@dataclass(frozen=True)
class HostFacts:
    """The machine outside the interpreter: OS, libc, NVIDIA driver, GPUs, CUDA toolkit."""

    os: str | None = None
    kernel: str | None = None
    libc: str | None = None
    driver_version: str | None = None
    driver_max_cuda: str | None = None
    gpus: tuple[Gpu, ...] = ()
    nvcc_version: str | None = None
    nvcc_path: str | None = None
    cuda_home: str | None = None
    cuda_visible_devices: str | None = None
    ld_library_path: tuple[str, ...] = ()
    ld_shadows: tuple[str, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)
    unknown: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeepTorch:
    """What importing torch in a child process showed (``--deep``)."""

    status: Literal["ok", "import-error", "crashed", "timed-out", "not-installed"]
    cuda_available: bool | None = None
    device_count: int | None = None
    arch_list: tuple[str, ...] | None = None
    cudnn_version: str | None = None
    device_ops: tuple[tuple[int, str], ...] = ()
    error: str | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class ImportCheck:
    """``--deep``: importing one top-level package (plus its smoke operation) in a child."""

    module: str
    distribution: str | None
    status: Literal["ok", "import-error", "crashed", "timed-out"]
    error: str | None = None
    operation: str | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class Environment:
    """Everything the probe learnt about one interpreter and its host."""

    python: PythonFacts
    host: HostFacts
    torch: TorchBuild | None = None
    deep: DeepTorch | None = None
    collected_at: str | None = None
    envdoctor_version: str | None = None
    #: ``--deep``: one import check per installed top-level package of the ML stack.
    imports: tuple[ImportCheck, ...] = ()


# --------------------------------------------------------------------------- state dicts


@dataclass(frozen=True)
class ShapeMismatch:
    """A key present on both sides with different shapes."""

    key: str
    checkpoint_shape: tuple[int, ...] | None
    model_shape: tuple[int, ...] | None


@dataclass(frozen=True)
class KeyReport:
    """What one load attempt (from a log) or one comparison (two key sets) says.

    ``unexpected`` are in the checkpoint but not the model, ``missing`` the reverse.
    The full key sets and shapes are known when comparing files, not from most logs.
    ``lines`` maps a key (or ``"header"``) to the 1-based log line it was read from.
    """

    source: str
    unexpected: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    mismatched: tuple[ShapeMismatch, ...] = ()
    checkpoint_keys: tuple[str, ...] | None = None
    model_keys: tuple[str, ...] | None = None
    checkpoint_shapes: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    model_shapes: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    model_name: str | None = None
    checkpoint_name: str | None = None
    lines: Mapping[str, int] = field(default_factory=dict)
    header_line: int | None = None
    header_text: str | None = None


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Evidence:
    """A fact or log line a finding rests on. ``line`` is 1-based in the triaged log."""

    text: str
    line: int | None = None
    source: str | None = None


@dataclass(frozen=True)
class Fix:
    """How to fix a finding: PEP 508 pins and steps in words.

    ``optional`` is true when the pins only silence a harmless message.
    """

    constraints: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    optional: bool = False


@dataclass(frozen=True)
class Finding:
    """One diagnosed problem or explained symptom; the unit of every report."""

    id: str
    name: str
    category: str
    severity: Severity
    benign: bool
    title: str
    cause: str
    area: str = "python"
    evidence: tuple[Evidence, ...] = ()
    fix: Fix = field(default_factory=Fix)
    references: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> tuple[int, int, str]:
        """Most relevant first: harmful before benign, then by severity, then id."""
        return (int(self.benign), SEVERITY_RANK[self.severity], self.id)


@dataclass(frozen=True)
class Constraint:
    """A pin gathered from findings' fixes, with the findings that asked for it."""

    requirement: str
    findings: tuple[str, ...]
    optional: bool


def gather_constraints(findings: typing.Iterable[Finding]) -> tuple[Constraint, ...]:
    """Collect the fixes' pins, in finding order, merging duplicates.

    A pin is optional only if every finding that asks for it marks it optional.
    """
    order: list[str] = []
    owners: dict[str, list[str]] = {}
    optional: dict[str, bool] = {}
    for finding in findings:
        for requirement in finding.fix.constraints:
            if requirement not in owners:
                order.append(requirement)
                owners[requirement] = []
                optional[requirement] = True
            if finding.id not in owners[requirement]:
                owners[requirement].append(finding.id)
            optional[requirement] = optional[requirement] and finding.fix.optional
    return tuple(Constraint(req, tuple(owners[req]), optional[req]) for req in order)


# --------------------------------------------------------------------------- JSON


_PLAIN = frozenset({str, int, float, bool, type(None)})


def to_jsonable(value: Any) -> Any:
    """Turn dataclasses, tuples and mappings into plain JSON-compatible values."""
    # Plain values and containers first, by exact type (no dataclass is one of these): a
    # checkpoint summary holds 20,000 small dicts, and is_dataclass costs more than the copy.
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if kind is list:
        return [to_jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


T = TypeVar("T")


def from_jsonable(cls: type[T], data: Any) -> T:
    """Rebuild a dataclass of this module from :func:`to_jsonable` output.

    Unknown keys are ignored (newer producers); missing keys take the field default.
    Raises ``TypeError``/``ValueError`` on shape errors; callers wrap them as bad input.
    """
    return typing.cast(T, _convert(cls, data))


def _convert(tp: Any, data: Any) -> Any:
    origin = get_origin(tp)
    if tp is Any:
        return data
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if data is None:
            return None
        return _convert(args[0], data) if len(args) == 1 else data
    if origin is Literal:
        if data not in get_args(tp):
            raise ValueError(f"{data!r} is not one of {get_args(tp)}")
        return data
    if origin is tuple:
        item_types = get_args(tp)
        if not isinstance(data, list):
            raise TypeError(f"expected a list, got {type(data).__name__}")
        if len(item_types) == 2 and item_types[1] is Ellipsis:
            return tuple(_convert(item_types[0], item) for item in data)
        return tuple(_convert(a, item) for a, item in zip(item_types, data, strict=True))
    if origin in (Mapping, dict) or tp is dict:
        if not isinstance(data, dict):
            raise TypeError(f"expected an object, got {type(data).__name__}")
        key_value = get_args(tp)
        value_type = key_value[1] if key_value else Any
        return {str(k): _convert(value_type, v) for k, v in data.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise TypeError(f"expected an object for {tp.__name__}, got {type(data).__name__}")
        hints = get_type_hints(tp)
        kwargs = {f.name: _convert(hints[f.name], data[f.name]) for f in dataclasses.fields(tp) if f.name in data}
        return tp(**kwargs)
    if tp is str and isinstance(data, str):
        return tame_numbers(data)  # a report is input like any other
    if tp in (str, int, float, bool):
        if tp is float and isinstance(data, int) and not isinstance(data, bool):
            return float(data)
        if not isinstance(data, tp) or (tp is int and isinstance(data, bool)):
            raise TypeError(f"expected {tp.__name__}, got {type(data).__name__}")
        return data
    return data
