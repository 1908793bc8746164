"""Frozen values passed between the stages (discover, probe, lock, apply, verify, report); the
one record a run gathers as it goes (RunRecord) is frozen too, its lists only appended to."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bulletproof.shapes.teamlock import TeamLock


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
class Selection:
    """Which extras and groups make the environment (uv's spellings: --extra, --group...)."""

    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ()
    only_groups: tuple[str, ...] = ()
    dev: bool = True  # the dev/test extras and groups a developer needs, by default
    locked: bool = False  # the team's lock must be current (--locked): stale is an error


@dataclass(frozen=True)
class Config:
    """The ``[tool.bulletproof]`` table of pyproject.toml."""

    requirements: tuple[str, ...] | None = None  # file names, relative to the project
    python: str | None = None
    selection: Selection = Selection()  # extras, groups, no-dev from the table
    tests: str | None = None  # the command that runs the project's tests
    tests_pass_rate: float | None = None  # the share of counted tests that must pass, 0..1


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
    pyproject: Path | None  # the file uv reads the project's own requirements from through its
    # build backend (pyproject.toml, setup.py or setup.cfg); None when the project is no package
    requirement_files: tuple[Path, ...]  # the files named or found, plus those they include
    dependencies: tuple[str, ...]  # [project].dependencies
    requires_python: str | None
    config: Config
    installable: bool  # a package with a build backend: installed editable into the env
    own_packages: tuple[str, ...]  # import names of the project's own top-level packages
    source_roots: tuple[Path, ...]  # where those packages live (root or src/)
    external: ExternalNeeds = ExternalNeeds()  # its own PEP 725 [external] table
    shape: str = "requirements"  # how it declares itself: "pyproject", "setup.py", "poetry"...
    extras: tuple[str, ...] = ()  # of the project itself, asked of uv
    guessed_extras: tuple[str, ...] = ()  # dev-named extras that may not exist (dynamic metadata)
    all_extras: bool = False
    groups: tuple[str, ...] = ()  # the dependency groups used
    group_requirements: tuple[str, ...] = ()  # their requirements, PEP 508 (and a Pipfile's)
    direct_requirements: tuple[str, ...] = ()  # what the project asks directly, where static
    unchosen_requirements: tuple[str, ...] = ()  # of its extras and groups not chosen
    team_lock: TeamLock | None = None  # uv.lock, poetry.lock, pdm.lock or Pipfile.lock
    build_env: tuple[tuple[str, str], ...] = ()  # for its own build (a pretend VCS version)
    other_inputs: tuple[Path, ...] = ()  # read for the lock but not given to uv (Pipfile, uv.toml)
    notes: tuple[str, ...] = ()  # what was read and why, for the report
    selection: Selection = Selection()

    @property
    def input_files(self) -> tuple[Path, ...]:
        """The files uv is given to lock."""
        return ((self.pyproject,) if self.pyproject else ()) + self.requirement_files

    @property
    def hashed_files(self) -> tuple[Path, ...]:
        """Every file whose change can change the lock."""
        lock = (self.team_lock.path,) if self.team_lock else ()
        return self.input_files + self.other_inputs + lock


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
    notes: tuple[str, ...] = ()  # what the lock was made from: the team's lock used or stale
    own_build_error: str = ""  # the project's own metadata did not build: its packaging's fault


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


@dataclass(frozen=True)
class AddedRequirement:
    """A requirement added for a module the project's code imports and does not declare: in
    the lock only, never the user's files."""

    module: str
    requirement: str
    reason: str

    @classmethod
    def from_dict(cls, raw: Any) -> AddedRequirement | None:
        keys = ("module", "requirement", "reason")
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in keys):
            return None
        return cls(raw["module"], raw["requirement"], raw["reason"])

    def as_dict(self) -> dict[str, str]:
        return {"module": self.module, "requirement": self.requirement, "reason": self.reason}


@dataclass(frozen=True)
class SetAside:
    """A requirement left out so that the rest could be delivered: it could not be fetched,
    locked or built, and no fix was left. Retried on every setup; never written to the user's
    files."""

    package: str
    stage: str  # "lock" (fetched or resolved) or "build"
    cause: str

    def as_dict(self) -> dict[str, str]:
        return {"package": self.package, "stage": self.stage, "cause": self.cause}


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
    # the libraries the module tried to load and could not (ctypes, cffi, find_library, the
    # loader, an extension's unresolved DT_NEEDED): what the file index is asked for
    libraries: tuple[str, ...] = ()


