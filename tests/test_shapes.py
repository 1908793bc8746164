"""Each shape reader on small projects written here: Poetry (through poetry-core), PEP 735
groups, Pipfile and its lock, the team's locks, requirement folders, a VCS version without
git; and discover() composing them, with bad input named by file and key."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bulletproof.errors import InputError
from bulletproof.model import Selection
from bulletproof.project import discover
from bulletproof.shapes.groups import pep735_groups
from bulletproof.shapes.pipfile import read_pipfile
from bulletproof.shapes.poetry import poetry_groups
from bulletproof.shapes.reqfiles import choose
from bulletproof.shapes.scm import pretend_version_env
from bulletproof.shapes.teamlock import TeamLock, find_team_lock, stale_reasons
from bulletproof.tomlcompat import tomllib

POETRY = """\
[tool.poetry]
name = "demo-app"
version = "1.0"
description = ""
authors = ["A <a@example.invalid>"]

[tool.poetry.dependencies]
python = "^3.9"
requests = "^2.27"

[tool.poetry.group.dev]
optional = true

[tool.poetry.group.dev.dependencies]
pytest = "^7.4"
greenlet = [
    {version = ">=3.1,<3.2", python = "<3.10"},
    {version = ">=3.1,<4", python = ">=3.10"},
]

[tool.poetry.group.docs.dependencies]
sphinx = "*"

