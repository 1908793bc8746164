"""Generation directories under DIR/.bulletproof/ and the DIR/.venv symlink that points at one.

A generation is built through its real path, marked complete only after it is verified, and only
then made current by renaming a fresh symlink over DIR/.venv (rename is atomic). A kill at any
moment leaves DIR/.venv pointing at a complete generation; the next run clears what was half built.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulletproof.apply.statedir import inside, open_state, remove
from bulletproof.errors import Busy, InputError, NothingToRollBack
from bulletproof.fsutil import atomic_write, fsync_dir

STATE_DIR = ".bulletproof"
VENV_NAME = ".venv"
MARKER = "bulletproof-generation.json"  # inside a generation: present only once it is verified
_PREFIX = "gen-"
_SWITCH_LINK = re.compile(re.escape(VENV_NAME) + r"\.tmp-\d+(-[0-9a-f]{8})?")


@dataclass(frozen=True)
class Generation:
    path: Path

    @property
    def number(self) -> int:
        return int(self.path.name.removeprefix(_PREFIX))

    @property
    def complete(self) -> bool:
        return (self.path / MARKER).is_file()

    def meta(self) -> dict[str, Any]:
        try:
            data = json.loads((self.path / MARKER).read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class RolledBack:
    generation: Generation
    moved: str | None  # what was said when a foreign DIR/.venv was moved aside


class Store:
    """The generations of one project folder."""

    def __init__(self, project_dir: Path):
        self.root = project_dir
        self.state = project_dir / STATE_DIR
        self.generations_dir = self.state / "generations"
        self.trash = self.state / "trash"
        self.venv = project_dir / VENV_NAME

    def generations(self) -> list[Generation]:
        if not self.generations_dir.is_dir():
            return []
        found = [
            Generation(p)
            for p in self.generations_dir.iterdir()
            if p.name.startswith(_PREFIX) and p.name.removeprefix(_PREFIX).isdigit()
        ]
        return sorted(found, key=lambda g: g.number)

    def current(self) -> Generation | None:
        """The generation DIR/.venv points at, if it is one of ours."""
        if not self.venv.is_symlink():
            return None
        target = (self.venv.parent / self.venv.readlink()).resolve()
        if target.parent != self.generations_dir.resolve() or not target.name.startswith(_PREFIX):
            return None
        return Generation(self.generations_dir / target.name)

    @contextmanager
    def locked(self, wait: float, on_wait: Callable[[], None]) -> Iterator[None]:
        """Hold the project's run lock; wait up to ``wait`` seconds for another run to finish.

        The state folder is checked (statedir.open_state) before anything is written in it. When
        this run created it and ends on the user's input (no earlier environment, requirements
        that do not resolve), it is removed again: a failed run leaves the project as it was.
        """
        deadline = time.monotonic() + wait
        told = False
        while True:
            created = open_state(self.state)
            handle = (self.state / "run.lock").open("a")
            try:
                while True:
                    try:
                        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            raise Busy(
                                f"another bulletproof run is working on {self.root}",
                                hint="wait for it to finish, or raise --lock-timeout",
                            ) from None
                        if not told:
                            on_wait()
                            told = True
                        time.sleep(0.2)
            except BaseException:
                handle.close()
                raise
            if _same_file(handle.fileno(), self.state / "run.lock"):
                break
            handle.close()  # the run before removed the folder it had made: open it anew
        with handle:
            try:
                yield
            except InputError:
                if created:
                    remove(self.root, self.state)
                raise
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def clear_unfinished(self) -> list[str]:
        """Remove half-built generations and leftovers of interrupted removals; say what went."""
        current = self.current()
        removed = []
        for gen in self.generations():
            if not gen.complete and gen != current:
                self.discard(gen)
                removed.append(gen.path.name)
        for leftover in self.root.glob(f"{VENV_NAME}.tmp-*"):
            if self._our_switch_link(leftover):
                leftover.unlink()
        # the resolver's scratch folders (lockfile/lock.py) are made only under the run lock we
        # hold, so any still here were left by a killed run
        for doomed in (self.trash, *self.state.glob("lock-*")):
            if doomed.exists() or doomed.is_symlink():
                remove(self.state, doomed)
        return removed

    def discard(self, gen: Generation) -> None:
        """Move a generation out of the way in one rename, then delete it.

        The rename makes removal atomic as seen by later runs: a half-deleted directory is never
        taken for a generation.
        """
        self.trash.mkdir(parents=True, exist_ok=True)
        doomed = self.trash / f"{gen.path.name}-{os.getpid()}-{time.monotonic_ns()}"
        if gen.path.is_symlink():  # not one we made: the link goes, never what it points to
            remove(self.state, gen.path)
        else:
            inside(self.state, gen.path).rename(inside(self.state, doomed))
            remove(self.state, doomed)
        with contextlib.suppress(OSError):  # another removal may still be under way in it
            self.trash.rmdir()

    def new_generation(self) -> Generation:
        self.generations_dir.mkdir(parents=True, exist_ok=True)
        number = max((g.number for g in self.generations()), default=0) + 1
        path = self.generations_dir / f"{_PREFIX}{number:04d}"
        path.mkdir()
        return Generation(path)

    def mark_complete(self, gen: Generation, meta: dict[str, Any]) -> None:
        atomic_write(gen.path / MARKER, json.dumps(meta, indent=2, sort_keys=True).encode())

    def switch(self, gen: Generation) -> str | None:
        """Make ``gen`` current. Returns a message when a foreign DIR/.venv was moved aside."""
        moved = None
        foreign = (self.venv.exists() or self.venv.is_symlink()) and self.current() is None
        if foreign:
            aside = self._move_aside()
            moved = (
                f"{self.venv.name} was not made by bulletproof; moved it to {aside.name} "
                "(not deleted)"
            )
        # a name no user file has: symlink_to fails rather than replace one that exists
        tmp = self.root / f"{VENV_NAME}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        tmp.symlink_to(gen.path.relative_to(self.root))
        tmp.replace(self.venv)
        fsync_dir(self.root)
        return moved

    def _our_switch_link(self, path: Path) -> bool:
        """A temporary link a killed switch left: our name, pointing at one of our generations
        (a user's file that merely matches the name is left alone)."""
        if not path.is_symlink() or not _SWITCH_LINK.fullmatch(path.name):
            return False
        target = path.readlink()
        prefix = Path(STATE_DIR) / "generations"
        return target.parent == prefix and target.name.startswith(_PREFIX)

    def _move_aside(self) -> Path:
        """Rename the foreign DIR/.venv to a name no earlier move took: the name is reserved
        by an exclusive create (a folder is renamed over the empty folder made for it, a file
        or a link is hard-linked, which fails on an existing name), so nothing is overwritten."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for n in itertools.count(1):
            aside = self.root / (f"{VENV_NAME}.moved-{stamp}" + (f"-{n}" if n > 1 else ""))
            try:
                if self.venv.is_dir() and not self.venv.is_symlink():
                    aside.mkdir()
                    self.venv.rename(aside)  # over the empty folder just made, never another
                else:
                    os.link(self.venv, aside, follow_symlinks=False)
                    self.venv.unlink()
            except FileExistsError:
                continue
            return aside
        raise AssertionError("unreachable")

    def prune(self, keep: int = 2) -> None:
        """Keep the current generation and the newest complete one before it (for rollback)."""
        current = self.current()
        complete = [g for g in self.generations() if g.complete and g != current]
        for gen in complete[: max(0, len(complete) - (keep - 1))]:
            self.discard(gen)

    def rollback(self, to: str | None = None) -> RolledBack:
        """Switch to the newest complete generation before the current one, or to the one
        named ``to`` (an incomplete setup leaves its generation for this)."""
        current = self.current()
        if to is not None:
            named = [g for g in self.generations() if g.complete and g.path.name == to]
            if not named:
                have = ", ".join(g.path.name for g in self.generations() if g.complete)
                raise NothingToRollBack(
                    f"no complete environment named {to} in {self.state}",
                    hint=f"complete ones: {have or 'none'}",
                )
            return RolledBack(named[0], self.switch(named[0]))
        earlier = [
            g
            for g in self.generations()
            if g.complete and g != current and (current is None or g.number < current.number)
        ]
        if not earlier:
            raise NothingToRollBack(
                f"no earlier verified environment to roll back to in {self.state}",
                hint="bulletproof keeps the previous environment after each successful setup",
            )
        moved = self.switch(earlier[-1])
        return RolledBack(earlier[-1], moved)


def _same_file(fd: int, path: Path) -> bool:
    """Whether the lock taken on ``fd`` is the one at ``path`` (not a removed folder's)."""
    try:
        return os.path.samestat(os.fstat(fd), path.stat())
    except FileNotFoundError:
        return False
