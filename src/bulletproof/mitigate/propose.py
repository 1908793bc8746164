"""From a failure and the signatures it matched to concrete fixes for this host, least intrusive
first: the system package (from the distro mapping, or the file index for a named file), a
build constraint, an environment variable, a moved pin, another interpreter."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from bulletproof.analyze.signatures import Match, remedy_level
from bulletproof.analyze.sysdeps import mapped
from bulletproof.analyze.wheels import LockedPackage
from bulletproof.host import pkgmgr
from bulletproof.host.fileindex import lookup
from bulletproof.host.filequery import Query
from bulletproof.knowledge import removed_in
from bulletproof.knowledge.mappings import DistroMapping
from bulletproof.mitigate import pins
from bulletproof.mitigate.period import build_tools_of_its_day
from bulletproof.model import Failure, Fix, FixKind, Interpreter, Stage


@dataclass
class Context:
    mapping: DistroMapping | None
    interpreter: Interpreter
    cwd: Path
    locked: Mapping[str, str]  # distribution -> locked version
    # other local interpreters the project allows, newest first (asked only when needed)
    others: Callable[[], Sequence[Interpreter]] = tuple
    tried: set[Fix] = field(default_factory=set)
    # the versions of a package a moved pin has tried already
    pinned: dict[str, list[str]] = field(default_factory=dict)
    nearest: Callable[..., str | None] = pins.nearest
    allow_system: bool = True  # --no-system: never propose a system package
    sources: Mapping[str, LockedPackage] = field(default_factory=dict)  # locked, by name
    # the build tools of each sdist's own day, once asked
    period: dict[str, list[str]] = field(default_factory=dict)


def pick(failure: Failure, matches: list[Match], ctx: Context) -> list[tuple[Match | None, Fix]]:
    """Per signature, the first match that has a fix here; of those, the least intrusive level
    only (a moved pin makes a missing header moot, so they are not applied together)."""
    best: dict[str, tuple[Match, Fix]] = {}
    since = _removed_since(failure, ctx)
    for hit in matches:
        if hit.signature.id in best:
            continue
        found = candidates(failure.package, hit, ctx, removed_since=since)
        if found:
            best[hit.signature.id] = (hit, found[0])
    if not best:
        # nothing recognised it, or nothing it suggests is concrete here: the moves that need
        # no recognition (a version with a wheel, an older interpreter)
        if failure.stage not in ("build", "import") or failure.tolerated:
            return []  # a tolerated failure is moved only where a signature says how
        cause = matches[0].cause if matches else "no known signature matched"
        first = matches[0] if matches else None
        loads = library_fixes(failure.libraries, ctx)
        if loads:  # every library it could not load, at once: one may need several
            return [(first, fix) for fix in loads]
        tools = period_fixes(failure.package, ctx) if failure.stage is Stage.BUILD else []
        if tools:  # all of them together: they were current together
            return [(first, fix) for fix in tools]
        moves = fallbacks(failure.package, cause, ctx, removed_since=since)
        return [(first, moves[0])] if moves else []
    lowest = min(fix.level for _, fix in best.values())
    return [(m, f) for m, f in best.values() if f.level == lowest]


def candidates(package: str, match: Match, ctx: Context, *, removed_since: str = "") -> list[Fix]:
    """The fixes a match suggests for ``package`` on this host, in order; tried ones left out.
    ``removed_since``: the failure needs a standard-library module that Python removed."""
    found: list[Fix] = []
    for remedy in sorted(match.remedies(), key=remedy_level):
        fix = _concrete(package, remedy, match, ctx, removed_since)
        if fix is not None and fix not in ctx.tried:
            found.append(fix)
    return found


def _concrete(  # noqa: PLR0911  (one return per remedy kind)
    package: str, remedy: dict[str, str], match: Match, ctx: Context, removed_since: str
) -> Fix | None:
    if "system" in remedy:
        return _system_by_id(remedy["system"], ctx)
    if "provides" in remedy:
        return _system_by_file(Query(remedy["provides"], remedy["name"]), ctx)
    if "constraint" in remedy:
        return Fix(FixKind.CONSTRAINT, remedy["constraint"])
    if "env" in remedy:
        return Fix(FixKind.ENV, remedy["env"])
    if "pin" in remedy:
        target = remedy.get("package") or package
        return _pin(target, remedy["pin"], match.cause, ctx, below=remedy.get("below", ""))
    if "interpreter" in remedy:
        return _older_interpreter(ctx, removed_since)
    return None


def _older_interpreter(ctx: Context, below: str = "") -> Fix | None:
    mine = Version(below or ctx.interpreter.minor)
    older = [i for i in ctx.others() if Version(i.minor) < mine]
    fixes = [Fix(FixKind.INTERPRETER, str(i.path)) for i in older]
    return next((f for f in fixes if f not in ctx.tried), None)  # the next older one


MAX_BLIND_INTERPRETERS = 2
MAX_BLIND_PINS = 3  # per package, when no signature says where to move


def fallbacks(package: str, cause: str, ctx: Context, *, removed_since: str = "") -> list[Fix]:
    """What to try when no signature recognises a failure, least intrusive first: the nearest
    newer release of the failing package with a wheel for the target (else one that builds),
    then the nearest older one, then an older local interpreter the project allows. When the
    failure is a standard-library module that Python ``removed_since`` no longer has: a newer
    release (an older one uses it too), then an interpreter older than that version."""
    directions = ("newer",) if removed_since else ("newer", "older")
    # a blind walk through releases is bounded: a few moves, not every release there is
    moved = len(ctx.pinned.get(package.lower(), [""])) - 1
    walk = bool(package) and moved < MAX_BLIND_PINS
    found = [_pin(package, d, cause, ctx) for d in directions] if walk else []
    if removed_since:
        return [
            f for f in [*found, _older_interpreter(ctx, removed_since)] if f and f not in ctx.tried
        ]
    # an unrecognised failure rarely depends on the Python version: the nearest older ones only
    walked = sum(1 for fix in ctx.tried if fix.kind is FixKind.INTERPRETER)
    if walked < MAX_BLIND_INTERPRETERS:
        found.append(_older_interpreter(ctx))
    return [f for f in found if f is not None and f not in ctx.tried]


def period_fixes(package: str, ctx: Context) -> list[Fix]:
    """Build constraints to the build tools of the failing sdist's own day; [] when they cannot
    be told, or were tried."""
    locked = ctx.sources.get(canonicalize_name(package)) if package else None
    if locked is None:
        return []
    if locked.name not in ctx.period:
        ctx.period[locked.name] = build_tools_of_its_day(locked, ctx.interpreter.path, ctx.cwd)
    reason = f"the build tools of {locked.pin}'s own day"
    fixes = [Fix(FixKind.CONSTRAINT, pin, reason=reason) for pin in ctx.period[locked.name]]
    return [] if any(f in ctx.tried for f in fixes) else fixes


def _removed_since(failure: Failure, ctx: Context) -> str:
    """The Python version that removed the standard-library module the failure is missing."""
    found = re.search(r"No module named '(\w+)", failure.text)
    return (removed_in(found.group(1), ctx.interpreter.minor) or "") if found else ""


def library_fixes(libraries: Sequence[str], ctx: Context) -> list[Fix]:
    """A system package for each library a module tried to load and could not, found through
    the distro's file index by the name the module asked for (whatever its message said)."""
    found: list[Fix] = []
    for library in libraries:
        fix = _system_by_file(library_query(library), ctx)
        if fix is not None:
            fix = Fix(fix.kind, fix.value, reason=fix.reason, library=library)
            if fix not in ctx.tried and all(f.value != fix.value for f in found):
                found.append(fix)
    return found


