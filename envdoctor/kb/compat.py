"""Typed access to the hand-curated compatibility tables in ``knowledge/compat/``.

Four TOML tables live there (see ``knowledge/compat/README.md``): CUDA toolkit versus
NVIDIA driver, PyTorch releases (domain libraries, Python, CUDA variants, compiled GPU
architectures), OpenMMLab import-time version bounds and mmcv wheels, and the first
NumPy-2-compatible release of compiled packages. :func:`load_compat` parses and checks
them once; every version question is answered with ``packaging`` objects, never by
comparing strings. Malformed data raises :class:`envdoctor.errors.KnowledgeError`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from envdoctor.errors import KnowledgeError

__all__ = [
    "Compat",
    "CudaDriver",
    "MmBounds",
    "MmcvWheels",
    "Numpy2Readiness",
    "TorchPatch",
    "TorchRelease",
    "TorchTableMeta",
    "load_compat",
    "read_toml",
]

_TABLES = ("cuda_driver.toml", "torch.toml", "openmmlab.toml", "numpy2.toml")


@dataclass(frozen=True)
class CudaDriver:
    """Driver floors for one CUDA toolkit ``major.minor`` (its GA release)."""

    cuda: Version
    min_driver_linux: Version
    min_driver_windows: Version | None
    minor_compat_linux: Version | None
    minor_compat_windows: Version | None
    note: str


@dataclass(frozen=True)
class TorchPatch:
    """One torch release and the companions whose metadata pins exactly it (generated)."""

    torch: Version
    torchvision: Version | None
    torchaudio: Version | None


@dataclass(frozen=True)
class TorchTableMeta:
    """When and from which index ``torch.toml``'s generated fields were read, and its reach."""

    generated: str | None
    index: str | None
    reach: Mapping[str, Version]
    path: Path | None = None


@dataclass(frozen=True)
class TorchRelease:
    """One PyTorch minor release line (``torch_spec`` covers its patch releases)."""

    torch: Version
    torch_spec: SpecifierSet
    torchvision: Version | None
    torchaudio: Version | None
    python: SpecifierSet
    cuda: tuple[Version, ...]
    pypi_default_cuda: Version | None
    rocm: tuple[str, ...]
    numpy_abi: int
    arch: tuple[tuple[Version, tuple[str, ...]], ...]
    ptx: tuple[tuple[Version, tuple[str, ...]], ...]
    unverified: tuple[str, ...]
    notes: str
    sources: tuple[str, ...]
    patches: tuple[TorchPatch, ...] = ()

    def arch_for(self, cuda: Version) -> tuple[str, ...] | None:
        """``sm_XX`` then ``compute_XX`` entries of the ``cuda`` variant, if recorded."""
        key = _major_minor(cuda)
        sass = next((a for v, a in self.arch if v == key), None)
        if sass is None:
            return None
        ptx = next((p for v, p in self.ptx if v == key), ())
        return sass + ptx


@dataclass(frozen=True)
class MmBounds:
    """The mmcv (and mmengine) range an OpenMMLab package asserts when imported.

    ``compare`` is ``"pep440"`` or ``"digit_list"``: mmdet 2.x and mmpose 0.x compare
    plain lists of ints, so ``mmcv 1.3.0 <= '1.3'`` is false there (``[1, 3, 0] > [1, 3]``).
    """

    package: str
    version: Version
    compare: str
    mmcv_min: Version
    mmcv_max: Version | None
    mmcv_max_inclusive: bool
    mmcv_message: str
    mmengine_min: Version | None
    mmengine_max: Version | None
    mmengine_max_inclusive: bool
    mmengine_message: str | None
    sources: tuple[str, ...]

    @property
    def mmcv_specifier(self) -> SpecifierSet:
        """The mmcv range as a specifier (``>=2.0.0rc4,<2.2.0``); see :meth:`mmcv_ok`."""
        return _range_spec(self.mmcv_min, self.mmcv_max, self.mmcv_max_inclusive)

    @property
    def mmengine_specifier(self) -> SpecifierSet | None:
        """The mmengine range, when the package checks one."""
        if self.mmengine_min is None:
            return None
        return _range_spec(self.mmengine_min, self.mmengine_max, self.mmengine_max_inclusive)

    def mmcv_ok(self, mmcv: Version) -> bool:
        """Whether the import-time assertion passes for this mmcv version."""
        return self._within(mmcv, self.mmcv_min, self.mmcv_max, self.mmcv_max_inclusive)

    def mmengine_ok(self, mmengine: Version) -> bool | None:
        """Whether the mmengine assertion passes; ``None`` if the package has none."""
        if self.mmengine_min is None:
            return None
        return self._within(mmengine, self.mmengine_min, self.mmengine_max, self.mmengine_max_inclusive)

    def _within(self, v: Version, low: Version, high: Version | None, incl: bool) -> bool:
        if self.compare == "digit_list":
            key, lo = _digit_list(v), _digit_list(low)
            hi = None if high is None else _digit_list(high)
            return key >= lo and (hi is None or (key <= hi if incl else key < hi))
        return v >= low and (high is None or (v <= high if incl else v < high))


