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

from bulletproof.verify.elffile import read_sections

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
    elf = read_sections(f, _MAX_TABLE)
    if elf is None:
        return None  # not ELF, or no section table (sstrip): imported as before
    dynsym = elf.of_type(_SHT_DYNSYM)
    if dynsym is None:
        return frozenset()  # an ELF object that exports nothing dynamically
    strings = elf.linked_strings(dynsym)
    wide, order, chunk = elf.wide, elf.order, elf.chunk
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
