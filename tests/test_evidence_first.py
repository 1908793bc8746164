"""What a failed build names comes before any pin or build-tool move. Every package, program,
header and wording here is made up at test time (no table, signature or code names them): an
sdist whose build says only "`<tool>` binary is required", one that fails naming nothing while
its sources include a header, a Contents index that lags apt's signed Release. The builds are
real (uv builds each sdist alone, as the engine's trials do); the file index is a local one."""

from __future__ import annotations

import functools
import gzip
import hashlib
import secrets
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bulletproof.analyze.named import named
from bulletproof.analyze.sdist import read_sources
from bulletproof.analyze.signatures import match
from bulletproof.analyze.sourceneeds import included, run_by
from bulletproof.analyze.wheels import LockedPackage
from bulletproof.host import aptnames, contents, fileindex, pkgmgr
from bulletproof.host.filequery import Query
from bulletproof.host.present import System, lacking
from bulletproof.host.pythons import query
from bulletproof.host.values import Interpreter
from bulletproof.knowledge.mappings import load_mapping
from bulletproof.mitigate import evidence
from bulletproof.mitigate.context import Asks, Facts
from bulletproof.mitigate.propose import Context, applied, pick
from bulletproof.mitigate.trials import failing_builds
from bulletproof.model import Failure, FixKind, Stage
from tests.conftest import only_from
from tests.fixtures.wheels import write_sdist


def _word() -> str:
    """A name nothing has: made at test time."""
    return "zq" + secrets.token_hex(3)


# --- what a failure's text names -------------------------------------------------------------


def test_novel_wordings_name_what_is_missing() -> None:
    tool, head, pc, lib, so = _word(), _word(), _word(), _word(), _word()
    text = "\n".join(
        [
            f"error: `{tool}-helper` binary is required to build the lattice",
            f"/bin/sh: 1: {tool}-gen: not found",
            f"FileNotFoundError: [Errno 2] No such file or directory: '{tool}c'",
            f"src/x.c:3:10: fatal error: {head}/core.h: No such file or directory",
            f"Package {pc} was not found in the pkg-config search path.",
            f"/usr/bin/ld: cannot find -l{lib}: No such file or directory",
            f"ImportError: lib{so}.so.4: cannot open shared object file",
            f"No such file or directory: '/usr/share/{tool}/table.dat'",
            "FileNotFoundError: [Errno 2] No such file or directory: 'README.md'",
            "error: Python 3.8 is required",
        ]
    )
    assert [(q.kind, q.name) for q in named(text)] == [
        ("command", f"{tool}-helper"),
        ("command", f"{tool}-gen"),
        ("command", f"{tool}c"),
        ("header", f"{head}/core.h"),
        ("pkgconfig", pc),
        ("link", lib),
        ("soname", f"lib{so}.so.4"),
        ("file", f"/usr/share/{tool}/table.dat"),
    ]


def test_only_what_the_system_lacks_is_asked(tmp_path: Path) -> None:
    have, lack = _word(), _word()
    (tmp_path / "usr" / "include" / have).mkdir(parents=True)
    (tmp_path / "usr" / "include" / have / "core.h").write_text("")
    (tmp_path / "usr" / "lib" / "x86_64-linux-gnu" / "pkgconfig").mkdir(parents=True)
    (tmp_path / "usr" / "lib" / "x86_64-linux-gnu" / "pkgconfig" / f"{have}.pc").write_text("")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / have).write_text("#!/bin/sh\n")
    (tmp_path / "bin" / have).chmod(0o755)
    system = System(root=tmp_path, path="/bin")
    asked = [
        Query("header", f"{have}/core.h"),
        Query("header", f"{lack}/core.h"),
        Query("pkgconfig", have),
        Query("pkgconfig", lack),
        Query("command", have),
        Query("command", lack),
    ]
    assert lacking(asked, system) == [asked[1], asked[3], asked[5]]


# --- sdists built here ------------------------------------------------------------------------

_BACKEND = """
import shutil, subprocess, sys

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
{body}
"""


def _sdist(house: Path, name: str, body: str, files: dict[str, str] | None = None) -> LockedPackage:
    """An sdist whose in-tree backend's build runs ``body`` (indented here), as locked."""
    backend = _BACKEND.format(body="".join(f"    {line}\n" for line in body.splitlines()))
    pyproject = '[build-system]\nrequires = []\nbuild-backend = "zqbackend"\nbackend-path = ["."]\n'
    files = {"pyproject.toml": pyproject, "zqbackend.py": backend, **(files or {})}
    path = write_sdist(house, name, "1.0", files)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return LockedPackage(name, "1.0", (), str(path), digest)


