"""`bulletproof-wheelhouse.json`: what a wheelhouse holds and what it was made for, as frozen
values; `to_dict`/`from_dict` its only writer and reader."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulletproof.errors import InputError

MANIFEST_NAME = "bulletproof-wheelhouse.json"
LOCK_COPY = "pylock.toml"  # the lock the wheelhouse was made from, as the team keeps it
SCHEMA_VERSION = 1

# where a file came from
INDEX = "index"  # downloaded from the URL the lock names
BUILT = "built here"  # an sdist built to a wheel by `uv build --wheel`
BUILD_TOOL = "build tool"  # the project's own build requirements, resolved for the target


@dataclass(frozen=True)
class HouseTarget:
    """The interpreter and system the wheelhouse was made for."""

    implementation: str  # "cpython"
    python: str  # "3.12.1"
    machine: str  # "x86_64"
    libc: str  # "glibc"
    libc_version: str  # "2.36"
    os_id: str  # "debian"
    os_version: str  # "12"
    tags: tuple[str, ...]  # the platform tags the wheels need (one per wheel, deduplicated)

    @property
    def minor(self) -> str:
        return ".".join(self.python.split(".")[:2])

    def describe(self) -> str:
        names = {"cpython": "CPython", "pypy": "PyPy"}
        name = names.get(self.implementation, self.implementation)
        return f"{name} {self.minor} on {self.machine} {self.libc} {self.libc_version}"


@dataclass(frozen=True)
class HouseFile:
    file: str  # the file name in the wheelhouse
    name: str  # the distribution, normalized
    version: str
    sha256: str
    origin: str  # INDEX, BUILT or BUILD_TOOL
    url: str = ""  # where an index file came from (without credentials)


@dataclass(frozen=True)
class Manifest:
    tool_version: str
    created: str
    project: str
    target: HouseTarget
    files: tuple[HouseFile, ...]
    system_packages: tuple[str, ...]  # what the environment needs from the system at run time
    system_libraries: tuple[str, ...]  # the sonames behind them
    left_out: tuple[str, ...] = ()  # locked packages the wheelhouse cannot carry, and why

    def to_dict(self) -> dict[str, Any]:
        t = self.target
        return {
            "schema_version": SCHEMA_VERSION,
            "tool_version": self.tool_version,
            "created": self.created,
            "project": self.project,
            "target": {
                "implementation": t.implementation,
                "python": t.python,
                "machine": t.machine,
                "libc": {"name": t.libc, "version": t.libc_version},
                "os": {"id": t.os_id, "version": t.os_version},
                "tags": list(t.tags),
            },
            "files": [
                {
                    "file": f.file,
                    "name": f.name,
                    "version": f.version,
                    "sha256": f.sha256,
                    "origin": f.origin,
                    **({"url": f.url} if f.url else {}),
                }
                for f in self.files
            ],
            "system_packages": list(self.system_packages),
            "system_libraries": list(self.system_libraries),
            "left_out": list(self.left_out),
        }


def read_manifest(house: Path) -> Manifest:
    """The manifest of the wheelhouse at ``house``; InputError naming what is wrong."""
    path = house / MANIFEST_NAME
    if not house.is_dir():
        raise InputError(f"--wheelhouse {house}: no such folder")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{house} is not a bulletproof wheelhouse: it has no {MANIFEST_NAME}",
            hint="make one with `bulletproof wheelhouse DIR --out PATH` where the network works",
        ) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from None
    try:
        return _from_dict(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: not a manifest this version reads ({exc})") from None


def _from_dict(raw: dict[str, Any]) -> Manifest:
    if int(raw["schema_version"]) != SCHEMA_VERSION:
        raise ValueError(f"schema_version {raw['schema_version']}, this version reads 1")
    t = raw["target"]
    target = HouseTarget(
        implementation=str(t["implementation"]),
        python=str(t["python"]),
        machine=str(t["machine"]),
        libc=str(t["libc"]["name"]),
        libc_version=str(t["libc"]["version"]),
        os_id=str(t["os"]["id"]),
        os_version=str(t["os"]["version"]),
        tags=tuple(str(x) for x in t["tags"]),
    )
    files = tuple(
        HouseFile(
            file=str(f["file"]),
            name=str(f["name"]),
            version=str(f["version"]),
            sha256=str(f["sha256"]),
            origin=str(f["origin"]),
            url=str(f.get("url", "")),
        )
        for f in raw["files"]
    )
    for f in files:  # a name is joined to the folder: nothing may lead out of it
        if "/" in f.file or f.file.startswith("."):
            raise ValueError(f"a file name with a path: {f.file!r}")
    return Manifest(
        tool_version=str(raw["tool_version"]),
        created=str(raw["created"]),
        project=str(raw.get("project", "")),
        target=target,
        files=files,
        system_packages=tuple(str(x) for x in raw.get("system_packages", [])),
        system_libraries=tuple(str(x) for x in raw.get("system_libraries", [])),
        left_out=tuple(str(x) for x in raw.get("left_out", [])),
    )
