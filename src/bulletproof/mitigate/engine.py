"""The loop: build a new generation and verify it; when something fails, find every failure in
one pass, match each against the signatures, apply the least intrusive untried fix per failure,
and try again. A fix after which the same signature says the same thing did not help: undone.

One failure costs only itself: a requirement that does not build and has no fix left is set
aside (and one added for an undeclared import dropped), and the rest is built without it. The
loop keeps the best generation it built (fewest of what the project needs failing), never
builds a state it built before (pins, constraints, variables, added and set-aside requirements,
system packages, interpreter: one key), and ends on that best one when no fix is left or its
budget is spent. Only when it built nothing does it end in Unfixable, with every attempt and
its evidence."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
from bulletproof.analyze.signatures import Match, match
from bulletproof.analyze.wheels import read_locked, source_builds, target_tags
from bulletproof.apply.generations import Generation, Store
from bulletproof.apply.install import OWN_BUILD_ERROR, build_environment
from bulletproof.apply.system import install_named
from bulletproof.errors import BuildError, DiskFull, ResolutionError
from bulletproof.fsutil import read_or_none, restore
from bulletproof.host.pythons import query
from bulletproof.knowledge.mappings import DistroMapping
from bulletproof.mitigate.consent import Unfixable, consent
from bulletproof.mitigate.failures import (
    attempt_for,
    tail,
    unfixable_message,
    verification_failures,
)
from bulletproof.mitigate.plan import Plan
from bulletproof.mitigate.propose import Context, applied, pick
from bulletproof.mitigate.resolve import Locked, Repair, is_set_aside, lock_with_retry
from bulletproof.mitigate.trials import failing_builds
from bulletproof.mitigate.undeclared import next_fix, unresolved
from bulletproof.model import (
    AddedRequirement,
    Attempt,
    Failure,
    Fix,
    FixKind,
    Interpreter,
    LockResult,
    MovedPin,
    Outcome,
    Project,
    SetAside,
    Stage,
    Target,
    Verdict,
    Verification,
)
from bulletproof.reporter import Reporter
from bulletproof.requirements import declared_names, requirement_name
from bulletproof.verify.run import verify

MAX_ROUNDS = 8
BUDGET_SECONDS = 1800.0  # after which the best generation built is delivered


@dataclass(frozen=True)
class Delivered:
    """What the engine ends on: the best generation it built, and what it was built from."""

    generation: Generation
    verification: Verification
    locked: LockResult
    target: Target
    set_aside: tuple[SetAside, ...]
    lock_body: bytes  # the lock it was built from: a later round may have written another
    own_build_failed: bool = False  # the project itself is not installed (its build failed)
    short: str = ""  # why the repair stopped before a verified environment ("" if it did not)

    @property
    def score(self) -> int:
        return self.verification.shortfall + len(self.set_aside) + self.own_build_failed

    @property
    def complete(self) -> bool:
        """All the project asks for: nothing set aside, nothing it needs failing."""
        return not self.set_aside and self.verification.verdict is not Verdict.BROKEN


@dataclass
class Engine:
    project: Project
    target: Target
    locked: LockResult
    store: Store
    ui: Reporter
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
    set_aside: tuple[SetAside, ...] = ()  # left out while locking
    partial: bool = True  # deliver the best generation short of verified (not with --strict)
    budget: float = BUDGET_SECONDS
    plan: Plan = field(default_factory=Plan)
    attempts: list[Attempt] = field(default_factory=list)
    last_verification: Verification | None = None  # of the last generation that failed it

    def __post_init__(self) -> None:
        self.first_target = self.target  # what an undone interpreter fix goes back to
        self.ctx = Context(self.mapping, self.target.interpreter, self.project.root, {})
        self.ctx.others, self.ctx.allow_system = self.others, self.allow_system
        self.ctx.declared = frozenset(
            canonicalize_name(n)
            for n in declared_names(
                self.project.direct_requirements, self.project.requirement_files
            )
        )
        self._read_lock()
        self.stale = False  # the plan's pins or interpreter changed since the last lock
        # requirements of the project's extras and groups not chosen: where an undeclared
        # import is looked for first
        self.declared_elsewhere = list(self.project.unchosen_requirements)
        self.left_out = list(self.set_aside)  # requirements set aside so far
        self.installed: set[str] = set()  # system packages installed by a fix
        self.gave_up = ""  # what the last failure with no fix left was
        self.gave_up_detail = ""

    def run(self) -> Delivered:
        self.plan.constraints = list(self.constraints)
        self.plan.env = dict(self.env)
        self.plan.added = {a.module: a for a in self.added}
        self.left_out = list(self.set_aside)
        started = time.monotonic()
        seen: set[tuple[object, ...]] = set()
        best: Delivered | None = None
        pending: list[Attempt] = []
        short = f"still failing after {MAX_ROUNDS} rounds of fixes"
        try:
            for _ in range(MAX_ROUNDS):
                state = self._state()
                if state in seen:  # a lock-stage set-aside can lead back to one, too
                    short = self.gave_up or "the fixes left lead back to a state already built"
                    break
                seen.add(state)
                failures, candidate = self._round()
                matched = [(f, match(f.text, f.stage)) for f in failures]
                self._judge(pending, matched)
                if candidate is not None and not failures:
                    self._discard(best)
                    return candidate
                best = self._better(best, candidate)
                pending = self._fix(matched)
                if not self.stale and not any(a.fix is not None for a in pending):
                    short = self.gave_up or "no fix left to try"
                    break
                if time.monotonic() - started > self.budget:
                    short = f"the repair budget ({self.budget:.0f} s) was spent"
                    break
                if self._state() in seen:  # known before locking again
                    short = self.gave_up or "the fixes left lead back to a state already built"
                    break
                if self.stale:
                    self._relock(pending)
        except Unfixable as exc:
            if best is None or not self.partial:
                self._discard(best)
                raise
            short = exc.message + (f"; {exc.hint}" if exc.hint and "--yes" in exc.hint else "")
        except BaseException:
            self._discard(best)
            raise
        return self._deliver(best, short)

    def _round(self) -> tuple[list[Failure], Delivered | None]:
        """Build and verify one generation: its failures, and the generation when one was
        built (a build that fails leaves none); stops on a fault no fix answers."""
        try:
            failures, candidate = self._try()
        except DiskFull as exc:  # the half-built generation is gone now: measured again
            raise measured_again(exc) from None
        except OSError as exc:  # our own write (the generation is discarded by _try)
            fault = os_error_fault(exc, self._scratch())
            if fault is None:
                raise
            raise fault from exc
        stop = stopping_fault((f.text for f in failures), self._scratch, self._needed)
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

    def _deliver(self, best: Delivered | None, short: str) -> Delivered:
        """The best generation, with the lock it was built from back in place."""
        if best is None or not self.partial:
            self._discard(best)
            raise Unfixable(
                short,
                self.attempts,
                hint="the attempts above show what was tried",
                detail=self.gave_up_detail if short == self.gave_up else "",
            )
        restore(best.locked.path, best.lock_body)
        self.locked, self.target = best.locked, best.target
        return replace(best, short=short)

    def _state(self) -> tuple[object, ...]:
        """What a generation is built from, as one key: a state built before is not built
        again (a later move that undoes an earlier fix leads back to it)."""
        return (
            tuple(sorted((f.package, f.value) for f in self.plan.pins.values())),
            tuple(sorted(self.plan.constraints)),
            tuple(sorted(self.plan.env.items())),
            tuple(sorted(a.requirement for a in self.plan.added.values())),
            tuple(sorted(canonicalize_name(s.package) for s in self.left_out)),
            tuple(sorted(self.installed)),
            self.plan.interpreter or "",
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

    def _try(self) -> tuple[list[Failure], Delivered | None]:
        """(failures to fix, the generation when one was built and verified)."""
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
            return self._failing_builds(exc), None
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
        failures = [] if verification.ok else verification_failures(verification, self.strict)
        if failures:
            self.last_verification = verification
        own_error = _text(gen.path / OWN_BUILD_ERROR)
        if own_error and not self.locked.own_build_error:  # its editable build, here
            failures.append(Failure(self.project.name, Stage.BUILD, own_error))
        candidate = Delivered(
            gen,
            verification,
            self.locked,
            self.target,
            tuple(self.left_out),
            read_or_none(self.locked.path) or b"",
            own_build_failed=bool(own_error),
        )
        return failures, candidate

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
            picked = self._candidates(failure, hits)
            if picked is None:
                continue
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
                same = [attempt_for(failure, hit, fix) for hit, fix in again if fix in this_round]
                shared += same
                # nothing new for it while this round's fixes are untried: they may change what
                # it is (another interpreter changes every package), so it waits for the next
                continue
            if not picked and failure.tolerated and not self.strict:
                self.attempts.append(attempt_for(failure, hits[0] if hits else None, None))
                self.attempts[-1].outcome = Outcome.NO_FIX
                continue
            if not picked:
                self._give_up(failure, hits[0] if hits else None)
                continue  # one failure with no fix left costs only itself
            moving = next(
                (a.fix for a in chosen if a.fix and a.fix.kind is FixKind.INTERPRETER), None
            )
            for hit, fix in picked:
                if fix.kind is FixKind.INTERPRETER and moving is not None:
                    # one interpreter per round: this failure is judged on the one chosen
                    shared.append(attempt_for(failure, hit, moving))
                    continue
                chosen.append(attempt_for(failure, hit, fix))
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
        """Lock again with the plan; what the resolver cannot fetch, find or build is answered
        as while locking first: repaired, or set aside (an added requirement dropped)."""
        done = lock_with_retry(
            self.project,
            self.target,
            {},
            pins,
            self.attempts,
            added=list(self.plan.added.values()),
            repair=Repair(
                self.ui, self.mapping, self.assume_yes, self.allow_system, partial=self.partial
            ),
            in_force=Locked(
                self.locked,
                tuple(self.plan.constraints),
                dict(self.plan.env),
                set_aside=tuple(self.left_out),
            ),
        )
        self.plan.constraints, self.plan.env = list(done.build_constraints), dict(done.env)
        self.left_out = list(done.set_aside)
        kept = set(done.added)
        for module, added in list(self.plan.added.items()):
            if added not in kept:  # dropped while locking: its attempt did not help
                del self.plan.added[module]
                for attempt in self.attempts:
                    if attempt.fix is not None and attempt.fix.value == added.requirement:
                        attempt.outcome = Outcome.DID_NOT_HELP
        return done.result

    def _undeclared_fix(self, failure: Failure) -> list[tuple[Match | None, Fix]]:
        """The next requirement (or, for the standard library, system package) to try for an
        import nothing provides: one at a time, judged alone."""
        fix = next_fix(failure, self.project, self.declared_elsewhere, self.ctx)
        while fix is not None and is_set_aside(requirement_name(fix.value), self.left_out):
            self.ctx.tried.add(fix)  # set aside: not brought back by another door
            fix = next_fix(failure, self.project, self.declared_elsewhere, self.ctx)
        return [(None, fix)] if fix is not None else []

    def _give_up(self, failure: Failure, first: Match | None) -> None:
        """No fix is left for this failure: with --strict the run ends; otherwise a build is
        set aside and the other failures' fixes are still tried."""
        self.attempts.append(attempt_for(failure, first, None))
        self.attempts[-1].outcome = Outcome.NO_FIX
        self.gave_up = (
            unresolved(failure, self.ctx)
            if failure.stage is Stage.UNDECLARED
            else unfixable_message(failure, first)
        )
        self.gave_up_detail = tail(failure.text)
        if not self.partial:
            raise Unfixable(
                self.gave_up,
                self.attempts,
                hint="the attempts above show what was tried",
                detail=self.gave_up_detail,
            )
        if failure.stage is Stage.BUILD and failure.package and not self._own(failure):
            self._leave_out(failure, first)

    def _candidates(
        self, failure: Failure, hits: list[Match]
    ) -> list[tuple[Match | None, Fix]] | None:
        """The fixes to try for one failure; None when it was answered otherwise (an added
        requirement dropped, the project's own build noted)."""
        if failure.stage is Stage.BUILD and self._drop_added(failure):
            return None
        if failure.stage is Stage.UNDECLARED:
            return self._undeclared_fix(failure)
        picked = pick(failure, hits, self.ctx)
        if self._own(failure):
            # the project's own build: only what it names is the environment's to bring (a
            # system package); its packaging is never moved
            picked = [(h, f) for h, f in picked if f.kind is FixKind.SYSTEM]
            if not picked:
                self._note_own(failure, hits)
                return None
        return picked

    def _own(self, failure: Failure) -> bool:
        return failure.stage is Stage.BUILD and failure.package == self.project.name

    def _note_own(self, failure: Failure, hits: list[Match]) -> None:
        """The project's own build failed and nothing here answers it: said, never a reason to
        end the run (its code imports from its source folder)."""
        self.attempts.append(attempt_for(failure, hits[0] if hits else None, None))
        self.attempts[-1].outcome = Outcome.NO_FIX

    def _drop_added(self, failure: Failure) -> bool:
        """A requirement added for an undeclared import that does not build is taken out
        alone (its import is then listed as unresolved): it never costs the environment."""
        name = canonicalize_name(failure.package)
        for module, added in list(self.plan.added.items()):
            if canonicalize_name(requirement_name(added.requirement)) != name:
                continue
            del self.plan.added[module]
            self.stale = True
            self.attempts.append(
                Attempt(
                    failure.package,
                    Stage.BUILD,
                    "",
                    f"added for the import of {module}, and does not build: dropped",
                    tuple(tail(failure.text, 3).splitlines()),
                    None,
                    Outcome.SET_ASIDE,
                )
            )
            self.ui.say(f"dropped {added.requirement} (added for {module}): it does not build")
            return True
        return False

    def _leave_out(self, failure: Failure, hit: Match | None) -> None:
        """No fix is left for a requirement that does not build: the rest is built without it."""
        if is_set_aside(failure.package, self.left_out):
            return
        cause = f"does not build ({hit.cause})" if hit else "does not build"
        self.left_out.append(SetAside(failure.package, Stage.BUILD.value, cause))
        self.attempts[-1].outcome = Outcome.SET_ASIDE
        self.stale = True
        self.ui.say(f"set aside {failure.package} ({cause}); building the rest without it")

    def _apply(self, attempts: list[Attempt]) -> None:
        fixes = [a.fix for a in attempts if a.fix is not None]
        names = tuple(dict.fromkeys(f.value for f in fixes if f.kind is FixKind.SYSTEM))
        if names and self.mapping is not None:
            install_named(names, self.mapping, self.ui, assume_yes=self.assume_yes)
            self.installed.update(names)
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


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
