"""Regenerate the torch-family table (``compat/torch.toml``) from the package index's metadata.

torchvision and torchaudio declare the exact torch they were built for in ``Requires-Dist``
(``torch==2.1.0``), and torch's own Linux wheel declares its CUDA runtime
(``nvidia-cuda-runtime-cu12==12.8.90`` or ``cuda-toolkit==13.0.2``) and, through the wheels
it ships, its Pythons. So the pairs are read from the index, never typed by hand: PEP 691
JSON listings, then each chosen wheel's core metadata (PEP 658 ``.metadata`` when the index
serves it, else two HTTP range requests into the wheel's zip: its central directory and its
``METADATA`` member, as pip's lazy wheel does).

Only those generated fields are replaced; what no metadata states (CUDA variants, compiled
arch lists, NumPy ABI, notes, sources) is kept from the current table, and a release line
new to the table gets them marked ``unverified``. ``[meta]`` records when and from which
index the table was made and how far it reaches.

``python -m envdoctor.kb.refresh`` writes the result into the user's data directory
(:func:`user_knowledge_dir`: ``$ENVDOCTOR_DATA_DIR``, else ``$XDG_DATA_HOME/envdoctor``, else
``~/.local/share/envdoctor``), never into site-packages; :func:`envdoctor.kb.compat.load_compat`
prefers that copy when it was generated later than the shipped one.
``scripts/gen_torch_family.py`` runs the same code onto ``knowledge/compat/torch.toml`` of a
checkout. Standard library only, so it works from any installed envdoctor.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from envdoctor.kb.compat import read_toml
from envdoctor.kb.user_dir import user_knowledge_dir

__all__ = [
    "DEFAULT_INDEX",
    "FamilyRelease",
    "IndexClient",
    "RefreshError",
    "generate",
    "main",
    "render_torch_toml",
    "user_knowledge_dir",
]

DEFAULT_INDEX = "https://pypi.org/simple"
#: The oldest torch line the table covers (its first torchvision is 0.13).
OLDEST_TORCH = Version("1.12.0")
_USER_AGENT = "envdoctor-knowledge-refresh"
_TIMEOUT = 60.0
_HAND_FIELDS = ("cuda", "rocm", "numpy_abi", "unverified", "notes", "sources", "arch", "ptx")


class RefreshError(RuntimeError):
    """The index could not be read or answered something unusable."""


# --- the index -------------------------------------------------------------------------


@dataclass(frozen=True)
class WheelFile:
    """One file of a PEP 691 listing."""

    filename: str
    url: str
    version: Version
    tags: frozenset[str]
    has_metadata: bool
    yanked: bool


class IndexClient:
    """PEP 691 listings and wheel core metadata from one simple index."""

    def __init__(self, index: str = DEFAULT_INDEX, *, timeout: float = _TIMEOUT) -> None:
        self.index = index.rstrip("/")
        self.timeout = timeout

    def _get(self, url: str, headers: Mapping[str, str] | None = None) -> bytes:
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT, **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                data: bytes = response.read()
                return data
        except (urllib.error.URLError, OSError) as exc:
            raise RefreshError(f"{url}: {exc}") from exc

    def wheels(self, project: str) -> list[WheelFile]:
        """Every wheel of ``project`` the index lists (sdists and bad names skipped)."""
        url = f"{self.index}/{canonicalize_name(project)}/"
        try:
            data = json.loads(self._get(url, {"Accept": "application/vnd.pypi.simple.v1+json"}))
        except json.JSONDecodeError as exc:
            raise RefreshError(f"{url}: not a PEP 691 JSON listing ({exc})") from exc
        out = []
        for item in data.get("files", []):
            name = str(item.get("filename", ""))
            if not name.endswith(".whl"):
                continue
            try:
                _, version, _, tags = parse_wheel_filename(name)
            except (ValueError, InvalidVersion):
                continue
            meta = item.get("core-metadata", item.get("data-dist-info-metadata"))
            out.append(
                WheelFile(
                    filename=name,
                    url=str(item["url"]),
                    version=version,
                    tags=frozenset(str(t) for t in tags),
                    has_metadata=bool(meta),
                    yanked=bool(item.get("yanked")),
                )
            )
        return out

    def metadata(self, wheel: WheelFile) -> str:
        """The wheel's ``METADATA`` text (PEP 658 file, else ranges of the zip)."""
        if wheel.has_metadata:
            return self._get(wheel.url + ".metadata").decode("utf-8", "replace")
        return self._metadata_from_zip(wheel)

    def _metadata_from_zip(self, wheel: WheelFile) -> str:
        tail = self._get(wheel.url, {"Range": "bytes=-262144"})
        end = tail.rfind(b"PK\x05\x06")
        if end < 0:
            raise RefreshError(f"{wheel.filename}: no zip end record in the last 256 KiB")
        entries, size, offset = struct.unpack("<HII", tail[end + 10 : end + 20])
        if tail[end + 16 : end + 20] == b"\xff\xff\xff\xff" or tail.rfind(b"PK\x06\x06") >= 0:
            zip64 = tail.rfind(b"PK\x06\x06")
            entries, size, offset = struct.unpack("<QQQ", tail[zip64 + 32 : zip64 + 56])
        tail_start = self._content_length(wheel.url) - len(tail)
        if offset >= tail_start:
            directory = tail[offset - tail_start : offset - tail_start + size]
        else:
            directory = self._get(wheel.url, {"Range": f"bytes={offset}-{offset + size - 1}"})
        position = 0
        for _ in range(entries):
            if directory[position : position + 4] != b"PK\x01\x02":
                break
            (method,) = struct.unpack("<H", directory[position + 10 : position + 12])
            (csize,) = struct.unpack("<I", directory[position + 20 : position + 24])
            name_len, extra_len, comment_len = struct.unpack("<HHH", directory[position + 28 : position + 34])
            (local,) = struct.unpack("<I", directory[position + 42 : position + 46])
            name = directory[position + 46 : position + 46 + name_len].decode("utf-8", "replace")
            position += 46 + name_len + extra_len + comment_len
            if re.fullmatch(r"[^/]+\.dist-info/METADATA", name):
                chunk = self._get(wheel.url, {"Range": f"bytes={local}-{local + 30 + 1024 + csize}"})
                local_name_len, local_extra_len = struct.unpack("<HH", chunk[26:30])
                start = 30 + local_name_len + local_extra_len
                raw = chunk[start : start + csize]
                text = zlib.decompress(raw, -15) if method == 8 else raw
                return text.decode("utf-8", "replace")
        raise RefreshError(f"{wheel.filename}: no .dist-info/METADATA in the zip directory")

    def _content_length(self, url: str) -> int:
        request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": _USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return int(response.headers.get("Content-Length", "0"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RefreshError(f"{url}: {exc}") from exc


