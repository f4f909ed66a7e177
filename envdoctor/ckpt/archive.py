"""Every member of a zip checkpoint that a loader could read, each scanned once.

``torch.load`` reads ``<folder>/data.pkl`` through miniz, which matches names without
regard to case and, when several entries match, takes whichever its lookup meets (here
the first; a sorted lookup may pick another), so ``base/DATA.PKL`` next to
``base/data.pkl`` can be the one that runs. ``np.load`` opens any member whose bytes start
with the ``.npy`` magic, whatever its name (``weights``, ``w.NPY``). So the scan covers
every central-directory entry whose name ends in ``.pkl`` in any case (the torch pickle
and TorchScript's ``constants.pkl``...) and every member that starts like an ``.npy``
array, and reports duplicates and names that differ only in case as warnings. Entries that
point at the same bytes (a central directory can list one member thousands of times) are
scanned once. Opening the archive is bounded: the central directory's declared size and
entry count are checked before it is read (by :mod:`envdoctor.ckpt.zipdir`, with
:mod:`zipfile`'s rules), and every failure to read a name or a member (bad UTF-8, an unknown
compression method) is a :class:`CheckpointError`. The file is searched once for the
``.npy`` magic, so a member is opened only where an array could start. A torch archive can
be read by two processes at once (:func:`read_zip_parallel`).
"""

from __future__ import annotations

import bisect
import contextlib
import io
import mmap
import operator
import struct
import zipfile
from collections.abc import Callable
from dataclasses import replace
from typing import IO, Any

from envdoctor.ckpt.fast_engine import fast_load_stream, frame_possible
from envdoctor.ckpt.layout import checkpoint_from_object, ema_prefixes, storage_nbytes_of
from envdoctor.ckpt.model import Checkpoint, SecurityIssue, TensorInfo
from envdoctor.ckpt.npz import plain_npy_member, scan_npy_member
from envdoctor.ckpt.pickle_vm import PickleFailure, PickleLimits
from envdoctor.ckpt.records import StorageRef, storage_loader
from envdoctor.ckpt.sandbox import Child, checkpoint_from_reply, checkpoint_to_json, spawn
from envdoctor.ckpt.torch_zip import (
    archive_facts,
    finish_torch_checkpoint,
    read_torch_pickle,
    scan_other_pickle,
    storages_fit,
)
from envdoctor.ckpt.zipdir import ZipDirectory, ZipEntry, read_directory
from envdoctor.errors import CheckpointError

__all__ = ["MAX_ZIP_ENTRIES", "MAX_CENTRAL_DIRECTORY", "open_zip", "read_zip", "read_zip_parallel"]

MAX_ZIP_ENTRIES = 1_000_000
"""More central-directory entries than any checkpoint has (20,000 tensors = 20,006)."""
MAX_CENTRAL_DIRECTORY = 256 * 1024 * 1024

_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    UnicodeError,
    NotImplementedError,
    struct.error,
    OverflowError,
    KeyError,
    IndexError,
    MemoryError,
)


