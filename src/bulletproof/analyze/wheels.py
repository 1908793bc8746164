"""Wheel or build: which locked packages have an artefact the target interpreter accepts."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from packaging import tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from bulletproof.host.values import Interpreter
from bulletproof.tomlcompat import tomllib


@dataclass(frozen=True)
class LockedPackage:
    name: str  # normalized
    version: str
    wheels: tuple[str, ...]  # file names
    sdist: str | None  # URL or path of the source distribution
    sdist_sha256: str | None
    local: bool = False  # a directory, VCS checkout or archive: always built
    sdist_uploaded: str = ""  # when the index says it was uploaded (RFC 3339), if it says

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"


def read_locked(path: Path) -> tuple[LockedPackage, ...]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return tuple(_package(raw) for raw in data.get("packages", []))


def _package(raw: dict[str, Any]) -> LockedPackage:
    wheels = tuple(_file_name(w) for w in raw.get("wheels", []))
    sdist = raw.get("sdist") or {}
    return LockedPackage(
        name=canonicalize_name(raw["name"]),
        version=str(raw.get("version", "")),
        wheels=tuple(w for w in wheels if w),
        sdist=sdist.get("url") or sdist.get("path"),
        sdist_sha256=sdist.get("hashes", {}).get("sha256"),
        local=any(key in raw for key in ("directory", "vcs", "archive")),
        sdist_uploaded=rfc3339(sdist.get("upload-time")),
    )


def rfc3339(value: object) -> str:
    """A time as RFC 3339, as ``uv --exclude-newer`` takes it: a TOML datetime as written (UTC
    as Z), seconds since the epoch as whole seconds in UTC (0 or less: unknown, ""), a string as
    it is; anything empty gives ""."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value <= 0:
            return ""
        value = datetime.fromtimestamp(int(value), tz=timezone.utc)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value) if value else ""


def _file_name(artefact: dict[str, Any]) -> str:
    where = str(artefact.get("name") or artefact.get("url") or artefact.get("path") or "")
    return where.rsplit("/", 1)[-1]


def target_tags(interpreter: Interpreter) -> frozenset[tags.Tag]:
    """The tags a target CPython accepts on this host (same machine, so the host's platforms)."""
    major, minor = (int(x) for x in interpreter.minor.split("."))
    platforms = list(tags.platform_tags())
    if interpreter.implementation != "cpython":
        return frozenset(tags.compatible_tags((major, minor), platforms=platforms))
    abi = f"cp{major}{minor}"
    found = [
        *tags.cpython_tags((major, minor), abis=[abi], platforms=platforms),
        *tags.compatible_tags((major, minor), interpreter=abi, platforms=platforms),
    ]
    return frozenset(found)


def has_wheel(package: LockedPackage, accepted: frozenset[tags.Tag]) -> bool:
    for name in package.wheels:
        try:
            wheel_tags = parse_wheel_filename(name)[3]
        except InvalidWheelFilename:
            continue
        if not wheel_tags.isdisjoint(accepted):
            return True
    return False


def source_builds(
    packages: tuple[LockedPackage, ...], interpreter: Interpreter
) -> tuple[LockedPackage, ...]:
    accepted = target_tags(interpreter)
    return tuple(p for p in packages if p.local or not has_wheel(p, accepted))


def describe_target(interpreter: Interpreter) -> str:
    names = {"cpython": "CPython", "pypy": "PyPy"}
    name = names.get(interpreter.implementation, interpreter.implementation)
    return f"{name} {interpreter.minor} on {platform.system()} {platform.machine()}"
