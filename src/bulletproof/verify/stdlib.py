"""The standard library of the target interpreter, asked of the interpreter itself: its module
names (``sys.stdlib_module_names`` from 3.10; before that its own folders and the modules a build
may leave out), where its files live, and the suffix of its extension modules. A module named
there is never looked for on the package index: a system package or another build brings it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bulletproof import proc
from bulletproof.errors import ToolError

TIMEOUT = 60.0

# Modules a CPython build leaves out when a library is missing at build time, or that a distro
# splits into packages of their own: what a pre-3.10 interpreter's folders may not show.
OPTIONAL_MODULES = frozenset(
    [
        "_bz2",
        "_ctypes",
        "_curses",
        "_curses_panel",
        "_dbm",
        "_decimal",
        "_gdbm",
        "_hashlib",
        "_lzma",
        "_sqlite3",
        "_ssl",
        "_tkinter",
        "_uuid",
        "bz2",
        "ctypes",
        "curses",
        "dbm",
        "distutils",
        "ensurepip",
        "idlelib",
        "lib2to3",
        "lzma",
        "readline",
        "sqlite3",
        "ssl",
        "tkinter",
        "turtle",
        "turtledemo",
        "venv",
        "zlib",
    ]
)

_ASK = r"""
import json, os, sys, sysconfig
names = getattr(sys, "stdlib_module_names", None)
stdlib = sysconfig.get_paths()["stdlib"]
if names is None:
    names = set(sys.builtin_module_names)
    for folder in (stdlib, os.path.join(stdlib, "lib-dynload")):
        for entry in os.listdir(folder) if os.path.isdir(folder) else ():
            if entry != "site-packages" and not entry.startswith("."):
                names.add(entry.split(".")[0])
print(json.dumps({
    "names": sorted(names),
    "exact": hasattr(sys, "stdlib_module_names"),
    "stdlib": stdlib,
    "suffix": sysconfig.get_config_var("EXT_SUFFIX") or ".so",
}))
"""


@dataclass(frozen=True)
class Stdlib:
    names: frozenset[str]
    folder: Path  # the interpreter's standard library (/usr/lib/python3.11)
    suffix: str  # of its extension modules (.cpython-311-x86_64-linux-gnu.so)

    def __contains__(self, module: object) -> bool:
        return isinstance(module, str) and module.split(".")[0] in self.names

    def system_owned(self) -> bool:
        """The distro's own interpreter: a system package can bring what it lacks."""
        return self.folder.parts[:3] == ("/", "usr", "lib")

    def files(self, module: str) -> list[str]:
        """Where the module would be, relative to the library folder's parent, as a file index
        names it: the package's folder, a module file, an extension in lib-dynload."""
        top = module.split(".", maxsplit=1)[0]
        base = self.folder.name  # python3.11
        return [
            f"{base}/{top}/__init__.py",
            f"{base}/{top}.py",
            f"{base}/lib-dynload/{top}{self.suffix}",
        ]


def ask(python: Path) -> Stdlib | None:
    """The interpreter's standard library; None when it cannot be asked."""
    try:
        done = proc.run([str(python), "-I", "-c", _ASK], timeout=TIMEOUT)
    except ToolError:
        return None
    if not done.ok:
        return None
    try:
        raw = json.loads(done.stdout)
        names = frozenset(str(n) for n in raw["names"])
        exact = bool(raw["exact"])
        folder, suffix = Path(str(raw["stdlib"])), str(raw["suffix"])
    except (ValueError, KeyError, TypeError):
        return None
    return Stdlib(names if exact else names | OPTIONAL_MODULES, folder, suffix)
