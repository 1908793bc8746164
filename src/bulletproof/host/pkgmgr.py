"""Ask the system package manager what is installed, what exists, and how to install."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bulletproof import proc
from bulletproof.errors import ToolError
from bulletproof.knowledge.mappings import PackageManager

QUERY_TIMEOUT = 60.0
APT_LISTS = Path("/var/lib/apt/lists")
# what installing or removing a system package changes: the loader's cache and each package
# manager's records; an answer that depends on the system's libraries is kept under their stat
SYSTEM_RECORDS = (
    "/etc/ld.so.cache",
    "/var/lib/dpkg/status",
    "/var/lib/rpm",
    "/lib/apk/db/installed",
    "/var/lib/pacman/local",
)


def installed(manager: PackageManager, names: tuple[str, ...]) -> frozenset[str]:
    """Which of ``names`` are installed; one query per package (PEP 804 queries take one)."""
    if not names or shutil.which(manager.query[0]) is None:
        return frozenset()

    def check(name: str) -> str | None:
        try:
            done = proc.run(manager.query_command(name), timeout=QUERY_TIMEOUT)
        except ToolError:
            return None
        return name if _says_installed(manager.name, done) else None

    with ThreadPoolExecutor(max_workers=8) as pool:
        return frozenset(n for n in pool.map(check, names) if n)


def _says_installed(manager: str, done: proc.Completed) -> bool:
    if not done.ok:
        return False
    if manager == "apt":  # dpkg knows removed packages too: only "installed" is installed
        return done.stdout.strip() == "installed"
    if manager == "brew":
        return bool(done.stdout.strip())
    return True


def unavailable(manager: PackageManager, names: tuple[str, ...]) -> frozenset[str] | None:
    """The names this release does not have; None when the manager cannot tell (cheaply)."""
    if manager.name != "apt" or not names or shutil.which("apt-cache") is None:
        return None
    if not any(APT_LISTS.glob("*_Packages*")):
        return None  # never updated: every name would look missing
    done = proc.run(["apt-cache", "policy", *names], timeout=QUERY_TIMEOUT)
    known: set[str] = set()
    current = None
    for line in done.stdout.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            current = line[:-1]
        elif (
            current
            and line.strip().startswith(("Installed:", "Candidate:"))
            and not line.strip().endswith("(none)")
        ):
            known.add(current)
    return frozenset(names) - known


def install_commands(
    manager: PackageManager, names: tuple[str, ...]
) -> tuple[tuple[str, ...], ...]:
    """The commands that install ``names``, elevated with sudo when not root."""
    if not names:
        return ()
    prefix: tuple[str, ...] = ("sudo",) if manager.elevate and os.geteuid() != 0 else ()
    commands = []
    if manager.name == "apt":  # package lists go stale and then the archive answers 404
        commands.append((*prefix, "apt-get", "update"))
    commands.append((*prefix, *manager.install_command(names)))
    return tuple(commands)
