"""The loop: build a new generation and verify it; when something fails, find every failure in
one pass, match each against the signatures, apply the least intrusive untried fix per failure,
and try again. A fix after which the same signature says the same thing did not help: undone.
Bounded; what it cannot fix ends in Unfixable with every attempt and its evidence."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from bulletproof.analyze.buildlogs import build_failure
from bulletproof.analyze.faults import (
    measured_again,
    os_error_fault,
    scratch_places,
    stopping_fault,
    unpacked_size,
)
from bulletproof.analyze.lock import lock
from bulletproof.analyze.signatures import Match, match
from bulletproof.analyze.wheels import read_locked, source_builds, target_tags
from bulletproof.apply.generations import Generation, Store
from bulletproof.apply.install import build_environment
from bulletproof.apply.system import install_named
from bulletproof.errors import BuildError, DiskFull, ResolutionError
from bulletproof.host.pythons import query
from bulletproof.knowledge.mappings import DistroMapping
from bulletproof.mitigate.consent import Unfixable, consent
from bulletproof.mitigate.plan import Plan
from bulletproof.mitigate.propose import Context, applied, pick
from bulletproof.mitigate.trials import failing_builds
from bulletproof.mitigate.undeclared import next_fix, unresolved
from bulletproof.model import (
    AddedRequirement,
    Attempt,
    Failure,
    FailureKind,
    Fix,
    FixKind,
    Interpreter,
    LockResult,
    MovedPin,
    Outcome,
    Project,
    Stage,
    Target,
    Verdict,
    Verification,
)
from bulletproof.report.terminal import Ui
from bulletproof.verify.run import verify

MAX_ROUNDS = 8
_MISSING = re.compile(r"No module named '([\w.]+)'")


@dataclass
class Engine:
    project: Project
    target: Target
    locked: LockResult
    store: Store
    ui: Ui
    mapping: DistroMapping | None
    assume_yes: bool
    import_timeout: float
    others: Callable[[], Sequence[Interpreter]] = tuple
    constraints: tuple[str, ...] = ()  # from doctor's predictions
    allow_system: bool = True
    strict: bool = False  # only a verified environment ends the loop, not a usable one
    added: tuple[AddedRequirement, ...] = ()  # carried from the previous lock
    env: Mapping[str, str] = field(default_factory=dict)  # variables the lock's builds needed
    pins: tuple[MovedPin, ...] = ()  # moved pins the lock was made with (carried, or moved there)
    plan: Plan = field(default_factory=Plan)
    attempts: list[Attempt] = field(default_factory=list)
    last_verification: Verification | None = None  # of the last generation that failed it

    def __post_init__(self) -> None:
        self.first_target = self.target  # what an undone interpreter fix goes back to
        self.ctx = Context(self.mapping, self.target.interpreter, self.project.root, {})
        self.ctx.others, self.ctx.allow_system = self.others, self.allow_system
        self._read_lock()
        self.stale = False  # the plan's pins or interpreter changed since the last lock
        # requirements of the project's extras and groups not chosen: where an undeclared
        # import is looked for first
        self.declared_elsewhere = list(self.project.unchosen_requirements)

    def run(self) -> tuple[Generation, Verification]:
        self.plan.constraints = list(self.constraints)
        self.plan.env = dict(self.env)
        self.plan.added = {a.module: a for a in self.added}
        pending: list[Attempt] = []
        for _ in range(MAX_ROUNDS):
            try:
                failures, built, usable = self._try()
            except DiskFull as exc:  # the half-built generation is gone now: measured again
                raise measured_again(exc) from None
            except OSError as exc:  # our own write (the generation is discarded by _try)
                fault = os_error_fault(exc, self._scratch())
                if fault is None:
                    raise
                raise fault from exc
            stop = stopping_fault((f.text for f in failures), self._scratch, self._needed)
            if stop is not None:  # a full disk, a source not fetched: no fix to propose
                if usable is not None:
                    self.store.discard(usable[0])
                raise stop
            matched = [(f, match(f.text, f.stage)) for f in failures]
            self._judge(pending, matched)
            if built is not None:
                return built
            try:
                pending = self._fix(matched)
            except BaseException:
                if usable is not None:
                    self.store.discard(usable[0])
                raise
            if usable is not None:
                if not any(a.fix is not None for a in pending):
                    return usable  # what is left is not the environment's, and stays
                self.store.discard(usable[0])
            if self.stale:
                self._relock(pending)
        raise Unfixable(
            f"still failing after {MAX_ROUNDS} rounds of fixes",
            self.attempts,
            hint="the attempts above show what was tried",
        )

    def _scratch(self) -> list[Path]:
        return scratch_places(self.project.root)

    def _needed(self) -> int | None:
        return unpacked_size(self.locked.path, target_tags(self.target.interpreter))

    def _read_lock(self) -> None:
        """What the fixes are proposed against: the locked versions, the target interpreter."""
        packages = read_locked(self.locked.path)
        self.ctx.locked = {p.name: p.version for p in packages}
        self.ctx.sources = {p.name: p for p in packages}
        self.ctx.interpreter = self.target.interpreter

    def _try(
        self,
    ) -> tuple[
        list[Failure],
        tuple[Generation, Verification] | None,
        tuple[Generation, Verification] | None,
    ]:
        """(failures to fix, a verified generation, a usable one kept while its tolerated
        failures are tried)."""
        gen = self.store.new_generation()
        try:
            with self.ui.step(f"Building environment {gen.path.name}"):
                build_environment(
                    gen.path,
                    self.locked.path,
                    self.project,
                    self.target,
                    build_constraints=tuple(self.plan.constraints),
                    env=self.plan.env,
                    own_build_failed=bool(self.locked.own_build_error),
                )
        except BuildError as exc:
            self.store.discard(gen)
            return self._failing_builds(exc), None, None
        except BaseException:
            self.store.discard(gen)
            raise
        try:
            with (
                self.ui.step("Verifying the new environment", spinner=False),
                self.ui.import_progress() as progress,
            ):
                verification = verify(
                    gen.path,
                    self.project,
                    full=True,
                    timeout=self.import_timeout,
                    on_imports=progress,
                )
        except BaseException:
            self.store.discard(gen)
            raise
        failures = _verification_failures(verification, self.strict)
        if verification.ok or not failures:
            return [], (gen, verification), None
        self.last_verification = verification
        if not self.strict and verification.verdict is Verdict.USABLE:
            return failures, None, (gen, verification)
        self.store.discard(gen)
        return failures, None, None

    def _failing_builds(self, exc: BuildError) -> list[Failure]:
        builds = source_builds(read_locked(self.locked.path), self.target.interpreter)
        with self.ui.step(f"Trying each of {len(builds)} source builds alone") as detail:
            found = failing_builds(
                builds,
                self.target.interpreter.path,
                self.project.root,
                self.plan.constraints,
                self.plan.env,
            )
            detail.append(f"{len(found)} failed")
        return found or [build_failure("", exc.detail or exc.message)]

    def _judge(self, pending: list[Attempt], matched: list[tuple[Failure, list[Match]]]) -> None:
        """A fix helped unless the failure it answered is still there, for the same reason."""
        for attempt in pending:
            if attempt.stage is Stage.UNDECLARED:
                still = any(
                    f.stage is Stage.UNDECLARED and f.package == attempt.package for f, _ in matched
                )
                attempt.outcome = Outcome.DID_NOT_HELP if still else Outcome.FIXED
                if still and attempt.fix is not None:
                    self.plan.undo(attempt.fix)
                    self.stale = True
                continue
            library = attempt.fix.library if attempt.fix is not None else ""
            if library:  # a library it could not load: helped if that one loads now
                still = any(library in f.libraries for f, _ in matched)
                attempt.outcome = Outcome.DID_NOT_HELP if still else Outcome.FIXED
                continue  # an installed system package stays installed: nothing to undo
            still = any(
                f.package == attempt.package
                and f.stage == attempt.stage
                and not attempt.signature  # no signature to compare: the failure itself
                for f, _ in matched
            ) or any(
                f.package == attempt.package
                and any(
                    # the same signature saying the same thing (evidence lines name paths
                    # that change with the generation and the interpreter)
                    m.signature.id == attempt.signature and m.values == attempt.values
                    for m in hits
                )
                for f, hits in matched
            )
            attempt.outcome = Outcome.DID_NOT_HELP if still else Outcome.FIXED
        # a fix that answered several failures stays while it helped one of them
        helped = {a.fix for a in pending if a.outcome is Outcome.FIXED and a.fix is not None}
        for attempt in pending:
            fix = attempt.fix
            if (
                attempt.outcome is Outcome.DID_NOT_HELP
                and fix is not None
                and fix not in helped
                and attempt.stage is not Stage.UNDECLARED  # undone above
                and not fix.library  # an installed system package stays installed
            ):
                self.plan.undo(fix)
                self.stale |= fix.kind in (FixKind.PIN, FixKind.INTERPRETER)

    def _fix(self, matched: list[tuple[Failure, list[Match]]]) -> list[Attempt]:
        chosen: list[Attempt] = []
        shared: list[Attempt] = []  # answered by a fix chosen for another failure
        for failure, hits in matched:
            picked = (
                self._undeclared_fix(failure)
                if failure.stage is Stage.UNDECLARED
                else pick(failure, hits, self.ctx)
            )
            if not picked and chosen:
                # a fix chosen this round for another failure may answer this one too (one
                # missing library, two packages that load it): judged with the others
                this_round = {a.fix for a in chosen if a.fix is not None}
                self.ctx.tried -= this_round
                try:
                    again = (
                        pick(failure, hits, self.ctx)
                        if failure.stage is not Stage.UNDECLARED
                        else []
                    )
                finally:
                    self.ctx.tried |= this_round
                same = [_attempt(failure, hit, fix) for hit, fix in again if fix in this_round]
                shared += same
                # nothing new for it while this round's fixes are untried: they may change what
                # it is (another interpreter changes every package), so it waits for the next
                continue
            if not picked and failure.tolerated and not self.strict:
                self.attempts.append(_attempt(failure, hits[0] if hits else None, None))
                self.attempts[-1].outcome = Outcome.NO_FIX
                continue
            if not picked:
                first = hits[0] if hits else None
                self.attempts.append(_attempt(failure, first, None))
                self.attempts[-1].outcome = Outcome.NO_FIX
                raise Unfixable(
                    unresolved(failure, self.ctx)
                    if failure.stage is Stage.UNDECLARED
                    else _unfixable_message(failure, first),
                    self.attempts,
                    hint="the attempts above show what was tried",
                    detail=_tail(failure.text),
                )
            moving = next(
                (a.fix for a in chosen if a.fix and a.fix.kind is FixKind.INTERPRETER), None
            )
            for hit, fix in picked:
                if fix.kind is FixKind.INTERPRETER and moving is not None:
                    # one interpreter per round: this failure is judged on the one chosen
                    shared.append(_attempt(failure, hit, moving))
                    continue
                chosen.append(_attempt(failure, hit, fix))
                self.ctx.tried.add(fix)
        moving = next((a.fix for a in chosen if a.fix and a.fix.kind is FixKind.INTERPRETER), None)
        if moving is not None:
            # another interpreter re-resolves every package: this round moves it alone, and
            # what the others would have changed is asked again on the new one
            for attempt in chosen:
                if attempt.fix is not None and attempt.fix != moving:
                    self.ctx.tried.discard(attempt.fix)
            chosen = [a for a in chosen if a.fix == moving]
            shared = [a for a in shared if a.fix == moving]
        self.attempts.extend(chosen + shared)
        self._apply([a for a in chosen if a.fix is not None])
        return chosen + shared

    def _lock(self, pins: list[MovedPin]) -> LockResult:
        return lock(
            self.project,
            self.target,
            {},
            pins=pins,
            added=list(self.plan.added.values()),
            build_constraints=self.plan.constraints,
            env=self.plan.env,
        )

    def _undeclared_fix(self, failure: Failure) -> list[tuple[Match | None, Fix]]:
        """The next requirement (or, for the standard library, system package) to try for an
        import nothing provides: one at a time, judged alone."""
        fix = next_fix(failure, self.project, self.declared_elsewhere, self.ctx)
        return [(None, fix)] if fix is not None else []

    def _apply(self, attempts: list[Attempt]) -> None:
        fixes = [a.fix for a in attempts if a.fix is not None]
        names = tuple(dict.fromkeys(f.value for f in fixes if f.kind is FixKind.SYSTEM))
        if names and self.mapping is not None:
            install_named(names, self.mapping, self.ui, assume_yes=self.assume_yes)
        for fix in fixes:
            self.ui.say(f"fix: {fix.describe()}")
            if fix.kind is FixKind.CONSTRAINT:
                self.plan.constraints.append(fix.value)
            elif fix.kind is FixKind.ENV:
                key, _, value = fix.value.partition("=")
                self.plan.env[key] = value
            elif fix.kind in (FixKind.PIN, FixKind.INTERPRETER, FixKind.REQUIREMENT):
                consent(self.ui, self.assume_yes, fix, self.attempts)
                self.stale = True
                if fix.kind is FixKind.PIN:
                    self.plan.pins[fix.package] = fix
                    applied(fix, self.ctx)
                elif fix.kind is FixKind.REQUIREMENT:
                    self.plan.added[fix.package] = AddedRequirement(
                        fix.package, fix.value, fix.reason
                    )
                else:
                    self.plan.interpreter = fix.value

    def _relock(self, pending: list[Attempt]) -> None:
        self.stale = False
        if not self.plan.interpreter:
            self.target = self.first_target
        elif str(self.target.interpreter.path) != self.plan.interpreter:
            found = query(Path(self.plan.interpreter), "fallback")
            if found is None:
                raise Unfixable(f"cannot run {self.plan.interpreter}", self.attempts)
            was = self.first_target.interpreter.version
            self.target = Target(found, f"Python {was} failed; the project allows {found.minor}")
        moved = {fix.package: fix.moved_pin() for fix in self.plan.pins.values()}
        pins = [p for p in self.pins if p.package not in moved] + list(moved.values())
        with self.ui.step(f"Locking again for Python {self.target.interpreter.version}") as detail:
            try:
                self.locked = self._lock(pins)
            except ResolutionError as exc:
                # an added requirement the index does not have, or that conflicts: undone
                tried = [
                    a for a in pending if a.fix is not None and a.fix.kind is FixKind.REQUIREMENT
                ]
                for attempt in tried:
                    attempt.outcome = Outcome.DID_NOT_HELP
                    self.plan.undo(attempt.fix)  # type: ignore[arg-type]
                if tried:
                    self.locked = self._lock(pins)
                    detail.append(f"{self.locked.packages} packages")
                    self._read_lock()
                    return
                raise Unfixable(
                    "a moved pin conflicts with the other requirements",
                    self.attempts,
                    detail=exc.detail or "",
                ) from exc
            detail.append(f"{self.locked.packages} packages")
        self._read_lock()


def _attempt(failure: Failure, hit: Match | None, fix: Fix | None) -> Attempt:
    return Attempt(
        package=failure.package,
        stage=failure.stage,
        signature=hit.signature.id if hit else "",
        cause=hit.cause
        if hit
        else (failure.text if failure.stage is Stage.UNDECLARED else "no known signature matched"),
        evidence=(hit.evidence if hit else tuple(_tail(failure.text, 3).splitlines()))
        + ((f"could not load: {', '.join(failure.libraries)}",) if failure.libraries else ()),
        fix=fix,
        values=dict(hit.values) if hit else {},
    )


def _verification_failures(v: Verification, strict: bool = False) -> list[Failure]:
    """The environment's failures (with ``strict``, every failure but an optional part of a
    dependency, which is never one): broken imports grouped per
    distribution, undeclared imports per module, an inconsistent set."""
    by_dist: dict[str, list[str]] = {}
    modules: dict[str, str] = {}
    libraries: dict[str, list[str]] = {}
    meaning = {j.module: j for j in v.judged}
    undeclared: dict[str, Failure] = {}
    intolerable: set[str] = set()  # distributions with a failure that is the environment's
    for check in v.failed_modules:
        judged = meaning.get(check.module)
        if judged is not None and judged.kind in (FailureKind.UNDECLARED, FailureKind.INTERPRETER):
            top = _MISSING.search(check.error)
            name = top.group(1).split(".")[0] if top else check.module.split(".")[0]
            undeclared.setdefault(name, Failure(name, Stage.UNDECLARED, judged.why, check.module))
            continue
        tolerated = judged is not None and judged.kind is FailureKind.INCOMPATIBLE
        if judged is not None and judged.kind.informational and "." in check.module:
            continue  # a part of a dependency the project does not use: never a reason to repair
        if judged is not None and not judged.kind.environment and not tolerated and not strict:
            continue
        name = canonicalize_name(check.distribution)
        by_dist.setdefault(name, [])
        if check.error not in by_dist[name]:
            by_dist[name].append(check.error)
        modules.setdefault(name, check.module)
        libraries.setdefault(name, []).extend(check.libraries)
        if not tolerated:
            intolerable.add(name)
    failures = [
        Failure(
            d,
            Stage.IMPORT,
            "\n".join(e[:5]),
            modules[d],
            tolerated=d not in intolerable,
            libraries=tuple(dict.fromkeys(libraries[d])),
        )
        for d, e in by_dist.items()
    ]
    failures += undeclared.values()
    if not v.consistency_ok:
        failures.append(Failure("", Stage.VERIFY, v.consistency_output))
    return failures


def _unfixable_message(failure: Failure, hit: Match | None) -> str:
    what = failure.package or "the environment"
    stage = {"build": "does not build", "import": "does not import", "verify": "is inconsistent"}
    why = f": {hit.cause}" if hit else " (no known signature matched its log)"
    return f"{what} {stage.get(failure.stage, 'failed')}{why}; no fix left to try"


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
