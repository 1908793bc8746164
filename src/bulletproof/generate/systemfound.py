"""The system packages a project's builds need, as bulletproof found them on this machine: the
ones setup's repair installed and that fixed a build (the project's history,
DIR/.bulletproof/attempts.json), and doctor's prediction from the project's current lock
(``analyze.doctor.diagnose``: each source build's needs, mapped for this distribution).

A generated container installs these in its build stage so that they are said and cached in a
layer of their own; setup inside the build installs anything else it finds missing itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bulletproof.analyze.doctor import diagnose
from bulletproof.errors import BulletproofError
from bulletproof.generate.troubleshooting import load_attempts
from bulletproof.host.osinfo import read_os_info
from bulletproof.host.pythons import target_from_lock
from bulletproof.lockfile.lock import LOCK_NAME
from bulletproof.lockfile.pylock import read_lock_meta
from bulletproof.model import Project


@dataclass(frozen=True)
class FoundPackages:
    packages: tuple[str, ...]  # in the order they were first found, each once
    sources: tuple[str, ...]  # where they came from, one phrase each, for a generated header
    release: str  # the system they were found for ("Debian GNU/Linux 12 (bookworm)")


def repaired_packages(project_dir: Path) -> tuple[str, ...]:
    """The system packages setup installed as a fix that worked on this project."""
    found: list[str] = []
    for entry in load_attempts(project_dir):
        fix = entry.get("fix")
        if not isinstance(fix, dict) or fix.get("kind") != "system":
            continue
        if entry.get("outcome") == "fixed" and isinstance(fix.get("value"), str):
            found.append(fix["value"])
    return tuple(dict.fromkeys(found))


def predicted_packages(project: Project) -> tuple[tuple[str, ...], str]:
    """doctor's system plan from the project's current lock, and a phrase for where it came
    from; nothing when there is no lock or its interpreter is no longer on this machine (doctor
    would have to lock again, which generating a file does not do)."""
    lock_path = project.root / LOCK_NAME
    meta = read_lock_meta(lock_path)
    target = target_from_lock(meta, project, None)
    if target is None:
        return (), ""
    try:
        diagnosis = diagnose(project, target, lock_path, read_os_info(), meta.yanked)
    except BulletproofError:  # a lock doctor cannot read: setup inside the build will find them
        return (), ""
    return diagnosis.system.needed, f"doctor's prediction from {LOCK_NAME}"


def found_packages(project: Project) -> FoundPackages:
    repaired = repaired_packages(project.root)
    predicted, predicted_from = predicted_packages(project)
    sources = []
    if repaired:
        sources.append("the fixes setup made on this project")
    if predicted_from:
        sources.append(predicted_from)
    release = read_os_info().pretty_name
    return FoundPackages(tuple(dict.fromkeys((*repaired, *predicted))), tuple(sources), release)
