"""What verifying an environment comes to, as frozen values."""

from __future__ import annotations

import enum
from dataclasses import dataclass


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


class CompiledState(enum.Enum):
    """What a project module's try/except import of a compiled module came to."""

    IN_USE = "in use"  # the names the project module bound are the compiled module's
    FALLBACK = "fallback in use"  # the compiled module did not import, or was not the one bound
    NOT_COMPILED = "not compiled"  # it imports, but its file is no extension module
    NOT_CHECKED = "not checked"  # the project module itself did not import


@dataclass(frozen=True)
class Benchmark:
    """One function of a pair called on the same text on each side, timed (best of 3)."""

    function: str
    sample_bytes: int
    compiled_seconds: float = 0.0  # per call; 0 when not measured
    fallback_seconds: float = 0.0
    problem: str = ""  # why there is no speed-up to show ("" when measured)

    @property
    def ratio(self) -> float:
        """How many times faster the compiled side is (0 when not measured)."""
        if self.problem or self.compiled_seconds <= 0:
            return 0.0
        return self.fallback_seconds / self.compiled_seconds


@dataclass(frozen=True)
class CompiledUse:
    """A try/except import in the project's code of a compiled module with a fallback, and
    which of the two the environment gives it."""

    module: str  # the project module that does the try/except
    where: str  # path:line of the try
    names: tuple[str, ...]  # the names it binds
    compiled: str  # the module tried first
    fallback: str  # the module imported when it fails
    state: CompiledState
    file: str = ""  # the compiled module's file, when it imports
    error: str = ""  # why the fallback is in use (its ImportError), or why it was not checked
    benchmarks: tuple[Benchmark, ...] = ()

    def same_state(self, other: CompiledUse) -> bool:
        """The same pair found the same way (its benchmarks aside)."""
        return (self.module, self.compiled, self.fallback, self.state, self.file) == (
            other.module,
            other.compiled,
            other.fallback,
            other.state,
            other.file,
        )


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
    # each try/except import of a compiled module the project's code does, and which side is
    # in use: said, never a failure (the fallback works)
    accelerated: tuple[CompiledUse, ...] = ()

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
