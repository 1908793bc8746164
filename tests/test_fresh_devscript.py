"""The dev-setup script from nothing: on a fresh Debian 12 and a fresh Debian 13 system (only
python3 and python3-venv; the harness's own bulletproof removed first), the script that
`generate script` wrote, with this repository's wheel beside it, installs bulletproof and leads
to a verified environment whose tests pass: for the example project (its Python passed through,
since it records 3.12) and for a shared real project of that release, which reuses the
bulletproof the first run installed. A second run changes nothing and is quick.

Needs root, debootstrap and the package registries; `make test` runs it (CI runs as root)."""

from __future__ import annotations

import shutil
import tarfile
import time
from pathlib import Path

import pytest

from bulletproof.cli import main
from tests.fresh.system import REPO, FreshSystem, fresh_system

pytestmark = [pytest.mark.fresh, pytest.mark.registry, pytest.mark.slow]

EXAMPLE = REPO / "examples" / "code-engine"
SHARED = REPO.parent / "shared" / "cases" / "projects"
SIGNING_KEY = "a-test-signing-key-of-32-bytes-or-more"  # the example's code requires JWT_SECRET
SCRIPT = "scripts/dev-setup.sh"
# the release's own interpreter, and a small shared project of that release
SUITES = {"bookworm": ("3.11", "aiosignal"), "trixie": ("3.13", "stella")}


def _example(system: FreshSystem) -> str:
    inside = "/work/code-engine"
    shutil.copytree(
        EXAMPLE,
        system.path(inside),
        ignore=shutil.ignore_patterns(".venv*", ".bulletproof", "*.db", "scripts"),
    )
    system.path(inside).joinpath(".env").write_text(f"JWT_SECRET={SIGNING_KEY}\n")
    return inside


def _shared(system: FreshSystem, name: str) -> str:
    archive = SHARED / f"{name}.tar.gz"
    if not archive.is_file():
        pytest.fail(f"{archive} is not beside the repository")
    inside = f"/work/{name}"
    system.path(inside).mkdir(parents=True)
    with tarfile.open(archive) as opened:
        opened.extractall(system.path(inside), filter="data")
    return inside


def _run_script(system: FreshSystem, inside: str, *args: str) -> tuple[int, str, float]:
    started = time.monotonic()
    done = system.run(["sh", f"{inside}/{SCRIPT}", *args], timeout=1800)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_the_script_alone_leads_to_a_verified_environment(
    suite: str, bulletproof_wheel: Path, tmp_path: Path
) -> None:
    python, shared = SUITES[suite]
    # only the script may install bulletproof here: the system has python3 and python3-venv
    with fresh_system(suite, tmp_path, bulletproof_wheel, install=False) as system:
        assert not system.path("/opt/bulletproof").exists()
        example = _example(system)
        project = _shared(system, shared)
        for inside in (example, project):
            written = ["generate", "script", str(system.path(inside)), "-q"]
            assert main([*written, "--tool-source", str(bulletproof_wheel)]) == 0

        code, said, first = _run_script(system, example, "--yes", "--python", python)
        assert code == 0, said[-8000:]
        assert "(sha256 checked)" in said and "is verified and its tests pass" in said, said
        generation = system.path(example).joinpath(".venv").readlink()

        code, said, again = _run_script(system, example, "--yes", "--python", python)
        assert code == 0, said[-8000:]
        assert "is installed already" in said and "unchanged" in said, said[-4000:]
        assert system.path(example).joinpath(".venv").readlink() == generation

        code, said, other = _run_script(system, project, "--yes")
        assert code in (0, 4), said[-8000:]  # verified, or usable: what its code imports works
        assert "is installed already" in said and "dev-setup: done" in said, said[-4000:]
        print(  # the figures for the record (pytest -s)
            f"{suite}: example from nothing {first:.0f} s, again {again:.1f} s; "
            f"{shared} with bulletproof there {other:.0f} s"
        )
        assert again < 60, f"a second run took {again:.0f} s"
