"""What bulletproof owns and what it never touches: generated files with their marker and hash,
DIR/.bulletproof as a real folder of its own, a foreign .venv moved aside under a name of its
own, the mode of the lock, no bytecode in the project, nothing left behind by a run that failed
on its input. Real runs on real files."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulletproof.apply.generations import Store
from bulletproof.apply.statedir import OWNER_MARK
from bulletproof.cli import main
from bulletproof.errors import InputError
from tests.conftest import snapshot, write_project


def _complete(store: Store) -> Path:
    gen = store.new_generation()
    (gen.path / "pyvenv.cfg").write_text("")
    store.mark_complete(gen, {"n": gen.number})
    return gen.path


@pytest.fixture
def umask022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


# --- generated files -------------------------------------------------------------------------


def test_the_users_troubleshooting_page_is_refused_unless_forced_or_written_elsewhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "proj", "good\n")
    mine = project / "TROUBLESHOOTING.md"
    mine.write_bytes(b"# Our own notes\r\n\r\nrestart the VPN first\n")
    before = mine.read_bytes()
    assert main(["generate", "troubleshooting", str(project), "-q"]) == 2
    err = capsys.readouterr().err
    assert str(mine) in err and "--force" in err and "--output" in err
    assert mine.read_bytes() == before

    elsewhere = tmp_path / "generated.md"
    assert main(["generate", "troubleshooting", str(project), "--output", str(elsewhere)]) == 0
    assert mine.read_bytes() == before
    last = elsewhere.read_text().splitlines()[-1]
    assert last.startswith("<!-- bulletproof-generated sha256=") and last.endswith(" -->")

    assert main(["generate", "troubleshooting", str(project), "--force", "-q"]) == 0
    assert mine.read_text().startswith("# Troubleshooting")
    # ours and unchanged: written again without --force; edited: the user's again
    assert main(["generate", "troubleshooting", str(project), "-q"]) == 0
    with mine.open("a") as handle:
        handle.write("\nmy own addition\n")
    edited = mine.read_bytes()
    assert main(["generate", "troubleshooting", str(project), "-q"]) == 2
    assert "was edited since" in capsys.readouterr().err
    assert mine.read_bytes() == edited


def test_a_hand_edited_env_template_is_refused_and_an_unedited_one_regenerated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = tmp_path / "app.py"
    code.write_text('import os\nHOST = os.getenv("QV_HOST", "localhost")\n')
    template = tmp_path / ".env.template"
    assert main(["generate", "env", str(tmp_path), "-q"]) == 0
    assert template.read_text().splitlines()[-1].startswith("# bulletproof-generated sha256=")
    code.write_text(code.read_text() + 'PORT = os.getenv("QV_PORT", "80")\n')
    assert main(["generate", "env", str(tmp_path), "-q"]) == 0  # unedited: ours to replace
    assert "\nQV_PORT=80\n" in template.read_text()
    template.write_text(template.read_text().replace("QV_HOST=localhost", "QV_HOST=db.internal"))
    edited = template.read_bytes()
    assert main(["generate", "env", str(tmp_path), "-q"]) == 2
    assert str(template) in capsys.readouterr().err
    assert template.read_bytes() == edited
    # a link where the file goes is not written through, even forced: the link is replaced
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep\n")
    template.unlink()
    template.symlink_to(target)
    capsys.readouterr()
    assert main(["generate", "env", str(tmp_path), "-q"]) == 2
    assert f"is a link to {target}, which is not followed" in capsys.readouterr().err
    assert main(["generate", "env", str(tmp_path), "--output", str(tmp_path), "-q"]) == 2
    assert f"{tmp_path} is a folder" in capsys.readouterr().err
    assert main(["generate", "env", str(tmp_path), "--force", "-q"]) == 0
    assert target.read_text() == "keep\n" and not template.is_symlink()


# --- the state folder ------------------------------------------------------------------------


@pytest.mark.usefixtures("local_index")
def test_a_linked_state_folder_is_refused_and_what_it_points_to_is_untouched(
    tmp_path: Path, python312: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\n")
    other = tmp_path / "precious"
    (other / "generations" / "gen-0001").mkdir(parents=True)  # names we would delete in
    (other / "trash").mkdir()
    (other / "lock-abc").mkdir()
    (other / "notes.txt").write_text("mine\n")
    (project / ".bulletproof").symlink_to(other)
    before = snapshot(other)
    for argv in (["setup", str(project), "--python", "3.12"], ["rollback", str(project)]):
        assert main(argv) == 2
        assert f"{project / '.bulletproof'} is a link" in capsys.readouterr().err
    assert snapshot(other) == before
    assert not (project / ".venv").exists() and not (project / "pylock.toml").exists()
    # another project's history there is not read into this one's guide
    (other / "attempts.json").write_text('[{"package": "zq-elsewhere", "outcome": "fixed"}]')
    assert main(["generate", "troubleshooting", str(project), "-q"]) == 0
    assert "zq-elsewhere" not in (project / "TROUBLESHOOTING.md").read_text()


def test_a_foreign_state_folder_is_refused_an_older_one_of_ours_is_marked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "proj", "good\n")
    state = project / ".bulletproof"
    (state / "generations").mkdir(parents=True)
    (state / "design.sketch").write_text("the user's\n")
    before = snapshot(state)
    assert main(["rollback", str(project)]) == 2
    assert "design.sketch" in capsys.readouterr().err
    assert snapshot(state) == before
    # what an older bulletproof left (no marker, only names it makes) is taken and marked
    (state / "design.sketch").unlink()
    (state / "run.lock").write_text("")
    (state / "lock-x1y2").mkdir()
    store = Store(project)
    gen = _complete(store)
    with store.locked(0, lambda: None):
        assert store.clear_unfinished() == []
    assert (state / OWNER_MARK).is_file() and gen.is_dir() and not (state / "lock-x1y2").exists()
    state.rename(project / "moved")
    state.write_text("a file\n")
    with pytest.raises(InputError, match="is a file"), store.locked(0, lambda: None):
        pass


@pytest.mark.usefixtures("local_index")
def test_a_scratch_folder_a_killed_run_left_is_cleared_by_the_next(
    tmp_path: Path, python312: Path, umask022: None
) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\n")
    (project / "pkg").mkdir()
    (project / "pkg" / "__init__.py").write_text("import good\n")
    (project / "pkg" / "mod.py").write_text("from pkg import good\n")
    kept = project / "old" / "__pycache__"
    kept.mkdir(parents=True)
    (kept / "stale.cpython-312.pyc").write_bytes(b"theirs")
    assert main(["setup", str(project), "--python", "3.12"]) == 0
    # nothing compiled into the project's own tree; a __pycache__ it had is as it was
    caches = {p for p in project.rglob("__pycache__") if ".bulletproof" not in p.parts}
    assert caches == {kept} and (kept / "stale.cpython-312.pyc").read_bytes() == b"theirs"
    # the lock is meant to be shared: the mode a new file gets under the umask
    lock = project / "pylock.toml"
    assert stat.S_IMODE(lock.stat().st_mode) == 0o644
    leftover = project / ".bulletproof" / "lock-k1ll3d"
    (leftover / "sub").mkdir(parents=True)
    (leftover / "sub" / "pylock.toml").write_text("")
    lock.chmod(0o640)  # a mode the user chose is kept when the lock is written again
    (project / "requirements.txt").write_text("good==2.0\n")
    assert main(["setup", str(project)]) == 0
    assert not leftover.exists()
    assert stat.S_IMODE(lock.stat().st_mode) == 0o640


@pytest.mark.usefixtures("local_index")
def test_only_the_switch_links_a_killed_run_left_are_removed(
    tmp_path: Path, python312: Path
) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\n")
    assert main(["setup", str(project), "--python", "3.12"]) == 0
    gen = str((project / ".venv").readlink())
    left = project / ".venv.tmp-4242"
    left.symlink_to(gen)  # what a run killed between making and renaming its link leaves
    theirs = {
        project / ".venv.tmp-notes": gen,  # a user's links that merely share the prefix
        project / ".venv.tmp-77": "/usr",
    }
    for link, target in theirs.items():
        link.symlink_to(target)
    (project / "requirements.txt").write_text("good==2.0\n")
    assert main(["setup", str(project)]) == 0
    assert not left.is_symlink()
    assert all(link.readlink() == Path(target) for link, target in theirs.items())


# --- a foreign .venv -------------------------------------------------------------------------


def test_foreign_venvs_moved_aside_in_the_same_second_keep_distinct_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("time.strftime", lambda *_: "20250101-120000")  # one second for all
    store = Store(tmp_path)
    gen = store.generations_dir
    _complete(store)
    messages = []
    for i, kind in enumerate(("dir", "dir", "link")):
        venv = tmp_path / ".venv"
        if venv.is_symlink():
            venv.unlink()
        if kind == "dir":
            venv.mkdir()
            (venv / "mine.txt").write_text(f"venv {i}\n")
        else:
            venv.symlink_to(tmp_path / "somewhere-else")
        messages.append(store.switch(store.generations()[0]))
    names = sorted(p.name for p in tmp_path.glob(".venv.moved-*"))
    assert names == [
        ".venv.moved-20250101-120000",
        ".venv.moved-20250101-120000-2",
        ".venv.moved-20250101-120000-3",
    ]
    assert [m and m.split("moved it to ")[1].split()[0] for m in messages] == names
    assert (tmp_path / names[0] / "mine.txt").read_text() == "venv 0\n"
    assert (tmp_path / names[1] / "mine.txt").read_text() == "venv 1\n"
    assert (tmp_path / names[2]).readlink() == tmp_path / "somewhere-else"
    assert (tmp_path / ".venv").is_symlink() and gen.is_dir()


def test_rollback_says_it_moved_a_foreign_venv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "proj", "good\n")
    store = Store(project)
    for _ in range(2):
        _complete(store)
    store.switch(store.generations()[1])
    (project / ".venv").unlink()
    (project / ".venv").mkdir()
    (project / ".venv" / "mine.txt").write_text("keep me\n")
    assert main(["rollback", str(project)]) == 0
    said = capsys.readouterr()
    moved = next(project.glob(".venv.moved-*"))
    assert f"moved it to {moved.name}" in said.err and "now points at gen-0002" in said.out
    assert (moved / "mine.txt").read_text() == "keep me\n"


# --- nothing left behind by a run that failed on its input -----------------------------------


@pytest.mark.usefixtures("local_index")
def test_runs_that_fail_on_input_leave_no_state_folder(
    tmp_path: Path, python312: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused(argv: list[str], why: str) -> None:
        assert main(argv) == 2, argv
        err = " ".join(capsys.readouterr().err.split())  # unwrapped
        assert why in err, err

    fresh = write_project(tmp_path / "fresh", "good\n")
    refused(["rollback", str(fresh)], "no earlier verified environment to roll back to")
    unresolvable = write_project(tmp_path / "unres", "no-such-package-qwzx\n")
    refused(
        ["setup", str(unresolvable), "--python", "3.12", "--strict"],
        "no-such-package-qwzx was not found on the index",
    )
    broken = write_project(tmp_path / "broken", "good\n", pyproject="[project\nname =")
    refused(["setup", str(broken), "--python", "3.12"], "pyproject.toml: not valid TOML")
    refused(["rollback", str(broken)], "pyproject.toml: not valid TOML")
    refused(["setup", str(tmp_path / "missing")], f"{tmp_path / 'missing'}: no such folder")
    assert not (tmp_path / "missing").exists()
    for project in (fresh, unresolvable, broken):
        assert not (project / ".bulletproof").exists(), project
        assert sorted(p.name for p in project.iterdir()) == sorted(
            ["requirements.txt"] + (["pyproject.toml"] if project == broken else [])
        )
