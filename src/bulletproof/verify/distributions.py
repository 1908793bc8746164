"""The distributions installed in an environment, read from their dist-info folders with
``importlib.metadata`` pointed at that environment's site-packages (never this interpreter's)."""

from __future__ import annotations

import errno
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name


@dataclass(frozen=True)
class RecordRow:
    path: str  # as written in RECORD: relative to site-packages, may start with ../
    hash: str  # "sha256=..." or "" for files recorded without one (RECORD itself, .pyc)
    size: int | None


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    dist_info: Path
    requires: tuple[NormalizedName, ...] = ()  # from Requires-Dist, without extras

    @property
    def site_packages(self) -> Path:
        return self.dist_info.parent

    def record(self) -> list[RecordRow]:
        """RECORD rows; raises OSError or ValueError when RECORD is missing or malformed."""
        try:
            files = importlib.metadata.Distribution.at(self.dist_info).files
        except TypeError as exc:  # a row of no fields or of too many
            raise ValueError(f"RECORD malformed: {exc}") from None
        if files is None:  # no RECORD, or an empty one
            record = self.dist_info / "RECORD"
            if not record.is_file():
                raise FileNotFoundError(errno.ENOENT, "no RECORD", str(record))
            return []
        return [
            RecordRow(str(f), f"{f.hash.mode}={f.hash.value}" if f.hash else "", f.size)
            for f in files
        ]


def site_packages_dirs(env: Path) -> list[Path]:
    """purelib and platlib of a POSIX venv (lib64 is often a symlink to lib: counted once)."""
    found: dict[Path, Path] = {}
    for candidate in sorted(env.glob("lib*/python*/site-packages")):
        found.setdefault(candidate.resolve(), candidate)
    return list(found.values())


def distributions(env: Path) -> list[Distribution]:
    """Every ``*.dist-info`` of the environment's site-packages, by folder name. Its folder is
    known here (RECORD's paths are relative to its parent), which discovery does not say."""
    dists = []
    for site in site_packages_dirs(env):
        for info in sorted(site.glob("*.dist-info")):
            dists.append(_read(info))
    return dists


def _read(info: Path) -> Distribution:
    try:
        meta = importlib.metadata.Distribution.at(info).metadata
    except ValueError:  # not UTF-8
        meta = None
    if meta is None or "Name" not in meta:  # no METADATA (an empty one, or None, by version)
        name, _, version = info.name.removesuffix(".dist-info").partition("-")
        return Distribution(name, version, info)
    requires = tuple(
        canonicalize_name(r.name)
        # what Distribution.requires reads from a dist-info, without parsing METADATA again
        for r in map(_requirement, meta.get_all("Requires-Dist") or ())
        # optional extras are not always installed
        if r is not None and (r.marker is None or "extra" not in str(r.marker))
    )
    return Distribution(meta["Name"], meta.get_all("Version", [""])[0], info, requires)


def _requirement(text: str) -> Requirement | None:
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def dependency_depth(dists: list[Distribution]) -> dict[str, int]:
    """How far each distribution sits above the leaves of the installed dependency graph.

    Importing shallow distributions first means a shared dependency is first imported (and its
    bytecode written) alone, not by every worker at once as part of its dependents.
    """
    requires = {canonicalize_name(d.name): d.requires for d in dists}
    depth: dict[str, int] = {}

    def visit(name: NormalizedName, path: frozenset[str]) -> int:
        if name in depth:
            return depth[name]
        below = [
            visit(r, path | {name})
            for r in requires.get(name, ())
            if r in requires and r not in path
        ]
        depth[name] = 1 + max(below, default=-1)
        return depth[name]

    for name in requires:
        visit(name, frozenset())
    return depth
