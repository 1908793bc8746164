"""What an sdist's own sources ask of the system when its output does not say: the headers its
C, C++, Cython and SWIG files include and the programs its build scripts run, as file-index
questions.

A build can fail without naming what it lacked (a script that checks for a header itself and
prints "configuration failed", a compiler error that a wrapper swallowed). Its sources still name
it. Left out, because no system package is the answer: headers the sdist ships or generates,
headers of Python and of its Python build requirements (numpy, pybind11), includes under another
platform's guard (``#ifdef _WIN32``) or an optional feature's (``#ifdef HAVE_ZQ``), and programs
run only on another platform."""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Collection, Iterable
from pathlib import PurePosixPath

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from bulletproof.analyze.named import path_query
from bulletproof.analyze.sdist import SourceTree
from bulletproof.host.filequery import Query

_INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
_CYTHON_EXTERN = re.compile(r'^\s*cdef\s+extern\s+from\s+["<]([^">]+)[">]')
_SWIG_INCLUDE = re.compile(r'^\s*%include\s*[<"]([^>"]+\.(?:h|hh|hpp|hxx))[>"]')
_HEADER_SUFFIX = (".h", ".hh", ".hpp", ".hxx")
_CONDITION = re.compile(r"^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)")
_FOREIGN = re.compile(
    r"\b(_WIN32|_WIN64|WIN32|_MSC_VER|MS_WINDOWS|__CYGWIN__|__MINGW32__|__MINGW64__|__APPLE__"
    r"|__MACH__|TARGET_OS_\w+|__FreeBSD__|__OpenBSD__|__NetBSD__|__DragonFly__|__sun|_AIX"
    r"|__hpux|__HAIKU__|__ANDROID__|__EMSCRIPTEN__|__wasi__|__VMS)\b"
)
_NATIVE = re.compile(r"\b(__linux__|__linux|__unix__|__unix|__gnu_linux__|__GLIBC__)\b")
_OPTIONAL = re.compile(r"\b(HAVE|USE|WITH|ENABLE)_\w+")
_NEGATED = re.compile(r"^\s*!|!\s*defined|\bifndef\b")
# headers that come with the interpreter or with Python build requirements, never the system
_PYTHON_HEADERS = frozenset(
    {"structmember.h", "frameobject.h", "marshal.h", "datetime.h", "longintrepr.h", "code.h"}
)
# calls whose first argument is a program the build runs or looks for
_RUNS = frozenset(
    {"run", "call", "check_call", "check_output", "Popen", "getoutput", "getstatusoutput"}
    | {"system", "popen", "spawn", "which", "find_executable", "find_program"}
)
_FIND_PROGRAM = re.compile(r"find_program\s*\(\s*(?:\w+\s+)?(?:NAMES\s+)?['\"]?([\w.+-]+)")
_FOREIGN_PLATFORMS = re.compile(r"win32|cygwin|darwin|\bnt\b|windows|msvc|macos", re.IGNORECASE)


def source_queries(tree: SourceTree, build_requires: Iterable[str] = ()) -> list[Query]:
    """Headers first (what a compiler stops at), then programs, each once."""
    provided = {name for name in map(_name, build_requires) if name}
    headers = [Query("header", h) for h in included(tree) if not _from_python(h, provided)]
    programs = [q for q in (path_query(p) for p in run_by(tree)) if q is not None]
    return list(dict.fromkeys([*headers, *programs]))


def _name(requirement: str) -> str:
    try:
        return canonicalize_name(Requirement(requirement).name)
    except InvalidRequirement:
        return ""


def included(tree: SourceTree) -> list[str]:
    """Headers the sources include that the sdist neither ships nor generates, in file order."""
    found: dict[str, None] = {}
    for name, text in sorted(tree.texts.items()):
        suffix = PurePosixPath(name).suffix.lower()
        for header in _includes(text, cython=suffix in (".pyx", ".pxd", ".pxi")):
            if header.endswith(_HEADER_SUFFIX) and not _own(header, tree.names):
                found.setdefault(header)
    return list(found)


