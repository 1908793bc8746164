"""The offline wheelhouse on a fresh Debian 12 system, with the network really cut: a small project
whose one dependency compiles against a system library (psycopg2 from its sdist: libpq-dev and a
compiler to build, libpq5 at run time) is set up online, its wheelhouse made (psycopg2 as a wheel
built here, libpq5 in the manifest); then the compiler and libpq5 are removed, and a second copy
is set up inside `unshare --net` (a network namespace with no interface): libpq5 is named as
missing with the command that installs it, nothing is compiled, and once libpq5 is back (from the
package file apt kept, still offline) the environment ends verified.

Needs root, debootstrap and the package registries; `make test` runs it (CI runs as root).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.fresh.system import CERTS, PATH, FreshSystem, fresh_system

pytestmark = [pytest.mark.fresh, pytest.mark.registry, pytest.mark.slow]

BULLETPROOF = "/opt/bulletproof/bin/bulletproof"
PYPROJECT = """\
[project]
name = "pgdemo"
version = "0.1.0"
requires-python = ">=3.9"
dependencies = ["psycopg2==2.9.10"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""


def _offline(
    system: FreshSystem, argv: Sequence[str], timeout: float = 1200
) -> subprocess.CompletedProcess[str]:
    """``argv`` in the system with no network at all: a new network namespace, no interface."""
    settings = [f"PATH={PATH}", "HOME=/root", "LANG=C.UTF-8", f"SSL_CERT_FILE={CERTS}"]
    command = ["unshare", "--net", "chroot", str(system.root), "/usr/bin/env", "-i", *settings]
    return subprocess.run(
        [*command, *argv], capture_output=True, text=True, timeout=timeout, check=False
    )


def _said(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n{done.stdout[-6000:]}\n{done.stderr[-4000:]}"


def _project(system: FreshSystem, inside: str) -> None:
    root = system.path(inside)
    (root / "pgdemo").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "pgdemo" / "__init__.py").write_text(
        "import psycopg2\n\nVERSION = psycopg2.__version__\n"
    )


def test_offline_setup_from_a_wheelhouse_with_the_network_cut(
    bulletproof_wheel: Path, tmp_path: Path
) -> None:
    with fresh_system("bookworm", tmp_path, bulletproof_wheel) as system:
        _project(system, "/work/one")
        online = system.run([BULLETPROOF, "setup", "/work/one", "--yes"], timeout=1800)
        assert online.returncode == 0, _said(online)
        made = system.run(
            [BULLETPROOF, "wheelhouse", "/work/one", "--out", "/work/house"], timeout=1800
        )
        assert made.returncode == 0, _said(made)
        manifest = json.loads(system.path("/work/house/bulletproof-wheelhouse.json").read_text())
        psycopg2 = [f for f in manifest["files"] if f["name"] == "psycopg2"]
        assert [f["origin"] for f in psycopg2] == ["built here"], manifest["files"]
        assert "libpq5" in manifest["system_packages"], manifest
        assert manifest["target"]["os"] == {"id": "debian", "version": "12"}
        assert not list(system.path("/work/house").glob("*.tar.gz"))

        # the environment as it stands, before the system loses libpq5 (for `diff` below)
        before = system.run([BULLETPROOF, "verify", "/work/one", "--json", "/work/before.json"])
        assert before.returncode == 0, _said(before)

        # the other end: no compiler, no libpq5, no network, the project as the team has it
        system.must(["apt-get", "remove", "-y", "-q", "gcc", "libpq5"])
        _diff_names_the_missing_system_package(system)
        _project(system, "/work/two")
        first = _offline(system, [BULLETPROOF, "setup", "/work/two", "--wheelhouse", "/work/house"])
        said = " ".join((first.stdout + first.stderr).split())
        assert "missing system packages the environment needs at run time: libpq5" in said, _said(
            first
        )
        assert "apt-get install" in said.split("at run time: libpq5", 1)[1], _said(first)
        assert first.returncode != 0, _said(first)  # psycopg2 cannot load libpq.so.5

        # libpq5 back from the package file apt kept, still offline; then verified
        debs = sorted(system.path("/var/cache/apt/archives").glob("libpq5_*.deb"))
        assert debs, "apt kept no libpq5 package file"
        back = _offline(system, ["dpkg", "-i", f"/var/cache/apt/archives/{debs[-1].name}"])
        assert back.returncode == 0, _said(back)
        second = _offline(
            system,
            [BULLETPROOF, "setup", "/work/two", "--offline", "--wheelhouse", "/work/house"],
        )
        assert second.returncode == 0, _said(second)
        assert "verified" in second.stdout, _said(second)
        imported = _offline(
            system, ["sh", "-c", "cd /work/two && .venv/bin/python -c 'import pgdemo'"]
        )
        assert imported.returncode == 0, _said(imported)
        lock = system.path("/work/two/pylock.toml").read_text()
        assert lock == system.path("/work/one/pylock.toml").read_text()
        assert "/work/house" not in lock


def _diff_names_the_missing_system_package(system: FreshSystem) -> None:
    """`diff` between the same environment before and after the system lost libpq5, both real:
    the system package is a row with nothing to explain it, and so is the broken verdict."""
    after = system.run([BULLETPROOF, "verify", "/work/one", "--json", "/work/after.json"])
    assert after.returncode != 0, _said(after)  # psycopg2 cannot load libpq.so.5 now
    argv = ["diff", "/work/before.json", "/work/after.json", "--json", "/work/diff.json"]
    done = system.run([BULLETPROOF, *argv])
    assert done.returncode == 1, _said(done)  # something differs that nothing explains
    rows = json.loads(system.path("/work/diff.json").read_text())["diff"]["differences"]
    gone = [r for r in rows if r["section"] == "system package" and r["subject"] == "libpq5"]
    assert gone and gone[0]["unexplained"] and gone[0]["right"] == "", rows
    assert any(r["section"] == "verdict" for r in rows), rows
    assert "libpq5" in done.stdout, _said(done)
