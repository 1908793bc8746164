"""The distributions installed in an environment, read from their dist-info folders."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

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
        text = (self.dist_info / "RECORD").read_text(encoding="utf-8")
        rows = []
        for fields in csv.reader(io.StringIO(text)):
            if not fields or not fields[0]:
                continue
            size = fields[2] if len(fields) > 2 else ""
            rows.append(
                RecordRow(
                    fields[0], fields[1] if len(fields) > 1 else "", int(size) if size else None
                )
            )
        return rows


def site_packages_dirs(env: Path) -> list[Path]:
    """purelib and platlib of a POSIX venv (lib64 is often a symlink to lib: counted once)."""
    found: dict[Path, Path] = {}
    for candidate in sorted(env.glob("lib*/python*/site-packages")):
        found.setdefault(candidate.resolve(), candidate)
    return list(found.values())


_REQUIREMENT_NAME = re.compile(r"[\s;<>=!~\[(@]")  # what ends the name in a Requires-Dist value


def distributions(env: Path) -> list[Distribution]:
    dists = []
    for site in site_packages_dirs(env):
        for info in sorted(site.glob("*.dist-info")):
            try:
                with (info / "METADATA").open(encoding="utf-8", errors="replace") as handle:
                    headers = HeaderParser().parse(handle, headersonly=True)
            except OSError:
                name, _, version = info.name.removesuffix(".dist-info").partition("-")
                dists.append(Distribution(name, version, info))
                continue
            requires = tuple(
                canonicalize_name(_REQUIREMENT_NAME.split(r.strip(), maxsplit=1)[0])
                for r in headers.get_all("Requires-Dist") or ()
                if "extra" not in r.partition(";")[2]  # optional extras are not always installed
            )
            name = headers.get("Name", info.name)
            dists.append(Distribution(name, headers.get("Version", ""), info, requires))
    return dists


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
