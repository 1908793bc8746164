"""Which Debian package provides a file, from what apt itself verified when the archive's Contents
index cannot be had: the package lists apt keeps (names, Provides) read by Debian's naming
conventions (policy 8.1 and the -dev convention): a shared library libfoo.so.3 ships in libfoo3
(or libfoo-3, libfoo3t64 after the 64-bit time transition), its headers, link library and
pkg-config file in libfoo-dev, a command in a package of its name. A guess from names, ranked;
what it proposes is installed through apt (signed) and judged like any other fix."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

from bulletproof import proc
from bulletproof.errors import ToolError
from bulletproof.host.filequery import Query

TIMEOUT = 120.0
# what Debian appends to a library package's name after its soversion: the 64-bit time_t and
# C++ ABI transitions, and the soversion's own letters
_ABI = r"(t64|v5|c2|c2a|gf|ldbl|a|b)?"


@cache  # once a run: the lists do not change while it runs
def packages() -> dict[str, frozenset[str]]:
    """Every package apt can install, with the names it Provides (apt's own reader of its
    verified lists, whatever their compression)."""
    try:
        done = proc.run(["apt-cache", "dumpavail"], timeout=TIMEOUT)
    except ToolError:
        return {}
    return parse(done.stdout)


def parse(stanzas: str) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    name = ""
    for line in stanzas.splitlines():
        if line.startswith("Package:"):
            name = line[8:].strip()
            found.setdefault(name, set())
        elif line.startswith("Provides:") and name:
            provided = (p.strip().split(" ")[0] for p in line[9:].split(","))
            found[name].update(p for p in provided if p)
    return {n: frozenset(p) for n, p in found.items()}


def search(query: Query, known: Mapping[str, frozenset[str]] | None = None) -> list[str]:
    """Package names that by Debian's conventions provide what ``query`` asks for, best first."""
    known = packages() if known is None else known
    ranked: dict[str, tuple[int, int]] = {}
    for order, pattern in enumerate(_patterns(query)):
        for name, provided in known.items():
            if pattern.fullmatch(name) or any(pattern.fullmatch(p) for p in provided):
                score = (order, len(name))
                if name not in ranked or score < ranked[name]:
                    ranked[name] = score
    return sorted(ranked, key=lambda n: ranked[n])


def _patterns(query: Query) -> list[re.Pattern[str]]:
    """Name patterns, most likely first."""
    stems = _stems(query)
    found: list[str] = []
    if query.kind == "soname":
        base, _, version = query.name.rsplit("/", 1)[-1].partition(".so")
        base, major = re.escape(base.lower()), re.escape(version.strip(".").split(".")[0])
        if major:
            found += [rf"{base}-?{major}{_ABI}"]
        found += [rf"{base}(-?\d[\w.]*)?{_ABI}"]
    elif query.kind == "library":
        found += [rf"lib{s}(-?\d[a-z0-9.]*)?{_ABI}" for s in stems]
        found += [rf"{s}(-?\d[a-z0-9.]*)?{_ABI}" for s in stems if s.startswith("lib")]
    elif query.kind == "stdlib":
        pass  # no naming convention to guess by: only a file index answers
    elif query.kind == "command":
        found += [re.escape(query.name.lower()), rf"{re.escape(query.name.lower())}-\w+"]
    else:  # header, pkgconfig, link: the development package
        found += [rf"lib{s}(-?\d[a-z0-9.]*)?-dev" for s in stems]
        found += [rf"{s}(-?\d[a-z0-9.]*)?-dev" for s in stems]
    return [re.compile(p) for p in found]


def _stems(query: Query) -> list[str]:
    """The names a package would be named after: the file's stem; for a header in a folder, the
    folder too; for a versioned pkg-config module, without its version."""
    stems = [query.stem]
    if query.kind == "header" and "/" in query.name:
        stems.insert(0, query.name.split("/")[0].lower())
    if query.kind == "pkgconfig":
        stems.append(re.sub(r"-?[\d.]+$", "", query.stem))
    if query.kind in ("header", "pkgconfig", "link"):  # libpq-fe.h is libpq's
        stems += [query.stem.split(sep)[0] for sep in ("-", "_") if sep in query.stem]
    cleaned = [re.sub(r"[^a-z0-9+.-]", "-", s.lower()) for s in stems if s]
    return [re.escape(s) for s in dict.fromkeys(cleaned) if s]
