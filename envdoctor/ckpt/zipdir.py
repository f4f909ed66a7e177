"""A zip archive's central directory, read in one pass exactly as :mod:`zipfile` reads it.

``zipfile.ZipFile`` builds a full :class:`zipfile.ZipInfo` per entry (dates, attributes,
twenty attribute sets): for the 20,006 entries of a 20,000-tensor torch archive that is
most of the time of a ``keys`` run. :func:`read_directory` walks the same bytes with the
same rules (``zipfile._RealGetContents``: the end record found by ``zipfile._EndRecData``,
the offset correction for data prepended to the archive, the signature of every entry, the
name decoded as UTF-8 when flag bit 11 is set and as cp437 otherwise and cut at a NUL byte,
the version check, zip64 extra fields decoded by ``ZipInfo._decodeExtra`` itself) and keeps
only what the checkpoint readers use, as one small tuple per entry. So every name, size
and offset is the one ``zipfile`` would give, and every archive ``zipfile`` refuses is
refused with the same exception. Members that are compressed or encrypted are still read
through :mod:`zipfile` (opened on first need), matched by their position in the directory.
"""

from __future__ import annotations

import os
import struct
import zipfile
from typing import IO, NamedTuple

__all__ = ["ZipEntry", "ZipDirectory", "read_directory"]

_CENTRAL_SIZE = struct.calcsize(zipfile.structCentralDir)  # type: ignore[attr-defined]
_FIELDS = struct.Struct("<4s2xBxHH8xLLHHH8xL")
"""The fields of zipfile.structCentralDir (``<4s4B4HL2L5H2L``) the readers use, the rest skipped."""
assert _FIELDS.size == _CENTRAL_SIZE
_CENTRAL_MAGIC = zipfile.stringCentralDir  # type: ignore[attr-defined]
_UTF8_FLAG = 0x800
_MAX_EXTRACT_VERSION = zipfile.MAX_EXTRACT_VERSION
_OTHER_SEP = os.sep if os.sep != "/" else ""
"""ZipInfo turns this separator into "/" (Windows' backslash); empty where it is "/"."""


class ZipEntry(NamedTuple):
    """One central-directory entry: what :class:`zipfile.ZipInfo` says about it."""

    filename: str
    header_offset: int
    compress_size: int
    file_size: int
    compress_type: int
    flag_bits: int
    position: int
    """Index in the directory (the same as in ``ZipFile.infolist()``)."""


_new_entry = tuple.__new__


def _zip64(name: str, extra: bytes, offset: int, csize: int, size: int) -> tuple[int, int, int]:
    """``(header_offset, compress_size, file_size)`` after zipfile's own extra-field decoding."""
    info = zipfile.ZipInfo(name)
    info.extra = extra
    info.header_offset = offset
    info.compress_size = csize
    info.file_size = size
    info._decodeExtra()  # type: ignore[attr-defined]  # raises BadZipFile as zipfile does
    return info.header_offset, info.compress_size, info.file_size


def read_directory(handle: IO[bytes], endrec: list[object]) -> list[ZipEntry]:
    """Every entry of the central directory ``endrec`` (from ``zipfile._EndRecData``) describes.

    Raises what ``zipfile.ZipFile`` raises on the same bytes (:class:`zipfile.BadZipFile`,
    ``UnicodeDecodeError``, ``NotImplementedError``...).
    """
    size_cd = int(endrec[zipfile._ECD_SIZE])  # type: ignore[attr-defined,call-overload]
    offset_cd = int(endrec[zipfile._ECD_OFFSET])  # type: ignore[attr-defined,call-overload]
    concat = int(endrec[zipfile._ECD_LOCATION]) - size_cd - offset_cd  # type: ignore[attr-defined,call-overload]
    if endrec[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:  # type: ignore[attr-defined]
        concat -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator  # type: ignore[attr-defined]
    start_dir = offset_cd + concat
    if start_dir < 0:
        raise zipfile.BadZipFile("Bad offset for central directory")
    handle.seek(start_dir, 0)
    data = handle.read(size_cd)
    available = len(data)
    unpack = _FIELDS.unpack_from
    entries: list[ZipEntry] = []
    append = entries.append
    position = 0
    total = 0
    index = 0
    while total < size_cd:
        if position + _CENTRAL_SIZE > available:
            raise zipfile.BadZipFile("Truncated central directory")
        (
            magic,
            extract_version,
            flags,
            method,
            csize,
            size,
            name_length,
            extra_length,
            comment_length,
            offset,
        ) = unpack(data, position)
        if magic != _CENTRAL_MAGIC:
            raise zipfile.BadZipFile("Bad magic number for central directory")
        position += _CENTRAL_SIZE
        raw_name = data[position : position + name_length]
        position += name_length
        name = raw_name.decode("utf-8") if flags & _UTF8_FLAG else raw_name.decode("cp437")
        if extract_version > _MAX_EXTRACT_VERSION:
            raise NotImplementedError("zip file version %.1f" % (extract_version / 10))
        if "\0" in name:
            name = name[: name.index("\0")]  # as ZipInfo.__init__ does
        if _OTHER_SEP and _OTHER_SEP in name:  # pragma: no cover - not on Linux
            name = name.replace(_OTHER_SEP, "/")
        if extra_length:
            extra = data[position : position + extra_length]
            offset, csize, size = _zip64(name, extra, offset, csize, size)
        position += extra_length + comment_length
        append(_new_entry(ZipEntry, (name, offset + concat, csize, size, method, flags, index)))
        index += 1
        total += _CENTRAL_SIZE + name_length + extra_length + comment_length
    return entries


class ZipDirectory:
    """An archive's entries plus :mod:`zipfile` for the members that must be decompressed."""

    def __init__(self, path: str, entries: list[ZipEntry]) -> None:
        self.path = path
        self.entries = entries
        self._archive: zipfile.ZipFile | None = None

    def open(self, entry: ZipEntry) -> IO[bytes]:
        """``zipfile``'s reader for ``entry`` (decompression, decryption checks, CRC)."""
        if self._archive is None:
            self._archive = zipfile.ZipFile(self.path)
        infos = self._archive.infolist()
        if entry.position >= len(infos):
            raise zipfile.BadZipFile("the archive changed while it was read")
        info = infos[entry.position]
        if info.filename != entry.filename or info.header_offset != entry.header_offset:
            raise zipfile.BadZipFile("the archive changed while it was read")
        return self._archive.open(info)

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None

    def __enter__(self) -> ZipDirectory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