def library_query(name: str) -> Query:
    """A versioned shared object by its soname; anything else (libfoo.so, "foo", "libfoo") as
    a library named loosely."""
    base = name.rsplit("/", 1)[-1]
    if re.search(r"\.so\.\d", base):
        return Query("soname", base)
    return Query("library", base)


def _system_by_id(identifier: str, ctx: Context) -> Fix | None:
    if ctx.mapping is None or not ctx.allow_system:
        return None
    for role in ("build", "host", "run"):
        names = mapped(identifier, role, ctx.mapping, ctx.interpreter.minor)
        if names:
            return _first_installable(names, ctx)
    return None


def system_for_file(query: Query, ctx: Context) -> Fix | None:
    """The first installable system package the file index says holds the file."""
    return _system_by_file(query, ctx)


def _system_by_file(query: Query, ctx: Context) -> Fix | None:
    if ctx.mapping is None or not ctx.allow_system:
        return None
    names, source = lookup(query, ctx.mapping.manager.name)
    fix = _first_installable(tuple(names), ctx)
    if fix is None:
        return None
    return Fix(fix.kind, fix.value, reason=f"for {query.name}, from {source}")


def _first_installable(names: tuple[str, ...], ctx: Context) -> Fix | None:
    """The first name that is not installed yet and that this release has."""
    assert ctx.mapping is not None
    manager = ctx.mapping.manager
    have = pkgmgr.installed(manager, names)
    fresh = tuple(n for n in names if n not in have)
    gone = pkgmgr.unavailable(manager, fresh) or frozenset()
    usable = [n for n in fresh if n not in gone]
    return Fix(FixKind.SYSTEM, usable[0]) if usable else None


def _pin(package: str, direction: str, cause: str, ctx: Context, *, below: str = "") -> Fix | None:
    """The nearest version in ``direction``; ``below``: the release the evidence says removed
    what the failure needs, so the search starts under it instead of stepping down to it."""
    name = package.lower()
    current = ctx.locked.get(name)
    if current is None:
        return None
    than = current
    if direction == "older" and below and Version(below) <= Version(current):
        than = below
    # the version that failed first, then every version a moved pin has tried (filled as pins
    # are applied): none is proposed again
    tried = ctx.pinned.get(name) or [current]
    version = ctx.nearest(
        name, than, direction, python=ctx.interpreter.path, cwd=ctx.cwd, skip=tried
    )
    if version is None:
        return None
    reason = f"{name} {tried[0]} failed: {cause}"
    return Fix(FixKind.PIN, f"{name}=={version}", package=name, was=tried[0], reason=reason)


def applied(fix: Fix, ctx: Context) -> None:
    """Remember a moved pin's version as tried."""
    if fix.kind is FixKind.PIN:
        ctx.pinned.setdefault(fix.package, [fix.was]).append(fix.value.partition("==")[2])
