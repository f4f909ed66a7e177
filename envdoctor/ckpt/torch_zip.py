"""Read the torch zip format (``torch.save`` since 1.6) from its central directory and pickle.

The archive holds ``<folder>/data.pkl`` (the pickled object, tensors as persistent ids),
``<folder>/data/<key>`` (raw storage bytes), ``<folder>/byteorder`` and
``<folder>/version``; the folder name is whatever the file was called when saved. Only the
central directory, ``data.pkl`` and the tiny text members are read: tensor bytes never are,
so a multi-gigabyte checkpoint costs the same as a small one. Storage members are checked
against the sizes the pickle claims, through the central directory alone.
"""

from __future__ import annotations

import operator
import struct
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import cast
from zlib import error as zlib_error

from envdoctor.ckpt.layout import checkpoint_from_object
from envdoctor.ckpt.model import Checkpoint, MetadataValue, SecurityIssue
from envdoctor.ckpt.pickle_vm import PickleLimits, run_pickle
from envdoctor.ckpt.records import StorageRef, storage_from_persistent_id, storage_loader
from envdoctor.ckpt.zipdir import ZipDirectory, ZipEntry
from envdoctor.errors import CheckpointError

__all__ = [
    "ArchiveFacts",
    "archive_facts",
    "find_data_pickle",
    "finish_torch_checkpoint",
    "read_member",
    "read_torch_pickle",
    "scan_other_pickle",
    "storages_fit",
]

_SMALL_MEMBER = 4096
_FILE_SIZE = operator.attrgetter("file_size")


def find_data_pickle(names: list[str]) -> str | None:
    """The ``<folder>/data.pkl`` member torch.load would use (any case), or ``None``."""
    if not names:
        return None
    wanted = names[0].split("/", 1)[0].lower() + "/data.pkl"
    for name in names:
        if name.lower() == wanted:
            return name
    return None


def _local_data_start(raw: memoryview, info: ZipEntry) -> int | None:
    """Where a stored member's bytes start, from its local header (as zipfile finds them)."""
    offset = info.header_offset
    header = bytes(raw[offset : offset + 30])
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        return None
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    return int(offset) + 30 + int(name_length) + int(extra_length)


def read_member(
    archive: ZipDirectory,
    info: ZipEntry,
    cap: int,
    where: str,
    *,
    prefix_only: bool = False,
    raw: memoryview | None = None,
) -> bytes:
    """One member's bytes (its first ``cap`` with ``prefix_only``), refusing members over ``cap``.

    With ``raw`` (the whole file, mapped), a stored, unencrypted member is sliced straight
    out of it instead of being opened through :mod:`zipfile`, which is what makes 20,000
    members cheap; the bytes are the same ones ``zipfile`` would return.
    """
    if not prefix_only and info.file_size > cap:
        raise CheckpointError(
            f"{where}: {info.filename} is {info.file_size:,} bytes, over the {cap:,}-byte limit "
            "(raise max_pickle_bytes if the file is trusted to be this big)"
        )
    if raw is not None and info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & 0x1:
        start = _local_data_start(raw, info)
        if start is not None and start + info.file_size <= len(raw):
            return bytes(raw[start : start + min(cap, info.file_size)])
    try:
        with archive.open(info) as member:
            data = member.read(cap if prefix_only else cap + 1)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError, ValueError) as exc:
        raise CheckpointError(
            f"{where}: cannot read {info.filename}: {str(exc)[:200]} (truncated or corrupt archive)"
        ) from None
    except zlib_error as exc:
        raise CheckpointError(f"{where}: cannot decompress {info.filename}: {exc}") from None
    if not prefix_only and len(data) > cap:
        raise CheckpointError(f"{where}: {info.filename} is larger than the {cap:,}-byte limit")
    return data


def _all_fit(sizes: list[int | None], needs: list[int | None]) -> bool:
    """Every size known and at least what is needed, pairwise (C speed: 20,000 in a few ms)."""
    if None in sizes or None in needs:
        return False
    return not any(map(operator.lt, cast("list[int]", sizes), cast("list[int]", needs)))


def _check_storages(names: Mapping[str, ZipEntry], prefix: str, storages: Mapping[str, int | None], where: str) -> None:
    """Every storage the pickle names (key -> bytes its tensors need) is a big enough member."""
    folder = f"{prefix}data/"
    # C speed throughout: 20,000 storages in a few milliseconds.
    members = list(map(folder.__add__, storages))
    infos = list(map(names.get, members))
    needs = list(storages.values())
    if None not in infos and _all_fit(list(map(_FILE_SIZE, infos)), needs):
        return
    problems = [
        index
        for index, (info, needed) in enumerate(zip(infos, needs, strict=True))
        if info is None or (needed is not None and info.file_size < needed)
    ]
    if not problems:
        return
    index = problems[0]  # the first in the pickle's order, as torch.load meets it
    member, info, needed = members[index], infos[index], needs[index]
    if info is None:
        raise CheckpointError(
            f"{where}: storage {member} named by data.pkl is missing from the archive "
            "(truncated or hand-edited file; torch.load will fail too)"
        )
    raise CheckpointError(
        f"{where}: storage {member} holds {info.file_size:,} bytes but its tensors need {needed:,} (corrupt archive)"
    )


@dataclass(frozen=True)
class ArchiveFacts:
    """What the central directory and the small members say about one data pickle's archive.

    Nothing here depends on the pickle, so the two-process read gathers it while the
    sandboxed child is still unpickling (:func:`archive_facts`).
    """

    metadata: Mapping[str, MetadataValue]
    warnings: tuple[str, ...]
    storage_sizes: Mapping[str, int] | None = None
    """Storage key -> size of ``<folder>/data/<key>`` (only when asked for: :func:`storages_fit`)."""


