"""Kills, interrupts and concurrent runs: DIR/.venv is always a whole environment, old or new."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bulletproof.apply.generations import MARKER, Store
from tests.conftest import write_project

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_index")]

PACKAGES = ("pkga", "pkgb", "pkgc")


def _requirements(version: str) -> str:
    return "".join(f"{p}=={version}\n" for p in PACKAGES)


def _start(project: Path, *extra: str, capture: bool = True) -> subprocess.Popen[str]:
    pipe = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "bulletproof", "setup", str(project), *extra],
        stdout=pipe,
        stderr=pipe,
        text=True,
        start_new_session=True,
    )


def _run(project: Path, *extra: str) -> int:
    child = _start(project, *extra)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, out + err
    return child.returncode


def _versions(project: Path) -> set[str]:
    """The versions DIR/.venv's interpreter imports; one value when the env is whole."""
    names = ", ".join(PACKAGES)
    done = subprocess.run(
        [
            str(project / ".venv" / "bin" / "python"),
            "-c",
            f"import {names}; print(' '.join(m.VERSION for m in ({names},)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(done.stdout.split())


def _assert_no_leftovers(project: Path) -> None:
    store = Store(project)
    assert all(g.complete for g in store.generations())
    assert not store.trash.exists()
    assert not list(project.glob(".venv.tmp-*"))


def _newest_generation(project: Path) -> Path | None:
    found = sorted((project / ".bulletproof" / "generations").glob("gen-*"))
    return found[-1] if found else None


def _site(gen: Path) -> Path | None:
    return next(iter(gen.glob("lib/python*/site-packages")), None)


# Moments a kill must be survived at, each seen on disk as it happens (polled every ms): the new
# generation's folder made; its interpreter there; the first of the new packages installed in
# it; every one installed (verification running); it marked complete; the switch's symlink made.
KILL_POINTS: dict[str, Callable[[Path, Path | None], bool]] = {
    "folder made": lambda p, gen: gen is not None and gen.name != _current(p),
    "venv made": lambda p, gen: gen is not None and (gen / "bin" / "python").exists(),
    "installing": lambda p, gen: (
        gen is not None and (site := _site(gen)) is not None and any(site.glob("pkg*-*.dist-info"))
    ),
    "installed": lambda p, gen: (
        gen is not None
        and (site := _site(gen)) is not None
        and len(list(site.glob("pkg*-*.dist-info"))) == len(PACKAGES)
    ),
    "marked complete": lambda p, gen: gen is not None and (gen / MARKER).is_file(),
    "switching": lambda p, gen: any(p.glob(".venv.tmp-*")),
}


def _current(project: Path) -> str:
    venv = project / ".venv"
    return venv.resolve().name if venv.is_symlink() else ""


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkill_at_each_moment_never_leaves_a_mixed_env(
    tmp_path: Path, python312: Path, point: str
) -> None:
    """SIGKILL at each interruption point of a setup that moves 1.0 -> 2.0: DIR/.venv is whole
    (one version) after the kill, and the next run converges and leaves nothing half built."""
    project = write_project(tmp_path / "proj", _requirements("1.0"))
    _run(project, "--python", "3.12")
    before = _current(project)
    (project / "requirements.txt").write_text(_requirements("2.0"))
    reached = KILL_POINTS[point]
    child = _start(project, capture=False)
    deadline = time.monotonic() + 120
    landed = False
    while child.poll() is None and time.monotonic() < deadline:
        gen = _newest_generation(project)
        if gen is not None and gen.name == before:
            gen = None  # not the new one yet
        if reached(project, gen):
            os.killpg(child.pid, signal.SIGKILL)
            landed = True
            break
        time.sleep(0.001)
    child.wait()
    print(f"kill at {point!r}: {'landed' if landed else 'passed between two polls'}")
    if not landed:  # the moment passed between two polls: the run finished; still whole
        assert child.returncode == 0
    versions = _versions(project)
    assert len(versions) == 1, f"mixed environment after a kill at {point!r}: {versions}"
    if landed and point not in ("marked complete", "switching"):
        assert versions == {"1.0"}, f"switched before verification finished ({point!r})"
    (project / "requirements.txt").write_text(_requirements("1.0"))
    assert _run(project) == 0
    assert _versions(project) == {"1.0"}
    _assert_no_leftovers(project)


def test_sigint_exits_130_and_keeps_the_env(tmp_path: Path, python312: Path) -> None:
    project = write_project(tmp_path / "proj", _requirements("1.0"))
    _run(project, "--python", "3.12")
    (project / "requirements.txt").write_text(_requirements("2.0"))
    child = _start(project)
    generations = project / ".bulletproof" / "generations"
    deadline = time.monotonic() + 60
    while not (generations / "gen-0002").exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(child.pid, signal.SIGINT)  # what Ctrl-C does to the foreground process group
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert _versions(project) == {"1.0"}
    _assert_no_leftovers(project)


def test_two_concurrent_runs_never_mix(tmp_path: Path, python312: Path) -> None:
    project = write_project(tmp_path / "proj", _requirements("1.0"))
    _run(project, "--python", "3.12")
    (project / "requirements.txt").write_text(_requirements("2.0"))
    first, second = _start(project), _start(project)
    results = [p.communicate(timeout=120) for p in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), results
    assert any("waiting" in err for _, err in results)
    assert _versions(project) == {"2.0"}
    assert len(Store(project).generations()) == 2  # one new generation, not two
    _assert_no_leftovers(project)
