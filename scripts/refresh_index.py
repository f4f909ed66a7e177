"""Refresh ``knowledge/index/``: package metadata that ``envdoctor constraints`` resolves over.

For a curated list of ML packages (each with a version window) and the closure of their
base dependencies, this reads the package index and writes one compact JSON file per
package: for every release its upload date, ``Requires-Python``, base ``Requires-Dist``,
the bounds its extras put on curated packages (transformers' import-time checks read
the same table), the wheel tags reduced to (interpreter, ABI, platform family), whether
an sdist exists, and whether it is yanked. ``knowledge/index/REFRESHED.toml`` records
when and how it ran.

Where the data comes from, and why: on the machine this was written on, PyPI's JSON API
(``/pypi/<name>/json``) answered but the per-version endpoint (``/pypi/<name>/<v>/json``)
did not (404 through the mirror), so the release list and files come from the simple
index in its PEP 691 JSON form (``Accept: application/vnd.pypi.simple.v1+json``) and each
release's metadata from one wheel's PEP 658 ``<wheel-url>.metadata`` file; where that
file is missing (404 for some older wheels here) the wheel's ``METADATA`` is read with
HTTP range requests on the zip, as pip's lazy-wheel code does. Releases with no wheel (e.g. mmcv 2.x, sdist only on
PyPI) get ``requires_dist = null``: their metadata is only known by building them.

Usage: ``python scripts/refresh_index.py [--index-url https://pypi.org/simple] [--jobs 16]``.
The test suite never runs this; it reads the committed files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidSdistFilename, canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from envdoctor.resolve.wheels import wheel_family_tags

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "knowledge" / "index"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"

#: Curated packages and the oldest release kept. Chosen to cover the ML cases envdoctor
#: explains (transformers 4.2x era onwards, torch 1.13 onwards, OpenMMLab 2.x/3.x).
CURATED: dict[str, str] = {
    "transformers": "4.20",
    "tokenizers": "0.11",
    "huggingface-hub": "0.10",
    "safetensors": "0.3",
    "accelerate": "0.20",
    "sentence-transformers": "2.2",
    "peft": "0.4",
    "diffusers": "0.20",
    "datasets": "2.10",
    "timm": "0.6",
    "torch": "1.13",
    "torchvision": "0.14",
    "torchaudio": "0.13",
    "triton": "2.0",
    "numpy": "1.21",
    "scipy": "1.9",
    "pandas": "1.5",
    "scikit-learn": "1.1",
    "matplotlib": "3.5",
    "pillow": "9.0",
    "opencv-python": "4.6",
    "opencv-python-headless": "4.6",
    "mmcv": "1.7",
    "mmcv-lite": "2.0",
    "mmdet": "2.25",
    "mmengine": "0.7",
    "mmpretrain": "1.0",
    "mmsegmentation": "1.0",
    "protobuf": "3.20",
    "tensorboard": "2.10",
    "sentencepiece": "0.1.97",
    "onnx": "1.13",
    "onnxruntime": "1.14",
}
#: Dependencies outside the curated list keep at most this many newest releases (plus every
#: release another package pins exactly) ...
CLOSURE_RELEASES = 40
#: ... uploaded on or after this date.
CLOSURE_SINCE = "2021-01-01"
#: Safety cap on the closure.
MAX_PACKAGES = 400


def fetch(url: str, *, accept: str | None = None, retries: int = 3) -> bytes | None:
    """GET ``url``; ``None`` on 404, an exception after ``retries`` other failures."""
    headers = {"User-Agent": "envdoctor-refresh-index"}
    if accept:
        headers["Accept"] = accept
    last: Exception | None = None
    for _ in range(retries):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as response:
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            last = exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            last = exc
    raise RuntimeError(f"cannot fetch {url}: {last}")


class RangeReader(io.RawIOBase):
    """A remote file read with HTTP range requests, enough for :mod:`zipfile` (pip's lazy wheel idea)."""

    def __init__(self, url: str, size: int) -> None:
        self.url, self.size, self.pos = url, size, 0
        self.blocks: dict[int, bytes] = {}

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = offset if whence == 0 else self.pos + offset if whence == 1 else self.size + offset
        return self.pos

    def read(self, n: int = -1) -> bytes:
        end = self.size if n is None or n < 0 else min(self.size, self.pos + n)
        if end <= self.pos:
            return b""
        start = self.pos
        headers = {"Range": f"bytes={start}-{end - 1}", "User-Agent": "envdoctor-refresh-index"}
        with urllib.request.urlopen(urllib.request.Request(self.url, headers=headers), timeout=60) as response:
            data: bytes = response.read()
        if len(data) > end - start:  # server ignored the range
            data = data[start:end]
        self.pos = start + len(data)
        return data


def metadata_from_wheel(url: str, size: int, retries: int = 4) -> bytes | None:
    """The METADATA file of a remote wheel, read through range requests (retried: the network blips)."""
    for attempt in range(retries):
        try:
            with zipfile.ZipFile(RangeReader(url, size)) as archive:
                name = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None)
                return None if name is None else archive.read(name)
        except (OSError, zipfile.BadZipFile, urllib.error.URLError) as exc:
            print(f"  cannot read {url} (attempt {attempt + 1}): {exc}", file=sys.stderr)
    return None


