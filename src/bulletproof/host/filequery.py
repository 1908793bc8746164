"""A question for a distro's file index: which package provides this header, pkg-config module,
library to link, shared object, loosely named library, command, a file of an interpreter's
standard library (``python3.11/lib-dynload/_tkinter.cpython-311-x86_64-linux-gnu.so``), a file
by its whole path (``/usr/share/zq/lattice.xml``: what a build opened and did not find), or a
Rust crate in the system's cargo registry (``pyo3``: what a cargo build could not get)."""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("header", "pkgconfig", "link", "soname", "library", "command", "stdlib", "file", "crate")
LIBDIR = r"(usr/)?lib(64)?/([\w-]+-linux-[\w]+/)?"
# where Debian and Fedora install the crates they package, one folder per crate and version
CRATE_REGISTRY = "usr/share/cargo/registry"


@dataclass(frozen=True)
class Query:
    kind: str
    name: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown file query kind {self.kind!r}")

    @property
    def stem(self) -> str:
        """The name without lib prefix and suffixes: what a package's own name tends to contain."""
        base = self.name.rsplit("/", 1)[-1].lower()
        base = re.sub(r"(\.so[.\d]*|\.h|\.hpp|\.pc|[-_]config)$", "", base)
        return base[3:] if base.startswith("lib") and len(base) > 3 else base

    def path_pattern(self) -> re.Pattern[str]:
        """A pattern over index paths (no leading slash), most specific place first in ranking."""
        name = re.escape(self.name)
        patterns = {
            "header": rf"(usr/)?include/(.+/)?{name}",
            "pkgconfig": rf"usr/(lib/([\w-]+/)?|share/)pkgconfig/{name}\.pc",
            "link": rf"{LIBDIR}lib{name}\.(so|a)",
            "soname": rf"{LIBDIR}{name}",
            "library": rf"{LIBDIR}lib{re.escape(self.stem)}([-.\d]*)\.so(\.\d+)*",
            "command": rf"(usr/)?s?bin/{name}",
            "stdlib": rf"usr/(local/)?lib(64)?/{name}",
            "file": re.escape(self.name.lstrip("/")),  # index paths have no leading slash
            "crate": rf"{CRATE_REGISTRY}/{name}-\d[^/]*/Cargo\.toml",
        }
        flags = re.IGNORECASE if self.kind == "library" else 0
        return re.compile(patterns[self.kind] + r"$", flags)

    def needle(self) -> str:
        """A plain substring every matching line contains: a cheap filter before the pattern."""
        if self.kind == "library":
            return self.stem
        if self.kind in ("link",):
            return f"lib{self.name}."
        if self.kind == "file":
            return self.name.lstrip("/")
        if self.kind == "crate":
            return f"/{self.name}-"
        return self.name + (".pc" if self.kind == "pkgconfig" else "")
