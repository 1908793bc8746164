"""What uv's output says about a lock it made or could not make: the yanked releases it took,
the extras it did not find, a failed build of the project's own metadata, and the error a
failed lock means. The evidence the retry policy (retry.py) decides on."""

from __future__ import annotations

import re
from pathlib import Path

from bulletproof.analyze.faults import named_fault
from bulletproof.errors import LockBuildError, ResolutionError, ToolError
from bulletproof.model import Project

# uv's own report of an sdist it built to read its metadata ("Failed to build `name==1.0`")
_FAILED_BUILD = re.compile(r"Failed to (?:download and )?build `([A-Za-z0-9._-]+)(?:==([^`\s]+))?")


def yanked(stderr: str) -> list[str]:
    """uv warns "`name==version` is yanked (reason: ...)" when a lock takes a yanked release."""
    return sorted(set(re.findall(r"`?([A-Za-z0-9._-]+==[^`\s]+)`? is yanked", stderr)))


def missing_extras(stderr: str) -> list[str] | None:
    """uv's "Requested extras not found: a, b" (None when that is not the error)."""
    found = re.search(r"Requested extras? not found: ([^\n]+)", stderr)
    return [e.strip() for e in found.group(1).split(",")] if found else None


def no_solution(stderr: str) -> bool:
    return "no solution found" in stderr.lower()


def names_project(stderr: str, root: Path) -> bool:
    """The failure is in building the project's own metadata: uv names its folder, or (when
    the project is read from its pyproject.toml) a build backend failed and uv names no package
    it was building (a dependency's failed build is always named: "Failed to build `x==1`")."""
    if str(root) in stderr or root.as_uri() in stderr:
        return True
    unnamed = "build backend returned an error" in stderr.lower()
    return unnamed and re.search(r"Failed to (?:download and )?build `", stderr) is None


def resolution_error(stderr: str, project: Project | None = None) -> Exception:
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