def _build(tmp_path: Path, package: LockedPackage) -> Failure:
    """The failure the engine's trials get from building it alone, with uv."""
    found = failing_builds([package], Path(sys.executable), tmp_path, [])
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def house(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    house = tmp_path / "house"
    house.mkdir()
    only_from(monkeypatch, house)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the sdists' cache
    return house


def _index(tmp_path: Path, *lines: str) -> Path:
    index = tmp_path / f"Contents-{secrets.token_hex(2)}.gz"
    with gzip.open(index, "wt") as handle:
        handle.write("".join(f"{line}\n" for line in lines))
    return index


@pytest.fixture
def local_index(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    return contents_only(monkeypatch)


def contents_only(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The file index is this list of verified Contents files (filled by the test); the
    package manager says nothing is installed and cannot tell what this release lacks."""
    found: list[Path] = []
    monkeypatch.setattr(fileindex, "_apt_file_ready", lambda: False)
    monkeypatch.setattr(contents, "indexes", lambda: list(found))
    monkeypatch.setattr(contents, "unverified_indexes", list)
    monkeypatch.setattr(pkgmgr, "installed", lambda manager, names: frozenset())
    monkeypatch.setattr(pkgmgr, "unavailable", lambda manager, names: None)
    return found


@pytest.fixture
def interpreter() -> Interpreter:
    found = query(Path(sys.executable), "given")
    assert found is not None
    return found


class _Nearest:
    """A stand-in for the index's nearest version (x.y steps): records every question."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str]] = []

    def __call__(
        self, name: str, than: str, direction: str, *, skip: list[str], **_: object
    ) -> str | None:
        self.asked.append((name, than, direction))
        major, minor = (int(x) for x in than.split(".")[:2])
        step = 1 if direction == "newer" else -1
        while 0 <= minor + step < 10:
            minor += step
            if f"{major}.{minor}" not in skip:
                return f"{major}.{minor}"
        return None


def _context(
    interpreter: Interpreter,
    tmp_path: Path,
    *packages: LockedPackage,
    nearest: _Nearest | None = None,
) -> Context:
    return Context(
        Facts(
            load_mapping("debian-12", extra_dirs=[]),
            interpreter,
            tmp_path,
            {p.name: p.version for p in packages},
            sources={p.name: p for p in packages},
        ),
        # no build tools of another day to ask for
        Asks(nearest=nearest or _Nearest(), build_tools=lambda *_: []),
    )


@pytest.fixture
def compilers(monkeypatch: pytest.MonkeyPatch) -> None:
    """This system has every compiler and the interpreter's headers (whatever the machine)."""
    monkeypatch.setattr(evidence, "probe", lambda identifier, interp: True)


@pytest.mark.usefixtures("compilers")
def test_a_binary_only_the_output_names_is_installed_before_any_pin(
    tmp_path: Path, house: Path, local_index: list[Path], interpreter: Interpreter
) -> None:
    name, tool = _word(), _word() + "-helper"
    body = f"if shutil.which({tool!r}) is None:\n    sys.exit('`{tool}` binary is required')"
    package = _sdist(house, name, body)
    failure = _build(tmp_path, package)
    assert f"`{tool}` binary is required" in failure.text  # the real build said only that
    assert match(failure.text, "build") == []  # and no signature knows the wording

    # an index that does not know the tool: the blind moves, as before
    local_index.append(_index(tmp_path, "usr/bin/zq-unrelated   devel/zq-unrelated"))
    nearest = _Nearest()
    blind = pick(failure, [], _context(interpreter, tmp_path, package, nearest=nearest))
    assert [(f.kind, f.value) for _, f in blind] == [(FixKind.PIN, f"{name}==1.1")]

    # one that knows it: the system package first, and no version is asked for
    local_index.append(_index(tmp_path, f"usr/bin/{tool}   devel/{tool}s"))
    nearest = _Nearest()
    picked = pick(failure, [], _context(interpreter, tmp_path, package, nearest=nearest))
    assert [(f.kind, f.value) for _, f in picked] == [(FixKind.SYSTEM, f"{tool}s")]
    assert picked[0][1].reason == (
        f"for the command {tool}, which the build's output names, from {fileindex.CONTENTS}"
    )
    assert nearest.asked == []


@pytest.mark.usefixtures("compilers")
def test_a_header_only_its_sources_name_is_installed_before_any_pin(
    tmp_path: Path, house: Path, local_index: list[Path], interpreter: Interpreter
) -> None:
    """The build fails naming nothing; its C source includes a header the system lacks. Not
    asked: a header under another platform's guard, one it ships, one only its tests include."""
    name, lib = _word(), _word()
    source = (
        "#include <stdio.h>\n"
        f"#include <{lib}/lattice.h>\n"
        '#include "own.h"\n'
        "#ifdef _WIN32\n#include <zqwindowsonly.h>\n#endif\n"
        "#include <Python.h>\n"
    )
    files = {"src/ext.c": source, "src/own.h": "", "tests/t.c": "#include <zqtestonly.h>\n"}
    package = _sdist(house, name, "sys.exit('configuration failed (code 3)')", files)
    failure = _build(tmp_path, package)
    assert "configuration failed (code 3)" in failure.text
    assert lib not in failure.text

    sources = read_sources(package)
    assert sources is not None
    assert included(sources.tree) == ["stdio.h", f"{lib}/lattice.h", "Python.h"]

    local_index.append(
        _index(
            tmp_path,
            f"usr/include/{lib}/lattice.h   libdevel/lib{lib}-dev",
            "usr/include/zqwindowsonly.h   libdevel/zq-win-dev",
            "usr/include/zqtestonly.h   libdevel/zq-test-dev",
            "usr/include/python3.99/Python.h   python/python3.99-dev",
        )
    )
    nearest = _Nearest()
    picked = pick(failure, [], _context(interpreter, tmp_path, package, nearest=nearest))
    assert [(f.kind, f.value) for _, f in picked] == [(FixKind.SYSTEM, f"lib{lib}-dev")]
    assert f"which the sources of {name}==1.0 name" in picked[0][1].reason
    assert nearest.asked == []


@pytest.mark.usefixtures("compilers")
def test_a_program_only_its_build_script_runs_is_installed_before_any_pin(
    tmp_path: Path, house: Path, local_index: list[Path], interpreter: Interpreter
) -> None:
    name, gen = _word(), _word() + "-gen"
    body = f"if shutil.which({gen!r}) is None:\n    sys.exit('configuration failed (code 4)')"
    package = _sdist(house, name, body)
    failure = _build(tmp_path, package)
    assert gen not in failure.text
    sources = read_sources(package)
    assert sources is not None and run_by(sources.tree) == [gen]
    local_index.append(_index(tmp_path, f"usr/bin/{gen}   devel/{gen}-tools"))
    picked = pick(failure, [], _context(interpreter, tmp_path, package))
    assert [(f.kind, f.value) for _, f in picked] == [(FixKind.SYSTEM, f"{gen}-tools")]


def test_a_compiler_the_sources_need_comes_before_their_headers(
    tmp_path: Path,
    house: Path,
    local_index: list[Path],
    interpreter: Interpreter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = _word()
    files = {"src/ext.c": "#include <zqnone.h>\n"}
    package = _sdist(house, name, "sys.exit('failed')", files)
    local_index.append(_index(tmp_path, "usr/include/zqnone.h   libdevel/libzqnone-dev"))
    lacks_c = lambda identifier, interp: not identifier.endswith("compiler/c")  # noqa: E731
    monkeypatch.setattr(evidence, "probe", lacks_c)
    picked = pick(
        Failure(name, Stage.BUILD, "failed"), [], _context(interpreter, tmp_path, package)
    )
    wanted = load_mapping("debian-12", extra_dirs=[]).packages("dep:virtual/compiler/c", "build")
    assert wanted
    assert [(f.kind, f.value) for _, f in picked] == [(FixKind.SYSTEM, wanted[0])]
    # with the compiler there, the header its source includes
    monkeypatch.setattr(evidence, "probe", lambda identifier, interp: True)
    picked = pick(
        Failure(name, Stage.BUILD, "failed"), [], _context(interpreter, tmp_path, package)
    )
    assert [f.value for _, f in picked] == ["libzqnone-dev"]


def test_what_the_system_has_is_not_installed_again(
    tmp_path: Path, local_index: list[Path], interpreter: Interpreter
) -> None:
    tool = _word()
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / tool).write_text("#!/bin/sh\n")
    (tmp_path / "bin" / tool).chmod(0o755)
    local_index.append(_index(tmp_path, f"usr/bin/{tool}   devel/{tool}-tools"))
    failure = Failure("", Stage.BUILD, f"{tool} binary is required")
    assert [f.value for _, f in pick(failure, [], _context(interpreter, tmp_path))] == [
        f"{tool}-tools"
    ]
    ctx = _context(interpreter, tmp_path)
    ctx = ctx.with_facts(system=System(path=str(tmp_path / "bin")))
    assert evidence.named_fixes(failure, [], ctx) == []


# --- a Contents index that lags its Release ---------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def lagging_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A local archive over HTTP whose Contents index does not match the hash apt's Release
    lists (and has no by-hash copy); apt's sources and lists point at it. Yields the folder the
    index is served from."""
    root = tmp_path / "archive"
    folder = root / "dists" / "trixie" / "main"
    folder.mkdir(parents=True)
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{server.server_address[1]}"
    apt = tmp_path / "etc-apt"
    (apt / "sources.list.d").mkdir(parents=True)
    (apt / "sources.list").write_text(f"deb {uri} trixie main\n")
    lists = tmp_path / "lists"
    lists.mkdir()
    release = hashlib.sha256(b"the index the Release was signed for").hexdigest()
    prefix = uri.removeprefix("http://").replace("/", "_")
    (lists / f"{prefix}_dists_trixie_InRelease").write_text(
        f"SHA256:\n {release} 123 main/Contents-amd64.gz\n"
    )
    monkeypatch.setattr(contents, "SOURCES", apt)
    monkeypatch.setattr(contents, "LISTS", lists)
    monkeypatch.setattr(contents, "architecture", lambda: "amd64")
    contents._fetch.cache_clear()
    monkeypatch.setattr(fileindex, "_apt_file_ready", lambda: False)
    monkeypatch.setattr(pkgmgr, "installed", lambda manager, names: frozenset())
    monkeypatch.setattr(pkgmgr, "unavailable", lambda manager, names: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    yield folder
    contents._fetch.cache_clear()
    server.shutdown()
    server.server_close()


def test_a_lagging_contents_index_still_proposes_marked_unverified(
    tmp_path: Path,
    lagging_mirror: Path,
    interpreter: Interpreter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lib, gone = _word(), _word()
    (lagging_mirror / "Contents-amd64.gz").write_bytes(
        gzip.compress(
            f"usr/include/{lib}/asoundlib.h   libdevel/lib{lib}2-dev\n"
            f"usr/include/{gone}.h   libdevel/lib{gone}-dev\n".encode()
        )
    )
    # apt's own verified lists have the first package; the second has left the release
    monkeypatch.setattr(
        aptnames, "packages", lambda: {f"lib{lib}2-dev": frozenset(), "libc6-dev": frozenset()}
    )
    assert contents.indexes() == []  # never passed off as verified
    assert len(contents.unverified_indexes()) == 1
    header = f"{lib}/asoundlib.h"
    assert fileindex.lookup(Query("header", header), "apt") == (
        [f"lib{lib}2-dev"],
        fileindex.UNVERIFIED,
    )
    # what apt's lists do not have is not proposed from it: apt's naming conventions answer
    assert fileindex.lookup(Query("header", f"{gone}.h"), "apt")[1] == fileindex.PACKAGE_LISTS

    text = f"src/pcm.c:9:10: fatal error: {header}: No such file or directory"
    failure = Failure("", Stage.BUILD, text)
    picked = pick(failure, match(text, "build"), _context(interpreter, tmp_path))
    assert [(f.kind, f.value) for _, f in picked] == [(FixKind.SYSTEM, f"lib{lib}2-dev")]
    hit, fix = picked[0]
    assert fix.reason.endswith("(from an unverified Contents index)"), fix.reason
    assert hit is not None and hit.signature.id == "header-missing"  # judged by its signature


# --- a move that did not change the evidence --------------------------------------------------


def test_a_pin_move_that_left_the_evidence_as_it_was_is_not_repeated_that_way(
    tmp_path: Path, local_index: list[Path], interpreter: Interpreter
) -> None:
    name = _word()
    package = LockedPackage(name, "1.5", (), None, None)
    nearest = _Nearest()
    ctx = _context(interpreter, tmp_path, package, nearest=nearest)
    said = f"{name}: the lattice of build 1.5 is misaligned in /tmp/build-1/{name}"
    first = pick(Failure(name, Stage.BUILD, said), [], ctx)
    assert [f.value for _, f in first] == [f"{name}==1.6"]
    applied(first[0][1], ctx)
    ctx.memory.mark_tried(first[0][1])
    # 1.6 fails alike (its version and build folder aside): not 1.7 next, but the other way
    ctx = ctx.with_facts(locked={name: "1.6"})
    again = said.replace("1.5", "1.6").replace("build-1", "build-2")
    second = pick(Failure(name, Stage.BUILD, again), [], ctx)
    assert [f.value for _, f in second] == [f"{name}==1.4"]
    assert nearest.asked[2:] == [(name, "1.6", "older")]

    # a move after which the failure said something else may be followed by its neighbour
    other = _context(interpreter, tmp_path, package)
    step = pick(Failure(name, Stage.BUILD, said), [], other)
    applied(step[0][1], other)
    other.memory.mark_tried(step[0][1])
    other = other.with_facts(locked={name: "1.6"})
    changed = pick(Failure(name, Stage.BUILD, f"{name}: a different complaint"), [], other)
    assert [f.value for _, f in changed] == [f"{name}==1.7"]