@dataclass(frozen=True)
class MmcvWheels:
    """CUDA variants OpenMMLab publishes prebuilt mmcv wheels for, per torch minor."""

    mmcv: Version
    platform: str
    torch: Version
    cuda: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Numpy2Readiness:
    """First release of a compiled package built against NumPy 2."""

    name: str
    numpy2_from: Version
    last_numpy1_only: Version | None
    source: str


@dataclass(frozen=True)
class Compat:
    """All four tables, parsed; the query helpers below are what callers use."""

    cuda_drivers: tuple[CudaDriver, ...]
    torch_releases: tuple[TorchRelease, ...]
    mm_bounds: tuple[MmBounds, ...]
    mmcv_wheels: tuple[MmcvWheels, ...]
    mmcv_mmengine_min: tuple[tuple[Version, Version], ...]
    numpy2: tuple[Numpy2Readiness, ...]
    torch_meta: TorchTableMeta = TorchTableMeta(None, None, {})

    def reach(self, package: str) -> Version | None:
        """The newest release of ``package`` (torch, torchvision, torchaudio) the torch table knows."""
        return self.torch_meta.reach.get(canonicalize_name(package))

    def beyond_reach(self, package: str, version: Version | str) -> bool:
        """Whether ``version`` is newer than anything the table was generated from."""
        reach = self.reach(package)
        if reach is None:
            return False
        return Version(_version(version).base_version) > Version(reach.base_version)

    def torch_patch(self, torch: Version | str) -> TorchPatch | None:
        """The generated row of one exact torch release (local label ignored)."""
        public = Version(_version(torch).public)
        rel = self.torch_release(public)
        return None if rel is None else next((p for p in rel.patches if p.torch == public), None)

    def companion_partner(self, package: str, torch: Version | str) -> Version | None:
        """The exact torchvision/torchaudio release built for this torch release, if recorded."""
        patch = self.torch_patch(torch)
        if patch is None:
            return None
        return patch.torchvision if canonicalize_name(package) == "torchvision" else patch.torchaudio

    def torch_for_companion(self, package: str, version: Version | str) -> Version | None:
        """The exact torch a torchvision/torchaudio release pins in its metadata, if recorded."""
        public = Version(_version(version).public)
        attribute = "torchvision" if canonicalize_name(package) == "torchvision" else "torchaudio"
        for rel in self.torch_releases:
            for patch in rel.patches:
                if getattr(patch, attribute) == public:
                    return patch.torch
        return None

    def cuda_row(self, cuda: Version) -> CudaDriver | None:
        """The driver row of a CUDA ``major.minor`` (any patch/update matches)."""
        key = _major_minor(cuda)
        return next((r for r in self.cuda_drivers if r.cuda == key), None)

    def cuda_min_driver(self, cuda: Version, *, windows: bool = False) -> Version | None:
        """Minimum driver for full compatibility with CUDA ``cuda`` (GA release)."""
        row = self.cuda_row(cuda)
        if row is None:
            return None
        return row.min_driver_windows if windows else row.min_driver_linux

    def cuda_minor_compat_driver(self, cuda: Version, *, windows: bool = False) -> Version | None:
        """Driver floor under CUDA minor version compatibility (CUDA 11+), if known."""
        row = self.cuda_row(cuda)
        if row is None:
            return None
        return row.minor_compat_windows if windows else row.minor_compat_linux

    def driver_max_cuda(self, driver: Version, *, windows: bool = False) -> Version | None:
        """Newest CUDA ``major.minor`` the driver supports (``nvidia-smi``'s "CUDA Version").

        The CUDA version a driver's libcuda implements is fixed per driver branch (the
        major number): every 520.x reports 11.8, although the 11.8 toolkit's release floor
        is 520.61.05. So branches are compared, taken from the release-notes floors.
        """
        best: Version | None = None
        for row in self.cuda_drivers:
            floor = row.min_driver_windows if windows else row.min_driver_linux
            if floor is None or driver.release[0] < floor.release[0]:
                continue
            if best is None or row.cuda > best:
                best = row.cuda
        return best

    def driver_runs_cuda(self, driver: Version, cuda: Version, *, minor_compat: bool = True) -> bool | None:
        """Whether a Linux driver can run code built with ``cuda``; ``None`` if unknown."""
        row = self.cuda_row(cuda)
        if row is None:
            return None
        if driver >= row.min_driver_linux:
            return True
        floor = row.minor_compat_linux
        return minor_compat and floor is not None and driver >= floor

    def torch_release(self, torch: Version | str) -> TorchRelease | None:
        """The release line of a torch version (``2.1.2+cu121``, ``2.1.0a0+git`` -> 2.1)."""
        base = Version(_version(torch).base_version)
        return next((r for r in self.torch_releases if r.torch_spec.contains(base)), None)

    def expected_torchvision(self, torch: Version | str) -> SpecifierSet | None:
        """The torchvision series built for this torch, e.g. ``==0.16.*`` for 2.1."""
        rel = self.torch_release(torch)
        return None if rel is None or rel.torchvision is None else _series(rel.torchvision)

    def expected_torchaudio(self, torch: Version | str) -> SpecifierSet | None:
        """The torchaudio series built for this torch, if recorded."""
        rel = self.torch_release(torch)
        if rel is None or rel.torchaudio is None:
            return None
        return _series(rel.torchaudio)

    def torch_for_torchvision(self, torchvision: Version | str) -> SpecifierSet | None:
        """The torch series a torchvision version was built against, e.g. ``==2.1.*``."""
        tv = _major_minor(Version(_version(torchvision).base_version))
        rel = next(
            (r for r in self.torch_releases if r.torchvision is not None and _major_minor(r.torchvision) == tv), None
        )
        return None if rel is None else _series(rel.torch)

    def torch_arch(self, torch: Version | str, cuda: Version | None = None) -> tuple[str, ...] | None:
        """Compiled GPU archs of a torch CUDA build (``sm_XX`` then ``compute_XX``).

        ``cuda`` defaults to the ``+cuXYZ`` local tag of ``torch``, else the PyPI default.
        """
        rel = self.torch_release(torch)
        if rel is None:
            return None
        variant = cuda if cuda is not None else _local_cuda(_version(torch))
        if variant is None:
            variant = rel.pypi_default_cuda
        return None if variant is None else rel.arch_for(variant)

    def bounds(self, package: str, version: Version | str) -> MmBounds | None:
        """Import-time bounds of an OpenMMLab package release (exact release match)."""
        name = canonicalize_name(package)
        v = Version(_version(version).public)
        return next((b for b in self.mm_bounds if b.package == name and b.version == v), None)

    def mmdet_bounds(self, mmdet: Version | str) -> MmBounds | None:
        """mmdet's import-time mmcv/mmengine bounds for that release."""
        return self.bounds("mmdet", mmdet)

    def mmcv_wheel_available(self, mmcv: Version | str, torch: Version | str, cuda: Version | None) -> bool | None:
        """Whether OpenMMLab ships a Linux mmcv wheel for (torch minor, CUDA or CPU).

        ``None`` when the mmcv version is not in the table (e.g. mmcv 1.x).
        """
        m = Version(_version(mmcv).public)
        rows = [w for w in self.mmcv_wheels if w.mmcv == m and w.platform == "linux"]
        if not rows:
            return None
        t = _major_minor(Version(_version(torch).base_version))
        tag = "cpu" if cuda is None else str(_major_minor(cuda))
        return any(w.torch == t and tag in w.cuda for w in rows)

    def mmcv_mmengine_floor(self, mmcv: Version | str) -> Version | None:
        """mmengine floor from mmcv's ``requirements/runtime.txt``."""
        m = Version(_version(mmcv).public)
        return next((e for v, e in self.mmcv_mmengine_min if v == m), None)

    def numpy2_row(self, package: str) -> Numpy2Readiness | None:
        """NumPy 2 readiness of a distribution (name normalised per PEP 503)."""
        name = canonicalize_name(package)
        return next((p for p in self.numpy2 if p.name == name), None)

    def numpy2_from(self, package: str) -> Version | None:
        """First release of ``package`` built against NumPy 2, if recorded."""
        row = self.numpy2_row(package)
        return None if row is None else row.numpy2_from


