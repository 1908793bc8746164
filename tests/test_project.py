from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name

from bulletproof.code import codeimports
from bulletproof.code.codeimports import python_files
from bulletproof.errors import InputError
from bulletproof.fsutil import walk_project
from bulletproof.project import discover
from bulletproof.tomlcompat import tomllib


def test_requirements_files_are_found_by_default(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six\n")
    (tmp_path / "requirements-dev.txt").write_text("-r requirements.txt\npytest\n")
    project = discover(tmp_path)
    assert [p.name for p in project.input_files] == ["requirements-dev.txt", "requirements.txt"]
    assert project.pyproject is None


def test_config_names_the_files_and_python(tmp_path: Path) -> None:
    (tmp_path / "requirements-fixed.txt").write_text("six\n")
    (tmp_path / "requirements.txt").write_text("this is not used\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bulletproof]\nrequirements = ["requirements-fixed.txt"]\npython = "3.12"\n'
    )
    project = discover(tmp_path)
    assert [p.name for p in project.input_files] == ["requirements-fixed.txt"]
    assert project.config.python == "3.12"


def test_pip_options_uv_ignores_reach_the_projects_notes(tmp_path: Path) -> None:
    """Chosen by name or named in [tool.bulletproof]: the file is read, and the option said."""
    (tmp_path / "requirements.txt").write_text("--prefer-binary\nsix\n")
    (tmp_path / "requirements-dev.txt").write_text("-r requirements.txt\n--pre\npytest\n")
    (tmp_path / "docs-requirements.txt").write_text("--use-feature=truststore\nsphinx\n")
    chosen = discover(tmp_path)
    said = [n for n in chosen.notes if "uv ignores" in n]
    # in the order met: the included file's line before the rest of the file that includes it
    assert [n.split(": ")[0] for n in said] == ["requirements.txt:1:1", "requirements-dev.txt:2:1"]
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bulletproof]\nrequirements = ["docs-requirements.txt"]\n'
    )
    named = discover(tmp_path)
    assert [p.name for p in named.input_files] == ["docs-requirements.txt"]
    assert [n for n in named.notes if "uv ignores" in n] == [
        "docs-requirements.txt:1:1: --use-feature=truststore: pip's option, which uv ignores; "
        "the environment is made without it"
    ]


def test_one_walk_of_the_tree_leaves_out_environments_by_their_mark_and_code_prunes_more(
    tmp_path: Path,
) -> None:
    """fsutil.walk_project leaves out what is not the project's (a virtual environment under any
    name, found by its pyvenv.cfg; version control; caches); python_files walks the same tree
    and prunes what is not code (docs, build output, hidden folders) and build scripts."""
    for rel in (
        "app/main.py",
        "docs/conf.py",
        "setup.py",
        "build/lib/app/main.py",
        ".github/scripts/release.py",
        "myenv/lib/python3.12/site-packages/six.py",
        ".git/hooks/x.py",
        "app/__pycache__/main.py",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("import os\n")
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    walked = {
        (folder / name).relative_to(tmp_path).as_posix()
        for folder, _, files in walk_project(tmp_path)
        for name in files
    }
    assert walked == {
        "app/main.py",
        "docs/conf.py",
        "setup.py",
        "build/lib/app/main.py",
        ".github/scripts/release.py",
    }
    code = [p.relative_to(tmp_path).as_posix() for p in python_files(tmp_path)]
    assert code == ["app/main.py"]


def test_every_reader_of_the_tree_stops_at_the_one_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files of any kind count: past the limit no more code is read."""
    monkeypatch.setattr(codeimports, "MAX_PROJECT_FILES", 5)
    for i in range(4):
        (tmp_path / f"data{i}.csv").write_text("x\n")
    for name in ("m1.py", "m2.py", "m3.py"):
        (tmp_path / "pkg" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "pkg" / name).write_text("")
    # 4 data files at the top, then pkg/m1.py (the 5th file); pkg/m2.py would be the 6th
    assert [p.name for p in python_files(tmp_path)] == ["m1.py"]


def test_project_table_and_own_packages(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\ndependencies = ["six"]\n'
        'requires-python = ">=3.10"\n[build-system]\nrequires = ["hatchling"]\n'
        'build-backend = "hatchling.build"\n'
    )
    for pkg in ("src/demo", "src/tests"):
        (tmp_path / pkg).mkdir(parents=True)
        (tmp_path / pkg / "__init__.py").write_text("")
    project = discover(tmp_path)
    assert project.installable and project.own_packages == ("demo",)
    assert project.requires_python == ">=3.10"
    assert project.input_files == (tmp_path / "pyproject.toml",)


@pytest.mark.parametrize(
    ("pyproject", "expected"),
    [
        ("[project\n", "not valid TOML"),
        ("[tool.bulletproof]\nrequirement = []\n", "unknown key 'requirement'"),
        ("[tool.bulletproof]\nrequirements = 'r.txt'\n", "must be a list of file names"),
        ("[tool.bulletproof]\npython = 3.12\n", "python must be a string"),
        ('[project]\nname = "x"\ndependencies = ["requests=="]\n', r"dependencies\[0\]"),
        ('[project]\nname = "x"\nrequires-python = "3.x"\n', "not a version specifier"),
        ("[project]\nversion = '1'\n", "name is missing"),
        ("tool = 3\n", r"\[tool\] must be a table"),
    ],
)
def test_bad_pyproject_is_named(tmp_path: Path, pyproject: str, expected: str) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "requirements.txt").write_text("six\n")
    with pytest.raises(InputError, match=expected):
        discover(tmp_path)


def test_empty_folder_says_what_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        discover(tmp_path)
    assert "nothing to set up" in err.value.message
    assert err.value.hint is not None and "requirements*.txt" in err.value.hint


def test_missing_and_non_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such folder"):
        discover(tmp_path / "nope")
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="not a folder"):
        discover(tmp_path / "file")


def test_unreadable_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").mkdir()  # reading a folder fails like an unreadable file
    with pytest.raises(InputError, match="cannot be read"):
        discover(tmp_path)


_toml_values = st.recursive(
    st.none().map(lambda _: "1")
    | st.text(max_size=10).map(repr)
    | st.booleans().map(str).map(str.lower),
    lambda inner: st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    max_leaves=5,
)


@settings(max_examples=200, deadline=None)
@given(
    key=st.sampled_from(
        ["requirements", "python", "other", "name", "dependencies", "requires-python"]
    ),
    table=st.sampled_from(["tool.bulletproof", "project"]),
    value=_toml_values,
)
def test_any_config_gives_a_project_or_an_input_error(
    tmp_path_factory: pytest.TempPathFactory, key: str, table: str, value: str
) -> None:
    root = tmp_path_factory.mktemp("cfg")
    (root / "requirements.txt").write_text("six\n")
    (root / "pyproject.toml").write_text(f"[{table}]\n{key} = {value}\n")
    try:
        project = discover(root)
    except InputError as exc:
        assert exc.message.startswith(("pyproject.toml", "requirements", str(root)))
    else:  # taken: the value is the project's, and requirements.txt is still read
        taken = tomllib.loads(f"v = {value}")["v"]
        if (table, key) == ("project", "name"):
            assert canonicalize_name(project.name) == canonicalize_name(taken)
        if (table, key) == ("tool.bulletproof", "python"):
            assert project.config.python == taken
        if key != "requirements":
            assert root / "requirements.txt" in project.requirement_files
