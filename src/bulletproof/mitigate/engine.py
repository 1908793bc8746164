"""The loop: build a new generation and verify it; when something fails, find every failure in
one pass, match each against the signatures, let mitigate/choose.py settle what the last fixes
did and choose the next ones, apply them, and try again.

One failure costs only itself: a requirement that does not build and has no fix left is set
aside (and one added for an undeclared import dropped), and the rest is built without it. The
loop keeps the best generation it built (fewest of what the project needs failing), never
builds a state it built before (pins, constraints, variables, added and set-aside requirements,
system packages, interpreter: one key), and ends on that best one when no fix is left or its
budget is spent, returned as a ``Delivered`` value with every attempt. Only when it built
nothing does it end in Unfixable, with every attempt and the last verification that failed.

Its inputs are one frozen ``Job``; what a run works with (``Working``) lives only in ``run``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from bulletproof.analyze.buildlogs import build_failure
from bulletproof.analyze.faults import (
    measured_again,
    os_error_fault,
    scratch_places,
    stopping_fault,
    unpacked_size,
)
from bulletproof.analyze.signatures import match
from bulletproof.analyze.wheels import read_locked, source_builds, target_tags
from bulletproof.apply.generations import Generation, Store
from bulletproof.apply.install import OWN_BUILD_ERROR, build_environment
from bulletproof.apply.system import install_named
from bulletproof.errors import BuildError, DiskFull, ResolutionError
from bulletproof.fsutil import read_or_none, restore
from bulletproof.host.pythons import query
from bulletproof.host.values import Target
from bulletproof.lockfile.meta import LockMeta
from bulletproof.lockfile.retry import lock_again_without
from bulletproof.lockfile.values import AddedRequirement, LockResult, MovedPin, SetAside
from bulletproof.mitigate.attemptlog import AttemptLog, Logged
from bulletproof.mitigate.choose import Chooser
from bulletproof.mitigate.consent import Unfixable, consents, declined
from bulletproof.mitigate.failures import verification_failures
from bulletproof.mitigate.job import BUDGET_SECONDS, MAX_ROUNDS, Job, Working
from bulletproof.mitigate.propose import applied
from bulletproof.mitigate.resolve import Locked, Repair, lock_with_retry
from bulletproof.mitigate.trials import failing_builds
from bulletproof.mitigate.values import Attempt, Fix, Outcome
from bulletproof.model import Failure, FixKind, Stage
from bulletproof.reporter import Reporter
from bulletproof.verify.run import verify
from bulletproof.verify.values import Verdict, Verification

__all__ = ["BUDGET_SECONDS", "MAX_ROUNDS", "Delivered", "Engine", "Job"]


@dataclass(frozen=True)
class Delivered:
    """What the engine ends on: the best generation it built, what it was built from, and every
    attempt made (the lock's first)."""

    generation: Generation
    verification: Verification
    locked: LockResult
    target: Target
    set_aside: tuple[SetAside, ...]
    lock_body: bytes  # the lock it was built from: a later round may have written another
    own_build_failed: bool = False  # the project itself is not installed (its build failed)
    short: str = ""  # why the repair stopped before a verified environment ("" if it did not)
    attempts: tuple[Attempt, ...] = ()

    @property
    def score(self) -> int:
        return self.verification.shortfall + len(self.set_aside) + self.own_build_failed

    @property
    def complete(self) -> bool:
        """All the project asks for: nothing set aside, nothing it needs failing."""
        return not self.set_aside and self.verification.verdict is not Verdict.BROKEN


@dataclass(frozen=True)
class Engine:
    """``log``: where the attempts go, append-only; the lock's are in it first when the caller
    hands in the one its lock wrote to (it is also what the caller reads when a fault that is
    not Unfixable ends the run)."""

    job: Job
    store: Store
    ui: Reporter
    log: AttemptLog = field(default_factory=AttemptLog)

    def run(self) -> Delivered:
        w = Working.start(self.job)
        chooser = Chooser(self.job, self.ui, self.log)
        started = time.monotonic()
        seen: set[tuple[object, ...]] = set()
        best: Delivered | None = None
        pending: list[Logged] = []
        short = f"still failing after {MAX_ROUNDS} rounds of fixes"
        try:
            for _ in range(MAX_ROUNDS):
                state = w.state()
                if state in seen:  # a lock-stage set-aside can lead back to one, too
                    short = w.gave_up or "the fixes left lead back to a state already built"
                    break
                seen.add(state)
                failures, candidate = self._round(w)
                matched = [(f, match(f.text, f.stage)) for f in failures]
                chooser.judge(w, pending, matched)
                if candidate is not None and not failures:
                    self._discard(best)
                    return replace(candidate, attempts=self.log.final())
                best = self._better(best, candidate)
                chosen, shared = chooser.choose(w, matched)
                self._apply(w, chosen)
                pending = chosen + shared
                if not w.stale and not any(e.attempt.fix is not None for e in pending):
                    short = w.gave_up or "no fix left to try"
                    break
                if time.monotonic() - started > self.job.budget:
                    short = f"the repair budget ({self.job.budget:.0f} s) was spent"
                    break
                if w.state() in seen:  # known before locking again
                    short = w.gave_up or "the fixes left lead back to a state already built"
                    break
                if w.stale:
                    self._relock(w, pending)
        except Unfixable as exc:
            if best is None or not self.job.partial:
                self._discard(best)
                raise self._ended(exc, w) from None
            short = exc.message + (f"; {exc.hint}" if exc.hint and "--yes" in exc.hint else "")
        except BaseException:
            self._discard(best)
            raise
        return self._deliver(w, best, short)

    def _ended(self, exc: Unfixable, w: Working) -> Unfixable:
        """The error the run ends with: every attempt, and the last verification that failed."""
        return Unfixable(
            exc.message,
            self.log.final(),
            verification=w.failed,
            hint=exc.hint,
            detail=exc.detail,
        )

    def _round(self, w: Working) -> tuple[list[Failure], Delivered | None]:
        """Build and verify one generation: its failures, and the generation when one was
        built (a build that fails leaves none); stops on a fault no fix answers."""

        def scratch() -> list[Path]:
            return scratch_places(self.job.project.root)

        try:
            failures, candidate = self._try(w)
        except DiskFull as exc:  # the half-built generation is gone now: measured again
            raise measured_again(exc) from None
        except OSError as exc:  # our own write (the generation is discarded by _try)
            fault = os_error_fault(exc, scratch())
            if fault is None:
                raise
            raise fault from exc

        def needed() -> int | None:
            return unpacked_size(w.locked.path, target_tags(w.target.interpreter))

        stop = stopping_fault((f.text for f in failures), scratch, needed)
        if stop is not None:  # a full disk, a source not fetched: no fix to propose
            self._discard(candidate)
            raise stop
        return failures, candidate

    def _better(self, best: Delivered | None, candidate: Delivered | None) -> Delivered | None:
        """The better of the two, the other's generation discarded; the earlier one on a tie
        (it has fewer moves)."""
        if candidate is None:
            return best
        if best is None or candidate.score < best.score:
            self._discard(best)
            return candidate
        self._discard(candidate)
        return best

    def _discard(self, delivered: Delivered | None) -> None:
        if delivered is not None:
            self.store.discard(delivered.generation)

    def _deliver(self, w: Working, best: Delivered | None, short: str) -> Delivered:
        """The best generation, with the lock it was built from back in place."""
        if best is None or not self.job.partial:
            self._discard(best)
            raise Unfixable(
                short,
                self.log.final(),
                verification=w.failed,
                hint="the attempts above show what was tried",
                detail=w.gave_up_detail if short == w.gave_up else "",
            )
        restore(best.locked.path, best.lock_body)
        return replace(best, short=short, attempts=self.log.final())

    def _try(self, w: Working) -> tuple[list[Failure], Delivered | None]:
        """(failures to fix, the generation when one was built and verified)."""
        project = self.job.project
        gen = self.store.new_generation()
        try:
            with self.ui.step(f"Building environment {gen.path.name}"):
                build_environment(
                    gen.path,
                    w.locked.path,
                    project,
                    w.target,
                    build_constraints=tuple(w.plan.constraints),
                    env=w.plan.env,
                    own_build_failed=bool(w.locked.own_build_error),
                )
        except BuildError as exc:
            self.store.discard(gen)
            return self._failing_builds(w, exc), None
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
                    project,
                    full=True,
                    reuse_imports=True,  # a module whose distributions did not change: kept
                    timeout=self.job.import_timeout,
                    on_imports=progress,
                )
        except BaseException:
            self.store.discard(gen)
            raise
        failures = [] if verification.ok else verification_failures(verification, self.job.strict)
        if failures:
            w.failed = verification
        own_error = _text(gen.path / OWN_BUILD_ERROR)
        if own_error and not w.locked.own_build_error:  # its editable build, here
            failures.append(Failure(project.name, Stage.BUILD, own_error))
        candidate = Delivered(
            gen,
            verification,
            w.locked,
            w.target,
            tuple(w.left_out),
            read_or_none(w.locked.path) or b"",
            own_build_failed=bool(own_error),
        )
        return failures, candidate

    def _failing_builds(self, w: Working, exc: BuildError) -> list[Failure]:
        builds = source_builds(read_locked(w.locked.path), w.target.interpreter)
        with self.ui.step(f"Trying each of {len(builds)} source builds alone") as detail:
            found = failing_builds(
                builds,
                w.target.interpreter.path,
                self.job.project.root,
                w.plan.constraints,
                w.plan.env,
            )
            detail.append(f"{len(found)} failed")
        return found or [build_failure("", exc.detail or exc.message)]

    def _apply(self, w: Working, chosen: list[Logged]) -> None:
        fixes = [e.attempt.fix for e in chosen if e.attempt.fix is not None]
        names = tuple(dict.fromkeys(f.value for f in fixes if f.kind is FixKind.SYSTEM))
        if names and self.job.mapping is not None:
            install_named(names, self.job.mapping, self.ui, assume_yes=self.job.assume_yes)
            w.installed.update(names)
        for fix in fixes:
            self.ui.say(f"fix: {fix.describe()}")
            if fix.kind is FixKind.CONSTRAINT:
                w.plan.constraints.append(fix.value)
            elif fix.kind is FixKind.ENV:
                key, _, value = fix.value.partition("=")
                w.plan.env[key] = value
            elif fix.kind in (FixKind.PIN, FixKind.INTERPRETER, FixKind.REQUIREMENT):
                self._consent(fix)
                w.stale = True
                if fix.kind is FixKind.PIN:
                    w.plan.pins[fix.package] = fix
                    applied(fix, w.ctx)
                elif fix.kind is FixKind.REQUIREMENT:
                    w.plan.added[fix.package] = AddedRequirement(fix.package, fix.value, fix.reason)
                else:
                    w.plan.interpreter = fix.value

    def _consent(self, fix: Fix) -> None:
        """Return when the user agrees; else the fix is declined and the run ends."""
        if not consents(self.ui, self.job.assume_yes, fix):
            self.log.settle_fix(fix, Outcome.DECLINED)
            raise declined(fix, self.log.final())

    def _lock(self, w: Working, pins: list[MovedPin]) -> LockResult:
        """Lock again with the plan; what the resolver cannot fetch, find or build is answered
        as while locking first: repaired, or set aside (an added requirement dropped)."""
        job = self.job
        done = lock_with_retry(
            job.project,
            w.target,
            LockMeta(),
            pins,
            self.log,
            added=list(w.plan.added.values()),
            repair=Repair(
                self.ui, job.mapping, job.assume_yes, job.allow_system, partial=job.partial
            ),
            in_force=Locked(
                w.locked,
                tuple(w.plan.constraints),
                dict(w.plan.env),
                set_aside=tuple(w.left_out),
            ),
        )
        w.plan.constraints, w.plan.env = list(done.build_constraints), dict(done.env)
        w.left_out = list(done.set_aside)
        kept = set(done.added)
        for module, added in list(w.plan.added.items()):
            if added not in kept:  # dropped while locking: its attempt did not help
                del w.plan.added[module]
                for entry in self.log.entries():
                    fix = entry.attempt.fix
                    if fix is not None and fix.value == added.requirement:
                        self.log.settle(entry, Outcome.DID_NOT_HELP)
        return done.result

    def _relock(self, w: Working, pending: list[Logged]) -> None:
        w.stale = False
        if not w.plan.interpreter:
            w.target = self.job.target
        elif str(w.target.interpreter.path) != w.plan.interpreter:
            found = query(Path(w.plan.interpreter), "fallback")
            if found is None:
                raise Unfixable(f"cannot run {w.plan.interpreter}", self.log.final())
            was = self.job.target.interpreter.version
            w.target = Target(found, f"Python {was} failed; the project allows {found.minor}")
        moved = {fix.package: fix.moved_pin() for fix in w.plan.pins.values()}
        pins = [p for p in self.job.pins if p.package not in moved] + list(moved.values())

        def drop_added(exc: ResolutionError) -> None:
            """An added requirement the index does not have, or that conflicts: undone (the
            retry policy locks once more); none added: the moved pins conflict."""
            tried = [
                e
                for e in pending
                if e.attempt.fix is not None and e.attempt.fix.kind is FixKind.REQUIREMENT
            ]
            if not tried:
                raise Unfixable(
                    "a moved pin conflicts with the other requirements",
                    self.log.final(),
                    detail=exc.detail or "",
                ) from exc
            for entry in tried:
                self.log.settle(entry, Outcome.DID_NOT_HELP)
                w.plan.undo(entry.attempt.fix)  # type: ignore[arg-type]

        with self.ui.step(f"Locking again for Python {w.target.interpreter.version}") as detail:
            w.locked = lock_again_without(lambda: self._lock(w, pins), drop_added)
            detail.append(f"{w.locked.packages} packages")
        w.read_lock()


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
