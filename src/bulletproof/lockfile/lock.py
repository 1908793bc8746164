"""Lock the project for its target interpreter into DIR/pylock.toml (PEP 751), with uv.

The lock records what it was made from (an input hash over the input files, the target and the
index settings) under [tool.bulletproof] (meta.py), so an unchanged project is never resolved
twice. The file's layout is pylock.py's; when uv is run again, and with what, is retry.py's.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bulletproof import proc, redaction
from bulletproof.analyze.indexes import index_env
from bulletproof.host.pythons import stat_key
from bulletproof.host.values import Target
from bulletproof.lockfile.lockinputs import Inputs, lock_inputs
from bulletproof.lockfile.meta import LockMeta
from bulletproof.lockfile.pylock import (
    LOCK_NAME,
    body_hash,
    lock_body,
    read_lock,
    read_lock_meta,
    write_lock,
)
from bulletproof.lockfile.retry import POLICY, CompileTry, next_compile
from bulletproof.lockfile.uvoutput import resolution_error, yanked
from bulletproof.lockfile.values import AddedRequirement, LockResult, MovedPin, SetAside
from bulletproof.model import Project
from bulletproof.tomlcompat import tomllib

# what the stages read of the lock, from one place (the file's own reading is pylock.py's)
__all__ = [
    "LOCK_NAME",
    "LockMeta",
    "carried_fixes",
    "input_hash",
    "lock",
    "read_lock",
    "read_lock_meta",
]

LOCK_FORMAT = "2"  # bump when the way bulletproof makes locks changes: every lock is redone
# uv settings that change what a resolution gives; part of the input hash.
UV_RESOLUTION_VARS = (
    "UV_INDEX",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
    "UV_NO_INDEX",
    "UV_PRERELEASE",
    "UV_INDEX_STRATEGY",
    "UV_EXCLUDE_NEWER",
)
RESOLVE_TIMEOUT = 900.0


def input_hash(project: Project, target: Target, added: Sequence[str] = ()) -> str:
    digest = hashlib.sha256()
    interp = target.interpreter
    parts = [LOCK_FORMAT, interp.implementation, interp.version, platform.machine()]
    parts += [f"{name}={os.environ.get(name, '')}" for name in UV_RESOLUTION_VARS]
    parts += [f"{k}={v}" for k, v in sorted(index_env().items())]
    parts += [
        "extras=" + ",".join(project.extras + project.guessed_extras),
        f"all-extras={project.all_extras}",
        "groups=" + ",".join(project.groups),
        "group-requirements=" + "\n".join(project.group_requirements),
        f"locked={project.selection.locked}",
        "build-env=" + ",".join(k for k, _ in project.build_env),
        "added=" + "\n".join(added),
    ]
    for path in project.hashed_files:
        parts.append(
            str(path.relative_to(project.root)) if path.is_relative_to(project.root) else str(path)
        )
        parts.append(hashlib.sha256(_resolution_relevant(path)).hexdigest())
    digest.update("\0".join(parts).encode())
    return "sha256:" + digest.hexdigest()


def _resolution_relevant(path: Path) -> bytes:
    """A requirements file whole; of pyproject.toml only the tables that change a resolution."""
    if path.name != "pyproject.toml":
        return path.read_bytes()
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    relevant = {
        "project": data.get("project"),
        "build-system": data.get("build-system"),
        "tool.uv": data.get("tool", {}).get("uv"),
    }
    return json.dumps(relevant, sort_keys=True, default=str).encode()


def carried_fixes(
    previous: LockMeta, project: Project, target: Target
) -> tuple[list[MovedPin], list[AddedRequirement]]:
    """The moved pins and the requirements added for undeclared imports of the previous lock,
    while the project's own inputs are as they were then (a changed requirement may have moved
    past the failure: the engine finds out again). One input hash for both."""
    kept = list(previous.added)
    base = input_hash(project, target, [a.requirement for a in kept])
    if previous.base_hash != base:
        return [], []
    return list(previous.moved_pins), kept


def lock(
    project: Project,
    target: Target,
    previous: LockMeta,
    *,
    into: Path | None = None,
    pins: Sequence[MovedPin] = (),
    added: Sequence[AddedRequirement] = (),
    build_constraints: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    set_aside: Sequence[SetAside] = (),
) -> LockResult:
    """Reuse DIR/pylock.toml when ``previous`` (its [tool.bulletproof] table, as the caller read
    it with read_lock_meta) was made from the same inputs; else resolve again, into ``into``
    when given (doctor leaves the project as it was) or DIR/pylock.toml. ``pins`` are moved
    pins: uv overrides, recorded with their reasons in the lock, never in the user's files;
    ``added`` are requirements for imports the project does not declare, recorded likewise.
    ``build_constraints`` and ``env`` are fixes for the builds the resolver makes to read an
    sdist's metadata. ``set_aside`` are requirements left out (they could not be fetched,
    locked or built): an override with a marker no machine has takes each out of the graph,
    wherever it is required."""
    path = into or project.root / LOCK_NAME
    reusable = project.root / LOCK_NAME
    added_reqs = [a.requirement for a in added]
    base = input_hash(project, target, added_reqs)
    pinned = sorted(f"{p.package}=={p.to}" for p in pins) + sorted(
        f"{s.package} ; sys_platform == 'never'" for s in set_aside
    )
    wanted = (
        base
        if not pinned
        else "sha256:" + hashlib.sha256("\0".join([base, *pinned]).encode()).hexdigest()
    )
    start = time.monotonic()
    if (
        previous.input_hash == wanted
        and previous.packages_hash
        and previous.packages is not None
        and read_lock(reusable)[1] is None
    ):
        return LockResult(
            reusable,
            wanted,
            True,
            previous.packages,
            time.monotonic() - start,
            previous.packages_hash,
            previous.notes,
            previous.own_build_error,
        )
    scratch = path.parent if into else project.root / ".bulletproof"
    scratch.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="lock-") as tmp:
        builds = _Builds(tuple(build_constraints), dict(env or {}))
        written, stderr, notes, own_error = _compile(
            project, target, Path(tmp), pinned, added_reqs, builds=builds
        )
        body = lock_body(written, Path(tmp), path.parent)
        packages = body.packages
        if body.not_pep751:
            notes = (
                *notes,
                f"{LOCK_NAME} is not one packaging reads as PEP 751 ({body.not_pep751})",
            )
        # the lock is meant to be committed: its URLs carry no credentials (as uv and pip
        # write them); the install gets them from the environment, netrc or the inputs
        data = redaction.strip_credentials(body.text).encode()
        interp = target.interpreter
        meta = LockMeta(
            input_hash=wanted,
            packages_hash=body_hash(data),
            packages=packages,
            python=interp.version,
            python_path=str(interp.path),
            python_stat=stat_key(interp.path),
            python_headers=interp.has_headers,
            implementation=interp.implementation,
            machine=platform.machine(),
            yanked=tuple(yanked(stderr)),
            base_hash=base,
            moved_pins=tuple(pins),
            added=tuple(added),
            set_aside=tuple(set_aside),
            notes=notes,
            own_build_error=own_error,
            selection=project.selection,
        )
        write_lock(path, data, meta)
    seconds = time.monotonic() - start
    return LockResult(path, wanted, False, packages, seconds, meta.packages_hash, notes, own_error)


@dataclass(frozen=True)
class _Builds:
    """What the resolver's own builds of sdists get: build constraints, environment fixes."""

    constraints: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


