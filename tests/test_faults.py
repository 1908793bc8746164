"""Faults that must be named, not misdiagnosed: a full disk (a real tmpfs), a package no index
has, a VCS host that does not answer (a closed loopback port). Real uv, real filesystems."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulletproof.cli import main
from bulletproof.host.disks import disk_of
from bulletproof.tomlcompat import tomllib
from tests.conftest import not_here, only_from, write_project
from tests.fixtures.wheels import make_wheel

MB = 2**20


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 30 MB tmpfs, unmounted at the end whatever happens."""
    point = tmp_path / "small"
    point.mkdir()
    if os.geteuid() != 0:
        not_here("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=30m", "tmpfs", str(point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        not_here(f"mount refused: {done.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def _fill(disk: Path, leave: int) -> None:
    free = disk_of(disk).free
    with (disk / "filler.bin").open("wb") as handle:
        handle.truncate(0)
        block = b"\0" * MB
        for _ in range(max(0, (free - leave) // MB)):
            handle.write(block)


@pytest.fixture(scope="module")
def bulky(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three wheels of 8 MB of incompressible data each, and a small one."""
    house = tmp_path_factory.mktemp("bulky-house")
    for name in ("zqbulk-a", "zqbulk-b", "zqbulk-c"):
        top = name.replace("-", "_")
        blobs = {f"{top}/blob{i}.bin": os.urandom(MB) for i in range(8)}
        make_wheel(house, name, "1.0", {f"{top}/__init__.py": "", **blobs})
    make_wheel(house, "zqsmall", "1.0", {"zqsmall/__init__.py": "OK = True\n"})
    return house


def _index(monkeypatch: pytest.MonkeyPatch, house: Path, cache: Path) -> None:
    only_from(monkeypatch, str(house))
    monkeypatch.setenv("UV_CACHE_DIR", str(cache))


def _setup(project: Path, report: Path, *more: str) -> tuple[int, dict[str, object]]:
    code = main(["setup", str(project), "--python", "3.12", "--yes", "--json", str(report), *more])
    return code, json.loads(report.read_text())


def _set_aside(report: dict[str, object]) -> dict[str, str]:
    """The requirements setup left out, each with its cause."""
    left = report["set_aside"]
    assert isinstance(left, list)
    return {entry["package"]: entry["cause"] for entry in left}


def _locked(project: Path) -> set[str]:
    lock = tomllib.loads((project / "pylock.toml").read_text())
    return {p["name"] for p in lock.get("packages", [])}


def _result(report: dict[str, object]) -> dict[str, object]:
    result = report["result"]
    assert isinstance(result, dict)
    return result


@pytest.mark.usefixtures("python312")
def test_a_full_disk_while_installing_stops_at_once_and_keeps_the_env(
    small_disk: Path,
    bulky: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # uv's cache elsewhere: the generation being written is what fills
    _index(monkeypatch, bulky, tmp_path / "uv-cache")
    project = write_project(small_disk / "proj", "zqsmall\n")
    assert _setup(project, tmp_path / "first.json")[0] == 0
    before = (project / ".venv").resolve()
    lock_before = (project / "pylock.toml").read_bytes()
    (project / "requirements.txt").write_text("zqsmall\nzqbulk-a\nzqbulk-b\nzqbulk-c\n")
    _fill(small_disk, leave=8 * MB)

    code, report = _setup(project, tmp_path / "full.json")

    assert code == 1  # the machine's fault, not the input's (2)
    message = str(_result(report)["message"])
    assert message.startswith(f"no space left on tmpfs at {small_disk} (needed about ")
    needed = int(message.split("needed about ")[1].split(" MB", maxsplit=1)[0])
    assert 24 <= needed <= 30  # three 8 MB wheels unpacked, and the small one
    assert report["mitigation"] == []  # no interpreter, pin or build fix was proposed
    assert (project / ".venv").resolve() == before  # the env stays as it was
    assert [p.name for p in (project / ".bulletproof" / "generations").iterdir()] == [before.name]
    assert (project / "pylock.toml").read_bytes() == lock_before


@pytest.mark.usefixtures("python312")
def test_a_full_disk_while_locking_names_the_device_uv_filled(
    small_disk: Path,
    bulky: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # uv's cache on the small disk too: uv fills it while reading the wheels to lock them
    _index(monkeypatch, bulky, small_disk / "uv-cache")
    project = write_project(small_disk / "proj", "zqbulk-a\nzqbulk-b\nzqbulk-c\n")
    _fill(small_disk, leave=8 * MB)

    code, report = _setup(project, tmp_path / "full.json")

    assert code == 1
    assert str(_result(report)["message"]).startswith(f"no space left on tmpfs at {small_disk} (")
    assert report["mitigation"] == []
    assert not (project / "pylock.toml").exists()
    assert "No space left on device" in capsys.readouterr().err  # uv's own words, as evidence


@pytest.mark.usefixtures("python312")
def test_a_package_no_index_has_is_named_with_where_it_was_looked_for(
    bulky: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _index(monkeypatch, bulky, tmp_path / "uv-cache")
    project = write_project(tmp_path / "proj", "zqsmall\nzq-nowhere-pkg\n")

    code, report = _setup(project, tmp_path / "report.json")

    # the one the index lacks is set aside with where it was looked for; the rest delivered
    assert code == 6
    assert _set_aside(report) == {
        "zq-nowhere-pkg": f"zq-nowhere-pkg was not found on the index (looked in: {bulky} "
        "(find-links))"
    }
    assert _locked(project) == {"zqsmall"}
    assert (project / ".venv" / "bin" / "python").exists()
    # with --strict nothing short of everything is delivered: the same cause is the error
    code, report = _setup(project, tmp_path / "strict.json", "--strict")
    assert code == 2
    assert _result(report)["message"] == (
        f"zq-nowhere-pkg was not found on the index (looked in: {bulky} (find-links))"
    )


@pytest.fixture
def empty_index(tmp_path: Path) -> Iterator[str]:
    """A local HTTP index that has no project at all (404 for every page)."""
    root = tmp_path / "empty-index"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.usefixtures("python312")
def test_the_index_named_for_a_missing_package_has_no_credentials(
    empty_index: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("UV_INDEX_URL", f"http://zquser:zqsecret@{empty_index}/simple")
    project = write_project(tmp_path / "proj", "zq-nowhere-pkg\n")

    code, report = _setup(project, tmp_path / "report.json")

    assert code == 6
    message = _set_aside(report)["zq-nowhere-pkg"]
    assert message.startswith("zq-nowhere-pkg was not found on the index (looked in: http://")
    assert message.endswith(f"***@{empty_index}/simple)")  # the password hidden
    assert "zqsecret" not in capsys.readouterr().err + json.dumps(report)


def _need_git() -> None:
    if shutil.which("git") is None:
        not_here("no git on this machine")


@pytest.mark.usefixtures("python312")
def test_an_unreachable_vcs_host_is_a_fetch_failure_not_a_build_failure(
    bulky: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _need_git()
    _index(monkeypatch, bulky, tmp_path / "uv-cache")
    # port 1 on the loopback: nothing listens, the connection is refused at once
    url = "git+https://zqtoken:zqsecret@127.0.0.1:1/repo.git"
    project = write_project(tmp_path / "proj", f"zqsmall\nzqvcs-pkg @ {url}\n")

    code, report = _setup(project, tmp_path / "report.json")

    # set aside, with git's reason; the good requirement is locked and installed without it
    assert code == 6
    message = _set_aside(report)["zqvcs-pkg"]
    assert message.startswith("could not fetch zqvcs-pkg from git+https://127.0.0.1:1/repo.git: ")
    assert "connect" in message.lower()  # git's own reason
    assert "does not build" not in message
    # no build fix for what was never fetched
    assert [(a["package"], a["fix"], a["outcome"]) for a in report["mitigation"]] == [  # type: ignore[attr-defined]
        ("zqvcs-pkg", None, "set aside")
    ]
    assert _locked(project) == {"zqsmall"}
    assert "zqsecret" not in capsys.readouterr().err + json.dumps(report)
    code, report = _setup(project, tmp_path / "strict.json", "--strict")
    assert code == 1
    assert str(_result(report)["message"]).startswith("could not fetch zqvcs-pkg from ")
    assert report["mitigation"] == []


@pytest.mark.usefixtures("python312")
def test_an_unknown_ssh_host_is_named_with_ssh_s_reason(
    bulky: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _need_git()
    if shutil.which("ssh") is None:
        not_here("no ssh client on this machine")
    _index(monkeypatch, bulky, tmp_path / "uv-cache")
    url = "git+ssh://git@zq-nohost.invalid/repo.git"  # .invalid never resolves (RFC 2606)
    project = write_project(tmp_path / "proj", f"zqvcs-pkg @ {url}\n")

    code, report = _setup(project, tmp_path / "report.json")

    assert code == 6  # its only requirement set aside: an environment without it
    message = _set_aside(report)["zqvcs-pkg"]
    # the user name stays or is masked by the run's redactor; the host and reason are named
    assert message.startswith("could not fetch zqvcs-pkg from git+ssh://")
    assert "@zq-nohost.invalid/repo.git: ssh: Could not resolve hostname" in message
