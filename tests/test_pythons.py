import subprocess
from pathlib import Path

import pytest

from bulletproof.errors import InputError, InterpreterNotFound
from bulletproof.host.pythons import (
    find_interpreters,
    query,
    select_target,
    stat_key,
    target_from_lock,
)
from bulletproof.lockfile.meta import LockMeta
from bulletproof.model import Config, Project


def _project(tmp_path: Path, python: str | None = None, requires: str | None = None) -> Project:
    return Project(tmp_path, "p", None, (), (), requires, Config(None, python), False, (), ())


def test_finds_real_interpreters_newest_first() -> None:
    found = find_interpreters()
    assert found, "this machine has at least the interpreter running the tests"
    versions = [tuple(int(x) for x in i.version.split(".")[:2]) for i in found]
    assert versions == sorted(versions, reverse=True)
    assert len({i.path.resolve() for i in found}) == len(found)


def test_each_interpreter_found_has_the_version_it_says_itself(python312: Path) -> None:
    """Each one's version against its own `--version` (not the probe the code runs), and the
    3.12 the tests use is among them."""
    found = find_interpreters()
    for interpreter in found:
        said = subprocess.run(
            [str(interpreter.path), "--version"], capture_output=True, text=True, check=True
        )
        assert f"Python {interpreter.version}" == said.stdout.strip(), interpreter.path
    own = subprocess.run([str(python312), "--version"], capture_output=True, text=True, check=True)
    assert own.stdout.startswith("Python 3.12.")
    assert any(
        i.path.resolve() == python312.resolve() and f"Python {i.version}" == own.stdout.strip()
        for i in found
    ), [str(i.path) for i in found]


def test_version_request_picks_that_version(tmp_path: Path, python312: Path) -> None:
    target = select_target(_project(tmp_path), "3.12", find_interpreters())
    assert target.interpreter.minor == "3.12"


def test_path_request_and_bad_path(tmp_path: Path, python312: Path) -> None:
    assert select_target(_project(tmp_path), str(python312), ()).interpreter.minor == "3.12"
    with pytest.raises(InterpreterNotFound, match="not a working Python 3"):
        select_target(_project(tmp_path), str(tmp_path / "python9"), ())


def test_unknown_version_lists_what_was_found(tmp_path: Path) -> None:
    found = find_interpreters()
    with pytest.raises(InterpreterNotFound) as err:
        select_target(_project(tmp_path), "3.99", found)
    assert err.value.hint is not None and found[0].version in err.value.hint


def test_nonsense_version_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="neither a version"):
        select_target(_project(tmp_path), "three", find_interpreters())


def test_requires_python_and_config(tmp_path: Path, python312: Path) -> None:
    found = find_interpreters()
    assert (
        select_target(_project(tmp_path, requires="<3.13,>=3.12"), None, found).interpreter.minor
        == "3.12"
    )
    assert select_target(_project(tmp_path, python="3.12"), None, found).interpreter.minor == "3.12"
    with pytest.raises(InterpreterNotFound, match="requires-python"):
        select_target(_project(tmp_path, requires=">=4"), None, found)


def test_lock_target_is_reused_only_while_valid(tmp_path: Path, python312: Path) -> None:
    interp = query(python312, "pyenv")
    assert interp is not None
    table = {
        "python": interp.version,
        "python-path": str(python312),
        "python-stat": stat_key(python312),
    }
    meta = LockMeta.from_table(table)
    assert target_from_lock(meta, _project(tmp_path), None) is not None
    assert target_from_lock(meta, _project(tmp_path), "3.12") is not None
    assert target_from_lock(meta, _project(tmp_path), "3.11") is None
    assert target_from_lock(meta, _project(tmp_path, requires=">=3.13"), None) is None
    changed = LockMeta.from_table({**table, "python-stat": "0:0"})
    assert target_from_lock(changed, _project(tmp_path), None) is None
