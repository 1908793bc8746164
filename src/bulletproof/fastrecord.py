"""The record a plain `setup` or `verify` leaves for the next identical request (``fastpath``).

Written only by a run that ended verified or usable (exit 0 or 4), asked with no option but -q,
and during which nothing it depends on changed: a file whose inode changed after the run began
(the run itself switched, locked again, re-verified, or someone edited a file meanwhile) means
no record, so the next run takes the full path and records what it finds then. What it depends
on, by stat: the project's input files (requirements, pyproject, the team's lock...), its
Python files and every folder they are found in, the lock, the ``.venv`` link and the
generation's marker, verified cache and interpreter, every folder of the installed tree and
every RECORD, the uv binary, uv's and pip's user configuration, netrc, and the tool's own code.
An installed file edited in place (same folder, no reinstall) is not seen here: ``--full`` is
the answer to that, as it was with the verification cache.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import bulletproof
from bulletproof import fastpath
from bulletproof.apply.generations import MARKER
from bulletproof.fsutil import write_json
from bulletproof.host.pkgmgr import SYSTEM_RECORDS
from bulletproof.lockfile.lock import LOCK_NAME
from bulletproof.proc import uv_bin
from bulletproof.project import discover
from bulletproof.verify.cache import CACHE_NAME
from bulletproof.verify.context import import_context
from bulletproof.verify.distributions import site_packages_dirs

RECORDED_CODES = (0, 4)  # verified, usable
# the kernel stamps files from a clock that can lag the one read at the start by a tick
_MARGIN_NS = 20_000_000
_MAX_PATHS = 20_000  # a tree larger than this is checked the full way every time
_USER_CONFIG = (
    "~/.config/uv/uv.toml",
    "/etc/uv/uv.toml",
    "~/.config/pip/pip.conf",
    "~/.pip/pip.conf",
    "/etc/pip.conf",
    "~/.netrc",
)
_NOT_CODE = frozenset({"node_modules", "__pycache__", "site-packages"})


def remember(asked: fastpath.Request, code: int, printed: str) -> bool:
    """Leave the record of this run when it may answer the next identical request; True when
    written. Never raises: the record only spares work."""
    if asked.plain is None or code not in RECORDED_CODES:
        return False
    command, directory, _ = asked.plain
    since_ns = asked.since_ns
    text, _, closing = printed.rstrip("\n").rpartition("\n")
    target = fastpath.record_path(directory, command)
    if target is None:  # DIR/.venv is not a generation's link: nothing of ours to answer for
        return False
    try:
        paths = list(_depends_on(Path(directory)))
        if not paths or len(paths) > _MAX_PATHS:
            return False
        stats = {p: fastpath.signature(p) for p in dict.fromkeys(paths)}
        if any(_changed_since(p, since_ns) for p in stats):
            return False
        write_json(
            target,
            {
                "key": asked.key,
                "code": code,
                "text": text + "\n" if text else "",
                "closing": closing,
                "stats": list(stats.items()),
            },
        )
    except Exception:  # noqa: BLE001  (an optimisation never changes how a run ends)
        return False
    return True


def _changed_since(path: str, since_ns: int) -> bool:
    try:
        return os.lstat(path).st_ctime_ns >= since_ns - _MARGIN_NS
    except OSError:
        return False  # absent then and now: its signature says so


def _depends_on(directory: Path) -> Iterator[str]:
    root = directory.absolute()
    venv = root / fastpath.VENV_NAME
    gen = venv.resolve()
    yield from map(str, (root, venv, root / LOCK_NAME, gen / MARKER, gen / CACHE_NAME))
    yield from map(str, (gen / "pyvenv.cfg", (gen / "bin" / "python").resolve()))
    # the default selection's files: no fewer than any other's (extras and groups are tables of
    # a file it reads already), and every file beside them for what it would not name
    project = discover(directory)
    yield from (str(p) for p in root.iterdir() if not p.is_dir())
    for path in (*project.hashed_files, *import_context(root, project.source_roots, {}).files):
        yield from (str(path), str(path.parent))
    yield from _code(root)
    for site in site_packages_dirs(gen):
        yield from _installed(site)
    yield str(gen / "bin")
    yield str(Path(uv_bin()).resolve())
    yield from (str(Path(p).expanduser()) for p in _USER_CONFIG)
    yield from SYSTEM_RECORDS  # a library an extension found may be gone
    yield from _code(Path(bulletproof.__file__).parent, every_file=True)


def _code(top: Path, *, every_file: bool = False) -> Iterator[str]:
    """Every folder under ``top`` the verification reads code from (hidden ones, venvs and
    toolchain folders left out) and the Python files in them: a file added, removed, renamed
    or edited anywhere there changes a stat recorded here."""
    stack = [top]
    while stack:
        folder = stack.pop()
        yield str(folder)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                hidden = entry.name.startswith(".") or entry.name in _NOT_CODE
                if not hidden and not (Path(entry.path) / "pyvenv.cfg").exists():
                    stack.append(Path(entry.path))
            elif every_file or entry.name.endswith(".py"):
                yield entry.path


def _installed(site: Path) -> Iterator[str]:
    """Every folder of the installed tree (a file added, removed or renamed changes one) and
    every RECORD (an install or uninstall rewrites one)."""
    for folder, dirs, _ in os.walk(site):
        yield folder
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        if folder.endswith(".dist-info"):
            yield f"{folder}/RECORD"
