"""The no-change answer (fastpath/fastrecord): taken when nothing changed, and not after any
input it depends on changes. Real setups against the local wheelhouse, through main()."""

import io
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bulletproof import commands, fastpath
from bulletproof.cli import main
from tests.conftest import write_project


def _answer(argv: list[str]) -> tuple[int | None, str]:
    out, err = io.StringIO(), io.StringIO()
    code = fastpath.Request.of(argv).answer(out=out, err=err)
    return code, out.getvalue()


def _recorded(project: Path, command: str = "setup") -> str:
    """Run the plain command until a run leaves its record (the first run after a change
    records nothing: it changed files itself); the text the full path printed last."""
    for _ in range(3):
        time.sleep(0.05)  # apart from the last run's writes by more than the clock's tick
        code = main([command, str(project), "-q"])
        assert code == 0
        if _answer([command, str(project), "-q"])[0] is not None:
            return fastpath.record_path(str(project), command).read_text()  # type: ignore[union-attr]
    raise AssertionError("no record was left by a run where nothing changed")


def _later(path: Path) -> None:
    """A change of content at the same size: what stat must still see."""
    time.sleep(0.01)
    text = path.read_text()
    path.write_text(text[:-1] + ("X" if not text.endswith("X") else "Y"))


@pytest.mark.usefixtures("local_index")
def test_nothing_changed_is_answered_without_the_full_path(
    tmp_path: Path,
    python312: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\n")
    assert main(["setup", str(project), "--python", "3.12", "-q"]) == 0
    for command in ("setup", "verify"):
        _recorded(project, command)
        capsys.readouterr()
        assert main([command, str(project), "-q"]) == 0
        full = capsys.readouterr().out  # what the full path printed (it recorded it too)
        code, text = _answer([command, str(project), "-q"])
        assert (code, text) == (0, full)
        assert full.rstrip().endswith(
            f"verified: {project / '.venv'}"
            + (" unchanged: gen-0001" if command == "setup" else "")
        )

    ran: list[str] = []

    def full_path(args: object, _: object) -> int:
        ran.append(str(args))
        return 99

    monkeypatch.setattr(commands, "run", full_path)
    assert main(["setup", str(project), "-q"]) == 0
    assert main(["verify", str(project)]) == 0
    assert ran == []
    # any option but -q changes what is done or printed: the full path
    for options in (["--json", str(tmp_path / "r.json")], ["--full"], ["-v"], ["--tests"]):
        assert main(["verify", str(project), *options]) == 99
    # another spelling of the folder prints another path: the full path
    assert main(["verify", str(project) + "/"]) == 99
    assert len(ran) == 5


def _requirement(project: Path) -> None:
    _later(project / "requirements.txt")


def _pyproject(project: Path) -> None:
    _later(project / "pyproject.toml")


def _lock(project: Path) -> None:
    lock = project / "pylock.toml"
    os.utime(lock, ns=(lock.stat().st_atime_ns, lock.stat().st_mtime_ns + 1_000_000))


def _venv_link(project: Path) -> None:
    link = project / ".venv"
    target = link.readlink()
    link.unlink()
    link.symlink_to(target)  # the same target, a new link: whatever made it, look again


def _new_source(project: Path) -> None:
    (project / "tool.py").write_text("import good\n")


def _installed_file_removed(project: Path) -> None:
    init = next((project / ".venv").glob("lib/python*/site-packages/good/__init__.py"))
    init.unlink()


def _installed_by_hand(project: Path) -> None:
    site = next((project / ".venv").glob("lib/python*/site-packages"))
    (site / "handmade.py").write_text("")


def _marker(project: Path) -> None:
    _later((project / ".venv").resolve() / "bulletproof-generation.json")


@pytest.mark.usefixtures("local_index")
@pytest.mark.parametrize(
    "change",
    [
        _requirement,
        _pyproject,
        _lock,
        _venv_link,
        _new_source,
        _installed_file_removed,
        _installed_by_hand,
        _marker,
    ],
)
def test_a_change_to_what_the_answer_depends_on_takes_the_full_path(
    tmp_path: Path, python312: Path, change: Callable[[Path], None]
) -> None:
    project = write_project(
        tmp_path / "proj", "good==1.0\n", pyproject="[tool.black]\nline-length = 99\n"
    )
    assert main(["setup", str(project), "--python", "3.12", "-q"]) == 0
    _recorded(project, "verify")
    _recorded(project, "setup")
    change(project)
    for command in ("setup", "verify"):
        assert _answer([command, str(project), "-q"]) == (None, "")


@pytest.mark.usefixtures("local_index")
def test_a_changed_environment_variable_takes_the_full_path(
    tmp_path: Path, python312: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\n")
    assert main(["setup", str(project), "--python", "3.12", "-q"]) == 0
    _recorded(project, "verify")
    assert _answer(["verify", str(project), "-q"])[0] == 0
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "elsewhere.settings")
    assert _answer(["verify", str(project), "-q"]) == (None, "")


@pytest.mark.usefixtures("local_index")
def test_a_system_package_removed_takes_the_full_path(
    tmp_path: Path, python312: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library an extension found may be gone once a system package is removed: the system's
    package records are part of what the answer depends on (here a file of the test's own)."""
    records = tmp_path / "dpkg-status"
    records.write_text("Package: libzq1\n")
    monkeypatch.setattr("bulletproof.fastrecord.SYSTEM_RECORDS", (str(records),))
    project = write_project(tmp_path / "proj", "good==1.0\n")
    assert main(["setup", str(project), "--python", "3.12", "-q"]) == 0
    _recorded(project, "verify")
    assert _answer(["verify", str(project), "-q"])[0] == 0
    records.write_text("")
    assert _answer(["verify", str(project), "-q"]) == (None, "")


@pytest.mark.usefixtures("local_index")
def test_a_run_that_did_not_end_verified_leaves_no_record(tmp_path: Path, python312: Path) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\n")
    assert main(["setup", str(project), "--python", "3.12", "-q"]) == 0
    _recorded(project, "verify")
    init = next((project / ".venv").glob("lib/python*/site-packages/good/__init__.py"))
    init.unlink()  # uv links installed files to its cache: never written through
    init.write_text("VERSION = 'edited'\n")
    assert main(["verify", str(project), "-q", "--full"]) == 1
    record = fastpath.record_path(str(project), "verify")
    assert record is not None
    for _ in range(2):  # the record left before does not answer: the cache file it stat'ed went
        assert _answer(["verify", str(project), "-q"]) == (None, "")
        assert main(["verify", str(project), "-q"]) == 1
