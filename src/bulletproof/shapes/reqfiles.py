"""Which pip requirement files make the developer environment, and why.

Candidates are ``requirements*.txt``, ``*-requirements.txt`` / ``*_requirements.txt`` at the top
and ``*.txt`` in a ``requirements/`` folder. A file that another candidate includes (``-r``) is
part of that one; of the files nothing includes, the base file and the dev/test ones are used,
and variants that exclude each other (a minimum-versions, a Windows-only, a Python 2 or a docs
file) are left out and named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bulletproof.requirements import parse_file

BASE_STEMS = frozenset(
    {
        "requirements",
        "base",
        "main",
        "prod",
        "production",
        "common",
        "install",
        "runtime",
        "default",
        "core",
    }
)
DEV_WORDS = frozenset(
    {
        "dev",
        "develop",
        "developer",
        "developers",
        "development",
        "contributing",
        "test",
        "tests",
        "testing",
        "lint",
        "ci",
        "check",
        "all",
    }
)
VARIANT_WORDS = frozenset(
    {
        "min",
        "minimum",
        "minimal",
        "lowest",
        "oldest",
        "pinned-min",
        "win",
        "windows",
        "win32",
        "macos",
        "osx",
        "darwin",
        "py2",
        "py27",
        "python2",
        "legacy",
        "docs",
        "doc",
        "spelling",
        "rtd",
        "readthedocs",
        "bot",
    }
)


@dataclass(frozen=True)
class Choice:
    files: tuple[Path, ...]  # the chosen files and every file they include, in order
    used: tuple[str, ...]  # why each chosen top file was used
    skipped: tuple[str, ...]  # why each other top file was not
    notes: tuple[str, ...] = ()  # pip options in the chosen files that uv ignores


def _candidates(root: Path) -> list[Path]:
    found = set(root.glob("requirements*.txt")) | set(root.glob("*[-_]requirements.txt"))
    for folder in ("requirements", "reqs", "requirements.d"):
        found |= set((root / folder).glob("*.txt"))
    return sorted(p for p in found if p.is_file())


def _words(path: Path) -> set[str]:
    stem = path.stem.lower()
    return set(re.split(r"[-_.]+", stem)) - {"requirements", "requirement", "reqs"}


def choose(root: Path, *, dev: bool) -> Choice:
    candidates = _candidates(root)
    includes: dict[Path, list[Path]] = {}
    for path in candidates:
        includes[path] = list(parse_file(path, root, set()).files[1:])
    included = {p.resolve() for files in includes.values() for p in files}
    tops = [p for p in candidates if p.resolve() not in included]
    used: list[str] = []
    skipped: list[str] = []
    chosen: list[Path] = []
    for path in tops:
        shown = str(path.relative_to(root))
        words = _words(path)
        variant = sorted(words & VARIANT_WORDS)
        if variant:
            skipped.append(f"{shown}: a variant ({variant[0]}), not merged")
        elif path.stem.lower() in BASE_STEMS or not words or words <= BASE_STEMS:
            chosen.append(path)
            used.append(f"{shown}: the base requirements")
        elif words & DEV_WORDS:
            if dev:
                chosen.append(path)
                used.append(f"{shown}: developer requirements")
            else:
                skipped.append(f"{shown}: developer requirements (--no-dev)")
        else:
            skipped.append(f"{shown}: neither the base nor a dev/test file")
    files: list[Path] = []
    notes: list[str] = []
    seen: set[Path] = set()
    for path in chosen:
        found = parse_file(path, root, seen)
        files += found.files
        notes += found.notes
    return Choice(tuple(files), tuple(used), tuple(skipped), tuple(notes))