def _includes(text: str, *, cython: bool) -> list[str]:
    """The headers ``text`` includes unconditionally on this platform (C's #include, SWIG's
    %include of a header, Cython's cdef extern from)."""
    found = []
    guards: list[tuple[str, bool]] = []  # per open #if: (what guards it, in its #else)
    for line in text.splitlines():
        condition = _CONDITION.match(line)
        if condition:
            _step(guards, condition.group(1), condition.group(2))
            continue
        hit = _INCLUDE.match(line) or _SWIG_INCLUDE.match(line)
        if cython:
            hit = _CYTHON_EXTERN.match(line) or hit
        if hit and not any(_skipped(kind, in_else) for kind, in_else in guards):
            found.append(hit.groups()[-1].strip())
    return found


def _step(guards: list[tuple[str, bool]], directive: str, condition: str) -> None:
    if directive in ("if", "ifdef", "ifndef"):
        guards.append((_guard(directive, condition), False))
    elif directive == "elif" and guards:
        guards[-1] = (_guard("if", condition), False)
    elif directive == "else" and guards:
        guards[-1] = (guards[-1][0], True)
    elif directive == "endif" and guards:
        guards.pop()


def _guard(directive: str, condition: str) -> str:
    """What an #if is about: "foreign" (another platform), "not-foreign" (its #else is),
    "native" (Linux: its #else is another platform's), "optional", or "" (neither)."""
    negated = directive == "ifndef" or bool(_NEGATED.search(condition))
    if _FOREIGN.search(condition):
        return "not-foreign" if negated else "foreign"
    if _NATIVE.search(condition):
        return "foreign" if negated else "native"
    if _OPTIONAL.search(condition) and not negated:
        return "optional"
    return ""


def _skipped(kind: str, in_else: bool) -> bool:
    if in_else:
        return kind in ("not-foreign", "native")
    return kind in ("foreign", "optional")


def _own(header: str, names: Collection[str]) -> bool:
    """The sdist ships it (anywhere: builds add their folders with -I), generates it from a
    template (config.h from config.h.in, config.h.cmake), or names it by a relative path."""
    if header.startswith(("./", "../")) or "/../" in header:
        return True
    tail = "/" + header
    if any(n == header or n.endswith(tail) for n in names):
        return True
    base = header.rsplit("/", 1)[-1]
    templates = {base + t for t in (".in", ".cmake", ".meson", ".in.in")}
    return any(n.rsplit("/", 1)[-1] in templates for n in names)


def _from_python(header: str, provided: Collection[str]) -> bool:
    """Python's own headers and those of a Python build requirement (numpy/…, pybind11/…)."""
    top = header.split("/", 1)[0]
    if header in _PYTHON_HEADERS or top.lower().startswith("py"):
        return True
    return "/" in header and canonicalize_name(top) in provided


def run_by(tree: SourceTree) -> list[str]:
    """Programs the build scripts run or look for, in file order, each once: subprocess and
    os calls, ``shutil.which``/``find_executable`` in Python; CMake's and meson's
    ``find_program``."""
    found: dict[str, None] = {}
    for name, text in sorted(tree.texts.items()):
        if name.endswith(".py"):
            programs = _python_runs(text)
        elif PurePosixPath(name).name in ("CMakeLists.txt", "meson.build") or name.endswith(
            ".cmake"
        ):
            programs = _FIND_PROGRAM.findall(text)
        else:
            continue
        for program in programs:
            if program and not program.startswith((".", "$")):
                found.setdefault(program)
    return list(found)


def _python_runs(text: str) -> list[str]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    found: list[str] = []
    _visit(tree, found)
    return found


def _visit(node: ast.AST, found: list[str]) -> None:
    """Walk ``node``, leaving out the branch an ``if`` gives another platform."""
    if isinstance(node, ast.If):
        test = ast.unparse(node.test)
        if _FOREIGN_PLATFORMS.search(test):
            negated = "!=" in test or "not " in test
            _visit_all(node.orelse if not negated else node.body, found)
            return
    if isinstance(node, ast.Call):
        program = _program(node)
        if program:
            found.append(program)
    for child in ast.iter_child_nodes(node):
        _visit(child, found)


def _visit_all(nodes: list[ast.stmt], found: list[str]) -> None:
    for node in nodes:
        _visit(node, found)


def _program(call: ast.Call) -> str:
    """The program a call runs: its first argument, a string (split as a shell would) or a
    list whose first item is one."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name not in _RUNS or not call.args:
        return ""
    first = call.args[0]
    if isinstance(first, (ast.List, ast.Tuple)) and first.elts:
        first = first.elts[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return ""
    try:
        words = shlex.split(first.value)
    except ValueError:
        return ""
    return words[0] if words else ""