@dataclass(frozen=True)
class IntegrityProblem:
    distribution: str
    path: str
    problem: str  # "missing", "size differs", "hash differs", "RECORD unreadable"


class Verdict(enum.Enum):
    VERIFIED = "verified"  # every module that should import does; consistent; files intact
    USABLE = "usable"  # what the project's code imports works; what fails is not the env's
    # delivered with something set aside (a requirement that could not be fetched, locked or
    # built) or a module of the project's that still fails: a setup's outcome, never a
    # Verification's own verdict
    INCOMPLETE = "incomplete"
    BROKEN = "broken"


# What a failed import means. Only BROKEN, UNDECLARED and INTERPRETER are the environment's to fix.
class FailureKind(enum.Enum):
    BROKEN = "broken"
    UNDECLARED = "undeclared"  # the project's code imports a module nothing installed provides
    OPTIONAL = "optional"  # needs a module its distribution does not require (an extra)
    GUARDED = "guarded"  # the project imports it only inside try/except ImportError
    OWN_CODE = "own code"  # raised in the project's own file: no environment change fixes it
    INCOMPATIBLE = "incompatible"  # imports a name another package no longer has
    UPSTREAM = "its own code"  # a dependency's own bug (a circular import of a submodule alone)
    # a module of the standard library this interpreter lacks: a system package or another
    # build of Python brings it, never the package index
    INTERPRETER = "interpreter"
    # a dependency's submodule the project's code does not import needs a name another
    # installed package does not have (a Windows-only part, a plugin for another tool)
    UNREACHED = "unreached"
    # the project's own module refuses to load outside its framework's context (a Django
    # module with no settings configured): not the environment's failure
    CONTEXT = "needs its framework's context"

    @property
    def environment(self) -> bool:
        return self in (FailureKind.BROKEN, FailureKind.UNDECLARED, FailureKind.INTERPRETER)

    @property
    def informational(self) -> bool:
        """Not a failure of this environment: a dependency's submodule the project's code does
        not import, which needs a module its distribution does not require (an optional part),
        refuses to load on its own (its own code) or needs a name another package does not have
        (unreached). Listed, never repaired (no pin is moved for it), and the environment is
        still verified: what decides is what the project uses."""
        return self in (
            FailureKind.OPTIONAL,
            FailureKind.UPSTREAM,
            FailureKind.UNREACHED,
            FailureKind.CONTEXT,
        )


@dataclass(frozen=True)
class Judged:
    module: str
    distribution: str
    kind: FailureKind
    why: str


@dataclass(frozen=True)
class Skipped:
    """A file with a module's name that is not one (a shared library with an extension's name):
    never imported, never a failure, listed with why."""

    module: str
    path: str  # as its distribution's RECORD names it
    distribution: str
    why: str


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
    judged: tuple[Judged, ...] = ()  # what each failed import means
    skipped: tuple[Skipped, ...] = ()  # files with a module's name that are not modules

    @property
    def verdict(self) -> Verdict:
        if self.ok:
            return Verdict.VERIFIED
        if not self.consistency_ok or self.integrity_problems:
            return Verdict.BROKEN
        failed = {m.module for m in self.failed_modules}
        meanings = {j.module: j.kind for j in self.judged}
        if not all(m in meanings for m in failed):
            return Verdict.BROKEN
        # a submodule only: a distribution's top-level module is what a requirement is for
        if all(meanings[m].informational and "." in m for m in failed):
            return Verdict.VERIFIED  # what is left is listed, not installed or not loadable alone
        if all(not meanings[m].environment for m in failed):
            return Verdict.USABLE
        return Verdict.BROKEN

    @property
    def shortfall(self) -> int:
        """How far from what the project needs: the failed imports that are the environment's
        (a dependency's part the project does not reach is not counted), and an inconsistent
        set. Generations are compared on it; lower is better."""
        meanings = {j.module: j.kind for j in self.judged}
        counted = [
            m
            for m in self.failed_modules
            if m.module not in meanings
            or meanings[m.module].environment
            or meanings[m.module] is FailureKind.INCOMPATIBLE  # a pin may still answer it
        ]
        return len(counted) + (0 if self.consistency_ok else 1) + len(self.integrity_problems)

    @property
    def failed_modules(self) -> tuple[ModuleCheck, ...]:
        fine = (ImportStatus.OK, ImportStatus.ABSENT)
        return tuple(m for m in self.modules if m.status not in fine)

    @property
    def ok(self) -> bool:
        """Nothing failed at all (``verdict`` is what decides: optional parts may be left)."""
        return self.consistency_ok and not self.integrity_problems and not self.failed_modules


