"""`doctor`: the machine, the project, the target, a lock made in a scratch folder and the
predictions made from it. Changes nothing; one `DoctorResult` back."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from bulletproof.analyze.doctor import diagnose
from bulletproof.analyze.rustpackaging import rust_packaging_faults
from bulletproof.analyze.values import Finding, Severity
from bulletproof.errors import BulletproofError
from bulletproof.flow.common import Options, choose_target
from bulletproof.flow.results import DoctorResult
from bulletproof.host.probe import probe_host
from bulletproof.lockfile.lock import LOCK_NAME, lock, read_lock_meta
from bulletproof.lockfile.values import LockResult
from bulletproof.model import Project
from bulletproof.project import discover
from bulletproof.reporter import Reporter


def doctor(directory: Path, options: Options, ui: Reporter) -> DoctorResult:
    with ui.step("Probing this machine"):
        host = probe_host()
    result = DoctorResult(host)
    try:
        project = discover(directory, options.selection)
        result = replace(result, project=project)
        lock_meta = read_lock_meta(project.root / LOCK_NAME)
        target = choose_target(project, options.python, ui, host.interpreters, lock_meta)
        result = replace(result, target=target)
        # doctor changes nothing: a lock it has to make goes to a scratch folder, not DIR
        with tempfile.TemporaryDirectory(prefix="bulletproof-doctor-") as scratch:
            with ui.step(f"Locking for Python {target.interpreter.version}") as detail:
                locked = lock(project, target, lock_meta, into=Path(scratch) / LOCK_NAME)
                detail.append(
                    f"{locked.packages} packages" + (", current lock" if locked.reused else "")
                )
            result = replace(result, lock=locked)
            meta = lock_meta if locked.reused else read_lock_meta(locked.path)
            with ui.step("Predicting builds and system needs") as detail:
                diagnosis = diagnose(project, target, locked.path, host.os, meta.yanked)
                if locked.own_build_error:
                    own = _own_build_finding(project, locked)
                    diagnosis = replace(diagnosis, findings=(own, *diagnosis.findings))
                detail.append(f"{len(diagnosis.findings)} findings")
        return replace(result, diagnosis=diagnosis)
    except BulletproofError as exc:
        return replace(result, error=exc)


def _own_build_finding(project: Project, locked: LockResult) -> Finding:
    lines = [line.strip() for line in locked.own_build_error.splitlines() if line.strip()]
    evidence = [line for line in lines if "rror" in line or "failed" in line.lower()]
    said = "; ".join((evidence or lines)[-3:])
    # what in its files is wrong, when they say (whatever the build's words): the why and fix
    if faults := rust_packaging_faults(project.root):
        return Finding(
            f"own-build:{project.name}",
            Severity.BLOCKER,
            project.name,
            "the project's own package does not build",
            ("; ".join(f.problem for f in faults) + f" (the build: {said})")[:600],
            "; ".join(f.fix for f in faults)
            + " (meanwhile setup installs its dependencies and puts its source on the path)",
        )
    return Finding(
        f"own-build:{project.name}",
        Severity.BLOCKER,
        project.name,
        "the project's own package does not build",
        said[:600],
        "a fault in its packaging: setup installs its dependencies and puts its source on the "
        "path; the maintainers' fix is in the build configuration the error names",
    )
