"""Whether a file with an extension module's name is a Python module, read from its ELF dynamic
symbol table before anything imports it.

A package can ship a plain shared library under a name that ends like an extension
(``_helper.cpython-312-x86_64-linux-gnu.so``, ``libfoo.so``). Importing it fails with "dynamic
module does not define module export function", which is no fault of the environment. A module
exports its init function (PEP 489: ``PyInit_<name>``, ``PyInitU_<punycode>`` for a non-ASCII
name; PEP 793: ``PyModExport_<name>``, ``PyModExportU_<punycode>``); a file that defines none of
them for its name is not one.

Only what is needed is read (the header, the section table, ``.dynsym`` and its string table),
for 32- and 64-bit files of either byte order. Anything else (not ELF, truncated, no section
table) answers None: the file is then imported like any other module, as before.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

_MAGIC = b"\x7fELF"
_SHT_DYNSYM = 11
_SHN_UNDEF = 0
_STB_LOCAL = 0
_MAX_TABLE = 256 * 1024 * 1024  # a symbol or string table larger than this is not read
_PREFIXES = ("PyInit", "PyModExport")


def init_symbols(name: str) -> tuple[str, ...]:
    """The symbols one of which an extension module called ``name`` (its last part) exports."""
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        coded = name.encode("punycode").decode("ascii").replace("-", "_")
        return tuple(f"{p}U_{coded}" for p in _PREFIXES)
    return tuple(f"{p}_{name}" for p in _PREFIXES)


def is_python_module(path: Path, name: str) -> bool | None:
    """True when the shared object at ``path`` exports an init function for ``name``, False when
    its dynamic symbols are readable and it does not, None when they cannot be read."""
    symbols = defined_symbols(path, _PREFIXES)
    if symbols is None:
        return None
    return any(s in symbols for s in init_symbols(name))


def defined_symbols(path: Path, prefixes: tuple[str, ...] = ()) -> frozenset[str] | None:
    """The names ``path`` defines in its dynamic symbol table (those starting with one of
    ``prefixes``, when given); None when the file is not an ELF file this can read."""
    try:
        with path.open("rb") as f:
            return _read(f, tuple(p.encode() for p in prefixes))
    except (OSError, struct.error, ValueError):
        return None


def _read(f: BinaryIO, prefixes: tuple[bytes, ...]) -> frozenset[str] | None:
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
        return None  # no section table (sstrip): not read, the file is imported as before

    def section_header(index: int) -> tuple[int, ...]:
        return section.unpack(chunk(shoff + index * shentsize, section.size))

    if shnum == 0:  # more sections than the header field holds: the count is in section 0
        shnum = section_header(0)[5]
    sections = [section_header(i) for i in range(shnum)]
    # (sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, ...)
    dynsym = next((s for s in sections if s[1] == _SHT_DYNSYM), None)
    if dynsym is None:
        return frozenset()  # an ELF object that exports nothing dynamically
    if dynsym[6] >= len(sections):
        raise ValueError("string table index outside the section table")
    strtab = sections[dynsym[6]]
    strings = chunk(strtab[4], strtab[5])
    symbol = struct.Struct(order + ("IBBHQQ" if wide else "IIIBBH"))
    table = chunk(dynsym[4], dynsym[5])
    found: set[str] = set()
    for offset in range(0, len(table) - symbol.size + 1, symbol.size):
        fields = symbol.unpack_from(table, offset)
        if wide:
            st_name, st_info, _, st_shndx, _, _ = fields
        else:
            st_name, _, _, st_info, _, st_shndx = fields
        if st_shndx == _SHN_UNDEF or st_info >> 4 == _STB_LOCAL or st_name >= len(strings):
            continue
        end = strings.find(b"\0", st_name)
        raw = strings[st_name : end if end >= 0 else len(strings)]
        if not prefixes or raw.startswith(prefixes):
            found.add(raw.decode("utf-8", "replace"))
    return frozenset(found)