def _check_directory(path: str, handle: IO[bytes]) -> list[object]:
    try:
        end: list[object] | None = zipfile._EndRecData(handle)  # type: ignore[attr-defined]
    except _ZIP_ERRORS as exc:
        raise CheckpointError(f"{path}: unreadable zip end record ({exc})") from None
    if end is None:
        raise CheckpointError(
            f"{path}: starts like a zip archive but has no end-of-central-directory record: "
            "the file is truncated or corrupt (an interrupted save or download?)"
        )
    entries = end[zipfile._ECD_ENTRIES_TOTAL]  # type: ignore[attr-defined]
    size = end[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
    if entries > MAX_ZIP_ENTRIES or size > MAX_CENTRAL_DIRECTORY:  # type: ignore[operator]
        raise CheckpointError(
            f"{path}: zip central directory declares {entries:,} entries in {size:,} bytes, over the "
            f"{MAX_ZIP_ENTRIES:,}-entry / {MAX_CENTRAL_DIRECTORY:,}-byte limit"
        )
    return end


def open_zip(path: str) -> ZipDirectory:
    """The archive's directory, or a :class:`CheckpointError` naming what is wrong with it."""
    try:
        with open(path, "rb") as handle:
            end = _check_directory(path, handle)
            return ZipDirectory(path, read_directory(handle, end))
    except CheckpointError:
        raise
    except _ZIP_ERRORS as exc:
        raise CheckpointError(
            f"{path}: starts like a zip archive but its central directory is unreadable "
            f"({type(exc).__name__}: {str(exc)[:200]}): the file is truncated or corrupt"
        ) from None


def _data_pickles(infos: list[ZipEntry], lowered: list[str]) -> list[ZipEntry]:
    """Entries torch.load could take as ``<folder>/data.pkl`` (folder of the first entry, any case).

    ``lowered`` holds every entry's name in lower case, in directory order.
    """
    if not infos:
        return []
    folder = infos[0].filename.split("/", 1)[0].lower()
    wanted = f"{folder}/data.pkl"
    return [infos[index] for index, name in enumerate(lowered) if name == wanted]


_NPY_MAGIC = b"\x93NUMPY"
_STORAGE_KEY = operator.itemgetter(TensorInfo._fields.index("storage_key"))
_STORAGE_NBYTES = operator.itemgetter(TensorInfo._fields.index("storage_nbytes"))
_SIZE_TYPES = frozenset({int, type(None)})
_MAX_LOCAL_HEADER = 30 + 2 * 0xFFFF
"""A local header with the longest name and extra field: where a member's bytes start at most."""
_SEARCH_BYTES_PER_MEMBER = 4096
"""Below this many bytes per member, search the whole file for the ``.npy`` magic at once."""


def _advise(mapped: mmap.mmap, advice: str) -> None:
    """``madvise`` the whole mapping where the platform has ``advice``; only speed depends on it."""
    value = getattr(mmap, advice, None)
    if value is not None:
        with contextlib.suppress(OSError, ValueError):
            mapped.madvise(value)


def _starts_like_array(mapped: mmap.mmap, offset: int) -> bool:
    """Whether the member whose local header is at ``offset`` (a sound one) starts with the ``.npy`` magic."""
    name_length, extra_length = struct.unpack_from("<HH", mapped, offset + 26)
    start = offset + 30 + name_length + extra_length
    return mapped[start : start + len(_NPY_MAGIC)] == _NPY_MAGIC


def _magic_positions(raw: memoryview | mmap.mmap) -> list[int]:
    """Every offset of the ``.npy`` magic in the file, in order (a C-speed search)."""
    found: list[int] = []
    find = raw.find if isinstance(raw, mmap.mmap) else bytes(raw).find
    position = find(_NPY_MAGIC)
    while position >= 0:
        found.append(position)
        position = find(_NPY_MAGIC, position + 1)
    return found


def _stored_data_start(mapped: mmap.mmap, info: ZipEntry) -> int | None:
    """Where a stored, unencrypted member's bytes start in the file, from its local header.

    ``None`` for a compressed or encrypted member, a damaged local header or bytes that run
    past the end of the file: those are read through :mod:`zipfile` (as ``np.load`` reads
    them), which decompresses them or names what is wrong.
    """
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        return None
    offset = info.header_offset
    if offset + 30 > len(mapped) or mapped[offset : offset + 4] != b"PK\x03\x04":
        return None
    name_length, extra_length = struct.unpack_from("<HH", mapped, offset + 26)
    start = offset + 30 + name_length + extra_length
    return start if start + info.file_size <= len(mapped) else None


def read_zip(path: str, *, max_pickle_bytes: int, limits: PickleLimits) -> Checkpoint:
    """Inventory a torch zip or ``.npz`` archive, scanning every member a loader could read."""
    with open_zip(path) as archive, open(path, "rb") as handle:
        try:
            mapped: mmap.mmap | None = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            mapped = None
        if mapped is None:
            return _read_members(path, archive, None, None, max_pickle_bytes, limits)
        try:
            with memoryview(mapped) as raw:
                return _read_members(path, archive, mapped, raw, max_pickle_bytes, limits)
        finally:
            mapped.close()


def _other_candidates(
    infos: list[ZipEntry], lowered: list[str], mapped: mmap.mmap | None, raw: memoryview | None
) -> list[ZipEntry]:
    """Entries besides the data pickle that a loader could unpickle: ``.pkl`` names, ``.npy`` bytes.

    Every entry whose name ends in ``.pkl`` in any case, and every entry whose bytes may
    start with the ``.npy`` magic (compressed or encrypted members, and members whose local
    header is damaged, always may: they are read through :mod:`zipfile`, as ``np.load`` reads them).
    """
    if mapped is None or raw is None:
        return list(infos)
    size = len(mapped)

    def unusual(info: ZipEntry) -> bool:
        """Compressed, encrypted, a damaged local header, or a ``.pkl`` name: always a candidate."""
        return bool(
            info.compress_type != zipfile.ZIP_STORED
            or info.flag_bits & 0x1
            or info.header_offset + 30 > size
            or mapped[info.header_offset : info.header_offset + 4] != b"PK\x03\x04"
            or lowered[info.position].endswith(".pkl")
        )

    if size > _SEARCH_BYTES_PER_MEMBER * len(infos):
        # Big members (real weights): look at each member's first bytes, one page each, and
        # never at the tensor bytes: a 10 GB checkpoint costs what a small one does. Without
        # read-around, a cold file reads one page per member instead of 128 KB or more.
        _advise(mapped, "MADV_RANDOM")
        try:
            return [info for info in infos if unusual(info) or _starts_like_array(mapped, info.header_offset)]
        finally:
            _advise(mapped, "MADV_NORMAL")
    # Many small members: one C-speed search of the whole file is cheaper than a look at each.
    magics = _magic_positions(mapped)
    if not magics:
        # No magic anywhere in the file (a torch archive): only unusual members may still hold an array.
        return [info for info in infos if unusual(info)]

    def near_magic(offset: int) -> bool:
        # A member's bytes start 30..30+2*65535 bytes after its local header: no magic there, no array.
        first = bisect.bisect_left(magics, offset + 30)
        return first < len(magics) and magics[first] <= offset + _MAX_LOCAL_HEADER

    return [info for info in infos if near_magic(info.header_offset) or unusual(info)]


class _Abandon(Exception):
    """The two-process read cannot vouch for this archive: read it the usual way."""


DataReader = Callable[[ZipEntry, dict[str, ZipEntry]], Checkpoint]


def _read_members(
    path: str,
    archive: ZipDirectory,
    mapped: mmap.mmap | None,
    raw: memoryview | None,
    max_pickle_bytes: int,
    limits: PickleLimits,
    read_data: DataReader | None = None,
) -> Checkpoint:
    """Every member a loader could read; ``read_data`` reads a data pickle (else :func:`read_torch_pickle`).

    With ``read_data`` (the two-process read), a member besides the data pickle that would
    need unpickling raises :class:`_Abandon` instead.
    """
    infos = archive.entries
    names = {info.filename: info for info in infos}
    warnings: list[str] = []
    lowered_names = [info.filename.lower() for info in infos]
    if len(set(lowered_names)) != len(lowered_names):
        lowered: dict[str, int] = {}
        for name in lowered_names:
            lowered[name] = lowered.get(name, 0) + 1
        clashes = [name for name, count in lowered.items() if count > 1]
        warnings.append(
            f"{path}: {len(clashes)} member names appear more than once or differ only in case "
            f"(first: {clashes[0]!r}); loaders may pick any of them, so each was scanned"
        )

    data_pickles = _data_pickles(infos, lowered_names)
    scanned: set[tuple[int, int, int]] = set()
    unique_data: list[ZipEntry] = []
    for info in data_pickles:
        key = (info.header_offset, info.compress_size, info.file_size)
        if key not in scanned:
            scanned.add(key)
            unique_data.append(info)

    # The other members first: they do not depend on the data pickle, which a sandboxed
    # child may still be reading. Findings and errors are listed after the data pickle's.
    other_security: list[SecurityIssue] = []
    other_errors: list[CheckpointError] = []
    npy_tensors: list[TensorInfo] = []
    for info in _other_candidates(infos, lowered_names, mapped, raw):
        key = (info.header_offset, info.compress_size, info.file_size)
        if key in scanned:
            continue
        scanned.add(key)
        try:
            if lowered_names[info.position].endswith(".pkl"):
                if read_data is not None:
                    raise _Abandon
                other_security.extend(scan_other_pickle(path, archive, info, max_pickle_bytes, limits, raw=raw))
                continue
            start = None if mapped is None else _stored_data_start(mapped, info)
            if start is not None:
                if mapped is None or mapped[start : start + 6] != _NPY_MAGIC:
                    continue  # not an array: np.load hands its bytes back, nothing is unpickled
                tensor = plain_npy_member(path, info, mapped, start)
                if tensor is not None:
                    npy_tensors.append(tensor)
                    continue
            if read_data is not None:
                raise _Abandon
            found_array = scan_npy_member(path, archive, info, max_pickle_bytes, limits, raw=raw)
            if found_array is not None:
                tensor, issues, notes = found_array
                npy_tensors.append(tensor)
                other_security.extend(issues)
                warnings.extend(notes)
        except PickleFailure as exc:
            other_security.extend(exc.issues)
            other_errors.append(exc)
        except CheckpointError as exc:
            other_errors.append(exc)

    security: list[SecurityIssue] = []
    errors: list[CheckpointError] = []
    primary: Checkpoint | None = None
    for info in unique_data:
        try:
            if read_data is not None:
                found = read_data(info, names)
            else:
                found = read_torch_pickle(
                    path, archive, info, max_pickle_bytes=max_pickle_bytes, limits=limits, raw=raw, names=names
                )
        except PickleFailure as exc:
            security.extend(exc.issues)
            errors.append(exc)
            continue
        except CheckpointError as exc:
            errors.append(exc)
            continue
        security.extend(found.security)
        if primary is None or len(found.tensors) > len(primary.tensors):
            # Which of several matching names torch takes depends on the whole directory;
            # list the one that holds weights, scan them all.
            primary = found
    security.extend(other_security)
    errors.extend(other_errors)

    if primary is None and not npy_tensors:
        if security:
            return Checkpoint(
                path=path,
                format="torch-zip" if data_pickles else "npz",
                layout="unknown",
                tensors=(),
                security=tuple(security),
                warnings=(*warnings, *(str(error) for error in errors[:5])),
            )
        if errors:
            raise errors[0]
        raise CheckpointError(f"{path}: a zip archive with neither <folder>/data.pkl (torch) nor .npy members (NumPy)")
    if primary is None and errors and not security:
        # np.load fails on the first member it cannot read; so does this reader.
        raise errors[0]
    warnings.extend(f"member not read: {error}" for error in errors[:20])
    if primary is not None:
        if npy_tensors:
            warnings.append(f"{path}: also holds {len(npy_tensors)} .npy arrays (np.load would read them)")
        return replace(primary, security=tuple(security), warnings=(*primary.warnings, *warnings))
    tensor_names = [tensor.name for tensor in npy_tensors]
    ema = ema_prefixes(tensor_names)
    return Checkpoint(
        path=path,
        format="npz",
        layout="ema" if ema else "state_dict",
        tensors=tuple(npy_tensors),
        state_dict_path="",
        top_level_keys=tuple(tensor_names),
        security=tuple(security),
        ema=ema,
        warnings=tuple(warnings),
    )


class _MappedRange(io.RawIOBase):
    """Bytes ``start:end`` of a mapped file as a raw stream (for a buffered reader)."""

    def __init__(self, mapped: mmap.mmap, start: int, end: int) -> None:
        super().__init__()
        self.mapped = mapped
        self.start = start
        self.end = end
        self.position = start

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = max(0, min(len(buffer), self.end - self.position))
        buffer[:count] = self.mapped[self.position : self.position + count]
        self.position += count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: self.start, io.SEEK_CUR: self.position, io.SEEK_END: self.end}[whence]
        self.position = max(self.start, base + offset)
        return self.position - self.start

    def tell(self) -> int:
        return self.position - self.start


