"""Which system package provides a file, from the distro's own file index: for what no signature
or table names. Queries: a header, a pkg-config module, a library to link (-lX), a shared object
(libX.so.1), a library named loosely ("zbar": searched as libzbar.so*), a command, a file of
an interpreter's standard library.

Debian, Ubuntu, Mint: apt-file when it is set up, else the archive's Contents index, fetched once
into the user cache and checked against the hash in apt's signed Release file; an index that lags
its Release still answers, said as unverified (what it names is only proposed: apt installs what
its own signed lists have); else apt's package lists read by naming conventions. Fedora and
relatives: ``dnf provides``. Arch: ``pacman -F``. Alpine: apk's so:/cmd:/pc: provides.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from functools import cache

from bulletproof import proc
from bulletproof.errors import ToolError
from bulletproof.host import aptnames, contents
from bulletproof.host.filequery import Query

TIMEOUT = 300.0
APT_FILE = "apt-file"
CONTENTS = "the archive's Contents index"
PACKAGE_LISTS = "apt's package lists"
UNVERIFIED = "an unverified Contents index"


def providers(query: Query, manager: str) -> list[str]:
    """Package names that provide the file, best first; [] when the index has none or this
    package manager has no file index bulletproof can ask."""
    return lookup(query, manager)[0]


def lookup(query: Query, manager: str) -> tuple[list[str], str]:
    """(package names best first, which source answered)."""
    return lookup_all([query], manager)[query]


def lookup_all(queries: Sequence[Query], manager: str) -> dict[Query, tuple[list[str], str]]:
    """``lookup`` for several queries: a Contents index is read once for all of them."""
    if manager == "apt":
        return _apt(list(dict.fromkeys(queries)))
    return {q: _other(q, manager) for q in queries}


def _apt(queries: list[Query]) -> dict[Query, tuple[list[str], str]]:
    if _apt_file_ready():
        return {q: (rank(q, _apt_file(q)), APT_FILE) for q in queries}
    indexes = contents.indexes()
    if indexes:
        found = contents.search_all(queries, indexes)
        return {q: (rank(q, found[q]), CONTENTS) for q in queries}
    # no Contents index that matches apt's signed Release: one that lags behind it still knows
    # which package holds a file (said as unverified); what it does not know, and a mirror
    # that answers 404, leave the names of what apt itself verified, by Debian's conventions
    lagging = contents.unverified_indexes()
    found = contents.search_all(queries, lagging) if lagging else {}
    # of its answers, only the packages apt's verified lists have (a lagging index can name a
    # package the release has since replaced); when apt has no lists, apt itself will judge
    known = aptnames.packages() if found else {}
    answers: dict[Query, tuple[list[str], str]] = {}
    for query in queries:
        names = [n for n in rank(query, found.get(query, [])) if not known or n in known]
        if names:
            answers[query] = (names, UNVERIFIED)
        elif query.kind == "file":
            answers[query] = ([], "")  # a whole path follows no naming convention
        else:
            answers[query] = (aptnames.search(query), PACKAGE_LISTS)
    return answers


def _other(query: Query, manager: str) -> tuple[list[str], str]:
    others = {"dnf": (_dnf, "dnf provides"), "pacman": (_pacman, "pacman -F")}
    others["apk"] = (_apk, "apk's provides")
    if manager not in others:
        return [], ""
    ask, source = others[manager]
    return ask(query), source


def rank(query: Query, hits: list[tuple[str, str]]) -> list[str]:
    """(path, package) hits → package names, best first: no debug or cross packages; the
    package named after the library; for a runtime library, the versioned file's package."""
    scored: dict[str, tuple[int, ...]] = {}
    for path, package in hits:
        if re.search(r"-(dbg|dbgsym)$|-cross$|^lib(32|x32|64)|mingw|-i386", package):
            continue
        depth = path.count("/")
        named = 0 if query.stem.replace("_", "-") in package.lower() else 1
        versioned = 0 if re.search(r"\.so\.\d", path) else 1
        runtime_first = versioned if query.kind == "library" else 0
        score = (runtime_first, named, depth, len(package))
        if package not in scored or score < scored[package]:
            scored[package] = score
    return sorted(scored, key=lambda p: scored[p])


@cache  # once a run: its answer does not change between queries
def _apt_file_ready() -> bool:
    if shutil.which("apt-file") is None:
        return False
    done = proc.run(["apt-file", "search", "--regexp", "^/usr/bin/apt-file$"], timeout=TIMEOUT)
    return done.ok and "apt-file" in done.stdout


def _apt_file(query: Query) -> list[tuple[str, str]]:
    pattern = query.path_pattern().pattern
    done = proc.run(["apt-file", "search", "--regexp", "^/" + pattern], timeout=TIMEOUT)
    hits = []
    for line in done.stdout.splitlines():
        package, _, path = line.partition(": ")
        hits.append((path.lstrip("/"), package))
    return hits


def _dnf(query: Query) -> list[str]:
    spec = {
        "header": f"*/include/{query.name}",
        "pkgconfig": f"pkgconfig({query.name})",
        "link": f"*/lib{query.name}.so",
        "soname": f"{query.name}()(64bit)",
        "library": f"*/lib{query.stem}.so*",
        "command": f"*/bin/{query.name}",
        "stdlib": f"*/lib*/{query.name}",
        "file": query.name,
    }[query.kind]
    done = _run(["dnf", "provides", "--quiet", spec])
    names = re.findall(r"^([\w.+-]+?)-[^-\s]+-[^-\s]+\.\w+\s+:", done, re.MULTILINE)
    return list(dict.fromkeys(names))


def _pacman(query: Query) -> list[str]:
    regex = query.path_pattern().pattern
    done = _run(["pacman", "-F", "--quiet", "--regex", regex])
    return list(dict.fromkeys(line.split("/")[-1] for line in done.split() if line))


def _apk(query: Query) -> list[str]:
    prefix = {"pkgconfig": "pc:", "soname": "so:", "command": "cmd:", "library": "so:"}
    if query.kind not in prefix:
        return []  # apk indexes provides, not every file
    name = f"lib{query.stem}.so" if query.kind == "library" else query.name
    done = _run(["apk", "search", "--quiet", "--exact", prefix[query.kind] + name])
    return done.split()


def _run(argv: list[str]) -> str:
    if shutil.which(argv[0]) is None:
        return ""
    try:
        return proc.run(argv, timeout=TIMEOUT).stdout
    except ToolError:
        return ""