# --- what the metadata says --------------------------------------------------------------


def requires_dist(metadata: str) -> list[str]:
    """``Requires-Dist`` values of a METADATA header block."""
    out = []
    for line in metadata.splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        if key.strip().lower() == "requires-dist":
            out.append(value.strip())
    return out


def exact_torch(metadata: str) -> Version | None:
    """The single torch release a torchvision/torchaudio wheel requires (``torch==X``)."""
    for text in requires_dist(metadata):
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) != "torch" or requirement.marker is not None:
            continue
        pins = [s for s in requirement.specifier if s.operator in ("==", "===") and "*" not in s.version]
        if len(pins) == 1:
            return Version(pins[0].version)
    return None


def default_cuda(metadata: str) -> Version | None:
    """The CUDA of a plain ``pip install torch`` Linux wheel, from its CUDA runtime dependency."""
    for text in requires_dist(metadata):
        match = re.match(r"(nvidia-cuda-runtime(?:-cu\d+)?|cuda-toolkit)\b[^=;]*==\s*(\d+)\.(\d+)", text)
        if match:
            return Version(f"{match.group(2)}.{match.group(3)}")
    return None


def python_range(tags: Iterable[str]) -> str | None:
    """``>=3.10,<3.15`` from the CPython tags of a release's wheels (free-threaded ignored)."""
    minors = sorted({int(m.group(1)) for t in tags if (m := re.fullmatch(r"cp3(\d+)-cp3\d+m?-.*", t))})
    if not minors:
        return None
    return f">=3.{minors[0]},<3.{minors[-1] + 1}"


def _linux_x86(wheel: WheelFile) -> bool:
    return any("linux" in t and t.endswith("x86_64") for t in wheel.tags)


