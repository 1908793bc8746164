"""Where the app runs, so that nothing it writes has to be cleaned out of the project.

A scratch copy of the project's own files (no environments, version control or caches), made
in a temporary folder outside it: the app runs there as in the project (its .env, relative
paths, files beside its modules), everything in the copy is ours and is deleted whole. A project
too large to copy cheaply is run in place, and then nothing is deleted: the files that appear in
it while the app runs may be anyone's (an editor's save, another terminal), so they are listed
and left."""

from __future__ import annotations

import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bulletproof.fsutil import MAX_PROJECT_FILES, walk_project

MAX_COPY_FILES = 5000
MAX_COPY_BYTES = 100 * 1024 * 1024

# a project-relative path -> (size, modification time in ns); a folder's size is -1
State = dict[str, tuple[int, int]]


@dataclass(frozen=True)
class Place:
    folder: Path  # the project, or its scratch copy
    copy: Path | None  # the temporary folder holding the copy; None: the app runs in place
    why_in_place: str  # why it was not copied ("" when it was)
    before: State | None  # the project before the app started; None: too large to watch


def state(root: Path) -> State | None:
    """The project's own files and folders; None for a tree too large to watch."""
    found: State = {}
    for folder, dirs, files in walk_project(root):
        for name in [*dirs, *files]:
            path = folder / name
            try:
                st = path.lstat()
            except OSError:  # gone since the folder was listed
                continue
            size = -1 if stat.S_ISDIR(st.st_mode) else st.st_size
            # a link's own time is when it was made, which the copy's cannot keep
            when = 0 if stat.S_ISLNK(st.st_mode) else st.st_mtime_ns
            found[path.relative_to(root).as_posix()] = (size, when)
        if len(found) > MAX_PROJECT_FILES:
            return None
    return found


def prepare(root: Path) -> Place:
    """The copy when the project is small enough, else the project itself."""
    before = state(root)
    if before is None:
        return Place(root, None, f"more than {MAX_PROJECT_FILES} files", None)
    files = [s for s in before.values() if s[0] >= 0]
    size = sum(s[0] for s in files)
    if len(files) > MAX_COPY_FILES or size > MAX_COPY_BYTES:
        why = f"{len(files)} files, {size / 2**20:.1f} MB: too large to copy cheaply"
        return Place(root, None, why, before)
    try:
        scratch = Path(tempfile.mkdtemp(prefix="bulletproof-app-"))
    except OSError as exc:
        return Place(root, None, f"no scratch folder: {exc}", before)
    folder = scratch / root.name  # the same folder name: an app may read its own
    try:
        _copy(root, folder, before)
    except OSError as exc:  # a full disk, an unreadable file: the app runs in place instead
        shutil.rmtree(scratch, ignore_errors=True)
        return Place(root, None, f"it could not be copied: {exc}", before)
    return Place(folder, scratch, "", before)


def _copy(root: Path, folder: Path, files: State) -> None:
    folder.mkdir()
    for rel, (size, _) in files.items():  # a folder is listed before what it holds
        source, target = root / rel, folder / rel
        if source.is_symlink():
            # as a link: a relative one resolves in the copy (an absolute one leaves it, as the
            # developer's own run would)
            target.symlink_to(source.readlink())
        elif size < 0:
            target.mkdir()
        elif source.is_file():  # a socket or fifo is not copied
            shutil.copy2(source, target)  # a copy, never a link: writes must not reach back


def release(place: Place) -> None:
    if place.copy is not None:
        shutil.rmtree(place.copy, ignore_errors=True)


def written(place: Place) -> tuple[str, ...]:
    """The files the app created or changed in its copy (discarded with it)."""
    if place.copy is None or place.before is None:
        return ()
    after = state(place.folder)
    if after is None:
        return ()
    appeared, changed = _changed(place.before, after)
    return tuple(sorted(appeared + changed))


def project_changes(root: Path, before: State | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Files that appeared in the project, and files that changed, while the app ran."""
    after = state(root) if before is not None else None
    if before is None or after is None:
        return (), ()
    return _changed(before, after)


def _changed(before: State, after: State) -> tuple[tuple[str, ...], tuple[str, ...]]:
    appeared = sorted(p for p, s in after.items() if p not in before and s[0] >= 0)
    changed = sorted(p for p, s in after.items() if p in before and s[0] >= 0 and before[p] != s)
    return tuple(appeared), tuple(changed)
