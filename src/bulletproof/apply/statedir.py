"""DIR/.bulletproof: a real folder bulletproof owns, and the only place it deletes anything.

A link there would have setup delete and write wherever it points, and a folder of the same name
the user keeps for something else would have its files pruned, so the folder is checked once,
before the run lock is taken inside it: a link, a file or a folder holding names bulletproof
never makes is refused. A folder bulletproof made carries a small marker file; one an older
bulletproof made (no marker) is recognised by its names and marked.
"""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path

from bulletproof.errors import InputError

OWNER_MARK = "bulletproof-state"
_MARK_TEXT = "This folder is bulletproof's own state (environments, run lock); it may be deleted.\n"
# every name bulletproof makes in the folder: generations/trash/run.lock (apply/generations.py),
# lock-* (the resolver's scratch, lockfile/lock.py), attempts.json (generate/troubleshooting.py),
# app-server.json (prove/applife.py), last-report.json (report/lastreport.py), and the
# temporary file atomic_write leaves beside a file when killed mid-write
_FILES = (OWNER_MARK, "run.lock", "attempts.json", "app-server.json", "last-report.json")
_OURS = ("generations", "trash", "lock-*", *_FILES, *(f".{name}.*.tmp" for name in _FILES))


def open_state(state: Path) -> bool:
    """Make sure ``state`` is a folder of ours, creating and marking it when absent; True when
    this call created it (the caller may then remove it again on failure)."""
    if state.is_symlink():
        raise InputError(
            f"{state} is a link to {state.readlink()}; bulletproof keeps its state only in a "
            "real folder of its own and does not follow it",
            hint=f"remove the link {state} (what it points to is left as it is) and run again",
        )
    created = False
    try:
        state.mkdir()
        created = True
    except FileExistsError:
        if not state.is_dir():
            raise InputError(
                f"{state} is a file, where bulletproof keeps its state folder",
                hint=f"move {state} aside and run again",
            ) from None
    if not (state / OWNER_MARK).is_file():
        foreign = sorted(p.name for p in state.iterdir() if not _is_ours(p.name))
        if foreign:
            raise InputError(
                f"{state} holds files bulletproof did not make ({', '.join(foreign[:5])}): it is "
                "not bulletproof's state folder, and nothing in it is touched",
                hint=f"move {state} aside (or those files out of it) and run again",
            )
        (state / OWNER_MARK).write_text(_MARK_TEXT)
    for name in ("generations", "trash"):  # what is deleted in, never through a link
        if (state / name).is_symlink():
            raise InputError(
                f"{state / name} is a link; bulletproof deletes old environments in there and "
                "does not follow it",
                hint=f"remove the link {state / name} (what it points to is left as it is)",
            )
    return created


def _is_ours(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in _OURS)


def inside(state: Path, path: Path) -> Path:
    """``path`` with its folder resolved, when that lies inside the real ``state`` folder (links
    on the way followed, the last name not); anything else is a bug, and nothing is deleted."""
    real = state.resolve()
    parent = path.parent.resolve()
    if path.name in ("", ".", "..") or (parent != real and real not in parent.parents):
        raise RuntimeError(f"refusing to delete {path}: it is not inside {real}")
    return parent / path.name


def remove(state: Path, path: Path) -> None:
    """Delete ``path`` (a file, a link or a folder) only when it lies inside the real ``state``
    folder; a link is removed itself, never followed."""
    target = inside(state, path)
    if target.is_symlink() or not target.is_dir():
        target.unlink(missing_ok=True)
    else:
        # rmtree removes links inside a tree without following them
        shutil.rmtree(target, ignore_errors=True)
