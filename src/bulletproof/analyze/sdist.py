"""What a source distribution needs to build: its [build-system], its PEP 725 [external] table,
and which compilers its sources call for. Sdists are fetched once into the user cache."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from platformdirs import user_cache_path

from bulletproof.analyze.wheels import LockedPackage
from bulletproof.errors import ToolError
from bulletproof.knowledge import external_needs
from bulletproof.model import ExternalNeeds
from bulletproof.tomlcompat import tomllib

FETCH_TIMEOUT = 60.0
# file suffix -> compiler the build needs (Cython sources compile to C)
SOURCE_LANGUAGES = {
    ".c": "c",
    ".pyx": "c",
    ".cc": "cxx",
    ".cpp": "cxx",
    ".cxx": "cxx",
    ".f": "fortran",
    ".f90": "fortran",
}
RUST_BACKENDS = ("maturin", "setuptools-rust", "setuptools_rust")


@dataclass(frozen=True)
class SdistFacts:
    build_requires: tuple[str, ...]
    external: ExternalNeeds
    languages: frozenset[str]  # "c", "cxx", "rust", "fortran"
    made: float = 0.0  # when its files were last written (the newest member's time), epoch s
    has_build_system: bool = False  # a [build-system] table (else PEP 517's legacy default)


def inspect_sdist(package: LockedPackage, cache: Path | None = None) -> SdistFacts:
    data = _fetch(package, cache or user_cache_path("bulletproof") / "sdists")
    names, pyproject, made = _members(package.sdist or "", data)
    build = tomllib.loads(pyproject) if pyproject else {}
    requires = tuple(str(r) for r in build.get("build-system", {}).get("requires", []))
    languages = {
        SOURCE_LANGUAGES[s]
        for n in names
        if (s := PurePosixPath(n).suffix.lower()) in SOURCE_LANGUAGES
    }
    if any(PurePosixPath(n).name == "Cargo.toml" for n in names) or any(
        r.lower().startswith(RUST_BACKENDS) for r in requires
    ):
        languages.add("rust")
    return SdistFacts(
        build_requires=requires,
        external=external_needs(build.get("external", {})),
        languages=frozenset(languages),
        made=made,
        has_build_system="build-system" in build,
    )


_NOT_SOURCES = {".git", ".venv", ".bulletproof", "node_modules", "build", "dist", ".tox", "docs"}


def project_languages(root: Path, build_requires: tuple[str, ...]) -> frozenset[str]:
    """Which compilers the project's own extension code calls for (C, Cython, C++, Fortran,
    a Rust crate), read from its tree as the sdist's are from the archive."""
    languages: set[str] = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _NOT_SOURCES and not d.startswith(".")]
        for name in files:
            suffix = PurePosixPath(name).suffix.lower()
            if suffix in SOURCE_LANGUAGES:
                languages.add(SOURCE_LANGUAGES[suffix])
            elif name == "Cargo.toml":
                languages.add("rust")
        if Path(folder) == root and "pyvenv.cfg" in files:
            return frozenset()  # a virtual environment at the top is no project tree
    if any(r.lower().startswith(RUST_BACKENDS) for r in build_requires):
        languages.add("rust")
    return frozenset(languages)


def _fetch(package: LockedPackage, cache: Path) -> bytes:
    where = package.sdist
    if not where:
        raise ToolError(f"{package.pin} has no source distribution in the lock")
    cached = cache / f"{package.sdist_sha256}" if package.sdist_sha256 else None
    if cached is not None and cached.is_file():
        return cached.read_bytes()
    try:
        if where.startswith(("https://", "http://", "file://")):
            with urllib.request.urlopen(where, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
                data: bytes = response.read()
        else:
            data = Path(where).read_bytes()
    except OSError as exc:
        raise ToolError(f"could not fetch the source of {package.pin}: {exc}") from exc
    if package.sdist_sha256 and hashlib.sha256(data).hexdigest() != package.sdist_sha256:
        raise ToolError(f"the source of {package.pin} does not match the lock's hash")
    if cached is not None:
        cache.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(cached)
    return data


def _members(where: str, data: bytes) -> tuple[list[str], str | None, float]:
    """The archive's member names, its top-level pyproject.toml if any, and the newest time a
    member was written."""
    pyproject = None
    if where.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            stamps = [time.mktime((*i.date_time, 0, 0, -1)) for i in archive.infolist()]
            top = [n for n in names if n.count("/") == 1 and n.endswith("/pyproject.toml")]
            if top:
                pyproject = archive.read(top[0]).decode("utf-8", "replace")
        return names, pyproject, max(stamps, default=0.0)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        names = []
        newest = 0.0
        for member in archive:
            names.append(member.name)
            newest = max(newest, float(member.mtime))
            if (
                member.isfile()
                and member.name.count("/") == 1
                and member.name.endswith("/pyproject.toml")
            ):
                handle = archive.extractfile(member)
                pyproject = handle.read().decode("utf-8", "replace") if handle else None
        return names, pyproject, newest
