"""What is known of this machine's interpreters and the one chosen, as frozen values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bulletproof.model import (
    OsInfo,
)


@dataclass(frozen=True)
class Host:
    os: OsInfo
    arch: str
    libc: Libc
    interpreters: tuple[Interpreter, ...]
    compilers: tuple[tuple[str, str], ...]  # (command, first line of its --version)
    package_manager: str | None


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: str  # e.g. "3.12.1"
    implementation: str  # "cpython", "pypy"
    has_headers: bool  # Python.h present: needed to build C extensions for this interpreter
    source: str  # where it was found: "path", "pyenv", "system", "uv", "given"

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


@dataclass(frozen=True)
class Libc:
    name: str  # "glibc", "musl" or "unknown"
    version: str


@dataclass(frozen=True)
class Target:
    interpreter: Interpreter
    reason: str  # why this interpreter: "--python 3.12", "requires-python >=3.10", ...
