"""The offline wheelhouse on this host, with real uv, real interpreters and the network really cut
(`unshare --net`: a network namespace with no interfaces, as root): each project is set up
online, its wheelhouse made, then a fresh copy set up from the wheelhouse alone, with an empty
uv cache, ending as the online one did. A package built here from an sdist lands in the house as
a built wheel and installs offline; a changed file, a house made for another target and a
missing run-time system package are each named.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bulletproof.errors import InputError
from bulletproof.host.osinfo import detect_libc
from bulletproof.host.pythons import query
from bulletproof.lockfile.lock import UV_RESOLUTION_VARS
from bulletproof.wheelhouse.manifest import HouseFile, HouseTarget, Manifest
from bulletproof.wheelhouse.serve import House, check_target
from tests.conftest import need_python, not_here, only_from
from tests.fixtures.projects import example_copy, shared_project
from tests.fixtures.wheels import make_sdist, make_wheel

MANIFEST = "bulletproof-wheelhouse.json"
EXIT_VERIFIED, EXIT_USABLE, EXIT_INPUT = 0, 4, 2


def _can_cut_network() -> bool:
    try:
        done = subprocess.run(["unshare", "--net", "true"], capture_output=True, check=False)
    except FileNotFoundError:
        return False
    return done.returncode == 0


def _env(base: Path) -> dict[str, str]:
    """The subprocess's environment: no index settings from the shell, a cache of the tests'."""
    env = {k: v for k, v in os.environ.items() if k not in UV_RESOLUTION_VARS}
    for name in ("UV_OFFLINE", "UV_CONFIG_FILE", "VIRTUAL_ENV", "PYTHONPATH"):
        env.pop(name, None)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["XDG_CACHE_HOME"] = str(base / "xdg-cache")
    env["COLUMNS"] = "200"
    return env


def bulletproof(
    *args: str, env: dict[str, str], offline: bool = False, timeout: float = 1800
) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own; ``offline``: in a network namespace with no interfaces."""
    command = [sys.executable, "-m", "bulletproof", *args]
    if offline:
        command = ["unshare", "--net", *command]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _said(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"


@dataclass(frozen=True)
class Proved:
    """A project set up online, its wheelhouse, and a fresh copy set up from it offline."""

    online: Path
    house: Path
    offline: Path
    online_code: int
    offline_run: subprocess.CompletedProcess[str]
    env: dict[str, str]

    @property
    def manifest(self) -> dict[str, object]:
        data: dict[str, object] = json.loads((self.house / MANIFEST).read_text())
        return data


def _prove(
    base: Path,
    copy: Callable[[Path], Path],
    env: dict[str, str],
    *,
    setup_args: tuple[str, ...] = (),
) -> Proved:
    """``copy(folder)`` puts a fresh copy of the project in that (new) folder, and says where."""
    (base / "online").mkdir()
    (base / "fresh").mkdir()
    online, fresh, house = copy(base / "online"), copy(base / "fresh"), base / "house"
    first = bulletproof("setup", str(online), "--yes", *setup_args, env=env)
    assert first.returncode in (EXIT_VERIFIED, EXIT_USABLE), _said(first)
    made = bulletproof("wheelhouse", str(online), "--out", str(house), env=env)
    assert made.returncode == 0, _said(made)
    assert "wrote the wheelhouse" in made.stdout, _said(made)
    cold = {**env, "UV_CACHE_DIR": str(base / "empty-uv-cache")}  # nothing from uv's cache
    offline = bulletproof(
        "setup", str(fresh), "--offline", "--wheelhouse", str(house), env=cold, offline=True
    )
    return Proved(online, house, fresh, first.returncode, offline, cold)


def _check_offline_like_online(proved: Proved) -> None:
    run = proved.offline_run
    assert run.returncode == proved.online_code, _said(run)
    # the team's lock, as the wheelhouse was made from it: never one naming the wheelhouse
    lock = (proved.offline / "pylock.toml").read_text()
    assert lock == (proved.online / "pylock.toml").read_text()
    assert str(proved.house) not in lock
    again = bulletproof("verify", str(proved.offline), env=proved.env, offline=True)
    assert again.returncode == proved.online_code, _said(again)


@pytest.fixture(scope="module", autouse=True)
def _network_can_be_cut() -> None:
    if not _can_cut_network():
        not_here("`unshare --net` is refused here (it needs root): the network cannot be cut")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Proved:
    need_python("3.12")
    base = tmp_path_factory.mktemp("example")

    return _prove(base, example_copy, _env(base))


@pytest.fixture(scope="module")
def plaster(tmp_path_factory: pytest.TempPathFactory) -> Proved:
    base = tmp_path_factory.mktemp("plaster")
    return _prove(base, lambda w: shared_project(w, "plaster_pastedeploy"), _env(base))


@pytest.fixture(scope="module")
def stella(tmp_path_factory: pytest.TempPathFactory) -> Proved:
    base = tmp_path_factory.mktemp("stella")
    return _prove(base, lambda w: shared_project(w, "stella"), _env(base))


def test_the_example_sets_up_offline_from_its_wheelhouse(example: Proved) -> None:
    _check_offline_like_online(example)
    manifest = example.manifest
    target = manifest["target"]
    assert isinstance(target, dict)
    assert target["python"].startswith("3.12.")
    assert target["implementation"] == "cpython"
    assert target["libc"]["name"] == "glibc"
    files = manifest["files"]
    assert isinstance(files, list)
    origins = {f["origin"] for f in files}
    assert origins >= {"index", "build tool"}  # maturin, which builds its Rust core editable
    names = {f["name"] for f in files if f["origin"] == "build tool"}
    assert "maturin" in names | {f["name"] for f in files if f["origin"] == "index"}
    assert "libc6" in manifest["system_packages"]  # type: ignore[operator]
    # the project's own package was built editable offline: not left on the path
    assert "own package" not in example.offline_run.stdout, _said(example.offline_run)


def test_a_setup_cfg_project_sets_up_offline(plaster: Proved) -> None:
    _check_offline_like_online(plaster)
    files = plaster.manifest["files"]
    assert isinstance(files, list)
    assert "setuptools" in {f["name"] for f in files}  # its build backend


def test_a_pipfile_project_sets_up_offline(stella: Proved) -> None:
    _check_offline_like_online(stella)
    files = stella.manifest["files"]
    assert isinstance(files, list)
    assert not [f for f in files if f["origin"] == "build tool"]  # no package: nothing to build


# --- a package only an sdist provides, from a local index -------------------------------------


@pytest.fixture(scope="module")
def from_sdist(tmp_path_factory: pytest.TempPathFactory) -> Proved:
    """A project needing `fromsource` (the tests' wheelhouse has only its sdist) and `good`."""
    python = need_python("3.12")
    base = tmp_path_factory.mktemp("from-sdist")
    house = _index_of(tmp_path_factory)
    patch = pytest.MonkeyPatch()
    env = _env(base)
    try:
        only_from(patch, house)
        for name in ("UV_INDEX_URL", "UV_NO_INDEX", "UV_FIND_LINKS"):
            env[name] = os.environ[name]
    finally:
        patch.undo()

    def copy(folder: Path) -> Path:
        (folder / "requirements.txt").write_text("fromsource==1.0\ngood==2.0\n")
        return folder

    return _prove(base, copy, env, setup_args=("--python", str(python)))


def _index_of(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("index")
    make_wheel(index, "good", "2.0", {"good/__init__.py": "VERSION = '2.0'\n"})
    make_sdist(index, "fromsource", "1.0", {"fromsource/__init__.py": "BUILT = True\n"})
    return index


def test_an_sdist_lands_as_a_wheel_built_here_and_installs_offline(from_sdist: Proved) -> None:
    _check_offline_like_online(from_sdist)
    files = from_sdist.manifest["files"]
    assert isinstance(files, list)
    built = [f for f in files if f["name"] == "fromsource"]
    assert [f["origin"] for f in built] == ["built here"], files
    assert built[0]["file"].endswith(".whl")
    assert not list(from_sdist.house.glob("*.tar.gz"))  # never an sdist to build at the other end
    imported = subprocess.run(
        [str(from_sdist.offline / ".venv" / "bin" / "python"), "-c", "import fromsource"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr


def _copy_house(proved: Proved, into: Path) -> Path:
    house = into / "house"
    shutil.copytree(proved.house, house)
    return house


def _fresh(proved: Proved, into: Path) -> Path:
    fresh = into / "project"
    fresh.mkdir(parents=True)
    shutil.copy(proved.online / "requirements.txt", fresh / "requirements.txt")
    return fresh


def test_a_changed_file_is_refused_naming_it(from_sdist: Proved, tmp_path: Path) -> None:
    house = _copy_house(from_sdist, tmp_path)
    wheel = next(house.glob("good-*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    done = bulletproof(
        "setup", str(_fresh(from_sdist, tmp_path)), "--offline", "--wheelhouse", str(house),
        env=from_sdist.env, offline=True,
    )  # fmt: skip
    assert done.returncode == EXIT_INPUT, _said(done)
    assert wheel.name in done.stderr and "does not match its manifest" in done.stderr, _said(done)
    assert not (tmp_path / "project" / ".venv").exists()


def test_a_house_for_another_interpreter_is_refused_naming_it(
    from_sdist: Proved, tmp_path: Path
) -> None:
    python311 = need_python("3.11")
    done = bulletproof(
        "setup", str(_fresh(from_sdist, tmp_path)), "--offline", "--wheelhouse",
        str(from_sdist.house), "--python", str(python311), env=from_sdist.env, offline=True,
    )  # fmt: skip
    assert done.returncode == EXIT_INPUT, _said(done)
    message = " ".join(done.stderr.split())
    assert "the wheelhouse was made for CPython 3.12 on" in message, _said(done)
    assert "this target is CPython 3.11" in message, _said(done)


def test_a_house_for_another_libc_is_refused_naming_it(from_sdist: Proved, tmp_path: Path) -> None:
    house = _copy_house(from_sdist, tmp_path)
    manifest = json.loads((house / MANIFEST).read_text())
    manifest["target"]["libc"] = {"name": "musl", "version": "1.2.4"}
    (house / MANIFEST).write_text(json.dumps(manifest))
    done = bulletproof(
        "setup", str(_fresh(from_sdist, tmp_path)), "--offline", "--wheelhouse", str(house),
        env=from_sdist.env, offline=True,
    )  # fmt: skip
    assert done.returncode == EXIT_INPUT, _said(done)
    message = " ".join(done.stderr.split())
    assert "made for CPython 3.12 on x86_64 musl 1.2.4" in message, _said(done)
    assert "this target is glibc" in message, _said(done)


def test_a_missing_run_time_system_package_is_named_and_the_run_goes_on(
    from_sdist: Proved, tmp_path: Path
) -> None:
    house = _copy_house(from_sdist, tmp_path)
    manifest = json.loads((house / MANIFEST).read_text())
    absent = "libbulletproof-never-installed0"
    manifest["system_packages"] = [*manifest["system_packages"], absent]
    (house / MANIFEST).write_text(json.dumps(manifest))
    done = bulletproof(
        "setup", str(_fresh(from_sdist, tmp_path)), "--offline", "--wheelhouse", str(house),
        env=from_sdist.env, offline=True,
    )  # fmt: skip
    assert done.returncode == from_sdist.online_code, _said(done)
    said = " ".join((done.stdout + done.stderr).split())
    assert f"missing system packages the environment needs at run time: {absent}" in said, said
    assert f"apt-get install -y {absent}" in said or absent in said.split("once online:")[1]
    assert "libc6" not in said.split("at run time:")[1].split("(")[0]  # installed: not named


def test_the_out_folder_of_someone_else_is_never_written(
    from_sdist: Proved, tmp_path: Path
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine\n")
    done = bulletproof(
        "wheelhouse", str(from_sdist.online), "--out", str(theirs), env=from_sdist.env
    )
    assert done.returncode == EXIT_INPUT, _said(done)
    assert "not a bulletproof wheelhouse" in " ".join(done.stderr.split()), _said(done)
    assert sorted(p.name for p in theirs.iterdir()) == ["notes.txt"]


def test_an_earlier_wheelhouse_holding_a_file_it_did_not_make_is_left_as_it_is(
    from_sdist: Proved, tmp_path: Path
) -> None:
    earlier = tmp_path / "earlier"
    shutil.copytree(from_sdist.house, earlier)
    (earlier / "notes.txt").write_text("mine\n")
    before = sorted(p.name for p in earlier.iterdir())
    done = bulletproof(
        "wheelhouse", str(from_sdist.online), "--out", str(earlier), env=from_sdist.env
    )
    assert done.returncode == EXIT_INPUT, _said(done)
    assert "what it did not make (notes.txt)" in " ".join(done.stderr.split()), _said(done)
    assert sorted(p.name for p in earlier.iterdir()) == before
    assert (earlier / "notes.txt").read_text() == "mine\n"


def test_a_project_never_set_up_is_told_to_run_setup(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("good==2.0\n")
    done = bulletproof("wheelhouse", str(project), env=_env(tmp_path))
    assert done.returncode == EXIT_INPUT, _said(done)
    assert "bulletproof setup" in " ".join(done.stderr.split()), _said(done)


def test_offline_alone_sets_up_from_uv_cache(from_sdist: Proved, tmp_path: Path) -> None:
    """--offline without a wheelhouse, the network cut: the lock reused, every uv call offline
    (this project's packages come from a local folder, so uv's cache is not all it could use)."""
    fresh = _fresh(from_sdist, tmp_path)
    shutil.copy(from_sdist.online / "pylock.toml", fresh / "pylock.toml")
    warm = {k: v for k, v in from_sdist.env.items() if k != "UV_CACHE_DIR"}
    done = bulletproof("setup", str(fresh), "--offline", env=warm, offline=True)
    assert done.returncode == from_sdist.online_code, _said(done)


def test_a_wheel_built_against_a_newer_libc_is_refused(tmp_path: Path) -> None:
    """A wheel built here links against this C library: an older one cannot run it. A pure one
    built here, or a manylinux one from the index, is judged by its tags alone."""
    interpreter = query(need_python("3.12"), "given")
    assert interpreter is not None
    here = detect_libc()
    newer = ".".join([here.version.split(".")[0], "999"])

    def house(*files: HouseFile) -> House:
        target = HouseTarget(
            "cpython", interpreter.version, os.uname().machine, here.name, newer, "debian", "12",
            ("cp312-cp312-linux_x86_64",),
        )  # fmt: skip
        return House(tmp_path, Manifest("0", "now", "p", target, files, (), ()))

    built = HouseFile("cext-1.0-cp312-cp312-linux_x86_64.whl", "cext", "1.0", "0", "built here")
    pure = HouseFile("good-2.0-py3-none-any.whl", "good", "2.0", "0", "built here")
    with pytest.raises(InputError, match=f"older than the {newer} cext-1.0"):
        check_target(house(built, pure), interpreter)
    check_target(house(pure), interpreter)  # nothing bound to the C library: accepted