[build-system]
requires = ["poetry-core"]
build-backend = "poetry.core.masonry.api"
"""


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_poetry_groups_come_from_poetry_core_as_pep508(tmp_path: Path) -> None:
    root = _write(tmp_path, {"pyproject.toml": POETRY})
    groups = poetry_groups(root, tomllib.loads(POETRY))
    assert groups is not None
    assert groups["main"] == ["requests (>=2.27,<3.0)"]
    assert "pytest (>=7.4,<8.0)" in groups["dev"]  # an optional group is still read
    assert any(g.startswith("greenlet") and "python_version" in g for g in groups["dev"])
    assert groups["docs"] == ["sphinx"]


def test_a_poetry_constraint_that_is_wrong_is_named_by_its_key(tmp_path: Path) -> None:
    text = POETRY.replace('pytest = "^7.4"', 'pytest = "^^7.4"')
    root = _write(tmp_path, {"pyproject.toml": text})
    with pytest.raises(InputError) as caught:
        discover(root)
    assert "[tool.poetry.group.dev.dependencies] pytest" in caught.value.message
    assert caught.value.exit_code == 2


def test_poetry_project_takes_its_dev_group_by_default_not_docs(tmp_path: Path) -> None:
    project = discover(_write(tmp_path, {"pyproject.toml": POETRY}))
    assert project.shape == "poetry" and project.installable
    assert project.groups == ("dev",)
    assert any(r.startswith("pytest") for r in project.group_requirements)
    assert not any(r.startswith("sphinx") for r in project.group_requirements)
    with_docs = discover(tmp_path, Selection(groups=("docs",)))
    assert with_docs.groups == ("dev", "docs")
    only = discover(tmp_path, Selection(only_groups=("docs",)))
    assert only.group_requirements == ("sphinx",) and only.pyproject is None
    assert discover(tmp_path, Selection(dev=False)).groups == ()


def test_pep735_include_group_is_expanded_and_a_cycle_is_named() -> None:
    data = {"dependency-groups": {"test": ["pytest"], "dev": [{"include-group": "test"}, "ruff"]}}
    assert pep735_groups(data) == {"test": ["pytest"], "dev": ["pytest", "ruff"]}
    loop = {"dependency-groups": {"a": [{"include-group": "b"}], "b": [{"include-group": "a"}]}}
    with pytest.raises(InputError, match=r"\[dependency-groups\] .* includes itself"):
        pep735_groups(loop)
    with pytest.raises(InputError, match=r"dev\[0\] 'pytest>>1'"):
        pep735_groups({"dependency-groups": {"dev": ["pytest>>1"]}})


@pytest.mark.parametrize(
    ("groups", "said"),
    [
        ({"dev": [{"include-group": "dev"}]}, r"\] dev: includes itself \(dev includes dev\)"),
        ({"dev": [{"include-group": "nosuch"}]}, r"\] dev: .*'nosuch' not found"),
        ({"dev": [{"include": "test"}], "test": []}, r"\] dev: .*\{'include': 'test'\}"),
        ({"dev": [{"include-group": 3}]}, r"\] dev: .*not a string"),
        ({"dev": "pytest"}, r"\] dev must be a list"),
        ({"dev": [3]}, r"\] dev\[0\] must be a string"),
        ({"Dev": ["pytest"], "dev": ["ruff"]}, r"\]: .*dev \(Dev, dev\)"),
    ],
)
def test_a_malformed_group_is_named_with_its_file_and_key(
    groups: dict[str, object], said: str
) -> None:
    with pytest.raises(InputError, match=r"^pyproject\.toml: \[dependency-groups" + said):
        pep735_groups({"dependency-groups": groups})


def test_a_group_requirement_keeps_its_text_as_written_through_an_include() -> None:
    """The lock's input hash reads the text: a spelling packaging would write differently stays
    as the user wrote it, in its own group and in the group that includes it."""
    spaced = "Pytest >= 8 ; python_version >= '3.10'"
    data = {"dependency-groups": {"test": [spaced], "all-of-it": [{"include-group": "Test"}]}}
    assert pep735_groups(data) == {"test": [spaced], "all-of-it": [spaced]}


def test_pipfile_sections_become_requirements(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "Pipfile": '[packages]\nrequests = "*"\n'
            'rich = {version = ">=13", extras = ["jupyter"]}\n'
            'legacy = {version = "==1.0", sys_platform = "== \'win32\'"}\n'
            '[dev-packages]\npytest = "==8.0.0"\n[requires]\npython_version = "3"\n'
        },
    )
    sections = read_pipfile(tmp_path / "Pipfile")
    assert sections["main"][:2] == ["requests", "rich[jupyter]>=13"]
    assert "win32" in sections["main"][2] and sections["dev"] == ["pytest==8.0.0"]
    project = discover(tmp_path)
    assert project.shape == "pipenv" and not project.installable
    assert "pytest==8.0.0" in project.group_requirements
    assert project.requires_python == "==3.*"


def test_an_unreadable_pipfile_lock_is_named_not_raised(tmp_path: Path) -> None:
    _write(tmp_path, {"Pipfile": '[packages]\nrequests = "*"\n', "Pipfile.lock": "{ not json"})
    team = discover(tmp_path).team_lock  # the lock stage sets it aside, or refuses it (--locked)
    assert team is not None and team.pins == ()
    assert team.problem.startswith("not valid JSON")


def test_pipfile_lock_pins_and_their_staleness(tmp_path: Path) -> None:
    lock = {
        "_meta": {},
        "default": {"requests": {"version": "==2.31.0", "hashes": []}},
        "develop": {"pytest": {"version": "==8.0.0", "markers": "python_version >= '3.8'"}},
    }
    _write(tmp_path, {"Pipfile.lock": json.dumps(lock)})
    team = find_team_lock(tmp_path)
    assert team is not None and team.name == "Pipfile.lock"
    assert team.constraints() == ["requests==2.31.0", "pytest==8.0.0 ; python_version >= '3.8'"]
    env = {"python_version": "3.12", "python_full_version": "3.12.1"}
    assert stale_reasons(team, ["requests>=2", "pytest"], env) == []
    assert stale_reasons(team, ["requests>=2.32"], env) == [
        "Pipfile.lock has requests 2.31.0, the project asks requests>=2.32"
    ]
    assert stale_reasons(team, ["rich"], env) == ["rich is required but not in Pipfile.lock"]
    # a requirement whose marker does not hold for the target is not asked of the lock
    assert stale_reasons(team, ["rich ; python_version < '3'"], env) == []


def test_poetry_lock_with_two_versions_of_a_name_leaves_it_to_the_resolver(tmp_path: Path) -> None:
    text = "".join(
        f'[[package]]\nname = "{n}"\nversion = "{v}"\noptional = false\n\n'
        for n, v in (("greenlet", "3.1.1"), ("greenlet", "3.3.0"), ("pytest", "7.4.3"))
    )
    _write(tmp_path, {"poetry.lock": text})
    team = find_team_lock(tmp_path)
    assert isinstance(team, TeamLock)
    assert team.constraints() == ["pytest==7.4.3"]
    env = {"python_version": "3.12", "python_full_version": "3.12.1"}
    assert stale_reasons(team, ["greenlet>=3.2"], env) == []  # 3.3.0 satisfies it
    _write(tmp_path, {"poetry.lock": '[[package]]\nname = "x"\nversion = "not a version"\n'})
    bad = find_team_lock(tmp_path)  # the versions are read when a lock is made
    assert bad is not None
    assert bad.pins == () and bad.problem.startswith("package 'x': Invalid version")


def test_requirement_folders_chain_and_variants_are_not_merged(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "requirements/base.txt": "requests\n",
            "requirements/test.txt": "-r base.txt\npytest\n",
            "requirements/dev.txt": "-r test.txt\nruff\n",
            "requirements/min.txt": "requests==2.0\n",
            "requirements-windows.txt": "pywin32\n",
            "docs-requirements.txt": "sphinx\n",
        },
    )
    picked = choose(tmp_path, dev=True)
    assert [p.relative_to(tmp_path).as_posix() for p in picked.files] == [
        "requirements/dev.txt",
        "requirements/test.txt",
        "requirements/base.txt",
    ]
    assert any("requirements/min.txt: a variant (min)" in s for s in picked.skipped)
    assert any("requirements-windows.txt: a variant" in s for s in picked.skipped)
    assert any("docs-requirements.txt: a variant" in s for s in picked.skipped)
    assert choose(tmp_path, dev=False).files == ()  # base.txt is included by test.txt only
    project = discover(tmp_path)
    assert project.shape == "requirements" and not project.installable


def test_a_developer_file_beside_the_test_file_is_merged(tmp_path: Path) -> None:
    """What a CONTRIBUTING page installs together (requirements/test.txt and
    requirements/developer.txt, neither including the other) is one developer environment."""
    _write(
        tmp_path,
        {
            "requirements/default.txt": "requests\n",
            "requirements/test.txt": "pytest\n",
            "requirements/developer.txt": "pre-commit\n",
        },
    )
    picked = choose(tmp_path, dev=True)
    assert [p.relative_to(tmp_path).as_posix() for p in picked.files] == [
        "requirements/default.txt",
        "requirements/developer.txt",
        "requirements/test.txt",
    ]


def test_a_setup_py_project_is_read_through_its_backend_with_dev_extras_guessed(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "setup.py": "from setuptools import setup\nsetup(name='legacy-pkg', "
            "install_requires=['requests'], extras_require={'tests': ['pytest']})\n",
            "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n'
            'build-backend = "setuptools.build_meta"\n',
        },
    )
    project = discover(tmp_path)
    assert project.shape == "setup.py" and project.installable
    assert project.name == "legacy-pkg"
    assert project.pyproject == tmp_path / "pyproject.toml"
    assert "tests" in project.guessed_extras  # dynamic metadata: uv says which ones exist


def test_static_extras_are_checked_and_dev_ones_taken(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "p"\nversion = "1"\n'
            '[project.optional-dependencies]\ntest = ["pytest"]\npg = ["psycopg"]\n'
            '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        },
    )
    assert discover(tmp_path).extras == ("test",)
    assert discover(tmp_path, Selection(extras=("pg",))).extras == ("pg", "test")
    with pytest.raises(InputError, match="no extra named 'nosuch'"):
        discover(tmp_path, Selection(extras=("nosuch",)))
    with pytest.raises(InputError, match="no dependency group named 'nosuch'"):
        discover(tmp_path, Selection(groups=("nosuch",)))


def test_a_vcs_version_without_git_gets_the_pretend_variable(tmp_path: Path) -> None:
    data = {"build-system": {"requires": ["hatchling", "hatch-vcs"]}}
    assert pretend_version_env(tmp_path, data, "my-pkg") == {
        "SETUPTOOLS_SCM_PRETEND_VERSION": "0.0.0"
    }
    scm = {"build-system": {"requires": ["setuptools>=64", "setuptools_scm>=8"]}}
    assert pretend_version_env(tmp_path, scm, "my.pkg") == {
        "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_MY_PKG": "0.0.0"
    }
    # the requirement's name as PEP 503 normalizes it, whatever its spelling, extras or markers
    spelled = {"build-system": {"requires": ["Setuptools.SCM[toml] >=8; python_version>'3'"]}}
    assert pretend_version_env(tmp_path, spelled, "My__Pkg") == {
        "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_MY_PKG": "0.0.0"
    }
    assert pretend_version_env(tmp_path, {"build-system": {"requires": ["hatchling"]}}, "x") == {}
    assert pretend_version_env(tmp_path, {"build-system": {"requires": ["pbr-extra"]}}, "x") == {}
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    (tmp_path / "f").write_text("x")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "c"]):
        subprocess.run([*git, *args], check=True)
    assert pretend_version_env(tmp_path, data, "my-pkg") == {}  # git gives the version


def test_nothing_to_set_up_names_every_shape_it_looked_for(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        discover(tmp_path)
    assert "nothing to set up" in caught.value.message
    assert caught.value.hint is not None
    for shape in ("[tool.poetry]", "setup.py", "Pipfile", "requirements/"):
        assert shape in caught.value.hint


@pytest.mark.parametrize(
    ("files", "named"),
    [
        ({"Pipfile": "[packages\nrequests = '*'\n"}, "Pipfile: not valid TOML"),
        (
            {"Pipfile": '[packages]\nrequests = ">>2"\n'},
            "Pipfile: [packages] requests 'requests>>2'",
        ),
    ],
    ids=["pipfile-toml", "pipfile-requirement"],
)
def test_bad_input_is_named_by_file_and_key(
    tmp_path: Path, files: dict[str, str], named: str
) -> None:
    _write(tmp_path, files)
    with pytest.raises(InputError) as caught:
        discover(tmp_path)
    assert named in caught.value.message and caught.value.exit_code == 2


def test_pdm_lock_versions_with_their_markers(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pdm.lock": '[metadata]\nlock_version = "4.4"\n\n[[package]]\nname = "Requests"\n'
            'version = "2.31.0"\n\n[[package]]\nname = "tomli"\nversion = "2.0.1"\n'
            'marker = "python_version < \\"3.11\\""\n'
        },
    )
    team = find_team_lock(tmp_path)
    assert team is not None
    assert team.constraints() == ["requests==2.31.0", 'tomli==2.0.1 ; python_version < "3.11"']


# Poetry 2.x (lock-version 2.1): each package lists its groups, and its markers are one string
# for all of them or a table by group, where a group the table leaves out takes it everywhere.
POETRY_21_LOCK = """\
# This file is automatically @generated by Poetry 2.1.3 and should not be changed by hand.