def _first_member_start(mapped: mmap.mmap) -> int | None:
    """Where the bytes of the archive's first local entry start, if it is stored and unencrypted."""
    if len(mapped) < 30 or mapped[:4] != b"PK\x03\x04":
        return None
    flags, method = struct.unpack_from("<HH", mapped, 6)
    if method != zipfile.ZIP_STORED or flags & 0x1:
        return None
    name_length, extra_length = struct.unpack_from("<HH", mapped, 26)
    start = 30 + name_length + extra_length
    return start if start <= len(mapped) else None


def _first_pickle_reply(
    path: str, mapped: mmap.mmap, start: int, cap: int, limits: PickleLimits
) -> dict[str, Any] | None:
    """In the sandboxed child: the pickle at ``start``, read as far as its STOP, as plain JSON data.

    The bytes are read as one sequential stream: with no FRAME that can execute in the bytes
    the unpickler ran over, that is exactly how ``torch.load`` reads ``data.pkl`` through
    ``io.BytesIO`` (see :func:`~envdoctor.ckpt.fast_engine.frame_possible`).
    """
    storages: dict[str, StorageRef] = {}

    persistent_load = storage_loader(storages)

    stream = io.BufferedReader(_MappedRange(mapped, start, min(len(mapped), start + cap)), 1 << 20)
    value = fast_load_stream(stream, persistent_load)
    consumed = stream.tell()
    if frame_possible(mapped[start : start + consumed], len(mapped) - start):
        return {"frame_possible": True}  # the usual read decides how torch reads it
    checkpoint = checkpoint_from_object(path, "torch-zip", value, limits=limits, security=(), warnings=())
    keys = list(storages)
    nbytes = storage_nbytes_of(storages.values())
    tensors = checkpoint.tensors
    same = keys == list(map(_STORAGE_KEY, tensors)) and nbytes == list(map(_STORAGE_NBYTES, tensors))
    return {
        "consumed": consumed,
        # Usually one storage per tensor, in the same order: then the tensors say it all.
        "storages": "tensors" if same else [keys, nbytes],
        "checkpoint": checkpoint_to_json(checkpoint),
    }


