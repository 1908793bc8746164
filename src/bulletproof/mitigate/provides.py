"""Whether a distribution really provides a module, from its newest wheel for the target: the
wheel is installed alone (no dependencies, no source build) into a scratch folder by uv, with the
same index settings as the lock, and its top-level names are read from what it put there. A
module's name alone is never reason enough to add a distribution of that name."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bulletproof import proc
from bulletproof.errors import ToolError

TIMEOUT = 300.0


def top_level(distribution: str, *, python: Path, cwd: Path) -> frozenset[str] | None:
    """The importable top-level names the distribution's newest wheel for ``python`` ships;
    None when it has no wheel for it (or the index does not have it)."""
    with tempfile.TemporaryDirectory(prefix="bulletproof-provides-") as scratch:
        args = [
            proc.uv_bin(),
            "pip",
            "install",
            "--python",
            str(python),
            "--target",
            scratch,
            "--no-deps",
            "--only-binary",
            ":all:",
            "--quiet",
            distribution,
        ]
        try:
            done = proc.run(args, cwd=cwd, timeout=TIMEOUT)
        except ToolError:
            return None
        if not done.ok:
            return None
        return names_in(Path(scratch))


def names_in(folder: Path) -> frozenset[str]:
    """Top-level modules and packages in an installed tree (its dist-info's top_level.txt too)."""
    names: set[str] = set()
    for entry in folder.iterdir():
        if entry.name.endswith(".dist-info"):
            listed = entry / "top_level.txt"
            if listed.is_file():
                names.update(line.strip() for line in listed.read_text().splitlines())
        elif entry.is_dir():
            if entry.name.isidentifier() and entry.name not in ("bin", "__pycache__"):
                names.add(entry.name)
        elif entry.suffix in (".py", ".so", ".pyd"):
            names.add(entry.name.split(".")[0])
    return frozenset(n for n in names if n and "/" not in n)


def provides(distribution: str, module: str, *, python: Path, cwd: Path) -> bool:
    found = top_level(distribution, python=python, cwd=cwd)
    return found is not None and module.split(".", maxsplit=1)[0] in found
