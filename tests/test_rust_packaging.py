"""A Rust extension's packaging that cannot build (the crate not where maturin looks, a Cargo
workspace with no [package], a manifest that is not TOML) is named from the project's files,
with the file and the fix; setup still delivers the rest, and says it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bulletproof.analyze.rustpackaging import rust_packaging_faults
from bulletproof.cli import main

MATURIN = """\
[build-system]
requires = ["maturin>=1,<2"]
build-backend = "maturin"

[project]
name = "rusty"
version = "0.1"
dependencies = ["six"]
"""
CORE = '[package]\nname = "core"\nversion = "0.1.0"\n\n[lib]\ncrate-type = ["cdylib"]\n'
UTIL = '[package]\nname = "util"\nversion = "0.1.0"\n'


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    return root


def _maturin_project(root: Path, **files: str) -> Path:
    return _write(root, {"pyproject.toml": MATURIN, **files})


def test_a_virtual_workspace_names_its_members_the_extension_first(tmp_path: Path) -> None:
    root = _maturin_project(
        tmp_path,
        **{
            "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\nexclude = ["crates/old"]\n',
            # found before core in the glob's order: the cdylib still comes first
            "crates/alpha/Cargo.toml": UTIL,
            "crates/core/Cargo.toml": CORE,
            "crates/old/Cargo.toml": CORE.replace("core", "old"),
            "crates/notes/README.md": "not a crate\n",
        },
    )
    (fault,) = rust_packaging_faults(root)
    assert fault.file == "Cargo.toml"
    assert "Cargo workspace with no [package]" in fault.problem
    assert "maturin has no crate to build from it" in fault.problem
    assert 'manifest-path = "crates/core/Cargo.toml"' in fault.fix
    assert "crates/alpha/Cargo.toml" in fault.fix  # the other member, after it
    assert fault.fix.index("crates/core") < fault.fix.index("crates/alpha")
    assert "crates/old" not in fault.fix  # excluded from the workspace


def test_a_pyo3_dependency_marks_the_extension_too(tmp_path: Path) -> None:
    pyo3 = '[package]\nname = "bind"\nversion = "0.1.0"\n\n[dependencies]\npyo3 = "0.22"\n'
    root = _maturin_project(
        tmp_path,
        **{
            "Cargo.toml": '[workspace]\nmembers = ["a", "bind"]\n',
            "a/Cargo.toml": UTIL,
            "bind/Cargo.toml": pyo3,
        },
    )
    (fault,) = rust_packaging_faults(root)
    named = '[tool.maturin] manifest-path = "bind/Cargo.toml"'
    assert fault.fix.startswith(f"name the extension crate in pyproject.toml: {named}")


def test_no_cargo_toml_where_maturin_looks_names_the_crate_in_a_subfolder(
    tmp_path: Path,
) -> None:
    root = _maturin_project(tmp_path, **{"crates/core/Cargo.toml": CORE})
    (fault,) = rust_packaging_faults(root)
    assert fault.file == "pyproject.toml"
    assert "no Cargo.toml" in fault.problem and "manifest-path is not set" in fault.problem
    assert '[tool.maturin] manifest-path = "crates/core/Cargo.toml"' in fault.fix
    # with no crate anywhere, the fix is to add one
    (root / "crates" / "core" / "Cargo.toml").unlink()
    (fault,) = rust_packaging_faults(root)
    assert "add the crate's Cargo.toml" in fault.fix


def test_a_manifest_path_to_a_missing_file_is_named(tmp_path: Path) -> None:
    pyproject = MATURIN + '\n[tool.maturin]\nmanifest-path = "native/Cargo.toml"\n'
    root = _write(tmp_path, {"pyproject.toml": pyproject, "rust/Cargo.toml": CORE})
    (fault,) = rust_packaging_faults(root)
    assert fault.file == "pyproject.toml"
    assert "native/Cargo.toml" in fault.problem and "not there" in fault.problem
    assert 'manifest-path = "rust/Cargo.toml"' in fault.fix


def test_a_manifest_that_is_not_toml_is_named_with_its_line(tmp_path: Path) -> None:
    root = _maturin_project(tmp_path, **{"Cargo.toml": '[package]\nname = "x"\nversion = \n'})
    (fault,) = rust_packaging_faults(root)
    assert fault.file == "Cargo.toml"
    assert "not valid TOML at line 3" in fault.problem
    assert "line 3" in fault.fix


def test_rust_cargo_toml_is_maturins_when_the_python_source_is_set_apart(
    tmp_path: Path,
) -> None:
    # maturin takes rust/Cargo.toml when the Python package is under src/<name>
    root = _maturin_project(
        tmp_path, **{"rust/Cargo.toml": "[workspace]\n", "src/rusty/__init__.py": ""}
    )
    (fault,) = rust_packaging_faults(root)
    assert fault.file == "rust/Cargo.toml" and "workspace" in fault.problem


def test_a_healthy_crate_and_a_project_that_is_not_rust_give_nothing(tmp_path: Path) -> None:
    healthy = _maturin_project(tmp_path / "healthy", **{"Cargo.toml": CORE})
    assert rust_packaging_faults(healthy) == ()
    plain = _write(
        tmp_path / "plain",
        {
            "pyproject.toml": '[build-system]\nrequires = ["hatchling"]\n'
            'build-backend = "hatchling.build"\n',
            "Cargo.toml": "[workspace]\n",  # not what builds it
        },
    )
    assert rust_packaging_faults(plain) == ()
    assert rust_packaging_faults(tmp_path / "nowhere") == ()


def test_odd_input_gives_a_fault_or_nothing_never_an_error(tmp_path: Path) -> None:
    odd = {
        "bad-pyproject": {"pyproject.toml": "[build-system\n"},
        "odd-types": {
            "pyproject.toml": MATURIN + "\n[tool.maturin]\nmanifest-path = 3\n",
            "Cargo.toml": '[workspace]\nmembers = "crates/*"\nexclude = 1\n',
        },
        "bad-globs": {
            "pyproject.toml": MATURIN,
            "Cargo.toml": '[workspace]\nmembers = ["/abs/*", "", "../out/*", "x/**"]\n',
        },
        "outside": {
            "pyproject.toml": MATURIN + '\n[tool.maturin]\nmanifest-path = "../Cargo.toml"\n'
        },
    }
    for name, files in odd.items():
        faults = rust_packaging_faults(_write(tmp_path / name, files))
        assert all(f.file and f.problem and f.fix for f in faults), name
    outside = rust_packaging_faults(tmp_path / "outside")
    assert "outside the project" in outside[0].problem


def test_setuptools_rust_paths_are_checked_too(tmp_path: Path) -> None:
    setuptools = '[build-system]\nrequires = ["setuptools", "setuptools-rust"]\n'
    table = _write(
        tmp_path / "table",
        {
            "pyproject.toml": setuptools
            + '\n[[tool.setuptools-rust.ext-modules]]\ntarget = "p._lib"\npath = "Cargo.toml"\n',
            "Cargo.toml": '[workspace]\nmembers = ["lib"]\n',
            "lib/Cargo.toml": CORE,
        },
    )
    (fault,) = rust_packaging_faults(table)
    assert fault.file == "Cargo.toml" and "setuptools-rust has no crate" in fault.problem
    assert 'path = "lib/Cargo.toml"' in fault.fix
    setup_py = _write(
        tmp_path / "setup_py",
        {
            "pyproject.toml": setuptools,
            "setup.py": 'RustExtension("p._lib", path="native/Cargo.toml", debug=False)\n',
            "rust/Cargo.toml": CORE,
        },
    )
    (fault,) = rust_packaging_faults(setup_py)
    assert fault.file == "setup.py" and "native/Cargo.toml" in fault.problem
    assert 'RustExtension(..., path="rust/Cargo.toml")' in fault.fix


# -- end to end: the plan's own project's shape, from the real registry -------------------------


def _workspace_project(root: Path, pyproject: str = MATURIN) -> Path:
    return _write(
        root,
        {
            "pyproject.toml": pyproject,
            "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n',
            "crates/core/Cargo.toml": CORE,
            "crates/core/src/lib.rs": "",
            "rusty/__init__.py": "import six\nANSWER = 42\n",
        },
    )


@pytest.mark.registry
def test_setup_delivers_the_rest_and_names_the_workspace_and_its_fix(
    tmp_path: Path, python312: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _workspace_project(tmp_path / "proj")
    report, page = tmp_path / "r.json", tmp_path / "page.html"
    # no --yes: nothing is installed on this system, whether it has cargo or not
    argv = ["setup", str(project), "--python", "3.12", "--json", str(report), "--html", str(page)]
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 4, out  # usable: the package itself is not installed
    done = subprocess.run(
        [
            str(project / ".venv" / "bin" / "python"),
            "-c",
            "import six, rusty; print(rusty.ANSWER, rusty.__file__)",
        ],
        capture_output=True,
        text=True,
        cwd="/",
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["42", str(project / "rusty" / "__init__.py")]
    env = json.loads(report.read_text())["environment"]
    assert env["own_build_error"]
    (fault,) = env["own_build_faults"]
    assert fault["file"] == "Cargo.toml"
    assert "workspace with no [package]" in fault["problem"]
    assert 'manifest-path = "crates/core/Cargo.toml"' in fault["fix"]
    said = " ".join(out.split())  # rich wraps at the terminal's width
    assert "the project's packaging: Cargo.toml is a Cargo workspace with no [package]" in said
    assert 'manifest-path = "crates/core/Cargo.toml"' in said
    # the page, under what failed and why: the file as the row's header, the fix escaped
    shown = page.read_text()
    assert '<th scope="row">Cargo.toml</th>' in shown
    assert "manifest-path = &quot;crates/core/Cargo.toml&quot;" in shown
    assert shown.index("does not build") < shown.index('id="fixes"')


@pytest.mark.registry
def test_doctor_gives_the_fault_as_why_and_fix_when_the_own_build_fails(tmp_path: Path) -> None:
    # dependencies that only the backend can say: the lock has to build the project's metadata
    dynamic = MATURIN.replace('version = "0.1"\ndependencies = ["six"]\n', "").replace(
        'name = "rusty"\n', 'name = "rusty"\ndynamic = ["version", "dependencies"]\n'
    )
    project = _workspace_project(tmp_path / "proj", dynamic)
    report = tmp_path / "d.json"
    main(["doctor", str(project), "--python", "3.12", "--json", str(report)])
    findings = json.loads(report.read_text())["diagnosis"]["findings"]
    (own,) = [f for f in findings if f["id"] == "own-build:rusty"]
    assert own["why"].startswith("Cargo.toml is a Cargo workspace with no [package]")
    assert 'manifest-path = "crates/core/Cargo.toml"' in own["fix"]
    assert not (project / ".venv").exists()  # doctor changes nothing