def load_compat(root: Path | None = None) -> Compat:
    """Parse ``<root>/compat/*.toml`` (``root`` defaults to the knowledge root), once per process and root."""
    if root is None:
        from envdoctor.kb.paths import knowledge_root

        root = knowledge_root()
    from envdoctor.kb.user_dir import user_knowledge_dir

    refreshed = user_knowledge_dir() / "compat" / "torch.toml"
    try:
        stamp = refreshed.stat().st_mtime_ns
    except OSError:
        stamp = None
    # Cached per root and per state of the user's refreshed copy: a command that needs the
    # tables in several layers (checks, triage facts, the resolver) reads them once.
    return _load_compat(root.resolve(), refreshed, stamp)


@functools.lru_cache(maxsize=8)
def _load_compat(root: Path, _refreshed: Path, _stamp: int | None) -> Compat:
    folder = root / "compat" if (root / "compat").is_dir() else root
    data = {name: read_toml(folder / name) for name in _TABLES}
    torch_path = folder / "torch.toml"
    refreshed = _refreshed_torch_table(data["torch.toml"])
    if refreshed is not None:
        torch_path, data["torch.toml"] = refreshed
    wheels, floors = _openmmlab(data["openmmlab.toml"])
    return Compat(
        cuda_drivers=tuple(_cuda_row(t) for t in _rows(data["cuda_driver.toml"], "cuda")),
        torch_releases=tuple(_torch_row(t) for t in _rows(data["torch.toml"], "release")),
        mm_bounds=tuple(_bounds_row(t) for t in _rows(data["openmmlab.toml"], "bounds")),
        mmcv_wheels=wheels,
        mmcv_mmengine_min=floors,
        numpy2=tuple(_numpy2_row(t) for t in _rows(data["numpy2.toml"], "package")),
        torch_meta=_torch_meta(data["torch.toml"], torch_path),
    )


