"""Locking, with repair at that stage too: an environment fix from the resolve-stage signatures
(the system trust store for an intercepted TLS connection) is tried once; an sdist the resolver
has to build to read its metadata and that does not build goes through the same choice of fixes
as a build during install (a system package, a build constraint, a variable, the nearest
release that has a wheel), each judged by the next lock and undone if it did not help. When a
lock is made again, and how often, is the retry policy's (lockfile/retry.py); what changes for
it is decided here."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from bulletproof.analyze.buildlogs import build_failure
from bulletproof.analyze.faults import not_found
from bulletproof.analyze.indexes import index_locations
from bulletproof.analyze.signatures import Match, match
from bulletproof.apply.system import install_named
from bulletproof.errors import FetchError, LockBuildError, ResolutionError, ToolError
from bulletproof.host.values import Target
from bulletproof.knowledge.mappings import DistroMapping
from bulletproof.lockfile.lock import lock
from bulletproof.lockfile.meta import LockMeta
from bulletproof.lockfile.retry import EnvRemedy, lock_repairing
from bulletproof.lockfile.values import AddedRequirement, LockResult, MovedPin, SetAside
from bulletproof.mitigate.attemptlog import AttemptLog, Logged
from bulletproof.mitigate.consent import Unfixable, consents, declined
from bulletproof.mitigate.context import Facts
from bulletproof.mitigate.propose import Context, applied, pick
from bulletproof.mitigate.values import Attempt, Fix, Outcome
from bulletproof.model import Failure, FixKind, Project, Stage
from bulletproof.reporter import Reporter
from bulletproof.requirements import requirement_name


@dataclass(frozen=True)
class Repair:
    """What repairing a build at the lock stage may do on this host. ``partial``: a requirement
    that cannot be fetched, found or built (no fix left) is set aside and the rest locked."""

    ui: Reporter
    mapping: DistroMapping | None
    assume_yes: bool = False
    allow_system: bool = True
    partial: bool = False


@dataclass(frozen=True)
class Locked:
    """The lock, and the fixes its builds needed: the install's builds need them too."""

    result: LockResult
    build_constraints: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    pins: tuple[MovedPin, ...] = ()  # every moved pin in force: carried, and moved here
    set_aside: tuple[SetAside, ...] = ()  # left out so that the rest could be locked
    added: tuple[AddedRequirement, ...] = ()  # the added requirements still in the lock


# rounds of repair for the project's own metadata build: each installs or sets what the last
# one's output named (a Rust build: cargo, then the crates and the registry cargo reads them from)
OWN_ROUNDS = 4


@dataclass
class _InForce:
    """The lock-stage fixes in force while repairing."""

    pins: list[MovedPin]
    added: list[AddedRequirement] = field(default_factory=list)
    build_constraints: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    set_aside: list[SetAside] = field(default_factory=list)

    def locked(self, result: LockResult) -> Locked:
        return Locked(
            result,
            tuple(self.build_constraints),
            dict(self.env),
            tuple(self.pins),
            tuple(self.set_aside),
            tuple(self.added),
        )


def lock_with_retry(
    project: Project,
    target: Target,
    previous: LockMeta,
    pins: Sequence[MovedPin],
    attempts: AttemptLog,
    *,
    added: Sequence[AddedRequirement] = (),
    repair: Repair | None = None,
    in_force: Locked | None = None,
) -> Locked:
    """Lock, repairing what the resolver's own builds need; ``in_force``: the constraints,
    variables and set-aside requirements a later lock starts from (the engine's). When to lock
    again is the retry policy's (lockfile/retry.py); what to change, this module's."""
    fixes = _InForce(list(pins), list(added))
    if in_force is not None:
        fixes.build_constraints = list(in_force.build_constraints)
        fixes.env = dict(in_force.env)
        fixes.set_aside = list(in_force.set_aside)
    allow_system = repair.allow_system if repair is not None else True
    mapping = repair.mapping if repair else None
    ctx = Context(Facts(mapping, target.interpreter, project.root, {}, allow_system=allow_system))

    def once() -> LockResult:
        return lock(
            project,
            target,
            previous,
            pins=fixes.pins,
            added=fixes.added,
            build_constraints=fixes.build_constraints,
            env=fixes.env,
            set_aside=fixes.set_aside,
        )

    repairs = _Repairs(project, fixes, ctx, repair, attempts)
    return fixes.locked(lock_repairing(once, repairs, project.root))


