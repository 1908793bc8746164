"""Lock the project for its target interpreter into DIR/pylock.toml (PEP 751), with uv.

The lock records what it was made from (an input hash over the input files, the target and the
index settings) under [tool.bulletproof], so an unchanged project is never resolved twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from packaging.utils import canonicalize_name

from bulletproof import proc, redaction
from bulletproof.analyze.faults import named_fault
from bulletproof.errors import InputError, LockBuildError, ResolutionError, ToolError
from bulletproof.fsutil import atomic_write
from bulletproof.host.pythons import stat_key
from bulletproof.lockfile.lockinputs import (
    Inputs,
    index_env,
    lock_inputs,
    missing_extras,
    names_project,
)
from bulletproof.model import (
    AddedRequirement,
    LockResult,
    MovedPin,
    Project,
    Selection,
    SetAside,
    Target,
)
from bulletproof.tomlcompat import tomllib

LOCK_NAME = "pylock.toml"
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


def read_lock_meta(path: Path) -> dict[str, Any]:
    """The [tool.bulletproof] table of an existing lock; {} when absent or unreadable."""
    return read_lock(path)[0]


# bulletproof appends its table after uv's body; the packages hash is the body's
_META_START = b"\n\n[tool.bulletproof]\n"


def read_lock(path: Path) -> tuple[dict[str, Any], str | None]:
    """An existing lock's [tool.bulletproof] table, and what is wrong with the lock if anything
    (not UTF-8, not TOML, not bulletproof's, or edited since it was written).

    The table is recovered whenever it is whole, so a damaged lock still names the target it
    was made for; a lock with a problem is never reused as it is."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        return {}, f"cannot be read ({exc.strerror or exc})"
    body, found, tail = data.rpartition(_META_START)
    try:
        whole = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        problem = f"is not UTF-8 (byte {data[exc.start]:#04x} at offset {exc.start})"
    except tomllib.TOMLDecodeError as exc:
        problem = f"is not valid TOML ({exc})"
    else:
        meta = _bulletproof_table(whole)
        if not meta:
            return meta, "was not written by bulletproof (it has no [tool.bulletproof] table)"
        if meta.get("packages-hash") != _body_hash(body):
            return (
                meta,
                "was edited since bulletproof wrote it (its packages no longer match its hash)",
            )
        return meta, None
    # the file as a whole cannot be read: the table bulletproof appended may still be whole
    return (_table(found[2:] + tail) if found else {}), problem


def _bulletproof_table(document: Mapping[str, Any]) -> dict[str, Any]:
    tool = document.get("tool", {})
    meta = tool.get("bulletproof", {}) if isinstance(tool, dict) else {}
    return meta if isinstance(meta, dict) else {}


def _table(data: bytes) -> dict[str, Any]:
    try:
        return _bulletproof_table(tomllib.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _body_hash(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def carried_fixes(
    previous: Mapping[str, Any], project: Project, target: Target
) -> tuple[list[MovedPin], list[AddedRequirement]]:
    """The moved pins and the requirements added for undeclared imports of the previous lock,
    while the project's own inputs are as they were then (a changed requirement may have moved
    past the failure: the engine finds out again). One input hash for both."""
    added = [AddedRequirement.from_dict(raw) for raw in previous.get("added", [])]
    kept = [a for a in added if a is not None]
    base = input_hash(project, target, [a.requirement for a in kept])
    if previous.get("base-hash") != base:
        return [], []
    pins = [MovedPin.from_dict(raw) for raw in previous.get("moved-pins", [])]
    return [p for p in pins if p is not None], kept


def lock(
    project: Project,
    target: Target,
    previous: Mapping[str, Any],
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
        previous.get("input-hash") == wanted
        and previous.get("packages-hash")
        and "packages" in previous
        and read_lock(reusable)[1] is None
    ):
        return LockResult(
            reusable,
            wanted,
            True,
            int(previous["packages"]),
            time.monotonic() - start,
            str(previous["packages-hash"]),
            tuple(str(n) for n in previous.get("notes", [])),
            str(previous.get("own-build-error", "")),
        )
    scratch = path.parent if into else project.root / ".bulletproof"
    scratch.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="lock-") as tmp:
        builds = _Builds(tuple(build_constraints), dict(env or {}))
        body, stderr, notes, own_error = _compile(
            project, target, Path(tmp), pinned, added_reqs, builds=builds
        )
        body = _relative_paths(body, Path(tmp), path.parent)
        # the lock is meant to be committed: its URLs carry no credentials (as uv and pip
        # write them); the install gets them from the environment, netrc or the inputs
        body = redaction.strip_credentials(body.decode()).encode()
        packages_hash = _body_hash(body)
        packages = len(tomllib.loads(body.decode()).get("packages", []))
        meta = {
            "input-hash": wanted,
            "packages-hash": packages_hash,
            "packages": packages,
            "python": target.interpreter.version,
            "python-path": str(target.interpreter.path),
            "python-stat": stat_key(target.interpreter.path),
            "python-headers": target.interpreter.has_headers,
            "implementation": target.interpreter.implementation,
            "machine": platform.machine(),
            "yanked": _yanked(stderr),
            "base-hash": base,
            "moved-pins": [p.as_dict() for p in pins],
            "added": [a.as_dict() for a in added],
            "set-aside": [s.as_dict() for s in set_aside],
            "notes": list(notes),
            "own-build-error": own_error,
            "selection": selection_dict(project.selection),
        }
        atomic_write(path, body + b"\n\n" + tomli_w.dumps({"tool": {"bulletproof": meta}}).encode())
    return LockResult(
        path, wanted, False, packages, time.monotonic() - start, packages_hash, notes, own_error
    )


def selection_dict(selection: Selection) -> dict[str, Any]:
    """The extras and groups asked for, as recorded in the lock: verify finds the same inputs."""
    return {
        "extras": list(selection.extras),
        "all-extras": selection.all_extras,
        "groups": list(selection.groups),
        "only-groups": list(selection.only_groups),
        "dev": selection.dev,
        "locked": selection.locked,
    }


def set_aside_from(meta: Mapping[str, Any]) -> tuple[SetAside, ...]:
    """The requirements the lock was made without (setup set them aside), as it records them."""
    raw = meta.get("set-aside", [])
    return tuple(
        SetAside(str(r["package"]), str(r.get("stage", "")), str(r.get("cause", "")))
        for r in (raw if isinstance(raw, list) else [])
        if isinstance(r, dict) and r.get("package")
    )


def selection_from(meta: Mapping[str, Any]) -> Selection | None:
    raw = meta.get("selection")
    if not isinstance(raw, dict):
        return None
    return Selection(
        extras=tuple(str(e) for e in raw.get("extras", [])),
        all_extras=bool(raw.get("all-extras")),
        groups=tuple(str(g) for g in raw.get("groups", [])),
        only_groups=tuple(str(g) for g in raw.get("only-groups", [])),
        dev=bool(raw.get("dev", True)),
        locked=bool(raw.get("locked")),
    )


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
) -> tuple[bytes, str, tuple[str, ...], str]:
    """Run uv pip compile, with the retries a project's own inputs can call for: guessed dev
    extras that do not exist, a team lock that conflicts, the project's own metadata that does
    not build (its dependencies are then locked without it). (body, stderr, notes, own error)"""
    extras: list[str] | None = None
    team_lock, with_project = True, True
    own_error = ""
    extra_notes: list[str] = []
    for _ in range(4):
        inputs = lock_inputs(
            project,
            target,
            added=added,
            extras=extras,
            team_lock=team_lock,
            with_project=with_project,
        )
        done = _run_compile(project, target, tmp, inputs, pinned, builds=builds)
        if done.ok:
            body = (tmp / LOCK_NAME).read_bytes().rstrip(b"\n")
            return body, done.stderr, (*inputs.notes, *extra_notes), own_error
        missing = missing_extras(done.stderr)
        if missing is not None and extras is None:
            asked = set(project.extras)
            if asked & {canonicalize_name(m) for m in missing}:
                raise InputError(f"the project has no extra named {missing[0]!r}")
            extras = [
                e
                for e in (*project.extras, *project.guessed_extras)
                if canonicalize_name(e) not in {canonicalize_name(m) for m in missing}
            ]
            continue
        if inputs.uses_team_lock and "no solution found" in done.stderr.lower():
            if project.selection.locked:
                raise _resolution_error(done.stderr, project)
            team_lock = False
            name = project.team_lock.name if project.team_lock else "the team's lock"
            extra_notes.append(f"{name} conflicts with the requirements: resolved afresh")
            continue
        if (
            with_project
            and project.pyproject is not None
            and names_project(done.stderr, project.root)
        ):
            with_project = False
            own_error = done.stderr.strip()
            extra_notes.append(
                "the project's own metadata does not build (its packaging's fault, evidence "
                "in the report): its dependencies were locked without it"
            )
            continue
        raise _resolution_error(done.stderr, project)
    raise _resolution_error(done.stderr, project)


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


def _relative_paths(body: bytes, written_in: Path, kept_in: Path) -> bytes:
    """uv writes local paths relative to where it wrote the lock; make them relative to where
    the lock is kept."""

    def fix(found: re.Match[bytes]) -> bytes:
        raw = found.group(2).decode()
        if Path(raw).is_absolute():
            return found.group(0)
        moved = os.path.relpath((written_in / raw).resolve(), kept_in.resolve())
        return found.group(1) + moved.encode() + found.group(3)

    return re.sub(rb'^((?:directory|archive) = \{ path = ")([^"]*)(")', fix, body, flags=re.M)


def _yanked(stderr: str) -> list[str]:
    """uv warns "`name==version` is yanked (reason: ...)" when a lock takes a yanked release."""
    return sorted(set(re.findall(r"`?([A-Za-z0-9._-]+==[^`\s]+)`? is yanked", stderr)))


# uv's own report of an sdist it built to read its metadata ("Failed to build `name==1.0`")
_FAILED_BUILD = re.compile(r"Failed to (?:download and )?build `([A-Za-z0-9._-]+)(?:==([^`\s]+))?")


def _resolution_error(stderr: str, project: Project | None = None) -> Exception:
    """What uv's failed lock means. Faults that are no package's are named first: a full disk
    (the machine's), a VCS source that could not be fetched (not a build failure), a name no
    index has (not a conflict between pins)."""
    text = stderr.strip()
    lowered = text.lower()
    named = named_fault(text, project)
    if named is not None:
        return named
    network = ("failed to fetch", "error sending request", "dns error", "connection refused")
    if any(word in lowered for word in network) and "no solution found" not in lowered:
        return ToolError(
            "could not reach the package index while locking",
            hint="check the network, or the index settings (UV_INDEX_URL, UV_FIND_LINKS)",
            detail=text,
        )
    built = _FAILED_BUILD.search(text)
    if built and "no solution found" not in lowered:
        return LockBuildError(
            f"{built.group(1)} does not build, and the resolver needs its metadata",
            package=built.group(1),
            version=built.group(2) or "",
            detail=text,
        )
    if "no solution found" in lowered or "unsatisfiable" in lowered:
        return ResolutionError(
            "the requirements cannot be satisfied together",
            detail=text,
            hint="the resolver's explanation is above; move the pins it names",
        )
    return ResolutionError("uv could not lock these requirements", detail=text)
