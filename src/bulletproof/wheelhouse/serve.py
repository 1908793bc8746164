"""A wheelhouse read back for an offline setup: its manifest and every file's hash checked, its
target compared with this one, the system packages it names looked for, the team's lock served
from its files (a copy that names them; DIR/pylock.toml itself is left as the team keeps it)."""

from __future__ import annotations

import platform
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from bulletproof.errors import InputError
from bulletproof.host import pkgmgr
from bulletproof.host.osinfo import detect_libc, read_os_info
from bulletproof.host.values import Interpreter
from bulletproof.knowledge.mappings import ecosystem_for, load_mapping
from bulletproof.tomlcompat import tomllib
from bulletproof.wheelhouse.choose import best_tag, is_local, ranked_tags
from bulletproof.wheelhouse.fetch import sha256_of
from bulletproof.wheelhouse.manifest import (
    BUILD_TOOL,
    BUILT,
    LOCK_COPY,
    HouseFile,
    Manifest,
    read_manifest,
)


@dataclass(frozen=True)
class House:
    path: Path  # absolute
    manifest: Manifest


@dataclass(frozen=True)
class SystemCheck:
    missing: tuple[str, ...]  # the run-time system packages the manifest names, not installed
    commands: tuple[str, ...]  # what installs them, once online
    unknown: bool  # no package manager here to ask


def open_house(path: Path) -> House:
    """The wheelhouse at ``path`` with every file checked against its manifest; InputError
    naming the first file that is missing or changed."""
    house = path.resolve()
    manifest = read_manifest(house)
    for entry in manifest.files:
        file = house / entry.file
        if not file.is_file():
            raise InputError(f"the wheelhouse {house} lacks {entry.file}, which its manifest lists")
        if sha256_of(file) != entry.sha256:
            raise InputError(
                f"the wheelhouse file {entry.file} does not match its manifest (sha256): it was "
                "changed since the wheelhouse was made",
                hint="make the wheelhouse again where the network works",
            )
    if not (house / LOCK_COPY).is_file():
        raise InputError(f"the wheelhouse {house} lacks the lock it was made from ({LOCK_COPY})")
    return House(house, manifest)


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _libc_mismatch(house: House) -> str:
    made = house.manifest.target
    here = detect_libc()
    if made.libc != here.name:
        return f"{here.name} {here.version}"
    built = [
        f.file
        for f in house.manifest.files
        if f.origin == BUILT and not f.file.endswith("-any.whl")
    ]
    older = (_version(here.version) or Version("0")) < (_version(made.libc_version) or Version("0"))
    if built and older:  # built against the newer C library there: its symbols are not here
        return (
            f"{here.name} {here.version}, older than the {made.libc_version} "
            f"{built[0]} was built against"
        )
    return ""


def check_target(house: House, interpreter: Interpreter) -> None:
    """InputError naming what differs when the wheelhouse was made for another target."""
    made = house.manifest.target
    names = {"cpython": "CPython", "pypy": "PyPy"}
    this = (
        f"{names.get(interpreter.implementation, interpreter.implementation)} {interpreter.minor}"
    )
    differs = []
    if interpreter.implementation != made.implementation or interpreter.minor != made.minor:
        differs.append(this)
    if platform.machine() != made.machine:
        differs.append(f"on {platform.machine()}")
    if libc := _libc_mismatch(house):
        differs.append(libc)
    if not differs:
        ranks = ranked_tags(interpreter)
        refused = [f.file for f in house.manifest.files if best_tag(f.file, ranks) is None]
        if refused:
            differs.append(
                f"{this}, which does not accept the tags of {', '.join(refused[:3])}"
                + (f" and {len(refused) - 3} more" if len(refused) > 3 else "")
            )
    if differs:
        raise InputError(
            f"the wheelhouse was made for {made.describe()}; this target is {'; '.join(differs)}",
            hint="make the wheelhouse on a machine like this one (same Python, machine and C "
            "library, or older), or set up with the interpreter it was made for (--python)",
        )


