"""Durable file writes (a crash leaves either the old file or the new one, never half of one),
and a walk over a project's own files."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from bulletproof import redaction

# The one walk over a project's tree. Left out: what is not the project's own files but lives in
# its folder: version control, bulletproof's state, caches, and virtual environments (.venv*,
# and any folder holding a pyvenv.cfg, whatever its name). Readers that want only part of the
# tree (code/codeimports.py: the code) prune more below it.
NOT_PROJECT_FILES = frozenset(
    {".git", ".hg", ".svn", ".bulletproof", "__pycache__", ".pytest_cache", ".tox", ".nox"}
)
# Every reader of the tree stops at this many files: a tree larger than this (a vendored one, a
# data set) is not watched, fingerprinted or read file by file.
MAX_PROJECT_FILES = 20000


def walk_project(root: Path) -> Iterator[tuple[Path, list[str], list[str]]]:
    """``os.walk`` of the project's own files, top down, in a stable order: each folder, its
    subfolders (those above left out; a reader prunes more by editing the list in place) and
    its files. It does not stop by itself: each reader counts against MAX_PROJECT_FILES."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not _left_out(Path(folder) / d))
        yield Path(folder), dirs, sorted(files)


def _left_out(path: Path) -> bool:
    name = path.name
    return name in NOT_PROJECT_FILES or name.startswith(".venv") or (path / "pyvenv.cfg").is_file()


def is_build_output(path: Path) -> bool:
    """A folder a build made for this machine: a cache folder by the Cache Directory Tagging
    spec, or cargo's target (its .rustc_info.json names this machine's rustc)."""
    return (path / "CACHEDIR.TAG").is_file() or (path / ".rustc_info.json").is_file()


def build_outputs(root: Path) -> list[Path]:
    """The build output folders in the project's tree (each not looked into), relative."""
    found: list[Path] = []
    seen = 0
    for folder, dirs, files in walk_project(root):
        seen += len(files)
        if seen > MAX_PROJECT_FILES:
            break
        made = [d for d in dirs if is_build_output(folder / d)]
        found += [(folder / d).relative_to(root) for d in made]
        dirs[:] = [d for d in dirs if d not in made]
    return found


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``. The file gets the mode the user's umask gives a new file
    (0644 under 022: the lock and generated files are meant to be shared, and mkstemp's 0600 is
    not); a file replaced keeps the mode it had."""
    fd, tmp = _create_beside(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            with contextlib.suppress(FileNotFoundError):
                if not path.is_symlink():  # a link's target's mode is not the file's
                    os.fchmod(handle.fileno(), stat.S_IMODE(path.stat().st_mode))
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def restore(path: Path, before: bytes | None) -> None:
    """Put back what ``path`` held (``None``: it did not exist), unless it still holds it."""
    if before is None:
        path.unlink(missing_ok=True)
    elif read_or_none(path) != before:
        atomic_write(path, before)


def _create_beside(path: Path) -> tuple[int, Path]:
    """A new temporary file next to ``path``, created exclusively with mode 0666 so that the
    kernel applies the umask (reading the umask would mean setting it, which is not thread-safe)."""
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), tmp
        except FileExistsError:
            continue


def write_text(path: Path, text: str) -> None:
    """The writer for every text bulletproof writes: redacted (no secret the run has seen
    reaches a file), then written atomically."""
    atomic_write(path, redaction.redact(text).encode())


def write_json(
    path: Path, data: object, *, indent: int | None = None, sort_keys: bool = False
) -> None:
    """``data`` as JSON through ``write_text``; its strings are redacted before they are
    serialised, so that a secret holding a quote or a backslash is found as it was seen."""
    text = json.dumps(redaction.redact_data(data), indent=indent, sort_keys=sort_keys)
    write_text(path, text + "\n")
