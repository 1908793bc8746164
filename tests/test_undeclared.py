"""Undeclared imports (issue 19, classes 7 and 8): a distribution is added for a module only
when its wheel ships that module, never on a name alone; a module of the target interpreter's
own standard library is never looked for on the index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bulletproof.cli import main
from bulletproof.code.codeimports import CodeImport
from bulletproof.mitigate.provides import top_level
from bulletproof.model import Config, Project
from bulletproof.verify import stdlib
from bulletproof.verify.values import FailureKind, ImportStatus, ModuleCheck
from bulletproof.verify.verdict import judge
from tests.conftest import only_from
from tests.fixtures.wheels import make_wheel


@pytest.fixture
def house(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, python312: Path) -> Path:
    found = tmp_path / "house"
    found.mkdir()
    make_wheel(found, "zqbase", "1.0", {"zqbase/__init__.py": ""})
    # named like the module the project imports, ships something else: a squatter, a typo
    make_wheel(found, "zqwidget", "1.0", {"other_pkg/__init__.py": ""})
    make_wheel(found, "zqgood", "1.0", {"zqgood/__init__.py": "OK = 1\n"})
    only_from(monkeypatch, str(found))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    return found


def _project(root: Path, code: str) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "requirements.txt").write_text("zqbase==1.0\n")
    (root / "tests" / "test_it.py").write_text(code)
    return root


def _report(path: Path) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(path.read_text())
    return raw


def test_a_wheels_top_level_names(house: Path, python312: Path, tmp_path: Path) -> None:
    assert top_level("zqwidget", python=python312, cwd=tmp_path) == frozenset({"other_pkg"})
    assert top_level("zqgood", python=python312, cwd=tmp_path) == frozenset({"zqgood"})
    assert top_level("zq-nowhere", python=python312, cwd=tmp_path) is None


def test_a_distribution_named_like_the_module_that_does_not_ship_it_is_not_added(
    house: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path / "proj", "import zqwidget\n")
    report = tmp_path / "r.json"
    code = main(["setup", str(project), "--python", "3.12", "--yes", "--json", str(report)])
    assert code != 0
    said = capsys.readouterr()
    err = said.out + said.err
    assert "nothing known provides zqwidget; not added" in " ".join(err.split())
    attempts = _report(report)["mitigation"]
    assert all(a["fix"] is None for a in attempts), attempts
    lock = project / "pylock.toml"
    assert not lock.exists() or "zqwidget" not in lock.read_text()


def test_a_distribution_whose_wheel_ships_the_module_is_added(house: Path, tmp_path: Path) -> None:
    project = _project(tmp_path / "proj", "import zqgood\n")
    report = tmp_path / "r.json"
    assert main(["setup", str(project), "--python", "3.12", "--yes", "--json", str(report)]) == 0
    attempts = _report(report)["mitigation"]
    assert [(a["package"], a["fix"]["value"], a["outcome"]) for a in attempts] == [
        ("zqgood", "zqgood", "fixed")
    ]
    assert "ships zqgood" in attempts[0]["fix"]["what"] or "zqgood" in attempts[0]["cause"]


def _failed(module: str, error: str) -> ModuleCheck:
    return ModuleCheck(module, "proj", ImportStatus.FAILED, 0.1, error)


def test_a_standard_library_module_the_interpreter_lacks_is_the_interpreters(
    tmp_path: Path, python312: Path
) -> None:
    own = stdlib.ask(python312)
    assert own is not None and {"tkinter", "_tkinter", "sqlite3", "_ssl"} <= own.names
    assert own.files("tkinter")[-1].startswith(f"{own.folder.name}/lib-dynload/tkinter.")
    project = Project(
        root=tmp_path,
        name="mine",
        pyproject=None,
        requirement_files=(),
        dependencies=(),
        requires_python=None,
        config=Config(),
        installable=False,
        own_packages=(),
        source_roots=(tmp_path,),
    )
    imports = {"app": CodeImport("app", "app.py:1", guarded=False)}
    failed = [_failed("app", "ModuleNotFoundError: No module named '_tkinter'")]
    judged = judge(failed, project, set(), imports, {}, stdlib=own.names)
    assert judged[0].kind is FailureKind.INTERPRETER
    assert "the standard library's _tkinter is missing from this interpreter" in judged[0].why
    # a module no standard library has is still undeclared
    other = [_failed("app", "ModuleNotFoundError: No module named 'zq_nowhere'")]
    assert judge(other, project, set(), imports, {}, stdlib=own.names)[0].kind is (
        FailureKind.UNDECLARED
    )
