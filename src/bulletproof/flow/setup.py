"""`setup`: discover -> target -> lock -> (current environment?) -> predict -> build, verify and
repair -> switch -> (--tests) prove, under the project's run lock; one `EnvResult` back."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from packaging.utils import canonicalize_name

from bulletproof import __version__
from bulletproof.analyze.doctor import diagnose
from bulletproof.analyze.rustpackaging import rust_packaging_faults
from bulletproof.analyze.values import Diagnosis
from bulletproof.apply.generations import Generation, Store
from bulletproof.apply.install import OWN_BUILD_ERROR
from bulletproof.apply.system import install_missing
from bulletproof.errors import BulletproofError, InputError
from bulletproof.flow.common import (
    Options,
    choose_target,
    distro_mapping,
    locked_run,
    other_interpreters,
    with_proof,
)
from bulletproof.flow.offline import check_here, offline_uv, open_offline, relocked, serve
from bulletproof.flow.results import EnvResult
from bulletproof.host.osinfo import read_os_info
from bulletproof.host.values import Target
from bulletproof.lockfile.lock import LOCK_NAME, LockMeta, carried_fixes, read_lock, read_lock_meta
from bulletproof.lockfile.restore import SavedLock, restore_on_failure
from bulletproof.lockfile.values import LockResult
from bulletproof.mitigate.attemptlog import AttemptLog
from bulletproof.mitigate.consent import Unfixable
from bulletproof.mitigate.engine import Delivered, Engine, Job
from bulletproof.mitigate.resolve import Repair, lock_with_retry
from bulletproof.model import Project
from bulletproof.project import discover
from bulletproof.reporter import Reporter
from bulletproof.requirements import declared_names
from bulletproof.verify.distributions import distributions
from bulletproof.verify.run import verify
from bulletproof.verify.values import Verdict
from bulletproof.wheelhouse.serve import House, place_lock


def setup(directory: Path, options: Options, ui: Reporter) -> EnvResult:
    """Bring DIR/.venv to a verified environment of the current lock.

    Short of that, the best environment the run built is delivered (``incomplete``), what could
    not be had set aside; not with ``strict`` or a ``--locked`` selection. An error is returned in
    the result with what the run learned before it.
    """
    result = EnvResult("setup", directory)
    try:
        house = open_offline(options.wheelhouse)  # before anything: made for here, unchanged
        if options.offline or house is not None:  # nothing is installed on the system offline
            options = replace(options, offline=True, system=False)
        result = replace(result, project=discover(directory, options.selection))
        assert result.project is not None
        if house is not None and not options.python and not result.project.config.python:
            options = replace(options, python=house.manifest.target.minor)
        store = Store(result.project.root)
        with locked_run(store, ui, options.lock_timeout), offline_uv(options.offline, house) as at:
            result = _setup_locked(result, result.project, store, options, ui, offline=(house, at))
            result = _with_packaging_faults(result)
            if isinstance(result.error, InputError):
                # through the run lock, which removes a state folder this run made
                raise result.error
            if result.error is None:
                result = with_proof(result, options, ui)
    except BulletproofError as exc:
        return replace(result, error=exc)
    return result


def _setup_locked(
    result: EnvResult,
    project: Project,
    store: Store,
    options: Options,
    ui: Reporter,
    *,
    offline: tuple[House | None, Path | None] = (None, None),
) -> EnvResult:
    """Everything under the run lock, the tests aside; an error is returned in the result with
    what was learned before it (the target, the lock, the attempts). ``offline``: the wheelhouse
    and the scratch folder of an offline run."""
    house, scratch = offline
    try:
        removed = store.clear_unfinished()
        if removed:
            ui.say(
                f"removed unfinished environment(s) from an interrupted run: {', '.join(removed)}"
            )
        if house is not None and (said := place_lock(house, project.root / LOCK_NAME)):
            ui.say(said)
        lock_before = restore_on_failure(project.root / LOCK_NAME)
        lock_meta = _lock_meta(project, ui)
        target = choose_target(project, options.python, ui, lock_meta=lock_meta)
        result = replace(result, target=target)
        if house is not None:
            check_here(house, target.interpreter, ui)
        pins, added = carried_fixes(lock_meta, project, target)
        mapping = distro_mapping()
        partial = not options.strict and not project.selection.locked
        attempts = AttemptLog()  # the lock's, then the engine's
        repair = Repair(ui, mapping, options.assume_yes, options.system, partial=partial)
        try:
            with ui.step(f"Locking for Python {target.interpreter.version}") as detail:
                done = lock_with_retry(
                    project, target, lock_meta, pins, attempts, added=added, repair=repair
                )
                detail.append(
                    f"{done.result.packages} packages"
                    + (", unchanged" if done.result.reused else "")
                )
        except BulletproofError as exc:  # the lock's attempts go with any error
            return replace(result, attempts=attempts.final(), error=exc)
        locked = done.result
        if stale := relocked(locked, house, lock_before):
            raise stale
        result = replace(result, lock=locked, set_aside=done.set_aside, attempts=attempts.final())
        built_from = serve(locked, house, scratch)  # with a wheelhouse: its files
        for note in locked.notes:
            ui.say(note)
        current = store.current()
        if (
            current
            and current.complete
            and _env_key(locked, target).items() <= current.meta().items()
        ):
            kept = _verify_current(result, current, options, ui)
            if kept is not None:
                return kept
        diagnosis = _prepare_system(project, target, built_from, ui, options)
        result = replace(result, diagnosis=diagnosis)
        job = Job(
            project,
            target,
            built_from,
            mapping,
            options.assume_yes,
            options.import_timeout,
            others=lambda: other_interpreters(project, target),
            constraints=(*diagnosis.build_constraints, *done.build_constraints),
            env=done.env,
            pins=done.pins,
            allow_system=options.system,
            strict=options.strict,
            added=done.added,
            set_aside=done.set_aside,
            partial=partial,
        )
        engine = Engine(job, store, ui, attempts)
        try:
            with lock_before:  # raised: back to the lock the current environment was made from
                delivered = engine.run()
        except BaseException as exc:
            # Unfixable carries the last verification; any error, the attempts made before it
            verification = exc.verification if isinstance(exc, Unfixable) else None
            failed = replace(result, verification=verification, attempts=attempts.final())
            if isinstance(exc, BulletproofError):
                return replace(failed, error=exc)
            raise
        result = replace(result, attempts=delivered.attempts)
        if delivered.locked.path == built_from.path:  # the team's lock is what it stands for
            delivered = replace(delivered, locked=replace(delivered.locked, path=locked.path))
        return _switch(store, result, delivered, current=current, lock_before=lock_before, ui=ui)
    except BulletproofError as exc:
        return replace(result, error=exc)


def _verify_current(
    result: EnvResult, current: Generation, options: Options, ui: Reporter
) -> EnvResult | None:
    """DIR/.venv already is this lock's environment: verified (from the cache when nothing
    changed), it is the result; None when it no longer verifies and a new one must be built."""
    assert result.project is not None
    with (
        ui.step("Verifying the current environment", spinner=False),
        ui.import_progress() as progress,
    ):
        verification = verify(
            current.path,
            result.project,
            full=options.full,
            timeout=options.import_timeout,
            on_imports=progress,
        )
    verdict = verification.verdict
    if verdict is Verdict.VERIFIED or (not options.strict and verdict is Verdict.USABLE):
        return replace(
            result,
            generation=current,
            verification=verification,
            own_build_error=_own_build_error(result.lock, current),
        )
    ui.say("the current environment no longer verifies; building a new one")
    return None


def _switch(
    store: Store,
    result: EnvResult,
    delivered: Delivered,
    *,
    current: Generation | None,
    lock_before: SavedLock,
    ui: Reporter,
) -> EnvResult:
    """Make what the engine delivered DIR/.venv, unless it is incomplete and the working
    environment is better for the project: that one stays, the new one is kept for rollback."""
    project = result.project
    assert project is not None
    result = replace(
        result,
        lock=delivered.locked,
        target=delivered.target,
        verification=delivered.verification,
        set_aside=delivered.set_aside,
        short=delivered.short,
    )
    gen = delivered.generation
    store.mark_complete(
        gen,
        {
            **_env_key(delivered.locked, delivered.target),
            "python": delivered.target.interpreter.version,
            "bulletproof": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "shortfall": delivered.score,
        },
    )
    if not delivered.complete and current is not None and current.complete:
        kept = _keep_better(current, delivered, project, ui)
        if kept:
            lock_before.put_back()
            return replace(
                result,
                kept=kept,
                generation=current,
                left_for_rollback=gen.path.name,
                own_build_error=_own_build_error(result.lock, current),
            )
    moved = store.switch(gen)
    if moved:
        ui.say(moved)
    store.prune()
    return replace(
        result,
        generation=gen,
        changed=True,
        moved_aside=moved or "",
        previous=current.path.name if current else None,
        own_build_error=_own_build_error(result.lock, gen),
    )


def _with_packaging_faults(result: EnvResult) -> EnvResult:
    """The project's own package did not build: what in its packaging is wrong, read from its
    files (whatever the build said, which may stop before it gets there)."""
    if not result.own_build_error or result.project is None:
        return result
    return replace(result, own_build_faults=rust_packaging_faults(result.project.root))


def _own_build_error(locked: LockResult | None, generation: Generation) -> str:
    """The project's own build failed while locking, or while installing it editable."""
    if locked is not None and locked.own_build_error:
        return locked.own_build_error
    path = generation.path / OWN_BUILD_ERROR
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def _keep_better(current: Generation, delivered: Delivered, project: Project, ui: Reporter) -> str:
    """Whether the working environment is better for the project than the incomplete one just
    built (fewer of what the project needs failing, checked against the project as it is now):
    then it stays, and why is returned; "" to switch."""
    with ui.step("Comparing with the current environment", spinner=False):
        now = verify(current.path, project, full=True)
    # a requirement it lacks fails there as surely as a module that does not import
    score = now.shortfall + len(_missing_direct(current.path, project))
    if delivered.score <= score:  # at least as good: switched to
        return ""
    return (
        f"kept {current.path.name}: {score} of what the project needs fails there, "
        f"{delivered.score} in the new {delivered.generation.path.name} "
        f"(bulletproof rollback --to {delivered.generation.path.name} switches to it)"
    )


