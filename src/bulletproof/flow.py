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

from bulletproof import __version__
from bulletproof.analyze.doctor import diagnose
from bulletproof.analyze.lock import LOCK_NAME, lock, read_lock_meta
from bulletproof.apply.generations import Generation, Store
from bulletproof.apply.install import build_environment
from bulletproof.apply.system import install_missing
from bulletproof.errors import InputError
from bulletproof.host.osinfo import read_os_info
from bulletproof.host.pythons import find_interpreters, select_target, target_from_lock
from bulletproof.model import Diagnosis, Interpreter, LockResult, Project, Target, Verification
from bulletproof.project import discover
from bulletproof.report.terminal import Ui
from bulletproof.verify.run import verify


@dataclass
class Outcome:
    project: Project | None = None
    target: Target | None = None
    lock: LockResult | None = None
    generation: Generation | None = None
    verification: Verification | None = None
    diagnosis: Diagnosis | None = None
    changed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.verification is not None and self.verification.ok

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
    ui: Ui,
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


def locked_run(store: Store, ui: Ui, timeout: float) -> AbstractContextManager[None]:
    return store.locked(timeout, lambda: ui.say("another bulletproof run is working here; waiting"))


def setup(
    directory: Path,
    wanted: str | None,
    ui: Ui,
    out: Outcome,
    *,
    full: bool = False,
    import_timeout: float = 60.0,
    lock_timeout: float = 300.0,
    assume_yes: bool = False,
    system: bool = True,
) -> Outcome:
    """Bring DIR/.venv to a verified environment of the current lock; fills ``out`` as it goes.

    ``assume_yes`` is consent to install missing system packages; ``system=False`` skips them.
    """
    out.project = project = discover(directory)
    store = Store(project.root)
    with locked_run(store, ui, lock_timeout):
        removed = store.clear_unfinished()
        if removed:
            ui.say(
                f"removed unfinished environment(s) from an interrupted run: {', '.join(removed)}"
            )
        lock_meta = read_lock_meta(project.root / LOCK_NAME)
        out.target = target = choose_target(project, wanted, ui, lock_meta=lock_meta)
        with ui.step(f"Locking for Python {target.interpreter.version}") as detail:
            out.lock = locked = lock(project, target, lock_meta)
            detail.append(f"{locked.packages} packages" + (", unchanged" if locked.reused else ""))
        digest = locked.packages_hash
        current = store.current()
        wanted_meta = {"packages-hash": digest, "python-path": str(target.interpreter.path)}
        if current and current.complete and wanted_meta.items() <= current.meta().items():
            out.generation = current
            with (
                ui.step("Verifying the current environment", spinner=False),
                ui.import_progress() as progress,
            ):
                out.verification = verify(
                    current.path, project, full=full, timeout=import_timeout, on_imports=progress
                )
            if out.verification.ok:
                return out
            ui.say("the current environment no longer verifies; building a new one")
        out.diagnosis = diagnosis = _prepare_system(
            project, target, locked, ui, assume_yes=assume_yes, system=system
        )
        gen = store.new_generation()
        try:
            with ui.step(f"Building environment {gen.path.name}"):
                build_environment(
                    gen.path, locked.path, project, target, diagnosis.build_constraints
                )
            with (
                ui.step("Verifying the new environment", spinner=False),
                ui.import_progress() as progress,
            ):
                out.verification = verify(
                    gen.path, project, full=True, timeout=import_timeout, on_imports=progress
                )
        except BaseException:
            store.discard(gen)  # the current environment stays as it was
            raise
        if not out.verification.ok:
            store.discard(gen)
            out.generation = current
            return out
        store.mark_complete(
            gen,
            {
                **wanted_meta,
                "python": target.interpreter.version,
                "bulletproof": __version__,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
        )
        moved = store.switch(gen)
        if moved:
            ui.say(moved)
            out.extra["moved_aside"] = moved
        store.prune()
        out.generation, out.changed = gen, True
        out.extra["previous"] = current.path.name if current else None
        return out


def _prepare_system(
    project: Project, target: Target, locked: LockResult, ui: Ui, *, assume_yes: bool, system: bool
) -> Diagnosis:
    """Predict what the build needs; install missing system packages (with consent)."""
    with ui.step("Predicting what the build needs") as detail:
        diagnosis = diagnose(project, target, locked.path, read_os_info(), {})
        detail.append(f"{len(diagnosis.source_builds)} source builds")
    for finding in diagnosis.blocking:
        ui.say(f"warning: {finding.title}: {finding.why}; {finding.fix}")
    if diagnosis.build_constraints:
        ui.say(f"building with the constraints {', '.join(diagnosis.build_constraints)}")
    if diagnosis.system.missing and not system:
        ui.say(f"--no-system: not installing {' '.join(diagnosis.system.missing)}")
    elif diagnosis.system.missing:
        ran = install_missing(diagnosis.system, ui, assume_yes=assume_yes)
        ui.record.messages.extend(f"ran: {c}" for c in ran)
    return diagnosis


def verify_only(
    directory: Path, ui: Ui, out: Outcome, *, full: bool, import_timeout: float, lock_timeout: float
) -> Outcome:
    out.project = project = discover(directory)
    store = Store(project.root)
    env = project.root / ".venv"
    if not (env / "bin" / "python").exists():
        raise InputError(f"no environment at {env}", hint=f"run: bulletproof setup {directory}")
    with locked_run(store, ui, lock_timeout):
        current = store.current()
        out.generation = current
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