def _generated(doc: _Table) -> str:
    meta = doc.get("meta")
    value = meta.get("generated") if isinstance(meta, dict) else None
    return str(value) if value else ""


def _refreshed_torch_table(shipped: _Table) -> tuple[Path, dict[str, Any]] | None:
    """The user's refreshed ``torch.toml`` (``python -m envdoctor.kb.refresh``) when it is newer.

    A copy that cannot be read is ignored: the shipped table still works.
    """
    from envdoctor.kb.user_dir import user_knowledge_dir

    path = user_knowledge_dir() / "compat" / "torch.toml"
    if not path.is_file():
        return None
    try:
        doc = read_toml(path)
        _rows(doc, "release")
    except KnowledgeError:
        return None
    # ISO 8601 timestamps in UTC compare correctly as text.
    return (path, doc) if _generated(doc) > _generated(shipped) else None


def _torch_meta(doc: _Table, path: Path) -> TorchTableMeta:
    meta = doc.get("meta", {})
    if not isinstance(meta, dict):
        raise KnowledgeError("compat table: [meta] of torch.toml must be a table")
    reach_table = meta.get("reach", {})
    reach: dict[str, Version] = {
        str(canonicalize_name(str(k))): _need_ver({"reach": v}, "reach") for k, v in dict(reach_table).items()
    }
    return TorchTableMeta(
        generated=_str(meta, "generated", required=False),
        index=_str(meta, "index", required=False),
        reach=reach,
        path=path,
    )


# --- parsing -------------------------------------------------------------------------

_Table = Mapping[str, Any]