def _pick(wheels: Sequence[WheelFile], version: Version) -> WheelFile | None:
    """The wheel whose metadata stands for a release: Linux x86_64, newest CPython, smallest name."""
    same = [w for w in wheels if w.version == version]
    linux = [w for w in same if _linux_x86(w)] or same
    return max(linux, key=lambda w: (w.filename.count("cp3"), w.filename), default=None)


@dataclass
class FamilyRelease:
    """Generated facts of one torch minor line."""

    torch: Version
    torchvision: Version | None = None
    torchaudio: Version | None = None
    python: str | None = None
    pypi_default_cuda: Version | None = None
    patches: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Generated:
    """Everything read from the index."""

    index: str
    generated: str
    releases: list[FamilyRelease]
    reach: dict[str, str]


def _releases(wheels: Sequence[WheelFile]) -> list[Version]:
    live = {w.version for w in wheels if not w.yanked and not w.version.is_prerelease and not w.version.local}
    return sorted(live)


def _partners(client: IndexClient, project: str, log: Any) -> tuple[dict[Version, Version], Version | None]:
    """torch release -> the newest ``project`` release that pins it exactly."""
    wheels = client.wheels(project)
    pairs: dict[Version, Version] = {}
    versions = _releases(wheels)
    for version in versions:
        wheel = _pick(wheels, version)
        if wheel is None:
            continue
        torch = exact_torch(client.metadata(wheel))
        log(f"{project} {version}: torch=={torch}")
        if torch is not None and (torch not in pairs or version > pairs[torch]):
            pairs[torch] = version
    return pairs, (versions[-1] if versions else None)


def generate(client: IndexClient, *, log: Any = None) -> Generated:
    """Read torch, torchvision and torchaudio from the index."""
    say = log or (lambda _text: None)
    torch_wheels = client.wheels("torch")
    torch_versions = [v for v in _releases(torch_wheels) if v >= OLDEST_TORCH]
    vision, vision_reach = _partners(client, "torchvision", say)
    audio, audio_reach = _partners(client, "torchaudio", say)
    lines: dict[tuple[int, int], FamilyRelease] = {}
    for version in torch_versions:
        key = (version.major, version.minor)
        line = lines.setdefault(key, FamilyRelease(torch=Version(f"{version.major}.{version.minor}.0")))
        patch = {"torch": str(version)}
        if version in vision:
            patch["torchvision"] = str(vision[version])
        if version in audio:
            patch["torchaudio"] = str(audio[version])
        line.patches.append(patch)
        if version == line.torch:
            line.torchvision = vision.get(version)
            line.torchaudio = audio.get(version)
            same = [w for w in torch_wheels if w.version == version and _linux_x86(w)]
            line.python = python_range(t for w in same for t in w.tags)
            wheel = _pick(torch_wheels, version)
            if wheel is not None:
                line.pypi_default_cuda = default_cuda(client.metadata(wheel))
            say(f"torch {version}: python {line.python}, PyPI CUDA {line.pypi_default_cuda}")
    releases = [lines[k] for k in sorted(lines) if lines[k].patches and lines[k].torch in torch_versions]
    reach = {"torch": str(torch_versions[-1]) if torch_versions else ""}
    if vision_reach is not None:
        reach["torchvision"] = str(vision_reach)
    if audio_reach is not None:
        reach["torchaudio"] = str(audio_reach)
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    return Generated(index=client.index, generated=generated, releases=releases, reach=reach)


