"""The team's lock (uv.lock, poetry.lock, pdm.lock, Pipfile.lock) as the versions it agreed on.

Each is read with the tool made for it where one runs here (uv exports its own lock), else from
its documented format (Poetry's up to lock-version 2.1, whose per-group markers may be a table).
The versions become constraints of bulletproof's own lock for the target, so every locked
version is kept while what the lock lacks is resolved; a lock that no longer satisfies the
project's requirements is stale, and says which requirement it misses. A lock that cannot be
read at all is never the end of a setup: it says why, and the caller resolves without it.
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
from bulletproof.errors import ToolError
from bulletproof.tomlcompat import tomllib

# In the order they are looked for: the lock of the tool the project is declared for wins.
LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock")
# Poetry reads lock-version >=1,<3; a newer major is a format this reader cannot know.
POETRY_LOCK_MAJOR = 2


class _Unreadable(Exception):
    """Why a lock file cannot be read, without its name (the caller says which file)."""


@dataclass(frozen=True)
class LockedPin:
    name: str  # normalized
    version: str
    marker: str = ""

    def constraint(self) -> str:
        return f"{self.name}=={self.version}" + (f" ; {self.marker}" if self.marker else "")


@dataclass(frozen=True)
class LockReading:
    pins: tuple[LockedPin, ...] = ()
    problem: str = ""  # why the file could not be read; empty when it was


@dataclass(frozen=True)
class TeamLock:
    """A lock file of the team's tool. Its versions are read when a lock is made, not on the
    no-change path (uv.lock's take a subprocess) nor when the project is discovered: a file
    that cannot be read is the lock stage's to set aside (or, with --locked, to refuse)."""

    path: Path
    # the dependency groups the environment takes (Poetry's "main" among them), normalized;
    # empty: every group the lock names
    groups: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def reading(self) -> LockReading:
        try:
            if self.path.name == "poetry.lock":
                return LockReading(_poetry(self.path, self.groups))
            return LockReading(_READERS[self.path.name](self.path))
        except _Unreadable as exc:
            return LockReading(problem=str(exc))
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # a shape of the format no check above foresaw: still the lock's fault, never a crash
            return LockReading(problem=f"unexpected content ({type(exc).__name__}: {exc})")

    @property
    def pins(self) -> tuple[LockedPin, ...]:
        """The locked versions; none when the file cannot be read (see ``problem``)."""
        return self.reading.pins

    @property
    def problem(self) -> str:
        return self.reading.problem

    def constraints(self) -> list[str]:
        """One constraint per locked version; a name locked at several versions without a
        marker to tell them apart is left to the resolver (any of them satisfies the lock)."""
        names = [p.name for p in self.pins]
        return [p.constraint() for p in self.pins if names.count(p.name) == 1 or p.marker]


def find_team_lock(root: Path, groups: Iterable[str] | None = None) -> TeamLock | None:
    """``groups``: the dependency groups the environment takes, besides Poetry's main (None:
    every group the lock names)."""
    taken = frozenset() if groups is None else frozenset(map(canonicalize_name, ("main", *groups)))
    for name in LOCK_FILES:
        path = root / name
        if path.is_file():
            return TeamLock(path, taken)
    return None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _Unreadable(f"cannot be read: {exc}") from None


def _read_toml(path: Path) -> dict[str, object]:
    try:
        data: dict[str, object] = tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise _Unreadable(f"not valid TOML: {exc}") from None
    return data


def _pins(entries: Iterable[tuple[object, object, object]]) -> tuple[LockedPin, ...]:
    """(name, version, marker) triples, checked."""
    out: list[LockedPin] = []
    for index, (name, version, marker) in enumerate(entries):
        if not isinstance(name, str) or not isinstance(version, str):
            raise _Unreadable(f"package {index + 1} has no name or version")
        if marker is not None and not isinstance(marker, str):
            raise _Unreadable(f"package {name!r}: its marker is not a string")
        try:
            Version(version)
            if marker:
                Marker(marker)
        except (InvalidVersion, InvalidMarker) as exc:
            raise _Unreadable(f"package {name!r}: {exc}") from None
        out.append(LockedPin(canonicalize_name(name), version, marker or ""))
    return tuple(out)


def _package_tables(data: dict[str, object]) -> list[dict[str, object]]:
    packages = data.get("package", [])
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        raise _Unreadable("[[package]] entries are not tables")
    return packages


def _poetry(path: Path, groups: frozenset[str]) -> tuple[LockedPin, ...]:
    data = _read_toml(path)
    metadata = data.get("metadata", {})
    version = metadata.get("lock-version", "1.0") if isinstance(metadata, dict) else "1.0"
    try:
        major = Version(str(version)).major
    except InvalidVersion:
        raise _Unreadable(f"[metadata] lock-version {version!r} is not a version") from None
    if major > POETRY_LOCK_MAJOR:
        raise _Unreadable(f"lock-version {version} is newer than the formats known here")
    entries: list[tuple[object, object, object]] = []
    for package in _package_tables(data):
        marker = _poetry_marker(package, groups)
        if marker is not None:
            entries.append((package.get("name"), package.get("version"), marker))
    return _pins(entries)


def _poetry_marker(package: dict[str, object], groups: frozenset[str]) -> str | None:
    """The package's marker for the groups the environment takes, as one PEP 508 marker ("":
    everywhere), or None when it is in none of them. Since lock-version 2.1 a package lists its
    ``groups``, and ``markers`` is one string for all of them or a table by group, where a group
    left out takes the package unconditionally."""
    name = package.get("name")
    markers = package.get("markers", "")
    listed = package.get("groups")
    if listed is None:  # before 2.1 (or no groups): the package is everyone's
        listed = list(markers) if isinstance(markers, dict) else []
    if not isinstance(listed, list) or not all(isinstance(g, str) for g in listed):
        raise _Unreadable(f"package {name!r}: groups is not a list of names")
    taken = [g for g in listed if not groups or canonicalize_name(g) in groups]
    if listed and not taken:
        return None
    if isinstance(markers, str):
        return markers
    if not isinstance(markers, dict):
        raise _Unreadable(f"package {name!r}: markers is neither a string nor a table by group")
    per_group: list[str] = []
    for group in taken:
        marker = markers.get(group, "")
        if not isinstance(marker, str):
            raise _Unreadable(f"package {name!r}: the marker for group {group!r} is not a string")
        if not marker:
            return ""
        per_group.append(marker)
    unique = list(dict.fromkeys(per_group))
    return unique[0] if len(unique) == 1 else " or ".join(f"({m})" for m in unique)


def _pdm(path: Path) -> tuple[LockedPin, ...]:
    packages = _package_tables(_read_toml(path))
    return _pins((p.get("name"), p.get("version"), p.get("marker")) for p in packages)


def _pipfile_lock(path: Path) -> tuple[LockedPin, ...]:
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise _Unreadable(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _Unreadable("not a Pipfile.lock (no default/develop sections)")
    entries: list[tuple[object, object, object]] = []
    for section in ("default", "develop"):
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise _Unreadable(f"{section!r} is not an object")
        for name, spec in table.items():
            version = spec.get("version", "") if isinstance(spec, dict) else ""
            if isinstance(version, str) and version.startswith("=="):
                entries.append((name, version[2:], spec.get("markers")))
    return _pins(entries)


def _uv(path: Path) -> tuple[LockedPin, ...]:
    """uv's own export of every group and extra (no resolution, no project build)."""
    _read_toml(path)  # named in our words before uv's
    try:
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
    except ToolError as exc:
        raise _Unreadable(f"uv export did not run: {exc.message}") from None
    if not done.ok:
        said = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise _Unreadable("uv cannot read it" + (f": {said[-1].strip()}" if said else ""))
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
    return _pins(entries)


_READERS = {"uv.lock": _uv, "pdm.lock": _pdm, "Pipfile.lock": _pipfile_lock}


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
