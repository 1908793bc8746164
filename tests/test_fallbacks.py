"""Repair that needs no signature: a source build that fails with a wording nothing knows, while a
newer release has a wheel for the target, ends verified with the pin moved (in the lock only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulletproof.cli import main
from tests.fixtures.wheels import make_wheel, write_sdist

_FAILING_BACKEND = """
def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise SystemExit("qrxl: the frobnication lattice is misaligned (code 77)")
"""


def _failing_sdist(dest: Path, name: str, version: str) -> None:
    """An sdist whose build fails with a message no signature, table or code names."""
    pyproject = (
        '[build-system]\nrequires = []\nbuild-backend = "qrxl_backend"\nbackend-path = ["."]\n'
    )
    write_sdist(
        dest,
        name,
        version,
        {"pyproject.toml": pyproject, "qrxl_backend.py": _FAILING_BACKEND},
    )


@pytest.fixture
def house(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    house = tmp_path / "house"
    house.mkdir()
    _failing_sdist(house, "qrxlpkg", "1.0")
    make_wheel(house, "qrxlpkg", "1.1", {"qrxlpkg/__init__.py": "WORKS = True\n"})
    monkeypatch.setenv("UV_NO_INDEX", "1")
    monkeypatch.setenv("UV_FIND_LINKS", str(house))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    return house


@pytest.mark.usefixtures("house")
def test_an_unrecognised_build_failure_moves_to_a_release_with_a_wheel(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("qrxlpkg==1.0\n")
    report = tmp_path / "r.json"
    code = main(["setup", str(project), "--python", "3.12", "--yes", "--json", str(report)])
    attempts = json.loads(report.read_text())["mitigation"]
    assert code == 0, attempts
    assert [(a["package"], a["signature"], a["fix"]["value"], a["outcome"]) for a in attempts] == [
        ("qrxlpkg", "", "qrxlpkg==1.1", "fixed")
    ]
    assert "frobnication lattice" in " ".join(attempts[0]["evidence"])
    assert 'name = "qrxlpkg"\nversion = "1.1"' in (project / "pylock.toml").read_text()
    assert (project / "requirements.txt").read_text() == "qrxlpkg==1.0\n"
