"""Acceptance on fresh Debian 12 and 13 systems (debootstrap): for every public case of kind
"build", on both releases, doctor predicts the build and names this release's packages before
anything is installed, and `setup --yes` ends with a verified environment whose modules import;
every other public case (runtime, pin, mixed, the seed plan's set) does the same on its own
release; and a package no signature or table names is fixed through the distro's file index.

Needs root, debootstrap and the package registries; `make test` runs it (CI runs as root).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bulletproof.tomlcompat import tomllib
from tests.fresh.system import FreshSystem, fresh_system

pytestmark = [pytest.mark.fresh, pytest.mark.registry, pytest.mark.slow]

CASES = tomllib.loads((Path(__file__).parent / "fresh/public-cases.toml").read_text())["case"]
BUILD_CASES = [c for c in CASES if c["kind"] == "build"]
OTHER_CASES = [c for c in CASES if c["kind"] != "build"]
PYTHON = {"bookworm": "3.11", "trixie": "3.13"}
PKG_CONFIG = {"bookworm": "pkg-config", "trixie": "pkgconf"}
# What a person who knows Debian would install for each case: the oracle doctor is held to.
EXPECTED = {
    "p-psycopg2": ("gcc", "libc6-dev", "python{py}-dev", "libpq-dev"),
    "p-mysqlclient": ("gcc", "python{py}-dev", "default-libmysqlclient-dev", "{pkgconfig}"),
    "p-pyyaml-cython3": ("gcc", "python{py}-dev"),
    "p-pyaudio": ("gcc", "python{py}-dev", "portaudio19-dev"),
}


def _case_dir(system: FreshSystem, case: Mapping[str, Any]) -> None:
    folder = system.path("/work/case")
    folder.mkdir(parents=True)
    requirements = case["requirements"]
    assert isinstance(requirements, list)
    (folder / "requirements.txt").write_text("\n".join(requirements) + "\n")


@pytest.mark.parametrize("suite", ["bookworm", "trixie"])
@pytest.mark.parametrize("case", BUILD_CASES, ids=[c["id"] for c in BUILD_CASES])
def test_build_case_on_fresh_debian(
    suite: str, case: dict[str, Any], bulletproof_wheel: Path, tmp_path: Path
) -> None:
    with fresh_system(suite, tmp_path, bulletproof_wheel) as system:
        _case_dir(system, case)
        bp = "/opt/bulletproof/bin/bulletproof"

        doctor = system.run([bp, "doctor", "/work/case", "--json", "/work/doctor.json"])
        assert doctor.returncode in (0, 1), doctor.stderr
        report = json.loads(system.path("/work/doctor.json").read_text())["diagnosis"]
        ids = {f["id"] for f in report["findings"]}
        for requirement in case["requirements"]:
            name = str(requirement).split("==")[0].lower()
            assert f"build:{name}" in ids, f"doctor did not predict the build of {name}: {ids}"
        missing = set(report["system"]["missing"])
        wanted = {
            p.format(py=PYTHON[suite], pkgconfig=PKG_CONFIG[suite]) for p in EXPECTED[case["id"]]
        }
        assert wanted <= missing, f"doctor missed {wanted - missing} on {suite}"
        # every name it proposes exists on this release (asked of apt, not of bulletproof)
        policy = system.must(["apt-cache", "policy", *sorted(missing)])
        assert "Candidate: (none)" not in policy
        assert policy.count("Candidate:") == len(missing), policy
        assert not system.path("/work/case/pylock.toml").exists(), "doctor changed the project"

        _setup_verifies(system, case)
        installed = system.must(["dpkg-query", "--show", "--showformat=${Package}\\n"]).split()
        assert wanted <= set(installed)


def _setup_verifies(system: FreshSystem, case: dict[str, Any]) -> dict[str, Any]:
    """`setup /work/case --yes` ends verified (exit 0), or usable (exit 4: every failure left is
    listed as one no environment change fixes, e.g. an optional submodule), and every listed
    module imports."""
    bp = "/opt/bulletproof/bin/bulletproof"
    setup = system.run([bp, "setup", "/work/case", "--yes", "--json", "/work/setup.json"])
    assert setup.returncode in (0, 4), (
        f"setup failed on {system.suite}:\n{setup.stdout}\n{setup.stderr[-4000:]}"
    )
    result: dict[str, Any] = json.loads(system.path("/work/setup.json").read_text())
    verification = result["verification"]
    assert verification["verdict"] == ("verified" if setup.returncode == 0 else "usable")
    kinds = {j["kind"] for j in verification["judged"]}
    assert not kinds & {"broken", "undeclared"}, verification["judged"]
    for module in case["imports"]:
        system.must(["/work/case/.venv/bin/python", "-c", f"import {module}"])
    return result


@pytest.mark.parametrize("case", OTHER_CASES, ids=[c["id"] for c in OTHER_CASES])
def test_case_on_its_own_fresh_debian(
    case: dict[str, Any], bulletproof_wheel: Path, tmp_path: Path
) -> None:
    with fresh_system(case["suite"], tmp_path, bulletproof_wheel) as system:
        _case_dir(system, case)
        result = _setup_verifies(system, case)
        if case["kind"] == "pin":  # the pin moved in the lock, never in the user's file
            moved = [a for a in result["mitigation"] if a["fix"] and a["fix"]["kind"] == "pin"]
            assert moved and moved[-1]["outcome"] == "fixed", result["mitigation"]
            lock = system.path("/work/case/pylock.toml").read_text()
            assert "[[tool.bulletproof.moved-pins]]" in lock
            wanted = "\n".join(case["requirements"]) + "\n"
            assert system.path("/work/case/requirements.txt").read_text() == wanted


def test_file_index_fixes_a_package_nothing_names(bulletproof_wheel: Path, tmp_path: Path) -> None:
    """pylibdmtx is in no table and no signature names it: a project that reads Data Matrix
    labels fails at import with only "Unable to find dmtx shared library"; the resolver searches
    the archive's Contents index for libdmtx.so* and installs the package that has it."""
    with fresh_system("bookworm", tmp_path, bulletproof_wheel) as system:
        project = system.path("/work/case")
        (project / "labels").mkdir(parents=True)
        (project / "pyproject.toml").write_text(
            '[project]\nname = "labels"\nversion = "0.1"\ndependencies = ["pylibdmtx==0.1.10"]\n'
        )
        (project / "labels" / "__init__.py").write_text("from pylibdmtx import pylibdmtx\n")
        result = _setup_verifies(system, {"imports": ["pylibdmtx.pylibdmtx"]})
        fixed = [a for a in result["mitigation"] if a["outcome"] == "fixed"]
        # the project and pylibdmtx's own submodule fail the same way: one fix answers both
        assert {(a["package"], a["fix"]["kind"], a["fix"]["value"]) for a in fixed} == {
            ("labels", "system", "libdmtx0b"),
            ("pylibdmtx", "system", "libdmtx0b"),
        }
        assert "Unable to find dmtx shared library" in fixed[0]["evidence"][0]