@dataclass
class _Repairs:
    """This stage's answer to each kind of evidence the retry policy names."""

    project: Project
    fixes: _InForce
    ctx: Context
    repair: Repair | None
    attempts: AttemptLog
    pending: list[Logged] = field(default_factory=list)  # judged by the next lock
    own: list[Logged] = field(default_factory=list)  # for the project's own metadata build
    own_rounds: int = 0  # each names what the last left (cargo, then the crates it reads)
    hits: list[Match] = field(default_factory=list)  # the resolve-stage signatures matched
    trying: Logged | None = None  # the variable being tried

    def set_aside_count(self) -> int:
        return len(self.fixes.set_aside)

    def env_remedies(self, exc: ToolError | ResolutionError) -> list[EnvRemedy]:
        self.hits = match(exc.detail or exc.message, "resolve")
        found = []
        for group, hit in enumerate(self.hits):
            for remedy in hit.remedies():
                key, _, value = remedy.get("env", "").partition("=")
                if key and os.environ.get(key) != value and self.fixes.env.get(key) != value:
                    found.append(EnvRemedy(group, key, value))
        return found

    def env_trying(self, remedy: EnvRemedy) -> None:
        hit = self.hits[remedy.group]
        fix = Fix(FixKind.ENV, f"{remedy.key}={remedy.value}")
        tried = Attempt("", "resolve", hit.signature.id, hit.cause, hit.evidence, fix)
        self.trying = self.attempts.add(tried)
        self.fixes.env[remedy.key] = remedy.value

    def env_judged(self, remedy: EnvRemedy, *, helped: bool) -> None:
        if self.trying is not None:
            self.attempts.settle(self.trying, Outcome.FIXED if helped else Outcome.DID_NOT_HELP)
        if not helped:
            del self.fixes.env[remedy.key]

    def env_none_left(self, exc: ToolError | ResolutionError) -> None:
        if self.hits:
            first = self.hits[0]
            said = (first.signature.id, first.cause, first.evidence)
            self.attempts.add(Attempt("", "resolve", *said, None, Outcome.NO_FIX))
            exc.hint = f"{first.cause}: {first.fix}"

    def unreachable(self, exc: FetchError | ResolutionError) -> bool:
        return _unreachable(exc, self.project, self.fixes, self.repair, self.attempts)

    def build(self, exc: LockBuildError) -> bool:
        self.pending = _answer_build(
            exc, self.pending, self.fixes, ctx=self.ctx, repair=self.repair, attempts=self.attempts
        )
        return bool(self.pending)

    def locked(self, result: LockResult) -> bool:
        for entry in self.pending:
            self.attempts.settle(entry, Outcome.FIXED)
        for entry in self.own:
            helped = Outcome.DID_NOT_HELP if result.own_build_error else Outcome.FIXED
            self.attempts.settle(entry, helped)
        if result.own_build_error and self.repair is not None and self.own_rounds < OWN_ROUNDS:
            self.own_rounds += 1
            self.own = _own_build(
                self.project, result.own_build_error, self.ctx, self.repair, self.attempts
            )
            for entry in self.own:  # a variable (cargo's registry) is in force from now on
                fix = entry.attempt.fix
                if fix is not None and fix.kind is FixKind.ENV:
                    key, _, value = fix.value.partition("=")
                    self.fixes.env[key] = value
            return bool(self.own)
        self.own = []
        return False

    def exhausted(self) -> BaseException:
        said = "the lock's builds still fail after every fix tried"
        return Unfixable(said, self.attempts.final())


