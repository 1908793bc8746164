"""Kills, interrupts and concurrent runs: DIR/.venv is always a whole environment, old or new."""

import contextlib
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


def _start(
    project: Path, *extra: str, capture: bool = True, launcher: Path | None = None
) -> subprocess.Popen[str]:
    pipe = subprocess.PIPE if capture else subprocess.DEVNULL
    program = [str(launcher)] if launcher else ["-m", "bulletproof"]
    return subprocess.Popen(
        [sys.executable, *program, "setup", str(project), *extra],
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


def _process_state(pid: int) -> str:
    """The state letter Linux gives the process (R, S, T for stopped, ...)."""
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return ""


def _current(project: Path) -> str:
    venv = project / ".venv"
    return venv.resolve().name if venv.is_symlink() else ""


# The last two moments last microseconds (between the marker and the switch link, between the
# link and its rename over DIR/.venv): no poll would see them. The child is run by this launcher,
# which stops it (SIGSTOP, to itself) on the audit event of the switch's link or its rename; the
# parent then sees the moment on disk and kills it there. Every earlier moment comes before the
# stop, so a run can never finish before its kill: a kill that does not land fails the test.
_LAUNCHER = """
import os, runpy, signal, sys

EVENT = {event!r}
NAMED = {named!r}

def _stop_at_the_switch(event, args):
    if event == EVENT and os.path.basename(os.fspath(args[1 if event == "os.symlink" else 0])
                                            ).startswith(NAMED):
        os.kill(os.getpid(), signal.SIGSTOP)

sys.addaudithook(_stop_at_the_switch)
# Ctrl-C as a terminal's foreground job gets it: a test run started in the background (CI's
# lanes) passes SIGINT on ignored, and Python then installs no handler of its own
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.argv[0] = "bulletproof"
runpy.run_module("bulletproof", run_name="__main__", alter_sys=True)
"""


def _stopping_launcher(folder: Path, point: str) -> Path:
    """os.symlink makes the switch's link (after the marker); os.rename is Path.replace's;
    os.mkdir of gen-0002, the new generation's folder, comes before anything is built in it."""
    event, named = {
        "switching": ("os.rename", ".venv.tmp-"),
        "building": ("os.mkdir", "gen-0002"),
    }.get(point, ("os.symlink", ".venv.tmp-"))
    launcher = folder / "stop_at_the_switch.py"
    launcher.write_text(_LAUNCHER.format(event=event, named=named))
    return launcher


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
    child = _start(project, capture=False, launcher=_stopping_launcher(tmp_path, point))
    deadline = time.monotonic() + 120
    gen = None
    try:
        while child.poll() is None and time.monotonic() < deadline:
            gen = _newest_generation(project)
            if gen is not None and gen.name == before:
                gen = None  # not the new one yet
            if reached(project, gen):
                break
            time.sleep(0.001)
        seen = reached(project, gen)
    finally:
        # always, so that a stopped child never outlives the test
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    assert seen, f"the run never reached {point!r} (exit {child.returncode})"
    # the kill landed: the child died of it, not of an exit of its own before it came
    assert child.returncode == -signal.SIGKILL, f"exit {child.returncode} before the kill"
    assert gen is not None
    # what a kill at that moment leaves: a new generation, complete only once it was marked;
    # DIR/.venv still the old one; the switch's link only when killed between link and rename
    assert (gen / MARKER).is_file() == (point in ("marked complete", "switching"))
    assert _current(project) == before
    assert bool(list(project.glob(".venv.tmp-*"))) == (point == "switching")
    versions = _versions(project)
    assert versions == {"1.0"}, f"mixed or switched environment after a kill at {point!r}"
    (project / "requirements.txt").write_text(_requirements("1.0"))
    assert _run(project) == 0
    assert _versions(project) == {"1.0"}
    _assert_no_leftovers(project)


def test_sigint_exits_130_and_keeps_the_env(tmp_path: Path, python312: Path) -> None:
    project = write_project(tmp_path / "proj", _requirements("1.0"))
    _run(project, "--python", "3.12")
    (project / "requirements.txt").write_text(_requirements("2.0"))
    # stopped (SIGSTOP, by itself) as it makes the new generation's folder, so that the Ctrl-C
    # lands while it builds however busy the machine is (a poll can miss a whole quick build)
    child = _start(project, launcher=_stopping_launcher(tmp_path, "building"))
    deadline = time.monotonic() + 60
    while _process_state(child.pid) != "T" and child.poll() is None:
        assert time.monotonic() < deadline, "the run never reached its new generation"
        time.sleep(0.005)
    os.killpg(child.pid, signal.SIGINT)  # what Ctrl-C does to the foreground process group
    os.killpg(child.pid, signal.SIGCONT)
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
