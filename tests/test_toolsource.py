"""Where a generated file installs bulletproof from: the index by default, a wheel, a source
folder built to a wheel with uv, a requirement; each bad spelling refused with what is wrong."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bulletproof import __version__
from bulletproof.errors import InputError
from bulletproof.generate.toolsource import resolve_tool_source
from tests.fresh.system import REPO


def test_the_default_is_this_version_from_the_index(tmp_path: Path) -> None:
    source = resolve_tool_source(None, tmp_path)
    assert (source.kind, source.requirement, source.wheel) == (
        "index",
        f"bulletproof=={__version__}",
        None,
    )
    assert "package index" in source.describe()


def test_a_wheel_is_taken_with_its_hash(tmp_path: Path) -> None:
    wheel = tmp_path / "bulletproof-9.9.9-py3-none-any.whl"
    wheel.write_bytes(b"zq not really a zip")
    source = resolve_tool_source(str(wheel), tmp_path)
    assert (source.kind, source.requirement, source.wheel) == ("wheel", wheel.name, wheel)
    assert source.sha256 == hashlib.sha256(b"zq not really a zip").hexdigest()
    assert source.describe() == f"bulletproof from the wheel {wheel.name} (sha256 {source.sha256})"


@pytest.mark.slow
def test_a_source_folder_is_built_to_a_wheel(tmp_path: Path) -> None:
    source = resolve_tool_source(str(REPO), tmp_path)
    assert source.kind == "directory"
    assert source.wheel is not None and source.wheel.is_file()
    assert source.wheel.name.startswith(f"bulletproof-{__version__}-")
    assert source.wheel.parent.is_relative_to(tmp_path)
    assert source.describe().startswith(f"bulletproof built from the source folder {REPO} (")


def test_a_requirement_is_kept_as_written(tmp_path: Path) -> None:
    source = resolve_tool_source("bulletproof>=0.1,<1", tmp_path)
    assert (source.kind, source.requirement) == ("index", "bulletproof<1,>=0.1")


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("missing/bulletproof-0.1.0-py3-none-any.whl", "no such wheel"),
        ("zq-other-1.0-py3-none-any.whl", "no such wheel"),
        ("requests==2.0", "a requirement for requests, not bulletproof"),
        ("bulletproof>=>1", "not a wheel, a folder or a requirement"),
    ],
)
def test_bad_specs_are_refused_naming_what_is_wrong(tmp_path: Path, spec: str, said: str) -> None:
    with pytest.raises(InputError, match="--tool-source") as caught:
        resolve_tool_source(spec, tmp_path)
    assert said in str(caught.value)


def test_a_wheel_of_another_project_and_a_folder_without_a_project(tmp_path: Path) -> None:
    other = tmp_path / "zqother-1.0-py3-none-any.whl"
    other.write_bytes(b"x")
    with pytest.raises(InputError, match="a wheel of zqother, not of bulletproof"):
        resolve_tool_source(str(other), tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"a folder without a pyproject\.toml"):
        resolve_tool_source(str(tmp_path / "empty"), tmp_path)
    plain = tmp_path / "notes.txt"
    plain.write_text("x")
    with pytest.raises(InputError, match="a file that is not a wheel"):
        resolve_tool_source(str(plain), tmp_path)
