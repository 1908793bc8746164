"""setup end to end on the test wheelhouse (real uv, real interpreters, no index) for what the
real-projects work added: a usable verdict for an optional part, a lazy package whose submodule
needs a missing library, a project whose own build fails, `-e .` in a requirements file, a
Pipfile with a current and a stale lock, a team lock that cannot be read or is in Poetry 2.1's
format, an undeclared import, and bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bulletproof.cli import main
from tests.conftest import snapshot, write_project

pytestmark = pytest.mark.usefixtures("local_index")

# A PEP 517/660 backend inside the project (backend-path): ``ownpkg`` from src/, editable
# through a .pth. a BROKEN file in the project makes every hook fail, as a broken setup would.
_BACKEND = r"""
import base64, hashlib, os, zipfile

NAME, VERSION = "ownpkg", "0.1"

def _fail():
    if os.path.exists("BROKEN"):
        raise RuntimeError("the version file src/ownpkg/_v.py is listed twice in the manifest")

def get_requires_for_build_editable(config_settings=None):
    _fail()
    return []

get_requires_for_build_wheel = get_requires_for_build_editable

def _wheel(directory, files):
    info = f"{NAME}-{VERSION}.dist-info"
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\nRequires-Dist: good==1.0\n"
    ).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    digest = lambda d: base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode()
    record = "".join(f"{p},sha256={digest(d)},{len(d)}\n" for p, d in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, name), "w") as z:
        for p, d in files.items():
            z.writestr(p, d)
    return name

def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _fail()
    return _wheel(wheel_directory, {"_ownpkg.pth": (os.path.abspath("src") + "\n").encode()})

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _fail()
    src = os.path.join("src", NAME, "__init__.py")
    return _wheel(wheel_directory, {f"{NAME}/__init__.py": open(src, "rb").read()})
"""

_PYPROJECT = """\
[project]
name = "ownpkg"
version = "0.1"
dependencies = ["good==1.0"]

