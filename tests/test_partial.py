"""One failure costs only itself: a requirement that does not build (while installing, or while
the resolver reads its metadata) and has no fix left is set aside and the rest delivered; a
requirement added for an undeclared import that does not build is dropped alone; the run ends
on the best generation it built, never a worse later one. Packages and wordings are made here,
with real uv and a real interpreter; nothing in bulletproof's code or data names them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bulletproof.cli import main
from bulletproof.tomlcompat import tomllib
from tests.conftest import only_from, snapshot
from tests.fixtures.wheels import make_wheel, write_failing_sdist

pytestmark = pytest.mark.usefixtures("python312")


def _failing_sdist(house: Path, name: str, version: str, *, static: bool) -> None:
    write_failing_sdist(
        house, name, version, "vexu: the quorble manifold would not align (stage 9)", static=static
    )


@pytest.fixture
def house(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    house = tmp_path / "house"
    house.mkdir()
    make_wheel(house, "vexgood", "1.0", {"vexgood/__init__.py": "GOOD = 1\n"})
    _failing_sdist(house, "vexbuild", "1.0", static=True)
    _failing_sdist(house, "vexmeta", "1.0", static=False)
    _failing_sdist(house, "vexsolver", "1.0", static=False)
    # an import that fails with no fix anywhere; its older release fails worse (it needs one
    # more package that does not import): a later round must not end on it
    failing = "raise ImportError('vexbroke: the hinge table is empty')\n"
    make_wheel(house, "vexbroke", "1.0", {"vexbroke/__init__.py": failing})
    make_wheel(house, "vexworse", "1.0", {"vexworse/__init__.py": failing})
    make_wheel(house, "vexbroke", "0.9", {"vexbroke/__init__.py": failing}, requires=("vexworse",))
    # what a project declares that brings vexbroke along (it is not declared itself)
    make_wheel(house, "vexhost", "1.0", {"vexhost/__init__.py": ""}, requires=("vexbroke",))
    only_from(monkeypatch, house)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    return house


def _setup(project: Path, report: Path, *more: str) -> tuple[int, dict[str, Any]]:
    code = main(["setup", str(project), "--python", "3.12", "--yes", "--json", str(report), *more])
    return code, json.loads(report.read_text())


def _locked(project: Path) -> dict[str, str]:
    lock = tomllib.loads((project / "pylock.toml").read_text())
    return {p["name"]: p["version"] for p in lock.get("packages", []) if "version" in p}


def _imports(project: Path, module: str) -> bool:
    python = project / ".venv" / "bin" / "python"
    return subprocess.run([python, "-c", f"import {module}"], check=False).returncode == 0


@pytest.mark.usefixtures("house")
@pytest.mark.parametrize(("name", "stage"), [("vexbuild", "build"), ("vexmeta", "lock")])
def test_a_requirement_that_does_not_build_is_set_aside_and_the_rest_delivered(
    tmp_path: Path, name: str, stage: str
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text(f"vexgood==1.0\n{name}==1.0\n")
    before = snapshot(project)

    code, report = _setup(project, tmp_path / "r.json")

    assert code == 6, report["mitigation"]
    assert [(s["package"], s["stage"]) for s in report["set_aside"]] == [(name, stage)]
    assert report["set_aside"][0]["cause"].startswith("does not build")
    assert _locked(project) == {"vexgood": "1.0"}
    assert _imports(project, "vexgood")
    assert report["result"]["message"].startswith("incomplete: ")
    assert snapshot(project)["requirements.txt"] == before["requirements.txt"]
    # verify says so too: what is installed imports, and what setup left out is still missing
    assert main(["verify", str(project), "--json", str(tmp_path / "v.json")]) == 6
    verified = json.loads((tmp_path / "v.json").read_text())
    assert [s["package"] for s in verified["set_aside"]] == [name]

    # --strict: nothing short of verified; no environment is made
    strict = tmp_path / "strict"
    strict.mkdir()
    (strict / "requirements.txt").write_text(f"vexgood==1.0\n{name}==1.0\n")
    code, report = _setup(strict, tmp_path / "s.json", "--strict")
    assert code == 1
    assert not (strict / ".venv").exists()


@pytest.mark.usefixtures("house")
def test_an_added_requirement_that_does_not_build_is_dropped_alone(tmp_path: Path) -> None:
    """An optional corner imports what only an unchosen group declares; that requirement is
    added, does not build, and is dropped: the rest is delivered and the import listed."""
    project = tmp_path / "proj"
    (project / "vexapp").mkdir(parents=True)
    (project / "requirements.txt").write_text("vexgood==1.0\n")
    (project / "pyproject.toml").write_text('[dependency-groups]\nsolver = ["vexsolver"]\n')
    (project / "vexapp" / "__init__.py").write_text("import vexgood\n")
    (project / "vexapp" / "solve.py").write_text("import vexsolver\n")

    code, report = _setup(project, tmp_path / "r.json")

    assert code == 6, report["mitigation"]
    tried = [
        (a["package"], a["fix"]["kind"], a["outcome"]) for a in report["mitigation"] if a["fix"]
    ]
    assert ("vexsolver", "requirement", "did not help") in tried
    assert report["set_aside"] == []  # dropped, not set aside: the project never asked for it
    assert "vexsolver" not in _locked(project)
    assert "vexgood" in _locked(project)
    assert _imports(project, "vexgood")
    judged = {j["module"]: j["kind"] for j in report["verification"]["judged"]}
    assert judged.get("vexapp.solve") == "undeclared"


@pytest.mark.usefixtures("house")
def test_the_run_ends_on_its_best_generation_not_a_worse_later_one(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("vexgood==1.0\nvexhost==1.0\n")

    code, report = _setup(project, tmp_path / "r.json")

    assert code == 6, report["mitigation"]
    moves = [a["fix"]["value"] for a in report["mitigation"] if a["fix"]]
    assert "vexbroke==0.9" in moves  # the worse state was built...
    # ...and whatever the rounds tried, the lock and .venv are those of the best generation
    assert _locked(project) == {"vexgood": "1.0", "vexhost": "1.0", "vexbroke": "1.0"}
    assert _imports(project, "vexgood") and not _imports(project, "vexbroke")
    failed = [m["module"] for m in report["verification"]["modules"] if m["status"] != "ok"]
    assert failed == ["vexbroke"]
    assert report["incomplete"]["why"]
    assert report["target"]["version"].startswith("3.12.")
    # every generation but the delivered one is gone: nothing half-made is left behind
    generations = project / ".bulletproof" / "generations"
    assert [p.name for p in generations.iterdir()] == [(project / ".venv").resolve().name]


@pytest.mark.usefixtures("house")
def test_a_declared_pin_is_not_moved_to_silence_an_import_failure(tmp_path: Path) -> None:
    """The project asks for vexbroke==1.0; its import fails in words nothing recognises: no
    evidence that the declared version cannot work here, so its pin is not walked (another
    interpreter may still be tried), and the environment is delivered with it listed."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("vexgood==1.0\nvexbroke==1.0\n")

    code, report = _setup(project, tmp_path / "r.json")

    assert code == 6, report["mitigation"]
    kinds = {a["fix"]["kind"] for a in report["mitigation"] if a["fix"]}
    assert "pin" not in kinds, report["mitigation"]
    assert _locked(project) == {"vexgood": "1.0", "vexbroke": "1.0"}
