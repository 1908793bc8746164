"""The one retry policy of locking: what makes a lock be made again, with what changed, and
how many times. Every layer that locks again asks here; what a repair does (which fix, how it
is judged and undone) stays with its caller (mitigate/resolve.py, mitigate/engine.py).

Evidence -> made again with -> at most:
- uv: guessed dev extras not found -> without them -> once
- uv: no solution, the team's lock as constraints -> without the team's lock -> once
- uv: the project's own metadata does not build -> its dependencies without it -> once
- a resolve-stage signature naming a variable not yet set -> with it -> once each; the first
  that does not help ends that signature's
- a build the resolver needs fails (LockBuildError) -> with the fixes chosen -> 6 rounds
- a source not fetched, a name no index has -> without it (set aside) -> 8 set aside
- the project's own metadata build names what this system lacks -> after installing it (or
  setting the variable that points a build at it) -> 4 rounds, each naming something new
- a lock made again does not resolve, requirements were added -> without them -> once
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol, TypeVar

from packaging.utils import canonicalize_name

from bulletproof.analyze.faults import os_error_fault, scratch_places
from bulletproof.errors import FetchError, InputError, LockBuildError, ResolutionError, ToolError
from bulletproof.lockfile.uvoutput import (
    missing_extras,
    names_project,
    no_solution,
    resolution_error,
)
from bulletproof.lockfile.values import LockResult
from bulletproof.model import Project

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    compile_runs: int = 4  # uv pip compile runs for one lock: the first, and one per adjustment
    repairs: int = 6  # rounds of fixes for builds the resolver needs
    set_aside: int = 8  # requirements left out before the lock is given up


POLICY = RetryPolicy()


@dataclass(frozen=True)
class CompileTry:
    """What one uv pip compile run changes of the project's inputs, after the runs before it."""

    extras: tuple[str, ...] | None = None  # None: the project's own, the guessed ones too
    team_lock: bool = True
    with_project: bool = True  # False: the project's own metadata did not build
    own_error: str = ""  # uv's words when it did not
    notes: tuple[str, ...] = ()


def next_compile(
    stderr: str, tried: CompileTry, project: Project, *, uses_team_lock: bool
) -> CompileTry:
    """The next run after uv failed with ``stderr``; raises what the failure means when the
    evidence calls for no other run."""
    missing = missing_extras(stderr)
    if missing is not None and tried.extras is None:
        gone = {canonicalize_name(m) for m in missing}
        if {canonicalize_name(e) for e in project.extras} & gone:
            raise InputError(f"the project has no extra named {missing[0]!r}")
        kept = (*project.extras, *project.guessed_extras)
        return replace(tried, extras=tuple(e for e in kept if canonicalize_name(e) not in gone))
    if uses_team_lock and no_solution(stderr):
        if project.selection.locked:
            raise resolution_error(stderr, project)
        name = project.team_lock.name if project.team_lock else "the team's lock"
        note = f"{name} conflicts with the requirements: resolved afresh"
        return replace(tried, team_lock=False, notes=(*tried.notes, note))
    if tried.with_project and project.pyproject is not None and names_project(stderr, project.root):
        note = (
            "the project's own metadata does not build (its packaging's fault, evidence "
            "in the report): its dependencies were locked without it"
        )
        return replace(
            tried, with_project=False, own_error=stderr.strip(), notes=(*tried.notes, note)
        )
    raise resolution_error(stderr, project)


@dataclass(frozen=True)
class EnvRemedy:
    """A variable a resolve-stage signature says to set; ``group`` is the signature's match:
    when one of its remedies does not help, the rest of that match is not tried."""

    group: int
    key: str
    value: str


class Repairs(Protocol):
    """What the caller does with each kind of evidence (mitigate/resolve.py)."""

    def set_aside_count(self) -> int: ...

    def env_remedies(self, exc: ToolError | ResolutionError) -> Sequence[EnvRemedy]: ...

    def env_trying(self, remedy: EnvRemedy) -> None: ...

    def env_judged(self, remedy: EnvRemedy, *, helped: bool) -> None: ...

    def env_none_left(self, exc: ToolError | ResolutionError) -> None: ...

    def unreachable(self, exc: FetchError | ResolutionError) -> bool:
        """Left out (True: lock the rest), or the error stands."""
        ...

    def build(self, exc: LockBuildError) -> bool:
        """Fixes applied (True: one more round of fixes) or the package left out; raises when
        neither may be."""
        ...

    def locked(self, result: LockResult) -> bool:
        """Judge the last fixes by this lock; True to lock again (the project's own build got
        what its output named)."""
        ...

    def exhausted(self) -> BaseException: ...


def lock_repairing(
    once: Callable[[], LockResult], repairs: Repairs, root: Path, policy: RetryPolicy = POLICY
) -> LockResult:
    """Lock with ``once`` until it succeeds, answering each failure through ``repairs``, within
    the policy's rounds of fixes and set-aside requirements; ``root``: the project's folder,
    where the lock is written."""
    rounds = 0
    while rounds < policy.repairs and repairs.set_aside_count() <= policy.set_aside:
        try:
            result = _with_env_remedies(once, repairs)
        except OSError as exc:  # the lock's own write: a full disk is named, not a traceback
            fault = os_error_fault(exc, scratch_places(root))
            if fault is None:
                raise
            raise fault from exc
        except (FetchError, ResolutionError) as exc:  # one source no fix reaches
            if not repairs.unreachable(exc):
                raise
            continue
        except LockBuildError as exc:
            rounds += repairs.build(exc)
            continue
        if repairs.locked(result):
            continue
        return result
    raise repairs.exhausted()


def _with_env_remedies(once: Callable[[], LockResult], repairs: Repairs) -> LockResult:
    """One lock; when it fails as a resolve-stage signature knows, each variable it names is
    tried once (a VCS host git could not reach is none of uv's variables' business)."""
    try:
        return once()
    except FetchError:
        raise
    except (ToolError, ResolutionError) as exc:  # a LockBuildError is neither: repaired above
        given_up: set[int] = set()
        for remedy in repairs.env_remedies(exc):
            if remedy.group in given_up:
                continue
            repairs.env_trying(remedy)
            try:
                result = once()
            except (ToolError, ResolutionError):
                repairs.env_judged(remedy, helped=False)
                given_up.add(remedy.group)
                continue
            repairs.env_judged(remedy, helped=True)
            return result
        repairs.env_none_left(exc)
        raise


def lock_again_without(lock_again: Callable[[], T], drop: Callable[[ResolutionError], None]) -> T:
    """A lock made again that does not resolve is made once more after ``drop`` took out what
    was added since (it raises when nothing was)."""
    try:
        return lock_again()
    except ResolutionError as exc:
        drop(exc)
    return lock_again()
