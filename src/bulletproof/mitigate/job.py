"""What the repair engine is given (``Job``, a frozen value) and what one of its runs works with
(``Working``: the plan of fixes in force, the lock and target it builds from, what it set aside),
made at the start of ``Engine.run`` and dropped at its end."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from bulletproof.analyze.wheels import read_locked
from bulletproof.host.values import Interpreter, Target
from bulletproof.knowledge.mappings import DistroMapping
from bulletproof.lockfile.values import AddedRequirement, LockResult, MovedPin, SetAside
from bulletproof.mitigate.context import Asks, Context, Facts
from bulletproof.mitigate.plan import Plan
from bulletproof.model import Project
from bulletproof.requirements import declared_names
from bulletproof.verify.values import Verification

MAX_ROUNDS = 8
BUDGET_SECONDS = 1800.0  # after which the best generation built is delivered


@dataclass(frozen=True)
class Job:
    """The repair's inputs: the project, the lock and target it starts from, and the fixes the
    lock and the prediction already made."""

    project: Project
    target: Target
    locked: LockResult
    mapping: DistroMapping | None
    assume_yes: bool
    import_timeout: float
    others: Callable[[], Sequence[Interpreter]] = tuple  # other interpreters the project allows
    constraints: tuple[str, ...] = ()  # from doctor's predictions and the lock's builds
    allow_system: bool = True
    strict: bool = False  # only a verified environment ends the loop, not a usable one
    added: tuple[AddedRequirement, ...] = ()  # carried from the previous lock
    env: Mapping[str, str] = field(default_factory=dict)  # variables the lock's builds needed
    pins: tuple[MovedPin, ...] = ()  # moved pins the lock was made with (carried, or moved there)
    set_aside: tuple[SetAside, ...] = ()  # left out while locking
    partial: bool = True  # deliver the best generation short of verified (not with --strict)
    budget: float = BUDGET_SECONDS


@dataclass
class Working:
    """One run's working state; nothing outside that run sees it."""

    plan: Plan
    ctx: Context
    locked: LockResult
    target: Target
    left_out: list[SetAside]  # requirements set aside so far
    # requirements of the project's extras and groups not chosen: where an undeclared import is
    # looked for first
    declared_elsewhere: list[str]
    installed: set[str] = field(default_factory=set)  # system packages installed by a fix
    stale: bool = False  # the plan's pins, requirements or interpreter changed since the lock
    gave_up: str = ""  # what the last failure with no fix left was
    gave_up_detail: str = ""
    failed: Verification | None = None  # of the last generation that failed its verification

    @classmethod
    def start(cls, job: Job) -> Working:
        project = job.project
        declared = frozenset(
            canonicalize_name(n)
            for n in declared_names(project.direct_requirements, project.requirement_files)
        )
        facts = Facts(
            job.mapping,
            job.target.interpreter,
            project.root,
            {},
            declared=declared,
            allow_system=job.allow_system,
        )
        plan = Plan(
            constraints=list(job.constraints),
            env=dict(job.env),
            added={a.module: a for a in job.added},
        )
        working = cls(
            plan,
            Context(facts, Asks(others=job.others)),
            job.locked,
            job.target,
            list(job.set_aside),
            list(project.unchosen_requirements),
        )
        working.read_lock()
        return working

    def read_lock(self) -> None:
        """What the fixes are proposed against from now on: the locked versions and sources,
        the target interpreter (the run's memory stays)."""
        packages = read_locked(self.locked.path)
        self.ctx = self.ctx.with_facts(
            locked={p.name: p.version for p in packages},
            sources={p.name: p for p in packages},
            interpreter=self.target.interpreter,
        )

    def state(self) -> tuple[object, ...]:
        """What a generation is built from, as one key: a state built before is not built
        again (a later move that undoes an earlier fix leads back to it)."""
        plan = self.plan
        return (
            tuple(sorted((f.package, f.value) for f in plan.pins.values())),
            tuple(sorted(plan.constraints)),
            tuple(sorted(plan.env.items())),
            tuple(sorted(a.requirement for a in plan.added.values())),
            tuple(sorted(canonicalize_name(s.package) for s in self.left_out)),
            tuple(sorted(self.installed)),
            plan.interpreter or "",
        )
