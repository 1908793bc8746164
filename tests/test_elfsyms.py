"""The ELF dynamic symbol reader: real libraries compiled here, and hand-built 32-bit and
big-endian files (no cross compiler here)."""

import struct
import subprocess
from pathlib import Path

import pytest

from bulletproof.verify.elfsyms import defined_symbols, init_symbols, is_python_module


def _compile(tmp_path: Path, source: str, name: str) -> Path:
    c = tmp_path / f"{name}.c"
    c.write_text(source)
    out = tmp_path / f"{name}.cpython-312-x86_64-linux-gnu.so"
    subprocess.run(["cc", "-shared", "-fPIC", str(c), "-o", str(out)], check=True)
    return out


def test_a_compiled_extension_exports_its_init_and_a_plain_library_does_not(
    tmp_path: Path,
) -> None:
    module = _compile(tmp_path, "void *PyInit_fast(void) { return 0; }\n", "fast")
    library = _compile(tmp_path, "int helper_add(int a, int b) { return a + b; }\n", "helper")
    assert "PyInit_fast" in (defined_symbols(module) or ())
    assert is_python_module(module, "fast") is True
    assert is_python_module(module, "other") is False  # the init of another name is not its own
    assert "helper_add" in (defined_symbols(library) or ())
    assert is_python_module(library, "helper") is False


def test_undefined_references_are_not_exports(tmp_path: Path) -> None:
    # a library that calls PyInit_x (defined elsewhere) does not export it
    calls = "extern void *PyInit_x(void);\nvoid *get(void) { return PyInit_x(); }\n"
    library = _compile(tmp_path, calls, "x")
    assert is_python_module(library, "x") is False


def test_what_is_not_elf_or_is_cut_short_is_unknown(tmp_path: Path) -> None:
    text = tmp_path / "notes.so"
    text.write_text("not a shared object\n")
    assert defined_symbols(text) is None and is_python_module(text, "notes") is None
    assert is_python_module(tmp_path / "gone.so", "gone") is None
    real = _compile(tmp_path, "void *PyInit_cut(void) { return 0; }\n", "cut")
    cut = tmp_path / "cut.so"
    cut.write_bytes(real.read_bytes()[:200])
    assert is_python_module(cut, "cut") is None


def test_non_ascii_names_use_the_punycode_hook() -> None:
    assert init_symbols("fast") == ("PyInit_fast", "PyModExport_fast")
    assert init_symbols("lančmít")[0] == "PyInitU_lanmt_2sa6t"  # PEP 489's own example


def _elf(*, wide: bool, big: bool, symbols: list[tuple[str, bool]]) -> bytes:
    """A minimal ELF shared object: sections null, .dynstr, .dynsym; (name, defined) symbols."""
    order = ">" if big else "<"
    strings = b"\0" + b"".join(n.encode() + b"\0" for n, _ in symbols)
    sym = struct.Struct(order + ("IBBHQQ" if wide else "IIIBBH"))
    table = bytearray(sym.size)  # the null symbol
    at = 1
    for name, defined in symbols:
        info, shndx = 0x12, 7 if defined else 0  # global function
        fields = (at, info, 0, shndx, 0, 0) if wide else (at, 0, 0, info, 0, shndx)
        table += sym.pack(*fields)
        at += len(name) + 1
    head = 64 if wide else 52
    strings_at, table_at = head, head + len(strings)
    sections_at = table_at + len(table)
    section = struct.Struct(order + ("IIQQQQIIQQ" if wide else "IIIIIIIIII"))
    sections = section.pack(*[0] * 10)
    sections += section.pack(0, 3, 0, 0, strings_at, len(strings), 0, 0, 1, 0)
    sections += section.pack(0, 11, 0, 0, table_at, len(table), 1, 1, 8, sym.size)
    ident = b"\x7fELF" + bytes([2 if wide else 1, 2 if big else 1, 1]) + bytes(9)
    header_fields = (3, 62, 1, 0, 0, sections_at, 0, head, 0, 0, section.size, 3, 0)
    header = struct.pack(order + ("HHIQQQIHHHHHH" if wide else "HHIIIIIHHHHHH"), *header_fields)
    return ident + header + strings + bytes(table) + sections


@pytest.mark.parametrize("wide", [True, False], ids=["64-bit", "32-bit"])
@pytest.mark.parametrize("big", [False, True], ids=["little-endian", "big-endian"])
def test_every_class_and_byte_order(tmp_path: Path, wide: bool, big: bool) -> None:
    path = tmp_path / "lib.so"
    path.write_bytes(
        _elf(wide=wide, big=big, symbols=[("PyInit_mod", True), ("PyInit_ext", False)])
    )
    assert defined_symbols(path) == frozenset({"PyInit_mod"})
    assert is_python_module(path, "mod") is True
    assert is_python_module(path, "ext") is False
