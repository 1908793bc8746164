"""The shared libraries an ELF file asks the loader for (DT_NEEDED) and where it tells the loader
to look first (DT_RPATH / DT_RUNPATH), read from its dynamic section without running anything.

Read from the section table (elffile.py): the dynamic section and its string table, for 32- and
64-bit files of either byte order. Anything else answers None.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bulletproof.verify.elffile import read_sections

_SHT_DYNAMIC = 6
_DT_NULL, _DT_NEEDED, _DT_RPATH, _DT_RUNPATH = 0, 1, 15, 29
_MAX_TABLE = 64 * 1024 * 1024


@dataclass(frozen=True)
class Dynamic:
    needed: tuple[str, ...]  # sonames, in the file's order
    search: tuple[str, ...]  # RPATH and RUNPATH entries as written ($ORIGIN not expanded)


def dynamic(path: Path) -> Dynamic | None:
    """What ``path`` needs from the loader; None when it is not an ELF file this can read."""
    try:
        with path.open("rb") as f:
            return _read(f)
    except (OSError, struct.error, ValueError):
        return None


def _read(f: BinaryIO) -> Dynamic | None:
    elf = read_sections(f, _MAX_TABLE)
    if elf is None:
        return None
    found = elf.of_type(_SHT_DYNAMIC)
    if found is None:
        return Dynamic((), ())  # statically linked, or not a shared object
    strings = elf.linked_strings(found)
    order, chunk = elf.order, elf.chunk
    entry = struct.Struct(order + ("qQ" if elf.wide else "iI"))
    table = chunk(found[4], found[5])
    needed: list[str] = []
    search: list[str] = []
    for offset in range(0, len(table) - entry.size + 1, entry.size):
        tag, value = entry.unpack_from(table, offset)
        if tag == _DT_NULL:
            break
        if tag in (_DT_NEEDED, _DT_RPATH, _DT_RUNPATH) and value < len(strings):
            end = strings.find(b"\0", value)
            text = strings[value : end if end >= 0 else len(strings)].decode("utf-8", "replace")
            if tag == _DT_NEEDED:
                needed.append(text)
            else:
                search += [p for p in text.split(":") if p]
    return Dynamic(tuple(needed), tuple(search))
