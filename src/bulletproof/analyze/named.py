"""What a failure's output names as missing, whatever its wording: executables, headers,
pkg-config modules, libraries and files, each as a question for the file index.

Signatures recognise the failures someone has seen; a build script can say "`zq-helper` binary is
required" in words no signature knows. These patterns are about the *shape* of a missing thing
(a program's name next to "binary", "command not found", a path ending in .h next to "No such
file"), so a package nobody wrote down is still looked up before any pin is moved. A name read
wrongly costs one file-index question; the system check (host/present.py) and the index drop it.
"""

from __future__ import annotations

import re

from bulletproof.host.filequery import Query

# the quotes tools print around a name: ASCII, backtick, and the typographic ones gcc uses
_Q = "[`'\"\u2018\u201c]"
_EQ = "[`'\"\u2019\u201d]"
_PROG = r"[A-Za-z0-9_][\w.+-]*"  # a program's name: no spaces, no slashes
_HEADER = r"[\w.+/-]+\.(?:h|hh|hpp|hxx|H)"
_PC = r"[\w.+-]+"
_NOUN = r"(?:binary|executable|program|command|tool|utility)"
_LACK = r"(?:is |was )?(?:required|needed|missing|not found|not installed|not available)"
_FIND = r"(?:could not|couldn't|cannot|can't|can ?not|unable to|failed to|did not) find"

# (kind, pattern with a group "name"), in no order: every pattern is tried on every line
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        # executables
        ("command", rf"(?:^|[\s(]){_Q}?(?P<name>{_PROG}){_EQ}?\s+{_NOUN}\s+{_LACK}"),
        ("command", rf"{_NOUN}\s+{_Q}(?P<name>{_PROG}){_EQ}\s+{_LACK}"),
        ("command", rf"{_Q}(?P<name>{_PROG}){_EQ}\s+(?:is|was)\s+(?:required|needed|not found)"),
        ("command", rf"(?:^|[\s:]){_Q}?(?P<name>{_PROG}){_EQ}?: (?:command )?not found\s*$"),
        ("command", rf"\benv: {_Q}?(?P<name>{_PROG}){_EQ}?: No such file or directory"),
        (
            "command",
            rf"\bmake(?:\[\d+\])?: (?P<name>{_PROG}): (?:No such file or directory|Command)",
        ),
        ("command", rf"{_FIND} (?:the )?{_NOUN} {_Q}?(?P<name>{_PROG}){_EQ}?"),
        ("command", rf"{_FIND} {_Q}(?P<name>{_PROG}){_EQ}(?: {_NOUN})?"),
        ("command", r"\bmissing: (?P<name>\w+)_EXECUTABLE\b"),  # CMake's FindX convention
        ("command", rf"\bDid not find (?P<name>{_PROG}) by name"),
        ("command", rf"\bProgram (?P<name>{_PROG}) found: NO"),  # meson
        ("command", rf"unable to execute {_Q}(?P<name>{_PROG}){_EQ}: No such file"),
        ("command", rf"command {_Q}(?P<name>{_PROG}){_EQ} failed: No such file"),
        # "zq-helper is required", as a message of its own (after "error:" or at the start)
        ("command", rf"(?:^|error:)\s*(?P<name>[a-z][a-z0-9+.-]*) {_LACK}"),
        ("path", r"No such file or directory: '(?P<name>[^'\s]+)'"),
        ("path", r"(?:^|\s)(?P<name>/[^\s:'\"]+): (?:No such file or directory|not found)"),
        # headers
        ("header", rf"fatal error: {_Q}?(?P<name>{_HEADER}){_EQ}?: No such file or directory"),
        ("header", rf"fatal error: {_Q}(?P<name>{_HEADER}){_EQ} file not found"),
        ("header", rf"Cannot open include file: {_Q}(?P<name>{_HEADER}){_EQ}"),
        ("header", rf"{_FIND} (?:the )?(?:header )?{_Q}?(?P<name>{_HEADER}){_EQ}?"),
        ("header", rf"(?:^|[\s(]){_Q}?(?P<name>{_HEADER}){_EQ}?:? (?:header )?{_LACK}"),
        # pkg-config modules
        ("pkgconfig", rf"Package {_Q}?(?P<name>{_PC}?){_EQ}?,? was not found in the pkg-config"),
        ("pkgconfig", rf"Package {_Q}?(?P<name>{_PC}?){_EQ}?, required by .* not found"),
        ("pkgconfig", rf"No package {_Q}(?P<name>{_PC}){_EQ} found"),
        ("pkgconfig", rf"Dependency {_Q}(?P<name>{_PC}){_EQ} not found"),
        ("pkgconfig", rf"dependency (?P<name>{_PC}) found: NO"),  # meson
        ("pkgconfig", rf"pkg-config --exists (?P<name>{_PC}){_EQ}? returned non-zero"),
        (
            "pkgconfig",
            rf"{_FIND} (?:the )?pkg-config (?:module|package) {_Q}?(?P<name>{_PC}?){_EQ}?(?:\s|$)",
        ),
        # libraries
        ("link", r"(?:cannot|unable to) find (?:library )?-l(?P<name>[\w.+-]+)"),
        ("link", r"library not found for -l(?P<name>[\w.+-]+)"),
        ("soname", r"(?P<name>lib[\w.+-]+\.so(?:\.\d+)*): cannot open shared object file"),
        # Rust crates cargo could not get: its registry unreachable, or not in the one it reads
        ("crate", r"failed to get `(?P<name>[\w-]+)` as a dependency of package"),
        ("crate", r"no matching package named `(?P<name>[\w-]+)` found"),
        ("crate", r"failed to load source for dependency `(?P<name>[\w-]+)`"),
    )
)
# a word next to "is required" that is a language, a version or a sentence, not a program
_NOT_PROGRAMS = frozenset(
    {"a", "an", "the", "this", "that", "it", "its", "one", "version", "support"}
    | {"c", "c++", "cxx", "python", "rust", "fortran"}
)
# files a build opens that no package provides: its own tree, scratch, the user's home
_SYSTEM_PREFIXES = ("/usr/", "/etc/", "/opt/", "/bin/", "/sbin/", "/lib/", "/lib64/")
_BIN = re.compile(r"^/(?:usr/(?:local/)?)?s?bin/(?P<name>[^/]+)$")
_DATA_SUFFIX = re.compile(r"\.(?:txt|md|rst|cfg|toml|ini|json|ya?ml|py|c|cc|cpp|pyx|in|log)$")


