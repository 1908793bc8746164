"""verify/reuse.py through verify(): a module is imported again only when its distribution, or
one it reaches through its requirements, changed; a changed file is never missed. Real venvs,
real wheels; each module writes its name to a log when it is really imported."""

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bulletproof.proc import uv_bin
from bulletproof.project import discover
from bulletproof.verify.run import verify
from bulletproof.verify.values import ImportStatus, Verification
from tests.conftest import write_project
from tests.fixtures.wheels import make_wheel


@pytest.fixture
def house(tmp_path: Path) -> Path:
    """base <- mid <- top (each requires the one before), and other alone."""
    house = tmp_path / "house"
    house.mkdir()
    log = tmp_path / "imported.log"

    def module(name: str, body: str = "") -> str:
        return f"{body}open({str(log)!r}, 'a').write({name!r} + '\\n')\n"

    for version in ("1.0", "2.0"):
        make_wheel(house, "base", version, {"base.py": module("base", f"V = {version!r}\n")})
    make_wheel(house, "mid", "1.0", {"mid.py": module("mid", "import base\n")}, requires=("base",))
    make_wheel(house, "top", "1.0", {"top.py": module("top", "import mid\n")}, requires=("mid",))
    make_wheel(house, "other", "1.0", {"other.py": module("other")})
    # imports what no requirement of its names: fails until someone installs it
    make_wheel(house, "needy", "1.0", {"needy.py": module("needy", "import helper_mod\n")})
    make_wheel(house, "helper", "1.0", {"helper_mod.py": module("helper")})
    # needs base 2 without saying so: its failure depends on a distribution it does not require
    fragile = "import base\nif base.V == '1.0':\n    raise ImportError('needs base 2')\n"
    make_wheel(house, "fragile", "1.0", {"fragile.py": module("fragile", fragile)})
    return house


