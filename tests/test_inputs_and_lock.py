"""No "verified" over an environment that no longer matches its inputs, and inputs read as pip
and uv read them: requirement files in other encodings, a damaged or edited lock, a report path
that cannot be written."""

import codecs
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bulletproof.cli import main
from bulletproof.tomlcompat import tomllib
from tests.conftest import snapshot, write_project

pytestmark = pytest.mark.usefixtures("local_index")


def _verify(project: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["verify", str(project), *extra])
    seen = capsys.readouterr()
    return code, seen.out + seen.err


def test_verify_says_out_of_date_when_a_requirement_was_added(
    tmp_path: Path, python312: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\n")
    assert main(["setup", str(project), "--python", "3.12"]) == 0
    assert _verify(project, capsys)[0] == 0

    (project / "requirements.txt").write_text("good==1.0\nnsa\n")
    for extra in ((), ("--full",)):
        code, said = _verify(project, capsys, *extra)
        assert code == 5, said
        assert "out of date" in said and "requirements" in said
        assert "bulletproof setup" in said
    report = tmp_path / "report.json"
    assert main(["verify", str(project), "--json", str(report)]) == 5
    data = json.loads(report.read_text())
    assert data["result"]["exit_code"] == 5
    [reason] = data["out_of_date"]
    assert "requirements" in reason
    # still verified as it is: what it imports is reported beside what it lacks
    assert [m["module"] for m in data["verification"]["modules"]] == ["good"]

    assert main(["setup", str(project)]) == 0  # setup brings it up to date again
    assert _verify(project, capsys)[0] == 0


def test_the_selection_setup_was_given_is_the_one_verify_compares(
    tmp_path: Path, python312: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = (
        '[project]\nname = "selproj"\nversion = "0"\ndependencies = ["good==1.0"]\n'
        '[project.optional-dependencies]\nextra1 = ["nsa"]\n'
    )
    project = write_project(tmp_path / "proj", "", pyproject=pyproject)
    (project / "requirements.txt").unlink()
    assert main(["setup", str(project), "--python", "3.12", "--extra", "extra1"]) in (0, 4)
    code, said = _verify(project, capsys)
    assert code in (0, 4), said  # the extra is not mistaken for a change of requirements


def test_an_interpreter_chosen_over_the_projects_setting_is_not_out_of_date(
    tmp_path: Path, python312: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = '[tool.bulletproof]\npython = "3.13"\n'
    project = write_project(tmp_path / "proj", "good==1.0\n", pyproject=pyproject)
    assert main(["setup", str(project), "--python", str(python312)]) == 0
    code, said = _verify(project, capsys)
    assert code == 0, said


def test_a_setup_killed_after_writing_the_lock_leaves_verify_out_of_date(
    tmp_path: Path, python312: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packages = ("pkga", "pkgb", "pkgc")
    project = write_project(tmp_path / "proj", "".join(f"{p}==1.0\n" for p in packages))
    assert main(["setup", str(project), "--python", "3.12"]) == 0
    lock = project / "pylock.toml"
    before = lock.read_bytes()
    (project / "requirements.txt").write_text("".join(f"{p}==2.0\n" for p in packages))
    child = subprocess.Popen(
        [sys.executable, "-m", "bulletproof", "setup", str(project)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while lock.read_bytes() == before and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    assert lock.read_bytes() != before, "setup ended before it wrote the new lock"
    assert str((project / ".venv").resolve()).endswith("gen-0001")  # not switched

    code, said = _verify(project, capsys)
    assert code == 5, said
    assert "another lock" in said
    assert "pkga 1.0 (locked: 2.0)" in said


def test_requirement_files_with_a_byte_order_mark_or_in_utf16_are_read(
    tmp_path: Path, python312: Path
) -> None:
    for name, data in {
        "bom": codecs.BOM_UTF8 + b"good==1.0\n",
        "utf16": "good==1.0\n# a comment\n".encode("utf-16"),
    }.items():
        project = tmp_path / name
        project.mkdir()
        (project / "requirements.txt").write_bytes(data)
        assert main(["setup", str(project), "--python", "3.12"]) == 0, name
        assert (project / "requirements.txt").read_bytes() == data


def test_a_requirement_file_in_another_encoding_without_a_mark_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    for data, said in {
        "good==1.0  # café\n".encode("latin-1"): "requirements.txt: not UTF-8 (byte 0xe9",
        "good==1.0\n".encode("utf-32"): "requirements.txt: UTF-32, which uv does not read",
    }.items():
        (project / "requirements.txt").write_bytes(data)
        assert main(["setup", str(project)]) == 2
        err = capsys.readouterr().err
        assert said in err, err
        assert "Traceback" not in err and not (project / ".venv").exists()


def _setup_json(project: Path, report: Path, *extra: str) -> dict[str, object]:
    code = main(["setup", str(project), "--json", str(report), *extra])
    data: dict[str, object] = json.loads(report.read_text())
    assert code == 0, data["result"]
    return data


def test_a_damaged_or_edited_lock_is_said_and_made_again_for_the_target_it_records(
    tmp_path: Path, python312: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\n")
    report = tmp_path / "report.json"
    _setup_json(project, report, "--python", "3.12")
    lock = project / "pylock.toml"
    good = lock.read_bytes()

    damages = {
        "is not UTF-8 (byte 0xff": good.replace(b"[[packages]]", b"# \xff\xfe\n[[packages]]", 1),
        "was edited since bulletproof wrote it": good.replace(
            b'name = "good"', b'name = "good"\n# pinned by hand', 1
        ),
        "is not valid TOML": good.replace(b"[[packages]]", b"[[packages", 1),
    }
    for problem, damaged in damages.items():
        lock.write_bytes(damaged)
        capsys.readouterr()
        data = _setup_json(project, report)
        said = capsys.readouterr()
        assert f"pylock.toml {problem}" in said.out + said.err, problem
        assert "locking again for Python 3.12" in said.out + said.err
        target = data["target"]
        assert isinstance(target, dict) and str(target["version"]).startswith("3.12"), problem
        data_lock = data["lock"]
        assert isinstance(data_lock, dict) and not data_lock["reused"]
        assert tomllib.loads(lock.read_text())["packages"]


def test_a_lock_someone_else_wrote_is_never_overwritten(
    tmp_path: Path, python312: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\n")
    theirs = b'lock-version = "1.0"\ncreated-by = "another-tool"\n\n[[packages]]\nname = "x"\n'
    (project / "pylock.toml").write_bytes(theirs)
    before = snapshot(project)
    assert main(["setup", str(project), "--python", "3.12"]) == 2
    err = capsys.readouterr().err
    assert "was not written by bulletproof" in err and "pylock.NAME.toml" in err
    assert (project / "pylock.toml").read_bytes() == theirs
    assert {k: v for k, v in snapshot(project).items() if not k.startswith(".bulletproof")} == (
        before
    )


def test_an_unwritable_report_path_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\n")
    (tmp_path / "a-file").write_text("")
    for path, said in {
        tmp_path / "no-such-folder" / "r.json": "does not exist",
        tmp_path / "a-file" / "r.json": "does not exist",
        tmp_path: "is a folder",
        Path("/proc/bulletproof-report.json"): "cannot write in /proc",
    }.items():
        capsys.readouterr()
        assert main(["setup", str(project), "--json", str(path)]) == 2, path
        err = " ".join(capsys.readouterr().err.split())  # rich wraps a long path
        assert f"--json {path}" in err and said in err, err
        assert not (project / ".venv").exists() and not (project / "pylock.toml").exists()
        assert not (project / ".bulletproof").exists()
