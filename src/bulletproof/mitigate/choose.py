"""The repair engine's choices between two builds: what came of the last round's fixes (a fix
after which the same signature says the same thing did not help, and is undone), and the next
fix for each failure, least intrusive first, one failure with no fix left costing only itself.
The loop that builds, verifies and applies is mitigate/engine.py."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.utils import canonicalize_name

from bulletproof.analyze.signatures import Match
from bulletproof.lockfile.values import SetAside
from bulletproof.mitigate.attemptlog import AttemptLog, Logged
from bulletproof.mitigate.consent import Unfixable
from bulletproof.mitigate.failures import attempt_for, tail, unfixable_message
from bulletproof.mitigate.job import Job, Working
from bulletproof.mitigate.propose import pick
from bulletproof.mitigate.resolve import is_set_aside
from bulletproof.mitigate.undeclared import next_fix, unresolved
from bulletproof.mitigate.values import Attempt, Fix, Outcome
from bulletproof.model import Failure, FixKind, Stage
from bulletproof.reporter import Reporter
from bulletproof.requirements import requirement_name

Matched = list[tuple[Failure, list[Match]]]
Picked = list[tuple[Match | None, Fix]]


def helped(attempt: Attempt, matched: Matched) -> bool:
    """A fix helped unless the failure it answered is still there, for the same reason."""
    if attempt.stage is Stage.UNDECLARED:
        return not any(
            f.stage is Stage.UNDECLARED and f.package == attempt.package for f, _ in matched
        )
    library = attempt.fix.library if attempt.fix is not None else ""
    if library:  # a library it could not load: helped if that one loads now
        return not any(library in f.libraries for f, _ in matched)
    return not (
        any(
            f.package == attempt.package
            and f.stage == attempt.stage
            and not attempt.signature  # no signature to compare: the failure itself
            for f, _ in matched
        )
        or any(
            f.package == attempt.package
            and any(
                # the same signature saying the same thing (evidence lines name paths that
                # change with the generation and the interpreter)
                m.signature.id == attempt.signature and m.values == attempt.values
                for m in hits
            )
            for f, hits in matched
        )
    )


@dataclass(frozen=True)
class Chooser:
    job: Job
    ui: Reporter
    log: AttemptLog

    def judge(self, w: Working, pending: list[Logged], matched: Matched) -> None:
        """Settle the last round's attempts; undo each fix that did not help any of them (an
        installed system package stays installed)."""
        kept: set[Fix] = set()  # a fix that answered several failures stays while it helped one
        for entry in pending:
            attempt = entry.attempt
            good = helped(attempt, matched)
            self.log.settle(entry, Outcome.FIXED if good else Outcome.DID_NOT_HELP)
            if good and attempt.fix is not None:
                kept.add(attempt.fix)
            if attempt.stage is Stage.UNDECLARED and not good and attempt.fix is not None:
                w.plan.undo(attempt.fix)
                w.stale = True
        for entry in pending:
            fix = entry.attempt.fix
            if (
                self.log.outcome(entry) is Outcome.DID_NOT_HELP
                and fix is not None
                and fix not in kept
                and entry.attempt.stage is not Stage.UNDECLARED  # undone above
                and not fix.library  # an installed system package stays installed
            ):
                w.plan.undo(fix)
                w.stale |= fix.kind in (FixKind.PIN, FixKind.INTERPRETER)

    def choose(self, w: Working, matched: Matched) -> tuple[list[Logged], list[Logged]]:
        """The fixes to apply this round, each an attempt in the log (``chosen``), and the
        attempts answered by a fix chosen for another failure (``shared``)."""
        chosen: list[Attempt] = []
        shared: list[Attempt] = []
        memory = w.ctx.memory
        for failure, hits in matched:
            first = hits[0] if hits else None
            picked = self._candidates(w, failure, hits)
            if picked is None:
                continue
            if not picked and chosen:
                shared += self._answered_already(w, failure, hits, chosen)
                # nothing new for it while this round's fixes are untried: they may change what
                # it is (another interpreter changes every package), so it waits for the next
                continue
            if not picked and failure.tolerated and not self.job.strict:
                self.log.add_settled(attempt_for(failure, first, None), Outcome.NO_FIX)
                continue
            if not picked:
                self._give_up(w, failure, first)
                continue  # one failure with no fix left costs only itself
            moving = _moving(chosen)
            for hit, fix in picked:
                if fix.kind is FixKind.INTERPRETER and moving is not None:
                    # one interpreter per round: this failure is judged on the one chosen
                    shared.append(attempt_for(failure, hit, moving))
                    continue
                chosen.append(attempt_for(failure, hit, fix))
                memory.mark_tried(fix)
        moving = _moving(chosen)
        if moving is not None:
            # another interpreter re-resolves every package: this round moves it alone, and
            # what the others would have changed is asked again on the new one
            memory.forget(*(a.fix for a in chosen if a.fix is not None and a.fix != moving))
            chosen = [a for a in chosen if a.fix == moving]
            shared = [a for a in shared if a.fix == moving]
        return [self.log.add(a) for a in chosen], [self.log.add(a) for a in shared]

    def _answered_already(
        self, w: Working, failure: Failure, hits: list[Match], chosen: list[Attempt]
    ) -> list[Attempt]:
        """A fix chosen this round for another failure may answer this one too (one missing
        library, two packages that load it): judged with the others."""
        this_round = {a.fix for a in chosen if a.fix is not None}
        if failure.stage is Stage.UNDECLARED:
            return []
        with w.ctx.memory.untried(this_round):
            again = pick(failure, hits, w.ctx)
        return [attempt_for(failure, hit, fix) for hit, fix in again if fix in this_round]

    def _candidates(self, w: Working, failure: Failure, hits: list[Match]) -> Picked | None:
        """The fixes to try for one failure; None when it was answered otherwise (an added
        requirement dropped, the project's own build noted)."""
        if failure.stage is Stage.BUILD and self._drop_added(w, failure):
            return None
        if failure.stage is Stage.UNDECLARED:
            return self._undeclared_fix(w, failure)
        picked = pick(failure, hits, w.ctx)
        if self._own(failure):
            # the project's own build: only what it names is the environment's to bring (a
            # system package, a variable for its build: where cargo reads crates, which ABI a
            # Rust extension builds for); its packaging is never moved
            picked = [(h, f) for h, f in picked if f.kind in (FixKind.SYSTEM, FixKind.ENV)]
            if not picked:
                # said, never a reason to end the run (its code imports from its source folder)
                first = hits[0] if hits else None
                self.log.add_settled(attempt_for(failure, first, None), Outcome.NO_FIX)
                return None
        return picked

    def _undeclared_fix(self, w: Working, failure: Failure) -> Picked:
        """The next requirement (or, for the standard library, system package) to try for an
        import nothing provides: one at a time, judged alone."""
        project, ctx = self.job.project, w.ctx
        fix = next_fix(failure, project, w.declared_elsewhere, ctx)
        while fix is not None and is_set_aside(requirement_name(fix.value), w.left_out):
            ctx.memory.mark_tried(fix)  # set aside: not brought back by another door
            fix = next_fix(failure, project, w.declared_elsewhere, ctx)
        return [(None, fix)] if fix is not None else []

    def _own(self, failure: Failure) -> bool:
        return failure.stage is Stage.BUILD and failure.package == self.job.project.name

    def _give_up(self, w: Working, failure: Failure, first: Match | None) -> None:
        """No fix is left for this failure: with --strict the run ends; otherwise a build is
        set aside and the other failures' fixes are still tried."""
        entry = self.log.add_settled(attempt_for(failure, first, None), Outcome.NO_FIX)
        w.gave_up = (
            unresolved(failure, w.ctx)
            if failure.stage is Stage.UNDECLARED
            else unfixable_message(failure, first)
        )
        w.gave_up_detail = tail(failure.text)
        if not self.job.partial:
            raise Unfixable(
                w.gave_up,
                self.log.final(),
                verification=w.failed,
                hint="the attempts above show what was tried",
                detail=w.gave_up_detail,
            )
        if failure.stage is Stage.BUILD and failure.package and not self._own(failure):
            self._leave_out(w, failure, first, entry)

    def _drop_added(self, w: Working, failure: Failure) -> bool:
        """A requirement added for an undeclared import that does not build is taken out
        alone (its import is then listed as unresolved): it never costs the environment."""
        name = canonicalize_name(failure.package)
        for module, added in list(w.plan.added.items()):
            if canonicalize_name(requirement_name(added.requirement)) != name:
                continue
            del w.plan.added[module]
            w.stale = True
            self.log.add(
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

    def _leave_out(self, w: Working, failure: Failure, hit: Match | None, entry: Logged) -> None:
        """No fix is left for a requirement that does not build: the rest is built without it."""
        if is_set_aside(failure.package, w.left_out):
            return
        cause = f"does not build ({hit.cause})" if hit else "does not build"
        w.left_out.append(SetAside(failure.package, Stage.BUILD.value, cause))
        self.log.settle(entry, Outcome.SET_ASIDE)
        w.stale = True
        self.ui.say(f"set aside {failure.package} ({cause}); building the rest without it")


def _moving(chosen: list[Attempt]) -> Fix | None:
    """The other interpreter chosen this round, if one is."""
    return next((a.fix for a in chosen if a.fix and a.fix.kind is FixKind.INTERPRETER), None)
