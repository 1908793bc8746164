"""The distributions installed in an environment, read from their dist-info folders."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path


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
            dists.append(
                Distribution(headers.get("Name", info.name), headers.get("Version", ""), info)
            )
    return dists