[[package]]
name = "colorama"
version = "0.4.6"
description = "Cross-platform colored terminal text."
optional = false
python-versions = "*"
groups = ["main", "dev"]
markers = {main = "platform_system == \\"Windows\\"", dev = "sys_platform == \\"win32\\""}
files = []

[[package]]
name = "exceptiongroup"
version = "1.2.2"
optional = false
python-versions = ">=3.7"
groups = ["main", "dev"]
markers = {main = "python_version < \\"3.11\\""}
files = []

[[package]]
name = "greenlet"
version = "3.1.1"
optional = false
python-versions = ">=3.7"
groups = ["dev"]
markers = "python_version < \\"3.10\\""
files = []

[[package]]
name = "greenlet"
version = "3.3.0"
optional = false
python-versions = ">=3.9"
groups = ["dev"]
markers = "python_version >= \\"3.10\\""
files = []

[[package]]
name = "pytest"
version = "7.4.3"
optional = false
python-versions = ">=3.7"
groups = ["dev"]
markers = {dev = 'sys_platform != "emscripten"'}
files = []

[[package]]
name = "requests"
version = "2.32.3"
optional = false
python-versions = ">=3.8"
groups = ["main"]
files = []

[[package]]
name = "sphinx"
version = "7.4.7"
optional = false
python-versions = ">=3.9"
groups = ["docs"]
files = []