def _answer_build(
    exc: LockBuildError,
    pending: list[Logged],
    fixes: _InForce,
    *,
    ctx: Context,
    repair: Repair | None,
    attempts: AttemptLog,
) -> list[Logged]:
    """The fixes to try for an sdist the resolver could not build (applied; the attempts
    returned are judged by the next lock); none when it was left out. Raises ``exc`` when
    there is nothing to try and it may not be left out."""
    failure = build_failure(exc.package, exc.detail or exc.message)
    hits = match(failure.text, "build")
    _judge(pending, failure, hits, fixes, attempts)
    if repair is None:
        raise exc
    if repair.partial and _added_for(exc.package, fixes):
        # a requirement bulletproof added is not worth a build fix: dropped, the rest locked
        _leave_out(exc.package, "does not build", fixes, repair, attempts)
        return []
    ctx = ctx.with_facts(locked={exc.package.lower(): exc.version} if exc.version else {})
    picked = [(h, f) for h, f in pick(failure, hits, ctx) if f.kind is not FixKind.INTERPRETER]
    if not picked:
        first = hits[0] if hits else None
        attempts.add(_attempt(failure, first, None, Outcome.NO_FIX))
        if first is not None:
            exc.hint = f"{first.cause}: {first.fix}"
        if not repair.partial or _is_out(exc.package, fixes):
            raise exc
        cause = f"does not build ({first.cause})" if first else "does not build"
        _leave_out(exc.package, cause, fixes, repair, attempts)
        return []
    chosen = [attempts.add(_attempt(failure, hit, fix)) for hit, fix in picked]
    for _hit, fix in picked:
        ctx.memory.mark_tried(fix)
        applied(fix, ctx)
    _apply([f for _, f in picked], fixes, repair, attempts)
    return chosen


def _unreachable(
    exc: FetchError | ResolutionError,
    project: Project,
    fixes: _InForce,
    repair: Repair | None,
    attempts: AttemptLog,
) -> bool:
    """A source that could not be fetched, or names no index has: each left out (the rest is
    locked without them) when a partial delivery is allowed; False when the error stands."""
    if repair is None or not repair.partial:
        return False
    if isinstance(exc, FetchError):
        if not exc.package or _is_out(exc.package, fixes):
            return False
        _leave_out(exc.package, exc.message, fixes, repair, attempts)
        return True
    missing = [n for n in not_found(exc.detail or "") if not _is_out(n, fixes)]
    looked = ", ".join(index_locations(project))
    for name in missing:
        cause = f"{name} was not found on the index (looked in: {looked})"
        _leave_out(name, cause, fixes, repair, attempts)
    return bool(missing)


def _own_build(
    project: Project, text: str, ctx: Context, repair: Repair, attempts: AttemptLog
) -> list[Logged]:
    """The project's own metadata did not build: what its output names that this system lacks
    (a program, a header, a library, a crate and the registry cargo reads it from) is
    installed or set, and the lock made again; its packaging is never moved. The attempts made,
    judged by that lock."""
    failure = build_failure(project.name, text)
    hits = match(failure.text, "build")
    kinds = (FixKind.SYSTEM, FixKind.ENV)
    picked = [(h, f) for h, f in pick(failure, hits, ctx) if f.kind in kinds]
    if not picked:
        return []
    chosen = [attempts.add(_attempt(failure, hit, fix)) for hit, fix in picked]
    names = tuple(dict.fromkeys(f.value for _, f in picked if f.kind is FixKind.SYSTEM))
    if names and repair.mapping is not None:
        install_named(names, repair.mapping, repair.ui, assume_yes=repair.assume_yes)
    for _hit, fix in picked:
        ctx.memory.mark_tried(fix)
        repair.ui.say(f"fix (while locking): {fix.describe()}")
    return chosen