@dataclass(frozen=True)
class Step:
    name: str
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class RunRecord:
    """What a command did, gathered as it goes, for the terminal and JSON reports: the reporter
    appends to its lists; nothing replaces or edits an entry."""

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


# What the repair works with: failures, fixes and attempts (mitigate/ makes them, report/ and
# generate/ read them).


class _Named(str, enum.Enum):
    """A string-valued enum that prints and compares as its value (reports, JSON, signatures)."""

    def __str__(self) -> str:
        return str(self.value)


class FixKind(_Named):
    """What a fix changes; declared least intrusive first, and that order is the one order."""

    SYSTEM = "system"  # a system package
    CONSTRAINT = "constraint"  # a build constraint for isolated builds
    ENV = "env"  # a variable for uv and the builds
    REQUIREMENT = "requirement"  # a package added for an undeclared import
    PIN = "pin"  # a moved pin
    INTERPRETER = "interpreter"  # another local interpreter

    @property
    def level(self) -> int:
        return list(FixKind).index(self)


class Stage(_Named):
    """Where a failure happened."""

    BUILD = "build"
    IMPORT = "import"
    RESOLVE = "resolve"
    LOCK = "lock"  # a build the resolver made to read an sdist's metadata
    VERIFY = "verify"
    UNDECLARED = "undeclared"  # an import nothing installed provides (package: the module)


class Outcome(_Named):
    """What came of an attempt."""

    PENDING = "pending"
    FIXED = "fixed"
    DID_NOT_HELP = "did not help"
    NO_FIX = "no fix known"
    DECLINED = "declined"
    # no fix left for one requirement: it is left out and the rest delivered without it
    SET_ASIDE = "set aside"


@dataclass(frozen=True)
class Failure:
    package: str  # the distribution that failed ("" when none can be named)
    stage: Stage
    text: str  # the whole log or error
    module: str = ""  # for an import failure
    tolerated: bool = False  # not the environment's fault: tried, and left when nothing fixes it
    libraries: tuple[str, ...] = ()  # for an import failure: what it tried to load and could not

    def __post_init__(self) -> None:
        object.__setattr__(self, "stage", Stage(self.stage))


@dataclass(frozen=True)
class Fix:
    kind: FixKind
    value: str  # "libpq-dev", "cython<3", "UV_NATIVE_TLS=1", "numpy==2.1.0", an interpreter path
    package: str = ""  # for a pin: the distribution it moves
    was: str = ""  # for a pin: the version that failed
    reason: str = ""  # a pin: why it moved (recorded in the lock); a system package: found how
    library: str = ""  # a system package for a library a module could not load: that library

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", FixKind(self.kind))  # a plain string is accepted

    @property
    def level(self) -> int:
        return self.kind.level

    def moved_pin(self) -> MovedPin:
        """A pin fix as the lock records it."""
        return MovedPin(self.package, self.was, self.value.partition("==")[2], self.reason)

    def describe(self) -> str:
        return {
            "system": f"install the system package {self.value}"
            + (f" ({self.reason})" if self.reason else ""),
            "constraint": f"build with the constraint {self.value}"
            + (f" ({self.reason})" if self.reason else ""),
            "env": f"set {self.value} for uv and the builds",
            "requirement": f"add {self.value} for the import of {self.package} (in the lock only)",
            "pin": f"move {self.package} from {self.was} to {self.value.split('==')[-1]}",
            "interpreter": f"use the interpreter {self.value}",
        }[self.kind.value]


@dataclass(frozen=True)
class Attempt:
    """One fix tried for one failure (or none, when none was left). Its outcome is settled by a
    new value in the repair's append-only log (mitigate/attemptlog.py), never in place."""

    package: str
    stage: str
    signature: str  # the matched signature's id; "" when nothing matched
    cause: str
    evidence: tuple[str, ...]  # the log lines it matched
    fix: Fix | None
    outcome: Outcome = Outcome.PENDING
    values: Mapping[str, str] = field(default_factory=dict)  # what the signature's groups caught

    def as_dict(self) -> dict[str, object]:
        return {
            "package": self.package,
            "stage": Stage(self.stage).value,
            "signature": self.signature,
            "cause": self.cause,
            "evidence": list(self.evidence),
            "fix": None
            if self.fix is None
            else {
                "kind": self.fix.kind.value,
                "value": self.fix.value,
                "what": self.fix.describe(),
            },
            "outcome": Outcome(self.outcome).value,
        }
