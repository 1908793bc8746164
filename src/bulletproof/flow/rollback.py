"""`rollback`: switch DIR/.venv to an earlier generation and say what (`Done`)."""

from __future__ import annotations

from pathlib import Path

from bulletproof.apply.generations import Store
from bulletproof.errors import BulletproofError
from bulletproof.flow.common import locked_run
from bulletproof.flow.results import Done
from bulletproof.lockfile.lock import LOCK_NAME, read_lock_meta
from bulletproof.project import discover
from bulletproof.reporter import Reporter


def rollback(directory: Path, to: str | None, lock_timeout: float, ui: Reporter) -> Done:
    try:
        project = discover(directory)
        store = Store(project.root)
        with locked_run(store, ui, lock_timeout):
            done = store.rollback(to)
        said: list[str] = []
        if done.moved:
            said.append(done.moved)
        lock_meta = read_lock_meta(project.root / LOCK_NAME)
        if done.generation.meta().get("packages-hash") != lock_meta.packages_hash:
            said.append(
                f"it was built from an earlier lock than {LOCK_NAME}: verify says 'out of date' "
                "until setup brings it back to the lock"
            )
        return Done(
            f"{directory / '.venv'} now points at {done.generation.path.name}",
            said=tuple(said),
            moved_aside=done.moved or "",
            project=project,
        )
    except BulletproofError as exc:
        return Done("", error=exc)