def is_set_aside(package: str, set_aside: Sequence[SetAside]) -> bool:
    name = canonicalize_name(package)
    return any(canonicalize_name(s.package) == name for s in set_aside)


def _is_out(package: str, fixes: _InForce) -> bool:
    return is_set_aside(package, fixes.set_aside)


def _leave_out(
    package: str, cause: str, fixes: _InForce, repair: Repair, attempts: AttemptLog
) -> None:
    """One requirement that no fix reaches costs only itself: a requirement added for an
    undeclared import is dropped (the import is then listed as unresolved); any other is set
    aside, and the rest locked without it."""
    dropped = _added_for(package, fixes)
    if dropped:
        fixes.added = [a for a in fixes.added if a not in dropped]
        repair.ui.say(f"dropped the added requirement {package}: it {cause.removeprefix('it ')}")
        return
    fixes.set_aside.append(SetAside(package, Stage.LOCK.value, cause))
    attempts.add(Attempt(package, Stage.LOCK, "", cause, (), None, Outcome.SET_ASIDE))
    repair.ui.say(f"set aside {package} ({cause}); locking the rest without it")


def _added_for(package: str, fixes: _InForce) -> list[AddedRequirement]:
    name = canonicalize_name(package)
    return [a for a in fixes.added if canonicalize_name(requirement_name(a.requirement)) == name]


def _judge(
    pending: list[Logged],
    failure: Failure,
    hits: list[Match],
    fixes: _InForce,
    attempts: AttemptLog,
) -> None:
    """The fixes of the last round did not help if the same package fails to build again for
    the same reason (or, with no signature, at all): undone."""
    for entry in pending:
        attempt = entry.attempt
        same = failure.package == attempt.package and (
            not attempt.signature
            or any(h.signature.id == attempt.signature and h.values == attempt.values for h in hits)
        )
        attempts.settle(entry, Outcome.DID_NOT_HELP if same else Outcome.FIXED)
        if same and attempt.fix is not None:
            _undo(attempt.fix, fixes)


def _apply(chosen: list[Fix], fixes: _InForce, repair: Repair, attempts: AttemptLog) -> None:
    names = tuple(dict.fromkeys(f.value for f in chosen if f.kind is FixKind.SYSTEM))
    if names and repair.mapping is not None:
        install_named(names, repair.mapping, repair.ui, assume_yes=repair.assume_yes)
    for fix in chosen:
        repair.ui.say(f"fix (while locking): {fix.describe()}")
        if fix.kind is FixKind.CONSTRAINT:
            fixes.build_constraints.append(fix.value)
        elif fix.kind is FixKind.ENV:
            key, _, value = fix.value.partition("=")
            fixes.env[key] = value
        elif fix.kind is FixKind.PIN:
            if not consents(repair.ui, repair.assume_yes, fix):
                attempts.settle_fix(fix, Outcome.DECLINED)
                raise declined(fix, attempts.final())
            fixes.pins = [p for p in fixes.pins if p.package != fix.package]
            fixes.pins.append(fix.moved_pin())


def _undo(fix: Fix, fixes: _InForce) -> None:
    if fix.kind is FixKind.CONSTRAINT and fix.value in fixes.build_constraints:
        fixes.build_constraints.remove(fix.value)
    elif fix.kind is FixKind.ENV:
        fixes.env.pop(fix.value.partition("=")[0], None)
    elif fix.kind is FixKind.PIN:
        fixes.pins = [p for p in fixes.pins if p.package != fix.package]


def _attempt(
    failure: Failure, hit: Match | None, fix: Fix | None, outcome: Outcome = Outcome.PENDING
) -> Attempt:
    evidence = hit.evidence if hit else tuple(failure.text.strip().splitlines()[-3:])
    return Attempt(
        package=failure.package,
        stage=Stage.LOCK,
        signature=hit.signature.id if hit else "",
        cause=hit.cause if hit else "no known signature matched",
        evidence=evidence,
        fix=fix,
        outcome=outcome,
        values=dict(hit.values) if hit else {},
    )