def check_system(house: House) -> SystemCheck:
    """The run-time system packages the manifest names, asked of this system's manager."""
    names = house.manifest.system_packages
    ecosystem = ecosystem_for(read_os_info())
    if not names:
        return SystemCheck((), (), unknown=False)
    if ecosystem is None:
        return SystemCheck(names, (), unknown=True)
    manager = load_mapping(ecosystem).manager
    missing = tuple(n for n in names if n not in pkgmgr.installed(manager, names))
    if not missing:
        return SystemCheck((), (), unknown=False)
    # apt-get update first: the lists of a machine that has been offline are stale
    commands = tuple(" ".join(c) for c in pkgmgr.install_commands(manager, missing))
    return SystemCheck(missing, commands, unknown=False)


def _packages(text: str) -> list[dict[str, Any]]:
    packages: list[dict[str, Any]] = tomllib.loads(text).get("packages", [])
    return packages


def place_lock(house: House, lock: Path) -> str:
    """DIR/pylock.toml as the wheelhouse was made from: copied there when missing; InputError
    when it locks other packages. What was done, said ("" when it was already there)."""
    made_from = (house.path / LOCK_COPY).read_text(encoding="utf-8")
    if not lock.exists():
        shutil.copyfile(house.path / LOCK_COPY, lock)
        return f"{lock.name} was missing: put there from the wheelhouse (the lock it was made from)"
    if _packages(lock.read_text(encoding="utf-8")) != _packages(made_from):
        raise InputError(
            f"{lock} locks other packages than the lock the wheelhouse {house.path} was made from",
            hint="make the wheelhouse again from this lock where the network works, or move "
            f"{lock.name} aside to set up the wheelhouse's own",
        )
    return ""


def _house_file(house: House, name: str, version: str) -> HouseFile | None:
    found = [
        f
        for f in house.manifest.files
        if f.name == name and f.version == version and f.origin != BUILD_TOOL
    ]
    return found[0] if found else None


def served_lock(house: House, lock: Path, into: Path) -> Path:
    """A copy of ``lock`` in the folder ``into`` whose packages name the wheelhouse's files
    (with their hashes; a built wheel in place of its sdist) and whose local sources name their
    absolute paths; InputError naming a locked package the wheelhouse lacks."""
    data = tomllib.loads(lock.read_text(encoding="utf-8"))
    packages = []
    for raw in data.get("packages", []):
        entry = dict(raw)
        if is_local(raw):
            if isinstance(raw.get("directory"), dict):
                where = (lock.parent / raw["directory"].get("path", ".")).resolve()
                entry["directory"] = {**raw["directory"], "path": str(where)}
            packages.append(entry)
            continue
        name, version = canonicalize_name(str(raw["name"])), str(raw.get("version", ""))
        file = _house_file(house, name, version)
        if file is None:
            raise InputError(
                f"the wheelhouse {house.path} has no file for {name} {version}, which "
                f"{lock.name} locks",
                hint="make the wheelhouse again from this lock where the network works",
            )
        entry.pop("sdist", None)
        entry["wheels"] = [{"path": str(house.path / file.file), "hashes": {"sha256": file.sha256}}]
        packages.append(entry)
    data["packages"] = packages
    data.pop("tool", None)  # bulletproof's table describes the team's lock, not this copy
    into.mkdir(parents=True, exist_ok=True)
    out = into / "pylock.toml"
    out.write_text(tomli_w.dumps(data), encoding="utf-8")
    return out


def uv_settings(house: House, into: Path) -> Path:
    """A uv.toml that keeps every uv call offline and on the wheelhouse alone (as UV_CONFIG_FILE:
    the index settings a lock's input hash covers are left as they were)."""
    into.mkdir(parents=True, exist_ok=True)
    path = into / "uv.toml"
    path.write_text(
        tomli_w.dumps({"offline": True, "no-index": True, "find-links": [str(house.path)]}),
        encoding="utf-8",
    )
    return path
