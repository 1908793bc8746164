"""An ELF file's section table, read in Python with no tool: what elfsyms.py (the dynamic symbols)
and elfneeded.py (the libraries asked for) both start from. 32- and 64-bit files of either byte
order; every read is bounded by the file's size and a largest table."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

_MAGIC = b"\x7fELF"


@dataclass(frozen=True)
class Sections:
    wide: bool  # 64-bit
    order: str  # struct's byte order: "<" or ">"
    # (sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, ...)
    table: tuple[tuple[int, ...], ...]
    chunk: Callable[[int, int], bytes]  # (offset, length) -> bytes, bounded; ValueError outside

    def of_type(self, kind: int) -> tuple[int, ...] | None:
        return next((s for s in self.table if s[1] == kind), None)

    def linked_strings(self, section: tuple[int, ...]) -> bytes:
        """The string table a section links to (sh_link)."""
        if section[6] >= len(self.table):
            raise ValueError("string table index outside the section table")
        strtab = self.table[section[6]]
        return self.chunk(strtab[4], strtab[5])


def read_sections(f: BinaryIO, max_table: int) -> Sections | None:
    """The section table of the ELF file open in ``f``; None when it is not ELF or has none
    (sstrip). Raises ValueError or struct.error for a file that is damaged."""
    size = f.seek(0, 2)

    def chunk(offset: int, length: int) -> bytes:
        if offset < 0 or length < 0 or length > max_table or offset + length > size:
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

    def section_header(index: int) -> tuple[int, ...]:
        return section.unpack(chunk(shoff + index * shentsize, section.size))

    if shnum == 0:  # more sections than the header field holds: the count is in section 0
        shnum = section_header(0)[5]
    table = tuple(section_header(i) for i in range(shnum))
    return Sections(wide, order, table, chunk)
