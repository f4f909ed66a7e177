"""Which GPU architectures a CUDA library carries, read from its embedded fatbinaries.

``nvcc`` embeds device code in the ``.nv_fatbin`` ELF section as a sequence of fatbinaries.
Each starts with a 16-byte header (magic ``0xBA55ED50``, version, header size, payload
size) followed by entries whose header holds the kind (1 = PTX, 2 = ELF cubin), the entry
size and the target architecture (``80`` for sm_80) plus flags for the arch-specific
(``sm_90a``, bit 0x100000) and family (``sm_100f``, bit 0x200000) variants. This is the
layout ``cuobjdump --list-elf/--list-ptx`` reads; checked against libraries built here
with ``nvcc -gencode`` (see ``tests/fixtures/host/fatbin``). Only entry headers are
touched, so even a 1.5 GB ``libtorch_cuda.so`` is scanned in milliseconds through
:mod:`mmap`; a deadline bounds the work anyway.
"""

from __future__ import annotations

import mmap
import struct
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ArchScan", "FATBIN_MAGIC", "scan_architectures", "sort_architectures"]

FATBIN_MAGIC = struct.pack("<I", 0xBA55ED50)
_FATBIN_HEADER = struct.Struct("<IHHQ")  # magic, version, header size, payload size
_ENTRY_HEADER = struct.Struct("<HHIQIIHHI")  # kind, ?, header size, size, ..., arch
_KIND_PTX = 1
_KIND_ELF = 2
_FLAG_ARCH_SPECIFIC = 0x100000
_FLAG_FAMILY = 0x200000


@dataclass(frozen=True)
class ArchScan:
    """Architectures found in one file; ``complete`` is false when the deadline hit."""

    arches: tuple[str, ...]
    complete: bool
    fatbins: int


def scan_architectures(path: Path, *, budget_seconds: float = 5.0) -> ArchScan:
    """Read the sm_XX (cubin) and compute_XX (PTX) targets embedded in ``path``.

    Raises :class:`OSError` if the file cannot be read.
    """
    deadline = time.monotonic() + budget_seconds
    found: set[str] = set()
    count = 0
    with path.open("rb") as handle:
        try:
            view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # empty file
            return ArchScan((), True, 0)
        with view:
            region = _elf_section(view, b".nv_fatbin") or (0, len(view))
            pos, end = region[0], region[0] + region[1]
            while pos < end:
                if time.monotonic() > deadline:
                    return ArchScan(sort_architectures(found), False, count)
                pos = view.find(FATBIN_MAGIC, pos, end)
                if pos < 0:
                    break
                next_pos = _read_fatbin(view, pos, end, found)
                if next_pos is None:
                    pos += 4
                    continue
                count += 1
                pos = next_pos
    return ArchScan(sort_architectures(found), True, count)


def sort_architectures(arches: set[str] | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``sm_*`` by number then ``compute_*`` by number, as ``torch.cuda.get_arch_list``."""

    def key(arch: str) -> tuple[int, int, str]:
        kind, _, rest = arch.partition("_")
        digits = "".join(ch for ch in rest if ch in "0123456789")[:9]
        return (0 if kind == "sm" else 1, int(digits or 0), rest)

    return tuple(sorted(set(arches), key=key))


def _read_fatbin(view: mmap.mmap, pos: int, end: int, found: set[str]) -> int | None:
    if pos + _FATBIN_HEADER.size > end:
        return None
    _, version, header_size, payload = _FATBIN_HEADER.unpack_from(view, pos)
    stop: int = pos + header_size + payload
    if version != 1 or header_size < _FATBIN_HEADER.size or stop > end:
        return None
    entry = pos + header_size
    while entry + _ENTRY_HEADER.size <= stop:
        kind, _, entry_header, size, _, _, _, _, arch = _ENTRY_HEADER.unpack_from(view, entry)
        if kind not in (_KIND_PTX, _KIND_ELF) or entry_header < _ENTRY_HEADER.size:
            break
        flags = 0
        if entry_header >= 48:
            (flags,) = struct.unpack_from("<Q", view, entry + 40)
        suffix = "a" if flags & _FLAG_ARCH_SPECIFIC else "f" if flags & _FLAG_FAMILY else ""
        prefix = "sm" if kind == _KIND_ELF else "compute"
        found.add(f"{prefix}_{arch}{suffix}")
        entry += entry_header + size
    return stop


def _elf_section(view: mmap.mmap, wanted: bytes) -> tuple[int, int] | None:
    """(offset, size) of a section of a 64-bit little-endian ELF file, if present."""
    if len(view) < 64 or view[:4] != b"\x7fELF" or view[4] != 2 or view[5] != 1:
        return None
    (shoff,) = struct.unpack_from("<Q", view, 0x28)
    entsize, count, names_index = struct.unpack_from("<HHH", view, 0x3A)
    if not shoff or entsize < 64 or names_index >= count or shoff + count * entsize > len(view):
        return None
    names_header = shoff + names_index * entsize
    names_offset, names_size = struct.unpack_from("<QQ", view, names_header + 0x18)
    for index in range(count):
        header = shoff + index * entsize
        (name_offset,) = struct.unpack_from("<I", view, header)
        start = names_offset + name_offset
        if start >= names_offset + names_size:
            continue
        stop = view.find(b"\x00", start, names_offset + names_size)
        if view[start:stop] == wanted:
            offset, size = struct.unpack_from("<QQ", view, header + 0x18)
            if offset + size <= len(view):
                return offset, size
    return None