[metadata]
lock-version = "2.1"
python-versions = "^3.9"
content-hash = "5f1c0e7a"
"""


def test_a_poetry_2_1_lock_gives_each_package_the_markers_of_the_groups_taken(
    tmp_path: Path,
) -> None:
    _write(tmp_path, {"pyproject.toml": POETRY, "poetry.lock": POETRY_21_LOCK})
    project = discover(tmp_path)  # the dev group is taken by default, docs is not
    assert project.groups == ("dev",) and project.team_lock is not None
    assert project.team_lock.problem == ""
    assert project.team_lock.constraints() == [
        'colorama==0.4.6 ; (platform_system == "Windows") or (sys_platform == "win32")',
        "exceptiongroup==1.2.2",  # dev takes it unconditionally
        'greenlet==3.1.1 ; python_version < "3.10"',
        'greenlet==3.3.0 ; python_version >= "3.10"',
        'pytest==7.4.3 ; sys_platform != "emscripten"',
        "requests==2.32.3",
    ]
    main_only = find_team_lock(tmp_path, groups=())
    assert main_only is not None
    assert main_only.constraints() == [
        'colorama==0.4.6 ; platform_system == "Windows"',
        'exceptiongroup==1.2.2 ; python_version < "3.11"',
        "requests==2.32.3",
    ]
    every = find_team_lock(tmp_path)
    assert every is not None and "sphinx==7.4.7" in every.constraints()
    env = {"python_version": "3.12", "python_full_version": "3.12.1"}
    assert stale_reasons(project.team_lock, ["requests>=2.27,<3", "greenlet>=3.1,<4"], env) == []


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("poetry.lock", "[[package]\n", "not valid TOML"),
        ("poetry.lock", '[[package]]\nname = "x"\nversion = 1.0\n', "package 1 has no name or"),
        ("poetry.lock", '[[package]]\nname = "x"\nversion = "1"\nmarkers = 3\n', "neither"),
        ("poetry.lock", '[[package]]\nname = "x"\nversion = "1"\ngroups = "dev"\n', "groups"),
        ("poetry.lock", '[metadata]\nlock-version = "3.0"\n', "lock-version 3.0 is newer"),
        ("pdm.lock", 'package = "x"\n', "[[package]] entries are not tables"),
        ("pdm.lock", '[[package]]\nname = "x"\nversion = "1"\nmarker = [1]\n', "not a string"),
        ("Pipfile.lock", "{ not json", "not valid JSON"),
        ("Pipfile.lock", '{"default": []}', "'default' is not an object"),
        ("Pipfile.lock", b"\xff\xfe{}", "cannot be read"),
        ("uv.lock", "version = ", "not valid TOML"),
    ],
    ids=[
        "poetry-toml",
        "poetry-version-type",
        "poetry-markers-type",
        "poetry-groups-type",
        "poetry-newer-format",
        "pdm-packages-type",
        "pdm-marker-type",
        "pipfile-json",
        "pipfile-section-type",
        "pipfile-not-utf8",
        "uv-toml",
    ],
)
def test_a_team_lock_that_cannot_be_read_says_why_and_never_stops_discovery(
    tmp_path: Path, name: str, text: str | bytes, problem: str
) -> None:
    _write(tmp_path, {"requirements.txt": "requests\n"})
    lock = tmp_path / name
    lock.write_bytes(text if isinstance(text, bytes) else text.encode())
    team = discover(tmp_path).team_lock
    assert team is not None and team.name == name
    assert problem in team.problem and team.pins == () and team.constraints() == []
