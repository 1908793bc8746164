"""Commands composed of stages: discover -> target -> lock -> build -> verify -> switch.

Kept apart from cli.py so that the CLI only parses arguments and maps errors to exit codes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from bulletproof import __version__
from bulletproof.analyze.doctor import diagnose
from bulletproof.apply.generations import Generation, Store
from bulletproof.apply.system import install_missing
from bulletproof.errors import InputError
from bulletproof.fsutil import read_or_none, restore
from bulletproof.host.osinfo import read_os_info
from bulletproof.host.pythons import find_interpreters, select_target, target_from_lock
from bulletproof.knowledge.mappings import DistroMapping, ecosystem_for, load_mapping
from bulletproof.lockfile.lock import (
    LOCK_NAME,
    carried_fixes,
    read_lock,
    read_lock_meta,
    selection_from,
    set_aside_from,
)
from bulletproof.mitigate.engine import Delivered, Engine
from bulletproof.mitigate.resolve import Repair, lock_with_retry
from bulletproof.model import (
    Attempt,
    Diagnosis,
    Interpreter,
    LockResult,
    Project,
    Selection,
    SetAside,
    SuiteReport,
    Target,
    Verdict,
    Verification,
)
from bulletproof.project import discover
from bulletproof.reporter import Reporter
from bulletproof.requirements import declared_names
from bulletproof.verify.distributions import distributions
from bulletproof.verify.run import verify
from bulletproof.verify.uptodate import out_of_date


@dataclass
class Outcome:
    project: Project | None = None
    target: Target | None = None
    lock: LockResult | None = None
    generation: Generation | None = None
    verification: Verification | None = None
    diagnosis: Diagnosis | None = None
    changed: bool = False
    attempts: list[Attempt] = field(default_factory=list)  # the mitigation engine's
    tests: SuiteReport | None = None  # with --tests
    set_aside: tuple[SetAside, ...] = ()  # requirements left out so the rest could be delivered
    short: str = ""  # why the repair stopped before a verified environment
    kept: str = ""  # a better environment was kept; the new generation left for rollback --to
    stale: tuple[str, ...] = ()  # verify: why the environment no longer matches the project
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.verification is not None and self.verification.verdict is Verdict.VERIFIED

    @property
    def incomplete(self) -> bool:
        """Delivered, short of what the project asks for: something set aside, or what it
        needs still failing."""
        broken = self.verification is not None and self.verification.verdict is Verdict.BROKEN
        return bool(self.set_aside or self.kept or broken)

    def environment(self) -> dict[str, Any] | None:
        if self.generation is None:
            return None
        return {
            "path": str(self.generation.path),
            "generation": self.generation.path.name,
            "changed": self.changed,
            **self.extra,
        }


def choose_target(
    project: Project,
    wanted: str | None,
    ui: Reporter,
    found: tuple[Interpreter, ...] | None = None,
    lock_meta: Mapping[str, Any] | None = None,
) -> Target:
    """The target interpreter; ``found`` and ``lock_meta`` spare a second read of what one has."""
    if lock_meta is None:
        lock_meta = read_lock_meta(project.root / LOCK_NAME)
    recorded = target_from_lock(lock_meta, project, wanted)
    if recorded is not None:
        return recorded
    if found is None:
        with ui.step("Finding interpreters") as detail:
            found = find_interpreters()
            detail.append(f"{len(found)} found")
    return select_target(project, wanted, found)


def locked_run(store: Store, ui: Reporter, timeout: float) -> AbstractContextManager[None]:
    return store.locked(timeout, lambda: ui.say("another bulletproof run is working here; waiting"))


def setup(
    directory: Path,
    wanted: str | None,
    ui: Reporter,
    out: Outcome,
    *,
    full: bool = False,
    import_timeout: float = 60.0,
    lock_timeout: float = 300.0,
    assume_yes: bool = False,
    system: bool = True,
    selection: Selection | None = None,
    strict: bool = False,
) -> Outcome:
    """Bring DIR/.venv to a verified environment of the current lock; fills ``out`` as it goes.

    ``assume_yes`` is consent to install missing system packages; ``system=False`` skips them.
    Short of that, the best environment the run built is delivered (``out.incomplete``), what
    could not be had set aside; not with ``strict`` or a ``--locked`` selection.
    """
    out.project = project = discover(directory, selection)
    partial = not strict and not project.selection.locked
    store = Store(project.root)
    with locked_run(store, ui, lock_timeout):
        removed = store.clear_unfinished()
        if removed:
            ui.say(
                f"removed unfinished environment(s) from an interrupted run: {', '.join(removed)}"
            )
        lock_before = read_or_none(project.root / LOCK_NAME)
        lock_meta = _lock_meta(project, ui)
        out.target = target = choose_target(project, wanted, ui, lock_meta=lock_meta)
        pins, added = carried_fixes(lock_meta, project, target)
        mapping = _mapping()
        with ui.step(f"Locking for Python {target.interpreter.version}") as detail:
            done = lock_with_retry(
                project,
                target,
                lock_meta,
                pins,
                out.attempts,
                added=added,
                repair=Repair(ui, mapping, assume_yes, system, partial=partial),
            )
            out.lock = locked = done.result
            out.set_aside = done.set_aside
            detail.append(f"{locked.packages} packages" + (", unchanged" if locked.reused else ""))
        for note in locked.notes:
            ui.say(note)
        current = store.current()
        if (
            current
            and current.complete
            and _env_key(locked, target).items() <= current.meta().items()
        ):
            out.generation = current
            with (
                ui.step("Verifying the current environment", spinner=False),
                ui.import_progress() as progress,
            ):
                out.verification = verify(
                    current.path, project, full=full, timeout=import_timeout, on_imports=progress
                )
            verdict = out.verification.verdict
            if verdict is Verdict.VERIFIED or (not strict and verdict is Verdict.USABLE):
                return out
            ui.say("the current environment no longer verifies; building a new one")
        out.diagnosis = diagnosis = _prepare_system(
            project, target, locked, ui, assume_yes=assume_yes, system=system
        )
        engine = Engine(
            project,
            target,
            locked,
            store,
            ui,
            mapping,
            assume_yes,
            import_timeout,
            others=lambda: _other_interpreters(project, target),
            constraints=(*diagnosis.build_constraints, *done.build_constraints),
            env=done.env,
            pins=done.pins,
            attempts=list(out.attempts),  # the lock's, first
            allow_system=system,
            strict=strict,
            added=done.added,
            set_aside=done.set_aside,
            partial=partial,
        )
        try:
            delivered = engine.run()
        except BaseException:
            out.verification = engine.last_verification
            # back to the lock the current environment was made from
            restore(project.root / LOCK_NAME, lock_before)
            raise
        finally:
            out.attempts = engine.attempts
        return _switch(store, out, delivered, current=current, lock_before=lock_before, ui=ui)


def _switch(
    store: Store,
    out: Outcome,
    delivered: Delivered,
    *,
    current: Generation | None,
    lock_before: bytes | None,
    ui: Reporter,
) -> Outcome:
    """Make what the engine delivered DIR/.venv, unless it is incomplete and the working
    environment is better for the project: that one stays, the new one is kept for rollback."""
    assert out.project is not None
    out.lock, out.target = delivered.locked, delivered.target
    out.verification, out.set_aside, out.short = (
        delivered.verification,
        delivered.set_aside,
        delivered.short,
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
        kept = _keep_better(current, delivered, out.project, ui)
        if kept:
            out.kept, out.generation = kept, current
            restore(out.project.root / LOCK_NAME, lock_before)
            out.extra["left_for_rollback"] = gen.path.name
            return out
    moved = store.switch(gen)
    if moved:
        ui.say(moved)
        out.extra["moved_aside"] = moved
    store.prune()
    out.generation, out.changed = gen, True
    out.extra["previous"] = current.path.name if current else None
    return out


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


def _lock_meta(project: Project, ui: Reporter) -> dict[str, Any]:
    """The recorded table of DIR/pylock.toml; a damaged or edited lock is said and made again
    (for the target it names, when its table is whole); someone else's is never overwritten."""
    path = project.root / LOCK_NAME
    meta, problem = read_lock(path)
    if problem is None:
        return meta
    if not meta:
        raise InputError(
            f"{path} {problem}",
            hint="bulletproof keeps its own lock at that path and does not overwrite another; "
            "move that file aside (PEP 751 names other locks pylock.NAME.toml), then run again",
        )
    python = f" for Python {meta['python']} as it records" if meta.get("python") else ""
    ui.say(f"{LOCK_NAME} {problem}: locking again{python}")
    return meta


