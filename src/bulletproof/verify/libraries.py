"""The shared libraries an extension module needs (its ELF DT_NEEDED entries, and theirs) that the
dynamic loader cannot find here, asked of the loader itself through ldd."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from bulletproof import proc
from bulletproof.errors import ToolError

_NOT_FOUND = re.compile(r"^\s*(\S+) => not found$", re.MULTILINE)


def unresolved_needed(extension: Path) -> list[str]:
    """The sonames ``extension`` needs that the loader finds nowhere; [] when it cannot tell
    (no ldd on this system, not an ELF file)."""
    if shutil.which("ldd") is None or not extension.is_file():
        return []
    try:
        done = proc.run(["ldd", str(extension)], timeout=60)
    except ToolError:
        return []
    return list(dict.fromkeys(_NOT_FOUND.findall(done.stdout)))
