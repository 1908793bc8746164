"""Acceptance on real projects of every shape (../shared/cases/projects/, third-party code used
unmodified as test data), each on a fresh Debian system of its suite, as an unpacked archive and
as a clone would have it (`git init && git add -A && git commit`): `bulletproof setup DIR --yes`
delivers a usable or verified environment, every listed module imports from the project folder,
and the test suite's collection has no import error.

Needs root, debootstrap and the package registries; `make test` runs it (CI runs as root).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from bulletproof.tomlcompat import tomllib
from tests.fresh.system import REPO, FreshSystem, fresh_system

pytestmark = [pytest.mark.fresh, pytest.mark.registry, pytest.mark.slow]

PROJECTS_DIR = REPO.parent / "shared" / "cases" / "projects"
PROJECTS: list[dict[str, Any]] = (
    tomllib.loads((PROJECTS_DIR / "projects.toml").read_text())["project"]
    if (PROJECTS_DIR / "projects.toml").exists()
    else []
)
EXIT_VERIFIED, EXIT_USABLE = 0, 4
# a dependency taken out to see its tests become environment failures: distribution, module
REMOVED = {"plaster_pastedeploy": ("plaster", "plaster"), "responses": ("pyyaml", "yaml")}


def _unpack(system: FreshSystem, name: str) -> str:
    inside = f"/work/{name}"
    folder = system.path(inside)
    folder.mkdir(parents=True)
    with tarfile.open(PROJECTS_DIR / f"{name}.tar.gz") as archive:
        archive.extractall(folder, filter="data")
    return inside


def _as_a_clone(system: FreshSystem, inside: str) -> None:
    system.must(["apt-get", "update", "-q"])
    system.must(["apt-get", "install", "-y", "-q", "--no-install-recommends", "git"])
    git = ["git", "-C", inside, "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    system.must([*git, "init", "-q"])
    system.must([*git, "add", "-A"])
    system.must([*git, "commit", "-q", "-m", "as cloned"])


def _in_folder(system: FreshSystem, inside: str, command: str) -> subprocess.CompletedProcess[str]:
    return system.run(["sh", "-c", f"cd {shlex.quote(inside)} && {command}"], timeout=900)


def _collect_command(tests: str) -> str:
    """The project's test command with the dev env's python, collecting only."""
    words = shlex.split(tests)
    at = words.index("python")
    words[at] = ".venv/bin/python"
    return shlex.join([*words, "--collect-only", "-q"])


def test_the_shared_projects_are_there_in_ci() -> None:
    """CI has shared/ beside the clone: missing projects there are a failure, not a skip."""
    if not os.environ.get("CI"):
        pytest.skip("outside CI the shared cases may not be beside the repository")
    assert len(PROJECTS) >= 8, f"no projects.toml under {PROJECTS_DIR}"


# Every project as an archive in CI (`make test`); as a clone only where git is what its version
# comes from: the other clones are `make test-all`.
MATRIX = [
    pytest.param(
        project,
        with_git,
        id=f"{project['name']}-{'clone' if with_git else 'archive'}",
        marks=pytest.mark.exhaustive if with_git and project["shape"] != "vcs-version" else (),
    )
    for project in PROJECTS
    for with_git in (False, True)
]


@pytest.mark.skipif(not PROJECTS, reason="../shared/cases/projects is not beside the repository")
@pytest.mark.parametrize(("project", "with_git"), MATRIX)
def test_real_project_gets_a_dev_environment(
    project: dict[str, Any], with_git: bool, bulletproof_wheel: Path, tmp_path: Path
) -> None:
    with fresh_system(project["suite"], tmp_path, bulletproof_wheel) as system:
        inside = _unpack(system, project["name"])
        if with_git:
            _as_a_clone(system, inside)
        done = system.run(
            ["/opt/bulletproof/bin/bulletproof", "setup", inside, "--yes"], timeout=1800
        )
        report = f"setup exit {done.returncode}\n{done.stdout[-6000:]}\n{done.stderr[-4000:]}"
        assert done.returncode in (EXIT_VERIFIED, EXIT_USABLE), report
        for module in project["imports"]:
            imported = _in_folder(system, inside, f".venv/bin/python -c 'import {module}'")
            assert imported.returncode == 0, f"import {module}: {imported.stderr}\n{report}"
        if "tests" in project:
            collected = _in_folder(system, inside, _collect_command(project["tests"]))
            output = collected.stdout + collected.stderr
            assert collected.returncode == 0, f"collection failed:\n{output[-4000:]}\n{report}"
            assert "ImportError" not in output and "ModuleNotFoundError" not in output, output
        if not with_git:
            _tests_are_run_and_classified(system, inside, project, report)


def _tests_report(system: FreshSystem, inside: str) -> dict[str, Any]:
    done = system.run(
        ["/opt/bulletproof/bin/bulletproof", "verify", inside, "--tests", "--json", "/tmp/t.json"],
        timeout=1800,
    )
    data = json.loads(system.path("/tmp/t.json").read_text())
    assert data["tests"] is not None, f"no tests found\n{done.stdout[-3000:]}"
    tests: dict[str, Any] = data["tests"]
    return tests


def _tests_are_run_and_classified(
    system: FreshSystem, inside: str, project: dict[str, Any], setup_report: str
) -> None:
    """verify --tests runs the suite and classifies every failure; with one of the project's
    dependencies removed, the tests that need it become environment failures naming it."""
    tests = _tests_report(system, inside)
    print(  # the figures the closing note reports: -s shows them, the junit XML keeps them
        f"{project['name']}: pass rate {tests['pass_rate']}, {tests['counts']}, "
        f"{tests['environment_failures']} environment failures, {tests['seconds']} s"
    )
    for case in tests["cases"]:
        if case["class"]:
            print("  ", case["id"], case["class"], case["needs"], case["message"][:160])
    assert not tests["problem"], tests["problem"]
    assert tests["counts"]["passed"] > 0, (tests, setup_report)
    for case in tests["cases"]:
        assert (case["class"] is None) == (case["outcome"] in ("passed", "skipped")), case
        if case["class"] == "environment":
            assert case["needs"].split()[0] in (
                "module",
                "library",
                "executable",
                "service",
                "variable",
            ), case
    if project["name"] in REMOVED:
        distribution, module = REMOVED[project["name"]]
        system.must(
            [
                "/opt/bulletproof/bin/uv",
                "pip",
                "uninstall",
                "--python",
                f"{inside}/.venv/bin/python",
                distribution,
            ]
        )
        broken = _tests_report(system, inside)
        before = {c["needs"] for c in tests["cases"] if c["class"] == "environment"}
        needs = {c["needs"] for c in broken["cases"] if c["class"] == "environment"}
        assert needs - before == {f"module {module}"}, broken["cases"][:5]
        assert not broken["ok"]