[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]
"""


def _own_project(root: Path, *, broken: bool = False, requirements: str | None = None) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(_PYPROJECT)
    (root / "backend.py").write_text(_BACKEND)
    (root / "src" / "ownpkg").mkdir(parents=True)
    (root / "src" / "ownpkg" / "__init__.py").write_text("import good\nANSWER = 42\n")
    if broken:
        (root / "BROKEN").write_text("")
    if requirements is not None:
        (root / "requirements.txt").write_text(requirements)
    return root


def _python(project: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        cwd="/",
        check=False,
    )


def _user_files(state: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in state.items() if not k.startswith(".bulletproof")}


def _report(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_an_optional_part_of_a_dependency_is_listed_and_the_environment_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # scripts read any exit but 0 as a failure: a part of a dependency the project never asked
    # for (it needs a module its distribution does not require) is not this environment's
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("lazyopt==1.0\n")
    report = tmp_path / "r.json"
    for extra in ((), ("--strict",)):
        capsys.readouterr()
        argv = ["setup", str(project), "--python", "3.12", "--json", str(report), *extra]
        assert main(argv) == 0
        data = _report(report)
        assert data["verification"]["verdict"] == "verified"
        assert data["mitigation"] == []  # never a reason to repair
        assert [(j["module"], j["kind"]) for j in data["verification"]["judged"]] == [
            ("lazyopt.extra", "optional")
        ]
        assert "lazyopt.extra" in capsys.readouterr().out  # listed all the same
    assert (project / ".venv").is_symlink()
    assert main(["verify", str(project)]) == 0
    # the project's own code importing that part makes it the project's need: not verified
    (project / "use.py").write_text("import lazyopt.extra\n")
    assert main(["setup", str(project), "--no-system", "--json", str(report)]) == 6  # incomplete
    judged = _report(report)["verification"]["judged"]
    assert ("lazyopt.extra", "optional") not in [(j["module"], j["kind"]) for j in judged]


def test_a_lazy_package_whose_submodule_needs_a_missing_library_is_not_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("lazylib==1.0\n")
    before = snapshot(project)
    argv = ["setup", str(project), "--python", "3.12", "--no-system"]
    assert main([*argv, "--strict"]) == 1
    out = capsys.readouterr().out
    assert "lazylib.native" in out and "libqwzx-nowhere.so.7" in out
    assert not (project / ".venv").exists()
    assert _user_files(snapshot(project)) == before
    # without --strict: delivered, incomplete, the library named
    assert main(argv) == 6
    out = capsys.readouterr().out
    assert "lazylib.native" in out and "libqwzx-nowhere.so.7" in out and "incomplete:" in out


def test_a_project_whose_own_build_fails_still_gets_its_dependencies_and_its_code_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _own_project(tmp_path / "proj", broken=True)
    code = main(["setup", str(project), "--python", "3.12"])
    out = capsys.readouterr().out
    assert code == 4, out  # usable: the package itself is not installed
    assert "the project's own package does not build" in out
    assert "listed twice in the manifest" in out  # the real error, not the last line
    done = _python(project, "import ownpkg, good; print(ownpkg.ANSWER, good.VERSION)")
    assert done.stdout.strip() == "42 1.0", done.stderr


def test_dash_e_dot_in_a_requirements_file_is_the_project_itself(tmp_path: Path) -> None:
    project = _own_project(tmp_path / "proj", requirements="-e .\nstubby==1.0\n")
    assert main(["setup", str(project), "--python", "3.12"]) == 0
    lock = (project / "pylock.toml").read_text()
    assert 'directory = { path = ".", editable = true }' in lock  # relative to the lock
    done = _python(project, "import ownpkg, good; print(ownpkg.__file__)")
    assert done.returncode == 0 and str(project / "src") in done.stdout, done.stderr


def _pipfile_project(root: Path, wanted: str, locked: str) -> Path:
    root.mkdir(parents=True)
    (root / "Pipfile").write_text(f'[packages]\ngood = "{wanted}"\n[dev-packages]\n')
    lock = {"_meta": {}, "default": {"good": {"version": f"=={locked}"}}, "develop": {}}
    (root / "Pipfile.lock").write_text(json.dumps(lock))
    return root


def test_the_teams_lock_is_honoured_and_a_stale_one_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    current = _pipfile_project(tmp_path / "current", "*", "1.0")
    report = tmp_path / "r.json"
    assert main(["setup", str(current), "--python", "3.12", "--json", str(report)]) == 0
    assert 'name = "good"\nversion = "1.0"' in (current / "pylock.toml").read_text()  # not 2.0
    assert "Pipfile.lock honoured" in capsys.readouterr().err

    stale = _pipfile_project(tmp_path / "stale", ">=2.0", "1.0")
    before = snapshot(stale)
    assert main(["setup", str(stale), "--python", "3.12", "--locked"]) == 2
    err = capsys.readouterr().err
    assert "Pipfile.lock is out of date" in err and "good 1.0" in err
    assert _user_files(snapshot(stale)) == before  # only bulletproof's own run lock is new
    assert main(["setup", str(stale), "--python", "3.12"]) == 0
    assert "resolved afresh" in capsys.readouterr().err
    assert 'name = "good"\nversion = "2.0"' in (stale / "pylock.toml").read_text()


def test_an_undeclared_import_is_added_with_consent_in_the_lock_only(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "tests").mkdir(parents=True)
    (project / "requirements.txt").write_text("stubby==1.0\n")
    (project / "tests" / "test_it.py").write_text("import good\n")
    # no consent (no terminal): delivered without it, incomplete, the import listed
    assert main(["setup", str(project), "--python", "3.12"]) == 6
    assert "good" not in (project / "pylock.toml").read_text()
    report = tmp_path / "r.json"
    assert main(["setup", str(project), "--python", "3.12", "--yes", "--json", str(report)]) == 0
    attempts = _report(report)["mitigation"]
    assert [(a["package"], a["stage"], a["fix"]["value"], a["outcome"]) for a in attempts] == [
        ("good", "undeclared", "good", "fixed")
    ]
    assert "tests/test_it.py:1" in attempts[0]["cause"]
    lock = (project / "pylock.toml").read_text()
    assert 'module = "good"' in lock and 'name = "good"' in lock
    assert (project / "requirements.txt").read_text() == "stubby==1.0\n"
    assert main(["setup", str(project), "--json", str(report)]) == 0  # carried: nothing to do
    assert not _report(report)["environment"]["changed"]


def test_a_group_that_includes_itself_is_bad_input(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[dependency-groups]\ndev = [{include-group = "test"}]\ntest = [{include-group = "dev"}]\n'
    )
    before = snapshot(project)
    assert main(["setup", str(project), "--python", "3.12"]) == 2
    assert snapshot(project) == before


def test_doctor_says_when_the_projects_own_package_does_not_build(tmp_path: Path) -> None:
    project = _own_project(tmp_path / "proj", broken=True)
    pyproject = project / "pyproject.toml"
    # dependencies from the backend: uv has to build the metadata, and the build fails
    pyproject.write_text(
        _PYPROJECT.replace('dependencies = ["good==1.0"]', 'dynamic = ["dependencies"]')
    )
    before = snapshot(project)
    report = tmp_path / "r.json"
    assert main(["doctor", str(project), "--python", "3.12", "--json", str(report)]) == 1
    findings = {f["id"]: f for f in _report(report)["diagnosis"]["findings"]}
    assert "listed twice in the manifest" in findings["own-build:ownpkg"]["why"]
    assert snapshot(project) == before  # doctor changes nothing


def test_a_vcs_requirement_is_installed_outside_the_hashed_sync(tmp_path: Path) -> None:
    from tests.fixtures.wheels import _BACKEND as TINY_BACKEND

    repo = tmp_path / "vcspkg-repo"
    (repo / "src" / "vcspkg").mkdir(parents=True)
    (repo / "src" / "vcspkg" / "__init__.py").write_text("FROM = 'git'\n")
    (repo / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: vcspkg\nVersion: 0.3\n")
    (repo / "tiny_backend.py").write_text(TINY_BACKEND)
    (repo / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "tiny_backend"\nbackend-path = ["."]\n'
    )
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "c"]):
        subprocess.run([*git, *args], check=True)
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text(f"vcspkg @ git+{repo.as_uri()}\ngood==1.0\n")
    assert main(["setup", str(project), "--python", "3.12"]) == 0
    assert "vcs = {" in (project / "pylock.toml").read_text()
    done = _python(project, "import vcspkg, good; print(vcspkg.FROM)")
    assert done.stdout.strip() == "git", done.stderr


def test_a_uv_lock_is_read_with_uv_and_its_versions_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bulletproof.proc import uv_bin

    project = tmp_path / "proj"
    project.mkdir()
    pyproject = project / "pyproject.toml"
    head = '[project]\nname = "app"\nversion = "0"\nrequires-python = ">=3.9"\n'
    pyproject.write_text(head + 'dependencies = ["good<2"]\n[tool.uv]\npackage = false\n')
    subprocess.run([uv_bin(), "lock", "--directory", str(project), "-q"], check=True)
    # the team widened the requirement; its lock (good 1.0) still satisfies it
    pyproject.write_text(head + 'dependencies = ["good"]\n[tool.uv]\npackage = false\n')
    assert main(["setup", str(project), "--python", "3.12"]) == 0
    assert "uv.lock honoured" in capsys.readouterr().err
    assert 'name = "good"\nversion = "1.0"' in (project / "pylock.toml").read_text()


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("poetry.lock", '[[package]]\nname = "good"\nversion = 1.0\n'),  # a float, not a string
        ("pdm.lock", "[[package]\nname = 'good'\n"),
        ("Pipfile.lock", '{"default": {"good": {"version": "==1.0"'),
    ],
    ids=["poetry", "pdm", "pipfile"],
)
def test_a_team_lock_that_cannot_be_read_is_set_aside_and_only_locked_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    project = write_project(tmp_path / "proj", "good\n")
    (project / name).write_text(text)
    before = snapshot(project)
    assert main(["setup", str(project), "--python", "3.12", "--locked"]) == 2
    err = capsys.readouterr().err
    assert f"{name} could not be read (" in err and "--locked needs the team's lock" in err
    assert _user_files(snapshot(project)) == before

    assert main(["setup", str(project), "--python", "3.12"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert f"{name} could not be read" in err
    assert "resolved from the declared requirements instead" in err
    assert 'name = "good"\nversion = "2.0"' in (project / "pylock.toml").read_text()


def test_a_poetry_2_1_lock_with_markers_by_group_is_honoured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "proj", "good\n")
    (project / "poetry.lock").write_text(
        '[[package]]\nname = "good"\nversion = "1.0"\noptional = false\n'
        'python-versions = "*"\ngroups = ["main", "dev"]\n'
        "markers = {dev = 'sys_platform != \"emscripten\"', main = \"python_version >= '3.9'\"}\n"
        'files = []\n\n[metadata]\nlock-version = "2.1"\npython-versions = "^3.9"\n'
        'content-hash = "0"\n'
    )
    assert main(["setup", str(project), "--python", "3.12", "--locked"]) == 0
    assert "poetry.lock honoured" in capsys.readouterr().err
    assert 'name = "good"\nversion = "1.0"' in (project / "pylock.toml").read_text()
