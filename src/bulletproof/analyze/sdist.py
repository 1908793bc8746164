"""What a source distribution needs to build: its [build-system], its PEP 725 [external] table,
which compilers its sources call for, and the text of its sources and build scripts (what they
include and run: analyze/sourceneeds.py). Sdists are fetched once into the user cache."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tarfile
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath

from platformdirs import user_cache_path

from bulletproof.analyze.wheels import LockedPackage
from bulletproof.errors import BulletproofError, ToolError
from bulletproof.knowledge import external_needs
from bulletproof.model import ExternalNeeds
from bulletproof.tomlcompat import tomllib

log = logging.getLogger(__name__)
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


# what a build compiles or runs: C/C++ and their headers, Cython, SWIG interfaces, and the
# scripts that drive the build (setup.py, an in-tree backend, CMake, meson)
SOURCE_TEXTS = frozenset(
    {".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".pyx", ".pxd", ".pxi", ".i"}
    | {".swg", ".cmake"}
)
_BUILD_FILES = frozenset({"CMakeLists.txt", "meson.build"})
_SKIPPED = {"test", "tests", "testing", "doc", "docs", "example", "examples", "benchmarks"}
MAX_SOURCE_FILE = 512 * 1024  # a generated amalgamation is not read whole
MAX_SOURCE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class SourceTree:
    """An sdist's member paths (without its top folder) and the text of the files a build
    compiles or runs."""

    names: frozenset[str]
    texts: dict[str, str]


@dataclass(frozen=True)
class Sources:
    """What a failing sdist shows: its files, the compilers it calls for, what it builds with."""

    tree: SourceTree
    languages: frozenset[str]
    build_requires: tuple[str, ...]


def read_sources(package: LockedPackage, cache: Path | None = None) -> Sources | None:
    """The sdist's sources and facts; None when it has none or cannot be read (a repair then
    goes on without them)."""
    if not package.sdist:
        return None
    try:
        facts = inspect_sdist(package, cache)
        tree = source_tree(package, cache)
    except (BulletproofError, OSError, tarfile.TarError, zipfile.BadZipFile, ValueError) as exc:
        log.info("the sources of %s cannot be read: %s", package.pin, exc)
        return None
    return Sources(tree, facts.languages, facts.build_requires)


def source_tree(package: LockedPackage, cache: Path | None = None) -> SourceTree:
    """The sources of ``package``'s sdist (fetched once, hash-checked)."""
    data = _fetch(package, cache or user_cache_path("bulletproof") / "sdists")
    return read_tree(data, zipped=(package.sdist or "").endswith(".zip"))


def read_tree(data: bytes, *, zipped: bool = False) -> SourceTree:
    """An archive's sources; tests and docs are left out (a build does not compile them)."""
    names: set[str] = set()
    texts: dict[str, str] = {}
    budget = MAX_SOURCE_BYTES
    for name, size, read in _entries(data, zipped):
        relative = name.partition("/")[2]
        if not relative:
            continue
        names.add(relative)
        parts = PurePosixPath(relative)
        wanted = (
            parts.suffix.lower() in SOURCE_TEXTS
            or parts.name in _BUILD_FILES
            or _build_script(parts)
        )
        if not wanted or _SKIPPED & {p.lower() for p in parts.parts[:-1]}:
            continue
        if size > MAX_SOURCE_FILE or size > budget:
            continue
        budget -= size
        texts[relative] = read().decode("utf-8", "replace")
    return SourceTree(frozenset(names), texts)


def _build_script(path: PurePosixPath) -> bool:
    """A Python file that drives the build rather than ships in the package: setup.py, an
    in-tree backend at the top, a cffi or extension builder named for what it does."""
    if path.suffix != ".py":
        return False
    return len(path.parts) == 1 or "build" in path.stem.lower() or path.stem == "setup"


def _entries(data: bytes, zipped: bool) -> Iterator[tuple[str, int, Callable[[], bytes]]]:
    """(member name, size, a reader) for each regular file of a tar or zip archive."""
    if zipped:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    yield info.filename, info.file_size, partial(archive.read, info)
        return
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive:
            if member.isfile():
                yield member.name, member.size, partial(_read_member, archive, member)


def _read_member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = archive.extractfile(member)
    return handle.read() if handle else b""


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
