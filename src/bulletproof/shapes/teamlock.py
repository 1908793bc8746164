"""The team's lock (uv.lock, poetry.lock, pdm.lock, Pipfile.lock) as the versions it agreed on.

Each is read with the tool made for it where one runs here (uv exports its own lock), else from
its documented format. The versions become constraints of bulletproof's own lock for the target,
so every locked version is kept while what the lock lacks is resolved; a lock that no longer
satisfies the project's requirements is stale, and says which requirement it misses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from bulletproof import proc
from bulletproof.errors import InputError
from bulletproof.tomlcompat import tomllib

# In the order they are looked for: the lock of the tool the project is declared for wins.
LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock")


@dataclass(frozen=True)
class LockedPin:
    name: str  # normalized
    version: str
    marker: str = ""

    def constraint(self) -> str:
        return f"{self.name}=={self.version}" + (f" ; {self.marker}" if self.marker else "")


@dataclass(frozen=True)
class TeamLock:
    """A lock file of the team's tool. Its versions are read when a lock is made, not on the
    no-change path (uv.lock's take a subprocess); a file that is not even TOML or JSON is
    reported when the project is discovered."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def pins(self) -> tuple[LockedPin, ...]:
        return _READERS[self.path.name](self.path)

    def constraints(self) -> list[str]:
        """One constraint per locked version; a name locked at several versions without a
        marker to tell them apart is left to the resolver (any of them satisfies the lock)."""
        names = [p.name for p in self.pins]
        return [p.constraint() for p in self.pins if names.count(p.name) == 1 or p.marker]


def find_team_lock(root: Path) -> TeamLock | None:
    for name in LOCK_FILES:
        path = root / name
        if path.is_file():
            _parse(path)
            return TeamLock(path)
    return None


def _parse(path: Path) -> object:
    if path.name == "Pipfile.lock":
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path.name}: cannot be read ({exc})") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"{path.name}: not valid JSON: {exc}") from None
    return _read_toml(path)


def _read_toml(path: Path) -> dict[str, object]:
    try:
        data: dict[str, object] = tomllib.loads(path.read_text(encoding="utf-8"))
        return data
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path.name}: not valid TOML: {exc}") from None


def _pins(entries: Iterable[tuple[object, object, object]], path: Path) -> tuple[LockedPin, ...]:
    """(name, version, marker) triples, checked."""
    out: list[LockedPin] = []
    for index, (name, version, marker) in enumerate(entries):
        if not isinstance(name, str) or not isinstance(version, str):
            raise InputError(f"{path.name}: package {index + 1} has no name or version")
        try:
            Version(version)
            if marker:
                Marker(str(marker))
        except (InvalidVersion, InvalidMarker) as exc:
            raise InputError(f"{path.name}: package {name!r}: {exc}") from None
        out.append(LockedPin(canonicalize_name(name), version, str(marker or "")))
    return tuple(out)


def _package_tables(path: Path) -> list[dict[str, object]]:
    data = _read_toml(path)
    packages = data.get("package", [])
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        raise InputError(f"{path.name}: [[package]] entries are not tables")
    return packages


def _poetry(path: Path) -> tuple[LockedPin, ...]:
    packages = _package_tables(path)
    return _pins(((p.get("name"), p.get("version"), p.get("markers")) for p in packages), path)


def _pdm(path: Path) -> tuple[LockedPin, ...]:
    packages = _package_tables(path)
    return _pins(((p.get("name"), p.get("version"), p.get("marker")) for p in packages), path)


def _pipfile_lock(path: Path) -> tuple[LockedPin, ...]:
    data = _parse(path)
    if not isinstance(data, dict):
        raise InputError(f"{path.name}: not a Pipfile.lock (no default/develop sections)")
    entries: list[tuple[object, object, object]] = []
    for section in ("default", "develop"):
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise InputError(f"{path.name}: {section!r} must be an object")
        for name, spec in table.items():
            version = spec.get("version", "") if isinstance(spec, dict) else ""
            if isinstance(version, str) and version.startswith("=="):
                entries.append((name, version[2:], spec.get("markers")))
    return _pins(entries, path)


def _uv(path: Path) -> tuple[LockedPin, ...]:
    """uv's own export of every group and extra (no resolution, no project build)."""
    _read_toml(path)  # an unreadable file is the user's input error, named as such
    done = proc.run(
        [
            proc.uv_bin(),
            "export",
            "--frozen",
            "--format",
            "requirements.txt",
            "--no-hashes",
            "--all-groups",
            "--all-extras",
            "--no-emit-project",
            "--no-emit-workspace",
            "--no-header",
            "--no-annotate",
            "--directory",
            str(path.parent),
        ],
        timeout=120,
    )
    if not done.ok:
        raise InputError(f"{path.name}: uv cannot read it", detail=done.stderr.strip())
    entries: list[tuple[object, object, object]] = []
    for raw in done.stdout.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue  # a URL or path entry: not a version to keep
        versions = [s.version for s in req.specifier if s.operator == "=="]
        if versions:
            entries.append((req.name, versions[0], str(req.marker) if req.marker else ""))
    return _pins(entries, path)


_READERS = {"uv.lock": _uv, "poetry.lock": _poetry, "pdm.lock": _pdm, "Pipfile.lock": _pipfile_lock}


def stale_reasons(
    lock: TeamLock, requirements: Iterable[str], environment: dict[str, str]
) -> list[str]:
    """What the lock misses of the project's direct requirements, for this target (a
    requirement whose marker does not hold here, or that comes with an extra, is not asked)."""
    locked: dict[str, list[str]] = {}
    for pin in lock.pins:
        if not pin.marker or Marker(pin.marker).evaluate(environment):
            locked.setdefault(pin.name, []).append(pin.version)
    reasons: list[str] = []
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.url or (req.marker and not req.marker.evaluate({**environment, "extra": ""})):
            continue
        name = canonicalize_name(req.name)
        versions = locked.get(name)
        if not versions:
            reasons.append(f"{req.name} is required but not in {lock.name}")
        elif not any(req.specifier.contains(v, prereleases=True) for v in versions):
            reasons.append(f"{lock.name} has {req.name} {versions[0]}, the project asks {req}")
    return reasons
