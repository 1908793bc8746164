"""Frozen values passed between the stages (discover, probe, lock, apply, verify, report)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class OsInfo:
    id: str
    id_like: tuple[str, ...] = ()
    version_id: str = ""
    version_codename: str = ""
    ubuntu_codename: str = ""  # Linux Mint and other Ubuntu derivatives name their base here
    pretty_name: str = ""


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
class Host:
    os: OsInfo
    arch: str
    libc: Libc
    interpreters: tuple[Interpreter, ...]
    compilers: tuple[tuple[str, str], ...]  # (command, first line of its --version)
    package_manager: str | None


@dataclass(frozen=True)
class Config:
    """The ``[tool.bulletproof]`` table of pyproject.toml."""

    requirements: tuple[str, ...] | None = None  # file names, relative to the project
    python: str | None = None


@dataclass(frozen=True)
class ExternalNeeds:
    """A PEP 725 [external] table: what a package needs from outside Python, as identifiers."""

    build_requires: tuple[str, ...] = ()
    host_requires: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    why: str = ""
    unless: tuple[str, ...] = ()  # locked distributions that make it moot (a bundled variant)

    def __bool__(self) -> bool:
        return bool(self.build_requires or self.host_requires or self.dependencies)


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    pyproject: Path | None  # set when it has a [project] table, whose dependencies are locked
    requirement_files: tuple[Path, ...]  # the files named or found, plus those they include
    dependencies: tuple[str, ...]  # [project].dependencies
    requires_python: str | None
    config: Config
    installable: bool  # has [project] and [build-system]: installed editable into the env
    own_packages: tuple[str, ...]  # import names of the project's own top-level packages
    source_roots: tuple[Path, ...]  # where those packages live (root or src/)
    external: ExternalNeeds = ExternalNeeds()  # its own PEP 725 [external] table

    @property
    def input_files(self) -> tuple[Path, ...]:
        return ((self.pyproject,) if self.pyproject else ()) + self.requirement_files


@dataclass(frozen=True)
class Target:
    interpreter: Interpreter
    reason: str  # why this interpreter: "--python 3.12", "requires-python >=3.10", ...


@dataclass(frozen=True)
class LockResult:
    path: Path
    input_hash: str
    reused: bool
    packages: int
    seconds: float
    packages_hash: str  # of what uv locked, without bulletproof's own [tool.bulletproof] table


@dataclass(frozen=True)
class MovedPin:
    """A pin the mitigation engine moved: a uv override in the lock, never the user's files."""

    package: str
    was: str  # the version that failed
    to: str
    reason: str

    @classmethod
    def from_dict(cls, raw: Any) -> MovedPin | None:
        """From the lock's [tool.bulletproof] moved-pins; None when the entry is malformed."""
        keys = ("package", "from", "to", "reason")
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in keys):
            return None
        return cls(raw["package"], raw["from"], raw["to"], raw["reason"])

    def as_dict(self) -> dict[str, str]:
        return {"package": self.package, "from": self.was, "to": self.to, "reason": self.reason}


class ImportStatus(enum.Enum):
    OK = "ok"
    FAILED = "failed"  # raised an exception
    CRASHED = "crashed"  # the interpreter died (segfault, abort, os._exit)
    TIMEOUT = "timeout"  # did not finish within the per-import limit
    ABSENT = "absent"  # its own code says it is an optional part that is not available


@dataclass(frozen=True)
class ModuleCheck:
    module: str
    distribution: str
    status: ImportStatus
    seconds: float
    error: str = ""


@dataclass(frozen=True)
class IntegrityProblem:
    distribution: str
    path: str
    problem: str  # "missing", "size differs", "hash differs", "RECORD unreadable"


@dataclass(frozen=True)
class Verification:
    modules: tuple[ModuleCheck, ...]
    consistency_ok: bool
    consistency_output: str
    integrity_problems: tuple[IntegrityProblem, ...]
    files_checked: int
    distributions: int
    cached: bool = False
    seconds: float = 0.0

    @property
    def failed_modules(self) -> tuple[ModuleCheck, ...]:
        fine = (ImportStatus.OK, ImportStatus.ABSENT)
        return tuple(m for m in self.modules if m.status not in fine)

    @property
    def ok(self) -> bool:
        return self.consistency_ok and not self.integrity_problems and not self.failed_modules


@dataclass(frozen=True)
class Step:
    name: str
    seconds: float
    detail: str = ""


@dataclass
class RunRecord:
    """What a command did, gathered as it goes, for the terminal and JSON reports."""

    command: str
    project_dir: Path
    steps: list[Step] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


class Severity(enum.Enum):
    BLOCKER = "blocker"  # setup will fail and cannot fix it by itself
    ACTION = "action"  # setup fixes it (system packages with consent, a build constraint)
    INFO = "info"  # worth knowing: a source build, a check that could not be made


@dataclass(frozen=True)
class Finding:
    id: str  # stable: "<kind>:<subject>", e.g. "build:psycopg2", "system:libpq-dev"
    severity: Severity
    package: str  # the locked distribution it concerns, or "" for the host
    title: str
    why: str
    fix: str


@dataclass(frozen=True)
class SystemPlan:
    """The system packages the lock needs on this host, and how to install the missing ones."""

    ecosystem: str | None  # the mapping used ("debian-12", ...), None when this host has none
    manager: str | None
    needed: tuple[str, ...]  # package names, in the order they were first needed
    missing: tuple[str, ...]
    commands: tuple[tuple[str, ...], ...]  # what installs the missing ones (elevated as needed)


@dataclass(frozen=True)
class Diagnosis:
    findings: tuple[Finding, ...]
    system: SystemPlan
    build_constraints: tuple[str, ...]  # applied by setup to isolated builds
    source_builds: tuple[str, ...]  # "name==version" of what will build from source

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.BLOCKER)
