"""From a failure and the signatures it matched to concrete fixes for this host, least intrusive
first: the system package (from the distro mapping, or the file index for a named file), a
build constraint, an environment variable, a moved pin, another interpreter.

What a failed build names comes before any of it, recognised or not (mitigate/evidence.py): every
program, header, pkg-config module, library and file its output names and this system lacks, else
the compilers and the includes and programs of its sdist's own sources, each looked up in the file
index. A moved pin after which the failure says the same thing is not followed by its neighbour."""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name
from packaging.version import Version

from bulletproof.analyze.signatures import Match, remedy_level
from bulletproof.host.filequery import Query
from bulletproof.knowledge import removed_in
from bulletproof.mitigate import evidence
from bulletproof.mitigate.context import Context
from bulletproof.mitigate.sysfix import library_fixes, system_by_id, system_for_file
from bulletproof.mitigate.values import Fix
from bulletproof.model import Failure, FixKind, Stage

# what the engine, the resolver's repair and undeclared imports take from here
__all__ = ["Context", "applied", "candidates", "fallbacks", "pick", "system_for_file"]


def pick(failure: Failure, matches: list[Match], ctx: Context) -> list[tuple[Match | None, Fix]]:
    """What the failure names first (a system package for each thing it lacks); else, per
    signature, the first match that has a fix here; of those, the least intrusive level only (a
    moved pin makes a missing header moot, so they are not applied together)."""
    named = _named_first(failure, matches, ctx)
    if named:
        return named
    best: dict[str, tuple[Match, Fix]] = {}
    since = _removed_since(failure, ctx)
    said = evidence.fingerprint(failure, matches)
    for hit in matches:
        if hit.signature.id in best:
            continue
        found = candidates(failure.package, hit, ctx, removed_since=since, said=said)
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
        # an import failure nothing recognises is no evidence against a version the project
        # declares (a build failure is: it does not build here; so is a standard-library
        # module the target no longer has)
        declared = canonicalize_name(failure.package) in ctx.facts.declared
        blind = failure.stage is Stage.IMPORT and declared and not since
        moves = fallbacks(
            failure.package, cause, ctx, removed_since=since, said=said, walk_pins=not blind
        )
        return [(first, moves[0])] if moves else []
    lowest = min(fix.level for _, fix in best.values())
    return [(m, f) for m, f in best.values() if f.level == lowest]


def _named_first(
    failure: Failure, matches: list[Match], ctx: Context
) -> list[tuple[Match | None, Fix]]:
    """A system package for what a failed build names: a signature's when it knows the package
    here (no file index to download and search; the next round names whatever else is
    missing), else the file index's for each thing named, with the signatures' own."""
    known = _system_level(failure.package, matches, ctx, set())
    if known and failure.stage in (Stage.BUILD, Stage.LOCK):
        return known + evidence.crate_registry(failure, [f for _, f in known], matches, ctx)
    named = evidence.named_fixes(failure, matches, ctx)
    if not named:  # a crate this system has needs no package (nor consent): where cargo reads
        return evidence.crate_registry(failure, [], matches, ctx)
    return named + _system_level(failure.package, matches, ctx, {f.value for _, f in named})


def _system_level(
    package: str, matches: list[Match], ctx: Context, taken: set[str]
) -> list[tuple[Match | None, Fix]]:
    """Per signature, its first system package that is concrete here, untried and not taken."""
    found: list[tuple[Match | None, Fix]] = []
    for hit in matches:
        for remedy in hit.remedies():
            if remedy_level(remedy) != FixKind.SYSTEM.level:
                continue  # never asked: a pin's nearest version is a question to the index
            fix = _concrete(package, remedy, hit, ctx, removed_since="", said=frozenset())
            if fix is not None and not ctx.memory.is_tried(fix) and fix.value not in taken:
                taken.add(fix.value)
                found.append((hit, fix))
                break
    return found


def candidates(
    package: str,
    match: Match,
    ctx: Context,
    *,
    removed_since: str = "",
    said: frozenset[str] = frozenset(),
) -> list[Fix]:
    """The fixes a match suggests for ``package`` on this host, in order; tried ones left out.
    ``removed_since``: the failure needs a standard-library module that Python removed;
    ``said``: the failure's evidence, which a pin move is judged against."""
    found: list[Fix] = []
    for remedy in sorted(match.remedies(), key=remedy_level):
        fix = _concrete(package, remedy, match, ctx, removed_since=removed_since, said=said)
        if fix is not None and not ctx.memory.is_tried(fix):
            found.append(fix)
    return found


def _concrete(  # noqa: PLR0911  (one return per remedy kind)
    package: str,
    remedy: dict[str, str],
    match: Match,
    ctx: Context,
    *,
    removed_since: str,
    said: frozenset[str],
) -> Fix | None:
    if "system" in remedy:
        return system_by_id(remedy["system"], ctx)
    if "provides" in remedy:
        return system_for_file(Query(remedy["provides"], remedy["name"]), ctx)
    if "constraint" in remedy:
        return Fix(FixKind.CONSTRAINT, remedy["constraint"])
    if "env" in remedy:
        return Fix(FixKind.ENV, remedy["env"])
    if "pin" in remedy:
        target = remedy.get("package") or package
        below = remedy.get("below", "")
        return _pin(target, remedy["pin"], match.cause, ctx, below=below, said=said)
    if "interpreter" in remedy:
        return _older_interpreter(ctx, removed_since)
    return None