def release_metadata(wheel: dict[str, Any]) -> bytes | None:
    """PEP 658 ``.metadata`` when the index serves it, else the wheel's METADATA by range requests."""
    meta = fetch(wheel["url"] + ".metadata")
    if meta is None:
        meta = metadata_from_wheel(wheel["url"], int(wheel["size"]))
    return meta


def file_version(name: str, filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        if filename.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(filename)[1]
    except (InvalidSdistFilename, InvalidVersion, ValueError):
        return None
    return None


def wheel_rank(filename: str) -> int:
    """Which wheel's metadata to read: Linux x86_64 CPython 3.11 first, then generic ones."""
    tags = wheel_family_tags(filename)
    if any(t.endswith("manylinux_x86_64") and t.startswith("cp311") for t in tags):
        return 0
    if any(t.endswith("manylinux_x86_64") for t in tags):
        return 1
    if any(t.endswith("-any") for t in tags):
        return 2
    return 3


def parse_metadata(text: str) -> tuple[list[str], str | None]:
    message = HeaderParser().parsestr(text)
    return list(message.get_all("Requires-Dist") or []), message.get("Requires-Python")


def split_requires(requires: Iterable[str], curated: set[str]) -> tuple[list[str], dict[str, str]]:
    """Base requirements, and the bounds extras put on curated packages."""
    base: list[str] = []
    extras: dict[str, list[str]] = {}
    for line in requires:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is not None and "extra" in str(req.marker):
            key = canonicalize_name(req.name)
            if key in curated and str(req.specifier):
                extras.setdefault(key, [])
                if str(req.specifier) not in extras[key]:
                    extras[key].append(str(req.specifier))
            continue
        base.append(str(req))
    merged = {k: str(SpecifierSet(",".join(v))) for k, v in extras.items()}
    return base, merged


def choose_versions(
    name: str, files: list[dict[str, Any]], floor: str | None, pinned: set[Version] | None = None
) -> dict[Version, list[dict[str, Any]]]:
    by_version: dict[Version, list[dict[str, Any]]] = {}
    for item in files:
        version = file_version(name, item["filename"])
        if version is not None:
            by_version.setdefault(version, []).append(item)
    finals = {v: f for v, f in by_version.items() if not v.is_prerelease and not v.is_devrelease}
    if floor is not None:
        low = Version(floor)
        return {v: f for v, f in finals.items() if v >= low}
    recent = {v: f for v, f in finals.items() if max((i.get("upload-time") or "") for i in f)[:10] >= CLOSURE_SINCE}
    if not recent:
        recent = dict(sorted(finals.items())[-3:])
    chosen = dict(sorted(recent.items())[-CLOSURE_RELEASES:])
    # Releases that a package already read pins exactly (torch -> nvidia-cudnn-cu12==8.9.2.26)
    # stay in, however old, or those pins could never resolve.
    for version in pinned or ():
        if version in by_version:
            chosen[version] = by_version[version]
    return chosen


def release_record(name: str, items: list[dict[str, Any]], pool: ThreadPoolExecutor, curated: set[str]) -> Any:
    wheels = sorted((i for i in items if i["filename"].endswith(".whl")), key=lambda i: wheel_rank(i["filename"]))
    family: set[str] = set()
    for item in wheels:
        family.update(wheel_family_tags(item["filename"]))
    uploaded = min((i.get("upload-time") or "9999") for i in items)[:10]
    record: dict[str, Any] = {
        "uploaded": uploaded,
        "requires_python": None,
        "requires_dist": None,
        "extras_bounds": {},
        "wheels": sorted(family),
        "sdist": any(not i["filename"].endswith(".whl") for i in items),
        "yanked": all(bool(i.get("yanked")) for i in items),
    }
    rp = [i.get("requires-python") for i in items if i.get("requires-python")]
    if rp:
        record["requires_python"] = rp[0]
    return record, (wheels[0] if wheels else None)


def refresh(index_url: str, jobs: int, out: Path) -> dict[str, Any]:
    curated = {canonicalize_name(n) for n in CURATED}
    floors = {canonicalize_name(n): f for n, f in CURATED.items()}
    pending = sorted(curated)
    seen: set[str] = set(pending)
    written: dict[str, int] = {}
    missing: list[str] = []
    empty: list[str] = []
    pins: dict[str, set[Version]] = {}
    unreadable: list[str] = []
    with ThreadPoolExecutor(jobs) as pool:
        while pending:
            pages = list(pool.map(lambda n: fetch(f"{index_url.rstrip('/')}/{n}/", accept=SIMPLE_JSON), pending))
            next_round: list[str] = []
            for name, page in zip(pending, pages, strict=True):
                if page is None:
                    missing.append(name)
                    continue
                files = json.loads(page)["files"]
                versions = choose_versions(name, files, floors.get(name), pins.get(name))
                records: dict[str, Any] = {}
                urls: dict[str, dict[str, Any]] = {}
                for version, items in versions.items():
                    record, url = release_record(name, items, pool, curated)
                    records[str(version)] = record
                    if url:
                        urls[str(version)] = url
                if not records:
                    empty.append(name)
                    print(f"{name}: no final release in the window, skipped", file=sys.stderr)
                    continue
                metas = dict(zip(urls, pool.map(release_metadata, urls.values()), strict=True))
                deps: set[str] = set()
                for version, meta in metas.items():
                    if meta is None:
                        unreadable.append(f"{name} {version}")
                        continue
                    requires, requires_python = parse_metadata(meta.decode("utf-8", "replace"))
                    base, extras = split_requires(requires, curated)
                    records[version]["requires_dist"] = base
                    records[version]["extras_bounds"] = extras
                    if requires_python:
                        records[version]["requires_python"] = requires_python
                    for line in base:
                        req = Requirement(line)
                        key = canonicalize_name(req.name)
                        deps.add(key)
                        for spec in req.specifier:
                            if spec.operator == "==" and "*" not in spec.version:
                                pins.setdefault(key, set()).add(Version(spec.version))
                document = {
                    "name": name,
                    "window": f">={floors[name]}"
                    if name in floors
                    else f"newest {CLOSURE_RELEASES} since {CLOSURE_SINCE}",
                    "source": f"{index_url.rstrip('/')}/{name}/",
                    "releases": dict(sorted(records.items(), key=lambda kv: Version(kv[0]))),
                }
                (out / f"{name}.json").write_text(json.dumps(document, separators=(",", ":")) + "\n")
                written[name] = len(records)
                print(f"{name}: {len(records)} releases", file=sys.stderr)
                for dep in sorted(deps - seen):
                    if len(seen) < MAX_PACKAGES:
                        seen.add(dep)
                        next_round.append(dep)
            pending = next_round
    return {"packages": written, "missing": missing, "empty": empty, "unreadable": unreadable}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-url", default="https://pypi.org/simple")
    parser.add_argument("--jobs", type=int, default=16)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    # Fetch into a staging folder; the committed files are swapped only once all is read.
    with tempfile.TemporaryDirectory(prefix=".refresh-", dir=OUT.parent) as staging:
        result = refresh(args.index_url, args.jobs, Path(staging))
        for old in OUT.glob("*.json"):
            old.unlink()
        for new in sorted(Path(staging).glob("*.json")):
            os.replace(new, OUT / new.name)
    lines = [
        "# Written by scripts/refresh_index.py; do not edit by hand.",
        f'refreshed = "{started.isoformat()}"',
        f'command = "python scripts/refresh_index.py --index-url {args.index_url}"',
        f'index_url = "{args.index_url}"',
        'method = "PEP 691 simple JSON for files; Requires-Dist from PEP 658 <wheel>.metadata, '
        'else from range requests on the wheel"',
        f"closure_releases = {CLOSURE_RELEASES}",
        f'closure_since = "{CLOSURE_SINCE}"',
        f"missing = {json.dumps(sorted(result['missing']))}",
        f"empty = {json.dumps(sorted(result['empty']))}",
        f"unreadable = {json.dumps(sorted(result['unreadable']))}",
        "",
        "[curated]",
        *(f'"{name}" = ">={floor}"' for name, floor in sorted(CURATED.items())),
        "",
        "[releases]",
        *(f'"{name}" = {count}' for name, count in sorted(result["packages"].items())),
    ]
    (OUT / "REFRESHED.toml").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