def archive_facts(
    path: str,
    archive: ZipDirectory,
    info: ZipEntry,
    by_name: Mapping[str, ZipEntry],
    *,
    raw: memoryview | None = None,
    with_sizes: bool = False,
) -> ArchiveFacts:
    """The archive metadata and notes for the data pickle ``info`` (CheckpointError if unreadable)."""
    prefix = info.filename[: -len("data.pkl")]
    warnings: list[str] = []
    code_folder = f"{prefix}code/"
    if any(map(operator.methodcaller("startswith", code_folder), by_name)):
        warnings.append(
            f"{path}: a TorchScript archive (it has {prefix}code/); torch.jit.load runs that code, torch.load does not"
        )
    metadata: dict[str, MetadataValue] = {}
    for field_name in ("version", ".format_version", "byteorder", ".storage_alignment"):
        member = by_name.get(f"{prefix}{field_name}")
        if member is not None:
            text = read_member(archive, member, _SMALL_MEMBER, path, raw=raw).decode("utf-8", "replace")
            metadata[f"archive.{field_name.lstrip('.')}"] = text.strip()[:200]
    if metadata.get("archive.byteorder") == "big":
        warnings.append(f"{path}: saved on a big-endian machine; torch.load byte-swaps on load")
    sizes = None
    if with_sizes:
        folder = f"{prefix}data/"
        cut = len(folder)
        sizes = {name[cut:]: entry.file_size for name, entry in by_name.items() if name.startswith(folder)}
    return ArchiveFacts(MappingProxyType(metadata), tuple(warnings), sizes)


def storages_fit(facts: ArchiveFacts, keys: list[str], needs: list[int | None]) -> bool:
    """True when every storage ``keys[i]`` is a member of at least ``needs[i]`` bytes (C speed).

    ``False`` says only that :func:`finish_torch_checkpoint` must look closer.
    """
    if facts.storage_sizes is None or len(keys) != len(needs):
        return False
    return _all_fit(list(map(facts.storage_sizes.get, keys)), needs)


def read_torch_pickle(
    path: str,
    archive: ZipDirectory,
    info: ZipEntry,
    *,
    max_pickle_bytes: int,
    limits: PickleLimits,
    raw: memoryview | None = None,
    names: dict[str, ZipEntry] | None = None,
) -> Checkpoint:
    """Inventory the torch zip checkpoint whose ``data.pkl`` entry is ``info``."""
    data_pickle = info.filename
    by_name = names if names is not None else {entry.filename: entry for entry in archive.entries}
    storages: dict[str, StorageRef] = {}

    persistent_load = storage_loader(storages)

    result = run_pickle(
        read_member(archive, info, max_pickle_bytes, path, raw=raw),
        where=f"{path} ({data_pickle})",
        member=data_pickle,
        limits=limits,
        persistent_load=persistent_load,
        as_bytesio=True,  # torch.load: io.BytesIO(zip_file.get_record("data.pkl"))
    )
    sizes = {key: storage.nbytes for key, storage in storages.items()}
    return finish_torch_checkpoint(
        path,
        archive,
        info,
        by_name,
        sizes,
        lambda: checkpoint_from_object(
            path, "torch-zip", result.value, limits=limits, security=result.issues, warnings=()
        ),
        pickle_warnings=result.warnings,
        raw=raw,
    )


def finish_torch_checkpoint(
    path: str,
    archive: ZipDirectory,
    info: ZipEntry,
    by_name: Mapping[str, ZipEntry],
    storages: Mapping[str, int | None] | None,
    inventory: Callable[[], Checkpoint],
    *,
    pickle_warnings: tuple[str, ...] = (),
    raw: memoryview | None = None,
    facts: ArchiveFacts | None = None,
) -> Checkpoint:
    """What the archive adds to the data pickle's inventory: storage checks, archive metadata, notes.

    ``storages`` maps each storage key the pickle named to the bytes its tensors need
    (``None``: already found to fit, :func:`storages_fit`); ``inventory()`` gives the
    pickle's own :class:`Checkpoint` (no archive metadata yet), so a storage problem is
    reported before an archive or inventory problem, whichever process read it. ``facts``
    is :func:`archive_facts` when it was gathered beforehand.
    """
    if storages is not None:
        _check_storages(by_name, info.filename[: -len("data.pkl")], storages, path)
    if facts is None:
        facts = archive_facts(path, archive, info, by_name, raw=raw)
    checkpoint = inventory()
    merged = dict(checkpoint.metadata)
    merged.update(facts.metadata)
    return replace(
        checkpoint,
        metadata=MappingProxyType(merged),
        warnings=(*checkpoint.warnings, *pickle_warnings, *facts.warnings),
    )


def scan_other_pickle(
    path: str,
    archive: ZipDirectory,
    info: ZipEntry,
    max_pickle_bytes: int,
    limits: PickleLimits,
    raw: memoryview | None = None,
) -> tuple[SecurityIssue, ...]:
    """Findings in a ``.pkl`` member other than the data pickle (TorchScript's constants.pkl...)."""
    result = run_pickle(
        read_member(archive, info, max_pickle_bytes, path, raw=raw),
        where=f"{path} ({info.filename})",
        member=info.filename,
        limits=limits,
        persistent_load=storage_from_persistent_id,
    )
    return result.issues