# --- writing -----------------------------------------------------------------------------


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def render_torch_toml(generated: Generated, current: Mapping[str, Any] | None) -> str:
    """The new ``torch.toml``: generated fields from the index, hand-curated ones kept."""
    old_rows = {str(r.get("torch")): r for r in (current or {}).get("release", [])}
    out = [
        "# PyTorch release facts. See README.md in this folder for the schema.",
        "# torchvision / torchaudio / python / pypi_default_cuda and [[release.patch]] are generated",
        "# from the index's wheel metadata by `python -m envdoctor.kb.refresh` (scripts/gen_torch_family.py);",
        "# every other field is curated by hand and kept by the generator.",
        "",
        "[meta]",
        f"generated = {_toml_str(generated.generated)}",
        f"index = {_toml_str(generated.index)}",
        'generator = "envdoctor.kb.refresh"',
        "[meta.reach]",
        *(f"{name} = {_toml_str(version)}" for name, version in generated.reach.items()),
    ]
    for line in generated.releases:
        old = old_rows.get(str(line.torch), {})
        minor = f"{line.torch.major}.{line.torch.minor}"
        nxt = f"{line.torch.major}.{line.torch.minor + 1}"
        unverified = list(old.get("unverified", [])) if old else ["cuda", "numpy_abi"]
        row = [
            "",
            "[[release]]",
            f"torch = {_toml_str(str(line.torch))}",
            f"torch_spec = {_toml_str(f'>={minor},<{nxt}')}",
        ]
        if line.torchvision is not None:
            row.append(f"torchvision = {_toml_str(str(line.torchvision))}")
        if line.torchaudio is not None:
            row.append(f"torchaudio = {_toml_str(str(line.torchaudio))}")
        python = line.python or old.get("python")
        if python:
            row.append(f"python = {_toml_str(str(python))}")
        default = line.pypi_default_cuda or old.get("pypi_default_cuda")
        # A new line's only known variant is the PyPI default (its metadata names it).
        row.append(f"cuda = {_toml_list(old.get('cuda', [str(default)] if default else []))}")
        if default is not None:
            row.append(f"pypi_default_cuda = {_toml_str(str(default))}")
        if old.get("rocm"):
            row.append(f"rocm = {_toml_list(old['rocm'])}")
        row.append(f"numpy_abi = {int(old.get('numpy_abi', 2))}")
        if unverified:
            row.append(f"unverified = {_toml_list(unverified)}")
        notes = old.get("notes") or (
            ""
            if old
            else "New release line: only the PyPI default CUDA variant is known (from its metadata); "
            "NumPy ABI assumed 2 as for every release since 2.3, not checked on a wheel."
        )
        if notes:
            row.append(f"notes = {_toml_str(str(notes))}")
        sources = list(old.get("sources", [])) or [
            f"https://pypi.org/project/torch/{line.torch}/",
            *([f"https://pypi.org/project/torchvision/{line.torchvision}/"] if line.torchvision else []),
        ]
        row.append("sources = [")
        row.extend(f"  {_toml_str(s)}," for s in sources)
        row.append("]")
        for key in ("arch", "ptx"):
            table = old.get(key)
            if table:
                row.append(f"[release.{key}]")
                row.extend(f"{_toml_str(cuda)} = {_toml_list(archs)}" for cuda, archs in table.items())
        for patch in line.patches:
            row.append("[[release.patch]]")
            row.extend(f"{k} = {_toml_str(v)}" for k, v in patch.items())
        out.extend(row)
    return "\n".join(out) + "\n"


def refresh(output: Path, *, index: str = DEFAULT_INDEX, base: Path | None = None, log: Any = None) -> Path:
    """Generate from ``index`` and write ``output``; hand-curated fields come from ``base``
    (default: the shipped table, so a newer envdoctor's curation is never lost)."""
    from envdoctor.kb.loader import knowledge_root

    source = base if base is not None else knowledge_root() / "compat" / "torch.toml"
    current = read_toml(source) if source.is_file() else None
    generated = generate(IndexClient(index), log=log)
    text = render_torch_toml(generated, current)
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_suffix(".toml.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(output)
    return output


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m envdoctor.kb.refresh [--output PATH] [--index URL]``."""
    parser = argparse.ArgumentParser(
        prog="python -m envdoctor.kb.refresh",
        description="Regenerate the torch/torchvision/torchaudio table from the package index "
        "into your data directory (the loader prefers it when it is newer than the shipped one).",
    )
    default = user_knowledge_dir() / "compat" / "torch.toml"
    parser.add_argument("--output", type=Path, default=default, help=f"file to write (default {default})")
    parser.add_argument("--index", default=DEFAULT_INDEX, help=f"PEP 691 simple index (default {DEFAULT_INDEX})")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the result")
    args = parser.parse_args(argv)
    log = None if args.quiet else (lambda text: print(text, file=sys.stderr))
    try:
        path = refresh(args.output, index=args.index, log=log)
    except RefreshError as exc:
        print(f"envdoctor: knowledge refresh failed: {exc}", file=sys.stderr)
        return 2
    data = read_toml(path)
    reach = data.get("meta", {}).get("reach", {})
    print(
        f"wrote {path}: generated {data['meta']['generated']}, reaches "
        + ", ".join(f"{k} {v}" for k, v in reach.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
