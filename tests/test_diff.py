"""`bulletproof diff A B` on real environments built by setup with uv: a project set up on two
interpreters, a pin moved between two reports, a variable set on one side only (its value never
shown), a verdict that differs, and a system package one machine lacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from bulletproof.cli import main
from bulletproof.verify.envdiff import (
    NOT_VERIFIED_HERE,
    Side,
    VariableState,
    compare,
    side_from_report,
)
from bulletproof.verify.fingerprint import Fingerprint, Platform
from tests.conftest import need_python, only_from, write_project
from tests.fixtures.wheels import make_wheel

# what a variable is set to: it must appear in no output, no report
VALUE = "value-never-shown-7f3a"
CODE = """import os

MODE = os.environ.get("BP_DIFF_MODE", "dev")
REGION = os.getenv("BP_DIFF_REGION")
"""


def _shared_library(out: Path) -> bytes:
    """A plain shared library that loads zlib from the system (no init function: verification
    skips it as a library shipped in a package, as wheels ship theirs)."""
    with tempfile.TemporaryDirectory() as tmp:
        c = Path(tmp) / "helper.c"
        c.write_text("#include <zlib.h>\nconst char *zd_version(void){return zlibVersion();}\n")
        built = Path(tmp) / "libzdhelper.so"
        subprocess.run(["cc", "-shared", "-fPIC", str(c), "-o", str(built), "-lz"], check=True)
        return built.read_bytes()


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Path:
    found = tmp_path_factory.mktemp("diff-house")
    for version in ("1.0", "2.0"):
        make_wheel(found, "dgood", version, {"dgood/__init__.py": f"VERSION = {version!r}\n"})
    if shutil.which("cc"):
        library = _shared_library(found)
        make_wheel(
            found, "zdiff", "1.0", {"zdiff/__init__.py": "", "zdiff/libzdhelper.so": library}
        )
    return found


@pytest.fixture
def index(
    monkeypatch: pytest.MonkeyPatch, house: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    only_from(monkeypatch, house)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "uv-cache"))
    monkeypatch.delenv("BP_DIFF_MODE", raising=False)
    monkeypatch.delenv("BP_DIFF_REGION", raising=False)
    return house


def _project(root: Path, requirements: str) -> Path:
    write_project(root, requirements)
    (root / "settings.py").write_text(CODE)
    return root


def _setup(project: Path, report: Path, python: str = "3.12") -> dict[str, Any]:
    code = main(["setup", str(project), "--python", python, "-q", "--json", str(report)])
    assert code == 0, report.read_text()
    data: dict[str, Any] = json.loads(report.read_text())
    return data


def _diff(a: Path, b: Path, out: Path) -> tuple[int, dict[str, Any]]:
    code = main(["diff", str(a), str(b), "--json", str(out)])
    data: dict[str, Any] = json.loads(out.read_text())
    return code, data["diff"]


def _rows(found: dict[str, Any]) -> list[tuple[str, str, str, str, bool]]:
    return [
        (r["what"], r["subject"], r["left"], r["right"], r["unexplained"])
        for r in found["differences"]
    ]


@pytest.mark.usefixtures("index")
def test_one_project_on_two_interpreters_differs_by_the_interpreter_alone(
    tmp_path: Path, python312: Path
) -> None:
    python311 = need_python("3.11")
    on312 = _project(tmp_path / "on312", "dgood==1.0\n")
    _setup(on312, tmp_path / "on312.json", str(python312))
    on311 = _project(tmp_path / "on311", "dgood==1.0\n")
    _setup(on311, tmp_path / "on311.json", str(python311))

    # a report against a live project folder: exit 0, only explained differences
    code, found = _diff(tmp_path / "on312.json", on311, tmp_path / "d.json")
    assert code == 0, found
    versions = [r for r in found["differences"] if r["what"] == "interpreter"]
    assert [(r["subject"], r["left"][:4], r["right"][:4]) for r in versions] == [
        ("version", "3.12", "3.11")
    ]
    assert found["unexplained"] == 0
    assert found["left"]["kind"] == "report" and found["left"]["verdict"] == "verified"
    assert found["right"]["kind"] == "live" and found["right"]["verdict"] == NOT_VERIFIED_HERE
    # the same environment on both sides has no difference at all
    code, same = _diff(tmp_path / "on311.json", on311, tmp_path / "same.json")
    assert (code, same["differences"]) == (0, [])


@pytest.mark.usefixtures("index")
def test_a_moved_pin_and_a_variable_set_on_one_side_are_unexplained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path / "proj", "dgood==1.0\n")
    before = _setup(project, tmp_path / "before.json")
    assert {"name": "BP_DIFF_MODE", "set": False, "source": ""} in before["variables"]
    (project / "requirements.txt").write_text("dgood==2.0\n")
    monkeypatch.setenv("BP_DIFF_MODE", VALUE)
    after = _setup(project, tmp_path / "after.json")
    assert {"name": "BP_DIFF_MODE", "set": True, "source": "the environment"} in after["variables"]
    capsys.readouterr()

    code, found = _diff(tmp_path / "before.json", tmp_path / "after.json", tmp_path / "d.json")
    printed = capsys.readouterr().out
    assert code == 1
    assert _rows(found) == [
        ("distribution version", "dgood", "1.0", "2.0", True),
        ("variable", "BP_DIFF_MODE", "unset", "set (the environment)", True),
    ]
    assert "dgood" in printed and "BP_DIFF_MODE" in printed and "not explained" in printed
    for text in (printed, (tmp_path / "d.json").read_text(), (tmp_path / "after.json").read_text()):
        assert VALUE not in text


@pytest.mark.usefixtures("index")
def test_a_live_folder_s_dotenv_and_a_broken_verdict_are_differences(tmp_path: Path) -> None:
    project = _project(tmp_path / "proj", "dgood==1.0\n")
    _setup(project, tmp_path / "setup.json")
    (project / ".env").write_text(f"BP_DIFF_REGION={VALUE}\n")
    code, found = _diff(tmp_path / "setup.json", project, tmp_path / "d.json")
    assert code == 1
    assert _rows(found) == [("variable", "BP_DIFF_REGION", "unset", "set (.env)", True)]
    assert VALUE not in (tmp_path / "d.json").read_text()

    # an installed file edited (saved as a new file: uv links installed files to its cache)
    installed = next((project / ".venv").glob("lib/python*/site-packages/dgood/__init__.py"))
    edited = installed.with_name("edited.py")
    edited.write_text(installed.read_text() + "# edited\n")
    edited.replace(installed)
    assert main(["verify", str(project), "-q", "--json", str(tmp_path / "verify.json")]) == 1
    code, found = _diff(tmp_path / "setup.json", tmp_path / "verify.json", tmp_path / "d2.json")
    assert code == 1
    whats = [(r[0], r[1], r[4]) for r in _rows(found)]
    assert ("distribution content", "dgood", True) in whats
    assert ("verdict", "verification", True) in whats
    verdict = next(r for r in found["differences"] if r["what"] == "verdict")
    assert (verdict["left"], verdict["right"]) == ("verified", "broken")


@pytest.mark.usefixtures("index")
def test_a_system_package_the_other_machine_lacks(tmp_path: Path) -> None:
    """One side is real: an environment whose shipped library loads zlib, so its fingerprint
    names the system package that ships it. The other side is that report as a machine without
    the package would write it (the package gone, the library unresolved): a second machine is
    not to be had in a test, and zlib cannot be removed from this one."""
    if not shutil.which("cc") or not shutil.which("dpkg-query"):
        pytest.skip("needs a C compiler and dpkg")
    project = _project(tmp_path / "proj", "zdiff==1.0\n")
    here = _setup(project, tmp_path / "here.json")
    packages = here["fingerprint"]["system_packages"]
    assert packages, "the library's zlib should be named with its system package"
    lacking = json.loads(json.dumps(here))
    gone = packages[0]["name"]
    lacking["fingerprint"]["system_packages"] = packages[1:]
    lacking["fingerprint"]["unresolved_libraries"] = ["libz.so.1"]
    (tmp_path / "there.json").write_text(json.dumps(lacking))

    code, found = _diff(tmp_path / "here.json", tmp_path / "there.json", tmp_path / "d.json")
    assert code == 1
    assert _rows(found) == [
        ("system package removed", gone, packages[0]["version"], "", True),
        ("library unresolved", "libz.so.1", "", "unresolved", True),
    ]


def test_what_is_not_a_report_of_an_environment_is_refused(tmp_path: Path) -> None:
    (tmp_path / "doctor.json").write_text(json.dumps({"schema_version": 1, "fingerprint": None}))
    (tmp_path / "other.json").write_text("{not json")
    empty = tmp_path / "empty"
    empty.mkdir()
    for a in ("doctor.json", "other.json", "missing.json", "empty"):
        assert main(["diff", str(tmp_path / a), str(tmp_path / "doctor.json")]) == 2, a


def _side(verdict: str, variables: tuple[VariableState, ...] | None) -> Side:
    platform = Platform("x86_64", "manylinux_2_36_x86_64", "glibc", "2.36", "debian", "12")
    print_ = Fingerprint("cpython", "3.12.1", platform, (), ())
    return Side("x", "report", print_, verdict, variables=variables)


def test_a_live_side_s_verdict_and_an_older_report_s_variables_are_no_rows() -> None:
    names = (VariableState("A", set=True, source="the environment"),)
    assert compare(_side("verified", names), _side(NOT_VERIFIED_HERE, None)) == ()
    (row,) = compare(_side("verified", names), _side("verified", ()))
    assert (row.what, row.subject, row.left, row.right) == (
        "variable",
        "A",
        "set (the environment)",
        "not read",
    )
    assert row.because == "the code reads it on one side only" and not row.unexplained
    (row,) = compare(_side("verified", None), _side("usable", None))
    assert (row.what, row.left, row.right, row.unexplained) == (
        "verdict",
        "verified",
        "usable",
        True,
    )


def test_a_prove_report_s_side_is_the_fresh_system() -> None:
    fresh = _side("verified", None).fingerprint
    local = Fingerprint("cpython", "3.11.2", fresh.platform, (), ())
    report = {
        "schema_version": 1,
        "command": "prove",
        "fingerprint": None,
        "verification": None,
        "tests": None,
        "result": {"exit_code": 4},
        "prove": {
            "fresh": {"exit_code": 4, "message": "usable"},
            "local_fingerprint": local.to_dict(),
            "fresh_fingerprint": fresh.to_dict(),
        },
    }
    side = side_from_report(report, "prove.json")
    assert (side.fingerprint, side.verdict, side.variables) == (fresh, "usable", None)
    report["prove"] = None
    with pytest.raises(ValueError, match="no fingerprint"):
        side_from_report(report, "prove.json")