def _prepare_system(
    project: Project,
    target: Target,
    locked: LockResult,
    ui: Reporter,
    *,
    assume_yes: bool,
    system: bool,
) -> Diagnosis:
    """Predict what the build needs; install missing system packages (with consent)."""
    with ui.step("Predicting what the build needs") as detail:
        diagnosis = diagnose(
            project, target, locked.path, read_os_info(), read_lock_meta(locked.path)
        )
        detail.append(f"{len(diagnosis.source_builds)} source builds")
    for finding in diagnosis.blocking:
        ui.say(f"warning: {finding.title}: {finding.why}; {finding.fix}")
    if diagnosis.build_constraints:
        ui.say(f"building with the constraints {', '.join(diagnosis.build_constraints)}")
    if diagnosis.system.missing and not system:
        ui.say(f"--no-system: not installing {' '.join(diagnosis.system.missing)}")
    elif diagnosis.system.missing:
        ran = install_missing(diagnosis.system, ui, assume_yes=assume_yes)
        for command in ran:
            ui.note(f"ran: {command}")
    return diagnosis


def _env_key(locked: LockResult, target: Target) -> dict[str, str]:
    """What a generation was built from; equal keys mean the current one can be kept."""
    return {"packages-hash": locked.packages_hash, "python-path": str(target.interpreter.path)}


