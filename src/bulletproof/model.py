"""Frozen values that many stages share: this system's os-release, the project and what was
chosen of it, a failure and the kinds of fix. A stage's own values sit beside it
(host/values.py, lockfile/values.py, verify/values.py, analyze/values.py, mitigate/values.py,
prove/results.py, code/found.py; the run's record in reporter.py)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    # functions of a compiled module with a fallback to time on both sides (verify/accelerated.py)
    benchmark: tuple[str, ...] = ()


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
