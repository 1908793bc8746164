"""The lock as it was before a run changed it, put back when what was built from the new one is
not kept: the working environment stays matched with the lock it was made from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bulletproof.fsutil import read_or_none, restore


@dataclass(frozen=True)
class SavedLock:
    """A lock's bytes as they were (None: there was no lock). As a context manager it puts
    them back when its block raises; ``put_back`` does it when a later decision says so."""

    path: Path
    before: bytes | None

    def put_back(self) -> None:
        restore(self.path, self.before)

    def __enter__(self) -> SavedLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is not None:  # an interrupt too: the environment it was made for stays
            self.put_back()


def restore_on_failure(path: Path) -> SavedLock:
    """The lock at ``path`` saved now: ``with restore_on_failure(path):`` puts it back if the
    block raises; the value can also be kept and entered later, or ``put_back()`` called."""
    return SavedLock(path, read_or_none(path))