def _mapping() -> DistroMapping | None:
    ecosystem = ecosystem_for(read_os_info())
    return load_mapping(ecosystem) if ecosystem else None


def _other_interpreters(project: Project, target: Target) -> tuple[Interpreter, ...]:
    """Other local interpreters the project's requires-python allows, newest first."""
    allowed = SpecifierSet(project.requires_python or "")
    found = [
        i
        for i in find_interpreters()
        if i.minor != target.interpreter.minor
        and i.implementation == target.interpreter.implementation
        and allowed.contains(i.version, prereleases=True)
    ]
    return tuple(sorted(found, key=lambda i: Version(i.version), reverse=True))


def verify_only(
    directory: Path,
    ui: Reporter,
    out: Outcome,
    *,
    full: bool,
    import_timeout: float,
    lock_timeout: float,
) -> Outcome:
    # the extras and groups setup was asked for, so the inputs compared are the same ones
    meta = read_lock_meta(directory / LOCK_NAME)
    recorded = selection_from(meta)
    out.set_aside = set_aside_from(meta)
    out.project = project = discover(directory, recorded)
    store = Store(project.root)
    env = project.root / ".venv"
    if not (env / "bin" / "python").exists():
        raise InputError(f"no environment at {env}", hint=f"run: bulletproof setup {directory}")
    with locked_run(store, ui, lock_timeout):
        current = store.current()
        out.generation = current
        # a foreign .venv is checked as it is: there is no lock it was made from; an
        # out-of-date one is still verified (and its tests run): what it breaks is worth seeing
        if current is not None:
            out.stale = tuple(out_of_date(project, current.meta(), env.resolve()))
        with ui.step("Verifying the environment", spinner=False), ui.import_progress() as progress:
            # someone else's venv is checked as it is and nothing is written into it
            out.verification = verify(
                env.resolve(),
                project,
                full=full or current is None,
                timeout=import_timeout,
                on_imports=progress,
                cache_results=current is not None,
            )
    return out