def _missing_direct(env: Path, project: Project) -> list[str]:
    """The project's direct requirements (for this environment's Python) not installed in
    ``env``."""
    installed = {canonicalize_name(d.name) for d in distributions(env)}
    declared = declared_names(project.direct_requirements, project.requirement_files)
    return [name for name in declared if canonicalize_name(name) not in installed]


def _lock_meta(project: Project, ui: Reporter) -> LockMeta:
    """The recorded table of DIR/pylock.toml; a damaged or edited lock is said and made again
    (for the target it names, when its table is whole); someone else's is never overwritten."""
    path = project.root / LOCK_NAME
    meta, problem = read_lock(path)
    if problem is None:
        return meta or LockMeta()
    if not meta:
        raise InputError(
            f"{path} {problem}",
            hint="bulletproof keeps its own lock at that path and does not overwrite another; "
            "move that file aside (PEP 751 names other locks pylock.NAME.toml), then run again",
        )
    python = f" for Python {meta.python} as it records" if meta.python else ""
    ui.say(f"{LOCK_NAME} {problem}: locking again{python}")
    return meta


def _prepare_system(
    project: Project, target: Target, locked: LockResult, ui: Reporter, options: Options
) -> Diagnosis:
    """Predict what the build needs; install missing system packages (with consent)."""
    with ui.step("Predicting what the build needs") as detail:
        diagnosis = diagnose(
            project, target, locked.path, read_os_info(), read_lock_meta(locked.path).yanked
        )
        detail.append(f"{len(diagnosis.source_builds)} source builds")
    for finding in diagnosis.blocking:
        ui.say(f"warning: {finding.title}: {finding.why}; {finding.fix}")
    if diagnosis.build_constraints:
        ui.say(f"building with the constraints {', '.join(diagnosis.build_constraints)}")
    if diagnosis.system.missing and not options.system:
        why = "offline: cannot install" if options.offline else "--no-system: not installing"
        ui.say(f"{why} {' '.join(diagnosis.system.missing)}")
    elif diagnosis.system.missing:
        for command in install_missing(diagnosis.system, ui, assume_yes=options.assume_yes):
            ui.note(f"ran: {command}")
    return diagnosis


def _env_key(locked: LockResult, target: Target) -> dict[str, str]:
    """What a generation was built from; equal keys mean the current one can be kept."""
    return {"packages-hash": locked.packages_hash, "python-path": str(target.interpreter.path)}
