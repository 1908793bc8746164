"""What a failed build names comes first: a system package for every program, header, pkg-config
module, library and file that it names and this system lacks, found in the file index, before
any build-tool or pin move.

First what the output says (and the logs it names, already appended to the failure's text by
analyze/buildlogs.py); when that names nothing the index can place, the failing sdist itself:
the compilers its sources visibly need, then the headers they include and the programs its build
scripts run."""

from __future__ import annotations

import re
from collections.abc import Sequence

from packaging.utils import canonicalize_name

from bulletproof.analyze.cratedeps import manifest_crates
from bulletproof.analyze.named import named
from bulletproof.analyze.sdist import Sources, read_sources
from bulletproof.analyze.signatures import Match
from bulletproof.analyze.sourceneeds import source_queries
from bulletproof.analyze.sysdeps import COMPILER, PYTHON_HEADERS, probe
from bulletproof.host.crates import REGISTRY, registry_home
from bulletproof.host.filequery import Query
from bulletproof.host.present import System, lacking
from bulletproof.host.values import Interpreter
from bulletproof.mitigate.context import Context
from bulletproof.mitigate.sysfix import look_up, system_by_id, system_for_file
from bulletproof.mitigate.values import Fix
from bulletproof.model import Failure, FixKind, Stage

# cargo's words when it cannot reach crates.io, whichever index protocol it speaks
_CRATES_IO_UNREACHABLE = re.compile(
    r"Unable to update registry `crates-io`|failed to download from `https://index\.crates\.io"
)
# a source tree names many headers; the system lacks few of them when the build is otherwise
# possible, and each is a file-index question: past this many, the rest are not asked
MAX_SOURCE_QUERIES = 12


def named_fixes(
    failure: Failure, matches: list[Match], ctx: Context
) -> list[tuple[Match | None, Fix]]:
    """A system package for each thing the failed build names and this system lacks, each with
    the signature match that names the same thing (the engine judges the fix by it); [] when
    it names nothing the file index can place."""
    if ctx.facts.mapping is None or not ctx.facts.allow_system:
        return []
    if failure.stage not in (Stage.BUILD, Stage.LOCK):
        return []  # an import's libraries have their own way (sysfix.library_fixes)
    lacks = lacking_in_text(failure, ctx.facts.system)
    fixes = _placed(lacks, ctx, ", which the build's output names")
    if not fixes:
        fixes = _from_sources(failure.package, ctx)
    found = [(answering(name, matches), fix) for name, fix in fixes]
    return found + crate_registry(failure, [f for _, f in found], matches, ctx)


def crate_registry(
    failure: Failure, proposed: Sequence[Fix], matches: list[Match], ctx: Context
) -> list[tuple[Match | None, Fix]]:
    """A crate cargo could not get that the system's registry has, or will have once a system
    package proposed with it is installed: cargo pointed at that registry (crates.io is not
    reachable from here, or cargo would have got it). When the output names no crate (a
    Cargo.lock in place: "Unable to update registry `crates-io`"), the crates the project's
    manifests name, each placed by the file index when the system lacks it."""
    if failure.stage not in (Stage.BUILD, Stage.LOCK):
        return []
    crates = [q.name for q in named(failure.text) if q.kind == "crate"]
    found: list[tuple[Match | None, Fix]] = []
    if not crates and _CRATES_IO_UNREACHABLE.search(failure.text):
        crates = manifest_crates(ctx.facts.cwd)
        if ctx.facts.mapping is not None and ctx.facts.allow_system:
            lacks = lacking([Query("crate", c) for c in crates], ctx.facts.system)
            placed = _placed(lacks, ctx, ", which the project's Cargo.toml names")
            first = matches[0] if matches else None  # cargo's words: crates.io out of reach
            found = [(answering(name, matches) or first, fix) for name, fix in placed]
    have = [c for c in crates if ctx.facts.system.has(Query("crate", c))]
    coming = bool(found) or any(f.kind is FixKind.SYSTEM for f in proposed)
    if not crates or not (have or coming):
        return found
    fix = Fix(
        FixKind.ENV,
        f"CARGO_HOME={registry_home()}",
        reason=f"cargo reads the crates the system packages ({REGISTRY}) instead of crates.io",
    )
    if ctx.memory.is_tried(fix):
        return found
    judged_by = answering((have or crates)[0], matches) or (matches[0] if matches else None)
    return [*found, (judged_by, fix)]


def lacking_in_text(failure: Failure, system: System) -> list[Query]:
    """What the failure's text names that this system does not have."""
    return lacking(named(failure.text), system)


def lacking_toolchain(sources: Sources, interpreter: Interpreter) -> list[str]:
    """The PEP 725 identifiers of the compilers (and the interpreter's headers) the sources
    call for and this system does not have: probed, since a compiler must compile."""
    wanted = [COMPILER + language for language in sorted(sources.languages)]
    if sources.languages & {"c", "cxx"}:
        wanted.append(PYTHON_HEADERS)
    return [i for i in wanted if probe(i, interpreter) is False]


def lacking_in_sources(sources: Sources, system: System) -> list[Query]:
    """The headers the sources include and the programs the build runs that this system lacks,
    the first few."""
    asked = source_queries(sources.tree, sources.build_requires)
    return lacking(asked, system)[:MAX_SOURCE_QUERIES]


def _from_sources(package: str, ctx: Context) -> list[tuple[str, Fix]]:
    """What the failing sdist visibly needs: the compilers its sources call for, else the
    headers they include and the programs its build runs."""
    locked = ctx.facts.sources.get(canonicalize_name(package)) if package else None
    if locked is None:
        return []
    sources = ctx.memory.sdist(locked, lambda: read_sources(locked))
    if sources is None:
        return []
    tools = []
    for identifier in lacking_toolchain(sources, ctx.facts.interpreter):
        fix = system_by_id(identifier, ctx)
        if fix is not None and not ctx.memory.is_tried(fix):
            why = f"{locked.pin}'s sources need {identifier}"
            tools.append((identifier, Fix(fix.kind, fix.value, reason=why)))
    if tools:
        return tools
    why = f", which the sources of {locked.pin} name"
    return _placed(lacking_in_sources(sources, ctx.facts.system), ctx, why)


def _placed(queries: Sequence[Query], ctx: Context, why: str) -> list[tuple[str, Fix]]:
    """(what was named, its system package) for each query the file index can place: each
    package once, none tried before."""
    look_up(queries, ctx)  # all at once: one pass over the index
    taken = {f.value for f in ctx.memory.tried if f.kind is FixKind.SYSTEM}
    found: list[tuple[str, Fix]] = []
    for query in queries:
        fix = system_for_file(query, ctx, why=why)
        if fix is not None and fix.value not in taken:
            taken.add(fix.value)
            found.append((query.name, fix))
    return found


def answering(name: str, matches: list[Match]) -> Match | None:
    """The signature match that names the same thing, if one does."""
    return next((hit for hit in matches if name in hit.values.values()), None)


def fingerprint(failure: Failure, matches: list[Match]) -> frozenset[str]:
    """What a failure's evidence says, to tell whether a move changed it: the signatures and
    their values and what the text names; without either, its last lines with the numbers and
    paths (versions, build folders) that change with every attempt made alike."""
    said = {f"{hit.signature.id}:{sorted(hit.values.items())}" for hit in matches}
    said |= {f"{query.kind}:{query.name}" for query in named(failure.text)}
    if said:
        return frozenset(said)
    tail = [line for line in failure.text.strip().splitlines() if line.strip()][-5:]
    return frozenset(re.sub(r"/\S*", "/", re.sub(r"\d+", "0", line)).strip() for line in tail)
