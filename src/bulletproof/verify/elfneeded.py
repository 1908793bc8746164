"""The shared libraries an ELF file asks the loader for (DT_NEEDED) and where it tells the loader
to look first (DT_RPATH / DT_RUNPATH), read from its dynamic section without running anything.

Read as elfsyms.py reads the symbol table: the header, the section table, the dynamic section and
its string table, for 32- and 64-bit files of either byte order. Anything else answers None.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_MAGIC = b"\x7fELF"
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
    size = f.seek(0, 2)

    def chunk(offset: int, length: int) -> bytes:
        if offset < 0 or length < 0 or length > _MAX_TABLE or offset + length > size:
            raise ValueError("outside the file")
        f.seek(offset)
        data = f.read(length)
        if len(data) != length:
            raise ValueError("short read")
        return data

    ident = chunk(0, 16)
    if ident[:4] != _MAGIC or ident[4] not in (1, 2) or ident[5] not in (1, 2):
        return None
    wide = ident[4] == 2
    order = "<" if ident[5] == 1 else ">"
    if wide:
        header = struct.unpack(order + "HHIQQQIHHHHHH", chunk(16, 48))
    else:
        header = struct.unpack(order + "HHIIIIIHHHHHH", chunk(16, 36))
    shoff, shentsize, shnum = header[5], header[10], header[11]
    section = struct.Struct(order + ("IIQQQQIIQQ" if wide else "IIIIIIIIII"))
    if shoff == 0 or shentsize < section.size:
        return None
    if shnum == 0:
        shnum = section.unpack(chunk(shoff, section.size))[5]
    sections = [section.unpack(chunk(shoff + i * shentsize, section.size)) for i in range(shnum)]
    found = next((s for s in sections if s[1] == _SHT_DYNAMIC), None)
    if found is None:
        return Dynamic((), ())  # statically linked, or not a shared object
    if found[6] >= len(sections):
        raise ValueError("string table index outside the section table")
    strtab = sections[found[6]]
    strings = chunk(strtab[4], strtab[5])
    entry = struct.Struct(order + ("qQ" if wide else "iI"))
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
