"""Read the torch zip format (``torch.save`` since 1.6) from its central directory and pickle.

The archive holds ``<folder>/data.pkl`` (the pickled object, tensors as persistent ids),
``<folder>/data/<key>`` (raw storage bytes), ``<folder>/byteorder`` and
``<folder>/version``; the folder name is whatever the file was called when saved. Only the
central directory, ``data.pkl`` and the tiny text members are read: tensor bytes never are,
so a multi-gigabyte checkpoint costs the same as a small one. Storage members are checked
against the sizes the pickle claims, through the central directory alone.
"""

from __future__ import annotations

import zipfile

from envdoctor.ckpt.layout import checkpoint_from_object
from envdoctor.ckpt.model import Checkpoint, MetadataValue, SecurityIssue
from envdoctor.ckpt.pickle_vm import PickleLimits, run_pickle
from envdoctor.ckpt.records import StorageRef, storage_from_persistent_id
from envdoctor.errors import CheckpointError

__all__ = ["find_data_pickle", "read_member", "read_torch_zip"]

_SMALL_MEMBER = 4096


def find_data_pickle(names: list[str]) -> str | None:
    """The ``<folder>/data.pkl`` member torch.load would use, or ``None``."""
    for name in names:
        parts = name.split("/")
        if len(parts) == 2 and parts[1] == "data.pkl":
            return name
    return None


def read_member(archive: zipfile.ZipFile, name: str, cap: int, where: str) -> bytes:
    """One member's bytes, refusing members (declared or actual) larger than ``cap``."""
    info = archive.getinfo(name)
    if info.file_size > cap:
        raise CheckpointError(
            f"{where}: {name} is {info.file_size:,} bytes, over the {cap:,}-byte limit "
            "(raise max_pickle_bytes if the file is trusted to be this big)"
        )
    try:
        with archive.open(info) as member:
            data = member.read(cap + 1)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
        raise CheckpointError(f"{where}: cannot read {name}: {exc} (truncated or corrupt archive)") from None
    if len(data) > cap:
        raise CheckpointError(f"{where}: {name} is larger than the {cap:,}-byte limit")
    return data


def _check_storages(archive: zipfile.ZipFile, prefix: str, storages: dict[str, StorageRef], where: str) -> None:
    for key, storage in storages.items():
        member = f"{prefix}data/{key}"
        try:
            info = archive.getinfo(member)
        except KeyError:
            raise CheckpointError(
                f"{where}: storage {member} named by data.pkl is missing from the archive "
                "(truncated or hand-edited file; torch.load will fail too)"
            ) from None
        needed = storage.nbytes
        if needed is not None and info.file_size < needed:
            raise CheckpointError(
                f"{where}: storage {member} holds {info.file_size:,} bytes but its tensors need "
                f"{needed:,} (corrupt archive)"
            )


def read_torch_zip(
    path: str,
    archive: zipfile.ZipFile,
    *,
    max_pickle_bytes: int,
    limits: PickleLimits,
) -> Checkpoint:
    """Inventory a torch zip checkpoint already opened as ``archive``."""
    names = archive.namelist()
    data_pickle = find_data_pickle(names)
    if data_pickle is None:
        raise CheckpointError(f"{path}: zip archive without a <folder>/data.pkl member")
    prefix = data_pickle[: -len("data.pkl")]
    storages: dict[str, StorageRef] = {}

    def persistent_load(pid: object) -> object:
        storage = storage_from_persistent_id(pid)
        storages.setdefault(storage.key, storage)
        return storage

    result = run_pickle(
        read_member(archive, data_pickle, max_pickle_bytes, path),
        where=f"{path} ({data_pickle})",
        member=data_pickle,
        limits=limits,
        persistent_load=persistent_load,
    )
    _check_storages(archive, prefix, storages, path)

    security: list[SecurityIssue] = list(result.issues)
    warnings: list[str] = list(result.warnings)
    # torch.load only unpickles data.pkl, but TorchScript archives also carry
    # constants.pkl and friends: scan every pickle so nothing hides there.
    for name in names:
        if name.endswith(".pkl") and name != data_pickle:
            other = run_pickle(
                read_member(archive, name, max_pickle_bytes, path),
                where=f"{path} ({name})",
                member=name,
                limits=limits,
                persistent_load=storage_from_persistent_id,
            )
            security.extend(other.issues)
    if any(name.startswith(f"{prefix}code/") for name in names):
        warnings.append(
            f"{path}: a TorchScript archive (it has {prefix}code/); torch.jit.load runs that code, torch.load does not"
        )

    metadata: dict[str, MetadataValue] = {}
    for field_name in ("version", ".format_version", "byteorder", ".storage_alignment"):
        member = f"{prefix}{field_name}"
        if member in names:
            text = read_member(archive, member, _SMALL_MEMBER, path).decode("utf-8", "replace")
            metadata[f"archive.{field_name.lstrip('.')}"] = text.strip()
    if metadata.get("archive.byteorder") == "big":
        warnings.append(f"{path}: saved on a big-endian machine; torch.load byte-swaps on load")

    return checkpoint_from_object(
        path,
        "torch-zip",
        result.value,
        limits=limits,
        security=tuple(security),
        warnings=tuple(warnings),
        extra_metadata=metadata,
    )