def _env(path: Path, python312: Path, house: Path, *names: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([uv_bin(), "venv", str(path), "--python", str(python312), "-q"], check=True)
    _install(path, house, *names)
    return path


def _install(env: Path, house: Path, *names: str) -> None:
    python = str(env / "bin" / "python")
    args = ["pip", "install", "-q", "--no-index", "--find-links", str(house), "--python", python]
    subprocess.run([uv_bin(), *args, *names], check=True)


def _verify(
    env: Path, project_dir: Path, *, reuse: bool | None = True
) -> tuple[Verification, int, list[str]]:
    """The verification, how many modules it said it would import, and which it did."""
    log = project_dir.parent / "imported.log"
    log.write_text("")
    totals: list[int] = []

    def on_imports(total: int) -> Callable[[int], None]:
        totals.append(total)
        return lambda done: None

    project = discover(project_dir)
    result = verify(env, project, full=True, on_imports=on_imports, reuse_imports=reuse)
    return result, sum(totals), sorted(set(log.read_text().split()))  # once per worker


def _status(result: Verification) -> dict[str, ImportStatus]:
    return {m.module: m.status for m in result.modules}


def test_only_the_changed_distribution_and_its_dependents_are_imported_again(
    tmp_path: Path, python312: Path, house: Path
) -> None:
    project = write_project(tmp_path / "proj", "top\nother\n")
    gen = tmp_path / "state" / "generations" / "gen-0001"
    env = _env(gen, python312, house, "top", "other", "base==1.0")
    first, count, imported = _verify(env, project)
    assert first.ok and count == 4 and imported == ["base", "mid", "other", "top"]
    again, count, imported = _verify(env, project)
    assert (count, imported) == (0, []) and again.ok
    assert _status(again) == _status(first)
    # base moves: it and what reaches it (mid, top) are imported again; other is not
    _install(env, house, "base==2.0")
    moved, count, imported = _verify(env, project)
    assert moved.ok and count == 3 and imported == ["base", "mid", "top"]
    # without reuse (by default with full: --full) everything is imported
    for reuse in (False, None):
        _, count, imported = _verify(env, project, reuse=reuse)
        assert count == 4 and imported == ["base", "mid", "other", "top"]


def test_a_new_environment_reuses_what_another_one_imported(
    tmp_path: Path, python312: Path, house: Path
) -> None:
    project = write_project(tmp_path / "proj", "top\nother\n")
    generations = tmp_path / "state" / "generations"
    old = _env(generations / "gen-0001", python312, house, "top", "other", "base==1.0")
    assert _verify(old, project)[1] == 4
    new = _env(generations / "gen-0002", python312, house, "top", "other", "base==2.0")
    result, count, imported = _verify(new, project)
    assert result.ok and count == 3 and imported == ["base", "mid", "top"]
    # anywhere else, the same files are the same results: the keys are made of the files
    elsewhere = _env(tmp_path / "elsewhere" / "venv", python312, house, "top", "other", "base==1.0")
    assert _verify(elsewhere, project)[1:] == (0, [])


def test_a_file_changed_behind_record_is_imported_again_not_answered_from_the_kept_result(
    tmp_path: Path, python312: Path, house: Path
) -> None:
    project = write_project(tmp_path / "proj", "top\nother\n")
    env = _env(tmp_path / "state" / "generations" / "gen-0001", python312, house, "top", "other")
    assert _verify(env, project)[0].ok
    mid = next(env.glob("lib/python*/site-packages/mid.py"))
    mid.unlink()  # uv links installed files to its cache: never written through
    mid.write_text("raise ImportError('edited by hand')\n")  # RECORD lists the old hash
    result, _, imported = _verify(env, project)
    assert not result.ok and [p.distribution for p in result.integrity_problems] == ["mid"]
    statuses = _status(result)
    assert statuses["mid"] is ImportStatus.FAILED and statuses["top"] is ImportStatus.FAILED
    assert statuses["base"] is ImportStatus.OK and statuses["other"] is ImportStatus.OK
    assert "base" not in imported and "other" not in imported  # still reused
    # the failure is not kept: mended, it imports again and verifies
    mid.write_text("import base\n")
    result, _, _ = _verify(env, project)
    assert _status(result)["mid"] is ImportStatus.OK


def test_a_variable_set_since_imports_everything_again(
    tmp_path: Path, python312: Path, house: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_project(tmp_path / "proj", "top\nother\n")
    env = _env(tmp_path / "state" / "generations" / "gen-0001", python312, house, "top", "other")
    assert _verify(env, project)[1] == 4
    assert _verify(env, project)[1] == 0
    monkeypatch.setenv("A_SETTING_A_MODULE_MAY_READ", "1")  # the workers inherit it
    assert _verify(env, project)[1:] == (4, ["base", "mid", "other", "top"])


def test_a_kept_failure_is_tried_again_once_what_it_looked_for_is_installed(
    tmp_path: Path, python312: Path, house: Path
) -> None:
    project = write_project(tmp_path / "proj", "needy\nother\n")
    env = _env(tmp_path / "state" / "generations" / "gen-0001", python312, house, "needy", "other")
    first, count, _ = _verify(env, project)
    assert count == 2 and _status(first)["needy"] is ImportStatus.FAILED
    again, count, imported = _verify(env, project)  # nothing changed: the failure is kept
    assert (count, imported) == (0, []) and _status(again) == _status(first)
    _install(env, house, "helper")  # no requirement of needy's: only its failure is tried again
    mended, count, imported = _verify(env, project)
    assert _status(mended)["needy"] is ImportStatus.OK and "other" not in imported
    assert count == 2 and "needy" in imported  # needy, and helper's own module


def test_a_kept_failure_is_tried_again_when_what_its_import_loaded_changes_and_only_then(
    tmp_path: Path, python312: Path, house: Path
) -> None:
    project = write_project(tmp_path / "proj", "fragile\nneedy\nbase\n")
    gen = tmp_path / "state" / "generations" / "gen-0001"
    env = _env(gen, python312, house, "fragile", "needy", "base==1.0")
    first, count, _ = _verify(env, project)
    assert count == 3
    assert _status(first)["fragile"] is ImportStatus.FAILED
    assert _status(first)["needy"] is ImportStatus.FAILED
    assert _verify(env, project)[1:] == (0, [])
    # base moves: fragile's import loaded it, needy's did not (its failure is kept)
    _install(env, house, "base==2.0")
    moved, count, imported = _verify(env, project)
    assert _status(moved)["fragile"] is ImportStatus.OK
    assert _status(moved)["needy"] is ImportStatus.FAILED
    assert count == 2 and imported == ["base", "fragile"]


def test_a_change_to_the_systems_packages_imports_successes_again(
    tmp_path: Path, python312: Path, house: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An extension or a ctypes load that found a system library once may not find it after a
    package is removed: a kept success is not reused across a change to the system's records."""
    records = tmp_path / "dpkg-status"
    records.write_text("Package: libzq1\n")
    monkeypatch.setattr("bulletproof.verify.reuse._SYSTEM", (str(records),))
    project = write_project(tmp_path / "proj", "top\nother\n")
    env = _env(tmp_path / "state" / "generations" / "gen-0001", python312, house, "top", "other")
    assert _verify(env, project)[1] == 4
    assert _verify(env, project)[1] == 0
    records.write_text("")  # the package removed
    assert _verify(env, project)[1:] == (4, ["base", "mid", "other", "top"])