def read_zip_parallel(path: str, *, max_pickle_bytes: int, limits: PickleLimits) -> tuple[Checkpoint | None, bool]:
    """A plainly clean torch zip read by two processes at once: ``(checkpoint, refused)``.

    ``(None, False)``: read it the usual way. ``(None, True)``: the sandboxed child found the
    data pickle not plainly clean (or crashed, or ran out of time), as the usual sandboxed
    read would: go straight to the interpreter.

    ``torch.save`` writes ``<folder>/data.pkl`` as the archive's first entry, so a sandboxed
    child (:mod:`envdoctor.ckpt.sandbox`, fast engine) unpickles the bytes of the first local
    entry *while* this process reads the central directory and every other member. The
    child's work counts only if the directory then confirms it: exactly one entry is the data
    pickle torch would load, it is that first entry (same local header, stored, under
    ``max_pickle_bytes``), the pickle ended inside it, and no FRAME could execute in it.
    Anything else (a finding, an error, another member that needs unpickling, a second data
    pickle) gives no checkpoint, and the caller reads the file as before; so the result is
    always the one :func:`read_zip` gives in the sandbox.
    """
    try:
        with open(path, "rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None, False
    try:
        start = _first_member_start(mapped)
        if start is None:
            return None, False
        child = spawn(lambda: _first_pickle_reply(path, mapped, start, max_pickle_bytes + 1, limits))
        if child is None:
            return None, False
        try:
            return _read_with_child(path, mapped, start, child, max_pickle_bytes, limits)
        finally:
            child.cancel()
    finally:
        mapped.close()


def _read_with_child(
    path: str, mapped: mmap.mmap, start: int, child: Child, max_pickle_bytes: int, limits: PickleLimits
) -> tuple[Checkpoint | None, bool]:
    used: list[bool] = []
    refused: list[bool] = []

    def read_data(info: ZipEntry, names: dict[str, ZipEntry]) -> Checkpoint:
        used.append(True)
        if (
            len(used) > 1
            or info.header_offset != 0
            or _stored_data_start(mapped, info) != start
            or info.file_size > max_pickle_bytes
        ):
            raise _Abandon
        # What the directory alone says, gathered while the child still unpickles.
        facts = archive_facts(path, archive, info, names, raw=raw, with_sizes=True)
        reply = child.reply()
        if not isinstance(reply, dict):
            refused.append(True)
            raise _Abandon
        if reply.get("frame_possible"):
            raise _Abandon
        consumed, storages = reply.get("consumed"), reply.get("storages")
        if type(consumed) is not int or consumed > info.file_size:
            raise _Abandon
        inventory = checkpoint_from_reply(reply.get("checkpoint"))
        if inventory is None:
            raise _Abandon
        if storages == "tensors":
            keys, sizes = list(map(_STORAGE_KEY, inventory.tensors)), list(map(_STORAGE_NBYTES, inventory.tensors))
        elif isinstance(storages, list) and len(storages) == 2 and all(isinstance(part, list) for part in storages):
            keys, sizes = storages
        else:
            raise _Abandon
        if len(keys) != len(sizes) or not set(map(type, keys)) <= {str} or not set(map(type, sizes)) <= _SIZE_TYPES:
            raise _Abandon
        fits = storages_fit(facts, keys, sizes)
        return finish_torch_checkpoint(
            path,
            archive,
            info,
            names,
            None if fits else dict(zip(keys, sizes, strict=True)),
            lambda: inventory,
            raw=raw,
            facts=facts,
        )

    try:
        archive = open_zip(path)
        with archive, memoryview(mapped) as raw:
            checkpoint = _read_members(path, archive, mapped, raw, max_pickle_bytes, limits, read_data=read_data)
    except (_Abandon, CheckpointError):
        return None, bool(refused)
    if checkpoint.security or len(used) != 1:
        return None, False
    return checkpoint, False
