"""A module that refuses to be imported first but works as it is meant to be used: loaded by a
distribution that requires it (psycopg-binary's ``psycopg_binary`` says "the psycopg package
should be imported before psycopg_binary"). Found by trying, not by its wording: a failed module
whose distribution another installed one requires is imported again right after that one's top
module, in a fresh interpreter. If it then imports, it is not broken."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from bulletproof import proc
from bulletproof.errors import ToolError
from bulletproof.verify.distributions import Distribution
from bulletproof.verify.values import ImportStatus, ModuleCheck

MAX_TRIES = 20  # failed modules given a second try: a badly broken environment is not retried whole


def loaded_through(
    python: Path,
    modules: Sequence[ModuleCheck],
    dists: Sequence[Distribution],
    extras_of: Mapping[str, Mapping[str, set[str]]],
    timeout: float,
) -> dict[str, str]:
    """Failed module → the top module after which it imports."""
    tops: dict[str, list[str]] = {}
    for check in modules:
        if check.status is ImportStatus.OK and "." not in check.module:
            tops.setdefault(canonicalize_name(check.distribution), []).append(check.module)
    found: dict[str, str] = {}
    failed = [m for m in modules if m.status is ImportStatus.FAILED][:MAX_TRIES]
    for check in failed:
        needed = canonicalize_name(check.distribution)
        for dist in dists:
            name = canonicalize_name(dist.name)
            wanted = needed in dist.requires or any(
                needed in names for names in extras_of.get(name, {}).values()
            )
            top = next(iter(tops.get(name, [])), None) if wanted and name != needed else None
            if top and _imports_after(python, top, check.module, timeout):
                found[check.module] = top
                break
    return found


def _imports_after(python: Path, first: str, module: str, timeout: float) -> bool:
    try:
        done = proc.run(
            [str(python), "-I", "-B", "-c", f"import {first}; import {module}"], timeout=timeout
        )
    except ToolError:
        return False
    return done.ok
