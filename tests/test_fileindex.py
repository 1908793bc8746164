"""The file-index resolver's parts that need no network: apt sources in both formats, the
Release hash a Contents index is checked against, the query patterns and the ranking."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from bulletproof.host import contents
from bulletproof.host.fileindex import Query, rank


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
