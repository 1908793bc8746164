"""Whether this system already has what a file-index query asks for: a command on PATH, a header
in the compiler's default include folders, a pkg-config module where pkg-config looks, a library
where the linker and loader look, a file at its path.

Asked before the file index is: a failure that names something the system has is not missing it
(the build looked elsewhere), and a package for it would change nothing. The folders are Debian's
and the FHS's, with the multiarch triplet found on disk rather than asked of a compiler that may
not be installed yet."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from bulletproof.host.filequery import CRATE_REGISTRY, Query

_INCLUDE = ("usr/include", "usr/local/include")
_LIB = ("lib", "lib64", "usr/lib", "usr/lib64", "usr/local/lib", "usr/local/lib64")
_PKGCONFIG = ("usr/share/pkgconfig", "usr/local/share/pkgconfig")


@dataclass(frozen=True)
class System:
    """The places to look: ``root`` for another tree (a test's, a chroot's); ``path`` for
    commands (None: this process's PATH, read when asked, never at import)."""

    root: Path = Path("/")
    path: str | None = None

    def has(self, query: Query) -> bool:  # noqa: PLR0911  (one return per kind)
        kind, name = query.kind, query.name
        if kind == "command":
            return self._command(name)
        if kind == "header":
            return any((d / name).is_file() for d in self.include_dirs())
        if kind == "pkgconfig":
            return any((d / f"{name}.pc").is_file() for d in self.pkgconfig_dirs())
        if kind == "link":
            return any(
                (d / f"lib{name}{suffix}").exists()
                for d in self.lib_dirs()
                for suffix in (".so", ".a")
            )
        if kind == "soname":
            return any((d / name).exists() for d in self.lib_dirs())
        if kind == "library":
            return any(any(d.glob(f"lib{query.stem}*.so*")) for d in self.lib_dirs())
        if kind == "crate":
            return any(self._under(CRATE_REGISTRY).glob(f"{name}-[0-9]*/Cargo.toml"))
        return self._under(name).exists()  # a file, a standard-library file: by its path

    def _command(self, name: str) -> bool:
        if "/" in name:
            where = self._under(name)
            return where.is_file() and os.access(where, os.X_OK)
        path = os.environ.get("PATH", os.defpath) if self.path is None else self.path
        if self.root != Path("/"):
            path = os.pathsep.join(str(self._under(p)) for p in path.split(os.pathsep) if p)
        return shutil.which(name, path=path) is not None

    def _under(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def include_dirs(self) -> list[Path]:
        extra = _env_dirs("CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH")
        return self._with_multiarch(_INCLUDE) + [self._under(d) for d in extra]

    def lib_dirs(self) -> list[Path]:
        return self._with_multiarch(_LIB) + [self._under(d) for d in _env_dirs("LIBRARY_PATH")]

    def pkgconfig_dirs(self) -> list[Path]:
        found = [d / "pkgconfig" for d in self.lib_dirs()]
        found += [self._under(d) for d in _PKGCONFIG]
        return found + [self._under(d) for d in _env_dirs("PKG_CONFIG_PATH")]

    def _with_multiarch(self, bases: tuple[str, ...]) -> list[Path]:
        """Each folder, then its multiarch subfolders (x86_64-linux-gnu, aarch64-linux-musl)."""
        found: list[Path] = []
        for base in bases:
            folder = self._under(base)
            found.append(folder)
            if folder.is_dir():
                found += sorted(p for p in folder.glob("*-linux-*") if p.is_dir())
        return found


def _env_dirs(*names: str) -> list[str]:
    """Folders the user added through the compiler's and pkg-config's own variables."""
    return [d for n in names for d in os.environ.get(n, "").split(os.pathsep) if d]


def lacking(queries: list[Query], system: System | None = None) -> list[Query]:
    """Of ``queries``, the ones this system does not have, in their order, once each."""
    system = System() if system is None else system
    return [q for q in dict.fromkeys(queries) if not system.has(q)]