def named(text: str) -> list[Query]:
    """What ``text`` says is missing, in the order it says it, each once."""
    found: dict[Query, None] = {}
    for line in text.splitlines():
        for kind, pattern in _PATTERNS:
            for hit in pattern.finditer(line):
                query = _query(kind, hit.group("name"))
                if query is not None:
                    found.setdefault(query)
    return list(found)


def _query(kind: str, name: str) -> Query | None:
    name = name.strip().rstrip(".,;")
    if kind == "path":
        return path_query(name)
    if kind == "command":
        return _command(name)
    if kind == "header":
        return _header(name)
    return Query(kind, name) if name else None


def _command(name: str) -> Query | None:
    if "_" in name and name.isupper():  # PKG_CONFIG (from PKG_CONFIG_EXECUTABLE)
        name = name.lower().replace("_", "-")
    if name.lower() in _NOT_PROGRAMS or re.fullmatch(r"[\d.]+", name):
        return None
    if re.search(r"\.(?:h|hh|hpp|hxx|H)$", name):
        return _header(name)
    if re.search(r"\.so(\.\d+)*$", name):
        return Query("soname", name)
    if name.endswith(".pc"):
        return Query("pkgconfig", name[:-3])
    return None if _DATA_SUFFIX.search(name) else Query("command", name)


def _header(name: str) -> Query | None:
    if name.startswith(("/", "./", "../")):
        inside = re.search(r"/include/(.+)$", name)  # /usr/include/zq/zq.h: the header zq/zq.h
        return Query("header", inside.group(1)) if inside and name.startswith("/") else None
    return Query("header", name)


def path_query(name: str) -> Query | None:
    """What a name a build ran or opened is: a program when it is a bare name (the way Python's
    subprocess says "No such file or directory: 'X'" of one it could not run), else a system
    file by its path (a program when it is in a bin folder); None for the build's own files."""
    if "/" not in name:
        return _command(name)
    if not name.startswith(_SYSTEM_PREFIXES):
        return None  # relative, or in the build's own tree: no package has it
    program = _BIN.match(name)
    if program:
        return Query("command", program.group("name"))
    if "/include/" in name:
        return _header(name)
    if name.endswith(".pc"):
        return Query("pkgconfig", name.rsplit("/", 1)[-1][:-3])
    return Query("file", name)


def describe(query: Query) -> str:
    """What was named, in words for a fix's reason: "the command zq-helper"."""
    words = {
        "pkgconfig": "the pkg-config module",
        "link": "the library",
        "soname": "the library",
        "crate": "the Rust crate",
    }
    return f"{words.get(query.kind, 'the ' + query.kind)} {query.name}"
