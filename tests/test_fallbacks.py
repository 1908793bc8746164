"""Repair that needs no signature: a source build that fails with a wording nothing knows, while a
newer release has a wheel for the target, ends verified with the pin moved (in the lock only),
whether the build fails while installing or while the resolver builds it to read its metadata."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bulletproof.cli import main
from tests.conftest import need_python, only_from
from tests.fixtures.wheels import make_wheel, write_failing_sdist, write_sdist


def _failing_sdist(dest: Path, name: str, version: str, *, static: bool = True) -> None:
    """An sdist whose build fails with a message no signature, table or code names."""
    message = "qrxl: the frobnication lattice is misaligned (code 77)"
    write_failing_sdist(dest, name, version, message, static=static)


def _only_from(house: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """uv finds packages in ``house`` only, with a cache of this test's own."""
    only_from(monkeypatch, str(house))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))


@pytest.fixture
def house(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    house = tmp_path / "house"
    house.mkdir()
    _failing_sdist(house, "qrxlpkg", "1.0")
    make_wheel(house, "qrxlpkg", "1.1", {"qrxlpkg/__init__.py": "WORKS = True\n"})
    _failing_sdist(house, "qrxlmeta", "2.0", static=False)
    make_wheel(house, "qrxlmeta", "2.0.1", {"qrxlmeta/__init__.py": "WORKS = True\n"})
    _only_from(house, tmp_path, monkeypatch)
    return house


@pytest.mark.usefixtures("house")
def test_an_unrecognised_build_failure_moves_to_a_release_with_a_wheel(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("qrxlpkg==1.0\n")
    report = tmp_path / "r.json"
    code = main(["setup", str(project), "--python", "3.12", "--yes", "--json", str(report)])
    attempts = json.loads(report.read_text())["mitigation"]
    assert code == 0, attempts
    assert [(a["package"], a["signature"], a["fix"]["value"], a["outcome"]) for a in attempts] == [
        ("qrxlpkg", "", "qrxlpkg==1.1", "fixed")
    ]
    assert "frobnication lattice" in " ".join(attempts[0]["evidence"])
    assert 'name = "qrxlpkg"\nversion = "1.1"' in (project / "pylock.toml").read_text()
    assert (project / "requirements.txt").read_text() == "qrxlpkg==1.0\n"


@pytest.mark.usefixtures("house")
def test_a_build_that_fails_while_locking_goes_through_the_same_repair(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("qrxlmeta==2.0\n")
    report = tmp_path / "r.json"
    code = main(["setup", str(project), "--python", "3.12", "--yes", "--json", str(report)])
    attempts = json.loads(report.read_text())["mitigation"]
    assert code == 0, attempts
    assert [(a["package"], a["stage"], a["fix"]["value"], a["outcome"]) for a in attempts] == [
        ("qrxlmeta", "lock", "qrxlmeta==2.0.1", "fixed")
    ]
    assert "frobnication lattice" in " ".join(attempts[0]["evidence"])
    lock = (project / "pylock.toml").read_text()
    assert 'name = "qrxlmeta"\nversion = "2.0.1"' in lock
    assert "[[tool.bulletproof.moved-pins]]" in lock
    assert (project / "requirements.txt").read_text() == "qrxlmeta==2.0\n"
    # run again: the moved pin is carried, nothing is locked or tried again
    again = tmp_path / "again.json"
    assert main(["setup", str(project), "--python", "3.12", "--json", str(again)]) == 0
    assert json.loads(again.read_text())["mitigation"] == []


def test_a_lock_build_nothing_fixes_leaves_the_project_as_it_was(
    house: Path, tmp_path: Path
) -> None:
    """No newer or older release and no other interpreter: with --strict, exit 1, the attempt and
    its real evidence reported, no lock and no environment left behind; without, it is set aside
    (exit 6) and the rest (nothing here) delivered."""
    (house / "qrxlmeta-2.0.1-py3-none-any.whl").unlink()
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("qrxlmeta==2.0\n")
    report = tmp_path / "r.json"
    code = main(
        ["setup", str(project), "--python", "3.12", "--yes", "--strict", "--json", str(report)]
    )
    assert code == 1
    result = json.loads(report.read_text())
    assert "frobnication lattice" in json.dumps(result)
    assert not (project / "pylock.toml").exists()
    assert not (project / ".venv").exists()
    code = main(["setup", str(project), "--python", "3.12", "--yes", "--json", str(report)])
    assert code == 6
    result = json.loads(report.read_text())
    assert [(s["package"], s["stage"]) for s in result["set_aside"]] == [("qrxlmeta", "lock")]


@pytest.fixture
def removed_house(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package that imports ``imp`` (gone since Python 3.12) in 1.0 and not in 1.1."""
    house = tmp_path / "removed-house"
    house.mkdir()
    make_wheel(house, "qwzxmod", "1.0", {"qwzxmod/__init__.py": "import imp\n"})
    make_wheel(house, "qwzxmod", "1.1", {"qwzxmod/__init__.py": "import importlib\n"})
    _only_from(house, tmp_path, monkeypatch)
    return house


@pytest.mark.usefixtures("removed_house")
def test_a_removed_standard_module_moves_to_a_release_without_it(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("qwzxmod==1.0\n")
    report = tmp_path / "r.json"
    code = main(["setup", str(project), "--python", "3.12", "--yes", "--json", str(report)])
    attempts = json.loads(report.read_text())["mitigation"]
    assert code == 0, attempts
    assert [(a["package"], a["fix"]["value"], a["outcome"]) for a in attempts] == [
        ("qwzxmod", "qwzxmod==1.1", "fixed")
    ]
    # never looked for on the index as an undeclared import named imp
    assert all(a["fix"]["kind"] != "requirement" for a in attempts)


_ERA_SETUP = """
import setuptools
if int(setuptools.__version__.split(".")[0]) >= 64:
    raise SystemExit("qrxl: the lattice of this era has passed (code 64)")
setuptools.setup(name="qrxlera", version="1.0", packages=["qrxlera"])
"""


@pytest.mark.registry
def test_a_build_that_needs_the_build_tools_of_its_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An sdist made in mid-2022 that builds only with the setuptools of then, and says so in
    words nothing names: built with its build requirements as they resolved on its day (on
    Python 3.11, which the setuptools of then supports)."""
    need_python("3.11")
    house = tmp_path / "era-house"
    house.mkdir()
    made = time.mktime((2022, 6, 1, 12, 0, 0, 0, 0, 0))
    write_sdist(
        house,
        "qrxlera",
        "1.0",
        {
            "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n'
            'build-backend = "setuptools.build_meta"\n',
            "setup.py": _ERA_SETUP,
            "qrxlera/__init__.py": "ERA = 2022\n",
        },
        mtime=made,
    )
    monkeypatch.setenv("UV_FIND_LINKS", str(house))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("qrxlera==1.0\n")
    report = tmp_path / "r.json"
    code = main(["setup", str(project), "--python", "3.11", "--yes", "--json", str(report)])
    attempts = json.loads(report.read_text())["mitigation"]
    assert code == 0, attempts
    fixed = [(a["fix"]["kind"], a["fix"]["value"], a["outcome"]) for a in attempts]
    assert len(fixed) == 1 and fixed[0][0] == "constraint" and fixed[0][2] == "fixed", fixed
    assert fixed[0][1].startswith("setuptools==6")  # 62.x or 63.x, as of June 2022
    assert int(fixed[0][1].split("==")[1].split(".")[0]) < 64


@pytest.fixture
def era_house(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three packages that break on 3.12 together, as an old team lock does on a new Python:
    one imports ``imp`` and has no other release, one refuses 3.12 in words nothing knows and
    has a newer release that refuses it too, one refuses it with no other release."""
    house = tmp_path / "era-house"
    house.mkdir()
    refuse = (
        "import sys\nif sys.version_info >= (3, 12):\n"
        "    raise RuntimeError('qvz: this lattice predates the interpreter')\n"
    )
    make_wheel(house, "qvzimp", "1.0", {"qvzimp/__init__.py": "import imp\n"})
    make_wheel(house, "qvzold", "1.0", {"qvzold/__init__.py": refuse})
    make_wheel(house, "qvzold", "1.1", {"qvzold/__init__.py": refuse})
    make_wheel(house, "qvzlone", "1.0", {"qvzlone/__init__.py": refuse})
    _only_from(house, tmp_path, monkeypatch)
    return house


@pytest.mark.usefixtures("era_house")
def test_failures_that_an_older_interpreter_answers_move_it_once(tmp_path: Path) -> None:
    need_python("3.11")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("qvzimp==1.0\nqvzold==1.0\nqvzlone==1.0\n")
    report = tmp_path / "r.json"
    code = main(["setup", str(project), "--python", "3.12", "--yes", "--json", str(report)])
    data = json.loads(report.read_text())
    attempts = data["mitigation"]
    assert code == 0, attempts
    assert data["target"]["version"].startswith("3.11."), data["target"]
    moves = {a["fix"]["value"] for a in attempts if a["fix"] and a["fix"]["kind"] == "interpreter"}
    assert len(moves) == 1, attempts  # one interpreter, not one per failure
    assert all(a["outcome"] == "fixed" for a in attempts if a["fix"]), attempts
