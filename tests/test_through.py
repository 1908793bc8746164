"""A module that refuses to be imported before the package that loads it (as psycopg-binary
does before psycopg) is verified when it imports after that package; one that fails either way
is still broken. The wheels are built here, the refusal worded as nothing in bulletproof knows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulletproof.cli import main
from tests.conftest import only_from
from tests.fixtures.wheels import make_wheel

_ACCEL = (
    "import sys\n"
    "if 'zqcore' not in sys.modules:\n"
    "    raise ImportError('zqaccel is loaded by zqcore, never on its own terms')\n"
)


@pytest.mark.parametrize("core_loads_it", [True, False])
def test_a_module_meant_to_be_loaded_by_its_dependent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, core_loads_it: bool
) -> None:
    house = tmp_path / "house"
    house.mkdir()
    accel = _ACCEL if core_loads_it else "raise ImportError('zqaccel is broken for good')\n"
    make_wheel(house, "zqaccel", "1.0", {"zqaccel/__init__.py": accel})
    make_wheel(house, "zqcore", "1.0", {"zqcore/__init__.py": "X = 1\n"}, requires=("zqaccel",))
    only_from(monkeypatch, str(house))
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("zqcore==1.0\n")
    report = tmp_path / "r.json"
    code = main(["setup", str(project), "--python", "3.12", "-q", "--json", str(report)])
    modules = {m["module"]: m for m in json.loads(report.read_text())["verification"]["modules"]}
    if core_loads_it:
        assert code == 0
        assert modules["zqaccel"]["status"] == "ok"
        assert modules["zqaccel"]["error"] == "imports after zqcore, as meant"
    else:  # broken for good: delivered, incomplete, with the failure listed
        assert code == 6
        assert modules["zqaccel"]["status"] == "failed"
