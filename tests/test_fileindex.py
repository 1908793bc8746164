"""The file-index resolver: apt sources in both formats, the Release hash a Contents index is
checked against, the query patterns and the ranking; and, against a local mirror over HTTP, what
it does when the Contents index does not match apt's signed Release or is not there."""

from __future__ import annotations

import functools
import gzip
import hashlib
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bulletproof.host import aptnames, contents, fileindex
from bulletproof.host.fileindex import rank
from bulletproof.host.filequery import Query


def test_apt_sources_in_both_formats(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb [arch=amd64] http://mirror.example/debian bookworm main contrib\n"
        "deb-src http://mirror.example/debian bookworm main\n"
    )
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: trixie trixie-updates\n"
        "Components: main\n\n# a comment\nTypes: deb-src\nURIs: http://x.example\n"
        "Suites: trixie\nComponents: main\n"
    )
    assert contents.sources(tmp_path) == [
        ("http://mirror.example/debian", "bookworm", "main"),
        ("http://mirror.example/debian", "bookworm", "contrib"),
        ("http://mirror.example/debian", "trixie", "main"),
        ("http://mirror.example/debian", "trixie-updates", "main"),
    ]


def test_release_hash_comes_from_apts_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contents, "LISTS", tmp_path)
    digest = "ab" * 32
    (tmp_path / "mirror.example_debian_dists_bookworm_InRelease").write_text(
        f"MD5Sum:\n {'00' * 16} 10 main/Contents-amd64.gz\nSHA256:\n"
        f" {digest} 11629145 main/Contents-amd64.gz\n {'cd' * 32} 5 main/Contents-all.gz\n"
    )
    found = contents._release_hash(
        "http://mirror.example/debian", "bookworm", "main/Contents-amd64.gz"
    )
    assert found == digest
    assert (
        contents._release_hash("http://other.example", "bookworm", "main/Contents-amd64.gz") is None
    )


@pytest.mark.parametrize(
    ("kind", "name", "path", "hit"),
    [
        ("header", "portaudio.h", "usr/include/portaudio.h", True),
        ("header", "sys/acl.h", "usr/include/sys/acl.h", True),
        ("header", "acl.h", "usr/share/doc/acl.h", False),
        ("pkgconfig", "cairo", "usr/lib/x86_64-linux-gnu/pkgconfig/cairo.pc", True),
        ("pkgconfig", "cairo", "usr/share/pkgconfig/cairo.pc", True),
        ("link", "portaudio", "usr/lib/x86_64-linux-gnu/libportaudio.so", True),
        ("link", "portaudio", "usr/lib/x86_64-linux-gnu/libportaudio.so.2", False),
        ("soname", "libGL.so.1", "usr/lib/x86_64-linux-gnu/libGL.so.1", True),
        ("library", "PortAudio", "usr/lib/x86_64-linux-gnu/libportaudio.so.2.0.0", True),
        ("library", "cairo", "usr/lib/x86_64-linux-gnu/libcairo.so.2", True),
        ("library", "zbar", "usr/lib/x86_64-linux-gnu/libzbarqt.so.0", False),
        ("command", "pg_config", "usr/bin/pg_config", True),
        ("command", "pg_config", "usr/share/man/man1/pg_config.1.gz", False),
    ],
)
def test_query_patterns(kind: str, name: str, path: str, hit: bool) -> None:
    query = Query(kind, name)
    assert bool(query.path_pattern().fullmatch(path)) is hit
    if hit:
        assert query.needle().lower() in path.lower()


def test_rank_prefers_the_runtime_library_and_drops_debug_packages() -> None:
    hits = [
        ("usr/lib/x86_64-linux-gnu/libdmtx.so", "libdmtx-dev"),
        ("usr/lib/x86_64-linux-gnu/libdmtx.so.0", "libdmtx0b"),
        ("usr/lib/debug/libdmtx.so.0", "libdmtx0b-dbgsym"),
    ]
    assert rank(Query("library", "dmtx"), hits) == ["libdmtx0b", "libdmtx-dev"]


def test_search_reads_a_contents_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = tmp_path / "Contents-amd64.gz"
    with gzip.open(index, "wt") as handle:
        handle.write(
            "usr/include/portaudio.h                                 libdevel/portaudio19-dev\n"
            "usr/lib/x86_64-linux-gnu/libzbar.so.0                   libs/libzbar0,oldlibs/x\n"
            "usr/share/doc/portaudio.h                               doc/unrelated\n"
        )
    monkeypatch.setattr(contents, "indexes", lambda: [index])
    assert contents.search(Query("header", "portaudio.h")) == [
        ("usr/include/portaudio.h", "portaudio19-dev")
    ]
    assert [p for _, p in contents.search(Query("library", "zbar"))] == ["libzbar0", "x"]


