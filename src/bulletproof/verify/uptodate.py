"""Whether the environment still matches the project's inputs and its lock.

Verification imports what is installed; it cannot see what should be installed and is not. A
requirement added after the last setup, or a setup killed between writing the lock and switching
to the environment built from it, leaves an environment that imports cleanly and is out of date.
This check compares three records that are cheap to read: the input hash the lock was made from
against the project's files now, the packages hash the generation was built from against the
lock's, and the distributions installed against the lock's packages.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from bulletproof.host.pythons import target_from_lock
from bulletproof.lockfile.lock import LOCK_NAME, input_hash, read_lock
from bulletproof.model import Project
from bulletproof.tomlcompat import tomllib
from bulletproof.verify.distributions import distributions


def out_of_date(project: Project, generation_meta: Mapping[str, Any], env: Path) -> list[str]:
    """Why the environment no longer matches the project (empty when it does)."""
    path = project.root / LOCK_NAME
    if not path.exists():
        return [f"{LOCK_NAME} is missing: the environment cannot be checked against its lock"]
    meta, problem = read_lock(path)
    if problem or meta is None:
        return [f"{LOCK_NAME} {problem}"]
    reasons = []
    if meta.packages_hash != generation_meta.get("packages-hash"):
        reasons.append(
            f"the environment was built from another lock than {LOCK_NAME} "
            "(a setup was interrupted, or the lock was made again since)"
        )
    # the interpreter setup chose (perhaps by --python, over the project's own setting): it
    # must still be there as it was; a change of requires-python shows in the input hash
    target = target_from_lock(meta, project, meta.python_path or None)
    if target is None:
        reasons.append(
            f"the interpreter {LOCK_NAME} was made for (Python {meta.python or '?'} at "
            f"{meta.python_path or '?'}) is gone or has changed"
        )
    else:
        wanted = [a.requirement for a in meta.added]
        if input_hash(project, target, wanted) != meta.base_hash:
            reasons.append(
                "the project's requirements (or the index settings) changed since "
                f"{LOCK_NAME} was made"
            )
    reasons += _installed_against_lock(path, env)
    return reasons


def _installed_against_lock(lock: Path, env: Path) -> list[str]:
    """Locked packages the environment lacks or has at another version. Packages installed
    beyond the lock are not a mismatch: the project itself, or a tool a developer added."""
    with lock.open("rb") as handle:
        packages = tomllib.load(handle).get("packages", [])
    installed = {canonicalize_name(d.name): d.version for d in distributions(env)}
    missing, other = [], []
    for package in packages:
        # an entry with a marker may not apply to this interpreter; a directory entry is a
        # local project whose version the lock does not fix
        if not isinstance(package, dict) or "marker" in package or "version" not in package:
            continue
        name = canonicalize_name(str(package.get("name", "")))
        if name not in installed:
            missing.append(f"{name}=={package['version']}")
        elif not _same_version(installed[name], str(package["version"])):
            other.append(f"{name} {installed[name]} (locked: {package['version']})")
    reasons = []
    if missing:
        reasons.append(f"locked but not installed: {', '.join(sorted(missing))}")
    if other:
        reasons.append(f"installed at another version than locked: {', '.join(sorted(other))}")
    return reasons


def _same_version(installed: str, locked: str) -> bool:
    try:
        return Version(installed) == Version(locked)
    except InvalidVersion:
        return installed == locked
