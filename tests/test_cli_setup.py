"""setup / verify / rollback end to end, through main(), against the local wheelhouse."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulletproof.cli import main
from bulletproof.tomlcompat import tomllib
from tests.conftest import only_from, snapshot, write_project
from tests.fixtures.wheels import make_shared_library_wheel


def _venv_version(project: Path, module: str = "good") -> str:
    init = next((project / ".venv").glob(f"lib/python*/site-packages/{module}/__init__.py"))
    return init.read_text().split("'")[1]


@pytest.mark.usefixtures("local_index")
def test_setup_verifies_switches_and_is_a_no_op_when_nothing_changed(
    tmp_path: Path, python312: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\nnsa\nnsb\nodd\ncext\nfromsource\n")
    report = tmp_path / "report.json"
    assert main(["setup", str(project), "--python", "3.12", "--json", str(report)]) == 0
    venv = project / ".venv"
    assert venv.is_symlink() and str(venv.readlink()) == ".bulletproof/generations/gen-0001"
    data = json.loads(report.read_text())
    assert data["schema_version"] == 1 and data["result"] == {
        "ok": True,
        "exit_code": 0,
        "message": f"verified: {project / '.venv'} switched to gen-0001",
    }
    modules = {m["module"]: m["status"] for m in data["verification"]["modules"]}
    assert modules == {
        "good": "ok",
        "nsone.alpha": "ok",
        "nsone.beta": "ok",
        "nsone.loose": "ok",
        "odd": "ok",
        "odd.is_odd": "ok",  # a first-level public submodule
        "cext": "ok",
        "fromsource": "ok",  # built from its sdist
    }  # no 'scripts', 'testing', 'nsone' or data dirs
    assert data["target"]["version"].startswith("3.12")
    assert data["host"]["os"]["id"] and data["host"]["interpreters"]
    lock = tomllib.loads((project / "pylock.toml").read_text())
    assert {p["name"] for p in lock["packages"]} == {
        "good",
        "nsa",
        "nsb",
        "odd",
        "cext",
        "fromsource",
    }
    assert all(w["hashes"]["sha256"] for p in lock["packages"] for w in p.get("wheels", []))
    assert next(p for p in lock["packages"] if p["name"] == "fromsource")["sdist"]["hashes"]
    assert lock["tool"]["bulletproof"]["input-hash"] == data["lock"]["input_hash"]
    assert (
        project / "requirements.txt"
    ).read_text() == "good==1.0\nnsa\nnsb\nodd\ncext\nfromsource\n"

    capsys.readouterr()
    assert main(["setup", str(project), "--json", str(report)]) == 0
    again = json.loads(report.read_text())
    assert again["lock"]["reused"] and again["verification"]["cached"]
    assert again["environment"]["changed"] is False
    assert "unchanged" in capsys.readouterr().out


@pytest.mark.usefixtures("local_index")
def test_upgrade_keeps_previous_for_rollback_and_verify_catches_damage(
    tmp_path: Path, python312: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\n")
    assert main(["setup", str(project), "--python", "3.12"]) == 0
    (project / "requirements.txt").write_text("good==2.0\n")
    assert main(["setup", str(project)]) == 0
    assert _venv_version(project) == "2.0"
    assert main(["rollback", str(project)]) == 0
    assert _venv_version(project) == "1.0"
    capsys.readouterr()
    assert main(["rollback", str(project)]) == 2  # nothing older is kept
    assert "no earlier verified environment to roll back to" in capsys.readouterr().err
    # the earlier environment is not the lock's: verify says so instead of "verified"
    assert main(["verify", str(project)]) == 5

    # setup converges to the lock (good==2.0) in a new generation
    assert main(["setup", str(project)]) == 0
    assert _venv_version(project) == "2.0"
    assert str((project / ".venv").readlink()).endswith("gen-0003")
    assert main(["verify", str(project)]) == 0
    init = next((project / ".venv").glob("lib/python*/site-packages/good/__init__.py"))
    init.unlink()
    report = tmp_path / "v.json"
    assert main(["verify", str(project), "--json", str(report)]) == 1
    problems = json.loads(report.read_text())["verification"]["integrity"]["problems"]
    assert problems == [{"distribution": "good", "path": "good/__init__.py", "problem": "missing"}]
    # a damaged current generation of the same lock is replaced, not trusted
    assert main(["setup", str(project)]) == 0
    assert str((project / ".venv").readlink()).endswith("gen-0004")
    assert main(["verify", str(project), "--full"]) == 0


@pytest.mark.usefixtures("local_index")
def test_a_module_that_fails_to_import_leaves_the_env_as_it_was(
    tmp_path: Path, python312: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\n")
    assert main(["setup", str(project), "--python", "3.12"]) == 0
    before = snapshot(project / ".bulletproof" / "generations")
    link = str((project / ".venv").readlink())
    (project / "requirements.txt").write_text("good==2.0\nbroken\ncrasher\n")
    capsys.readouterr()
    assert main(["setup", str(project), "--strict"]) == 1
    out = capsys.readouterr().out
    assert "broken" in out and "crasher" in out and "SIGSEGV" in out
    assert str((project / ".venv").readlink()) == link
    assert snapshot(project / ".bulletproof" / "generations") == before
    # without --strict: the old environment lacks two of the project's requirements and the
    # new one has both failing (and good 2.0): at least as good, so it is switched to, exit 6
    assert main(["setup", str(project)]) == 6
    out = capsys.readouterr().out
    assert "incomplete:" in out and "SIGSEGV" in out
    assert str((project / ".venv").readlink()) != link


@pytest.mark.usefixtures("local_index")
@pytest.mark.parametrize(
    ("requirements", "expected"),
    [
        ("good==\n", "requirements.txt:1:5: invalid requirement 'good=='"),
        ("no-such-package-anywhere==1.0\n", "no-such-package-anywhere was not found on the index"),
        ("good==1.0\nneeds-good-two\n", "cannot be satisfied"),
    ],
)
def test_bad_requirements_exit_2_with_an_explanation_and_change_nothing(
    tmp_path: Path,
    python312: Path,
    capsys: pytest.CaptureFixture[str],
    requirements: str,
    expected: str,
) -> None:
    project = write_project(tmp_path / "proj", requirements)
    before = snapshot(project)
    assert main(["setup", str(project), "--python", "3.12", "--strict"]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    if "needs-good-two" in requirements:
        assert "good>=2" in err.replace("good>=2.0", "good>=2")  # uv's own explanation is shown
    leftover = {k: v for k, v in snapshot(project).items() if not k.startswith(".bulletproof")}
    assert leftover == before and not (project / ".venv").exists()


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def err() -> str:
        return " ".join(capsys.readouterr().err.split())  # unwrapped

    write_project(tmp_path, "good\n")
    assert main(["setup", str(tmp_path), "--python", "3.99"]) == 2
    assert "no interpreter of that version" in err()
    assert main(["setup", str(tmp_path / "missing")]) == 2
    assert f"{tmp_path / 'missing'}: no such folder" in err()
    assert main(["frobnicate"]) == 2
    assert "invalid choice: 'frobnicate'" in err()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["setup", str(empty)]) == 2
    assert "looked for pyproject.toml" in err()
    assert main(["verify", str(tmp_path)]) == 2  # no environment yet
    said = err()
    assert f"no environment at {tmp_path / '.venv'}" in said
    assert f"bulletproof setup {tmp_path}" in said  # what to do about it


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=120))
def test_no_traceback_reaches_the_user_whatever_the_requirements(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    project = tmp_path / "fuzz"
    shutil.rmtree(project, ignore_errors=True)
    write_project(project, text)
    # a missing interpreter path stops the run after every input has been read and validated
    code = main(["setup", str(project), "--python", str(tmp_path / "no-python")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "internal error" not in err
    # and it says why: the requirements (a line, a file they name) or, once they are read,
    # the interpreter
    named = ("requirements.txt", "not found", "no-python: not a working Python 3 interpreter")
    assert any(why in " ".join(err.split()) for why in named), err
    assert not (project / ".venv").exists()


@pytest.mark.usefixtures("local_index")
def test_doctor_reports_host_facts_and_target(tmp_path: Path, python312: Path) -> None:
    write_project(tmp_path, "good\n", pyproject='[tool.bulletproof]\npython = "3.12"\n')
    report = tmp_path / "doctor.json"
    assert main(["doctor", str(tmp_path), "--json", str(report)]) == 0
    data = json.loads(report.read_text())
    host = data["host"]
    assert host["os"]["id"] and host["arch"] and host["libc"]["name"]
    assert any(i["version"].startswith("3.12.") for i in host["interpreters"])
    assert data["target"]["version"].startswith("3.12.")
    assert data["target"]["reason"] == "[tool.bulletproof] python 3.12"
    assert not (tmp_path / ".venv").exists() and not (tmp_path / "pylock.toml").exists()
    assert not (tmp_path / ".bulletproof").exists()  # doctor locks in a scratch folder
    assert data["diagnosis"]["findings"] == [] and data["lock"]["packages"] == 1


@pytest.mark.usefixtures("local_index")
def test_json_report_is_written_on_an_input_error(tmp_path: Path, python312: Path) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\nneeds-good-two\n")
    report = tmp_path / "r.json"
    assert main(["setup", str(project), "--python", "3.12", "--json", str(report)]) == 2
    data = json.loads(report.read_text())
    assert data["result"]["ok"] is False and data["result"]["exit_code"] == 2
    assert data["result"]["message"] == "the requirements cannot be satisfied together"
    assert data["target"]["version"].startswith("3.12.") and data["verification"] is None


@pytest.mark.usefixtures("local_index")
def test_verify_checks_a_foreign_venv_without_writing_into_it(
    tmp_path: Path, python312: Path, wheelhouse: Path
) -> None:
    from bulletproof.proc import uv_bin
    from tests.conftest import install_into

    project = write_project(tmp_path / "proj", "good\n")
    venv = project / ".venv"
    subprocess.run([uv_bin(), "venv", "-q", str(venv), "--python", str(python312)], check=True)
    install_into(venv, wheelhouse, "good==1.0", "broken")
    before = snapshot(venv)
    report = tmp_path / "verify.json"
    assert main(["verify", str(project), "--json", str(report)]) == 1  # broken does not import
    modules = json.loads(report.read_text())["verification"]["modules"]
    assert {m["module"]: m["status"] for m in modules}["broken"] != "ok"
    after = snapshot(venv)
    # importing writes bytecode caches; nothing else may change
    assert {k: v for k, v in after.items() if "__pycache__" not in k} == before
    assert venv.is_dir() and not venv.is_symlink()


def test_a_shared_library_with_an_extension_name_is_skipped_not_repaired(
    tmp_path: Path,
    python312: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a plain shared library under an extension's name is no module: importing it fails with
    # "does not define module export function", which once started a pin walk
    house = tmp_path / "house"
    make_shared_library_wheel(house, python312)
    only_from(monkeypatch, str(house))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    project = write_project(tmp_path / "proj", "bp-shlib-fixture==1.0\n")
    report = tmp_path / "report.json"
    capsys.readouterr()
    assert main(["setup", str(project), "--python", "3.12", "--json", str(report)]) == 0
    data = json.loads(report.read_text())
    verification = data["verification"]
    assert verification["verdict"] == "verified" and data.get("mitigation", []) == []
    assert {m["module"]: m["status"] for m in verification["modules"]} == {
        "shlib": "ok",
        "shlib.fast": "ok",  # the real extension next to them is imported
    }
    suffix = subprocess.run(
        [str(python312), "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    skipped = {s["path"]: s for s in verification["skipped"]}
    assert set(skipped) == {
        f"_shlib_native{suffix}",
        f"shlib/helper{suffix}",
        "shlib/libbundled.so",
    }
    assert skipped[f"shlib/helper{suffix}"] == {
        "module": "shlib.helper",
        "path": f"shlib/helper{suffix}",
        "distribution": "bp-shlib-fixture",
        "why": "not a Python module (no PyInit_helper): a shared library shipped in the package",
    }
    out = capsys.readouterr().out
    assert f"shlib/helper{suffix}" in out and "not a Python module (no PyInit_helper)" in out
