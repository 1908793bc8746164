"""A property: whatever the user already has in the project folder, no command changes a byte of
it, and nothing is written outside DIR/.bulletproof and the files the command documents.

The pre-existing things are the ones a careless or hostile user leaves: a real `.venv`, an
earlier `.venv.moved-*`, their own TROUBLESHOOTING.md and .env.template, another tool's
pylock.toml, and `.bulletproof` as a file, a link to a folder of theirs, or a folder of theirs.
"""

import hashlib
import itertools
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bulletproof.cli import main
from tests.conftest import write_project

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_index", "python312")]

STATE_FORMS = ("absent", "file", "link", "foreign folder")
USER_FILES = ("venv", "moved", "troubleshooting", "template", "lock")
COMMANDS = (
    ("setup", "--python", "3.12"),
    ("verify",),
    ("generate", "env"),
    ("generate", "troubleshooting"),
    ("rollback",),
)
# what each command documents that it may create in DIR (beside DIR/.bulletproof)
DOCUMENTED = {
    "setup": {".venv", "pylock.toml"},
    "verify": set(),
    "generate": {"TROUBLESHOOTING.md", ".env.template"},
    "rollback": {".venv"},
}
_counter = itertools.count()


def _tree(root: Path) -> dict[str, str]:
    """Every path under root (links not followed) with a digest of what it is."""
    state = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                state[rel] = f"-> {path.readlink()}"
            elif path.is_file():
                state[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                state[rel] = "dir"
    return state


def _plant(project: Path, outside: Path, state_form: str, planted: frozenset[str]) -> None:
    if "venv" in planted:
        (project / ".venv" / "bin").mkdir(parents=True)
        (project / ".venv" / "bin" / "activate").write_text("# the user's own venv\n")
        (project / ".venv" / "notes.txt").write_text("mine\n")
    if "moved" in planted:
        moved = project / ".venv.moved-20260101-000000"
        moved.mkdir()
        (moved / "keep.txt").write_text("an earlier venv of mine\n")
    if "troubleshooting" in planted:
        (project / "TROUBLESHOOTING.md").write_text("# Our own guide\n\nAsk Ann.\n")
    if "template" in planted:
        (project / ".env.template").write_text("# ours, by hand\nAPI_URL=http://localhost\n")
    if "lock" in planted:
        (project / "pylock.toml").write_text('lock-version = "1.0"\ncreated-by = "other"\n')
    outside.mkdir()
    (outside / "precious.txt").write_text("not bulletproof's\n")
    (outside / "generations").mkdir()
    (outside / "generations" / "gen-0001").mkdir()
    (outside / "generations" / "gen-0001" / "data").write_text("looks like a generation\n")
    state = project / ".bulletproof"
    if state_form == "file":
        state.write_text("a file of mine named .bulletproof\n")
    elif state_form == "link":
        state.symlink_to(outside, target_is_directory=True)
    elif state_form == "foreign folder":
        state.mkdir()
        (state / "my-notes.txt").write_text("my own folder\n")


def _refusal(
    command: tuple[str, ...], state_form: str, planted: frozenset[str], set_up: bool
) -> str | None:
    """What the command must refuse over, as its message names it; None: it must succeed."""
    name = command[-1] if command[0] == "generate" else command[0]
    theirs = ".bulletproof" if state_form != "absent" else None  # a state folder not ours
    if name == "setup":
        return theirs or ("pylock.toml" if "lock" in planted else None)  # another tool's lock
    if name == "verify":
        return None if set_up else "no environment at"
    if name == "rollback":  # one setup leaves nothing older to go back to
        return theirs or "no earlier verified environment"
    planted_as, file = {
        "env": ("template", ".env.template"),
        "troubleshooting": ("troubleshooting", "TROUBLESHOOTING.md"),
    }[name]
    return file if planted_as in planted else None  # the user's own file is never replaced


def _assert_done(project: Path, command: tuple[str, ...]) -> None:
    """What a command that succeeded promises to leave."""
    if command[0] == "setup":
        venv = project / ".venv"
        generations = (project / ".bulletproof" / "generations").resolve()
        assert venv.is_symlink() and venv.resolve().parent == generations, venv
        assert (venv / "bin" / "python").exists()
    elif command[0] == "generate":
        written = ".env.template" if command[1] == "env" else "TROUBLESHOOTING.md"
        assert "bulletproof-generated" in (project / written).read_text()


def _moved_asides(project: Path, before: set[str]) -> list[Path]:
    return [p for p in project.glob(".venv.moved-*") if p.name not in before]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    # half the cases with no .bulletproof, so that runs that succeed are met often
    state_form=st.one_of(st.just("absent"), st.sampled_from(STATE_FORMS)),
    planted=st.frozensets(st.sampled_from(USER_FILES)),
    commands=st.lists(st.sampled_from(COMMANDS), min_size=1, max_size=3),
)
def test_no_user_byte_changes_and_nothing_is_written_outside_what_is_documented(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    state_form: str,
    planted: frozenset[str],
    commands: list[tuple[str, ...]],
) -> None:
    base = tmp_path / f"case-{next(_counter)}"
    project = write_project(base / "proj", "good==1.0\n")
    outside = base / "outside"
    _plant(project, outside, state_form, planted)
    user_before = _tree(project)
    outside_before = _tree(outside)
    moved_before = {p.name for p in project.glob(".venv.moved-*")}
    allowed_new: set[str] = set()
    set_up = False

    for command in commands:
        capsys.readouterr()
        code = main([*command, str(project)])
        err = " ".join(capsys.readouterr().err.split())  # unwrapped
        event(f"{' '.join(command[:2])} with .bulletproof {state_form}: exit {code}")
        refused = _refusal(command, state_form, planted, set_up)
        if refused is None:
            assert code == 0, f"{command} failed: {err}"
            _assert_done(project, command)
            set_up = set_up or command[0] == "setup"
        else:
            assert code == 2 and refused in err, f"{command} should refuse over {refused}: {err}"
        allowed_new |= DOCUMENTED[command[0]]

    assert _tree(outside) == outside_before, "a folder outside the project changed"
    after = _tree(project)
    asides = _moved_asides(project, moved_before)
    for rel, digest in user_before.items():
        if rel.startswith(".bulletproof") and state_form == "absent":
            continue
        if rel == ".venv" or rel.startswith(".venv/"):
            # a user's .venv may only be moved aside, whole: the same bytes under a new name
            if after.get(rel) == digest:
                continue
            inner = rel.removeprefix(".venv")
            assert any(after.get(a.name + inner) == digest for a in asides), rel
            continue
        assert after.get(rel) == digest, f"{rel} changed or went"
    for rel in after.keys() - user_before.keys():
        top = rel.split("/", 1)[0]
        ours = top in allowed_new or any(top == a.name for a in asides)
        # .bulletproof is bulletproof's only where the user had none
        ours = ours or (top == ".bulletproof" and state_form == "absent")
        assert ours, f"{rel} was written, and no command documents it"
