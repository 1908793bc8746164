"""`setup --offline [--wheelhouse PATH]`: what the offline run adds to a setup. The wheelhouse is
read and checked before anything; every uv call of the run is kept offline (and, with a
wheelhouse, on its files alone) through uv's own settings; the environment is built from the
team's lock as the wheelhouse serves it; system packages are never installed, those the
wheelhouse names are looked for and the missing ones said."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from bulletproof.errors import InputError
from bulletproof.host.values import Interpreter
from bulletproof.lockfile.restore import SavedLock
from bulletproof.lockfile.values import LockResult
from bulletproof.reporter import Reporter
from bulletproof.wheelhouse.serve import (
    House,
    check_system,
    check_target,
    open_house,
    served_lock,
    uv_settings,
)


def open_offline(wheelhouse: Path | None) -> House | None:
    """The wheelhouse, its files checked; None without one."""
    return open_house(wheelhouse) if wheelhouse is not None else None


@contextmanager
def offline_uv(offline: bool, house: House | None) -> Iterator[Path | None]:
    """Every uv call in the block offline (uv's cache only), and with a wheelhouse on its files
    alone; a scratch folder for the served lock (None when online)."""
    if not offline:
        yield None
        return
    saved = {name: os.environ.get(name) for name in ("UV_OFFLINE", "UV_CONFIG_FILE")}
    with tempfile.TemporaryDirectory(prefix="bulletproof-offline-") as scratch:
        os.environ["UV_OFFLINE"] = "1"
        if house is not None:
            os.environ["UV_CONFIG_FILE"] = str(uv_settings(house, Path(scratch)))
        try:
            yield Path(scratch)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def check_here(house: House, interpreter: Interpreter, ui: Reporter) -> None:
    """The target against the wheelhouse's (InputError naming the mismatch); then the run-time
    system packages it names: the missing ones said with what installs them once online
    (nothing is installed offline; the run goes on)."""
    check_target(house, interpreter)
    found = check_system(house)
    if found.unknown:
        ui.say(
            "the wheelhouse says the environment needs the system packages "
            f"{', '.join(found.missing)} at run time; this system's package manager is unknown "
            "to bulletproof: check they are installed"
        )
    elif found.missing:
        ui.say(
            "missing system packages the environment needs at run time: "
            f"{', '.join(found.missing)} (offline, they cannot be installed; once online: "
            f"{' && '.join(found.commands)})"
        )


def serve(locked: LockResult, house: House | None, scratch: Path | None) -> LockResult:
    """The lock the environment is built from: with a wheelhouse, the team's lock as it serves
    it (its files, by path and hash), the team's lock's identity kept."""
    if house is None or scratch is None:
        return locked
    return replace(locked, path=served_lock(house, locked.path, scratch / "lock"))


def relocked(locked: LockResult, house: House | None, before: SavedLock) -> InputError | None:
    """An offline run with a wheelhouse installs the lock it was made from: a lock made again
    (the project's inputs or the interpreter differ from where it was made) is refused, so that
    DIR/pylock.toml never names the wheelhouse's files."""
    if house is None or locked.reused:
        return None
    before.put_back()
    return InputError(
        f"{locked.path.name} is not current for the project as it is here (its inputs, or the "
        "interpreter's exact version, differ from where the wheelhouse was made); offline, "
        "setup installs the lock the wheelhouse was made from as it is",
        hint="make the wheelhouse again from the project as it is now, where the network works",
    )