def _older_interpreter(ctx: Context, below: str = "") -> Fix | None:
    mine = Version(below or ctx.facts.interpreter.minor)
    older = [i for i in ctx.asks.others() if Version(i.minor) < mine]
    fixes = [Fix(FixKind.INTERPRETER, str(i.path)) for i in older]
    return next((f for f in fixes if not ctx.memory.is_tried(f)), None)  # the next older one


MAX_BLIND_INTERPRETERS = 2
MAX_BLIND_PINS = 3  # per package, when no signature says where to move
MAX_PINS = 4  # per package, whatever says where: each is a build, and a few are enough


def fallbacks(
    package: str,
    cause: str,
    ctx: Context,
    *,
    removed_since: str = "",
    said: frozenset[str] = frozenset(),
    walk_pins: bool = True,
) -> list[Fix]:
    """What to try when no signature recognises a failure, least intrusive first: the nearest
    newer release of the failing package with a wheel for the target (else one that builds),
    then the nearest older one, then an older local interpreter the project allows. When the
    failure is a standard-library module that Python ``removed_since`` no longer has: a newer
    release (an older one uses it too), then an interpreter older than that version."""
    directions = ("newer",) if removed_since else ("newer", "older")
    # a blind walk through releases is bounded: a few moves, not every release there is
    moved = max(len(ctx.memory.pinned(package.lower())) - 1, 0)
    walk = walk_pins and bool(package) and moved < MAX_BLIND_PINS
    found = [_pin(package, d, cause, ctx, said=said) for d in directions] if walk else []
    if removed_since:
        found.append(_older_interpreter(ctx, removed_since))
        return [f for f in found if f is not None and not ctx.memory.is_tried(f)]
    # an unrecognised failure rarely depends on the Python version: the nearest older ones only
    walked = sum(1 for fix in ctx.memory.tried if fix.kind is FixKind.INTERPRETER)
    if walked < MAX_BLIND_INTERPRETERS:
        found.append(_older_interpreter(ctx))
    return [f for f in found if f is not None and not ctx.memory.is_tried(f)]


def period_fixes(package: str, ctx: Context) -> list[Fix]:
    """Build constraints to the build tools of the failing sdist's own day; [] when they cannot
    be told, or were tried."""
    facts = ctx.facts
    locked = facts.sources.get(canonicalize_name(package)) if package else None
    if locked is None:
        return []
    tools = ctx.memory.period(
        locked, lambda: ctx.asks.build_tools(locked, facts.interpreter.path, facts.cwd)
    )
    reason = f"the build tools of {locked.pin}'s own day"
    fixes = [Fix(FixKind.CONSTRAINT, pin, reason=reason) for pin in tools]
    return [] if any(ctx.memory.is_tried(f) for f in fixes) else fixes


def _removed_since(failure: Failure, ctx: Context) -> str:
    """The Python version that removed the standard-library module the failure is missing."""
    found = re.search(r"No module named '(\w+)", failure.text)
    return (removed_in(found.group(1), ctx.facts.interpreter.minor) or "") if found else ""


def _pin(
    package: str,
    direction: str,
    cause: str,
    ctx: Context,
    *,
    below: str = "",
    said: frozenset[str] = frozenset(),
) -> Fix | None:
    """The nearest version in ``direction``; ``below``: the release the evidence says removed
    what the failure needs, so the search starts under it instead of stepping down to it;
    ``said``: the failure's evidence now. None when a move this way left the same evidence
    (its neighbour would too), or the package has moved enough."""
    name = package.lower()
    current = ctx.facts.locked.get(name)
    if current is None or ctx.memory.walked(name, direction, said):
        return None
    tried = list(ctx.memory.pinned(name)) or [current]
    if len(tried) - 1 >= MAX_PINS:
        return None
    than = current
    if direction == "older" and below and Version(below) <= Version(current):
        than = below
    # the version that failed first, then every version a moved pin has tried (filled as pins
    # are applied): none is proposed again
    version = ctx.asks.nearest(
        name, than, direction, python=ctx.facts.interpreter.path, cwd=ctx.facts.cwd, skip=tried
    )
    if version is None:
        return None
    reason = f"{name} {tried[0]} failed: {cause}"
    fix = Fix(FixKind.PIN, f"{name}=={version}", package=name, was=tried[0], reason=reason)
    ctx.memory.proposed(fix, direction, said)
    return fix


def applied(fix: Fix, ctx: Context) -> None:
    """Remember a moved pin's version as tried, and the evidence it moved away from."""
    ctx.memory.pin_applied(fix)