def read_toml(path: Path) -> dict[str, Any]:
    """A knowledge data file as a table; any problem is a :class:`KnowledgeError`."""
    from envdoctor.kb.cache import toml_document

    try:
        return toml_document(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{path}: cannot read knowledge data: {exc}") from exc
    except ValueError as exc:  # tomllib.TOMLDecodeError (imported only when a file is parsed)
        raise KnowledgeError(f"{path}: invalid TOML: {exc}") from exc


def _rows(doc: _Table, key: str) -> list[_Table]:
    rows = doc.get(key)
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise KnowledgeError(f"compat table: [[{key}]] must be a non-empty array of tables")
    return rows


def _str(t: _Table, key: str, *, required: bool = True) -> str | None:
    value = t.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise KnowledgeError(f"compat table: {key!r} must be a non-empty string in {dict(t)}")
    return value


def _need(t: _Table, key: str) -> str:
    value = _str(t, key)
    assert value is not None  # _str raised otherwise
    return value


def _ver(t: _Table, key: str, *, required: bool = True) -> Version | None:
    text = _str(t, key, required=required)
    if text is None:
        return None
    try:
        return Version(text)
    except ValueError as exc:  # InvalidVersion, or a release number int() refuses
        raise KnowledgeError(f"compat table: {key}={text!r} is not a version") from exc


def _need_ver(t: _Table, key: str) -> Version:
    value = _ver(t, key)
    assert value is not None
    return value


def _spec(t: _Table, key: str) -> SpecifierSet:
    text = _need(t, key)
    try:
        return SpecifierSet(text)
    except InvalidSpecifier as exc:
        raise KnowledgeError(f"compat table: {key}={text!r} is not a specifier") from exc


def _strs(t: _Table, key: str) -> tuple[str, ...]:
    value = t.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise KnowledgeError(f"compat table: {key!r} must be a list of strings in {dict(t)}")
    return tuple(value)


def _url(text: str) -> str:
    if not text.startswith("https://"):
        raise KnowledgeError(f"compat table: source {text!r} is not an https URL")
    return text


def _bool(t: _Table, key: str) -> bool:
    value = t.get(key, False)
    if not isinstance(value, bool):
        raise KnowledgeError(f"compat table: {key!r} must be a boolean in {dict(t)}")
    return value


def _cuda_row(t: _Table) -> CudaDriver:
    return CudaDriver(
        cuda=_need_ver(t, "version"),
        min_driver_linux=_need_ver(t, "min_driver_linux"),
        min_driver_windows=_ver(t, "min_driver_windows", required=False),
        minor_compat_linux=_ver(t, "minor_compat_linux", required=False),
        minor_compat_windows=_ver(t, "minor_compat_windows", required=False),
        note=_str(t, "note", required=False) or "",
    )


def _arch_map(t: _Table, key: str) -> tuple[tuple[Version, tuple[str, ...]], ...]:
    table = t.get(key, {})
    if not isinstance(table, dict):
        raise KnowledgeError(f"compat table: [release.{key}] must be a table")
    out = []
    for cuda, archs in table.items():
        names = _strs({key: archs}, key)
        if not all(n.startswith(("sm_", "compute_")) for n in names):
            raise KnowledgeError(f"compat table: bad arch names {names} for CUDA {cuda}")
        try:
            out.append((Version(cuda), names))
        except ValueError as exc:  # InvalidVersion, or a release number int() refuses
            raise KnowledgeError(f"compat table: arch key {cuda!r} is not a version") from exc
    return tuple(out)


def _torch_row(t: _Table) -> TorchRelease:
    torch = _need_ver(t, "torch")
    spec = _spec(t, "torch_spec")
    if not spec.contains(torch):
        raise KnowledgeError(f"compat table: torch {torch} outside its torch_spec {spec}")
    abi = t.get("numpy_abi")
    if abi not in (1, 2):
        raise KnowledgeError(f"compat table: torch {torch}: numpy_abi must be 1 or 2")
    default = _ver(t, "pypi_default_cuda", required=False)
    return TorchRelease(
        torch=torch,
        torch_spec=spec,
        torchvision=_ver(t, "torchvision", required=False),
        torchaudio=_ver(t, "torchaudio", required=False),
        python=_spec(t, "python"),
        cuda=tuple(Version(c) for c in _strs(t, "cuda")),
        pypi_default_cuda=default,
        rocm=_strs(t, "rocm"),
        numpy_abi=int(abi),
        arch=_arch_map(t, "arch"),
        ptx=_arch_map(t, "ptx"),
        unverified=_strs(t, "unverified"),
        notes=_str(t, "notes", required=False) or "",
        sources=tuple(_url(s) for s in _strs(t, "sources")),
        patches=tuple(
            TorchPatch(
                torch=_need_ver(p, "torch"),
                torchvision=_ver(p, "torchvision", required=False),
                torchaudio=_ver(p, "torchaudio", required=False),
            )
            for p in t.get("patch", [])
        ),
    )


def _bounds_row(t: _Table) -> MmBounds:
    compare = _need(t, "compare")
    if compare not in ("pep440", "digit_list"):
        raise KnowledgeError(f"compat table: unknown compare {compare!r}")
    return MmBounds(
        package=canonicalize_name(_need(t, "package")),
        version=_need_ver(t, "version"),
        compare=compare,
        mmcv_min=_need_ver(t, "mmcv_min"),
        mmcv_max=_ver(t, "mmcv_max", required=False),
        mmcv_max_inclusive=_bool(t, "mmcv_max_inclusive"),
        mmcv_message=_need(t, "mmcv_message"),
        mmengine_min=_ver(t, "mmengine_min", required=False),
        mmengine_max=_ver(t, "mmengine_max", required=False),
        mmengine_max_inclusive=_bool(t, "mmengine_max_inclusive"),
        mmengine_message=_str(t, "mmengine_message", required=False),
        sources=tuple(_url(s) for s in _strs(t, "sources")),
    )


def _openmmlab(
    doc: _Table,
) -> tuple[tuple[MmcvWheels, ...], tuple[tuple[Version, Version], ...]]:
    wheels = tuple(
        MmcvWheels(
            mmcv=_need_ver(t, "mmcv"),
            platform=_need(t, "platform"),
            torch=_need_ver(t, "torch"),
            cuda=tuple(_cuda_tag(c) for c in _strs(t, "cuda")),
            source=_url(_need(t, "source")),
        )
        for t in _rows(doc, "mmcv_wheel")
    )
    floors = tuple((_need_ver(t, "mmcv"), _need_ver(t, "mmengine_min")) for t in _rows(doc, "mmcv_mmengine"))
    return wheels, floors


def _cuda_tag(text: str) -> str:
    if text == "cpu":
        return text
    try:
        return str(_major_minor(Version(text)))
    except ValueError as exc:  # InvalidVersion, or a release number int() refuses
        raise KnowledgeError(f"compat table: CUDA {text!r} is neither 'cpu' nor a version") from exc


def _numpy2_row(t: _Table) -> Numpy2Readiness:
    return Numpy2Readiness(
        name=canonicalize_name(_need(t, "name")),
        numpy2_from=_need_ver(t, "numpy2_from"),
        last_numpy1_only=_ver(t, "last_numpy1_only", required=False),
        source=_url(_need(t, "source")),
    )


# --- version helpers -----------------------------------------------------------------


def _version(v: Version | str) -> Version:
    return v if isinstance(v, Version) else Version(v)


def _major_minor(v: Version) -> Version:
    return Version(f"{v.major}.{v.minor}")


def _series(v: Version) -> SpecifierSet:
    return SpecifierSet(f"=={v.major}.{v.minor}.*")


def _local_cuda(v: Version) -> Version | None:
    """``2.1.0+cu121`` -> 12.1, ``+cu118`` -> 11.8 (last digit is the minor)."""
    local = v.local or ""
    if not local.startswith("cu") or not local[2:].isdigit() or not 5 <= len(local) <= 8:
        return None
    digits = local[2:]
    return Version(f"{int(digits[:-1])}.{int(digits[-1])}")


def _range_spec(low: Version, high: Version | None, inclusive: bool) -> SpecifierSet:
    spec = f">={low}"
    if high is not None:
        spec += f",{'<=' if inclusive else '<'}{high}"
    return SpecifierSet(spec)


def _digit_list(v: Version) -> tuple[int, ...]:
    """mmdet 2.x ``digit_version``: ints of the dotted parts, ``XrcN`` -> ``X-1, N``.

    That code skips any dotted part that is neither digits nor ``rc``: an alpha/beta
    part (``0b1``) vanishes with its number, ``post``/``dev`` parts vanish.
    """
    parts = list(v.release)
    if v.pre is not None:
        if v.pre[0] == "rc":
            parts[-1] -= 1
            parts.append(v.pre[1])
        else:
            parts.pop()
    return tuple(parts)
