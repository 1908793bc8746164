"""Locking, with repair at that stage too: an environment fix from the resolve-stage signatures
(the system trust store for an intercepted TLS connection) is tried once; an sdist the resolver
has to build to read its metadata and that does not build goes through the same choice of fixes
as a build during install (a system package, a build constraint, a variable, the nearest
release that has a wheel), each judged by the next lock and undone if it did not help."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bulletproof.analyze.buildlogs import build_failure
from bulletproof.analyze.faults import os_error_fault, scratch_places
from bulletproof.analyze.lock import lock
from bulletproof.analyze.signatures import Match, match
from bulletproof.apply.system import install_named
from bulletproof.errors import FetchError, LockBuildError, ResolutionError, ToolError
from bulletproof.knowledge.mappings import DistroMapping
from bulletproof.mitigate.consent import Unfixable, consent
from bulletproof.mitigate.propose import Context, applied, pick
from bulletproof.model import (
    AddedRequirement,
    Attempt,
    Failure,
    Fix,
    FixKind,
    LockResult,
    MovedPin,
    Outcome,
    Project,
    Stage,
    Target,
)
from bulletproof.report.terminal import Ui

MAX_LOCK_REPAIRS = 6


@dataclass(frozen=True)
class Repair:
    """What repairing a build at the lock stage may do on this host."""

    ui: Ui
    mapping: DistroMapping | None
    assume_yes: bool = False
    allow_system: bool = True


@dataclass(frozen=True)
class Locked:
    """The lock, and the fixes its builds needed: the install's builds need them too."""

    result: LockResult
    build_constraints: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    pins: tuple[MovedPin, ...] = ()  # every moved pin in force: carried, and moved here


@dataclass
class _InForce:
    """The lock-stage fixes in force while repairing."""

    pins: list[MovedPin]
    build_constraints: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def lock_with_retry(
    project: Project,
    target: Target,
    previous: Mapping[str, Any],
    pins: Sequence[MovedPin],
    attempts: list[Attempt],
    *,
    added: Sequence[AddedRequirement] = (),
    repair: Repair | None = None,
) -> Locked:
    fixes = _InForce(list(pins))
    ctx = Context(repair.mapping if repair else None, target.interpreter, project.root, {})
    if repair is not None:
        ctx.allow_system = repair.allow_system
    pending: list[Attempt] = []
    for _ in range(MAX_LOCK_REPAIRS):
        try:
            result = _lock_once(project, target, previous, fixes, attempts, added=added)
        except OSError as exc:  # the lock's own write: a full disk is named, not a traceback
            fault = os_error_fault(exc, scratch_places(project.root))
            if fault is None:
                raise
            raise fault from exc
        except LockBuildError as exc:
            failure = build_failure(exc.package, exc.detail or exc.message)
            hits = match(failure.text, "build")
            _judge(pending, failure, hits, fixes)
            if repair is None:
                raise
            ctx.locked = {exc.package.lower(): exc.version} if exc.version else {}
            picked = [
                (h, f) for h, f in pick(failure, hits, ctx) if f.kind is not FixKind.INTERPRETER
            ]
            if not picked:
                first = hits[0] if hits else None
                attempts.append(_attempt(failure, first, None, Outcome.NO_FIX))
                if first is not None:
                    exc.hint = f"{first.cause}: {first.fix}"
                raise
            pending = [_attempt(failure, hit, fix) for hit, fix in picked]
            attempts.extend(pending)
            for _hit, fix in picked:
                ctx.tried.add(fix)
                applied(fix, ctx)
            _apply([f for _, f in picked], fixes, repair, attempts)
            continue
        for attempt in pending:
            attempt.outcome = Outcome.FIXED
        return Locked(result, tuple(fixes.build_constraints), dict(fixes.env), tuple(fixes.pins))
    raise Unfixable("the lock's builds still fail after every fix tried", attempts)


def _lock_once(
    project: Project,
    target: Target,
    previous: Mapping[str, Any],
    fixes: _InForce,
    attempts: list[Attempt],
    *,
    added: Sequence[AddedRequirement],
) -> LockResult:
    def once() -> LockResult:
        return lock(
            project,
            target,
            previous,
            pins=fixes.pins,
            added=added,
            build_constraints=fixes.build_constraints,
            env=fixes.env,
        )

    try:
        return once()
    except FetchError:  # a VCS host git could not reach: none of uv's variables changes that
        raise
    except (ToolError, ResolutionError) as exc:  # a LockBuildError is neither: repaired above
        hits = match(exc.detail or exc.message, "resolve")
        for hit in hits:
            for remedy in hit.remedies():
                key, _, value = remedy.get("env", "").partition("=")
                if not key or os.environ.get(key) == value or fixes.env.get(key) == value:
                    continue
                attempt = Attempt(
                    "",
                    "resolve",
                    hit.signature.id,
                    hit.cause,
                    hit.evidence,
                    Fix(FixKind.ENV, f"{key}={value}"),
                )
                attempts.append(attempt)
                fixes.env[key] = value
                try:
                    result = once()
                except (ToolError, ResolutionError):
                    attempt.outcome = Outcome.DID_NOT_HELP
                    del fixes.env[key]
                    break
                attempt.outcome = Outcome.FIXED
                return result
        if hits:
            first = hits[0]
            attempts.append(
                Attempt(
                    "",
                    "resolve",
                    first.signature.id,
                    first.cause,
                    first.evidence,
                    None,
                    Outcome.NO_FIX,
                )
            )
            exc.hint = f"{first.cause}: {first.fix}"
        raise


def _judge(pending: list[Attempt], failure: Failure, hits: list[Match], fixes: _InForce) -> None:
    """The fixes of the last round did not help if the same package fails to build again for
    the same reason (or, with no signature, at all): undone."""
    for attempt in pending:
        same = failure.package == attempt.package and (
            not attempt.signature
            or any(h.signature.id == attempt.signature and h.values == attempt.values for h in hits)
        )
        attempt.outcome = Outcome.DID_NOT_HELP if same else Outcome.FIXED
        if same and attempt.fix is not None:
            _undo(attempt.fix, fixes)


def _apply(chosen: list[Fix], fixes: _InForce, repair: Repair, attempts: list[Attempt]) -> None:
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
            consent(repair.ui, repair.assume_yes, fix, attempts)
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
