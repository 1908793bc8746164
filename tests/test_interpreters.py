"""The same project set up for each real interpreter on the machine (skipped where absent)."""

import json
import shutil
from pathlib import Path

import pytest

from bulletproof.cli import main
from tests.conftest import need_python, write_project


@pytest.mark.usefixtures("local_index")
@pytest.mark.parametrize("minor", ["3.11", "3.12", "3.13"])
def test_setup_for_each_interpreter(tmp_path: Path, minor: str) -> None:
    need_python(minor)
    project = write_project(tmp_path / "proj", "good==2.0\nnsa\nnsb\n")
    report = tmp_path / "r.json"
    assert main(["setup", str(project), "--python", minor, "--json", str(report)]) == 0
    data = json.loads(report.read_text())
    assert data["target"]["version"].startswith(minor + ".")
    cfg = (project / ".venv" / "pyvenv.cfg").read_text()
    assert f"version_info = {minor}." in cfg or f"version = {minor}." in cfg
    # the environment was built through its real path: its scripts never name the .venv link
    assert (
        ".venv"
        not in (project / ".venv" / "bin" / "activate").read_text().split("VIRTUAL_ENV=")[1][:200]
    )


@pytest.mark.usefixtures("local_index")
def test_another_interpreter_of_the_same_version_gets_its_own_generation(
    tmp_path: Path, python312: Path
) -> None:
    other = tmp_path / "other-3.12"  # the same version at another path: a copy of the install
    skip = shutil.ignore_patterns("site-packages", "test", "tests", "idlelib", "tkinter", "*.a")
    shutil.copytree(python312.parent.parent, other, symlinks=True, ignore=skip)
    project = write_project(tmp_path / "proj", "good==2.0\n")
    assert main(["setup", str(project), "--python", str(python312)]) == 0
    assert main(["setup", str(project), "--python", str(other / "bin" / "python3")]) == 0
    assert str((project / ".venv").readlink()).endswith("gen-0002")
    cfg = (project / ".venv" / "pyvenv.cfg").read_text()
    assert str(other) in cfg
