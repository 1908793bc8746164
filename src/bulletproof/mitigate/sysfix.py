"""A system package as a fix: by a PEP 725 identifier through the distro mapping, or by a file
through the distro's file index; only one that is not installed yet and that this release has."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bulletproof.analyze.named import describe
from bulletproof.analyze.sysdeps import mapped
from bulletproof.host import pkgmgr
from bulletproof.host.fileindex import UNVERIFIED, lookup_all
from bulletproof.host.filequery import Query
from bulletproof.mitigate.context import Context
from bulletproof.mitigate.values import Fix
from bulletproof.model import FixKind


def system_by_id(identifier: str, ctx: Context) -> Fix | None:
    facts = ctx.facts
    if facts.mapping is None or not facts.allow_system:
        return None
    for role in ("build", "host", "run"):
        names = mapped(identifier, role, facts.mapping, facts.interpreter.minor)
        if names:
            return first_installable(names, ctx)
    return None


def system_for_file(query: Query, ctx: Context, *, why: str = "") -> Fix | None:
    """The first installable system package the file index says holds the file. ``why``: how
    the failure came to name it, said in the reason."""
    if ctx.facts.mapping is None or not ctx.facts.allow_system:
        return None
    names, source = look_up([query], ctx)[query]
    fix = first_installable(tuple(names), ctx)
    if fix is None:
        return None
    what = describe(query) + why if why else query.name
    # a package proposed from an index that did not match apt's signed Release says so
    reason = f"for {what} (from {source})" if source == UNVERIFIED else f"for {what}, from {source}"
    return Fix(fix.kind, fix.value, reason=reason)


def look_up(queries: Sequence[Query], ctx: Context) -> dict[Query, tuple[list[str], str]]:
    """The file index's answers, asked once a run and together (one pass over an index)."""
    mapping = ctx.facts.mapping
    assert mapping is not None
    return ctx.memory.looked_up(queries, lambda new: lookup_all(new, mapping.manager.name))


def first_installable(names: tuple[str, ...], ctx: Context) -> Fix | None:
    """The first name that is not installed yet and that this release has."""
    assert ctx.facts.mapping is not None
    manager = ctx.facts.mapping.manager
    have = pkgmgr.installed(manager, names)
    fresh = tuple(n for n in names if n not in have)
    gone = pkgmgr.unavailable(manager, fresh) or frozenset()
    usable = [n for n in fresh if n not in gone]
    return Fix(FixKind.SYSTEM, usable[0]) if usable else None


def library_fixes(libraries: Sequence[str], ctx: Context) -> list[Fix]:
    """A system package for each library a module tried to load and could not, found through
    the distro's file index by the name the module asked for (whatever its message said)."""
    found: list[Fix] = []
    for library in libraries:
        fix = system_for_file(library_query(library), ctx)
        if fix is not None:
            fix = Fix(fix.kind, fix.value, reason=fix.reason, library=library)
            if not ctx.memory.is_tried(fix) and all(f.value != fix.value for f in found):
                found.append(fix)
    return found


def library_query(name: str) -> Query:
    """A versioned shared object by its soname; anything else (libfoo.so, "foo", "libfoo") as
    a library named loosely."""
    base = name.rsplit("/", 1)[-1]
    if re.search(r"\.so\.\d", base):
        return Query("soname", base)
    return Query("library", base)
