"""System dependencies: what the locked packages need from the system, and what is missing.

Needs come as PEP 725 identifiers from three places: an sdist's own [external] table, the
project's knowledge of popular packages (knowledge/packages.toml) and what an sdist's sources
call for (a C file needs a C compiler and the interpreter's headers). Each identifier is first
probed directly (does a compiler compile?), then mapped to this distro's packages and queried.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bulletproof import proc
from bulletproof.analyze.values import SystemPlan
from bulletproof.errors import ToolError
from bulletproof.host import pkgmgr
from bulletproof.host.values import Interpreter
from bulletproof.knowledge.mappings import DistroMapping

PYTHON_HEADERS = "dep:generic/python"  # the target interpreter's own headers (Python.h)
COMPILER = "dep:virtual/compiler/"
_PROBE_SOURCES = {"c": ("cc", "#include <stdio.h>\nint main(void){return 0;}\n", "c")}
_PROBE_SOURCES["cxx"] = ("c++", "#include <cstdio>\nint main(){return 0;}\n", "c++")


@dataclass(frozen=True)
class Need:
    identifier: str
    role: str  # PEP 804 spec key: "build", "host" or "run"
    package: str  # the locked distribution that needs it
    why: str


@dataclass(frozen=True)
class Status:
    """Where one (identifier, role) stands on this host."""

    present: bool
    packages: tuple[str, ...] = ()  # the distro packages that provide it
    missing: tuple[str, ...] = ()  # of those, not installed (and available)
    unavailable: tuple[str, ...] = ()  # of those, this release does not have
    unknown: bool = False  # no mapping for it here: no package to name
    absent: bool = False  # a direct probe found it missing (not just unknown)

    @property
    def blocked(self) -> bool:
        return bool(self.unavailable) or (self.unknown and self.absent)


def probe(identifier: str, interpreter: Interpreter) -> bool | None:
    """Check an identifier on the host directly; None when it can only be asked of packages."""
    if identifier == PYTHON_HEADERS:
        return interpreter.has_headers
    if identifier.startswith(COMPILER):
        language = identifier.removeprefix(COMPILER).split("@")[0]
        if language == "rust":
            return shutil.which("cargo") is not None and shutil.which("rustc") is not None
        if language in _PROBE_SOURCES:
            return _compiles(*_PROBE_SOURCES[language])
        return None
    if identifier.split("@", maxsplit=1)[0] == "dep:generic/pkg-config":
        return shutil.which("pkg-config") is not None or shutil.which("pkgconf") is not None
    return None


def _compiles(command: str, source: str, language: str) -> bool:
    """A compiler on PATH is not enough: without the C library headers it cannot build."""
    if shutil.which(command) is None:
        return False
    with tempfile.TemporaryDirectory(prefix="bulletproof-cc-") as tmp:
        try:
            done = proc.run(
                [command, "-x", language, "-", "-o", str(Path(tmp) / "probe")],
                stdin=source,
                timeout=60,
            )
        except ToolError:
            return False
    return done.ok


def mapped(
    identifier: str, role: str, mapping: DistroMapping, minor: str
) -> tuple[str, ...] | None:
    if identifier == PYTHON_HEADERS:
        template = mapping.python_headers
        return (template.format(minor=minor),) if template else None
    names = mapping.packages(identifier, role)
    return names or None


def assess(
    needs: Iterable[Need], mapping: DistroMapping | None, interpreter: Interpreter
) -> tuple[dict[tuple[str, str], Status], SystemPlan]:
    """Where each need stands, and the plan that installs what is missing."""
    keys = list(dict.fromkeys((n.identifier, n.role) for n in needs))
    probed = {key: probe(key[0], interpreter) for key in keys}
    wanted: dict[tuple[str, str], tuple[str, ...] | None] = {}
    for key in keys:
        wanted[key] = (
            None if probed[key] else (mapped(*key, mapping, interpreter.minor) if mapping else None)
        )
    names = tuple(dict.fromkeys(n for v in wanted.values() if v for n in v))
    have = pkgmgr.installed(mapping.manager, names) if mapping else frozenset()
    absent = tuple(n for n in names if n not in have)
    gone = (pkgmgr.unavailable(mapping.manager, absent) if mapping else None) or frozenset()
    statuses: dict[tuple[str, str], Status] = {}
    for key in keys:
        packages = wanted[key]
        if probed[key]:
            statuses[key] = Status(present=True)
        elif packages is None:
            statuses[key] = Status(present=False, unknown=True, absent=probed[key] is False)
        else:
            missing = tuple(n for n in packages if n not in have and n not in gone)
            lost = tuple(n for n in packages if n in gone)
            statuses[key] = Status(not missing and not lost, packages, missing, lost)
    missing_all = tuple(n for n in absent if n not in gone)
    plan = SystemPlan(
        ecosystem=mapping.ecosystem if mapping else None,
        manager=mapping.manager.name if mapping else None,
        needed=names,
        missing=missing_all,
        commands=pkgmgr.install_commands(mapping.manager, missing_all) if mapping else (),
    )
    return statuses, plan
