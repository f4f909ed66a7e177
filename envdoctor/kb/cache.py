"""A content-addressed cache of parsed knowledge, in the user's cache directory.

``tomllib`` is pure Python: parsing the knowledge a command needs costs tens of
milliseconds, more than the rest of ``diagnose``. :func:`toml_document` keys each parsed
document by the SHA-256 of its bytes, so an edited, refreshed or copied file can never be
served stale, whatever its path or timestamps; :func:`memo` keeps the JSON result of a
pure computation under a key the caller derives from every input (file digests included).

The cache is an optimisation only. It lives in ``$ENVDOCTOR_CACHE_DIR``, else
``$XDG_CACHE_HOME/envdoctor``, else ``~/.cache/envdoctor`` (never in an inspected
environment); ``ENVDOCTOR_NO_CACHE=1`` turns it off. It is JSON read with :mod:`json`
(nothing in it can run), a file that is missing, unreadable, corrupt or from another
envdoctor or Python is ignored, and a directory that cannot be written is left alone:
results are the same with or without it.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from envdoctor._version import __version__

__all__ = ["cache_dir", "digest", "memo", "toml_document"]

T = TypeVar("T")

#: What a cache file must say it was written by (a new envdoctor or Python starts afresh).
_STAMP = f"envdoctor {__version__}; python {sys.version_info[0]}.{sys.version_info[1]}; format 1"
#: Most documents / memo keys one file keeps; past it only the ones used by this process stay.
_MAX_DOCUMENTS = 4096
_MAX_MEMOS = 64


def cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where the cache lives; ``None`` when ``ENVDOCTOR_NO_CACHE`` is set."""
    env = os.environ if environ is None else environ
    if env.get("ENVDOCTOR_NO_CACHE"):
        return None
    if env.get("ENVDOCTOR_CACHE_DIR"):
        return Path(env["ENVDOCTOR_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "envdoctor"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Store:
    """One cache file: read once per process, written back at exit when something was added."""

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit
        self.lock = threading.Lock()
        self.loaded_from: Path | None = None
        self.items: dict[str, Any] = {}
        self.used: set[str] = set()
        self.dirty = False

    def _path(self) -> Path | None:
        folder = cache_dir()
        return None if folder is None else folder / f"{self.name}.json"

    def _ensure(self) -> Path | None:
        path = self._path()
        if path is None or path == self.loaded_from:
            return path
        self.loaded_from, self.items, self.used, self.dirty = path, {}, set(), False
        try:
            if path.stat().st_size > 64 * 1024 * 1024:
                return path  # not ours, or gone wrong: start afresh (and overwrite it)
            document = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return path
        if isinstance(document, dict) and document.get("stamp") == _STAMP and isinstance(document.get("items"), dict):
            self.items = document["items"]
        return path

    def get(self, key: str) -> tuple[bool, Any]:
        with self.lock:
            if self._ensure() is None:
                return False, None
            if key in self.items:
                self.used.add(key)
                return True, self.items[key]
            return False, None

    def put(self, key: str, value: Any) -> None:
        with self.lock:
            if self._ensure() is None:
                return
            self.items[key] = value
            self.used.add(key)
            if not self.dirty:
                self.dirty = True
                atexit.register(self.flush)

    def flush(self) -> None:
        """Write the file back (atomically; a failure to write is ignored)."""
        with self.lock:
            path = self.loaded_from
            if not self.dirty or path is None:
                return
            self.dirty = False
            items = self.items
            if len(items) > self.limit:
                items = {k: v for k, v in items.items() if k in self.used}
            import tempfile

            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                handle, temporary = tempfile.mkstemp(prefix=f".{self.name}.", dir=path.parent)
                try:
                    with os.fdopen(handle, "w", encoding="utf-8") as out:
                        json.dump({"stamp": _STAMP, "items": items}, out, separators=(",", ":"))
                    os.replace(temporary, path)
                except BaseException:
                    os.unlink(temporary)
                    raise
            except (OSError, TypeError, ValueError):
                pass


_TOML = _Store("toml", _MAX_DOCUMENTS)
_MEMOS: dict[str, _Store] = {}
_MEMOS_LOCK = threading.Lock()


def _json_exact(value: Any) -> bool:
    """Whether ``value`` comes back from JSON equal (TOML dates and times do not)."""
    if isinstance(value, dict):
        return all(_json_exact(v) for v in value.values())
    if isinstance(value, list):
        return all(_json_exact(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


def toml_document(text: str) -> dict[str, Any]:
    """``tomllib.loads(text)``, from the cache when this exact text was parsed before.

    Raises what ``tomllib.loads`` raises; a document that cannot be parsed is never cached.
    """
    key = digest(text.encode("utf-8", "surrogatepass"))
    hit, value = _TOML.get(key)
    if hit and isinstance(value, dict):
        return value
    import tomllib

    document = tomllib.loads(text)
    if _json_exact(document):
        _TOML.put(key, document)
    return document


def memo(kind: str, key: str, compute: Callable[[], T]) -> T:
    """``compute()``, or its JSON-stored result under ``key`` from an earlier run.

    ``key`` must be derived from every input of ``compute`` (file digests, versions, the
    computing code's own digest); the result must be plain JSON data.
    """
    with _MEMOS_LOCK:
        store = _MEMOS.setdefault(kind, _Store(f"memo-{kind}", _MAX_MEMOS))
    hit, value = store.get(key)
    if hit:
        return value  # type: ignore[no-any-return]
    result = compute()
    store.put(key, result)
    return result


def flush() -> None:
    """Write every pending cache file now (tests; atexit does it otherwise)."""
    _TOML.flush()
    for store in list(_MEMOS.values()):
        store.flush()
