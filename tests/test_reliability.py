"""Kills, interrupts and concurrent runs: DIR/.venv is always a whole environment, old or new."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bulletproof.apply.generations import Store
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


def test_sigkill_at_random_moments_never_leaves_a_mixed_env(
    tmp_path: Path, python312: Path
) -> None:
    project = write_project(tmp_path / "proj", _requirements("1.0"))
    _run(project, "--python", "3.12")
    (project / "requirements.txt").write_text(_requirements("2.0"))
    start = time.monotonic()
    _run(project)
    full_run = time.monotonic() - start
    rng = random.Random(20261124)
    seen: dict[str, int] = {}
    for attempt in range(24):
        version = "1.0" if attempt % 2 == 0 else "2.0"
        (project / "requirements.txt").write_text(_requirements(version))
        child = _start(project, capture=False)
        time.sleep(rng.uniform(0, full_run * 1.1))
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        versions = _versions(project)  # DIR/.venv is usable after every kill...
        assert len(versions) == 1, f"mixed environment after kill {attempt}: {versions}"
        outcome = "new" if versions == {version} else "old"
        seen[outcome] = seen.get(outcome, 0) + 1
        if any(not g.complete for g in Store(project).generations()):
            seen["mid-build"] = seen.get("mid-build", 0) + 1
    # ...and the next run converges and leaves nothing half built
    print(f"24 kills over a {full_run:.2f} s run: env left {seen}")  # figures for the issue note
    assert seen.get("mid-build", 0) >= 3, "too few kills landed while a generation was being built"
    (project / "requirements.txt").write_text(_requirements("1.0"))
    _run(project)
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
