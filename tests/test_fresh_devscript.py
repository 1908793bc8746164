"""The dev-setup script from nothing: on a fresh Debian 12 and a fresh Debian 13 system (only
python3 and python3-venv; the harness's own bulletproof removed first), the script that
`generate script` wrote, with this repository's wheel beside it, installs bulletproof and leads
to a verified environment whose tests pass: for the example project (its Python passed through,
since it records 3.12; its Rust core built through setup, the toolchain and crate installed from
the release's packages, and proved in use) and for a shared real project of that release, which
reuses the bulletproof the first run installed. A second run changes nothing and is quick.

Needs root, debootstrap and the package registries; `make test` runs it (CI runs as root)."""

from __future__ import annotations

import json
import shutil
import tarfile
import time
from pathlib import Path

import pytest

from bulletproof.cli import main
from tests.fixtures.projects import BUILT
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
        ignore=shutil.ignore_patterns(".venv*", ".bulletproof", "*.db", "scripts", *BUILT),
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
        _rust_core_built_and_in_use(system, example, said)

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


def _rust_core_built_and_in_use(system: FreshSystem, example: str, said: str) -> None:
    """The example's Rust core went through setup on a system that had no Rust: the toolchain
    and the crate it builds against installed from the release's packages (crates.io is out of
    reach: cargo reads the system's crate registry), the compiled module the one in use, and
    faster than its fallback as measured."""
    for package in ("cargo", "rustc", "librust-pyo3-ffi-dev"):
        assert system.run(["dpkg", "-s", package]).returncode == 0, f"{package} not installed"
    assert "CARGO_HOME=" in said, said[-8000:]  # the fix, said as it was made
    (tool,) = system.path("/root/.local/share/bulletproof").glob("*/bin/bulletproof")
    inside = "/" + str(tool.relative_to(system.root))
    done = system.run([inside, "verify", example, "--json", "/work/verify.json"])
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(system.path("/work/verify.json").read_text())
    (core,) = report["verification"]["accelerated"]
    assert (core["compiled"], core["state"]) == ("code_engine._native", "in use"), core
    (timed,) = core["benchmarks"]
    assert timed["ratio"] > 1 and not timed["problem"], timed
    print(f"{system.suite}: count_tokens {timed['ratio']}x the fallback's speed")