def _compile(
    project: Project,
    target: Target,
    tmp: Path,
    pinned: list[str],
    added: list[str],
    *,
    builds: _Builds,
) -> tuple[str, str, tuple[str, ...], str]:
    """Run uv pip compile, again as often and with what the retry policy says the failure
    calls for (retry.next_compile). (what uv wrote, its stderr, notes, the project's own
    metadata build error)"""
    tried = CompileTry()
    for _ in range(POLICY.compile_runs):
        inputs = lock_inputs(
            project,
            target,
            added=added,
            extras=None if tried.extras is None else list(tried.extras),
            team_lock=tried.team_lock,
            with_project=tried.with_project,
        )
        done = _run_compile(project, target, tmp, inputs, pinned, builds=builds)
        if done.ok:
            written = (tmp / LOCK_NAME).read_text(encoding="utf-8")
            return written, done.stderr, (*inputs.notes, *tried.notes), tried.own_error
        tried = next_compile(done.stderr, tried, project, uses_team_lock=inputs.uses_team_lock)
    raise resolution_error(done.stderr, project)


def _run_compile(
    project: Project,
    target: Target,
    tmp: Path,
    inputs: Inputs,
    pinned: list[str],
    *,
    builds: _Builds,
) -> proc.Completed:
    for name, text in inputs.files.items():
        (tmp / name).write_text(text, encoding="utf-8")
    overrides: list[str] = []
    if pinned:
        (tmp / "overrides.txt").write_text("\n".join(pinned) + "\n", encoding="utf-8")
        overrides = ["--override", str(tmp / "overrides.txt")]
    if builds.constraints:
        (tmp / "build-constraints.txt").write_text("\n".join(builds.constraints) + "\n")
        overrides += ["--build-constraints", str(tmp / "build-constraints.txt")]
    files = [str(p) for p in project.input_files if p != project.pyproject or inputs.with_project]
    args = [str(tmp / a) if a in inputs.files else a for a in inputs.args]
    (tmp / LOCK_NAME).unlink(missing_ok=True)
    return proc.run(
        [
            proc.uv_bin(),
            "pip",
            "compile",
            *files,
            *args,
            *overrides,
            "--python",
            str(target.interpreter.path),
            "--output-file",
            str(tmp / LOCK_NAME),
            "--no-header",
        ],
        cwd=project.root,
        env={**inputs.env, **builds.env},
        timeout=RESOLVE_TIMEOUT,
    )
