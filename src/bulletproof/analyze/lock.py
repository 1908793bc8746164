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
from pathlib import Path
from typing import Any

import tomli_w

from bulletproof import proc
from bulletproof.errors import ResolutionError, ToolError
from bulletproof.fsutil import atomic_write
from bulletproof.host.pythons import stat_key
from bulletproof.model import LockResult, MovedPin, Project, Target
from bulletproof.tomlcompat import tomllib

LOCK_NAME = "pylock.toml"
LOCK_FORMAT = "1"  # bump when the way bulletproof makes locks changes: every lock is redone
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


def input_hash(project: Project, target: Target) -> str:
    digest = hashlib.sha256()
    interp = target.interpreter
    parts = [LOCK_FORMAT, interp.implementation, interp.version, platform.machine()]
    parts += [f"{name}={os.environ.get(name, '')}" for name in UV_RESOLUTION_VARS]
    for path in project.input_files:
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
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    meta = data.get("tool", {}).get("bulletproof", {})
    return meta if isinstance(meta, dict) else {}


def carried_pins(previous: Mapping[str, Any], project: Project, target: Target) -> list[MovedPin]:
    """The moved pins of the previous lock, while the project's own inputs are as they were then
    (a changed requirement may have moved past the failure: the engine finds out again)."""
    if previous.get("base-hash") != input_hash(project, target):
        return []
    pins = [MovedPin.from_dict(raw) for raw in previous.get("moved-pins", [])]
    return [p for p in pins if p is not None]


def lock(
    project: Project,
    target: Target,
    previous: Mapping[str, Any],
    into: Path | None = None,
    pins: Sequence[MovedPin] = (),
) -> LockResult:
    """Reuse DIR/pylock.toml when ``previous`` (its [tool.bulletproof] table, as the caller read
    it with read_lock_meta) was made from the same inputs; else resolve again, into ``into``
    when given (doctor leaves the project as it was) or DIR/pylock.toml. ``pins`` are moved
    pins: uv overrides, recorded with their reasons in the lock, never in the user's files."""
    path = into or project.root / LOCK_NAME
    reusable = project.root / LOCK_NAME
    base = input_hash(project, target)
    pinned = sorted(f"{p.package}=={p.to}" for p in pins)
    wanted = (
        base
        if not pins
        else "sha256:" + hashlib.sha256("\0".join([base, *pinned]).encode()).hexdigest()
    )
    start = time.monotonic()
    if (
        previous.get("input-hash") == wanted
        and previous.get("packages-hash")
        and "packages" in previous
        and reusable.exists()
    ):
        return LockResult(
            reusable,
            wanted,
            True,
            int(previous["packages"]),
            time.monotonic() - start,
            str(previous["packages-hash"]),
        )
    inputs = [str(p.relative_to(project.root)) for p in project.input_files]
    scratch = path.parent if into else project.root / ".bulletproof"
    scratch.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="lock-") as tmp:
        out = Path(tmp) / LOCK_NAME  # uv insists on the PEP 751 file name
        overrides: list[str] = []
        if pins:
            (Path(tmp) / "overrides.txt").write_text("\n".join(pinned) + "\n", encoding="utf-8")
            overrides = ["--override", str(Path(tmp) / "overrides.txt")]
        done = proc.run(
            [
                proc.uv_bin(),
                "pip",
                "compile",
                *inputs,
                *overrides,
                "--python",
                str(target.interpreter.path),
                "--output-file",
                str(out),
                "--no-header",
            ],
            cwd=project.root,
            timeout=RESOLVE_TIMEOUT,
        )
        if not done.ok:
            raise _resolution_error(done.stderr)
        body = out.read_bytes().rstrip(b"\n")
        packages_hash = "sha256:" + hashlib.sha256(body).hexdigest()
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
            "yanked": _yanked(done.stderr),
            "base-hash": base,
            "moved-pins": [p.as_dict() for p in pins],
        }
        atomic_write(path, body + b"\n\n" + tomli_w.dumps({"tool": {"bulletproof": meta}}).encode())
    return LockResult(path, wanted, False, packages, time.monotonic() - start, packages_hash)


def _yanked(stderr: str) -> list[str]:
    """uv warns "`name==version` is yanked (reason: ...)" when a lock takes a yanked release."""
    return sorted(set(re.findall(r"`?([A-Za-z0-9._-]+==[^`\s]+)`? is yanked", stderr)))


def _resolution_error(stderr: str) -> Exception:
    text = stderr.strip()
    lowered = text.lower()
    network = ("failed to fetch", "error sending request", "dns error", "connection refused")
    if any(word in lowered for word in network) and "no solution found" not in lowered:
        return ToolError(
            "could not reach the package index while locking",
            hint="check the network, or the index settings (UV_INDEX_URL, UV_FIND_LINKS)",
            detail=text,
        )
    if "no solution found" in lowered or "unsatisfiable" in lowered:
        return ResolutionError(
            "the requirements cannot be satisfied together",
            detail=text,
            hint="the resolver's explanation is above; move the pins it names",
        )
    return ResolutionError("uv could not lock these requirements", detail=text)
