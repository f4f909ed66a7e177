"""Requires-Dist of one release, read from the index the resolver used, to explain a pin.

uv's ``# via`` names a pin's parents but not the range each parent asks for; to say which
requirement *binds* (``transformers 4.30.2 requires tokenizers<0.14``), the parents'
Requires-Dist is read: from a wheel in a ``--find-links`` folder or a ``file://`` index,
or from the PEP 658 ``.metadata`` file an HTTP index serves next to a wheel (PEP 691 JSON
listing). Anything that cannot be read gives ``None``: the explanation then names the
parent without its range.
"""

from __future__ import annotations

import io
import json
import urllib.parse
import urllib.request
import zipfile
from email.parser import HeaderParser
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from envdoctor.resolve.indexes import IndexConfig

__all__ = ["requires_dist", "wheel_requires"]

_TIMEOUT = 10.0


def _matches(filename: str, name: str, version: Version) -> bool:
    try:
        wheel_name, wheel_version, _, _ = parse_wheel_filename(filename)
    except (InvalidWheelFilename, ValueError):  # ValueError: InvalidVersion, or a number int() refuses
        return False
    return wheel_name == canonicalize_name(name) and wheel_version == version


def wheel_requires(path: Path) -> tuple[str, ...] | None:
    """Requires-Dist of a wheel file on disk."""
    try:
        with zipfile.ZipFile(path) as archive:
            member = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None)
            if member is None:
                return None
            text = archive.read(member).decode("utf-8", errors="replace")
    except (OSError, zipfile.BadZipFile):
        return None
    return _from_metadata(text)


def _from_metadata(text: str) -> tuple[str, ...]:
    message = HeaderParser().parsestr(text)
    return tuple(message.get_all("Requires-Dist") or ())


def _local_folder(location: str) -> Path | None:
    if location.startswith("file://"):
        return Path(urllib.parse.unquote(urllib.parse.urlparse(location).path))
    if "://" not in location:
        return Path(location)
    return None


def _from_folder(folder: Path, name: str, version: Version) -> tuple[str, ...] | None:
    candidates = [folder, folder / str(canonicalize_name(name))]
    for where in candidates:
        if not where.is_dir():
            continue
        for path in sorted(where.glob("*.whl")):
            if _matches(path.name, name, version):
                return wheel_requires(path)
    return None


class _RangeFile(io.RawIOBase):
    """A remote file read with HTTP range requests: enough of a file for :mod:`zipfile`."""

    def __init__(self, url: str) -> None:
        self.url = url
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=_TIMEOUT) as response:
            self.size = int(response.headers["Content-Length"])
        self.position = 0

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def tell(self) -> int:
        return self.position

    def read(self, size: int = -1) -> bytes:
        end = self.size if size < 0 else min(self.size, self.position + size)
        if end <= self.position:
            return b""
        headers = {"Range": f"bytes={self.position}-{end - 1}"}
        with urllib.request.urlopen(urllib.request.Request(self.url, headers=headers), timeout=_TIMEOUT) as response:
            data: bytes = response.read()
        self.position += len(data)
        return data


def _from_remote_wheel(url: str) -> tuple[str, ...] | None:
    """METADATA out of a remote wheel, reading only its central directory and one member."""
    try:
        with zipfile.ZipFile(_RangeFile(url)) as archive:
            member = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None)
            if member is None:
                return None
            return _from_metadata(archive.read(member).decode("utf-8", errors="replace"))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def _from_pypi_json(index: str, name: str, version: Version) -> tuple[str, ...] | None:
    """PyPI's JSON API (https://docs.pypi.org/api/json/): one request, Requires-Dist included."""
    base = index.rstrip("/").removesuffix("/simple")
    url = f"{base}/pypi/{canonicalize_name(name)}/{version}/json"
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
            info = json.loads(response.read().decode("utf-8")).get("info", {})
    except (OSError, ValueError):
        return None
    requires = info.get("requires_dist")
    return tuple(requires) if isinstance(requires, list) else ()


def _from_http(index: str, name: str, version: Version) -> tuple[str, ...] | None:
    if urllib.parse.urlparse(index).netloc in ("pypi.org", "test.pypi.org"):
        found = _from_pypi_json(index, name, version)
        if found is not None:
            return found
    url = f"{index.rstrip('/')}/{canonicalize_name(name)}/"
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            listing = json.loads(response.read().decode("utf-8"))
        for item in listing.get("files", []):
            filename = str(item.get("filename", ""))
            if not filename.endswith(".whl") or not _matches(filename, name, version):
                continue
            # PEP 658 metadata; tried even when the listing does not announce it (some mirrors drop the key).
            target = urllib.parse.urljoin(url, str(item["url"]).split("#", 1)[0]) + ".metadata"
            try:
                with urllib.request.urlopen(target, timeout=_TIMEOUT) as response:
                    return _from_metadata(response.read().decode("utf-8", errors="replace"))
            except OSError:
                return _from_remote_wheel(target.removesuffix(".metadata"))
    except (OSError, ValueError, KeyError):
        return None
    return None


def requires_dist(name: str, version: str, indexes: IndexConfig) -> tuple[str, ...] | None:
    """Requires-Dist of ``name`` ``version`` from the configured locations (``None``: not found)."""
    try:
        parsed = Version(version)
    except ValueError:  # InvalidVersion, or a release number int() refuses
        return None
    locations = list(indexes.find_links)
    if not indexes.no_index:
        locations += [indexes.index_url or "https://pypi.org/simple", *indexes.extra_index_urls]
    for location in locations:
        folder = _local_folder(location)
        found = _from_folder(folder, name, parsed) if folder is not None else _from_http(location, name, parsed)
        if found is not None:
            return found
    return None