_NOVEL_PACKAGES = (
    "Package: libqwzx7\nProvides: libqwzx7-abi\n\nPackage: libqwzx-dev\n\n"
    "Package: libqwzx7-dbgsym\n\nPackage: qwzx-tools\n\nPackage: libqwzxplus2\n"
)


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """A local archive served over HTTP, apt's sources and lists pointing at it, and a cache
    of its own: (the archive's dists/trixie/main folder, its URI)."""
    root = tmp_path / "archive"
    folder = root / "dists" / "trixie" / "main"
    folder.mkdir(parents=True)
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{server.server_address[1]}/debian"
    (root / "debian").symlink_to(".")
    apt = tmp_path / "etc-apt"
    (apt / "sources.list.d").mkdir(parents=True)
    (apt / "sources.list").write_text(f"deb {uri} trixie main\n")
    monkeypatch.setattr(contents, "SOURCES", apt)
    monkeypatch.setattr(contents, "LISTS", tmp_path / "lists")
    monkeypatch.setattr(contents, "architecture", lambda: "amd64")
    monkeypatch.setattr(fileindex, "_apt_file_ready", lambda: False)
    monkeypatch.setattr(aptnames, "packages", lambda: aptnames.parse(_NOVEL_PACKAGES))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    yield folder, uri
    server.shutdown()
    server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _publish(folder: Path, uri: str, served: bytes, listed: bytes, *, by_hash: bool) -> None:
    """Serve ``served`` as main/Contents-amd64.gz while apt's Release lists ``listed``."""
    (folder / "Contents-amd64.gz").write_bytes(served)
    digest = hashlib.sha256(listed).hexdigest()
    if by_hash:
        (folder / "by-hash" / "SHA256").mkdir(parents=True)
        (folder / "by-hash" / "SHA256" / digest).write_bytes(listed)
    lists = contents.LISTS
    lists.mkdir(exist_ok=True)
    prefix = uri.removeprefix("http://").replace("/", "_")
    (lists / f"{prefix}_dists_trixie_InRelease").write_text(
        f"SHA256:\n {digest} {len(listed)} main/Contents-amd64.gz\n"
    )


def _contents(*lines: str) -> bytes:
    return gzip.compress("".join(f"{line}\n" for line in lines).encode())


def test_a_contents_index_that_does_not_match_its_release_falls_back_to_apts_lists(
    mirror: tuple[Path, str],
) -> None:
    folder, uri = mirror
    good = _contents("usr/lib/x86_64-linux-gnu/libqwzx.so.7   libs/libqwzx7")
    lagging = _contents("usr/lib/x86_64-linux-gnu/libqwzx.so.6   libs/libqwzx6")
    _publish(folder, uri, lagging, good, by_hash=False)
    assert contents.indexes() == []  # never used unverified
    assert fileindex.lookup(Query("soname", "libqwzx.so.7"), "apt") == (
        ["libqwzx7"],
        fileindex.PACKAGE_LISTS,
    )
    assert fileindex.lookup(Query("library", "qwzx"), "apt")[0][:1] == ["libqwzx7"]
    assert fileindex.lookup(Query("header", "qwzx/qwzx.h"), "apt")[0] == ["libqwzx-dev"]
    assert fileindex.lookup(Query("command", "qwzx"), "apt")[0] == ["qwzx-tools"]


def test_a_lagging_mirror_is_read_through_its_by_hash_path(mirror: tuple[Path, str]) -> None:
    folder, uri = mirror
    good = _contents("usr/lib/x86_64-linux-gnu/libqwzx.so.7   libs/libqwzxcore")
    _publish(folder, uri, _contents("usr/lib/old   libs/old"), good, by_hash=True)
    assert fileindex.lookup(Query("soname", "libqwzx.so.7"), "apt") == (
        ["libqwzxcore"],
        fileindex.CONTENTS,
    )


def test_a_mirror_without_contents_falls_back_to_apts_lists(mirror: tuple[Path, str]) -> None:
    folder, uri = mirror
    _publish(folder, uri, b"", _contents("x y"), by_hash=False)
    (folder / "Contents-amd64.gz").unlink()  # 404
    names, source = fileindex.lookup(Query("pkgconfig", "qwzx-7.0"), "apt")
    assert (names, source) == (["libqwzx-dev"], fileindex.PACKAGE_LISTS)
